"""Sparse Compositional Metric Learning (SCML) from triplets."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array
from threadpoolctl import threadpool_limits

from .._kernels._threads import parallel_section, threads_for_work
from ..distances import knn_search
from ..utils._params import store_params
from ._base import MahalanobisMixin, TripletsClassifierMixin
from ._kernels._scml import (
    centre_neighbourhoods,
    scml_dual_averaging,
    scml_hinge,
)
from ._supervised import SupervisedMixin
from ._util import components_from_metric

# Ridge added to each local within-class scatter after its shrinkage,
# relative to its mean variance: it only keeps the Cholesky factorisation
# defined when the shrinkage is zero and a feature is constant (pixels that
# never light up).
_LDA_RIDGE = 1e-3
# Bytes of the centred neighbourhoods held at once while building LDA bases.
_LDA_CHUNK_BYTES = 32 * 2**20
# Evaluations without a relative improvement of tol after which SCML stops.
_PATIENCE = 5


#: Rounds in a row that find no direction before basis="triplet_diffs" gives up.
_MAX_EMPTY_ROUNDS = 1000


class SCML(MahalanobisMixin, TripletsClassifierMixin, BaseEstimator):
    """Sparse Compositional Metric Learning (SCML).

    Read more in the :ref:`User Guide <scml>`.

    SCML learns a Mahalanobis matrix as a sparse non-negative combination of
    rank-one matrices built from a set of bases ``b_k``:
    ``M = sum_k w_k b_k b_k'``. Given triplets ``(i, j, l)`` stating that
    ``j`` is closer to ``i`` than ``l`` is, it minimises

    .. math::

        \\frac{1}{|T|} \\sum_{(i, j, l) \\in T}
        \\left[1 + d_M(x_i, x_j) - d_M(x_i, x_l)\\right]_+
        + \\beta \\|w\\|_1, \\quad w \\ge 0,

    with squared distances ``d_M(x, y) = (x - y)' M (x - y)``, which are
    linear in ``w``. Only ``n_basis`` weights are learned, so a fit is cheap
    even with many features. The solver is stochastic regularised dual
    averaging with AdaGrad steps (the scheme of Shi et al.): each iteration
    draws ``batch_size`` triplets, and the L1 term sets most weights exactly
    to zero. Every ``output_iter`` iterations the full objective is evaluated,
    and the best weights seen are kept.

    Parameters
    ----------
    beta : float, default=1e-5
        Strength of the L1 regularisation of the weights.
    basis : "triplet_diffs" or array-like of shape (n_basis, n_features), \
            default="triplet_diffs"
        The bases:

        - ``"triplet_diffs"``: repeatedly draw ``n_features`` triplets, form
          ``D = sum (x_i - x_j)(x_i - x_j)' - (x_i - x_l)(x_i - x_l)'`` and
          take its eigenvectors of non-zero eigenvalue, until ``n_basis``
          bases are collected. Needs at least ``n_features`` triplets.
        - an array: the bases, one per row.
    n_basis : int, default=None
        Number of bases to build; ``None`` means ``80 * n_features`` for
        ``"triplet_diffs"``. Ignored for an array ``basis``.
    gamma : float, default=1.0
        Inverse step scale of the solver: larger values take smaller steps.
        metric-learn's default is 5e-3, whose steps overshoot so far that on
        four of eight sets tried no iterate of the ``max_iter`` beats
        ``w = 0`` (k-NN triplets of breast_cancer: best objective 2.26 on
        average over three splits, where ``w = 0`` scores 1; 0.025 with
        1.0). See the user guide.
    max_iter : int, default=10000
        Number of stochastic iterations.
    output_iter : int, default=500
        Evaluate the full objective (and print it when ``verbose``) every
        ``output_iter`` iterations, and after the last one. Must not exceed
        ``max_iter``.
    batch_size : int, default=10
        Triplets drawn per iteration.
    verbose : bool, default=False
        Print the objective at every evaluation.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Turns 2-D triplets of indices into points: an array whose rows are
        indexed, or a callable mapping indices to rows. ``None`` means the
        triplets are given as points.
    random_state : int, RandomState instance or None, default=None
        Seed of the basis construction and of the batches.
    tol : float, default=None
        Stopping tolerance. ``None`` runs all ``max_iter`` iterations, as the
        original method does. A number stops the solver once the best
        objective of the last 5 evaluations is not ``tol`` (relatively) below
        the best one before them; a :class:`~sklearn.exceptions.ConvergenceWarning`
        is issued if that does not happen within ``max_iter`` iterations. The
        stochastic objective keeps decreasing slowly for tens of thousands of
        iterations, so ``1e-2`` or more is a sensible value.
    n_jobs : int, default=None
        Threads of the objective evaluation; ``None`` means all.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L`` with ``L'L = M``. When fewer bases than
        features get a non-zero weight, ``n_components`` is their number and
        the rows are ``sqrt(w_k) b_k``; otherwise ``n_components`` is
        ``n_features``.
        If no basis gets a weight (``beta`` too large), a single zero row,
        with a warning.
    basis_ : ndarray of shape (n_basis, n_features)
        The bases used.
    weights_ : ndarray of shape (n_basis,)
        The learned non-negative weights of the bases (the best seen).
    n_iter_ : int
        Number of stochastic iterations run (``max_iter`` unless ``tol``
        stopped the solver earlier).
    objective_ : ndarray of shape (n_evaluations + 1,)
        The objective at every evaluation, the starting value (1, at
        ``w = 0``) first.
    n_features_in_ : int
        Number of features of the points.
    preprocessor_ : callable or None
        The validated ``preprocessor``.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``, the labels of wrongly and correctly ordered triplets.

    See Also
    --------
    SCML_Supervised : SCML on triplets of nearest neighbours from labels.
    LSML : Metric learning from quadruplets.

    References
    ----------
    .. [1] Y. Shi, A. Bellet and F. Sha, "Sparse Compositional Metric
       Learning", AAAI 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import SCML
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(60, 2)) * [1.0, 5.0]
    >>> # Triplets from a first feature that matters and a second that does not.
    >>> a, p, n = rng.randint(60, size=(3, 300))
    >>> swap = np.abs(X[a, 0] - X[p, 0]) > np.abs(X[a, 0] - X[n, 0])
    >>> p[swap], n[swap] = n[swap], p[swap]
    >>> triplets = np.column_stack((a, p, n))
    >>> scml = SCML(n_basis=20, max_iter=2000, preprocessor=X, random_state=0)
    >>> scml = scml.fit(triplets)
    >>> bool(scml.score(triplets) > 0.85)
    True
    >>> M = scml.get_mahalanobis_matrix()
    >>> bool(M[0, 0] > 10 * M[1, 1])
    True
    """

    _parameter_constraints: dict = {
        "beta": [Interval(Real, 0, None, closed="left")],
        "basis": [StrOptions({"triplet_diffs"}), "array-like"],
        "n_basis": [Interval(Integral, 1, None, closed="left"), None],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "output_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "preprocessor": ["array-like", callable, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        beta=1e-5,
        basis="triplet_diffs",
        n_basis=None,
        gamma=1.0,
        max_iter=10000,
        output_iter=500,
        batch_size=10,
        verbose=False,
        preprocessor=None,
        random_state=None,
        *,
        tol=None,
        n_jobs=None,
    ):
        self.beta = beta
        self.basis = basis
        self.n_basis = n_basis
        self.gamma = gamma
        self.max_iter = max_iter
        self.output_iter = output_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.tol = tol
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, triplets):
        """Learn the metric from triplets ``(i, j, l)`` with ``d(i, j) < d(i, l)``.

        Parameters
        ----------
        triplets : array-like of shape (n_triplets, 3, n_features) or \
                (n_triplets, 3)
            The triplets as points, or as indices into ``preprocessor``. The
            second point of each must be closer to the first than the third.

        Returns
        -------
        self : object
            The fitted learner.
        """
        _check_output_iter(self)
        triplets = self._validate_tuples(triplets, reset=True)
        X, indices = triplets
        random_state = check_random_state(self.random_state)
        if isinstance(self.basis, str):  # "triplet_diffs"
            basis = _triplet_diff_basis(X, indices, self.n_basis, random_state)
        else:
            basis = _check_basis_array(self.basis, X.shape[1])
        self._store(_fit_scml(self, X, indices, basis, random_state))
        return self

    def _store(self, result):
        """Set the fitted attributes from :func:`_fit_scml`'s result."""
        (
            self.basis_,
            self.weights_,
            self.components_,
            self.n_iter_,
            self.objective_,
        ) = result


