"""Large Margin Nearest Neighbour (LMNN) metric learning."""

import time
import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels._threads import (
    MIN_PARALLEL_WORK,
    parallel_section,
    resolve_n_threads,
    single_threaded_blas,
)
from ..distances import knn_search
from ._base import MahalanobisMixin
from ._kernels import _lmnn as _kl
from ._kernels._common import chunk_layout
from ._tuples import validate_points
from ._util import INIT_OPTIONS, check_classification_labels, starting_components

# Impostor candidates are searched within this factor of the margin radius
# sqrt(1 + largest target distance^2), so that a candidate set found at one L
# stays complete over the next iterations while L changes.
_CANDIDATE_SLACK = 1.15
# Iterations between two refreshes of the impostor candidates: the first
# round is short; a round that ends with a still complete candidate set
# doubles the next one, up to the cap.
_FIRST_ROUND = 16
_MAX_ROUND = 64
# Share of the samples whose impostor candidates the first neighbour search of
# a refresh is sized to find in full.
_SEARCH_QUANTILE = 0.95
# Most step halvings of the gradient descent solver in one iteration.
_MAX_HALVINGS = 60
# Most impostor candidates stored (about 130 bytes each at peak, with the
# search and the pair structures). When a refresh estimates more -- heavily
# overlapping classes, where nearly every other-class sample is a candidate --
# the objective is streamed over all pairs by row chunks instead, in bounded
# memory (lmnn_dense_chunks), until a later refresh finds few enough again. On
# 10,000 x 40 samples of 8 overlapping classes (8 million candidates) the
# stored set peaked at 1.1 GB and took 13 s to fit, the streamed objective
# 0.39 GB and 6 s.
_MAX_CANDIDATES = 2**22
# Rows sampled to estimate the number of candidates at a refresh.
_ESTIMATE_ROWS = 256
# Bytes allowed for the per-group accumulators of the streamed objective.
_DENSE_ACCUMULATOR_BYTES = 2**28
# Below this much work (pairs x components for the loss kernels, queries x
# index rows x components for a neighbour search) one thread is used: a
# parallel launch costs more than it saves on small problems, and on a busy
# machine a descheduled thread stalls the whole launch.


