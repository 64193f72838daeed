"""HNSWIndex and HNSWNeighborsTransformer against brute force and the paper."""

import pickle

import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import DBSCAN
from sklearn.datasets import load_digits, load_iris
from sklearn.manifold import TSNE, Isomap
from sklearn.neighbors import KNeighborsClassifier as SklearnKNN
from sklearn.neighbors import KNeighborsTransformer
from sklearn.neighbors._base import _check_precomputed
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.distances import knn_search
from sklearn_metric.metric_learning import NCA
from sklearn_metric.neighbors import HNSWIndex, HNSWNeighborsTransformer


def _low_dim(n, n_features=32, intrinsic=8, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, intrinsic))
    A = rng.normal(size=(intrinsic, n_features))
    return (Z @ A + 0.05 * rng.normal(size=(n, n_features))).astype(dtype)


def _recall(found, exact):
    hits = [len(set(a) & set(b)) for a, b in zip(found, exact)]
    return np.sum(hits) / exact.size


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


# -- exactness ---------------------------------------------------------------

METRIC_CASES = [
    ("euclidean", {}),
    ("sqeuclidean", {}),
    ("manhattan", {}),
    ("chebyshev", {}),
    ("minkowski", {"p": 3}),
    ("cosine", {}),
    ("snr", {}),
]


