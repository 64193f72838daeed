"""The estimator registry."""

import inspect

import pytest
from sklearn.base import BaseEstimator, is_classifier

from sklearn_metric.utils.discovery import all_estimators, all_functions


def test_all_estimators_are_public_concrete_estimators():
    estimators = all_estimators()
    names = [name for name, _ in estimators]
    assert names == sorted(names) and len(set(names)) == len(names)
    for name, cls in estimators:
        assert not name.startswith("_")
        assert issubclass(cls, BaseEstimator) and not inspect.isabstract(cls)
        # Public estimators are importable from the public module above their
        # private one (sklearn_metric.over_sampling for ..._smote), not only
        # from the private module itself.
        parts = cls.__module__.split(".")
        while parts[-1].startswith("_"):
            parts.pop()
        module = ".".join(parts)
        assert getattr(__import__(module, fromlist=[name]), name) is cls


def test_type_filter():
    classifiers = dict(all_estimators("classifier"))
    assert "KNeighborsClassifier" in classifiers
    assert all(is_classifier(cls()) for cls in classifiers.values())
    union = dict(all_estimators(["classifier", "transformer"]))
    assert set(classifiers) <= set(union)
    assert all(hasattr(cls, "fit_resample") for _, cls in all_estimators("sampler"))


def test_type_filter_rejects_unknown_kind():
    with pytest.raises(ValueError, match="type_filter must be"):
        all_estimators("regresor")


def test_all_functions_lists_the_distance_api():
    names = dict(all_functions())
    for name in (
        "knn_search",
        "pairwise_distances",
        "paired_distances",
        "pairwise_distances_chunked",
    ):
        assert f"sklearn_metric.distances.{name}" in names
    assert all(not name.split(".")[-1].startswith("_") for name in names)
