"""Numba kernels of LMNN: target-neighbour pull and impostor push."""

import numpy as np
from numba import njit, prange

from ._common import _sq_norms, _sqdist

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
#
# The plain NumPy twins that serve as test oracles live in the tests.


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
