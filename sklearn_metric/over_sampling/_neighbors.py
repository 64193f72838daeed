"""The one neighbour search of the over-samplers.

Every sampler finds neighbours through :func:`minority_neighbors`, so that an
approximate index can later replace the exact search without touching them.
"""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import HasMethods, Interval

from ..distances import knn_search

__all__ = [
    "NEIGHBORS_CONSTRAINT",
    "minority_neighbors",
    "resolve_neighbors",
    "search_options",
]

#: Constraint of ``k_neighbors``, ``m_neighbors`` and ``n_neighbors``: an int
#: (our kernels search) or a nearest-neighbours object (its ``kneighbors``).
NEIGHBORS_CONSTRAINT = [
    Interval(Integral, 1, None, closed="left"),
    HasMethods(["kneighbors"]),
]


def resolve_neighbors(value, name):
    """Neighbours per row and search object of a neighbours parameter.

    Parameters
    ----------
    value : int or object with ``kneighbors``
        The parameter: an int is the number of neighbours, searched by our
        kernels; an object is cloned (a fitted metric learner among its
        parameters is kept as it is), fitted by the sampler and asked for its
        own ``n_neighbors`` rows, the first being the row itself (as in
        imbalanced-learn), so it gives ``n_neighbors - 1`` neighbours.
    name : str
        The parameter's name, for the messages.

    Returns
    -------
    n_neighbors : int
        Neighbours per row, not counting the row itself.
    estimator : object or None
        The clone that searches, or ``None`` when our kernels search.
    exposed : object
        What the sampler exposes as ``nn_k_`` / ``nn_m_``: the clone, or for an
        int an unfitted :class:`~sklearn.neighbors.NearestNeighbors` with
        ``n_neighbors = value + 1`` (the row counted, as imbalanced-learn's).
    """
    if isinstance(value, Integral):
        return int(value), None, NearestNeighbors(n_neighbors=int(value) + 1)
    estimator = clone(value)
    # clone() turns a fitted metric learner given as the object's metric (as in
    # HNSWNeighborsTransformer(metric=nca)) into an unfitted copy; the search
    # needs it fitted, as the sampler's own metric stays.
    fitted_learners = {
        key: param
        for key, param in value.get_params(deep=False).items()
        if hasattr(param, "get_mahalanobis_matrix") and hasattr(param, "components_")
    }
    estimator.set_params(**fitted_learners)
    n_neighbors = getattr(estimator, "n_neighbors", None)
    if not isinstance(n_neighbors, Integral) or n_neighbors < 2:
        raise ValueError(
            f"{name} given as a nearest-neighbours object must have an integer "
            "n_neighbors of at least 2 (the row itself is its first neighbour); "
            f"got n_neighbors={n_neighbors!r} on {type(value).__name__}."
        )
    return int(n_neighbors) - 1, estimator, estimator


def _object_neighbors(estimator, X_query, X_index, n_neighbors, exclude_self):
    """``minority_neighbors`` through a nearest-neighbours object."""
    estimator.fit(X_index)
    n_asked = n_neighbors + 1 if exclude_self else n_neighbors
    distances, indices = estimator.kneighbors(
        X_query, n_neighbors=n_asked, return_distance=True
    )
    distances, indices = np.asarray(distances), np.asarray(indices, dtype=np.intp)
    if not exclude_self:
        return distances, indices
    # Drop the query's own row; when a tie pushed it out, drop the farthest.
    is_self = indices == np.arange(len(indices))[:, None]
    is_self &= np.cumsum(is_self, axis=1) == 1
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    shape = (len(indices), n_neighbors)
    return distances[keep].reshape(shape), indices[keep].reshape(shape)


def search_options(sampler):
    """Keyword arguments of the neighbour search a sampler was configured with.

    Parameters
    ----------
    sampler : estimator
        An over-sampler with ``metric``, ``metric_params`` and ``n_jobs``.

    Returns
    -------
    options : dict
        ``metric``, ``metric_params`` and ``n_jobs``, for
        :func:`minority_neighbors` and :func:`neighbors_in_set`.
    """
    return {
        "metric": sampler.metric,
        "metric_params": sampler.metric_params,
        "n_jobs": sampler.n_jobs,
    }


