"""SMOTE against brute-force neighbours and against imbalanced-learn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import SMOTE

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SMOTE as ImbSMOTE  # noqa: E402


def _data(n_samples=200, n_classes=2, random_state=0):
    weights = [0.8] if n_classes == 2 else [0.6, 0.25]
    return make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        weights=weights,
        random_state=random_state,
    )


def _brute_force_neighbors(X, y, k, metric="euclidean", **kwargs):
    """{row: set of its k nearest same-class rows}, by a full distance matrix."""
    table = {}
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if rows.size <= k:
            continue
        distances = cdist(X[rows], X[rows], metric=metric, **kwargs)
        np.fill_diagonal(distances, np.inf)
        order = np.argsort(distances, axis=1, kind="stable")[:, :k]
        for i, row in enumerate(rows):
            table[row] = set(rows[order[i]].tolist())
    return table


def _assert_on_segments(X, y, X_res, y_res, sampler, table):
    n = len(X)
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    assert parents.shape == (len(X_res) - n, 2)
    assert np.all((steps >= 0) & (steps < 1))
    for (a, b), synthetic_label in zip(parents, y_res[n:]):
        assert y[a] == y[b] == synthetic_label
        assert b in table[a]
    assert_allclose(
        X_res[n:],
        X[parents[:, 0]] + steps[:, None] * (X[parents[:, 1]] - X[parents[:, 0]]),
        atol=1e-12,
    )


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("k_neighbors", [1, 3, 5])
def test_every_synthetic_row_lies_on_a_segment_to_a_k_neighbour(n_classes, k_neighbors):
    X, y = _data(n_classes=n_classes)
    sampler = SMOTE(k_neighbors=k_neighbors, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    _assert_on_segments(
        X, y, X_res, y_res, sampler, _brute_force_neighbors(X, y, k_neighbors)
    )


def test_synthetic_rows_are_collinear_with_their_parents():
    X, y = _data()
    sampler = SMOTE(random_state=1)
    X_res, _ = sampler.fit_resample(X, y)
    a, b = sampler.synthetic_pairs_["parents"].T
    towards_new = X_res[len(X) :] - X[a]
    towards_partner = X[b] - X[a]
    cosine = np.einsum("ij,ij->i", towards_new, towards_partner) / (
        np.linalg.norm(towards_new, axis=1) * np.linalg.norm(towards_partner, axis=1)
        + 1e-300
    )
    moved = np.linalg.norm(towards_new, axis=1) > 1e-12
    assert_allclose(cosine[moved], 1.0, atol=1e-9)


def test_manhattan_metric_changes_the_neighbours_accordingly():
    X, y = _data(random_state=3)
    sampler = SMOTE(k_neighbors=2, metric="manhattan", random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    manhattan = _brute_force_neighbors(X, y, 2, metric="cityblock")
    _assert_on_segments(X, y, X_res, y_res, sampler, manhattan)
    euclidean = _brute_force_neighbors(X, y, 2)
    assert any(manhattan[row] != euclidean[row] for row in manhattan)


def test_minkowski_parameter_is_passed_to_the_search():
    X, y = _data(random_state=4)
    sampler = SMOTE(
        k_neighbors=3, metric="minkowski", metric_params={"p": 3}, random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    _assert_on_segments(
        X,
        y,
        X_res,
        y_res,
        sampler,
        _brute_force_neighbors(X, y, 3, metric="minkowski", p=3),
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_metric_learner_searches_in_its_learned_space():
    from sklearn_metric.metric_learning import NCA

    X, y = _data(random_state=5)
    learner = NCA(max_iter=5, random_state=0).fit(X, y)
    # A strongly anisotropic map makes learned and input neighbours differ.
    learner.components_ = learner.components_ * np.array([[10.0], [1], [1], [1], [0.1]])
    sampler = SMOTE(k_neighbors=3, metric=learner, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    learned = _brute_force_neighbors(X @ learner.components_.T, y, 3)
    _assert_on_segments(X, y, X_res, y_res, sampler, learned)
    plain = _brute_force_neighbors(X, y, 3)
    assert any(learned[row] != plain[row] for row in learned)


def test_same_seed_gives_imblearns_rows_on_a_binary_target():
    # Same neighbours and the same draws in the same order: identical rows.
    X, y = _data(n_samples=500)
    X_ours, y_ours = SMOTE(random_state=7).fit_resample(X, y)
    X_imb, y_imb = ImbSMOTE(random_state=7).fit_resample(X, y)
    assert_array_equal(y_ours, y_imb)
    assert_allclose(X_ours, X_imb, rtol=1e-12, atol=1e-12)


def test_synthetic_distribution_matches_imblearn_over_repeats():
    X, y = _data(n_samples=600, n_classes=3, random_state=2)
    n = len(X)

    def moments(sampler_class, seed):
        X_res, y_res = sampler_class(random_state=seed).fit_resample(X, y)
        new, labels = X_res[n:], y_res[n:]
        return np.concatenate(
            [np.r_[new[labels == c].mean(0), new[labels == c].var(0)] for c in (1, 2)]
        )

    ours = np.array([moments(SMOTE, seed) for seed in range(20)])
    theirs = np.array([moments(ImbSMOTE, 100 + seed) for seed in range(20)])
    spread = np.sqrt(ours.var(0) / 20 + theirs.var(0) / 20)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * spread + 1e-3)


def test_n_jobs_does_not_change_the_result():
    X, y = _data(n_samples=400, n_classes=3)
    one = SMOTE(random_state=0, n_jobs=1).fit_resample(X, y)
    two = SMOTE(random_state=0, n_jobs=2).fit_resample(X, y)
    every = SMOTE(random_state=0, n_jobs=-1).fit_resample(X, y)
    for result in (two, every):
        assert_array_equal(result[0], one[0])
        assert_array_equal(result[1], one[1])


def test_random_state_makes_it_reproducible():
    X, y = _data()
    first, _ = SMOTE(random_state=3).fit_resample(X, y)
    again, _ = SMOTE(random_state=3).fit_resample(X, y)
    other, _ = SMOTE(random_state=4).fit_resample(X, y)
    assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_k_neighbors_must_be_below_the_class_size():
    X, y = _data(n_samples=40)
    n_minority = np.bincount(y).min()
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTE(k_neighbors=n_minority).fit_resample(X, y)
    SMOTE(k_neighbors=n_minority - 1).fit_resample(X, y)
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTE(k_neighbors=0).fit_resample(X, y)


def test_nothing_to_generate_returns_the_input():
    X, y = _data()
    sampler = SMOTE(sampling_strategy={0: int(np.sum(y == 0))})
    X_res, y_res = sampler.fit_resample(X, y)
    assert_array_equal(X_res, X)
    assert_array_equal(y_res, y)
    assert sampler.synthetic_pairs_["parents"].shape == (0, 2)
