"""Oracle tests for sklearn_metric.distances against scipy and brute force."""

import pickle
import tracemalloc

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist

import sklearn_metric.distances as distances_module
from sklearn_metric.distances import (
    METRICS,
    knn_search,
    paired_distances,
    pairwise_distances,
    pairwise_distances_chunked,
)

# (our name, our params, scipy name, scipy params)
SCIPY_CASES = [
    ("euclidean", {}, "euclidean", {}),
    ("l2", {}, "euclidean", {}),
    ("sqeuclidean", {}, "sqeuclidean", {}),
    ("manhattan", {}, "cityblock", {}),
    ("cityblock", {}, "cityblock", {}),
    ("l1", {}, "cityblock", {}),
    ("chebyshev", {}, "chebyshev", {}),
    ("minkowski", {"p": 3}, "minkowski", {"p": 3}),
    ("minkowski", {"p": 1.5}, "minkowski", {"p": 1.5}),
    ("minkowski", {"p": 1}, "minkowski", {"p": 1}),
    ("minkowski", {"p": 2}, "minkowski", {"p": 2}),
    ("minkowski", {"p": np.inf}, "chebyshev", {}),
    ("cosine", {}, "cosine", {}),
]
# Small and large feature counts exercise both the pair-by-pair and GEMM paths.
N_FEATURES = [3, 40]


def snr_reference(X, Y):
    """var(y - x) / var(x) with variances over features, by plain NumPy."""
    noise = Y[None, :, :] - X[:, None, :]
    return noise.var(axis=2) / X.var(axis=1)[:, None]


def brute_force_knn(D, k, exclude_self=False):
    """Neighbours from a full distance matrix, ties by index, by stable argsort."""
    D = np.array(D, dtype=np.float64)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    order = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, order, axis=1), order


def random_psd(rng, n_features, rank=None):
    A = rng.standard_normal((n_features, rank or n_features))
    return A @ A.T


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def max_relative_error(actual, expected):
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return np.max(np.abs(actual - expected) / scale)


@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("name, params, scipy_name, scipy_params", SCIPY_CASES)
def test_pairwise_matches_cdist_float64(
    rng, name, params, scipy_name, scipy_params, n_features
):
    X = rng.standard_normal((37, n_features))
    Y = rng.standard_normal((23, n_features)) + 0.5
    D = pairwise_distances(X, Y, metric=name, **params)
    assert D.dtype == np.float64
    assert max_relative_error(D, cdist(X, Y, scipy_name, **scipy_params)) < 1e-9


@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("name, params, scipy_name, scipy_params", SCIPY_CASES)
def test_pairwise_float32_in_float32_out(
    rng, name, params, scipy_name, scipy_params, n_features
):
    X = rng.standard_normal((21, n_features)).astype(np.float32)
    Y = rng.standard_normal((17, n_features)).astype(np.float32)
    D = pairwise_distances(X, Y, metric=name, **params)
    assert D.dtype == np.float32
    expected = cdist(
        X.astype(np.float64), Y.astype(np.float64), scipy_name, **scipy_params
    )
    # Sums run in float64; only the final rounding to float32 remains.
    assert max_relative_error(D, expected) < 1e-6


@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mahalanobis_matches_cdist(rng, n_features, dtype):
    X = rng.standard_normal((25, n_features)).astype(dtype)
    Y = rng.standard_normal((19, n_features)).astype(dtype)
    VI = random_psd(rng, n_features)
    expected = cdist(X.astype(np.float64), Y.astype(np.float64), "mahalanobis", VI=VI)
    D = pairwise_distances(X, Y, metric="mahalanobis", VI=VI)
    assert D.dtype == dtype
    tol = 1e-9 if dtype == np.float64 else 1e-6
    assert max_relative_error(D, expected) < tol


def test_mahalanobis_components_equal_vi(rng):
    X = rng.standard_normal((30, 5))
    L = rng.standard_normal((3, 5))
    expected = cdist(X, X, "mahalanobis", VI=L.T @ L)
    assert_allclose(
        pairwise_distances(X, metric="mahalanobis", components=L),
        expected,
        rtol=1e-9,
        atol=1e-12,
    )
    # A singular, rank-deficient VI is still a valid (pseudo-)metric.
    assert_allclose(
        pairwise_distances(X, metric="mahalanobis", VI=L.T @ L),
        expected,
        rtol=1e-7,
        atol=1e-7,
    )


class _FittedLearner:
    """Stands in for a fitted Mahalanobis metric learner."""

    def __init__(self, components):
        self.components_ = components

    def get_mahalanobis_matrix(self):
        return self.components_.T @ self.components_


def test_fitted_learner_as_metric(rng):
    X = rng.standard_normal((20, 4))
    learner = _FittedLearner(rng.standard_normal((2, 4)))
    expected = cdist(X @ learner.components_.T, X @ learner.components_.T)
    assert_allclose(pairwise_distances(X, metric=learner), expected, atol=1e-12)
    _, indices = knn_search(X, X, 3, metric=learner, exclude_self=True)
    assert_array_equal(indices, brute_force_knn(expected, 3, exclude_self=True)[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [5, 32])
def test_snr_against_numpy_reference(rng, dtype, n_features):
    X = rng.standard_normal((15, n_features)).astype(dtype)
    Y = rng.standard_normal((11, n_features)).astype(dtype)
    D = pairwise_distances(X, Y, metric="snr")
    assert D.dtype == dtype
    expected = snr_reference(X.astype(np.float64), Y.astype(np.float64))
    assert max_relative_error(D, expected) < (1e-6 if dtype == np.float32 else 1e-12)


def test_snr_invariances(rng):
    x, y = rng.standard_normal((2, 1, 12))
    d = pairwise_distances(x, y, metric="snr")[0, 0]
    assert pairwise_distances(x, x, metric="snr")[0, 0] == 0.0
    assert pairwise_distances(x, x + 3.0, metric="snr")[0, 0] == pytest.approx(
        0.0, abs=1e-12
    )
    assert_allclose(
        pairwise_distances(x + 2.0, y - 1.0, metric="snr")[0, 0], d, rtol=1e-12
    )
    assert_allclose(
        pairwise_distances(4.0 * x, 4.0 * y, metric="snr")[0, 0], d, rtol=1e-12
    )
    assert not np.isclose(pairwise_distances(y, x, metric="snr")[0, 0], d)
    # Zero-mean, unit-norm rows: var(x) = 1 / d and var(y - x) = |y - x|^2 / d,
    # so the SNR distance is the squared Euclidean distance.
    Z = rng.standard_normal((2, 12))
    Z -= Z.mean(axis=1, keepdims=True)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    assert_allclose(
        pairwise_distances(Z[:1], Z[1:], metric="snr")[0, 0],
        np.sum((Z[0] - Z[1]) ** 2),
        rtol=1e-12,
    )


def test_snr_constant_anchor():
    constant = np.full((1, 4), 2.0)
    D = pairwise_distances(
        constant, np.array([[5.0, 5, 5, 5], [0.0, 1, 2, 3]]), metric="snr"
    )
    assert_array_equal(D, [[0.0, np.inf]])


def test_cosine_zero_row_is_orthogonal():
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert_array_equal(pairwise_distances(X, metric="cosine"), [[1.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "snr"])
def test_callable_metric_matches_builtin(rng, metric):
    X = rng.standard_normal((9, 6))
    builtin = pairwise_distances(X, metric=metric)

    def python_metric(x, y):
        return pairwise_distances(x[None], y[None], metric=metric)[0, 0]

    assert_allclose(pairwise_distances(X, metric=python_metric), builtin)
    d, i = knn_search(X, X, 3, metric=python_metric, exclude_self=True)
    d_ref, i_ref = knn_search(X, X, 3, metric=metric, exclude_self=True)
    assert_array_equal(i, i_ref)
    assert_allclose(d, d_ref)


def test_callable_receives_params(rng):
    X = rng.standard_normal((4, 3))
    D = pairwise_distances(
        X, metric=lambda x, y, scale: scale * np.abs(x - y).sum(), scale=2.0
    )
    assert_allclose(D, 2.0 * cdist(X, X, "cityblock"))


@pytest.mark.parametrize("n_features", N_FEATURES)
def test_euclidean_keeps_precision_for_close_rows(rng, n_features):
    # Rows far from the origin and close to each other: the GEMM expansion alone
    # would lose every significant digit here.
    base = rng.standard_normal(n_features) * 1e4
    X = base + 1e-3 * rng.standard_normal((20, n_features))
    expected = cdist(X, X)
    D = pairwise_distances(X)
    off_diagonal = ~np.eye(20, dtype=bool)
    assert max_relative_error(D[off_diagonal], expected[off_diagonal]) < 1e-9
    assert_array_equal(np.diag(D), 0.0)


def test_y_none_means_x(rng):
    X = rng.standard_normal((10, 20))
    assert_allclose(pairwise_distances(X), pairwise_distances(X, X.copy()), rtol=1e-12)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "minkowski"])
