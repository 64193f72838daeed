"""Exact, chunked and parallel distance computations.

This module is the public face of the Numba kernels that every family of
estimators in :mod:`sklearn_metric` relies on:

* :func:`pairwise_distances` and :func:`pairwise_distances_chunked`: all
  distances between the rows of two arrays;
* :func:`paired_distances`: distances between matching rows;
* :func:`knn_search`: the exact k nearest neighbours, the one neighbour search
  that metric learners, samplers, prototype and neighbour estimators share.

Supported metrics are listed in :data:`METRICS`. ``metric`` may also be a
fitted Mahalanobis metric learner (an object with ``get_mahalanobis_matrix``
and ``components_``), the callable its ``get_metric()`` returns (run at kernel
speed, not pair by pair), or any other Python callable. float32 input gives
float32 output; sums are accumulated in float64 either way.

Notes
-----
Euclidean distances between many rows go through BLAS matrix products. The
expansion ``|x|^2 + |y|^2 - 2 x.y`` is fast but loses precision for close
rows, so the rows are first centred, and every entry whose rounding error
could matter is recomputed from the differences. :func:`knn_search` uses the
product only to propose candidates and then re-ranks them with exact
distances, with a proof (from the GEMM rounding bound) that no true neighbour
was missed; a query where the proof fails is searched again pair by pair.
Results are therefore those of a brute-force search, ties broken by index.
"""

from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    Interval,
    validate_params,
)

from ._kernels import _distances as _kd
from ._kernels import _topk as _kt
from ._kernels._threads import parallel_section, threads_for_work
from ._metric import METRIC_CONSTRAINT, METRICS, MahalanobisMetric

__all__ = [
    "METRICS",
    "knn_search",
    "paired_distances",
    "pairwise_distances",
    "pairwise_distances_chunked",
]


_CODES = {
    "euclidean": _kd.EUCLIDEAN,
    "l2": _kd.EUCLIDEAN,
    "sqeuclidean": _kd.SQEUCLIDEAN,
    "manhattan": _kd.MANHATTAN,
    "cityblock": _kd.MANHATTAN,
    "l1": _kd.MANHATTAN,
    "chebyshev": _kd.CHEBYSHEV,
    "minkowski": _kd.MINKOWSKI,
    "cosine": _kd.COSINE,
    "snr": _kd.SNR,
}
_PARAMS_OF = {"minkowski": {"p"}, "mahalanobis": {"VI", "components"}}

# Below this many features, pair-by-pair loops are as fast as GEMM.
_GEMM_MIN_FEATURES = 16
# Relative precision asked of GEMM-based Euclidean entries before an entry is
# recomputed from differences (on the squared distance).
_GEMM_TARGET_RTOL = 1e-10
# Extra GEMM candidates per query beyond n_neighbors: more means fewer queries
# that fail the exactness proof, fewer means less heap work.
_CANDIDATE_PAD = 8
# Tile sizes of the GEMM search: a tile of approximate distances
# (rows x cols x itemsize) stays within one core's L2 cache.
_TILE_ROWS = 256
_MIN_TILE_ROWS = 16
# Largest centred coordinate for which a float32 GEMM cannot overflow: squared
# norms of up to ~1e5 features stay below float32's 3.4e38.
_FLOAT32_SAFE_MAGNITUDE = 1e15
_BLOCK_COLS = 1024

# A resolved metric: a kernel code, the Minkowski power, an optional linear map
# to apply first (Mahalanobis), or a Python callable with its keyword arguments.
_Metric = namedtuple("_Metric", ["code", "p", "components", "func", "kwargs"])


