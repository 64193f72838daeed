"""Hierarchical navigable small-world graphs: an approximate neighbour index."""

import math
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels import _distances as _kd
from .._kernels._threads import (
    parallel_section,
    resolve_n_threads,
    threads_for_work,
)
from .._metric import METRICS
from ..distances import _resolve_metric
from ..utils._params import store_params
from ._kernels import _hnsw as _kh
from ._search import drop_self

__all__ = ["HNSW_PARAMS", "HNSWIndex", "HNSWNeighborsTransformer", "check_hnsw_params"]

#: Metrics of the index: those of :mod:`sklearn_metric.distances`, plus the
#: inner product ``"ip"``, whose distance is ``1 - <x, y>``.
HNSW_METRIC_CONSTRAINT = [
    StrOptions(set(METRICS) | {"ip"}),
    callable,
    HasMethods(["get_mahalanobis_matrix"]),
]

# Parallel construction: the first nodes are inserted one by one, then batches
# of max(_MIN_BATCH, n_indexed / _BATCH_DIVISOR) nodes search the graph built
# before them in parallel. A node misses the other nodes of its own batch as
# candidates, about 1 / _BATCH_DIVISOR of its true neighbours at worst.
_SEQUENTIAL_START = 2048
_MIN_BATCH = 64
_BATCH_DIVISOR = 32

_HNSW_CONSTRAINTS = {
    "M": [Interval(Integral, 2, None, closed="left")],
    "ef_construction": [Interval(Integral, 1, None, closed="left")],
    "ef": [Interval(Integral, 1, None, closed="left")],
    "metric": HNSW_METRIC_CONSTRAINT,
    "metric_params": [dict, None],
    "random_state": ["random_state"],
    "n_jobs": [Integral, None],
}


def _plan(metric, metric_params, n_features):
    """How the index stores rows and measures them.

    Returns the resolved metric, the navigation code, the exact-distance code
    and whether stored rows are scaled to unit norm.
    """
    if isinstance(metric, str) and metric == "ip":
        if metric_params:
            raise TypeError(
                f"metric='ip' takes no parameters; got {sorted(metric_params)}."
            )
        return None, _kh.NAV_DOT, _kh.EXACT_IP, False
    resolved = _resolve_metric(metric, dict(metric_params or {}), n_features)
    if resolved.func is not None:
        raise TypeError(
            "HNSWIndex searches with the metric kernels of sklearn_metric.distances "
            "and cannot call a Python function for each pair; give a metric name, "
            f"a fitted metric learner or its get_metric(); got {metric!r}."
        )
    if resolved.code in (_kd.EUCLIDEAN, _kd.SQEUCLIDEAN):
        return resolved, _kh.NAV_SQ, resolved.code, False
    if resolved.code == _kd.COSINE:
        return resolved, _kh.NAV_DOT, _kd.COSINE, True
    return resolved, _kh.NAV_GENERIC, resolved.code, False


#: Keys of an estimator's ``hnsw_params``: the parameters of the index itself.
#: The metric, the seed and the threads are the estimator's own parameters.
HNSW_PARAMS = ("M", "ef_construction", "ef")


def check_hnsw_params(estimator):
    """Validate the ``hnsw_params`` of an estimator that builds an HNSW index.

    The index is built inside the estimator's ``fit``, where scikit-learn skips
    the nested validation of its parameters, so they are checked here.

    Parameters
    ----------
    estimator : estimator
        An estimator with an ``hnsw_params`` dict or None.
    """
    hnsw_params = estimator.hnsw_params or {}
    unknown = sorted(set(hnsw_params) - set(HNSW_PARAMS))
    if unknown:
        raise ValueError(
            f"hnsw_params accepts the keys {list(HNSW_PARAMS)}; got {unknown}. "
            "metric, metric_params, random_state and n_jobs are parameters of "
            f"{type(estimator).__name__} itself."
        )
    validate_parameter_constraints(
        {key: _HNSW_CONSTRAINTS[key] for key in HNSW_PARAMS},
        hnsw_params,
        caller_name="HNSWIndex (from hnsw_params)",
    )


def _check_positive_int(n_neighbors):
    if not isinstance(n_neighbors, Integral) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive int; got {n_neighbors!r}.")


