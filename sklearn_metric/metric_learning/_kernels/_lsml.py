"""Numba kernels of LSML: quadruplet losses on the embedded data."""

import math

import numpy as np
from numba import njit, prange

from ._common import _sqdist

# LSML sees its quadruplets as rows of an index array into one data array, so
# no kernel here builds a ``(n_quadruplets, 4, n_features)`` array. It
# evaluates its loss on the embedded data ``Z = X L'``: one pass over the
# quadruplets gives the loss and, for each of its two pairs, the coefficient of
# the pair's outer product in the gradient; a second pass scatters those
# coefficients into ``W X`` (``W`` the weighted Laplacian of the pairs), after
# which the gradient is the single product ``Z' W X``.
#
# Every sum is accumulated in float64, also for float32 input. Each kernel has a
# NumPy twin in the tests.


# Columns of the output handled by one task of the parallel scatter: every task
# owns whole columns, so no two threads ever write the same entry.
_COLUMN_BLOCK = 8


@njit(parallel=True, cache=True)
def lsml_loss_coefficients(Z, quadruplets, weights, coefficients):
    """LSML's comparison loss and its gradient coefficients.

    For quadruplet ``(a, b, c, d)`` with embedded distances
    ``d_ab = ||Z[a] - Z[b]||`` and ``d_cd = ||Z[c] - Z[d]||``, the loss is
    ``w * (d_ab - d_cd)**2`` when ``d_ab > d_cd`` and zero otherwise. Its
    gradient with respect to ``L`` (where ``Z = X L'``) is
    ``c_ab (z_a - z_b)(x_a - x_b)' + c_cd (z_c - z_d)(x_c - x_d)'``.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_components), float32 or float64
        Embedded rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    weights : ndarray of shape (n_quadruplets,), float64
        Weight of each quadruplet.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Output: ``c_ab`` and ``c_cd`` (zero for satisfied quadruplets, and
        ``c_cd`` zero when ``d_cd = 0``, where ``x_c - x_d`` vanishes in the
        embedding and contributes nothing).

    Returns
    -------
    loss : float
        The weighted sum of squared violations.
    """
    loss = 0.0
    for q in prange(quadruplets.shape[0]):
        d_ab = math.sqrt(_sqdist(Z, quadruplets[q, 0], quadruplets[q, 1]))
        d_cd = math.sqrt(_sqdist(Z, quadruplets[q, 2], quadruplets[q, 3]))
        coef_ab = 0.0
        coef_cd = 0.0
        if d_ab > d_cd:
            residual = d_ab - d_cd
            loss += weights[q] * residual * residual
            coef_ab = 2.0 * weights[q] * residual / d_ab
            if d_cd > 0.0:
                coef_cd = -2.0 * weights[q] * residual / d_cd
        coefficients[q, 0] = coef_ab
        coefficients[q, 1] = coef_cd
    return loss


@njit(parallel=True, cache=True)
def quadruplet_laplacian_product(X, quadruplets, coefficients, out):
    """Accumulate ``W X`` for the pairs of quadruplets, ``W`` their Laplacian.

    Pair ``(a, b)`` with coefficient ``c`` adds ``c (x_a - x_b)`` to
    ``out[a]`` and ``c (x_b - x_a)`` to ``out[b]``; the pairs are ``(a, b)``
    with ``coefficients[:, 0]`` and ``(c, d)`` with ``coefficients[:, 1]``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64
        Rows.
    quadruplets : ndarray of shape (n_quadruplets, 4), intp
        Row indices.
    coefficients : ndarray of shape (n_quadruplets, 2), float64
        Pair coefficients, as returned by :func:`lsml_loss_coefficients`.
    out : ndarray of shape (n_rows, n_features), float64
        Zeroed on entry; receives ``W X``.
    """
    n_features = X.shape[1]
    n_blocks = (n_features + _COLUMN_BLOCK - 1) // _COLUMN_BLOCK
    for block in prange(n_blocks):
        start = block * _COLUMN_BLOCK
        stop = min(start + _COLUMN_BLOCK, n_features)
        for q in range(quadruplets.shape[0]):
            for pair in range(2):
                coef = coefficients[q, pair]
                if coef == 0.0:
                    continue
                first = quadruplets[q, 2 * pair]
                second = quadruplets[q, 2 * pair + 1]
                for k in range(start, stop):
                    diff = coef * (np.float64(X[first, k]) - np.float64(X[second, k]))
                    out[first, k] += diff
                    out[second, k] -= diff
