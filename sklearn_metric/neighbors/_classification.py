"""k-nearest-neighbours classification, on the exact search or an HNSW index."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._metric import METRIC_CONSTRAINT
from ._hnsw import check_hnsw_params
from ._search import ALGORITHMS, NeighborSearch


class KNeighborsClassifier(ClassifierMixin, BaseEstimator):
    """Classifier voting among the k nearest training samples.

    A drop-in for :class:`sklearn.neighbors.KNeighborsClassifier` with
    brute-force search on :func:`sklearn_metric.distances.knn_search`: exact,
    parallel and chunked, with every metric of :mod:`sklearn_metric.distances`,
    including ``"snr"`` and a fitted metric learner. With
    ``algorithm="hnsw"`` the neighbours come from an approximate
    :class:`~sklearn_metric.neighbors.HNSWIndex` of the training set instead,
    for training sets too large to scan for every query.

    Read more in the :ref:`User Guide <neighbors>`.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours that vote.
    weights : {"uniform", "distance"}, default="uniform"
        ``"uniform"`` gives every neighbour one vote; ``"distance"`` weighs a
        vote by the inverse of the neighbour's distance, and training samples
        at distance zero, if any, take all the weight.
    algorithm : {"brute", "hnsw"}, default="brute"
        Neighbour search. ``"brute"`` is the exact search of
        :func:`sklearn_metric.distances.knn_search`, in time proportional to
        the number of training samples per query. ``"hnsw"`` builds an
        :class:`~sklearn_metric.neighbors.HNSWIndex` in :term:`fit`, whose
        queries take roughly logarithmic time but may miss some of the true
        neighbours; it refuses Python callables as ``metric``.
    metric : str, callable or fitted metric learner, default="euclidean"
        Any metric accepted by :func:`sklearn_metric.distances.knn_search`.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    hnsw_params : dict, default=None
        Parameters of the HNSW index, used only with ``algorithm="hnsw"``:
        any of ``"M"``, ``"ef_construction"`` and ``"ef"``, as in
        :class:`~sklearn_metric.neighbors.HNSWIndex` (``None`` keeps its
        defaults). An ``"ef"`` of at least the number of training samples
        makes the search exact.
    random_state : int, RandomState instance or None, default=None
        Seed of the layers of the HNSW index, used only with
        ``algorithm="hnsw"``. Pass an int for the same neighbours at every
        fit.
    n_jobs : int, default=None
        Numba threads for the neighbour search (and the index construction).
        ``None`` uses all configured threads, a positive integer that many.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column names.
    n_samples_fit_ : int
        Number of training samples.

    See Also
    --------
    sklearn_metric.distances.knn_search : The exact neighbour search.
    sklearn_metric.neighbors.HNSWIndex : The index of ``algorithm="hnsw"``.
    sklearn.neighbors.KNeighborsClassifier : scikit-learn's version, with trees.

    Notes
    -----
    Ties between equally distant training samples are broken by their order in
    the training set, and ties in the vote by the order of ``classes_``. The
    HNSW index orders the neighbours it finds the same way, so with
    ``hnsw_params={"ef": n_samples}`` both algorithms give the same
    predictions.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.neighbors import KNeighborsClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KNeighborsClassifier(n_neighbors=3).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.predict_proba(X[:1])
    array([[1., 0., 0.]])
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "weights": [StrOptions({"uniform", "distance"})],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "hnsw_params": [dict, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_neighbors=5,
        *,
        weights="uniform",
        algorithm="brute",
        metric="euclidean",
        metric_params=None,
        hnsw_params=None,
        random_state=None,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.metric = metric
        self.metric_params = metric_params
        self.hnsw_params = hnsw_params
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Store the training set, and index it with ``algorithm="hnsw"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : KNeighborsClassifier
            The fitted classifier.
        """
        check_hnsw_params(self)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, self._y_encoded = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "KNeighborsClassifier needs samples of at least 2 classes; got 1 "
                f"class ({self.classes_[0]!r})."
            )
        if self.n_neighbors > X.shape[0]:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be at most the number of "
                f"training samples, n_samples={X.shape[0]}."
            )
        self._fit_X = X
        self._search = NeighborSearch(
            self.algorithm,
            metric=self.metric,
            metric_params=self.metric_params,
            hnsw_params=self.hnsw_params,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(X)
        self.n_samples_fit_ = X.shape[0]
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest training samples of each row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows. ``None`` means the training samples, each excluding
            itself.
        n_neighbors : int, default=None
            Number of neighbours; ``None`` uses the constructor's value.
        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Distances to the neighbours, ascending. Only with
            ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours in the training set; with
            ``algorithm="hnsw"``, those the index found.
        """
        check_is_fitted(self)
        n_neighbors = self.n_neighbors if n_neighbors is None else n_neighbors
        exclude_self = X is None
        if exclude_self:
            X = self._fit_X
        else:
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        distances, indices = self._search.query(
            X, n_neighbors, exclude_self=exclude_self
        )
        return (distances, indices) if return_distance else indices

    def predict_proba(self, X):
        """Share of the (weighted) neighbour vote that each class gets.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Class probabilities, in the order of ``classes_``.
        """
        distances, indices = self.kneighbors(X)
        votes = self._vote_weights(distances)
        labels = self._y_encoded[indices]
        proba = np.zeros((indices.shape[0], self.classes_.shape[0]))
        rows = np.repeat(np.arange(indices.shape[0]), indices.shape[1])
        np.add.at(proba, (rows, labels.ravel()), votes.ravel())
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        """Predict the class with the largest (weighted) neighbour vote.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _vote_weights(self, distances):
        if self.weights == "uniform":
            return np.ones(distances.shape)
        distances = distances.astype(np.float64)
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        exact = np.isinf(weights)
        # Rows with a neighbour at distance zero: that neighbour decides alone.
        rows_with_exact = exact.any(axis=1)
        weights[rows_with_exact] = exact[rows_with_exact]
        # Rows where every neighbour is infinitely far (possible with "snr"):
        # no distance tells them apart, so they vote uniformly.
        weights[weights.sum(axis=1) == 0] = 1.0
        return weights

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags
