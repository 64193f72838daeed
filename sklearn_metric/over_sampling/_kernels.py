"""Numba kernels of the over-samplers.

Interpolation of numeric rows, and the neighbour search and vote of the
categorical samplers (on integer codes: no one-hot array is ever built). Each
kernel has a NumPy twin that the tests use as its oracle:
:func:`interpolate_into` is :func:`sklearn_metric.over_sampling._base.interpolate`
writing into a given array.
"""

import numpy as np
from numba import njit, prange

from .._kernels._topk import EMPTY, heap_replace_root, heap_sort


@njit(parallel=True, cache=True)
def interpolate_into(X, rows, partners, steps, out):
    """Write ``X[rows] + steps * (X[partners] - X[rows])`` into ``out``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Dense rows.
    rows, partners : ndarray of shape (n_new,)
        Parent rows of each new row.
    steps : ndarray of shape (n_new,)
        Steps, in the dtype of ``X``.
    out : ndarray of shape (n_new, n_features)
        Destination, in the dtype of ``X``.
    """
    n_features = X.shape[1]
    for i in prange(rows.shape[0]):
        a = rows[i]
        b = partners[i]
        t = steps[i]
        for j in range(n_features):
            out[i, j] = X[a, j] + t * (X[b, j] - X[a, j])


# ----------------------------------------------------------------------
# SMOTE-NC and SMOTEN: categorical neighbour search
# ----------------------------------------------------------------------
# Numba kernels of the categorical over-samplers (SMOTE-NC and SMOTEN).
#
# Categorical features are held as integer codes, one column per feature. No
# one-hot matrix and no pairwise distance matrix is ever built:
#
# * :func:`mixed_knn` finds the nearest neighbours under the SMOTE-NC distance
#   ``|x_cont - y_cont|^2 + penalty * (number of categorical mismatches)``;
# * :func:`vdm_knn` finds them under the Value Difference Metric, reading
#   per-feature tables of class-conditional frequencies by code;
# * :func:`categorical_mode` gives, per new row and per feature, the most common
#   code among a set of rows.
#
# Each search runs in parallel over the queries and keeps a bounded max-heap of
# ``n_neighbors`` entries per query: memory is ``O(n_queries * n_neighbors)``.
# Ties are broken by index (the smaller index is nearer). Every kernel has a
# plain NumPy twin (suffix ``_numpy``) used as the test oracle.


@njit(cache=True)
def _mixed_one_query(x_cont, x_cat, Y_cont, Y_cat, penalty, skip, heap_d, heap_i):
    n_cont = Y_cont.shape[1]
    n_cat = Y_cat.shape[1]
    for j in range(Y_cont.shape[0]):
        if j == skip:
            continue
        worst = heap_d[0]
        mismatches = 0
        for f in range(n_cat):
            if x_cat[f] != Y_cat[j, f]:
                mismatches += 1
        dist = penalty * mismatches
        if dist > worst:
            continue
        for f in range(n_cont):
            diff = x_cont[f] - Y_cont[j, f]
            dist += diff * diff
        # Candidates come in increasing index, so an equal distance never wins.
        if dist < worst:
            heap_replace_root(heap_d, heap_i, dist, j)


@njit(parallel=True, cache=True)
def mixed_knn(X_cont, X_cat, Y_cont, Y_cat, penalty, skip, out_d, out_i):
    """Nearest rows of ``Y`` under the SMOTE-NC distance, written in place.

    Parameters
    ----------
    X_cont : ndarray of shape (n_queries, n_continuous), float64
        Continuous features of the queries.
    X_cat : ndarray of shape (n_queries, n_categorical), int64
        Category codes of the queries.
    Y_cont : ndarray of shape (n_index, n_continuous), float64
        Continuous features of the index rows.
    Y_cat : ndarray of shape (n_index, n_categorical), int64
        Category codes of the index rows.
    penalty : float
        Squared distance added per categorical mismatch.
    skip : ndarray of shape (n_queries,), int64
        Index row that query ``q`` must not return (its own row), or -1.
    out_d : ndarray of shape (n_queries, n_neighbors), float64
        Receives the squared distances, nearest first.
    out_i : ndarray of shape (n_queries, n_neighbors), int64
        Receives the indices into ``Y``, nearest first, ties by index.
    """
    for q in prange(X_cont.shape[0]):
        heap_d = np.full(out_d.shape[1], np.inf)
        heap_i = np.full(out_d.shape[1], EMPTY)
        _mixed_one_query(
            X_cont[q], X_cat[q], Y_cont, Y_cat, penalty, skip[q], heap_d, heap_i
        )
        heap_sort(heap_d, heap_i)
        out_d[q] = heap_d
        out_i[q] = heap_i


@njit(cache=True)
def _vdm_one_query(x_cat, Y_cat, proba, offsets, skip, heap_d, heap_i):
    n_features = Y_cat.shape[1]
    n_classes = proba.shape[1]
    for j in range(Y_cat.shape[0]):
        if j == skip:
            continue
        worst = heap_d[0]
        dist = 0.0
        for f in range(n_features):
            a = x_cat[f]
            b = Y_cat[j, f]
            if a == b:
                continue
            row_a = offsets[f] + a
            row_b = offsets[f] + b
            per_feature = 0.0
            for c in range(n_classes):
                per_feature += abs(proba[row_a, c] - proba[row_b, c])
            dist += per_feature * per_feature
            if dist > worst:
                break
        if dist < worst:
            heap_replace_root(heap_d, heap_i, dist, j)


