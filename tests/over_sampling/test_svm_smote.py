"""SVMSMOTE against brute-force definitions and imbalanced-learn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import make_classification
from sklearn.svm import SVC, LinearSVC

from sklearn_metric.over_sampling import SVMSMOTE

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SVMSMOTE as ImbSVMSMOTE  # noqa: E402


def _data(n_samples=300, n_classes=2, random_state=0):
    weights = [0.85] if n_classes == 2 else [0.6, 0.25]
    return make_classification(
        n_samples=n_samples,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        weights=weights,
        flip_y=0.03,
        class_sep=0.8,
        random_state=random_state,
    )


def _nearest(X, query_rows, index_rows, k):
    distances = cdist(X[query_rows], X[index_rows])
    distances[query_rows[:, None] == index_rows[None, :]] = np.inf
    return index_rows[np.argsort(distances, axis=1, kind="stable")[:, :k]]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_support_vectors_are_classified_and_used_as_defined(n_classes):
    X, y = _data(n_classes=n_classes)
    k, m, out_step = 4, 8, 0.3
    sampler = SVMSMOTE(k_neighbors=k, m_neighbors=m, out_step=out_step, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    support = SVC(gamma="scale", random_state=0).fit(X, y).support_
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    for label in sampler.sampling_strategy_:
        vectors = np.sort(support[y[support] == label])
        n_foreign = (y[_nearest(X, vectors, np.arange(n), m)] != label).sum(axis=1)
        kinds = sampler.support_kinds_[label]
        assert_array_equal(kinds["noise"], vectors[n_foreign == m])
        assert_array_equal(
            kinds["danger"], vectors[(2 * n_foreign >= m) & (n_foreign < m)]
        )
        assert_array_equal(kinds["safe"], vectors[2 * n_foreign < m])
        mine = y_res[n:] == label
        starts, step = parents[mine, 0], steps[mine]
        from_danger = np.isin(starts, kinds["danger"])
        from_safe = np.isin(starts, kinds["safe"])
        assert np.all(from_danger | from_safe)
        assert np.all((step[from_danger] >= 0) & (step[from_danger] < 1))
        assert np.all((step[from_safe] <= 0) & (step[from_safe] > -out_step))
        class_rows = np.flatnonzero(y == label)
        allowed = dict(
            zip(
                class_rows.tolist(),
                map(set, _nearest(X, class_rows, class_rows, k).tolist()),
            )
        )
        for a, b in parents[mine]:
            assert b in allowed[a]
    assert_allclose(
        X_res[n:],
        X[parents[:, 0]] + steps[:, None] * (X[parents[:, 1]] - X[parents[:, 0]]),
        atol=1e-12,
    )


def test_class_counts_match_imblearn():
    for n_classes in (2, 3):
        X, y = _data(n_classes=n_classes)
        for strategy in ("auto", "all"):
            _, y_ours = SVMSMOTE(
                sampling_strategy=strategy, random_state=0
            ).fit_resample(X, y)
            _, y_imb = ImbSVMSMOTE(
                sampling_strategy=strategy, random_state=0
            ).fit_resample(X, y)
            assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_synthetic_distribution_matches_imblearn_over_repeats():
    X, y = _data(n_samples=500, random_state=2)
    n = len(X)

    def moments(sampler_class, seed):
        X_res, _ = sampler_class(random_state=seed).fit_resample(X, y)
        return np.r_[X_res[n:].mean(0), X_res[n:].var(0)]

    ours = np.array([moments(SVMSMOTE, seed) for seed in range(15)])
    theirs = np.array([moments(ImbSVMSMOTE, 40 + seed) for seed in range(15)])
    spread = np.sqrt(ours.var(0) / 15 + theirs.var(0) / 15)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * spread + 1e-3)


def test_custom_svm_is_cloned_and_must_have_support_vectors():
    X, y = _data()
    svm = SVC(kernel="linear", C=0.5)
    sampler = SVMSMOTE(svm_estimator=svm, random_state=0)
    sampler.fit_resample(X, y)
    assert not hasattr(svm, "support_")
    assert sampler.svm_estimator_.kernel == "linear"
    with pytest.raises(
        ValueError, match="svm_estimator must be a support vector machine"
    ):
        SVMSMOTE(svm_estimator=LinearSVC()).fit_resample(X, y)


def test_negative_steps_give_clipped_weights():
    X, y = _data()
    weights = np.random.RandomState(0).uniform(1, 2, size=len(y))
    sampler = SVMSMOTE(random_state=0)
    *_, w_res = sampler.fit_resample(X, y, sample_weight=weights)
    parents = sampler.synthetic_pairs_["parents"]
    safe = sampler.synthetic_pairs_["steps"] < 0
    assert safe.any()
    assert_allclose(w_res[len(y) :][safe], weights[parents[safe, 0]])


def test_all_noise_raises():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    y = np.zeros(60, int)
    y[::10] = 1  # isolated minority rows among the majority
    with pytest.raises(ValueError, match="noise"):
        SVMSMOTE(k_neighbors=2, m_neighbors=3).fit_resample(X, y)


def test_n_jobs_does_not_change_the_result():
    X, y = _data()
    one = SVMSMOTE(random_state=0, n_jobs=1).fit_resample(X, y)
    two = SVMSMOTE(random_state=0, n_jobs=2).fit_resample(X, y)
    assert_array_equal(one[0], two[0])
