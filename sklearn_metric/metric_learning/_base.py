"""Mixins shared by Mahalanobis metric learners.

A Mahalanobis learner fits a linear map ``L`` (``components_``, of shape
``(n_components, n_features)``); the learned distance is

.. math:: d(x, x') = \\|L (x - x')\\|_2 = \\sqrt{(x - x')^\\top M (x - x')},
   \\quad M = L^\\top L.

:class:`MahalanobisMixin` gives every such learner ``transform``,
``get_mahalanobis_matrix``, ``pair_distance``, ``pair_score`` and
``get_metric``. The tuple mixins turn a learner into a classifier of pairs,
triplets or quadruplets. A concrete learner lists its mixins before
:class:`~sklearn.base.BaseEstimator`, for example::

    class ITML(PairsClassifierMixin, MahalanobisMixin, BaseEstimator): ...
    class LMNN(MahalanobisMixin, TransformerMixin, BaseEstimator): ...

so that scikit-learn's tags (classifier, transformer, input kinds) come from
the mixins and not from ``BaseEstimator``.
"""

import math
import warnings
from numbers import Real

import numpy as np
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted

from .._metric import MahalanobisMetric
from ._tuples import check_tuple_labels, validate_points, validate_tuples

_CALIBRATION_STRATEGIES = ("accuracy", "f_beta", "max_tpr", "max_tnr")


