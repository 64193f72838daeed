"""Numba kernels of SCML: sparse combinations of basis directions."""

import math

import numpy as np
from numba import njit, prange

from ._common import _sqdist

# SCML sees its triplets as rows of an index array into one data array, so no
# kernel here builds a ``(n_triplets, 3, n_features)`` array:
#
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
