"""SMOTE: new minority rows on segments between minority neighbours."""

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    NEIGHBOR_CONSTRAINTS,
    BaseOverSampler,
    SyntheticPairs,
    check_n_neighbors,
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

__all__ = ["SMOTE"]


class SMOTE(BaseOverSampler):
    """Synthetic Minority Over-sampling Technique.

    Each synthetic row is drawn on the segment between a row of the class and
    one of its ``k_neighbors`` nearest rows of the same class: the row is
    picked uniformly with replacement, the neighbour uniformly among its
    ``k_neighbors``, and the position on the segment uniformly.

    Read more in the :ref:`User Guide <smote>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of rows, neighbours and steps.
    k_neighbors : int or object with ``kneighbors``, default=5
        Nearest neighbours of the same class among which a partner is drawn.
        An object, such as
        :class:`~sklearn_metric.neighbors.HNSWNeighborsTransformer`, is cloned
        and fitted on each class and searches with its own metric; its
        ``n_neighbors`` counts the row itself, as in imbalanced-learn.
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance used to find the neighbours: any name in
        :data:`sklearn_metric.distances.METRICS`, a callable, or a fitted
        metric learner, whose learned space is then used (metric-aware SMOTE).
        Interpolation itself stays in the input space.
    metric_params : dict, default=None
        Keyword parameters of the metric (``p`` for Minkowski, ``VI`` for
        Mahalanobis).
    n_jobs : int, default=None
        Threads of the neighbour search; ``None`` uses all of them.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic rows generated}``.
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the row and its neighbour (indices
        into the input ``X``); ``"steps"``: the position on their segment.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    BorderlineSMOTE : Only minority rows near the class border are used.
    ADASYN : More synthetic rows where the majority class crowds in.
    sklearn_metric.neighbors.HNSWNeighborsTransformer : Approximate neighbours,
        for large classes.

    Notes
    -----
    The exact search of ``k_neighbors=5`` costs time in the square of the
    class's size. For classes of some hundred thousand rows an HNSW index is
    faster: ``k_neighbors=HNSWNeighborsTransformer(n_neighbors=6)`` (see the
    last example). With its ``ef`` at least the class's size, the output is
    the same as with the int.

    References
    ----------
    N. V. Chawla, K. W. Bowyer, L. O. Hall and W. P. Kegelmeyer, "SMOTE:
    Synthetic Minority Over-sampling Technique", Journal of Artificial
    Intelligence Research, 16, 321-357, 2002.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import SMOTE
    >>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
    >>> Counter(y.tolist())
    Counter({0: 180, 1: 20})
    >>> X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    >>> Counter(y_res.tolist())
    Counter({0: 180, 1: 180})

    The same with an approximate neighbour search:

    >>> from sklearn_metric.neighbors import HNSWNeighborsTransformer
    >>> hnsw = HNSWNeighborsTransformer(n_neighbors=6, random_state=0)
    >>> X_res, y_res = SMOTE(k_neighbors=hnsw, random_state=0).fit_resample(X, y)
    >>> Counter(y_res.tolist())
    Counter({0: 180, 1: 180})
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.k_neighbors = k_neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")
        rows, partners, steps, labels = [], [], [], []
        for class_label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            check_n_neighbors(k, class_rows.size, class_label, "k_neighbors")
            _, neighbors = minority_neighbors(
                X[class_rows],
                X[class_rows],
                k,
                exclude_self=True,
                estimator=nn_k,
                **search_options(self),
            )
            drawn, partner, step = draw_neighbors(random_state, neighbors, n_samples)
            rows.append(class_rows[drawn])
            partners.append(class_rows[partner])
            steps.append(step)
            labels.append(np.full(n_samples, class_label, dtype=y.dtype))
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
