"""Metric Learning for Kernel Regression (MLKR)."""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels._threads import parallel_section, resolve_n_threads
from ._base import MahalanobisMixin
from ._kernels._softmax import MLKR_OBJECTIVE, softmax_loss_grad
from ._tuples import validate_points
from ._util import INIT_OPTIONS, lbfgs_minimize, starting_components

#: Gradient tolerance used when ``tol=None``: scipy's L-BFGS-B default, which
#: is also what metric-learn's ``tol=None`` amounts to.
DEFAULT_TOL = 1e-5


class MLKR(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Metric Learning for Kernel Regression.

    Read more in the :ref:`User Guide <mlkr>`.

    MLKR learns a linear map ``L`` for which the leave-one-out Nadaraya-Watson
    regression with a Gaussian kernel in the embedded space predicts the
    targets well. It minimises

    ``sum_i (y_i - yhat_i)^2``, with ``yhat_i = sum_{j != i} k_ij y_j /
    sum_{j != i} k_ij`` and ``k_ij = exp(-||L (x_i - x_j)||^2)``,

    with L-BFGS-B. Targets are real numbers; class codes work too when their
    order means something, or as a heuristic.

    Objective and gradient are computed together by a parallel Numba kernel
    over row chunks, in ``O(n_samples^2 (n_components + n_features))`` time per
    iteration and ``O(chunk * n_samples)`` memory: no ``(n_samples,
    n_samples)`` matrix is formed.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when ``None``.

    init : {"auto", "pca", "identity", "random", "covariance"} or \
ndarray of shape (n_components, n_features), default="auto"
        Initial linear map.

        - ``"auto"``: ``"pca"`` if ``n_components < min(n_features,
          n_samples)``, else ``"identity"``. The targets are real, so there is
          no ``"lda"``.
        - ``"pca"``: the leading principal axes.
        - ``"identity"``: the first ``n_components`` rows of the identity.
        - ``"random"``: standard normal entries (seeded by ``random_state``).
        - ``"covariance"``: the whitening map of the data.
        - an array: used as given.

    tol : float, default=None
        Tolerance on the projected gradient (``gtol`` of L-BFGS-B). ``None``
        means ``1e-5``, scipy's default, which is what metric-learn's
        ``tol=None`` gave. The relative-decrease test of L-BFGS-B keeps
        scipy's default ``ftol``.

    max_iter : int, default=1000
        Most L-BFGS-B iterations.

    verbose : int, default=False
        Print the objective after every iteration, and the fit time, when
        positive.

    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        With a preprocessor, ``fit`` and ``transform`` also take a 1-D array of
        indicators (row indices into the array, or the input of the callable)
        in place of the samples, and ``pair_distance`` takes pairs of
        indicators.
    random_state : int, RandomState instance or None, default=None
        Seed for ``init="random"`` and ``init="pca"``.

    warm_start : bool, default=False
        When ``True`` and the estimator was fitted before, start from the
        previous ``components_`` (``init`` and ``n_components`` are then
        ignored).

    n_jobs : int, default=None
        Numba threads for the objective kernel. ``None`` uses all configured
        threads, ``-1`` as well, a positive integer that many.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L``.

    n_iter_ : int
        Number of L-BFGS-B iterations run, over all the restarts after a
        stall (see the metric-learning user guide). metric-learn's MLKR counted
        objective evaluations here (about 1.5 per iteration); ``max_iter``
        bounds iterations in both.

    objective_ : ndarray of shape (n_iterations + 1,)
        The leave-one-out squared error ``sum_i (y_i - yhat_i)^2`` at the start
        and after every iteration; ``n_iterations`` is ``n_iter_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    NCA : The same softmax neighbourhood for class labels.

    Notes
    -----
    metric-learn's ``preprocessor`` parameter is left out: a supervised
    learner takes ``X`` itself, and the preprocessor only let ``X`` be given
    as indices into another array.

    The kernel width is fixed at 1 in the embedded space: the scale of ``L``
    plays its part. ``fit`` computes in float64; ``transform`` keeps float32
    input as float32.

    References
    ----------
    .. [1] K. Q. Weinberger and G. Tesauro, "Metric Learning for Kernel
       Regression", Proceedings of the 11th International Conference on
       Artificial Intelligence and Statistics (AISTATS), pp. 612-619, 2007.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_metric.metric_learning import MLKR
    >>> X, y = load_diabetes(return_X_y=True)
    >>> mlkr = MLKR(n_components=2, max_iter=50, random_state=0).fit(X, y)
    >>> mlkr.transform(X).shape
    (442, 2)
    >>> bool(mlkr.objective_[-1] < mlkr.objective_[0])
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions(INIT_OPTIONS - {"lda"}), np.ndarray],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=None,
        init="auto",
        tol=None,
        max_iter=1000,
        verbose=False,
        preprocessor=None,
        *,
        random_state=None,
        warm_start=False,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.init = init
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the linear map from samples with real targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Real-valued targets.

        Returns
        -------
        self : MLKR
            The fitted estimator.
        """
        start = time.perf_counter()
        X, y = validate_points(
            self,
            X,
            y,
            reset=True,
            ensure_min_samples=2,
            dtype=np.float64,
            order="C",
            y_numeric=True,
        )
        targets = np.ascontiguousarray(y, dtype=np.float64)
        n_threads = resolve_n_threads(self.n_jobs)

        components = starting_components(self, X)
        labels = np.zeros(X.shape[0], dtype=np.int64)

        def loss_grad(flat):
            loss, gradient, _ = softmax_loss_grad(
                X, flat.reshape(components.shape), labels, targets, MLKR_OBJECTIVE
            )
            return loss, gradient.ravel()

        # The kernel runs one GEMM per chunk from each thread: BLAS is pinned to
        # one thread for the whole solve rather than once per evaluation.
        with parallel_section(n_threads, limit_blas=True):
            components, self.n_iter_, trace = lbfgs_minimize(
                loss_grad,
                components,
                max_iter=self.max_iter,
                tol=DEFAULT_TOL if self.tol is None else self.tol,
                estimator_name=type(self).__name__,
                verbose=self.verbose,
            )
        self.components_ = np.ascontiguousarray(components, dtype=np.float64)
        self.objective_ = np.asarray(trace, dtype=np.float64)
        if self.verbose:
            print(
                f"[{type(self).__name__}] training took "
                f"{time.perf_counter() - start:.2f}s"
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
