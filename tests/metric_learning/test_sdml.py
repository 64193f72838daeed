"""Tests of SDML and SDML_Supervised."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_digits, load_wine
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import SDML, SDML_Supervised
from sklearn_metric.metric_learning._sdml import _default_balance

from ._protocol import knn3_accuracy, protocol_split
from .test_itml import _digit_pairs


@pytest.mark.parametrize("prior", ["identity", "covariance", "random"])
@pytest.mark.parametrize("load", [load_wine, load_digits])
def test_fits_where_metric_learn_crashes(load, prior):
    X, y = load(return_X_y=True)  # unscaled; digits has constant pixels
    sdml = SDML_Supervised(prior=prior, random_state=0).fit(X[::2], y[::2])
    M = sdml.get_mahalanobis_matrix()
    assert np.all(np.isfinite(M)) and np.linalg.eigvalsh(M).min() > -1e-8


def test_constant_and_collinear_features():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X = np.column_stack([X, np.zeros(len(X)), 2 * X[:, 0]])
    sdml = SDML_Supervised(prior="covariance", random_state=0).fit(X, y)
    assert np.all(np.isfinite(sdml.transform(X)))


def test_sparsity_param_makes_metric_sparser():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # balance_param weighs the sum over the 2 * 180 pairs (metric-learn's
    # meaning); 0.5 / 360 weighs their mean by 0.5.
    balance = 0.5 / 360
    dense = SDML_Supervised(balance_param=balance, sparsity_param=0.0, random_state=0)
    sparse = SDML_Supervised(balance_param=balance, sparsity_param=0.5, random_state=0)
    dense, sparse = dense.fit(X, y), sparse.fit(X, y)
    off = ~np.eye(X.shape[1], dtype=bool)
    assert (np.abs(sparse.get_mahalanobis_matrix()[off]) < 1e-10).sum() > (
        np.abs(dense.get_mahalanobis_matrix()[off]) < 1e-10
    ).sum()


def test_no_sparsity_is_regularised_inverse():
    rng = np.random.RandomState(0)
    pairs = rng.normal(size=(40, 2, 3))
    y = np.where(rng.rand(40) < 0.5, 1, -1)
    sdml = SDML(sparsity_param=0.0, balance_param=0.1).fit(pairs, y)
    v = pairs[:, 0] - pairs[:, 1]
    # The pair term is the sum over pairs, as in metric-learn.
    C = np.eye(3) + 0.1 * (v.T * y) @ v + sdml.shift_ * np.eye(3)
    assert_allclose(sdml.get_mahalanobis_matrix(), np.linalg.inv(C), rtol=1e-3)


def test_weakly_supervised_digits_pairs_accuracy():
    X, (train, ytrain), (test, ytest) = _digit_pairs()
    sdml = SDML(balance_param=0.5 / len(train), preprocessor=X).fit(train, ytrain)
    assert np.mean(sdml.predict(test) == ytest) >= 0.75


def test_clone_pickle_cross_val_on_pairs():
    X, (train, ytrain), _ = _digit_pairs(n_train=300, n_constraints=150)
    sdml = SDML(preprocessor=X)
    fitted = clone(sdml).fit(train, ytrain)
    restored = pickle.loads(pickle.dumps(fitted))
    assert_allclose(restored.decision_function(train), fitted.decision_function(train))
    assert cross_val_score(sdml, train, ytrain, cv=3).mean() > 0.7
    GridSearchCV(sdml, {"balance_param": [0.1, 0.5]}, cv=3).fit(train, ytrain)


def _wine_pairs(n_pairs=80):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    first, second = rng.randint(len(X), size=(2, n_pairs))
    labels = np.where(y[first] == y[second], 1, -1)
    return X, first, second, labels


def test_pairs_default_balance_is_the_mean_pair_scatter():
    X, first, second, labels = _wine_pairs()
    pairs = np.stack((X[first], X[second]), axis=1)
    default = SDML().fit(pairs, labels)
    explicit = SDML(balance_param=1.0 / 80).fit(pairs, labels)
    assert_allclose(
        default.get_mahalanobis_matrix(),
        explicit.get_mahalanobis_matrix(),
        rtol=1e-9,
        atol=1e-12,
    )


@pytest.mark.parametrize("prior", ["identity", "spd"])
def test_supervised_default_balance_keeps_the_matrix_positive_definite(prior):
    X, first, second, labels = _wine_pairs()
    differences = X[first] - X[second]
    K = (differences * labels[:, None]).T @ differences
    M0 = np.eye(13)
    if prior == "spd":
        A = np.random.RandomState(1).randn(13, 13)
        M0 = A @ A.T / 13 + np.eye(13)
    w, V = np.linalg.eigh(M0)
    eta = _default_balance(K, w, V, 80)
    # C = M0^{-1} + eta K, seen from M0: its smallest eigenvalue is 1/2.
    root = (V * np.sqrt(w)) @ V.T
    C = np.linalg.inv(M0) + eta * K
    assert np.linalg.eigvalsh(root @ C @ root)[0] == pytest.approx(0.5)
    # No dissimilar pair, K >= 0: nothing to bound, the mean is used.
    assert _default_balance(K @ K.T, w, V, 80) == 1.0 / 80


def test_default_holds_euclidean_on_many_classes():
    # Regression: metric-learn's balance_param=0.5 on the sum over the
    # default 2 * 20 * 11**2 pairs swamps the identity prior; the shifted
    # matrix is dominated by its most discriminative direction and 3-NN fell
    # to 0.50 against 0.62 for the Euclidean distance on this kind of set.
    split = protocol_split("vowel_like")
    sdml = SDML_Supervised(random_state=0).fit(split[0], split[1])
    learned = knn3_accuracy(*split, transform=sdml.transform)
    assert learned >= knn3_accuracy(*split) - 0.02
