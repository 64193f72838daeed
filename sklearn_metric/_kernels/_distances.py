"""Numba kernels for pairwise and paired distances.

Each metric is a small function over two rows. The kernels dispatch on an
integer metric code rather than taking a jitted function as an argument: a
cached kernel that receives a function misses Numba's on-disk cache on every
new process, which turns a cold start into tens of seconds.

Per-row auxiliary values are computed once per row instead of once per pair:
the norm for ``cosine``, and the mean and variance for ``snr``. Every sum is
accumulated in float64, also for float32 rows.
"""

import numpy as np
from numba import njit, prange

EUCLIDEAN = 0
SQEUCLIDEAN = 1
MANHATTAN = 2
CHEBYSHEV = 3
MINKOWSKI = 4  # reduced form: sum |x - y| ** p, the 1 / p power is taken last
COSINE = 5
SNR = 6

# Rows of X handled together, so that each row of Y read from memory is reused
# from L1 cache this many times.
_ROW_BLOCK = 8


@njit(cache=True)
def sqeuclidean(x, y):
    acc = 0.0
    for k in range(x.shape[0]):
        diff = np.float64(x[k]) - np.float64(y[k])
        acc += diff * diff
    return acc


@njit(cache=True)
def _manhattan(x, y):
    acc = 0.0
    for k in range(x.shape[0]):
        acc += abs(np.float64(x[k]) - np.float64(y[k]))
    return acc


@njit(cache=True)
def _chebyshev(x, y):
    acc = 0.0
    for k in range(x.shape[0]):
        diff = abs(np.float64(x[k]) - np.float64(y[k]))
        if diff > acc:
            acc = diff
    return acc


@njit(cache=True)
def _minkowski_reduced(x, y, p):
    acc = 0.0
    for k in range(x.shape[0]):
        acc += abs(np.float64(x[k]) - np.float64(y[k])) ** p
    return acc


@njit(cache=True)
def _cosine(x, y, norm_x, norm_y):
    # A row of zeros has no direction: its similarity to anything is taken as 0,
    # so its distance is 1, the convention of sklearn.metrics.pairwise.
    if norm_x == 0.0 or norm_y == 0.0:
        return 1.0
    dot = 0.0
    for k in range(x.shape[0]):
        dot += np.float64(x[k]) * np.float64(y[k])
    dist = 1.0 - dot / (norm_x * norm_y)
    # Rounding can push 1 - cos a hair outside [0, 2].
    return min(max(dist, 0.0), 2.0)


@njit(cache=True)
def _snr(x, y, mean_x, var_x, mean_y):
    # d(x, y) = var(y - x) / var(x): the anchor x is the signal, y - x the noise.
    shift = mean_y - mean_x
    acc = 0.0
    for k in range(x.shape[0]):
        noise = np.float64(y[k]) - np.float64(x[k]) - shift
        acc += noise * noise
    var_noise = acc / x.shape[0]
    if var_x == 0.0:
        # A constant anchor carries no signal: any noise is infinitely loud.
        return 0.0 if var_noise == 0.0 else np.inf
    return var_noise / var_x


@njit(cache=True)
def reduced_distance(code, x, y, aux_x, aux_y, p):
    """Distance between two rows in its reduced (monotone, cheaper) form.

    Euclidean returns the squared distance and Minkowski the sum of powers;
    :func:`finalize_distance` turns a reduced value into the true one.
    """
    if code == EUCLIDEAN or code == SQEUCLIDEAN:
        return sqeuclidean(x, y)
    if code == MANHATTAN:
        return _manhattan(x, y)
    if code == CHEBYSHEV:
        return _chebyshev(x, y)
    if code == MINKOWSKI:
        return _minkowski_reduced(x, y, p)
    if code == COSINE:
        return _cosine(x, y, aux_x[0], aux_y[0])
    return _snr(x, y, aux_x[0], aux_x[1], aux_y[0])


@njit(cache=True)
def finalize_distance(code, value, p):
    """Turn a reduced distance into the distance itself."""
    if code == EUCLIDEAN:
        return np.sqrt(value)
    if code == MINKOWSKI:
        return value ** (1.0 / p)
    return value


@njit(cache=True)
def row_aux(X, code):
    """Per-row values a metric needs: the norm for cosine, mean and variance for snr.

    Returns an array of shape (n_rows, 2); unused columns are zero.
    """
    n, d = X.shape
    aux = np.zeros((n, 2))
    if code == COSINE:
        for i in range(n):
            acc = 0.0
            for k in range(d):
                acc += np.float64(X[i, k]) * np.float64(X[i, k])
            aux[i, 0] = np.sqrt(acc)
    elif code == SNR:
        for i in range(n):
            mean = 0.0
            for k in range(d):
                mean += np.float64(X[i, k])
            mean /= d
            var = 0.0
            for k in range(d):
                centred = np.float64(X[i, k]) - mean
                var += centred * centred
            aux[i, 0] = mean
            aux[i, 1] = var / d
    return aux