class SCML_Supervised(
    SupervisedMixin,
    MahalanobisMixin,
    TransformerMixin,
    BaseEstimator,
    twin=SCML,
    kind="triplets",
):
    """SCML on triplets of nearest neighbours drawn from class labels.

    Read more in the :ref:`User Guide <scml>`.

    Every point forms a triplet with each of its ``k_genuine`` nearest
    same-class neighbours and each of its ``k_impostor`` nearest other-class
    neighbours (see :func:`generate_knntriplets`); :class:`SCML` then learns a
    sparse combination of bases that keeps the genuine neighbours closer. The
    triplets are index arrays into ``X``, never arrays of points.

    Parameters
    ----------
    k_genuine : int, default=3
        Same-class neighbours per point.
    k_impostor : int, default=10
        Other-class neighbours per point.
    beta : float, default=1e-5
        Strength of the L1 regularisation of the weights.
    basis : {"lda", "triplet_diffs"} or array-like of shape \
            (n_basis, n_features), default="lda"
        The bases:

        - ``"lda"``: local discriminant directions. The data are clustered
          with k-means into ``ceil(n_basis / (2 * n_eig))`` clusters, with
          ``n_eig = min(n_classes - 1, n_features)``; around each centre, its
          nearest points of every class (10 and 20 per class, or 20 and 50
          when there are more than 50 features) form two neighbourhoods, and
          the ``n_eig`` LDA directions of each distinct neighbourhood,
          normalised, are bases. The within-class scatter of a neighbourhood
          has its correlations shrunk by the Ledoit-Wolf rule and a ridge of
          ``1e-3`` times its mean variance, so few rows or constant features
          cannot make it singular (see the user guide).
        - ``"triplet_diffs"``: as in :class:`SCML`, on the generated triplets.
        - an array: the bases, one per row.
    n_basis : int, default=None
        Number of bases to build; ``None`` means
        ``min(20 * n_features, 2 * n_samples * n_eig - 1)`` for ``"lda"`` and
        ``80 * n_features`` for ``"triplet_diffs"``.
    gamma : float, default=1.0
        Inverse step scale of the solver: larger values take smaller steps.
        metric-learn's default is 5e-3, which overshoots (3-NN 0.602 on KEEL's
        movement_libras, 0.807 with 1.0). On each of the 15 datasets of the
        ``robustness`` benchmark, 1.0 reaches a lower objective in
        ``max_iter`` iterations than 0.05 (digits: 0.029 against 0.25);
        values up to 10 lower it a little more (digits 0.019), with 3-NN
        accuracies that move within the noise of the split.
    max_iter : int, default=10000
        Number of stochastic iterations.
    output_iter : int, default=500
        Evaluate the full objective every ``output_iter`` iterations and after
        the last one; at most ``max_iter``.
    batch_size : int, default=10
        Triplets drawn per iteration.
    verbose : bool, default=False
        Print the objective at every evaluation.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Lets :meth:`pair_distance` and :meth:`pair_score` take pairs of
        indices into it; ``fit`` and ``transform`` take points.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means clustering, the basis draws and the batches.
    tol : float, default=None
        Stopping tolerance; see :class:`SCML`. ``None`` runs all ``max_iter``
        iterations.
    n_jobs : int, default=None
        Threads of the neighbour searches and the objective evaluation;
        ``None`` means all.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L``; see :class:`SCML`.
    basis_ : ndarray of shape (n_basis, n_features)
        The bases used.
    weights_ : ndarray of shape (n_basis,)
        The learned non-negative weights of the bases.
    n_iter_ : int
        Number of stochastic iterations run.
    objective_ : ndarray of shape (n_evaluations + 1,)
        The objective at every evaluation, the starting value first.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when they are all strings.
    preprocessor_ : callable or None
        The validated ``preprocessor``.

    See Also
    --------
    SCML : The learner on given triplets.
    LSML_Supervised : Metric learning from quadruplets drawn from labels.

    References
    ----------
    .. [1] Y. Shi, A. Bellet and F. Sha, "Sparse Compositional Metric
       Learning", AAAI 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import SCML_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> scml = SCML_Supervised(random_state=0).fit(X, y)
    >>> scml.transform(X).shape[0]
    150
    """

    _store = SCML._store
    _parameter_constraints: dict = {
        "k_genuine": [Interval(Integral, 1, None, closed="left")],
        "k_impostor": [Interval(Integral, 1, None, closed="left")],
        "basis": [StrOptions({"lda", "triplet_diffs"}), "array-like"],
    }

    def __init__(
        self,
        k_genuine=3,
        k_impostor=10,
        beta=1e-5,
        basis="lda",
        n_basis=None,
        gamma=1.0,
        max_iter=10000,
        output_iter=500,
        batch_size=10,
        verbose=False,
        preprocessor=None,
        random_state=None,
        *,
        tol=None,
        n_jobs=None,
    ):
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build triplets from the labels and learn the metric.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Training data, or indicators into ``preprocessor``.
        y : array-like of shape (n_samples,)
            Class labels; a negative integer marks an unknown class.

        Returns
        -------
        self : object
            The fitted learner.
        """
        _check_output_iter(self)
        return self._fit_supervised(X, y)

    def _fit_constraints(self, X, constraints, random_state):
        triplets, labels = constraints
        if isinstance(self.basis, str) and self.basis == "lda":
            known = labels >= 0
            basis = _lda_basis(
                X[known], labels[known], self.n_basis, random_state, self.n_jobs
            )
        elif isinstance(self.basis, str):  # "triplet_diffs"
            basis = _triplet_diff_basis(X, triplets, self.n_basis, random_state)
        else:
            basis = _check_basis_array(self.basis, X.shape[1])
        self._store(_fit_scml(self, X, triplets, basis, random_state))


def _check_output_iter(estimator):
    if estimator.output_iter > estimator.max_iter:
        raise ValueError(
            f"output_iter={estimator.output_iter} must be at most "
            f"max_iter={estimator.max_iter}."
        )


def _check_basis_array(basis, n_features):
    """Validate an array ``basis`` of shape (n_basis, n_features)."""
    basis = check_array(basis, dtype=np.float64, input_name="basis")
    if basis.shape[1] != n_features:
        raise ValueError(
            f"The bases must have {n_features} features, like the data; basis has "
            f"shape {basis.shape}."
        )
    return basis


def _triplet_diff_basis(X, triplets, n_basis, random_state):
    """Bases from eigenvectors of sums of triplet difference outer products.

    Each round draws ``n_features`` distinct triplets ``(i, j, l)`` and takes
    the eigenvectors of non-zero eigenvalue (largest in magnitude first) of
    ``sum (x_i - x_j)(x_i - x_j)' - (x_i - x_l)(x_i - x_l)'``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Points.
    triplets : ndarray of shape (n_triplets, 3)
        Row indices.
    n_basis : int or None
        Number of bases; ``None`` means ``80 * n_features``.
    random_state : RandomState
        Generator of the draws.

    Returns
    -------
    basis : ndarray of shape (n_basis, n_features)
    """
    n_features = X.shape[1]
    n_triplets = triplets.shape[0]
    if n_basis is None:
        n_basis = 80 * n_features
    if n_triplets < n_features:
        raise ValueError(
            f"basis='triplet_diffs' draws n_features={n_features} triplets at a "
            f"time but only {n_triplets} triplets were given; give more triplets, "
            "reduce the dimension, or pass the bases as an array."
        )
    X = np.asarray(X, dtype=np.float64)
    bases, n_found = [], 0
    n_rounds = math.ceil(n_basis / n_features)
    # Draw until n_basis directions are found, as metric-learn does. Only
    # triplets that give no direction at all (every genuine and impostor
    # difference of the same length) stop it: the first draw finds nothing,
    # or many draws in a row do.
    n_empty = 0
    while True:
        n_before = n_found
        chosen = np.stack(
            [
                random_state.choice(n_triplets, size=n_features, replace=False)
                for _ in range(n_rounds)
            ]
        )
        rows = triplets[chosen]  # (n_rounds, n_features, 3)
        genuine = X[rows[..., 0]] - X[rows[..., 1]]
        impostor = X[rows[..., 0]] - X[rows[..., 2]]
        scatter = np.matmul(genuine.transpose(0, 2, 1), genuine) - np.matmul(
            impostor.transpose(0, 2, 1), impostor
        )
        eigenvalues, eigenvectors = np.linalg.eigh(scatter)
        for values, vectors in zip(eigenvalues, eigenvectors):
            magnitude = np.abs(values)
            order = np.argsort(magnitude)[::-1]
            order = order[magnitude[order] > 1e-8 * max(magnitude.max(), 1e-300)]
            bases.append(vectors[:, order].T)
            n_found += order.shape[0]
        if n_found >= n_basis:
            return np.ascontiguousarray(np.concatenate(bases)[:n_basis])
        n_empty = n_empty + n_rounds if n_found == n_before else 0
        if n_found == 0 or n_empty >= _MAX_EMPTY_ROUNDS:
            break
        # Degenerate triplets give few directions per round: draw more rounds.
        n_rounds = math.ceil((n_basis - n_found) / max(n_found / n_rounds, 1.0))
    raise ValueError(
        f"The triplets span too few directions to build n_basis={n_basis} bases "
        f"with basis='triplet_diffs' (found {n_found}); lower n_basis or pass the "
        "bases as an array."
    )


def _lda_basis(X, y, n_basis, random_state, n_jobs):
    """Local discriminant bases around k-means centres, at two scales.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training data.
    y : ndarray of shape (n_samples,)
        Labels encoded as ``0 .. n_classes - 1``.
    n_basis : int or None
        Number of bases; see :class:`SCML_Supervised`.
    random_state : RandomState
        Seed of k-means.
    n_jobs : int or None
        Threads of the neighbour searches and kernels.

    Returns
    -------
    basis : ndarray of shape (n_basis, n_features)
        Unit-norm bases.
    """
    n_samples, n_features = X.shape
    class_counts = np.bincount(y)
    n_classes = class_counts.shape[0]
    n_eig = min(n_classes - 1, n_features)
    max_basis = 2 * n_samples * n_eig
    if n_basis is None:
        n_basis = min(20 * n_features, max_basis - 1)
    elif n_basis >= max_basis:
        raise ValueError(
            f"basis='lda' yields at most 2 * n_samples * min(n_classes - 1, "
            f"n_features) - 1 = {max_basis - 1} bases here; got n_basis={n_basis}."
        )
    if n_basis < n_classes:
        warnings.warn(
            f"n_basis={n_basis} is smaller than the number of classes "
            f"({n_classes}); the metric may discriminate poorly.",
            UserWarning,
            stacklevel=3,
        )
    n_clusters = math.ceil(n_basis / (2 * n_eig))
    # One k-means run (metric-learn runs ten): the centres only anchor the
    # neighbourhoods, so a better clustering objective buys little. A small
    # clustering runs on one thread: OpenMP barriers cost more than they save.
    n_threads = threads_for_work(n_samples * n_clusters * n_features // 16, n_jobs)
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        centres = (
            KMeans(n_clusters=n_clusters, n_init=1, random_state=random_state)
            .fit(X)
            .cluster_centers_.astype(X.dtype, copy=False)
        )

    scales = (20, 50) if n_features > 50 else (10, 20)
    per_class = np.minimum(class_counts[None, :], np.array(scales)[:, None])
    neighbours = []
    for label in range(n_classes):
        members = np.flatnonzero(y == label)
        _, nearest = knn_search(
            centres, X[members], int(per_class[-1, label]), n_jobs=n_jobs
        )
        neighbours.append(members[nearest])

    blocks = []
    for scale in range(len(scales)):
        counts = per_class[scale]
        if scale > 0 and np.array_equal(counts, per_class[scale - 1]):
            # Every class is smaller than both scales: the same neighbourhoods.
            continue
        neighbourhoods = np.ascontiguousarray(
            np.concatenate(
                [near[:, :count] for near, count in zip(neighbours, counts)], axis=1
            ),
            dtype=np.intp,
        )
        class_starts = np.concatenate(([0], np.cumsum(counts))).astype(np.intp)
        neighbourhoods = _distinct_neighbourhoods(neighbourhoods, class_starts)
        n_members = neighbourhoods.shape[1]
        chunk = max(1, _LDA_CHUNK_BYTES // (8 * n_members * n_features))
        for start in range(0, n_clusters, chunk):
            sets = neighbourhoods[start : start + chunk]
            centred = np.empty((sets.shape[0], n_members, n_features))
            between = np.empty((sets.shape[0], n_features, n_classes))
            n_threads = threads_for_work(centred.size, n_jobs)
            # The scatter matrices and their factorisations are many small
            # LAPACK/BLAS calls, each faster on one BLAS thread.
            with parallel_section(n_threads, limit_blas=True):
                centre_neighbourhoods(X, sets, class_starts, centred, between)
                blocks.append(_discriminant_directions(centred, between, n_eig))
    return np.ascontiguousarray(np.concatenate(blocks)[:n_basis])


def _distinct_neighbourhoods(neighbourhoods, class_starts):
    """The distinct rows of ``neighbourhoods``, as sets, in first-seen order.

    Centres whose neighbourhoods hold the same points give the same LDA
    directions. That happens whenever a class has fewer rows than the
    scale, and on small data every neighbourhood is the whole training set.
    Repeated bases do not enlarge the family of metrics, but they multiply
    the step that dual averaging takes along their direction, by as many
    times as it is repeated. On movement_libras (15 classes of 17 rows) the
    1800 default bases were 14 directions repeated about 130 times each, and
    the first steps overshot so far that no iterate beat ``w = 0``.
    """
    keys = neighbourhoods.copy()
    for start, stop in zip(class_starts[:-1], class_starts[1:]):
        keys[:, start:stop] = np.sort(keys[:, start:stop], axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return np.ascontiguousarray(neighbourhoods[np.sort(first)])


def ledoit_wolf_shrinkage(centred, scatter):
    """Ledoit-Wolf shrinkage intensity of a stack of centred samples.

    For samples ``x_k`` (rows of ``centred[s]``, already centred) with
    empirical covariance ``S = X'X / n`` and ``mu = trace(S) / p``, the
    intensity ``alpha`` of the estimate ``(1 - alpha) S + alpha mu I`` that
    minimises the expected Frobenius loss (Ledoit and Wolf, 2004) is
    ``min(b, d) / d`` with ``d = ||S - mu I||_F^2 / p`` and
    ``b = (sum_k ||x_k||^4 / n - ||S||_F^2) / (n p)``.

    Parameters
    ----------
    centred : ndarray of shape (n_sets, n_samples, n_features)
        Centred samples, one set after another.
    scatter : ndarray of shape (n_sets, n_features, n_features)
        ``X'X`` of each set (the caller has it already).

    Returns
    -------
    alpha : ndarray of shape (n_sets,)
        Intensities in [0, 1]; 0 for a set whose covariance is ``mu I``.
    """
    n_samples, n_features = centred.shape[1:]
    covariance = scatter / n_samples
    mu = np.trace(covariance, axis1=1, axis2=2) / n_features
    frobenius = np.einsum("sij,sij->s", covariance, covariance)
    row_norms = np.einsum("skj,skj->sk", centred, centred)
    spread = (np.sum(row_norms**2, axis=1) / n_samples - frobenius) / (
        n_samples * n_features
    )
    distance = (frobenius - n_features * mu**2) / n_features
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.minimum(spread, distance) / distance
    return np.where(distance > 0, np.clip(alpha, 0.0, 1.0), 0.0)


def _discriminant_directions(centred, between, n_eig):
    """Leading LDA directions of a stack of neighbourhoods.

    Solves ``S_b v = lambda S_w v`` for the ``n_eig`` largest ``lambda``, with
    ``S_b = between between'`` and ``S_w`` the shrunk within-class scatter of
    ``centred`` (see :func:`_shrunk_within`). The solve goes through the
    Cholesky factor ``R`` of ``S_w``: the directions are ``R^{-T} u`` for the
    leading left singular vectors ``u`` of ``R^{-1} between``.

    Parameters
    ----------
    centred : ndarray of shape (n_sets, n_members, n_features)
        Members minus their class means.
    between : ndarray of shape (n_sets, n_features, n_classes)
        Scaled class-mean offsets.
    n_eig : int
        Directions per neighbourhood.

    Returns
    -------
    directions : ndarray of shape (n_sets * n_eig, n_features)
        Unit-norm directions, neighbourhood after neighbourhood.
    """
    n_features = centred.shape[2]
    factor = np.linalg.cholesky(_shrunk_within(centred))  # lower: S_w = R R'
    whitened = np.linalg.solve(factor, between)
    left, _, _ = np.linalg.svd(whitened, full_matrices=False)
    directions = np.linalg.solve(factor.transpose(0, 2, 1), left[:, :, :n_eig])
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return directions.transpose(0, 2, 1).reshape(-1, n_features)


def _shrunk_within(centred):
    """Within-class scatters with their correlations shrunk towards zero.

    Each scatter ``S = X'X`` becomes ``(1 - alpha) S + alpha diag(S)`` plus a
    tiny ridge of ``_LDA_RIDGE`` times its mean variance: the variances are
    kept and only the correlations shrink. ``alpha`` is the Ledoit-Wolf
    intensity (:func:`ledoit_wolf_shrinkage`) of the members scaled to unit
    within-class variance, that is, Ledoit-Wolf applied to the correlation
    matrix, whose target ``mu I`` is then the identity.

    The neighbourhoods hold a few rows per class, often fewer than the
    number of features, where the plain scatter is singular and its
    directions overfit: on KEEL's movement_libras (15 classes of 17 rows,
    90 features) 3-NN after a global plain LDA scores 0.60. Shrinking
    towards ``mu I`` instead, the textbook target, also pulls the variances
    together: informative features, whose within-class variance is small,
    are inflated towards the noise ones. Over five splits, SCML_Supervised
    on a 15-class, 90-feature set with 80 noise features scored 0.372 with
    plain LDA, 0.304 shrunk towards ``mu I`` and 0.400 with the correlations
    shrunk; on movement_libras 0.744, 0.785 and 0.774.

    Parameters
    ----------
    centred : ndarray of shape (n_sets, n_members, n_features)
        Members minus their class means.

    Returns
    -------
    within : ndarray of shape (n_sets, n_features, n_features)
        Shrunk scatters, positive definite.
    """
    n_members, n_features = centred.shape[1:]
    within = np.matmul(centred.transpose(0, 2, 1), centred)
    diagonal = np.arange(n_features)
    variances = within[:, diagonal, diagonal].copy()
    mean_variance = variances.mean(axis=1)
    # A constant feature keeps unit scale; its scaled column stays zero.
    scale = np.sqrt(np.where(variances > 0, variances / n_members, 1.0))
    alpha = ledoit_wolf_shrinkage(
        centred / scale[:, None, :], within / (scale[:, :, None] * scale[:, None, :])
    )
    within *= (1.0 - alpha)[:, None, None]
    ridge = _LDA_RIDGE * np.where(mean_variance > 0, mean_variance, 1.0)
    within[:, diagonal, diagonal] += alpha[:, None] * variances + ridge[:, None]
    return within


def _fit_scml(estimator, X, triplets, basis, random_state):
    """Learn the basis weights on validated triplets and store the result.

    Parameters
    ----------
    estimator : SCML or SCML_Supervised
        The learner; its parameters are read and the fitted attributes set.
    X : ndarray of shape (n_rows, n_features)
        Points the triplets index.
    triplets : ndarray of shape (n_triplets, 3)
        ``(anchor, genuine, impostor)`` row indices.
    basis : ndarray of shape (n_basis, n_features)
        The bases.
    random_state : RandomState
        Generator of the batches.
    """
    name = type(estimator).__name__
    triplets = np.ascontiguousarray(triplets, dtype=np.intp)
    n_triplets = triplets.shape[0]
    n_basis = basis.shape[0]
    projected = np.ascontiguousarray(X @ basis.T.astype(X.dtype, copy=False))
    objective = _SCMLObjective(projected, triplets, estimator.beta)

    w = np.zeros(n_basis)
    grad_sum = np.zeros(n_basis)
    grad_sq_sum = np.zeros(n_basis)
    trace = [1.0]  # at w = 0 every slack is 1
    best_objective, best_w = np.inf, w.copy()
    n_iter, converged = 0, False
    while n_iter < estimator.max_iter:
        n_steps = min(estimator.output_iter, estimator.max_iter - n_iter)
        batches = random_state.randint(
            n_triplets, size=(n_steps, estimator.batch_size)
        ).astype(np.intp)
        scml_dual_averaging(
            projected,
            triplets,
            batches,
            n_iter,
            float(estimator.beta),
            float(estimator.gamma),
            grad_sum,
            grad_sq_sum,
            w,
        )
        n_iter += n_steps
        value, n_violated = objective(w)
        trace.append(value)
        if estimator.verbose:
            print(
                f"[{name}] iteration {n_iter:>6}: objective {value:.6g}, "
                f"{n_violated} violated triplets, {np.count_nonzero(w)} active "
                "bases"
            )
        if value < best_objective:
            best_objective, best_w = value, w.copy()
        if estimator.tol is not None and _has_stalled(trace, estimator.tol):
            converged = True
            break
    if estimator.tol is not None and not converged:
        warnings.warn(
            f"{name} did not converge in max_iter={estimator.max_iter} iterations: "
            f"the objective still fell by more than tol={estimator.tol} over the "
            f"last {_PATIENCE} evaluations; increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )

    components = _components_from_weights(basis, best_w, name)
    return basis, best_w, components, n_iter, np.asarray(trace)


def _has_stalled(trace, tol):
    """Whether the last ``_PATIENCE`` evaluations bettered the best before them.

    ``trace`` starts with the value at ``w = 0``, which is not a candidate.
    """
    evaluations = trace[1:]
    if len(evaluations) <= _PATIENCE:
        return False
    earlier = min(evaluations[:-_PATIENCE])
    return min(evaluations[-_PATIENCE:]) > earlier - tol * earlier


class _SCMLObjective:
    """SCML's full objective ``beta |w|_1 + mean hinge`` over all triplets.

    Triplets share pairs (an anchor meets each genuine neighbour once per
    impostor), so the distances are computed once per distinct pair, along
    the active bases only.

    Parameters
    ----------
    projected : ndarray of shape (n_rows, n_basis)
        Rows projected on the bases.
    triplets : ndarray of shape (n_triplets, 3), intp
        ``(anchor, genuine, impostor)`` row indices.
    beta : float
        L1 strength.
    """

    def __init__(self, projected, triplets, beta):
        n_rows = projected.shape[0]
        n_triplets = triplets.shape[0]
        anchors = np.concatenate((triplets[:, 0], triplets[:, 0]))
        others = np.concatenate((triplets[:, 1], triplets[:, 2]))
        keys = np.minimum(anchors, others).astype(np.int64) * n_rows + np.maximum(
            anchors, others
        )
        keys, inverse = np.unique(keys, return_inverse=True)
        self.pairs = np.ascontiguousarray(
            np.column_stack((keys // n_rows, keys % n_rows)), dtype=np.intp
        )
        self.genuine_pair = np.ascontiguousarray(inverse[:n_triplets], dtype=np.intp)
        self.impostor_pair = np.ascontiguousarray(inverse[n_triplets:], dtype=np.intp)
        self.projected = projected
        self.beta = beta

    def __call__(self, w):
        """Objective at ``w`` and the number of triplets with positive slack."""
        hinge_sum, n_violated = scml_hinge(
            self.projected, w, self.pairs, self.genuine_pair, self.impostor_pair
        )
        return self.beta * w.sum() + hinge_sum / self.genuine_pair.shape[0], n_violated


def _components_from_weights(basis, w, name):
    """The linear map of ``M = sum_k w_k b_k b_k'``.

    Parameters
    ----------
    basis : ndarray of shape (n_basis, n_features)
        Bases.
    w : ndarray of shape (n_basis,)
        Non-negative weights.
    name : str or None
        Learner name for the warning given when every weight is zero; ``None``
        gives no warning.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
        ``sqrt(w_k) b_k`` for the active bases when they are fewer than the
        features, else a square factor of ``M``.
    """
    n_features = basis.shape[1]
    active = np.flatnonzero(w > 0)
    if active.shape[0] == 0:
        if name is not None:
            warnings.warn(
                f"{name} gave every basis a zero weight, so the learned distance is "
                "zero; decrease beta, increase gamma (smaller steps) or supply other "
                "bases.",
                UserWarning,
                stacklevel=4,
            )
        return np.zeros((1, n_features))
    if active.shape[0] < n_features:
        return np.sqrt(w[active])[:, None] * basis[active]
    metric = (basis[active].T * w[active]) @ basis[active]
    return components_from_metric(metric)