def test_chunked_equals_full(rng, metric):
    X = rng.standard_normal((53, 24))
    Y = rng.standard_normal((31, 24))
    blocks = list(
        pairwise_distances_chunked(
            X, Y, metric=metric, working_memory=31 * 8 * 7 / 2**20
        )
    )
    assert [block.shape[0] for block in blocks] == [7] * 7 + [4]
    assert_allclose(
        np.vstack(blocks), pairwise_distances(X, Y, metric=metric), rtol=1e-12
    )


def test_pairwise_honours_working_memory(rng, monkeypatch):
    calls = []
    original = distances_module._PairwiseEngine.fill

    def spy(self, start, stop, out):
        calls.append(stop - start)
        return original(self, start, stop, out)

    monkeypatch.setattr(distances_module._PairwiseEngine, "fill", spy)
    import sklearn

    with sklearn.config_context(working_memory=40 * 8 * 10 / 2**20):
        pairwise_distances(rng.standard_normal((35, 3)), rng.standard_normal((40, 3)))
    assert calls == [10, 10, 10, 5]


@pytest.mark.parametrize("name, params, scipy_name, scipy_params", SCIPY_CASES)
def test_paired_matches_cdist_diagonal(rng, name, params, scipy_name, scipy_params):
    X = rng.standard_normal((13, 7))
    Y = rng.standard_normal((13, 7))
    expected = np.diag(cdist(X, Y, scipy_name, **scipy_params))
    assert (
        max_relative_error(paired_distances(X, Y, metric=name, **params), expected)
        < 1e-9
    )


def test_paired_mahalanobis_and_snr(rng):
    X = rng.standard_normal((13, 7))
    Y = rng.standard_normal((13, 7))
    VI = random_psd(rng, 7)
    assert_allclose(
        paired_distances(X, Y, metric="mahalanobis", VI=VI),
        np.diag(cdist(X, Y, "mahalanobis", VI=VI)),
        rtol=1e-9,
    )
    assert_allclose(
        paired_distances(X, Y, metric="snr"), np.diag(snr_reference(X, Y)), rtol=1e-12
    )


# ---------------------------------------------------------------- knn_search