@njit(cache=True)
def reduced_block(code, X, x_start, x_stop, aux_x, Y, y_start, y_stop, aux_y, p, out):
    """Reduced distances between rows ``x_start:x_stop`` of X and ``y_start:y_stop``
    of Y, into ``out[:x_stop - x_start, :y_stop - y_start]``.

    The metric is chosen once per block, so every metric runs in a loop of its
    own: choosing it per pair would cost as much as the distance itself. Rows of
    Y are the outer loop so that each is reused for the whole block of X.
    """
    if code == EUCLIDEAN or code == SQEUCLIDEAN:
        for j in range(y_start, y_stop):
            y = Y[j]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = sqeuclidean(X[i], y)
    elif code == MANHATTAN:
        for j in range(y_start, y_stop):
            y = Y[j]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = _manhattan(X[i], y)
    elif code == CHEBYSHEV:
        for j in range(y_start, y_stop):
            y = Y[j]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = _chebyshev(X[i], y)
    elif code == MINKOWSKI:
        for j in range(y_start, y_stop):
            y = Y[j]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = _minkowski_reduced(X[i], y, p)
    elif code == COSINE:
        for j in range(y_start, y_stop):
            y = Y[j]
            norm_y = aux_y[j, 0]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = _cosine(X[i], y, aux_x[i, 0], norm_y)
    else:
        for j in range(y_start, y_stop):
            y = Y[j]
            mean_y = aux_y[j, 0]
            for i in range(x_start, x_stop):
                out[i - x_start, j - y_start] = _snr(
                    X[i], y, aux_x[i, 0], aux_x[i, 1], mean_y
                )


@njit(cache=True)
def finalize_block(code, p, out):
    """Apply :func:`finalize_distance` to every entry of a 2-D block, in place."""
    if code == EUCLIDEAN:
        for a in range(out.shape[0]):
            for b in range(out.shape[1]):
                out[a, b] = np.sqrt(out[a, b])
    elif code == MINKOWSKI:
        for a in range(out.shape[0]):
            for b in range(out.shape[1]):
                out[a, b] = out[a, b] ** (1.0 / p)


@njit(parallel=True, cache=True)
def pairwise_direct(X, Y, aux_x, aux_y, code, p, out):
    """Fill ``out[i, j]`` with d(X[i], Y[j]), computed pair by pair.

    Parallel over blocks of rows of X; ``out`` has the dtype of the result.
    """
    n_x = X.shape[0]
    n_blocks = (n_x + _ROW_BLOCK - 1) // _ROW_BLOCK
    for block in prange(n_blocks):
        start = block * _ROW_BLOCK
        stop = min(start + _ROW_BLOCK, n_x)
        rows = out[start:stop]
        reduced_block(code, X, start, stop, aux_x, Y, 0, Y.shape[0], aux_y, p, rows)
        finalize_block(code, p, rows)


@njit(parallel=True, cache=True)
def paired_direct(X, Y, aux_x, aux_y, code, p, out):
    """Fill ``out[i]`` with d(X[i], Y[i])."""
    for i in prange(X.shape[0]):
        value = reduced_distance(code, X[i], Y[i], aux_x[i], aux_y[i], p)
        out[i] = finalize_distance(code, value, p)


@njit(parallel=True, cache=True)
def gemm_sqeuclidean_fixup(X, Y, sq_norm_x, sq_norm_y, rel_tol, squared, out):
    """Turn a block of dot products into (squared) Euclidean distances, in place.

    On entry ``out[i, j]`` holds ``X[i] . Y[j]``. The expansion
    ``|x|^2 + |y|^2 - 2 x.y`` loses precision to cancellation when the distance
    is small next to the norms; entries where the GEMM rounding bound
    ``rel_tol * (|x|^2 + |y|^2)`` is not negligible are recomputed from the
    differences, so every entry keeps close to full relative precision.
    """
    n_x = X.shape[0]
    n_y = Y.shape[0]
    for i in prange(n_x):
        for j in range(n_y):
            norms = sq_norm_x[i] + sq_norm_y[j]
            value = norms - 2.0 * out[i, j]
            if value < rel_tol * norms:
                value = sqeuclidean(X[i], Y[j])
            if not squared:
                value = np.sqrt(value)
            out[i, j] = value


@njit(parallel=True, cache=True)
def gemm_cosine_fixup(X, Y, norm_x, norm_y, rel_tol, out):
    """Turn a block of dot products of unit rows into cosine distances, in place.

    On entry ``out[i, j]`` holds ``X[i] . Y[j] / (|X[i]| |Y[j]|)`` from GEMM.
    ``1 - cos`` cancels for nearly parallel rows, so entries below ``rel_tol``
    are recomputed pair by pair from the original rows.
    """
    for i in prange(X.shape[0]):
        for j in range(Y.shape[0]):
            if norm_x[i] == 0.0 or norm_y[j] == 0.0:
                out[i, j] = 1.0
                continue
            value = 1.0 - out[i, j]
            if value < rel_tol:
                value = _cosine(X[i], Y[j], norm_x[i], norm_y[j])
            out[i, j] = min(max(value, 0.0), 2.0)
