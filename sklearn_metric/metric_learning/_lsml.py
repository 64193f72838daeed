"""Least Squared-residual Metric Learning (LSML) from relative comparisons."""

from numbers import Integral, Real

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.datasets import make_spd_matrix
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from .._kernels._threads import (
    MIN_PARALLEL_WORK,
    parallel_section,
    threads_for_work,
)
from ..utils._params import store_params
from ._base import MahalanobisMixin, QuadrupletsClassifierMixin
from ._kernels._lsml import lsml_loss_coefficients, quadruplet_laplacian_product
from ._supervised import SupervisedMixin
from ._util import components_from_metric, lbfgs_minimize

# Below this many element operations a kernel call takes a few milliseconds on
# one thread; waking more threads (which may have to wait for a busy core)
# costs about as much as it saves.

# Ridge of the 'covariance' prior, relative to the mean variance: constant or
# collinear features would otherwise make the prior singular.
_COVARIANCE_RIDGE = 1e-3


class LSML(MahalanobisMixin, QuadrupletsClassifierMixin, BaseEstimator):
    """Least Squared-residual Metric Learning (LSML).

    Read more in the :ref:`User Guide <lsml>`.

    LSML learns a Mahalanobis matrix ``M`` from relative comparisons: each
    quadruplet ``(a, b, c, d)`` says that ``a`` and ``b`` are more similar than
    ``c`` and ``d``. It minimises the weighted squared residuals of the
    violated comparisons plus the LogDet divergence to a prior matrix ``M0``:

    .. math::

        \\min_{M \\succ 0} \\sum_i w_i \\,[d_M(a_i, b_i) - d_M(c_i, d_i)]_+^2
        + \\operatorname{tr}(M M_0^{-1}) - \\log\\det(M M_0^{-1}) - n_{features},

    with ``d_M(x, y) = sqrt((x - y)' M (x - y))`` and weights summing to 1.
    The problem is convex in ``M``. It is solved with L-BFGS over the factor
    ``L`` of ``M = L'L``, started at the prior; every stationary point with
    ``L`` invertible is a global minimum, and the LogDet barrier keeps ``L``
    invertible.

    Parameters
    ----------
    tol : float, default=1e-3
        Convergence tolerance: L-BFGS stops once the largest entry of the
        gradient with respect to ``L`` is below ``tol``.
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    prior : {"identity", "covariance", "random"} or array-like of shape \
            (n_features, n_features), default="identity"
        The prior ``M0``, also the starting point:

        - ``"identity"``: the identity, i.e. the Euclidean distance;
        - ``"covariance"``: the inverse covariance of the points in the
          quadruplets, regularised by adding ``1e-3`` times their mean
          variance to the diagonal of the covariance, so that constant or
          collinear features do not make it singular;
        - ``"random"``: a random symmetric positive definite matrix drawn with
          ``random_state``;
        - an array: a symmetric positive definite matrix.
    verbose : bool, default=False
        Print the objective after every iteration.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Turns 2-D quadruplets of indices into points: an array whose rows are
        indexed, or a callable mapping indices to rows. ``None`` means the
        quadruplets are given as points.
    random_state : int, RandomState instance or None, default=None
        Seed of the ``"random"`` prior.
    warm_start : bool, default=False
        Start from the ``components_`` of the previous fit, when their shape
        fits, instead of from the prior. The prior stays the regulariser.
    n_jobs : int, default=None
        Threads of the loss and gradient kernels; ``None`` means all.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The learned linear map ``L`` with ``M = L'L``. LSML keeps ``M`` full
        rank (the LogDet divergence is infinite otherwise), so there is no
        ``n_components``.
    n_iter_ : int
        Number of L-BFGS iterations run.
    objective_ : ndarray of shape (`n_iter_` + 1,)
        Objective after each iteration, the starting value first.
    n_features_in_ : int
        Number of features of the points.
    preprocessor_ : callable or None
        The validated ``preprocessor``.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``, the labels of wrongly and correctly ordered quadruplets.

    See Also
    --------
    LSML_Supervised : LSML on quadruplets drawn from class labels.
    SCML : Sparse compositional metric learning from triplets.

    References
    ----------
    .. [1] E. Y. Liu, Z. Guo, X. Zhang, V. Jojic and W. Wang, "Metric Learning
       from Relative Comparisons by Minimizing Squared Residual", ICDM 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import LSML
    >>> X = np.array([[0.0, 0.0], [0.0, 3.0], [2.0, 0.0], [2.0, 3.0]])
    >>> # Points that differ in the second feature should be the closer ones.
    >>> quadruplets = np.array([[0, 1, 0, 2], [2, 3, 1, 3], [0, 1, 1, 3]])
    >>> lsml = LSML(preprocessor=X).fit(quadruplets)
    >>> np.round(np.diag(lsml.get_mahalanobis_matrix()), 2)
    array([1.32, 0.66])
    """

    _parameter_constraints: dict = {
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions({"identity", "covariance", "random"}), "array-like"],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        tol=1e-3,
        max_iter=1000,
        prior="identity",
        verbose=False,
        preprocessor=None,
        random_state=None,
        *,
        warm_start=False,
        n_jobs=None,
    ):
        self.tol = tol
        self.max_iter = max_iter
        self.prior = prior
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, quadruplets, weights=None):
        """Learn the metric from quadruplets stating ``d(a, b) < d(c, d)``.

        Parameters
        ----------
        quadruplets : array-like of shape (n_quadruplets, 4, n_features) or \
                (n_quadruplets, 4)
            The quadruplets as points, or as indices into ``preprocessor``.
            Each says that its first two points are closer than its last two.
        weights : array-like of shape (n_quadruplets,), default=None
            Non-negative importance of each quadruplet, rescaled to sum to 1;
            uniform when ``None``.

        Returns
        -------
        self : object
            The fitted learner.
        """
        quadruplets = self._validate_tuples(quadruplets, reset=True)
        X, indices = quadruplets
        weights = _check_weights(weights, indices.shape[0])
        random_state = check_random_state(self.random_state)
        self.components_, self.n_iter_, self.objective_ = _fit_lsml(
            self, X, indices, weights, random_state
        )
        return self