KNN_METRICS = [
    ("euclidean", {}, "euclidean", {}),
    ("sqeuclidean", {}, "sqeuclidean", {}),
    ("manhattan", {}, "cityblock", {}),
    ("chebyshev", {}, "chebyshev", {}),
    ("minkowski", {"p": 3}, "minkowski", {"p": 3}),
    ("cosine", {}, "cosine", {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("name, params, scipy_name, scipy_params", KNN_METRICS)
def test_knn_matches_brute_force(
    rng, name, params, scipy_name, scipy_params, n_features, dtype
):
    X_index = rng.standard_normal((301, n_features)).astype(dtype)
    X_query = rng.standard_normal((57, n_features)).astype(dtype)
    D = cdist(
        X_query.astype(np.float64),
        X_index.astype(np.float64),
        scipy_name,
        **scipy_params,
    )
    expected_d, expected_i = brute_force_knn(D, 7)
    distances, indices = knn_search(X_query, X_index, 7, metric=name, **params)
    assert distances.dtype == dtype
    assert indices.dtype == np.intp
    assert_array_equal(indices, expected_i)
    assert_allclose(distances, expected_d, rtol=1e-6 if dtype == np.float32 else 1e-9)


@pytest.mark.parametrize("n_features", N_FEATURES)
def test_knn_snr_and_mahalanobis(rng, n_features):
    X = rng.standard_normal((120, n_features))
    _, indices = knn_search(X, X, 4, metric="snr", exclude_self=True)
    assert_array_equal(indices, brute_force_knn(snr_reference(X, X), 4, True)[1])
    VI = random_psd(rng, n_features)
    D = cdist(X, X, "mahalanobis", VI=VI)
    distances, indices = knn_search(
        X, X, 4, metric="mahalanobis", VI=VI, exclude_self=True
    )
    expected_d, expected_i = brute_force_knn(D, 4, True)
    assert_array_equal(indices, expected_i)
    assert_allclose(distances, expected_d, rtol=1e-9)


@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_knn_ties_go_to_smaller_index(n_features, dtype):
    # Points on a small integer grid: squared distances are exact integers and
    # almost every neighbour list is decided by ties.
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(200, n_features)).astype(dtype)
    D = cdist(X.astype(np.float64), X.astype(np.float64), "sqeuclidean")
    for exclude_self in (False, True):
        expected_d, expected_i = brute_force_knn(D, 15, exclude_self)
        distances, indices = knn_search(
            X, X, 15, metric="sqeuclidean", exclude_self=exclude_self
        )
        assert_array_equal(indices, expected_i)
        assert_array_equal(distances, expected_d)


@pytest.mark.parametrize("n_features", N_FEATURES)
def test_knn_duplicate_points(rng, n_features):
    base = rng.standard_normal((10, n_features))
    X = np.repeat(base, 6, axis=0)  # each point six times
    distances, indices = knn_search(X, X, 5, exclude_self=True)
    assert_array_equal(distances, 0.0)
    for row, neighbours in enumerate(indices):
        group = row // 6
        expected = [j for j in range(6 * group, 6 * group + 6) if j != row]
        assert_array_equal(neighbours, expected)
    # Without exclusion a point finds itself first: the smallest index of its group.
    _, indices = knn_search(X, X, 1)
    assert_array_equal(indices[:, 0], np.arange(60) // 6 * 6)


def test_knn_unproven_queries_are_redone(rng, monkeypatch):
    # With no spare candidates and many ties, the exactness proof fails for most
    # queries; the pair-by-pair search must then give the brute-force answer.
    monkeypatch.setattr(distances_module, "_CANDIDATE_PAD", 0)
    redone = []
    original = distances_module._knn_direct

    def spy(Q, *args, **kwargs):
        redone.append(Q.shape[0])
        return original(Q, *args, **kwargs)

    monkeypatch.setattr(distances_module, "_knn_direct", spy)
    X = rng.integers(0, 3, size=(150, 20)).astype(np.float64)
    D = cdist(X, X, "sqeuclidean")
    _, indices = knn_search(X, X, 6, metric="sqeuclidean", exclude_self=True)
    assert redone and redone[0] > 0
    assert_array_equal(indices, brute_force_knn(D, 6, True)[1])


def test_knn_far_from_origin(rng):
    # Offset data: without centring, float32 GEMM rounding would swamp the gaps.
    X = (1e4 + rng.standard_normal((400, 32))).astype(np.float32)
    D = cdist(X.astype(np.float64), X.astype(np.float64))
    _, indices = knn_search(X, X, 5, exclude_self=True)
    assert_array_equal(indices, brute_force_knn(D, 5, True)[1])


@pytest.mark.parametrize("n_jobs", [1, 2, None, -1])
def test_knn_n_jobs_same_result_and_threads_restored(rng, n_jobs):
    X = rng.standard_normal((200, 20))
    before = numba.get_num_threads()
    result = knn_search(X, X, 5, n_jobs=n_jobs)
    assert numba.get_num_threads() == before
    reference = knn_search(X, X, 5, n_jobs=1)
    assert_array_equal(result[1], reference[1])
    assert_array_equal(result[0], reference[0])


def test_knn_memory_is_bounded(rng):
    # The full 3000 x 40000 float64 distance matrix would take 960 MB.
    X_index = rng.standard_normal((40_000, 24))
    X_query = rng.standard_normal((3_000, 24))
    knn_search(X_query[:5], X_index[:50], 3)  # compile outside the measurement
    tracemalloc.start()
    try:
        knn_search(X_query, X_index, 5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Copies of the inputs (about 8 MB each) are fine; a distance matrix is not.
    assert peak < 60 * 2**20


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda X: pairwise_distances(X, metric="nope"), "metric"),
        (lambda X: pairwise_distances(X, metric="minkowski", p=0.5), "p >= 1"),
        (lambda X: pairwise_distances(X, metric="euclidean", p=3), "Unknown parameter"),
        (lambda X: pairwise_distances(X, metric="mahalanobis"), "exactly one of VI"),
        (
            lambda X: pairwise_distances(X, metric="mahalanobis", VI=np.eye(2)),
            r"VI must have shape \(3, 3\)",
        ),
        (
            lambda X: pairwise_distances(X, metric="mahalanobis", VI=-np.eye(3)),
            "positive semi-definite",
        ),
        (
            lambda X: pairwise_distances(
                X, metric="mahalanobis", VI=np.triu(np.ones((3, 3)))
            ),
            "symmetric",
        ),
        (
            lambda X: pairwise_distances(
                X, metric="mahalanobis", components=np.ones((2, 4))
            ),
            "3 columns",
        ),
        (lambda X: pairwise_distances(X, np.ones((2, 4))), "same number of features"),
        (lambda X: pairwise_distances(np.array([[np.nan, 1, 2]])), "NaN"),
        (lambda X: pairwise_distances(np.array([[np.inf, 1, 2]])), "infinity"),
        (
            lambda X: pairwise_distances(np.array([["a", "b", "c"]])),
            "could not convert",
        ),
        (lambda X: pairwise_distances(np.ones(3)), "2D array"),
        (lambda X: paired_distances(X, X[:2]), "same number of rows"),
        (lambda X: knn_search(X, X, 6), "n_neighbors=6 is more than the 5"),
        (lambda X: knn_search(X, X, 5, exclude_self=True), "minus the query itself"),
        (lambda X: knn_search(X[:2], X, 1, exclude_self=True), "same rows"),
        (lambda X: knn_search(X, X, 0), "n_neighbors"),
        (lambda X: knn_search(X, X, 2, n_jobs=0), "n_jobs == 0"),
        (lambda X: pairwise_distances(X, metric=_FittedLearner(None)), "not fitted"),
    ],
)
def test_bad_input_raises_clear_error(call, message):
    X = np.arange(15, dtype=np.float64).reshape(5, 3)
    with pytest.raises((ValueError, TypeError), match=message):
        call(X)


def test_inputs_are_not_modified(rng):
    X = rng.standard_normal((30, 20)).astype(np.float32)
    Y = rng.standard_normal((40, 20)).astype(np.float32)
    X_copy, Y_copy = X.copy(), Y.copy()
    pairwise_distances(X, Y)
    knn_search(X, Y, 3)
    knn_search(X, Y, 3, metric="cosine")
    paired_distances(X, Y[:30], metric="snr")
    assert_array_equal(X, X_copy)
    assert_array_equal(Y, Y_copy)


def test_mixed_dtypes_give_float64(rng):
    X = rng.standard_normal((5, 3)).astype(np.float32)
    assert pairwise_distances(X, X.astype(np.float64)).dtype == np.float64


def test_lists_and_non_contiguous_arrays(rng):
    X = rng.standard_normal((10, 40))[:, ::2]
    assert_allclose(pairwise_distances(X.tolist()), cdist(X, X), atol=1e-12)
    _, indices = knn_search(np.asfortranarray(X), X, 2)
    assert_array_equal(indices, brute_force_knn(cdist(X, X), 2)[1])


def test_metric_names_are_all_supported(rng):
    X = rng.standard_normal((6, 3))
    for name in METRICS:
        params = {"VI": np.eye(3)} if name == "mahalanobis" else {}
        D = pairwise_distances(X, metric=name, **params)
        assert D.shape == (6, 6) and np.isfinite(D).all()


def test_results_pickle(rng):
    distances, indices = knn_search(
        rng.standard_normal((5, 2)), rng.standard_normal((8, 2)), 3
    )
    assert_array_equal(pickle.loads(pickle.dumps(indices)), indices)


@settings(max_examples=40, deadline=None)
@given(
    n_query=st.integers(1, 30),
    n_index=st.integers(1, 30),
    n_features=st.sampled_from([1, 2, 17]),
    k=st.integers(1, 30),
    metric=st.sampled_from(["euclidean", "manhattan", "cosine", "chebyshev"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_knn_property_random_shapes(
    n_query, n_index, n_features, k, metric, dtype, seed
):
    rng = np.random.default_rng(seed)
    # Coarse values make ties common.
    X_query = rng.integers(-3, 4, size=(n_query, n_features)).astype(dtype)
    X_index = rng.integers(-3, 4, size=(n_index, n_features)).astype(dtype)
    k = min(k, n_index)
    scipy_name = {"manhattan": "cityblock"}.get(metric, metric)
    D = pairwise_distances(X_query, X_index, metric=metric).astype(np.float64)
    if metric == "cosine":
        # scipy leaves zero rows undefined for cosine; the pair-by-pair kernel is
        # then the oracle, and it rounds equal pairs equally. Its float64 output
        # is used: rounding to float32 would create ties the search never saw.
        reference = pairwise_distances(
            X_query.astype(np.float64), X_index.astype(np.float64), metric=metric
        )
    else:
        # Coordinates are small integers, so cdist's direct sums are exact and
        # equal distances compare equal.
        reference = cdist(
            X_query.astype(np.float64), X_index.astype(np.float64), scipy_name
        )
        assert_allclose(D, reference, rtol=1e-6, atol=1e-6)
    distances, indices = knn_search(X_query, X_index, k, metric=metric)
    _, expected_i = brute_force_knn(reference, k)
    assert_array_equal(indices, expected_i)
    assert distances.shape == (n_query, k)
    assert np.all(np.diff(distances, axis=1) >= 0)


def test_knn_infinite_distances_still_fill_by_index():
    # A constant anchor is infinitely far from every non-constant row under
    # "snr"; the neighbours are then the first rows, in index order.
    X_index = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    distances, indices = knn_search([[7.0, 7.0, 7.0]], X_index, 2, metric="snr")
    assert_array_equal(indices, [[0, 1]])
    assert_array_equal(distances, [[np.inf, np.inf]])


def test_cosine_gemm_path_nearly_parallel_and_zero_rows(rng):
    # 40 features take the GEMM path; nearly parallel rows need the pair-by-pair
    # recomputation to keep their tiny distances accurate.
    base = rng.standard_normal(40)
    X = base + 1e-6 * rng.standard_normal((12, 40))
    X[3] = 0.0
    D = pairwise_distances(X, metric="cosine")
    nonzero = np.delete(np.arange(12), 3)
    expected = cdist(X[nonzero], X[nonzero], "cosine")
    off_diagonal = ~np.eye(11, dtype=bool)
    # scipy's own 1 - cos has cancellation error near 1e-16 absolute.
    assert_allclose(
        D[np.ix_(nonzero, nonzero)][off_diagonal],
        expected[off_diagonal],
        rtol=1e-6,
        atol=1e-15,
    )
    assert_array_equal(D[3], 1.0)
    assert_array_equal(D[:, 3], 1.0)


def test_get_metric_callable_runs_at_kernel_speed(rng, monkeypatch):
    from sklearn_metric.metric_learning import MahalanobisMetric

    L = rng.standard_normal((2, 5))
    X = rng.standard_normal((30, 5))
    metric = MahalanobisMetric(L)
    # Were the callable called pair by pair, this would raise.
    monkeypatch.setattr(MahalanobisMetric, "__call__", None)
    expected = cdist(X @ L.T, X @ L.T)
    assert_allclose(pairwise_distances(X, metric=metric), expected, atol=1e-12)
    _, indices = knn_search(X, X, 3, metric=metric, exclude_self=True)
    assert_array_equal(indices, brute_force_knn(expected, 3, True)[1])


def test_small_calls_run_on_one_thread():
    from sklearn_metric._kernels._threads import (
        MIN_PARALLEL_WORK,
        resolve_n_threads,
        threads_for_work,
    )

    assert threads_for_work(MIN_PARALLEL_WORK - 1, None) == 1
    assert threads_for_work(MIN_PARALLEL_WORK, None) == resolve_n_threads(None)
    assert threads_for_work(MIN_PARALLEL_WORK, 1) == 1
    with pytest.raises(ValueError, match="n_jobs == 0"):
        threads_for_work(10, 0)


@pytest.mark.parametrize("scale", [1e-20, 1.0, 1e20])
def test_knn_float64_exact_at_any_scale(rng, scale):
    # The candidate GEMM runs in float32 unless the data would overflow it; the
    # neighbours must be exact either way, also for tiny scales.
    X = rng.standard_normal((300, 24)) * scale
    D = cdist(X, X)
    distances, indices = knn_search(X, X, 5, exclude_self=True)
    expected_d, expected_i = brute_force_knn(D, 5, True)
    assert_array_equal(indices, expected_i)
    assert_allclose(distances, expected_d, rtol=1e-12)
