"""Numba kernels for exact k-nearest-neighbour search.

Two search paths share one bounded max-heap per query:

* the direct path computes every distance pair by pair and keeps the best k,
  ordered by (distance, index), so that ties go to the smaller index;
* the GEMM path, for Euclidean distances, gets each block of distances from one
  BLAS matrix product inside ``prange`` and feeds it straight into the heaps,
  never holding more than a tile of distances per thread. The product is fast
  but rounded, so it only proposes ``k + pad`` candidates; they are then
  re-ranked with exact distances, and a query whose candidates cannot be proved
  to contain the true top k under the GEMM rounding bound is searched again on
  the direct path.
"""

import numpy as np
from numba import njit, prange

from ._distances import finalize_distance, reduced_block, sqeuclidean

# Index of an empty heap slot. It ranks after every real (distance, index) pair,
# infinite distances included, so any real candidate displaces it.
EMPTY = np.iinfo(np.intp).max


@njit(cache=True)
def _after(d1, i1, d2, i2):
    """Whether (d1, i1) ranks after (d2, i2): larger distance, then larger index."""
    return d1 > d2 or (d1 == d2 and i1 > i2)


@njit(cache=True)
def heap_replace_root(heap_d, heap_i, value, index):
    """Put (value, index) in place of the root of a max-heap and sift it down."""
    size = heap_d.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _after(
            heap_d[right], heap_i[right], heap_d[child], heap_i[child]
        ):
            child = right
        if not _after(heap_d[child], heap_i[child], value, index):
            break
        heap_d[pos] = heap_d[child]
        heap_i[pos] = heap_i[child]
        pos = child
    heap_d[pos] = value
    heap_i[pos] = index


@njit(cache=True)
def heap_sort(heap_d, heap_i):
    """Sort a max-heap in place into ascending (distance, index) order."""
    for end in range(heap_d.shape[0] - 1, 0, -1):
        top_d = heap_d[0]
        top_i = heap_i[0]
        # Re-heapify the prefix [0, end) with the last element, then park the
        # old root at `end`.
        heap_replace_root(heap_d[:end], heap_i[:end], heap_d[end], heap_i[end])
        heap_d[end] = top_d
        heap_i[end] = top_i


# Entries of a row of approximate distances tested together before any is
# looked at one by one (see _scan_block).
_SCAN_CHUNK = 64

# Queries searched together on the direct path, and index rows per block of
# reduced distances: one (queries x columns) float64 buffer per thread.
_QUERY_BLOCK = 8
_COLUMN_BLOCK = 2048


@njit(cache=True)
def _direct_query_block(
    X, q_start, q_stop, aux_x, Y, aux_y, code, p, query_ids, out_d, out_i
):
    buffer = np.empty((q_stop - q_start, min(_COLUMN_BLOCK, Y.shape[0])))
    for q in range(q_start, q_stop):
        out_d[q, :] = np.inf
        out_i[q, :] = EMPTY
    for y_start in range(0, Y.shape[0], _COLUMN_BLOCK):
        y_stop = min(y_start + _COLUMN_BLOCK, Y.shape[0])
        reduced_block(
            code, X, q_start, q_stop, aux_x, Y, y_start, y_stop, aux_y, p, buffer
        )
        for q in range(q_start, q_stop):
            heap_d = out_d[q]
            heap_i = out_i[q]
            row = buffer[q - q_start]
            skip = query_ids[q]
            for j in range(y_start, y_stop):
                value = row[j - y_start]
                # Indices arrive in increasing order, so a tie never displaces
                # a smaller index already kept; _after settles ties in the heap.
                if j != skip and _after(heap_d[0], heap_i[0], value, j):
                    heap_replace_root(heap_d, heap_i, value, j)
    for q in range(q_start, q_stop):
        heap_sort(out_d[q], out_i[q])
        for m in range(out_d.shape[1]):
            out_d[q, m] = finalize_distance(code, out_d[q, m], p)


@njit(parallel=True, cache=True)
def knn_direct(X, aux_x, Y, aux_y, code, p, query_ids, out_d, out_i):
    """Exact k nearest rows of Y for every row of X, pair by pair.

    ``query_ids[q]`` is the index in Y that query q must skip (itself), or -1.
    ``out_d`` (float64) and ``out_i`` have shape (n_queries, k). Queries go in
    blocks, and each block's distances to a block of Y are computed at once.
    """
    n_q = X.shape[0]
    n_blocks = (n_q + _QUERY_BLOCK - 1) // _QUERY_BLOCK
    for block in prange(n_blocks):
        q_start = block * _QUERY_BLOCK
        _direct_query_block(
            X,
            q_start,
            min(q_start + _QUERY_BLOCK, n_q),
            aux_x,
            Y,
            aux_y,
            code,
            p,
            query_ids,
            out_d,
            out_i,
        )


