"""equiangular_basis against known optima, and EquiangularBasisClassifier."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import approx_fprime
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_metric.prototypes import EquiangularBasisClassifier, equiangular_basis
from sklearn_metric.prototypes._equiangular import (
    _minimise_max_cosine,
    _objective,
    _smooth_max_cosine,
)


# The default configuration is checked through the registry
# (tests/test_common.py); these are the other branches.
@parametrize_with_checks([EquiangularBasisClassifier(fit_intercept=False)])
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)


def _off_diagonal(basis):
    gram = basis @ basis.T
    return gram[np.triu_indices(basis.shape[0], k=1)]


def _welch_bound(n, d):
    return math.sqrt((n - d) / (d * (n - 1)))


# -- the basis ---------------------------------------------------------------


@pytest.mark.parametrize("n_classes, n_dims", [(2, 1), (3, 2), (4, 3), (10, 9), (5, 8)])
def test_simplex_when_it_fits(n_classes, n_dims):
    basis = equiangular_basis(n_classes, n_dims, random_state=0)
    assert basis.shape == (n_classes, n_dims)
    assert_allclose(np.linalg.norm(basis, axis=1), 1.0)
    assert_allclose(_off_diagonal(basis), -1.0 / (n_classes - 1), atol=1e-12)
    # The regular simplex sums to zero, the condition for the bound
    # max cos >= -1 / (n_classes - 1) to be tight.
    assert_allclose(basis.sum(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("n_classes, n_dims", [(4, 3), (5, 4), (4, 6), (10, 9)])
def test_optimiser_reaches_the_simplex(n_classes, n_dims):
    # The same optimum from random starts, without the closed form.
    for seed in range(3):
        basis = _minimise_max_cosine(
            n_classes, n_dims, False, 500, np.random.RandomState(seed)
        )
        assert_allclose(np.linalg.norm(basis, axis=1), 1.0)
        assert_allclose(_off_diagonal(basis), -1.0 / (n_classes - 1), atol=1e-8)


def test_orthonormal_when_it_fits():
    basis = equiangular_basis(4, 6, criterion="max_abs_cos", random_state=0)
    assert_allclose(basis @ basis.T, np.eye(4), atol=1e-12)


@pytest.mark.parametrize(
    "n_classes, n_dims, criterion, optimum",
    [
        # Cross-polytope: 2d vectors with largest cosine 0 (Rankin's bound).
        (6, 3, "max_cos", 0.0),
        (8, 4, "max_cos", 0.0),
        # The six diagonals of the icosahedron meet the Welch bound 1/sqrt(5).
        (6, 3, "max_abs_cos", _welch_bound(6, 3)),
        # n = d + 1 lines: the simplex meets the Welch bound 1/d.
        (5, 4, "max_abs_cos", _welch_bound(5, 4)),
        # Regular polygon in the plane, and equally spaced lines.
        (7, 2, "max_cos", math.cos(2 * math.pi / 7)),
        (7, 2, "max_abs_cos", math.cos(math.pi / 7)),
    ],
)
def test_optimiser_reaches_known_optima(n_classes, n_dims, criterion, optimum):
    basis = equiangular_basis(n_classes, n_dims, criterion=criterion, random_state=0)
    cosines = _off_diagonal(basis)
    largest = np.abs(cosines).max() if criterion == "max_abs_cos" else cosines.max()
    assert_allclose(np.linalg.norm(basis, axis=1), 1.0)
    assert largest == pytest.approx(optimum, abs=1e-6)


@pytest.mark.parametrize("n_classes, n_dims", [(20, 5), (40, 8), (100, 20)])
def test_bounds_when_no_optimum_is_known(n_classes, n_dims):
    spread = equiangular_basis(
        n_classes, n_dims, criterion="max_abs_cos", random_state=0
    )
    largest = np.abs(_off_diagonal(spread)).max()
    # No set of lines does better than the Welch bound, nor, beyond
    # d (d + 1) / 2 lines, than the orthoplex bound 1 / sqrt(d).
    lower = _welch_bound(n_classes, n_dims)
    if n_classes > n_dims * (n_dims + 1) / 2:
        lower = max(lower, 1.0 / math.sqrt(n_dims))
    assert lower - 1e-12 <= largest < 1.25 * lower
    random = np.random.RandomState(0).standard_normal((n_classes, n_dims))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    assert largest < 0.7 * np.abs(_off_diagonal(random)).max()
    separated = equiangular_basis(n_classes, n_dims, random_state=0)
    assert _off_diagonal(separated).max() >= -1.0 / (n_classes - 1)
    assert _off_diagonal(separated).max() < _off_diagonal(random).max()


def test_basis_is_reproducible():
    first = equiangular_basis(12, 4, random_state=3)
    assert_array_equal(first, equiangular_basis(12, 4, random_state=3))


@pytest.mark.parametrize("squared", [False, True])
def test_smooth_maximum_gradient(squared):
    rng = np.random.RandomState(0)
    flat = rng.standard_normal(7 * 3)
    value, grad = _smooth_max_cosine(flat, (7, 3), 20.0, squared)
    numeric = approx_fprime(
        flat, lambda v: _smooth_max_cosine(v, (7, 3), 20.0, squared)[0], 1e-7
    )
    assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)
    # The smooth maximum is within log(n_pairs) / s above the true one.
    V = flat.reshape(7, 3) / np.linalg.norm(flat.reshape(7, 3), axis=1)[:, None]
    cosines = _off_diagonal(V) ** (2 if squared else 1)
    assert cosines.max() <= value <= cosines.max() + math.log(21) / 20.0


def test_basis_argument_errors():
    with pytest.raises(ValueError, match="criterion"):
        equiangular_basis(3, 2, criterion="min")
    with pytest.raises(ValueError, match="n_dims"):
        equiangular_basis(3, 0)


# -- the classifier ----------------------------------------------------------


def _objective_by_loops(W, b, X, y, weight, basis, T, alpha, softening=0.1):
    """Weighted cross-entropy of the softened cosines plus alpha/2 ||W||^2."""
    total = 0.0
    for x, label, w in zip(X, y, weight):
        z = W @ x + b
        cosines = basis @ z / math.sqrt(z @ z + softening**2)
        logits = cosines / T
        total += w * (math.log(np.exp(logits - logits.max()).sum()) + logits.max())
        total -= w * logits[label]
    return total / weight.sum() + 0.5 * alpha * (W**2).sum()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_value_and_gradient(fit_intercept):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((25, 4))
    y = rng.randint(0, 3, 25)
    weight = rng.uniform(0.5, 2.0, 25)
    w = weight / weight.sum()
    centred = X - w @ X
    basis = equiangular_basis(3, 3, random_state=0)
    flat = rng.standard_normal(3 * 4 + 3)
    args = (centred, y, w, basis, 0.3, 0.5, 1e-12, fit_intercept)
    value, grad = _objective(flat, *args)
    # The map is U / s, s the root-mean-square norm of the embeddings.
    U, b = flat[:12].reshape(3, 4), flat[12:] if fit_intercept else np.zeros(3)
    s = math.sqrt(w @ ((centred @ U.T) ** 2).sum(axis=1) + 1e-12 * (U**2).sum())
    expected = _objective_by_loops(U / s, b, centred, y, weight, basis, 0.3, 0.5)
    assert value == pytest.approx(expected, rel=1e-12)
    numeric = approx_fprime(flat, lambda v: _objective(v, *args)[0], 1e-7)
    assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)
    # Only U / s matters: the gradient is orthogonal to U.
    assert abs(grad[:12] @ flat[:12]) < 1e-10


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_fitted_model_is_what_the_attributes_say(iris):
    X, y = iris
    weight = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    clf = EquiangularBasisClassifier(random_state=0).fit(X, y, sample_weight=weight)
    assert clf.basis_.shape == (3, 2)
    assert clf.components_.shape == (2, 4)
    Z = X @ clf.components_.T + clf.intercept_
    # The normalisation: centred embeddings of unit weighted RMS norm.
    w = weight / weight.sum()
    centred = Z - w @ Z
    assert w @ (centred**2).sum(axis=1) == pytest.approx(1.0, rel=1e-9)
    cosines = (Z / np.linalg.norm(Z, axis=1)[:, None]) @ clf.basis_.T
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(cosines, axis=1)])
    softened = Z @ clf.basis_.T / np.sqrt((Z**2).sum(axis=1) + 0.01)[:, None]
    scores = softened / clf.temperature
    assert_allclose(clf.decision_function(X), scores, rtol=1e-10)
    proba = np.exp(scores - scores.max(axis=1, keepdims=True))
    assert_allclose(clf.predict_proba(X), proba / proba.sum(axis=1, keepdims=True))
    # It is a minimum: the objective in (W, b) has a vanishing gradient.
    mean = w @ X
    flat = np.concatenate(
        [clf.components_.ravel(), clf.intercept_ + clf.components_ @ mean]
    )
    _, grad = _objective(
        flat, X - mean, y, w, clf.basis_, clf.temperature, clf.alpha, 1e-12, True
    )
    assert np.abs(grad).max() < 1e-8


def test_without_intercept_the_map_is_linear(iris):
    X, y = iris
    clf = EquiangularBasisClassifier(fit_intercept=False, random_state=0).fit(X, y)
    assert_array_equal(clf.intercept_, 0.0)
    # The class depends only on the direction of x.
    for factor in (0.01, 3.0):
        assert_array_equal(clf.predict(factor * X), clf.predict(X))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_separable_blobs_are_learned(n_classes):
    X, y = make_blobs(300, 5, centers=n_classes, cluster_std=0.5, random_state=0)
    clf = EquiangularBasisClassifier(random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.basis_.shape == (n_classes, max(n_classes - 1, 2))


def test_float32_input(iris):
    X, y = iris
    clf32 = EquiangularBasisClassifier(random_state=0).fit(X.astype(np.float32), y)
    clf64 = EquiangularBasisClassifier(random_state=0).fit(X, y)
    assert_allclose(clf32.predict_proba(X), clf64.predict_proba(X), atol=1e-4)


def test_convergence_warning(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        EquiangularBasisClassifier(max_iter=2).fit(X, y)


def test_errors_name_the_problem(iris):
    X, y = iris
    with pytest.raises(ValueError, match="n_dims"):
        EquiangularBasisClassifier(n_dims=1).fit(X, y)
    with pytest.raises(ValueError, match="temperature"):
        EquiangularBasisClassifier(temperature=0).fit(X, y)
    with pytest.raises(ValueError, match="Negative values"):
        EquiangularBasisClassifier().fit(X, y, sample_weight=-np.ones(len(y)))


def test_digits_acceptance(digits_protocol):
    X_train, y_train, X_test, y_test = digits_protocol
    clf = EquiangularBasisClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.90
