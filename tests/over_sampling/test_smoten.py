"""SMOTEN: the Value Difference Metric kernel, the votes, containers, errors."""

import numpy as np
import pandas as pd
import pytest
from imblearn.metrics.pairwise import ValueDifferenceMetric
from imblearn.over_sampling import SMOTEN as ImbSMOTEN
from scipy import sparse
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from sklearn_metric.over_sampling import _kernels as kc
from sklearn_metric.over_sampling._smoten import (
    SMOTEN,
    value_difference_tables,
    vdm_neighbors,
)

LETTERS = np.array(list("abcdefgh"), dtype=object)


def _nominal_data(n=240, levels=(3, 5, 8, 4), minority=0.3, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n) < minority).astype(np.int64)
    # Class-dependent frequencies, so that the VDM tables are informative.
    columns = []
    for m in levels:
        p0 = rng.dirichlet(np.ones(m))
        p1 = rng.dirichlet(np.ones(m))
        columns.append(
            np.where(y == 1, rng.choice(m, size=n, p=p1), rng.choice(m, size=n, p=p0))
        )
    return LETTERS[np.column_stack(columns)], y


def _codes(X):
    return OrdinalEncoder(dtype=np.int64).fit_transform(X)


def test_tables_equal_imbalanced_learns_value_difference_metric():
    X, y = _nominal_data()
    codes = _codes(X)
    vdm = ValueDifferenceMetric().fit(codes.astype(np.int32), y)
    proba, offsets = value_difference_tables(codes, y, codes.max(axis=0) + 1)
    np.testing.assert_allclose(proba, np.vstack(vdm.proba_per_class_))
    np.testing.assert_array_equal(offsets, [0, 3, 8, 16])


@pytest.mark.parametrize("n_neighbors", [1, 5])
def test_vdm_knn_matches_twin_and_brute_force_pairwise_matrix(n_neighbors):
    X, y = _nominal_data(n=150, seed=1)
    codes = _codes(X)
    proba, offsets = value_difference_tables(codes, y, codes.max(axis=0) + 1)
    skip = np.arange(150, dtype=np.int64)
    out_d = np.empty((150, n_neighbors))
    out_i = np.empty((150, n_neighbors), dtype=np.int64)
    kc.vdm_knn(codes, codes, proba, offsets, skip, out_d, out_i)
    twin_d, twin_i = kc.vdm_knn_numpy(codes, codes, proba, offsets, skip, n_neighbors)
    np.testing.assert_array_equal(out_i, twin_i)
    np.testing.assert_allclose(out_d, twin_d)

    # Independent reference: imbalanced-learn's full pairwise VDM matrix.
    # Categorical rows tie often, so compare distances and tie-aware sets.
    full = (
        ValueDifferenceMetric()
        .fit(codes.astype(np.int32), y)
        .pairwise(codes.astype(np.int32))
    )
    np.fill_diagonal(full, np.inf)
    ref_d = np.sort(full, axis=1)[:, :n_neighbors]
    np.testing.assert_allclose(out_d, ref_d, atol=1e-12)
    np.testing.assert_allclose(
        np.take_along_axis(full, out_i, axis=1), ref_d, atol=1e-12
    )
    np.testing.assert_array_equal(
        vdm_neighbors(codes, proba, offsets, n_neighbors), out_i
    )


def test_synthetic_rows_are_the_mode_of_row_and_neighbors():
    X, y = _nominal_data()
    sampler = SMOTEN(k_neighbors=4, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = X.shape[0]
    np.testing.assert_array_equal(X_res[:n], X)
    codes = _codes(X)
    minority = np.flatnonzero(y == 1)
    full = (
        ValueDifferenceMetric()
        .fit(codes.astype(np.int32), y)
        .pairwise(codes[minority].astype(np.int32))
    )
    np.fill_diagonal(full, np.inf)
    parents = sampler.synthetic_pairs_["parents"]
    np.testing.assert_array_equal(parents[:, 0], parents[:, 1])
    np.testing.assert_array_equal(sampler.synthetic_pairs_["steps"], 0.0)
    position = {row: i for i, row in enumerate(minority)}
    for new, row in zip(X_res[n:], parents[:, 0]):
        i = position[row]
        order = np.lexsort((np.arange(minority.size), full[i]))[:4]
        voters = np.concatenate([[row], minority[order]])
        for f in range(X.shape[1]):
            values, counts = np.unique(X[voters, f], return_counts=True)
            # Ties go to the smallest value (scipy.stats.mode's rule).
            assert new[f] == values[np.argmax(counts)]
    assert np.all(y_res[n:] == 1)


@pytest.mark.parametrize("sampling_strategy", ["auto", "all", 0.8, {1: 200}])
def test_counts_equal_imbalanced_learn(sampling_strategy):
    X, y = _nominal_data()
    _, y_ours = SMOTEN(
        sampling_strategy=sampling_strategy, random_state=0
    ).fit_resample(X, y)
    _, y_imb = ImbSMOTEN(
        sampling_strategy=sampling_strategy, random_state=0
    ).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_multiclass_matches_imbalanced_learn_counts_and_frequencies():
    X, _ = _nominal_data(n=300)
    y = np.repeat([0, 1, 2], [160, 90, 50])
    X_ours, y_ours = SMOTEN(random_state=0).fit_resample(X, y)
    X_imb, y_imb = ImbSMOTEN(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))
    np.testing.assert_array_equal(y_ours, y_imb)


def test_distribution_matches_imbalanced_learn():
    freq_ours, freq_imb = [], []
    for seed in range(10):
        X, y = _nominal_data(n=200, seed=seed)
        n = X.shape[0]
        X_ours, _ = SMOTEN(random_state=seed + 100).fit_resample(X, y)
        X_imb, _ = ImbSMOTEN(random_state=seed + 200).fit_resample(X, y)
        codes = OrdinalEncoder(categories=[list(LETTERS)] * 4).fit(X)
        freq_ours.append(
            np.bincount(codes.transform(X_ours[n:])[:, 2].astype(int), minlength=8)
            / (len(X_ours) - n)
        )
        freq_imb.append(
            np.bincount(codes.transform(X_imb[n:])[:, 2].astype(int), minlength=8)
            / (len(X_imb) - n)
        )
    np.testing.assert_allclose(
        np.mean(freq_ours, axis=0), np.mean(freq_imb, axis=0), atol=0.03
    )


def test_dataframe_numeric_sparse_and_sample_weight():
    X, y = _nominal_data()
    frame = pd.DataFrame(
        {"a": pd.Categorical(X[:, 0]), "b": X[:, 1], "c": X[:, 2], "d": X[:, 3]}
    )
    X_res, y_res = SMOTEN(random_state=0).fit_resample(frame, pd.Series(y, name="t"))
    assert isinstance(X_res, pd.DataFrame) and (X_res.dtypes == frame.dtypes).all()
    assert set(X_res["c"]) <= set(X[:, 2])
    assert y_res.name == "t"

    X_int, _ = SMOTEN(random_state=0).fit_resample(_codes(X), y)
    assert X_int.dtype == np.int64
    numeric = _codes(X).astype(np.float64)
    X_num, _ = SMOTEN(random_state=0).fit_resample(numeric, y)
    assert X_num.dtype == np.float64
    np.testing.assert_array_equal(X_int, X_num)
    np.testing.assert_array_equal(_codes(X_res.to_numpy()), X_num)
    X_sp, _ = SMOTEN(random_state=0).fit_resample(sparse.csr_matrix(numeric), y)
    assert sparse.issparse(X_sp)
    np.testing.assert_array_equal(X_sp.toarray(), X_num)

    w = np.arange(1.0, y.size + 1)
    sampler = SMOTEN(random_state=0)
    _, _, w_res = sampler.fit_resample(X, y, sample_weight=w)
    np.testing.assert_array_equal(
        w_res[y.size :], w[sampler.synthetic_pairs_["parents"][:, 0]]
    )


def test_n_jobs_does_not_change_the_result():
    X, y = _nominal_data(n=400)
    X_one, _ = SMOTEN(random_state=3, n_jobs=1).fit_resample(X, y)
    X_two, _ = SMOTEN(random_state=3, n_jobs=2).fit_resample(X, y)
    np.testing.assert_array_equal(X_one, X_two)


def test_bad_input_errors():
    X, y = _nominal_data(n=60)
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTEN(k_neighbors=100).fit_resample(X, y)
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTEN(k_neighbors=0).fit_resample(X, y)
    with pytest.raises(ValueError, match="one column of integer codes"):
        SMOTEN(categorical_encoder=OneHotEncoder()).fit_resample(X, y)
    with pytest.raises(ValueError, match="categorical_encoder"):
        SMOTEN(categorical_encoder="ordinal").fit_resample(X, y)
    X_missing = X.copy()
    X_missing[3, 1] = None
    with pytest.raises(ValueError, match="NaN or None"):
        SMOTEN().fit_resample(X_missing, y)
    with pytest.raises(ValueError, match="class"):
        SMOTEN().fit_resample(X, np.zeros(60))
