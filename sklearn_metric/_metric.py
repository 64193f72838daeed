"""The metric vocabulary shared by every layer: names, constraint, callable.

This module sits below :mod:`sklearn_metric.distances` and every estimator
family, so that any of them can name a metric without importing another.
"""

import math

import numpy as np
from sklearn.utils._param_validation import HasMethods, StrOptions

__all__ = ["METRICS", "METRIC_CONSTRAINT", "MahalanobisMetric"]

#: Names accepted by the ``metric`` parameter, aliases included.
METRICS = (
    "euclidean",
    "sqeuclidean",
    "manhattan",
    "cityblock",
    "l1",
    "l2",
    "chebyshev",
    "minkowski",
    "cosine",
    "mahalanobis",
    "snr",
)

#: The ``_parameter_constraints`` entry of every ``metric`` parameter: a name
#: of :data:`METRICS`, a callable, or a fitted Mahalanobis learner.
METRIC_CONSTRAINT = [
    StrOptions(set(METRICS)),
    callable,
    HasMethods(["get_mahalanobis_matrix"]),
]


class MahalanobisMetric:
    """The distance learned by a Mahalanobis learner, as a plain callable.

    Returned by the ``get_metric`` method of every Mahalanobis learner. It
    holds a copy of the learner's ``components_``, so refitting the learner
    does not change it, and it pickles, so it can be used with ``n_jobs`` or
    stored with a model.

    Parameters
    ----------
    components : array-like of shape (n_components, n_features)
        The linear map ``L``.

    Attributes
    ----------
    components : ndarray of shape (n_components, n_features)
        A float64 copy of ``L``.

    Examples
    --------
    >>> from sklearn_metric.metric_learning import MahalanobisMetric
    >>> metric = MahalanobisMetric([[2.0, 0.0], [0.0, 1.0]])
    >>> metric([1.0, 1.0], [0.0, 1.0])
    2.0
    >>> metric([1.0, 1.0], [0.0, 0.0], squared=True)
    5.0
    """

    def __init__(self, components):
        self.components = np.array(components, dtype=np.float64, copy=True, ndmin=2)

    def _as_vector(self, u, name):
        u = np.atleast_1d(np.squeeze(np.asarray(u, dtype=np.float64)))
        n_features = self.components.shape[1]
        if u.shape != (n_features,):
            raise ValueError(
                f"{name} must be a vector of {n_features} features; got shape "
                f"{u.shape}."
            )
        return u

    def __call__(self, u, v, squared=False):
        """Distance between two points.

        Parameters
        ----------
        u, v : array-like of shape (n_features,)
            The two points.
        squared : bool, default=False
            Return the squared distance ``(u - v)' M (u - v)`` instead.

        Returns
        -------
        distance : float
            ``||L (u - v)||``, or its square.
        """
        embedded = self.components @ (self._as_vector(u, "u") - self._as_vector(v, "v"))
        distance = float(embedded @ embedded)
        return distance if squared else math.sqrt(distance)

    def __repr__(self):
        return f"{type(self).__name__}(components of shape {self.components.shape})"
