"""ADASYN against a brute-force count of foreign neighbours and imbalanced-learn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import ADASYN

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import ADASYN as ImbADASYN  # noqa: E402


def _data(n_samples=300, n_classes=2, random_state=0):
    weights = [0.85] if n_classes == 2 else [0.6, 0.25]
    return make_classification(
        n_samples=n_samples,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        weights=weights,
        class_sep=0.7,
        random_state=random_state,
    )


def _nearest(X, query_rows, index_rows, k):
    distances = cdist(X[query_rows], X[index_rows])
    distances[query_rows[:, None] == index_rows[None, :]] = np.inf
    return index_rows[np.argsort(distances, axis=1, kind="stable")[:, :k]]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_per_row_counts_follow_the_foreign_share(n_classes):
    X, y = _data(n_classes=n_classes)
    k = 5
    sampler = ADASYN(n_neighbors=k, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    for label, n_asked in sampler.sampling_strategy_.items():
        rows = np.flatnonzero(y == label)
        share = (y[_nearest(X, rows, np.arange(len(X)), k)] != label).mean(axis=1)
        expected = np.rint(share / share.sum() * n_asked).astype(int)
        generated = np.bincount(parents[:, 0], minlength=len(X))[rows]
        assert_array_equal(generated, expected)
        # Proportional to the share, up to rounding.
        assert np.all(np.abs(generated - share / share.sum() * n_asked) <= 0.5)
        assert np.all(generated[share == 0] == 0)
        allowed = dict(
            zip(rows.tolist(), map(set, _nearest(X, rows, rows, k).tolist()))
        )
        for a, b in parents[y_res[len(X) :] == label]:
            assert b in allowed[a]
    assert np.all((steps >= 0) & (steps < 1))
    assert_allclose(
        X_res[len(X) :],
        X[parents[:, 0]] + steps[:, None] * (X[parents[:, 1]] - X[parents[:, 0]]),
        atol=1e-12,
    )
    assert_array_equal(
        sampler.n_synthetic_per_row_[1][1],
        np.bincount(parents[:, 0], minlength=len(X))[y == 1],
    )


def test_same_seed_gives_imblearns_rows_on_a_binary_target():
    X, y = _data(n_samples=500)
    X_ours, y_ours = ADASYN(random_state=5).fit_resample(X, y)
    X_imb, y_imb = ImbADASYN(random_state=5).fit_resample(X, y)
    assert_array_equal(y_ours, y_imb)
    assert_allclose(X_ours, X_imb, rtol=1e-12, atol=1e-12)


def test_class_counts_match_imblearn():
    X, y = _data(n_classes=3)
    for strategy in ("auto", "minority", {1: 150, 2: 100}):
        _, y_ours = ADASYN(sampling_strategy=strategy, random_state=0).fit_resample(
            X, y
        )
        _, y_imb = ImbADASYN(sampling_strategy=strategy, random_state=0).fit_resample(
            X, y
        )
        assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_synthetic_distribution_matches_imblearn_over_repeats():
    X, y = _data(n_samples=600, n_classes=3, random_state=2)
    n = len(X)

    def moments(sampler_class, seed):
        X_res, y_res = sampler_class(random_state=seed).fit_resample(X, y)
        new, labels = X_res[n:], y_res[n:]
        return np.concatenate(
            [np.r_[new[labels == c].mean(0), new[labels == c].var(0)] for c in (1, 2)]
        )

    ours = np.array([moments(ADASYN, seed) for seed in range(20)])
    theirs = np.array([moments(ImbADASYN, 70 + seed) for seed in range(20)])
    spread = np.sqrt(ours.var(0) / 20 + theirs.var(0) / 20)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * spread + 1e-3)


def test_separated_classes_raise():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(40, 2), rng.randn(10, 2) + 50]
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    with pytest.raises(RuntimeError, match="SMOTE"):
        ADASYN(n_neighbors=3).fit_resample(X, y)


def test_n_neighbors_must_be_below_the_class_size():
    X, y = _data(n_samples=40)
    with pytest.raises(ValueError, match="n_neighbors"):
        ADASYN(n_neighbors=np.bincount(y).min()).fit_resample(X, y)


def test_n_jobs_does_not_change_the_result():
    X, y = _data()
    one = ADASYN(random_state=0, n_jobs=1).fit_resample(X, y)
    two = ADASYN(random_state=0, n_jobs=2).fit_resample(X, y)
    assert_array_equal(one[0], two[0])
