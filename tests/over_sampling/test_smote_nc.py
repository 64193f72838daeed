"""SMOTENC: the code-based SMOTE-NC distance, category votes, containers, errors."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTENC as ImbSMOTENC
from scipy import sparse
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from sklearn_metric.over_sampling import _kernels as kc
from sklearn_metric.over_sampling._smote_nc import SMOTENC, mixed_neighbors


def _mixed_data(n=240, n_cont=3, levels=(4, 3, 6), minority=0.25, seed=0):
    rng = np.random.RandomState(seed)
    X_cont = rng.normal(size=(n, n_cont))
    X_cat = np.column_stack([rng.randint(0, m, size=n) for m in levels])
    y = (rng.rand(n) < minority).astype(np.int64)
    return np.column_stack([X_cont, X_cat]).astype(np.float64), y


def _one_hot_neighbors(X_cont, X_cat, n_neighbors):
    """imbalanced-learn's construction, spelled out: scaled dense one-hot."""
    median_std = np.median(X_cont.std(axis=0))
    one_hot = OneHotEncoder(sparse_output=False).fit_transform(X_cat)
    Z = np.hstack([X_cont, one_hot * median_std / np.sqrt(2)])
    dist = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(dist, np.inf)
    return np.argsort(dist, axis=1, kind="stable")[:, :n_neighbors], dist


# ---------------------------------------------------------------- kernels


@pytest.mark.parametrize("n_neighbors", [1, 4, 9])
def test_mixed_knn_matches_numpy_twin_with_ties(n_neighbors):
    rng = np.random.RandomState(1)
    # Small integer values: many exact ties, which must be broken by index.
    X_cont = rng.randint(0, 3, size=(80, 2)).astype(np.float64)
    X_cat = rng.randint(0, 2, size=(80, 3)).astype(np.int64)
    skip = np.arange(80, dtype=np.int64)
    out_d = np.empty((80, n_neighbors))
    out_i = np.empty((80, n_neighbors), dtype=np.int64)
    kc.mixed_knn(X_cont, X_cat, X_cont, X_cat, 2.0, skip, out_d, out_i)
    ref_d, ref_i = kc.mixed_knn_numpy(
        X_cont, X_cat, X_cont, X_cat, 2.0, skip, n_neighbors
    )
    np.testing.assert_array_equal(out_i, ref_i)
    np.testing.assert_allclose(out_d, ref_d)
    assert not np.any(out_i == skip[:, None])


def test_mixed_knn_without_self_exclusion_finds_self_first():
    rng = np.random.RandomState(2)
    X_cont = rng.normal(size=(50, 2))
    X_cat = rng.randint(0, 3, size=(50, 2)).astype(np.int64)
    out_d = np.empty((50, 3))
    out_i = np.empty((50, 3), dtype=np.int64)
    kc.mixed_knn(
        X_cont, X_cat, X_cont, X_cat, 1.0, np.full(50, -1, np.int64), out_d, out_i
    )
    np.testing.assert_array_equal(out_i[:, 0], np.arange(50))
    np.testing.assert_array_equal(out_d[:, 0], 0.0)


def test_categorical_mode_matches_numpy_twin_and_counts():
    rng = np.random.RandomState(3)
    codes = rng.randint(0, 4, size=(60, 5)).astype(np.int64)
    members = rng.randint(0, 60, size=(200, 6)).astype(np.int64)
    draws = rng.uniform(size=(200, 5))
    out = np.empty((200, 5), dtype=np.int64)
    kc.categorical_mode(codes, members, draws, out)
    np.testing.assert_array_equal(out, kc.categorical_mode_numpy(codes, members, draws))
    for s in range(200):
        for f in range(5):
            votes = np.bincount(codes[members[s], f], minlength=4)
            assert votes[out[s, f]] == votes.max()
    zeros = np.zeros_like(draws)
    kc.categorical_mode(codes, members, zeros, out)
    for s in range(200):
        for f in range(5):
            votes = np.bincount(codes[members[s], f], minlength=4)
            assert out[s, f] == np.flatnonzero(votes == votes.max())[0]


def test_neighbors_equal_explicit_one_hot_reference():
    X, _ = _mixed_data(n=150)
    X_cont, X_cat = X[:, :3], X[:, 3:].astype(np.int64)
    median_std = np.median(X_cont.std(axis=0))
    ours = mixed_neighbors(X_cont, X_cat, median_std**2, 5)
    reference, _ = _one_hot_neighbors(X_cont, X_cat, 5)
    np.testing.assert_array_equal(ours, reference)


# ---------------------------------------------------------------- sampler


