"""Numba kernels of NCA and MLKR: softmax objectives over all pairs."""

import numpy as np
from numba import njit, prange

from ._common import _min, _sq_norms, _sum, _sum_dot, chunk_layout

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


# Constants of the exponential below (those of fdlibm).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


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