class MahalanobisMixin(ClassNamePrefixFeaturesOutMixin):
    """Mixin for learners of a Mahalanobis distance ``||L (x - x')||``.

    A learner that inherits it must set ``components_`` in ``fit``, and list
    the mixin before :class:`~sklearn.base.BaseEstimator`. It then provides
    the embedding (:meth:`transform`), the distance between pairs
    (:meth:`pair_distance`, :meth:`pair_score`), the matrix ``M = L'L``
    (:meth:`get_mahalanobis_matrix`) and a callable for other estimators
    (:meth:`get_metric`). Pairs may be given as points or, when the learner
    was fitted with a ``preprocessor``, as indices.

    The mixin does not inherit :class:`~sklearn.base.TransformerMixin`:
    supervised learners add it (and with it ``fit_transform`` and
    ``set_output``), whereas learners fitted on tuples, for which
    ``fit_transform`` makes no sense, do not.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map ``L``; set by the learner's ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator, TransformerMixin
    >>> from sklearn.utils.validation import validate_data
    >>> from sklearn_metric.metric_learning import MahalanobisMixin
    >>> class Scaling(MahalanobisMixin, TransformerMixin, BaseEstimator):
    ...     def fit(self, X, y=None):
    ...         X = validate_data(self, X)
    ...         self.components_ = np.diag(1 / X.std(axis=0))
    ...         return self
    >>> X = np.array([[0.0, 0.0], [2.0, 20.0]])
    >>> learner = Scaling().fit(X)
    >>> learner.transform(X)
    array([[0., 0.],
           [2., 2.]])
    >>> learner.pair_distance([[[0.0, 0.0], [1.0, 10.0]]])
    array([1.41421356])
    """

    def __init_subclass__(cls, **kwargs):
        # scikit-learn's set_output only wraps a transform found in the body of a
        # TransformerMixin subclass, never one inherited from a plain mixin, so
        # the mixin's transform is placed in the learner's own namespace first.
        if (
            issubclass(cls, TransformerMixin)
            and getattr(cls, "transform", None) is MahalanobisMixin.transform
        ):
            cls.transform = MahalanobisMixin.transform
        super().__init_subclass__(**kwargs)

    def transform(self, X):
        """Embed samples through the learned linear map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Samples to embed, or, for a learner fitted with a
            ``preprocessor``, a 1-D array of indicators into it.

        Returns
        -------
        X_embedded : ndarray of shape (n_samples, n_components)
            ``X @ components_.T``; float32 input gives float32 output.
        """
        check_is_fitted(self, "components_")
        X = validate_points(self, X, reset=False)
        return X @ self.components_.T.astype(X.dtype, copy=False)

    def get_mahalanobis_matrix(self):
        """Return the learned Mahalanobis matrix ``M = L'L``.

        Returns
        -------
        M : ndarray of shape (n_features, n_features)
            Symmetric positive semi-definite matrix with
            ``d(x, x')**2 = (x - x') @ M @ (x - x')``.
        """
        check_is_fitted(self, "components_")
        return self.components_.T @ self.components_

    def get_metric(self):
        """Return the learned distance as a picklable callable.

        The callable suits ``metric=`` of scikit-learn estimators such as
        :class:`~sklearn.neighbors.KNeighborsClassifier`. Calling a Python
        function per pair is slow, though; for neighbour searches it is much
        faster to :meth:`transform` the data and use the Euclidean distance,
        which gives the same neighbours.

        Returns
        -------
        metric : MahalanobisMetric
            ``metric(u, v, squared=False)`` returns the learned distance
            between two points, from a copy of the current ``components_``.
        """
        check_is_fitted(self, "components_")
        return MahalanobisMetric(self.components_)

    def pair_distance(self, pairs):
        """Learned distance between the two points of each pair.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into the learner's
            ``preprocessor``.

        Returns
        -------
        distances : ndarray of shape (n_pairs,)
            ``||L (x - x')||`` for every pair ``(x, x')``.
        """
        check_is_fitted(self, "components_")
        pairs = validate_tuples(self, pairs, tuple_size=2, reset=False)
        return self._tuple_distance(pairs, 0, 1)

    def pair_score(self, pairs):
        """Similarity of the two points of each pair: the negated distance.

        Higher means more similar, as scikit-learn expects of a score.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into the learner's
            ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_pairs,)
            ``-pair_distance(pairs)``.
        """
        return -self.pair_distance(pairs)

    def score_pairs(self, pairs):
        """Learned distance of each pair; deprecated, as in metric-learn 0.7.

        metric-learn's ``score_pairs`` returned the distance, so this alias
        returns :meth:`pair_distance`, not the negated :meth:`pair_score`.

        .. deprecated:: 0.1
            Use :meth:`pair_distance` for distances or :meth:`pair_score` for
            similarity scores.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into the learner's
            ``preprocessor``.

        Returns
        -------
        distances : ndarray of shape (n_pairs,)
            ``pair_distance(pairs)``.
        """
        warnings.warn(
            "score_pairs is deprecated, as in metric-learn 0.7: use pair_score "
            "for similarity scores or pair_distance for distances.",
            FutureWarning,
            stacklevel=2,
        )
        return self.pair_distance(pairs)

    def _tuple_distance(self, tuples, first, second):
        """Distances between places ``first`` and ``second`` of validated tuples.

        Parameters
        ----------
        tuples : IndexedTuples
            Validated tuples.
        first, second : int
            Places within each tuple.

        Returns
        -------
        distances : ndarray of shape (n_tuples,)
        """
        X, indices = tuples
        components = self.components_.astype(X.dtype, copy=False)
        # Embedding the difference, rather than differencing the embeddings,
        # avoids cancellation when the two points are close.
        embedded = (X[indices[:, first]] - X[indices[:, second]]) @ components.T
        return np.sqrt(np.einsum("ij,ij->i", embedded, embedded))

    def _tuple_score(self, tuples, first, second):
        """Similarity between two places of validated tuples (see ``pair_score``)."""
        return -self._tuple_distance(tuples, first, second)

    @property
    def _n_features_out(self):
        """Number of transformed output features."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            # transform casts L to the input's dtype, so float32 stays float32.
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class _TupleClassifierMixin(ClassifierMixin):
    """What pair, triplet and quadruplet classifiers share.

    Subclasses set ``_tuple_size``. Scoring relies on a learner mixin such as
    :class:`MahalanobisMixin` that provides ``_tuple_score``.
    """

    _tuple_size = None

    @property
    def classes_(self):
        """Labels of tuples: -1 (wrongly ordered or dissimilar) and +1."""
        return np.array([-1, 1])

    def _validate_tuples(self, tuples, *, reset=False):
        """Validate tuples of this learner's size; see ``validate_tuples``."""
        return validate_tuples(self, tuples, tuple_size=self._tuple_size, reset=reset)

    def _check_labels(self, y, n_tuples):
        """Labels for scoring: all +1 when omitted (tuples are correctly ordered)."""
        if y is None:
            return np.ones(n_tuples, dtype=np.int64)
        return check_tuple_labels(y, n_tuples)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's generic checks feed 2-D samples, which these learners
        # cannot take; this tag is what makes the checks skip them.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class PairsClassifierMixin(_TupleClassifierMixin):
    """Mixin for learners fitted on pairs labelled similar (+1) or dissimilar (-1).

    A pair is predicted similar when its learned distance is at most
    ``threshold_``. A concrete learner's ``fit`` validates its input with
    ``_validate_pairs``, solves, sets ``components_`` and then calibrates the
    threshold on the training pairs with ``_calibrate_threshold_after_fit``::

        def fit(self, pairs, y, calibration_params=None):
            pairs, y = self._validate_pairs(pairs, y, reset=True)
            calibration_params = self._check_calibration_params(calibration_params)
            self.components_ = solve(pairs.X, pairs.indices, y)
            return self._calibrate_threshold_after_fit(pairs, y, calibration_params)

    ``pairs.X`` holds the distinct points and ``pairs.indices`` the
    ``(n_pairs, 2)`` row indices into it, so solvers need not expand pairs into
    an ``(n_pairs, 2, n_features)`` array.

    Attributes
    ----------
    threshold_ : float
        Pairs whose distance is at most this are predicted similar (+1).
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    """

    _tuple_size = 2

    def decision_function(self, pairs):
        """Similarity score of each pair, higher for more similar pairs.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_pairs,)
            The negated learned distance.
        """
        check_is_fitted(self)
        return self._tuple_score(self._validate_tuples(pairs), 0, 1)

    def predict(self, pairs):
        """Predict whether each pair is similar (+1) or dissimilar (-1).

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into ``preprocessor``.

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            +1 where the learned distance is at most ``threshold_``, else -1.
        """
        check_is_fitted(self)
        if "threshold_" not in vars(self):
            raise AttributeError(
                f"This {type(self).__name__} has no threshold_; call set_threshold "
                "or calibrate_threshold before predict."
            )
        return np.where(-self.decision_function(pairs) <= self.threshold_, 1, -1)

    def score(self, pairs, y, sample_weight=None):
        """Area under the ROC curve of the pair scores.

        The score does not depend on ``threshold_``: it measures how well the
        learned distance ranks similar pairs before dissimilar ones.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_pairs,)
            +1 for similar pairs, -1 for dissimilar ones.
        sample_weight : array-like of shape (n_pairs,), default=None
            Weights of the pairs.

        Returns
        -------
        score : float
            ROC AUC of :meth:`decision_function` against ``y``.
        """
        scores = self.decision_function(pairs)
        y = check_tuple_labels(y, scores.shape[0])
        return roc_auc_score(y, scores, sample_weight=sample_weight)

    def set_threshold(self, threshold):
        """Set the distance threshold used by :meth:`predict`.

        Parameters
        ----------
        threshold : float
            Pairs whose learned distance is at most this are predicted similar.

        Returns
        -------
        self : object
            The learner.
        """
        check_is_fitted(self)
        if isinstance(threshold, bool) or not isinstance(threshold, Real):
            raise TypeError(
                f"threshold must be a real number; got {type(threshold).__name__}."
            )
        if math.isnan(threshold):
            raise ValueError("threshold must not be NaN.")
        self.threshold_ = float(threshold)
        return self

    def calibrate_threshold(
        self, pairs_valid, y_valid, strategy="accuracy", min_rate=None, beta=1.0
    ):
        """Choose ``threshold_`` to optimise a criterion on labelled pairs.

        Every threshold that splits the validation distances differently is
        tried, and the best one for ``strategy`` is kept. It is placed halfway
        between the largest accepted and the smallest rejected distance (or one
        unit beyond the extreme distance when all pairs are accepted or all
        rejected), so predictions on these pairs do not depend on the last bit
        of a recomputed distance.

        Parameters
        ----------
        pairs_valid : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Validation pairs, as points or as indices into ``preprocessor``.
        y_valid : array-like of shape (n_pairs,)
            +1 for similar pairs, -1 for dissimilar ones.
        strategy : {"accuracy", "f_beta", "max_tpr", "max_tnr"}, \
                default="accuracy"
            What the threshold maximises:

            - ``"accuracy"``: the accuracy;
            - ``"f_beta"``: the F-beta score of the similar class;
            - ``"max_tpr"``: the true positive rate, among thresholds whose
              true negative rate is at least ``min_rate``;
            - ``"max_tnr"``: the true negative rate, among thresholds whose
              true positive rate is at least ``min_rate``.

            Ties go to the smallest threshold, except that ``"max_tpr"`` breaks
            ties in favour of the true negative rate and ``"max_tnr"`` in favour
            of the true positive rate.
        min_rate : float in [0, 1], default=None
            The rate floor of ``"max_tpr"`` and ``"max_tnr"``; required by them
            and unused otherwise.
        beta : float >= 0, default=1.0
            The beta of ``"f_beta"`` (recall weighs beta times as much as
            precision).

        Returns
        -------
        self : object
            The learner, with ``threshold_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.base import BaseEstimator
        >>> from sklearn_metric.metric_learning import (
        ...     MahalanobisMixin, PairsClassifierMixin)
        >>> class Identity(PairsClassifierMixin, MahalanobisMixin, BaseEstimator):
        ...     def fit(self, pairs, y):
        ...         pairs, y = self._validate_pairs(pairs, y, reset=True)
        ...         self.components_ = np.eye(pairs.X.shape[1])
        ...         return self._calibrate_threshold_after_fit(pairs, y)
        >>> pairs = np.array([[[0.0], [1.0]], [[0.0], [2.0]], [[0.0], [5.0]]])
        >>> learner = Identity().fit(pairs, [1, 1, -1])
        >>> learner.threshold_
        3.5
        >>> learner.calibrate_threshold(pairs, [1, -1, -1]).threshold_
        1.5
        """
        check_is_fitted(self)
        params = self._check_calibration_params(
            {"strategy": strategy, "min_rate": min_rate, "beta": beta}
        )
        pairs = self._validate_tuples(pairs_valid)
        y_valid = check_tuple_labels(y_valid, pairs.n_tuples)
        distances = -self._tuple_score(pairs, 0, 1)
        self.threshold_ = _best_threshold(distances, y_valid, **params)
        return self

    def _validate_pairs(self, pairs, y, *, reset=True):
        """Validate pairs and their labels at fit time.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Pairs as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_pairs,)
            +1 / -1 labels.
        reset : bool, default=True
            Whether to reset ``preprocessor_`` and ``n_features_in_``.

        Returns
        -------
        pairs : IndexedTuples
            Distinct points and ``(n_pairs, 2)`` indices into them.
        y : ndarray of shape (n_pairs,)
            Labels as integers -1 and +1.
        """
        pairs = self._validate_tuples(pairs, reset=reset)
        return pairs, check_tuple_labels(y, pairs.n_tuples)

    @staticmethod
    def _check_calibration_params(calibration_params):
        """Validate ``calibration_params`` and fill in the defaults.

        Parameters
        ----------
        calibration_params : dict or None
            Keyword arguments of :meth:`calibrate_threshold` (``strategy``,
            ``min_rate``, ``beta``); ``None`` means the defaults.

        Returns
        -------
        params : dict
            All three keys, validated.
        """
        params = {"strategy": "accuracy", "min_rate": None, "beta": 1.0}
        if calibration_params is None:
            return params
        if not isinstance(calibration_params, dict):
            raise TypeError(
                "calibration_params must be a dict or None; got "
                f"{type(calibration_params).__name__}."
            )
        unknown = set(calibration_params) - set(params)
        if unknown:
            raise ValueError(
                f"Unknown calibration_params {sorted(unknown)}; accepted keys are "
                f"{sorted(params)}."
            )
        params.update(calibration_params)

        strategy = params["strategy"]
        min_rate, beta = params["min_rate"], params["beta"]
        if strategy not in _CALIBRATION_STRATEGIES:
            raise ValueError(
                f"strategy must be one of {list(_CALIBRATION_STRATEGIES)}; got "
                f"{strategy!r}."
            )
        if strategy in ("max_tpr", "max_tnr") and not (
            isinstance(min_rate, Real)
            and not isinstance(min_rate, bool)
            and 0 <= min_rate <= 1
        ):
            raise ValueError(
                f"strategy={strategy!r} needs min_rate, a number in [0, 1]; got "
                f"{min_rate!r}."
            )
        if strategy == "f_beta" and not (
            isinstance(beta, Real) and not isinstance(beta, bool) and beta >= 0
        ):
            raise ValueError(
                f"strategy='f_beta' needs beta, a number >= 0; got {beta!r}."
            )
        return params

    def _calibrate_threshold_after_fit(self, pairs, y, calibration_params=None):
        """Calibrate ``threshold_`` on the training pairs; the end of ``fit``.

        Parameters
        ----------
        pairs : IndexedTuples
            The validated training pairs.
        y : ndarray of shape (n_pairs,)
            Their validated labels.
        calibration_params : dict or None, default=None
            Keyword arguments for :meth:`calibrate_threshold`.

        Returns
        -------
        self : object
            The learner, with ``threshold_`` set.
        """
        params = self._check_calibration_params(calibration_params)
        distances = -self._tuple_score(pairs, 0, 1)
        self.threshold_ = _best_threshold(distances, y, **params)
        return self


