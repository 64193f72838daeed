"""BaseOverSampler: sampling_strategy, containers, sample_weight, validation."""

from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import make_classification

from sklearn_metric.over_sampling import SMOTE
from sklearn_metric.over_sampling._base import (
    BaseOverSampler,
    interpolate,
    resolve_sampling_strategy,
)
from sklearn_metric.utils.discovery import all_estimators

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SMOTE as ImbSMOTE  # noqa: E402
from imblearn.utils import check_sampling_strategy  # noqa: E402


def _binary(n_samples=120, random_state=0):
    return make_classification(
        n_samples=n_samples,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        weights=[0.8],
        random_state=random_state,
    )


def _multiclass(random_state=0):
    X, y = make_classification(
        n_samples=150,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        weights=[0.6, 0.25],
        random_state=random_state,
    )
    return X, y


def _ask_for_40_each(y):
    return {label: max(40, int(n)) for label, n in Counter(y.tolist()).items()}


BINARY_STRATEGIES = [
    0.5,
    0.75,
    1.0,
    "minority",
    "not minority",
    "not majority",
    "all",
    "auto",
    {1: 60},
    _ask_for_40_each,
]
MULTI_STRATEGIES = [
    "minority",
    "not minority",
    "not majority",
    "all",
    "auto",
    {1: 90, 2: 45},
    {0: 100},
    _ask_for_40_each,
]


def _strategy_id(strategy):
    # A function's repr holds its address, which differs between xdist workers.
    return strategy.__name__ if callable(strategy) else repr(strategy)


@pytest.mark.parametrize("strategy", BINARY_STRATEGIES, ids=_strategy_id)
def test_binary_strategies_match_imblearn(strategy):
    _, y = _binary()
    expected = check_sampling_strategy(strategy, y, "over-sampling")
    assert resolve_sampling_strategy(strategy, y) == dict(expected)


@pytest.mark.parametrize("strategy", MULTI_STRATEGIES, ids=_strategy_id)
def test_multiclass_strategies_match_imblearn(strategy):
    _, y = _multiclass()
    expected = check_sampling_strategy(strategy, y, "over-sampling")
    assert resolve_sampling_strategy(strategy, y) == dict(expected)


@pytest.mark.parametrize(
    "data, strategy",
    [(_binary, s) for s in BINARY_STRATEGIES]
    + [(_multiclass, s) for s in MULTI_STRATEGIES],
    ids=lambda v: getattr(v, "__name__", repr(v)),
)
def test_resampled_class_counts_match_imblearn(data, strategy):
    X, y = data()
    _, y_ours = SMOTE(
        sampling_strategy=strategy, k_neighbors=3, random_state=0
    ).fit_resample(X, y)
    _, y_imb = ImbSMOTE(
        sampling_strategy=strategy, k_neighbors=3, random_state=0
    ).fit_resample(X, y)
    assert Counter(y_ours.tolist()) == Counter(y_imb.tolist())


@pytest.mark.parametrize(
    "strategy, message",
    [
        ({5: 100}, "not present in y"),
        ({1: -3}, "negative"),
        ({0: 10}, "cannot remove samples"),
        (0.1, "increase the ratio"),
    ],
)
def test_invalid_strategies_raise_like_imblearn(strategy, message):
    X, y = _binary()
    with pytest.raises(ValueError):
        check_sampling_strategy(strategy, y, "over-sampling")
    with pytest.raises(ValueError, match=message):
        SMOTE(sampling_strategy=strategy).fit_resample(X, y)


def test_float_strategy_needs_a_binary_target():
    X, y = _multiclass()
    with pytest.raises(ValueError, match="binary"):
        SMOTE(sampling_strategy=0.5).fit_resample(X, y)


def test_parameter_validation_rejects_bad_strategies():
    X, y = _binary()
    for bad in ("majority", 1.5, 0.0, [1]):
        with pytest.raises(ValueError, match="sampling_strategy"):
            SMOTE(sampling_strategy=bad).fit_resample(X, y)


def test_callable_must_return_a_dict():
    X, y = _binary()
    with pytest.raises(TypeError, match="dict"):
        SMOTE(sampling_strategy=lambda y: [1]).fit_resample(X, y)


def test_fit_sets_the_strategy_and_returns_self():
    X, y = _binary()
    sampler = SMOTE()
    assert sampler.fit(X, y) is sampler
    assert sampler.sampling_strategy_ == {1: int(np.sum(y == 0) - np.sum(y == 1))}
    assert sampler.n_features_in_ == 4


def test_original_rows_come_first_and_inputs_are_untouched():
    X, y = _binary()
    X_copy, y_copy = X.copy(), y.copy()
    X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    assert_array_equal(X_res[: len(X)], X)
    assert_array_equal(y_res[: len(y)], y)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert X_res.dtype == X.dtype


def test_float32_stays_float32():
    X, y = _binary()
    X_res, _ = SMOTE(random_state=0).fit_resample(X.astype(np.float32), y)
    assert X_res.dtype == np.float32


