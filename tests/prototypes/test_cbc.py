"""CBCClassifier: reasoning formulas, gradient, certified radius, acceptance."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq
from scipy.spatial.distance import cdist, pdist
from sklearn.datasets import load_iris, make_blobs
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.distances import _resolve_metric
from sklearn_metric.metric_learning import NCA
from sklearn_metric.prototypes._cbc import (
    AUTO_SIGMA_DETECTION,
    CBCClassifier,
    _Objective,
    _reasoning_affine,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def learner(iris):
    return NCA(max_iter=200).fit(*iris)


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks([CBCClassifier(reasoning="original")])
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


def _log(probabilities):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(probabilities, dtype=np.float64))


def test_stable_reasoning_matches_hand_computation():
    # The two examples of enlaight's stable_cbc_reasoning docstring, with the
    # agreement p_c = sum_k R+ d_k + R- (1 - d_k) worked out by hand.
    detection = np.array([[0.25, 1.0], [1.0, 0.0]])
    reasoning = np.array([[0.5, 0.0], [0.0, 0.5], [0.0, 0.5], [0.5, 0.0]])
    alpha, beta, probabilities = _reasoning_affine(_log(reasoning), "stable", 2)
    assert_allclose(detection @ alpha + beta, [[0.125, 0.875], [1.0, 0.0]])
    assert_allclose(probabilities.reshape(4, 2), reasoning)

    # Requiredness rho and class-wise priors pi: R+ = pi rho, R- = pi (1 - rho).
    detection = np.array([[0.25, 0.5, 1.0], [1.0, 0.0, 0.0]])
    rho = np.array([[0.5, 0.0], [0.0, 0.5], [0.0, 0.0]])
    prior = np.array([[0.5, 0.5], [0.25, 0.0], [0.25, 0.5]])
    theta = _log(np.vstack([prior * rho, prior * (1 - rho)]))
    alpha, beta, _ = _reasoning_affine(theta, "stable", 3)
    assert_allclose(detection @ alpha + beta, [[0.375, 0.375], [0.75, 0.5]])


def test_original_reasoning_matches_hand_computation():
    # enlaight's cbc_reasoning docstring example: p_c = (sum_k d r+ + (1 - d) r-)
    # / sum_k (r+ + r-), with the indefinite requiredness 1 - r+ - r-.
    detection = np.array([[1.0, 0.0, 0.0], [0.25, 0.5, 1.0]])
    positive = np.array([[0.25, 0.0], [0.0, 1.0], [0.0, 0.0]])
    negative = np.array([[0.25, 1.0], [1.0, 0.0], [0.0, 1.0]])
    theta = _log(np.stack([positive, 1 - positive - negative, negative]))
    alpha, beta, _ = _reasoning_affine(theta, "original", 3)
    assert_allclose(
        detection @ alpha + beta, [[1.25 / 1.5, 1 / 3], [0.75 / 1.5, 1.25 / 3]]
    )


@pytest.mark.parametrize("reasoning", ["stable", "original"])
def test_agreement_from_public_attributes(iris, reasoning):
    X, y = iris
    clf = CBCClassifier(
        n_reasonings_per_class=2, reasoning=reasoning, random_state=0
    ).fit(X, y)
    detection = np.exp(-cdist(X, clf.components_) / clf.sigma_)
    states = clf.reasoning_probabilities_
    if reasoning == "stable":
        assert_allclose(states.sum(axis=(0, 1)), 1.0)
        per_concept = detection @ states[0] + (1 - detection) @ states[1]
    else:
        assert_allclose(states.sum(axis=0), 1.0)
        per_concept = (detection @ states[0] + (1 - detection) @ states[2]) / (
            states[0] + states[2]
        ).sum(axis=0)
    expected = per_concept.reshape(X.shape[0], 3, 2).max(axis=2)
    agreement = clf.agreement_probability(X)
    assert_allclose(agreement, expected, rtol=1e-10)
    assert np.all((agreement >= 0) & (agreement <= 1))
    assert_allclose(clf.predict_proba(X), expected / expected.sum(axis=1)[:, None])
    assert_allclose(clf.decision_function(X), np.log(expected), rtol=1e-10)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(expected, axis=1)])
    assert_array_equal(clf.reasoning_labels_, np.repeat(clf.classes_, 2))


METRICS = [
    ("euclidean", {}),
    ("sqeuclidean", {}),
    ("manhattan", {}),
    ("chebyshev", {}),
    ("minkowski", {"p": 3}),
    ("cosine", {}),
    ("snr", {}),
    ("mahalanobis", {"components": np.random.RandomState(5).randn(3, 4)}),
]


@pytest.mark.parametrize("reasoning", ["stable", "original"])
@pytest.mark.parametrize("metric, params", METRICS)
def test_gradient_matches_finite_differences(reasoning, metric, params):
    rng = np.random.RandomState(0)
    n_samples, n_features, n_components, n_classes, per_class = 30, 4, 5, 3, 2
    X = rng.randn(n_samples, n_features)
    y = rng.randint(0, n_classes, n_samples)
    weights = rng.rand(n_samples)
    resolved = _resolve_metric(metric, params, n_features)
    embedding = resolved.components
    Z = X if embedding is None else X @ embedding.T
    objective = _Objective(
        np.ascontiguousarray(Z),
        y,
        weights / weights.sum(),
        n_classes=n_classes,
        n_components=n_components,
        reasoning=reasoning,
        margin=0.5,
        sigma=1.3,
        metric=resolved,
        embedding=embedding,
        n_jobs=1,
    )
    n_reasonings = n_classes * per_class
    shape = (
        (2 * n_components, n_reasonings)
        if reasoning == "stable"
        else (3, n_components, n_reasonings)
    )
    x0 = rng.randn(n_components * n_features + int(np.prod(shape)))
    loss, grad = objective(x0, shape)
    assert loss > 0
    step = 1e-6
    numeric = np.array(
        [
            (objective(x0 + step * e, shape)[0] - objective(x0 - step * e, shape)[0])
            / (2 * step)
            for e in np.eye(x0.size)
        ]
    )
    assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_sigma_is_the_documented_rule(iris):
    X, y = iris
    distances = pdist(X)
    expected = (distances.mean() + distances.std()) / -np.log(AUTO_SIGMA_DETECTION)
    assert_allclose(CBCClassifier(max_iter=1).fit(X, y).sigma_, expected)
    # Integer weights count as repeated rows (whose copies are at distance 0).
    weights = np.arange(X.shape[0]) % 3
    repeated = pdist(np.repeat(X, weights, axis=0))
    expected = (repeated.mean() + repeated.std()) / -np.log(AUTO_SIGMA_DETECTION)
    clf = CBCClassifier(max_iter=1).fit(X, y, sample_weight=weights)
    assert_allclose(clf.sigma_, expected)


def _direction(u, metric, embedding=None):
    """Scale ``u`` to length one in the metric's own norm."""
    if embedding is not None:
        return u / np.linalg.norm(embedding @ u)
    order = {"euclidean": 2, "manhattan": 1, "chebyshev": np.inf}[metric]
    return u / np.linalg.norm(u, ord=order)


