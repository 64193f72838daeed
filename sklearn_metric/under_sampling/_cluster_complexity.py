"""Under-sampling that keeps the complex clusters of a class and drops prototypes.

Density-based pruning (Abbas et al., 2024), applied class by class: k-means
splits each class into clusters, each cluster is scored by its complexity
(spread times distance to the nearest other clusters), the rows to keep are
shared among the clusters of the class in proportion to that score, and within
a cluster the most prototypical rows, those closest to the centroid, go first.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import threadpool_limits

from .._kernels._threads import resolve_n_threads
from ..distances import knn_search
from ..utils._sampling import BaseSampler, labels_like_input, take_rows

# Upper bound of n_clusters="auto" per class; see the class docstring.
_MAX_AUTO_CLUSTERS = 64


def capped_simplex_projection(target, lower, upper, total):
    """Euclidean projection of ``target`` onto a capped simplex.

    Solves ``min ||x - target||^2`` subject to ``sum(x) == total`` and
    ``lower <= x <= upper``. The solution is ``clip(target + lam, lower, upper)``
    for the shift ``lam`` at which the sum equals ``total``; the sum is
    piecewise linear in ``lam``, so ``lam`` is found exactly between two of its
    breakpoints.

    Parameters
    ----------
    target : ndarray of shape (n,)
        Point to project.
    lower : ndarray of shape (n,)
        Lower bounds, with ``sum(lower) <= total``.
    upper : ndarray of shape (n,)
        Upper bounds, ``upper >= lower`` and ``sum(upper) >= total``.
    total : float
        Required sum.

    Returns
    -------
    x : ndarray of shape (n,)
        The projection.
    """
    target = np.asarray(target, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    if lower.sum() > total or upper.sum() < total or np.any(lower > upper):
        raise ValueError(
            "The capped simplex is empty: need lower <= upper and "
            f"sum(lower) <= {total} <= sum(upper)."
        )
    breaks = np.unique(np.concatenate([lower - target, upper - target]))
    sums = np.clip(target[None, :] + breaks[:, None], lower, upper).sum(axis=1)
    i = np.searchsorted(sums, total, side="left")
    if i == 0:
        shift = breaks[0]
    elif i == breaks.shape[0]:
        shift = breaks[-1]
    else:
        lo, hi = breaks[i - 1], breaks[i]
        slope = (sums[i] - sums[i - 1]) / (hi - lo)
        shift = lo + (total - sums[i - 1]) / slope if slope > 0 else hi
    return np.clip(target + shift, lower, upper)


def _round_allocation(x, upper, total):
    """Integer counts that sum to ``total``: floors plus the largest remainders."""
    counts = np.floor(x + 1e-9).astype(np.intp)
    counts = np.minimum(counts, upper)
    missing = int(total - counts.sum())
    if missing > 0:
        room = counts < upper
        fraction = np.where(room, x - counts, -np.inf)
        # Largest fractional part first; ties by cluster order (stable sort).
        order = np.argsort(-fraction, kind="stable")[:missing]
        counts[order] += 1
    return counts


def cluster_budget(complexity, sizes, n_keep, *, temperature=None, min_fraction=0.5):
    """Rows to keep in each cluster of one class.

    The wanted shares are ``complexity / complexity.sum()`` (``temperature``
    None) or ``softmax(complexity / temperature)``. Every cluster keeps at least
    ``floor(min_fraction * n_keep / n_clusters)`` rows (capped at its size) and
    at most its size; the real-valued budget is the projection of
    ``shares * n_keep`` onto those bounds with the right total, and it is
    rounded to integers by largest remainders.

    Parameters
    ----------
    complexity : ndarray of shape (n_clusters,)
        Non-negative complexity of each cluster.
    sizes : ndarray of shape (n_clusters,)
        Number of rows in each cluster.
    n_keep : int
        Rows to keep in the class, at most ``sizes.sum()``.
    temperature : float or None, default=None
        Softmax temperature; None for shares proportional to complexity.
    min_fraction : float, default=0.5
        Fraction of an even share guaranteed to every cluster.

    Returns
    -------
    budget : ndarray of shape (n_clusters,)
        Integer rows to keep per cluster, summing to ``n_keep``.
    """
    complexity = np.asarray(complexity, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.intp)
    n_clusters = sizes.shape[0]
    if temperature is None:
        total = complexity.sum()
        shares = (
            complexity / total if total > 0 else np.full(n_clusters, 1.0 / n_clusters)
        )
    else:
        logits = complexity / temperature
        shares = np.exp(logits - logits.max())
        shares /= shares.sum()
    lower = np.minimum(sizes, np.floor(min_fraction * n_keep / n_clusters))
    x = capped_simplex_projection(shares * n_keep, lower, sizes, n_keep)
    return _round_allocation(x, sizes, n_keep)


def _distances_to_centers(X, centers, labels, metric):
    """Distance of every row to the centre of its own cluster."""
    own = centers[labels]
    if metric == "cosine":
        # Rows and centres are L2-normalised, so the distance is 1 - dot.
        if sparse.issparse(X):
            dots = np.asarray(X.multiply(own).sum(axis=1)).ravel()
        else:
            dots = np.einsum("ij,ij->i", X, own)
        return np.maximum(1.0 - dots, 0.0)
    if sparse.issparse(X):
        sq = (
            np.asarray(X.multiply(X).sum(axis=1)).ravel()
            - 2.0 * np.asarray(X.multiply(own).sum(axis=1)).ravel()
            + np.einsum("ij,ij->i", own, own)
        )
        return np.sqrt(np.maximum(sq, 0.0))
    diff = X - own
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


class ClusterComplexityUnderSampler(BaseSampler):
    """Under-sample classes by keeping their complex clusters and hard rows.

    Density-based pruning (Abbas et al., 2024) for classification data. Each
    class is split into clusters by k-means. Cluster ``j`` gets the complexity
    ``C_j = d_intra_j * d_inter_j``, where ``d_intra_j`` is the mean distance
    of its rows to its centroid and ``d_inter_j`` the mean distance of its
    centroid to the ``n_inter_neighbors`` nearest other centroids. The rows
    kept in a class are shared among its clusters in proportion to ``C_j``
    (or to ``softmax(C_j / temperature)``), every cluster keeping at least
    ``min_fraction`` of an even share, and within a cluster the rows closest
    to the centroid, the most prototypical ones, are dropped first.

    Read more in the :ref:`User Guide <cluster_complexity_under_sampler>`.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Rows to keep per class, as in imbalanced-learn's under-samplers:

        * float in (0, 1], binary targets only: the minority/majority ratio
          after resampling;
        * ``"auto"`` (same as ``"not minority"``), ``"majority"``,
          ``"not majority"`` or ``"all"``: the selected classes keep as many
          rows as the minority class has;
        * dict ``{class: count}``: the count each named class keeps;
        * callable ``y -> dict`` giving such a dict.

        Classes not selected keep every row.
    n_clusters : int or "auto", default="auto"
        Clusters per class, capped at the class size. ``"auto"`` uses
        ``min(64, max(1, round(sqrt(n_class / 2))))`` for a class of
        ``n_class`` rows: the cost of k-means grows with the number of
        clusters, and 64 per class already resolve the structure of most
        tabular classes.
    n_inter_neighbors : int, default=20
        Number of nearest other centroids averaged into ``d_inter`` (capped at
        the number available).
    inter_clusters : {"all", "other-class"}, default="all"
        Which centroids count for ``d_inter``: the clusters of every class
        except the cluster itself, as in the paper, or only the clusters of
        the other classes.
    temperature : float or None, default=None
        ``None`` shares the kept rows in proportion to the complexities; a
        positive float uses ``softmax(C / temperature)`` as the paper does
        (its default is 0.5 with cosine distances; the result depends on the
        scale of the distances).
    keep : {"hard", "easy", "random"}, default="hard"
        Which rows of a cluster are kept: the farthest from the centroid
        (prototypical rows dropped first), the closest, or a random subset.
    min_fraction : float in [0, 1], default=0.5
        Every cluster keeps at least ``floor(min_fraction * n_keep /
        n_clusters)`` rows (or all of its rows when it has fewer).
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance of the clustering and of the complexities. With
        ``"cosine"`` rows are L2-normalised before k-means and centroids
        after it, as in the paper's spherical k-means.
    random_state : int, RandomState instance or None, default=None
        Seed of k-means and of ``keep="random"``.
    n_jobs : int, default=None
        Threads of k-means and of the centroid neighbour search. ``None`` uses
        every available core.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: rows kept}`` for the classes that were under-sampled.
    sample_indices_ : ndarray of shape (n_kept,)
        Indices of the kept rows in the input, in increasing order (the order
        of the output).
    cluster_labels_ : ndarray of shape (n_samples,)
        Cluster of every input row; clusters are numbered class by class.
    cluster_class_ : ndarray of shape (n_clusters_total,)
        Class of every cluster.
    cluster_centers_ : ndarray of shape (n_clusters_total, n_features)
        Centroids (L2-normalised with ``metric="cosine"``).
    cluster_sizes_ : ndarray of shape (n_clusters_total,)
        Rows per cluster.
    cluster_complexity_ : ndarray of shape (n_clusters_total,)
        ``d_intra * d_inter`` of every cluster.
    cluster_budget_ : ndarray of shape (n_clusters_total,)
        Rows kept per cluster (the size for classes that were not
        under-sampled).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.

    See Also
    --------
    sklearn_metric.pipeline.ResampledClassifier : Use a sampler inside a
        classifier, resampling in fit only.

    References
    ----------
    .. [1] A. Abbas, E. Rusak, K. Tirumala, W. Brendel, K. Chaudhuri and
       A. S. Morcos, "Effective pruning of web-scale datasets based on
       complexity of concept clusters", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.under_sampling import ClusterComplexityUnderSampler
    >>> X, y = make_classification(n_samples=300, weights=[0.8], random_state=0)
    >>> np.bincount(y)
    array([239,  61])
    >>> sampler = ClusterComplexityUnderSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y_res)
    array([61, 61])
    >>> bool((X_res == X[sampler.sample_indices_]).all())
    True
    """

    _sampling_type = "under-sampling"

    _parameter_constraints: dict = {
        "sampling_strategy": BaseSampler._strategy_constraint("under-sampling"),
        "n_clusters": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_inter_neighbors": [Interval(Integral, 1, None, closed="left")],
        "inter_clusters": [StrOptions({"all", "other-class"})],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "keep": [StrOptions({"hard", "easy", "random"})],
        "min_fraction": [Interval(Real, 0, 1, closed="both")],
        "metric": [StrOptions({"euclidean", "cosine"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        sampling_strategy="auto",
        *,
        n_clusters="auto",
        n_inter_neighbors=20,
        inter_clusters="all",
        temperature=None,
        keep="hard",
        min_fraction=0.5,
        metric="euclidean",
        random_state=None,
        n_jobs=None,
    ):
        self.sampling_strategy = sampling_strategy
        self.n_clusters = n_clusters
        self.n_inter_neighbors = n_inter_neighbors
        self.inter_clusters = inter_clusters
        self.temperature = temperature
        self.keep = keep
        self.min_fraction = min_fraction
        self.metric = metric
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, sample_weight=None):
        """Keep the rows that ``sampling_strategy`` and the clusters select.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows: ndarray, pandas DataFrame or sparse matrix.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows. When given, the weights of the kept rows are
            returned too.

        Returns
        -------
        X_resampled : {ndarray, DataFrame, sparse matrix} of shape (n_kept, n_features)
            The kept rows, in their input order and container (a DataFrame
            keeps its columns and dtypes and gets a fresh RangeIndex; a sparse
            matrix keeps its format).
        y_resampled : {ndarray, Series} of shape (n_kept,)
            Their labels (a Series keeps its name and gets a fresh index).
        sample_weight_resampled : ndarray of shape (n_kept,)
            The weights of the kept rows; only when ``sample_weight`` is given.
        """
        X_in, y_in = X, y
        X, y, sample_weight = self._prepare(X, y, sample_weight)
        n_threads = resolve_n_threads(self.n_jobs)
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            kept = self._select(X, y, check_random_state(self.random_state))
        self.sample_indices_ = kept

        output = [take_rows(X_in, X, kept), labels_like_input(y[kept], y_in)]
        if sample_weight is not None:
            output.append(sample_weight[kept])
        return tuple(output)

    def _n_clusters_for(self, n_rows):
        if self.n_clusters == "auto":
            return min(_MAX_AUTO_CLUSTERS, max(1, int(round(np.sqrt(n_rows / 2)))))
        return min(self.n_clusters, n_rows)

    def _cluster(self, X, y, rng):
        """K-means in every class; returns labels, centres and classes of clusters."""
        classes = np.unique(y)
        labels = np.empty(X.shape[0], dtype=np.intp)
        centers, owners = [], []
        for cls in classes:
            rows = np.flatnonzero(y == cls)
            k = self._n_clusters_for(rows.shape[0])
            seed = rng.randint(np.iinfo(np.int32).max)
            if k == 1:
                local = np.zeros(rows.shape[0], dtype=np.intp)
                center = np.asarray(X[rows].mean(axis=0)).reshape(1, -1)
            else:
                with warnings.catch_warnings():
                    # Fewer distinct rows than clusters: k-means leaves some
                    # clusters empty-ish, which is harmless here.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    km = KMeans(n_clusters=k, n_init="auto", random_state=seed)
                    local = km.fit_predict(X[rows])
                center = km.cluster_centers_
                # Renumber so that every cluster id is used.
                used, local = np.unique(local, return_inverse=True)
                center = center[used]
            labels[rows] = local + len(owners)
            centers.append(np.asarray(center, dtype=np.float64))
            owners.extend([cls] * center.shape[0])
        return labels, np.vstack(centers), np.asarray(owners)

    def _inter_distances(self, centers, owners):
        n_total = centers.shape[0]
        d_inter = np.zeros(n_total)
        if self.inter_clusters == "all":
            groups = [(np.arange(n_total), np.arange(n_total))]
        else:
            groups = [
                (np.flatnonzero(owners == c), np.flatnonzero(owners != c))
                for c in np.unique(owners)
            ]
        for queries, index in groups:
            exclude_self = self.inter_clusters == "all"
            n_available = index.shape[0] - int(exclude_self)
            if n_available < 1:
                continue
            k = min(self.n_inter_neighbors, n_available)
            distances, _ = knn_search(
                centers[queries],
                centers[index],
                k,
                metric=self.metric,
                exclude_self=exclude_self,
                n_jobs=self.n_jobs,
            )
            d_inter[queries] = distances.mean(axis=1)
        return d_inter

    def _select(self, X, y, rng):
        space = normalize(X) if self.metric == "cosine" else X
        labels, centers, owners = self._cluster(space, y, rng)
        if self.metric == "cosine":
            centers = normalize(centers)
        n_total = centers.shape[0]
        to_center = _distances_to_centers(space, centers, labels, self.metric)
        sizes = np.bincount(labels, minlength=n_total)
        d_intra = np.bincount(labels, weights=to_center, minlength=n_total) / sizes
        d_inter = self._inter_distances(centers, owners)
        complexity = d_intra * d_inter

        budget = sizes.copy()
        kept = []
        for cls, n_keep in self.sampling_strategy_.items():
            clusters = np.flatnonzero(owners == cls)
            budget[clusters] = cluster_budget(
                complexity[clusters],
                sizes[clusters],
                n_keep,
                temperature=self.temperature,
                min_fraction=self.min_fraction,
            )
        for j in range(n_total):
            members = np.flatnonzero(labels == j)
            n_drop = members.shape[0] - budget[j]
            if n_drop == 0:
                kept.append(members)
            elif self.keep == "random":
                kept.append(rng.choice(members, budget[j], replace=False))
            else:
                # Stable sort: equal distances are ordered by row index.
                order = np.argsort(to_center[members], kind="stable")
                if self.keep == "hard":
                    kept.append(members[order[n_drop:]])
                else:
                    kept.append(members[order[: budget[j]]])

        self.cluster_labels_ = labels
        self.cluster_class_ = owners
        self.cluster_centers_ = centers
        self.cluster_sizes_ = sizes
        self.cluster_complexity_ = complexity
        self.cluster_budget_ = budget
        return np.sort(np.concatenate(kept)).astype(np.intp)