def test_string_labels_are_kept():
    X, y = _binary()
    labels = np.array(["no", "yes"])[y]
    _, y_res = SMOTE(random_state=0).fit_resample(X, labels)
    assert set(y_res) == {"no", "yes"}
    assert np.sum(y_res == "yes") == np.sum(y_res == "no")


def test_dataframe_in_dataframe_out():
    pd = pytest.importorskip("pandas")
    X, y = _binary()
    frame = pd.DataFrame(
        X, columns=["a", "b", "c", "d"], index=np.arange(100, 100 + len(X))
    )
    frame["d"] = frame["d"].astype(np.float32)
    target = pd.Series(y, name="label", index=frame.index)
    sampler = SMOTE(random_state=0)
    X_res, y_res = sampler.fit_resample(frame, target)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(X_res.columns) == ["a", "b", "c", "d"]
    assert (X_res.dtypes == frame.dtypes).all()
    assert X_res.index.equals(pd.RangeIndex(len(X_res)))
    assert y_res.name == "label"
    assert_array_equal(sampler.get_feature_names_out(), ["a", "b", "c", "d"])
    X_plain, _ = SMOTE(random_state=0).fit_resample(frame.to_numpy(np.float64), y)
    assert_allclose(X_res.to_numpy(np.float64), X_plain, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_in_sparse_out_with_the_same_rows(fmt):
    X, y = _binary()
    X[np.abs(X) < 0.5] = 0.0
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    X_res, y_res = SMOTE(random_state=0).fit_resample(X_sparse, y)
    X_dense, y_dense = SMOTE(random_state=0).fit_resample(X, y)
    assert sparse.issparse(X_res) and X_res.format == fmt
    assert_allclose(X_res.toarray(), X_dense)
    assert_array_equal(y_res, y_dense)


def test_interpolate_dense_and_sparse_agree():
    rng = np.random.RandomState(0)
    X = rng.randn(10, 3)
    rows, nbrs, steps = rng.randint(10, size=7), rng.randint(10, size=7), rng.rand(7)
    dense = interpolate(X, rows, nbrs, steps)
    assert_allclose(dense, X[rows] + steps[:, None] * (X[nbrs] - X[rows]))
    assert_allclose(
        interpolate(sparse.csr_matrix(X), rows, nbrs, steps).toarray(), dense
    )


def test_sample_weight_is_returned_interpolated():
    X, y = _binary()
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    sampler = SMOTE(random_state=0)
    X_res, y_res, w_res = sampler.fit_resample(X, y, sample_weight=weights)
    assert w_res.shape == y_res.shape
    assert_array_equal(w_res[: len(y)], weights)
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    assert_allclose(
        w_res[len(y) :],
        (1 - steps) * weights[parents[:, 0]] + steps * weights[parents[:, 1]],
    )
    assert len(SMOTE(random_state=0).fit_resample(X, y)) == 2


@pytest.mark.parametrize("weights", [np.ones(3), -np.ones(120), np.full(120, np.nan)])
def test_bad_sample_weight_raises(weights):
    X, y = _binary()
    with pytest.raises(ValueError, match="sample_weight"):
        SMOTE().fit_resample(X, y, sample_weight=weights)


def test_bad_inputs_raise():
    X, y = _binary()
    with pytest.raises(ValueError, match="more than 1 class"):
        SMOTE().fit_resample(X, np.zeros(len(y)))
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SMOTE().fit_resample(X_nan, y)
    with pytest.raises(ValueError):
        SMOTE().fit_resample(np.array([["a", "b"]] * len(y)), y)
    with pytest.raises(ValueError, match="Unknown label type"):
        SMOTE().fit_resample(X, np.linspace(0, 1, len(y)))


def test_base_is_abstract_and_not_registered():
    names = {name for name, _ in all_estimators("sampler")}
    assert "BaseOverSampler" not in names
    assert {"SMOTE", "BorderlineSMOTE", "ADASYN"} <= names
    with pytest.raises(TypeError):
        BaseOverSampler()


def test_works_inside_an_imblearn_pipeline():
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    X, y = _binary(300)
    pipeline = make_pipeline(SMOTE(random_state=0), LogisticRegression())
    scores = cross_val_score(pipeline, X, y, cv=3, scoring="roc_auc")
    assert scores.mean() > 0.7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_interpolation_matches_its_numpy_twin(dtype):
    from sklearn_metric.over_sampling._kernels import interpolate_into

    rng = np.random.RandomState(0)
    X = rng.randn(50, 7).astype(dtype)
    rows, nbrs = rng.randint(50, size=300), rng.randint(50, size=300)
    steps = rng.uniform(-0.5, 1, size=300).astype(dtype)
    out = np.empty((300, 7), dtype=dtype)
    interpolate_into(X, rows, nbrs, steps, out)
    assert_array_equal(out, interpolate(X, rows, nbrs, steps))
