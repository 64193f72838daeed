"""Gaussian over-sampling with robust, calibrated per-class statistics (RCAL-style)."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.covariance import ledoit_wolf, shrunk_covariance
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    NEIGHBOR_CONSTRAINTS,
    BaseOverSampler,
    SyntheticPairs,
    empty_synthetic,
    shared_docs,
)
from ._neighbors import minority_neighbors, search_options

__all__ = ["GaussianCalibratedOverSampler", "robust_class_gaussian", "sample_gaussian"]


def robust_class_gaussian(X_class, shrinkage="ledoit_wolf"):
    """Coordinate-wise median and shrunk covariance around it.

    Parameters
    ----------
    X_class : ndarray of shape (n_rows, n_features)
        Rows of one class.
    shrinkage : "ledoit_wolf" or float in [0, 1], default="ledoit_wolf"
        ``"ledoit_wolf"`` picks the shrinkage of Ledoit and Wolf; a float
        ``s`` gives ``(1 - s) * S + s * trace(S) / n_features * I``.

    Returns
    -------
    location : ndarray of shape (n_features,)
        The coordinate-wise median.
    covariance : ndarray of shape (n_features, n_features)
        Shrunk version of ``S = Xc.T @ Xc / n_rows`` with ``Xc`` the rows
        centred at ``location``; zero for a single row.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._gaussian_calibrated import (
    ...     robust_class_gaussian)
    >>> X = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 0.0], [100.0, 0.0]])
    >>> location, covariance = robust_class_gaussian(X, shrinkage=0.0)
    >>> location
    array([1.5, 0. ])
    """
    X_class = np.asarray(X_class, dtype=np.float64)
    location = np.median(X_class, axis=0)
    n_features = X_class.shape[1]
    if X_class.shape[0] < 2:
        return location, np.zeros((n_features, n_features))
    centred = X_class - location
    if isinstance(shrinkage, str):
        covariance, _ = ledoit_wolf(centred, assume_centered=True)
    else:
        covariance = shrunk_covariance(
            centred.T @ centred / centred.shape[0], shrinkage=float(shrinkage)
        )
    return location, np.atleast_2d(covariance)


def sample_gaussian(random_state, mean, covariance, n_samples):
    """Rows drawn from ``N(mean, covariance)``, also for a singular covariance.

    The covariance is factored by its symmetric eigendecomposition, with
    eigenvalues below round-off (``n_features * eps * largest``) set to zero,
    so a rank-deficient covariance, e.g. that of a class with fewer rows than
    features, is accepted and its draws stay in its range.

    Parameters
    ----------
    random_state : RandomState
        Source of the standard normal draws, ``n_samples * n_features`` of them.
    mean : ndarray of shape (n_features,)
        Centre.
    covariance : ndarray of shape (n_features, n_features)
        Symmetric positive semi-definite covariance.
    n_samples : int
        Rows to draw.

    Returns
    -------
    X_new : ndarray of shape (n_samples, n_features)
        ``mean + Z @ diag(sqrt(w)) @ V.T`` with ``covariance = V diag(w) V.T``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_metric.over_sampling._gaussian_calibrated import (
    ...     sample_gaussian)
    >>> rng = np.random.RandomState(0)
    >>> sample_gaussian(rng, np.zeros(2), np.diag([1.0, 0.0]), 3)[:, 1]
    array([0., 0., 0.])
    """
    eigenvalues, eigenvectors = np.linalg.eigh((covariance + covariance.T) / 2)
    round_off = mean.shape[0] * np.finfo(np.float64).eps * max(eigenvalues.max(), 0.0)
    scale = np.sqrt(np.where(eigenvalues > round_off, eigenvalues, 0.0))
    z = random_state.standard_normal(size=(n_samples, mean.shape[0]))
    return mean + (z * scale) @ eigenvectors.T


class GaussianCalibratedOverSampler(BaseOverSampler):
    """Over-sampling from robust per-class Gaussians, tails calibrated by neighbours.

    Inspired by the representation calibration of RCAL (Zhang et al., 2023),
    which models each class as a Gaussian, estimates it robustly, lets tail
    classes borrow statistics from the nearest head classes ("distribution
    calibration", Yang et al., 2021) and samples extra points from the result.
    Here, in the input space:

    1. Each class ``k`` gets a robust centre ``mu_k``, the coordinate-wise
       median of its rows, and a covariance ``S_k``, the covariance of its
       rows around ``mu_k`` shrunk towards a scaled identity
       (``shrinkage``), which keeps it positive definite when the class has
       fewer rows than features.
    2. A class with fewer than ``min_samples`` rows is a *tail* class; the
       others are *head* classes. A tail class's covariance is calibrated with
       its ``n_borrow`` head classes whose centres are nearest to its centre
       (under ``metric``)::

           Sigma_k = (1 - alpha) * S_k + alpha * mean_{j in N(k)} S_j

       Its centre stays ``mu_k``: borrowing centres, as distribution
       calibration does in a feature space, would move synthetic rows of
       ``k`` towards other classes. Head classes keep ``Sigma_k = S_k``, and
       so does every class when ``n_borrow=0``, ``alpha=0`` or no class is a
       head class.
    3. The rows asked by ``sampling_strategy`` are drawn from
       ``N(mu_k, Sigma_k)``.

    Unlike SMOTE, a class with a single row can be over-sampled, and a
    mislabelled outlier moves neither the centre (median) nor, through
    interpolation towards it, the synthetic rows. The covariance itself is not
    outlier-resistant beyond its centring at the median.

    Read more in the :ref:`User Guide <gaussian_calibrated>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the Gaussian draws.
    n_borrow : int, default=2
        Head classes a tail class borrows its covariance from (fewer when
        there are fewer head classes). ``0`` turns calibration off.
    alpha : float in [0, 1], default=0.5
        Weight of the borrowed covariance in a tail class's covariance. The
        RCAL notes give no value; 0.5 weighs the class's own estimate and its
        neighbours' equally.
    min_samples : int, default=20
        Classes with fewer rows than this are tail classes.
    shrinkage : "ledoit_wolf" or float in [0, 1], default="ledoit_wolf"
        Shrinkage of every class's covariance towards
        ``trace(S) / n_features * I``: Ledoit-Wolf's estimate, or a fixed
        coefficient.
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance between class centres that picks a tail class's neighbours,
        and between a synthetic row and the rows of its class for
        ``synthetic_pairs_``; any metric of
        :func:`sklearn_metric.distances.knn_search`.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    n_jobs : int, default=None
        Threads of the neighbour searches; ``None`` uses all of them.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes, sorted.
    means_ : ndarray of shape (n_classes, n_features)
        Robust centre ``mu_k`` of each class.
    covariances_ : ndarray of shape (n_classes, n_features, n_features)
        Covariance each class is sampled from: calibrated for tail classes.
    tail_mask_ : ndarray of shape (n_classes,), bool
        Which classes are tail classes.
    borrowed_from_ : dict
        ``{tail class: array of the head classes it borrowed from}``, nearest
        first; empty when nothing was borrowed.
    sampling_strategy_ : dict
        ``{class: number of synthetic rows generated}``.
    synthetic_pairs_ : dict
        The rows are drawn, not interpolated: ``"parents"`` (n_new, 2) holds,
        twice, the row of the same class nearest (under ``metric``) to each
        synthetic row, as an index into ``X``; ``"steps"`` are zeros. A
        resampled ``sample_weight`` thus gives a synthetic row the weight of
        its nearest real row of its class.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTE : Synthetic rows on segments between neighbours of a class.

    Notes
    -----
    Sparse input is densified, and every class needs an
    ``n_features x n_features`` covariance: memory is
    ``O(n_samples * n_features + n_classes * n_features**2)``.

    References
    ----------
    .. [1] M. Zhang, X. Zhao, J. Yao, C. Yuan, W. Huang, "When Noisy Labels
       Meet Long Tail Dilemmas: A Representation Calibration Method", ICCV
       2023.
    .. [2] S. Yang, L. Liu, M. Xu, "Free Lunch for Few-shot Learning:
       Distribution Calibration", ICLR 2021.
    .. [3] O. Ledoit, M. Wolf, "A well-conditioned estimator for
       large-dimensional covariance matrices", Journal of Multivariate
       Analysis, 88(2), 365-411, 2004.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling._gaussian_calibrated import (
    ...     GaussianCalibratedOverSampler)
    >>> X, y = make_classification(n_samples=200, n_classes=3, n_informative=3,
    ...                            weights=[0.8, 0.15], random_state=0)
    >>> sampler = GaussianCalibratedOverSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sorted(Counter(y_res.tolist()).items())
    [(0, 159), (1, 159), (2, 159)]
    >>> sampler.tail_mask_
    array([False, False,  True])
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "n_borrow": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "min_samples": [Interval(Integral, 1, None, closed="left")],
        "shrinkage": [StrOptions({"ledoit_wolf"}), Interval(Real, 0, 1, closed="both")],
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        n_borrow=2,
        alpha=0.5,
        min_samples=20,
        shrinkage="ledoit_wolf",
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.n_borrow = n_borrow
        self.alpha = alpha
        self.min_samples = min_samples
        self.shrinkage = shrinkage
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _fit_resample(self, X, y, sampling_strategy):
        if sparse.issparse(X):
            X = X.toarray()
        self.classes_, y_codes, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        n_classes, n_features = self.classes_.size, X.shape[1]
        self.means_ = np.empty((n_classes, n_features))
        own = np.empty((n_classes, n_features, n_features))
        for k in range(n_classes):
            self.means_[k], own[k] = robust_class_gaussian(
                X[y_codes == k], self.shrinkage
            )
        self.covariances_ = own.copy()
        self.tail_mask_ = counts < self.min_samples
        self.borrowed_from_ = {}
        heads = np.flatnonzero(~self.tail_mask_)
        tails = np.flatnonzero(self.tail_mask_)
        n_borrow = min(self.n_borrow, heads.size)
        if n_borrow > 0 and tails.size > 0 and self.alpha > 0:
            _, nearest = minority_neighbors(
                self.means_[tails],
                self.means_[heads],
                n_borrow,
                **search_options(self),
            )
            for tail, neighbors in zip(tails, heads[nearest]):
                borrowed = own[neighbors].mean(axis=0)
                self.covariances_[tail] = (1.0 - self.alpha) * own[
                    tail
                ] + self.alpha * borrowed
                self.borrowed_from_[self.classes_[tail].item()] = self.classes_[
                    neighbors
                ]

        random_state = check_random_state(self.random_state)
        parts_X, parts_y, parts_rows = [], [], []
        for class_label, n_new in sampling_strategy.items():
            if n_new == 0:
                continue
            k = int(np.searchsorted(self.classes_, class_label))
            X_new = sample_gaussian(
                random_state, self.means_[k], self.covariances_[k], n_new
            )
            class_rows = np.flatnonzero(y_codes == k)
            _, nearest_row = minority_neighbors(
                X_new,
                X[class_rows],
                1,
                **search_options(self),
            )
            parts_X.append(X_new)
            parts_y.append(np.full(n_new, class_label, dtype=y.dtype))
            parts_rows.append(class_rows[nearest_row[:, 0]])
        if not parts_X:
            return empty_synthetic(X, y)
        rows = np.concatenate(parts_rows)
        pairs = SyntheticPairs(np.column_stack([rows, rows]), np.zeros(rows.size))
        return (
            np.concatenate(parts_X).astype(X.dtype, copy=False),
            np.concatenate(parts_y),
            pairs,
        )
