"""Reductions and layout shared by the metric-learning kernels.

Loops with several running partial sums, so that the compiler vectorises them
without ``fastmath`` (which may not reorder a floating-point sum), and the row
chunk layout of the kernels that stream over every pair (the softmax objectives
of NCA and MLKR, LMNN's dense objective).
"""

import numpy as np
from numba import njit

# Chunks are dealt to at most this many groups, whatever the number of threads
# (see chunk_layout); more groups than threads keep the threads evenly loaded,
# but a group keeps at least _MIN_GROUP_ROWS rows so that its GEMMs stay
# efficient.
_N_GROUPS = 16
_MIN_GROUP_ROWS = 256


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