class LSML_Supervised(
    SupervisedMixin,
    MahalanobisMixin,
    TransformerMixin,
    BaseEstimator,
    twin=LSML,
    kind="quadruplets",
):
    __doc__ = """LSML on quadruplets drawn from class labels.

    Read more in the :ref:`User Guide <lsml>`.

    Draws ``n_constraints`` random same-class pairs ``(a, b)`` and as many
    different-class pairs ``(c, d)``, and fits :class:`LSML` on the
    quadruplets ``(a, b, c, d)``: same-class points must end up closer than
    different-class points. The quadruplets are index arrays into ``X``; they
    are never expanded into arrays of points.

    Parameters
    ----------
    {parameters}
    prior : {"identity", "covariance", "random"} or array-like of shape \
            (n_features, n_features), default="identity"
        The prior ``M0`` and starting point; see :class:`LSML`. The
        ``"covariance"`` prior is the regularised inverse covariance of ``X``.
    n_constraints : int, default=None
        Number of quadruplets; ``None`` means ``20 * n_classes**2``, or fewer
        when fewer distinct same-class or different-class pairs exist. When an
        explicit ``n_constraints`` exceeds the pairs that exist, all of them
        are used, with a warning.
    weights : array-like of shape (n_constraints,), default=None
        Non-negative importance of each quadruplet, rescaled to sum to 1;
        uniform when ``None``.
    random_state : int, RandomState instance or None, default=None
        Seed of the drawn pairs and of the ``"random"`` prior.
    warm_start : bool, default=False
        Start from the ``components_`` of the previous fit, when their shape
        fits, instead of from the prior.
    n_jobs : int, default=None
        Threads of the loss and gradient kernels; ``None`` means all.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The learned linear map ``L`` with ``M = L'L``.
    n_iter_ : int
        Number of L-BFGS iterations run.
    objective_ : ndarray of shape (`n_iter_` + 1,)
        Objective after each iteration, the starting value first.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when they are all strings.
    preprocessor_ : callable or None
        The validated ``preprocessor``.

    See Also
    --------
    LSML : The learner on given quadruplets.
    SCML_Supervised : Sparse compositional metric learning from labels.

    References
    ----------
    .. [1] E. Y. Liu, Z. Guo, X. Zhang, V. Jojic and W. Wang, "Metric Learning
       from Relative Comparisons by Minimizing Squared Residual", ICDM 2012.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import LSML_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> lsml = LSML_Supervised(n_constraints=200, random_state=0).fit(X, y)
    >>> bool(lsml.objective_[-1] < lsml.objective_[0])  # the violations fell
    True
    """
    _parameter_constraints: dict = {
        "weights": ["array-like", None],
    }

    def __init__(
        self,
        tol=1e-3,
        max_iter=1000,
        prior="identity",
        n_constraints=None,
        weights=None,
        verbose=False,
        preprocessor=None,
        random_state=None,
        *,
        warm_start=False,
        n_jobs=None,
    ):
        store_params(self, locals())

    def _fit_constraints(self, X, indices, random_state):
        weights = _check_weights(self.weights, indices.shape[0])
        self.components_, self.n_iter_, self.objective_ = _fit_lsml(
            self, X, indices, weights, random_state
        )


def _check_weights(weights, n_quadruplets):
    """Validate quadruplet weights and rescale them to sum to 1."""
    if weights is None:
        return np.full(n_quadruplets, 1.0 / n_quadruplets)
    weights = check_array(
        weights, ensure_2d=False, dtype=np.float64, input_name="weights"
    )
    if weights.ndim != 1 or weights.shape[0] != n_quadruplets:
        raise ValueError(
            f"weights must have one entry per quadruplet, shape ({n_quadruplets},); "
            f"got shape {weights.shape}."
        )
    if np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(
            "weights must be non-negative with a positive sum; got values in "
            f"[{weights.min():.3g}, {weights.max():.3g}]."
        )
    return weights / weights.sum()


def _check_prior(prior, X, random_state):
    """Resolve ``prior`` into its factor, its inverse and its log-determinant.

    Parameters
    ----------
    prior : {"identity", "covariance", "random"} or array-like
        The ``prior`` parameter.
    X : ndarray of shape (n_rows, n_features)
        The training points.
    random_state : RandomState
        Generator for ``"random"``.

    Returns
    -------
    components : ndarray of shape (n_features, n_features)
        ``L0`` with ``L0' L0 = M0``.
    prior_inverse : ndarray of shape (n_features, n_features)
        ``M0^{-1}``.
    logdet : float
        ``log det M0``.
    """
    n_features = X.shape[1]
    if isinstance(prior, str) and prior == "identity":
        return np.eye(n_features), np.eye(n_features), 0.0
    if isinstance(prior, str) and prior == "covariance":
        covariance = np.atleast_2d(np.cov(X, rowvar=False, dtype=np.float64))
        if X.shape[0] < 2:
            covariance = np.zeros((n_features, n_features))
        mean_variance = np.trace(covariance) / n_features
        ridge = _COVARIANCE_RIDGE * mean_variance if mean_variance > 0 else 1.0
        prior_inverse = covariance + ridge * np.eye(n_features)
        eigenvalues, eigenvectors = eigh(prior_inverse)
        eigenvalues = np.maximum(eigenvalues, ridge)
        components = eigenvectors.T / np.sqrt(eigenvalues)[:, None]
        return components, prior_inverse, -float(np.log(eigenvalues).sum())
    if isinstance(prior, str):  # "random"
        M0 = make_spd_matrix(n_features, random_state=random_state)
    else:
        M0 = check_array(prior, dtype=np.float64, input_name="prior")
        if M0.shape != (n_features, n_features):
            raise ValueError(
                f"An array prior must have shape ({n_features}, {n_features}) to "
                f"match the {n_features} features; got {M0.shape}."
            )
        if not np.allclose(M0, M0.T, rtol=1e-8, atol=1e-12 * np.abs(M0).max()):
            raise ValueError("The prior matrix must be symmetric.")
    M0 = (M0 + M0.T) / 2.0
    eigenvalues = eigh(M0, eigvals_only=True)
    # The floor of ITML's and SDML's priors: below it the prior is singular in
    # floating point, its inverse meaningless and the LogDet divergence infinite.
    if eigenvalues.min() <= 1e-10 * max(
        np.abs(eigenvalues).max(), np.finfo(float).tiny
    ):
        raise ValueError(
            "The prior matrix must be positive definite: the LogDet divergence "
            "to a singular prior is infinite; its smallest eigenvalue is "
            f"{eigenvalues.min():.3g}."
        )
    try:
        factor = cho_factor(M0, lower=False)
    except np.linalg.LinAlgError:
        raise ValueError(
            "The prior matrix must be positive definite: the LogDet divergence "
            "to a singular prior is infinite."
        ) from None
    prior_inverse = cho_solve(factor, np.eye(n_features))
    logdet = 2.0 * float(np.log(np.diag(factor[0])).sum())
    return components_from_metric(M0), (prior_inverse + prior_inverse.T) / 2.0, logdet


def _fit_lsml(estimator, X, indices, weights, random_state):
    """Solve LSML on validated quadruplets.

    Parameters
    ----------
    estimator : LSML or LSML_Supervised
        The learner whose parameters are read.
    X : ndarray of shape (n_rows, n_features)
        Points the quadruplets index.
    indices : ndarray of shape (n_quadruplets, 4)
        Row indices of the quadruplets.
    weights : ndarray of shape (n_quadruplets,)
        Weights summing to 1.
    random_state : RandomState
        Generator for the ``"random"`` prior.

    Returns
    -------
    components : ndarray of shape (n_features, n_features)
        The learned ``L``.
    n_iter : int
        L-BFGS iterations, at least 1: a start that is already optimal counts
        the one iteration that found it so.
    objective : ndarray of shape (n_iter + 1,)
        Objective after each iteration, the starting value first.
    """
    n_features = X.shape[1]
    prior_components, prior_inverse, prior_logdet = _check_prior(
        estimator.prior, X, random_state
    )
    components = prior_components
    previous = getattr(estimator, "components_", None)
    if (
        estimator.warm_start
        and previous is not None
        and previous.shape == (n_features, n_features)
    ):
        components = previous

    n_threads = threads_for_work(indices.shape[0] * n_features * 8, estimator.n_jobs)
    loss_grad = _LSMLObjective(
        X, indices, weights, prior_inverse, prior_logdet, n_threads=n_threads
    )
    components, n_iter, objective = lbfgs_minimize(
        loss_grad,
        components,
        max_iter=estimator.max_iter,
        tol=estimator.tol,
        estimator_name=type(estimator).__name__,
        verbose=estimator.verbose,
    )
    objective = np.asarray(objective, dtype=np.float64)
    if n_iter == 0:
        # The start already satisfies the tolerance: one iteration checked it
        # and left it unchanged, as scikit-learn's solvers count it.
        n_iter, objective = 1, np.repeat(objective[:1], 2)
    return components, n_iter, objective


class _LSMLObjective:
    """LSML's objective and gradient with respect to the flattened ``L``.

    ``F(L) = sum_i w_i [||L v_ab|| - ||L v_cd||]_+^2 + tr(L M0^{-1} L')
    - 2 log|det L| + log det M0 - n_features``: the comparison loss plus the
    LogDet divergence of ``M = L'L`` to ``M0``, which is zero at the prior.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Points.
    indices : ndarray of shape (n_quadruplets, 4)
        Row indices of the quadruplets.
    weights : ndarray of shape (n_quadruplets,)
        Quadruplet weights.
    prior_inverse : ndarray of shape (n_features, n_features)
        ``M0^{-1}``.
    prior_logdet : float
        ``log det M0``.
    n_threads : int
        Threads of the kernels.
    """

    def __init__(self, X, indices, weights, prior_inverse, prior_logdet, n_threads):
        self.X = np.asarray(X, dtype=np.float64)
        self.indices = np.ascontiguousarray(indices, dtype=np.intp)
        self.weights = weights
        self.prior_inverse = prior_inverse
        self.constant = prior_logdet - X.shape[1]
        self.n_threads = n_threads
        self.coefficients = np.empty((indices.shape[0], 2))
        self.small = X.shape[0] * X.shape[1] ** 2 < MIN_PARALLEL_WORK * 2
        self.scattered = np.empty_like(self.X)

    def comparison_loss(self, L):
        """Loss of the comparisons and its gradient with respect to ``L``."""
        self.scattered[:] = 0.0
        # The two products are small (n_rows x n_features^2): threads of BLAS
        # would cost more than they save, and would fight Numba's.
        with parallel_section(self.n_threads, limit_blas=self.small):
            Z = self.X @ L.T
            loss = lsml_loss_coefficients(
                Z, self.indices, self.weights, self.coefficients
            )
            quadruplet_laplacian_product(
                self.X, self.indices, self.coefficients, self.scattered
            )
            return loss, Z.T @ self.scattered

    def __call__(self, flat_components):
        n_features = self.X.shape[1]
        L = flat_components.reshape(n_features, n_features)
        sign, logabsdet = np.linalg.slogdet(L)
        if sign == 0 or not np.isfinite(logabsdet):
            # Outside the domain: the LogDet barrier is infinite there.
            return np.inf, np.zeros_like(flat_components)
        loss, grad = self.comparison_loss(L)
        L_prior = L @ self.prior_inverse
        objective = loss + np.sum(L_prior * L) - 2.0 * logabsdet + self.constant
        grad += 2.0 * L_prior - 2.0 * np.linalg.inv(L).T
        return objective, grad.ravel()