class TripletsClassifierMixin(_TupleClassifierMixin):
    """Mixin for learners fitted on triplets ``(anchor, positive, negative)``.

    A triplet is correctly ordered (+1) when its anchor is closer to the second
    point than to the third, and wrongly ordered (-1) otherwise. Training
    triplets are assumed correctly ordered, so ``y`` is optional everywhere. A
    concrete learner's ``fit`` starts with
    ``triplets = self._validate_tuples(triplets, reset=True)``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    """

    _tuple_size = 3

    def decision_function(self, triplets):
        """How much closer the anchor is to the second point than to the third.

        Parameters
        ----------
        triplets : array-like of shape (n_triplets, 3, n_features) or \
                (n_triplets, 3)
            The triplets as points, or as indices into ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_triplets,)
            ``score(a, p) - score(a, n)``, which for a distance learner is
            ``d(a, n) - d(a, p)``; positive for correctly ordered triplets.
        """
        check_is_fitted(self)
        triplets = self._validate_tuples(triplets)
        return self._tuple_score(triplets, 0, 1) - self._tuple_score(triplets, 0, 2)

    def predict(self, triplets):
        """Predict whether each triplet is correctly ordered.

        Parameters
        ----------
        triplets : array-like of shape (n_triplets, 3, n_features) or \
                (n_triplets, 3)
            The triplets as points, or as indices into ``preprocessor``.

        Returns
        -------
        y_pred : ndarray of shape (n_triplets,)
            +1 when the anchor is strictly closer to the second point than to
            the third, -1 otherwise (ties included).
        """
        return np.where(self.decision_function(triplets) > 0, 1, -1)

    def score(self, triplets, y=None, sample_weight=None):
        """Accuracy of the predicted ordering.

        Parameters
        ----------
        triplets : array-like of shape (n_triplets, 3, n_features) or \
                (n_triplets, 3)
            The triplets as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_triplets,), default=None
            +1 / -1 true orderings; ``None`` means all +1.
        sample_weight : array-like of shape (n_triplets,), default=None
            Weights of the triplets.

        Returns
        -------
        score : float
            Fraction of triplets whose ordering is predicted correctly.
        """
        y_pred = self.predict(triplets)
        y = self._check_labels(y, y_pred.shape[0])
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


