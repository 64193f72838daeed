"""Local Fisher Discriminant Analysis (LFDA)."""

from numbers import Integral

import numpy as np
from scipy.linalg import eigh
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels._threads import parallel_section, threads_for_work
from ..distances import knn_search
from ._base import MahalanobisMixin
from ._kernels._lfda import local_affinity
from ._tuples import validate_points
from ._util import check_classification_labels, check_n_components, span_basis

# Default neighbour rank of the local scaling, as in Sugiyama (2007).
_DEFAULT_K = 7
# Ridge added to the local within-class scatter, relative to its mean
# eigenvalue, so that the generalized eigenproblem stays definite when a
# direction varies between classes but not within any class.
_RIDGE = 1e-10
# Entries of one block of the affinity matrix: bounds memory at 32 MB.
_BLOCK_ENTRIES = 1 << 22


class LFDA(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """Local Fisher Discriminant Analysis.

    Read more in the :ref:`User Guide <lfda>`.

    LFDA (Sugiyama, 2007) is Fisher discriminant analysis in which each pair
    of same-class points is weighted by how close the two points are,
    relative to the local density. Classes made of several separate clusters
    are then not squeezed into one blob, as plain LDA would do. The
    directions maximise the local between-class scatter against the local
    within-class scatter: a generalized symmetric eigenproblem, solved in
    closed form.

    Same-class points ``i, j`` get the local-scaling affinity
    ``A_ij = exp(-||x_i - x_j||^2 / (sigma_i sigma_j))``, ``sigma_i`` being the
    distance from ``x_i`` to its ``k``-th nearest neighbour in its class. With
    ``n_c`` points in the class of ``i`` and ``n`` in all, the local within-
    and between-class scatters are
    ``S = 1/2 sum_ij W_ij (x_i - x_j)(x_i - x_j)'`` with
    ``W_ij = A_ij / n_c`` (within) and ``W_ij = A_ij (1/n - 1/n_c)`` for
    same-class, ``1/n`` for other-class pairs (between).

    The eigenproblem is solved on the span of the training data, so constant
    or collinear features (the blank pixels of ``load_digits``) get weight
    zero, and with a tiny ridge (``1e-10`` times the mean eigenvalue) on the
    within-class scatter. The components are therefore always real and
    finite; metric-learn 0.7 fails on such data with "Complex data not
    supported".

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the embedding; ``n_features`` when ``None``. At most
        ``n_features``. Directions beyond the rank of the data are rows of
        zeros.
    k : int, default=None
        Neighbour rank of the local scaling ``sigma_i``. ``None`` means 7 (the
        value of Sugiyama's paper), reduced to ``n_c - 1`` in classes of
        ``n_c <= 7`` points. An explicit ``k`` needs at least ``k + 1`` points
        in every class. (metric-learn's default is ``min(7, n_features - 1)``,
        which ties a neighbour count to the number of features; the paper's
        7 is used instead.)
    embedding_type : {"weighted", "orthonormalized", "plain"}, \
            default="weighted"
        Scaling of the components:

        - ``"weighted"``: the eigenvectors scaled by the square roots of their
          eigenvalues (a non-positive eigenvalue gives a row of zeros), so that
          more discriminative directions count more;
        - ``"orthonormalized"``: an orthonormal basis of the same nested
          subspaces (QR of the eigenvectors), which preserves distances within
          the subspace;
        - ``"plain"``: the eigenvectors, normalised so that
          ``v' S_w v = 1``.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
            default=None
        Lets :meth:`pair_distance` and :meth:`pair_score` take pairs of
        indices instead of pairs of points: an array whose rows the indices
        select, or a callable that maps an array of indicators to their rows.
    n_jobs : int, default=None
        Threads for the nearest-neighbour search and the affinity kernel.
        ``None`` uses every thread Numba was configured with, ``-1`` all
        cores.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned linear map, one discriminant direction per row, most
        discriminative first. The sign of each row is fixed so that its
        entry of largest magnitude is positive.
    eigenvalues_ : ndarray of shape (n_components,)
        Generalized eigenvalues (local between- over within-class scatter)
        of the rows of ``components_``; 0 for padding rows.
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
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : The global
        version, at most ``n_classes - 1`` directions.
    RCA : Whitens the covariance within chunklets of similar points.
    Covariance : The unsupervised inverse-covariance metric.

    References
    ----------
    .. [1] M. Sugiyama. "Dimensionality reduction of multimodal labeled data
       by local Fisher discriminant analysis." Journal of Machine Learning
       Research 8, pp. 1027-1061, 2007.
    .. [2] L. Zelnik-Manor and P. Perona. "Self-tuning spectral clustering."
       NIPS 17, 2005 (the local scaling).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_metric.metric_learning import LFDA
    >>> X, y = load_iris(return_X_y=True)
    >>> lfda = LFDA(n_components=2, k=5).fit(X, y)
    >>> lfda.components_.shape
    (2, 4)
    >>> model = make_pipeline(LFDA(n_components=2), KNeighborsClassifier(3))
    >>> round(model.fit(X, y).score(X, y), 2)
    0.97
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "embedding_type": [StrOptions({"weighted", "orthonormalized", "plain"})],
        "preprocessor": ["array-like", callable, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=None,
        *,
        k=None,
        embedding_type="weighted",
        preprocessor=None,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.k = k
        self.embedding_type = embedding_type
        self.preprocessor = preprocessor
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the local Fisher discriminant directions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self : LFDA
            The fitted learner.
        """
        X, y = validate_points(self, X, y, reset=True, ensure_min_samples=2)
        self.classes_, y = check_classification_labels(y, "LFDA", min_classes=2)
        n_components = check_n_components(self.n_components, X.shape[1])
        counts = np.bincount(y)
        if self.k is not None and counts.min() < self.k + 1:
            small = np.argmin(counts)
            raise ValueError(
                f"k={self.k} needs at least k + 1 = {self.k + 1} samples in every "
                f"class; class {self.classes_[small]!r} has {counts[small]}. Lower "
                "k, or leave it to None to adapt it to each class."
            )

        X = np.asarray(X, dtype=np.float64)
        X = X - X.mean(axis=0)
        between, within, total = _local_scatter(X, y, self.k, self.n_jobs)
        self.components_, self.eigenvalues_ = _lfda_components(
            between, within, total, X.shape[0], n_components, self.embedding_type
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _local_scatter(X, y, k, n_jobs):
    """Local between-, local within-class and total scatter matrices.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Centred float64 data.
    y : ndarray of shape (n_samples,)
        Labels ``0 .. n_classes - 1``.
    k : int or None
        Neighbour rank of the local scaling; ``None`` means
        ``min(7, n_c - 1)`` per class.
    n_jobs : int or None
        Threads.

    Returns
    -------
    between, within, total : ndarray of shape (n_features, n_features)
        ``S_b``, ``S_w`` and the total scatter ``X'X``.
    """
    n_samples = X.shape[0]
    total = X.T @ X
    within = np.zeros_like(total)
    # S_b = (global part with weight 1/n on every pair) - (same-class pairs
    # at 1/n) + (same-class pairs at A_ij (1/n - 1/n_c)).
    between = total.copy()
    for label in range(np.max(y) + 1):
        X_class = X[y == label]
        n_class = X_class.shape[0]
        X_class = X_class - X_class.mean(axis=0)
        between -= (n_class / n_samples) * (X_class.T @ X_class)
        if n_class < 2:
            continue
        k_class = min(_DEFAULT_K if k is None else k, n_class - 1)
        distances, _ = knn_search(
            X_class, X_class, k_class, exclude_self=True, n_jobs=n_jobs
        )
        scale = np.ascontiguousarray(distances[:, k_class - 1], dtype=np.float64)
        laplacian = _affinity_scatter(X_class, scale, n_jobs)
        within += laplacian / n_class
        between += (1.0 / n_samples - 1.0 / n_class) * laplacian
    return (between + between.T) / 2.0, (within + within.T) / 2.0, total


def _affinity_scatter(X, scale, n_jobs):
    """``1/2 sum_ij A_ij (x_i - x_j)(x_i - x_j)' = X'(D - A)X`` for one class.

    The affinity matrix ``A`` is built one block of rows at a time, so memory
    stays bounded whatever the class size.

    Parameters
    ----------
    X : ndarray of shape (n_class, n_features)
        The class's points, centred.
    scale : ndarray of shape (n_class,)
        Local scales ``sigma_i``.
    n_jobs : int or None
        Threads.

    Returns
    -------
    scatter : ndarray of shape (n_features, n_features)
    """
    n_class = X.shape[0]
    sq_norms = np.einsum("ij,ij->i", X, X)
    scatter = np.zeros((X.shape[1], X.shape[1]))
    block = max(1, _BLOCK_ENTRIES // n_class)
    # The kernel's work is one entry per pair of the class.
    with parallel_section(threads_for_work(n_class * n_class * 8, n_jobs)):
        for start in range(0, n_class, block):
            rows = X[start : start + block]
            sq_distances = (
                sq_norms[start : start + block, None] + sq_norms - 2.0 * (rows @ X.T)
            )
            affinity = np.empty_like(sq_distances)
            row_sums = np.empty(rows.shape[0])
            local_affinity(
                sq_distances, scale[start : start + block], scale, affinity, row_sums
            )
            scatter += (rows * row_sums[:, None]).T @ rows - rows.T @ (affinity @ X)
    return scatter


def _lfda_components(between, within, total, n_samples, n_components, embedding_type):
    """Solve ``S_b v = lambda S_w v`` on the span of the data.

    Returns
    -------
    components : ndarray of shape (n_components, n_features)
    eigenvalues : ndarray of shape (n_components,)
    """
    n_features = total.shape[0]
    _, basis = span_basis(total, n_samples)
    rank = basis.shape[1]
    components = np.zeros((n_components, n_features))
    eigenvalues = np.zeros(n_components)
    if rank == 0:
        return components, eigenvalues

    between = basis.T @ between @ basis
    within = basis.T @ within @ basis
    scale = np.trace(within) / rank
    if scale <= 0.0:
        # No class has two points: the within-class scatter is zero, and the
        # problem reduces to principal directions of the local between scatter.
        scale = np.trace(basis.T @ total @ basis) / rank
    values, vectors = eigh(between, within + _RIDGE * scale * np.eye(rank))
    order = np.argsort(-values, kind="stable")[:n_components]
    values, vectors = values[order], vectors[:, order]
    if embedding_type == "weighted":
        vectors = vectors * np.sqrt(np.clip(values, 0.0, None))
    elif embedding_type == "orthonormalized":
        # The basis is orthonormal, so orthonormalising on the span suffices
        # and keeps the directions off the span exactly zero.
        vectors, _ = np.linalg.qr(vectors)
    vectors = basis @ vectors
    kept = vectors.shape[1]
    components[:kept] = _flip_signs(vectors.T)
    eigenvalues[:kept] = values
    return components, eigenvalues


def _flip_signs(rows):
    """Make the entry of largest magnitude of every row positive."""
    largest = rows[np.arange(rows.shape[0]), np.argmax(np.abs(rows), axis=1)]
    return rows * np.where(largest < 0, -1.0, 1.0)[:, None]
