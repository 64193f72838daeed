"""Equiangular basis vectors: fixed class directions and a linear map onto them."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.sparse.linalg import LinearOperator, cg
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import validate_data

from ._base import PrototypeClassifierMixin, check_class_targets, check_class_weights

# Sharpness stages of the smooth maximum: log-sum-exp(s h) / s exceeds the
# maximum of h by at most log(n_pairs) / s, so the last stage is within about
# 1e-3 of the true largest cosine for a few thousand directions.
_SHARPNESS = (4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0)


# The cosine of an embedding z with a direction e is computed as
# z.e / sqrt(|z|^2 + _SOFTENING^2), in units where the training embeddings have
# unit root-mean-square norm: it is the cosine except within about
# _SOFTENING of the origin, where the true cosine jumps and its curvature
# stalls L-BFGS.
_SOFTENING = 0.1
# Newton polish of the L-BFGS solution: most steps, most conjugate-gradient
# iterations per step.
_POLISH_STEPS = 6
_POLISH_CG_ITER = 100
_POLISH_CG_RTOL = 1e-3


def _random_rotation(n_dims, random_state):
    q, r = np.linalg.qr(random_state.standard_normal((n_dims, n_dims)))
    return q * np.sign(np.diag(r))


def _simplex(n_classes, n_dims, random_state):
    """Regular simplex: unit rows with every cosine equal to -1/(n_classes-1)."""
    if n_classes == 1:
        return _random_rotation(n_dims, random_state)[:1]
    centring = np.eye(n_classes) - 1.0 / n_classes
    # An orthonormal basis of the plane orthogonal to (1, ..., 1).
    q, _ = np.linalg.qr(centring[:, : n_classes - 1])
    vertices = np.sqrt(n_classes / (n_classes - 1)) * q
    padded = np.zeros((n_classes, n_dims))
    padded[:, : n_classes - 1] = vertices
    return padded @ _random_rotation(n_dims, random_state)


def _smooth_max_cosine(flat, shape, sharpness, squared):
    """Smooth maximum of the pairwise (squared) cosines, and its gradient."""
    V = flat.reshape(shape)
    norms = np.linalg.norm(V, axis=1)
    norms = np.where(norms > 0, norms, 1.0)
    W = V / norms[:, None]
    gram = W @ W.T
    upper = np.triu_indices(shape[0], k=1)
    pair = gram[upper]
    value = pair**2 if squared else pair
    peak = value.max()
    weights = np.exp(sharpness * (value - peak))
    total = weights.sum()
    loss = peak + np.log(total) / sharpness
    weights /= total
    coupling = np.zeros((shape[0], shape[0]))
    coupling[upper] = weights * (2.0 * pair if squared else 1.0)
    coupling += coupling.T
    grad_W = coupling @ W
    # Through the row normalisation: keep the part orthogonal to each row.
    grad_W -= np.einsum("ij,ij->i", grad_W, W)[:, None] * W
    return loss, (grad_W / norms[:, None]).ravel()


@validate_params(
    {
        "n_classes": [Interval(Integral, 1, None, closed="left")],
        "n_dims": [Interval(Integral, 1, None, closed="left")],
        "criterion": [StrOptions({"max_cos", "max_abs_cos"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def equiangular_basis(
    n_classes, n_dims, *, criterion="max_cos", max_iter=500, random_state=None
):
    """Unit vectors spread as far apart as possible, one per class.

    Returns ``n_classes`` unit vectors of ``n_dims`` dimensions whose largest
    pairwise cosine (``criterion="max_cos"``) or largest absolute cosine
    (``criterion="max_abs_cos"``, the equiangular basis vectors of Shen et
    al.) is as small as possible.

    Where the optimum is known it is built directly:

    - ``"max_cos"`` with ``n_dims >= n_classes - 1``: the regular simplex
      (simplex equiangular tight frame), every cosine ``-1 / (n_classes - 1)``;
    - ``"max_abs_cos"`` with ``n_dims >= n_classes``: orthonormal vectors.

    Otherwise the largest (absolute) cosine is minimised from random unit
    vectors: L-BFGS on a log-sum-exp smooth maximum of the off-diagonal
    entries of the Gram matrix (of their squares for ``"max_abs_cos"``), with
    the vectors normalised inside the objective and the smoothing sharpened
    in stages.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    n_classes : int
        Number of vectors.
    n_dims : int
        Their dimension.
    criterion : {"max_cos", "max_abs_cos"}, default="max_cos"
        What is minimised: the largest cosine, which allows opposite vectors
        (maximal separation), or the largest absolute cosine, which asks for
        vectors as close to orthogonal as possible.
    max_iter : int, default=500
        Most L-BFGS iterations at each sharpness stage of the optimisation;
        unused when the optimum is built directly.
    random_state : int, RandomState instance or None, default=None
        Seeds the random starting vectors, or the random rotation applied to
        a directly built optimum.

    Returns
    -------
    basis : ndarray of shape (n_classes, n_dims)
        Unit rows.

    See Also
    --------
    sklearn_metric.prototypes.EquiangularBasisClassifier : A classifier
        mapping samples onto these directions.

    Notes
    -----
    For ``n_classes > n_dims`` no set of unit vectors has a largest absolute
    cosine below the Welch bound ``sqrt((n_classes - n_dims) / (n_dims
    (n_classes - 1)))``, and no set has a largest cosine below
    ``-1 / (n_classes - 1)``. The optimiser finds a local optimum; for
    ``n_classes`` in the thousands the ``(n_classes, n_classes)`` Gram matrix
    sets the memory.

    References
    ----------
    .. [1] Y. Shen, X. Sun and X.-S. Wei, "Equiangular Basis Vectors",
       CVPR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.prototypes import equiangular_basis
    >>> basis = equiangular_basis(4, 3, random_state=0)
    >>> np.round(basis @ basis.T, 3) + 0.0
    array([[ 1.   , -0.333, -0.333, -0.333],
           [-0.333,  1.   , -0.333, -0.333],
           [-0.333, -0.333,  1.   , -0.333],
           [-0.333, -0.333, -0.333,  1.   ]])
    """
    random_state = check_random_state(random_state)
    squared = criterion == "max_abs_cos"
    if not squared and n_dims >= n_classes - 1:
        return _simplex(n_classes, n_dims, random_state)
    if squared and n_dims >= n_classes:
        return _random_rotation(n_dims, random_state)[:n_classes]
    return _minimise_max_cosine(n_classes, n_dims, squared, max_iter, random_state)


def _minimise_max_cosine(n_classes, n_dims, squared, max_iter, random_state):
    """Unit rows minimising the largest (squared) cosine, from a random start."""
    shape = (n_classes, n_dims)
    V = random_state.standard_normal(shape)
    for sharpness in _SHARPNESS:
        result = minimize(
            _smooth_max_cosine,
            V.ravel(),
            args=(shape, sharpness, squared),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-10, "ftol": 1e-14},
        )
        V = result.x.reshape(shape)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    return V


class EquiangularBasisClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Classifier mapping samples linearly onto fixed, maximally separated directions.

    Every class gets a fixed unit direction ``e_c`` of ``n_dims`` dimensions
    from :func:`~sklearn_metric.prototypes.equiangular_basis` (with
    ``n_dims >= n_classes - 1``, the vertices of a regular simplex, every pair
    at the same, largest possible angle). A linear map ``z = W x + b`` is then
    learned so that each sample points towards its class: the probability of
    class ``c`` is the softmax over classes of ``cos(z, e_c) / T``, and the
    map minimises the weighted cross-entropy of the training labels plus
    ``alpha / 2 ||W||_F^2``, by L-BFGS. A query gets the class of the
    direction most similar to its embedding.

    Cosines ignore the length of ``z``, so scaling ``W`` and ``b`` together
    changes nothing, and an L2 penalty alone would shrink them towards zero
    without end. The scale is therefore fixed: ``W`` is normalised so that the
    training embeddings ``W (x_i - mean)`` (``W x_i`` without intercept) have
    unit (weighted) root-mean-square norm, and the penalty applies to the
    normalised ``W``. It then prefers maps whose rows lie along directions of
    large variance of the data. In these units the cosine is computed as
    ``z.e_c / sqrt(||z||^2 + 0.01)``: the same except for embeddings within
    about 0.1 of the origin, where the true cosine is discontinuous. Their
    probabilities tend to uniform instead, and the objective stays smooth
    enough for L-BFGS; the predicted class, the most similar direction, is
    unchanged. L-BFGS is followed by a few Newton steps (conjugate gradients
    on finite differences of the analytic gradient), which fix the solution
    to the rounding of the gradient instead of ``tol`` divided by the
    curvature.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    n_dims : int, default=None
        Dimension (at least 2) of the embedding and of the class directions.
        ``None`` means ``max(n_classes - 1, 2)``, the smallest dimension that
        holds a regular simplex (two, for a binary problem, because cosines in
        one dimension are only -1 or 1).
    temperature : float, default=0.1
        The temperature ``T`` dividing the cosines, which lie in [-1, 1]: two
        class probabilities differ by a factor of at most ``exp(2 / T)``.
    alpha : float, default=0.3
        Strength of the L2 penalty on the normalised ``W``.
    fit_intercept : bool, default=True
        Whether to learn the offset ``b``. Without it the prediction depends
        only on the direction of ``x`` from the origin.
    max_iter : int, default=500
        Most L-BFGS iterations.
    tol : float, default=1e-6
        Tolerance of L-BFGS on the largest gradient entry of the objective.
    random_state : int, RandomState instance or None, default=None
        Seeds :func:`~sklearn_metric.prototypes.equiangular_basis` (the
        rotation of the simplex, or the start of the optimisation when
        ``n_dims < n_classes - 1``).
    verbose : int, default=0
        Print the objective after every iteration when positive.

    Attributes
    ----------
    basis_ : ndarray of shape (n_classes, n_dims)
        The fixed class directions, in the order of ``classes_``.
    components_ : ndarray of shape (n_dims, n_features)
        The learned (normalised) linear map ``W``.
    intercept_ : ndarray of shape (n_dims,)
        The offset ``b``, so that the embedding is ``X @ components_.T +
        intercept_``.
    n_iter_ : int
        L-BFGS iterations run (the Newton steps that follow are not counted).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column names.

    See Also
    --------
    sklearn_metric.prototypes.equiangular_basis : The class directions.
    sklearn_metric.prototypes.NearestPrototypeClassifier : Prototypes
        computed from the data instead of fixed in advance.

    Notes
    -----
    ``decision_function`` returns the (softened) ``cos(z, e_c) / T`` and
    ``predict_proba`` its softmax. Each objective evaluation costs
    ``O(n_samples n_features n_dims + n_samples n_dims n_classes)``.

    References
    ----------
    .. [1] Y. Shen, X. Sun and X.-S. Wei, "Equiangular Basis Vectors",
       CVPR 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.prototypes import EquiangularBasisClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = EquiangularBasisClassifier(random_state=0).fit(X, y)
    >>> clf.basis_.shape, clf.components_.shape
    ((3, 2), (2, 4))
    >>> clf.predict(X[[0, 50, 100]])
    array([0, 1, 2])
    """

    _parameter_constraints: dict = {
        "n_dims": [Interval(Integral, 2, None, closed="left"), None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_dims=None,
        *,
        temperature=0.1,
        alpha=0.3,
        fit_intercept=True,
        max_iter=500,
        tol=1e-6,
        random_state=None,
        verbose=0,
    ):
        self.n_dims = n_dims
        self.temperature = temperature
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the linear map onto the class directions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the cross-entropy and in
            the normalisation of ``W``; ``None`` gives every sample weight 1.

        Returns
        -------
        self : EquiangularBasisClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        y_encoded = check_class_targets(self, y)
        n_classes = self.classes_.shape[0]
        sample_weight = check_class_weights(self, sample_weight, X, y_encoded)
        n_dims = max(n_classes - 1, 2) if self.n_dims is None else self.n_dims
        random_state = check_random_state(self.random_state)
        self.basis_ = equiangular_basis(n_classes, n_dims, random_state=random_state)

        weight = sample_weight / sample_weight.sum()
        X64 = X.astype(np.float64, copy=False)
        # With an intercept the map acts on centred rows (better conditioned);
        # without one, on the rows themselves.
        mean = weight @ X64 if self.fit_intercept else np.zeros(X.shape[1])
        centred = X64 - mean
        n_features = X.shape[1]
        # A tiny isotropic term keeps the normalisation defined when the data
        # have no variance; it does not change the scale invariance.
        total_variance = float(weight @ np.einsum("ij,ij->i", centred, centred))
        ridge = 1e-12 * total_variance / n_features if total_variance > 0 else 1.0
        # Start from the cross-covariance of the targets and the rows.
        targets = self.basis_[y_encoded]
        U0 = (weight[:, None] * (targets - weight @ targets)).T @ centred
        if not np.any(U0):
            U0 = random_state.standard_normal((n_dims, n_features))
        # Those embeddings lie in the span of the directions and can all be
        # parallel to one of them (always, with two classes), where every
        # cosine is +-1 and the gradient vanishes. When the span leaves room,
        # the start gets a component orthogonal to it: the offset, or without
        # one a random map into that complement.
        _, singular, right = np.linalg.svd(self.basis_)
        rank = int(np.sum(singular > 1e-10))
        b0 = np.zeros(n_dims)
        if rank < n_dims and self.fit_intercept:
            b0 = right[rank]
        elif rank < n_dims:
            U0, _, _ = _normalised_map(U0, centred, weight, ridge)
            spread = random_state.standard_normal((n_dims - rank, n_features))
            spread, _, _ = _normalised_map(spread, centred, weight, ridge)
            U0 = U0 + right[rank:].T @ spread
        # Only U / s(U) matters; starting at s = 1 keeps the steps well scaled.
        U0, _, _ = _normalised_map(U0, centred, weight, ridge)
        start = np.concatenate([U0.ravel(), b0])

        def loss_grad(flat):
            return _objective(
                flat,
                centred,
                y_encoded,
                weight,
                self.basis_,
                float(self.temperature),
                float(self.alpha),
                ridge,
                self.fit_intercept,
            )

        solution, self.n_iter_ = self._solve(loss_grad, start)
        W, b = _unpack(solution, n_dims, n_features, centred, weight, ridge)
        if not self.fit_intercept:
            b = np.zeros(n_dims)
        self.components_ = W
        # z = W (x - mean) + b = W x + (b - W mean).
        self.intercept_ = b - W @ mean
        return self

    def _solve(self, loss_grad, start):
        """L-BFGS to the gradient tolerance.

        The relative-decrease stop of L-BFGS-B is switched off: on the flat
        valleys of this objective it fires while the gradient is still far
        from ``tol``, at a point that depends on rounding.
        """
        n_iter = [0]

        def callback(intermediate_result):
            n_iter[0] += 1
            if self.verbose:
                print(
                    f"[{type(self).__name__}] iteration {n_iter[0]:>4}: objective "
                    f"{intermediate_result.fun:.8g}"
                )

        result = minimize(
            loss_grad,
            start,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 0.0},
        )
        solution, gradient = _newton_polish(loss_grad, result.x, result.jac)
        gradient_max = float(np.max(np.abs(gradient)))
        if n_iter[0] >= self.max_iter and gradient_max > self.tol:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter="
                f"{self.max_iter} iterations (largest gradient entry "
                f"{gradient_max:.3g} > tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return solution, n_iter[0]

    def _cosines(self, X):
        Z = X.astype(np.float64, copy=False) @ self.components_.T + self.intercept_
        norms = np.sqrt(np.einsum("ij,ij->i", Z, Z) + _SOFTENING**2)
        return (Z / norms[:, None]) @ self.basis_.T

    def _class_scores(self, X):
        return self._cosines(X) / self.temperature

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags


