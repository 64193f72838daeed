"""Soft nearest-neighbour classification: a temperature-softmax vote of all rows."""

import math
from numbers import Integral, Real

import numpy as np
from scipy.optimize import brentq
from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._metric import METRIC_CONSTRAINT
from ..distances import pairwise_distances
from ._base import PrototypeClassifierMixin, check_class_targets, check_class_weights
from ._kernels._soft_nn import leave_one_out_terms
from ._util import weighted_median

# Leave-one-out selection of the temperature: at most this many training rows
# are scored, against the whole training set.
_MAX_SELECTION_ROWS = 1000
# The search covers temperatures from _LOW_FACTOR times the median distance to
# the nearest other row (a vote as sharp as 1-NN) to _HIGH_FACTOR times the
# median distance (a nearly uniform vote); _GRID_SIZE points on a log scale,
# then a root search of the slope around the best one.
_LOW_FACTOR = 1e-2
_HIGH_FACTOR = 10.0
_GRID_SIZE = 41


def _leave_one_out_nll(
    log_temperature, distances, log_weight, row_classes, classes, weight
):
    """Weighted mean leave-one-out negative log-likelihood of a temperature.

    ``distances[i, j]`` is the distance from scored row ``i`` to training row
    ``j`` (a row at distance 0 is left out of the vote), ``log_weight[j]`` the
    log-weight of training row ``j``, ``row_classes[i]`` and ``classes[j]``
    the class indices and ``weight[i]`` the weight of row ``i`` in the mean.
    """
    nll, _ = leave_one_out_terms(
        distances, log_weight, row_classes, classes, math.exp(-log_temperature)
    )
    return float(weight @ nll / weight.sum())


def _leave_one_out_slope(
    log_temperature, distances, log_weight, row_classes, classes, weight
):
    """Derivative of the leave-one-out NLL in ``log T``, up to a factor ``1/T``.

    It is the weighted mean over rows of the expected distance under the vote
    of all rows minus that under the vote of the row's class: zero at a
    stationary temperature.
    """
    _, spread = leave_one_out_terms(
        distances, log_weight, row_classes, classes, math.exp(-log_temperature)
    )
    return float(weight @ spread / weight.sum())


