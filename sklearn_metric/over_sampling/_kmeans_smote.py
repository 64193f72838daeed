"""K-Means SMOTE: SMOTE inside the clusters where the class is well represented."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..distances import pairwise_distances_chunked
from ._base import (
    NEIGHBOR_CONSTRAINTS,
    BaseOverSampler,
    SyntheticPairs,
    draw_neighbors,
    empty_synthetic,
    shared_docs,
)
from ._neighbors import (
    NEIGHBORS_CONSTRAINT,
    minority_neighbors,
    resolve_neighbors,
    search_options,
)

__all__ = ["KMeansSMOTE"]


def cluster_sparsity(
    X_cluster_class,
    density_exponent,
    *,
    metric="euclidean",
    metric_params=None,
    n_jobs=None,
):
    """How sparse a cluster's rows of the class are: ``mean_distance**e / n``.

    Parameters
    ----------
    X_cluster_class : {ndarray, sparse matrix} of shape (n, n_features)
        The cluster's rows of the resampled class, ``n >= 2``.
    density_exponent : float or "auto"
        The exponent ``e``; ``"auto"`` is ``0.16 * log_1.6(n) ** 1.8``, the
        value imbalanced-learn uses (close to the number of features the
        paper suggests for typical sizes).
    metric, metric_params, n_jobs
        Distance between the rows, as in :class:`KMeansSMOTE`.

    Returns
    -------
    sparsity : float
        The inverse of the paper's density ``n / mean_distance**e``, the mean
        being over distinct pairs.
    """
    n_rows = X_cluster_class.shape[0]
    if hasattr(X_cluster_class, "toarray"):
        X_cluster_class = X_cluster_class.toarray()
    total = 0.0
    for block in pairwise_distances_chunked(
        X_cluster_class, metric=metric, n_jobs=n_jobs, **(metric_params or {})
    ):
        total += float(block.sum(dtype=np.float64))
    # The diagonal is zero for every metric, so the sum is over distinct pairs.
    mean_distance = total / (n_rows * n_rows - n_rows)
    if density_exponent == "auto":
        density_exponent = math.log(n_rows, 1.6) ** 1.8 * 0.16
    return mean_distance**density_exponent / n_rows


class KMeansSMOTE(BaseOverSampler):
    """K-Means SMOTE: cluster, keep clusters rich in the class, SMOTE in each.

    The whole set is clustered with k-means. A cluster is kept for a class
    when the class's share of its rows is at least ``cluster_balance_threshold``
    and it holds more than ``k_neighbors`` rows of the class (judged from the
    share, as imbalanced-learn does). Kept clusters share the class's
    synthetic rows in proportion to their sparsity (``mean_distance**e / n``
    of their rows of the class, see :func:`cluster_sparsity`), each getting
    ``ceil(n_samples * weight)`` rows, so the total can exceed the asked count
    slightly, as in imbalanced-learn. Inside a cluster, rows are drawn as in
    :class:`SMOTE`, among the cluster's rows of the class.

    Read more in the :ref:`User Guide <kmeans_smote>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the default k-means and the choice of rows, neighbours and
        steps.
    k_neighbors : int, default=2
        Nearest neighbours of the same class and cluster among which a partner
        is drawn.
    kmeans_estimator : int or estimator object, default=None
        ``None`` means ``MiniBatchKMeans(random_state=random_state)``; an int
        sets its ``n_clusters``; an estimator with ``fit_predict`` and
        ``n_clusters`` is cloned and used.
    cluster_balance_threshold : float or "auto", default="auto"
        Smallest share of the class in a kept cluster. ``"auto"`` is
        ``n_samples / total_n_samples / 2``, the class's part of all rows to
        generate, halved. Ignored when there is one cluster.
    density_exponent : float or "auto", default="auto"
        Exponent of the mean distance in the sparsity, see
        :func:`cluster_sparsity`.
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance for the neighbour search and the cluster sparsity. The
        clustering uses its own (Euclidean) distance.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    n_jobs : int, default=None
        Threads of the distance computations; ``None`` uses all of them.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic rows asked for}``.
    kmeans_estimator_ : estimator object
        The fitted clustering.
    cluster_weights_ : dict
        ``{class: {cluster label: share of the class's synthetic rows}}`` over
        the kept clusters.
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the row and its partner (indices
        into the input ``X``); ``"steps"``: the position on their segment.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTE : No clustering; every row of the class is a starting point.

    References
    ----------
    G. Douzas, F. Bacao and F. Last, "Improving imbalanced learning through a
    heuristic oversampling method based on k-means and SMOTE", Information
    Sciences, 465, 1-20, 2018.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import KMeansSMOTE
    >>> X, y = make_classification(n_samples=1000, weights=[0.9], random_state=0)
    >>> sampler = KMeansSMOTE(cluster_balance_threshold=0.1, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sorted(Counter(y_res.tolist()).items())
    [(0, 898), (1, 900)]
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        "kmeans_estimator": [
            Interval(Integral, 1, None, closed="left"),
            HasMethods(["fit_predict"]),
            None,
        ],
        "cluster_balance_threshold": [
            Interval(Real, None, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "density_exponent": [
            Interval(Real, None, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=2,
        kmeans_estimator=None,
        cluster_balance_threshold="auto",
        density_exponent="auto",
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.k_neighbors = k_neighbors
        self.kmeans_estimator = kmeans_estimator
        self.cluster_balance_threshold = cluster_balance_threshold
        self.density_exponent = density_exponent
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _make_kmeans(self):
        if self.kmeans_estimator is None:
            return MiniBatchKMeans(random_state=self.random_state)
        if isinstance(self.kmeans_estimator, Integral):
            return MiniBatchKMeans(
                n_clusters=self.kmeans_estimator, random_state=self.random_state
            )
        return clone(self.kmeans_estimator)

    def _kept_clusters(self, X, y, clusters, n_clusters, class_label, threshold, k):
        """Kept cluster labels and their rows of the class."""
        kept = {}
        for cluster in range(n_clusters):
            members = np.flatnonzero(clusters == cluster)
            if members.size == 0:
                continue
            share = np.mean(y[members] == class_label)
            if share < threshold or share * members.size < k + 1:
                continue
            kept[cluster] = members[y[members] == class_label]
        return kept

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")
        self.kmeans_estimator_ = self._make_kmeans()
        n_clusters = getattr(self.kmeans_estimator_, "n_clusters", None)
        if n_clusters is None:
            raise TypeError(
                "kmeans_estimator must have an n_clusters parameter; "
                f"{type(self.kmeans_estimator_).__name__} has none."
            )
        self.cluster_weights_ = {}
        total_to_add = sum(sampling_strategy.values())
        if total_to_add == 0:
            return empty_synthetic(X, y)
        clusters = np.asarray(self.kmeans_estimator_.fit_predict(X))
        n_clusters = max(n_clusters, int(clusters.max()) + 1)
        search = search_options(self)
        rows, partners, steps, labels = [], [], [], []
        for class_label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            if n_clusters == 1:
                threshold = -np.inf
            elif self.cluster_balance_threshold == "auto":
                threshold = n_samples / total_to_add / 2
            else:
                threshold = self.cluster_balance_threshold
            kept = self._kept_clusters(
                X, y, clusters, n_clusters, class_label, threshold, k
            )
            if not kept:
                raise RuntimeError(
                    f"No cluster holds enough samples of class {class_label!r}: "
                    "lower cluster_balance_threshold or use more clusters in "
                    "kmeans_estimator."
                )
            sparsity = np.array(
                [
                    cluster_sparsity(X[members], self.density_exponent, **search)
                    for members in kept.values()
                ]
            )
            weights = sparsity / sparsity.sum()
            self.cluster_weights_[class_label] = dict(zip(kept, weights.tolist()))
            for members, weight in zip(kept.values(), weights):
                n_cluster_samples = math.ceil(n_samples * weight)
                if n_cluster_samples == 0:
                    continue
                _, within = minority_neighbors(
                    X[members],
                    X[members],
                    k,
                    exclude_self=True,
                    estimator=nn_k,
                    **search,
                )
                drawn, partner, step = draw_neighbors(
                    random_state, within, n_cluster_samples
                )
                rows.append(members[drawn])
                partners.append(members[partner])
                steps.append(step)
                labels.append(np.full(n_cluster_samples, class_label, dtype=y.dtype))
        if not rows:
            return empty_synthetic(X, y)
        rows, partners = np.concatenate(rows), np.concatenate(partners)
        steps = np.concatenate(steps)
        # The base writes the interpolated rows straight into the output.
        return (
            None,
            np.concatenate(labels),
            SyntheticPairs(np.column_stack([rows, partners]), steps),
        )