class LMNN(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Large Margin Nearest Neighbour metric learning.

    Read more in the :ref:`User Guide <lmnn>`.

    LMNN learns a linear map ``L`` under which every sample's ``n_neighbors``
    nearest same-class samples (its *target neighbours*) are close, while
    samples of other classes (*impostors*) are kept at least a unit margin
    farther away than the targets. It minimises, with squared embedded
    distances ``d_ab = ||L (x_a - x_b)||^2`` and ``mu = regularization``,

    .. math::

        \\mu \\sum_{i, j \\in T(i)} d_{ij}
        + (1 - \\mu) \\sum_{i, j \\in T(i)} \\sum_{l : y_l \\neq y_i}
        [1 + d_{ij} - d_{il}]_+

    where ``T(i)`` are the target neighbours of ``i``: its ``n_neighbors``
    nearest same-class samples under the Euclidean distance of the input
    space, chosen once before the optimisation (as metric-learn and the
    original paper do).

    Parameters
    ----------
    init : {"auto", "pca", "lda", "identity", "random", "covariance"} or \
            ndarray of shape (n_components, n_features), default="auto"
        Initial linear map, as :class:`NCA`'s ``init``.
        ``"auto"`` picks ``"lda"`` when ``n_components`` is at most
        ``min(n_features, n_classes - 1)``, otherwise ``"pca"`` when it is
        below ``min(n_features, n_samples)``, otherwise ``"identity"`` (so
        the identity with the default ``n_components=None``).
    n_neighbors : int, default=3
        Target neighbours per sample. Every class needs at least
        ``n_neighbors + 1`` samples.
    min_iter : int, default=50
        Fewest iterations before ``solver="gd"`` may stop. Not used by
        ``solver="lbfgs"``, which stops on its own criteria.
    max_iter : int, default=1000
        Most iterations, summed over the refreshes of the impostor set.
    learn_rate : float, default=1e-7
        Initial step size of ``solver="gd"``, which halves it after a step
        that raises the objective and multiplies it by 1.01 after one that
        lowers it. Not used by ``solver="lbfgs"``, whose line search sets the
        step.
    regularization : float, default=0.5
        ``mu`` in the objective: the weight of the pull term, ``1 - mu``
        being that of the push (hinge) term. This is the meaning the
        parameter has in metric-learn's implementation; the paper of
        Weinberger and Saul writes the same objective with ``mu`` on the push
        term, so their ``mu`` is ``1 - regularization`` here. 0.5 weighs the
        two equally.
    convergence_tol : float, default=1e-3
        Stop when an iteration lowers the objective by less than this. For
        ``solver="gd"`` the decrease is absolute, as in metric-learn. For
        ``solver="lbfgs"`` it is relative to the objective (the ``ftol`` of
        L-BFGS-B): the LMNN objective is a sum over all triples and grows with
        the number of samples, so an absolute threshold would mean a tighter
        fit on larger data. With L-BFGS, 1e-3 can stop above the objective
        that gradient descent reaches (940.8 against 937.3 on eight classes
        of 14 rows); 1e-5 goes below it at about twice the time on digits,
        and its 3-NN accuracy is no better (KEEL movement_libras, 17 rows per
        class in 90 features: 0.757 against 0.802, the closer fit overfits).
    verbose : bool or int, default=False
        Print the objective and the size of the impostor set as the fit
        progresses.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Turns index pairs into points for :meth:`pair_distance` and
        :meth:`pair_score`: an array whose rows the indices select, or a
        callable mapping a 1-D array of indices to rows. ``fit`` and
        ``transform`` take points.
    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when None.
    random_state : int, RandomState instance or None, default=None
        Seed of ``init="random"`` and ``init="pca"``.
    solver : {"lbfgs", "gd"}, default="lbfgs"
        ``"lbfgs"``: L-BFGS-B on ``L``. The objective is piecewise smooth (the
        hinge has kinks), which L-BFGS handles well in practice; it needs far
        fewer iterations than gradient descent and has no step size to tune.
        ``"gd"``: metric-learn's gradient descent with an adaptive step, using
        ``learn_rate`` and ``min_iter``.
    warm_start : bool, default=False
        Start from the ``components_`` of the previous fit, when its shape
        matches, instead of ``init``.
    n_jobs : int, default=None
        Threads for the neighbour searches and the loss kernels; None uses all
        the threads Numba is configured with, -1 as well.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L``.
    n_iter_ : int
        Iterations run.
    objective_ : ndarray of shape (`n_iter_` + 1,)
        The objective before the first and after every iteration (see Notes).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when they are all strings.
    preprocessor_ : None or callable
        The validated ``preprocessor``.

    See Also
    --------
    sklearn.neighbors.NeighborhoodComponentsAnalysis : A smooth, stochastic
        relative of LMNN's objective.

    Notes
    -----
    The hinge sum runs over all ``(i, j, l)`` triples, but only impostors
    within ``sqrt(1 + max_j d_ij)`` of a sample contribute. The solver keeps
    an *active set*: for every sample, the other-class samples within
    1.15 times that radius, found by :func:`~sklearn_metric.distances.knn_search`
    in the current embedding. The objective and gradient are computed over
    the active set by a Numba kernel that never stores the triples; the
    gradient is ``2 ((C X L')' X)`` with ``C`` the sparse Laplacian of the pair
    weights. The set is refreshed every 16 to 64 iterations (a refresh that
    finds impostors the set missed keeps the old candidates too), and the fit
    only ends once a refresh at the final ``L`` finds no margin violation
    outside the set the last iterations used, so the objective minimised at
    the end is the exact one. Between refreshes the solver sees the objective
    over the current set only; a refresh that finds missed impostors can
    therefore raise the recorded ``objective_``, which always holds exact
    values at refreshes.

    An iteration costs ``O(n_pairs * n_components + n_samples * n_features *
    n_components)`` with ``n_pairs`` the size of the active set; a refresh
    is an exact neighbour search, ``O(n_samples^2 * n_components)``. When
    the classes overlap so much that the set would exceed about 4 million
    pairs (a refresh estimates its size from 256 sampled rows), the objective
    is instead computed over every pair, streamed by chunks of rows: each
    iteration then costs ``O(n_samples^2 * n_components)`` but memory stays
    ``O(n_samples * n_components)`` plus the chunks, and a later refresh
    returns to the active set once it is small enough.

    References
    ----------
    .. [1] K. Q. Weinberger, J. Blitzer and L. K. Saul, "Distance Metric
       Learning for Large Margin Nearest Neighbor Classification", NIPS 2005.
    .. [2] K. Q. Weinberger and L. K. Saul, "Distance Metric Learning for
       Large Margin Nearest Neighbor Classification", JMLR 10, 2009.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.metric_learning import LMNN
    >>> X, y = load_iris(return_X_y=True)
    >>> lmnn = LMNN(n_neighbors=3).fit(X, y)
    >>> lmnn.components_.shape
    (4, 4)
    >>> model = make_pipeline(StandardScaler(), LMNN(), KNeighborsClassifier(3))
    >>> model.fit(X, y).score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "init": [StrOptions(INIT_OPTIONS), np.ndarray],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "min_iter": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learn_rate": [Interval(Real, 0, None, closed="neither")],
        "regularization": [Interval(Real, 0, 1, closed="both")],
        "convergence_tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "solver": [StrOptions({"lbfgs", "gd"})],
        "warm_start": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        init="auto",
        n_neighbors=3,
        min_iter=50,
        max_iter=1000,
        learn_rate=1e-7,
        regularization=0.5,
        convergence_tol=1e-3,
        verbose=False,
        preprocessor=None,
        n_components=None,
        random_state=None,
        *,
        solver="lbfgs",
        warm_start=False,
        n_jobs=None,
    ):
        self.init = init
        self.n_neighbors = n_neighbors
        self.min_iter = min_iter
        self.max_iter = max_iter
        self.learn_rate = learn_rate
        self.regularization = regularization
        self.convergence_tol = convergence_tol
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.n_components = n_components
        self.random_state = random_state
        self.solver = solver
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the linear map from labelled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels; every class needs ``n_neighbors + 1`` samples.

        Returns
        -------
        self : LMNN
            The fitted learner.
        """
        X, y = validate_points(self, X, y, reset=True)
        # The optimiser works in float64 whatever the input precision.
        X = np.asarray(X, dtype=np.float64)
        _, y = check_classification_labels(y, type(self).__name__)
        counts = np.bincount(y)
        if counts.min() < self.n_neighbors + 1:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} needs at least "
                f"{self.n_neighbors + 1} samples in every class (a sample is not "
                f"its own target neighbour); the smallest class has "
                f"{counts.min()}. Lower n_neighbors."
            )
        n_threads = resolve_n_threads(self.n_jobs)

        components = starting_components(self, X, y)

        # The products X L' of a small problem are too small for BLAS threads to
        # pay, and on a busy machine they stall every evaluation.
        small = X.size * components.shape[0] < MIN_PARALLEL_WORK
        with single_threaded_blas() if small else nullcontext():
            problem = _LMNNProblem(
                X,
                y,
                _target_neighbors(X, y, self.n_neighbors, n_threads),
                self.regularization,
                n_threads,
            )
            components, self.n_iter_, objective = self._solve(problem, components)
        self.components_ = components
        self.objective_ = np.asarray(objective, dtype=np.float64)
        return self

    def _solve(self, problem, components):
        """Rounds of the solver between refreshes of the impostor set."""
        start_time = time.perf_counter()
        problem.refresh(components)
        trace = [problem.loss_grad(components.ravel())[0]]
        n_iter, n_rounds, round_length = 0, 0, _FIRST_ROUND
        learn_rate = self.learn_rate
        converged = False
        # A round adds at least one iteration, or ends the fit, so the rounds are
        # bounded by max_iter; the extra allowance covers rounds that stop at
        # once on a fresh set.
        while n_iter < self.max_iter and n_rounds < self.max_iter + 10:
            n_rounds += 1
            budget = min(round_length, self.max_iter - n_iter)
            if self.solver == "lbfgs":
                components, steps, values, round_converged = self._lbfgs_round(
                    problem, components, budget
                )
            else:
                components, steps, values, round_converged, learn_rate = self._gd_round(
                    problem, components, budget, learn_rate, n_iter
                )
            n_iter += steps
            trace.extend(values)
            complete = problem.refresh(components)
            if not complete:
                # The last iterations missed impostors: the objective they
                # minimised was too small. Continue on the exact objective.
                trace[-1] = problem.loss_grad(components.ravel())[0]
            else:
                round_length = min(2 * round_length, _MAX_ROUND)
            if self.verbose:
                print(
                    f"[LMNN] iteration {n_iter:>5}: objective {trace[-1]:.6g}, "
                    f"active triples {problem.n_active}, impostor pairs "
                    f"{problem.n_candidates}"
                    f"{'' if complete else ' (new impostors found)'}, "
                    f"{time.perf_counter() - start_time:.2f}s"
                )
            if round_converged and complete:
                converged = True
                break
        if not converged:
            warnings.warn(
                f"LMNN did not converge in max_iter={self.max_iter} iterations; "
                "increase max_iter or convergence_tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return components, n_iter, trace

    def _lbfgs_round(self, problem, components, budget):
        shape = components.shape
        values = []

        def callback(intermediate_result):
            values.append(float(intermediate_result.fun))

        result = minimize(
            problem.loss_grad,
            components.ravel(),
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": budget, "ftol": self.convergence_tol, "gtol": 0.0},
        )
        # Any stop other than the iteration cap means L-BFGS can go no further
        # on this objective: the relative decrease fell below ftol, or the
        # line search found no lower point (at a kink of the hinge).
        round_converged = result.nit < budget or len(values) < budget
        return result.x.reshape(shape), len(values), values, round_converged

    def _gd_round(self, problem, components, budget, learn_rate, n_iter_before):
        shape = components.shape
        L = components.ravel()
        objective, gradient = problem.loss_grad(L)
        values = []
        for step in range(1, budget + 1):
            for _ in range(_MAX_HALVINGS):
                L_next = L - learn_rate * gradient
                objective_next, gradient_next = problem.loss_grad(L_next)
                if objective_next <= objective:
                    break
                learn_rate /= 2.0
            else:
                # No step lowers the objective: L is a (nonsmooth) minimum.
                return L.reshape(shape), step - 1, values, True, learn_rate
            decrease = objective - objective_next
            L, objective, gradient = L_next, objective_next, gradient_next
            learn_rate *= 1.01
            values.append(objective)
            if n_iter_before + step > self.min_iter and decrease < self.convergence_tol:
                return L.reshape(shape), step, values, True, learn_rate
        return L.reshape(shape), budget, values, False, learn_rate

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _threads_for(n_threads, work):
    """Threads for a kernel launch of ``work`` operations (see MIN_PARALLEL_WORK)."""
    return n_threads if work >= MIN_PARALLEL_WORK else 1


def _target_neighbors(X, y, n_neighbors, n_threads):
    """The ``n_neighbors`` nearest same-class samples of every sample.

    One neighbour search for all classes: one column per class, set to ``b``
    for the samples of that class, puts samples of different classes ``2 b^2``
    farther apart than in ``X`` while leaving same-class distances exact; with
    ``2 b^2`` above the squared diameter of X, same-class samples come first.

    Returns
    -------
    targets : ndarray of shape (n_samples, n_neighbors), dtype=intp
        Row indices into ``X``.
    """
    centred = X - X.mean(axis=0)
    squared_radius = float(np.einsum("ij,ij->i", centred, centred).max())
    # (2 r)^2 bounds the squared diameter; 2 b^2 must exceed it.
    scale = np.sqrt(2.0 * squared_radius + 1.0)
    one_hot = np.zeros((X.shape[0], y.max() + 1))
    one_hot[np.arange(X.shape[0]), y] = scale
    extended = np.hstack([centred, one_hot])
    n_jobs = _threads_for(n_threads, X.shape[0] ** 2 * extended.shape[1])
    _, targets = knn_search(
        extended,
        extended,
        n_neighbors,
        metric="sqeuclidean",
        exclude_self=True,
        n_jobs=n_jobs,
    )
    return targets


class _LMNNProblem:
    """The LMNN objective over an active set of impostor candidates.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training samples, float64.
    y : ndarray of shape (n_samples,)
        Labels encoded as ``0 .. n_classes - 1``.
    targets : ndarray of shape (n_samples, n_neighbors)
        Target neighbours.
    regularization : float
        Weight of the pull term.
    n_threads : int
        Threads of the kernels and the neighbour searches.
    """

    def __init__(self, X, y, targets, regularization, n_threads):
        self.X = X
        self.y = y
        self.targets = targets
        self.pull_weight = float(regularization)
        self.push_weight = 1.0 - float(regularization)
        self.n_threads = n_threads
        self.one_hot = np.zeros((y.shape[0], y.max() + 1))
        self.one_hot[np.arange(y.shape[0]), y] = 1.0
        # Neighbours asked of the first search of a refresh; adapted to the
        # number of candidates found the time before.
        self._min_search = 2 * targets.shape[1] + 8
        self._n_search = self._min_search
        self.pair_codes = np.empty(0, dtype=np.int64)
        self.n_active = 0
        self.dense = False
        self.n_estimated = 0

    def _threads_for(self, work):
        return _threads_for(self.n_threads, work)

    @property
    def n_candidates(self):
        if self.dense:
            return self.n_estimated
        return self.pair_codes.shape[0]

    def _estimate_candidates(self, Z, radius):
        """Impostor candidates within ``radius``, extrapolated from a sample."""
        n_samples = Z.shape[0]
        n_rows = min(n_samples, _ESTIMATE_ROWS)
        rows = np.sort(
            np.random.default_rng(0).choice(n_samples, n_rows, replace=False)
        )
        sq_norms = np.einsum("ij,ij->i", Z, Z)
        sq = sq_norms[rows, None] + sq_norms[None, :] - 2.0 * (Z[rows] @ Z.T)
        inside = (sq < radius[rows, None]) & (self.y[rows, None] != self.y[None, :])
        return int(round(inside.sum() * n_samples / n_rows))

    def _dense_layout(self, n_components):
        """The softmax kernels' chunk layout, with fewer groups when their
        ``(n_samples, n_components)`` accumulators would pass the budget."""
        n_samples = self.X.shape[0]
        chunk_rows, n_groups = chunk_layout(n_samples)
        per_group = 8 * n_samples * (n_components + 1)
        return chunk_rows, max(1, min(n_groups, _DENSE_ACCUMULATOR_BYTES // per_group))

    def refresh(self, components):
        """Find the impostor candidates at ``components``.

        Returns
        -------
        complete : bool
            Whether every impostor violating the margin at ``components`` was
            already a candidate of the previous set, i.e. whether the
            objective over the previous set was exact at ``components``.
        """
        X, targets = self.X, self.targets
        n_samples, n_neighbors = targets.shape
        Z = X @ components.T
        farthest = np.zeros(n_samples)
        for t in range(n_neighbors):
            diff = Z - Z[targets[:, t]]
            farthest = np.maximum(farthest, np.einsum("ij,ij->i", diff, diff))
        margin = farthest + 1.0
        radius = margin * _CANDIDATE_SLACK**2

        was_dense = self.dense
        estimate = self._estimate_candidates(Z, radius)
        if estimate > _MAX_CANDIDATES:
            # Too many to store: every pair is streamed at each evaluation,
            # so the objective is exact whatever L does next.
            self.dense = True
            self.n_estimated = estimate
            self.pair_codes = np.empty(0, dtype=np.int64)
            self.indptr = self.indices = None
            self.t_indptr = self.t_indices = self.t_order = None
            return True
        self.dense = False

        rows_of, cols_of, sq_of = self._impostor_search(Z, radius)
        violating = sq_of < margin[rows_of]
        violators = rows_of[violating].astype(np.int64) * n_samples + cols_of[violating]
        # After streamed evaluations, the objective the solver used was exact.
        complete = was_dense or bool(
            np.isin(violators, self.pair_codes, assume_unique=True).all()
        )

        codes = rows_of.astype(np.int64) * n_samples + cols_of
        if not complete:
            # L moved farther than the slack allowed for: keep the previous
            # candidates as well, so that the next rounds see both.
            codes = np.union1d(codes, self.pair_codes)
        else:
            codes = np.sort(codes)
        self.pair_codes = codes
        rows_of, cols_of = np.divmod(codes, n_samples)

        n_per_row = np.bincount(rows_of, minlength=n_samples) + n_neighbors
        indptr = np.zeros(n_samples + 1, dtype=np.intp)
        np.cumsum(n_per_row, out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=np.intp)
        target_slots = indptr[:-1, None] + np.arange(n_neighbors)
        indices[target_slots.ravel()] = targets.ravel()
        candidate_mask = np.ones(indptr[-1], dtype=bool)
        candidate_mask[target_slots.ravel()] = False
        indices[candidate_mask] = cols_of
        self.indptr, self.indices = indptr, indices
        # The transpose of the pair structure, for the row-parallel gradient.
        self.t_order = np.argsort(indices, kind="stable").astype(np.intp)
        pair_rows = np.repeat(np.arange(n_samples, dtype=np.intp), n_per_row)
        self.t_indices = pair_rows[self.t_order]
        self.t_indptr = np.zeros(n_samples + 1, dtype=np.intp)
        np.cumsum(np.bincount(indices, minlength=n_samples), out=self.t_indptr[1:])
        return complete

    def _impostor_search(self, Z, radius):
        """Other-class samples within ``radius`` (squared) of every sample.

        A single neighbour search serves all classes: the embedding is
        extended by one column per class, ``+b`` in the column of the sample's
        class for the queries and ``-b`` for the searched rows. Two samples of
        different classes then lie ``2 b^2`` farther apart than in ``Z`` and
        two of the same class (or a sample and itself) ``4 b^2``; with ``b^2``
        above every radius, all other-class samples within the radius come
        before any same-class one. The search has room for most samples; the
        few whose farthest neighbour found is still inside the radius (samples
        with far target neighbours) are searched again with more neighbours.

        Returns
        -------
        rows, cols : ndarray of intp
            The pairs ``(i, l)`` within the radius, ``y[i] != y[l]``.
        sq : ndarray of float64
            Their squared distances in ``Z``.
        """
        n_samples = Z.shape[0]
        offset = max(float(radius.max()), 1.0)
        scale = np.sqrt(offset)
        queries = np.hstack([Z, scale * self.one_hot])
        index = np.hstack([Z, -scale * self.one_hot])
        n_columns = queries.shape[1]
        pending = np.arange(n_samples)
        n_search = int(min(n_samples, self._n_search))
        rows_of, cols_of, sq_of, counts = [], [], [], np.zeros(n_samples, np.intp)
        while pending.size:
            sq, neighbors = knn_search(
                queries[pending],
                index,
                n_search,
                metric="sqeuclidean",
                n_jobs=self._threads_for(pending.size * n_samples * n_columns),
            )
            sq -= 2.0 * offset
            inside = sq < radius[pending, None]
            # A query is done when its farthest neighbour found lies outside
            # the radius or every sample has been searched.
            done = ~inside[:, -1] | (n_search == n_samples)
            n_inside = inside[done].sum(axis=1)
            counts[pending[done]] = n_inside
            rows_of.append(np.repeat(pending[done], n_inside))
            cols_of.append(neighbors[done][inside[done]])
            sq_of.append(sq[done][inside[done]])
            pending = pending[~done]
            n_search = min(n_samples, 4 * n_search)
        # Next time, leave room for most samples, all but the few with the most
        # candidates, which the repeated searches handle.
        self._n_search = max(
            self._min_search, int(1.25 * np.quantile(counts, _SEARCH_QUANTILE)) + 1
        )
        return (np.concatenate(rows_of), np.concatenate(cols_of), np.concatenate(sq_of))

    def loss_grad(self, flat_components):
        """Objective and gradient at a flattened ``L`` over the active set."""
        X = self.X
        n_features = X.shape[1]
        components = flat_components.reshape(-1, n_features)
        Z = X @ components.T
        if self.dense:
            return self._dense_loss_grad(Z)
        weights = np.empty(self.indices.shape[0])
        losses = np.empty(X.shape[0])
        n_active = np.empty(X.shape[0], dtype=np.int64)
        out = np.empty_like(Z)
        with parallel_section(self._threads_for(weights.shape[0] * Z.shape[1])):
            _kl.pair_weights(
                Z,
                self.indptr,
                self.indices,
                self.targets.shape[1],
                self.pull_weight,
                self.push_weight,
                weights,
                losses,
                n_active,
            )
            _kl.embedded_gradient(
                Z,
                self.indptr,
                self.indices,
                weights,
                self.t_indptr,
                self.t_indices,
                self.t_order,
                out,
            )
        self.n_active = int(n_active.sum())
        gradient = 2.0 * (out.T @ X)
        return float(losses.sum()), gradient.ravel()

    def _dense_loss_grad(self, Z):
        """Objective and gradient over every pair, streamed by row chunks."""
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        n_samples, n_components = Z.shape
        chunk_rows, n_groups = self._dense_layout(n_components)
        n_threads = self._threads_for(n_samples * n_samples * n_components)
        with parallel_section(n_threads, limit_blas=True):
            losses, n_active, out = _kl.lmnn_dense_chunks(
                Z,
                self.y,
                self.targets,
                self.pull_weight,
                self.push_weight,
                chunk_rows,
                n_groups,
            )
        self.n_active = int(n_active.sum())
        gradient = 2.0 * (out.T @ self.X)
        return float(losses.sum()), gradient.ravel()