def _newton_polish(loss_grad, x, gradient, max_steps=_POLISH_STEPS):
    """Newton steps from an L-BFGS solution, accepted while the gradient shrinks.

    L-BFGS stops when the decrease of the objective falls below its rounding,
    so on a flat minimum the solution is known only to ``tol / curvature``.
    Newton steps need no objective values: each solves ``H d = -g`` by
    conjugate gradients, with Hessian-vector products from central
    differences of the analytic gradient, and the solution is then fixed to
    the rounding of the gradient.
    """
    size = x.shape[0]
    norm = np.linalg.norm(gradient)
    for _ in range(max_steps):
        if not norm > 0:
            break
        # Central differences: the step balances truncation and rounding.
        h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, np.linalg.norm(x))

        def hessian_product(v, x=x, h=h):
            length = np.linalg.norm(v)
            if length == 0:
                return np.zeros_like(v)
            eps = h / length
            plus = loss_grad(x + eps * v)[1]
            minus = loss_grad(x - eps * v)[1]
            return (plus - minus) / (2.0 * eps)

        operator = LinearOperator((size, size), matvec=hessian_product)
        step, _ = cg(operator, -gradient, rtol=_POLISH_CG_RTOL, maxiter=_POLISH_CG_ITER)
        # Backtrack on the gradient norm: far from the minimum, or along its
        # flattest directions, the full step can overshoot.
        for fraction in (1.0, 0.5, 0.25):
            candidate = x + fraction * step
            candidate_gradient = loss_grad(candidate)[1]
            candidate_norm = np.linalg.norm(candidate_gradient)
            if candidate_norm < norm:
                break
        else:
            break
        x, gradient, norm = candidate, candidate_gradient, candidate_norm
    return x, gradient


def _normalised_map(U, centred, weight, ridge):
    """``W = U / s`` with ``s^2 = sum_i w_i ||U x_i||^2 + ridge ||U||^2``."""
    projected = centred @ U.T
    scale2 = float(weight @ np.einsum("ij,ij->i", projected, projected))
    scale2 += ridge * float(np.einsum("ij,ij->", U, U))
    scale = np.sqrt(scale2) if scale2 > 0 else 1.0
    return U / scale, projected / scale, scale


def _unpack(flat, n_dims, n_features, centred, weight, ridge):
    """The normalised map ``W`` and the offset ``b``."""
    U = flat[: n_dims * n_features].reshape(n_dims, n_features)
    W, _, _ = _normalised_map(U, centred, weight, ridge)
    return W, flat[n_dims * n_features :]


def _objective(
    flat, centred, y, weight, basis, temperature, alpha, ridge, fit_intercept
):
    """Weighted cross-entropy of cosine logits plus the L2 term, and its gradient.

    The parameters are ``U`` (raveled) and ``b``; the map is ``W = U / s``
    with ``s^2 = sum_i w_i ||U x_i||^2 + ridge ||U||^2`` over centred rows.
    """
    n_dims, n_features = basis.shape[1], centred.shape[1]
    U = flat[: n_dims * n_features].reshape(n_dims, n_features)
    b = flat[n_dims * n_features :] if fit_intercept else np.zeros(n_dims)
    W, Z, scale = _normalised_map(U, centred, weight, ridge)
    Z = Z + b
    norms = np.sqrt(np.einsum("ij,ij->i", Z, Z) + _SOFTENING**2)
    unit = Z / norms[:, None]
    logits = unit @ basis.T / temperature
    peak = logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
    rows = np.arange(y.shape[0])
    loss = float(weight @ (log_norm - logits[rows, y]))
    loss += 0.5 * alpha * float(np.einsum("ij,ij->", W, W))

    residual = np.exp(logits - log_norm[:, None])
    residual[rows, y] -= 1.0
    residual *= weight[:, None] / temperature
    grad_unit = residual @ basis
    grad_Z = grad_unit - np.einsum("ij,ij->i", grad_unit, unit)[:, None] * unit
    grad_Z /= norms[:, None]
    grad_W = grad_Z.T @ centred + alpha * W
    grad_b = grad_Z.sum(axis=0) if fit_intercept else np.zeros(n_dims)
    # W = U / s: d/dU = (grad_W - <grad_W, W> d s / d U) / s, where
    # d s / d U = (W Sigma + ridge W) with Sigma the weighted covariance.
    W_sigma = ((weight[:, None] * (centred @ W.T)).T @ centred) + ridge * W
    grad_U = (grad_W - float(np.einsum("ij,ij->", grad_W, W)) * W_sigma) / scale
    return loss, np.concatenate([grad_U.ravel(), grad_b])
