"""BorderlineSMOTE against brute-force definitions and imbalanced-learn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import BorderlineSMOTE

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import BorderlineSMOTE as ImbBorderlineSMOTE  # noqa: E402


def _data(n_samples=300, n_classes=2, random_state=0):
    weights = [0.85] if n_classes == 2 else [0.6, 0.25]
    return make_classification(
        n_samples=n_samples,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        weights=weights,
        flip_y=0.05,
        class_sep=0.6,
        random_state=random_state,
    )


def _nearest(X, query_rows, index_rows, k, metric="euclidean"):
    """Brute force: the k nearest of index_rows for each query row, self left out."""
    distances = cdist(X[query_rows], X[index_rows], metric=metric)
    distances[query_rows[:, None] == index_rows[None, :]] = np.inf
    return index_rows[np.argsort(distances, axis=1, kind="stable")[:, :k]]


def _brute_force_danger(X, y, label, m, metric="euclidean"):
    rows = np.flatnonzero(y == label)
    neighbors = _nearest(X, rows, np.arange(len(X)), m, metric)
    n_foreign = (y[neighbors] != label).sum(axis=1)
    return rows[(2 * n_foreign >= m) & (n_foreign < m)]


@pytest.mark.parametrize("kind", ["borderline-1", "borderline-2"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_starts_only_from_rows_in_danger_towards_k_neighbours(kind, n_classes):
    X, y = _data(n_classes=n_classes)
    k, m = 4, 8
    sampler = BorderlineSMOTE(kind=kind, k_neighbors=k, m_neighbors=m, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    for label, n_new in sampler.sampling_strategy_.items():
        danger = _brute_force_danger(X, y, label, m)
        assert_array_equal(np.sort(sampler.in_danger_indices[label]), danger)
        mine = y_res[n:] == label
        assert np.count_nonzero(mine) == n_new
        assert set(parents[mine, 0].tolist()) <= set(danger.tolist())
        index = np.flatnonzero(y == label) if kind == "borderline-1" else np.arange(n)
        allowed = _nearest(X, danger, index, k)
        lookup = dict(zip(danger.tolist(), map(set, allowed.tolist())))
        for a, b in parents[mine]:
            assert b in lookup[a]
        foreign = y[parents[mine, 1]] != label
        if kind == "borderline-1":
            assert not foreign.any()
            assert np.all((steps[mine] >= 0) & (steps[mine] < 1))
        else:
            assert np.all((steps[mine][foreign] >= 0) & (steps[mine][foreign] < 0.5))
    assert_allclose(
        X_res[n:],
        X[parents[:, 0]] + steps[:, None] * (X[parents[:, 1]] - X[parents[:, 0]]),
        atol=1e-12,
    )


def test_danger_definition_follows_the_metric():
    X, y = _data(random_state=1)
    sampler = BorderlineSMOTE(m_neighbors=6, metric="chebyshev", random_state=0)
    sampler.fit_resample(X, y)
    chebyshev = _brute_force_danger(X, y, 1, 6, metric="chebyshev")
    assert_array_equal(np.sort(sampler.in_danger_indices[1]), chebyshev)


def test_borderline_1_gives_imblearns_rows_with_the_same_seed():
    X, y = _data(n_samples=500)
    X_ours, y_ours = BorderlineSMOTE(random_state=3).fit_resample(X, y)
    X_imb, y_imb = ImbBorderlineSMOTE(random_state=3).fit_resample(X, y)
    assert_array_equal(y_ours, y_imb)
    assert_allclose(X_ours, X_imb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["borderline-1", "borderline-2"])
def test_synthetic_distribution_matches_imblearn_over_repeats(kind):
    X, y = _data(n_samples=600, random_state=2)
    n = len(X)

    def moments(sampler_class, seed):
        X_res, _ = sampler_class(kind=kind, random_state=seed).fit_resample(X, y)
        return np.r_[X_res[n:].mean(0), X_res[n:].var(0)]

    ours = np.array([moments(BorderlineSMOTE, seed) for seed in range(20)])
    theirs = np.array([moments(ImbBorderlineSMOTE, 50 + seed) for seed in range(20)])
    spread = np.sqrt(ours.var(0) / 20 + theirs.var(0) / 20)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * spread + 1e-3)


def test_class_counts_match_imblearn():
    X, y = _data(n_classes=3)
    for strategy in ("auto", "all", {1: 150, 2: 100}):
        _, y_ours = BorderlineSMOTE(
            sampling_strategy=strategy, random_state=0
        ).fit_resample(X, y)
        _, y_imb = ImbBorderlineSMOTE(
            sampling_strategy=strategy, random_state=0
        ).fit_resample(X, y)
        assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_no_row_in_danger_means_no_synthetic_row():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(40, 2), rng.randn(10, 2) + 20]
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    sampler = BorderlineSMOTE(k_neighbors=3, m_neighbors=5)
    X_res, y_res = sampler.fit_resample(X, y)
    assert_array_equal(X_res, X)
    assert sampler.in_danger_indices == {}


def test_n_jobs_does_not_change_the_result():
    X, y = _data()
    one = BorderlineSMOTE(kind="borderline-2", random_state=0, n_jobs=1).fit_resample(
        X, y
    )
    two = BorderlineSMOTE(kind="borderline-2", random_state=0, n_jobs=2).fit_resample(
        X, y
    )
    assert_array_equal(one[0], two[0])


def test_bad_parameters_raise():
    X, y = _data(n_samples=60)
    with pytest.raises(ValueError, match="kind"):
        BorderlineSMOTE(kind="borderline-3").fit_resample(X, y)
    with pytest.raises(ValueError, match="m_neighbors"):
        BorderlineSMOTE(m_neighbors=60).fit_resample(X, y)
