"""Numba kernels of the metric learners.

One section per learner family. Every kernel works on validated float32 or
float64 arrays and on index arrays into them (tuples are never materialised),
and has a plain NumPy twin, either beside it or in the tests, that serves as
its oracle.
"""

import math

import numpy as np
from numba import njit, prange

# ----------------------------------------------------------------------
# NCA and MLKR: softmax objectives over all pairs
# ----------------------------------------------------------------------
# Numba kernels for the softmax-neighbour objectives of NCA and MLKR.
#
# Both objectives are built from the same leave-one-out softmax over squared
# distances in the embedded space ``Z = X L'``::
#
#     p_ij = exp(-D_ij) / sum_{k != i} exp(-D_ik),   D_ij = ||z_i - z_j||^2,
#
# with ``p_ii = 0``. Writing ``G_ij`` for the derivative of the objective with
# respect to ``D_ij``, the gradient with respect to ``L`` is
#
#     2 L sum_ij G_ij (x_i - x_j)(x_i - x_j)'
#         = 2 L (X' diag(r + c) X - X' G X - (X' G X)'),
#
# where ``r`` and ``c`` are the row and column sums of ``G``. So the only
# ``O(n^2)`` work is one pass over ``G`` by row chunks: a GEMM for the chunk's
# distances, the softmax, ``G`` itself, and ``G X`` for the chunk's rows. No
# ``(n, n, d)`` tensor and no ``(n, n)`` matrix is ever formed; every thread holds
# one ``(chunk_rows, n)`` buffer at a time.
#
# Weights below ``exp(-SOFTMAX_CUTOFF)`` times the largest weight of their row
# are set to zero (the largest is 1 after the log-sum-exp shift). Dropping them
# changes a row's sums by at most ``n * exp(-60)``, about ``1e-26 n`` in relative
# terms: below float64 rounding for any feasible ``n``. Rows whose weights are
# mostly zero -- the common case once the metric has been learned -- then get
# ``G X`` from their nonzero entries only, instead of a dense GEMM.
#
# Scalars and sums are float64 also for float32 inputs; the GEMMs run in the
# input dtype. The exponential is a branch-free polynomial one that the
# compiler vectorises (see ``_softmax_weights``), exact to about one ulp.


#: Objective codes of :func:`softmax_chunks`.
NCA_OBJECTIVE = 0
MLKR_OBJECTIVE = 1

SOFTMAX_CUTOFF = 60.0

# A row whose nonzero weights are fewer than this fraction of n gets its row of
# G X by a sparse loop; denser rows are gathered into one GEMM. On digits
# (n = 1257, d = 64) the two cost the same at about a third: a whole MLKR fit's
# evaluations took 617 ms at 0.35, 634 ms at 0.25 and 647 ms at 0.5.
_SPARSE_FRACTION = 0.35

# Chunks are dealt to at most this many groups, whatever the number of threads
# (see chunk_layout); more groups than threads keep the threads evenly loaded,
# but a group keeps at least _MIN_GROUP_ROWS rows so that its GEMMs stay
# efficient.
_N_GROUPS = 16
_MIN_GROUP_ROWS = 256


# Constants of the exponential below (those of fdlibm).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


@njit(cache=True)
def _sum(values):
    """Sum with eight running partial sums, so that the loop vectorises."""
    n = values.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = n - n % 8
    for j in range(0, stop, 8):
        s0 += values[j]
        s1 += values[j + 1]
        s2 += values[j + 2]
        s3 += values[j + 3]
        s4 += values[j + 4]
        s5 += values[j + 5]
        s6 += values[j + 6]
        s7 += values[j + 7]
    for j in range(stop, n):
        s0 += values[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True)
def _min(values):
    """Minimum with eight running partial minima, so that the loop vectorises."""
    n = values.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = np.inf
    stop = n - n % 8
    for j in range(0, stop, 8):
        m0 = min(m0, values[j])
        m1 = min(m1, values[j + 1])
        m2 = min(m2, values[j + 2])
        m3 = min(m3, values[j + 3])
        m4 = min(m4, values[j + 4])
        m5 = min(m5, values[j + 5])
        m6 = min(m6, values[j + 6])
        m7 = min(m7, values[j + 7])
    for j in range(stop, n):
        m0 = min(m0, values[j])
    return min(min(min(m0, m1), min(m2, m3)), min(min(m4, m5), min(m6, m7)))


@njit(cache=True)
def _softmax_weights(distances, offset, weights, scale_bits):
    """``weights[j] = exp(-t)`` with ``t = distances[j] - offset``, and 0 where
    ``t > SOFTMAX_CUTOFF``.

    A branch-free exponential that the compiler vectorises, about four times
    faster than a call to ``exp`` per element: ``exp(-t) = 2^-k exp(-r)`` with
    ``k = round(t / ln 2)``, ``|r| <= ln(2) / 2``, ``exp(-r)`` by its Taylor
    polynomial of degree 13 (truncation error below 1e-17) and ``2^-k`` built
    from its bits. Agrees with ``math.exp`` to about one ulp. Every ``t`` must
    be non-negative (NaN-free); ``inf`` gives 0.
    """
    n = distances.shape[0]
    for j in range(n):
        t = distances[j] - offset
        x = min(t, 700.0)
        k = np.int64(x * _INV_LN2 + 0.5)
        kf = np.float64(k)
        r = (kf * _LN2_HI - x) + kf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        weights[j] = p
        scale_bits[j] = (1023 - k) << 52 if t <= SOFTMAX_CUTOFF else 0
    scale = scale_bits.view(np.float64)
    for j in range(n):
        weights[j] *= scale[j]


@njit(cache=True)
def _row_distances(products, sq_norms, i, distances):
    """Shifted squared distances of row ``i`` from ``products[j] = z_i . z_j``.

    On return ``distances[j] = D_ij`` (``inf`` for ``j == i``); the softmax
    shifts them by the returned minimum.

    Returns
    -------
    d_min : float
        The row's smallest distance ``min_{k != i} D_ik``.
    """
    n = products.shape[0]
    sq_i = sq_norms[i]
    for j in range(n):
        # max(., 0): the GEMM form can round (near) duplicates below zero.
        distances[j] = max(sq_i + sq_norms[j] - 2.0 * np.float64(products[j]), 0.0)
    distances[i] = np.inf
    return _min(distances)


@njit(cache=True)
def _row_support(distances, limit, support):
    """Indices ``j`` with ``distances[j] <= limit``, in order.

    Branch-free: every index is written and the count only advances on the
    kept ones, so the loop costs the same whatever the share that is kept.
    Returns the count; ``support[:count]`` holds the indices.
    """
    count = 0
    for j in range(distances.shape[0]):
        support[count] = j
        count += distances[j] <= limit
    return count


@njit(cache=True)
def _row_coefficients(objective, value, total, target):
    """Loss of a row and ``(a, b)`` with ``G_ij = w_ij (a v_j + b)``.

    ``value = sum_j w_ij v_j / total`` is ``p_i`` for NCA (``v_j`` = same
    class as i) and ``yhat_i`` for MLKR (``v_j = y_j``). NCA minimises
    ``-p_i``, whose derivative in ``D_ij`` is ``p_ij ([y_j = y_i] - p_i)``;
    MLKR minimises ``(yhat_i - y_i)^2``, whose derivative is
    ``-2 (yhat_i - y_i) p_ij (y_j - yhat_i)``.
    """
    if objective == NCA_OBJECTIVE:
        return -value, 1.0 / total, -value / total
    error = value - target
    scale = -2.0 * error / total
    return error * error, scale, -scale * value


