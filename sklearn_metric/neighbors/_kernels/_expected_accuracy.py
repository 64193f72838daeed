"""Numba kernels of the expected-accuracy kNN: votes by k and the local best k.

Every kernel reads neighbour lists sorted by distance (ties by index), as the
neighbour search returns them, and walks each list once: the vote, or the
mean, of the ``k`` nearest neighbours for every ``k`` of an increasing list
comes from running sums, so the cost of all ``k`` together is that of the
largest one. Rows run in parallel.

The vote rules are those of
:meth:`sklearn_metric.neighbors.KNeighborsClassifier._vote_weights`: with
distance weights a neighbour weighs ``1 / d``; neighbours at distance zero (or
so close that ``1 / d`` overflows), if any, take all the weight with one vote
each; a list whose every neighbour is infinitely far votes uniformly. Ties in
a vote go to the class with the smallest code, as ``np.argmax`` does.

Distances may be float32 or float64; sums are float64.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _inverse_distance(distance):
    d = np.float64(distance)
    if d == 0.0:
        return np.inf
    return 1.0 / d


@njit(cache=True, inline="always")
def _add_vote(label, distance, distance_weighted, counts, weighted, exact, totals):
    """Count one neighbour's vote in the running sums of a vote.

    ``totals`` holds the number of neighbours at distance zero and the sum of
    the finite weights.
    """
    counts[label] += 1.0
    if distance_weighted:
        weight = _inverse_distance(distance)
        if weight == np.inf:
            exact[label] += 1.0
            totals[0] += 1.0
        else:
            weighted[label] += weight
            totals[1] += weight


@njit(cache=True, inline="always")
def _current_votes(distance_weighted, counts, weighted, exact, totals):
    """The votes that decide, by the rules of the module docstring."""
    if distance_weighted:
        if totals[0] > 0.0:
            return exact
        if totals[1] > 0.0:
            return weighted
    return counts


@njit(parallel=True, cache=True)
def cumulative_votes(distances, indices, labels, n_classes, ks, distance_weighted):
    """Winning class and its vote share for every k of ``ks``, per row.

    Parameters
    ----------
    distances : ndarray of shape (n_rows, n_neighbors)
        Distances to the neighbours, ascending; ``n_neighbors >= ks[-1]``.
    indices : ndarray of shape (n_rows, n_neighbors)
        Neighbour indices into ``labels``.
    labels : ndarray of shape (n_train,)
        Class code (``0 .. n_classes - 1``) of every training row.
    n_classes : int
        Number of classes.
    ks : ndarray of shape (n_k,)
        Vote sizes, strictly increasing, all positive.
    distance_weighted : bool
        Whether votes weigh ``1 / distance`` (else one vote per neighbour).

    Returns
    -------
    winners : ndarray of shape (n_rows, n_k)
        Class code that wins the vote of the ``ks[j]`` nearest neighbours.
    top_share : ndarray of shape (n_rows, n_k)
        Share of that vote the winner gets, in ``(0, 1]``.
    """
    n_rows = indices.shape[0]
    n_k = ks.shape[0]
    k_max = ks[n_k - 1]
    winners = np.empty((n_rows, n_k), dtype=np.intp)
    top_share = np.empty((n_rows, n_k))
    for i in prange(n_rows):
        counts = np.zeros(n_classes)
        weighted = np.zeros(n_classes)
        exact = np.zeros(n_classes)
        totals = np.zeros(2)
        column = 0
        for j in range(k_max):
            _add_vote(
                labels[indices[i, j]],
                distances[i, j],
                distance_weighted,
                counts,
                weighted,
                exact,
                totals,
            )
            if j + 1 < ks[column]:
                continue
            votes = _current_votes(distance_weighted, counts, weighted, exact, totals)
            best = 0
            total = 0.0
            for c in range(n_classes):
                total += votes[c]
                if votes[c] > votes[best]:
                    best = c
            winners[i, column] = best
            top_share[i, column] = votes[best] / total
            column += 1
    return winners, top_share


@njit(parallel=True, cache=True)
def vote_shares(distances, indices, labels, n_classes, n_neighbors, distance_weighted):
    """Class shares of the vote of each row's own number of nearest neighbours.

    Parameters
    ----------
    distances : ndarray of shape (n_rows, n_columns)
        Distances to the neighbours, ascending.
    indices : ndarray of shape (n_rows, n_columns)
        Neighbour indices into ``labels``.
    labels : ndarray of shape (n_train,)
        Class code of every training row.
    n_classes : int
        Number of classes.
    n_neighbors : ndarray of shape (n_rows,)
        Vote size of each row, between 1 and ``n_columns``.
    distance_weighted : bool
        Whether votes weigh ``1 / distance``.

    Returns
    -------
    shares : ndarray of shape (n_rows, n_classes)
        Share of the vote of each class; each row sums to one.
    """
    n_rows = indices.shape[0]
    shares = np.zeros((n_rows, n_classes))
    for i in prange(n_rows):
        counts = np.zeros(n_classes)
        weighted = np.zeros(n_classes)
        exact = np.zeros(n_classes)
        totals = np.zeros(2)
        for j in range(n_neighbors[i]):
            _add_vote(
                labels[indices[i, j]],
                distances[i, j],
                distance_weighted,
                counts,
                weighted,
                exact,
                totals,
            )
        votes = _current_votes(distance_weighted, counts, weighted, exact, totals)
        total = 0.0
        for c in range(n_classes):
            total += votes[c]
        for c in range(n_classes):
            shares[i, c] = votes[c] / total
    return shares


@njit(parallel=True, cache=True)
def cumulative_means(distances, indices, targets, ks, distance_weighted):
    """Mean target of the k nearest neighbours for every k of ``ks``, per row.

    Parameters
    ----------
    distances : ndarray of shape (n_rows, n_neighbors)
        Distances to the neighbours, ascending; ``n_neighbors >= ks[-1]``.
    indices : ndarray of shape (n_rows, n_neighbors)
        Neighbour indices into ``targets``.
    targets : ndarray of shape (n_train,)
        Target of every training row.
    ks : ndarray of shape (n_k,)
        Neighbourhood sizes, strictly increasing, all positive.
    distance_weighted : bool
        Whether the mean weighs ``1 / distance`` (neighbours at distance zero,
        if any, then average alone).

    Returns
    -------
    means : ndarray of shape (n_rows, n_k)
        The (weighted) mean target of the ``ks[j]`` nearest neighbours.
    """
    n_rows = indices.shape[0]
    n_k = ks.shape[0]
    k_max = ks[n_k - 1]
    means = np.empty((n_rows, n_k))
    for i in prange(n_rows):
        plain_sum = 0.0
        exact_sum = 0.0
        n_exact = 0
        weighted_sum = 0.0
        weight_total = 0.0
        column = 0
        for j in range(k_max):
            target = np.float64(targets[indices[i, j]])
            plain_sum += target
            if distance_weighted:
                weight = _inverse_distance(distances[i, j])
                if weight == np.inf:
                    exact_sum += target
                    n_exact += 1
                else:
                    weighted_sum += weight * target
                    weight_total += weight
            if j + 1 < ks[column]:
                continue
            if distance_weighted and n_exact > 0:
                means[i, column] = exact_sum / n_exact
            elif distance_weighted and weight_total > 0.0:
                means[i, column] = weighted_sum / weight_total
            else:
                means[i, column] = plain_sum / (j + 1)
            column += 1
    return means


@njit(parallel=True, cache=True)
def local_best_k(scores, similar, minimize):
    """Column of ``scores`` with the best total over each query's similar rows.

    Parameters
    ----------
    scores : ndarray of shape (n_train, n_k)
        Leave-one-out score of every training row for every k (correctness
        as 0/1, or a squared error).
    similar : ndarray of shape (n_queries, n_similar)
        Indices of the training rows similar to each query, without repeats.
    minimize : bool
        Whether the best total is the smallest (errors) or the largest.

    Returns
    -------
    best : ndarray of shape (n_queries,)
        Index of the best column; ties go to the smallest index.

    Notes
    -----
    The rows of a query are added in increasing index order, whatever the
    order of ``similar``, so that a query whose similar rows are all the
    training rows gets exactly the column chosen on the whole training set.
    """
    n_queries = similar.shape[0]
    n_k = scores.shape[1]
    best = np.empty(n_queries, dtype=np.intp)
    for q in prange(n_queries):
        rows = np.sort(similar[q])
        totals = np.zeros(n_k)
        for r in range(rows.shape[0]):
            row = rows[r]
            for c in range(n_k):
                totals[c] += scores[row, c]
        chosen = 0
        for c in range(1, n_k):
            if minimize:
                if totals[c] < totals[chosen]:
                    chosen = c
            elif totals[c] > totals[chosen]:
                chosen = c
        best[q] = chosen
    return best
