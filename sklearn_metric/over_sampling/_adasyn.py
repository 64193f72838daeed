"""ADASYN: more synthetic rows where other classes crowd a minority row."""

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    NEIGHBOR_CONSTRAINTS,
    BaseOverSampler,
    SyntheticPairs,
    check_n_neighbors,
    empty_synthetic,
    shared_docs,
)
from ._neighbors import (
    NEIGHBORS_CONSTRAINT,
    minority_neighbors,
    neighbors_in_set,
    resolve_neighbors,
    search_options,
)

__all__ = ["ADASYN"]


def adasyn_counts(y, neighbors, class_label, n_samples):
    """Synthetic rows per row of a class, from the foreign share of neighbours.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels of the whole set.
    neighbors : ndarray of shape (n_rows, n_neighbors)
        Neighbours of the class's rows among the whole set.
    class_label : object
        The class of the rows.
    n_samples : int
        Rows wanted for the class in total.

    Returns
    -------
    counts : ndarray of shape (n_rows,)
        ``rint(n_samples * r_i / sum(r))``, ``r_i`` being the share of row
        ``i``'s neighbours that belong to other classes. Rounding may make
        the total differ slightly from ``n_samples``.
    """
    foreign_share = (
        np.count_nonzero(y[neighbors] != class_label, axis=1) / (neighbors.shape[1])
    )
    total = foreign_share.sum()
    if total == 0:
        raise RuntimeError(
            f"No neighbour of any row of class {class_label!r} belongs to another "
            "class, so ADASYN has no density to follow (the weights would be 0/0). "
            "Use SMOTE for this data."
        )
    return np.rint(foreign_share / total * n_samples).astype(np.intp)


class ADASYN(BaseOverSampler):
    """Adaptive Synthetic sampling.

    Like :class:`SMOTE`, but the number of synthetic rows started from each
    row of a resampled class is proportional to the share of its
    ``n_neighbors`` nearest rows (in the whole set) that belong to other
    classes: rows deep inside their class get few or none, rows surrounded by
    other classes get many. Each synthetic row lies on the segment between
    its row and one of the row's ``n_neighbors`` nearest rows of the same
    class, at a uniform step. Per-row counts are rounded to integers, so the
    total can differ slightly from the asked count, as in imbalanced-learn.

    Read more in the :ref:`User Guide <adasyn>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of neighbours and steps.
    n_neighbors : int, default=5
        Neighbours used both for the foreign share (among the whole set) and
        for the partners (among the class).
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance used for the neighbour searches: any name in
        :data:`sklearn_metric.distances.METRICS`, a callable, or a fitted
        metric learner.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    n_jobs : int, default=None
        Threads of the neighbour searches; ``None`` uses all of them.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic rows asked for}``.
    n_synthetic_per_row_ : dict
        ``{class: (indices into X of the class's rows, rows generated from
        each)}``.
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the row and its partner (indices
        into the input ``X``); ``"steps"``: the position on their segment.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTE : Every row of the class is equally likely to be a starting point.
    BorderlineSMOTE : Starting points are the rows in danger only.

    References
    ----------
    H. He, Y. Bai, E. A. Garcia and S. Li, "ADASYN: Adaptive synthetic
    sampling approach for imbalanced learning", IJCNN 2008, 1322-1328.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import ADASYN
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> X_res, y_res = ADASYN(random_state=0).fit_resample(X, y)
    >>> X_res.shape[0] > X.shape[0]
    True
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "n_neighbors": NEIGHBORS_CONSTRAINT,
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        n_neighbors=5,
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        search = search_options(self)
        k, nn, self.nn_ = resolve_neighbors(self.n_neighbors, "n_neighbors")
        self.n_synthetic_per_row_ = {}
        rows, partners, steps, labels = [], [], [], []
        for class_label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            check_n_neighbors(k, class_rows.size, class_label, "n_neighbors")
            wide = neighbors_in_set(X, class_rows, k, estimator=nn, **search)
            counts = adasyn_counts(y, wide, class_label, n_samples)
            self.n_synthetic_per_row_[class_label] = (class_rows, counts)
            n_generated = int(counts.sum())
            if n_generated == 0:
                raise ValueError(
                    f"ADASYN would generate no sample of class {class_label!r}: "
                    f"{n_samples} asked samples all round to 0 per row. Ask for "
                    "more samples in sampling_strategy."
                )
            _, within = minority_neighbors(
                X[class_rows],
                X[class_rows],
                k,
                exclude_self=True,
                estimator=nn,
                **search,
            )
            drawn = np.repeat(np.arange(class_rows.size), counts)
            cols = random_state.choice(k, size=n_generated)
            step = random_state.uniform(size=n_generated)
            rows.append(class_rows[drawn])
            partners.append(class_rows[within[drawn, cols]])
            steps.append(step)
            labels.append(np.full(n_generated, class_label, dtype=y.dtype))
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
