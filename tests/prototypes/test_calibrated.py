"""CalibratedPrototypeClassifier (TEEN) against closed forms and brute force."""

import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax as scipy_softmax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestCentroid
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.metric_learning import Covariance
from sklearn_metric.prototypes._calibrated import CalibratedPrototypeClassifier


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks(
    [
        CalibratedPrototypeClassifier(metric="euclidean", shift_weight=0.5),
    ]
)
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture
def sessions():
    """Three base classes, then two new classes of three shots each."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.5, 3.0, size=(5, 6))
    X = np.repeat(centres, 20, axis=0) + 0.4 * rng.standard_normal((100, 6))
    y = np.repeat(np.arange(5), 20)
    base = y < 3
    shots = np.concatenate([np.flatnonzero(y == c)[:3] for c in (3, 4)])
    return X[base], y[base], X[shots], y[shots]


def _class_means(X, y):
    return np.array([X[y == c].mean(axis=0) for c in np.unique(y)])


# -- closed forms ------------------------------------------------------------
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_no_shift_gives_plain_class_means(sessions, metric):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier(shift_weight=0.0, metric=metric)
    clf.fit(Xb, yb).partial_fit(Xn, yn)
    X_all, y_all = np.vstack([Xb, Xn]), np.concatenate([yb, yn])
    assert_array_equal(clf.classes_, np.arange(5))
    assert_allclose(clf.prototypes_, _class_means(X_all, y_all), rtol=1e-12)
    assert_array_equal(clf.class_counts_, [20, 20, 20, 3, 3])
    if metric == "euclidean":
        reference = NearestCentroid().fit(X_all, y_all)
        assert_array_equal(clf.predict(X_all), reference.predict(X_all))


def _brute_force_prototype(p, base, alpha, tau, metric):
    """The paper's calibration of one new mean ``p``, written out with loops."""
    n_base, n_features = len(base), len(p)

    def norm(v):
        return math.sqrt(sum(t * t for t in v))

    def dist(u, v):
        if metric == "cosine":
            return 1 - sum(a * b for a, b in zip(u, v)) / (norm(u) * norm(v))
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(u, v)))

    scale = 1.0
    if metric != "cosine":
        pairs = [dist(base[i], base[j]) for i in range(n_base) for j in range(n_base)]
        scale = sum(pairs) / (n_base * (n_base - 1))
    logits = [-tau * dist(p, b) / scale for b in base]
    top = max(logits)
    exps = [math.exp(t - top) for t in logits]
    weights = [e / sum(exps) for e in exps]
    if metric == "cosine":
        units = [[t / norm(b) for t in b] for b in base]
        delta = [
            sum(weights[j] * units[j][k] for j in range(n_base))
            for k in range(n_features)
        ]
        delta = [t / norm(delta) for t in delta]
        unit_p = [t / norm(p) for t in p]
        blend = [(1 - alpha) * a + alpha * d for a, d in zip(unit_p, delta)]
        # The estimator stores the direction at the length of the class mean.
        return np.array(blend) / norm(blend) * norm(p)
    delta = [
        sum(weights[j] * base[j][k] for j in range(n_base)) for k in range(n_features)
    ]
    return np.array([(1 - alpha) * a + alpha * d for a, d in zip(p, delta)])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("alpha, tau", [(0.1, 16.0), (0.5, 16.0), (0.3, 2.0)])
def test_calibration_matches_brute_force(sessions, metric, alpha, tau):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier(
        shift_weight=alpha, calibration_temperature=tau, metric=metric
    ).fit(Xb, yb)
    clf.partial_fit(Xn, yn)
    base = _class_means(Xb, yb).tolist()
    for c in (3, 4):
        p = Xn[yn == c].mean(axis=0).tolist()
        expected = _brute_force_prototype(p, base, alpha, tau, metric)
        assert_allclose(clf.prototypes_[c], expected, rtol=1e-10)