class SoftNearestNeighborClassifier(PrototypeClassifierMixin, BaseEstimator):
    """Classifier voting with all training rows, weighted by a softmax kernel.

    The probability of class ``c`` for a query ``x`` is the share of the
    class in a vote of every training row ``x_j``, each weighing
    ``w_j exp(-d(x, x_j) / T)``:

    ``p(c | x) = sum_{j: y_j = c} w_j exp(-d(x, x_j) / T)
    / sum_j w_j exp(-d(x, x_j) / T)``.

    With the default squared Euclidean distance this is a Gaussian-kernel
    (Nadaraya-Watson) vote, the rule of the soft nearest-neighbour loss. With
    ``metric="cosine"`` the weights are ``softmax_j(cos(x, x_j) / T)``, the
    attention over the support set of Matching Networks. As ``T`` goes to 0 it
    becomes the 1-nearest-neighbour rule, and as ``T`` grows the
    (weighted) class frequencies.

    Read more in the :ref:`User Guide <prototypes>`.

    Parameters
    ----------
    temperature : "auto" or float, default="auto"
        The temperature ``T > 0``, in the units of the metric. ``"auto"``
        chooses the one that maximises the leave-one-out likelihood of the
        training labels: every training row is classified by a vote of the
        others (leaving out its exact copies too), and the mean negative
        log-probability of its true class is minimised over ``T`` (a grid
        search on a log scale, refined by finding where the derivative
        vanishes). At most 1000 training rows are scored, drawn at random
        when there are more (fewer when their distances to all training rows
        would not fit in scikit-learn's ``working_memory``); each is still
        scored against every training row.
    metric : str, callable or fitted metric learner, default="euclidean"
        Any metric accepted by :func:`sklearn_metric.distances.pairwise_distances`.
    metric_params : dict, default=None
        Keyword parameters of the metric, such as ``p`` for ``"minkowski"``.
    random_state : int, RandomState instance or None, default=None
        Draws the training rows scored by ``temperature="auto"`` when not all
        are; unused otherwise.
    n_jobs : int, default=None
        Numba threads for the distance computations. ``None`` uses all
        configured threads, a positive integer that many.

    Attributes
    ----------
    temperature_ : float
        The temperature used: ``temperature``, or the one chosen by
        ``"auto"``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_samples_fit_ : int
        Number of training rows that vote (those with a positive weight).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column names.

    See Also
    --------
    sklearn_metric.neighbors.KNeighborsClassifier : A hard vote of the k
        nearest rows.
    sklearn_metric.prototypes.NearestPrototypeClassifier : A few prototypes
        per class instead of every training row.

    Notes
    -----
    Prediction costs one distance from every query to every training row, in
    blocks of rows that fit in scikit-learn's ``working_memory``; the vote is
    summed with a log-sum-exp shift, so that no temperature underflows. float32
    input is computed and returned in float32. ``decision_function`` returns
    the log-probabilities, which are ``-inf`` for a class whose kernel weights
    all underflow.

    With ``temperature="auto"``, leaving a row out also leaves out every
    training row at distance zero from it (its copies): votes of exact twins
    would otherwise favour ever smaller temperatures. Fitting with integer
    weights is the same as fitting on repeated rows.

    References
    ----------
    .. [1] O. Vinyals, C. Blundell, T. Lillicrap, K. Kavukcuoglu and D. Wierstra,
       "Matching Networks for One Shot Learning", NeurIPS 2016.
    .. [2] N. Frosst, N. Papernot and G. Hinton, "Analyzing and Improving
       Representations with the Soft Nearest Neighbor Loss", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.prototypes import SoftNearestNeighborClassifier
    >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = SoftNearestNeighborClassifier(temperature=1.0).fit(X, y)
    >>> clf.predict([[0.5], [3.5]])
    array([0, 1])
    >>> clf.predict_proba([[2.0]])
    array([[0.5, 0.5]])
    """

    _parameter_constraints: dict = {
        "temperature": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "metric": METRIC_CONSTRAINT,
        "metric_params": [dict, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        temperature="auto",
        *,
        metric="euclidean",
        metric_params=None,
        random_state=None,
        n_jobs=None,
    ):
        self.temperature = temperature
        self.metric = metric
        self.metric_params = metric_params
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Store the training rows and choose the temperature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative vote weights ``w_j``; rows of weight 0 do not vote.
            ``None`` gives every row weight 1.

        Returns
        -------
        self : SoftNearestNeighborClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        y_encoded = check_class_targets(self, y)
        sample_weight = check_class_weights(self, sample_weight, X, y_encoded)
        keep = sample_weight > 0
        self._fit_X = X[keep]
        self._fit_classes = y_encoded[keep]
        self._fit_weight = sample_weight[keep]
        self.n_samples_fit_ = int(keep.sum())
        if self.temperature == "auto":
            self.temperature_ = self._select_temperature()
        else:
            self.temperature_ = float(self.temperature)
        return self

    def _distances(self, A, B):
        return pairwise_distances(
            A, B, metric=self.metric, n_jobs=self.n_jobs, **(self.metric_params or {})
        )

    def _select_temperature(self):
        X, classes, weight = self._fit_X, self._fit_classes, self._fit_weight
        n = X.shape[0]
        # About eight float64 work arrays of (rows, n) within working_memory.
        budget = int(get_config()["working_memory"] * 2**20 // (8 * 8 * n))
        n_rows = max(1, min(n, _MAX_SELECTION_ROWS, budget))
        if n_rows < n:
            rows = check_random_state(self.random_state).choice(
                n, n_rows, replace=False
            )
            rows.sort()
        else:
            rows = np.arange(n)
        distances = self._distances(X[rows], X).astype(np.float64)
        # Leave out the row itself and every row at distance zero from it:
        # exact copies would otherwise vote for their twin and drive the
        # temperature to zero. This also makes integer weights and repeated
        # rows give the same temperature.
        log_weight = np.where(distances > 0, np.log(weight), -np.inf)
        same_class = classes[rows][:, None] == classes[None, :]
        # A row with no other member of its class votes for no temperature.
        has_peer = (same_class & np.isfinite(log_weight)).any(axis=1)
        others = np.where(np.isfinite(log_weight), distances, np.inf)
        pair_weight = weight[rows][:, None] * weight[None, :]
        usable = (others > 0) & np.isfinite(others)
        if not usable.any():
            return 1.0
        # Weighted medians, so that integer weights act as repeated rows.
        median = weighted_median(others[usable][:, None], pair_weight[usable])[0]
        if not has_peer.any():
            return median
        nearest = np.where(others > 0, others, np.inf).min(axis=1)
        found = np.isfinite(nearest)
        typical_nearest = weighted_median(nearest[found][:, None], weight[rows][found])
        low = np.log(_LOW_FACTOR * typical_nearest[0])
        high = np.log(_HIGH_FACTOR * median)
        args = (
            np.ascontiguousarray(distances[has_peer]),
            np.log(weight),
            classes[rows][has_peer],
            classes,
            weight[rows][has_peer],
        )
        grid = np.linspace(min(low, high - 1.0), high, _GRID_SIZE)
        values = np.array([_leave_one_out_nll(t, *args) for t in grid])
        best = int(np.argmin(values))
        # Refine by finding where the slope changes sign next to the best grid
        # point: a root is located to machine precision, a minimum of the
        # values only to the square root of it.
        slope_at = {
            i: _leave_one_out_slope(grid[i], *args)
            for i in (best - 1, best, best + 1)
            if 0 <= i < _GRID_SIZE
        }
        for left, right in ((best - 1, best), (best, best + 1)):
            if left in slope_at and right in slope_at:
                if slope_at[left] < 0 < slope_at[right]:
                    t = brentq(
                        _leave_one_out_slope,
                        grid[left],
                        grid[right],
                        args=args,
                        xtol=1e-13,
                    )
                    return float(np.exp(t))
        return float(np.exp(grid[best]))

    # -- prediction ----------------------------------------------------------
    def _log_votes(self, X):
        """Log of each class's share of the vote, in blocks of query rows."""
        both_float32 = X.dtype == self._fit_X.dtype == np.float32
        dtype = np.float32 if both_float32 else np.float64
        n_classes = self.classes_.shape[0]
        one_hot = np.zeros((self.n_samples_fit_, n_classes), dtype=dtype)
        one_hot[np.arange(self.n_samples_fit_), self._fit_classes] = 1.0
        log_weight = np.log(self._fit_weight).astype(dtype)
        inverse_temperature = dtype(1.0 / self.temperature_)
        out = np.empty((X.shape[0], n_classes), dtype=dtype)
        itemsize = np.dtype(dtype).itemsize
        block = get_config()["working_memory"] * 2**20 // (3 * itemsize)
        block = max(1, int(block // self.n_samples_fit_))
        for start in range(0, X.shape[0], block):
            stop = min(start + block, X.shape[0])
            logits = self._distances(X[start:stop], self._fit_X).astype(dtype)
            # Distances are measured from each row's nearest training row, so
            # that no temperature makes every weight underflow. A row infinitely
            # far from every training row (possible with "snr") gets the
            # weighted class frequencies.
            nearest = logits.min(axis=1, keepdims=True)
            logits -= np.where(np.isfinite(nearest), nearest, 0.0)
            logits[~np.isfinite(nearest[:, 0])] = 0.0
            logits *= -inverse_temperature
            logits += log_weight
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            votes = logits @ one_hot
            with np.errstate(divide="ignore"):
                np.log(votes, out=out[start:stop])
                out[start:stop] -= np.log(votes.sum(axis=1, keepdims=True))
        return out

    def _class_scores(self, X):
        return self._log_votes(X)

    def _class_proba(self, X):
        return np.exp(self._log_votes(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        tags.target_tags.multi_output = False
        return tags
