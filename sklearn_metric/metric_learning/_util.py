"""Machinery shared by the Mahalanobis metric learners.

Every learner needs some of: an initial linear map, the conversion between a
PSD matrix ``M`` and a map ``L`` with ``M = L'L``, a projection onto the PSD
cone, an L-BFGS driver that records the objective and warns when it stops
early, and label checks for supervised fits. They live here once.
"""

import time
import warnings

import numpy as np
from scipy.linalg import eigh
from scipy.optimize import minimize
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_random_state

#: Values of ``init`` accepted by the learners that start from a linear map.
INIT_OPTIONS = {"auto", "pca", "lda", "identity", "random", "covariance"}


def check_n_components(n_components, n_features):
    """Resolve ``n_components``: ``None`` means ``n_features``.

    Parameters
    ----------
    n_components : int or None
        Requested output dimension.
    n_features : int
        Input dimension.

    Returns
    -------
    n_components : int
        The output dimension, at most ``n_features``.
    """
    if n_components is None:
        return n_features
    if n_components > n_features:
        raise ValueError(
            f"n_components={n_components} must be at most the number of features, "
            f"{n_features}."
        )
    return int(n_components)


def whitening_map(X, n_components=None):
    """Map that whitens X: ``L`` with ``L' L`` the pseudo-inverse of the covariance.

    Directions of (numerically) zero variance, such as constant features, get
    weight zero rather than an enormous one: a point that moves along a feature
    that never varied in training does not move in the embedding.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data.
    n_components : int, default=None
        Keep the rows for the ``n_components`` directions of largest variance;
        all when ``None``.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
        The whitening map; rows past the rank of the covariance are zero.
    """
    covariance = np.atleast_2d(np.cov(X, rowvar=False))
    eigenvalues, eigenvectors = eigh(covariance)
    order = np.argsort(eigenvalues)[::-1][:n_components]
    eigenvalues = eigenvalues[order]
    # The rank cut-off of numpy.linalg.pinv: below it an eigenvalue is noise.
    cutoff = max(X.shape) * np.finfo(np.float64).eps * max(eigenvalues.max(), 0.0)
    scale = np.zeros_like(eigenvalues)
    kept = eigenvalues > cutoff
    scale[kept] = 1.0 / np.sqrt(eigenvalues[kept])
    return scale[:, None] * eigenvectors[:, order].T