@njit(cache=True)
def _sqdist(Z, a, b):
    """Squared distance between rows ``a`` and ``b`` of ``Z``, in float64."""
    # Four partial sums: without fastmath the compiler may not reorder a
    # floating-point sum, and a single accumulator makes every addition wait
    # for the previous one.
    n_components = Z.shape[1]
    acc0 = acc1 = acc2 = acc3 = 0.0
    t = 0
    while t + 4 <= n_components:
        d0 = np.float64(Z[a, t]) - np.float64(Z[b, t])
        d1 = np.float64(Z[a, t + 1]) - np.float64(Z[b, t + 1])
        d2 = np.float64(Z[a, t + 2]) - np.float64(Z[b, t + 2])
        d3 = np.float64(Z[a, t + 3]) - np.float64(Z[b, t + 3])
        acc0 += d0 * d0
        acc1 += d1 * d1
        acc2 += d2 * d2
        acc3 += d3 * d3
        t += 4
    while t < n_components:
        d0 = np.float64(Z[a, t]) - np.float64(Z[b, t])
        acc0 += d0 * d0
        t += 1
    return (acc0 + acc1) + (acc2 + acc3)


@njit(cache=True)
def _sq_norms(Z):
    """Squared norm of every row of ``Z``, in float64."""
    n = Z.shape[0]
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for c in range(Z.shape[1]):
            acc += np.float64(Z[i, c]) * np.float64(Z[i, c])
        out[i] = acc
    return out


