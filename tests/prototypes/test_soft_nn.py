"""SoftNearestNeighborClassifier against brute-force votes and limiting rules."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn import config_context
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.prototypes import SoftNearestNeighborClassifier


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks(
    [
        SoftNearestNeighborClassifier(0.5, metric="cosine"),
    ]
)
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2], y[::2], X[1::2]


def _brute_force_proba(X_train, y_train, weight, X_test, distance, temperature):
    classes = np.unique(y_train)
    proba = np.zeros((len(X_test), len(classes)))
    for i, x in enumerate(X_test):
        d = [distance(x, x_j) for x_j in X_train]
        # Shift by the nearest distance only to keep exp in range.
        shift = min(d)
        for j, label in enumerate(y_train):
            vote = weight[j] * math.exp(-(d[j] - shift) / temperature)
            proba[i, np.searchsorted(classes, label)] += vote
        proba[i] /= proba[i].sum()
    return proba


DISTANCES = {
    "euclidean": lambda a, b: math.sqrt(((a - b) ** 2).sum()),
    "sqeuclidean": lambda a, b: float(((a - b) ** 2).sum()),
    "manhattan": lambda a, b: float(np.abs(a - b).sum()),
    "cosine": lambda a, b: 1.0 - a @ b / math.sqrt((a @ a) * (b @ b)),
}


@pytest.mark.parametrize("metric", list(DISTANCES))
@pytest.mark.parametrize("temperature", [0.05, 1.0, "auto"])
def test_proba_is_the_softmax_vote(wine, metric, temperature):
    X, y, X_test = wine
    weight = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    clf = SoftNearestNeighborClassifier(temperature, metric=metric)
    clf.fit(X, y, sample_weight=weight)
    expected = _brute_force_proba(
        X, y, weight, X_test, DISTANCES[metric], clf.temperature_
    )
    assert_allclose(clf.predict_proba(X_test), expected, rtol=1e-9, atol=1e-300)
    assert_array_equal(clf.predict(X_test), clf.classes_[np.argmax(expected, axis=1)])
    with np.errstate(divide="ignore"):
        log_expected = np.log(expected)
    assert_allclose(clf.decision_function(X_test), log_expected, rtol=1e-9, atol=1e-12)


def test_blocks_do_not_change_the_result(wine):
    X, y, X_test = wine
    clf = SoftNearestNeighborClassifier(0.7).fit(X, y)
    whole = clf.predict_proba(X_test)
    with config_context(working_memory=0.001):
        assert_allclose(clf.predict_proba(X_test), whole, rtol=1e-12)


def test_cosine_is_matching_networks_attention(wine):
    # softmax_j(cos(x, x_j) / T) weights, summed by label.
    X, y, X_test = wine
    T = 0.2
    clf = SoftNearestNeighborClassifier(T, metric="cosine").fit(X, y)
    cosines = 1.0 - cdist(X_test, X, metric="cosine")
    attention = np.exp(cosines / T)
    attention /= attention.sum(axis=1, keepdims=True)
    one_hot = (y[:, None] == np.unique(y)).astype(float)
    assert_allclose(clf.predict_proba(X_test), attention @ one_hot, rtol=1e-10)


def test_tiny_temperature_is_one_nearest_neighbour(wine):
    X, y, X_test = wine
    clf = SoftNearestNeighborClassifier(1e-6).fit(X, y)
    knn = KNeighborsClassifier(1).fit(X, y)
    assert_array_equal(clf.predict(X_test), knn.predict(X_test))
    assert_allclose(clf.predict_proba(X_test), knn.predict_proba(X_test), atol=1e-12)


def test_huge_temperature_is_the_weighted_class_frequency(wine):
    X, y, X_test = wine
    weight = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    clf = SoftNearestNeighborClassifier(1e12).fit(X, y, sample_weight=weight)
    prior = np.bincount(y, weight) / weight.sum()
    assert_allclose(clf.predict_proba(X_test), np.tile(prior, (len(X_test), 1)))


def test_float32_is_kept_and_extreme_temperatures_stay_finite(wine):
    X, y, X_test = wine
    for T in (1e-30, 1.0, 1e30):
        clf64 = SoftNearestNeighborClassifier(T).fit(X, y)
        clf32 = SoftNearestNeighborClassifier(T).fit(X.astype(np.float32), y)
        proba = clf32.predict_proba(X_test.astype(np.float32))
        assert proba.dtype == np.float32
        assert np.all(np.isfinite(proba))
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        assert_allclose(proba, clf64.predict_proba(X_test), atol=1e-5)


def _loo_nll_by_loops(X, y, weight, temperature):
    """Weighted mean of -log p(y_i | x_i), x_i voted on by the rows apart from it."""
    D = cdist(X, X)
    total = 0.0
    for i in range(len(y)):
        logits = np.log(np.where(D[i] > 0, weight, 0.0))
        logits = logits - D[i] / temperature
        same = y == y[i]
        shift = logits[np.isfinite(logits)].max()
        top = np.exp(logits[same] - shift).sum()
        bottom = np.exp(logits - shift).sum()
        total += weight[i] * (math.log(bottom) - math.log(top))
    return total / weight.sum()


@pytest.mark.parametrize("integer_weights", [False, True])
def test_auto_temperature_minimises_the_leave_one_out_loss(integer_weights):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[::3]
    y = y[::3]
    # A copy of a row is left out with it.
    X[1] = X[0]
    rng = np.random.RandomState(2)
    weight = rng.randint(1, 4, len(y)) if integer_weights else np.ones(len(y))
    with np.errstate(divide="ignore"):
        clf = SoftNearestNeighborClassifier().fit(X, y, sample_weight=weight)
        T = clf.temperature_
        best = _loo_nll_by_loops(X, y, weight, T)
        for factor in np.exp(np.linspace(-3, 3, 61)):
            assert best <= _loo_nll_by_loops(X, y, weight, T * factor) + 1e-12
        # A stationary point: the loss is flat there to second order.
        h = 1e-4
        slope = (
            _loo_nll_by_loops(X, y, weight, T * math.exp(h))
            - _loo_nll_by_loops(X, y, weight, T * math.exp(-h))
        ) / (2 * h)
    assert abs(slope) < 1e-6
    if integer_weights:
        repeated = SoftNearestNeighborClassifier().fit(
            np.repeat(X, weight, axis=0), np.repeat(y, weight)
        )
        assert_allclose(repeated.temperature_, T, rtol=1e-10)


def test_auto_temperature_scales_with_the_data(wine):
    X, y, _ = wine
    T = SoftNearestNeighborClassifier().fit(X, y).temperature_
    scaled = SoftNearestNeighborClassifier().fit(10 * X, y).temperature_
    assert_allclose(scaled, 10 * T, rtol=1e-8)
    squared = SoftNearestNeighborClassifier(metric="sqeuclidean").fit(10 * X, y)
    base = SoftNearestNeighborClassifier(metric="sqeuclidean").fit(X, y)
    assert_allclose(squared.temperature_, 100 * base.temperature_, rtol=1e-8)


def test_auto_temperature_on_a_subsample_is_reproducible():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    first = SoftNearestNeighborClassifier(random_state=0).fit(X, y)
    again = SoftNearestNeighborClassifier(random_state=0).fit(X, y)
    assert first.temperature_ == again.temperature_
    other = SoftNearestNeighborClassifier(random_state=1).fit(X, y).temperature_
    # A different subsample of 1000 rows gives a close temperature.
    assert_allclose(other, first.temperature_, rtol=0.2)


def test_zero_weight_rows_do_not_vote(wine):
    X, y, X_test = wine
    weight = np.ones(len(y))
    weight[::3] = 0.0
    clf = SoftNearestNeighborClassifier(0.5).fit(X, y, sample_weight=weight)
    kept = SoftNearestNeighborClassifier(0.5).fit(X[weight > 0], y[weight > 0])
    assert clf.n_samples_fit_ == kept.n_samples_fit_
    assert_allclose(clf.predict_proba(X_test), kept.predict_proba(X_test))


def test_errors_name_the_problem(wine):
    X, y, _ = wine
    with pytest.raises(ValueError, match="temperature"):
        SoftNearestNeighborClassifier(0.0).fit(X, y)
    with pytest.raises(ValueError, match="Negative values"):
        SoftNearestNeighborClassifier().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="class 1 has none"):
        SoftNearestNeighborClassifier().fit(
            X, y, sample_weight=np.where(y == 1, 0.0, 1.0)
        )
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftNearestNeighborClassifier().fit(X, np.zeros(len(y)))


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    clf = SoftNearestNeighborClassifier().fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.90