@njit(parallel=True, cache=True)
def vdm_knn(X_cat, Y_cat, proba, offsets, skip, out_d, out_i):
    """Nearest rows of ``Y`` under the Value Difference Metric, in place.

    The distance between two rows is ``sum_f (sum_c |P(c | x_f) - P(c | y_f)|)^2``
    (imbalanced-learn's ``ValueDifferenceMetric`` with ``k=1, r=2``).

    Parameters
    ----------
    X_cat : ndarray of shape (n_queries, n_features), int64
        Category codes of the queries.
    Y_cat : ndarray of shape (n_index, n_features), int64
        Category codes of the index rows.
    proba : ndarray of shape (n_levels_total, n_classes), float64
        Class-conditional frequencies ``P(c | value)``, the tables of all the
        features stacked; feature ``f``, code ``v`` is row ``offsets[f] + v``.
    offsets : ndarray of shape (n_features,), int64
        First row of each feature's table in ``proba``.
    skip : ndarray of shape (n_queries,), int64
        Index row that query ``q`` must not return (its own row), or -1.
    out_d : ndarray of shape (n_queries, n_neighbors), float64
        Receives the distances, nearest first.
    out_i : ndarray of shape (n_queries, n_neighbors), int64
        Receives the indices into ``Y``, nearest first, ties by index.
    """
    for q in prange(X_cat.shape[0]):
        heap_d = np.full(out_d.shape[1], np.inf)
        heap_i = np.full(out_d.shape[1], EMPTY)
        _vdm_one_query(X_cat[q], Y_cat, proba, offsets, skip[q], heap_d, heap_i)
        heap_sort(heap_d, heap_i)
        out_d[q] = heap_d
        out_i[q] = heap_i


@njit(parallel=True, cache=True)
def categorical_mode(codes, members, tie_draws, out):
    """Most common code per feature among sets of rows, in place.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_features), int64
        Category codes.
    members : ndarray of shape (n_new, n_members), int64
        Rows of ``codes`` that vote for new row ``s``.
    tie_draws : ndarray of shape (n_new, n_features), float64
        Numbers in [0, 1) choosing among tied codes: with ``m`` codes tied,
        the ``floor(draw * m)``-th smallest wins (all zeros: the smallest).
    out : ndarray of shape (n_new, n_features), int64
        Receives the winning codes.
    """
    n_members = members.shape[1]
    for s in prange(members.shape[0]):
        values = np.empty(n_members, dtype=np.int64)
        for f in range(codes.shape[1]):
            for m in range(n_members):
                values[m] = codes[members[s, m], f]
            values.sort()
            best = 0
            n_tied = 0
            run = 1
            # First pass: the highest count and how many codes reach it.
            for m in range(1, n_members + 1):
                if m < n_members and values[m] == values[m - 1]:
                    run += 1
                    continue
                if run > best:
                    best = run
                    n_tied = 1
                elif run == best:
                    n_tied += 1
                run = 1
            pick = int(tie_draws[s, f] * n_tied)
            if pick >= n_tied:
                pick = n_tied - 1
            # Second pass: the pick-th code (ascending) among the tied ones.
            run = 1
            for m in range(1, n_members + 1):
                if m < n_members and values[m] == values[m - 1]:
                    run += 1
                    continue
                if run == best:
                    if pick == 0:
                        out[s, f] = values[m - 1]
                        break
                    pick -= 1
                run = 1


def _top_k_numpy(dist, skip, n_neighbors):
    dist = dist.copy()
    rows = np.flatnonzero(skip >= 0)
    dist[rows, skip[rows]] = np.inf
    # lexsort: by distance, then by index.
    order = np.array(
        [np.lexsort((np.arange(d.shape[0]), d))[:n_neighbors] for d in dist]
    ).reshape(dist.shape[0], n_neighbors)
    return np.take_along_axis(dist, order, axis=1), order


def mixed_knn_numpy(X_cont, X_cat, Y_cont, Y_cat, penalty, skip, n_neighbors):
    """NumPy twin of :func:`mixed_knn`, returning ``(sq_distances, indices)``."""
    diff = X_cont[:, None, :] - Y_cont[None, :, :]
    mismatches = (X_cat[:, None, :] != Y_cat[None, :, :]).sum(axis=2)
    dist = (diff**2).sum(axis=2) + penalty * mismatches
    return _top_k_numpy(dist, skip, n_neighbors)


def vdm_knn_numpy(X_cat, Y_cat, proba, offsets, skip, n_neighbors):
    """NumPy twin of :func:`vdm_knn`, returning ``(distances, indices)``."""
    dist = np.zeros((X_cat.shape[0], Y_cat.shape[0]))
    for f in range(X_cat.shape[1]):
        px = proba[offsets[f] + X_cat[:, f]]
        py = proba[offsets[f] + Y_cat[:, f]]
        dist += np.abs(px[:, None, :] - py[None, :, :]).sum(axis=2) ** 2
    return _top_k_numpy(dist, skip, n_neighbors)


def categorical_mode_numpy(codes, members, tie_draws):
    """NumPy twin of :func:`categorical_mode`."""
    out = np.empty((members.shape[0], codes.shape[1]), dtype=np.int64)
    for s in range(members.shape[0]):
        for f in range(codes.shape[1]):
            values, counts = np.unique(codes[members[s], f], return_counts=True)
            tied = values[counts == counts.max()]
            pick = min(int(tie_draws[s, f] * tied.size), tied.size - 1)
            out[s, f] = tied[pick]
    return out
