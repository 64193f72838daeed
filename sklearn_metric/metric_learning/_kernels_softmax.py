"""Numba kernels for the softmax-neighbour objectives of NCA and MLKR.

Both objectives are built from the same leave-one-out softmax over squared
distances in the embedded space ``Z = X L'``::

    p_ij = exp(-D_ij) / sum_{k != i} exp(-D_ik),   D_ij = ||z_i - z_j||^2,

with ``p_ii = 0``. Writing ``G_ij`` for the derivative of the objective with
respect to ``D_ij``, the gradient with respect to ``L`` is

    2 L sum_ij G_ij (x_i - x_j)(x_i - x_j)'
        = 2 L (X' diag(r + c) X - X' G X - (X' G X)'),

where ``r`` and ``c`` are the row and column sums of ``G``. So the only
``O(n^2)`` work is one pass over ``G`` by row chunks: a GEMM for the chunk's
distances, the softmax, ``G`` itself, and ``G X`` for the chunk's rows. No
``(n, n, d)`` tensor and no ``(n, n)`` matrix is ever formed; every thread holds
one ``(chunk_rows, n)`` buffer at a time.

Weights below ``exp(-SOFTMAX_CUTOFF)`` times the largest weight of their row
are set to zero (the largest is 1 after the log-sum-exp shift). Dropping them
changes a row's sums by at most ``n * exp(-60)``, about ``1e-26 n`` in relative
terms: below float64 rounding for any feasible ``n``. Rows whose weights are
mostly zero -- the common case once the metric has been learned -- then get
``G X`` from their nonzero entries only, instead of a dense GEMM.

Scalars and sums are float64 also for float32 inputs; the GEMMs run in the
input dtype. The exponential is a branch-free polynomial one that the
compiler vectorises (see ``_softmax_weights``), exact to about one ulp.
"""

import numpy as np
from numba import njit, prange

#: Objective codes of :func:`softmax_chunks`.
NCA_OBJECTIVE = 0
MLKR_OBJECTIVE = 1

SOFTMAX_CUTOFF = 60.0

# A row whose nonzero weights are fewer than this fraction of n gets its row of
# G X by a sparse loop; denser rows are gathered into one GEMM.
_SPARSE_FRACTION = 0.25

