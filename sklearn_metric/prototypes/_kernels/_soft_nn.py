"""Numba kernel of the soft nearest-neighbour leave-one-out likelihood.

``temperature="auto"`` scores a subset of the training rows, each voted on by
all training rows apart from itself and its exact copies, at some fifty
temperatures. Every evaluation is a pass over the (rows x training rows)
distance matrix: the log-sum-exp of the vote of all rows and of the row's
own class, and the expected distance under each vote (the derivative in
``log T``). The kernel does it in two passes per row without any temporary
matrix; rows run in parallel.
"""

import math

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def leave_one_out_terms(distances, log_weight, row_classes, classes, inv_temperature):
    """Per-row negative log-likelihood and its derivative factor.

    Parameters
    ----------
    distances : ndarray of shape (n_rows, n_train)
        Distances from the scored rows to the training rows (float32 or
        float64). A training row at distance 0 (or NaN) from a scored row is
        left out of its vote; one at infinite distance has no weight in it.
    log_weight : ndarray of shape (n_train,)
        Logarithm of the training rows' weights.
    row_classes : ndarray of shape (n_rows,)
        Class index of each scored row.
    classes : ndarray of shape (n_train,)
        Class index of each training row.
    inv_temperature : float
        ``1 / T``.

    Returns
    -------
    nll : ndarray of shape (n_rows,)
        ``log sum_all - log sum_same`` of the vote weights
        ``w_j exp(-d_ij / T)``: minus the log-probability of the row's class.
        ``inf`` when no row of its class votes.
    spread : ndarray of shape (n_rows,)
        Expected distance under the vote of all rows minus that under the
        vote of the row's class; the derivative of ``nll`` in ``log T`` is
        ``spread / T``.
    """
    n_rows, n_train = distances.shape
    nll = np.empty(n_rows)
    spread = np.empty(n_rows)
    for i in prange(n_rows):
        own = row_classes[i]
        peak_all = -np.inf
        peak_same = -np.inf
        for j in range(n_train):
            d = distances[i, j]
            if not d > 0.0:
                continue
            logit = log_weight[j] - d * inv_temperature
            if logit > peak_all:
                peak_all = logit
            if classes[j] == own and logit > peak_same:
                peak_same = logit
        if peak_same == -np.inf:
            nll[i] = np.inf
            spread[i] = 0.0
            continue
        sum_all = 0.0
        sum_same = 0.0
        moment_all = 0.0
        moment_same = 0.0
        for j in range(n_train):
            d = distances[i, j]
            if not d > 0.0 or d == np.inf:
                continue
            logit = log_weight[j] - d * inv_temperature
            vote = math.exp(logit - peak_all)
            sum_all += vote
            moment_all += vote * d
            if classes[j] == own:
                vote = math.exp(logit - peak_same)
                sum_same += vote
                moment_same += vote * d
        nll[i] = (peak_all + math.log(sum_all)) - (peak_same + math.log(sum_same))
        spread[i] = moment_all / sum_all - moment_same / sum_same
    return nll, spread
