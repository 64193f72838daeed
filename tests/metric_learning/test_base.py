"""Tests of the Mahalanobis base API: the mixins, tuples and the preprocessor."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import mahalanobis
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
    is_classifier,
)
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.metrics import (
    accuracy_score,
    fbeta_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import validate_data

from sklearn_metric.metric_learning import (
    MahalanobisMetric,
    MahalanobisMixin,
    PairsClassifierMixin,
    QuadrupletsClassifierMixin,
    TripletsClassifierMixin,
)
from sklearn_metric.metric_learning._tuples import check_tuples

N_SAMPLES, N_FEATURES = 40, 4


# Tiny concrete learners: the mixins supply everything but the solver, which
# here is a fixed matrix or the inverse covariance.


class FixedTransformer(MahalanobisMixin, TransformerMixin, BaseEstimator):
    """L is ``components`` or, if None, the Cholesky factor of the precision."""

    def __init__(self, components=None):
        self.components = components

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        if self.components is None:
            precision = np.linalg.inv(
                np.cov(X, rowvar=False) + 1e-9 * np.eye(X.shape[1])
            )
            self.components_ = np.linalg.cholesky(precision).T
        else:
            self.components_ = np.array(self.components, dtype=np.float64)
        return self


def _fixed_components(learner, n_features):
    if learner.components is None:
        return np.eye(n_features)
    return np.array(learner.components, dtype=np.float64)


class FixedPairs(PairsClassifierMixin, MahalanobisMixin, BaseEstimator):
    def __init__(self, components=None, preprocessor=None):
        self.components = components
        self.preprocessor = preprocessor

    def fit(self, pairs, y, calibration_params=None):
        pairs, y = self._validate_pairs(pairs, y, reset=True)
        calibration_params = self._check_calibration_params(calibration_params)
        self.components_ = _fixed_components(self, pairs.X.shape[1])
        return self._calibrate_threshold_after_fit(pairs, y, calibration_params)


class FixedTriplets(TripletsClassifierMixin, MahalanobisMixin, BaseEstimator):
    def __init__(self, components=None, preprocessor=None):
        self.components = components
        self.preprocessor = preprocessor

    def fit(self, triplets, y=None):
        triplets = self._validate_tuples(triplets, reset=True)
        self.components_ = _fixed_components(self, triplets.X.shape[1])
        return self


class FixedQuadruplets(QuadrupletsClassifierMixin, MahalanobisMixin, BaseEstimator):
    def __init__(self, components=None, preprocessor=None):
        self.components = components
        self.preprocessor = preprocessor

    def fit(self, quadruplets, y=None):
        quadruplets = self._validate_tuples(quadruplets, reset=True)
        self.components_ = _fixed_components(self, quadruplets.X.shape[1])
        return self


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture
def X(rng):
    return rng.randn(N_SAMPLES, N_FEATURES)


@pytest.fixture
def L(rng):
    return rng.randn(3, N_FEATURES)


def _random_index_tuples(rng, n_tuples, size, n_samples=N_SAMPLES):
    return rng.randint(n_samples, size=(n_tuples, size))


def _embedded_distance(L, u, v):
    return np.linalg.norm(L @ (u - v))


# MahalanobisMixin


def test_transform_is_product_with_components(X, L):
    learner = FixedTransformer(L).fit(X)
    assert_allclose(learner.transform(X), X @ L.T)
    assert learner.transform(X).shape == (N_SAMPLES, 3)


def test_transform_keeps_float32(X, L):
    X32 = X.astype(np.float32)
    learner = FixedTransformer(L).fit(X32)
    embedded = learner.transform(X32)
    assert embedded.dtype == np.float32
    assert_allclose(embedded, X @ L.T, rtol=1e-5, atol=1e-5)
    assert learner.transform(X).dtype == np.float64
    assert "float32" in get_tags(learner).transformer_tags.preserves_dtype


def test_mahalanobis_matrix_is_LtL(X, L):
    M = FixedTransformer(L).fit(X).get_mahalanobis_matrix()
    assert_allclose(M, L.T @ L)
    assert_allclose(M, M.T)
    assert np.linalg.eigvalsh(M).min() > -1e-10


def test_pair_distance_matches_norm_of_embedded_difference(X, L, rng):
    learner = FixedTransformer(L).fit(X)
    pairs = X[_random_index_tuples(rng, 25, 2)]
    expected = [_embedded_distance(L, u, v) for u, v in pairs]
    assert_allclose(learner.pair_distance(pairs), expected)
    assert_allclose(learner.pair_score(pairs), -np.asarray(expected))


def test_pair_distance_matches_scipy_mahalanobis(X, rng):
    learner = FixedTransformer().fit(X)
    precision = np.linalg.inv(np.cov(X, rowvar=False) + 1e-9 * np.eye(N_FEATURES))
    assert_allclose(learner.get_mahalanobis_matrix(), precision, rtol=1e-8)
    pairs = X[_random_index_tuples(rng, 25, 2)]
    expected = [mahalanobis(u, v, precision) for u, v in pairs]
    assert_allclose(learner.pair_distance(pairs), expected, rtol=1e-8)


def test_pair_distance_of_close_points_is_accurate():
    # Both points are exact in float64 and 2**-10 apart; differencing their
    # embeddings (about 2**26 each) would keep only ~4 significant digits.
    L = np.array([[0.1, 0.3]])
    learner = FixedTransformer(L).fit(np.eye(2))
    big, step = 2.0**26, 2.0**-10
    pairs = np.array([[[big, big], [big + step, big]]])
    assert_allclose(learner.pair_distance(pairs), [0.1 * step], rtol=1e-12)


def test_pair_distance_float32_stays_float32(X, L, rng):
    learner = FixedTransformer(L).fit(X)
    pairs = X[_random_index_tuples(rng, 10, 2)].astype(np.float32)
    distances = learner.pair_distance(pairs)
    assert distances.dtype == np.float32
    expected = [_embedded_distance(L, u, v) for u, v in pairs.astype(np.float64)]
    assert_allclose(distances, expected, rtol=1e-4)


def test_get_metric_agrees_with_pair_distance(X, L, rng):
    learner = FixedTransformer(L).fit(X)
    metric = learner.get_metric()
    assert isinstance(metric, MahalanobisMetric)
    pairs = X[_random_index_tuples(rng, 15, 2)]
    distances = learner.pair_distance(pairs)
    assert_allclose([metric(u, v) for u, v in pairs], distances)
    assert_allclose([metric(u, v, squared=True) for u, v in pairs], distances**2)
    # A (1, n_features) row, as some callers pass, is accepted too.
    assert_allclose(metric(pairs[0, 0][None], pairs[0, 1]), distances[0])
    with pytest.raises(ValueError, match="vector of 4 features"):
        metric(pairs[0, 0][:3], pairs[0, 1][:3])


def test_get_metric_is_a_picklable_snapshot(X, L):
    learner = FixedTransformer(L).fit(X)
    metric = learner.get_metric()
    restored = pickle.loads(pickle.dumps(metric))
    assert restored(X[0], X[1]) == metric(X[0], X[1])
    expected = metric(X[0], X[1])
    learner.set_params(components=2 * L).fit(X)
    assert metric(X[0], X[1]) == expected
    assert_allclose(learner.get_metric()(X[0], X[1]), 2 * expected)


def test_get_metric_in_kneighbors_classifier(X, L, rng):
    y = rng.randint(3, size=N_SAMPLES)
    learner = FixedTransformer(L).fit(X)
    X_test = rng.randn(10, N_FEATURES)
    knn = KNeighborsClassifier(n_neighbors=3, metric=learner.get_metric()).fit(X, y)
    reference = KNeighborsClassifier(n_neighbors=3).fit(learner.transform(X), y)
    expected = reference.predict(learner.transform(X_test))
    assert_array_equal(knn.predict(X_test), expected)
    restored = pickle.loads(pickle.dumps(knn))
    assert_array_equal(restored.predict(X_test), knn.predict(X_test))


class PrefixedTransformer(
    MahalanobisMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """The declaration that concrete supervised learners such as LMNN use."""

    def __init__(self, components=None):
        self.components = components

    def fit(self, X, y=None):
        validate_data(self, X)
        self.components_ = np.array(self.components, dtype=np.float64)
        return self


@pytest.mark.parametrize("learner_class", [FixedTransformer, PrefixedTransformer])
def test_feature_names_out_and_pandas_output(learner_class, X, L):
    pd = pytest.importorskip("pandas")
    learner = learner_class(L).fit(X)
    names = learner.get_feature_names_out()
    prefix = learner_class.__name__.lower()
    assert_array_equal(names, [f"{prefix}{i}" for i in range(3)])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    learner = learner_class(L).set_output(transform="pandas").fit(frame)
    for out in (learner.transform(frame), learner.fit_transform(frame)):
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == list(names)
        assert_allclose(out.to_numpy(), X @ L.T)


def test_set_output_keeps_a_learner_own_transform(X, L):
    class Doubling(FixedTransformer):
        def transform(self, X):
            return 2 * super().transform(X)

    pd = pytest.importorskip("pandas")
    out = Doubling(L).set_output(transform="pandas").fit(X).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert_allclose(out.to_numpy(), 2 * X @ L.T)


def test_unfitted_learner_raises(X):
    learner = FixedTransformer()
    for method, args in [
        ("transform", (X,)),
        ("get_mahalanobis_matrix", ()),
        ("get_metric", ()),
        ("pair_distance", (X[:4].reshape(2, 2, N_FEATURES),)),
    ]:
        with pytest.raises(NotFittedError):
            getattr(learner, method)(*args)


def test_transform_checks_number_of_features(X, L):
    learner = FixedTransformer(L).fit(X)
    with pytest.raises(ValueError, match="features"):
        learner.transform(X[:, :3])
    with pytest.raises(ValueError, match="tuples have 3 features"):
        learner.pair_distance(X[:6, :3].reshape(3, 2, 3))


def test_supervised_learner_passes_check_estimator():
    # The mixin must yield a transformer that satisfies scikit-learn's contract
    # (tags, n_features_in_, set_output, feature names, dtype preservation).
    results = check_estimator(FixedTransformer(), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


def test_tags_and_mixin_order():
    assert not is_classifier(FixedTransformer())
    assert get_tags(FixedTransformer()).transformer_tags is not None
    for learner in (FixedPairs(), FixedTriplets(), FixedQuadruplets()):
        tags = get_tags(learner)
        assert is_classifier(learner)
        assert tags.estimator_type == "classifier"
        assert not tags.input_tags.two_d_array
        assert tags.input_tags.three_d_array
        assert_array_equal(learner.classes_, [-1, 1])
    assert get_tags(FixedPairs()).target_tags.required
    assert not get_tags(FixedTriplets()).target_tags.required
    assert not get_tags(FixedQuadruplets()).target_tags.required


def test_check_estimator_skips_tuple_learners():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = check_estimator(FixedPairs(), on_fail=None)
    # Only the cloning check runs before the 2-D input checks are skipped.
    assert [r["check_name"] for r in results] == ["check_estimator_cloneable"]
    assert any(issubclass(w.category, SkipTestWarning) for w in caught)


# Tuples and the preprocessor


@pytest.mark.parametrize(
    "learner_class, size",
    [(FixedPairs, 2), (FixedTriplets, 3), (FixedQuadruplets, 4)],
)
@pytest.mark.parametrize("preprocessor_kind", ["array", "callable"])
def test_index_tuples_match_point_tuples(
    learner_class, size, preprocessor_kind, X, L, rng
):
    indices = _random_index_tuples(rng, 30, size)
    y = np.where(rng.rand(30) < 0.5, 1, -1)
    y[:2] = [1, -1]
    points = X[indices]
    preprocessor = X if preprocessor_kind == "array" else (lambda idx: X[idx])

    on_points = learner_class(L).fit(points, y)
    on_indices = learner_class(L, preprocessor=preprocessor).fit(indices, y)
    for method in ("decision_function", "predict"):
        assert_allclose(
            getattr(on_indices, method)(indices), getattr(on_points, method)(points)
        )
    assert on_indices.score(indices, y) == on_points.score(points, y)
    # A learner fitted with a preprocessor still accepts points.
    assert_allclose(
        on_indices.decision_function(points), on_points.decision_function(points)
    )
    assert_allclose(
        on_indices.pair_distance(indices[:, :2]), on_points.pair_distance(points[:, :2])
    )


def test_callable_preprocessor_with_non_integer_indicators(X, L):
    names = np.array([f"row{i:02d}" for i in range(N_SAMPLES)])
    lookup = dict(zip(names, X))
    pairs = np.array([["row03", "row07"], ["row07", "row11"], ["row00", "row03"]])
    learner = FixedPairs(
        L, preprocessor=lambda keys: np.array([lookup[k] for k in keys])
    ).fit(pairs, [1, -1, 1])
    expected = [_embedded_distance(L, X[a], X[b]) for a, b in [(3, 7), (7, 11), (0, 3)]]
    assert_allclose(learner.pair_distance(pairs), expected)


def test_index_tuples_keep_only_the_rows_they_use(X):
    tuples = check_tuples([[5, 9], [9, 2], [5, 2]], tuple_size=2, preprocessor=X)
    assert tuples.X.shape == (3, N_FEATURES)
    assert_array_equal(tuples.X[tuples.indices], X[[[5, 9], [9, 2], [5, 2]]])
    assert_array_equal(tuples.to_array(), X[[[5, 9], [9, 2], [5, 2]]])


def test_point_tuples_are_not_copied(X):
    points = X[:12].reshape(6, 2, N_FEATURES)
    tuples = check_tuples(points, tuple_size=2)
    assert np.shares_memory(tuples.X, points)
    assert_array_equal(tuples.to_array(), points)


@pytest.mark.parametrize(
    "tuples, kwargs, error, match",
    [
        (np.zeros((5, 3, 2)), {}, ValueError, "Expected pairs.*3 points"),
        (
            np.zeros((5, 3)),
            {"preprocessor": np.zeros((4, 2))},
            ValueError,
            "Expected pairs.*3 points",
        ),
        (np.zeros((5, 2)), {}, ValueError, "indices.*no preprocessor"),
        (np.zeros(5), {}, ValueError, "got a 1-D array"),
        (np.zeros((5, 2, 2, 2)), {}, ValueError, "got a 4-D array"),
        (np.array([[[0.0, np.nan], [1.0, 1.0]]]), {}, ValueError, "NaN"),
        (np.array([[[0.0, np.inf], [1.0, 1.0]]]), {}, ValueError, "infinity"),
        (
            np.array([[0, 4]]),
            {"preprocessor": np.zeros((4, 2))},
            ValueError,
            r"rows \[4\].*\[0, 3\]",
        ),
        (
            np.array([[-1, 2]]),
            {"preprocessor": np.zeros((4, 2))},
            ValueError,
            r"rows \[-1\]",
        ),
        (
            np.array([[0.0, 1.0]]),
            {"preprocessor": np.zeros((4, 2))},
            TypeError,
            "must hold integers",
        ),
        (
            np.array([[0, 1]]),
            {"preprocessor": np.array([[0.0], [np.nan]])},
            ValueError,
            "preprocessor contains NaN",
        ),
        (
            np.array([[0, 1]]),
            {"preprocessor": lambda idx: np.zeros((1, 2))},
            ValueError,
            "returned 1 rows for 2 indicators",
        ),
        (np.zeros((0, 2, 3)), {}, ValueError, "0 sample"),
        (np.zeros((2, 2, 0)), {}, ValueError, "0 features"),
    ],
)
def test_bad_tuples_raise(tuples, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_tuples(tuples, tuple_size=2, **kwargs)


def test_fitted_learner_rejects_bad_tuples(X, L):
    learner = FixedPairs(L).fit(X[:8].reshape(4, 2, N_FEATURES), [1, -1, 1, -1])
    with pytest.raises(ValueError, match="no preprocessor"):
        learner.predict(np.array([[0, 1]]))
    with pytest.raises(ValueError, match="Expected pairs"):
        learner.decision_function(X[:9].reshape(3, 3, N_FEATURES))
    triplets = FixedTriplets(L).fit(X[:9].reshape(3, 3, N_FEATURES))
    with pytest.raises(ValueError, match="Expected triplets"):
        triplets.predict(X[:8].reshape(4, 2, N_FEATURES))


@pytest.mark.parametrize(
    "y, match",
    [
        ([0, 1, 1, 0], r"must be \+1 or -1; got other values \[0\]"),
        ([1, -1, 1], "4 tuples but 3 labels"),
        (None, "Labels y are required"),
    ],
)
def test_bad_pair_labels_raise(X, y, match):
    with pytest.raises(ValueError, match=match):
        FixedPairs().fit(X[:8].reshape(4, 2, N_FEATURES), y)


def test_inputs_are_not_modified(X, L, rng):
    indices = _random_index_tuples(rng, 20, 2)
    y = np.where(np.arange(20) % 2 == 0, 1, -1)
    points = X[indices]
    saved = [a.copy() for a in (X, indices, y, points)]
    learner = FixedPairs(L, preprocessor=X).fit(indices, y)
    learner.predict(indices)
    learner.calibrate_threshold(points, y, strategy="f_beta", beta=2.0)
    learner.score(points, y)
    FixedPairs(L).fit(points, y).pair_distance(points)
    FixedTransformer(L).fit(X).transform(X)
    for before, after in zip(saved, (X, indices, y, points)):
        assert_array_equal(before, after)


def test_fitted_learner_pickles_and_clones(X, L, rng):
    indices = _random_index_tuples(rng, 20, 2)
    y = np.where(np.arange(20) % 2 == 0, 1, -1)
    learner = FixedPairs(L, preprocessor=X).fit(indices, y)
    restored = pickle.loads(pickle.dumps(learner))
    assert_array_equal(restored.predict(indices), learner.predict(indices))
    assert restored.threshold_ == learner.threshold_
    assert not hasattr(clone(learner), "threshold_")


def test_cross_val_score_on_index_pairs(X, L, rng):
    indices = _random_index_tuples(rng, 60, 2)
    y = np.where(np.arange(60) % 3 == 0, -1, 1)
    scores = cross_val_score(FixedPairs(L, preprocessor=X), indices, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


# Pairs classifier


def _pairs_with_labels(rng, n_pairs, n_features=2, decimals=None):
    points = rng.randn(n_pairs, 2, n_features)
    if decimals is not None:
        # Rounding makes tied distances, which the calibration must not split.
        points = np.round(points, decimals)
    y = np.where(rng.rand(n_pairs) < 0.5, 1, -1)
    y[:2] = [1, -1]
    return points, y


def test_predict_uses_threshold(X, L, rng):
    points, y = _pairs_with_labels(rng, 30, n_features=N_FEATURES)
    learner = FixedPairs(L).fit(points, y)
    distances = learner.pair_distance(points)
    assert_allclose(learner.decision_function(points), -distances)
    for threshold in (np.median(distances), distances[3], 0.0, -1.0):
        learner.set_threshold(threshold)
        assert_array_equal(
            learner.predict(points), np.where(distances <= threshold, 1, -1)
        )


def test_predict_without_threshold_raises(X, L):
    learner = FixedPairs(L).fit(X[:8].reshape(4, 2, N_FEATURES), [1, -1, 1, -1])
    del learner.threshold_
    with pytest.raises(AttributeError, match="set_threshold or calibrate_threshold"):
        learner.predict(X[:8].reshape(4, 2, N_FEATURES))


def test_set_threshold_validation(X, L):
    learner = FixedPairs(L).fit(X[:8].reshape(4, 2, N_FEATURES), [1, -1, 1, -1])
    with pytest.raises(TypeError, match="real number"):
        learner.set_threshold("1.0")
    with pytest.raises(ValueError, match="NaN"):
        learner.set_threshold(np.nan)
    with pytest.raises(NotFittedError):
        FixedPairs().set_threshold(1.0)


def test_score_is_roc_auc(rng):
    points, y = _pairs_with_labels(rng, 40)
    learner = FixedPairs().fit(points, y)
    distances = np.linalg.norm(points[:, 0] - points[:, 1], axis=1)
    assert learner.score(points, y) == pytest.approx(roc_auc_score(y, -distances))


def _brute_force_criterion(distances, y, threshold, strategy, beta):
    y_pred = np.where(distances <= threshold, 1, -1)
    tpr = recall_score(y, y_pred, pos_label=1)
    tnr = recall_score(y, y_pred, pos_label=-1)
    if strategy == "accuracy":
        return accuracy_score(y, y_pred), tpr, tnr
    if strategy == "f_beta":
        return (
            fbeta_score(y, y_pred, beta=beta, pos_label=1, zero_division=0.0),
            tpr,
            tnr,
        )
    return (tpr if strategy == "max_tpr" else tnr), tpr, tnr


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "strategy, min_rate, beta",
    [
        ("accuracy", None, 1.0),
        ("f_beta", None, 1.0),
        ("f_beta", None, 0.3),
        ("f_beta", None, 3.0),
        ("max_tpr", 0.0, 1.0),
        ("max_tpr", 0.6, 1.0),
        ("max_tpr", 1.0, 1.0),
        ("max_tnr", 0.3, 1.0),
        ("max_tnr", 0.9, 1.0),
    ],
)
def test_calibrate_threshold_is_optimal(seed, strategy, min_rate, beta):
    rng = np.random.RandomState(seed)
    points, y = _pairs_with_labels(rng, 35, decimals=1)
    # Make similar pairs somewhat closer, so that the optimum is not trivial.
    points[y == 1, 1] = points[y == 1, 0] + 0.5 * (
        points[y == 1, 1] - points[y == 1, 0]
    )
    learner = FixedPairs().fit(points, y)
    learner.calibrate_threshold(
        points, y, strategy=strategy, min_rate=min_rate, beta=beta
    )
    distances = learner.pair_distance(points)

    # Every distinct split of the sorted distances, plus rejecting everything.
    candidates = np.concatenate(([distances.min() - 1.0], np.unique(distances)))
    feasible = []
    for threshold in candidates:
        value, tpr, tnr = _brute_force_criterion(
            distances, y, threshold, strategy, beta
        )
        if strategy == "max_tpr" and tnr < min_rate:
            continue
        if strategy == "max_tnr" and tpr < min_rate:
            continue
        feasible.append((value, tpr, tnr))
    best_value = max(value for value, _, _ in feasible)

    value, tpr, tnr = _brute_force_criterion(
        distances, y, learner.threshold_, strategy, beta
    )
    assert value == pytest.approx(best_value)
    if strategy == "max_tpr":
        assert tnr >= min_rate
        assert tnr == pytest.approx(
            max(t for v, _, t in feasible if v == pytest.approx(best_value))
        )
    if strategy == "max_tnr":
        assert tpr >= min_rate
        assert tpr == pytest.approx(
            max(t for v, t, _ in feasible if v == pytest.approx(best_value))
        )
    # The threshold never falls on a validation distance.
    assert not np.any(distances == learner.threshold_)


def test_calibrate_threshold_exact_values():
    # One-feature pairs at distances 1, 2, 2, 4, 7 with the identity map.
    offsets = np.array([1.0, 2.0, 2.0, 4.0, 7.0])
    points = np.stack([np.zeros((5, 1)), offsets[:, None]], axis=1)
    y = np.array([1, 1, -1, 1, -1])
    learner = FixedPairs().fit(points, y)
    # Accepting the four closest pairs gets 4 of 5 right.
    assert learner.threshold_ == 5.5
    assert learner.calibrate_threshold(points, y, strategy="f_beta").threshold_ == 5.5
    assert (
        learner.calibrate_threshold(
            points, y, strategy="max_tpr", min_rate=0.5
        ).threshold_
        == 5.5
    )
    assert (
        learner.calibrate_threshold(
            points, y, strategy="max_tpr", min_rate=1.0
        ).threshold_
        == 1.5
    )
    assert (
        learner.calibrate_threshold(
            points, y, strategy="max_tnr", min_rate=0.0
        ).threshold_
        == 1.5
    )
    assert (
        learner.calibrate_threshold(
            points, y, strategy="max_tnr", min_rate=1.0
        ).threshold_
        == 5.5
    )
    # Accepting {1} or {1, 2, 4} both get 2 of 3 right: the smaller threshold wins.
    tie = FixedPairs().fit(points[[0, 2, 3]], [1, -1, 1])
    assert tie.threshold_ == 1.5
    # Everything rejected / accepted: one unit beyond the extreme distances.
    assert learner.calibrate_threshold(points, -np.ones(5)).threshold_ == 0.0
    assert learner.calibrate_threshold(points, np.ones(5)).threshold_ == 8.0


def test_fit_calibration_params(rng):
    points, y = _pairs_with_labels(rng, 30)
    fitted = FixedPairs().fit(
        points, y, calibration_params={"strategy": "max_tpr", "min_rate": 0.7}
    )
    expected = (
        FixedPairs()
        .fit(points, y)
        .calibrate_threshold(points, y, strategy="max_tpr", min_rate=0.7)
    )
    assert fitted.threshold_ == expected.threshold_


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"strategy": "precision"}, ValueError, "strategy must be one of"),
        ({"strategy": "max_tpr"}, ValueError, "needs min_rate"),
        ({"strategy": "max_tnr", "min_rate": 1.5}, ValueError, "needs min_rate"),
        ({"strategy": "f_beta", "beta": -1.0}, ValueError, "needs beta"),
        ({"threshold": 1.0}, ValueError, "Unknown calibration_params"),
        ([("strategy", "accuracy")], TypeError, "must be a dict"),
    ],
)
def test_bad_calibration_params_raise(rng, params, error, match):
    points, y = _pairs_with_labels(rng, 10)
    with pytest.raises(error, match=match):
        FixedPairs().fit(points, y, calibration_params=params)
    if isinstance(params, dict) and "threshold" not in params:
        learner = FixedPairs().fit(points, y)
        with pytest.raises(error, match=match):
            learner.calibrate_threshold(points, y, **params)


def test_rate_strategies_need_both_labels(rng):
    points, _ = _pairs_with_labels(rng, 10)
    learner = FixedPairs().fit(points, np.ones(10))
    with pytest.raises(ValueError, match="needs both similar and dissimilar"):
        learner.calibrate_threshold(
            points, np.ones(10), strategy="max_tpr", min_rate=0.5
        )


# Triplets and quadruplets


def test_triplets_against_brute_force(X, L, rng):
    triplets = X[_random_index_tuples(rng, 50, 3)]
    learner = FixedTriplets(L).fit(triplets)
    expected_scores, expected_labels = [], []
    for anchor, positive, negative in triplets:
        d_pos = _embedded_distance(L, anchor, positive)
        d_neg = _embedded_distance(L, anchor, negative)
        expected_scores.append(d_neg - d_pos)
        expected_labels.append(1 if d_pos < d_neg else -1)
    assert_allclose(learner.decision_function(triplets), expected_scores)
    assert_array_equal(learner.predict(triplets), expected_labels)
    assert learner.score(triplets) == np.mean(np.array(expected_labels) == 1)
    flipped = -np.ones(50)
    assert learner.score(triplets, flipped) == np.mean(np.array(expected_labels) == -1)


def test_triplet_tie_is_negative():
    triplets = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    learner = FixedTriplets().fit(triplets)
    assert learner.decision_function(triplets)[0] == 0.0
    assert_array_equal(learner.predict(triplets), [-1])


def test_quadruplets_against_brute_force(X, L, rng):
    quadruplets = X[_random_index_tuples(rng, 50, 4)]
    learner = FixedQuadruplets(L).fit(quadruplets)
    expected_scores, expected_labels = [], []
    for a, b, c, d in quadruplets:
        d_ab = _embedded_distance(L, a, b)
        d_cd = _embedded_distance(L, c, d)
        expected_scores.append(d_cd - d_ab)
        expected_labels.append(1 if d_ab < d_cd else -1)
    assert_allclose(learner.decision_function(quadruplets), expected_scores)
    assert_array_equal(learner.predict(quadruplets), expected_labels)
    assert learner.score(quadruplets) == np.mean(np.array(expected_labels) == 1)
    weights = rng.rand(50)
    assert learner.score(quadruplets, np.ones(50), sample_weight=weights) == (
        pytest.approx(np.average(np.array(expected_labels) == 1, weights=weights))
    )


def test_quadruplet_tie_is_negative():
    quadruplets = np.array([[[0.0], [1.0], [5.0], [6.0]]])
    learner = FixedQuadruplets().fit(quadruplets)
    assert_array_equal(learner.predict(quadruplets), [-1])
