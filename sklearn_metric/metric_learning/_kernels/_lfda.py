"""Numba kernels of LFDA: local-scaling affinities."""

import math

import numpy as np
from numba import njit, prange

# LFDA weights every same-class pair ``(i, j)`` by the local-scaling affinity
# ``exp(-||x_i - x_j||^2 / (sigma_i sigma_j))`` (Zelnik-Manor and Perona, 2005),
# where ``sigma_i`` is the distance from ``x_i`` to its k-th nearest neighbour of
# the same class. :func:`local_affinity` evaluates it on a block of squared
# distances; the scatter matrices are then assembled with BLAS products.
# Its plain NumPy twin, the test oracle, lives in the tests.


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
