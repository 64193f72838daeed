"""Numba kernels of LMNN: the loss and the pair weights of its gradient.

LMNN's objective is a weighted sum of squared embedded distances
``||z_a - z_b||^2`` over pairs ``(a, b)``: target pairs ``(i, j)`` with the
weight of the pull term plus the push weight of every active triple they
belong to, and impostor pairs ``(i, l)`` with minus the push weight of theirs.
The triples ``(i, j, l)`` are never stored: one pass per sample ``i`` over
its targets and its impostor candidates counts the active ones.

The pairs of every sample ``i`` sit in one CSR row: slots ``indptr[i]`` to
``indptr[i] + n_targets`` hold its target neighbours, the remaining slots up
to ``indptr[i + 1]`` its impostor candidates. With the pair weights ``W`` in
that layout, the gradient with respect to the embedding ``Z = X L'`` is
``2 C Z`` with ``C = diag(W 1 + W' 1) - W - W'``, whose row ``a`` is
``sum_b (W[a, b] + W[b, a]) (z_a - z_b)``; :func:`embedded_gradient` forms it
row by row from ``W`` and its transpose, so no thread writes another's row.

Each kernel has a plain NumPy twin (suffix ``_numpy``) used as test oracle.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _sqdist(Z, a, b):
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


@njit(parallel=True, cache=True)
def pair_weights(Z, indptr, indices, n_targets, pull_weight, push_weight,
                 weights, losses, n_active):
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
        row = indices[indptr[i]:indptr[i + 1]]
        sq = ((Z[row] - Z[i]) ** 2).sum(axis=1)
        target_sq, impostor_sq = sq[:n_targets], sq[n_targets:]
        hinge = 1.0 + target_sq[:, None] - impostor_sq[None, :]
        active = hinge > 0.0
        losses[i] = pull_weight * target_sq.sum() + push_weight * hinge[active].sum()
        n_active[i] = active.sum()
        weights[indptr[i]:indptr[i] + n_targets] = (
            pull_weight + push_weight * active.sum(axis=1))
        weights[indptr[i] + n_targets:indptr[i + 1]] = -push_weight * active.sum(axis=0)
    return weights, losses, n_active


@njit(parallel=True, cache=True)
def embedded_gradient(Z, indptr, indices, weights, t_indptr, t_indices, t_order,
                      out):
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


def embedded_gradient_numpy(Z, indptr, indices, weights):
    """NumPy twin of :func:`embedded_gradient`, from ``W`` alone."""
    Z = np.asarray(Z, dtype=np.float64)
    rows = np.repeat(np.arange(Z.shape[0]), np.diff(indptr))
    diff = weights[:, None] * (Z[rows] - Z[indices])
    out = np.zeros_like(Z)
    np.add.at(out, rows, diff)
    np.add.at(out, indices, -diff)
    return out
