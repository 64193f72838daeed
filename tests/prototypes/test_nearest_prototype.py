"""NearestPrototypeClassifier against NearestCentroid, closed forms and brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestCentroid
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.metric_learning import NCA
from sklearn_metric.prototypes import NearestPrototypeClassifier

# NearestCentroid warns about features constant within a class (digits).
pytestmark = pytest.mark.filterwarnings(
    "ignore:self.within_class_std_dev_:UserWarning",
    "ignore:NCA did not converge:sklearn.exceptions.ConvergenceWarning",
)


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks([NearestPrototypeClassifier(metric="manhattan")])
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


LOADERS = [load_iris, load_wine, load_breast_cancer, load_digits]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_one_prototype_per_class_is_nearest_centroid(loader, metric):
    X, y = _standardised(loader)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    ours = NearestPrototypeClassifier(metric=metric).fit(X_train, y_train)
    reference = NearestCentroid(metric=metric).fit(X_train, y_train)
    assert_allclose(ours.prototypes_, reference.centroids_, rtol=1e-12, atol=1e-12)
    assert_array_equal(ours.prototype_labels_, reference.classes_)
    assert_array_equal(ours.predict(X_test), reference.predict(X_test))


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean"])
def test_linear_head_gives_the_same_predictions(loader, metric):
    X, y = _standardised(loader)
    clf = NearestPrototypeClassifier(metric=metric).fit(X, y)
    centres = clf.prototypes_
    assert_allclose(clf.coef_, 2 * centres)
    assert_allclose(clf.intercept_, -(centres**2).sum(axis=1))
    linear = X @ clf.coef_.T + clf.intercept_
    assert_array_equal(clf.classes_[np.argmax(linear, axis=1)], clf.predict(X))


@pytest.mark.parametrize(
    "params",
    [
        {"n_prototypes_per_class": 2, "random_state": 0},
        {"metric": "manhattan"},
        {"metric": "cosine"},
        {"metric_learner": NCA(max_iter=5)},
    ],
)
def test_linear_head_only_where_the_rule_is_linear(params):
    X, y = _standardised(load_iris)
    clf = NearestPrototypeClassifier(**params).fit(X, y)
    with pytest.raises(AttributeError, match="n_prototypes_per_class=1"):
        _ = clf.coef_
    assert not hasattr(clf, "intercept_")


def test_weighted_centres_equal_repeated_rows():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = np.repeat([0, 1], 20)
    weight = rng.randint(1, 5, size=40)
    X_rep, y_rep = np.repeat(X, weight, axis=0), np.repeat(y, weight)
    for metric, centre in [("euclidean", np.mean), ("manhattan", np.median)]:
        clf = NearestPrototypeClassifier(metric=metric).fit(X, y, sample_weight=weight)
        expected = [centre(X_rep[y_rep == c], axis=0) for c in (0, 1)]
        assert_allclose(clf.prototypes_, expected, rtol=1e-12)


@pytest.mark.parametrize("n_rows", [5, 6])
def test_unweighted_manhattan_centre_is_the_median(n_rows):
    # Odd and even counts: np.median averages the two middle values.
    rng = np.random.RandomState(1)
    X = rng.randn(2 * n_rows, 4)
    y = np.repeat([0, 1], n_rows)
    clf = NearestPrototypeClassifier(metric="manhattan").fit(X, y)
    assert_allclose(clf.prototypes_[0], np.median(X[:n_rows], axis=0))


def test_cosine_centre_minimises_the_summed_cosine_distance():
    rng = np.random.RandomState(2)
    X = rng.randn(30, 3) + [2.0, 0.0, 0.0]
    X[15:] *= -1
    y = np.repeat([0, 1], 15)
    weight = rng.uniform(0.5, 2.0, size=30)
    clf = NearestPrototypeClassifier(metric="cosine").fit(X, y, sample_weight=weight)
    centre = clf.prototypes_[0]
    assert_allclose(np.linalg.norm(centre), 1.0)

    def cost(c):
        return weight[:15] @ cdist(X[:15], c[None, :], metric="cosine").ravel()

    best = minimize(cost, X[:15].mean(axis=0), method="Nelder-Mead", tol=1e-12)
    assert cost(centre) <= best.fun + 1e-9
    assert_allclose(centre, best.x / np.linalg.norm(best.x), atol=1e-4)
    # Scaling rows by positive factors changes no cosine.
    scaled = clf.fit(X * rng.uniform(0.1, 10, size=(30, 1)), y, sample_weight=weight)
    assert_allclose(scaled.prototypes_[0], centre, atol=1e-12)


@pytest.mark.parametrize(
    "metric",
    ["chebyshev", lambda a, b: np.abs(a - b).max()],
    ids=["chebyshev", "callable"],
)
def test_other_metrics_use_the_medoid(metric):
    rng = np.random.RandomState(3)
    X = rng.randn(24, 3)
    y = np.repeat([0, 1, 2], 8)
    weight = rng.uniform(0.5, 2.0, size=24)
    clf = NearestPrototypeClassifier(metric=metric).fit(X, y, sample_weight=weight)
    for c in range(3):
        members, w = X[y == c], weight[y == c]
        costs = [
            sum(w[i] * np.abs(members[i] - m).max() for i in range(len(members)))
            for m in members
        ]
        assert_allclose(clf.prototypes_[c], members[int(np.argmin(costs))])


def _medoid(rows, metric):
    return rows[np.argmin(cdist(rows, rows, metric=metric).sum(axis=0))]


CENTRES = {
    "euclidean": ("euclidean", lambda rows: rows.mean(axis=0)),
    "manhattan": ("cityblock", lambda rows: np.median(rows, axis=0)),
    "cosine": (
        "cosine",
        lambda rows: (
            (s := (rows / np.linalg.norm(rows, axis=1)[:, None]).sum(0))
            / np.linalg.norm(s)
        ),
    ),
    "chebyshev": ("chebyshev", lambda rows: _medoid(rows, "chebyshev")),
}


@pytest.mark.parametrize("metric", list(CENTRES))
def test_several_prototypes_are_a_fixed_point_of_lloyd(metric):
    X, y = _standardised(load_wine)
    clf = NearestPrototypeClassifier(4, metric=metric, random_state=0).fit(X, y)
    assert clf.prototypes_.shape == (12, X.shape[1])
    assert_array_equal(clf.prototype_labels_, np.repeat(clf.classes_, 4))
    assert np.all(clf.n_iter_ < clf.max_iter)
    scipy_metric, centre = CENTRES[metric]
    for c in clf.classes_:
        members = X[y == c]
        protos = clf.prototypes_[clf.prototype_labels_ == c]
        nearest = np.argmin(cdist(members, protos, metric=scipy_metric), axis=1)
        for j in range(4):
            # Each prototype is the centre of the rows nearest to it.
            assert_allclose(protos[j], centre(members[nearest == j]), atol=1e-10)


def test_several_prototypes_with_integer_weights_equal_repeated_rows():
    # The seeding draws by cumulative weight, so with the rows in the same
    # order a weight and the same number of adjacent copies draw alike.
    X, y = _standardised(load_iris)
    weight = np.random.RandomState(4).randint(1, 4, size=X.shape[0])
    weighted = NearestPrototypeClassifier(3, random_state=0).fit(
        X, y, sample_weight=weight
    )
    repeated = NearestPrototypeClassifier(3, random_state=0).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight)
    )
    assert_allclose(weighted.prototypes_, repeated.prototypes_, rtol=1e-10)


def test_metric_learner_space():
    X, y = _standardised(load_wine)
    nca = NCA(max_iter=20, random_state=0)
    clf = NearestPrototypeClassifier(metric_learner=nca).fit(X, y)
    assert not hasattr(nca, "components_")  # cloned, not fitted in place
    fitted = NCA(max_iter=20, random_state=0).fit(X, y)
    Z = fitted.transform(X)
    expected = [Z[y == c].mean(axis=0) for c in clf.classes_]
    assert_allclose(clf.prototypes_, expected, atol=1e-10)
    # A fitted learner as metric measures the same distance in the input
    # space, where its centres are the input-space means.
    as_metric = NearestPrototypeClassifier(metric=fitted).fit(X, y)
    assert_allclose(as_metric.prototypes_ @ fitted.components_.T, expected, atol=1e-10)
    assert_array_equal(as_metric.predict(X), clf.predict(X))
    distances = cdist(Z, clf.prototypes_)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmin(distances, axis=1)])


def test_decision_function_is_minus_the_distance():
    X, y = _standardised(load_iris)
    clf = NearestPrototypeClassifier(2, random_state=0).fit(X, y)
    distances = cdist(X, clf.prototypes_)
    expected = np.column_stack(
        [distances[:, clf.prototype_labels_ == c].min(axis=1) for c in clf.classes_]
    )
    assert_allclose(clf.decision_function(X), -expected, rtol=1e-10)
    proba = np.exp(-expected)
    assert_allclose(clf.predict_proba(X), proba / proba.sum(axis=1, keepdims=True))


def test_float32_is_kept():
    X, y = _standardised(load_iris)
    clf = NearestPrototypeClassifier(2, random_state=0).fit(X.astype(np.float32), y)
    assert clf.prototypes_.dtype == np.float32
    assert clf.decision_function(X.astype(np.float32)).dtype == np.float32


def test_errors_name_the_problem():
    X, y = _standardised(load_iris)
    with pytest.raises(ValueError, match="at least 60 samples per class"):
        NearestPrototypeClassifier(60).fit(X, y)
    weight = np.where(y == 2, 0.0, 1.0)
    with pytest.raises(ValueError, match="class 2 has none"):
        NearestPrototypeClassifier().fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError, match="Negative values"):
        NearestPrototypeClassifier().fit(X, y, sample_weight=-np.ones(len(y)))
    fitted = NCA(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="metric must be a metric name"):
        NearestPrototypeClassifier(metric=fitted, metric_learner=NCA()).fit(X, y)
    with pytest.raises(ValueError, match="n_prototypes_per_class"):
        NearestPrototypeClassifier(0).fit(X, y)


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    one = NearestPrototypeClassifier().fit(X_train, y_train)
    centroid = NearestCentroid().fit(X_train, y_train)
    assert one.score(X_test, y_test) == centroid.score(X_test, y_test)
    for seed in range(3):
        five = NearestPrototypeClassifier(5, random_state=seed).fit(X_train, y_train)
        assert five.score(X_test, y_test) >= 0.90
