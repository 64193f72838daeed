"""Borderline-SMOTE: SMOTE from the minority rows that sit on the class border."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ._base import (
    NEIGHBOR_CONSTRAINTS,
    BaseOverSampler,
    SyntheticPairs,
    check_n_neighbors,
    draw_neighbors,
    empty_synthetic,
    shared_docs,
)
from ._danger import danger_mask
from ._neighbors import (
    NEIGHBORS_CONSTRAINT,
    neighbors_in_set,
    resolve_neighbors,
    search_options,
)

__all__ = ["BorderlineSMOTE"]


class BorderlineSMOTE(BaseOverSampler):
    """Borderline-SMOTE: SMOTE started only from minority rows in danger.

    A row of a resampled class is "in danger" when at least half, but not all,
    of its ``m_neighbors`` nearest rows of the whole set belong to other
    classes (rows whose neighbours are all foreign are taken as noise). New
    rows are drawn from those rows only:

    - ``"borderline-1"``: towards one of their ``k_neighbors`` nearest rows of
      the same class, at a uniform step in [0, 1), as in :class:`SMOTE`;
    - ``"borderline-2"``: towards one of their ``k_neighbors`` nearest rows of
      the whole set; when that partner is of another class the step is
      further multiplied by a uniform number in [0, 0.5), so the new row stays
      on the minority side (as imbalanced-learn does).

    A class with no row in danger gets no synthetic row.

    Read more in the :ref:`User Guide <borderline_smote>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of rows, partners and steps.
    k_neighbors : int, default=5
        Nearest neighbours among which a partner is drawn.
    m_neighbors : int, default=10
        Nearest neighbours in the whole set that decide whether a row is in
        danger.
    kind : {"borderline-1", "borderline-2"}, default="borderline-1"
        Whether partners are of the same class only, or of any class.
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance used for every neighbour search: any name in
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
    in_danger_indices : dict
        ``{class: indices into X of its rows in danger}``, for the resampled
        classes that have rows in danger; a class without any is absent, so the
        dict is empty when no row is in danger (imbalanced-learn's name and
        value; the name has no trailing underscore for that reason).
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the row in danger and its partner
        (indices into the input ``X``); ``"steps"``: the position on their
        segment.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SMOTE : Every row of the class is a starting point.
    SVMSMOTE : Starting points are the support vectors of an SVM.

    References
    ----------
    H. Han, W.-Y. Wang and B.-H. Mao, "Borderline-SMOTE: A New Over-Sampling
    Method in Imbalanced Data Sets Learning", ICIC 2005, LNCS 3644, 878-887.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import BorderlineSMOTE
    >>> X, y = make_classification(n_samples=300, weights=[0.9], flip_y=0.05,
    ...                            random_state=0)
    >>> X_res, y_res = BorderlineSMOTE(random_state=0).fit_resample(X, y)
    >>> Counter(y_res.tolist())
    Counter({0: 266, 1: 266})
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        "m_neighbors": NEIGHBORS_CONSTRAINT,
        "kind": [StrOptions({"borderline-1", "borderline-2"})],
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        m_neighbors=10,
        kind="borderline-1",
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        search = search_options(self)
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")
        m, nn_m, self.nn_m_ = resolve_neighbors(self.m_neighbors, "m_neighbors")
        if m >= X.shape[0]:
            raise ValueError(
                f"m_neighbors={m} needs more than {m} samples; X has {X.shape[0]}."
            )
        self.in_danger_indices = {}
        rows, partners, steps, labels = [], [], [], []
        for class_label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            wide = neighbors_in_set(X, class_rows, m, estimator=nn_m, **search)
            danger_rows = class_rows[danger_mask(y, wide, class_label)]
            if danger_rows.size == 0:
                continue
            self.in_danger_indices[class_label] = danger_rows
            if self.kind == "borderline-1":
                check_n_neighbors(k, class_rows.size, class_label, "k_neighbors")
                table = neighbors_in_set(
                    X,
                    danger_rows,
                    k,
                    index_rows=class_rows,
                    estimator=nn_k,
                    **search,
                )
            else:
                check_n_neighbors(k, X.shape[0], class_label, "k_neighbors")
                table = neighbors_in_set(X, danger_rows, k, estimator=nn_k, **search)
            drawn, partner, step = draw_neighbors(random_state, table, n_samples)
            if self.kind == "borderline-2":
                foreign = y[partner] != class_label
                step[foreign] *= random_state.uniform(
                    0.0, 0.5, size=np.count_nonzero(foreign)
                )
            rows.append(danger_rows[drawn])
            partners.append(partner)
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