def initialize_components(
    init, X, y=None, *, n_components=None, random_state=None, verbose=0
):
    """Initial linear map ``L`` of shape (n_components, n_features).

    Parameters
    ----------
    init : {"auto", "pca", "lda", "identity", "random", "covariance"} or ndarray
        * ``"auto"``: ``"lda"`` when labels are given and ``n_components`` is at
          most ``min(n_features, n_classes - 1)``; otherwise ``"pca"`` when
          ``n_components < min(n_features, n_samples)``; otherwise
          ``"identity"`` (the rule of scikit-learn's NCA).
        * ``"pca"``: the leading principal axes (not scaled).
        * ``"lda"``: the leading discriminant directions (needs ``y``).
        * ``"identity"``: the first ``n_components`` rows of the identity.
        * ``"random"``: standard normal entries.
        * ``"covariance"``: the whitening map of the data (square root of the
          pseudo-inverse of its covariance), truncated to the top directions.
        * an array of shape (n_components, n_features): used as given.
    X : ndarray of shape (n_samples, n_features)
        Training data.
    y : ndarray of shape (n_samples,), default=None
        Labels, needed by ``"lda"`` and used by ``"auto"``.
    n_components : int, default=None
        Output dimension; ``n_features`` when ``None`` (or the rows of an
        array ``init``).
    random_state : int, RandomState instance or None, default=None
        Seed for ``"random"`` and ``"pca"``.
    verbose : int, default=0
        Print the time taken by ``"pca"`` and ``"lda"`` when positive.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
        The initial map, float64.
    """
    n_samples, n_features = X.shape
    if isinstance(init, np.ndarray):
        init = np.asarray(init, dtype=np.float64)
        if init.ndim != 2 or init.shape[1] != n_features:
            raise ValueError(
                f"An init array must have shape (n_components, {n_features}) to match "
                f"the {n_features} features; got {init.shape}."
            )
        if n_components is not None and init.shape[0] != n_components:
            raise ValueError(
                f"The init array has {init.shape[0]} rows but n_components="
                f"{n_components}."
            )
        if not np.all(np.isfinite(init)):
            raise ValueError("The init array contains NaN or infinity.")
        return init.copy()

    n_components = check_n_components(n_components, n_features)
    if init == "auto":
        n_classes = np.unique(y).shape[0] if y is not None else 0
        if y is not None and n_components <= min(n_features, n_classes - 1):
            init = "lda"
        elif n_components < min(n_features, n_samples):
            init = "pca"
        else:
            init = "identity"

    start = time.perf_counter()
    if init == "identity":
        components = np.eye(n_components, n_features)
    elif init == "random":
        components = check_random_state(random_state).standard_normal(
            (n_components, n_features)
        )
    elif init == "pca":
        pca = PCA(n_components=n_components, random_state=random_state).fit(X)
        components = pca.components_
    elif init == "lda":
        if y is None:
            raise ValueError("init='lda' needs class labels.")
        n_classes = np.unique(y).shape[0]
        if n_components > min(n_features, n_classes - 1):
            raise ValueError(
                f"init='lda' gives at most min(n_features, n_classes - 1) = "
                f"{min(n_features, n_classes - 1)} components; n_components="
                f"{n_components}. Use init='pca' or a smaller n_components."
            )
        lda = LinearDiscriminantAnalysis(n_components=n_components).fit(X, y)
        components = lda.scalings_.T[:n_components]
        if components.shape[0] < n_components:
            # Class means of lower rank than asked (e.g. on one line): complete
            # the map with the leading principal axes.
            pca = PCA(
                n_components=n_components - components.shape[0],
                random_state=random_state,
            ).fit(X)
            components = np.vstack([components, pca.components_])
    elif init == "covariance":
        components = whitening_map(X, n_components)
    else:
        raise ValueError(
            f"init must be one of {sorted(INIT_OPTIONS)} or an array; got {init!r}."
        )
    if verbose and init in {"pca", "lda"}:
        print(f"[init] {init} done in {time.perf_counter() - start:.2f}s")
    return np.ascontiguousarray(components, dtype=np.float64)


def starting_components(estimator, X, y=None):
    """The map an iterative learner starts from.

    The previous ``components_`` under ``warm_start=True`` (when there is one),
    otherwise :func:`initialize_components` with the estimator's ``init``,
    ``n_components``, ``random_state`` and ``verbose``.

    Parameters
    ----------
    estimator : estimator
        The learner being fitted.
    X : ndarray of shape (n_samples, n_features)
        Training data.
    y : ndarray of shape (n_samples,), default=None
        Labels, for ``init="lda"`` and ``"auto"``.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
        The starting map, a fresh array.
    """
    n_features = X.shape[1]
    if estimator.warm_start and hasattr(estimator, "components_"):
        if estimator.components_.shape[1] != n_features:
            raise ValueError(
                f"warm_start=True needs X with the {estimator.components_.shape[1]} "
                f"features of the previous fit; got {n_features}."
            )
        n_components = getattr(estimator, "n_components", None)
        if n_components is not None and estimator.components_.shape[0] != n_components:
            raise ValueError(
                f"warm_start=True needs n_components={n_components} to match the "
                f"{estimator.components_.shape[0]} components of the previous fit."
            )
        return np.array(estimator.components_, dtype=np.float64)
    components = initialize_components(
        estimator.init,
        X,
        y,
        n_components=estimator.n_components,
        random_state=estimator.random_state,
        verbose=estimator.verbose,
    )
    if components.shape[0] > n_features:
        raise ValueError(
            f"The init array has {components.shape[0]} rows, more than the "
            f"{n_features} features; n_components must be at most n_features."
        )
    return components


def project_psd(M):
    """Nearest PSD matrix in Frobenius norm: negative eigenvalues set to zero.

    Parameters
    ----------
    M : ndarray of shape (n_features, n_features)
        A matrix; its symmetric part is projected.

    Returns
    -------
    M_psd : ndarray of shape (n_features, n_features)
        Symmetric and positive semi-definite.
    """
    symmetric = (M + M.T) / 2.0
    eigenvalues, eigenvectors = eigh(symmetric)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    return (eigenvectors * eigenvalues) @ eigenvectors.T


