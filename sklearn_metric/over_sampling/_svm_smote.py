"""SVM-SMOTE: SMOTE from the minority support vectors of an SVM."""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval

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

__all__ = ["SVMSMOTE"]


class SVMSMOTE(BaseOverSampler):
    """SVM-SMOTE: new rows around the support vectors of the resampled class.

    An SVM is fitted on the whole set; its support vectors of the resampled
    class are the starting points. Each is classified by its ``m_neighbors``
    nearest rows of the whole set: all of them foreign makes it noise (left
    out), at least half foreign makes it "in danger", fewer makes it "safe".
    A fraction ``f ~ Beta(10, 10)`` of the rows, ``int(f * (n + 1))``, is
    interpolated from the danger vectors towards one of their ``k_neighbors``
    nearest rows of the class (step uniform in [0, 1)); the rest is
    extrapolated from the safe vectors away from such a neighbour, by a step
    uniform in [0, ``out_step``). When one of the two groups is empty its
    share is not generated, as in imbalanced-learn.

    Read more in the :ref:`User Guide <svm_smote>`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seeds the default SVM, the split between interpolation and
        extrapolation, and the choice of rows, neighbours and steps.
    k_neighbors : int, default=5
        Nearest neighbours of the same class among which a partner is drawn.
    m_neighbors : int, default=10
        Nearest neighbours in the whole set that classify a support vector as
        noise, in danger or safe.
    svm_estimator : estimator object, default=None
        A classifier with ``support_`` once fitted, cloned before use. ``None``
        means ``SVC(gamma="scale", random_state=random_state)``. An estimator
        without ``support_`` (``LogisticRegression()``, say) raises a
        ``ValueError`` naming ``svm_estimator`` (imbalanced-learn raises a
        ``RuntimeError``).
    out_step : float, default=0.5
        Largest step of extrapolation from a safe support vector.
    metric : str, callable or fitted metric learner, default="euclidean"
        Distance used for the neighbour searches: any name in
        :data:`sklearn_metric.distances.METRICS`, a callable, or a fitted
        metric learner. The SVM itself uses its own kernel.
    metric_params : dict, default=None
        Keyword parameters of the metric.
    n_jobs : int, default=None
        Threads of the neighbour searches; ``None`` uses all of them.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic rows asked for}``.
    svm_estimator_ : estimator object
        The fitted SVM.
    support_kinds_ : dict
        ``{class: {"noise": rows, "danger": rows, "safe": rows}}``, indices
        into X of the class's support vectors of each kind.
    synthetic_pairs_ : dict
        ``"parents"``: int array (n_new, 2), the support vector and its
        neighbour (indices into the input ``X``); ``"steps"``: the position
        on their line, negative for extrapolation away from the neighbour.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    BorderlineSMOTE : Starting points chosen by neighbours alone.

    References
    ----------
    H. M. Nguyen, E. W. Cooper and K. Kamei, "Borderline over-sampling for
    imbalanced data classification", International Journal of Knowledge
    Engineering and Soft Data Paradigms, 3(1), 4-21, 2011.

    Examples
    --------
    >>> from collections import Counter
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_metric.over_sampling import SVMSMOTE
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> X_res, y_res = SVMSMOTE(random_state=0).fit_resample(X, y)
    >>> sorted(Counter(y_res.tolist()).items())
    [(0, 269), (1, 269)]
    """

    __doc__ = shared_docs(__doc__)

    _parameter_constraints = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_CONSTRAINT,
        "m_neighbors": NEIGHBORS_CONSTRAINT,
        "svm_estimator": [HasMethods(["fit", "predict"]), None],
        "out_step": [Interval(Real, 0, 1, closed="both")],
        **NEIGHBOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        m_neighbors=10,
        svm_estimator=None,
        out_step=0.5,
        metric="euclidean",
        metric_params=None,
        n_jobs=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.svm_estimator = svm_estimator
        self.out_step = out_step
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _fit_resample(self, X, y, sampling_strategy):
        random_state = check_random_state(self.random_state)
        search = search_options(self)
        if self.svm_estimator is None:
            self.svm_estimator_ = SVC(gamma="scale", random_state=self.random_state)
        else:
            self.svm_estimator_ = clone(self.svm_estimator)
        k, nn_k, self.nn_k_ = resolve_neighbors(self.k_neighbors, "k_neighbors")
        m, nn_m, self.nn_m_ = resolve_neighbors(self.m_neighbors, "m_neighbors")
        if m >= X.shape[0]:
            raise ValueError(
                f"m_neighbors={m} needs more than {m} samples; X has {X.shape[0]}."
            )
        self.support_kinds_ = {}
        if not any(sampling_strategy.values()):
            return empty_synthetic(X, y)
        self.svm_estimator_.fit(X, y)
        support = getattr(self.svm_estimator_, "support_", None)
        if support is None:
            raise ValueError(
                "svm_estimator must be a support vector machine, exposing the "
                f"fitted attribute support_; svm_estimator={self.svm_estimator!r} "
                "does not. Use sklearn.svm.SVC (the default) or another SVM."
            )
        rows, partners, steps, labels = [], [], [], []
        for class_label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            class_rows = np.flatnonzero(y == class_label)
            check_n_neighbors(k, class_rows.size, class_label, "k_neighbors")
            vectors = np.sort(support[y[support] == class_label])
            wide = neighbors_in_set(X, vectors, m, estimator=nn_m, **search)
            noise = np.count_nonzero(y[wide] != class_label, axis=1) == m
            in_danger = danger_mask(y, wide, class_label) & ~noise
            kinds = {
                "noise": vectors[noise],
                "danger": vectors[in_danger],
                "safe": vectors[~noise & ~in_danger],
            }
            self.support_kinds_[class_label] = kinds
            if noise.all():
                raise ValueError(
                    f"Every support vector of class {class_label!r} is noise (all "
                    f"its {m} neighbours are of other classes), so "
                    "SVM-SMOTE has nowhere to start; try another SMOTE variant."
                )
            n_interpolated = int(random_state.beta(10, 10) * (n_samples + 1))
            for kind, n_kind, step_scale in (
                ("danger", n_interpolated, 1.0),
                ("safe", n_samples - n_interpolated, -self.out_step),
            ):
                starts = kinds[kind]
                if starts.size == 0 or n_kind == 0:
                    continue
                table = neighbors_in_set(
                    X, starts, k, index_rows=class_rows, estimator=nn_k, **search
                )
                drawn, partner, step = draw_neighbors(random_state, table, n_kind)
                rows.append(starts[drawn])
                partners.append(partner)
                steps.append(step_scale * step)
                labels.append(np.full(n_kind, class_label, dtype=y.dtype))
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
