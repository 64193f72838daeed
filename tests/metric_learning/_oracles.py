"""Plain NumPy twins of the metric-learning kernels, used as test oracles.

Each one computes what its Numba kernel in
``sklearn_metric.metric_learning._kernels`` computes, in the most direct way
(full arrays, sequential loops, no cutoffs and no chunks), so that the tests can
compare the two.
"""

import numpy as np

from sklearn_metric.metric_learning._kernels._softmax import NCA_OBJECTIVE


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


def embedded_gradient_numpy(Z, indptr, indices, weights):
    """NumPy twin of :func:`embedded_gradient`, from ``W`` alone."""
    Z = np.asarray(Z, dtype=np.float64)
    rows = np.repeat(np.arange(Z.shape[0]), np.diff(indptr))
    diff = weights[:, None] * (Z[rows] - Z[indices])
    out = np.zeros_like(Z)
    np.add.at(out, rows, diff)
    np.add.at(out, indices, -diff)
    return out


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