def components_from_metric(M, tol=None):
    """Linear map ``L`` with ``L'L = M`` for a PSD matrix ``M``.

    Parameters
    ----------
    M : ndarray of shape (n_features, n_features)
        Symmetric positive semi-definite matrix.
    tol : float, default=None
        Eigenvalues below ``-tol`` make ``M`` not PSD; the default is
        ``1e-10`` times the largest absolute eigenvalue.

    Returns
    -------
    components : ndarray of shape (n_features, n_features)
        ``diag(sqrt(w)) V'`` from the eigendecomposition ``M = V diag(w) V'``,
        rows ordered by decreasing eigenvalue.
    """
    M = np.asarray(M, dtype=np.float64)
    symmetric = (M + M.T) / 2.0
    if not np.allclose(M, symmetric, rtol=1e-8, atol=1e-12 * max(np.abs(M).max(), 1)):
        raise ValueError("The metric matrix must be symmetric.")
    eigenvalues, eigenvectors = eigh(symmetric)
    if tol is None:
        tol = 1e-10 * max(np.abs(eigenvalues).max(), np.finfo(np.float64).tiny)
    if eigenvalues.min() < -tol:
        raise ValueError(
            "The metric matrix must be positive semi-definite; its smallest "
            f"eigenvalue is {eigenvalues.min():.3g}."
        )
    order = np.argsort(eigenvalues)[::-1]
    scale = np.sqrt(np.clip(eigenvalues[order], 0.0, None))
    return scale[:, None] * eigenvectors[:, order].T


def check_classification_labels(y, estimator_name, *, min_classes=2, min_per_class=1):
    """Validate class labels for a supervised metric learner.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels.
    estimator_name : str
        Used in error messages.
    min_classes : int, default=2
        Fewest distinct classes accepted.
    min_per_class : int, default=1
        Fewest samples per class accepted (for instance ``n_neighbors + 1``
        for learners that need same-class neighbours).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        Distinct labels.
    y_encoded : ndarray of shape (n_samples,)
        Labels as integers ``0 .. n_classes - 1``.
    """
    check_classification_targets(y)
    classes, y_encoded, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.shape[0] < min_classes:
        raise ValueError(
            f"{estimator_name} needs samples of at least {min_classes} classes; got "
            f"{classes.shape[0]} class{'es' if classes.shape[0] != 1 else ''}."
        )
    if counts.min() < min_per_class:
        small = classes[counts < min_per_class]
        raise ValueError(
            f"{estimator_name} needs at least {min_per_class} samples in every class; "
            f"class {small[0]!r} has {counts[counts < min_per_class][0]}."
        )
    return classes, y_encoded


#: Most L-BFGS-B restarts after a stall (see :func:`lbfgs_minimize`).
MAX_LBFGS_RESTARTS = 5