class HNSWIndex(BaseEstimator):
    """Approximate nearest-neighbour index on a hierarchical small-world graph.

    Every row is a node of a stack of proximity graphs. A node reaches layer
    ``l`` with probability ``M**-l``, so each layer up is about ``M`` times
    sparser, and a search descends them greedily before a best-first search
    of width ``ef`` on the full bottom layer (Malkov and Yashunin, 2018).
    Each node keeps at most ``M`` neighbours per upper layer and ``2 M`` on
    layer 0, picked by the paper's diversity heuristic. Construction inserts
    the rows one by one, or in parallel batches; queries run in parallel.

    Read more in the :ref:`User Guide <hnsw>`.

    Parameters
    ----------
    M : int, default=16
        Neighbours per node on the upper layers (``2 M`` on layer 0). More
        means a larger, slower to build, more accurate graph.
    ef_construction : int, default=200
        Width of the search that finds a new node's neighbours.
    ef : int, default=50
        Width of the search of a query; raised to ``n_neighbors`` when smaller.
        Larger is slower and more accurate; at least the number of indexed rows
        makes the search exhaustive.
    metric : str, fitted metric learner or its metric, default="euclidean"
        Any metric of :mod:`sklearn_metric.distances`, or ``"ip"`` for the
        inner product (distance ``1 - <x, y>``, as hnswlib reports it). A
        fitted Mahalanobis learner, or the callable its ``get_metric()``
        returns, is searched as the Euclidean distance in the learned space,
        and distances are those of the learned metric. Other Python callables
        are refused: the search runs in compiled kernels.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the nodes' layers. The same seed and rows give the same graph.
    n_jobs : int, default=None
        Threads of construction and queries. With one thread, rows are inserted
        one after the other. With more, the first 2048 are, and the rest go in
        batches (of 1/32 of the rows indexed so far) that search the graph in
        parallel and are then linked one by one; the graph is then the same for
        any number of threads above one, and close to the sequential one.

    Attributes
    ----------
    n_features_in_ : int
        Number of features of the indexed rows.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X has string column names.
    n_indexed_ : int
        Number of rows indexed, deleted ones included.
    levels_ : ndarray of shape (`n_indexed_`,)
        Top layer of each node.
    entry_point_ : int
        The node every search starts from, one on the top layer.

    See Also
    --------
    HNSWNeighborsTransformer : The index as a neighbours-graph transformer.
    sklearn_metric.distances.knn_search : The exact search.

    Notes
    -----
    Navigation uses a monotone form of the metric in the data's precision (the
    squared distance for Euclidean and Mahalanobis, the negative inner product
    for ``"cosine"`` on rows scaled to unit norm). The ``ef`` candidates of a
    query are re-ranked by the exact distance summed in float64, ties ordered
    by index, so that with ``ef`` at least the number of indexed rows the
    results are those of :func:`~sklearn_metric.distances.knn_search`, as long
    as the bottom layer is connected.

    References
    ----------
    .. [1] Y. A. Malkov and D. A. Yashunin, "Efficient and robust approximate
       nearest neighbor search using Hierarchical Navigable Small World
       graphs", IEEE TPAMI 42(4), 2020. arXiv:1603.09320.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.neighbors import HNSWIndex
    >>> X = np.random.default_rng(0).normal(size=(500, 8))
    >>> index = HNSWIndex(random_state=0).fit(X)
    >>> distances, indices = index.query(X[:2], n_neighbors=3)
    >>> indices[:, 0]
    array([0, 1])
    """

    _parameter_constraints: dict = dict(_HNSW_CONSTRAINTS)

    def __init__(
        self,
        M=16,
        ef_construction=200,
        ef=50,
        *,
        metric="euclidean",
        metric_params=None,
        random_state=None,
        n_jobs=None,
    ):
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the index on the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to index. float32 rows are stored and searched as float32.
        y : None
            Ignored.

        Returns
        -------
        self : HNSWIndex
            The fitted index.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._metric, self._nav, self._exact_code, self._unit_rows = _plan(
            self.metric, self.metric_params, X.shape[1]
        )
        self._p = 2.0 if self._metric is None else float(self._metric.p)
        self._rng = check_random_state(self.random_state)
        rows = self._prepare(X)
        self._dtype = rows.dtype
        M0 = 2 * self.M
        self._data = np.empty((0, rows.shape[1]), dtype=rows.dtype)
        self._aux = np.zeros((0, 2))
        self._levels = np.empty(0, dtype=np.int32)
        self._links0 = np.empty((0, M0), dtype=np.int32)
        self._deg0 = np.empty(0, dtype=np.int32)
        self._upper_offset = np.empty(0, dtype=np.int64)
        self._links_up = np.empty((0, self.M), dtype=np.int32)
        self._deg_up = np.empty(0, dtype=np.int32)
        self._deleted = np.empty(0, dtype=np.bool_)
        self._state = np.array([-1, -1], dtype=np.int64)
        self._n = 0
        self._n_up = 0
        self._insert(rows)
        return self

    def add(self, X):
        """Index more rows; they get the next indices.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            Rows to add.

        Returns
        -------
        self : HNSWIndex
            The index, with ``n_indexed_`` grown by ``n_new``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        self._insert(self._prepare(X))
        return self

    def remove(self, indices):
        """Mark rows as deleted: they stay in the graph but leave the results.

        Parameters
        ----------
        indices : array-like of int
            Indices of indexed rows.

        Returns
        -------
        self : HNSWIndex
            The index.
        """
        check_is_fitted(self)
        indices = np.asarray(indices)
        if indices.size and not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"indices must be integers; got dtype {indices.dtype}.")
        indices = indices.astype(np.intp).ravel()
        if indices.size and (indices.min() < 0 or indices.max() >= self._n):
            raise ValueError(
                f"indices must lie in [0, {self._n}), the rows indexed; got values "
                f"from {indices.min()} to {indices.max()}."
            )
        self._deleted[indices] = True
        return self

    def set_ef(self, ef):
        """Set the width of later queries.

        Parameters
        ----------
        ef : int
            The new ``ef``.

        Returns
        -------
        self : HNSWIndex
            The index.
        """
        return self.set_params(ef=ef)

    def query(self, X, n_neighbors=10):
        """Find (approximately) the nearest indexed rows of each row of X.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.
        n_neighbors : int, default=10
            Neighbours per query, at most the number of rows not deleted.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Distances, ascending; float32 when the index is.
        indices : ndarray of shape (n_queries, n_neighbors)
            Indices of the rows found.
        """
        check_is_fitted(self)
        _check_positive_int(n_neighbors)
        n_live = self.n_live_
        if n_neighbors > n_live:
            raise ValueError(
                f"n_neighbors={n_neighbors} is more than the {n_live} indexed rows "
                "that are not deleted."
            )
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._query_prepared(self._prepare(X), n_neighbors)

    def query_indexed(self, n_neighbors=10):
        """Neighbours of every indexed row among the others (itself excluded).

        Deleted rows are queried as well but never returned.

        Parameters
        ----------
        n_neighbors : int, default=10
            Neighbours per row, below the number of rows not deleted.

        Returns
        -------
        distances : ndarray of shape (`n_indexed_`, n_neighbors)
            Distances, ascending.
        indices : ndarray of shape (`n_indexed_`, n_neighbors)
            Indices of the rows found; exact copies of a row are kept.
        """
        check_is_fitted(self)
        _check_positive_int(n_neighbors)
        if n_neighbors + 1 > self.n_live_:
            raise ValueError(
                f"n_neighbors={n_neighbors} must be below the {self.n_live_} indexed "
                "rows that are not deleted, as each row excludes itself."
            )
        n = self._n
        distances, indices = self._query_prepared(self._data[:n], n_neighbors + 1)
        return drop_self(distances, indices, np.arange(n), n_neighbors)

    def _query_prepared(self, Q, n_neighbors):
        ef = max(int(self.ef), int(n_neighbors))
        ef = min(ef, self._n)
        n_queries = Q.shape[0]
        out_d = np.empty((n_queries, n_neighbors))
        out_i = np.empty((n_queries, n_neighbors), dtype=np.intp)
        if n_queries == 0:
            return out_d.astype(self._dtype), out_i
        aux_q = self._row_aux(Q, self._exact_code)
        work = n_queries * ef * 2 * self.M * Q.shape[1]
        n_threads = threads_for_work(work, self.n_jobs)
        n_chunks = min(n_queries, 4 * n_threads)
        n = self._n
        with parallel_section(n_threads):
            _kh.query_batch(
                Q,
                aux_q,
                int(n_neighbors),
                ef,
                n_chunks,
                self._data[:n],
                self._aux[:n],
                self._links0[:n],
                self._deg0[:n],
                self._upper_offset[:n],
                self._links_up[: self._n_up],
                self._deg_up[: self._n_up],
                self._state,
                self._deleted[:n],
                bool(self._deleted[:n].any()),
                self._nav,
                self._kernel_code(),
                self._exact_code,
                self._p,
                out_d,
                out_i,
            )
        return out_d.astype(self._dtype, copy=False), out_i

    @property
    def n_indexed_(self):
        check_is_fitted(self)
        return self._n

    @property
    def n_live_(self):
        """Number of indexed rows not deleted."""
        check_is_fitted(self)
        return int(self._n - np.count_nonzero(self._deleted[: self._n]))

    @property
    def levels_(self):
        check_is_fitted(self)
        return self._levels[: self._n].copy()

    @property
    def entry_point_(self):
        check_is_fitted(self)
        return int(self._state[0])

    def neighbors_of(self, node, level=0):
        """Graph neighbours of one node on one layer.

        Parameters
        ----------
        node : int
            An indexed row.
        level : int, default=0
            A layer, at most the node's top layer.

        Returns
        -------
        neighbors : ndarray of int
            The node's links on that layer.
        """
        check_is_fitted(self)
        if not 0 <= node < self._n:
            raise ValueError(f"node must lie in [0, {self._n}); got {node}.")
        if not 0 <= level <= self._levels[node]:
            raise ValueError(
                f"Node {node} lives on layers 0 to {self._levels[node]}; got "
                f"level={level}."
            )
        if level == 0:
            return self._links0[node, : self._deg0[node]].astype(np.intp)
        r = self._upper_offset[node] + level - 1
        return self._links_up[r, : self._deg_up[r]].astype(np.intp)

    # -- internals ---------------------------------------------------------

    def _kernel_code(self):
        return -1 if self._metric is None else int(self._metric.code)

    @staticmethod
    def _row_aux(rows, code):
        if code < 0:
            return np.zeros((rows.shape[0], 2))
        return _kd.row_aux(rows, code)

    def _prepare(self, X):
        """Rows as the index stores them: mapped, unit-scaled, contiguous."""
        if self._metric is not None and self._metric.components is not None:
            # The product is a new C-ordered array, free to scale in place.
            rows = (np.asarray(X, dtype=np.float64) @ self._metric.components.T).astype(
                X.dtype, copy=False
            )
        else:
            rows = np.array(X, order="C", copy=True)
        if self._unit_rows:
            norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
            nonzero = norms > 0
            rows[nonzero] /= norms[nonzero, None].astype(rows.dtype)
        return rows

    def _grow(self, n_new, n_up_new):
        """Make room for ``n_new`` more nodes and ``n_up_new`` upper-layer rows."""
        need = self._n + n_new
        if need > self._data.shape[0]:
            cap = max(need, int(1.5 * self._data.shape[0]))
            for name, fill in (
                ("_data", 0),
                ("_aux", 0),
                ("_levels", 0),
                ("_links0", -1),
                ("_deg0", 0),
                ("_upper_offset", -1),
                ("_deleted", False),
            ):
                old = getattr(self, name)
                new = np.full((cap,) + old.shape[1:], fill, dtype=old.dtype)
                new[: self._n] = old[: self._n]
                setattr(self, name, new)
        need_up = self._n_up + n_up_new
        if need_up > self._links_up.shape[0]:
            cap = max(need_up, int(1.5 * self._links_up.shape[0]))
            links = np.full((cap, self.M), -1, dtype=np.int32)
            links[: self._n_up] = self._links_up[: self._n_up]
            degrees = np.zeros(cap, dtype=np.int32)
            degrees[: self._n_up] = self._deg_up[: self._n_up]
            self._links_up, self._deg_up = links, degrees

    def _insert(self, rows):
        n_new = rows.shape[0]
        if n_new == 0:
            return
        # Layer l >= 1 with probability M ** -l: floor(-ln(U) / ln(M)).
        uniform = 1.0 - self._rng.random_sample(n_new)
        levels = np.floor(-np.log(uniform) / math.log(self.M)).astype(np.int32)
        n_up_new = int(levels.sum())
        self._grow(n_new, n_up_new)
        start, stop = self._n, self._n + n_new
        self._data[start:stop] = rows
        # Per-row values of the metric (norms for cosine, mean and variance for
        # snr): the exact distance needs them, and navigation for generic codes.
        self._aux[start:stop] = self._row_aux(rows, self._exact_code)
        self._levels[start:stop] = levels
        offsets = np.full(n_new, -1, dtype=np.int64)
        upper = levels > 0
        offsets[upper] = self._n_up + np.concatenate(
            ([0], np.cumsum(levels[upper])[:-1])
        ).astype(np.int64)
        self._upper_offset[start:stop] = offsets
        self._deg0[start:stop] = 0
        self._deleted[start:stop] = False
        self._n_up += n_up_new
        self._n = stop
        arrays = (
            self._levels,
            self._data,
            self._aux,
            self._links0,
            self._deg0,
            self._upper_offset,
            self._links_up,
            self._deg_up,
            self._state,
        )
        metric = (self._nav, self._kernel_code(), self._p)
        M, ef_construction = int(self.M), int(self.ef_construction)
        n_threads = resolve_n_threads(self.n_jobs)
        if n_threads == 1:
            _kh.insert_range(start, stop, *arrays, M, ef_construction, *metric)
            return
        # Parallel: a sequential start, then batches that search the graph of
        # the nodes before them in parallel and are linked one by one.
        base = min(stop, max(start, _SEQUENTIAL_START))
        if base > start:
            _kh.insert_range(start, base, *arrays, M, ef_construction, *metric)
        position = base
        while position < stop:
            end = min(stop, position + max(_MIN_BATCH, position // _BATCH_DIVISOR))
            n_levels = int(self._levels[position:end].max()) + 1
            found_i = np.empty((end - position, n_levels, M), dtype=np.int32)
            found_d = np.empty((end - position, n_levels, M))
            n_found = np.zeros((end - position, n_levels), dtype=np.int32)
            n_chunks = min(end - position, 4 * n_threads)
            with parallel_section(n_threads):
                _kh.place_batch(
                    position,
                    end,
                    *arrays,
                    M,
                    ef_construction,
                    *metric,
                    n_chunks,
                    found_i,
                    found_d,
                    n_found,
                )
            _kh.connect_batch(
                position, end, *arrays, M, *metric, found_i, found_d, n_found
            )
            position = end

    def __getstate__(self):
        state = super().__getstate__()
        if "_data" in state:
            n, n_up = state["_n"], state["_n_up"]
            for name in (
                "_data",
                "_aux",
                "_levels",
                "_links0",
                "_deg0",
                "_upper_offset",
                "_deleted",
            ):
                state[name] = state[name][:n].copy()
            state["_links_up"] = state["_links_up"][:n_up].copy()
            state["_deg_up"] = state["_deg_up"][:n_up].copy()
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


class HNSWNeighborsTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Sparse graph of approximate nearest neighbours, from an HNSW index.

    The drop-in counterpart of :class:`sklearn.neighbors.KNeighborsTransformer`
    on an :class:`HNSWIndex`: its output feeds any estimator that takes
    ``metric="precomputed"`` sparse graphs (k-nearest neighbours, TSNE,
    Isomap, DBSCAN, spectral clustering), and its :meth:`kneighbors` makes it
    the neighbours object of the over-samplers.

    Read more in the :ref:`User Guide <hnsw>`.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours per row of the graph. In ``"distance"`` mode each row holds
        ``n_neighbors + 1`` entries, the row itself (at distance 0) included
        when it is a training row, as in scikit-learn.
    mode : {"distance", "connectivity"}, default="distance"
        ``"distance"`` stores distances, ``"connectivity"`` ones.
    M : int, default=16
        As in :class:`HNSWIndex`.
    ef_construction : int, default=200
        As in :class:`HNSWIndex`.
    ef : int, default=50
        As in :class:`HNSWIndex`.
    metric : str, fitted metric learner or its metric, default="euclidean"
        As in :class:`HNSWIndex`.
    metric_params : dict, default=None
        As in :class:`HNSWIndex`.
    random_state : int, RandomState instance or None, default=None
        As in :class:`HNSWIndex`.
    n_jobs : int, default=None
        As in :class:`HNSWIndex`.

    Attributes
    ----------
    index_ : HNSWIndex
        The index of the training rows.
    n_samples_fit_ : int
        Number of training rows: the columns of the graph.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column names.

    See Also
    --------
    HNSWIndex : The index itself.
    sklearn.neighbors.KNeighborsTransformer : The exact transformer.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_metric.neighbors import HNSWNeighborsTransformer
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(
    ...     HNSWNeighborsTransformer(n_neighbors=5, random_state=0),
    ...     KNeighborsClassifier(n_neighbors=5, metric="precomputed"),
    ... ).fit(X, y)
    >>> round(model.score(X, y), 2)
    0.97
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"distance", "connectivity"})],
        **_HNSW_CONSTRAINTS,
    }

    def __init__(
        self,
        n_neighbors=5,
        *,
        mode="distance",
        M=16,
        ef_construction=200,
        ef=50,
        metric="euclidean",
        metric_params=None,
        random_state=None,
        n_jobs=None,
    ):
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Index the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        self : HNSWNeighborsTransformer
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        index_params = {name: getattr(self, name) for name in _HNSW_CONSTRAINTS}
        self.index_ = HNSWIndex(**index_params).fit(X)
        self.n_samples_fit_ = X.shape[0]
        self._n_features_out = X.shape[0]
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Approximate nearest training rows of each row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows; ``None`` means the training rows, each without itself.
        n_neighbors : int, default=None
            Neighbours per query; ``None`` uses the constructor's value.
        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Distances, ascending. Only with ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Indices of the training rows.
        """
        check_is_fitted(self)
        n_neighbors = self.n_neighbors if n_neighbors is None else n_neighbors
        self.index_.set_ef(self.ef)
        if X is None:
            distances, indices = self.index_.query_indexed(n_neighbors)
        else:
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
            if n_neighbors > self.n_samples_fit_:
                raise ValueError(
                    f"n_neighbors={n_neighbors} must be at most n_samples_fit="
                    f"{self.n_samples_fit_}."
                )
            distances, indices = self.index_.query(X, n_neighbors)
        return (distances, indices) if return_distance else indices

    def kneighbors_graph(self, X=None, n_neighbors=None, mode=None):
        """Sparse graph of the neighbours of each row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows; ``None`` means the training rows, each without itself.
        n_neighbors : int, default=None
            Neighbours per row; ``None`` uses the constructor's value.
        mode : {"distance", "connectivity"}, default=None
            ``None`` uses the constructor's value.

        Returns
        -------
        graph : sparse matrix of shape (n_queries, `n_samples_fit_`)
            CSR matrix with the neighbours of row ``i`` in row ``i``, sorted by
            distance.
        """
        mode = self.mode if mode is None else mode
        distances, indices = self.kneighbors(X, n_neighbors)
        n_queries, k = indices.shape
        data = (
            np.ones(n_queries * k)
            if mode == "connectivity"
            else distances.ravel().astype(np.float64)
        )
        indptr = np.arange(0, n_queries * k + 1, k)
        return sparse.csr_matrix(
            (data, indices.ravel(), indptr), shape=(n_queries, self.n_samples_fit_)
        )

    def transform(self, X):
        """Graph of the approximate neighbours of the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Rows.

        Returns
        -------
        graph : sparse matrix of shape (n_queries, `n_samples_fit_`)
            CSR matrix; in ``"distance"`` mode, ``n_neighbors + 1`` entries per
            row, so that a training row keeps ``n_neighbors`` others beside
            itself.
        """
        check_is_fitted(self)
        extra = int(self.mode == "distance")
        return self.kneighbors_graph(X, n_neighbors=self.n_neighbors + extra)

    def fit_transform(self, X, y=None):
        """Index X and return the graph of its rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        graph : sparse matrix of shape (n_samples, n_samples)
            As :meth:`transform` on the training rows.
        """
        return self.fit(X, y).transform(X)
