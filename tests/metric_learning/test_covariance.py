"""Tests of the Covariance baseline."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, load_iris
from sklearn.metrics import pairwise_distances

from sklearn_metric.metric_learning import Covariance


def class_separation(X, labels):
    """metric-learn's test measure: mean within- over between-class distance.

    The same definition as metric-learn's ``test/metric_learn_test.py``: for
    each class, the mean distance between its points (diagonal zeros
    included) over the mean distance from its points to the others, averaged
    over classes.
    """
    ratio = 0.0
    classes = np.unique(labels)
    for label in classes:
        inside, outside = X[labels == label], X[labels != label]
        ratio += (
            pairwise_distances(inside).mean()
            / pairwise_distances(inside, outside).mean()
        )
    return ratio / classes.shape[0]


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_equals_inverse_covariance(iris):
    X, _ = iris
    covariance = Covariance().fit(X)
    assert_allclose(
        covariance.get_mahalanobis_matrix(), np.linalg.inv(np.cov(X.T)), rtol=1e-8
    )
    # The symmetric square root.
    assert_allclose(covariance.components_, covariance.components_.T, atol=1e-12)


def test_whitens_and_is_psd(iris):
    X, _ = iris
    covariance = Covariance().fit(X)
    assert_allclose(
        np.cov(covariance.transform(X), rowvar=False), np.eye(4), atol=1e-10
    )
    assert np.linalg.eigvalsh(covariance.get_mahalanobis_matrix()).min() > 0


def test_iris_class_separation_matches_metric_learn(iris):
    # metric-learn's deterministic reference value (its TestCovariance.test_iris).
    X, y = iris
    covariance = Covariance().fit(X)
    assert_allclose(class_separation(covariance.transform(X), y), 0.72981476, rtol=1e-8)


def test_singular_covariance_gives_pseudo_inverse(iris):
    X, _ = iris
    X = np.column_stack([X, X[:, :2] @ [2.0, 3.0]])
    C = np.cov(X, rowvar=False)
    M = Covariance().fit(X).get_mahalanobis_matrix()
    assert_allclose(C @ M @ C, C, atol=1e-10)
    assert_allclose(M @ C @ M, M, atol=1e-8)
    assert np.all(np.isfinite(M))


def test_digits_constant_columns_get_zero_weight():
    X, y = load_digits(return_X_y=True)
    constant = np.ptp(X, axis=0) == 0
    covariance = Covariance().fit(X)
    assert np.all(np.isfinite(covariance.components_))
    assert_array_equal(covariance.components_[:, constant], 0.0)
    assert_array_equal(covariance.components_[constant], 0.0)
    C = np.cov(X[:, ~constant], rowvar=False)
    assert_allclose(
        covariance.get_mahalanobis_matrix()[np.ix_(~constant, ~constant)],
        np.linalg.inv(C),
        rtol=1e-6,
        atol=1e-10,
    )


def test_constant_data_gives_zero_map():
    covariance = Covariance().fit(np.ones((5, 3)))
    assert_array_equal(covariance.components_, 0.0)


def test_mahalanobis_api_and_dtypes(iris):
    X, _ = iris
    covariance = Covariance().fit(X)
    assert_allclose(covariance.transform(X), X @ covariance.components_.T)
    pairs = np.stack([X[:10], X[50:60]], axis=1)
    embedded = covariance.transform(X)
    assert_allclose(
        covariance.pair_distance(pairs),
        np.linalg.norm(embedded[:10] - embedded[50:60], axis=1),
    )
    metric = covariance.get_metric()
    assert_allclose([metric(a, b) for a, b in pairs], covariance.pair_distance(pairs))
    assert covariance.transform(X.astype(np.float32)).dtype == np.float32
    # Fitting on float32 computes in float64.
    assert_allclose(
        Covariance().fit(X.astype(np.float32)).components_,
        covariance.components_,
        rtol=1e-5,
    )
    assert covariance.components_.dtype == np.float64


def test_y_is_ignored(iris):
    X, y = iris
    assert_array_equal(
        Covariance().fit(X, y).components_, Covariance().fit(X).components_
    )


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones((1, 3)), "minimum of 2 is required"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.ones(4), "Expected 2D array"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        Covariance().fit(X)


def test_does_not_modify_input(iris):
    X, _ = iris
    X_copy = X.copy()
    Covariance().fit(X)
    assert_array_equal(X, X_copy)