def test_calibration_temperature_limits(sessions):
    Xb, yb, Xn, yn = sessions
    B = _class_means(Xb, yb)
    unit_B = B / np.linalg.norm(B, axis=1, keepdims=True)

    def direction(v):
        return v / np.linalg.norm(v)

    p = Xn[yn == 3].mean(axis=0)
    unit_p = direction(p)
    # A huge temperature: delta is the most similar base prototype.
    clf = CalibratedPrototypeClassifier(shift_weight=1.0, calibration_temperature=1e6)
    clf.fit(Xb, yb).partial_fit(Xn, yn)
    nearest = unit_B[np.argmax(unit_B @ unit_p)]
    assert_allclose(direction(clf.prototypes_[3]), nearest, atol=1e-12)
    # Temperature zero: delta is the direction of the plain sum of unit means.
    clf.set_params(calibration_temperature=0.0).fit(Xb, yb).partial_fit(Xn, yn)
    assert_allclose(direction(clf.prototypes_[3]), direction(unit_B.sum(axis=0)))


def test_base_prototypes_unchanged_by_new_classes(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb, yb)
    before = clf.prototypes_.copy()
    clf.partial_fit(Xn, yn)
    assert_array_equal(clf.prototypes_[:3], before)
    assert_array_equal(clf.base_classes_, [0, 1, 2])


def test_sessions_order_and_grouping_do_not_matter(sessions):
    Xb, yb, Xn, yn = sessions
    one_call = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb, yb)
    one_call.partial_fit(Xn, yn)
    per_row = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb, yb)
    for i in np.random.default_rng(1).permutation(len(yn)):
        per_row.partial_fit(Xn[i : i + 1], yn[i : i + 1])
    assert_allclose(per_row.prototypes_, one_call.prototypes_, rtol=1e-12)


def test_known_class_rows_update_the_running_mean(sessions):
    Xb, yb, Xn, yn = sessions
    half = len(yb) // 2
    order = np.random.default_rng(2).permutation(len(yb))
    first, second = order[:half], order[half:]
    clf = CalibratedPrototypeClassifier(shift_weight=0.5)
    clf.fit(Xb[first], yb[first]).partial_fit(Xn, yn)
    clf.partial_fit(Xb[second], yb[second])
    reference = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb, yb)
    reference.partial_fit(Xn, yn)
    assert_allclose(clf.class_means_, reference.class_means_, rtol=1e-12)
    # The new classes are recalibrated against the updated base means.
    assert_allclose(clf.prototypes_, reference.prototypes_, rtol=1e-12)
    assert_array_equal(clf.class_counts_, reference.class_counts_)


def test_sample_weight_equals_repeated_rows(sessions):
    Xb, yb, Xn, yn = sessions
    rng = np.random.default_rng(3)
    wb, wn = rng.integers(1, 4, len(yb)), rng.integers(1, 4, len(yn))
    weighted = CalibratedPrototypeClassifier().fit(Xb, yb, sample_weight=wb)
    weighted.partial_fit(Xn, yn, sample_weight=wn)
    repeated = CalibratedPrototypeClassifier().fit(
        np.repeat(Xb, wb, 0), np.repeat(yb, wb)
    )
    repeated.partial_fit(np.repeat(Xn, wn, 0), np.repeat(yn, wn))
    assert_allclose(weighted.prototypes_, repeated.prototypes_, rtol=1e-12)


def test_predict_proba_is_tempered_softmax_of_similarities(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier(temperature=7.0).fit(Xb, yb)
    clf.partial_fit(Xn, yn)
    X = np.vstack([Xb, Xn])
    P = clf.prototypes_
    cosine = (X @ P.T) / np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(P, axis=1))
    assert_allclose(clf.decision_function(X), cosine, rtol=1e-10)
    assert_allclose(clf.predict_proba(X), scipy_softmax(7.0 * cosine, axis=1))
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(cosine, axis=1)])

    euclid = CalibratedPrototypeClassifier(metric="euclidean").fit(Xb, yb)
    euclid.partial_fit(Xn, yn)
    B = _class_means(Xb, yb)
    gaps = np.linalg.norm(B[:, None] - B[None], axis=2)
    assert_allclose(euclid.distance_scale_, gaps.sum() / 6)
    D = np.linalg.norm(X[:, None] - euclid.prototypes_[None], axis=2)
    assert_allclose(euclid.decision_function(X), -D / euclid.distance_scale_)