class QuadrupletsClassifierMixin(_TupleClassifierMixin):
    """Mixin for learners fitted on quadruplets ``(a, b, c, d)``.

    A quadruplet is correctly ordered (+1) when the pair ``(a, b)`` is closer
    than the pair ``(c, d)``, and wrongly ordered (-1) otherwise. Training
    quadruplets are assumed correctly ordered, so ``y`` is optional
    everywhere. A concrete learner's ``fit`` starts with
    ``quadruplets = self._validate_tuples(quadruplets, reset=True)``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    """

    _tuple_size = 4

    def decision_function(self, quadruplets):
        """How much closer the first pair is than the second.

        Parameters
        ----------
        quadruplets : array-like of shape (n_quadruplets, 4, n_features) or \
                (n_quadruplets, 4)
            The quadruplets as points, or as indices into ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_quadruplets,)
            ``score(a, b) - score(c, d)``, which for a distance learner is
            ``d(c, d) - d(a, b)``; positive for correctly ordered quadruplets.
        """
        check_is_fitted(self)
        quadruplets = self._validate_tuples(quadruplets)
        return self._tuple_score(quadruplets, 0, 1) - self._tuple_score(
            quadruplets, 2, 3
        )

    def predict(self, quadruplets):
        """Predict whether each quadruplet is correctly ordered.

        Parameters
        ----------
        quadruplets : array-like of shape (n_quadruplets, 4, n_features) or \
                (n_quadruplets, 4)
            The quadruplets as points, or as indices into ``preprocessor``.

        Returns
        -------
        y_pred : ndarray of shape (n_quadruplets,)
            +1 when ``d(a, b) < d(c, d)``, -1 otherwise (ties included).
        """
        return np.where(self.decision_function(quadruplets) > 0, 1, -1)

    def score(self, quadruplets, y=None, sample_weight=None):
        """Accuracy of the predicted ordering.

        Parameters
        ----------
        quadruplets : array-like of shape (n_quadruplets, 4, n_features) or \
                (n_quadruplets, 4)
            The quadruplets as points, or as indices into ``preprocessor``.
        y : array-like of shape (n_quadruplets,), default=None
            +1 / -1 true orderings; ``None`` means all +1.
        sample_weight : array-like of shape (n_quadruplets,), default=None
            Weights of the quadruplets.

        Returns
        -------
        score : float
            Fraction of quadruplets whose ordering is predicted correctly.
        """
        y_pred = self.predict(quadruplets)
        y = self._check_labels(y, y_pred.shape[0])
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


