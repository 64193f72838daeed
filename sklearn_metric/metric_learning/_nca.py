"""Neighbourhood Components Analysis (NCA)."""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels._threads import parallel_section, resolve_n_threads
from ._base import MahalanobisMixin
from ._kernels._softmax import NCA_OBJECTIVE, softmax_loss_grad
from ._tuples import validate_points
from ._util import (
    INIT_OPTIONS,
    check_classification_labels,
    lbfgs_minimize,
    starting_components,
)

#: Gradient tolerance used when ``tol=None``: scipy's L-BFGS-B default, which
#: is also what metric-learn's ``tol=None`` amounts to.
DEFAULT_TOL = 1e-5


class NCA(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Neighbourhood Components Analysis.

    Read more in the :ref:`User Guide <nca>`.

    NCA learns a linear map ``L`` that maximises the expected leave-one-out
    accuracy of a stochastic nearest-neighbour rule in the embedded space:
    each sample ``x_i`` picks a neighbour ``x_j`` with probability
    ``p_ij`` proportional to ``exp(-||L x_i - L x_j||^2)``, and the objective is
    ``sum_i p_i``, where ``p_i`` is the probability that the pick has the class
    of ``x_i``. It is solved with L-BFGS-B. The objective is the one of
    :class:`sklearn.neighbors.NeighborhoodComponentsAnalysis` and of
    metric-learn's ``NCA``.

    Objective and gradient are computed together by a parallel Numba kernel
    over row chunks, in ``O(n_samples^2 (n_components + n_features))`` time per
    iteration and ``O(chunk * n_samples)`` memory: no ``(n_samples,
    n_samples)`` matrix is formed.

    Parameters
    ----------
    init : {"auto", "pca", "lda", "identity", "random", "covariance"} or \
ndarray of shape (n_components, n_features), default="auto"
        Initial linear map.

        - ``"auto"``: ``"lda"`` if ``n_components <= min(n_features,
          n_classes - 1)``, else ``"pca"`` if ``n_components < min(n_features,
          n_samples)``, else ``"identity"`` (scikit-learn's rule).
        - ``"pca"``: the leading principal axes.
        - ``"lda"``: the leading discriminant directions.
        - ``"identity"``: the first ``n_components`` rows of the identity.
        - ``"random"``: standard normal entries (seeded by ``random_state``).
        - ``"covariance"``: the whitening map of the data.
        - an array: used as given.

    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when ``None``.

    max_iter : int, default=100
        Most L-BFGS-B iterations.

    tol : float, default=None
        Tolerance on the projected gradient (``gtol`` of L-BFGS-B). ``None``
        means ``1e-5``, scipy's default, which is what metric-learn's
        ``tol=None`` gave. The relative-decrease test of L-BFGS-B keeps
        scipy's default ``ftol``.

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

    callback : callable, default=None
        Called as ``callback(components, n_iter)`` after every iteration, with
        the current map of shape ``(n_components, n_features)``.

    n_jobs : int, default=None
        Numba threads for the objective kernel. ``None`` uses all configured
        threads, ``-1`` as well, a positive integer that many.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L``.

    n_iter_ : int
        Number of L-BFGS-B iterations run, over all the restarts after a
        stall (see the metric-learning user guide).

    objective_ : ndarray of shape (n_iterations + 1,)
        The minimised objective, ``-sum_i p_i`` (the negated expected number
        of correctly classified training samples), at the start and after
        every iteration; ``n_iterations`` is ``n_iter_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    MLKR : The same softmax neighbourhood for real-valued targets.
    sklearn.neighbors.NeighborhoodComponentsAnalysis : scikit-learn's NCA,
        which forms the full ``(n_samples, n_samples)`` matrices.

    Notes
    -----
    ``fit`` computes in float64, as the finite-difference accuracy L-BFGS-B
    relies on needs it; ``transform`` keeps float32 input as float32.

    References
    ----------
    .. [1] J. Goldberger, G. Hinton, S. Roweis and R. Salakhutdinov,
       "Neighbourhood Components Analysis", Advances in Neural Information
       Processing Systems 17, pp. 513-520, 2005.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn_metric.metric_learning import NCA
    >>> X, y = load_iris(return_X_y=True)
    >>> nca = NCA(max_iter=30).fit(X, y)
    >>> nca.components_.shape
    (4, 4)
    >>> knn = KNeighborsClassifier(n_neighbors=3).fit(nca.transform(X), y)
    >>> bool(knn.score(nca.transform(X), y) > 0.95)
    True
    """

    _parameter_constraints: dict = {
        "init": [StrOptions(INIT_OPTIONS), np.ndarray],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "callback": [callable, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        init="auto",
        n_components=None,
        max_iter=100,
        tol=None,
        verbose=False,
        preprocessor=None,
        *,
        random_state=None,
        warm_start=False,
        callback=None,
        n_jobs=None,
    ):
        self.init = init
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.warm_start = warm_start
        self.callback = callback
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the linear map from labelled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : NCA
            The fitted estimator.
        """
        start = time.perf_counter()
        X, y = validate_points(
            self, X, y, reset=True, ensure_min_samples=2, dtype=np.float64, order="C"
        )
        _, labels = check_classification_labels(y, type(self).__name__)
        labels = labels.astype(np.int64)
        n_threads = resolve_n_threads(self.n_jobs)

        components = starting_components(self, X, labels)
        targets = np.zeros(X.shape[0])

        def loss_grad(flat):
            loss, gradient, _ = softmax_loss_grad(
                X, flat.reshape(components.shape), labels, targets, NCA_OBJECTIVE
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
                callback=self.callback,
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
