"""KNeighborsClassifier against scikit-learn's and against hand-made examples."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import load_wine
from sklearn.neighbors import KNeighborsClassifier as SklearnKNN
from sklearn.preprocessing import StandardScaler

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