# Chunks are dealt to this many groups, whatever the number of threads (see
# chunk_layout); more groups than threads keep the threads evenly loaded.
_N_GROUPS = 16


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
def _softmax_weights(shifted, weights, scale_bits):
    """``weights[j] = exp(-shifted[j])``, and 0 where ``shifted[j] > CUTOFF``.

    A branch-free exponential that the compiler vectorises, about four times
    faster than a call to ``exp`` per element: ``exp(-t) = 2^-k exp(-r)`` with
    ``k = round(t / ln 2)``, ``|r| <= ln(2) / 2``, ``exp(-r)`` by its Taylor
    polynomial of degree 13 (truncation error below 1e-17) and ``2^-k`` built
    from its bits. Agrees with ``math.exp`` to about one ulp. ``shifted`` must
    be non-negative (NaN-free); ``inf`` gives 0.
    """
    n = shifted.shape[0]
    for j in range(n):
        t = shifted[j]
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
def _row_weights(products, sq_norms, i, shifted, weights, scale_bits):
    """Softmax weights of row ``i`` from ``products[j] = z_i . z_j``.

    On return ``weights[j] = exp(-(D_ij - min_k D_ik))``, zero for ``j == i``
    and below the cutoff; ``shifted`` and ``scale_bits`` are scratch space
    (kept apart from ``weights`` so that the loops vectorise).

    Returns
    -------
    total : float
        Sum of the weights (at least 1).
    nnz : int
        Number of nonzero weights.
    """
    n = products.shape[0]
    sq_i = sq_norms[i]
    for j in range(n):
        # max(., 0): the GEMM form can round (near) duplicates below zero.
        shifted[j] = max(sq_i + sq_norms[j] - 2.0 * np.float64(products[j]), 0.0)
    shifted[i] = np.inf
    d_min = _min(shifted)
    for j in range(n):
        shifted[j] -= d_min
    _softmax_weights(shifted, weights, scale_bits)
    nnz = 0
    for j in range(n):
        nnz += weights[j] > 0.0
    return _sum(weights), nnz


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
def _dot(a, b):
    """Dot product with eight running partial sums (vectorises)."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = n - n % 8
    for j in range(0, stop, 8):
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
    for j in range(stop, n):
        s0 += a[j] * b[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


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
    sq_norms = np.empty(n)
    for i in range(n):
        acc = 0.0
        for a in range(Z.shape[1]):
            acc += np.float64(Z[i, a]) * np.float64(Z[i, a])
        sq_norms[i] = acc
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
        nonzero = np.empty(n, dtype=np.int64)
        dense_rows = np.empty(chunk_rows, dtype=np.int64)
        acc = np.empty(d)
        cols = col_sums[group]
        for chunk in range(group, n_chunks, n_groups):
            start = chunk * chunk_rows
            stop = min(n, start + chunk_rows)
            W = np.dot(Z[start:stop], ZT)
            n_dense = 0
            for r in range(stop - start):
                i = start + r
                row = W[r]
                total, nnz = _row_weights(row, sq_norms, i, shifted, weights,
                                           scale_bits)
                if objective == NCA_OBJECTIVE:
                    label = labels[i]
                    for j in range(n):
                        same_class[j] = 1.0 if labels[j] == label else 0.0
                    v = same_class
                else:
                    v = targets
                if nnz >= sparse_limit:
                    value = _dot(weights, v) / total
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
                    nnz = 0
                    for j in range(n):
                        if weights[j] > 0.0:
                            nonzero[nnz] = j
                            nnz += 1
                    value = 0.0
                    for k in range(nnz):
                        j = nonzero[k]
                        value += weights[j] * v[j]
                    value /= total
                    loss, a, b = _row_coefficients(objective, value, total, targets[i])
                    acc[:] = 0.0
                    row_sum = 0.0
                    for k in range(nnz):
                        j = nonzero[k]
                        g = weights[j] * (a * v[j] + b)
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
    ``_N_GROUPS`` groups with the same number of chunks each, and a chunk's
    ``(chunk_rows, n_samples)`` buffer stays under ``max_buffer`` entries (16
    MiB in float64), with at least 16 rows for an efficient GEMM.

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
    n_groups = max(1, min(_N_GROUPS, n_samples))
    chunks_per_group = max(1, -(-n_samples // (n_groups * cap)))
    chunk_rows = max(1, -(-n_samples // (n_groups * chunks_per_group)))
    n_groups = min(n_groups, -(-n_samples // chunk_rows))
    return chunk_rows, n_groups


def softmax_loss_grad(X, components, labels, targets, objective):
    """Objective and gradient of NCA or MLKR with respect to ``L``.

    Call inside ``parallel_section(n_threads, limit_blas=True)``: the kernel
    runs one GEMM per chunk from each thread. The result does not depend on
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
    n = X.shape[0]
    Z = np.ascontiguousarray(X @ components.T.astype(X.dtype, copy=False))
    chunk_rows, n_groups = chunk_layout(n)
    row_losses, row_values, GX, diag_weights = softmax_chunks(
        X, Z, labels, targets, objective, chunk_rows, n_groups)
    X64 = X.astype(np.float64, copy=False)
    cross = X64.T @ GX.astype(np.float64, copy=False)
    hessian_like = (X64.T * diag_weights) @ X64 - cross - cross.T
    gradient = 2.0 * np.asarray(components, dtype=np.float64) @ hessian_like
    return float(row_losses.sum()), gradient, row_values


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
        loss = (error ** 2).sum()
        G = -2.0 * error[:, None] * P * (targets[None, :] - values[:, None])
    S = np.diag(G.sum(axis=0) + G.sum(axis=1)) - G - G.T
    gradient = 2.0 * L @ (X.T @ S @ X)
    return float(loss), gradient, values
