"""The neighbour search behind the neighbour-based estimators: exact or HNSW.

An estimator that needs neighbours fits one :class:`NeighborSearch` on its
training rows and asks it for neighbours, so that ``algorithm="hnsw"`` swaps
the exact brute-force search for an approximate index without any other change.
"""

import numpy as np

from ..distances import knn_search

__all__ = ["ALGORITHMS", "NeighborSearch", "drop_self"]

#: Values of the ``algorithm`` parameter.
ALGORITHMS = ("brute", "hnsw")


def drop_self(distances, indices, query_rows, n_neighbors):
    """Remove each query's own row from neighbour lists one entry too long.

    Parameters
    ----------
    distances : ndarray of shape (n_queries, n_neighbors + 1)
        Distances of the lists, ascending.
    indices : ndarray of shape (n_queries, n_neighbors + 1)
        Neighbour indices.
    query_rows : ndarray of shape (n_queries,)
        The index row of each query, the one to remove.
    n_neighbors : int
        Neighbours to keep per query.

    Returns
    -------
    distances, indices : ndarray of shape (n_queries, n_neighbors)
        The lists without the query's row; when a tie with an exact copy
        pushed it out of the list, the farthest entry is removed instead.
    """
    is_self = indices == np.asarray(query_rows)[:, None]
    is_self &= np.cumsum(is_self, axis=1) == 1
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    shape = (indices.shape[0], n_neighbors)
    return distances[keep].reshape(shape), indices[keep].reshape(shape)


class NeighborSearch:
    """Nearest rows of a fitted set, exact or through an HNSW index.

    Parameters
    ----------
    algorithm : {"brute", "hnsw"}, default="brute"
        ``"brute"`` is the exact search of
        :func:`sklearn_metric.distances.knn_search`; ``"hnsw"`` builds an
        :class:`~sklearn_metric.neighbors.HNSWIndex`.
    metric : str, callable or fitted metric learner, default="euclidean"
        The metric of the search.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    hnsw_params : dict, default=None
        Parameters of the HNSW index (``M``, ``ef_construction``, ``ef``).
    random_state : int, RandomState instance or None, default=None
        Seed of the HNSW levels.
    n_jobs : int, default=None
        Threads of the search.
    """

    def __init__(
        self,
        algorithm="brute",
        *,
        metric="euclidean",
        metric_params=None,
        hnsw_params=None,
        random_state=None,
        n_jobs=None,
    ):
        self.algorithm = algorithm
        self.metric = metric
        self.metric_params = metric_params
        self.hnsw_params = hnsw_params
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X):
        """Index the rows of X (already validated by the caller).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows to search.

        Returns
        -------
        self : NeighborSearch
            The fitted search.
        """
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {ALGORITHMS}; got {self.algorithm!r}."
            )
        self.X_ = X
        self.index_ = None
        if self.algorithm == "hnsw":
            from ._hnsw import HNSWIndex

            self.index_ = HNSWIndex(
                metric=self.metric,
                metric_params=self.metric_params,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
                **(self.hnsw_params or {}),
            ).fit(X)
        return self

    def query(self, X, n_neighbors, exclude_self=False):
        """The ``n_neighbors`` nearest fitted rows of every row of X.

        Parameters
        ----------
        X : ndarray of shape (n_queries, n_features)
            Query rows; with ``exclude_self=True``, the fitted rows themselves.
        n_neighbors : int
            Neighbours per query.
        exclude_self : bool, default=False
            Whether query ``i`` skips fitted row ``i``.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Distances, ascending (ties ordered by index).
        indices : ndarray of shape (n_queries, n_neighbors)
            Row indices into the fitted set.
        """
        if self.index_ is None:
            return knn_search(
                X,
                self.X_,
                n_neighbors,
                metric=self.metric,
                exclude_self=exclude_self,
                n_jobs=self.n_jobs,
                **(self.metric_params or {}),
            )
        if exclude_self:
            return self.index_.query_indexed(n_neighbors)
        return self.index_.query(X, n_neighbors)
