"""KMeansSMOTE against a brute-force cluster filter and imbalanced-learn."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import KMeansSMOTE

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import KMeansSMOTE as ImbKMeansSMOTE  # noqa: E402


def _data(n_samples=1000, n_classes=2, random_state=0):
    weights = [0.9] if n_classes == 2 else [0.7, 0.2]
    return make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        weights=weights,
        random_state=random_state,
    )


def _brute_force_plan(X, y, clusters, label, n_samples, threshold, k, exponent):
    """{cluster: (class rows, rows to generate)} from the definitions."""
    plan, sparsity = {}, {}
    for cluster in np.unique(clusters):
        members = np.flatnonzero(clusters == cluster)
        share = np.mean(y[members] == label)
        if share < threshold or share * members.size < k + 1:
            continue
        rows = members[y[members] == label]
        distances = cdist(X[rows], X[rows])
        mean = distances.sum() / (rows.size**2 - rows.size)
        e = math.log(rows.size, 1.6) ** 1.8 * 0.16 if exponent == "auto" else exponent
        plan[cluster] = rows
        sparsity[cluster] = mean**e / rows.size
    total = sum(sparsity.values())
    return {c: (plan[c], math.ceil(n_samples * sparsity[c] / total)) for c in plan}


@pytest.mark.parametrize(
    "threshold, exponent", [(0.1, "auto"), (0.2, 2.0), (0.05, "auto")]
)
def test_clusters_kept_and_weighted_as_defined(threshold, exponent):
    X, y = _data()
    sampler = KMeansSMOTE(
        kmeans_estimator=KMeans(12, n_init=1, random_state=0),
        cluster_balance_threshold=threshold,
        density_exponent=exponent,
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    clusters = sampler.kmeans_estimator_.labels_
    n_samples = sampler.sampling_strategy_[1]
    plan = _brute_force_plan(X, y, clusters, 1, n_samples, threshold, 2, exponent)
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    assert set(sampler.cluster_weights_[1]) == set(plan)
    assert len(parents) == sum(count for _, count in plan.values())
    for cluster, (rows, count) in plan.items():
        mine = clusters[parents[:, 0]] == cluster
        assert np.count_nonzero(mine) == count
        assert np.all(clusters[parents[mine, 1]] == cluster)
        distances = cdist(X[rows], X[rows])
        np.fill_diagonal(distances, np.inf)
        nearest = rows[np.argsort(distances, axis=1, kind="stable")[:, :2]]
        allowed = dict(zip(rows.tolist(), map(set, nearest.tolist())))
        for a, b in parents[mine]:
            assert b in allowed[a]
    assert np.all((steps >= 0) & (steps < 1))
    assert_allclose(
        X_res[len(X) :],
        X[parents[:, 0]] + steps[:, None] * (X[parents[:, 1]] - X[parents[:, 0]]),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "params",
    [
        {"cluster_balance_threshold": 0.1},
        {"kmeans_estimator": 20},
        {"kmeans_estimator": 1},
    ],
)
def test_class_counts_match_imblearn(params):
    X, y = _data()
    _, y_ours = KMeansSMOTE(random_state=0, **params).fit_resample(X, y)
    _, y_imb = ImbKMeansSMOTE(random_state=0, **params).fit_resample(X, y)
    assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_synthetic_distribution_matches_imblearn_over_repeats():
    X, y = _data(random_state=2)
    n = len(X)

    def moments(sampler_class, seed):
        sampler = sampler_class(
            kmeans_estimator=KMeans(8, n_init=1, random_state=0),
            cluster_balance_threshold=0.1,
            random_state=seed,
        )
        X_res, _ = sampler.fit_resample(X, y)
        return np.r_[X_res[n:].mean(0), X_res[n:].var(0)]

    ours = np.array([moments(KMeansSMOTE, seed) for seed in range(15)])
    theirs = np.array([moments(ImbKMeansSMOTE, 30 + seed) for seed in range(15)])
    spread = np.sqrt(ours.var(0) / 15 + theirs.var(0) / 15)
    assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * spread + 1e-3)


def test_no_suitable_cluster_raises():
    X, y = _data()
    with pytest.raises(RuntimeError, match="cluster_balance_threshold"):
        KMeansSMOTE(
            kmeans_estimator=5, cluster_balance_threshold=0.9, random_state=0
        ).fit_resample(X, y)


def test_the_given_kmeans_is_cloned():
    X, y = _data()
    kmeans = KMeans(6, n_init=1, random_state=0)
    KMeansSMOTE(
        kmeans_estimator=kmeans, cluster_balance_threshold=0.05, random_state=0
    ).fit_resample(X, y)
    assert not hasattr(kmeans, "labels_")


def test_n_jobs_does_not_change_the_result():
    X, y = _data()
    runs = [
        KMeansSMOTE(
            cluster_balance_threshold=0.1, random_state=0, n_jobs=n_jobs
        ).fit_resample(X, y)
        for n_jobs in (1, 2)
    ]
    assert_array_equal(runs[0][0], runs[1][0])
