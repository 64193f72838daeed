"""Tests of LSML and LSML_Supervised (learning from quadruplets)."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import LSML, LSML_Supervised
from sklearn_metric.metric_learning._kernels._lsml import (
    lsml_loss_coefficients,
    quadruplet_laplacian_product,
)
from sklearn_metric.metric_learning._lsml import _LSMLObjective


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _quadruplets(y, n, seed=0):
    """Index quadruplets (a, b, c, d): (a, b) same class, (c, d) different."""
    rng = np.random.RandomState(seed)
    rows = []
    while len(rows) < n:
        a, b, c, d = rng.randint(y.shape[0], size=4)
        if a != b and y[a] == y[b] and y[c] != y[d]:
            rows.append((a, b, c, d))
    return np.array(rows)


# NumPy twins of the kernels.


def _np_loss_coefficients(Z, quadruplets, weights):
    Z = Z.astype(np.float64)
    d_ab = np.linalg.norm(Z[quadruplets[:, 0]] - Z[quadruplets[:, 1]], axis=1)
    d_cd = np.linalg.norm(Z[quadruplets[:, 2]] - Z[quadruplets[:, 3]], axis=1)
    residual = np.where(d_ab > d_cd, d_ab - d_cd, 0.0)
    coefficients = np.zeros((quadruplets.shape[0], 2))
    violated = residual > 0
    coefficients[violated, 0] = (
        2 * weights[violated] * residual[violated] / d_ab[violated]
    )
    positive = violated & (d_cd > 0)
    coefficients[positive, 1] = (
        -2 * weights[positive] * residual[positive] / d_cd[positive]
    )
    return np.sum(weights * residual**2), coefficients


def _np_laplacian_product(X, quadruplets, coefficients):
    X = X.astype(np.float64)
    out = np.zeros_like(X)
    for pair in range(2):
        first, second = quadruplets[:, 2 * pair], quadruplets[:, 2 * pair + 1]
        diff = coefficients[:, pair, None] * (X[first] - X[second])
        np.add.at(out, first, diff)
        np.add.at(out, second, -diff)
    return out


def _np_objective(L, X, quadruplets, weights, prior_inverse, prior_logdet):
    """LSML's objective computed in M-space, independently of the kernels."""
    M = L.T @ L
    v_ab = X[quadruplets[:, 0]] - X[quadruplets[:, 1]]
    v_cd = X[quadruplets[:, 2]] - X[quadruplets[:, 3]]
    d_ab = np.sqrt(np.einsum("ij,jk,ik->i", v_ab, M, v_ab))
    d_cd = np.sqrt(np.einsum("ij,jk,ik->i", v_cd, M, v_cd))
    loss = np.sum(weights * np.maximum(d_ab - d_cd, 0) ** 2)
    divergence = (
        np.trace(M @ prior_inverse)
        - np.linalg.slogdet(M)[1]
        + prior_logdet
        - X.shape[1]
    )
    return loss + divergence


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_match_numpy_twins(dtype):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 5).astype(dtype)
    Z = (X @ rng.randn(5, 3)).astype(dtype)
    quadruplets = rng.randint(30, size=(200, 4)).astype(np.intp)
    quadruplets[:5, 3] = quadruplets[:5, 2]  # d_cd = 0: no c-d contribution
    weights = rng.uniform(size=200)
    coefficients = np.empty((200, 2))
    loss = lsml_loss_coefficients(Z, quadruplets, weights, coefficients)
    expected_loss, expected = _np_loss_coefficients(Z, quadruplets, weights)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(loss, expected_loss, rtol=rtol)
    assert_allclose(coefficients, expected, rtol=rtol, atol=1e-12)
    assert np.any(coefficients[:, 0] > 0) and np.any(coefficients[:, 0] == 0)

    out = np.zeros(X.shape)
    quadruplet_laplacian_product(X, quadruplets, coefficients, out)
    assert_allclose(
        out, _np_laplacian_product(X, quadruplets, coefficients), rtol=rtol, atol=1e-10
    )