@njit(cache=True)
def _scan_block(E, sq_norm_q, q_start, y_start, exclude_self, heap_d, heap_i):
    """Push one block of approximate squared distances into the query heaps.

    ``E[a, b]`` holds ``|y|^2 - 2 x.y`` for query ``q_start + a`` and index row
    ``y_start + b``; adding ``|x|^2`` gives the squared distance. ``heap_d``,
    ``heap_i`` and ``sq_norm_q`` are the tile's own rows. The threshold test is
    done on E itself, so the common case (no insertion) costs one comparison,
    and the self check only runs for rows that pass it.
    """
    for a in range(E.shape[0]):
        query = q_start + a
        hd = heap_d[a]
        hi = heap_i[a]
        base = sq_norm_q[a]
        threshold = hd[0] - base
        row = E[a]
        n_cols = row.shape[0]
        for b0 in range(0, n_cols, _SCAN_CHUNK):
            b1 = min(b0 + _SCAN_CHUNK, n_cols)
            # Counting the entries under the threshold is branch-free, so the
            # compiler vectorises it; most chunks have none once the heap has
            # filled, and only chunks with some are scanned one by one.
            hits = 0
            for b in range(b0, b1):
                hits += row[b] < threshold
            if hits == 0:
                continue
            for b in range(b0, b1):
                if row[b] < threshold:
                    index = y_start + b
                    if exclude_self and index == query:
                        continue
                    heap_replace_root(hd, hi, row[b] + base, index)
                    threshold = hd[0] - base


@njit(parallel=True, cache=True)
def knn_gemm_candidates(
    Q_aug, Y_aug, sq_norm_q, tile_rows, block_cols, exclude_self, heap_d, heap_i
):
    """Approximate candidate search with one GEMM per (query tile, index block).

    ``Q_aug = [Q, 1]`` and ``Y_aug = [-2 Y, |Y|^2]`` so that ``Q_aug @ Y_aug.T``
    is ``|y|^2 - 2 x.y`` directly. Query tiles are spread over threads; the
    caller pins BLAS to one thread so that the tiles do not compete for cores.
    Heaps must be initialised to (+inf, EMPTY).
    """
    n_q = Q_aug.shape[0]
    n_y = Y_aug.shape[0]
    n_tiles = (n_q + tile_rows - 1) // tile_rows
    for tile in prange(n_tiles):
        q_start = tile * tile_rows
        q_stop = min(q_start + tile_rows, n_q)
        Q_tile = Q_aug[q_start:q_stop]
        for y_start in range(0, n_y, block_cols):
            y_stop = min(y_start + block_cols, n_y)
            E = np.dot(Q_tile, Y_aug[y_start:y_stop].T)
            _scan_block(
                E,
                sq_norm_q[q_start:q_stop],
                q_start,
                y_start,
                exclude_self,
                heap_d[q_start:q_stop],
                heap_i[q_start:q_stop],
            )


@njit(cache=True)
def _heapify(heap_d, heap_i):
    size = heap_d.shape[0]
    for start in range(size // 2 - 1, -1, -1):
        pos = start
        value = heap_d[pos]
        index = heap_i[pos]
        while True:
            child = 2 * pos + 1
            if child >= size:
                break
            right = child + 1
            if right < size and _after(
                heap_d[right], heap_i[right], heap_d[child], heap_i[child]
            ):
                child = right
            if not _after(heap_d[child], heap_i[child], value, index):
                break
            heap_d[pos] = heap_d[child]
            heap_i[pos] = heap_i[child]
            pos = child
        heap_d[pos] = value
        heap_i[pos] = index


@njit(parallel=True, cache=True)
def rerank_candidates(
    X, Y, heap_d, heap_i, slack, n_index_eligible, out_d, out_i, proven
):
    """Re-rank GEMM candidates with exact squared distances.

    For query q, every row left out of the candidates has an approximate
    distance of at least the heap's largest, ``heap_d[q, 0]``, hence an exact
    one of at least ``heap_d[q, 0] - slack[q]``. If the k-th exact candidate
    distance is strictly below that, the candidates hold the exact top k, ties
    by index included, and ``proven[q]`` is set. Otherwise the caller searches
    the query again on the direct path.
    """
    n_q, n_candidates = heap_i.shape
    k = out_d.shape[1]
    for q in prange(n_q):
        cand_d = np.empty(n_candidates)
        cand_i = np.empty(n_candidates, dtype=heap_i.dtype)
        for m in range(n_candidates):
            index = heap_i[q, m]
            cand_i[m] = index
            if index == EMPTY:
                cand_d[m] = np.inf
            else:
                cand_d[m] = sqeuclidean(X[q], Y[index])
        _heapify(cand_d, cand_i)
        heap_sort(cand_d, cand_i)
        for m in range(k):
            out_d[q, m] = cand_d[m]
            out_i[q, m] = cand_i[m]
        if n_index_eligible <= n_candidates:
            # Every eligible row was a candidate: nothing was left out.
            proven[q] = True
        else:
            proven[q] = cand_d[k - 1] < heap_d[q, 0] - slack[q]
