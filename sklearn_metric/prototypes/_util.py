"""Numerical helpers shared by several prototype classifiers.

A stopping rule for L-BFGS on piecewise smooth objectives, a deterministic
class-wise k-means start, the weighted per-feature median and row
normalisation.
"""

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "PLATEAU_WINDOW",
    "distinct_rows_by_class",
    "kmeans_by_class",
    "minimize_until_plateau",
    "unit_rows",
    "weighted_median",
]

#: Iterations over which the objective must fall by ``tol`` for training to go on.
PLATEAU_WINDOW = 10
#: Most restarts of L-BFGS-B after it stalls before the plateau is reached.
_MAX_RESTARTS = 5
#: Lloyd iterations of the component initialisation at most.
_KMEANS_ITER = 100


def minimize_until_plateau(loss_grad, x0, *, max_iter, tol, estimator_name, verbose):
    """L-BFGS-B on a piecewise smooth objective, until it stops decreasing.

    The margin, cluster and separation losses are maxima of smooth terms: their
    gradient does not vanish at a minimum, and L-BFGS-B then creeps on in
    ever smaller steps. Training stops once the objective has fallen by less
    than ``tol`` times its value over the last ``PLATEAU_WINDOW`` iterations
    (or is zero with a zero gradient). A stall of L-BFGS-B before that (its
    relative-decrease test, met at a kink) restarts it from the current point
    with its memory cleared, at most ``_MAX_RESTARTS`` times. Running out of
    ``max_iter`` first warns.

    Returns the solution, the iterations run and the objective after each.
    """
    trace = []
    reached = [False]

    def callback(intermediate_result):
        trace.append(float(intermediate_result.fun))
        if verbose:
            print(
                f"[{estimator_name}] iteration {len(trace):>4}: objective "
                f"{trace[-1]:.6g}"
            )
        if len(trace) > PLATEAU_WINDOW:
            decrease = trace[-PLATEAU_WINDOW - 1] - trace[-1]
            if decrease <= tol * abs(trace[-1]):
                reached[0] = True
                raise StopIteration

    x = np.asarray(x0, dtype=np.float64)
    for _ in range(_MAX_RESTARTS + 1):
        result = minimize(
            loss_grad,
            x,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": max_iter - len(trace), "gtol": 0.0},
        )
        x = result.x
        if reached[0] or len(trace) >= max_iter or result.nit == 0:
            break
    if len(trace) >= max_iter and not reached[0]:
        warnings.warn(
            f"{estimator_name} did not converge in max_iter={max_iter} iterations: "
            f"the objective still fell by more than tol={tol} (relative) over the "
            f"last {PLATEAU_WINDOW}; increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return x, len(trace), trace


def _weighted_kmeans(X, weights, n_clusters):
    """Deterministic weighted k-means on distinct rows (maximin start, Lloyd)."""
    mean = weights @ X / weights.sum()
    chosen = [int(np.argmin(((X - mean) ** 2).sum(axis=1)))]
    nearest = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, ((X - X[chosen[-1]]) ** 2).sum(axis=1))
    centres = X[chosen].copy()
    assignment = None
    for _ in range(_KMEANS_ITER):
        squared = (
            (X**2).sum(axis=1)[:, None]
            - 2.0 * X @ centres.T
            + (centres**2).sum(axis=1)[None, :]
        )
        new_assignment = np.argmin(squared, axis=1)
        if assignment is not None and np.array_equal(new_assignment, assignment):
            break
        assignment = new_assignment
        for cluster in range(n_clusters):
            members = assignment == cluster
            total = weights[members].sum()
            if total > 0:
                centres[cluster] = weights[members] @ X[members] / total
    return centres


def distinct_rows_by_class(X, y, weights, n_classes):
    """The distinct rows of positive weight of each class, with summed weights.

    Merging duplicates (and dropping rows of weight zero) makes repeating a
    row and raising its weight start a model at the same place.
    """
    distinct = []
    for label in range(n_classes):
        rows = (y == label) & (weights > 0)
        if not rows.any():
            distinct.append((np.empty((0, X.shape[1])), np.empty(0)))
            continue
        unique, inverse = np.unique(X[rows], axis=0, return_inverse=True)
        distinct.append((unique, np.bincount(inverse.ravel(), weights=weights[rows])))
    return distinct


def kmeans_by_class(distinct, shares):
    """Weighted k-means centres of each class, ``shares[c]`` for class ``c``."""
    return np.vstack(
        [
            _weighted_kmeans(rows, summed, share)
            for (rows, summed), share in zip(distinct, shares)
            if share > 0
        ]
    )


def weighted_median(X, weight):
    """Per-feature weighted median: the midpoint of the lower and upper medians.

    Every point between the two minimises the weighted sum of absolute
    deviations; with unit weights the midpoint is ``np.median``.
    """
    order = np.argsort(X, axis=0, kind="stable")
    values = np.take_along_axis(X, order, axis=0)
    cumulative = np.cumsum(weight[order], axis=0)
    half = cumulative[-1] / 2.0
    lower = np.argmax(cumulative >= half, axis=0)
    upper = np.argmax(cumulative > half, axis=0)
    columns = np.arange(X.shape[1])
    return 0.5 * (values[lower, columns] + values[upper, columns])


def unit_rows(A):
    """Rows scaled to unit Euclidean norm, and the norms; zero rows stay zero.

    Returns
    -------
    unit : ndarray of the shape of ``A``
    norms : ndarray of shape (n_rows,)
    """
    norms = np.linalg.norm(A, axis=1)
    return A / np.where(norms == 0, 1.0, norms)[:, None], norms