def test_synthetic_rows_follow_the_definition():
    X, y = _mixed_data()
    sampler = SMOTENC([3, 4, 5], k_neighbors=4, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = X.shape[0]
    np.testing.assert_array_equal(X_res[:n], X)
    X_new = X_res[n:]
    parents = sampler.synthetic_pairs_["parents"]
    steps = sampler.synthetic_pairs_["steps"]
    assert np.all(y_res[n:] == 1) and np.all(y[parents] == 1)
    assert np.all((steps >= 0) & (steps < 1))

    minority = np.flatnonzero(y == 1)
    reference, _ = _one_hot_neighbors(
        X[minority, :3], X[minority, 3:].astype(np.int64), 4
    )
    position = {row: i for i, row in enumerate(minority)}
    for new, (a, b), t in zip(X_new, parents, steps):
        neighbors = minority[reference[position[a]]]
        assert b in neighbors
        np.testing.assert_allclose(new[:3], X[a, :3] + t * (X[b, :3] - X[a, :3]))
        for f in range(3, 6):
            # The row itself does not vote, as in imbalanced-learn.
            values, counts = np.unique(X[neighbors, f], return_counts=True)
            assert new[f] in values[counts == counts.max()]


@pytest.mark.parametrize(
    "sampling_strategy", ["auto", "minority", "all", 0.6, {1: 150}, "not majority"]
)
def test_counts_equal_imbalanced_learn(sampling_strategy):
    X, y = _mixed_data()
    _, y_ours = SMOTENC(
        [3, 4, 5], sampling_strategy=sampling_strategy, random_state=0
    ).fit_resample(X, y)
    _, y_imb = ImbSMOTENC(
        [3, 4, 5], sampling_strategy=sampling_strategy, random_state=0
    ).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_multiclass_counts_equal_imbalanced_learn():
    X, _ = _mixed_data(n=300)
    y = np.repeat([0, 1, 2], [180, 80, 40])
    _, y_ours = SMOTENC([3, 4, 5], random_state=0).fit_resample(X, y)
    _, y_imb = ImbSMOTENC([3, 4, 5], random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(y_ours), np.bincount(y_imb))


def test_same_seed_gives_imbalanced_learns_continuous_values():
    # Same draws, same neighbours (no distance ties with continuous noise):
    # the interpolated features coincide; categories agree up to random ties.
    X, y = _mixed_data()
    ours = SMOTENC([3, 4, 5], random_state=7)
    X_ours, _ = ours.fit_resample(X, y)
    imb = ImbSMOTENC([3, 4, 5], random_state=7)
    X_imb, _ = imb.fit_resample(X, y)
    np.testing.assert_allclose(X_ours[:, :3], X_imb[:, :3], rtol=1e-12)
    assert ours.median_std_[1] == pytest.approx(imb.median_std_[1])
    assert np.mean(X_ours[:, 3:] == X_imb[:, 3:]) > 0.9


def test_distribution_matches_imbalanced_learn():
    means_ours, means_imb, freq_ours, freq_imb = [], [], [], []
    for seed in range(12):
        X, y = _mixed_data(n=200, seed=seed)
        n = X.shape[0]
        X_ours, _ = SMOTENC([3, 4, 5], random_state=seed + 100).fit_resample(X, y)
        X_imb, _ = ImbSMOTENC([3, 4, 5], random_state=seed + 200).fit_resample(X, y)
        means_ours.append(X_ours[n:, :3].mean(axis=0))
        means_imb.append(X_imb[n:, :3].mean(axis=0))
        freq_ours.append(
            np.bincount(X_ours[n:, 5].astype(int), minlength=6) / (X_ours.shape[0] - n)
        )
        freq_imb.append(
            np.bincount(X_imb[n:, 5].astype(int), minlength=6) / (X_imb.shape[0] - n)
        )
    np.testing.assert_allclose(
        np.mean(means_ours, axis=0), np.mean(means_imb, axis=0), atol=0.05
    )
    np.testing.assert_allclose(
        np.mean(freq_ours, axis=0), np.mean(freq_imb, axis=0), atol=0.03
    )


def test_dataframe_keeps_container_dtypes_and_labels():
    X, y = _mixed_data()
    colors = np.array(["red", "green", "blue", "cyan"], dtype=object)
    frame = pd.DataFrame(
        {
            "x0": X[:, 0],
            "color": pd.Categorical(colors[X[:, 3].astype(int)]),
            "x1": X[:, 1].astype(np.float32),
            "size": np.array(["S", "M", "L"], dtype=object)[X[:, 4].astype(int)],
            "count": X[:, 5].astype(np.int64),
        }
    )
    target = pd.Series(y, name="label")
    sampler = SMOTENC(["color", "size", "count"], random_state=0)
    X_res, y_res = sampler.fit_resample(frame, target)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(X_res.columns) == list(frame.columns)
    assert (X_res.dtypes == frame.dtypes).all()
    assert y_res.name == "label"
    assert set(X_res["color"]) <= set(colors)
    assert set(X_res["size"]) <= {"S", "M", "L"}
    assert set(X_res["count"]) <= set(range(6))
    np.testing.assert_array_equal(sampler.categorical_features_, [1, 3, 4])

    auto = SMOTENC("auto", random_state=0).fit(frame, target)
    np.testing.assert_array_equal(auto.categorical_features_, [1])
    mask = SMOTENC([False, True, False, True, True]).fit(frame, target)
    np.testing.assert_array_equal(mask.categorical_features_, [1, 3, 4])


def test_object_array_and_sparse_input():
    X, y = _mixed_data()
    X_obj = X.astype(object)
    X_obj[:, 3] = np.array(list("abcd"), dtype=object)[X[:, 3].astype(int)]
    X_res, y_res = SMOTENC([3, 4, 5], random_state=0).fit_resample(X_obj, y)
    assert X_res.dtype == object and set(X_res[:, 3]) <= set("abcd")
    X_sp, _ = SMOTENC([3, 4, 5], random_state=0).fit_resample(sparse.csr_matrix(X), y)
    X_dense, _ = SMOTENC([3, 4, 5], random_state=0).fit_resample(X, y)
    assert sparse.issparse(X_sp) and X_sp.format == "csr"
    np.testing.assert_allclose(X_sp.toarray(), X_dense)


def test_sample_weight_and_n_jobs():
    X, y = _mixed_data()
    w = np.linspace(1.0, 2.0, y.size)
    sampler = SMOTENC([3, 4, 5], random_state=0, n_jobs=1)
    X_res, y_res, w_res = sampler.fit_resample(X, y, sample_weight=w)
    a, b = sampler.synthetic_pairs_["parents"].T
    t = sampler.synthetic_pairs_["steps"]
    np.testing.assert_allclose(w_res[y.size :], (1 - t) * w[a] + t * w[b])
    X_two, _ = SMOTENC([3, 4, 5], random_state=0, n_jobs=2).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X_two)


def test_encoder_parameter_is_used_and_caller_data_untouched():
    X, y = _mixed_data()
    X_copy = X.copy()
    encoder = OrdinalEncoder(dtype=np.int64)
    sampler = SMOTENC([3, 4, 5], categorical_encoder=encoder, random_state=0)
    sampler.fit_resample(X, y)
    assert sampler.categorical_encoder_ is not encoder
    assert not hasattr(encoder, "categories_")
    np.testing.assert_array_equal(X, X_copy)


def test_many_levels_do_not_allocate_one_hot():
    # 6 features x 1,000 levels: a dense one-hot of the minority (or of its
    # neighbour table, as imbalanced-learn builds) would take tens of MB.
    rng = np.random.RandomState(0)
    n = 3000
    X = np.column_stack([rng.normal(size=(n, 2)), rng.randint(0, 1000, size=(n, 6))])
    y = (rng.rand(n) < 0.3).astype(int)
    sampler = SMOTENC(list(range(2, 8)), random_state=0)
    sampler.fit_resample(X[:50], y[:50])  # compile outside the measurement
    tracemalloc.start()
    X_res, _ = sampler.fit_resample(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_hot_bytes = int((y == 1).sum()) * 6000 * 8
    assert peak < one_hot_bytes / 4
    assert X_res.shape[0] == 2 * int((y == 0).sum())


@pytest.mark.parametrize(
    "params, X_kind, message",
    [
        ({"categorical_features": "auto"}, "array", "pandas DataFrame"),
        ({"categorical_features": [0, 1, 2, 3, 4, 5]}, "array", "continuous"),
        ({"categorical_features": []}, "array", "at least one categorical"),
        ({"categorical_features": [7]}, "array", "out of range"),
        ({"categorical_features": ["a"]}, "array", "column names"),
        ({"categorical_features": [True, False]}, "array", "boolean mask"),
        (
            {"categorical_features": [3], "categorical_encoder": OneHotEncoder()},
            "array",
            "one column of integer codes",
        ),
        ({"categorical_features": [3], "k_neighbors": 80}, "array", "k_neighbors"),
        ({"categorical_features": [4]}, "strings", "must be numeric"),
        ({"categorical_features": ["nope"]}, "frame", "lacks"),
    ],
)
def test_bad_input_errors(params, X_kind, message):
    X, y = _mixed_data(n=120)
    X = X[:, :6]
    if X_kind == "strings":
        X = X.astype(object)
        X[:, 3] = "text"
    elif X_kind == "frame":
        X = pd.DataFrame(X, columns=list("abcdef"))
    with pytest.raises(ValueError, match=message):
        SMOTENC(**params).fit_resample(X, y)


def test_parameter_validation_and_missing_values():
    X, y = _mixed_data(n=60)
    with pytest.raises(ValueError, match="k_neighbors"):
        SMOTENC([3], k_neighbors=0).fit_resample(X, y)
    with pytest.raises(ValueError, match="categorical_encoder"):
        SMOTENC([3], categorical_encoder="onehot").fit_resample(X, y)
    X_nan = X.astype(object)
    X_nan[0, 3] = None
    with pytest.raises(ValueError, match="NaN"):
        SMOTENC([3]).fit_resample(X_nan, y)
