"""Tests of LFDA against a dense, pair-by-pair reference of Sugiyama (2007)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import eigh
from sklearn.datasets import load_digits, load_iris
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_metric.metric_learning import LFDA, _lfda
from sklearn_metric.metric_learning._kernels._lfda import local_affinity

from ._oracles import local_affinity_numpy


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


def dense_scatter(X, y, k):
    """Local between- and within-class scatter, pair by pair, from the paper."""
    n = X.shape[0]
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    sigma = np.zeros(n)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        # Column 0 of the sorted distances is the point itself.
        sigma[members] = np.sort(np.sqrt(sq[np.ix_(members, members)]), axis=1)[:, k]
    w_within = np.zeros((n, n))
    w_between = np.full((n, n), 1.0 / n)
    for i in range(n):
        for j in range(n):
            if y[i] == y[j]:
                n_class = np.sum(y == y[i])
                affinity = np.exp(-sq[i, j] / (sigma[i] * sigma[j]))
                w_within[i, j] = affinity / n_class
                w_between[i, j] = affinity * (1.0 / n - 1.0 / n_class)
    d = X.shape[1]
    s_within, s_between = np.zeros((d, d)), np.zeros((d, d))
    for i in range(n):
        for j in range(n):
            outer = np.outer(X[i] - X[j], X[i] - X[j])
            s_within += 0.5 * w_within[i, j] * outer
            s_between += 0.5 * w_between[i, j] * outer
    return s_between, s_within


def dense_lfda(X, y, k, n_components, embedding_type):
    """LFDA written straight from the paper, with explicit n x n matrices."""
    s_between, s_within = dense_scatter(X, y, k)
    values, vectors = eigh(s_between, s_within)
    order = np.argsort(-values)[:n_components]
    values, vectors = values[order], vectors[:, order]
    if embedding_type == "weighted":
        vectors = vectors * np.sqrt(values)
    elif embedding_type == "orthonormalized":
        vectors = np.linalg.qr(vectors)[0]
    return vectors.T, values


def assert_rows_equal_up_to_sign(actual, expected, rtol=1e-6):
    signs = np.sign(np.sum(actual * expected, axis=1))
    assert_allclose(
        actual * signs[:, None], expected, rtol=rtol, atol=rtol * np.abs(expected).max()
    )


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def small():
    X, y = load_iris(return_X_y=True)
    return X[::4], y[::4]


@pytest.mark.parametrize("embedding_type", ["weighted", "orthonormalized", "plain"])
@pytest.mark.parametrize("k", [1, 3])
def test_matches_dense_reference(small, embedding_type, k):
    X, y = small
    lfda = LFDA(n_components=3, k=k, embedding_type=embedding_type).fit(X, y)
    expected, values = dense_lfda(X, y, k, 3, embedding_type)
    assert_rows_equal_up_to_sign(lfda.components_, expected)
    assert_allclose(lfda.eigenvalues_, values, rtol=1e-6)


def test_scatter_matrices_match_dense_reference(small):
    X, y = small
    X = X - X.mean(axis=0)
    between, within, total = _lfda._local_scatter(X, y, 2, None)
    expected_between, expected_within = dense_scatter(X, y, 2)
    assert_allclose(between, expected_between, rtol=1e-10, atol=1e-10)
    assert_allclose(within, expected_within, rtol=1e-10, atol=1e-12)
    assert_allclose(total, X.T @ X)


def test_blocked_affinity_equals_one_block(small, monkeypatch):
    X, y = small
    one_block = LFDA(k=3).fit(X, y).components_
    monkeypatch.setattr(_lfda, "_BLOCK_ENTRIES", 7)
    assert_allclose(LFDA(k=3).fit(X, y).components_, one_block, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_affinity_kernel_matches_numpy_twin(dtype):
    rng = np.random.RandomState(0)
    sq = rng.uniform(0, 4, size=(7, 9)).astype(dtype)
    sq[0, 0] = -1e-7  # rounding below zero counts as zero
    scale_rows = rng.uniform(0.5, 2, size=7).astype(dtype)
    scale_cols = rng.uniform(0.5, 2, size=9).astype(dtype)
    scale_rows[3] = 0.0  # a point with k duplicates has no scale
    out, row_sums = np.empty((7, 9)), np.empty(7)
    local_affinity(sq, scale_rows, scale_cols, out, row_sums)
    expected, expected_sums = local_affinity_numpy(sq, scale_rows, scale_cols)
    assert_allclose(out, expected, rtol=1e-12)
    assert_allclose(row_sums, expected_sums, rtol=1e-12)
    assert_array_equal(out[3], 0.0)
    assert out[0, 0] == 1.0


def test_iris_class_separation(iris):
    # metric-learn asserts < 0.15 for this fit, but its LFDA deviates from the
    # paper (it takes sigma from a column of the partitioned distance matrix
    # instead of each point's k-th neighbour, and adds S_w to S_b where the
    # paper subtracts it). The paper's LFDA, checked against the dense
    # reference above, gives 0.183; a poor fit gives 0.3 or more.
    X, y = iris
    lfda = LFDA(k=2, n_components=2).fit(X, y)
    assert class_separation(lfda.transform(X), y) < 0.2
    assert lfda.get_mahalanobis_matrix().shape == (4, 4)
    assert lfda.components_.shape == (2, 4)


def test_digits_with_constant_columns():
    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    constant = np.ptp(X, axis=0) == 0
    assert constant.any()
    for embedding_type in ["weighted", "orthonormalized", "plain"]:
        lfda = LFDA(k=7, embedding_type=embedding_type).fit(X, y)
        assert np.all(np.isfinite(lfda.components_))
        assert lfda.components_.dtype == np.float64
        assert_array_equal(lfda.components_[:, constant], 0.0)
    # Rows past the rank of the data are padding zeros.
    assert_array_equal(lfda.components_[-int(constant.sum()) :], 0.0)
    # Far better than chance (0.1) on held-out digits.
    X_all, y_all = load_digits(return_X_y=True)
    embedded = LFDA(k=7).fit(X, y)
    knn = KNeighborsClassifier(3).fit(embedded.transform(X), y)
    assert knn.score(embedded.transform(X_all[500:800]), y_all[500:800]) > 0.8


def test_weighted_components_and_eigenvalues(iris):
    X, y = iris
    lfda = LFDA(k=5).fit(X, y)
    assert np.all(np.diff(lfda.eigenvalues_) <= 0)
    # Weighted rows are the plain rows scaled by sqrt(eigenvalue).
    plain = LFDA(k=5, embedding_type="plain").fit(X, y)
    assert_allclose(
        lfda.components_,
        plain.components_ * np.sqrt(plain.eigenvalues_)[:, None],
        rtol=1e-8,
    )
    ortho = LFDA(k=5, embedding_type="orthonormalized").fit(X, y).components_
    assert_allclose(ortho @ ortho.T, np.eye(4), atol=1e-10)


def test_translation_invariant_and_sign_convention(iris):
    X, y = iris
    components = LFDA(k=3).fit(X, y).components_
    assert_allclose(LFDA(k=3).fit(X + 100.0, y).components_, components, rtol=1e-6)
    largest = components[np.arange(4), np.argmax(np.abs(components), axis=1)]
    assert np.all(largest > 0)


def test_mahalanobis_api(iris):
    X, y = iris
    lfda = LFDA(k=4, n_components=3).fit(X, y)
    assert_allclose(lfda.transform(X), X @ lfda.components_.T)
    M = lfda.get_mahalanobis_matrix()
    assert np.linalg.eigvalsh(M).min() > -1e-8 * np.abs(M).max()
    pairs = np.stack([X[:10], X[10:20]], axis=1)
    embedded = lfda.transform(X)
    assert_allclose(
        lfda.pair_distance(pairs),
        np.linalg.norm(embedded[:10] - embedded[10:20], axis=1),
    )
    metric = lfda.get_metric()
    assert_allclose([metric(a, b) for a, b in pairs], lfda.pair_distance(pairs))
    assert lfda.transform(X.astype(np.float32)).dtype == np.float32


def test_index_pairs_with_preprocessor(iris):
    X, y = iris
    lfda = LFDA(k=3, preprocessor=X).fit(X, y)
    assert_allclose(
        lfda.pair_distance([[0, 1], [2, 50]]),
        lfda.pair_distance(np.stack([X[[0, 2]], X[[1, 50]]], axis=1)),
    )


def test_n_jobs_gives_the_same_result(iris):
    X, y = iris
    assert_allclose(
        LFDA(n_jobs=1).fit(X, y).components_,
        LFDA(n_jobs=2).fit(X, y).components_,
        rtol=1e-10,
    )


def test_duplicates_and_singleton_class_stay_finite():
    rng = np.random.RandomState(0)
    X = np.vstack(
        [np.repeat(rng.randn(2, 3), 6, axis=0), rng.randn(10, 3), rng.randn(1, 3)]
    )
    y = np.array([0] * 12 + [1] * 10 + [2])
    lfda = LFDA().fit(X, y)
    assert np.all(np.isfinite(lfda.components_))
    assert np.all(np.isfinite(lfda.transform(X)))


def test_class_constant_direction_is_regularised():
    # Feature 1 is constant within each class: S_w is singular on the span.
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 15)
    X = np.column_stack([rng.randn(30), y.astype(float)])
    lfda = LFDA(k=3).fit(X, y)
    assert np.all(np.isfinite(lfda.components_))
    Z = lfda.transform(X)
    assert np.abs(Z[y == 0, 0].mean() - Z[y == 1, 0].mean()) > 10 * Z[:, 0].std(
        where=y == 0
    )


def test_pipeline_grid_search(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LFDA(), KNeighborsClassifier(3))
    grid = GridSearchCV(
        pipe,
        {"lfda__n_components": [2, 3], "lfda__embedding_type": ["weighted", "plain"]},
        cv=3,
    )
    grid.fit(X, y)
    assert grid.best_score_ > 0.9


@pytest.mark.parametrize(
    "params, labels, error, match",
    [
        ({"n_components": 5}, None, ValueError, "n_components=5 must be at most"),
        ({"k": 60}, None, ValueError, r"k=60 needs at least k \+ 1 = 61 samples"),
        ({}, np.zeros(150), ValueError, "at least 2 classes"),
        ({"embedding_type": "fancy"}, None, InvalidParameterError, "embedding_type"),
        ({"k": 0}, None, InvalidParameterError, "'k' parameter"),
    ],
)
def test_bad_input(iris, params, labels, error, match):
    X, y = iris
    lfda = LFDA(**params)  # validation happens in fit, not in __init__
    with pytest.raises(error, match=match):
        lfda.fit(X, y if labels is None else labels)


def test_nan_input_is_rejected(iris):
    X, y = iris
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LFDA().fit(X, y)


def test_does_not_modify_input(iris):
    X, y = iris
    X_copy, y_copy = X.copy(), y.copy()
    LFDA().fit(X, y)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
