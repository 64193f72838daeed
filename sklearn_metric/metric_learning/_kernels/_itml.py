"""Numba kernels of ITML: Bregman projections."""

import numpy as np
from numba import njit

# Numba kernels of the pair learners (ITML).
#
# ITML's solver is a cyclic sequence of Bregman projections, one per constraint,
# each a rank-one update of the Mahalanobis matrix that depends on the previous
# one; this sequential loop is what makes it slow in Python. Its plain NumPy
# twin, the test oracle, lives in the tests.


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