@pytest.mark.parametrize("metric, params", METRIC_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ef_at_least_n_is_brute_force(digits, metric, params, dtype):
    X = digits[0][:600].astype(dtype)
    Q = digits[0][1000:1100].astype(dtype)
    index = HNSWIndex(M=8, ef=len(X), metric=metric, metric_params=params)
    index.set_params(random_state=0).fit(X)
    distances, indices = index.query(Q, 7)
    expected_d, expected_i = knn_search(Q, X, 7, metric=metric, **params)
    np.testing.assert_array_equal(indices, expected_i)
    assert distances.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(distances, expected_d, rtol=rtol, atol=rtol)


def test_inner_product_is_one_minus_dot(digits):
    X, Q = digits[0][:500], digits[0][1500:1550]
    index = HNSWIndex(metric="ip", ef=len(X), random_state=0).fit(X)
    distances, indices = index.query(Q, 4)
    scores = Q @ X.T
    # Largest inner product first, equal scores by index.
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(
        distances, 1.0 - np.take_along_axis(scores, expected, axis=1)
    )


def test_learned_metric_is_searched_in_its_space(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    nca = NCA(n_components=10, max_iter=20, random_state=0)
    nca.fit(X[:800], y[:800])
    Q = X[800:900]
    for metric in (nca, nca.get_metric()):
        index = HNSWIndex(metric=metric, ef=800, random_state=0).fit(X[:800])
        distances, indices = index.query(Q, 5)
        expected_d, expected_i = knn_search(Q, X[:800], 5, metric=nca)
        np.testing.assert_array_equal(indices, expected_i)
        np.testing.assert_allclose(distances, expected_d, rtol=1e-10)
    # The same as indexing the embedding with the Euclidean metric.
    plain = HNSWIndex(ef=800, random_state=0).fit(nca.transform(X[:800]))
    np.testing.assert_array_equal(plain.query(nca.transform(Q), 5)[1], indices)


def test_default_recall_on_low_dimensional_data():
    X = _low_dim(10_000)
    Q = _low_dim(500, seed=1)
    _, exact = knn_search(Q, X, 10)
    _, found = HNSWIndex(ef=100, random_state=0).fit(X).query(Q, 10)
    assert _recall(found, exact) >= 0.95


def test_recall_does_not_fall_as_ef_grows():
    X = _low_dim(5_000, n_features=16, intrinsic=12)
    Q = _low_dim(300, n_features=16, intrinsic=12, seed=1)
    _, exact = knn_search(Q, X, 10)
    index = HNSWIndex(M=6, ef_construction=40, random_state=0).fit(X)
    recalls = [
        _recall(index.set_ef(ef).query(Q, 10)[1], exact) for ef in (10, 20, 40, 80, 160)
    ]
    assert np.all(np.diff(recalls) >= 0), recalls
    # The small graph leaves room to improve: the test can see a regression.
    assert recalls[0] < 0.95 < recalls[-1]


# -- the graph -----------------------------------------------------------------


def test_degree_bounds_and_link_sanity():
    X = _low_dim(3_000, n_features=8, intrinsic=4)
    M = 6
    index = HNSWIndex(M=M, ef_construction=50, random_state=0).fit(X)
    levels = index.levels_
    for node in range(index.n_indexed_):
        for level in range(levels[node] + 1):
            links = index.neighbors_of(node, level)
            assert links.size <= (2 * M if level == 0 else M)
            assert node not in links
            assert np.unique(links).size == links.size
            # A node's neighbours on layer l live on layer l too.
            assert np.all(levels[links] >= level)
    degrees = np.array([index.neighbors_of(i).size for i in range(len(X))])
    # The bound is reached: nodes do fill up to 2M on layer 0.
    assert degrees.max() == 2 * M and degrees.min() >= 1


def test_levels_follow_the_geometric_law():
    M = 8
    n = 40_000
    X = np.random.default_rng(0).normal(size=(n, 2))
    levels = HNSWIndex(M=M, ef_construction=10, random_state=0).fit(X).levels_
    # P(level >= l) = M ** -l: the count at or above each level is binomial.
    for level in (1, 2, 3):
        p = float(M) ** -level
        count = np.count_nonzero(levels >= level)
        assert abs(count - n * p) < 5 * np.sqrt(n * p * (1 - p)) + 1, (level, count)


def test_same_seed_same_graph_and_results():
    X = _low_dim(2_000, n_features=8)
    a = HNSWIndex(M=8, random_state=3).fit(X)
    b = HNSWIndex(M=8, random_state=3).fit(X)
    c = HNSWIndex(M=8, random_state=4).fit(X)
    np.testing.assert_array_equal(a.levels_, b.levels_)
    for node in range(0, 2_000, 97):
        np.testing.assert_array_equal(a.neighbors_of(node), b.neighbors_of(node))
    Q = X[:50] + 0.01
    np.testing.assert_array_equal(a.query(Q, 5)[1], b.query(Q, 5)[1])
    assert not np.array_equal(a.levels_, c.levels_)


def test_parallel_batched_build_is_deterministic_and_as_good():
    # 6,000 rows: 2,048 inserted one by one, the rest in parallel batches.
    X = _low_dim(6_000, n_features=16)
    Q = _low_dim(300, n_features=16, seed=9)
    _, exact = knn_search(Q, X, 10)
    sequential = HNSWIndex(M=8, ef_construction=64, random_state=0, n_jobs=1).fit(X)
    batched = HNSWIndex(M=8, ef_construction=64, random_state=0, n_jobs=2).fit(X)
    again = HNSWIndex(M=8, ef_construction=64, random_state=0, n_jobs=2).fit(X)
    for node in range(0, 6_000, 37):
        np.testing.assert_array_equal(
            batched.neighbors_of(node), again.neighbors_of(node)
        )
        assert batched.neighbors_of(node).size <= 16
    # The batches change the graph but not its quality.
    assert any(
        not np.array_equal(batched.neighbors_of(n), sequential.neighbors_of(n))
        for n in range(2_048, 6_000)
    )
    r_seq = _recall(sequential.set_ef(20).query(Q, 10)[1], exact)
    r_par = _recall(batched.set_ef(20).query(Q, 10)[1], exact)
    assert r_par >= r_seq - 0.01 and r_par > 0.9
    np.testing.assert_array_equal(batched.set_ef(6_000).query(Q, 10)[1], exact)


def test_graph_connected_from_the_entry_point():
    X = _low_dim(4_000, n_features=8, intrinsic=6)
    index = HNSWIndex(M=5, ef_construction=30, random_state=0).fit(X)
    seen = {index.entry_point_}
    frontier = [index.entry_point_]
    while frontier:
        node = frontier.pop()
        for other in index.neighbors_of(node):
            if other not in seen:
                seen.add(int(other))
                frontier.append(int(other))
    assert len(seen) == len(X)


# -- incremental use, deletion, persistence --------------------------------------


def test_add_extends_the_index():
    X = _low_dim(3_000, n_features=16)
    index = HNSWIndex(random_state=0).fit(X[:1_000])
    for start in (1_000, 1_700):
        index.add(X[start : start + 700])
    index.add(X[2_400:])
    assert index.n_indexed_ == 3_000
    Q = _low_dim(200, n_features=16, seed=5)
    index.set_ef(3_000)
    np.testing.assert_array_equal(index.query(Q, 8)[1], knn_search(Q, X, 8)[1])
    _, found = index.set_ef(50).query(Q, 8)
    assert _recall(found, knn_search(Q, X, 8)[1]) > 0.95


def test_removed_rows_leave_the_results():
    X = _low_dim(2_000, n_features=16)
    Q = _low_dim(100, n_features=16, seed=7)
    index = HNSWIndex(random_state=0).fit(X)
    removed = np.arange(0, 2_000, 3)
    index.remove(removed)
    assert index.n_live_ == 2_000 - removed.size
    kept = np.setdiff1d(np.arange(2_000), removed)
    _, found = index.set_ef(2_000).query(Q, 6)
    np.testing.assert_array_equal(found, kept[knn_search(Q, X[kept], 6)[1]])
    _, found = index.set_ef(30).query(Q, 6)
    assert not np.isin(found, removed).any()


def test_pickle_and_joblib_round_trip(tmp_path):
    X = _low_dim(1_500, n_features=8)
    index = HNSWIndex(M=8, random_state=0).fit(X)
    Q = X[:40] + 0.1
    expected = index.query(Q, 5)
    restored = pickle.loads(pickle.dumps(index))
    path = tmp_path / "index.joblib"
    joblib.dump(index, path)
    loaded = joblib.load(path)
    for other in (restored, loaded):
        for got, want in zip(other.query(Q, 5), expected):
            np.testing.assert_array_equal(got, want)
    # The restored index keeps growing like the original.
    index.add(X[:100] + 0.5)
    restored.add(X[:100] + 0.5)
    np.testing.assert_array_equal(index.query(Q, 5)[1], restored.query(Q, 5)[1])


def test_caller_arrays_are_left_alone():
    X = _low_dim(500, n_features=8)
    X_copy = X.copy()
    HNSWIndex(metric="cosine", random_state=0).fit(X).query(X, 3)
    np.testing.assert_array_equal(X, X_copy)


# -- errors -------------------------------------------------------------------


def test_python_callable_metric_is_refused():
    with pytest.raises(TypeError, match="cannot call a Python function"):
        HNSWIndex(metric=lambda a, b: 0.0).fit(np.eye(3))


def test_bad_queries_are_refused():
    X = _low_dim(50, n_features=4)
    index = HNSWIndex(random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_neighbors=51 is more than the 50"):
        index.query(X, 51)
    with pytest.raises(ValueError, match="4 features"):
        index.query(X[:, :3], 2)
    with pytest.raises(ValueError, match="NaN"):
        index.query(np.full((1, 4), np.nan), 2)
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        index.remove([50])
    index.remove(np.arange(48))
    with pytest.raises(ValueError, match="2 indexed rows that are not deleted"):
        index.query(X, 3)
    with pytest.raises(ValueError, match="must be below"):
        index.query_indexed(2)


def test_minkowski_needs_valid_p():
    with pytest.raises(ValueError, match="p >= 1"):
        HNSWIndex(metric="minkowski", metric_params={"p": 0.5}).fit(np.eye(3))


# -- the transformer -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["distance", "connectivity"])
def test_transformer_equals_kneighbors_transformer_when_exhaustive(digits, mode):
    X = digits[0][:700]
    Q = digits[0][900:1000]
    ours = HNSWNeighborsTransformer(n_neighbors=6, mode=mode, ef=700, random_state=0)
    theirs = KNeighborsTransformer(n_neighbors=6, mode=mode, algorithm="brute")
    n_entries = 7 if mode == "distance" else 6
    for rows, got, want in (
        (X, ours.fit_transform(X), theirs.fit_transform(X)),
        (Q, ours.transform(Q), theirs.transform(Q)),
    ):
        assert got.format == "csr" and got.shape == want.shape
        np.testing.assert_array_equal(got.indptr, want.indptr)
        # Same distances row by row; digits' integer pixels tie often, and
        # scikit-learn orders ties its own way, so the columns are checked
        # against our exact search, which orders them by index.
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12)
        _, expected = knn_search(rows, X, n_entries)
        np.testing.assert_array_equal(got.indices, expected.ravel())


def test_graph_passes_the_precomputed_checks(digits):
    X = digits[0][:500]
    graph = HNSWNeighborsTransformer(n_neighbors=10, random_state=0).fit_transform(X)
    checked = _check_precomputed(graph)
    assert sparse.issparse(checked)
    # Rows are sorted by distance, so the check did not need to re-sort.
    np.testing.assert_array_equal(checked.indices, graph.indices)
    assert np.all(graph.diagonal() == 0) and graph.getnnz(axis=1).min() == 11


def test_transformer_feeds_precomputed_estimators(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    pipe = make_pipeline(
        HNSWNeighborsTransformer(n_neighbors=5, random_state=0),
        SklearnKNN(n_neighbors=5, metric="precomputed"),
    ).fit(X_train, y_train)
    exact = SklearnKNN(n_neighbors=5).fit(X_train, y_train)
    assert abs(pipe.score(X_test, y_test) - exact.score(X_test, y_test)) <= 0.005

    graph = HNSWNeighborsTransformer(n_neighbors=30, random_state=0).fit_transform(
        X[:600]
    )
    embedding = TSNE(
        metric="precomputed", init="random", perplexity=8, random_state=0, max_iter=250
    ).fit_transform(graph)
    assert embedding.shape == (600, 2) and np.isfinite(embedding).all()
    iso = Isomap(n_neighbors=10, metric="precomputed").fit_transform(graph)
    assert iso.shape == (600, 2) and np.isfinite(iso).all()
    labels = DBSCAN(eps=4.0, min_samples=5, metric="precomputed").fit_predict(graph)
    assert labels.shape == (600,) and len(set(labels) - {-1}) >= 2


def test_transformer_is_the_samplers_neighbours_object():
    from sklearn_metric.over_sampling import SMOTE

    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:100, 100:115]
    X, y = X[keep], y[keep]
    exact = SMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
    approx = SMOTE(
        k_neighbors=HNSWNeighborsTransformer(n_neighbors=6, ef=200, random_state=0),
        random_state=0,
    ).fit_resample(X, y)
    for got, want in zip(approx, exact):
        np.testing.assert_array_equal(got, want)


def test_transformer_kneighbors_of_training_rows_skip_themselves(digits):
    X = digits[0][:400]
    model = HNSWNeighborsTransformer(n_neighbors=4, ef=400, random_state=0).fit(X)
    distances, indices = model.kneighbors()
    expected_d, expected_i = knn_search(X, X, 4, exclude_self=True)
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-12)
    # ef set after fitting applies to later queries.
    model.set_params(ef=4)
    assert _recall(model.kneighbors()[1], expected_i) < 1.0


def test_learned_metric_graph_matches_exact_knn_in_lmnn_space(digits):
    # The acceptance line: HNSW under a fitted LMNN, then a precomputed
    # kNN, within 0.005 of the exact kNN in the LMNN space.
    from sklearn.model_selection import train_test_split

    from sklearn_metric.metric_learning import LMNN
    from sklearn_metric.neighbors import KNeighborsClassifier

    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    lmnn = LMNN(n_neighbors=3, random_state=0).fit(X_train, y_train)
    exact = KNeighborsClassifier(3, metric=lmnn).fit(X_train, y_train)
    approximate = make_pipeline(
        HNSWNeighborsTransformer(n_neighbors=3, metric=lmnn, random_state=0),
        SklearnKNN(n_neighbors=3, metric="precomputed"),
    ).fit(X_train, y_train)
    exact_score = exact.score(X_test, y_test)
    assert exact_score > 0.97
    assert abs(approximate.score(X_test, y_test) - exact_score) <= 0.005
