"""Adaptive kNN against leave-one-out refits, fixed-k kNN and NumPy oracles."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist
from sklearn.datasets import load_iris, load_wine
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier as SklearnKNN
from sklearn.neighbors import KNeighborsRegressor as SklearnKNNRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.distances import knn_search
from sklearn_metric.metric_learning import NCA
from sklearn_metric.neighbors import (
    ExpectedAccuracyKNNClassifier,
    ExpectedAccuracyKNNRegressor,
    KNeighborsClassifier,
)

PROFILES = ["neighbors", "distance_profile", "label_profile"]


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2], y[::2], X[1::2], y[1::2]


@pytest.fixture(scope="module")
def wine_regression():
    # Predict the alcohol content (column 0) from the other columns.
    X, _ = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2, 1:], X[::2, 0], X[1::2, 1:], X[1::2, 0]


def _loo_refits(X, y, ks, weights, estimator):
    """Leave-one-out predictions by refitting scikit-learn without each row."""
    predictions = np.empty((X.shape[0], len(ks)), dtype=y.dtype)
    for i in range(X.shape[0]):
        keep = np.arange(X.shape[0]) != i
        model = estimator(n_neighbors=ks[-1], weights=weights, algorithm="brute")
        model.fit(X[keep], y[keep])
        for j, k in enumerate(ks):
            predictions[i, j] = model.set_params(n_neighbors=k).predict(X[i : i + 1])[0]
    return predictions


# --- leave-one-out scores ---------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_loo_correct_matches_leave_one_out_refits(wine, weights, dtype):
    X, y, _, _ = wine
    X = X.astype(dtype)
    ks = [1, 2, 3, 4, 7, 10, 15, 20]
    model = ExpectedAccuracyKNNClassifier(k_range=ks, weights=weights).fit(X, y)
    reference = _loo_refits(X.astype(np.float64), y, ks, weights, SklearnKNN)
    assert model.loo_correct_.dtype == bool
    assert_array_equal(model.loo_correct_, reference == y[:, None])
    assert_array_equal(model.k_values_, ks)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_loo_error_matches_leave_one_out_refits(wine_regression, weights):
    X, y, _, _ = wine_regression
    model = ExpectedAccuracyKNNRegressor(k_range=(1, 12), weights=weights).fit(X, y)
    reference = _loo_refits(X, y, list(range(1, 13)), weights, SklearnKNNRegressor)
    assert_allclose(model.loo_error_, (reference - y[:, None]) ** 2, rtol=1e-10)


def test_distance_weights_give_zero_distances_all_the_weight():
    # Row 0 has an exact copy (row 1) of the other class, and two close rows
    # of its own class: with distance weights the copy decides alone for
    # every k, while the uniform vote turns to class 0 from k = 2 on (the tie
    # at k = 2 goes to class 0, the first class).
    X = np.array([[0.0], [0.0], [0.1], [0.2], [5.0], [5.1], [5.3]])
    y = np.array([0, 1, 0, 0, 1, 1, 0])
    ks = [1, 2, 3, 4]
    distance = ExpectedAccuracyKNNClassifier(k_range=ks, weights="distance").fit(X, y)
    uniform = ExpectedAccuracyKNNClassifier(k_range=ks).fit(X, y)
    assert_array_equal(distance.loo_correct_[0], [False] * 4)
    assert_array_equal(uniform.loo_correct_[0], [False, True, True, True])
    # Its copy, row 1, is voted on by row 0 alone with distance weights.
    assert_array_equal(distance.loo_correct_[1], [False] * 4)


def test_vote_ties_go_to_the_first_class():
    # The two nearest neighbours of every row have one label each, so every
    # vote of k = 2 is a tie. It goes to "a", the first of classes_, although
    # "b" comes first in y.
    X = np.arange(8.0)[:, None]
    y = np.array(["b", "b", "a", "a", "b", "b", "a", "a"])
    model = ExpectedAccuracyKNNClassifier(k_range=[1, 2]).fit(X, y)
    assert_array_equal(model.classes_, ["a", "b"])
    neighbors = knn_search(X, X, 2, exclude_self=True)[1]
    assert (y[neighbors[:, 0]] != y[neighbors[:, 1]]).all()
    assert_array_equal(model.loo_correct_[:, 1], y == "a")
    assert_array_equal(model.loo_correct_[:, 0], y[neighbors[:, 0]] == y)


def test_global_k_is_the_best_leave_one_out_accuracy_ties_to_smaller_k(wine):
    X, y, _, _ = wine
    model = ExpectedAccuracyKNNClassifier(k_range=(1, 25)).fit(X, y)
    accuracy = model.loo_correct_.mean(axis=0)
    assert (
        model.global_k_
        == model.k_values_[np.flatnonzero(accuracy == accuracy.max())[0]]
    )


# --- every training row similar: a fixed-k kNN ------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_all_rows_similar_is_knn_with_global_k(wine, weights, dtype):
    X, y, X_test, _ = wine
    X, X_test = X.astype(dtype), X_test.astype(dtype)
    model = ExpectedAccuracyKNNClassifier(
        k_range=(1, 30), n_similar=X.shape[0], weights=weights
    ).fit(X, y)
    fixed = KNeighborsClassifier(model.global_k_, weights=weights).fit(X, y)
    assert_array_equal(
        model.chosen_k(X_test), np.full(X_test.shape[0], model.global_k_)
    )
    assert_array_equal(model.predict(X_test), fixed.predict(X_test))
    assert_allclose(model.predict_proba(X_test), fixed.predict_proba(X_test))
    # On the training rows themselves, which are not left out.
    assert_array_equal(model.predict(X), fixed.predict(X))


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_all_rows_similar_is_knn_with_global_k(wine_regression, weights):
    X, y, X_test, _ = wine_regression
    model = ExpectedAccuracyKNNRegressor(n_similar=10**6, weights=weights).fit(X, y)
    mse = model.loo_error_.mean(axis=0)
    assert model.global_k_ == model.k_values_[np.argmin(mse)]
    fixed = SklearnKNNRegressor(model.global_k_, weights=weights, algorithm="brute")
    fixed.fit(X, y)
    assert_array_equal(
        model.chosen_k(X_test), np.full(X_test.shape[0], model.global_k_)
    )
    assert_allclose(model.predict(X_test), fixed.predict(X_test), rtol=1e-12)


def test_n_similar_above_n_samples_means_all_rows(wine):
    X, y, X_test, _ = wine
    everyone = ExpectedAccuracyKNNClassifier(n_similar=X.shape[0]).fit(X, y)
    clipped = ExpectedAccuracyKNNClassifier(n_similar=10 * X.shape[0]).fit(X, y)
    assert_array_equal(clipped.chosen_k(X_test), everyone.chosen_k(X_test))


# --- the similar rows of each query -----------------------------------------


def _top_share_profile(neighbor_labels, ks, n_classes):
    shares = []
    for k in ks:
        counts = np.stack(
            [(neighbor_labels[:, :k] == c).sum(axis=1) for c in range(n_classes)], 1
        )
        shares.append(counts.max(axis=1) / k)
    return np.stack(shares, axis=1)


def _oracle_chosen_k(model, X, y, X_test, similarity):
    """The chosen k of every query, recomputed with SciPy and NumPy only."""
    ks, k_max, m = model.k_values_, model.k_values_[-1], model.n_similar
    D_train = cdist(X, X)
    np.fill_diagonal(D_train, np.inf)
    D_test = cdist(X_test, X)
    order_train = np.argsort(D_train, axis=1, kind="stable")[:, :k_max]
    order_test = np.argsort(D_test, axis=1, kind="stable")[:, :k_max]
    if similarity == "neighbors":
        similar = np.argsort(D_test, axis=1, kind="stable")[:, :m]
    else:
        if similarity == "distance_profile":
            profile_train = np.take_along_axis(D_train, order_train, axis=1)
            profile_test = np.take_along_axis(D_test, order_test, axis=1)
        else:
            n_classes = np.unique(y).shape[0]
            profile_train = _top_share_profile(y[order_train], ks, n_classes)
            profile_test = _top_share_profile(y[order_test], ks, n_classes)
        D_profile = cdist(profile_test, profile_train)
        similar = np.argsort(D_profile, axis=1, kind="stable")[:, :m]
    expected_correct = model.loo_correct_[similar].sum(axis=1)
    return ks[np.argmax(expected_correct, axis=1)]


@pytest.mark.parametrize("similarity", PROFILES)
def test_chosen_k_matches_numpy_expected_accuracy(wine, similarity):
    X, y, X_test, _ = wine
    model = ExpectedAccuracyKNNClassifier(
        k_range=(1, 20), n_similar=25, similarity=similarity
    ).fit(X, y)
    expected = _oracle_chosen_k(model, X, y, X_test, similarity)
    assert_array_equal(model.chosen_k(X_test), expected)
    # The choice varies from query to query.
    assert np.unique(expected).shape[0] > 1


def test_callable_similarity_contract(wine):
    X, y, X_test, _ = wine
    calls = []

    def negative_distance(X_query, X_train):
        calls.append((X_query.shape, X_train.shape))
        return -cdist(X_query, X_train)

    by_callable = ExpectedAccuracyKNNClassifier(similarity=negative_distance).fit(X, y)
    by_neighbors = ExpectedAccuracyKNNClassifier().fit(X, y)
    assert_array_equal(by_callable.chosen_k(X_test), by_neighbors.chosen_k(X_test))
    assert_array_equal(by_callable.predict(X_test), by_neighbors.predict(X_test))
    assert calls[0] == (X_test.shape, X.shape)

    wrong_shape = ExpectedAccuracyKNNClassifier(similarity=lambda Q, T: -cdist(Q, T).T)
    with pytest.raises(ValueError, match=r"shape \(n_queries, n_train\)"):
        wrong_shape.fit(X, y).predict(X_test[:10])
    with_nan = ExpectedAccuracyKNNClassifier(
        similarity=lambda Q, T: np.full((len(Q), len(T)), np.nan)
    )
    with pytest.raises(ValueError, match="finite"):
        with_nan.fit(X, y).predict(X_test)


@pytest.mark.parametrize(
    "similarity", [*PROFILES, lambda Q, T: -cdist(Q, T, "cityblock")]
)
def test_every_similarity_is_accurate_on_iris(similarity):
    X, y = load_iris(return_X_y=True)
    model = ExpectedAccuracyKNNClassifier(k_range=(1, 20), similarity=similarity)
    assert cross_val_score(model, X, y, cv=5).mean() > 0.93


@pytest.mark.parametrize("similarity", PROFILES)
def test_regressor_similarities_beat_the_mean(wine_regression, similarity):
    X, y, X_test, y_test = wine_regression
    model = ExpectedAccuracyKNNRegressor(similarity=similarity).fit(X, y)
    assert model.score(X_test, y_test) > 0.4


# --- adaptation --------------------------------------------------------------


def _two_regions(n_per_region, seed):
    """A fine, clean checkerboard beside a wide, label-noisy half-plane split."""
    rng = np.random.default_rng(seed)
    clean = rng.uniform(0, 1, size=(n_per_region, 2))
    y_clean = (np.floor(6 * clean[:, 0]) + np.floor(6 * clean[:, 1])) % 2
    noisy = rng.uniform(0, 1, size=(n_per_region, 2)) + [2.0, 0.0]
    y_noisy = (noisy[:, 1] > 0.5).astype(float)
    flip = rng.random(n_per_region) < 0.25
    y_noisy[flip] = 1 - y_noisy[flip]
    X = np.vstack([clean, noisy])
    y = np.concatenate([y_clean, y_noisy]).astype(int)
    return X, y, np.repeat([0, 1], n_per_region)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_k_adapts_to_the_region_and_beats_every_fixed_k(seed):
    # On the checkerboard (cells of some 28 rows) a vote must stay inside a
    # cell, so small ks win; on the noisy side (25% of labels flipped) only a
    # large vote averages the noise away. No fixed k does both.
    X, y, _ = _two_regions(1000, seed)
    X_test, y_test, region_test = _two_regions(1000, seed + 100)
    model = ExpectedAccuracyKNNClassifier(k_range=(1, 30), n_similar=100).fit(X, y)
    chosen = model.chosen_k(X_test)
    assert np.median(chosen[region_test == 1]) > np.median(chosen[region_test == 0]) + 4
    fixed = [
        KNeighborsClassifier(k).fit(X, y).score(X_test, y_test) for k in range(1, 31)
    ]
    assert model.score(X_test, y_test) >= max(fixed)


# --- the API ----------------------------------------------------------------


def test_kneighbors(wine):
    X, y, X_test, _ = wine
    model = ExpectedAccuracyKNNClassifier(k_range=(2, 9)).fit(X, y)
    distances, indices = model.kneighbors(X_test)
    ref_distances, ref_indices = knn_search(X_test, X, 9)
    assert_array_equal(indices, ref_indices)
    assert_allclose(distances, ref_distances)
    own = model.kneighbors(n_neighbors=4, return_distance=False)
    assert_array_equal(own, knn_search(X, X, 4, exclude_self=True)[1])


def test_float32_stays_float32_in_distances(wine):
    X, y, X_test, _ = wine
    model = ExpectedAccuracyKNNClassifier().fit(X.astype(np.float32), y)
    distances, _ = model.kneighbors(X_test.astype(np.float32))
    assert distances.dtype == np.float32
    assert model.predict_proba(X_test.astype(np.float32)).dtype == np.float64


def test_learned_metric_equals_fitting_on_the_embedding(wine):
    X, y, X_test, _ = wine
    nca = NCA(n_components=4, max_iter=30, random_state=0).fit(X, y)
    in_metric = ExpectedAccuracyKNNClassifier(metric=nca).fit(X, y)
    embedded = ExpectedAccuracyKNNClassifier().fit(nca.transform(X), y)
    assert_array_equal(in_metric.loo_correct_, embedded.loo_correct_)
    assert_array_equal(
        in_metric.chosen_k(X_test), embedded.chosen_k(nca.transform(X_test))
    )
    assert_array_equal(
        in_metric.predict(X_test), embedded.predict(nca.transform(X_test))
    )


@pytest.mark.parametrize(
    "estimator", [ExpectedAccuracyKNNClassifier, ExpectedAccuracyKNNRegressor]
)
@pytest.mark.parametrize("similarity", PROFILES)
def test_hnsw_with_full_beam_equals_brute(wine, estimator, similarity):
    X, y, X_test, _ = wine
    if estimator is ExpectedAccuracyKNNRegressor:
        X, y, X_test = X[:, 1:], X[:, 0], X_test[:, 1:]
    params = dict(k_range=(1, 20), n_similar=30, similarity=similarity)
    brute = estimator(**params).fit(X, y)
    hnsw = estimator(
        **params, algorithm="hnsw", hnsw_params={"ef": X.shape[0]}, random_state=0
    ).fit(X, y)
    assert_array_equal(hnsw.chosen_k(X_test), brute.chosen_k(X_test))
    assert_allclose(hnsw.predict(X_test), brute.predict(X_test))
    scores = (
        "loo_correct_" if estimator is ExpectedAccuracyKNNClassifier else "loo_error_"
    )
    assert_allclose(getattr(hnsw, scores), getattr(brute, scores))


def test_pipeline_grid_search_and_pickle():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), ExpectedAccuracyKNNClassifier())
    grid = GridSearchCV(
        pipe,
        {
            "expectedaccuracyknnclassifier__n_similar": [20, 200],
            "expectedaccuracyknnclassifier__similarity": ["neighbors", "label_profile"],
        },
        cv=3,
    ).fit(X, y)
    assert grid.best_score_ > 0.9
    restored = pickle.loads(pickle.dumps(grid.best_estimator_))
    assert_array_equal(restored.predict(X), grid.best_estimator_.predict(X))
    hnsw = ExpectedAccuracyKNNClassifier(algorithm="hnsw", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(hnsw))
    assert_array_equal(restored.chosen_k(X), hnsw.chosen_k(X))


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = ExpectedAccuracyKNNClassifier().fit(X, y)
    assert_array_equal(model.feature_names_in_, X.columns)
    assert model.n_features_in_ == 4
    assert isinstance(X, pd.DataFrame)


# --- errors -----------------------------------------------------------------


def test_one_class_is_refused():
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match=r"at least 2 classes; got 1 class \('x'\)"):
        ExpectedAccuracyKNNClassifier(k_range=(1, 3)).fit(X, ["x"] * 10)


@pytest.mark.parametrize(
    "k_range, match",
    [
        ((0, 5), "1 <= k_min <= k_max"),
        ((5, 3), "1 <= k_min <= k_max"),
        ((1, 2, 3), r"\(k_min, k_max\), two ints"),
        ((1.0, 5), r"\(k_min, k_max\), two ints"),
        ([], "non-empty, strictly increasing"),
        ([3, 2, 5], "non-empty, strictly increasing"),
        ([1, 1, 2], "non-empty, strictly increasing"),
        ([0, 1], "non-empty, strictly increasing"),
        ([1.5, 2.5], "non-empty, strictly increasing"),
    ],
)
def test_invalid_k_range(wine, k_range, match):
    X, y, _, _ = wine
    with pytest.raises(ValueError, match=match):
        ExpectedAccuracyKNNClassifier(k_range=k_range).fit(X, y)


@pytest.mark.parametrize(
    "estimator", [ExpectedAccuracyKNNClassifier, ExpectedAccuracyKNNRegressor]
)
def test_k_max_must_be_below_n_samples(estimator):
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="k_range reaches k_max=20.*n_samples=20"):
        estimator(k_range=(1, 20)).fit(X, y)
    assert estimator(k_range=(1, 19)).fit(X, y).k_values_[-1] == 19


def test_non_finite_and_string_features_are_refused(wine):
    X, y, _, _ = wine
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ExpectedAccuracyKNNClassifier().fit(X_nan, y)
    model = ExpectedAccuracyKNNClassifier().fit(X, y)
    with pytest.raises(ValueError, match="infinity"):
        model.predict(np.where(X_nan == X_nan, X, np.inf))
    with pytest.raises(ValueError, match="could not convert"):
        model.fit(np.full(X.shape, "a"), y)


def test_unknown_options_are_refused(wine):
    X, y, _, _ = wine
    with pytest.raises(ValueError, match="similarity"):
        ExpectedAccuracyKNNClassifier(similarity="labels").fit(X, y)
    with pytest.raises(ValueError, match="algorithm"):
        ExpectedAccuracyKNNClassifier(algorithm="kd_tree").fit(X, y)


def test_hnsw_params_are_checked(wine):
    X, y, _, _ = wine
    with pytest.raises(ValueError, match="hnsw_params accepts the keys"):
        ExpectedAccuracyKNNClassifier(hnsw_params={"metric": "cosine"}).fit(X, y)
    with pytest.raises(ValueError, match="'ef' parameter of HNSWIndex"):
        ExpectedAccuracyKNNClassifier(algorithm="hnsw", hnsw_params={"ef": 0}).fit(X, y)
