"""What every prototype classifier shares: targets, class scores, outputs.

A prototype classifier reduces the training set to labelled points (or, for
some, to class directions) and scores a query by how close it is to each
class. Subclasses implement ``_class_scores(X)``, which returns an array of
shape (n_samples, n_classes) in which a larger value means "more of this
class", for rows already validated; :class:`PrototypeClassifierMixin` turns
it into ``decision_function``, ``predict`` and ``predict_proba``.
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "PrototypeClassifierMixin",
    "check_class_targets",
    "check_class_weights",
    "class_min_distances",
    "softmax",
]


def check_class_targets(estimator, y, *, min_per_class=1):
    """Validate class labels and encode them as ``0 .. n_classes - 1``.

    Sets ``estimator.classes_``.

    Parameters
    ----------
    estimator : estimator instance
        The classifier being fitted; its class name goes into the messages.
    y : ndarray of shape (n_samples,)
        Labels, already checked for length by ``validate_data``.
    min_per_class : int, default=1
        Fewest rows each class must have (for example the number of
        prototypes per class).

    Returns
    -------
    y_encoded : ndarray of shape (n_samples,), dtype intp
        The labels as indices into ``classes_``.
    """
    check_classification_targets(y)
    classes, y_encoded = np.unique(y, return_inverse=True)
    name = type(estimator).__name__
    if classes.shape[0] < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes; got 1 class ({classes[0]!r})."
        )
    counts = np.bincount(y_encoded, minlength=classes.shape[0])
    if counts.min() < min_per_class:
        small = classes[np.argmin(counts)]
        raise ValueError(
            f"{name} needs at least {min_per_class} samples per class here; "
            f"class {small!r} has {counts.min()}."
        )
    estimator.classes_ = classes
    return y_encoded.astype(np.intp, copy=False)


def check_class_weights(estimator, sample_weight, X, y_encoded):
    """Validate sample weights: non-negative, and every class weighs something.

    Parameters
    ----------
    estimator : estimator instance
        The classifier being fitted, after :func:`check_class_targets`.
    sample_weight : array-like of shape (n_samples,) or None
        The weights given to ``fit``; ``None`` is weight 1 for every row.
    X : ndarray of shape (n_samples, n_features)
        The validated training rows.
    y_encoded : ndarray of shape (n_samples,)
        The labels as indices into ``estimator.classes_``.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), dtype float64
        The weights, unnormalised.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    n_classes = estimator.classes_.shape[0]
    class_weight = np.bincount(y_encoded, sample_weight, minlength=n_classes)
    if np.any(class_weight <= 0):
        empty = np.asarray(estimator.classes_[np.argmin(class_weight)]).item()
        raise ValueError(
            f"{type(estimator).__name__} needs a positive total sample_weight in "
            f"every class; class {empty!r} has none."
        )
    return sample_weight


def class_min_distances(distances, prototype_labels, n_classes):
    """Distance from each row to the nearest prototype of each class.

    Parameters
    ----------
    distances : ndarray of shape (n_samples, n_prototypes)
        Distances from rows to prototypes.
    prototype_labels : ndarray of shape (n_prototypes,)
        Class index of each prototype; every class in ``0 .. n_classes - 1``
        must have at least one.
    n_classes : int
        Number of classes.

    Returns
    -------
    nearest : ndarray of shape (n_samples, n_classes)
        ``nearest[i, c]`` is the smallest distance from row ``i`` to a
        prototype of class ``c``.
    """
    nearest = np.full((distances.shape[0], n_classes), np.inf, dtype=distances.dtype)
    for label in range(n_classes):
        columns = prototype_labels == label
        nearest[:, label] = distances[:, columns].min(axis=1)
    return nearest


def softmax(scores):
    """Row-wise softmax, computed stably (the row maximum is subtracted first).

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_classes)
        Scores; larger means more likely.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows that sum to one.
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class PrototypeClassifierMixin(ClassifierMixin):
    """``decision_function``, ``predict`` and ``predict_proba`` from class scores.

    A subclass sets ``classes_`` in ``fit`` and implements
    ``_class_scores(X)`` for validated rows ``X``: an array of shape
    (n_samples, n_classes), larger meaning more of that class (for the
    distance-based classifiers, minus the distance to the class's nearest
    prototype). ``predict_proba`` is the softmax of those scores; a subclass
    with a probabilistic model of its own overrides ``_class_proba``.
    """

    def _validate_query(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    def decision_function(self, X):
        """Class scores: larger means closer to the class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            One column per class, in the order of ``classes_``; with two
            classes, the score of the second minus that of the first, as
            scikit-learn's binary classifiers return.
        """
        scores = self._class_scores(self._validate_query(X))
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        """Predict the class with the largest score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels. Ties go to the class first in ``classes_``.
        """
        scores = self._class_scores(self._validate_query(X))
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; see the class
            documentation for the model behind them.
        """
        return self._class_proba(self._validate_query(X))

    def _class_proba(self, X):
        scores = self._class_scores(X)
        return softmax(scores.astype(np.float64, copy=False))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