def test_objective_matches_metric_space_formula_and_gradient():
    rng = np.random.RandomState(1)
    X = rng.randn(25, 4)
    quadruplets = rng.randint(25, size=(60, 4)).astype(np.intp)
    weights = rng.uniform(size=60)
    weights /= weights.sum()
    A = rng.randn(4, 4)
    prior = A @ A.T + np.eye(4)
    prior_inverse = np.linalg.inv(prior)
    prior_logdet = np.linalg.slogdet(prior)[1]
    objective = _LSMLObjective(
        X, quadruplets, weights, prior_inverse, prior_logdet, n_threads=1
    )
    L = np.eye(4) + 0.3 * rng.randn(4, 4)
    value, _ = objective(L.ravel())
    assert_allclose(
        value,
        _np_objective(L, X, quadruplets, weights, prior_inverse, prior_logdet),
        rtol=1e-10,
    )
    # Some quadruplets are violated, so the loss part of the gradient is tested.
    assert objective.comparison_loss(L)[0] > 0
    error = check_grad(
        lambda x: objective(x)[0], lambda x: objective(x)[1], L.ravel(), epsilon=1e-7
    )
    assert error < 1e-5 * max(1.0, np.linalg.norm(objective(L.ravel())[1]))
    # The LogDet divergence of the prior to itself is zero.
    L0 = np.linalg.cholesky(prior).T
    assert_allclose(
        objective(L0.ravel())[0], objective.comparison_loss(L0)[0], atol=1e-10
    )


def test_fit_decreases_objective_and_orders_training_quadruplets():
    X, y = _iris()
    quadruplets = _quadruplets(y, 300)
    euclidean = LSML(prior="identity", max_iter=1, preprocessor=X)
    euclidean.components_ = np.eye(4)
    euclidean.preprocessor_ = euclidean.preprocessor
    euclidean.n_features_in_ = 4
    lsml = LSML(preprocessor=X).fit(quadruplets)
    assert lsml.n_iter_ >= 1
    assert lsml.objective_.shape == (lsml.n_iter_ + 1,)
    assert np.all(np.diff(lsml.objective_) <= 1e-12)
    assert lsml.objective_[-1] < lsml.objective_[0]
    assert lsml.score(quadruplets) >= euclidean.score(quadruplets)
    # The learned M is positive definite (the LogDet barrier keeps it so).
    assert np.linalg.eigvalsh(lsml.get_mahalanobis_matrix()).min() > 0


def test_satisfied_quadruplets_keep_the_prior():
    # Every comparison already holds under the prior, where the gradient of
    # the LogDet divergence is zero: the prior itself is the solution.
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 5.0]])
    quadruplets = np.array([[0, 1, 2, 3], [1, 0, 0, 2]])
    lsml = LSML(preprocessor=X).fit(quadruplets)
    # One iteration verified the start (scikit-learn's n_iter_ >= 1), and the
    # objective reports no fall, since the metric did not move.
    assert lsml.n_iter_ == 1
    assert lsml.objective_.shape == (2,)
    assert lsml.objective_[0] == lsml.objective_[-1]
    assert_allclose(lsml.components_, np.eye(2))
    prior = np.array([[2.0, 0.5], [0.5, 1.0]])
    lsml = LSML(prior=prior, preprocessor=X).fit(quadruplets)
    assert_allclose(lsml.get_mahalanobis_matrix(), prior, atol=1e-12)


def test_metric_learns_which_feature_matters():
    # Pairs that differ in feature 1 must be closer than pairs that differ
    # (less) in feature 0: feature 0 gains weight, feature 1 loses it.
    X = np.array([[0.0, 0.0], [0.0, 3.0], [2.0, 0.0], [2.0, 3.0]])
    quadruplets = np.array([[0, 1, 0, 2], [2, 3, 1, 3], [0, 1, 1, 3]])
    lsml = LSML(preprocessor=X).fit(quadruplets)
    M = lsml.get_mahalanobis_matrix()
    assert M[0, 0] > 1 > M[1, 1]
    assert lsml.decision_function(quadruplets).mean() > -1.0


def test_points_and_indices_give_the_same_fit_and_predictions():
    X, y = _iris()
    quadruplets = _quadruplets(y, 200)
    by_index = LSML(preprocessor=X).fit(quadruplets)
    by_points = LSML().fit(X[quadruplets])
    assert_allclose(by_index.components_, by_points.components_, rtol=1e-7, atol=1e-9)
    predictions = by_index.predict(quadruplets)
    assert set(np.unique(predictions)) <= {-1, 1}
    assert_array_equal(predictions, by_points.predict(X[quadruplets]))
    swapped = quadruplets[:, [2, 3, 0, 1]]
    assert_array_equal(by_index.predict(swapped)[predictions == 1], -1)
    y_true = np.where(np.arange(200) % 2 == 0, 1, -1)
    assert_allclose(by_index.score(quadruplets, y_true), np.mean(predictions == y_true))


def test_mahalanobis_api_consistency():
    X, y = _iris()
    lsml = LSML(preprocessor=X).fit(_quadruplets(y, 200))
    assert_allclose(lsml.transform(X), X @ lsml.components_.T)
    pairs = np.array([[0, 60], [10, 140], [3, 4]])
    expected = np.linalg.norm(
        lsml.transform(X[pairs[:, 0]]) - lsml.transform(X[pairs[:, 1]]), axis=1
    )
    assert_allclose(lsml.pair_distance(pairs), expected)
    metric = lsml.get_metric()
    assert_allclose([metric(X[i], X[j]) for i, j in pairs], expected)
    assert lsml.transform(X.astype(np.float32)).dtype == np.float32
    assert is_classifier(lsml)
    assert_array_equal(lsml.classes_, [-1, 1])


def test_weights():
    X, y = _iris()
    quadruplets = _quadruplets(y, 120)
    uniform = LSML(preprocessor=X).fit(quadruplets)
    assert_allclose(
        LSML(preprocessor=X).fit(quadruplets, np.full(120, 7.0)).components_,
        uniform.components_,
    )
    # A zero weight removes a quadruplet.
    weights = np.ones(120)
    weights[:40] = 0.0
    dropped = LSML(preprocessor=X).fit(quadruplets, weights)
    assert_allclose(
        dropped.components_,
        LSML(preprocessor=X).fit(quadruplets[40:]).components_,
        rtol=1e-6,
        atol=1e-8,
    )
    original = weights.copy()
    LSML(preprocessor=X).fit(quadruplets, weights)
    assert_array_equal(weights, original)
    with pytest.raises(ValueError, match="one entry per quadruplet"):
        LSML(preprocessor=X).fit(quadruplets, np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        LSML(preprocessor=X).fit(quadruplets, -np.ones(120))
    with pytest.raises(ValueError, match="NaN"):
        LSML(preprocessor=X).fit(quadruplets, np.full(120, np.nan))


def test_priors():
    X, y = _iris()
    X = np.column_stack([X, np.ones(X.shape[0]), X[:, 0]])  # constant, collinear
    quadruplets = _quadruplets(y, 150)
    lsml = LSML(prior="covariance", preprocessor=X).fit(quadruplets)
    assert np.all(np.isfinite(lsml.components_))
    first = LSML(prior="random", random_state=3, preprocessor=X).fit(quadruplets)
    second = LSML(prior="random", random_state=3, preprocessor=X).fit(quadruplets)
    assert_allclose(first.components_, second.components_)
    with pytest.raises(ValueError, match="positive definite"):
        LSML(prior=np.diag([1.0, 0, 1, 1, 1, 1]), preprocessor=X).fit(quadruplets)
    with pytest.raises(ValueError, match="shape"):
        LSML(prior=np.eye(3), preprocessor=X).fit(quadruplets)
    with pytest.raises(ValueError, match="symmetric"):
        LSML(prior=np.triu(np.ones((6, 6))), preprocessor=X).fit(quadruplets)
    with pytest.raises(ValueError, match="prior"):
        LSML(prior="nope", preprocessor=X).fit(quadruplets)


def test_convergence_warning():
    X, y = _iris()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LSML(max_iter=1, tol=0, preprocessor=X).fit(_quadruplets(y, 200))


def test_warm_start_continues_from_previous_solution():
    X, y = _iris()
    quadruplets = _quadruplets(y, 200)
    lsml = LSML(max_iter=3, tol=0, warm_start=True, preprocessor=X)
    with pytest.warns(ConvergenceWarning):
        lsml.fit(quadruplets)
    previous = lsml.objective_[-1]
    lsml.set_params(max_iter=1000, tol=1e-3)
    lsml.fit(quadruplets)
    assert_allclose(lsml.objective_[0], previous, rtol=1e-10)


def test_bad_tuples():
    X, y = _iris()
    quadruplets = _quadruplets(y, 20)
    with pytest.raises(ValueError, match="no preprocessor"):
        LSML().fit(quadruplets)
    with pytest.raises(ValueError, match="quadruplets"):
        LSML(preprocessor=X).fit(quadruplets[:, :3])
    points = X[quadruplets]
    points[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LSML().fit(points)
    lsml = LSML(preprocessor=X).fit(quadruplets)
    with pytest.raises(ValueError, match="features"):
        lsml.predict(np.zeros((2, 4, 3)))


def test_clone_pickle_and_grid_search_on_quadruplets():
    X, y = _iris()
    quadruplets = _quadruplets(y, 300)
    lsml = LSML(preprocessor=X)
    scores = cross_val_score(lsml, quadruplets, cv=3)
    assert scores.mean() > 0.8
    grid = GridSearchCV(lsml, {"tol": [1e-3, 1e-2]}, cv=3).fit(quadruplets)
    assert np.isfinite(grid.best_score_)
    fitted = clone(lsml).fit(quadruplets)
    restored = pickle.loads(pickle.dumps(fitted))
    assert_allclose(
        restored.decision_function(quadruplets), fitted.decision_function(quadruplets)
    )


def test_supervised_reproducible_and_accurate():
    X, y = _iris()
    first = LSML_Supervised(random_state=0).fit(X, y)
    second = LSML_Supervised(random_state=0).fit(X, y)
    assert_allclose(first.components_, second.components_)
    assert first.components_.shape == (4, 4)
    pipe = make_pipeline(
        StandardScaler(), LSML_Supervised(random_state=0), KNeighborsClassifier(3)
    )
    grid = GridSearchCV(pipe, {"lsml_supervised__n_constraints": [100, 200]}, cv=3)
    assert grid.fit(X, y).best_score_ > 0.9


@pytest.mark.filterwarnings("ignore:Only 75 negative pairs")
def test_supervised_constraints():
    X, y = _iris()
    X_small, y_small = X[::10], y[::10]  # 15 points: 30 same-class pairs
    lsml = LSML_Supervised(random_state=0).fit(X_small, y_small)
    assert np.all(np.isfinite(lsml.components_))
    with pytest.warns(UserWarning, match="positive pairs exist"):
        LSML_Supervised(n_constraints=100, random_state=0).fit(X_small, y_small)
    with pytest.raises(ValueError, match="2 classes"):
        LSML_Supervised().fit(X[:20], np.zeros(20))
    with pytest.raises(ValueError, match="at least 2 samples"):
        LSML_Supervised().fit(X[:3], [0, 1, 2])
    with pytest.raises(ValueError, match="one entry per quadruplet"):
        LSML_Supervised(n_constraints=10, weights=np.ones(4)).fit(X, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LSML_Supervised().fit(X_nan, y)


def test_supervised_preprocessor_enables_index_pairs():
    X, y = _iris()
    lsml = LSML_Supervised(preprocessor=X, random_state=0).fit(X, y)
    assert_allclose(lsml.pair_distance([[0, 50]]), lsml.pair_distance(X[[[0, 50]]]))


def test_verbose_prints_progress(capsys):
    X, y = _iris()
    LSML(preprocessor=X).fit(_quadruplets(y, 100))
    assert capsys.readouterr().out == ""
    LSML(verbose=True, preprocessor=X).fit(_quadruplets(y, 100))
    assert "[LSML] iteration" in capsys.readouterr().out
