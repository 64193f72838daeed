"""Numba kernel for the gradient of distances with respect to the components.

The classification-by-components objective depends on the components through
the distances ``D[n, k] = d(z_n, w_k)``. For the squared Euclidean, cosine and
SNR distances the gradient with respect to the components is a matrix
product, computed with NumPy. For the Euclidean, Manhattan, Chebyshev and
Minkowski distances it is a sum over samples of terms in the coordinate
differences, which this kernel accumulates from the differences themselves
(the matrix-product form of the Euclidean term, ``(w - z) / |w - z|``, loses
all precision for a component close to a sample) and without forming the
(n_samples, n_components, n_features) array of differences. Metric codes are
those of :mod:`sklearn_metric._kernels._distances`. The kernel is serial: its
work per call (samples x components x features) is that of one distance
matrix, too small in practice for threads to pay their start-up.
"""

import numpy as np
from numba import njit

from ..._kernels._distances import CHEBYSHEV, EUCLIDEAN, MANHATTAN


@njit(cache=True)
def coordinate_distance_gradient(Z, W, D, G, code, p, out):
    """Add ``sum_n G[n, k] * grad_w d(z_n, w)`` at ``w = W[k]`` to ``out[k]``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        Samples (float32 or float64).
    W : ndarray of shape (n_components, n_features)
        Components.
    D : ndarray of shape (n_samples, n_components)
        ``d(Z[n], W[k])``; used by the Euclidean and Minkowski distances.
    G : ndarray of shape (n_samples, n_components)
        Weights of the terms (the derivative of the objective with respect to
        each distance). Zero entries are skipped.
    code : int
        ``EUCLIDEAN``, ``MANHATTAN``, ``CHEBYSHEV`` or ``MINKOWSKI`` (any other
        value is taken as Minkowski).
    p : float
        Minkowski power, ``p > 1``.
    out : ndarray of shape (n_components, n_features), float64
        Accumulator.

    Notes
    -----
    Where a distance is not differentiable (a coordinate difference of zero for
    Manhattan, a tie between largest coordinates for Chebyshev, ``z == w``),
    the subgradient with zero in the tied coordinates (the first largest one
    for Chebyshev) is used.
    """
    n_samples, n_features = Z.shape
    for k in range(W.shape[0]):
        for i in range(n_samples):
            g = np.float64(G[i, k])
            if g == 0.0:
                continue
            if code == EUCLIDEAN:
                distance = np.float64(D[i, k])
                if distance == 0.0:
                    continue
                scale = g / distance
                for j in range(n_features):
                    out[k, j] += scale * (np.float64(W[k, j]) - np.float64(Z[i, j]))
            elif code == MANHATTAN:
                for j in range(n_features):
                    diff = np.float64(W[k, j]) - np.float64(Z[i, j])
                    if diff > 0.0:
                        out[k, j] += g
                    elif diff < 0.0:
                        out[k, j] -= g
            elif code == CHEBYSHEV:
                largest = -1.0
                where = 0
                for j in range(n_features):
                    size = abs(np.float64(W[k, j]) - np.float64(Z[i, j]))
                    if size > largest:
                        largest = size
                        where = j
                diff = np.float64(W[k, where]) - np.float64(Z[i, where])
                if diff > 0.0:
                    out[k, where] += g
                elif diff < 0.0:
                    out[k, where] -= g
            else:
                distance = np.float64(D[i, k])
                if distance == 0.0:
                    continue
                scale = g / distance ** (p - 1.0)
                for j in range(n_features):
                    diff = np.float64(W[k, j]) - np.float64(Z[i, j])
                    if diff > 0.0:
                        out[k, j] += scale * diff ** (p - 1.0)
                    elif diff < 0.0:
                        out[k, j] -= scale * (-diff) ** (p - 1.0)