def minority_neighbors(
    X_query,
    X_index,
    n_neighbors,
    *,
    metric="euclidean",
    metric_params=None,
    exclude_self=False,
    n_jobs=None,
    estimator=None,
):
    """The ``n_neighbors`` nearest rows of ``X_index`` for each row of ``X_query``.

    Parameters
    ----------
    X_query : {ndarray, sparse matrix} of shape (n_queries, n_features)
        Rows whose neighbours are wanted. Sparse rows are densified.
    X_index : {ndarray, sparse matrix} of shape (n_index, n_features)
        Rows to search.
    n_neighbors : int
        Neighbours per query.
    metric : str, callable or fitted metric learner, default="euclidean"
        Any metric of :func:`sklearn_metric.distances.knn_search`; a fitted
        metric learner searches in its learned space.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    exclude_self : bool, default=False
        Whether query ``i`` skips index row ``i`` (a set searched against
        itself).
    n_jobs : int, default=None
        Threads of the search.
    estimator : object with ``fit`` and ``kneighbors``, default=None
        When given, it is fitted on ``X_index`` and searches instead of our
        kernels (``metric``, ``metric_params`` and ``n_jobs`` are then unused).

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors)
        Distances to the neighbours, ascending.
    indices : ndarray of shape (n_queries, n_neighbors)
        Row indices into ``X_index``, ties ordered by index.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._neighbors import minority_neighbors
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> minority_neighbors(X, X, 1, exclude_self=True)[1]
    array([[1],
           [0],
           [1]])
    """
    if estimator is not None:
        return _object_neighbors(estimator, X_query, X_index, n_neighbors, exclude_self)
    if sparse.issparse(X_query):
        X_query = X_query.toarray()
    if sparse.issparse(X_index):
        X_index = X_index.toarray()
    return knn_search(
        np.asarray(X_query),
        np.asarray(X_index),
        n_neighbors,
        metric=metric,
        exclude_self=exclude_self,
        n_jobs=n_jobs,
        **(metric_params or {}),
    )


def neighbors_in_set(
    X,
    query_rows,
    n_neighbors,
    *,
    index_rows=None,
    metric="euclidean",
    metric_params=None,
    n_jobs=None,
    estimator=None,
):
    """Neighbours of some rows of ``X`` among rows of ``X``, self excluded.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The whole set, searched.
    query_rows : ndarray of shape (n_queries,)
        Rows of ``X`` whose neighbours are wanted.
    n_neighbors : int
        Neighbours per query, not counting the query itself.
    index_rows : ndarray of shape (n_index,), default=None
        Rows of ``X`` searched, sorted; ``None`` searches them all.
    metric, metric_params, n_jobs, estimator
        As in :func:`minority_neighbors`.

    Returns
    -------
    indices : ndarray of shape (n_queries, n_neighbors)
        Row indices into ``X``, nearest first. Each query's own row is left
        out; exact duplicates of it are kept, as other rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._neighbors import neighbors_in_set
    >>> X = np.array([[0.0], [1.0], [3.0], [3.5]])
    >>> neighbors_in_set(X, np.array([1, 3]), 2)
    array([[0, 2],
           [2, 1]])
    """
    query_rows = np.asarray(query_rows, dtype=np.intp)
    X_index = X if index_rows is None else X[index_rows]
    _, indices = minority_neighbors(
        X[query_rows],
        X_index,
        n_neighbors + 1,
        metric=metric,
        metric_params=metric_params,
        n_jobs=n_jobs,
        estimator=estimator,
    )
    if index_rows is not None:
        indices = np.asarray(index_rows, dtype=np.intp)[indices]
    # Drop the query's own row; when a tie pushed it out of the list, drop the
    # farthest neighbour instead.
    is_self = indices == query_rows[:, None]
    no_self = ~is_self.any(axis=1)
    is_self[no_self, -1] = True
    return indices[~is_self].reshape(len(query_rows), n_neighbors)
