"""Numba kernels of the HNSW index: layer search, neighbour selection, insertion.

The graph lives in flat arrays that the Python class owns and grows:

* ``links0[i, :deg0[i]]``: the neighbours of node ``i`` on layer 0, at most
  ``M0 = 2 M`` of them;
* ``links_up[r, :deg_up[r]]`` with ``r = upper_offset[i] + level - 1``: the
  neighbours of node ``i`` on an upper layer ``level >= 1``, at most ``M``;
* ``state = [entry_point, max_level]``.

Navigation compares *navigation distances*, a cheap monotone form of the
metric in the data's own precision: the squared Euclidean distance (also for
Mahalanobis metrics, searched in the mapped space), the negative inner product
(``"ip"``, and ``"cosine"`` on rows scaled to unit norm), or the reduced form
of any other metric of :mod:`sklearn_metric._kernels._distances`. The ``ef``
candidates a query ends with are re-ranked by the exact distance, summed in
float64, and ties are ordered by index, so with ``ef`` at least the number of
nodes the result is that of a brute-force search.

No kernel takes a jitted function as an argument: the metric is an integer
code, so every kernel is served from Numba's on-disk cache in a new process.
"""

import numpy as np
from numba import njit, prange

from ..._kernels import _distances as _kd

NAV_SQ = 0
NAV_DOT = 1
NAV_GENERIC = 2

#: Exact-distance code of the inner-product "metric" ``1 - <x, y>``.
EXACT_IP = -1


@njit(cache=True, fastmath=True)
def _sq(data, j, q):
    acc = q[0] - q[0]
    for k in range(q.shape[0]):
        t = data[j, k] - q[k]
        acc += t * t
    return acc


@njit(cache=True, fastmath=True)
def _dot(data, j, q):
    acc = q[0] - q[0]
    for k in range(q.shape[0]):
        acc += data[j, k] * q[k]
    return acc


@njit(cache=True, fastmath=True)
def _sq_nodes(data, a, b):
    acc = data[a, 0] - data[a, 0]
    for k in range(data.shape[1]):
        t = data[a, k] - data[b, k]
        acc += t * t
    return acc


@njit(cache=True, fastmath=True)
def _dot_nodes(data, a, b):
    acc = data[a, 0] - data[a, 0]
    for k in range(data.shape[1]):
        acc += data[a, k] * data[b, k]
    return acc


@njit(cache=True, inline="always")
def _nav_nodes(nav, code, p, data, aux, a, b):
    """Navigation distance between two nodes, ``a`` as the anchor."""
    if nav == NAV_SQ:
        return np.float64(_sq_nodes(data, a, b))
    if nav == NAV_DOT:
        return -np.float64(_dot_nodes(data, a, b))
    return _kd.reduced_distance(code, data[a], data[b], aux[a], aux[b], p)


@njit(cache=True, inline="always")
def _nav(nav, code, p, data, aux, j, q, aux_q):
    """Navigation distance from query row ``q`` to node ``j``."""
    if nav == NAV_SQ:
        return np.float64(_sq(data, j, q))
    if nav == NAV_DOT:
        return -np.float64(_dot(data, j, q))
    return _kd.reduced_distance(code, q, data[j], aux_q, aux[j], p)


@njit(cache=True)
def _exact(code, p, q, row, aux_q, aux_row):
    """The reported distance between ``q`` and ``row``, summed in float64."""
    if code == EXACT_IP:
        acc = 0.0
        for k in range(q.shape[0]):
            acc += np.float64(q[k]) * np.float64(row[k])
        return 1.0 - acc
    return _kd.finalize_distance(
        code, _kd.reduced_distance(code, q, row, aux_q, aux_row, p), p
    )


@njit(cache=True, inline="always")
def _push_min(hd, hi, size, d, i):
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if hd[parent] <= d:
            break
        hd[pos] = hd[parent]
        hi[pos] = hi[parent]
        pos = parent
    hd[pos] = d
    hi[pos] = i
    return size + 1


