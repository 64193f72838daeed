"""SupportTrivialPrototypeClassifier: losses, the paper's claim, acceptance."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    load_wine,
    make_blobs,
    make_moons,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.metric_learning import NCA
from sklearn_metric.prototypes._support_trivial import (
    DEFAULT_COEFS,
    SupportTrivialPrototypeClassifier,
    _branch_objective,
)


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks(
    [
        SupportTrivialPrototypeClassifier(
            n_prototypes_per_class=1, n_components=2, push=True
        ),
    ]
)
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


@pytest.mark.parametrize("branch", ["trivial", "support"])
@pytest.mark.parametrize("learn_map", [False, True])
def test_gradient_matches_finite_differences(branch, learn_map):
    rng = np.random.RandomState(0)
    n_samples, n_features, n_classes, per_class = 40, 5, 3, 2
    n_dimensions = 3 if learn_map else n_features
    Z = rng.randn(n_samples, n_features)
    y = rng.randint(0, n_classes, n_samples)
    weights = rng.rand(n_samples)
    weights /= weights.sum()
    own = y[:, None] == np.repeat(np.arange(n_classes), per_class)[None, :]
    W = rng.randn(n_classes, n_classes * per_class)
    # Non-default coefficients, so that a term's scale error cannot hide.
    coefs = {
        key: value * (1.5 + i) for i, (key, value) in enumerate(DEFAULT_COEFS.items())
    }
    size = n_classes * per_class * n_dimensions
    if learn_map:
        size += n_dimensions * n_features
    x0 = rng.randn(size)

    def objective(flat):
        return _branch_objective(
            flat,
            W,
            branch,
            n_dimensions,
            learn_map,
            Z=Z,
            y=y,
            weights=weights,
            own=own,
            n_classes=n_classes,
            n_per_class=per_class,
            coefs=coefs,
        )

    value, grad = objective(x0)
    step = 1e-6
    numeric = np.array(
        [
            (objective(x0 + step * e)[0] - objective(x0 - step * e)[0]) / (2 * step)
            for e in np.eye(x0.size)
        ]
    )
    assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def _boundary_distance(svc, points):
    return np.abs(svc.decision_function(points)) / np.linalg.norm(svc.coef_)


@pytest.mark.parametrize("dataset", ["gaussians", "moons"])
@pytest.mark.parametrize("per_class", [1, 3])
def test_support_prototypes_lie_closer_to_the_boundary(dataset, per_class):
    # The paper's central claim: the closeness loss pulls the support
    # prototypes onto the class boundary, the discrimination loss keeps the
    # trivial ones away from it. The boundary is a linear SVM's, fitted
    # independently.
    for seed in range(4):
        if dataset == "gaussians":
            X, y = make_blobs(
                300,
                centers=[[-1.5, 0.0], [1.5, 0.0]],
                cluster_std=1.0,
                random_state=seed,
            )
        else:
            X, y = make_moons(300, noise=0.2, random_state=seed)
        X = StandardScaler().fit_transform(X)
        clf = SupportTrivialPrototypeClassifier(n_prototypes_per_class=per_class)
        clf.fit(X, y)
        svc = SVC(kernel="linear").fit(X, y)
        support = _boundary_distance(svc, clf.support_prototypes_).mean()
        trivial = _boundary_distance(svc, clf.trivial_prototypes_).mean()
        assert support < trivial
        if per_class == 1:
            # Nothing holds a lone support prototype away from the boundary.
            assert support < 0.5 * trivial


def test_push_replaces_prototypes_by_training_samples():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SupportTrivialPrototypeClassifier(push=True).fit(X, y)
    unpushed = SupportTrivialPrototypeClassifier().fit(X, y)
    units = normalize(X)
    for branch in ["trivial", "support"]:
        sources = getattr(clf, f"{branch}_sources_")
        prototypes = getattr(clf, f"{branch}_prototypes_")
        assert_allclose(prototypes, units[sources])
        assert_array_equal(y[sources], clf.prototype_labels_)
        # Each is the training sample of its class most like the prototype.
        before = getattr(unpushed, f"{branch}_prototypes_")
        for j, label in enumerate(clf.prototype_labels_):
            candidates = np.flatnonzero(y == label)
            best = candidates[np.argmax(units[candidates] @ before[j])]
            assert sources[j] == best


def test_cluster_term_alone_gives_the_mean_direction():
    # With only the cluster term and one prototype per class, each prototype
    # maximises sum_n w_n cos(x_n, p) over unit vectors p: when all these
    # cosines are positive, p is the normalised weighted mean of the unit
    # samples of its class.
    X, y = make_blobs(
        120, centers=[[6.0, 1.0, 0.0], [1.0, 6.0, 1.0], [0.0, 1.0, 6.0]], random_state=0
    )
    weights = np.random.RandomState(0).rand(X.shape[0])
    coefs = dict.fromkeys(DEFAULT_COEFS, 0.0)
    coefs["cluster"] = -1.0
    clf = SupportTrivialPrototypeClassifier(
        n_prototypes_per_class=1, branches="trivial", coefs=coefs, tol=0.0
    ).fit(X, y, sample_weight=weights)
    units = normalize(X)
    expected = normalize(np.array([weights[y == c] @ units[y == c] for c in range(3)]))
    assert np.all((units @ expected.T)[np.arange(y.shape[0]), y] > 0)
    assert_allclose(clf.trivial_prototypes_, expected, atol=1e-6)
    assert clf.support_prototypes_ is None


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_breast_cancer])
def test_at_least_as_accurate_as_cosine_nearest_centroid(loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    classes = np.unique(y_train)
    centroids = normalize(np.array([X_train[y_train == c].mean(0) for c in classes]))
    centroid_accuracy = np.mean(
        classes[np.argmax(normalize(X_test) @ centroids.T, axis=1)] == y_test
    )
    clf = SupportTrivialPrototypeClassifier().fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= centroid_accuracy


def test_metric_learner_is_its_embedding():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    learner = NCA(max_iter=200).fit(X, y)
    by_learner = SupportTrivialPrototypeClassifier(metric=learner).fit(X, y)
    embedded = SupportTrivialPrototypeClassifier().fit(learner.transform(X), y)
    for branch in ["trivial", "support"]:
        assert_allclose(
            getattr(by_learner, f"{branch}_prototypes_"),
            getattr(embedded, f"{branch}_prototypes_"),
        )
    assert_allclose(
        by_learner.decision_function(X),
        embedded.decision_function(learner.transform(X)),
    )


def test_learned_maps():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SupportTrivialPrototypeClassifier(n_components=4).fit(X, y)
    assert clf.trivial_components_.shape == (4, X.shape[1])
    assert clf.support_components_.shape == (4, X.shape[1])
    assert clf.support_prototypes_.shape == (9, 4)
    assert_allclose(np.linalg.norm(clf.support_prototypes_, axis=1), 1.0)
    assert clf.score(X, y) > 0.9


def test_single_branch_scores_are_that_branch_logits():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SupportTrivialPrototypeClassifier(branches="support").fit(X, y)
    assert clf.trivial_prototypes_ is None
    similarity = np.maximum(normalize(X) @ clf.support_prototypes_.T, 0.0)
    assert_allclose(clf.decision_function(X), similarity @ clf.support_last_layer_.T)
    both = SupportTrivialPrototypeClassifier().fit(X, y)
    expected = sum(
        np.maximum(normalize(X) @ getattr(both, f"{b}_prototypes_").T, 0.0)
        @ getattr(both, f"{b}_last_layer_").T
        for b in ["trivial", "support"]
    )
    assert_allclose(both.decision_function(X), expected)
    logits = np.exp(expected - expected.max(axis=1, keepdims=True))
    assert_allclose(both.predict_proba(X), logits / logits.sum(axis=1)[:, None])


def test_parameter_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="Unknown coefs"):
        SupportTrivialPrototypeClassifier(coefs={"clst": 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="finite"):
        SupportTrivialPrototypeClassifier(coefs={"cluster": np.nan}).fit(X, y)
    with pytest.raises(ValueError, match="n_prototypes_per_class=3"):
        SupportTrivialPrototypeClassifier().fit(
            X[[0, 1, 50, 51, 100, 101]], y[[0, 1, 50, 51, 100, 101]]
        )
    with pytest.raises(ValueError, match="n_components=5"):
        SupportTrivialPrototypeClassifier(n_components=5).fit(X, y)


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    clf = SupportTrivialPrototypeClassifier().fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.90
