"""Covariance: the Mahalanobis distance of the data's own covariance."""

import numpy as np
from scipy.linalg import eigh
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import validate_data

from ._base import MahalanobisMixin
from ._tuples import check_preprocessor


class Covariance(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Mahalanobis distance with the inverse covariance of the data.

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
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        self.preprocessor_ = check_preprocessor(self.preprocessor)
        X = np.asarray(X, dtype=np.float64)
        centred = X - X.mean(axis=0)
        covariance = centred.T @ centred / (X.shape[0] - 1)
        variances, basis = _span_basis(covariance, X.shape[0])
        self.components_ = _symmetric_power(variances, basis, -0.5)
        return self


def _span_basis(scatter, n_samples):
    """Eigen-directions in which a scatter matrix is not zero up to rounding.

    Parameters
    ----------
    scatter : ndarray of shape (n_features, n_features)
        Symmetric PSD matrix, a covariance or scatter of ``n_samples`` points.
    n_samples : int
        Number of points it was computed from; it sets the rounding level.

    Returns
    -------
    eigenvalues : ndarray of shape (rank,)
        The eigenvalues above ``max(n_samples, n_features) * eps * largest``.
    basis : ndarray of shape (n_features, rank)
        Their orthonormal eigenvectors.
    """
    n_features = scatter.shape[0]
    # Features of exactly zero variance (constant columns) are left out before
    # the eigendecomposition, so that they get exactly zero weight rather than
    # rounding noise.
    varying = np.flatnonzero(np.diag(scatter) > 0)
    eigenvalues, sub_vectors = eigh(
        (scatter[np.ix_(varying, varying)] + scatter[np.ix_(varying, varying)].T) / 2.0
    )
    eigenvectors = np.zeros((n_features, varying.shape[0]))
    eigenvectors[varying] = sub_vectors
    largest = max(eigenvalues.max(initial=0.0), 0.0)
    tol = max(n_samples, n_features) * np.finfo(np.float64).eps * largest
    keep = eigenvalues > tol
    return eigenvalues[keep], eigenvectors[:, keep]


def _symmetric_power(eigenvalues, basis, power):
    """``basis @ diag(eigenvalues ** power) @ basis.T``, a symmetric matrix.

    With a basis of fewer columns than rows this is the power of a
    pseudo-inverse kind: zero on the directions the basis leaves out.
    """
    return (basis * eigenvalues**power) @ basis.T
