"""Nearest-prototype classification: class centres or per-class k-means."""

from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import (
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from .._metric import METRIC_CONSTRAINT, MahalanobisMetric
from ..distances import pairwise_distances
from ._base import (
    PrototypeClassifierMixin,
    check_class_targets,
    check_class_weights,
    class_min_distances,
)
from ._util import weighted_median

# How a cluster's centre is computed, by metric: the minimiser of the summed
# (weighted) cost over the cluster where it has a closed form, the best member
# (medoid) otherwise.
_MEAN, _MEDIAN, _UNIT_MEAN, _MEDOID = "mean", "median", "unit mean", "medoid"
_SQUARED_COST_METRICS = {"euclidean", "l2", "mahalanobis"}
_LINEAR_HEAD_METRICS = {"euclidean", "l2", "sqeuclidean"}


def _centre_rule(metric, metric_params):
    """Return (centre kind, exponent of the distance in the clustering cost)."""
    if not isinstance(metric, str):
        if hasattr(metric, "get_mahalanobis_matrix") or isinstance(
            metric, MahalanobisMetric
        ):
            return _MEAN, 2
        return _MEDOID, 1
    if metric in _SQUARED_COST_METRICS:
        return _MEAN, 2
    if metric == "sqeuclidean":
        return _MEAN, 1
    if metric in {"manhattan", "cityblock", "l1"}:
        return _MEDIAN, 1
    if metric == "cosine":
        return _UNIT_MEAN, 1
    if metric == "minkowski":
        p = (metric_params or {}).get("p", 2)
        if p == 2:
            return _MEAN, 2
        if p == 1:
            return _MEDIAN, 1
    return _MEDOID, 1


class NearestPrototypeClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Classifier assigning each row to the class of its nearest prototype.

    Each class is summarised by ``n_prototypes_per_class`` prototypes: with
    one, the class centre; with more, the centres of a k-means clustering of
    the class, run under the chosen metric. A query gets the class of the
    nearest prototype. With one prototype per class and the Euclidean metric
    this is :class:`sklearn.neighbors.NearestCentroid` (without shrinkage),
    and also a linear classifier, exposed as ``coef_`` and ``intercept_``.

    The centre of a group of rows is the point minimising the sum of their
    (weighted) costs to it, the cost being the squared distance for the
    Euclidean and Mahalanobis metrics and the distance itself otherwise:

    - ``"euclidean"``, ``"sqeuclidean"``, ``"mahalanobis"``, ``"minkowski"``
      with ``p=2``, a fitted metric learner: the weighted mean;
    - ``"manhattan"`` (or ``"minkowski"`` with ``p=1``): the per-feature
      weighted median (the midpoint of the lower and upper medians);
    - ``"cosine"``: the normalised weighted mean of the normalised rows, a
      unit vector;
    - any other metric (``"chebyshev"``, other ``p``, ``"snr"``, callables):
      no closed form exists, so the centre is the medoid, the row of the group
      with the smallest weighted sum of distances to the others.

    With several prototypes per class each class is clustered by Lloyd's
    algorithm with these centres (k-means, k-medians, spherical k-means or
    k-medoids), seeded by k-means++ with probabilities proportional to the
    weighted cost. Every step lowers the clustering cost, so the iterations
    stop when the assignments stop changing or after ``max_iter`` steps.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    n_prototypes_per_class : int, default=1
        Number of prototypes of each class. Every class needs at least this
        many training rows.
    metric : str, callable or fitted metric learner, default="euclidean"
        Any metric accepted by :func:`sklearn_metric.distances.pairwise_distances`,
        including a fitted Mahalanobis metric learner, whose distance is then
        used on the original features. With ``metric_learner``, the metric is
        measured in the learned space.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    metric_learner : estimator, default=None
        An unfitted transformer (with ``fit`` and ``transform``), for example
        :class:`sklearn_metric.metric_learning.NCA`. It is cloned and fitted on
        the training data (with ``sample_weight`` when its ``fit`` takes it),
        and the prototypes are computed and compared in the space of its
        ``transform``.
    max_iter : int, default=300
        Largest number of Lloyd iterations per class; unused with one
        prototype per class.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means++ initialisation; unused with one prototype per
        class.
    n_jobs : int, default=None
        Numba threads for the distance computations. ``None`` uses all
        configured threads, a positive integer that many.

    Attributes
    ----------
    prototypes_ : ndarray of shape (n_prototypes, n_features_out)
        The prototypes, grouped by class in the order of ``classes_``. They
        live in the input space, or, with ``metric_learner``, in the learned
        space (``n_features_out`` columns of ``metric_learner_.transform``).
    prototype_labels_ : ndarray of shape (n_prototypes,)
        Class label of every prototype, values of ``classes_``.
    metric_learner_ : estimator
        The fitted clone of ``metric_learner``; only with ``metric_learner``.
    coef_ : ndarray of shape (n_classes, n_features)
        ``2 c`` for every class centre ``c``: ``X @ coef_.T + intercept_``
        has its largest entry at the nearest centre. Only with one prototype
        per class, no ``metric_learner`` and the ``"euclidean"`` (or
        ``"sqeuclidean"``) metric; otherwise reading it raises
        ``AttributeError``.
    intercept_ : ndarray of shape (n_classes,)
        ``-||c||^2`` for every class centre ``c``; available as ``coef_``.
    n_iter_ : ndarray of shape (n_classes,)
        Lloyd iterations run for each class; 1 with one prototype per class,
        whose centre is computed in one step.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column names.

    See Also
    --------
    sklearn.neighbors.NearestCentroid : One Euclidean or Manhattan centre per
        class, with optional shrinkage.
    sklearn_metric.prototypes.SoftNearestNeighborClassifier : A soft vote of
        all training rows instead of a few prototypes.

    Notes
    -----
    ``decision_function`` returns minus the distance from a row to the
    nearest prototype of each class, and ``predict_proba`` the softmax of
    these scores. Ties go to the class first in ``classes_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.prototypes import NearestPrototypeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NearestPrototypeClassifier().fit(X, y)
    >>> clf.prototypes_[0]
    array([5.006, 3.428, 1.462, 0.246])
    >>> clf.predict(X[[0, 75, 125]])
    array([0, 1, 2])
    >>> clf = NearestPrototypeClassifier(3, metric="manhattan", random_state=0)
    >>> clf.fit(X, y).prototypes_.shape
    (9, 4)
    """

    _parameter_constraints: dict = {
        "n_prototypes_per_class": [Interval(Integral, 1, None, closed="left")],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "metric_learner": [HasMethods(["fit", "transform"]), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_prototypes_per_class=1,
        *,
        metric="euclidean",
        metric_params=None,
        metric_learner=None,
        max_iter=300,
        random_state=None,
        n_jobs=None,
    ):
        self.n_prototypes_per_class = n_prototypes_per_class
        self.metric = metric
        self.metric_params = metric_params
        self.metric_learner = metric_learner
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(
        # The metric learner is validated by its own fit.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None):
        """Compute the prototypes of every class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: the centres are weighted means (medians,
            medoids) and k-means minimises the weighted cost. ``None`` gives
            every sample weight 1. Integer weights are equivalent to repeating
            rows.

        Returns
        -------
        self : NearestPrototypeClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        k = self.n_prototypes_per_class
        y_encoded = check_class_targets(self, y, min_per_class=k)
        n_classes = self.classes_.shape[0]
        sample_weight = check_class_weights(self, sample_weight, X, y_encoded)
        if self.metric_learner is not None and not isinstance(self.metric, str):
            raise ValueError(
                "metric must be a metric name when metric_learner is given (it is "
                f"measured in the learned space); got {self.metric!r}."
            )

        Z = X
        if self.metric_learner is not None:
            self.metric_learner_ = clone(self.metric_learner)
            if has_fit_parameter(self.metric_learner_, "sample_weight"):
                self.metric_learner_.fit(X, y, sample_weight=sample_weight)
            else:
                self.metric_learner_.fit(X, y)
            Z = self._embed(X)

        kind, exponent = _centre_rule(self.metric, self.metric_params)
        random_state = check_random_state(self.random_state)
        blocks, n_iter = [], np.ones(n_classes, dtype=np.intp)
        for c in range(n_classes):
            rows = (y_encoded == c) & (sample_weight > 0)
            Zc, wc = Z[rows], sample_weight[rows]
            if k == 1:
                blocks.append(self._centre(Zc, wc, kind)[None, :])
            else:
                prototypes, n_iter[c] = self._cluster(
                    Zc, wc, k, kind, exponent, random_state
                )
                blocks.append(prototypes)
        self.prototypes_ = np.vstack(blocks).astype(Z.dtype, copy=False)
        self._prototype_classes = np.repeat(np.arange(n_classes), k)
        self.prototype_labels_ = self.classes_[self._prototype_classes]
        self.n_iter_ = n_iter
        return self

    # -- clustering ----------------------------------------------------------
    def _distances(self, A, B):
        return pairwise_distances(
            A, B, metric=self.metric, n_jobs=self.n_jobs, **(self.metric_params or {})
        )

    def _centre(self, Z, weight, kind):
        """Minimiser of the weighted cost of the rows ``Z`` (all weights > 0)."""
        Z64 = Z.astype(np.float64, copy=False)
        if kind == _MEAN:
            return weight @ Z64 / weight.sum()
        if kind == _MEDIAN:
            return weighted_median(Z64, weight)
        if kind == _UNIT_MEAN:
            norms = np.linalg.norm(Z64, axis=1)
            total = weight / np.where(norms == 0, 1.0, norms) @ Z64
            length = np.linalg.norm(total)
            return total / length if length > 0 else total
        # Medoid: the row with the smallest weighted sum of distances from the
        # others, accumulated one block of rows at a time.
        cost = np.zeros(Z.shape[0])
        block = max(1, int(get_config()["working_memory"] * 2**20 // (8 * Z.shape[0])))
        for start in range(0, Z.shape[0], block):
            stop = min(start + block, Z.shape[0])
            cost += weight[start:stop] @ self._distances(Z[start:stop], Z)
        return Z64[int(np.argmin(cost))]

    def _cluster(self, Z, weight, k, kind, exponent, random_state):
        """Weighted Lloyd iterations from a k-means++ seeding."""
        prototypes = self._seed(Z, weight, k, exponent, random_state)
        labels = None
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            cost = self._distances(Z, prototypes.astype(Z.dtype)) ** exponent
            new_labels = np.argmin(cost, axis=1)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            point_cost = cost[np.arange(Z.shape[0]), labels]
            sizes = np.bincount(labels, minlength=k)
            for j in np.flatnonzero(sizes == 0):
                # An empty cluster takes the worst-served row of a cluster that
                # can spare one; with fewer rows than clusters it keeps its
                # prototype, a copy of a row.
                movable = sizes[labels] > 1
                if not np.any(movable):
                    break
                worst = int(np.argmax(np.where(movable, point_cost, -np.inf)))
                sizes[labels[worst]] -= 1
                sizes[j] += 1
                labels[worst] = j
            prototypes = np.vstack(
                [
                    self._centre(Z[labels == j], weight[labels == j], kind)
                    if sizes[j]
                    else prototypes[j]
                    for j in range(k)
                ]
            )
        return prototypes, n_iter

    @staticmethod
    def _draw(probability_weight, random_state):
        cumulative = np.cumsum(probability_weight)
        position = random_state.uniform() * cumulative[-1]
        index = int(np.searchsorted(cumulative, position, side="right"))
        return min(index, cumulative.shape[0] - 1)

    def _seed(self, Z, weight, k, exponent, random_state):
        chosen = [self._draw(weight, random_state)]
        closest = self._distances(Z, Z[chosen]).ravel() ** exponent
        for _ in range(1, k):
            score = weight * closest
            # Fewer distinct rows than prototypes: repeat rows by weight.
            index = self._draw(score if score.sum() > 0 else weight, random_state)
            chosen.append(index)
            new = self._distances(Z, Z[[index]]).ravel() ** exponent
            np.minimum(closest, new, out=closest)
        return Z[chosen].astype(np.float64)

    # -- prediction ----------------------------------------------------------
    def _embed(self, X):
        Z = self.metric_learner_.transform(X)
        return check_array(
            Z, dtype=[np.float64, np.float32], input_name="metric_learner_.transform(X)"
        )

    def _class_scores(self, X):
        if self.metric_learner is not None:
            X = self._embed(X)
        distances = self._distances(X, self.prototypes_)
        return -class_min_distances(
            distances, self._prototype_classes, self.classes_.shape[0]
        )

    def _check_linear_head(self):
        check_is_fitted(self)
        if not (
            self.n_prototypes_per_class == 1
            and self.metric_learner is None
            and isinstance(self.metric, str)
            and self.metric in _LINEAR_HEAD_METRICS
        ):
            raise AttributeError(
                "coef_ and intercept_ exist only with n_prototypes_per_class=1, "
                "metric='euclidean' (or 'sqeuclidean') and no metric_learner, "
                "where the nearest-centroid rule is linear; got "
                f"n_prototypes_per_class={self.n_prototypes_per_class}, "
                f"metric={self.metric!r}, metric_learner={self.metric_learner!r}."
            )

    @property
    def coef_(self):
        """Weights of the equivalent linear classifier, ``2 c`` per class.

        Returns
        -------
        coef : ndarray of shape (n_classes, n_features)
            Twice the class centres.
        """
        self._check_linear_head()
        return 2.0 * self.prototypes_

    @property
    def intercept_(self):
        """Intercepts of the equivalent linear classifier, ``-||c||^2`` per class.

        Returns
        -------
        intercept : ndarray of shape (n_classes,)
            Minus the squared norms of the class centres.
        """
        self._check_linear_head()
        centres = self.prototypes_.astype(np.float64)
        return (-np.einsum("ij,ij->i", centres, centres)).astype(self.prototypes_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags
