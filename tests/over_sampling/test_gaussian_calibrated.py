"""GaussianCalibratedOverSampler: robust estimates, tail calibration, counts, API."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.covariance import LedoitWolf

from sklearn_metric.over_sampling import SMOTE
from sklearn_metric.over_sampling._gaussian_calibrated import (
    GaussianCalibratedOverSampler,
    robust_class_gaussian,
    sample_gaussian,
)


def _blob(rng, centre, n, scale=1.0):
    centre = np.asarray(centre, dtype=float)
    return centre + scale * rng.standard_normal((n, centre.size))


def _by_hand_covariance(X_class, shrinkage):
    """Shrunk covariance around the median, from its definition."""
    centred = X_class - np.median(X_class, axis=0)
    S = centred.T @ centred / X_class.shape[0]
    d = S.shape[0]
    return (1 - shrinkage) * S + shrinkage * np.trace(S) / d * np.eye(d)


def _tail_data(seed=0):
    """Three head classes around (3, 3), (0, 6), (8, 0) and a tail at (0, 0)."""
    rng = np.random.RandomState(seed)
    X = np.vstack(
        [
            _blob(rng, [3, 3], 60, 0.5),
            _blob(rng, [0, 6], 50, [1.5, 0.3]),
            _blob(rng, [8, 0], 40, [0.2, 2.0]),
            _blob(rng, [0, 0], 6, 0.4),
        ]
    )
    y = np.repeat([0, 1, 2, 3], [60, 50, 40, 6])
    return X, y


# --------------------------------------------------------------------------
# Robust per-class estimates
# --------------------------------------------------------------------------


def test_robust_estimates_equal_median_and_ledoit_wolf():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 5)) @ rng.standard_normal((5, 5))
    location, covariance = robust_class_gaussian(X, "ledoit_wolf")
    median = np.median(X, axis=0)
    np.testing.assert_allclose(location, median)
    expected = LedoitWolf(assume_centered=True).fit(X - median).covariance_
    np.testing.assert_allclose(covariance, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shrinkage", [0.0, 0.1, 1.0])
def test_fixed_shrinkage_equals_its_formula(shrinkage):
    rng = np.random.RandomState(1)
    X = rng.standard_normal((15, 4)) * [1, 2, 3, 4]
    _, covariance = robust_class_gaussian(X, shrinkage)
    np.testing.assert_allclose(
        covariance, _by_hand_covariance(X, shrinkage), rtol=1e-12, atol=1e-12
    )


def test_median_resists_mislabelled_rows():
    rng = np.random.RandomState(2)
    clean = _blob(rng, [0, 0, 0], 90)
    flipped = _blob(rng, [15, 15, 15], 10)
    X = np.vstack([clean, flipped])
    location, _ = robust_class_gaussian(X)
    assert np.linalg.norm(location) < 0.5 * np.linalg.norm(X.mean(axis=0))


def test_single_row_gives_zero_covariance():
    location, covariance = robust_class_gaussian(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(location, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(covariance, np.zeros((3, 3)))


def test_sample_gaussian_moments_and_singular_covariance():
    rng = np.random.RandomState(3)
    A = rng.standard_normal((3, 3))
    covariance = A @ A.T
    mean = np.array([1.0, -2.0, 5.0])
    draws = sample_gaussian(np.random.RandomState(0), mean, covariance, 20000)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.1)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.15)
    # Rank one: every draw lies on the line mean + t * v.
    v = np.array([1.0, 2.0, -1.0])
    line = sample_gaussian(np.random.RandomState(0), mean, np.outer(v, v), 50)
    off_line = (line - mean) - np.outer((line - mean) @ v / (v @ v), v)
    np.testing.assert_allclose(off_line, 0.0, atol=1e-9)


# --------------------------------------------------------------------------
# Synthetic rows follow the estimated Gaussians
# --------------------------------------------------------------------------


def test_synthetic_rows_match_robust_estimates_without_borrowing():
    rng = np.random.RandomState(4)
    true_cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    X1 = rng.multivariate_normal([1.0, 2.0, 3.0], true_cov, size=300)
    X0 = _blob(rng, [10, 10, 10], 6300)
    X = np.vstack([X0, X1])
    y = np.repeat([0, 1], [6300, 300])
    sampler = GaussianCalibratedOverSampler(n_borrow=0, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    synthetic = X_res[X.shape[0] :]
    assert synthetic.shape[0] == 6000 and np.all(y_res[X.shape[0] :] == 1)

    median = np.median(X1, axis=0)
    expected_cov = LedoitWolf(assume_centered=True).fit(X1 - median).covariance_
    np.testing.assert_allclose(sampler.means_[1], median)
    np.testing.assert_allclose(sampler.covariances_[1], expected_cov, rtol=1e-10)
    # About 5 standard errors with 6000 draws.
    se_mean = np.sqrt(np.diag(expected_cov) / 6000)
    assert np.all(np.abs(synthetic.mean(axis=0) - median) < 5 * se_mean)
    np.testing.assert_allclose(np.cov(synthetic.T), expected_cov, atol=0.12)


def test_tail_covariance_is_the_documented_mix():
    X, y = _tail_data()
    alpha = 0.3
    sampler = GaussianCalibratedOverSampler(
        n_borrow=2, alpha=alpha, min_samples=10, shrinkage=0.0, random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(sampler.tail_mask_, [False, False, False, True])

    medians = [np.median(X[y == k], axis=0) for k in range(4)]
    own = [_by_hand_covariance(X[y == k], 0.0) for k in range(4)]
    # Nearest heads of the tail's median, by brute force.
    distances = [np.linalg.norm(medians[3] - medians[k]) for k in range(3)]
    nearest = np.argsort(distances, kind="stable")[:2]
    np.testing.assert_array_equal(nearest, [0, 1])
    expected = (1 - alpha) * own[3] + alpha * (own[0] + own[1]) / 2
    np.testing.assert_allclose(sampler.covariances_[3], expected, rtol=1e-12)
    np.testing.assert_array_equal(sampler.borrowed_from_[3], [0, 1])
    np.testing.assert_allclose(sampler.means_[3], medians[3])
    for k in range(3):  # head classes keep their own estimate
        np.testing.assert_allclose(sampler.covariances_[k], own[k], rtol=1e-12)

    assert Counter(y_res[X.shape[0] :].tolist()) == {1: 10, 2: 20, 3: 54}
    # Many draws of the tail alone follow the calibrated Gaussian.
    sampler.set_params(sampling_strategy={3: 6006})
    X_res, y_res = sampler.fit_resample(X, y)
    synthetic = X_res[X.shape[0] :]
    assert synthetic.shape[0] == 6000 and np.all(y_res[X.shape[0] :] == 3)
    np.testing.assert_allclose(synthetic.mean(axis=0), medians[3], atol=0.05)
    np.testing.assert_allclose(np.cov(synthetic.T), expected, atol=0.04)


def test_tail_neighbours_follow_the_metric():
    X, y = _tail_data()
    # Feature 0 nearly ignored: the head at (8, 0) becomes the nearest.
    metric_params = {"VI": np.diag([1e-4, 1.0])}
    est = GaussianCalibratedOverSampler(
        min_samples=10,
        metric="mahalanobis",
        metric_params=metric_params,
        shrinkage=0.0,
        alpha=1.0,
        random_state=0,
    )
    est.fit_resample(X, y)
    np.testing.assert_array_equal(est.borrowed_from_[3], [2, 0])
    own = [_by_hand_covariance(X[y == k], 0.0) for k in range(3)]
    np.testing.assert_allclose(est.covariances_[3], (own[2] + own[0]) / 2, rtol=1e-12)


@pytest.mark.parametrize(
    "params", [{"n_borrow": 0}, {"alpha": 0.0}, {"min_samples": 1}]
)
def test_no_calibration_keeps_own_covariance(params):
    X, y = _tail_data()
    est = GaussianCalibratedOverSampler(
        shrinkage=0.0, random_state=0, **{"min_samples": 10, **params}
    )
    est.fit_resample(X, y)
    np.testing.assert_allclose(
        est.covariances_[3], _by_hand_covariance(X[y == 3], 0), rtol=1e-12
    )
    assert est.borrowed_from_ == {}


def test_n_borrow_larger_than_heads_uses_every_head():
    X, y = _tail_data()
    est = GaussianCalibratedOverSampler(
        n_borrow=10, alpha=1.0, min_samples=10, shrinkage=0.0, random_state=0
    )
    est.fit_resample(X, y)
    assert sorted(est.borrowed_from_[3].tolist()) == [0, 1, 2]
    own = [_by_hand_covariance(X[y == k], 0.0) for k in range(3)]
    np.testing.assert_allclose(est.covariances_[3], sum(own) / 3, rtol=1e-12)


def test_tiny_class_gets_a_positive_definite_covariance():
    rng = np.random.RandomState(5)
    X = np.vstack([_blob(rng, np.zeros(6), 80), _blob(rng, np.ones(6) * 4, 2)])
    y = np.repeat([0, 1], [80, 2])
    est = GaussianCalibratedOverSampler(min_samples=10, random_state=0)
    X_res, y_res = est.fit_resample(X, y)
    assert np.linalg.eigvalsh(est.covariances_[1]).min() > 0
    assert Counter(y_res.tolist()) == {0: 80, 1: 80}
    # A single-row class can be over-sampled too (SMOTE cannot).
    X1, y1 = X[:81], y[:81]
    X_res, y_res = GaussianCalibratedOverSampler(random_state=0).fit_resample(X1, y1)
    assert Counter(y_res.tolist()) == {0: 80, 1: 80}
    assert np.isfinite(X_res).all()


# --------------------------------------------------------------------------
# Counts, provenance, containers
# --------------------------------------------------------------------------


def _three_classes():
    rng = np.random.RandomState(6)
    X = np.vstack(
        [_blob(rng, [0, 0], 50), _blob(rng, [4, 0], 20), _blob(rng, [0, 4], 12)]
    )
    return X, np.repeat([0, 1, 2], [50, 20, 12])


@pytest.mark.parametrize(
    "strategy",
    [
        "auto",
        "minority",
        "not minority",
        "not majority",
        "all",
        {1: 30, 2: 40},
        lambda y: {2: 25},
    ],
)
def test_class_counts_match_smote(strategy):
    X, y = _three_classes()
    _, y_ours = GaussianCalibratedOverSampler(
        sampling_strategy=strategy, random_state=0
    ).fit_resample(X, y)
    _, y_smote = SMOTE(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    assert Counter(y_ours.tolist()) == Counter(y_smote.tolist())


def test_float_strategy_counts_match_smote():
    X, y = _three_classes()
    X, y = X[y < 2], y[y < 2]
    _, y_ours = GaussianCalibratedOverSampler(
        sampling_strategy=0.8, random_state=0
    ).fit_resample(X, y)
    _, y_smote = SMOTE(sampling_strategy=0.8, random_state=0).fit_resample(X, y)
    assert Counter(y_ours.tolist()) == Counter(y_smote.tolist()) == {0: 50, 1: 40}


def test_original_rows_first_and_input_untouched():
    X, y = _three_classes()
    X_copy, y_copy = X.copy(), y.copy()
    X_res, y_res = GaussianCalibratedOverSampler(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(X_res[: X.shape[0]], X)
    np.testing.assert_array_equal(y_res[: X.shape[0]], y)


def test_parents_are_nearest_rows_of_the_class_and_carry_weights():
    X, y = _three_classes()
    weights = np.arange(1.0, X.shape[0] + 1)
    est = GaussianCalibratedOverSampler(random_state=0)
    X_res, y_res, w_res = est.fit_resample(X, y, sample_weight=weights)
    synthetic, labels = X_res[X.shape[0] :], y_res[X.shape[0] :]
    parents = est.synthetic_pairs_["parents"]
    np.testing.assert_array_equal(parents[:, 0], parents[:, 1])
    np.testing.assert_array_equal(est.synthetic_pairs_["steps"], 0.0)
    for row, label, parent in zip(synthetic, labels, parents[:, 0]):
        class_rows = np.flatnonzero(y == label)
        d = np.linalg.norm(X[class_rows] - row, axis=1)
        assert parent == class_rows[np.argmin(d)]
    np.testing.assert_array_equal(w_res[X.shape[0] :], weights[parents[:, 0]])


def test_reproducible_and_seed_dependent():
    X, y = _three_classes()
    a = GaussianCalibratedOverSampler(random_state=3).fit_resample(X, y)[0]
    b = GaussianCalibratedOverSampler(random_state=3).fit_resample(X, y)[0]
    c = GaussianCalibratedOverSampler(random_state=4).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[X.shape[0] :], c[X.shape[0] :])


def test_dataframe_sparse_and_float32_containers():
    X, y = _three_classes()
    frame = pd.DataFrame(X, columns=["a", "b"])
    series = pd.Series(y, name="target")
    X_res, y_res = GaussianCalibratedOverSampler(random_state=0).fit_resample(
        frame, series
    )
    assert list(X_res.columns) == ["a", "b"] and y_res.name == "target"
    X_dense, _ = GaussianCalibratedOverSampler(random_state=0).fit_resample(X, y)
    np.testing.assert_allclose(X_res.to_numpy(), X_dense)

    X_sp, _ = GaussianCalibratedOverSampler(random_state=0).fit_resample(
        sparse.csr_matrix(X), y
    )
    assert sparse.issparse(X_sp) and X_sp.format == "csr"
    np.testing.assert_allclose(X_sp.toarray(), X_dense)

    X32, _ = GaussianCalibratedOverSampler(random_state=0).fit_resample(
        X.astype(np.float32), y
    )
    assert X32.dtype == np.float32


def test_nothing_to_generate():
    X, y = _three_classes()
    keep = np.r_[0:12, 50:62, 70:82]
    X_res, y_res = GaussianCalibratedOverSampler(random_state=0).fit_resample(
        X[keep], y[keep]
    )
    np.testing.assert_array_equal(X_res, X[keep])
    assert GaussianCalibratedOverSampler().fit(X, y).sampling_strategy_ == {
        1: 30,
        2: 38,
    }


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"n_borrow": -1}, "n_borrow"),
        ({"n_borrow": 1.5}, "n_borrow"),
        ({"min_samples": 0}, "min_samples"),
        ({"shrinkage": "oas"}, "shrinkage"),
        ({"shrinkage": 2.0}, "shrinkage"),
        ({"metric": "no-such-metric"}, "metric"),
        ({"sampling_strategy": "majority"}, "sampling_strategy"),
        ({"sampling_strategy": {7: 100}}, "not present"),
        ({"sampling_strategy": {1: 5}}, "cannot remove"),
    ],
)
def test_bad_parameters_raise(params, match):
    X, y = _three_classes()
    with pytest.raises(ValueError, match=match):
        GaussianCalibratedOverSampler(**params).fit_resample(X, y)


def test_bad_input_raises():
    X, y = _three_classes()
    with pytest.raises(ValueError, match="1 class"):
        GaussianCalibratedOverSampler().fit_resample(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        GaussianCalibratedOverSampler().fit_resample(X, np.linspace(0, 1, len(y)))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GaussianCalibratedOverSampler().fit_resample(X_nan, y)
    with pytest.raises(ValueError, match="sample_weight"):
        GaussianCalibratedOverSampler().fit_resample(X, y, sample_weight=np.ones(3))


def test_min_samples_boundary():
    X, y = _tail_data()  # class sizes 60, 50, 40, 6
    est = GaussianCalibratedOverSampler(min_samples=40, random_state=0)
    est.fit_resample(X, y)
    np.testing.assert_array_equal(est.tail_mask_, [False, False, False, True])
    est.set_params(min_samples=41).fit_resample(X, y)
    np.testing.assert_array_equal(est.tail_mask_, [False, False, True, True])
