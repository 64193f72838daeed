"""Tests of ClusterComplexityUnderSampler against brute-force definitions."""

import numpy as np
import pytest
from scipy import optimize, sparse
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs, make_classification
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_metric.under_sampling import ClusterComplexityUnderSampler
from sklearn_metric.under_sampling._cluster_complexity import (
    capped_simplex_projection,
    cluster_budget,
)
from sklearn_metric.utils._sampling import resolve_sampling_strategy


def _imbalanced(n_samples=400, weights=(0.6, 0.3, 0.1), seed=0):
    return make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=len(weights),
        weights=list(weights),
        n_clusters_per_class=2,
        flip_y=0,
        random_state=seed,
    )


def _three_blobs(n_per_blob=120, spreads=(0.2, 0.5, 1.0), seed=0):
    """Class 0: three far-apart blobs of different spread; class 1: one blob."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [40.0, 0.0], [0.0, 40.0]])
    X0 = np.vstack(
        [c + s * rng.standard_normal((n_per_blob, 2)) for c, s in zip(centers, spreads)]
    )
    X1 = np.array([20.0, 20.0]) + 0.5 * rng.standard_normal((30, 2))
    X = np.vstack([X0, X1])
    y = np.r_[np.zeros(len(X0), dtype=int), np.ones(30, dtype=int)]
    blob = np.r_[np.repeat(np.arange(3), n_per_blob), np.full(30, 3)]
    return X, y, blob


# ----------------------------------------------------------------------------
# Counts and the sampling strategy


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("auto", {0: 40, 1: 40}),
        ("not minority", {0: 40, 1: 40}),
        ("majority", {0: 40}),
        ("not majority", {1: 40, 2: 40}),
        ("all", {0: 40, 1: 40, 2: 40}),
        ({0: 100, 2: 10}, {0: 100, 2: 10}),
        (lambda y: {0: int((y == 0).sum()) // 2}, {0: 120}),
    ],
)
def test_counts_follow_the_strategy(strategy, expected):
    X, y = _imbalanced()
    counts = np.bincount(y)
    assert counts.tolist() == [240, 120, 40]
    sampler = ClusterComplexityUnderSampler(sampling_strategy=strategy, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    want = {c: expected.get(c, counts[c]) for c in range(3)}
    assert np.bincount(y_res).tolist() == [want[c] for c in range(3)]
    assert X_res.shape == (sum(want.values()), X.shape[1])
    assert sampler.sampling_strategy_ == expected


def test_float_strategy_binary():
    X, y = make_classification(n_samples=300, weights=[0.8], random_state=1)
    n_min = np.bincount(y).min()
    _, y_res = ClusterComplexityUnderSampler(
        sampling_strategy=0.5, random_state=0
    ).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [int(n_min / 0.5), n_min]


@pytest.mark.parametrize(
    "strategy",
    [
        "auto",
        "majority",
        "not minority",
        "not majority",
        "all",
        0.3,
        0.75,
        1.0,
        {0: 50},
        {0: 7, 1: 3},
    ],
)
def test_strategy_matches_imbalanced_learn(strategy):
    validation = pytest.importorskip("imblearn.utils._validation")
    rng = np.random.default_rng(0)
    if isinstance(strategy, float):
        y = np.r_[np.zeros(90, dtype=int), np.ones(25, dtype=int)]
    else:
        y = np.r_[np.zeros(90, dtype=int), np.ones(25, dtype=int), np.full(10, 2)]
    rng.shuffle(y)
    ours = resolve_sampling_strategy(strategy, y, "under-sampling")
    ref = validation.check_sampling_strategy(strategy, y, "under-sampling")
    assert ours == dict(ref)


@pytest.mark.parametrize(
    "strategy, error, match",
    [
        ("minority", InvalidParameterError, "'sampling_strategy' parameter"),
        ({0: 500}, ValueError, "keeps between 0 and all"),
        ({0: -1}, ValueError, "negative number of samples"),
        ({7: 3}, ValueError, "not present in y"),
        ({0: 2.5}, TypeError, "integer counts"),
        (0.5, ValueError, "only for a binary target"),
        (lambda y: [1, 2], TypeError, "must return a dict"),
    ],
)
def test_strategy_errors(strategy, error, match):
    X, y = _imbalanced()
    with pytest.raises(error, match=match):
        ClusterComplexityUnderSampler(sampling_strategy=strategy).fit_resample(X, y)


def test_float_too_small_for_the_majority():
    y = np.r_[np.zeros(30, dtype=int), np.ones(20, dtype=int)]
    with pytest.raises(ValueError, match="increase the ratio"):
        resolve_sampling_strategy(0.5, y, "under-sampling")


@pytest.mark.parametrize(
    "params",
    [
        {"n_clusters": 0},
        {"temperature": 0.0},
        {"keep": "middle"},
        {"metric": "manhattan"},
        {"min_fraction": 1.5},
        {"inter_clusters": "same"},
    ],
)
def test_parameter_validation(params):
    X, y = _imbalanced()
    with pytest.raises(InvalidParameterError):
        ClusterComplexityUnderSampler(**params).fit_resample(X, y)


def test_fit_resolves_the_strategy_only():
    X, y = _imbalanced()
    sampler = ClusterComplexityUnderSampler().fit(X, y)
    assert sampler.sampling_strategy_ == {0: 40, 1: 40}
    assert not hasattr(sampler, "sample_indices_")


# ----------------------------------------------------------------------------
# Kept rows


def test_kept_rows_are_a_subset_given_by_sample_indices():
    X, y = _imbalanced()
    X_copy, y_copy = X.copy(), y.copy()
    w = np.linspace(0.5, 2.0, len(y))
    sampler = ClusterComplexityUnderSampler(random_state=0)
    X_res, y_res, w_res = sampler.fit_resample(X, y, sample_weight=w)
    idx = sampler.sample_indices_
    assert np.all(np.diff(idx) > 0)  # increasing, hence no duplicates
    np.testing.assert_array_equal(X_res, X[idx])
    np.testing.assert_array_equal(y_res, y[idx])
    np.testing.assert_array_equal(w_res, w[idx])
    # The minority class is untouched.
    assert set(np.flatnonzero(y == 2)) <= set(idx.tolist())
    # The caller's arrays are not modified.
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_per_cluster_budget_bounds():
    X, y = _imbalanced()
    sampler = ClusterComplexityUnderSampler(n_clusters=6, random_state=0)
    sampler.fit_resample(X, y)
    kept_per_cluster = np.bincount(
        sampler.cluster_labels_[sampler.sample_indices_],
        minlength=len(sampler.cluster_sizes_),
    )
    np.testing.assert_array_equal(kept_per_cluster, sampler.cluster_budget_)
    assert np.all(sampler.cluster_budget_ <= sampler.cluster_sizes_)
    for cls, n_keep in sampler.sampling_strategy_.items():
        mine = sampler.cluster_class_ == cls
        assert sampler.cluster_budget_[mine].sum() == n_keep
        floor = np.floor(0.5 * n_keep / mine.sum())
        assert np.all(
            sampler.cluster_budget_[mine]
            >= np.minimum(floor, sampler.cluster_sizes_[mine])
        )


def _brute_force_complexity(X, labels, owners, n_inter, inter_clusters="all"):
    n_clusters = labels.max() + 1
    centers = np.array([X[labels == j].mean(axis=0) for j in range(n_clusters)])
    d_intra = np.array(
        [
            np.linalg.norm(X[labels == j] - centers[j], axis=1).mean()
            for j in range(n_clusters)
        ]
    )
    D = cdist(centers, centers)
    d_inter = np.empty(n_clusters)
    for j in range(n_clusters):
        if inter_clusters == "all":
            others = np.delete(np.arange(n_clusters), j)
        else:
            others = np.flatnonzero(owners != owners[j])
        d_inter[j] = np.sort(D[j, others])[:n_inter].mean()
    return centers, d_intra * d_inter


@pytest.mark.parametrize("inter_clusters", ["all", "other-class"])
def test_complexity_matches_brute_force(inter_clusters):
    X, y, _ = _three_blobs()
    sampler = ClusterComplexityUnderSampler(
        n_clusters=3, n_inter_neighbors=2, inter_clusters=inter_clusters, random_state=0
    )
    sampler.fit_resample(X, y)
    centers, complexity = _brute_force_complexity(
        X, sampler.cluster_labels_, sampler.cluster_class_, 2, inter_clusters
    )
    np.testing.assert_allclose(sampler.cluster_centers_, centers, atol=1e-8)
    np.testing.assert_allclose(sampler.cluster_complexity_, complexity, rtol=1e-8)


def test_allocation_is_proportional_to_complexity():
    X, y, blob = _three_blobs(spreads=(0.2, 0.5, 1.0))
    sampler = ClusterComplexityUnderSampler(
        sampling_strategy={0: 90}, n_clusters=3, min_fraction=0.0, random_state=0
    )
    sampler.fit_resample(X, y)
    labels = sampler.cluster_labels_
    # k-means recovers the three blobs of class 0.
    for j in range(3):
        assert len(np.unique(blob[labels == j])) == 1
    _, complexity = _brute_force_complexity(X, labels, sampler.cluster_class_, 20)
    c0 = complexity[:3]
    expected = 90 * c0 / c0.sum()
    assert np.all(expected < 120)  # the caps do not bind
    budget = sampler.cluster_budget_[:3]
    assert budget.sum() == 90
    assert np.all(np.abs(budget - expected) < 1)
    # The widest blob keeps the most rows.
    spread_of_cluster = [blob[labels == j][0] for j in range(3)]
    assert np.argmax(budget) == spread_of_cluster.index(2)
    assert np.argmin(budget) == spread_of_cluster.index(0)


def test_softmax_temperature():
    complexity = np.array([1.0, 2.0, 3.0])
    sizes = np.array([100, 100, 100])
    shares = np.exp(complexity / 2.0) / np.exp(complexity / 2.0).sum()
    budget = cluster_budget(complexity, sizes, 60, temperature=2.0, min_fraction=0)
    assert budget.sum() == 60
    assert np.all(np.abs(budget - 60 * shares) < 1)
    # A very high temperature gives an even split.
    flat = cluster_budget(complexity, sizes, 60, temperature=1e9, min_fraction=0)
    np.testing.assert_array_equal(flat, [20, 20, 20])
    # A low temperature with a cap: the capped cluster is full, and the
    # Euclidean projection (the paper's QP) spreads the spill evenly.
    capped = cluster_budget(
        complexity, np.array([100, 100, 10]), 60, temperature=0.01, min_fraction=0
    )
    np.testing.assert_array_equal(capped, [25, 25, 10])


def test_zero_complexity_falls_back_to_an_even_split():
    budget = cluster_budget(np.zeros(4), np.array([10, 10, 10, 10]), 20)
    np.testing.assert_array_equal(budget, [5, 5, 5, 5])


@pytest.mark.parametrize("seed", range(8))
def test_capped_simplex_projection_matches_slsqp(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    upper = rng.integers(1, 20, size=n).astype(float)
    lower = np.floor(rng.uniform(0, 1, size=n) * upper * 0.5)
    total = float(rng.uniform(lower.sum(), upper.sum()))
    target = rng.uniform(-5, 25, size=n)
    x = capped_simplex_projection(target, lower, upper, total)
    result = optimize.minimize(
        lambda z: 0.5 * np.sum((z - target) ** 2),
        x0=(lower + upper) / 2,
        jac=lambda z: z - target,
        method="SLSQP",
        bounds=list(zip(lower, upper)),
        constraints=[{"type": "eq", "fun": lambda z: z.sum() - total}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert result.success
    np.testing.assert_allclose(x, result.x, atol=1e-5)
    assert x.sum() == pytest.approx(total)


def test_capped_simplex_projection_rejects_an_empty_set():
    with pytest.raises(ValueError, match="empty"):
        capped_simplex_projection(
            np.zeros(2), np.array([3.0, 3.0]), np.array([5.0, 5.0]), 4.0
        )


def _distances_to_own_center(sampler, X):
    return np.linalg.norm(X - sampler.cluster_centers_[sampler.cluster_labels_], axis=1)


@pytest.mark.parametrize("keep", ["hard", "easy"])
def test_prototypical_rows_are_dropped_first(keep):
    X, y = _imbalanced()
    sampler = ClusterComplexityUnderSampler(n_clusters=4, keep=keep, random_state=0)
    sampler.fit_resample(X, y)
    dist = _distances_to_own_center(sampler, X)
    kept = np.zeros(len(y), dtype=bool)
    kept[sampler.sample_indices_] = True
    n_partial = 0
    for j in range(len(sampler.cluster_sizes_)):
        members = sampler.cluster_labels_ == j
        k, d = kept[members], dist[members]
        if k.all() or not k.any():
            continue
        n_partial += 1
        if keep == "hard":
            assert d[k].min() >= d[~k].max()
        else:
            assert d[k].max() <= d[~k].min()
    assert n_partial >= 4


def test_random_keep_respects_the_budget():
    X, y = _imbalanced()
    sampler = ClusterComplexityUnderSampler(keep="random", random_state=0)
    sampler.fit_resample(X, y)
    kept_per_cluster = np.bincount(
        sampler.cluster_labels_[sampler.sample_indices_],
        minlength=len(sampler.cluster_sizes_),
    )
    np.testing.assert_array_equal(kept_per_cluster, sampler.cluster_budget_)
    hard = ClusterComplexityUnderSampler(random_state=0).fit_resample(X, y)
    assert not np.array_equal(hard[0], X[sampler.sample_indices_])


@pytest.mark.parametrize("keep", ["hard", "random"])
def test_reproducible(keep):
    X, y = _imbalanced()
    a = ClusterComplexityUnderSampler(keep=keep, random_state=3)
    b = ClusterComplexityUnderSampler(keep=keep, random_state=3)
    a.fit_resample(X, y)
    b.fit_resample(X, y)
    np.testing.assert_array_equal(a.sample_indices_, b.sample_indices_)
    np.testing.assert_array_equal(a.cluster_labels_, b.cluster_labels_)
    # n_jobs changes the threads, not the result.
    c = ClusterComplexityUnderSampler(keep=keep, random_state=3, n_jobs=1)
    c.fit_resample(X, y)
    np.testing.assert_array_equal(a.sample_indices_, c.sample_indices_)


def test_cosine_ignores_the_scale_of_rows():
    X, y = _imbalanced()
    scale = np.random.default_rng(0).uniform(0.5, 3.0, size=(len(y), 1))
    a = ClusterComplexityUnderSampler(metric="cosine", random_state=0)
    b = ClusterComplexityUnderSampler(metric="cosine", random_state=0)
    a.fit_resample(X, y)
    b.fit_resample(X * scale, y)
    np.testing.assert_array_equal(a.cluster_labels_, b.cluster_labels_)
    np.testing.assert_array_equal(a.sample_indices_, b.sample_indices_)
    np.testing.assert_allclose(np.linalg.norm(a.cluster_centers_, axis=1), 1.0)


# ----------------------------------------------------------------------------
# Containers


def test_dataframe_and_series_keep_their_container():
    pd = pytest.importorskip("pandas")
    X, y = _imbalanced()
    frame = pd.DataFrame(
        X, columns=[f"f{i}" for i in range(X.shape[1])], index=np.arange(len(y)) + 1000
    )
    frame["f0"] = frame["f0"].astype(np.float32)
    target = pd.Series(y, name="label", index=frame.index)
    sampler = ClusterComplexityUnderSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(frame, target)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(X_res.columns) == list(frame.columns)
    assert X_res.dtypes.equals(frame.dtypes)
    assert X_res.index.equals(pd.RangeIndex(len(X_res)))
    assert y_res.name == "label"
    np.testing.assert_array_equal(
        X_res.to_numpy(), frame.to_numpy()[sampler.sample_indices_]
    )
    np.testing.assert_array_equal(sampler.feature_names_in_, frame.columns)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_keeps_its_format(fmt):
    X, y = _imbalanced()
    X[np.abs(X) < 0.5] = 0.0
    Xs = sparse.csr_matrix(X).asformat(fmt)
    sampler = ClusterComplexityUnderSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(Xs, y)
    assert sparse.issparse(X_res) and X_res.format == fmt
    np.testing.assert_array_equal(X_res.toarray(), X[sampler.sample_indices_])
    assert np.bincount(y_res).tolist() == [40, 40, 40]
    # Distances to the centres from the sparse formula equal the dense ones.
    dense = ClusterComplexityUnderSampler(random_state=0)
    dense.fit_resample(X, y)
    np.testing.assert_array_equal(dense.cluster_labels_, sampler.cluster_labels_)
    np.testing.assert_allclose(
        dense.cluster_complexity_, sampler.cluster_complexity_, rtol=1e-9
    )
    np.testing.assert_array_equal(dense.sample_indices_, sampler.sample_indices_)


def test_integer_array_keeps_its_dtype():
    X, y = _imbalanced()
    Xi = np.round(X * 10).astype(np.int64)
    X_res, _ = ClusterComplexityUnderSampler(random_state=0).fit_resample(Xi, y)
    assert X_res.dtype == np.int64


def test_sample_weight_shape_is_checked():
    X, y = _imbalanced()
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        ClusterComplexityUnderSampler().fit_resample(X, y, sample_weight=np.ones(3))


def test_single_row_clusters_and_duplicates():
    # Tiny classes and repeated rows: more clusters than distinct rows.
    X = np.array([[0.0, 0.0]] * 6 + [[1.0, 1.0]] * 3 + [[5.0, 5.0], [6.0, 5.0]])
    y = np.array([0] * 9 + [1] * 2)
    sampler = ClusterComplexityUnderSampler(n_clusters=5, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [2, 2]
    assert np.all(sampler.cluster_sizes_ > 0)


def test_in_imbalanced_learn_pipeline():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    from sklearn.linear_model import LogisticRegression

    X, y = make_blobs(n_samples=[300, 40], centers=[[0, 0], [2, 2]], random_state=0)
    pipe = imblearn_pipeline.make_pipeline(
        ClusterComplexityUnderSampler(random_state=0), LogisticRegression()
    )
    pipe.fit(X, y)
    assert pipe[-1].n_features_in_ == 2
    assert pipe.score(X, y) > 0.8


def test_auto_number_of_clusters():
    X, y = _imbalanced()
    sampler = ClusterComplexityUnderSampler(random_state=0)
    sampler.fit_resample(X, y)
    # round(sqrt(n_class / 2)) for classes of 240, 120 and 40 rows.
    assert np.bincount(sampler.cluster_class_).tolist() == [11, 8, 4]
    assert sampler._n_clusters_for(10**6) == 64
    assert ClusterComplexityUnderSampler(n_clusters=500)._n_clusters_for(30) == 30
