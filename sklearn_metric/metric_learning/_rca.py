"""Relevant Components Analysis (RCA) and its supervised front-end."""

import warnings
from numbers import Integral

import numpy as np
from scipy.linalg import eigh
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
)

from ..utils._params import store_params
from ._base import MahalanobisMixin
from ._supervised import SupervisedMixin
from ._tuples import validate_points
from ._util import check_n_components, span_basis, symmetric_power

# A within/total variance ratio below this makes the within-chunklet
# covariance singular on the span of the data.
_SINGULAR_RATIO = 1e-10
# Shrinkage towards the total covariance applied in that case.
_SHRINKAGE = 1e-3


class RCA(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Relevant Components Analysis, from chunklets of similar points.

    Read more in the :ref:`User Guide <rca>`.

    A chunklet is a group of points known to belong to the same (unknown)
    class. RCA (Bar-Hillel et al., 2003) takes the variation inside chunklets
    to be irrelevant and whitens it: with ``C_w`` the covariance of the points
    around the means of their chunklets, the map is ``L = C_w^{-1/2}`` and the
    metric ``M = C_w^{-1}``. It is a closed form: one covariance and one
    eigendecomposition.

    With ``n_components`` below the rank of the data, the map first projects
    on the directions of smallest within-chunklet over total variance (the
    Fisher-style reduction of metric-learn), then whitens the within-chunklet
    covariance there.

    Two regularisations keep the result finite where metric-learn 0.7
    returns NaN:

    - the map lives on the span of the chunklet points: directions in which
      they do not vary (constant or collinear features, such as the blank
      pixels of ``load_digits``) get weight zero, as with a pseudo-inverse;
    - when the chunklets give too few within-chunklet differences to estimate
      ``C_w`` on that span (fewer than its dimension), ``C_w`` is shrunk
      towards the total covariance ``C_t`` of the chunklet points, to
      ``C_w + 1e-3 C_t``, with a warning.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when ``None``. Rows beyond
        the rank of the data are zeros.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Lets :meth:`pair_distance` and :meth:`pair_score` take pairs of
        indices instead of pairs of points: an array whose rows the indices
        select, or a callable that maps an array of indicators to their rows.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned map. With ``n_components=None`` it is the symmetric
        ``C_w^{-1/2}`` (on the span of the data).
    preprocessor_ : callable or None
        The validated ``preprocessor``.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        feature names.

    See Also
    --------
    RCA_Supervised : Builds the chunklets from class labels.
    Covariance : Whitens the total covariance instead.
    LFDA : Local Fisher discriminant directions from class labels.

    References
    ----------
    .. [1] A. Bar-Hillel, T. Hertz, N. Shental and D. Weinshall. "Learning
       distance functions using equivalence relations." ICML 2003.
    .. [2] N. Shental, T. Hertz, D. Weinshall and M. Pavel. "Adjustment
       learning and relevant component analysis." ECCV 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.metric_learning import RCA
    >>> X = np.array([[-0.05, 3.0], [0.05, -3.0], [0.1, -3.55], [-0.1, 3.55],
    ...               [-0.95, -0.05], [0.95, 0.05], [0.4, 0.05], [-0.4, -0.05]])
    >>> chunks = [0, 0, 1, 1, 2, 2, 3, 3]
    >>> rca = RCA().fit(X, chunks)
    >>> rca.components_.round(3)
    array([[1.937, 0.032],
           [0.032, 0.431]])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "preprocessor": ["array-like", callable, None],
    }

    def __init__(self, n_components=None, preprocessor=None):
        self.n_components = n_components
        self.preprocessor = preprocessor

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, chunks):
        """Learn the metric that whitens the chunklets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        chunks : array-like of shape (n_samples,)
            Integer chunklet of each point; a negative value (conventionally
            -1) for points in no chunklet.

        Returns
        -------
        self : RCA
            The fitted learner.
        """
        X, chunks = validate_points(
            self, X, chunks, reset=True, ensure_min_samples=2, y_numeric=True
        )
        chunks = _check_chunks(chunks, X.shape[0])
        n_components = check_n_components(self.n_components, X.shape[1])
        self.components_ = _rca_components(X, chunks, n_components)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class RCA_Supervised(SupervisedMixin, RCA, twin=RCA, kind="chunks"):
    """Relevant Components Analysis with chunklets drawn from class labels.

    Read more in the :ref:`User Guide <rca>`.

    Groups points of one class at random into ``n_chunks`` chunklets of
    ``chunk_size`` points (:meth:`Constraints.chunks`) and fits :class:`RCA`
    on them. See :class:`RCA` for the method and its regularisation.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when ``None``.
    n_chunks : int, default=None
        Number of chunklets. ``None`` forms as many as the classes hold
        (``sum_c n_c // chunk_size``), so every labelled point but the
        remainders is used. metric-learn's default, 100, fails on any data
        set whose classes cannot hold 100 chunklets ("Not enough possible
        chunks", e.g. load_wine) and wastes information on larger ones; RCA
        costs ``O(n d^2)`` whatever the number of chunklets, so using them all
        costs nothing.
    chunk_size : int, default=2
        Points per chunklet.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Lets :meth:`pair_distance` and :meth:`pair_score` take pairs of
        indices instead of pairs of points.
    random_state : int, RandomState instance or None, default=None
        Seed of the random chunklets.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned map.
    chunks_ : ndarray of shape (n_samples,)
        The chunklet of each training point, -1 for points in none.
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in :meth:`fit`.
    preprocessor_ : callable or None
        The validated ``preprocessor``.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        feature names.

    See Also
    --------
    RCA : The same learner, fitted on given chunklets.
    LFDA : Uses the labels directly, with local weights.

    References
    ----------
    .. [1] A. Bar-Hillel, T. Hertz, N. Shental and D. Weinshall. "Learning
       distance functions using equivalence relations." ICML 2003.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_metric.metric_learning import RCA_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> rca = RCA_Supervised(n_components=2, random_state=0).fit(X, y)
    >>> rca.transform(X).shape
    (150, 2)
    """

    _parameter_constraints: dict = {
        "n_chunks": [Interval(Integral, 1, None, closed="left"), None],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=None,
        n_chunks=None,
        chunk_size=2,
        preprocessor=None,
        random_state=None,
    ):
        store_params(self, locals())

    def _fit_constraints(self, X, constraints, random_state):
        self.chunks_, self.classes_ = constraints
        self.components_ = _rca_components(
            X, self.chunks_, check_n_components(self.n_components, X.shape[1])
        )


