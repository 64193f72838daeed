"""Mahalanobis Metric for Clustering (MMC) and its supervised front-end."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import eigh
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._params import store_params
from ._base import MahalanobisMixin, PairsClassifierMixin
from ._pairs import MATRIX_OPTIONS, pair_scatter, prior_matrix
from ._supervised import SupervisedMixin
from ._util import components_from_metric

# Ridge added to the similar-pair scatter, relative to its mean eigenvalue: it
# keeps the problem bounded along directions in which similar pairs never differ.
_SCATTER_RIDGE = 1e-6


class MMC(MahalanobisMixin, PairsClassifierMixin, BaseEstimator):
    """Mahalanobis Metric for Clustering, learned from labelled pairs.

    Read more in the :ref:`User Guide <mmc>`.

    MMC [1]_ finds the positive semi-definite ``M`` that minimises the sum of
    squared distances between similar pairs subject to the sum of (unsquared)
    distances between dissimilar pairs being at least 1. The fitted metric is
    scaled so that this constraint holds with equality.

    With ``diagonal=False`` the full matrix is found by projected gradient
    ascent of the dissimilar distances under a budget on the similar ones, in
    the coordinates whitened by the similar-pair scatter, where the projection
    onto the constraints is exact (one eigendecomposition per iteration). With
    ``diagonal=True`` the diagonal of ``M`` minimises Xing et al.'s equivalent
    penalised objective ``sum_S d**2 - diagonal_c * log(sum_D d)`` under
    non-negativity, by L-BFGS-B.

    Parameters
    ----------
    max_iter : int, default=100
        Most iterations of the solver.
    max_proj : int, default=10000
        Kept for compatibility with metric-learn, where it caps the alternating
        projections onto the constraints in each iteration. The projection is
        exact here, so the parameter has no effect.
    tol : float, default=1e-3
        Stop when the relative change of the matrix over an iteration falls
        below this (full), or when L-BFGS-B's relative decrease of the
        objective falls below ``tol * 1e-3`` (diagonal).
    init : {"identity", "covariance", "random"} or ndarray of shape \
            (n_features, n_features), default="identity"
        Starting matrix (its diagonal when ``diagonal=True``); see
        :class:`ITML`'s ``prior``. It is scaled to satisfy the constraints.
        The full problem is convex, so the solution does not depend on it.
    diagonal : bool, default=False
        Learn a diagonal metric (a weight per feature) instead of a full one.
    diagonal_c : float, default=1.0
        Weight of the dissimilar term of the diagonal objective. Only the scale
        of the result depends on it; ignored when ``diagonal=False``.
    verbose : bool, default=False
        Print the objective after every iteration.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Turns pairs given as indices into points.
    random_state : int, RandomState instance or None, default=None
        Seed for ``init="random"``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The linear map ``L`` with ``L'L = M``.
    threshold_ : float
        Pairs at distance at most this are predicted similar.
    n_iter_ : int
        Iterations run.
    objective_ : ndarray of shape (`n_iter_` + 1,)
        The objective minimised, from the starting point on: the sum of squared
        similar distances of the current matrix scaled to meet the constraint
        (full), or the penalised diagonal objective (diagonal).
    preprocessor_ : None or callable
        The validated preprocessor.
    n_features_in_ : int
        Number of features of the points.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    MMC_Supervised : MMC on pairs drawn from class labels.
    ITML : Information theoretic metric learning on pairs.

    Notes
    -----
    MMC suits data whose classes form compact clusters. Its optimum is a
    matrix of very low rank (or a sparse diagonal): the objective rewards the
    few directions with the largest ratio of dissimilar to similar spread and
    drops the rest. That is what clustering into few groups needs but loses
    what nearest neighbours need: on ``load_digits`` (10 classes, 64
    features) the full optimum has rank 3 and a 3-NN classifier in it scores
    about 0.83 (metric-learn: 0.84), the diagonal optimum about 0.88, against
    0.98 for the Euclidean distance. The problem is convex, so neither
    ``init`` nor ``diagonal_c`` (which only rescales) changes this.

    One full iteration costs ``O(n_dissimilar * n_features**2)`` plus an
    eigendecomposition; a diagonal one ``O(n_dissimilar * n_features)``.

    References
    ----------
    .. [1] E. P. Xing, A. Y. Ng, M. I. Jordan and S. Russell, "Distance metric
       learning, with application to clustering with side-information",
       NIPS 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import MMC
    >>> pairs = np.array([[[1.2, 7.5], [1.3, 1.5]],
    ...                   [[6.4, 2.6], [6.2, 9.7]],
    ...                   [[1.3, 4.5], [3.2, 4.6]],
    ...                   [[6.2, 5.5], [5.4, 5.4]]])
    >>> y = [1, 1, -1, -1]
    >>> mmc = MMC().fit(pairs, y)
    >>> mmc.predict(pairs)
    array([ 1,  1, -1, -1])
    """

    _parameter_constraints: dict = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_proj": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions(MATRIX_OPTIONS), np.ndarray],
        "diagonal": ["boolean"],
        "diagonal_c": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        max_iter=100,
        max_proj=10000,
        tol=1e-3,
        init="identity",
        diagonal=False,
        diagonal_c=1.0,
        verbose=False,
        preprocessor=None,
        random_state=None,
    ):
        self.max_iter = max_iter
        self.max_proj = max_proj
        self.tol = tol
        self.init = init
        self.diagonal = diagonal
        self.diagonal_c = diagonal_c
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, pairs, y, calibration_params=None):
        """Learn the metric from labelled pairs and calibrate ``threshold_``.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_pairs,)
            +1 for similar pairs, -1 for dissimilar ones; both kinds needed.
        calibration_params : dict, default=None
            Keyword arguments of
            :meth:`~PairsClassifierMixin.calibrate_threshold`.

        Returns
        -------
        self : MMC
            The fitted learner.
        """
        pairs, y = self._validate_pairs(pairs, y, reset=True)
        calibration_params = self._check_calibration_params(calibration_params)
        self.n_iter_, self.objective_, self.components_ = _fit_mmc(
            self, pairs.X, pairs.indices, y == 1
        )
        return self._calibrate_threshold_after_fit(pairs, y, calibration_params)


class MMC_Supervised(
    SupervisedMixin,
    MahalanobisMixin,
    TransformerMixin,
    BaseEstimator,
    twin=MMC,
    kind="pairs",
):
    __doc__ = """Mahalanobis Metric for Clustering on pairs drawn from class labels.

    Read more in the :ref:`User Guide <mmc>`.

    Draws ``n_constraints`` random same-class pairs (similar) and as many
    different-class pairs (dissimilar), then learns the metric as :class:`MMC`
    does.

    Parameters
    ----------
    {parameters}
    tol : float, default=1e-3
        Relative change below which the solver stops. (metric-learn's
        ``MMC_Supervised`` defaults to 1e-6, its ``MMC`` to 1e-3; both
        front-ends share 1e-3 here.)
    random_state : int, RandomState instance or None, default=None
        Seed for drawing the pairs and for ``init="random"``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The linear map ``L`` with ``L'L = M``.
    n_iter_ : int
        Iterations run.
    objective_ : ndarray of shape (`n_iter_` + 1,)
        The objective minimised; see :class:`MMC`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.
    preprocessor_ : callable or None
        The validated ``preprocessor``.

    See Also
    --------
    MMC : The learner on pairs.

    References
    ----------
    .. [1] E. P. Xing, A. Y. Ng, M. I. Jordan and S. Russell, "Distance metric
       learning, with application to clustering with side-information",
       NIPS 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import MMC_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> mmc = MMC_Supervised(diagonal=True, random_state=0).fit(X, y)
    >>> M = mmc.get_mahalanobis_matrix()
    >>> int(np.count_nonzero(M - np.diag(np.diag(M))))  # a weight per feature
    0
    """

    def __init__(
        self,
        max_iter=100,
        max_proj=10000,
        tol=1e-3,
        n_constraints=None,
        init="identity",
        diagonal=False,
        diagonal_c=1.0,
        verbose=False,
        preprocessor=None,
        random_state=None,
    ):
        store_params(self, locals())

    def _fit_constraints(self, X, constraints, random_state):
        indices, is_similar = constraints
        self.n_iter_, self.objective_, self.components_ = _fit_mmc(
            self, X, indices, is_similar
        )


def _fit_mmc(estimator, X, indices, is_similar):
    """Solve MMC on index pairs; return ``n_iter``, ``objective``, ``components``."""
    name = type(estimator).__name__
    if not np.any(is_similar) or np.all(is_similar):
        raise ValueError(
            f"{name} needs both similar (+1) and dissimilar (-1) pairs; got "
            f"{int(is_similar.sum())} similar and {int((~is_similar).sum())} "
            "dissimilar."
        )
    X = np.asarray(X, dtype=np.float64)
    random_state = check_random_state(estimator.random_state)
    init = prior_matrix(
        estimator.init, X[np.unique(indices)], random_state, name="init", strict=False
    )
    similar, dissimilar = indices[is_similar], indices[~is_similar]
    diff = X[dissimilar[:, 0]] - X[dissimilar[:, 1]]
    if estimator.diagonal:
        metric, n_iter, objective = _solve_diagonal(
            estimator, X, similar, diff, np.diag(init).copy()
        )
    else:
        metric, n_iter, objective = _solve_full(estimator, X, similar, diff, init)
    # Scale to Xing et al.'s form: the dissimilar distances sum to exactly 1.
    squared = np.einsum("ij,jk,ik->i", diff, metric, diff)
    total = np.sqrt(np.clip(squared, 0, None)).sum()
    if total > 0:
        metric = metric / total**2
    objective = np.asarray(objective, dtype=np.float64)
    return n_iter, objective, components_from_metric(metric)


def _solve_full(estimator, X, similar, diff, init):
    """Projected gradient ascent of the dissimilar distances, full matrix.

    With ``S`` the similar scatter, ``B = S^(1/2) M S^(1/2)`` turns the budget
    ``sum_S d**2 = trace(S M) <= 1`` into ``trace(B) <= 1``; the projection onto
    ``{B psd, trace(B) <= 1}`` clips the eigenvalues onto a simplex.
    """
    scatter = pair_scatter(X, similar, np.ones(similar.shape[0]))
    eigenvalues, eigenvectors = eigh(scatter)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    ridge = _SCATTER_RIDGE * max(eigenvalues.mean(), np.finfo(float).tiny)
    eigenvalues += ridge
    root = (eigenvectors * np.sqrt(eigenvalues)) @ eigenvectors.T
    inv_root = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T
    whitened = diff @ inv_root

    def spread(B):
        return np.sqrt(
            np.clip(np.einsum("ij,jk,ik->i", whitened, B, whitened), 0.0, None)
        )

    B = root @ init @ root
    B = _project_spectraplex((B + B.T) / 2.0 / max(np.trace(B), np.finfo(float).tiny))
    distances = spread(B)
    value = distances.sum()
    objective = [np.trace(B) / value**2 if value > 0 else np.inf]
    step = 1.0
    name = type(estimator).__name__
    change = np.inf
    n_iter = 0
    for n_iter in range(1, estimator.max_iter + 1):
        weights = 0.5 / np.maximum(distances, 1e-12 * max(distances.max(), 1e-300))
        gradient = (whitened * weights[:, None]).T @ whitened
        gradient /= max(np.linalg.norm(gradient), np.finfo(float).tiny)
        while True:
            candidate = _project_spectraplex(B + step * gradient)
            candidate_distances = spread(candidate)
            candidate_value = candidate_distances.sum()
            if candidate_value >= value or step < 1e-12:
                break
            step /= 2.0
        change = np.linalg.norm(candidate - B) / max(np.linalg.norm(B), 1e-300)
        B, distances, value = candidate, candidate_distances, candidate_value
        objective.append(np.trace(B) / value**2 if value > 0 else np.inf)
        step *= 1.2
        if estimator.verbose:
            print(
                f"[{name}] iteration {n_iter:>4}: objective {objective[-1]:.6g}, "
                f"relative change {change:.3e}"
            )
        if change < estimator.tol:
            break
    else:
        _warn_not_converged(estimator, change)
    metric = inv_root @ B @ inv_root
    return (metric + metric.T) / 2.0, n_iter, objective


def _project_spectraplex(B):
    """Frobenius projection onto ``{B psd, trace(B) <= 1}``."""
    eigenvalues, eigenvectors = eigh(B)
    clipped = np.clip(eigenvalues, 0.0, None)
    if clipped.sum() > 1.0:
        # Euclidean projection of the eigenvalues onto the probability simplex.
        ordered = np.sort(eigenvalues)[::-1]
        cumulative = np.cumsum(ordered) - 1.0
        ranks = np.arange(1, ordered.shape[0] + 1)
        last = np.flatnonzero(ordered * ranks > cumulative)[-1]
        clipped = np.clip(eigenvalues - cumulative[last] / (last + 1), 0.0, None)
    return (eigenvectors * clipped) @ eigenvectors.T


def _solve_diagonal(estimator, X, similar, diff, weights0):
    """L-BFGS-B on ``s.w - c log(sum_D sqrt(q_i.w))`` over ``w >= 0``."""
    similar_diff = np.zeros(X.shape[1])
    for start in range(0, similar.shape[0], 65536):
        block = similar[start : start + 65536]
        similar_diff += ((X[block[:, 0]] - X[block[:, 1]]) ** 2).sum(axis=0)
    squared = diff**2
    c = float(estimator.diagonal_c)
    floor = 1e-12 * max(squared.sum(axis=1).max(), 1e-300)

    def loss_grad(w):
        distances = np.sqrt(np.maximum(squared @ w, floor))
        total = distances.sum()
        loss = similar_diff @ w - c * np.log(total)
        grad = similar_diff - c * (squared.T @ (0.5 / distances)) / total
        return loss, grad

    weights0 = np.clip(weights0, 0.0, None)
    if not np.any(weights0 > 0):
        weights0 = np.ones_like(weights0)
    name = type(estimator).__name__
    objective = [float(loss_grad(weights0)[0])]

    def callback(intermediate_result):
        objective.append(float(intermediate_result.fun))
        if estimator.verbose:
            print(
                f"[{name}] iteration {len(objective) - 1:>4}: objective "
                f"{intermediate_result.fun:.6g}"
            )

    result = minimize(
        loss_grad,
        weights0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * weights0.shape[0],
        callback=callback,
        options={
            "maxiter": estimator.max_iter,
            "ftol": estimator.tol * 1e-3,
            "gtol": 1e-10,
        },
    )
    n_iter = len(objective) - 1
    if not result.success and n_iter >= estimator.max_iter:
        _warn_not_converged(estimator, None)
    return np.diag(result.x), n_iter, objective


def _warn_not_converged(estimator, change):
    detail = "" if change is None else f" (relative change {change:.3g})"
    warnings.warn(
        f"{type(estimator).__name__} did not converge in max_iter="
        f"{estimator.max_iter} iterations{detail}; increase max_iter or tol.",
        ConvergenceWarning,
        stacklevel=5,
    )
