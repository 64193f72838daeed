"""Input checks every prototype classifier makes the same way."""

import inspect

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_metric.prototypes as prototypes
from sklearn_metric.metric_learning import NCA

CLASSIFIERS = [
    obj
    for name in prototypes.__all__
    if inspect.isclass(obj := getattr(prototypes, name))
]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X)[::3], y[::3]


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_a_class_without_weight_is_named(cls, iris):
    X, y = iris
    weight = np.where(y == 2, 0.0, 1.0)
    with pytest.raises(ValueError, match="class 2 has none"):
        cls().fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_negative_weights_are_refused(cls, iris):
    X, y = iris
    weight = np.ones(y.shape[0])
    weight[3] = -1.0
    with pytest.raises(ValueError, match="Negative values.*sample_weight"):
        cls().fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_one_class_is_refused(cls, iris):
    X, y = iris
    with pytest.raises(ValueError, match="at least 2 classes"):
        cls().fit(X[y == 0], y[y == 0])


# The metric that a fitted Mahalanobis learner stands for, measured in its
# embedding: the estimator's own default, except where the default is not a
# Euclidean-type distance.
EMBEDDED_METRIC = {"CalibratedPrototypeClassifier": "euclidean"}
# CBC keeps its components in the input space and measures them with the
# learner's Mahalanobis distance (test_cbc.py checks that), so its fit with a
# learner is not a fit in the embedding.
MEASURING = [
    cls
    for cls in CLASSIFIERS
    if "metric" in cls().get_params() and cls is not prototypes.CBCClassifier
]


@pytest.mark.parametrize("cls", MEASURING, ids=lambda c: c.__name__)
def test_a_fitted_learner_is_its_embedding(cls, iris):
    X, y = iris
    learner = NCA(n_components=2, random_state=0).fit(X, y)
    Z = learner.transform(X)
    params = {"random_state": 0} if "random_state" in cls().get_params() else {}
    by_learner = cls(metric=learner, **params).fit(X, y)
    default = cls().get_params()["metric"]
    in_embedding = cls(metric=EMBEDDED_METRIC.get(cls.__name__, default), **params)
    in_embedding.fit(Z, y)
    assert by_learner.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(by_learner.predict(X), in_embedding.predict(Z))
    np.testing.assert_allclose(
        by_learner.predict_proba(X), in_embedding.predict_proba(Z), atol=1e-6
    )


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_after_a_metric_learner_in_a_pipeline(cls, iris):
    X, y = iris
    learner = NCA(n_components=2, random_state=0)
    if cls is prototypes.CalibratedPrototypeClassifier:
        # Its default cosine suits non-negative features; NCA's are not.
        pipe = make_pipeline(learner, cls(metric="euclidean"))
    elif cls is prototypes.SupportTrivialPrototypeClassifier:
        # Cosine similarities: the embedding is centred first.
        pipe = make_pipeline(learner, StandardScaler(), cls())
    else:
        pipe = make_pipeline(learner, cls())
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(3))
    # NCA's two-dimensional iris embedding is nearly separable.
    assert scores.mean() >= 0.85
