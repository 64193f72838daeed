"""Class-incremental nearest prototypes with training-free calibration (TEEN)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._metric import METRIC_CONSTRAINT
from ..distances import pairwise_distances
from ._base import PrototypeClassifierMixin, check_class_targets, softmax
from ._util import unit_rows

__all__ = ["CalibratedPrototypeClassifier"]


class CalibratedPrototypeClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Nearest class mean that learns new classes from a few shots (TEEN).

    :meth:`fit` sets the base classes: each is represented by the mean of its
    rows. :meth:`partial_fit` then adds classes never seen before from a few
    rows each. The mean of a few shots is a poor prototype, and test rows of
    a new class tend to be taken for the base classes it resembles, so the
    new class's prototype is pulled towards those base classes
    (training-free prototype calibration, TEEN [1]_). With ``p`` the mean of
    the new class and ``b_1 .. b_B`` the base-class means, for
    ``metric="cosine"`` (the paper's setting, all vectors scaled to unit
    length)::

        w_j = softmax_j(calibration_temperature * cos(p, b_j))
        delta = normalize(sum_j w_j b_j)
        p_hat = (1 - shift_weight) * p + shift_weight * delta

    For any other metric ``d`` the similarity is ``-d(p, b_j) / s``, with
    ``s`` = ``distance_scale_`` (the mean distance between two base-class
    means), and nothing is normalised: ``delta = sum_j w_j b_j``. A query
    gets the class of the most similar prototype.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    shift_weight : float, default=0.1
        How far a new class's prototype moves towards the weighted base
        prototypes, between 0 (the plain mean of its shots) and 1 (the
        weighted base prototypes alone). The authors use 0.1 on CIFAR-100
        and 0.5 on CUB-200 and mini-ImageNet.
    calibration_temperature : float, default=16.0
        Sharpness of the weights of the base prototypes: 0 weighs them
        equally, a large value gives all the weight to the most similar one.
    temperature : float, default=16.0
        Scale of the similarities in :meth:`predict_proba`, which is the
        softmax of ``temperature`` times :meth:`decision_function`. It does
        not change :meth:`predict`.
    metric : str, callable or fitted metric learner, default="cosine"
        ``"cosine"`` (as in the paper), or any metric accepted by
        :func:`sklearn_metric.distances.pairwise_distances`, such as
        ``"euclidean"`` or a metric learner of
        :mod:`sklearn_metric.metric_learning` fitted on the base classes.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    n_jobs : int, default=None
        Numba threads for the distances. ``None`` uses all configured
        threads, a positive integer that many.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted; grows with :meth:`partial_fit` and shrinks
        with :meth:`forget`.
    base_classes_ : ndarray of shape (n_base_classes,)
        The classes of the base session (the first call to :meth:`fit` or
        :meth:`partial_fit`) that have not been forgotten.
    prototypes_ : ndarray of shape (n_classes, n_features)
        One prototype per class, in the order of ``classes_``: the class
        mean for a base class, the calibrated mean for a new class. With
        ``metric="cosine"`` a calibrated prototype is scaled back to the
        length of its class mean (the cosine depends on its direction only).
    class_means_ : ndarray of shape (n_classes, n_features)
        The (weighted) mean of every class's rows, before calibration.
    class_counts_ : ndarray of shape (n_classes,)
        Total sample weight of every class: its number of rows (shots)
        when no ``sample_weight`` is given.
    distance_scale_ : float
        The ``s`` dividing the distances in the similarities: 1 for
        ``"cosine"``, else the mean distance between two base-class means
        (1 with fewer than two base classes).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    sklearn.neighbors.NearestCentroid : Nearest class mean, without
        incremental classes.

    Notes
    -----
    Every prototype is a function of the per-class sums and counts only, so
    the model does not depend on how the rows of a session are split into
    :meth:`partial_fit` calls, nor on their order. A new class is calibrated
    against the base classes only, never against other new classes, and a
    base prototype moves only when rows of its own class arrive. When a base
    class is updated or forgotten, the new classes are calibrated again
    against the base classes that remain.

    The fit costs ``O(n_samples * n_features)``, a calibration
    ``O(n_new_classes * n_base_classes * n_features)`` and a prediction
    ``O(n_samples * n_classes * n_features)``.

    References
    ----------
    .. [1] K.-W. Wang, D.-W. Zhou, S.-Y. Zhang, D.-C. Zhan and H.-J. Ye,
       "Few-Shot Class-Incremental Learning via Training-Free Prototype
       Calibration", NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.prototypes import CalibratedPrototypeClassifier
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> clf = CalibratedPrototypeClassifier().fit(X, [0, 0, 1, 1])
    >>> clf.predict([[0.8, 0.3]])
    array([0])
    >>> clf = clf.partial_fit([[0.7, 0.7]], [2])
    >>> clf.classes_
    array([0, 1, 2])
    >>> clf.predict([[0.6, 0.6], [1.0, 0.1]])
    array([2, 0])
    >>> clf = clf.forget(0)
    >>> clf.predict([[1.0, 0.1]])
    array([2])
    """

    _parameter_constraints: dict = {
        "shift_weight": [Interval(Real, 0, 1, closed="both")],
        "calibration_temperature": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        shift_weight=0.1,
        calibration_temperature=16.0,
        temperature=16.0,
        metric="cosine",
        metric_params=None,
        n_jobs=None,
    ):
        self.shift_weight = shift_weight
        self.calibration_temperature = calibration_temperature
        self.temperature = temperature
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Set the base classes: one prototype per class, its mean.

        Any earlier state, new classes included, is discarded.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the base classes.
        y : array-like of shape (n_samples,)
            Their labels; at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows in the class means; ``None``
            gives every row 1.

        Returns
        -------
        self : CalibratedPrototypeClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self._start_base_session(X, y, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add rows: new classes get calibrated prototypes, known ones updates.

        On an unfitted classifier the first call is the base session and
        does what :meth:`fit` does. Afterwards, a label not in ``classes_``
        starts a new class, whose prototype is its mean calibrated against
        the base prototypes (one row is enough); the rows of a known class
        update its mean, weighted by the class counts so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New rows.
        y : array-like of shape (n_samples,)
            Their labels.
        classes : array-like of shape (n_classes,), default=None
            Accepted for compatibility with scikit-learn's incremental
            learners, which must be told every class in their first call.
            This classifier needs no such list, since new classes are not
            known in advance: a class enters ``classes_`` when its first rows
            arrive. If given, every label of ``y`` must be in ``classes``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows; ``None`` gives every row 1.

        Returns
        -------
        self : CalibratedPrototypeClassifier
            The updated classifier.
        """
        first_call = not hasattr(self, "classes_")
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], reset=first_call
        )
        if classes is not None:
            outside = np.setdiff1d(np.unique(y), np.asarray(classes))
            if outside.size:
                raise ValueError(
                    f"y has labels {outside.tolist()} that are not in "
                    f"classes={np.asarray(classes).tolist()}."
                )
        if first_call:
            self._start_base_session(X, y, sample_weight)
            return self
        check_classification_targets(y)
        self._check_label_kind(y)
        weight = self._sample_weight(sample_weight, X)
        labels = np.unique(y)
        known = np.isin(labels, self.classes_)
        sums, counts = self._class_sums(X, y, labels, weight)
        empty = ~known & (counts <= 0)
        if empty.any():
            raise ValueError(
                f"{type(self).__name__} needs a positive total sample_weight in "
                f"every new class; class {np.asarray(labels[empty][0]).item()!r} "
                "has none."
            )
        classes = np.union1d(self.classes_, labels)
        old = np.searchsorted(classes, self.classes_)
        new_sums = np.zeros((classes.shape[0], X.shape[1]))
        new_counts = np.zeros(classes.shape[0])
        is_base = np.zeros(classes.shape[0], dtype=bool)
        new_sums[old] = self._sums
        new_counts[old] = self.class_counts_
        is_base[old] = self._is_base
        rows = np.searchsorted(classes, labels)
        new_sums[rows] += sums
        new_counts[rows] += counts
        self.classes_ = classes
        self._sums = new_sums
        self.class_counts_ = new_counts
        self._is_base = is_base
        self._update_prototypes()
        return self

    def forget(self, class_label):
        """Remove a class: it is no longer predicted, nor used to calibrate.

        The model becomes the one trained without the rows of that class. If
        the class is a base class, the new classes are calibrated again
        against the remaining base classes. A forgotten class whose rows
        arrive later through :meth:`partial_fit` comes back as a new class.

        Parameters
        ----------
        class_label : int, str or other label
            One label of ``classes_``.

        Returns
        -------
        self : CalibratedPrototypeClassifier
            The updated classifier.
        """
        check_is_fitted(self)
        if np.ndim(class_label) != 0:
            raise TypeError(
                "forget takes a single class label; got an array of shape "
                f"{np.shape(class_label)}."
            )
        matches = [i for i, label in enumerate(self.classes_) if label == class_label]
        if not matches:
            raise ValueError(
                f"class_label={class_label!r} is not a class of this "
                f"{type(self).__name__}; classes_ is {self.classes_.tolist()}."
            )
        if self.classes_.shape[0] == 1:
            raise ValueError(
                f"class_label={class_label!r} is the only class left; a "
                "classifier needs at least one class."
            )
        keep = np.ones(self.classes_.shape[0], dtype=bool)
        keep[matches[0]] = False
        self.classes_ = self.classes_[keep]
        self._sums = self._sums[keep]
        self.class_counts_ = self.class_counts_[keep]
        self._is_base = self._is_base[keep]
        self._update_prototypes()
        return self

    def decision_function(self, X):
        """Similarity of each row to each class's prototype.

        The cosine similarity for ``metric="cosine"``, else minus the
        distance divided by ``distance_scale_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            One column per class, in the order of ``classes_``; with two
            classes, the score of the second minus that of the first.
        """
        return super().decision_function(X)

    def predict_proba(self, X):
        """Softmax of the similarities times ``temperature``.

        This is the cosine classifier of the paper: the probability of class
        ``c`` is proportional to ``exp(temperature * sim(x, p_c))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return super().predict_proba(X)

    # -- internals ---------------------------------------------------------
    def _start_base_session(self, X, y, sample_weight):
        # Every check runs before any attribute is set, so that a failed call
        # leaves the classifier as it was.
        check_classification_targets(y)
        weight = self._sample_weight(sample_weight, X)
        labels, inverse = np.unique(y, return_inverse=True)
        totals = np.bincount(inverse, weights=weight, minlength=labels.shape[0])
        if labels.shape[0] > 1 and np.any(totals <= 0):
            raise ValueError(
                f"{type(self).__name__} needs a positive total sample_weight in "
                "every class; class "
                f"{np.asarray(labels[np.argmin(totals)]).item()!r} has none."
            )
        y_encoded = check_class_targets(self, y)
        self._sums, self.class_counts_ = self._class_sums(
            X, y_encoded, np.arange(self.classes_.shape[0]), weight
        )
        self._is_base = np.ones(self.classes_.shape[0], dtype=bool)
        self._update_prototypes()

    def _sample_weight(self, sample_weight, X):
        return _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )

    @staticmethod
    def _class_sums(X, y, labels, weight):
        sums = np.empty((labels.shape[0], X.shape[1]))
        counts = np.empty(labels.shape[0])
        for k, label in enumerate(labels):
            members = y == label
            w = weight[members]
            sums[k] = w @ X[members]
            counts[k] = w.sum()
        return sums, counts

    def _check_label_kind(self, y):
        numeric = "biuf"
        if (self.classes_.dtype.kind in numeric) != (y.dtype.kind in numeric):
            raise ValueError(
                f"y has labels of dtype {y.dtype}, but the classes seen so far "
                f"have dtype {self.classes_.dtype}; labels of one kind (numbers "
                "or strings) are needed."
            )

    def _is_cosine(self):
        return isinstance(self.metric, str) and self.metric == "cosine"

    def _distances(self, X, P):
        return pairwise_distances(
            X, P, metric=self.metric, n_jobs=self.n_jobs, **(self.metric_params or {})
        )

    def _update_prototypes(self):
        means = self._sums / self.class_counts_[:, None]
        base = means[self._is_base]
        self.class_means_ = means
        self.base_classes_ = self.classes_[self._is_base]
        self.distance_scale_ = self._distance_scale(base)
        prototypes = means.copy()
        new = ~self._is_base
        if new.any() and base.shape[0] > 0:
            prototypes[new] = self._calibrate(means[new], base)
        self.prototypes_ = prototypes

    def _distance_scale(self, base):
        if self._is_cosine() or base.shape[0] < 2:
            return 1.0
        distances = self._distances(base, base).astype(np.float64)
        off_diagonal = distances[~np.eye(base.shape[0], dtype=bool)]
        scale = float(np.mean(off_diagonal))
        return scale if np.isfinite(scale) and scale > 0 else 1.0

    def _calibrate(self, new_means, base_means):
        # softmax(tau * cos) = softmax(-tau * (1 - cos)): the cosine distance
        # gives the paper's weights, so one formula serves every metric.
        distances = self._distances(new_means, base_means).astype(np.float64)
        logits = np.zeros_like(distances)
        if self.calibration_temperature > 0:
            logits = -self.calibration_temperature * distances / self.distance_scale_
        # An infinitely distant base prototype (possible with "snr") gets no
        # weight; a row with no finite distance weighs the base equally.
        logits[np.isnan(logits)] = -np.inf
        logits[~np.isfinite(logits).any(axis=1)] = 0.0
        weights = softmax(logits)
        alpha = self.shift_weight
        if not self._is_cosine():
            return (1 - alpha) * new_means + alpha * (weights @ base_means)
        base = unit_rows(base_means)[0]
        delta = unit_rows(weights @ base)[0]
        calibrated = (1 - alpha) * unit_rows(new_means)[0] + alpha * delta
        # Back to the length of the class mean; the cosine ignores lengths.
        lengths = np.linalg.norm(new_means, axis=1, keepdims=True)
        return unit_rows(calibrated)[0] * lengths

    def _class_scores(self, X):
        distances = self._distances(X, self.prototypes_.astype(X.dtype, copy=False))
        if self._is_cosine():
            return 1 - distances
        return -distances / np.asarray(self.distance_scale_, dtype=distances.dtype)

    def _class_proba(self, X):
        scores = self._class_scores(X).astype(np.float64, copy=False)
        return softmax(self.temperature * scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags
