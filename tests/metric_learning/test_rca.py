"""Tests of RCA against the closed form computed with NumPy."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import RCA, RCA_Supervised


def class_separation(X, labels):
    """metric-learn's test measure: mean within- over between-class distance."""
    ratio = 0.0
    classes = np.unique(labels)
    for label in classes:
        inside, outside = X[labels == label], X[labels != label]
        ratio += (
            pairwise_distances(inside).mean()
            / pairwise_distances(inside, outside).mean()
        )
    return ratio / classes.shape[0]


def within_chunk_covariance(X, chunks):
    """Covariance of the chunklet points around their chunklet means, by loop."""
    deviations = []
    for chunk in np.unique(chunks[chunks >= 0]):
        members = X[chunks == chunk]
        deviations.append(members - members.mean(axis=0))
    deviations = np.vstack(deviations)
    return deviations.T @ deviations / deviations.shape[0]


def inverse_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(values**-0.5) @ vectors.T


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def chunked(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    chunks = np.full(X.shape[0], -1)
    # 40 chunklets of 3 points of one class; 30 points in none.
    order = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[:40] for c in range(3)]
    )
    chunks[order] = np.repeat(np.arange(40), 3)
    return X, chunks


def test_equals_inverse_sqrt_of_within_chunk_covariance(chunked):
    X, chunks = chunked
    rca = RCA().fit(X, chunks)
    within = within_chunk_covariance(X, chunks)
    assert_allclose(rca.components_, inverse_sqrt(within), rtol=1e-8)
    assert_allclose(rca.get_mahalanobis_matrix(), np.linalg.inv(within), rtol=1e-8)


def test_transform_whitens_chunklets(chunked):
    X, chunks = chunked
    rca = RCA().fit(X, chunks)
    within = within_chunk_covariance(rca.transform(X), chunks)
    assert_allclose(within, np.eye(4), atol=1e-10)


def test_dimension_reduction_matches_fisher_reference(chunked):
    X, chunks = chunked
    rca = RCA(n_components=2).fit(X, chunks)
    within = within_chunk_covariance(X, chunks)
    points = X[chunks >= 0]
    total = np.cov(points, rowvar=False, bias=True)
    # Directions of smallest within-chunklet to total variance, then whitened.
    values, vectors = np.linalg.eig(np.linalg.solve(total, within))
    A = np.real(vectors[:, np.argsort(np.real(values))[:2]])
    expected = inverse_sqrt(A.T @ within @ A) @ A.T
    assert rca.components_.shape == (2, 4)
    assert_allclose(rca.get_mahalanobis_matrix(), expected.T @ expected, rtol=1e-6)
    L = rca.components_
    assert_allclose(L @ within @ L.T, np.eye(2), atol=1e-10)


def test_constant_feature_gets_zero_weight_and_no_nan(chunked):
    X, chunks = chunked
    X = np.column_stack([X, np.full(X.shape[0], 3.0)])
    rca = RCA().fit(X, chunks)
    assert np.all(np.isfinite(rca.components_))
    assert_array_equal(rca.components_[:, 4], 0.0)
    assert_array_equal(rca.components_[4], 0.0)
    # Whitened on the span of the data, the first four features.
    within = within_chunk_covariance(rca.transform(X), chunks)
    expected = np.zeros((5, 5))
    expected[:4, :4] = np.eye(4)
    assert_allclose(within, expected, atol=1e-10)
    assert_allclose(
        rca.components_[:4, :4], RCA().fit(X[:, :4], chunks).components_, rtol=1e-8
    )


def test_too_few_chunklets_are_regularised_with_a_warning(iris):
    X, y = iris
    chunks = np.full(150, -1)
    chunks[[0, 1, 60, 61]] = [0, 0, 1, 1]  # 2 differences for 4 dimensions
    with pytest.warns(UserWarning, match="within-chunklet covariance is singular"):
        rca = RCA().fit(X, chunks)
    assert np.all(np.isfinite(rca.components_))


def test_digits_stay_finite():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rca = RCA_Supervised(random_state=0).fit(X[:600], y[:600])
    Z = rca.transform(X[600:])
    assert np.all(np.isfinite(Z))
    knn = KNeighborsClassifier(3).fit(rca.transform(X[:600]), y[:600])
    assert knn.score(Z, y[600:]) > 0.85


def test_supervised_default_chunks_work_where_metric_learn_fails():
    # metric-learn's n_chunks=100 raises on wine (at most 88 chunklets).
    X, y = load_wine(return_X_y=True)
    rca = RCA_Supervised(random_state=0).fit(X, y)
    counts = np.bincount(y)
    assert rca.chunks_.max() + 1 == np.sum(counts // 2)
    assert np.sum(rca.chunks_ >= 0) == 2 * np.sum(counts // 2)
    with pytest.raises(ValueError, match="Cannot form 100 chunks"):
        RCA_Supervised(n_chunks=100).fit(X, y)


def test_supervised_equals_rca_on_its_chunks(iris):
    X, y = iris
    supervised = RCA_Supervised(n_chunks=30, chunk_size=3, random_state=1).fit(X, y)
    assert np.bincount(supervised.chunks_[supervised.chunks_ >= 0]).tolist() == [3] * 30
    for chunk in range(30):
        assert np.unique(y[supervised.chunks_ == chunk]).shape == (1,)
    plain = RCA().fit(X, supervised.chunks_)
    assert_array_equal(supervised.components_, plain.components_)


def test_random_state_reproducible(iris):
    X, y = iris
    first = RCA_Supervised(random_state=3).fit(X, y).components_
    assert_array_equal(RCA_Supervised(random_state=3).fit(X, y).components_, first)
    assert not np.allclose(RCA_Supervised(random_state=4).fit(X, y).components_, first)


def test_iris_class_separation(iris):
    # metric-learn's own threshold for this fit.
    X, y = iris
    rca = RCA_Supervised(n_components=2, n_chunks=30, chunk_size=2, random_state=0).fit(
        X, y
    )
    assert class_separation(rca.transform(X), y) < 0.29


def test_mahalanobis_api(chunked):
    X, chunks = chunked
    rca = RCA(n_components=3).fit(X, chunks)
    assert_allclose(rca.transform(X), X @ rca.components_.T)
    M = rca.get_mahalanobis_matrix()
    assert np.linalg.eigvalsh(M).min() > -1e-10 * np.abs(M).max()
    pairs = np.stack([X[:10], X[20:30]], axis=1)
    embedded = rca.transform(X)
    assert_allclose(
        rca.pair_distance(pairs),
        np.linalg.norm(embedded[:10] - embedded[20:30], axis=1),
    )
    metric = rca.get_metric()
    assert_allclose([metric(a, b) for a, b in pairs], rca.pair_distance(pairs))
    assert rca.transform(X.astype(np.float32)).dtype == np.float32


def test_pipeline_grid_search_and_clone(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(), RCA_Supervised(random_state=0), KNeighborsClassifier(3)
    )
    grid = GridSearchCV(pipe, {"rca_supervised__n_components": [2, 4]}, cv=3)
    assert grid.fit(X, y).best_score_ > 0.9
    assert clone(RCA(n_components=2)).get_params()["n_components"] == 2


@pytest.mark.parametrize(
    "chunks, match",
    [
        (np.full(150, -1), "at least one chunklet of two or more points"),
        (np.arange(150), "at least one chunklet of two or more points"),
        (np.full(150, 0.5), "chunks must hold integer chunklet ids"),
        (np.zeros(10, dtype=int), "inconsistent numbers of samples"),
    ],
)
def test_bad_chunks(iris, chunks, match):
    X, _ = iris
    with pytest.raises(ValueError, match=match):
        RCA().fit(X, chunks)


def test_bad_parameters(iris):
    X, y = iris
    with pytest.raises(ValueError, match="n_components=5 must be at most"):
        RCA_Supervised(n_components=5).fit(X, y)
    with pytest.raises(ValueError, match="No class has chunk_size=60 samples"):
        RCA_Supervised(chunk_size=60).fit(X, y)
    X_nan = X.copy()
    X_nan[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        RCA_Supervised().fit(X_nan, y)


def test_does_not_modify_input(chunked):
    X, chunks = chunked
    X_copy, chunks_copy = X.copy(), chunks.copy()
    RCA().fit(X, chunks)
    assert_array_equal(X, X_copy)
    assert_array_equal(chunks, chunks_copy)
