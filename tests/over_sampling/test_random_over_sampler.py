import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from sklearn_metric.over_sampling import RandomOverSampler
from sklearn_metric.over_sampling._random_over_sampler import smoothing_bandwidth


def _data(seed=0, n_major=60, n_minor=12, n_features=3):
    rng = np.random.RandomState(seed)
    X = np.r_[rng.randn(n_major, n_features), rng.randn(n_minor, n_features) * 2 + 3]
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    return X, y


def _row_multiset(X):
    rows, counts = np.unique(X, axis=0, return_counts=True)
    return {tuple(r): c for r, c in zip(rows.tolist(), counts.tolist())}


def test_plain_bootstrap_copies_rows_of_the_class():
    X, y = _data()
    sampler = RandomOverSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [60, 60]
    assert_array_equal(X_res[:72], X)
    # Every new row is a row of the minority class; none is invented.
    minority = {tuple(r) for r in X[y == 1].tolist()}
    assert {tuple(r) for r in X_res[72:].tolist()} <= minority
    assert_array_equal(X_res, X[sampler.sample_indices_])
    assert_array_equal(y_res, y[sampler.sample_indices_])
    assert_array_equal(
        sampler.synthetic_pairs_["parents"][:, 0], sampler.sample_indices_[72:]
    )
    assert not sampler.synthetic_pairs_["steps"].any()


def test_shrinkage_zero_equals_plain_bootstrap():
    X, y = _data()
    plain = RandomOverSampler(random_state=3).fit_resample(X, y)
    zero = RandomOverSampler(shrinkage=0.0, random_state=3).fit_resample(X, y)
    # Same drawn rows; zero noise leaves them unchanged.
    assert _row_multiset(plain[0][:72]) == _row_multiset(zero[0][:72])
    assert_array_equal(plain[1], zero[1])
    assert_allclose(plain[0], zero[0])


def test_shrinkage_noise_variance_matches_the_formula():
    # Many new rows of a class with known per-feature spread: the noise (new row
    # minus the row it copies) has the variance (shrinkage * h * std_j) ** 2.
    rng = np.random.RandomState(1)
    scales = np.array([0.5, 2.0, 5.0])
    X = np.r_[rng.randn(4000, 3), rng.randn(400, 3) * scales]
    y = np.r_[np.zeros(4000, int), np.ones(400, int)]
    shrinkage = 1.7
    sampler = RandomOverSampler(shrinkage=shrinkage, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    noise = X_res[4400:] - X[sampler.sample_indices_[4400:]]
    h = (4.0 / ((3 + 2) * X.shape[0])) ** (1.0 / (3 + 4))
    expected = (shrinkage * h * X[y == 1].std(axis=0)) ** 2
    assert_allclose(noise.var(axis=0), expected, rtol=0.08)
    assert_allclose(noise.mean(axis=0), 0.0, atol=0.05 * np.sqrt(expected).max())
    assert smoothing_bandwidth(X.shape[0], 3) == pytest.approx(h)


def test_shrinkage_per_class_dict_and_errors():
    X, y = _data()
    sampler = RandomOverSampler(shrinkage={1: 0.5}, random_state=0)
    sampler.fit_resample(X, y)
    assert sampler.shrinkage_ == {1: 0.5}
    with pytest.raises(ValueError, match="shrinkage factor for each class"):
        RandomOverSampler(shrinkage={0: 1.0}).fit_resample(X, y)
    with pytest.raises(ValueError, match=">= 0"):
        RandomOverSampler(shrinkage={1: -1.0}).fit_resample(X, y)


def test_any_dtype_without_shrinkage_and_numeric_only_with_it():
    X = np.array([["a", 1], ["b", 2], ["c", 3], ["d", np.nan]], dtype=object)
    y = np.array([0, 0, 0, 1])
    X_res, y_res = RandomOverSampler(random_state=0).fit_resample(X, y)
    assert X_res.dtype == object and X_res.shape == (6, 2)
    assert (X_res[4:, 0] == "d").all()
    with pytest.raises(ValueError, match="shrinkage"):
        RandomOverSampler(shrinkage=1.0).fit_resample(X, y)


def test_integer_X_keeps_its_dtype_without_shrinkage_only():
    X, y = _data()
    X_int = np.round(X * 10).astype(np.int64)
    X_res, _ = RandomOverSampler(random_state=0).fit_resample(X_int, y)
    assert X_res.dtype == np.int64
    X_res, _ = RandomOverSampler(shrinkage=1.0, random_state=0).fit_resample(X_int, y)
    assert X_res.dtype == np.float64


def test_dataframe_keeps_dtypes_and_sparse_keeps_format():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(np.arange(72), unit="D", origin="2020-01-01"),
            "count": np.arange(72),
            "kind": pd.Categorical(np.where(y == 1, "rare", "common")),
        }
    )
    X_res, y_res = RandomOverSampler(random_state=0).fit_resample(
        frame, pd.Series(y, name="t")
    )
    pd.testing.assert_series_equal(X_res.dtypes, frame.dtypes)
    assert (X_res["kind"].iloc[72:] == "rare").all()
    assert y_res.name == "t"
    X_csc = sparse.csc_matrix(X)
    X_res, _ = RandomOverSampler(shrinkage=1.0, random_state=0).fit_resample(X_csc, y)
    assert X_res.format == "csc" and X_res.shape == (120, 3)


def test_sample_weight_follows_the_copied_row():
    X, y = _data()
    w = np.arange(72, dtype=float) + 1.0
    sampler = RandomOverSampler(random_state=0)
    _, _, w_res = sampler.fit_resample(X, y, sample_weight=w)
    assert_array_equal(w_res, w[sampler.sample_indices_])
    with pytest.raises(ValueError, match="finite and non-negative"):
        sampler.fit_resample(X, y, sample_weight=-w)


def test_counts_match_imbalanced_learn():
    imblearn = pytest.importorskip("imblearn.over_sampling")
    X, y = _data()
    y = y.copy()
    y[:10] = 2
    for strategy in ["auto", "all", "not majority", {1: 30, 2: 20}]:
        ours = RandomOverSampler(sampling_strategy=strategy, random_state=0)
        ref = imblearn.RandomOverSampler(sampling_strategy=strategy, random_state=0)
        assert (
            np.bincount(ours.fit_resample(X, y)[1]).tolist()
            == np.bincount(ref.fit_resample(X, y)[1]).tolist()
        )