def test_metric_learner_equals_euclidean_in_its_embedding(sessions):
    Xb, yb, Xn, yn = sessions
    learner = Covariance().fit(Xb)
    L = learner.components_
    ours = CalibratedPrototypeClassifier(metric=learner, shift_weight=0.5)
    ours.fit(Xb, yb).partial_fit(Xn, yn)
    embedded = CalibratedPrototypeClassifier(metric="euclidean", shift_weight=0.5)
    embedded.fit(Xb @ L.T, yb).partial_fit(Xn @ L.T, yn)
    # The calibration is linear, so it commutes with the learner's map.
    assert_allclose(ours.prototypes_ @ L.T, embedded.prototypes_, rtol=1e-9, atol=1e-12)
    X = np.vstack([Xb, Xn])
    assert_allclose(ours.decision_function(X), embedded.decision_function(X @ L.T))


def test_float32_kept(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier().fit(Xb.astype(np.float32), yb)
    clf.partial_fit(Xn.astype(np.float32), yn)
    assert clf.decision_function(Xn.astype(np.float32)).dtype == np.float32


# -- partial_fit conventions -------------------------------------------------
def test_first_partial_fit_is_the_base_session(sessions):
    Xb, yb, Xn, yn = sessions
    via_partial = CalibratedPrototypeClassifier().partial_fit(
        Xb, yb, classes=[0, 1, 2, 3, 4]
    )
    via_fit = CalibratedPrototypeClassifier().fit(Xb, yb)
    assert_array_equal(via_partial.classes_, [0, 1, 2])
    assert_array_equal(via_partial.prototypes_, via_fit.prototypes_)
    with pytest.raises(ValueError, match=r"not in classes="):
        via_partial.partial_fit(Xn, yn, classes=[0, 1, 2, 3])


def test_partial_fit_errors(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier().fit(Xb, yb)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(Xn[:, :-1], yn)
    with pytest.raises(ValueError, match="dtype"):
        clf.partial_fit(Xn, yn.astype(str))
    with pytest.raises(ValueError, match="every new class; class 3 has none"):
        clf.partial_fit(Xn, yn, sample_weight=(yn == 4).astype(float))
    with pytest.raises(ValueError, match="at least 2 classes"):
        CalibratedPrototypeClassifier().partial_fit(Xn[yn == 3], yn[yn == 3])
    with pytest.raises(ValueError, match="sample_weight"):
        clf.partial_fit(Xn, yn, sample_weight=-np.ones(len(yn)))
    # A failed call leaves the model as it was.
    assert_array_equal(clf.classes_, [0, 1, 2])


def test_caller_arrays_not_modified(sessions):
    Xb, yb, Xn, yn = sessions
    copies = [a.copy() for a in (Xb, yb, Xn, yn)]
    CalibratedPrototypeClassifier().fit(Xb, yb).partial_fit(Xn, yn).predict(Xn)
    for a, b in zip((Xb, yb, Xn, yn), copies):
        assert_array_equal(a, b)


# -- forget ------------------------------------------------------------------
def test_forget_new_class(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier().fit(Xb, yb).partial_fit(Xn, yn)
    clf.forget(3)
    assert_array_equal(clf.classes_, [0, 1, 2, 4])
    assert 3 not in clf.predict(np.vstack([Xb, Xn]))
    assert clf.predict_proba(Xn).shape == (len(yn), 4)
    reference = CalibratedPrototypeClassifier().fit(Xb, yb)
    reference.partial_fit(Xn[yn == 4], yn[yn == 4])
    assert_array_equal(clf.prototypes_, reference.prototypes_)


def test_forget_base_class_recalibrates_the_new_ones(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb, yb)
    clf.partial_fit(Xn, yn).forget(1)
    keep = yb != 1
    reference = CalibratedPrototypeClassifier(shift_weight=0.5).fit(Xb[keep], yb[keep])
    reference.partial_fit(Xn, yn)
    assert_array_equal(clf.classes_, [0, 2, 3, 4])
    assert_array_equal(clf.base_classes_, [0, 2])
    assert_allclose(clf.prototypes_, reference.prototypes_, rtol=1e-12)
    assert 1 not in clf.predict(Xb)
    # Rows of a forgotten class come back as a new, calibrated class.
    clf.partial_fit(Xb[yb == 1][:3], yb[yb == 1][:3])
    assert_array_equal(clf.base_classes_, [0, 2])
    assert 1 in clf.classes_


def test_forget_errors(sessions):
    Xb, yb, _, _ = sessions
    clf = CalibratedPrototypeClassifier().fit(Xb, yb)
    with pytest.raises(ValueError, match=r"class_label=7 is not a class"):
        clf.forget(7)
    with pytest.raises(TypeError, match="single class label"):
        clf.forget([0, 1])
    clf.forget(0).forget(1)
    with pytest.raises(ValueError, match="only class left"):
        clf.forget(2)
    assert_array_equal(clf.predict(Xb[:3]), [2, 2, 2])


def test_string_labels_and_forget():
    X = np.array([[1.0, 0.0], [0.9, 0.2], [0.0, 1.0], [0.2, 0.9], [0.7, 0.7]])
    clf = CalibratedPrototypeClassifier().fit(X[:4], ["a", "a", "b", "b"])
    clf.partial_fit(X[4:], ["c"])
    assert_array_equal(clf.classes_, ["a", "b", "c"])
    clf.forget("a")
    assert_array_equal(clf.classes_, ["b", "c"])


def test_pickle_after_partial_fit(sessions):
    Xb, yb, Xn, yn = sessions
    clf = CalibratedPrototypeClassifier().fit(Xb, yb).partial_fit(Xn[:3], yn[:3])
    restored = pickle.loads(pickle.dumps(clf))
    X = np.vstack([Xb, Xn])
    assert_array_equal(restored.predict(X), clf.predict(X))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # The restored model keeps learning exactly as the original does.
    clf.partial_fit(Xn[3:], yn[3:])
    restored.partial_fit(Xn[3:], yn[3:])
    assert_array_equal(restored.prototypes_, clf.prototypes_)
    assert_array_equal(restored.classes_, np.arange(5))


# -- digits acceptance -------------------------------------------------------
def _few_shot_scores(
    digits_split, new, shift_weight, shots_seed=None, per_class_calls=False
):
    X_train, X_test, y_train, y_test = digits_split
    is_base = ~np.isin(y_train, new)
    rng = np.random.default_rng(shots_seed)
    shots = []
    for c in new:
        rows = np.flatnonzero(y_train == c)
        shots.append(rows[:5] if shots_seed is None else rng.permutation(rows)[:5])
    # Raw pixels, no scaler: a scaler fitted now would see the new classes.
    clf = CalibratedPrototypeClassifier(shift_weight=shift_weight)
    clf.fit(X_train[is_base], y_train[is_base])
    if per_class_calls:
        for rows in shots:
            clf.partial_fit(X_train[rows], y_train[rows])
    else:
        rows = np.concatenate(shots)
        clf.partial_fit(X_train[rows], y_train[rows])
    assert_array_equal(clf.classes_, np.arange(10))
    correct = clf.predict(X_test) == y_test
    is_new = np.isin(y_test, new)
    return correct[is_new].mean(), correct[~is_new].mean()


# scikit-learn's NearestCentroid warns about the constant border pixels.
@pytest.mark.filterwarnings("ignore:self.within_class_std_dev_")
@pytest.mark.parametrize("per_class_calls", [False, True])
def test_digits_acceptance(digits_split, per_class_calls):
    new = [7, 8, 9]
    new_acc, base_acc = _few_shot_scores(digits_split, new, 0.1, None, per_class_calls)
    plain_new, plain_base = _few_shot_scores(
        digits_split, new, 0.0, None, per_class_calls
    )
    assert new_acc >= 0.70
    assert new_acc > plain_new
    assert base_acc >= plain_base - 0.02
    # The guard also holds against scikit-learn's (Euclidean) nearest centroid.
    X_train, X_test, y_train, y_test = digits_split
    rows = np.concatenate(
        [np.flatnonzero(y_train < 7)] + [np.flatnonzero(y_train == c)[:5] for c in new]
    )
    reference = NearestCentroid().fit(X_train[rows], y_train[rows])
    correct = reference.predict(X_test) == y_test
    assert base_acc >= correct[y_test < 7].mean() - 0.02
    assert new_acc > correct[y_test >= 7].mean()


@pytest.mark.parametrize("new", [(0, 1, 2), (3, 4, 5), (1, 5, 9), (7, 8, 9)])
def test_digits_other_splits_and_shots(digits_split, new):
    calibrated = np.mean(
        [_few_shot_scores(digits_split, new, 0.1, seed) for seed in range(10)], axis=0
    )
    plain = np.mean(
        [_few_shot_scores(digits_split, new, 0.0, seed) for seed in range(10)], axis=0
    )
    assert calibrated[0] > plain[0]
    assert calibrated[1] >= plain[1] - 0.02
