"""Information Theoretic Metric Learning (ITML) and its supervised front-end."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import eigh
from scipy.sparse import coo_matrix
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.datasets import make_spd_matrix
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import MahalanobisMixin, PairsClassifierMixin
from ._kernels import itml_sweep
from ._util import check_classification_labels, components_from_metric
from .constraints import Constraints

#: Values of ``prior`` (ITML, SDML) and ``init`` (MMC) naming a matrix.
MATRIX_OPTIONS = {"identity", "covariance", "random"}

# Above this many distinct points, the bound percentiles are estimated from a
# random sample of this many pairs instead of all n (n - 1) / 2 of them.
_MAX_PERCENTILE_PAIRS = 2_000_000


class ITML(MahalanobisMixin, PairsClassifierMixin, BaseEstimator):
    """Information Theoretic Metric Learning on labelled pairs.

    ITML [1]_ learns the Mahalanobis matrix ``M`` closest to a prior ``M0`` in
    LogDet divergence (the relative entropy of the two Gaussians they define)
    such that similar pairs are at squared distance at most ``u`` and
    dissimilar pairs at least ``l``, both softened by slack variables weighted
    by ``gamma``. It solves the problem by cyclic Bregman projections: each
    constraint in turn updates ``M`` by a rank-one term ``beta (M v)(M v)'``,
    with ``v`` the difference of the pair's points; ``M`` stays positive
    definite throughout and no eigendecomposition is needed.

    Parameters
    ----------
    gamma : float, default=1.0
        Weight of the slack: small values let constraints be violated cheaply,
        ``np.inf`` enforces them strictly (which may have no solution).
    max_iter : int, default=1000
        Most sweeps over the constraints.
    tol : float, default=1e-3
        Stop when the dual variables change by less than this in relative
        terms over a sweep (``||lambda - lambda_old||_1 / (||lambda||_2 +
        ||lambda_old||_2)``, the criterion of the authors' code).
    prior : {"identity", "covariance", "random"} or ndarray of shape \
            (n_features, n_features), default="identity"
        The matrix ``M0`` that ``M`` is kept close to; it must be positive
        definite.

        - ``"identity"``: the Euclidean distance.
        - ``"covariance"``: the inverse covariance of the points in the pairs.
          Directions of zero variance (constant or collinear features), where
          the inverse does not exist, get the largest weight among the others.
        - ``"random"``: a random positive definite matrix from ``random_state``.
        - an array: used as given.
    verbose : bool, default=False
        Print the convergence measure after every sweep.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Turns pairs given as indices into points; see
        :func:`~sklearn_metric.metric_learning._tuples.check_preprocessor`.
    random_state : int, RandomState instance or None, default=None
        Seed for ``prior="random"`` and for the sample of pairs used for the
        default bounds on large inputs.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The linear map ``L`` with ``L'L = M``.
    bounds_ : ndarray of shape (2,)
        The distances ``(u, l)``: similar pairs are pushed to distance at most
        ``u`` and dissimilar ones to at least ``l`` (before slack).
    threshold_ : float
        Pairs at distance at most this are predicted similar.
    n_iter_ : int
        Sweeps run.
    preprocessor_ : None or callable
        The validated preprocessor.
    n_features_in_ : int
        Number of features of the points.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    ITML_Supervised : ITML on pairs drawn from class labels.
    SDML : Sparse metric learning on pairs.
    MMC : Metric learning for clustering on pairs.

    Notes
    -----
    One sweep costs ``O(n_pairs * n_features**2)``. The projections are
    inherently sequential; the kernel gathers them in blocks so that most of the
    arithmetic runs as matrix products.

    References
    ----------
    .. [1] J. V. Davis, B. Kulis, P. Jain, S. Sra and I. S. Dhillon,
       "Information-theoretic metric learning", ICML 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import ITML
    >>> pairs = np.array([[[1.2, 7.5], [1.3, 1.5]],
    ...                   [[6.4, 2.6], [6.2, 9.7]],
    ...                   [[1.3, 4.5], [3.2, 4.6]],
    ...                   [[6.2, 5.5], [5.4, 5.4]]])
    >>> y = [1, 1, -1, -1]
    >>> itml = ITML().fit(pairs, y)
    >>> itml.predict(pairs)
    array([ 1,  1, -1, -1])
    """

    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, np.inf, closed="right")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "prior": [StrOptions(MATRIX_OPTIONS), np.ndarray],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        gamma=1.0,
        max_iter=1000,
        tol=1e-3,
        prior="identity",
        verbose=False,
        preprocessor=None,
        random_state=None,
    ):
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.prior = prior
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, pairs, y, bounds=None, calibration_params=None):
        """Learn the metric from labelled pairs and calibrate ``threshold_``.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_pairs,)
            +1 for similar pairs, -1 for dissimilar ones.
        bounds : array-like of shape (2,), default=None
            The distances ``(u, l)`` of ``bounds_``. ``None`` takes the 5th and
            95th percentiles of the distances between the distinct points of
            the pairs.
        calibration_params : dict, default=None
            Keyword arguments of
            :meth:`~PairsClassifierMixin.calibrate_threshold`, used to set
            ``threshold_`` on the training pairs.

        Returns
        -------
        self : ITML
            The fitted learner.
        """
        pairs, y = self._validate_pairs(pairs, y, reset=True)
        calibration_params = self._check_calibration_params(calibration_params)
        _fit_itml(self, pairs.X, pairs.indices, y == 1, bounds)
        return self._calibrate_threshold_after_fit(pairs, y, calibration_params)


class ITML_Supervised(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Information Theoretic Metric Learning on pairs drawn from class labels.

    Draws ``n_constraints`` random same-class pairs (similar) and as many
    different-class pairs (dissimilar) from the labels, then learns the metric
    as :class:`ITML` does.

    Parameters
    ----------
    gamma : float, default=1.0
        Weight of the slack; see :class:`ITML`.
    max_iter : int, default=1000
        Most sweeps over the constraints.
    tol : float, default=1e-3
        Relative change of the dual variables below which the solver stops.
    n_constraints : int, default=None
        Number of pairs of each kind; ``None`` means ``20 * n_classes**2``.
    prior : {"identity", "covariance", "random"} or ndarray of shape \
            (n_features, n_features), default="identity"
        The matrix ``M`` is kept close to; see :class:`ITML`.
    verbose : bool, default=False
        Print the convergence measure after every sweep.
    preprocessor : array-like or callable, default=None
        Accepted for compatibility with :class:`ITML`; unused, since ``X``
        holds the points.
    random_state : int, RandomState instance or None, default=None
        Seed for drawing the pairs and for ``prior="random"``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The linear map ``L`` with ``L'L = M``.
    bounds_ : ndarray of shape (2,)
        The distances ``(u, l)`` of the constraints (before slack).
    n_iter_ : int
        Sweeps run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    ITML : The learner on pairs.
    sklearn_metric.metric_learning.Constraints : How the pairs are drawn.

    References
    ----------
    .. [1] J. V. Davis, B. Kulis, P. Jain, S. Sra and I. S. Dhillon,
       "Information-theoretic metric learning", ICML 2007.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import ITML_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> itml = ITML_Supervised(n_constraints=200, random_state=0).fit(X, y)
    >>> itml.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **ITML._parameter_constraints,
        "n_constraints": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        gamma=1.0,
        max_iter=1000,
        tol=1e-3,
        n_constraints=None,
        prior="identity",
        verbose=False,
        preprocessor=None,
        random_state=None,
    ):
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.n_constraints = n_constraints
        self.prior = prior
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bounds=None):
        """Draw pairs from the labels and learn the metric.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        bounds : array-like of shape (2,), default=None
            The distances ``(u, l)``; ``None`` takes the 5th and 95th
            percentiles of the distances between the points of the pairs.

        Returns
        -------
        self : ITML_Supervised
            The fitted learner.
        """
        X, indices, is_similar = pairs_from_labels(self, X, y)
        _fit_itml(self, X, indices, is_similar, bounds)
        return self


def _fit_itml(estimator, X, indices, is_similar, bounds):
    """Solve ITML on index pairs and store the fitted attributes.

    Parameters
    ----------
    estimator : ITML or ITML_Supervised
        The learner whose parameters are used and whose ``components_``,
        ``bounds_`` and ``n_iter_`` are set.
    X : ndarray of shape (n_rows, n_features)
        Points.
    indices : ndarray of shape (n_pairs, 2)
        Rows of the two points of each pair.
    is_similar : ndarray of shape (n_pairs,), bool
        Whether each pair is similar.
    bounds : array-like of shape (2,) or None
        ``(u, l)`` as distances; ``None`` for the percentile default.
    """
    random_state = check_random_state(estimator.random_state)
    X = np.asarray(X, dtype=np.float64)
    used = X[np.unique(indices)]
    estimator.bounds_ = _check_bounds(bounds, used, random_state)
    metric = prior_matrix(
        estimator.prior, used, random_state, name="prior", strict=True
    )

    gamma = float(estimator.gamma)
    gamma_proj = 1.0 if np.isinf(gamma) else gamma / (gamma + 1.0)
    inv_gamma = 0.0 if np.isinf(gamma) else 1.0 / gamma
    n_pairs = indices.shape[0]
    # The constraints bound squared distances, as in the authors' code.
    target = np.where(is_similar, estimator.bounds_[0] ** 2, estimator.bounds_[1] ** 2)
    dual = np.zeros(n_pairs)
    first = np.ascontiguousarray(indices[:, 0], dtype=np.intp)
    second = np.ascontiguousarray(indices[:, 1], dtype=np.intp)
    is_similar = np.ascontiguousarray(is_similar, dtype=np.bool_)
    X = np.ascontiguousarray(X)

    name = type(estimator).__name__
    change = np.inf
    for n_iter in range(1, estimator.max_iter + 1):
        previous = dual.copy()
        itml_sweep(
            X, first, second, is_similar, metric, dual, target, gamma_proj, inv_gamma
        )
        norm_sum = np.linalg.norm(dual) + np.linalg.norm(previous)
        # All duals zero: every constraint already holds and none ever moved M.
        change = 0.0 if norm_sum == 0 else np.abs(dual - previous).sum() / norm_sum
        if estimator.verbose:
            print(
                f"[{name}] sweep {n_iter:>4}: relative change of the duals {change:.3e}"
            )
        if change < estimator.tol:
            break
    else:
        warnings.warn(
            f"{name} did not converge in max_iter={estimator.max_iter} sweeps "
            f"(relative change of the duals {change:.3g} > tol={estimator.tol}); "
            "increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=4,
        )
    estimator.n_iter_ = n_iter
    estimator.components_ = components_from_metric(metric)


def _check_bounds(bounds, X, random_state):
    """Validate ITML's ``bounds`` or compute the percentile default."""
    if bounds is None:
        bounds = distance_percentiles(X, (5.0, 95.0), random_state)
    else:
        bounds = np.asarray(bounds, dtype=np.float64).ravel()
        if (
            bounds.shape != (2,)
            or not np.all(np.isfinite(bounds))
            or np.any(bounds < 0)
        ):
            raise ValueError(
                "bounds must be two finite distances (u, l) >= 0; got "
                f"{np.asarray(bounds).tolist()!r}."
            )
        bounds = bounds.copy()
    # A zero bound would divide by zero in the projections.
    bounds[bounds == 0] = 1e-9
    return bounds