def _resolve_metric(metric, params, n_features):
    """Turn ``metric`` and its keyword parameters into a :class:`_Metric`."""
    if hasattr(metric, "components_") or hasattr(metric, "get_mahalanobis_matrix"):
        if params:
            raise TypeError(
                "No extra parameters are accepted with a fitted metric learner as "
                f"metric; got {sorted(params)}."
            )
        components = getattr(metric, "components_", None)
        if components is None:
            raise ValueError(
                f"The metric learner {type(metric).__name__} passed as metric is "
                "not fitted: it has no components_."
            )
        return _mahalanobis_from_components(components, n_features)
    if isinstance(metric, MahalanobisMetric) and not params:
        # The callable of a learner's get_metric(): its map is known, so the
        # kernels can run instead of one Python call per pair.
        return _mahalanobis_from_components(metric.components, n_features)
    if callable(metric):
        return _Metric(None, 2.0, None, metric, dict(params))

    allowed = _PARAMS_OF.get(metric, set())
    unknown = set(params) - allowed
    if unknown:
        accepted = f"accepted: {sorted(allowed)}" if allowed else "it takes none"
        raise TypeError(
            f"Unknown parameter(s) {sorted(unknown)} for metric={metric!r}; {accepted}."
        )
    if metric == "mahalanobis":
        return _resolve_mahalanobis(params, n_features)
    if metric == "minkowski":
        p = params.get("p", 2)
        if not isinstance(p, Real) or not (p >= 1):
            raise ValueError(
                f"metric='minkowski' needs p >= 1 (or np.inf); got p={p!r}."
            )
        if p == 1:
            return _Metric(_kd.MANHATTAN, 1.0, None, None, None)
        if p == 2:
            return _Metric(_kd.EUCLIDEAN, 2.0, None, None, None)
        if np.isinf(p):
            return _Metric(_kd.CHEBYSHEV, 2.0, None, None, None)
        return _Metric(_kd.MINKOWSKI, float(p), None, None, None)
    return _Metric(_CODES[metric], 2.0, None, None, None)


def _resolve_mahalanobis(params, n_features):
    if ("VI" in params) == ("components" in params):
        raise ValueError(
            "metric='mahalanobis' needs exactly one of VI (the inverse covariance, "
            "a PSD matrix M with d(x, y)^2 = (x - y)' M (x - y)) or components "
            "(a linear map L with M = L'L)."
        )
    if "components" in params:
        return _mahalanobis_from_components(params["components"], n_features)

    VI = check_array(params["VI"], dtype=np.float64, input_name="VI")
    if VI.shape != (n_features, n_features):
        raise ValueError(
            f"VI must have shape ({n_features}, {n_features}) to match the "
            f"{n_features} features; got {VI.shape}."
        )
    scale = max(np.abs(VI).max(), np.finfo(np.float64).tiny)
    if not np.allclose(VI, VI.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError("VI must be symmetric.")
    eigenvalues, eigenvectors = np.linalg.eigh(VI)
    if eigenvalues.min() < -1e-10 * scale:
        raise ValueError(
            "VI must be positive semi-definite; its smallest eigenvalue is "
            f"{eigenvalues.min():.3g}."
        )
    # VI = V diag(w) V' = L'L with L = diag(sqrt(w)) V'.
    components = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * eigenvectors.T
    return _Metric(_kd.EUCLIDEAN, 2.0, components, None, None)


def _mahalanobis_from_components(components, n_features):
    components = check_array(components, dtype=np.float64, input_name="components")
    if components.shape[1] != n_features:
        raise ValueError(
            f"components must have {n_features} columns to match the features; "
            f"got shape {components.shape}."
        )
    return _Metric(_kd.EUCLIDEAN, 2.0, components, None, None)


def _check_inputs(X, Y, *, X_name="X", Y_name="Y"):
    """Validate X and Y as finite float arrays of one common dtype."""
    X = check_array(X, dtype=[np.float64, np.float32], input_name=X_name)
    if Y is None:
        return X, X
    Y = check_array(Y, dtype=[np.float64, np.float32], input_name=Y_name)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"{X_name} and {Y_name} must have the same number of features; got "
            f"{X.shape[1]} and {Y.shape[1]}."
        )
    if X.dtype != Y.dtype:
        X, Y = X.astype(np.float64), Y.astype(np.float64)
    return X, Y


def _embed(X, metric):
    """Map X through the metric's linear map (float64), if it has one."""
    if metric.components is None:
        return np.ascontiguousarray(X)
    return np.ascontiguousarray(X, dtype=np.float64) @ metric.components.T


