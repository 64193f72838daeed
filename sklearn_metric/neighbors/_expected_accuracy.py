"""Adaptive kNN: a k per query, the one of highest expected accuracy.

Kibanov et al. (2018) choose the ``k`` of every query by how well each ``k``
did, in leave-one-out, on the training rows that resemble the query. The
classifier and the regressor here share all of the machinery; they differ only
in the leave-one-out score (correctness against squared error) and in the
final vote (class shares against the mean).
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels._threads import parallel_section, threads_for_work
from .._metric import METRIC_CONSTRAINT
from ._hnsw import check_hnsw_params
from ._kernels import _expected_accuracy as _kea
from ._search import ALGORITHMS, NeighborSearch

__all__ = ["ExpectedAccuracyKNNClassifier", "ExpectedAccuracyKNNRegressor"]

SIMILARITIES = ("neighbors", "distance_profile", "label_profile")


# Query rows scored by a callable similarity at a time: bounds its
# (rows x training rows) matrix to some 16 million entries.
_CALLABLE_BLOCK = 2**24


def _resolve_k_values(k_range, n_samples):
    """Turn ``k_range`` into the increasing array of candidate ks."""
    if isinstance(k_range, tuple):
        if len(k_range) != 2 or not all(
            isinstance(k, Integral) and not isinstance(k, bool) for k in k_range
        ):
            raise ValueError(
                "k_range given as a tuple must be (k_min, k_max), two ints; got "
                f"{k_range!r}. Pass a list or an array for an explicit set of ks."
            )
        k_min, k_max = int(k_range[0]), int(k_range[1])
        if not 1 <= k_min <= k_max:
            raise ValueError(
                f"k_range=(k_min, k_max) needs 1 <= k_min <= k_max; got {k_range!r}."
            )
        k_values = np.arange(k_min, k_max + 1, dtype=np.intp)
    else:
        k_values = np.asarray(k_range)
        if (
            k_values.ndim != 1
            or k_values.size == 0
            or k_values.dtype.kind not in "iu"
            or k_values[0] < 1
            or np.any(np.diff(k_values) <= 0)
        ):
            raise ValueError(
                "k_range given as a sequence must be a non-empty, strictly increasing "
                f"list of positive ints; got {k_range!r}."
            )
        k_values = k_values.astype(np.intp)
    if k_values[-1] >= n_samples:
        raise ValueError(
            f"k_range reaches k_max={k_values[-1]}, but the leave-one-out vote of a "
            f"training row has only n_samples - 1 = {n_samples - 1} other rows; "
            f"use a k_max below n_samples={n_samples}."
        )
    return k_values


class _BaseExpectedAccuracyKNN(BaseEstimator):
    """Shared fit and query machinery; subclasses define the score and vote."""

    _parameter_constraints: dict = {
        "k_range": ["array-like"],
        "n_similar": [Interval(Integral, 1, None, closed="left")],
        "similarity": [StrOptions(set(SIMILARITIES)), callable],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "weights": [StrOptions({"uniform", "distance"})],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "hnsw_params": [dict, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        k_range=(1, 30),
        n_similar=75,
        *,
        similarity="neighbors",
        metric="euclidean",
        metric_params=None,
        weights="uniform",
        algorithm="brute",
        hnsw_params=None,
        random_state=None,
        n_jobs=None,
    ):
        self.k_range = k_range
        self.n_similar = n_similar
        self.similarity = similarity
        self.metric = metric
        self.metric_params = metric_params
        self.weights = weights
        self.algorithm = algorithm
        self.hnsw_params = hnsw_params
        self.random_state = random_state
        self.n_jobs = n_jobs

    # Subclasses set these and define three hooks:
    # - _targets_for_fit(y): check y, return what the kernels read (class
    #   codes or float targets);
    # - _outcomes_by_k(distances, indices): for every neighbour list and every
    #   k, the label profile and the outcome (winning class or mean target);
    # - _loo_scores(outcomes): store and return the leave-one-out scores.
    _minimize = False
    _y_numeric = False

    def _fit(self, X, y):
        check_hnsw_params(self)
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=self._y_numeric
        )
        self._y = self._targets_for_fit(y)
        n_samples = X.shape[0]
        self.k_values_ = _resolve_k_values(self.k_range, n_samples)
        self._fit_X = X
        self.n_samples_fit_ = n_samples
        self._search = self._new_search().fit(X)
        k_max = int(self.k_values_[-1])
        distances, indices = self._search.query(X, k_max, exclude_self=True)
        label_profile, outcomes = self._outcomes_by_k(distances, indices)
        scores = self._loo_scores(outcomes)
        self._scores = np.ascontiguousarray(scores, dtype=np.float64)
        everyone = np.arange(n_samples, dtype=np.intp)[None, :]
        global_column = self._best_columns(everyone)[0]
        self.global_k_ = int(self.k_values_[global_column])
        self._profile_search = None
        if self.similarity == "distance_profile":
            self._profile_search = self._new_search("euclidean").fit(distances)
        elif self.similarity == "label_profile":
            self._profile_search = self._new_search("euclidean").fit(label_profile)
        return self

    def _new_search(self, metric=None):
        if metric is None:
            metric, metric_params = self.metric, self.metric_params
        else:
            metric_params = None
        return NeighborSearch(
            algorithm=self.algorithm,
            metric=metric,
            metric_params=metric_params,
            hnsw_params=self.hnsw_params,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    # -- queries --------------------------------------------------------------

    def _n_similar(self):
        return min(int(self.n_similar), self.n_samples_fit_)

    def _query(self, X):
        """Neighbours (k_max of them) and chosen column of ks of every query."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        k_max = int(self.k_values_[-1])
        n_similar = self._n_similar()
        n_neighbors = k_max
        if self.similarity == "neighbors":
            n_neighbors = max(k_max, n_similar)
        distances, indices = self._search.query(X, n_neighbors)
        if self.similarity == "neighbors":
            similar = indices[:, :n_similar]
        elif self.similarity == "distance_profile":
            _, similar = self._profile_search.query(distances[:, :k_max], n_similar)
        elif self.similarity == "label_profile":
            profile, _ = self._outcomes_by_k(distances, indices)
            _, similar = self._profile_search.query(profile, n_similar)
        else:
            similar = self._callable_similar(X, n_similar)
        columns = self._best_columns(similar)
        distances = np.ascontiguousarray(distances[:, :k_max])
        indices = np.ascontiguousarray(indices[:, :k_max])
        return distances, indices, columns

    def _callable_similar(self, X, n_similar):
        n_train = self.n_samples_fit_
        block = max(1, _CALLABLE_BLOCK // n_train)
        similar = np.empty((X.shape[0], n_similar), dtype=np.intp)
        for start in range(0, X.shape[0], block):
            rows = slice(start, start + block)
            n_rows = X[rows].shape[0]
            S = np.asarray(self.similarity(X[rows], self._fit_X), dtype=np.float64)
            if S.shape != (n_rows, n_train):
                raise ValueError(
                    "A callable similarity must return an array of shape "
                    f"(n_queries, n_train) = ({n_rows}, {n_train}); got shape "
                    f"{S.shape}."
                )
            if not np.isfinite(S).all():
                raise ValueError(
                    "A callable similarity must return finite values; got NaN or "
                    "infinite entries."
                )
            # A stable sort of -S keeps the smaller index first among equal scores.
            order = np.argsort(-S, axis=1, kind="stable")
            similar[rows] = order[:, :n_similar]
        return similar

    def _best_columns(self, similar):
        similar = np.ascontiguousarray(similar, dtype=np.intp)
        work = similar.shape[0] * similar.shape[1] * self._scores.shape[1]
        with parallel_section(threads_for_work(work, self.n_jobs)):
            return _kea.local_best_k(self._scores, similar, self._minimize)

    def chosen_k(self, X):
        """The k each query row is predicted with.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.

        Returns
        -------
        k : ndarray of shape (n_queries,)
            The value of ``k_values_`` of highest expected score for each row.
        """
        _, _, columns = self._query(X)
        return self.k_values_[columns]

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest training samples of each row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows. ``None`` means the training samples, each excluding
            itself.
        n_neighbors : int, default=None
            Number of neighbours; ``None`` means the largest k of ``k_values_``.
        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Distances to the neighbours, ascending. Only with
            ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours in the training set.
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = int(self.k_values_[-1])
        if X is None:
            distances, indices = self._search.query(
                self._fit_X, n_neighbors, exclude_self=True
            )
        else:
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
            distances, indices = self._search.query(X, n_neighbors)
        return (distances, indices) if return_distance else indices

    def _threads(self, n_rows, n_columns):
        return threads_for_work(n_rows * n_columns * 8, self.n_jobs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags


class ExpectedAccuracyKNNClassifier(ClassifierMixin, _BaseExpectedAccuracyKNN):
    """Adaptive kNN classifier: each query gets the k of highest expected accuracy.

    For every training row and every candidate ``k``, the classifier records
    whether the leave-one-out vote of the row's ``k`` nearest neighbours was
    right. A query takes the ``k`` that was right most often among the
    training rows most similar to it, and is predicted by the vote of its
    ``k`` nearest neighbours. In a clean, dense region that is usually a
    small ``k``; where labels are noisy, a large one.

    Read more in the :ref:`User Guide <neighbors>`.

    Parameters
    ----------
    k_range : tuple of (int, int) or array-like of int, default=(1, 30)
        Candidate values of ``k``. A tuple ``(k_min, k_max)`` means every ``k``
        from ``k_min`` to ``k_max``, both included; a list, ``range`` or array
        is the explicit, strictly increasing set of candidates. ``k_max`` must
        be below the number of training samples.
    n_similar : int, default=75
        Number of similar training rows whose leave-one-out accuracy at each
        ``k`` makes the expected accuracy of a query. Fewer rows follow the
        local regime more closely but estimate the accuracy of each ``k``
        less well (see Notes). A value above the number of training samples
        means all of them, so that one value works in cross-validation folds
        of any size.
    similarity : {"neighbors", "distance_profile", "label_profile"} or \
callable, default="neighbors"
        How the similar training rows of a query are found:

        - ``"neighbors"``: its ``n_similar`` nearest training rows under
          ``metric``;
        - ``"distance_profile"``: the training rows whose distances to their
          1st, ..., ``k_max``-th nearest neighbours (themselves left out) are
          closest, in Euclidean distance, to the query's distances to its
          ``k_max`` nearest training rows: rows of like local density;
        - ``"label_profile"``: the training rows whose purity profile is
          closest, in Euclidean distance, to the query's. The profile holds,
          for every ``k`` of ``k_values_``, the share of the vote of the ``k``
          nearest neighbours that the winning class gets, whatever that
          class is: how mixed the neighbourhood is at each scale;
        - a callable ``similarity(X_query, X_train)`` returning an array of
          shape ``(n_queries, n_train)``, larger meaning more similar; the
          ``n_similar`` largest entries of a row are its similar rows (ties
          to the smaller index). It receives the validated arrays, the
          training rows in the order of ``fit``.
    metric : str, callable or fitted metric learner, default="euclidean"
        Metric of the neighbour search; any metric accepted by
        :func:`sklearn_metric.distances.knn_search`.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    weights : {"uniform", "distance"}, default="uniform"
        ``"uniform"`` gives every neighbour one vote; ``"distance"`` weighs a
        vote by the inverse of the neighbour's distance, and training rows at
        distance zero, if any, take all the weight, as in
        :class:`~sklearn_metric.neighbors.KNeighborsClassifier`. The same
        votes make the leave-one-out scores and the predictions.
    algorithm : {"brute", "hnsw"}, default="brute"
        ``"brute"`` searches exactly; ``"hnsw"`` searches an
        :class:`~sklearn_metric.neighbors.HNSWIndex` (approximate, for large
        training sets). The profile similarities search the profiles the same
        way.
    hnsw_params : dict, default=None
        Parameters of the HNSW index (``M``, ``ef_construction``, ``ef``).
    random_state : int, RandomState instance or None, default=None
        Seed of the HNSW levels; unused with ``algorithm="brute"``.
    n_jobs : int, default=None
        Numba threads of the searches and kernels. ``None`` uses all
        configured threads, a positive integer that many.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    k_values_ : ndarray of shape (n_k,)
        The candidate values of ``k``, increasing.
    loo_correct_ : ndarray of shape (n_samples, n_k), dtype=bool
        ``loo_correct_[i, j]`` tells whether the vote of the ``k_values_[j]``
        nearest neighbours of training row ``i``, the row itself left out,
        gives its class.
    global_k_ : int
        The ``k`` of highest leave-one-out accuracy on the whole training set
        (ties to the smaller ``k``): the one fixed ``k`` that leave-one-out
        tuning would choose.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.
    n_samples_fit_ : int
        Number of training samples.

    See Also
    --------
    ExpectedAccuracyKNNRegressor : The same idea with squared errors.
    KNeighborsClassifier : One fixed ``k`` for every query.

    Notes
    -----
    The method of Kibanov et al. [1]_: the expected accuracy of ``k`` for a
    query is the leave-one-out accuracy of ``k`` on the query's similar
    training rows, and the query takes the ``k`` that maximises it. One
    search of the ``k_max`` nearest neighbours of every training row serves
    every candidate: running vote counts along the sorted list give all the
    ``k`` at once.

    The paper leaves the following to the implementation; the choices made
    here are:

    - ties in the expected accuracy go to the smaller ``k``, so that with
      ``n_similar`` at least the training size every query gets
      ``global_k_`` and the model is a kNN classifier with ``k`` tuned by
      leave-one-out;
    - ties in a vote go to the class that comes first in ``classes_``, and
      ties between equally distant training rows to the row that comes
      first in the training set, exactly as in
      :class:`~sklearn_metric.neighbors.KNeighborsClassifier`;
    - a query that is itself a training row (``predict`` on the training
      set) is *not* left out: it is among its own neighbours and similar
      rows, as in any ``predict``;
    - ``n_similar=75``: the expected accuracy of ``k`` is a mean of
      ``n_similar`` zeros and ones, and the best of 30 such noisy means
      tends to be a lucky ``k``. On scikit-learn's bundled datasets and on a
      noisy 5000-row ``make_classification`` problem, 50 to 100 rows match a
      ``k`` tuned by cross-validation on average, fewer lose accuracy on the
      noisy problem and more lose the local adaptation.

    References
    ----------
    .. [1] M. Kibanov, M. Becker, J. Mueller, M. Atzmueller, A. Hotho and
       G. Stumme, "Adaptive kNN using expected accuracy for classification of
       geo-spatial data", Proceedings of the 33rd ACM Symposium on Applied
       Computing (SAC), 2018, pp. 857-865. arXiv:1801.01453.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.neighbors import ExpectedAccuracyKNNClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ExpectedAccuracyKNNClassifier(k_range=(1, 15), n_similar=30)
    >>> clf = clf.fit(X[::2], y[::2])
    >>> clf.loo_correct_.shape
    (75, 15)
    >>> clf.predict(X[1:150:50])
    array([0, 1, 2])
    >>> clf.global_k_
    4
    >>> clf.chosen_k(X[1:150:50])
    array([1, 4, 4])
    >>> round(float(clf.score(X[1::2], y[1::2])), 3)
    0.947
    """

    _minimize = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Score every candidate k on every training row, in leave-one-out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : ExpectedAccuracyKNNClassifier
            The fitted classifier.
        """
        return self._fit(X, y)

    def predict_proba(self, X):
        """Vote shares of the classes at each query's chosen k.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Class probabilities, in the order of ``classes_``.
        """
        distances, indices, columns = self._query(X)
        with parallel_section(self._threads(*indices.shape)):
            return _kea.vote_shares(
                distances,
                indices,
                self._y,
                self.classes_.shape[0],
                self.k_values_[columns],
                self.weights == "distance",
            )

    def predict(self, X):
        """Predict the class with the largest vote at each query's chosen k.

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

    def _targets_for_fit(self, y):
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got 1 "
                f"class ({self.classes_.tolist()[0]!r})."
            )
        return codes.astype(np.intp)

    def _outcomes_by_k(self, distances, indices):
        with parallel_section(self._threads(*indices.shape)):
            winners, top_share = _kea.cumulative_votes(
                distances,
                indices,
                self._y,
                self.classes_.shape[0],
                self.k_values_,
                self.weights == "distance",
            )
        return top_share, winners

    def _loo_scores(self, winners):
        self.loo_correct_ = winners == self._y[:, None]
        return self.loo_correct_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class ExpectedAccuracyKNNRegressor(RegressorMixin, _BaseExpectedAccuracyKNN):
    """Adaptive kNN regressor: each query gets the k of lowest expected error.

    For every training row and every candidate ``k``, the regressor records
    the squared error of the leave-one-out mean of the row's ``k`` nearest
    neighbours. A query takes the ``k`` of smallest mean error over the
    training rows most similar to it, and is predicted by the mean target of
    its ``k`` nearest neighbours.

    Read more in the :ref:`User Guide <neighbors>`.

    Parameters
    ----------
    k_range : tuple of (int, int) or array-like of int, default=(1, 30)
        Candidate values of ``k``. A tuple ``(k_min, k_max)`` means every ``k``
        from ``k_min`` to ``k_max``, both included; a list, ``range`` or array
        is the explicit, strictly increasing set of candidates. ``k_max`` must
        be below the number of training samples.
    n_similar : int, default=75
        Number of similar training rows whose leave-one-out error at each
        ``k`` makes the expected error of a query. Fewer rows follow the
        local regime more closely but estimate the error of each ``k`` less
        well. A value above the number of training samples means all of
        them, so that one value works in cross-validation folds of any size.
    similarity : {"neighbors", "distance_profile", "label_profile"} or \
callable, default="neighbors"
        How the similar training rows of a query are found:

        - ``"neighbors"``: its ``n_similar`` nearest training rows under
          ``metric``;
        - ``"distance_profile"``: the training rows whose distances to their
          1st, ..., ``k_max``-th nearest neighbours (themselves left out) are
          closest, in Euclidean distance, to the query's distances to its
          ``k_max`` nearest training rows: rows of like local density;
        - ``"label_profile"``: the training rows whose profile of neighbour
          means is closest, in Euclidean distance, to the query's. The
          profile holds, for every ``k`` of ``k_values_``, the mean target of
          the ``k`` nearest neighbours;
        - a callable ``similarity(X_query, X_train)`` returning an array of
          shape ``(n_queries, n_train)``, larger meaning more similar; the
          ``n_similar`` largest entries of a row are its similar rows (ties
          to the smaller index). It receives the validated arrays, the
          training rows in the order of ``fit``.
    metric : str, callable or fitted metric learner, default="euclidean"
        Metric of the neighbour search; any metric accepted by
        :func:`sklearn_metric.distances.knn_search`.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    weights : {"uniform", "distance"}, default="uniform"
        ``"uniform"`` averages the neighbours' targets; ``"distance"`` weighs
        each by the inverse of the neighbour's distance, and training rows at
        distance zero, if any, take all the weight, as in
        :class:`sklearn.neighbors.KNeighborsRegressor`. The same means make
        the leave-one-out errors and the predictions.
    algorithm : {"brute", "hnsw"}, default="brute"
        ``"brute"`` searches exactly; ``"hnsw"`` searches an
        :class:`~sklearn_metric.neighbors.HNSWIndex` (approximate, for large
        training sets). The profile similarities search the profiles the same
        way.
    hnsw_params : dict, default=None
        Parameters of the HNSW index (``M``, ``ef_construction``, ``ef``).
    random_state : int, RandomState instance or None, default=None
        Seed of the HNSW levels; unused with ``algorithm="brute"``.
    n_jobs : int, default=None
        Numba threads of the searches and kernels. ``None`` uses all
        configured threads, a positive integer that many.

    Attributes
    ----------
    k_values_ : ndarray of shape (n_k,)
        The candidate values of ``k``, increasing.
    loo_error_ : ndarray of shape (n_samples, n_k)
        ``loo_error_[i, j]`` is the squared difference between the target of
        training row ``i`` and the mean target of its ``k_values_[j]``
        nearest neighbours, the row itself left out.
    global_k_ : int
        The ``k`` of smallest leave-one-out mean squared error on the whole
        training set (ties to the smaller ``k``).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.
    n_samples_fit_ : int
        Number of training samples.

    See Also
    --------
    ExpectedAccuracyKNNClassifier : The same idea with a vote.
    sklearn.neighbors.KNeighborsRegressor : One fixed ``k`` for every query.

    Notes
    -----
    The regression counterpart of the method of Kibanov et al. [1]_: the
    expected error of ``k`` for a query is the leave-one-out mean squared
    error of ``k`` on the query's similar training rows, and the query takes
    the ``k`` that minimises it, ties going to the smaller ``k``. With
    ``n_similar`` at least the training size, every query gets ``global_k_``.
    A query that is itself a training row is not left out. With
    ``weights="distance"``, a neighbour list whose neighbours are all
    infinitely far (possible with ``"snr"``) is averaged uniformly. Ties
    between equally distant training rows go to the row that comes first in
    the training set.

    References
    ----------
    .. [1] M. Kibanov, M. Becker, J. Mueller, M. Atzmueller, A. Hotho and
       G. Stumme, "Adaptive kNN using expected accuracy for classification of
       geo-spatial data", Proceedings of the 33rd ACM Symposium on Applied
       Computing (SAC), 2018, pp. 857-865. arXiv:1801.01453.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.neighbors import ExpectedAccuracyKNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(200)
    >>> reg = ExpectedAccuracyKNNRegressor(k_range=(1, 20)).fit(X, y)
    >>> reg.loo_error_.shape
    (200, 20)
    >>> reg.chosen_k([[0.0], [1.5]])
    array([19, 17])
    >>> reg.predict([[0.0], [1.5]]).round(2)
    array([0.04, 1.02])
    """

    _minimize = True
    _y_numeric = True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Score every candidate k on every training row, in leave-one-out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self : ExpectedAccuracyKNNRegressor
            The fitted regressor.
        """
        return self._fit(X, y)

    def predict(self, X):
        """Predict the mean target of the neighbours at each query's chosen k.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query rows.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
            Predicted targets.
        """
        distances, indices, columns = self._query(X)
        means, _ = self._outcomes_by_k(distances, indices)
        return means[np.arange(means.shape[0]), columns]

    def _targets_for_fit(self, y):
        return np.ascontiguousarray(y, dtype=np.float64)

    def _outcomes_by_k(self, distances, indices):
        with parallel_section(self._threads(*indices.shape)):
            means = _kea.cumulative_means(
                distances, indices, self._y, self.k_values_, self.weights == "distance"
            )
        return means, means

    def _loo_scores(self, means):
        self.loo_error_ = (means - self._y[:, None]) ** 2
        return self.loo_error_