def distance_percentiles(X, q, random_state=None):
    """Percentiles of the Euclidean distances between distinct rows of X.

    All pairs are used when there are at most about 2 million; beyond, a
    random sample of 2 million pairs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points.
    q : sequence of float
        Percentiles in [0, 100].
    random_state : int, RandomState instance or None, default=None
        Seed for the sample of pairs.

    Returns
    -------
    percentiles : ndarray of shape (len(q),)
    """
    X = np.unique(X, axis=0)
    n_rows = X.shape[0]
    if n_rows < 2:
        return np.zeros(len(q))
    n_pairs = n_rows * (n_rows - 1) // 2
    if n_pairs <= _MAX_PERCENTILE_PAIRS:
        first, second = np.triu_indices(n_rows, k=1)
    else:
        random_state = check_random_state(random_state)
        first = random_state.randint(n_rows, size=_MAX_PERCENTILE_PAIRS)
        second = random_state.randint(n_rows - 1, size=_MAX_PERCENTILE_PAIRS)
        second += second >= first
    distances = np.empty(first.shape[0])
    chunk = max(1, 2**22 // max(X.shape[1], 1))
    for start in range(0, first.shape[0], chunk):
        diff = X[first[start : start + chunk]] - X[second[start : start + chunk]]
        distances[start : start + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return np.percentile(distances, q)


def prior_matrix(prior, X, random_state, *, name, strict):
    """The Mahalanobis matrix named by ``prior`` (ITML, SDML) or ``init`` (MMC).

    Parameters
    ----------
    prior : {"identity", "covariance", "random"} or ndarray
        See :class:`ITML`.
    X : ndarray of shape (n_samples, n_features)
        Points, for ``"covariance"``.
    random_state : RandomState instance
        For ``"random"``.
    name : str
        The parameter's name, for error messages.
    strict : bool
        Whether an array must be positive definite (else semi-definite).

    Returns
    -------
    M : ndarray of shape (n_features, n_features)
        A new symmetric float64 matrix.
    """
    n_features = X.shape[1]
    if isinstance(prior, np.ndarray):
        M = np.array(prior, dtype=np.float64)
        if M.shape != (n_features, n_features):
            raise ValueError(
                f"{name} must have shape ({n_features}, {n_features}) to match "
                f"the {n_features} features; got {M.shape}."
            )
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if not np.allclose(M, M.T):
            raise ValueError(f"{name} must be a symmetric matrix.")
        M = (M + M.T) / 2.0
        eigenvalues = eigh(M, eigvals_only=True)
        floor = 1e-10 * max(np.abs(eigenvalues).max(), np.finfo(float).tiny)
        if (strict and eigenvalues.min() <= floor) or eigenvalues.min() < -floor:
            kind = "positive definite" if strict else "positive semi-definite"
            raise ValueError(
                f"{name} must be {kind}; its smallest eigenvalue is "
                f"{eigenvalues.min():.3g}."
            )
        return M
    if prior == "identity":
        return np.eye(n_features)
    if prior == "random":
        return make_spd_matrix(n_features, random_state=random_state)
    # "covariance": the inverse covariance, with directions of (near) zero
    # variance given the largest weight found among the others.
    covariance = (
        np.atleast_2d(np.cov(X, rowvar=False))
        if X.shape[0] > 1
        else np.zeros((n_features, n_features))
    )
    eigenvalues, eigenvectors = eigh(covariance)
    largest = eigenvalues.max()
    valid = (
        eigenvalues > 1e-10 * largest
        if largest > 0
        else np.zeros_like(eigenvalues, dtype=bool)
    )
    if not np.any(valid):
        return np.eye(n_features)
    weights = np.full(n_features, 1.0 / eigenvalues[valid].min())
    weights[valid] = 1.0 / eigenvalues[valid]
    return (eigenvectors * weights) @ eigenvectors.T


def pairs_from_labels(estimator, X, y):
    """Validate a supervised front-end's input and draw its pairs.

    Parameters
    ----------
    estimator : estimator with ``n_constraints`` and ``random_state``
        The front-end; ``n_features_in_`` is set.
    X : array-like of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Class labels.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Validated data.
    indices : ndarray of shape (n_pairs, 2)
        Row indices of each pair, similar pairs first.
    is_similar : ndarray of shape (n_pairs,), bool
        Whether each pair is similar.
    """
    X, y = validate_data(
        estimator, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2
    )
    classes, y_encoded = check_classification_labels(y, type(estimator).__name__)
    n_constraints = estimator.n_constraints
    if n_constraints is None:
        n_constraints = 20 * classes.shape[0] ** 2
    # The same seed drives the pairs and, later, any random prior, as in
    # metric-learn; a RandomState instance is advanced by both.
    a, b, c, d = Constraints(y_encoded).positive_negative_pairs(
        n_constraints, random_state=estimator.random_state
    )
    indices = np.concatenate([np.column_stack((a, b)), np.column_stack((c, d))])
    is_similar = np.concatenate(
        [np.ones(a.shape[0], dtype=bool), np.zeros(c.shape[0], dtype=bool)]
    )
    return X, indices.astype(np.intp), is_similar


def pair_scatter(X, indices, weights):
    """Weighted sum of the outer products of the pairs' differences.

    ``sum_i weights[i] * v_i v_i'`` with ``v_i = X[indices[i, 0]] -
    X[indices[i, 1]]``, computed as ``X' L X`` for the weighted Laplacian ``L``
    of the pair graph, so no ``(n_pairs, n_features)`` array is formed.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Points.
    indices : ndarray of shape (n_pairs, 2)
        Rows of the two points of each pair.
    weights : ndarray of shape (n_pairs,)
        Weight of each pair.

    Returns
    -------
    scatter : ndarray of shape (n_features, n_features)
        Symmetric matrix.
    """
    n_rows = X.shape[0]
    first, second = indices[:, 0], indices[:, 1]
    rows = np.concatenate([first, second, first, second])
    cols = np.concatenate([first, second, second, first])
    values = np.concatenate([weights, weights, -weights, -weights])
    laplacian = coo_matrix((values, (rows, cols)), shape=(n_rows, n_rows)).tocsr()
    scatter = X.T @ (laplacian @ X)
    return (scatter + scatter.T) / 2.0