def _chunk_rows(n_cols, itemsize=8, working_memory=None):
    """Rows per chunk so that a (rows, n_cols) block fits in working_memory MiB."""
    if working_memory is None:
        working_memory = get_config()["working_memory"]
    rows = int(working_memory * 2**20 // max(1, n_cols * itemsize))
    return max(1, rows)


class _PairwiseEngine:
    """Computes blocks of the pairwise distance matrix for one (X, Y, metric)."""

    def __init__(self, X, Y, metric, n_threads):
        self.dtype = X.dtype
        self.metric = metric
        self.n_threads = n_threads
        self.same = X is Y
        if metric.func is not None:
            self.X, self.Y = X, Y
            return
        X, Y = _embed(X, metric), (_embed(Y, metric) if not self.same else None)
        self.use_gemm = (
            metric.code in (_kd.EUCLIDEAN, _kd.SQEUCLIDEAN, _kd.COSINE)
            and X.shape[1] >= _GEMM_MIN_FEATURES
        )
        if not self.use_gemm:
            self.X = X
            self.Y = X if self.same else Y
            self.aux_x = _kd.row_aux(self.X, metric.code)
            self.aux_y = self.aux_x if self.same else _kd.row_aux(self.Y, metric.code)
            return
        unit_roundoff = np.finfo(np.float64).eps / 2
        # Entries whose GEMM rounding bound exceeds _GEMM_TARGET_RTOL of their
        # value are recomputed pair by pair.
        self.rel_tol = (X.shape[1] + 2) * unit_roundoff / _GEMM_TARGET_RTOL
        X64 = np.asarray(X, dtype=np.float64)
        Y64 = X64 if self.same else np.asarray(Y, dtype=np.float64)
        if metric.code == _kd.COSINE:
            self.X, self.Y = X, (X if self.same else Y)
            self.norm_x = np.sqrt(np.einsum("ij,ij->i", X64, X64))
            self.norm_y = (
                self.norm_x if self.same else np.sqrt(np.einsum("ij,ij->i", Y64, Y64))
            )
            self.gemm_x = X64 / np.where(self.norm_x == 0, 1.0, self.norm_x)[:, None]
            self.gemm_y = (
                self.gemm_x
                if self.same
                else (Y64 / np.where(self.norm_y == 0, 1.0, self.norm_y)[:, None])
            )
            return
        # Centring costs one pass and keeps the norms, hence the rounding of
        # the expansion, small for data far from the origin.
        mean = Y64.mean(axis=0)
        self.X = self.gemm_x = np.ascontiguousarray(X64 - mean)
        self.Y = self.gemm_y = self.X if self.same else np.ascontiguousarray(Y64 - mean)
        self.sq_norm_x = np.einsum("ij,ij->i", self.X, self.X)
        self.sq_norm_y = np.einsum("ij,ij->i", self.Y, self.Y)

    def fill(self, start, stop, out):
        """Write the distances of rows ``start:stop`` of X into ``out``."""
        metric = self.metric
        if metric.func is not None:
            for row, i in enumerate(range(start, stop)):
                for j in range(self.Y.shape[0]):
                    out[row, j] = metric.func(self.X[i], self.Y[j], **metric.kwargs)
            return
        if self.use_gemm:
            block = out if out.dtype == np.float64 else np.empty(out.shape)
            np.matmul(self.gemm_x[start:stop], self.gemm_y.T, out=block)
            with parallel_section(self.n_threads):
                if metric.code == _kd.COSINE:
                    _kd.gemm_cosine_fixup(
                        self.X[start:stop],
                        self.Y,
                        self.norm_x[start:stop],
                        self.norm_y,
                        self.rel_tol,
                        block,
                    )
                else:
                    _kd.gemm_sqeuclidean_fixup(
                        self.X[start:stop],
                        self.Y,
                        self.sq_norm_x[start:stop],
                        self.sq_norm_y,
                        self.rel_tol,
                        metric.code == _kd.SQEUCLIDEAN,
                        block,
                    )
            if block is not out:
                out[...] = block
            return
        with parallel_section(self.n_threads):
            _kd.pairwise_direct(
                self.X[start:stop],
                self.Y,
                self.aux_x[start:stop],
                self.aux_y,
                metric.code,
                metric.p,
                out,
            )


def _prepare_pairwise(X, Y, metric, n_jobs, params):
    X, Y = _check_inputs(X, Y)
    resolved = _resolve_metric(metric, params, X.shape[1])
    n_threads = threads_for_work(X.shape[0] * Y.shape[0] * X.shape[1], n_jobs)
    return X, Y, _PairwiseEngine(X, Y, resolved, n_threads)


_PAIRWISE_PARAMS = {
    "X": ["array-like"],
    "Y": ["array-like", None],
    "metric": METRIC_CONSTRAINT,
    "n_jobs": [Integral, None],
}


@validate_params(_PAIRWISE_PARAMS, prefer_skip_nested_validation=True)
def pairwise_distances(X, Y=None, metric="euclidean", *, n_jobs=None, **params):
    """Compute the distance between every row of X and every row of Y.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First set of rows. Must be finite.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Second set of rows; ``None`` means ``Y = X``.
    metric : str, callable or fitted metric learner, default="euclidean"
        One of :data:`METRICS`; a fitted Mahalanobis learner, whose
        ``components_`` define the distance, or the callable its
        ``get_metric()`` returns; or any callable ``metric(x, y, **params)``,
        applied to each pair of rows (slow: a Python call per pair).
    n_jobs : int, default=None
        Numba threads to use. ``None`` uses all configured threads (see
        ``numba.config.NUMBA_NUM_THREADS``); ``-1`` means all, a positive
        integer that many.
    **params : dict
        Metric parameters: ``p`` for ``"minkowski"`` (``p >= 1``, default 2);
        ``VI`` (inverse covariance, PSD) or ``components`` (a linear map ``L``
        with ``VI = L'L``) for ``"mahalanobis"``; anything for a callable.

    Returns
    -------
    distances : ndarray of shape (n_samples_X, n_samples_Y)
        ``distances[i, j]`` is the distance from ``X[i]`` to ``Y[j]``. float32
        when both inputs are float32, float64 otherwise.

    See Also
    --------
    pairwise_distances_chunked : The same, one block of rows at a time.
    knn_search : The nearest rows only, without the full matrix.

    Notes
    -----
    ``"snr"`` is the signal-to-noise distance ``var(y - x) / var(x)`` with the
    variance taken over features. It is not symmetric (the row of X is the
    signal), it ignores a constant shift of either row and a common scaling, and
    it is ``inf`` when the row of X is constant and ``y - x`` is not.
    ``"cosine"`` treats a row of zeros as orthogonal to everything (distance 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.distances import pairwise_distances
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> pairwise_distances(X)
    array([[0., 5.],
           [5., 0.]])
    >>> pairwise_distances(X, metric="manhattan")
    array([[0., 7.],
           [7., 0.]])
    """
    X, Y, engine = _prepare_pairwise(X, Y, metric, n_jobs, params)
    out = np.empty((X.shape[0], Y.shape[0]), dtype=X.dtype)
    rows = _chunk_rows(Y.shape[0])
    for start in range(0, X.shape[0], rows):
        stop = min(start + rows, X.shape[0])
        engine.fill(start, stop, out[start:stop])
    return out


_CHUNKED_PARAMS = dict(
    _PAIRWISE_PARAMS,
    working_memory=[Interval(Real, 0, None, closed="neither"), None],
)


@validate_params(_CHUNKED_PARAMS, prefer_skip_nested_validation=True)
def pairwise_distances_chunked(
    X, Y=None, metric="euclidean", *, working_memory=None, n_jobs=None, **params
):
    """Generate the pairwise distance matrix one block of rows at a time.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First set of rows. Must be finite.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Second set of rows; ``None`` means ``Y = X``.
    metric : str, callable or fitted metric learner, default="euclidean"
        As in :func:`pairwise_distances`.
    working_memory : float, default=None
        Memory, in MiB, that one block may take. ``None`` uses
        ``sklearn.get_config()["working_memory"]``. A block has at least one row.
    n_jobs : int, default=None
        Numba threads to use, as in :func:`pairwise_distances`.
    **params : dict
        Metric parameters, as in :func:`pairwise_distances`.

    Yields
    ------
    block : ndarray of shape (n_rows, n_samples_Y)
        Consecutive row blocks of the distance matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.distances import pairwise_distances_chunked
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> [block.shape for block in pairwise_distances_chunked(X, working_memory=1e-4)]
    [(2, 6), (2, 6), (2, 6)]
    """
    X, Y, engine = _prepare_pairwise(X, Y, metric, n_jobs, params)
    rows = _chunk_rows(Y.shape[0], X.dtype.itemsize, working_memory)
    for start in range(0, X.shape[0], rows):
        stop = min(start + rows, X.shape[0])
        block = np.empty((stop - start, Y.shape[0]), dtype=X.dtype)
        engine.fill(start, stop, block)
        yield block


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like"],
        "metric": METRIC_CONSTRAINT,
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def paired_distances(X, Y, metric="euclidean", *, n_jobs=None, **params):
    """Compute the distance between each row of X and the matching row of Y.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        First rows. Must be finite.
    Y : array-like of shape (n_samples, n_features)
        Second rows, one per row of X.
    metric : str, callable or fitted metric learner, default="euclidean"
        As in :func:`pairwise_distances`.
    n_jobs : int, default=None
        Numba threads to use, as in :func:`pairwise_distances`.
    **params : dict
        Metric parameters, as in :func:`pairwise_distances`.

    Returns
    -------
    distances : ndarray of shape (n_samples,)
        ``distances[i]`` is the distance from ``X[i]`` to ``Y[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.distances import paired_distances
    >>> paired_distances([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [1.0, 2.0]])
    array([5., 1.])
    """
    X, Y = _check_inputs(X, Y)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            "X and Y must have the same number of rows for paired distances; got "
            f"{X.shape[0]} and {Y.shape[0]}."
        )
    metric = _resolve_metric(metric, params, X.shape[1])
    out = np.empty(X.shape[0], dtype=X.dtype)
    if metric.func is not None:
        for i in range(X.shape[0]):
            out[i] = metric.func(X[i], Y[i], **metric.kwargs)
        return out
    if metric.components is not None:
        # Embedding the difference, not each row, avoids cancellation for close pairs.
        diff = np.asarray(X, dtype=np.float64) - Y
        out[:] = np.sqrt(np.einsum("ij,ij->i", *(2 * [diff @ metric.components.T])))
        return out
    aux_x = _kd.row_aux(X, metric.code)
    aux_y = _kd.row_aux(Y, metric.code)
    with parallel_section(threads_for_work(X.size, n_jobs)):
        _kd.paired_direct(X, Y, aux_x, aux_y, metric.code, metric.p, out)
    return out