@pytest.mark.parametrize("reasoning", ["stable", "original"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev", "nca"])
def test_perturbations_within_radius_never_flip(iris, learner, reasoning, metric):
    X, y = iris
    embedding = None
    if metric == "nca":
        embedding = learner.components_
        metric_arg = learner
    else:
        metric_arg = metric
    clf = CBCClassifier(
        n_reasonings_per_class=2, reasoning=reasoning, metric=metric_arg, random_state=0
    ).fit(X, y)
    rows = np.arange(0, X.shape[0], 3)
    radius = clf.robustness_radius(X[rows])
    predicted = clf.predict(X[rows])
    assert np.all(radius > 0) and np.all(np.isfinite(radius))
    rng = np.random.RandomState(1)
    # The agreement of the best rival class, for the adversarial directions.
    agreement = clf.agreement_probability(X[rows])
    for i, row in enumerate(rows):
        x, label = X[row], predicted[i]
        own = np.flatnonzero(clf.classes_ == label)[0]
        rival = np.argsort(agreement[i])[-2]

        def margin(z, own=own, rival=rival):
            p = clf.agreement_probability(z[None])[0]
            return p[own] - p[rival]

        gradient = np.array(
            [(margin(x + 1e-6 * e) - margin(x - 1e-6 * e)) / 2e-6 for e in np.eye(4)]
        )
        directions = [_direction(rng.randn(4), metric, embedding) for _ in range(30)]
        # Down the gradient of the margin, and straight at each component.
        directions.append(_direction(-gradient, metric, embedding))
        directions += [_direction(w - x, metric, embedding) for w in clf.components_]
        inside = x + 0.999 * radius[i] * np.array(directions)
        assert np.all(clf.predict(inside) == label)
        # Along the adversarial directions, every point of the segment.
        steps = np.linspace(0, 0.999 * radius[i], 200)
        for direction in directions[30:]:
            segment = x + steps[:, None] * direction
            assert np.all(clf.predict(segment) == label)


@pytest.mark.parametrize("reasoning", ["stable", "original"])
def test_radius_is_exact_on_a_line_between_components(reasoning):
    # In one dimension, between two components, moving towards the rival's
    # component shortens one distance and lengthens the other by exactly the
    # step: the worst case of the bound is attained, so the radius must equal
    # the distance to the decision boundary.
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-2, 0.7, 50), rng.normal(2, 0.7, 50)][:, None]
    y = np.r_[np.zeros(50), np.ones(50)]
    clf = CBCClassifier(n_components=2, reasoning=reasoning, random_state=0).fit(X, y)
    low, high = np.sort(clf.components_.ravel())
    coefficient = clf._alpha[:, 1] - clf._alpha[:, 0]
    # Each class's component speaks for it: the configuration of exactness.
    order = np.argsort(clf.components_.ravel())
    assert coefficient[order[0]] < 0 < coefficient[order[1]]

    def gap(t):
        return np.diff(clf.agreement_probability([[t]])[0])[0]

    boundary = brentq(gap, low, high, xtol=1e-14)
    points = np.linspace(low + 0.01, high - 0.01, 25)
    radius = clf.robustness_radius(points[:, None])
    assert_allclose(radius, np.abs(points - boundary), rtol=1e-8, atol=1e-10)
    towards = np.sign(boundary - points)
    beyond = points + 1.01 * radius * towards
    assert np.all(clf.predict(beyond[:, None]) != clf.predict(points[:, None]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_radius_needs_a_true_metric(iris):
    X, y = iris
    for metric in ["sqeuclidean", "cosine"]:
        clf = CBCClassifier(metric=metric, max_iter=5).fit(X, y)
        with pytest.raises(ValueError, match="triangle inequality"):
            clf.robustness_radius(X)


def test_learner_metric_is_its_mahalanobis_distance(iris, learner):
    X, y = iris
    by_learner = CBCClassifier(metric=learner, random_state=0).fit(X, y)
    by_map = CBCClassifier(
        metric="mahalanobis",
        metric_params={"components": learner.components_},
        random_state=0,
    ).fit(X, y)
    assert_allclose(by_learner.components_, by_map.components_)
    assert_allclose(by_learner.predict_proba(X), by_map.predict_proba(X))


def test_parameter_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="gradient"):
        CBCClassifier(metric=lambda a, b: np.abs(a - b).sum()).fit(X, y)
    with pytest.raises(ValueError, match="n_components=200"):
        CBCClassifier(n_components=200).fit(X[::8], y[::8])
    with pytest.raises(ValueError, match="non-zero"):
        CBCClassifier().fit(X, y, sample_weight=np.zeros(X.shape[0]))


def test_random_init_is_seeded(iris):
    X, y = iris
    first = CBCClassifier(init="random", random_state=3).fit(X, y)
    again = CBCClassifier(init="random", random_state=3).fit(X, y)
    other = CBCClassifier(init="random", random_state=4).fit(X, y)
    assert_allclose(first.components_, again.components_)
    assert not np.allclose(first.components_, other.components_)
    assert first.score(X, y) > 0.9


def test_float32_input_is_accepted():
    X, y = make_blobs(90, centers=3, random_state=0)
    clf = CBCClassifier(random_state=0).fit(X.astype(np.float32), y)
    assert clf.score(X.astype(np.float32), y) > 0.9


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    clf = CBCClassifier().fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.90