def _best_threshold(distances, y, strategy="accuracy", min_rate=None, beta=1.0):
    """Distance threshold that maximises a criterion on labelled pairs.

    Parameters
    ----------
    distances : ndarray of shape (n_pairs,)
        Learned distances; a pair is predicted similar when its distance is at
        most the threshold.
    y : ndarray of shape (n_pairs,)
        +1 (similar) and -1 (dissimilar) labels.
    strategy, min_rate, beta
        As in :meth:`PairsClassifierMixin.calibrate_threshold`, validated.

    Returns
    -------
    threshold : float
    """
    order = np.argsort(distances, kind="stable")
    sorted_distances = distances[order]
    is_positive = y[order] == 1
    n_pairs = is_positive.shape[0]
    n_positive = int(is_positive.sum())
    n_negative = n_pairs - n_positive
    if strategy in ("max_tpr", "max_tnr") and min(n_positive, n_negative) == 0:
        raise ValueError(
            f"strategy={strategy!r} needs both similar and dissimilar pairs; got "
            f"{n_positive} similar and {n_negative} dissimilar."
        )

    # Candidate k accepts the k closest pairs; k is only a candidate where it
    # falls between two distinct distances, since equal distances cannot be split.
    n_accepted = np.arange(n_pairs + 1)
    splittable = np.concatenate(
        ([True], sorted_distances[1:] != sorted_distances[:-1], [True])
    )
    n_accepted = n_accepted[splittable]
    true_pos = np.concatenate(([0], np.cumsum(is_positive)))[n_accepted]
    false_pos = n_accepted - true_pos
    false_neg = n_positive - true_pos
    true_neg = n_negative - false_pos

    take_last = False
    if strategy == "accuracy":
        criterion = (true_pos + true_neg) / n_pairs
    elif strategy == "f_beta":
        weight = 1.0 + beta**2
        denominator = weight * true_pos + beta**2 * false_neg + false_pos
        criterion = np.divide(
            weight * true_pos,
            denominator,
            out=np.zeros(n_accepted.shape[0]),
            where=true_pos > 0,
        )
    elif strategy == "max_tpr":
        # The true negative rate only falls as k grows, so among the thresholds
        # with the best feasible TPR the first one has the best TNR.
        criterion = np.where(
            true_neg / n_negative >= min_rate, true_pos / n_positive, -1.0
        )
    else:
        # Symmetrically, the last threshold with the best TNR has the best TPR.
        criterion = np.where(
            true_pos / n_positive >= min_rate, true_neg / n_negative, -1.0
        )
        take_last = True

    if take_last:
        best = n_accepted.shape[0] - 1 - np.argmax(criterion[::-1])
    else:
        best = np.argmax(criterion)
    k = n_accepted[best]
    if k == 0:
        return float(sorted_distances[0] - 1.0)
    if k == n_pairs:
        return float(sorted_distances[-1] + 1.0)
    below, above = sorted_distances[k - 1], sorted_distances[k]
    middle = below + (above - below) / 2
    # For adjacent floats the midpoint can round up onto the rejected distance.
    return float(middle if middle < above else below)