@njit(cache=True, inline="always")
def _pop_min(hd, hi, size):
    size -= 1
    if size == 0:
        return 0
    d = hd[size]
    i = hi[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and hd[child + 1] < hd[child]:
            child += 1
        if hd[child] >= d:
            break
        hd[pos] = hd[child]
        hi[pos] = hi[child]
        pos = child
    hd[pos] = d
    hi[pos] = i
    return size


@njit(cache=True, inline="always")
def _push_max(hd, hi, size, d, i):
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if hd[parent] >= d:
            break
        hd[pos] = hd[parent]
        hi[pos] = hi[parent]
        pos = parent
    hd[pos] = d
    hi[pos] = i
    return size + 1


@njit(cache=True, inline="always")
def _pop_max(hd, hi, size):
    size -= 1
    if size == 0:
        return 0
    d = hd[size]
    i = hi[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and hd[child + 1] > hd[child]:
            child += 1
        if hd[child] <= d:
            break
        hd[pos] = hd[child]
        hi[pos] = hi[child]
        pos = child
    hd[pos] = d
    hi[pos] = i
    return size


@njit(cache=True)
def _sort_pairs(d, idx, n):
    """Insertion sort of the first ``n`` pairs by (distance, index)."""
    for a in range(1, n):
        dv = d[a]
        iv = idx[a]
        b = a - 1
        while b >= 0 and (d[b] > dv or (d[b] == dv and idx[b] > iv)):
            d[b + 1] = d[b]
            idx[b + 1] = idx[b]
            b -= 1
        d[b + 1] = dv
        idx[b + 1] = iv


@njit(cache=True)
def _greedy(
    q, aux_q, ep, ep_d, level, data, aux, upper_offset, links_up, deg_up, nav, code, p
):
    """Move to ever closer neighbours on one upper layer (a search with ef=1)."""
    changed = True
    while changed:
        changed = False
        r = upper_offset[ep] + level - 1
        for t in range(deg_up[r]):
            e = links_up[r, t]
            d = _nav(nav, code, p, data, aux, e, q, aux_q)
            if d < ep_d:
                ep_d = d
                ep = e
                changed = True
    return ep, ep_d


@njit(cache=True)
def _search_layer(
    q,
    aux_q,
    ep,
    ep_d,
    level,
    ef,
    skip_deleted,
    deleted,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    nav,
    code,
    p,
    visited,
    tag,
    cand_d,
    cand_i,
    res_d,
    res_i,
):
    """Best-first search of one layer; the ``ef`` closest nodes end in a max-heap.

    Returns the number of results in ``res_d`` / ``res_i`` (a max-heap by
    navigation distance). Deleted nodes are walked through but, with
    ``skip_deleted``, never enter the results.
    """
    visited[ep] = tag
    n_cand = _push_min(cand_d, cand_i, 0, ep_d, ep)
    n_res = 0
    lower = np.inf
    if not (skip_deleted and deleted[ep]):
        n_res = _push_max(res_d, res_i, 0, ep_d, ep)
        lower = ep_d
    while n_cand > 0:
        c_d = cand_d[0]
        c = cand_i[0]
        if c_d > lower and n_res >= ef:
            break
        n_cand = _pop_min(cand_d, cand_i, n_cand)
        if level == 0:
            deg = deg0[c]
        else:
            r = upper_offset[c] + level - 1
            deg = deg_up[r]
        for t in range(deg):
            if level == 0:
                e = links0[c, t]
            else:
                e = links_up[r, t]
            if visited[e] == tag:
                continue
            visited[e] = tag
            d = _nav(nav, code, p, data, aux, e, q, aux_q)
            if n_res < ef or d < lower:
                n_cand = _push_min(cand_d, cand_i, n_cand, d, e)
                if not (skip_deleted and deleted[e]):
                    n_res = _push_max(res_d, res_i, n_res, d, e)
                    if n_res > ef:
                        n_res = _pop_max(res_d, res_i, n_res)
                    lower = res_d[0]
    return n_res


@njit(cache=True)
def _select(cd, ci, n, m, data, aux, nav, code, p, out_i, out_d):
    """The neighbour-selection heuristic (algorithm 4 of the HNSW paper).

    Candidates ``ci[:n]`` are sorted by their distance ``cd`` to the base node.
    A candidate is kept when it is closer to the base node than to every
    neighbour kept before it, until ``m`` are kept; with at most ``m``
    candidates, all are kept. Returns the number kept.
    """
    if n <= m:
        for a in range(n):
            out_i[a] = ci[a]
            out_d[a] = cd[a]
        return n
    n_sel = 0
    for a in range(n):
        if n_sel >= m:
            break
        e = ci[a]
        good = True
        for b in range(n_sel):
            if _nav_nodes(nav, code, p, data, aux, e, out_i[b]) < cd[a]:
                good = False
                break
        if good:
            out_i[n_sel] = e
            out_d[n_sel] = cd[a]
            n_sel += 1
    return n_sel


@njit(cache=True)
def _link_back(
    s,
    i,
    d_si,
    level,
    m_max,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    nav,
    code,
    p,
    tmp_d,
    tmp_i,
    sel_d,
    sel_i,
):
    """Add ``i`` to the neighbours of ``s``; shrink them with the heuristic if full."""
    if level == 0:
        deg = deg0[s]
    else:
        r = upper_offset[s] + level - 1
        deg = deg_up[r]
    if deg < m_max:
        if level == 0:
            links0[s, deg] = i
            deg0[s] = deg + 1
        else:
            links_up[r, deg] = i
            deg_up[r] = deg + 1
        return
    tmp_d[0] = d_si
    tmp_i[0] = i
    for t in range(deg):
        e = links0[s, t] if level == 0 else links_up[r, t]
        tmp_i[t + 1] = e
        tmp_d[t + 1] = _nav_nodes(nav, code, p, data, aux, s, e)
    _sort_pairs(tmp_d, tmp_i, deg + 1)
    n_sel = _select(tmp_d, tmp_i, deg + 1, m_max, data, aux, nav, code, p, sel_i, sel_d)
    for t in range(n_sel):
        if level == 0:
            links0[s, t] = sel_i[t]
        else:
            links_up[r, t] = sel_i[t]
    if level == 0:
        deg0[s] = n_sel
    else:
        deg_up[r] = n_sel


@njit(cache=True)
def _search_buffers(n_nodes, width):
    """Scratch arrays of a layer search on a graph of ``n_nodes`` nodes.

    Visit tags, the candidate min-heap (any node may enter it) and the result
    max-heap of at most ``width - 1`` entries.
    """
    return (
        np.zeros(n_nodes, dtype=np.int32),
        np.empty(n_nodes + 1),
        np.empty(n_nodes + 1, dtype=np.int32),
        np.empty(width),
        np.empty(width, dtype=np.int32),
    )


@njit(cache=True)
def _place_buffers(n_nodes, width):
    """:func:`_search_buffers`, the sorted results and an empty deletion mask."""
    visited, cand_d, cand_i, res_d, res_i = _search_buffers(n_nodes, width)
    sorted_d = np.empty(width)
    sorted_i = np.empty(width, dtype=np.int32)
    no_deleted = np.zeros(1, dtype=np.bool_)
    return visited, cand_d, cand_i, res_d, res_i, sorted_d, sorted_i, no_deleted


@njit(cache=True)
def _place(
    i,
    top,
    entry,
    levels,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    M,
    ef_construction,
    nav,
    code,
    p,
    buffers,
    tag,
    found_i,
    found_d,
    n_found,
):
    """Find node ``i``'s neighbours on each of its layers; the graph is only read.

    Writes the ``n_found[lev]`` neighbours chosen on layer ``lev`` to
    ``found_i[lev]`` and their distances to ``found_d[lev]`` (none on layers
    above ``top``), and returns the last visit tag used. ``buffers`` comes from
    :func:`_place_buffers`.
    """
    visited, cand_d, cand_i, res_d, res_i, sorted_d, sorted_i, no_deleted = buffers
    level = levels[i]
    q = data[i]
    aux_q = aux[i]
    for lev in range(level + 1):
        n_found[lev] = 0
    ep = entry
    ep_d = _nav(nav, code, p, data, aux, ep, q, aux_q)
    for lev in range(top, level, -1):
        ep, ep_d = _greedy(
            q,
            aux_q,
            ep,
            ep_d,
            lev,
            data,
            aux,
            upper_offset,
            links_up,
            deg_up,
            nav,
            code,
            p,
        )
    for lev in range(min(level, top), -1, -1):
        tag += 1
        n_res = _search_layer(
            q,
            aux_q,
            ep,
            ep_d,
            lev,
            ef_construction,
            False,
            no_deleted,
            data,
            aux,
            links0,
            deg0,
            upper_offset,
            links_up,
            deg_up,
            nav,
            code,
            p,
            visited,
            tag,
            cand_d,
            cand_i,
            res_d,
            res_i,
        )
        for t in range(n_res - 1, -1, -1):
            sorted_d[t] = res_d[0]
            sorted_i[t] = res_i[0]
            _pop_max(res_d, res_i, t + 1)
        _sort_pairs(sorted_d, sorted_i, n_res)
        n_found[lev] = _select(
            sorted_d,
            sorted_i,
            n_res,
            M,
            data,
            aux,
            nav,
            code,
            p,
            found_i[lev],
            found_d[lev],
        )
        ep = sorted_i[0]
        ep_d = sorted_d[0]
    return tag


@njit(cache=True)
def _connect(
    i,
    level,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    M,
    nav,
    code,
    p,
    found_i,
    found_d,
    n_found,
    tmp_d,
    tmp_i,
    sel_d,
    sel_i,
):
    """Link node ``i`` to the neighbours :func:`_place` found, and them to it."""
    M0 = links0.shape[1]
    for lev in range(level + 1):
        n_sel = n_found[lev]
        if lev == 0:
            for t in range(n_sel):
                links0[i, t] = found_i[lev, t]
            deg0[i] = n_sel
        else:
            r = upper_offset[i] + lev - 1
            for t in range(n_sel):
                links_up[r, t] = found_i[lev, t]
            deg_up[r] = n_sel
        m_max = M0 if lev == 0 else M
        for t in range(n_sel):
            _link_back(
                found_i[lev, t],
                i,
                found_d[lev, t],
                lev,
                m_max,
                data,
                aux,
                links0,
                deg0,
                upper_offset,
                links_up,
                deg_up,
                nav,
                code,
                p,
                tmp_d,
                tmp_i,
                sel_d,
                sel_i,
            )


@njit(cache=True)
def insert_range(
    start,
    stop,
    levels,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    state,
    M,
    ef_construction,
    nav,
    code,
    p,
):
    """Insert nodes ``start .. stop - 1`` one after the other.

    Their rows, levels and upper-layer offsets are already in the arrays;
    ``state`` (entry point, top level) is updated in place.
    """
    M0 = links0.shape[1]
    width = max(ef_construction, M0) + 2
    buffers = _place_buffers(stop, width)
    tag = 0
    tmp_d = np.empty(M0 + 2)
    tmp_i = np.empty(M0 + 2, dtype=np.int32)
    n_levels = levels[start:stop].max() + 1
    found_i = np.empty((n_levels, M), dtype=np.int32)
    found_d = np.empty((n_levels, M))
    n_found = np.zeros(n_levels, dtype=np.int32)
    for i in range(start, stop):
        level = levels[i]
        if state[0] < 0:
            state[0] = i
            state[1] = level
            continue
        tag = _place(
            i,
            state[1],
            state[0],
            levels,
            data,
            aux,
            links0,
            deg0,
            upper_offset,
            links_up,
            deg_up,
            M,
            ef_construction,
            nav,
            code,
            p,
            buffers,
            tag,
            found_i,
            found_d,
            n_found,
        )
        _connect(
            i,
            min(level, state[1]),
            data,
            aux,
            links0,
            deg0,
            upper_offset,
            links_up,
            deg_up,
            M,
            nav,
            code,
            p,
            found_i,
            found_d,
            n_found,
            tmp_d,
            tmp_i,
            buffers[3],
            buffers[4],
        )
        if level > state[1]:
            state[0] = i
            state[1] = level


@njit(parallel=True, cache=True)
def place_batch(
    start,
    stop,
    levels,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    state,
    M,
    ef_construction,
    nav,
    code,
    p,
    n_chunks,
    found_i,
    found_d,
    n_found,
):
    """:func:`_place` for nodes ``start .. stop - 1`` in parallel, on the graph of
    the nodes before ``start`` (which must not be empty)."""
    M0 = links0.shape[1]
    width = max(ef_construction, M0) + 2
    n_batch = stop - start
    chunk = (n_batch + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        begin = start + c * chunk
        end = min(begin + chunk, stop)
        if begin >= end:
            continue
        buffers = _place_buffers(start, width)
        tag = 0
        for i in range(begin, end):
            b = i - start
            tag = _place(
                i,
                state[1],
                state[0],
                levels,
                data,
                aux,
                links0,
                deg0,
                upper_offset,
                links_up,
                deg_up,
                M,
                ef_construction,
                nav,
                code,
                p,
                buffers,
                tag,
                found_i[b],
                found_d[b],
                n_found[b],
            )


@njit(cache=True)
def connect_batch(
    start,
    stop,
    levels,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    state,
    M,
    nav,
    code,
    p,
    found_i,
    found_d,
    n_found,
):
    """Link the nodes :func:`place_batch` placed, one after the other."""
    M0 = links0.shape[1]
    tmp_d = np.empty(M0 + 2)
    tmp_i = np.empty(M0 + 2, dtype=np.int32)
    sel_d = np.empty(M0 + 2)
    sel_i = np.empty(M0 + 2, dtype=np.int32)
    top = state[1]
    for i in range(start, stop):
        b = i - start
        level = levels[i]
        _connect(
            i,
            min(level, top),
            data,
            aux,
            links0,
            deg0,
            upper_offset,
            links_up,
            deg_up,
            M,
            nav,
            code,
            p,
            found_i[b],
            found_d[b],
            n_found[b],
            tmp_d,
            tmp_i,
            sel_d,
            sel_i,
        )
        if level > state[1]:
            state[0] = i
            state[1] = level


@njit(parallel=True, cache=True)
def query_batch(
    Q,
    aux_q,
    n_neighbors,
    ef,
    n_chunks,
    data,
    aux,
    links0,
    deg0,
    upper_offset,
    links_up,
    deg_up,
    state,
    deleted,
    skip_deleted,
    nav,
    code,
    exact_code,
    p,
    out_d,
    out_i,
):
    """Search every row of ``Q``; write the exact ``n_neighbors`` best of ``ef``.

    Rows with fewer reachable live nodes than ``n_neighbors`` are padded with
    index -1 and distance inf.
    """
    n_queries = Q.shape[0]
    n_nodes = data.shape[0]
    width = ef + 2
    chunk = (n_queries + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        begin = c * chunk
        end = min(begin + chunk, n_queries)
        if begin >= end:
            continue
        visited, cand_d, cand_i, res_d, res_i = _search_buffers(n_nodes, width)
        exact_d = np.empty(width)
        ids = np.empty(width, dtype=np.int32)
        tag = 0
        for qi in range(begin, end):
            q = Q[qi]
            a_q = aux_q[qi]
            ep = state[0]
            ep_d = _nav(nav, code, p, data, aux, ep, q, a_q)
            for lev in range(state[1], 0, -1):
                ep, ep_d = _greedy(
                    q,
                    a_q,
                    ep,
                    ep_d,
                    lev,
                    data,
                    aux,
                    upper_offset,
                    links_up,
                    deg_up,
                    nav,
                    code,
                    p,
                )
            tag += 1
            n_res = _search_layer(
                q,
                a_q,
                ep,
                ep_d,
                0,
                ef,
                skip_deleted,
                deleted,
                data,
                aux,
                links0,
                deg0,
                upper_offset,
                links_up,
                deg_up,
                nav,
                code,
                p,
                visited,
                tag,
                cand_d,
                cand_i,
                res_d,
                res_i,
            )
            # Nearest first by navigation distance, which is nearly the exact
            # order: the insertion sort by (exact distance, index) is then
            # close to linear.
            for t in range(n_res - 1, -1, -1):
                ids[t] = res_i[0]
                _pop_max(res_d, res_i, t + 1)
            for t in range(n_res):
                exact_d[t] = _exact(exact_code, p, q, data[ids[t]], a_q, aux[ids[t]])
            _sort_pairs(exact_d, ids, n_res)
            n_out = min(n_res, n_neighbors)
            for t in range(n_out):
                out_d[qi, t] = exact_d[t]
                out_i[qi, t] = ids[t]
            for t in range(n_out, n_neighbors):
                out_d[qi, t] = np.inf
                out_i[qi, t] = -1
