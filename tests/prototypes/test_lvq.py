"""Tests of the GLVQ family: GLVQ, GRLVQ, GMLVQ, LGMLVQ and RSLVQ."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import approx_fprime
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import NCA
from sklearn_metric.prototypes import GLVQ, GMLVQ, GRLVQ, LGMLVQ, RSLVQ

ALL = (GLVQ, GRLVQ, GMLVQ, LGMLVQ, RSLVQ)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _theta(model):
    return np.concatenate([model.prototypes_.ravel(), model._relevance_params])


GRADIENT_CASES = [
    (GLVQ, {}),
    (GLVQ, {"metric": "euclidean"}),
    (GLVQ, {"activation": "swish"}),
    (GLVQ, {"activation": "identity", "prototypes_per_class": 2}),
    (GRLVQ, {}),
    (GMLVQ, {}),
    (GMLVQ, {"n_components": 2}),
    (GMLVQ, {"regularization": 0.1}),
    (LGMLVQ, {}),
    (LGMLVQ, {"localization": "class", "prototypes_per_class": 2}),
    (RSLVQ, {}),
    (RSLVQ, {"prototypes_per_class": 2, "metric": "euclidean"}),
]


@pytest.mark.parametrize("cls, params", GRADIENT_CASES)
def test_gradient_matches_finite_differences(cls, params):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = rng.randint(0, 3, 60).astype(np.intp)
    weight = rng.rand(60)
    weight /= weight.sum()
    model = cls(max_iter=3, random_state=0, **params).fit(X, y)
    theta = _theta(model) + 0.05 * rng.randn(_theta(model).size)

    def cost(t):
        return model._cost_and_gradient(t, X, y, weight)[0]

    numeric = approx_fprime(theta, cost, 1e-7)
    analytic = model._cost_and_gradient(theta, X, y, weight)[1]
    assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-7)


def _learned_sq_distance(model, x, k):
    diff = x - model.prototypes_[k]
    if isinstance(model, GMLVQ):
        return diff @ model.lambda_ @ diff
    if isinstance(model, GRLVQ):
        return diff @ (model.lambda_ * diff)
    if isinstance(model, LGMLVQ):
        return diff @ model.lambda_[k] @ diff
    return diff @ diff


@pytest.mark.parametrize("cls", [GLVQ, GRLVQ, GMLVQ, LGMLVQ])
def test_predict_is_the_nearest_prototype_by_a_loop(cls):
    X, y = _iris()
    model = cls(prototypes_per_class=2, random_state=0).fit(X, y)
    expected = []
    for x in X:
        d = [_learned_sq_distance(model, x, k) for k in range(len(model.prototypes_))]
        expected.append(model.prototype_labels_[int(np.argmin(d))])
    assert_array_equal(model.predict(X), expected)
    assert_array_equal(
        np.argmax(model.predict_proba(X), axis=1),
        np.searchsorted(model.classes_, model.predict(X)),
    )


def test_rslvq_posterior_matches_the_mixture_formula():
    X, y = _iris()
    model = RSLVQ(prototypes_per_class=2, sigma=0.7, random_state=0).fit(X, y)
    for x, row in zip(X[:20], model.predict_proba(X[:20])):
        logits = np.array(
            [-np.sum((x - w) ** 2) / (2 * 0.7**2) for w in model.prototypes_]
        )
        total = logsumexp(logits)
        for c, label in enumerate(model.classes_):
            mine = logits[model.prototype_labels_ == label]
            assert_allclose(row[c], np.exp(logsumexp(mine) - total), rtol=1e-10)


@pytest.mark.parametrize("cls", [GMLVQ, LGMLVQ])
def test_relevance_matrices_are_psd_with_unit_trace(cls):
    X, y = _iris()
    model = cls(random_state=0).fit(X, y)
    matrices = np.atleast_3d(model.lambda_)
    if cls is GMLVQ:
        matrices = model.lambda_[None]
    for lam in matrices:
        assert_allclose(np.trace(lam), 1.0)
        assert_allclose(lam, lam.T, atol=1e-12)
        assert np.linalg.eigvalsh(lam).min() > -1e-12


@pytest.mark.parametrize("cls", [GMLVQ, GRLVQ])
def test_relevance_is_largest_on_the_feature_that_carries_the_label(cls):
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    y = (X[:, 3] > 0).astype(int)
    model = cls(random_state=0).fit(X, y)
    assert int(np.argmax(model.feature_relevances_)) == 3
    assert_allclose(model.feature_relevances_.sum(), 1.0)


def test_gmlvq_transform_preserves_the_learned_distance():
    X, y = _iris()
    model = GMLVQ(random_state=0).fit(X, y)
    Z = model.transform(X)
    for i, j in [(0, 1), (3, 77), (10, 140)]:
        diff = X[i] - X[j]
        assert_allclose(np.sum((Z[i] - Z[j]) ** 2), diff @ model.lambda_ @ diff)
    assert model.transform(X.astype(np.float32)).dtype == np.float32
    low = GMLVQ(n_components=2, random_state=0).fit(X, y)
    assert low.omega_.shape == (2, 4)
    assert low.transform(X).shape == (150, 2)


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    assert GMLVQ(random_state=0).fit(X_train, y_train).score(X_test, y_test) >= 0.965
    for cls in (GLVQ, LGMLVQ):
        accuracy = cls(random_state=0).fit(X_train, y_train).score(X_test, y_test)
        assert accuracy >= 0.93


@pytest.mark.parametrize("cls", ALL)
def test_integer_sample_weight_equals_repetition(cls):
    X, y = _iris()
    weight = np.random.RandomState(0).randint(1, 4, size=len(y))
    weighted = cls(random_state=0).fit(X, y, sample_weight=weight)
    repeated = cls(random_state=0).fit(np.repeat(X, weight, 0), np.repeat(y, weight))
    assert_allclose(weighted.prototypes_, repeated.prototypes_, rtol=1e-6, atol=1e-6)
    assert_array_equal(weighted.predict(X), repeated.predict(X))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_learn(solver):
    X, y = _iris()
    model = GMLVQ(solver=solver, learning_rate=0.05, max_iter=50, random_state=0)
    assert model.fit(X, y).score(X, y) > 0.9


def test_metric_learner_as_metric_and_in_a_pipeline():
    X, y = _iris()
    nca = NCA(max_iter=20, random_state=0).fit(X, y)
    model = GLVQ(metric=nca, random_state=0).fit(X, y)
    direct = GLVQ(random_state=0).fit(nca.transform(X), y)
    assert_allclose(model.prototypes_, direct.prototypes_)
    assert_array_equal(model.predict(X), direct.predict(nca.transform(X)))
    pipe = make_pipeline(NCA(max_iter=20, random_state=0), GMLVQ(random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.9


def test_prototype_count_initialisation_and_kmeans():
    X, y = _iris()
    model = GLVQ(prototypes_per_class={0: 1, 1: 2, 2: 3}, random_state=0).fit(X, y)
    assert_array_equal(model.prototype_labels_, [0, 1, 1, 2, 2, 2])
    start = np.vstack([X[y == c][:2] for c in range(3)])
    fixed = GLVQ(prototypes_per_class=2, initial_prototypes=start, max_iter=1)
    assert fixed.fit(X, y).prototypes_.shape == (6, 4)
    km = GLVQ(prototypes_per_class=2, initial_prototypes="kmeans", random_state=0)
    assert km.fit(X, y).score(X, y) > 0.9


@pytest.mark.parametrize(
    "params, data, message",
    [
        ({}, "one_class", "at least 2 classes"),
        ({"prototypes_per_class": 60}, "iris", "only 50 samples"),
        ({"prototypes_per_class": {7: 1}}, "iris", "not in y"),
        ({"initial_prototypes": np.zeros((2, 4))}, "iris", "initial_prototypes"),
    ],
)
def test_bad_input_is_named(params, data, message):
    X, y = _iris()
    if data == "one_class":
        y = np.zeros_like(y)
    with pytest.raises(ValueError, match=message):
        GLVQ(**params).fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        GMLVQ(n_components=9).fit(X, _iris()[1])
    with pytest.raises(ValueError, match="sample_weight"):
        GLVQ().fit(X, _iris()[1], sample_weight=-np.ones(len(y)))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GLVQ().fit(bad, _iris()[1])


@pytest.mark.parametrize("cls", ALL)
def test_pickle_clone_grid_search_and_inputs_untouched(cls):
    X, y = _iris()
    X_copy = X.copy()
    model = cls(random_state=0).fit(X, y)
    assert_array_equal(X, X_copy)
    again = pickle.loads(pickle.dumps(model))
    assert_array_equal(again.predict(X), model.predict(X))
    clone(model)
    grid = GridSearchCV(cls(random_state=0), {"max_iter": [5, 50]}, cv=3)
    assert grid.fit(X, y).best_score_ > 0.8
