"""KNeighborsClassifier against scikit-learn's, hand-made examples and brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.datasets import load_digits, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier as SklearnKNN
from sklearn.preprocessing import StandardScaler

from sklearn_metric.distances import knn_search
from sklearn_metric.metric_learning import NCA
from sklearn_metric.neighbors import KNeighborsClassifier


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2], y[::2], X[1::2]


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize(
    "metric, sk_metric",
    [
        ("euclidean", "euclidean"),
        ("manhattan", "manhattan"),
        ("chebyshev", "chebyshev"),
    ],
)
def test_matches_scikit_learn(wine, weights, metric, sk_metric):
    X, y, X_test = wine
    ours = KNeighborsClassifier(5, weights=weights, metric=metric).fit(X, y)
    reference = SklearnKNN(5, weights=weights, metric=sk_metric, algorithm="brute").fit(
        X, y
    )
    assert_allclose(ours.predict_proba(X_test), reference.predict_proba(X_test))
    assert_array_equal(ours.predict(X_test), reference.predict(X_test))
    d, i = ours.kneighbors(X_test)
    d_ref, _ = reference.kneighbors(X_test)
    assert_allclose(d, d_ref, rtol=1e-9)
    # scikit-learn leaves the order of equal distances unspecified (chebyshev
    # ties often here); ours puts the smaller index first, as a stable sort does.
    D = cdist(X_test, X, {"manhattan": "cityblock"}.get(metric, metric))
    assert_array_equal(i, np.argsort(D, axis=1, kind="stable")[:, :5])


def test_kneighbors_without_x_excludes_self(wine):
    X, y, _ = wine
    ours = KNeighborsClassifier(4).fit(X, y)
    reference = SklearnKNN(4, algorithm="brute").fit(X, y)
    assert_array_equal(
        ours.kneighbors(return_distance=False),
        reference.kneighbors(return_distance=False),
    )


def test_string_labels_and_toy_vote():
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    y = np.array(["a", "a", "a", "b", "b"])
    clf = KNeighborsClassifier(3).fit(X, y)
    assert_array_equal(clf.classes_, ["a", "b"])
    assert_array_equal(clf.predict([[0.5], [10.5]]), ["a", "b"])
    # Neighbours of 9.0: 10, 11 (class b) and 2 (class a).
    assert_allclose(clf.predict_proba([[9.0]]), [[1 / 3, 2 / 3]])


def test_distance_weights_by_hand():
    X = np.array([[0.0], [1.0], [4.0]])
    y = np.array([0, 1, 1])
    clf = KNeighborsClassifier(3, weights="distance").fit(X, y)
    # From 0.5: weights 1/0.5, 1/0.5, 1/3.5 -> class 0 gets 2 / (4 + 1/3.5).
    total = 2 + 2 + 1 / 3.5
    assert_allclose(clf.predict_proba([[0.5]]), [[2 / total, (2 + 1 / 3.5) / total]])
    # A query on a training point takes that point's label only.
    assert_allclose(clf.predict_proba([[1.0]]), [[0.0, 1.0]])


def test_snr_all_infinite_distances_vote_uniformly():
    X = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    y = np.array([0, 1, 1])
    clf = KNeighborsClassifier(3, weights="distance", metric="snr").fit(X, y)
    proba = clf.predict_proba([[7.0, 7.0, 7.0]])  # constant anchor: all infinite
    assert_allclose(proba, [[1 / 3, 2 / 3]])


def test_metric_params_and_float32(wine):
    X, y, X_test = wine
    X32 = X.astype(np.float32)
    clf = KNeighborsClassifier(3, metric="minkowski", metric_params={"p": 3})
    clf.fit(X32, y)
    distances, _ = clf.kneighbors(X_test.astype(np.float32))
    assert distances.dtype == np.float32
    reference = SklearnKNN(3, p=3, algorithm="brute").fit(X, y)
    assert_array_equal(clf.predict(X_test), reference.predict(X_test))


@pytest.mark.parametrize(
    "kwargs, X, y, message",
    [
        ({"n_neighbors": 5}, np.ones((3, 2)), [0, 1, 0], "n_samples=3"),
        ({}, np.ones((6, 2)), [1] * 6, "at least 2 classes"),
        ({"n_neighbors": 0}, np.ones((6, 2)), [0, 1] * 3, "n_neighbors"),
        ({}, [[np.nan, 1]] * 6, [0, 1] * 3, "NaN"),
        ({}, [["a", "b"]] * 6, [0, 1] * 3, "could not convert"),
    ],
)
def test_bad_input(kwargs, X, y, message):
    with pytest.raises(ValueError, match=message):
        KNeighborsClassifier(**kwargs).fit(X, y)


def test_wrong_feature_count_at_predict(wine):
    X, y, _ = wine
    clf = KNeighborsClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


# -- algorithm="hnsw" ------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_brute_is_the_exact_search(wine):
    X, y, X_test = wine
    clf = KNeighborsClassifier(4, metric="manhattan").fit(X, y)
    distances, indices = clf.kneighbors(X_test)
    expected_d, expected_i = knn_search(X_test, X, 4, metric="manhattan")
    assert_array_equal(indices, expected_i)
    assert_array_equal(distances, expected_d)
    _, own = clf.kneighbors()
    assert_array_equal(
        own, knn_search(X, X, 4, metric="manhattan", exclude_self=True)[1]
    )


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize(
    "metric, params", [("euclidean", {}), ("manhattan", {}), ("minkowski", {"p": 3})]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exhaustive_hnsw_equals_brute(digits_split, weights, metric, params, dtype):
    X_train, X_test, y_train, _ = digits_split
    X_train, X_test = X_train[:500].astype(dtype), X_test[:200].astype(dtype)
    y_train = y_train[:500]
    common = {"weights": weights, "metric": metric, "metric_params": params}
    brute = KNeighborsClassifier(5, **common).fit(X_train, y_train)
    # A sparse graph, built by narrow searches: only the exhaustive ef is exact.
    graph = {"M": 8, "ef_construction": 20}
    hnsw = KNeighborsClassifier(
        5,
        algorithm="hnsw",
        hnsw_params={**graph, "ef": len(X_train)},
        random_state=0,
        **common,
    ).fit(X_train, y_train)
    narrow = clone(hnsw).set_params(hnsw_params={**graph, "ef": 10})
    narrow.fit(X_train, y_train)
    found = narrow.kneighbors(X_test, n_neighbors=7, return_distance=False)
    assert np.any(found != brute.kneighbors(X_test, 7, return_distance=False))
    assert_array_equal(hnsw.predict(X_test), brute.predict(X_test))
    # Both sum the distances exactly, but not in the same order.
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(hnsw.predict_proba(X_test), brute.predict_proba(X_test), rtol=rtol)
    for query in (X_test, None):
        distances, indices = hnsw.kneighbors(query, n_neighbors=7)
        expected_d, expected_i = brute.kneighbors(query, n_neighbors=7)
        assert_array_equal(indices, expected_i)
        assert distances.dtype == expected_d.dtype == dtype
        assert_allclose(distances, expected_d, rtol=rtol, atol=rtol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_exhaustive_hnsw_under_a_learned_metric(digits_split):
    X_train, X_test, y_train, _ = digits_split
    nca = NCA(n_components=10, max_iter=20, random_state=0).fit(X_train, y_train)
    brute = KNeighborsClassifier(3, metric=nca).fit(X_train, y_train)
    hnsw = KNeighborsClassifier(
        3,
        metric=nca,
        algorithm="hnsw",
        hnsw_params={"ef": len(X_train)},
        random_state=0,
    ).fit(X_train, y_train)
    assert_array_equal(hnsw.kneighbors(X_test)[1], brute.kneighbors(X_test)[1])
    assert_array_equal(hnsw.predict(X_test), brute.predict(X_test))


def test_default_hnsw_accuracy_is_that_of_brute(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    brute = KNeighborsClassifier(5).fit(X_train, y_train)
    hnsw = KNeighborsClassifier(5, algorithm="hnsw", random_state=0)
    hnsw.fit(X_train, y_train)
    assert abs(hnsw.score(X_test, y_test) - brute.score(X_test, y_test)) <= 0.01
    # The index is approximate, but finds nearly all the true neighbours.
    found = hnsw.kneighbors(X_test, return_distance=False)
    exact = brute.kneighbors(X_test, return_distance=False)
    hits = sum(np.intersect1d(a, b).size for a, b in zip(found, exact))
    assert hits / exact.size > 0.95


def test_hnsw_is_reproducible_with_a_seed(digits_split):
    X_train, X_test, y_train, _ = digits_split
    # ef=5 with M=4 leaves room for two graphs to give different neighbours.
    params = {"algorithm": "hnsw", "hnsw_params": {"M": 4, "ef": 5}}
    first = KNeighborsClassifier(5, random_state=0, **params).fit(X_train, y_train)
    again = KNeighborsClassifier(5, random_state=0, **params).fit(X_train, y_train)
    assert_array_equal(first.kneighbors(X_test)[1], again.kneighbors(X_test)[1])
    assert_array_equal(first.kneighbors()[1], again.kneighbors()[1])


def test_brute_ignores_the_hnsw_parameters(wine):
    X, y, X_test = wine
    plain = KNeighborsClassifier(5).fit(X, y)
    configured = KNeighborsClassifier(5, hnsw_params={"ef": 1}, random_state=3)
    configured.fit(X, y)
    assert_array_equal(configured.predict_proba(X_test), plain.predict_proba(X_test))


@pytest.mark.parametrize("key", ["ef_search", "metric", "random_state"])
def test_unknown_hnsw_params_key_is_a_clear_error(wine, key):
    X, y, _ = wine
    clf = KNeighborsClassifier(algorithm="hnsw", hnsw_params={key: 1, "ef": 10})
    with pytest.raises(ValueError, match=rf"hnsw_params accepts .*'ef'.*\['{key}'\]"):
        clf.fit(X, y)


def test_invalid_hnsw_values_name_the_parameter(wine):
    X, y, _ = wine
    for key, value in (("M", 1), ("ef", 0), ("ef_construction", 2.5)):
        clf = KNeighborsClassifier(algorithm="hnsw", hnsw_params={key: value})
        with pytest.raises(ValueError, match=f"'{key}' parameter of HNSWIndex"):
            clf.fit(X, y)
    with pytest.raises(ValueError, match="'algorithm' parameter"):
        KNeighborsClassifier(algorithm="kd_tree").fit(X, y)


def test_hnsw_refuses_a_python_callable_metric(wine):
    X, y, _ = wine
    clf = KNeighborsClassifier(
        algorithm="hnsw", metric=lambda a, b: float(np.abs(a - b).sum())
    )
    with pytest.raises(TypeError, match="cannot call a Python function"):
        clf.fit(X, y)
