"""Checks every public estimator, found through the registry, must pass."""

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.utils._test_common import (
    PER_ESTIMATOR_CHECK_PARAMS,
    PER_ESTIMATOR_XFAIL_CHECKS,
    construct_instances,
    expected_failed_checks,
)
from sklearn_metric.utils.discovery import all_estimators

ESTIMATORS = list(construct_instances())
# Estimators fed with ordinary (n_samples, n_features) data; tuple learners take
# pairs, triplets or quadruplets and have their own checks. Samplers change the
# rows themselves (fit_resample), so they get checks of their own below.
SAMPLERS = [est for est in ESTIMATORS if hasattr(est, "fit_resample")]
# A search index (HNSWIndex) is an estimator but no pipeline step: it neither
# predicts nor transforms, so the pipeline tests leave it out.
TABULAR = [
    est
    for est in ESTIMATORS
    if get_tags(est).input_tags.two_d_array
    and not hasattr(est, "fit_resample")
    and (hasattr(est, "predict") or hasattr(est, "transform"))
]


def _id(estimator):
    return type(estimator).__name__


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_registry_is_not_empty_and_tables_name_real_estimators():
    names = {name for name, _ in all_estimators()}
    assert "KNeighborsClassifier" in names
    assert set(PER_ESTIMATOR_CHECK_PARAMS) <= names
    assert set(PER_ESTIMATOR_XFAIL_CHECKS) <= names
    for reasons in PER_ESTIMATOR_XFAIL_CHECKS.values():
        assert all(isinstance(reason, str) and reason for reason in reasons.values())


def _iris():
    X, y = load_iris(return_X_y=True)
    return X[::2], y[::2]


def _param_grid(estimator):
    """A small grid over one integer or float parameter the estimator has."""
    params = estimator.get_params(deep=False)
    for name in ("n_neighbors", "n_components", "max_iter", "C", "alpha"):
        if (
            name in params
            and isinstance(params[name], (int, float))
            and not isinstance(params[name], bool)
        ):
            value = params[name]
            return {
                f"est__{name}": [
                    value,
                    value + 1 if isinstance(value, int) else value * 2,
                ]
            }
    return {}


@pytest.mark.parametrize("estimator", TABULAR, ids=_id)
def test_pipeline_and_grid_search(estimator):
    X, y = _iris()
    steps = [("scale", StandardScaler()), ("est", clone(estimator))]
    if not is_classifier(estimator) and not is_regressor(estimator):
        # A transformer is judged by the classifier that uses its output.
        steps.append(("knn", KNeighborsClassifier(3)))
    # Iris rows are sorted by class: unshuffled folds would ask a regressor to
    # predict one class value it never saw (R^2 of 0 or below).
    cv = KFold(3, shuffle=True, random_state=0) if is_regressor(estimator) else 3
    grid = GridSearchCV(Pipeline(steps), _param_grid(estimator), cv=cv)
    grid.fit(X, y)
    assert np.isfinite(grid.best_score_)
    assert grid.best_score_ > 0.7
    if is_classifier(estimator):
        # Classifiers must be seen as such, or cross-validation silently stops
        # stratifying.
        scores = cross_val_score(clone(estimator), X, y, cv=3)
        assert scores.mean() > 0.8


@pytest.mark.parametrize("estimator", TABULAR, ids=_id)
def test_pickle_round_trip(estimator):
    X, y = _iris()
    fitted = clone(estimator).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    for method in ("predict", "predict_proba", "decision_function", "transform"):
        if hasattr(fitted, method):
            before, after = getattr(fitted, method)(X), getattr(restored, method)(X)
            if sparse.issparse(before):
                before, after = before.toarray(), after.toarray()
            np.testing.assert_array_equal(after, before)


TRANSFORMERS = [est for est in TABULAR if hasattr(est, "transform")]


@pytest.mark.parametrize("estimator", TRANSFORMERS, ids=_id)
def test_set_output_pandas(estimator):
    pd = pytest.importorskip("pandas")
    X, y = _iris()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    if sparse.issparse(clone(estimator).fit(frame, y).transform(frame)):
        # A neighbours graph is sparse, and scikit-learn refuses pandas output of
        # sparse matrices (as for KNeighborsTransformer): the refusal must be
        # its clear error, not a crash.
        transformer = clone(estimator).set_output(transform="pandas").fit(frame, y)
        with pytest.raises(ValueError, match="sparse"):
            transformer.transform(frame)
        return
    transformer = clone(estimator).set_output(transform="pandas").fit(frame, y)
    out = transformer.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(transformer.get_feature_names_out())
    assert out.index.equals(frame.index)


def _imbalanced_iris():
    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:70, 100:110]  # 50 / 20 / 10 samples
    return X[keep], y[keep]


def _seeded(estimator):
    estimator = clone(estimator)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=0)
    return estimator


@pytest.mark.parametrize("sampler", SAMPLERS, ids=_id)
def test_sampler_keeps_rows_consistent_and_reproducible(sampler):
    X, y = _imbalanced_iris()
    X_copy = X.copy()
    X_res, y_res = _seeded(sampler).fit_resample(X, y)
    assert X_res.shape == (y_res.shape[0], X.shape[1])
    assert np.isfinite(X_res).all()
    np.testing.assert_array_equal(X, X_copy)
    # The same seed gives the same rows, also after a pickle round trip.
    restored = pickle.loads(pickle.dumps(_seeded(sampler)))
    X_again, y_again = restored.fit_resample(X, y)
    np.testing.assert_array_equal(X_again, X_res)
    np.testing.assert_array_equal(y_again, y_res)