def _check_chunks(chunks, n_samples):
    """Chunk ids as integers; negative means no chunklet."""
    chunks = column_or_1d(chunks)
    check_consistent_length(chunks, np.empty(n_samples))
    if chunks.dtype.kind == "f" and np.all(chunks == np.round(chunks)):
        chunks = chunks.astype(np.int64)
    if chunks.dtype.kind not in "iu":
        raise ValueError(
            "chunks must hold integer chunklet ids, with -1 for points in no "
            f"chunklet; got dtype {chunks.dtype}."
        )
    chunks = chunks.astype(np.int64, copy=False)
    members = chunks[chunks >= 0]
    if members.size == 0 or np.bincount(members).max() < 2:
        raise ValueError(
            "RCA needs at least one chunklet of two or more points; chunks has "
            f"{np.unique(members).size} chunklets, none with two points."
        )
    return chunks


def _rca_components(X, chunks, n_components):
    """Whitening of the within-chunklet covariance, on the span of the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data.
    chunks : ndarray of shape (n_samples,)
        Chunk ids, negative for points in no chunklet.
    n_components : int
        Rows of the map.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
    """
    in_chunk = chunks >= 0
    points = np.asarray(X[in_chunk], dtype=np.float64)
    _, chunk_index = np.unique(chunks[in_chunk], return_inverse=True)
    n_points, n_features = points.shape
    sizes = np.bincount(chunk_index).astype(np.float64)
    means = np.zeros((sizes.shape[0], n_features))
    np.add.at(means, chunk_index, points)
    means /= sizes[:, None]
    deviations = points - means[chunk_index]
    within = deviations.T @ deviations / n_points
    centred = points - points.mean(axis=0)
    total = centred.T @ centred / n_points

    variances, basis = span_basis(total, n_points)
    rank = basis.shape[1]
    components = np.zeros((n_components, n_features))
    if rank == 0:
        return components
    within = basis.T @ within @ basis
    # Generalized eigenvectors of (within, total) on the span: ratios in
    # [0, 1] of within-chunklet to total variance, smallest first.
    ratios, directions = eigh(within, np.diag(variances))
    if ratios[0] <= _SINGULAR_RATIO:
        n_differences = n_points - sizes.shape[0]
        warnings.warn(
            "The within-chunklet covariance is singular on the span of the "
            f"chunklet points: {n_differences} independent within-chunklet "
            f"differences for {rank} dimensions. It was shrunk towards the total "
            f"covariance (C_w + {_SHRINKAGE:g} C_t). Use more or larger chunklets "
            "for an unregularised fit.",
            UserWarning,
            stacklevel=3,
        )
        within = within + _SHRINKAGE * np.diag(variances)
        ratios = ratios + _SHRINKAGE

    if n_components == n_features:
        # The symmetric inverse square root, zero off the span.
        eigenvalues, eigenvectors = eigh(within)
        whitening = symmetric_power(eigenvalues, eigenvectors, -0.5)
        return basis @ whitening @ basis.T
    kept = min(n_components, rank)
    components[:kept] = (directions[:, :kept] / np.sqrt(ratios[:kept])).T @ basis.T
    return components