@njit(cache=True)
def _sum_dot(a, b):
    """``(sum(a), a . b)`` in one pass, four running partials each."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    t0 = t1 = t2 = t3 = 0.0
    stop = n - n % 4
    for j in range(0, stop, 4):
        s0 += a[j]
        s1 += a[j + 1]
        s2 += a[j + 2]
        s3 += a[j + 3]
        t0 += a[j] * b[j]
        t1 += a[j + 1] * b[j + 1]
        t2 += a[j + 2] * b[j + 2]
        t3 += a[j + 3] * b[j + 3]
    for j in range(stop, n):
        s0 += a[j]
        t0 += a[j] * b[j]
    return (s0 + s1) + (s2 + s3), (t0 + t1) + (t2 + t3)


@njit(parallel=True, cache=True)
def softmax_chunks(X, Z, labels, targets, objective, chunk_rows, n_groups):
    """The ``O(n^2)`` part of the NCA or MLKR objective and gradient.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, C-contiguous
        Samples.
    Z : ndarray of shape (n, k), same dtype, C-contiguous
        Embedded samples ``X L'``.
    labels : ndarray of shape (n,), int64
        Class codes (NCA); ignored by MLKR.
    targets : ndarray of shape (n,), float64, C-contiguous
        Real targets (MLKR); ignored by NCA.
    objective : int
        ``NCA_OBJECTIVE`` or ``MLKR_OBJECTIVE``.
    chunk_rows : int
        Rows per chunk; each running group holds a ``(chunk_rows, n)`` buffer.
    n_groups : int
        Number of chunk groups, run in parallel; chunk ``c`` belongs to group
        ``c % n_groups``, and each group keeps its own column sums. The
        result depends on the layout but not on the number of threads.

    Returns
    -------
    row_losses : ndarray of shape (n,)
        Loss of every row (``-p_i`` for NCA, ``(yhat_i - y_i)^2`` for MLKR).
    row_values : ndarray of shape (n,)
        ``p_i`` for NCA, ``yhat_i`` for MLKR.
    GX : ndarray of shape (n, d), dtype of X
        ``G @ X``.
    diag_weights : ndarray of shape (n,)
        Row plus column sums of ``G``.
    """
    n, d = X.shape
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    sq_norms = _sq_norms(Z)
    row_losses = np.zeros(n)
    row_values = np.zeros(n)
    row_sums = np.zeros(n)
    col_sums = np.zeros((n_groups, n))
    GX = np.zeros((n, d), dtype=X.dtype)
    ZT = Z.T
    sparse_limit = _SPARSE_FRACTION * n
    for group in prange(n_groups):
        weights = np.empty(n)
        shifted = np.empty(n)
        scale_bits = np.empty(n, dtype=np.int64)
        same_class = np.zeros(n)
        support = np.empty(n, dtype=np.int64)
        packed_values = np.empty(n)
        dense_rows = np.empty(chunk_rows, dtype=np.int64)
        acc = np.empty(d)
        buffer = np.empty((chunk_rows, n), dtype=Z.dtype)
        cols = col_sums[group]
        for chunk in range(group, n_chunks, n_groups):
            start = chunk * chunk_rows
            stop = min(n, start + chunk_rows)
            W = buffer[: stop - start]
            np.dot(Z[start:stop], ZT, W)
            n_dense = 0
            for r in range(stop - start):
                i = start + r
                row = W[r]
                d_min = _row_distances(row, sq_norms, i, shifted)
                nnz = _row_support(shifted, d_min + SOFTMAX_CUTOFF, support)
                label = labels[i]
                if nnz >= sparse_limit:
                    # Dense row: weights over all columns, G X by one GEMM
                    # for the chunk's dense rows below.
                    _softmax_weights(shifted, d_min, weights, scale_bits)
                    if objective == NCA_OBJECTIVE:
                        for j in range(n):
                            same_class[j] = 1.0 if labels[j] == label else 0.0
                        v = same_class
                    else:
                        v = targets
                    total, value = _sum_dot(weights, v)
                    value /= total
                    loss, a, b = _row_coefficients(objective, value, total, targets[i])
                    for j in range(n):
                        g = weights[j] * (a * v[j] + b)
                        weights[j] = g
                        row[j] = g
                        cols[j] += g
                    row_sums[i] = _sum(weights)
                    dense_rows[n_dense] = r
                    n_dense += 1
                else:
                    # Sparse row: the exponential, the sums and G X only on
                    # the columns within the cutoff, packed contiguously.
                    for k in range(nnz):
                        shifted[k] = shifted[support[k]]
                    row_weights = weights[:nnz]
                    _softmax_weights(
                        shifted[:nnz], d_min, row_weights, scale_bits[:nnz]
                    )
                    for k in range(nnz):
                        j = support[k]
                        if objective == NCA_OBJECTIVE:
                            packed_values[k] = 1.0 if labels[j] == label else 0.0
                        else:
                            packed_values[k] = targets[j]
                    total, value = _sum_dot(row_weights, packed_values[:nnz])
                    value /= total
                    loss, a, b = _row_coefficients(objective, value, total, targets[i])
                    acc[:] = 0.0
                    row_sum = 0.0
                    # Four rows of X per pass over acc: the loop is bound by
                    # the loads and stores of acc, not by the multiplications.
                    stop4 = nnz - nnz % 4
                    for k in range(0, stop4, 4):
                        j0 = support[k]
                        j1 = support[k + 1]
                        j2 = support[k + 2]
                        j3 = support[k + 3]
                        g0 = row_weights[k] * (a * packed_values[k] + b)
                        g1 = row_weights[k + 1] * (a * packed_values[k + 1] + b)
                        g2 = row_weights[k + 2] * (a * packed_values[k + 2] + b)
                        g3 = row_weights[k + 3] * (a * packed_values[k + 3] + b)
                        row_sum += (g0 + g1) + (g2 + g3)
                        cols[j0] += g0
                        cols[j1] += g1
                        cols[j2] += g2
                        cols[j3] += g3
                        for c in range(d):
                            acc[c] += (g0 * X[j0, c] + g1 * X[j1, c]) + (
                                g2 * X[j2, c] + g3 * X[j3, c]
                            )
                    for k in range(stop4, nnz):
                        j = support[k]
                        g = row_weights[k] * (a * packed_values[k] + b)
                        row_sum += g
                        cols[j] += g
                        for c in range(d):
                            acc[c] += g * X[j, c]
                    row_sums[i] = row_sum
                    for c in range(d):
                        GX[i, c] = acc[c]
                row_losses[i] = loss
                row_values[i] = value
            if n_dense == stop - start:
                GX[start:stop] = np.dot(W, X)
            elif n_dense > 0:
                gathered = np.empty((n_dense, n), dtype=W.dtype)
                for b in range(n_dense):
                    gathered[b] = W[dense_rows[b]]
                product = np.dot(gathered, X)
                for b in range(n_dense):
                    GX[start + dense_rows[b]] = product[b]
    diag_weights = row_sums.copy()
    for group in range(n_groups):
        for j in range(n):
            diag_weights[j] += col_sums[group, j]
    return row_losses, row_values, GX, diag_weights


def chunk_layout(n_samples, max_buffer=2**21):
    """Rows per chunk and number of chunk groups for :func:`softmax_chunks`.

    The layout depends on ``n_samples`` only, so that the objective and its
    gradient are bit-for-bit the same whatever the number of threads: the
    column sums are accumulated per group, in a fixed order. There are up to
    ``_N_GROUPS`` groups (an even number when more than one) with the same
    number of chunks each, and a chunk's ``(chunk_rows, n_samples)`` buffer
    stays under ``max_buffer`` entries (16 MiB in float64), with at least 16
    rows. Groups are not made smaller than ``_MIN_GROUP_ROWS`` rows: each
    chunk's GEMM repacks the whole ``(k, n_samples)`` right-hand side, which
    on digits-sized data made 79-row chunks 1.7 times slower than 315-row
    ones for the same product.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    max_buffer : int, default=2**21
        Largest buffer, in entries, a chunk may hold.

    Returns
    -------
    chunk_rows : int
        Rows per chunk.
    n_groups : int
        Number of chunk groups.
    """
    cap = max(16, min(512, max_buffer // max(n_samples, 1)))
    n_groups = max(1, min(_N_GROUPS, n_samples // _MIN_GROUP_ROWS))
    if n_groups > 1:
        n_groups -= n_groups % 2
    chunks_per_group = max(1, -(-n_samples // (n_groups * cap)))
    chunk_rows = max(1, -(-n_samples // (n_groups * chunks_per_group)))
    n_groups = min(n_groups, -(-n_samples // chunk_rows))
    return chunk_rows, n_groups


@njit(parallel=True, cache=True)
def _softmax_objective(
    X, X64, components, labels, targets, objective, chunk_rows, n_groups
):
    """Loss, gradient and row values: :func:`softmax_chunks` plus the ``O(n d^2)``
    products around it, all split by row blocks across the threads.

    The gradient ``2 L (X' diag(w) X - X' G X - (X' G X)')`` is formed as
    ``2 L (X' Y + Y' X)`` with ``Y = diag(w / 2) X - G X``: one product with
    ``X'`` instead of two. ``X64`` is ``X`` itself for float64 input, else its
    float64 copy.
    """
    n, d = X.shape
    k = components.shape[0]
    n_blocks = max(1, min(n_groups, n))
    block = (n + n_blocks - 1) // n_blocks
    LT = np.ascontiguousarray(components.T).astype(X.dtype)
    Z = np.empty((n, k), dtype=X.dtype)
    for b in prange(n_blocks):
        start = b * block
        stop = min(n, start + block)
        if start < stop:
            Z[start:stop] = np.dot(X[start:stop], LT)
    row_losses, row_values, GX, diag_weights = softmax_chunks(
        X, Z, labels, targets, objective, chunk_rows, n_groups
    )
    partial = np.zeros((n_blocks, d, d))
    for b in prange(n_blocks):
        start = b * block
        stop = min(n, start + block)
        if start < stop:
            Xb = X64[start:stop]
            Yb = np.empty((stop - start, d))
            for r in range(stop - start):
                half = 0.5 * diag_weights[start + r]
                for c in range(d):
                    Yb[r, c] = half * Xb[r, c] - np.float64(GX[start + r, c])
            np.dot(Xb.T, Yb, partial[b])
    H = np.zeros((d, d))
    for b in range(n_blocks):
        H += partial[b]
    H = H + H.T
    gradient = 2.0 * np.dot(np.ascontiguousarray(components), H)
    return _sum(row_losses), gradient, row_values


def softmax_loss_grad(X, components, labels, targets, objective):
    """Objective and gradient of NCA or MLKR with respect to ``L``.

    Call inside ``parallel_section(n_threads, limit_blas=True)``: the kernel
    runs one GEMM per block from each thread. The result does not depend on
    the number of threads.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, C-contiguous
        Samples.
    components : ndarray of shape (k, d)
        The linear map ``L``.
    labels : ndarray of shape (n,), int64
        Class codes (NCA).
    targets : ndarray of shape (n,), float64
        Real targets (MLKR).
    objective : int
        ``NCA_OBJECTIVE`` or ``MLKR_OBJECTIVE``.

    Returns
    -------
    loss : float
        ``-sum_i p_i`` (NCA) or ``sum_i (yhat_i - y_i)^2`` (MLKR).
    gradient : ndarray of shape (k, d), float64
        Its gradient with respect to ``L``.
    row_values : ndarray of shape (n,)
        ``p_i`` (NCA) or ``yhat_i`` (MLKR).
    """
    chunk_rows, n_groups = chunk_layout(X.shape[0])
    loss, gradient, row_values = _softmax_objective(
        X,
        X.astype(np.float64, copy=False),
        np.asarray(components, dtype=np.float64),
        labels,
        targets,
        objective,
        chunk_rows,
        n_groups,
    )
    return float(loss), gradient, row_values


def softmax_loss_grad_numpy(X, components, labels, targets, objective):
    """Plain NumPy twin of :func:`softmax_loss_grad`, with full (n, n) arrays.

    The test oracle: no cutoff, no chunks, the gradient as
    ``2 L sum_ij G_ij (x_i - x_j)(x_i - x_j)'`` through ``X' S X``.
    """
    X = np.asarray(X, dtype=np.float64)
    L = np.asarray(components, dtype=np.float64)
    Z = X @ L.T
    D = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    D = D - D.min(axis=1, keepdims=True)
    P = np.exp(-D)
    P /= P.sum(axis=1, keepdims=True)
    if objective == NCA_OBJECTIVE:
        same = labels[:, None] == labels[None, :]
        values = (P * same).sum(axis=1)
        loss = -values.sum()
        G = P * (same - values[:, None])
    else:
        values = P @ targets
        error = values - targets
        loss = (error**2).sum()
        G = -2.0 * error[:, None] * P * (targets[None, :] - values[:, None])
    S = np.diag(G.sum(axis=0) + G.sum(axis=1)) - G - G.T
    gradient = 2.0 * L @ (X.T @ S @ X)
    return float(loss), gradient, values


# ----------------------------------------------------------------------
# LMNN: target-neighbour pull and impostor push
# ----------------------------------------------------------------------
# Numba kernels of LMNN: the loss and the pair weights of its gradient.
#
# LMNN's objective is a weighted sum of squared embedded distances
# ``||z_a - z_b||^2`` over pairs ``(a, b)``: target pairs ``(i, j)`` with the
# weight of the pull term plus the push weight of every active triple they
# belong to, and impostor pairs ``(i, l)`` with minus the push weight of theirs.
# The triples ``(i, j, l)`` are never stored: one pass per sample ``i`` over
# its targets and its impostor candidates counts the active ones.
#
# The pairs of every sample ``i`` sit in one CSR row: slots ``indptr[i]`` to
# ``indptr[i] + n_targets`` hold its target neighbours, the remaining slots up
# to ``indptr[i + 1]`` its impostor candidates. With the pair weights ``W`` in
# that layout, the gradient with respect to the embedding ``Z = X L'`` is
# ``2 C Z`` with ``C = diag(W 1 + W' 1) - W - W'``, whose row ``a`` is
# ``sum_b (W[a, b] + W[b, a]) (z_a - z_b)``; :func:`embedded_gradient` forms it
# row by row from ``W`` and its transpose, so no thread writes another's row.
#
# Each kernel has a plain NumPy twin (suffix ``_numpy``) used as test oracle.


@njit(parallel=True, cache=True)
def pair_weights(
    Z, indptr, indices, n_targets, pull_weight, push_weight, weights, losses, n_active
):
    """Loss per sample and weight per pair of the LMNN objective.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components)
        Embedded samples, float32 or float64.
    indptr, indices : ndarray of intp
        CSR pairs, targets first in each row (see the module docstring).
    n_targets : int
        Target neighbours per sample.
    pull_weight, push_weight : float
        Weights of the pull and the push (hinge) terms.
    weights : ndarray of shape (n_pairs,), float64
        Out: the weight of each pair.
    losses : ndarray of shape (n_samples,), float64
        Out: the objective restricted to the triples of each sample.
    n_active : ndarray of shape (n_samples,), int64
        Out: active triples ``1 + d_ij - d_il > 0`` of each sample.
    """
    n_samples = Z.shape[0]
    for i in prange(n_samples):
        start = indptr[i]
        stop = indptr[i + 1]
        target_sq = np.empty(n_targets)
        target_count = np.zeros(n_targets)
        loss = 0.0
        for t in range(n_targets):
            target_sq[t] = _sqdist(Z, i, indices[start + t])
            loss += pull_weight * target_sq[t]
        count = 0
        for q in range(start + n_targets, stop):
            impostor_sq = _sqdist(Z, i, indices[q])
            n_violated = 0
            for t in range(n_targets):
                hinge = 1.0 + target_sq[t] - impostor_sq
                if hinge > 0.0:
                    loss += push_weight * hinge
                    target_count[t] += 1.0
                    n_violated += 1
            weights[q] = -push_weight * n_violated
            count += n_violated
        for t in range(n_targets):
            weights[start + t] = pull_weight + push_weight * target_count[t]
        losses[i] = loss
        n_active[i] = count


def pair_weights_numpy(Z, indptr, indices, n_targets, pull_weight, push_weight):
    """NumPy twin of :func:`pair_weights`; returns (weights, losses, n_active)."""
    Z = np.asarray(Z, dtype=np.float64)
    n_samples = Z.shape[0]
    weights = np.zeros(indices.shape[0])
    losses = np.zeros(n_samples)
    n_active = np.zeros(n_samples, dtype=np.int64)
    for i in range(n_samples):
        row = indices[indptr[i] : indptr[i + 1]]
        sq = ((Z[row] - Z[i]) ** 2).sum(axis=1)
        target_sq, impostor_sq = sq[:n_targets], sq[n_targets:]
        hinge = 1.0 + target_sq[:, None] - impostor_sq[None, :]
        active = hinge > 0.0
        losses[i] = pull_weight * target_sq.sum() + push_weight * hinge[active].sum()
        n_active[i] = active.sum()
        weights[indptr[i] : indptr[i] + n_targets] = (
            pull_weight + push_weight * active.sum(axis=1)
        )
        weights[indptr[i] + n_targets : indptr[i + 1]] = -push_weight * active.sum(
            axis=0
        )
    return weights, losses, n_active


@njit(parallel=True, cache=True)
def embedded_gradient(Z, indptr, indices, weights, t_indptr, t_indices, t_order, out):
    """Row ``a`` of ``C Z``: ``sum_b (W[a, b] + W[b, a]) (z_a - z_b)``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components)
        Embedded samples.
    indptr, indices, weights : ndarray
        The pair weights ``W`` in CSR form.
    t_indptr, t_indices : ndarray of intp
        The CSR structure of ``W'`` (the CSC structure of ``W``).
    t_order : ndarray of intp
        ``weights[t_order]`` are the entries of ``W'`` in its CSR order.
    out : ndarray of shape (n_samples, n_components), float64
        Out: ``C Z``; the objective's gradient with respect to ``Z`` is
        ``2 * out``.
    """
    n_samples, n_components = Z.shape
    for a in prange(n_samples):
        acc = np.zeros(n_components)
        for q in range(indptr[a], indptr[a + 1]):
            w = weights[q]
            if w == 0.0:
                # Most impostor candidates are inactive.
                continue
            b = indices[q]
            for t in range(n_components):
                acc[t] += w * (np.float64(Z[a, t]) - np.float64(Z[b, t]))
        for q in range(t_indptr[a], t_indptr[a + 1]):
            w = weights[t_order[q]]
            if w == 0.0:
                continue
            b = t_indices[q]
            for t in range(n_components):
                acc[t] += w * (np.float64(Z[a, t]) - np.float64(Z[b, t]))
        for t in range(n_components):
            out[a, t] = acc[t]


@njit(parallel=True, cache=True)
def lmnn_dense_chunks(Z, y, targets, pull_weight, push_weight, chunk_rows, n_groups):
    """LMNN's loss and ``C Z`` over every impostor, streamed by row chunks.

    The memory-bounded counterpart of :func:`pair_weights` followed by
    :func:`embedded_gradient`, for when the impostor candidates are too many
    to store (heavily overlapping classes). Each chunk of rows gets its
    products with all of ``Z`` by one GEMM, turns them into squared distances
    ``|z_i|^2 + |z_l|^2 - 2 z_i . z_l``, and overwrites them with the pair
    weights ``W[i, :]``: ``-push_weight`` times the number of target
    neighbours ``j`` with ``1 + D_ij - D_il > 0`` for other-class ``l``, and
    ``pull_weight + push_weight * (number of such l)`` for the targets. Then
    ``C Z = diag(W 1 + W' 1) Z - W Z - W' Z``: ``W Z`` row by row, ``W' Z``
    accumulated per group. Memory: one ``(chunk_rows, n)`` buffer per running
    group and ``n_groups`` arrays of shape ``(n, n_components)``.

    The target distances are exact (pair by pair); the impostor distances
    come from the GEMM form, whose rounding can only move a hinge that is
    already within rounding of zero, so the loss (a continuous function of
    the distances) changes by no more than that rounding.

    Parameters
    ----------
    Z : ndarray of shape (n, k), float64, C-contiguous
        Embedded samples.
    y : ndarray of shape (n,), intp
        Class codes.
    targets : ndarray of shape (n, n_targets), intp
        Target neighbours.
    pull_weight, push_weight : float
        Weights of the pull and push terms.
    chunk_rows, n_groups : int
        Layout, see :func:`chunk_layout`; the result does not depend on the
        number of threads.

    Returns
    -------
    losses : ndarray of shape (n,)
        Loss of every row.
    n_active : ndarray of shape (n,), int64
        Active ``(j, l)`` triples of every row.
    out : ndarray of shape (n, k)
        ``C Z``; the gradient with respect to ``Z`` is ``2 * out``.
    """
    n, k = Z.shape
    n_targets = targets.shape[1]
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    sq_norms = _sq_norms(Z)
    losses = np.zeros(n)
    n_active = np.zeros(n, dtype=np.int64)
    row_sums = np.zeros(n)
    WZ = np.zeros((n, k))
    col_sums = np.zeros((n_groups, n))
    WtZ = np.zeros((n_groups, n, k))
    ZT = Z.T
    for group in prange(n_groups):
        buffer = np.empty((chunk_rows, n))
        thresholds = np.empty(n_targets)
        counts = np.empty(n_targets)
        cols = col_sums[group]
        for chunk in range(group, n_chunks, n_groups):
            start = chunk * chunk_rows
            stop = min(n, start + chunk_rows)
            W = buffer[: stop - start]
            np.dot(Z[start:stop], ZT, W)
            for r in range(stop - start):
                i = start + r
                row = W[r]
                loss = 0.0
                widest = 0.0
                for t in range(n_targets):
                    target_sq = _sqdist(Z, i, targets[i, t])
                    loss += pull_weight * target_sq
                    thresholds[t] = 1.0 + target_sq
                    widest = max(widest, thresholds[t])
                    counts[t] = 0.0
                label = y[i]
                sq_i = sq_norms[i]
                active = 0
                for l in range(n):
                    weight = 0.0
                    if y[l] != label:
                        impostor_sq = max(sq_i + sq_norms[l] - 2.0 * row[l], 0.0)
                        if impostor_sq < widest:
                            n_violated = 0
                            for t in range(n_targets):
                                hinge = thresholds[t] - impostor_sq
                                if hinge > 0.0:
                                    loss += push_weight * hinge
                                    counts[t] += 1.0
                                    n_violated += 1
                            weight = -push_weight * n_violated
                            active += n_violated
                    row[l] = weight
                for t in range(n_targets):
                    row[targets[i, t]] += pull_weight + push_weight * counts[t]
                total = 0.0
                for l in range(n):
                    total += row[l]
                    cols[l] += row[l]
                row_sums[i] = total
                losses[i] = loss
                n_active[i] = active
            WZ[start:stop] = np.dot(W, Z)
            WtZ[group] += np.dot(W.T, Z[start:stop])
    out = np.empty((n, k))
    for a in prange(n):
        degree = row_sums[a]
        for group in range(n_groups):
            degree += col_sums[group, a]
        for c in range(k):
            value = degree * Z[a, c] - WZ[a, c]
            for group in range(n_groups):
                value -= WtZ[group, a, c]
            out[a, c] = value
    return losses, n_active, out


def embedded_gradient_numpy(Z, indptr, indices, weights):
    """NumPy twin of :func:`embedded_gradient`, from ``W`` alone."""
    Z = np.asarray(Z, dtype=np.float64)
    rows = np.repeat(np.arange(Z.shape[0]), np.diff(indptr))
    diff = weights[:, None] * (Z[rows] - Z[indices])
    out = np.zeros_like(Z)
    np.add.at(out, rows, diff)
    np.add.at(out, indices, -diff)
    return out


# ----------------------------------------------------------------------
# ITML: Bregman projections
# ----------------------------------------------------------------------
# Numba kernels of the pair learners (ITML).
#
# ITML's solver is a cyclic sequence of Bregman projections, one per constraint,
# each a rank-one update of the Mahalanobis matrix that depends on the previous
# one; this sequential loop is what makes it slow in Python. Each kernel here has
# a plain NumPy twin (suffix ``_numpy``) that serves as the test oracle.


# Constraints are processed in blocks of this many: the products with the
# matrix at the start of a block are one GEMM, and only the corrections from the
# updates made earlier in the same block are applied one by one.
_BLOCK = 32


@njit(cache=True)
def _itml_step(p, is_similar, dual, target, gamma_proj, inv_gamma):
    """Projection of one ITML constraint given ``p = v' M v``.

    Returns ``(beta, dual, target)``: ``M`` becomes ``M + beta (M v)(M v)'``,
    and the new dual variable and slack-adjusted bound.
    """
    if p <= 0.0:
        # The two points coincide under M: the constraint cannot move M.
        return 0.0, dual, target
    if is_similar:
        alpha = min(dual, gamma_proj * (1.0 / p - 1.0 / target))
        beta = alpha / (1.0 - alpha * p)
        target = 1.0 / (1.0 / target + alpha * inv_gamma)
    else:
        alpha = min(dual, gamma_proj * (1.0 / target - 1.0 / p))
        beta = -alpha / (1.0 + alpha * p)
        target = 1.0 / (1.0 / target - alpha * inv_gamma)
    return beta, dual - alpha, target


@njit(cache=True)
def itml_sweep(
    X, first, second, is_similar, metric, dual, target, gamma_proj, inv_gamma
):
    """One cyclic pass of ITML's Bregman projections, in place.

    Constraint ``i`` asks the squared distance between ``X[first[i]]`` and
    ``X[second[i]]`` to be at most ``target[i]`` (similar pairs) or at least
    ``target[i]`` (dissimilar pairs), softened by slack. Each projection is
    ``M <- M + beta (M v)(M v)'`` with ``v`` the difference of the two points.

    The updates are applied lazily in blocks of ``_BLOCK`` constraints: within a
    block, ``M v`` is the product with the matrix at the start of the block
    (one GEMM for the whole block) plus the rank-one corrections of the block's
    earlier updates, and the block's updates are added to ``M`` by one GEMM at
    its end. The arithmetic is that of the sequential algorithm, reordered.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float64
        Distinct points.
    first, second : ndarray of shape (n_constraints,), intp
        Rows of the two points of each constraint.
    is_similar : ndarray of shape (n_constraints,), bool
        True for similar pairs, False for dissimilar ones.
    metric : ndarray of shape (n_features, n_features), float64
        The symmetric matrix ``M``, updated in place.
    dual : ndarray of shape (n_constraints,), float64
        Dual variables (lambda), updated in place.
    target : ndarray of shape (n_constraints,), float64
        Slack-adjusted bounds on the squared distances, updated in place.
    gamma_proj : float
        ``gamma / (gamma + 1)`` (1 for an infinite gamma).
    inv_gamma : float
        ``1 / gamma`` (0 for an infinite gamma).
    """
    n_constraints = first.shape[0]
    n_features = X.shape[1]
    diffs = np.empty((_BLOCK, n_features))
    updates = np.empty((_BLOCK, n_features))
    betas = np.empty(_BLOCK)
    for start in range(0, n_constraints, _BLOCK):
        stop = min(start + _BLOCK, n_constraints)
        size = stop - start
        for j in range(size):
            a = first[start + j]
            b = second[start + j]
            for k in range(n_features):
                diffs[j, k] = X[a, k] - X[b, k]
        # M is symmetric, so the rows of diffs @ M are the products M v.
        products = diffs[:size] @ metric
        n_updates = 0
        for j in range(size):
            v = diffs[j]
            u = products[j]
            for m in range(n_updates):
                coef = 0.0
                for k in range(n_features):
                    coef += updates[m, k] * v[k]
                coef *= betas[m]
                for k in range(n_features):
                    u[k] += coef * updates[m, k]
            p = 0.0
            for k in range(n_features):
                p += v[k] * u[k]
            i = start + j
            beta, dual[i], target[i] = _itml_step(
                p, is_similar[i], dual[i], target[i], gamma_proj, inv_gamma
            )
            if beta != 0.0:
                updates[n_updates] = u
                betas[n_updates] = beta
                n_updates += 1
        if n_updates > 0:
            scaled = updates[:n_updates].copy()
            for m in range(n_updates):
                for k in range(n_features):
                    scaled[m, k] *= betas[m]
            metric += updates[:n_updates].T @ scaled
    # Rounding in the updates leaves M slightly asymmetric; keep it exact.
    for r in range(n_features):
        for c in range(r):
            mean = 0.5 * (metric[r, c] + metric[c, r])
            metric[r, c] = mean
            metric[c, r] = mean


def itml_sweep_numpy(
    X, first, second, is_similar, metric, dual, target, gamma_proj, inv_gamma
):
    """NumPy twin of :func:`itml_sweep`: the plain sequential projections."""
    for i in range(first.shape[0]):
        v = X[first[i]] - X[second[i]]
        u = metric @ v
        p = float(v @ u)
        if p <= 0.0:
            continue
        if is_similar[i]:
            alpha = min(dual[i], gamma_proj * (1.0 / p - 1.0 / target[i]))
            beta = alpha / (1.0 - alpha * p)
            target[i] = 1.0 / (1.0 / target[i] + alpha * inv_gamma)
        else:
            alpha = min(dual[i], gamma_proj * (1.0 / target[i] - 1.0 / p))
            beta = -alpha / (1.0 + alpha * p)
            target[i] = 1.0 / (1.0 / target[i] - alpha * inv_gamma)
        dual[i] -= alpha
        metric += beta * np.outer(u, u)
    metric[...] = 0.5 * (metric + metric.T)


# ----------------------------------------------------------------------
# LSML and SCML: relative comparisons
# ----------------------------------------------------------------------
# Numba kernels of the relative-comparison learners, LSML and SCML.
#
# Both learners see their constraints as rows of an index array into one data
# array, so no kernel here ever builds a ``(n_tuples, tuple_size, n_features)``
# array:
#
# * LSML evaluates its loss on the embedded data ``Z = X L'``: one pass over the
#   quadruplets gives the loss and, for each of its two pairs, the coefficient
#   of the pair's outer product in the gradient; a second pass scatters those
#   coefficients into ``W X`` (``W`` the weighted Laplacian of the pairs), after
#   which the gradient is the single product ``Z' W X``.
# * SCML works in the basis space ``XB = X B'``, where a triplet's distance
#   difference along basis ``k`` costs O(1), so a stochastic step over a batch
#   of triplets costs O(batch_size * n_basis). Its full objective needs only the
#   distances of the distinct pairs in the triplets, along the active bases.
# * The local LDA bases of SCML need, for each neighbourhood, its rows centred
#   on their class means and the scaled class-mean offsets; one parallel pass
#   writes both, and the scatter matrices are then BLAS products.
#
# Every sum is accumulated in float64, also for float32 input. Each kernel has a
# NumPy twin in the tests.


#: Keeps AdaGrad's step finite while a basis has seen no gradient (the value
#: of Shi et al.'s reference code).
ADAGRAD_DELTA = 1e-3

# Columns of the output handled by one task of the parallel scatter: every task
# owns whole columns, so no two threads ever write the same entry.
_COLUMN_BLOCK = 8


# ----------------------------------------------------------------------- LSML


@njit(parallel=True, cache=True)
def lsml_loss_coefficients(Z, quadruplets, weights, coefficients):
    """LSML's comparison loss and its gradient coefficients.

    For quadruplet ``(a, b, c, d)`` with embedded distances
    ``d_ab = ||Z[a] - Z[b]||`` and ``d_cd = ||Z[c] - Z[d]||``, the loss is
    ``w * (d_ab - d_cd)**2`` when ``d_ab > d_cd`` and zero otherwise. Its
    gradient with respect to ``L`` (where ``Z = X L'``) is
    ``c_ab (z_a - z_b)(x_a - x_b)' + c_cd (z_c - z_d)(x_c - x_d)'``.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_components), float32 or float64
        Embedded rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    weights : ndarray of shape (n_quadruplets,), float64
        Weight of each quadruplet.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Output: ``c_ab`` and ``c_cd`` (zero for satisfied quadruplets, and
        ``c_cd`` zero when ``d_cd = 0``, where ``x_c - x_d`` vanishes in the
        embedding and contributes nothing).

    Returns
    -------
    loss : float
        The weighted sum of squared violations.
    """
    loss = 0.0
    for q in prange(quadruplets.shape[0]):
        d_ab = math.sqrt(_sqdist(Z, quadruplets[q, 0], quadruplets[q, 1]))
        d_cd = math.sqrt(_sqdist(Z, quadruplets[q, 2], quadruplets[q, 3]))
        coef_ab = 0.0
        coef_cd = 0.0
        if d_ab > d_cd:
            residual = d_ab - d_cd
            loss += weights[q] * residual * residual
            coef_ab = 2.0 * weights[q] * residual / d_ab
            if d_cd > 0.0:
                coef_cd = -2.0 * weights[q] * residual / d_cd
        coefficients[q, 0] = coef_ab
        coefficients[q, 1] = coef_cd
    return loss


@njit(parallel=True, cache=True)
def quadruplet_laplacian_product(X, quadruplets, coefficients, out):
    """Accumulate ``W X`` for the pairs of quadruplets, ``W`` their Laplacian.

    Pair ``(a, b)`` with coefficient ``c`` adds ``c (x_a - x_b)`` to
    ``out[a]`` and ``c (x_b - x_a)`` to ``out[b]``; the pairs are ``(a, b)``
    with ``coefficients[:, 0]`` and ``(c, d)`` with ``coefficients[:, 1]``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64
        Rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Pair coefficients, as returned by :func:`lsml_loss_coefficients`.
    out : ndarray of shape (n_rows, n_features), float64
        Zeroed on entry; receives ``W X``.
    """
    n_features = X.shape[1]
    n_blocks = (n_features + _COLUMN_BLOCK - 1) // _COLUMN_BLOCK
    for block in prange(n_blocks):
        start = block * _COLUMN_BLOCK
        stop = min(start + _COLUMN_BLOCK, n_features)
        for q in range(quadruplets.shape[0]):
            for pair in range(2):
                coef = coefficients[q, pair]
                if coef == 0.0:
                    continue
                first = quadruplets[q, 2 * pair]
                second = quadruplets[q, 2 * pair + 1]
                for k in range(start, stop):
                    diff = coef * (np.float64(X[first, k]) - np.float64(X[second, k]))
                    out[first, k] += diff
                    out[second, k] -= diff


# ----------------------------------------------------------------------- SCML


@njit(cache=True, error_model="numpy")
def scml_batch_subgradient(XB, triplets, batch, w, grad, delta):
    """Subgradient of SCML's hinge loss averaged over a batch of triplets.

    Triplet ``(i, j, l)`` has distance differences
    ``delta_k = (XB[i, k] - XB[j, k])**2 - (XB[i, k] - XB[l, k])**2`` and loss
    ``max(0, 1 + delta . w)``; its subgradient is ``delta`` where the slack
    ``1 + delta . w`` is positive and zero elsewhere.

    Parameters
    ----------
    XB : ndarray of shape (n_rows, n_basis), float32 or float64
        Rows projected on the bases.
    triplets : ndarray of shape (n_triplets, 3), intp
        ``(anchor, genuine, impostor)`` row indices.
    batch : ndarray of shape (batch_size,), intp
        Triplets in the batch (repeats allowed).
    w : ndarray of shape (n_basis,), float64
        Basis weights.
    grad : ndarray of shape (n_basis,), float64
        Output: the mean of the subgradients over the batch.
    delta : ndarray of shape (n_basis,), float64
        Scratch space.

    Returns
    -------
    n_violated : int
        Triplets of the batch with positive slack.
    """
    n_basis = XB.shape[1]
    grad[:] = 0.0
    n_violated = 0
    for b in range(batch.shape[0]):
        t = batch[b]
        anchor = XB[triplets[t, 0]]
        genuine = XB[triplets[t, 1]]
        impostor = XB[triplets[t, 2]]
        # Element-wise into a buffer, then one dot product: a running sum in
        # the loop would chain every addition and stop vectorisation.
        for k in range(n_basis):
            to_genuine = np.float64(anchor[k]) - np.float64(genuine[k])
            to_impostor = np.float64(anchor[k]) - np.float64(impostor[k])
            delta[k] = to_genuine * to_genuine - to_impostor * to_impostor
        if 1.0 + np.dot(delta, w) > 0.0:
            n_violated += 1
            for k in range(n_basis):
                grad[k] += delta[k]
    scale = 1.0 / batch.shape[0]
    for k in range(n_basis):
        grad[k] *= scale
    return n_violated


@njit(cache=True, error_model="numpy")
def scml_dual_averaging(
    XB, triplets, batches, first_iteration, beta, gamma, grad_sum, grad_sq_sum, w
):
    """Run iterations of regularised dual averaging with AdaGrad steps.

    Iteration ``t`` (counted from 0) takes the batch subgradient ``g_t`` at
    the current ``w``, adds it to ``grad_sum`` and its square to
    ``grad_sq_sum``, and sets, for every basis ``k``, the closed-form minimiser
    of the averaged linear model plus ``beta |w|_1`` plus AdaGrad's proximal
    term, restricted to ``w >= 0``::

        w_k = max(0, -(grad_sum_k + beta (t + 1)))
              / (gamma (delta + sqrt(grad_sq_sum_k)))

    Parameters
    ----------
    XB : ndarray of shape (n_rows, n_basis), float32 or float64
        Rows projected on the bases.
    triplets : ndarray of shape (n_triplets, 3), intp
        ``(anchor, genuine, impostor)`` row indices.
    batches : ndarray of shape (n_iterations, batch_size), intp
        The triplets drawn for each iteration to run.
    first_iteration : int
        Number of iterations already run before these.
    beta, gamma : float
        L1 strength and the inverse step scale.
    grad_sum, grad_sq_sum, w : ndarray of shape (n_basis,), float64
        The solver's state, updated in place.
    """
    n_basis = XB.shape[1]
    batch_size = batches.shape[1]
    grad = np.empty(n_basis)
    # 1 / (gamma (delta + sqrt(grad_sq_sum))): changes only with a violation.
    inverse_step = np.empty(n_basis)
    for k in range(n_basis):
        inverse_step[k] = 1.0 / (gamma * (ADAGRAD_DELTA + math.sqrt(grad_sq_sum[k])))
    # The bases with w_k > 0. A slack only needs them; the subgradient needs
    # every basis, but only for the violated triplets (about 1% of them once
    # the metric is learned). Between violations grad_sum is fixed and the L1
    # shift only grows, so a zero weight stays zero: only the active weights
    # are updated, and the full pass runs after a violation.
    active = np.empty(n_basis, dtype=np.intp)
    n_active = 0
    for k in range(n_basis):
        if w[k] > 0.0:
            active[n_active] = k
            n_active += 1
    for s in range(batches.shape[0]):
        n_seen = first_iteration + s + 1
        n_violated = 0
        for b in range(batch_size):
            t = batches[s, b]
            i = triplets[t, 0]
            j = triplets[t, 1]
            m = triplets[t, 2]
            slack = 1.0
            for q in range(n_active):
                k = active[q]
                to_genuine = np.float64(XB[i, k]) - np.float64(XB[j, k])
                to_impostor = np.float64(XB[i, k]) - np.float64(XB[m, k])
                slack += w[k] * (to_genuine * to_genuine - to_impostor * to_impostor)
            if slack > 0.0:
                if n_violated == 0:
                    grad[:] = 0.0
                n_violated += 1
                for k in range(n_basis):
                    to_genuine = np.float64(XB[i, k]) - np.float64(XB[j, k])
                    to_impostor = np.float64(XB[i, k]) - np.float64(XB[m, k])
                    grad[k] += to_genuine * to_genuine - to_impostor * to_impostor
        shift = beta * n_seen
        if n_violated > 0:
            scale = 1.0 / batch_size
            n_active = 0
            for k in range(n_basis):
                g = grad[k] * scale
                grad_sum[k] += g
                grad_sq_sum[k] += g * g
                inverse_step[k] = 1.0 / (
                    gamma * (ADAGRAD_DELTA + math.sqrt(grad_sq_sum[k]))
                )
                w[k] = max(-(grad_sum[k] + shift), 0.0) * inverse_step[k]
                if w[k] > 0.0:
                    active[n_active] = k
                    n_active += 1
        else:
            kept = 0
            for q in range(n_active):
                k = active[q]
                w[k] = max(-(grad_sum[k] + shift), 0.0) * inverse_step[k]
                if w[k] > 0.0:
                    active[kept] = k
                    kept += 1
            n_active = kept


@njit(cache=True)
def scml_hinge(XB, w, pairs, genuine_pair, impostor_pair):
    """Sum of SCML's hinge losses over all triplets, and how many are positive.

    The triplets are given through their distinct pairs: triplet ``t`` has
    slack ``1 + D[genuine_pair[t]] - D[impostor_pair[t]]``, with ``D[p]`` the
    squared distance ``sum_k w_k (XB[a, k] - XB[b, k])**2`` of pair
    ``p = (a, b)``. Only the bases with ``w_k > 0`` are visited: they are
    gathered first into a contiguous ``(n_rows, n_active)`` array scaled by
    ``sqrt(w_k)``.

    Parameters
    ----------
    XB : ndarray of shape (n_rows, n_basis), float32 or float64
        Rows projected on the bases.
    w : ndarray of shape (n_basis,), float64
        Non-negative basis weights.
    pairs : ndarray of shape (n_pairs, 2), intp
        The distinct pairs.
    genuine_pair, impostor_pair : ndarray of shape (n_triplets,), intp
        Each triplet's pair to its genuine neighbour and to its impostor.

    Returns
    -------
    hinge_sum : float
        Sum over the triplets of ``max(0, slack)``.
    n_violated : int
        Triplets with positive slack.
    """
    n_rows, n_basis = XB.shape
    n_active = 0
    for k in range(n_basis):
        n_active += w[k] > 0.0
    active = np.empty(n_active, dtype=np.intp)
    scale = np.empty(n_active)
    q = 0
    for k in range(n_basis):
        if w[k] > 0.0:
            active[q] = k
            scale[q] = math.sqrt(w[k])
            q += 1
    Z = np.empty((n_rows, n_active))
    for r in range(n_rows):
        for q in range(n_active):
            Z[r, q] = np.float64(XB[r, active[q]]) * scale[q]
    distances = np.empty(pairs.shape[0])
    for p in range(pairs.shape[0]):
        distances[p] = _sqdist(Z, pairs[p, 0], pairs[p, 1])
    hinge_sum = 0.0
    n_violated = 0
    for t in range(genuine_pair.shape[0]):
        slack = 1.0 + distances[genuine_pair[t]] - distances[impostor_pair[t]]
        if slack > 0.0:
            hinge_sum += slack
            n_violated += 1
    return hinge_sum, n_violated


@njit(parallel=True, cache=True)
def centre_neighbourhoods(X, neighbourhoods, class_starts, centred, between):
    """Centre every neighbourhood on its class means, for local LDA.

    Each row of ``neighbourhoods`` lists the members of one neighbourhood
    grouped by class: class ``c`` occupies columns
    ``class_starts[c]:class_starts[c + 1]`` (the same for every row).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Data.
    neighbourhoods : ndarray of shape (n_sets, n_members), intp
        Row indices of the members.
    class_starts : ndarray of shape (n_classes + 1,), intp
        Column where each class's members begin, and the total.
    centred : ndarray of shape (n_sets, n_members, n_features), float64
        Output: each member minus the mean of its class in its neighbourhood,
        so ``centred[s].T @ centred[s]`` is the within-class scatter.
    between : ndarray of shape (n_sets, n_features, n_classes), float64
        Output: column ``c`` is ``sqrt(n_c) (mean_c - mean)``, so
        ``between[s] @ between[s].T`` is the between-class scatter.
    """
    n_features = X.shape[1]
    n_classes = class_starts.shape[0] - 1
    n_members = neighbourhoods.shape[1]
    for s in prange(neighbourhoods.shape[0]):
        overall = np.zeros(n_features)
        means = np.zeros((n_classes, n_features))
        for c in range(n_classes):
            for m in range(class_starts[c], class_starts[c + 1]):
                row = neighbourhoods[s, m]
                for k in range(n_features):
                    means[c, k] += np.float64(X[row, k])
            count = class_starts[c + 1] - class_starts[c]
            for k in range(n_features):
                overall[k] += means[c, k]
                means[c, k] /= count
        for k in range(n_features):
            overall[k] /= n_members
        for c in range(n_classes):
            scale = math.sqrt(class_starts[c + 1] - class_starts[c])
            for k in range(n_features):
                between[s, k, c] = scale * (means[c, k] - overall[k])
            for m in range(class_starts[c], class_starts[c + 1]):
                row = neighbourhoods[s, m]
                for k in range(n_features):
                    centred[s, m, k] = np.float64(X[row, k]) - means[c, k]


# ----------------------------------------------------------------------
# LFDA: local affinities
# ----------------------------------------------------------------------
# Numba kernels of the closed-form learners (LFDA's local-scaling affinities).
#
# LFDA weights every same-class pair ``(i, j)`` by the local-scaling affinity
# ``exp(-||x_i - x_j||^2 / (sigma_i sigma_j))`` (Zelnik-Manor and Perona, 2005),
# where ``sigma_i`` is the distance from ``x_i`` to its k-th nearest neighbour of
# the same class. :func:`local_affinity` evaluates it on a block of squared
# distances; the scatter matrices are then assembled with BLAS products.
# :func:`local_affinity_numpy` is its plain NumPy twin, used as the test oracle.


@njit(parallel=True, cache=True)
def local_affinity(sq_distances, scale_rows, scale_cols, out, row_sums):
    """Local-scaling affinities of a block of pairs, and their row sums.

    Parameters
    ----------
    sq_distances : ndarray of shape (n_rows, n_cols)
        Squared distances ``||x_i - x_j||^2``; small negative values left by
        rounding count as zero.
    scale_rows : ndarray of shape (n_rows,)
        ``sigma_i`` of the rows.
    scale_cols : ndarray of shape (n_cols,)
        ``sigma_j`` of the columns.
    out : ndarray of shape (n_rows, n_cols)
        Filled with ``exp(-d_ij / (sigma_i sigma_j))``, and with 0 where
        ``sigma_i sigma_j`` is 0 (a point with k duplicates has no scale).
    row_sums : ndarray of shape (n_rows,)
        Filled with the sums of the rows of ``out``, accumulated in float64.
    """
    n_rows, n_cols = sq_distances.shape
    for i in prange(n_rows):
        total = 0.0
        for j in range(n_cols):
            scale = np.float64(scale_rows[i]) * np.float64(scale_cols[j])
            value = 0.0
            if scale > 0.0:
                value = math.exp(-max(np.float64(sq_distances[i, j]), 0.0) / scale)
            out[i, j] = value
            total += value
        row_sums[i] = total


def local_affinity_numpy(sq_distances, scale_rows, scale_cols):
    """NumPy twin of :func:`local_affinity`.

    Parameters
    ----------
    sq_distances : ndarray of shape (n_rows, n_cols)
        Squared distances.
    scale_rows : ndarray of shape (n_rows,)
        ``sigma_i`` of the rows.
    scale_cols : ndarray of shape (n_cols,)
        ``sigma_j`` of the columns.

    Returns
    -------
    affinity : ndarray of shape (n_rows, n_cols)
        ``exp(-d_ij / (sigma_i sigma_j))``, 0 where the scale is 0.
    row_sums : ndarray of shape (n_rows,)
        Sums of the rows of ``affinity``.
    """
    scale = np.outer(scale_rows.astype(np.float64), scale_cols.astype(np.float64))
    distances = np.maximum(sq_distances.astype(np.float64), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        affinity = np.where(scale > 0, np.exp(-distances / scale), 0.0)
    return affinity, affinity.sum(axis=1)
