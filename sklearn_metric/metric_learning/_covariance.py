"""Covariance: the Mahalanobis distance of the data's own covariance."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context

from ._base import MahalanobisMixin
from ._tuples import validate_points
from ._util import span_basis, symmetric_power


class Covariance(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Mahalanobis distance with the inverse covariance of the data.

    Read more in the :ref:`User Guide <covariance_learner>`.

    The baseline of Mahalanobis (1936): nothing is learned beyond the
    covariance ``C`` of the training data, and the metric is ``M = C^+``, the
    (pseudo-)inverse covariance. The embedding ``transform(X) = X L'`` with
    ``L = C^{-1/2}`` (symmetric, "ZCA" whitening) gives the data unit variance
    in every direction.

    A singular covariance (constant or collinear features, fewer samples than
    features) is handled as by a pseudo-inverse: directions in which the
    training data do not vary, up to rounding, get weight zero, so the metric
    ignores them instead of blowing up. They are the eigen-directions of ``C``
    with eigenvalue at most ``max(n_samples, n_features) * eps`` times the
    largest one.

    Parameters
    ----------
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Lets :meth:`pair_distance` and :meth:`pair_score` take pairs of
        indices instead of pairs of points: an array whose rows the indices
        select, or a callable that maps an array of indicators to their rows.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        The symmetric whitening map ``L = C^{-1/2}`` (pseudo-inverse square
        root), so that ``L'L = C^+``.
    preprocessor_ : callable or None
        The validated ``preprocessor``.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        feature names.

    See Also
    --------
    RCA : Whitens the covariance within chunklets of similar points instead.
    LFDA : Supervised, local Fisher discriminant directions.

    References
    ----------
    .. [1] P. C. Mahalanobis. "On the generalized distance in statistics."
       Proceedings of the National Institute of Sciences of India 2(1),
       pp. 49-55, 1936.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import Covariance
    >>> X, _ = load_iris(return_X_y=True)
    >>> covariance = Covariance().fit(X)
    >>> X_white = covariance.transform(X)
    >>> np.allclose(np.cov(X_white, rowvar=False), np.eye(4))
    True
    """

    _parameter_constraints: dict = {
        "preprocessor": ["array-like", callable, None],
    }

    def __init__(self, preprocessor=None):
        self.preprocessor = preprocessor

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the inverse covariance metric of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, at least two samples.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : Covariance
            The fitted learner.
        """
        X = validate_points(self, X, reset=True, ensure_min_samples=2)
        X = np.asarray(X, dtype=np.float64)
        centred = X - X.mean(axis=0)
        covariance = centred.T @ centred / (X.shape[0] - 1)
        variances, basis = span_basis(covariance, X.shape[0])
        self.components_ = symmetric_power(variances, basis, -0.5)
        return self
