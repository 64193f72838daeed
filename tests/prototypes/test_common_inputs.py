"""Input checks every prototype classifier makes the same way."""

import inspect

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

import sklearn_metric.prototypes as prototypes

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