def lbfgs_minimize(
    loss_grad,
    x0,
    *,
    max_iter,
    tol,
    estimator_name,
    callback=None,
    verbose=0,
    max_iter_name="max_iter",
    tol_name="tol",
):
    """Minimise a smooth objective with L-BFGS-B, recording its trace.

    L-BFGS-B also stops when one iteration lowers the objective by less than
    about ``2.2e-9`` relative (its ``ftol``), which on the plateaus of the
    softmax objectives happens while the gradient is still far from ``tol``:
    where the stop falls then depends on rounding, and the map is not a
    minimum. Such a stall is not taken as convergence at once: the solver
    restarts from the current point with its curvature memory cleared, at
    most ``MAX_LBFGS_RESTARTS`` times and within the ``max_iter`` budget, and
    stops when a restart makes no iteration. A run that reaches ``max_iter``
    with the gradient above ``tol`` warns.

    Parameters
    ----------
    loss_grad : callable
        ``loss_grad(x) -> (loss, gradient)`` on a flat float64 vector.
    x0 : ndarray
        Starting point; any shape, flattened.
    max_iter : int
        Most L-BFGS iterations, over all restarts.
    tol : float
        Gradient tolerance (``gtol`` of L-BFGS-B, the largest gradient entry),
        as in scikit-learn's NCA.
    estimator_name : str
        Used in the convergence warning.
    callback : callable, default=None
        Called as ``callback(x, n_iter)`` after every iteration.
    verbose : int, default=0
        Print the objective after every iteration when positive.
    max_iter_name, tol_name : str, default="max_iter", "tol"
        Parameter names quoted in the convergence warning.

    Returns
    -------
    x : ndarray
        The minimiser, in the shape of ``x0``.
    n_iter : int
        Iterations run.
    objective : list of float
        Objective after each iteration, the starting value first.
    """
    shape = np.shape(x0)
    x = np.ravel(x0).astype(np.float64)
    trace = []
    n_iter = [0]

    def _loss_grad(flat):
        # The starting value of the trace is the solver's first evaluation.
        loss, gradient = loss_grad(flat)
        if not trace:
            trace.append(float(loss))
        return loss, gradient

    def _callback(intermediate_result):
        n_iter[0] += 1
        trace.append(float(intermediate_result.fun))
        if verbose:
            print(
                f"[{estimator_name}] iteration {n_iter[0]:>4}: objective "
                f"{intermediate_result.fun:.6g}"
            )
        if callback is not None:
            callback(intermediate_result.x.reshape(shape), n_iter[0])

    restarts = 0
    while True:
        result = minimize(
            _loss_grad,
            x,
            jac=True,
            method="L-BFGS-B",
            callback=_callback,
            options={"maxiter": max_iter - n_iter[0], "gtol": tol},
        )
        x = result.x
        gradient = np.asarray(result.jac)
        gradient_max = float(np.max(np.abs(gradient))) if gradient.size else 0.0
        out_of_iterations = n_iter[0] >= max_iter
        if gradient_max <= tol or out_of_iterations:
            break
        if restarts >= MAX_LBFGS_RESTARTS or result.nit == 0:
            # Stalled again at once, or often: the objective is flat to
            # rounding here, which L-BFGS-B (and scikit-learn) take as
            # convergence.
            break
        restarts += 1
        if verbose:
            print(
                f"[{estimator_name}] L-BFGS-B stalled ({result.message}) with "
                f"gradient {gradient_max:.3g} > {tol_name}; restart {restarts}"
            )
    if out_of_iterations and gradient_max > tol:
        warnings.warn(
            f"{estimator_name} did not converge in {max_iter_name}={max_iter} "
            f"iterations ({result.message}); increase {max_iter_name} or "
            f"{tol_name}.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return x.reshape(shape), n_iter[0], trace


def span_basis(scatter, n_samples):
    """Eigen-directions in which a scatter matrix is not zero up to rounding.

    Parameters
    ----------
    scatter : ndarray of shape (n_features, n_features)
        Symmetric PSD matrix, a covariance or scatter of ``n_samples`` points.
    n_samples : int
        Number of points it was computed from; it sets the rounding level.

    Returns
    -------
    eigenvalues : ndarray of shape (rank,)
        The eigenvalues above ``max(n_samples, n_features) * eps * largest``.
    basis : ndarray of shape (n_features, rank)
        Their orthonormal eigenvectors.
    """
    n_features = scatter.shape[0]
    # Features of exactly zero variance (constant columns) are left out before
    # the eigendecomposition, so that they get exactly zero weight rather than
    # rounding noise.
    varying = np.flatnonzero(np.diag(scatter) > 0)
    eigenvalues, sub_vectors = eigh(
        (scatter[np.ix_(varying, varying)] + scatter[np.ix_(varying, varying)].T) / 2.0
    )
    eigenvectors = np.zeros((n_features, varying.shape[0]))
    eigenvectors[varying] = sub_vectors
    largest = max(eigenvalues.max(initial=0.0), 0.0)
    tol = max(n_samples, n_features) * np.finfo(np.float64).eps * largest
    keep = eigenvalues > tol
    return eigenvalues[keep], eigenvectors[:, keep]


def symmetric_power(eigenvalues, basis, power):
    """``basis @ diag(eigenvalues ** power) @ basis.T``, a symmetric matrix.

    With a basis of fewer columns than rows this is the power of a
    pseudo-inverse kind: zero on the directions the basis leaves out.
    """
    return (basis * eigenvalues**power) @ basis.T