@validate_params(
    {
        "X_query": ["array-like"],
        "X_index": ["array-like"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": METRIC_CONSTRAINT,
        "exclude_self": ["boolean"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def knn_search(
    X_query,
    X_index,
    n_neighbors,
    *,
    metric="euclidean",
    exclude_self=False,
    n_jobs=None,
    **params,
):
    """Find the exact nearest rows of X_index for every row of X_query.

    The search is brute force, exact, parallel over queries and chunked: the
    distance matrix is never held in memory, only one tile of it per thread.

    Parameters
    ----------
    X_query : array-like of shape (n_queries, n_features)
        Rows whose neighbours are wanted. Must be finite.
    X_index : array-like of shape (n_index, n_features)
        Rows to search.
    n_neighbors : int
        Neighbours per query, at most ``n_index`` (``n_index - 1`` with
        ``exclude_self``).
    metric : str, callable or fitted metric learner, default="euclidean"
        As in :func:`pairwise_distances`.
    exclude_self : bool, default=False
        Whether query ``i`` must skip index row ``i``, for searching a set
        against itself. ``X_query`` must then have as many rows as ``X_index``.
        Only row ``i`` is skipped: duplicates of it are kept, as in
        ``NearestNeighbors.kneighbors(X=None)``.
    n_jobs : int, default=None
        Numba threads to use, as in :func:`pairwise_distances`.
    **params : dict
        Metric parameters, as in :func:`pairwise_distances`.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors)
        Distances to the neighbours, ascending; float32 when both inputs are.
    indices : ndarray of shape (n_queries, n_neighbors)
        Row indices into ``X_index``. Equal distances are ordered by index.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.distances import knn_search
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> distances, indices = knn_search(X, X, 2, exclude_self=True)
    >>> indices
    array([[1, 2],
           [0, 2],
           [1, 0],
           [2, 1]])
    >>> distances
    array([[1., 3.],
           [1., 2.],
           [2., 3.],
           [4., 6.]])
    """
    X_query, X_index = _check_inputs(
        X_query, X_index, X_name="X_query", Y_name="X_index"
    )
    n_queries, n_index = X_query.shape[0], X_index.shape[0]
    if exclude_self and n_queries != n_index:
        raise ValueError(
            "exclude_self=True searches a set against itself, so X_query and "
            f"X_index must have the same rows; got {n_queries} and {n_index} rows."
        )
    n_eligible = n_index - int(exclude_self)
    if n_neighbors > n_eligible:
        raise ValueError(
            f"n_neighbors={n_neighbors} is more than the {n_eligible} rows that can "
            f"be neighbours (n_index={n_index}"
            + (
                ", minus the query itself with exclude_self=True)."
                if exclude_self
                else ")."
            )
        )
    metric = _resolve_metric(metric, params, X_query.shape[1])
    n_threads = threads_for_work(n_queries * n_index * X_query.shape[1], n_jobs)
    if metric.func is not None:
        distances, indices = _knn_callable(
            X_query, X_index, n_neighbors, metric, exclude_self
        )
    else:
        Q = _embed(X_query, metric)
        Y = _embed(X_index, metric)
        if (
            metric.code in (_kd.EUCLIDEAN, _kd.SQEUCLIDEAN)
            and Q.shape[1] >= _GEMM_MIN_FEATURES
        ):
            distances, indices = _knn_gemm(Q, Y, n_neighbors, exclude_self, n_threads)
            if metric.code == _kd.EUCLIDEAN:
                np.sqrt(distances, out=distances)
        else:
            query_ids = _query_ids(n_queries, exclude_self)
            distances, indices = _knn_direct(
                Q, Y, n_neighbors, metric, query_ids, n_threads
            )
    return distances.astype(X_query.dtype, copy=False), indices


def _query_ids(n_queries, exclude_self):
    if exclude_self:
        return np.arange(n_queries, dtype=np.intp)
    return np.full(n_queries, -1, dtype=np.intp)


def _knn_direct(Q, Y, n_neighbors, metric, query_ids, n_threads):
    distances = np.empty((Q.shape[0], n_neighbors))
    indices = np.empty((Q.shape[0], n_neighbors), dtype=np.intp)
    aux_q = _kd.row_aux(Q, metric.code)
    aux_y = _kd.row_aux(Y, metric.code)
    with parallel_section(n_threads):
        _kt.knn_direct(
            Q, aux_q, Y, aux_y, metric.code, metric.p, query_ids, distances, indices
        )
    return distances, indices


def _knn_gemm(Q, Y, n_neighbors, exclude_self, n_threads):
    """Squared Euclidean k-NN: GEMM candidates, exact re-rank, proven or redone.

    The candidates only have to be good enough for the proof, so their GEMM runs
    in float32 whatever the input dtype (twice the speed and half the memory
    traffic of float64); the re-rank and the proof use the input's rows. Data
    whose centred squares would overflow float32 keep a float64 GEMM.
    """
    n_features = Q.shape[1]
    mean = Y.mean(axis=0, dtype=np.float64)
    Q_shifted = Q - mean
    Y_shifted = Y - mean
    largest = max(
        np.abs(Q_shifted).max(initial=0.0), np.abs(Y_shifted).max(initial=0.0)
    )
    work_dtype = np.float32 if largest < _FLOAT32_SAFE_MAGNITUDE else np.float64
    Q_centred = np.asarray(Q_shifted, dtype=work_dtype)
    Y_centred = np.asarray(Y_shifted, dtype=work_dtype)
    del Q_shifted, Y_shifted
    sq_norm_q = np.einsum("ij,ij->i", Q_centred, Q_centred, dtype=np.float64)
    sq_norm_y = np.einsum("ij,ij->i", Y_centred, Y_centred, dtype=np.float64)

    Q_aug = np.empty((Q.shape[0], n_features + 1), dtype=work_dtype)
    Q_aug[:, :-1] = Q_centred
    Q_aug[:, -1] = 1.0
    Y_aug = np.empty((Y.shape[0], n_features + 1), dtype=work_dtype)
    np.multiply(Y_centred, -2.0, out=Y_aug[:, :-1])
    Y_aug[:, -1] = sq_norm_y

    n_eligible = Y.shape[0] - int(exclude_self)
    n_candidates = min(n_eligible, n_neighbors + _CANDIDATE_PAD)
    heap_d = np.full((Q.shape[0], n_candidates), np.inf)
    heap_i = np.full((Q.shape[0], n_candidates), _kt.EMPTY, dtype=np.intp)
    # Small query sets still give every thread a few tiles to balance the load.
    tile_rows = max(_MIN_TILE_ROWS, min(_TILE_ROWS, -(-Q.shape[0] // (4 * n_threads))))
    with parallel_section(n_threads, limit_blas=True):
        _kt.knn_gemm_candidates(
            Q_aug,
            Y_aug,
            sq_norm_q,
            tile_rows,
            _BLOCK_COLS,
            exclude_self,
            heap_d,
            heap_i,
        )

    # |approximate - exact| <= slack: the GEMM rounding bound gamma_(d+1) on
    # |x|^2 + 2|y|^2, plus the rounding of the centred rows and of |y|^2, with a
    # factor 2 to spare.
    unit_roundoff = np.finfo(work_dtype).eps / 2
    slack = 2.0 * (n_features + 8) * unit_roundoff * (sq_norm_q + 2.0 * sq_norm_y.max())

    distances = np.empty((Q.shape[0], n_neighbors))
    indices = np.empty((Q.shape[0], n_neighbors), dtype=np.intp)
    proven = np.empty(Q.shape[0], dtype=np.bool_)
    with parallel_section(n_threads):
        _kt.rerank_candidates(
            Q, Y, heap_d, heap_i, slack, n_eligible, distances, indices, proven
        )
    redo = np.flatnonzero(~proven)
    if redo.size:
        metric = _Metric(_kd.SQEUCLIDEAN, 2.0, None, None, None)
        query_ids = _query_ids(Q.shape[0], exclude_self)[redo]
        distances[redo], indices[redo] = _knn_direct(
            np.ascontiguousarray(Q[redo]),
            Y,
            n_neighbors,
            metric,
            query_ids,
            n_threads,
        )
    return distances, indices


def _knn_callable(X_query, X_index, n_neighbors, metric, exclude_self):
    n_queries, n_index = X_query.shape[0], X_index.shape[0]
    distances = np.empty((n_queries, n_neighbors), dtype=np.float64)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    rows = _chunk_rows(n_index)
    for start in range(0, n_queries, rows):
        stop = min(start + rows, n_queries)
        block = np.empty((stop - start, n_index))
        for a, i in enumerate(range(start, stop)):
            for j in range(n_index):
                block[a, j] = metric.func(X_query[i], X_index[j], **metric.kwargs)
        # A stable sort keeps equal distances in index order.
        order = np.argsort(block, axis=1, kind="stable")
        if exclude_self:
            keep = order != np.arange(start, stop)[:, None]
            order = order[keep].reshape(stop - start, n_index - 1)
        order = order[:, :n_neighbors]
        indices[start:stop] = order
        distances[start:stop] = np.take_along_axis(block, order, axis=1)
    return distances, indices
