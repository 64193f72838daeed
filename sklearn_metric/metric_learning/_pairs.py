"""Helpers shared by the pair learners (ITML, SDML, MMC): prior matrices,
distance percentiles and the scatter of pair differences."""

import numpy as np
from scipy.linalg import eigh
from scipy.sparse import coo_matrix
from sklearn.datasets import make_spd_matrix
from sklearn.utils import check_random_state

#: Values of ``prior`` (ITML, SDML) and ``init`` (MMC) naming a matrix.
MATRIX_OPTIONS = {"identity", "covariance", "random"}

# Above this many distinct points, the bound percentiles are estimated from a
# random sample of this many pairs instead of all n (n - 1) / 2 of them.
_MAX_PERCENTILE_PAIRS = 2_000_000


def distance_percentiles(X, q, random_state=None):
    """Percentiles of the Euclidean distances between distinct rows of X.

    All pairs are used when there are at most about 2 million; beyond, a
    random sample of 2 million pairs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points.
    q : sequence of float
        Percentiles in [0, 100].
    random_state : int, RandomState instance or None, default=None
        Seed for the sample of pairs.

    Returns
    -------
    percentiles : ndarray of shape (len(q),)
    """
    X = np.unique(X, axis=0)
    n_rows = X.shape[0]
    if n_rows < 2:
        return np.zeros(len(q))
    n_pairs = n_rows * (n_rows - 1) // 2
    if n_pairs <= _MAX_PERCENTILE_PAIRS:
        first, second = np.triu_indices(n_rows, k=1)
    else:
        random_state = check_random_state(random_state)
        first = random_state.randint(n_rows, size=_MAX_PERCENTILE_PAIRS)
        second = random_state.randint(n_rows - 1, size=_MAX_PERCENTILE_PAIRS)
        second += second >= first
    distances = np.empty(first.shape[0])
    chunk = max(1, 2**22 // max(X.shape[1], 1))
    for start in range(0, first.shape[0], chunk):
        diff = X[first[start : start + chunk]] - X[second[start : start + chunk]]
        distances[start : start + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return np.percentile(distances, q)


def prior_matrix(prior, X, random_state, *, name, strict):
    """The Mahalanobis matrix named by ``prior`` (ITML, SDML) or ``init`` (MMC).

    Parameters
    ----------
    prior : {"identity", "covariance", "random"} or ndarray
        See :class:`ITML`.
    X : ndarray of shape (n_samples, n_features)
        Points, for ``"covariance"``.
    random_state : RandomState instance
        For ``"random"``.
    name : str
        The parameter's name, for error messages.
    strict : bool
        Whether an array must be positive definite (else semi-definite).

    Returns
    -------
    M : ndarray of shape (n_features, n_features)
        A new symmetric float64 matrix.
    """
    n_features = X.shape[1]
    if isinstance(prior, np.ndarray):
        M = np.array(prior, dtype=np.float64)
        if M.shape != (n_features, n_features):
            raise ValueError(
                f"{name} must have shape ({n_features}, {n_features}) to match "
                f"the {n_features} features; got {M.shape}."
            )
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if not np.allclose(M, M.T):
            raise ValueError(f"{name} must be a symmetric matrix.")
        M = (M + M.T) / 2.0
        eigenvalues = eigh(M, eigvals_only=True)
        floor = 1e-10 * max(np.abs(eigenvalues).max(), np.finfo(float).tiny)
        if (strict and eigenvalues.min() <= floor) or eigenvalues.min() < -floor:
            kind = "positive definite" if strict else "positive semi-definite"
            raise ValueError(
                f"{name} must be {kind}; its smallest eigenvalue is "
                f"{eigenvalues.min():.3g}."
            )
        return M
    if prior == "identity":
        return np.eye(n_features)
    if prior == "random":
        return make_spd_matrix(n_features, random_state=random_state)
    # "covariance": the inverse covariance, with directions of (near) zero
    # variance given the largest weight found among the others.
    covariance = (
        np.atleast_2d(np.cov(X, rowvar=False))
        if X.shape[0] > 1
        else np.zeros((n_features, n_features))
    )
    eigenvalues, eigenvectors = eigh(covariance)
    largest = eigenvalues.max()
    valid = (
        eigenvalues > 1e-10 * largest
        if largest > 0
        else np.zeros_like(eigenvalues, dtype=bool)
    )
    if not np.any(valid):
        return np.eye(n_features)
    weights = np.full(n_features, 1.0 / eigenvalues[valid].min())
    weights[valid] = 1.0 / eigenvalues[valid]
    return (eigenvectors * weights) @ eigenvectors.T


def pair_scatter(X, indices, weights):
    """Weighted sum of the outer products of the pairs' differences.

    ``sum_i weights[i] * v_i v_i'`` with ``v_i = X[indices[i, 0]] -
    X[indices[i, 1]]``, computed as ``X' L X`` for the weighted Laplacian ``L``
    of the pair graph, so no ``(n_pairs, n_features)`` array is formed.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Points.
    indices : ndarray of shape (n_pairs, 2)
        Rows of the two points of each pair.
    weights : ndarray of shape (n_pairs,)
        Weight of each pair.

    Returns
    -------
    scatter : ndarray of shape (n_features, n_features)
        Symmetric matrix.
    """
    n_rows = X.shape[0]
    first, second = indices[:, 0], indices[:, 1]
    rows = np.concatenate([first, second, first, second])
    cols = np.concatenate([first, second, second, first])
    values = np.concatenate([weights, weights, -weights, -weights])
    laplacian = coo_matrix((values, (rows, cols)), shape=(n_rows, n_rows)).tocsr()
    scatter = X.T @ (laplacian @ X)
    return (scatter + scatter.T) / 2.0
