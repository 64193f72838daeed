"""Tests of MLKR: the kernel-regression objective, its gradient and the API."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from sklearn_metric._kernels._threads import parallel_section
from sklearn_metric.metric_learning import MLKR
from sklearn_metric.metric_learning._kernels import _softmax as ks

from ._oracles import softmax_loss_grad_numpy

MLKR_CODE = ks.MLKR_OBJECTIVE

# Short fits stop at max_iter on purpose; the tests that are about the warning
# catch it with pytest.warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:MLKR did not converge:sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X[:150])
    y = (y[:150] - y[:150].mean()) / y[:150].std()
    return X, y


def _random_problem(n_samples=60, n_features=5, n_components=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = X[:, 0] + 0.1 * rng.randn(n_samples)
    L = rng.randn(n_components, n_features)
    return X, y, L


def _loss_grad(X, y, L, n_threads=2):
    labels = np.zeros(X.shape[0], dtype=np.int64)
    with parallel_section(n_threads, limit_blas=True):
        return ks.softmax_loss_grad(
            X, L, labels, np.asarray(y, dtype=np.float64), MLKR_CODE
        )


def _nadaraya_watson(X, y, L):
    """Leave-one-out kernel regression straight from the definition."""
    Z = X @ L.T
    y_hat = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        k = np.exp(-((Z - Z[i]) ** 2).sum(axis=1))
        k[i] = 0.0
        y_hat[i] = k @ y / k.sum()
    return y_hat


# ----------------------------------------------------------------- the kernel


@pytest.mark.parametrize("scale", [0.2, 1.0, 4.0])
def test_kernel_matches_numpy_twin(scale):
    # Small scales give dense rows (the GEMM path), large ones sparse rows.
    X, y, L = _random_problem(n_samples=80, n_features=6, n_components=4)
    L = scale * L
    loss, grad, y_hat = _loss_grad(X, y, L)
    loss_ref, grad_ref, y_hat_ref = softmax_loss_grad_numpy(X, L, None, y, MLKR_CODE)
    assert_allclose(loss, loss_ref, rtol=1e-11)
    assert_allclose(grad, grad_ref, rtol=1e-9, atol=1e-11 * np.abs(grad_ref).max())
    assert_allclose(y_hat, y_hat_ref, rtol=1e-11, atol=1e-13)


def test_predictions_and_loss_by_definition():
    X, y, L = _random_problem(n_samples=50)
    L = 0.4 * L
    loss, _, y_hat = _loss_grad(X, y, L)
    expected = _nadaraya_watson(X, y, L)
    assert_allclose(y_hat, expected, rtol=1e-12)
    assert_allclose(loss, ((y - expected) ** 2).sum(), rtol=1e-12)


def test_kernel_float32_is_close_to_float64():
    X, y, L = _random_problem()
    loss64, grad64, _ = _loss_grad(X, y, L)
    loss32, grad32, _ = _loss_grad(X.astype(np.float32), y, L)
    assert_allclose(loss32, loss64, rtol=1e-5)
    assert_allclose(grad32, grad64, rtol=1e-3, atol=1e-4 * np.abs(grad64).max())


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_by_finite_differences(seed):
    X, y, L = _random_problem(n_samples=30, n_features=4, n_components=2, seed=seed)
    shape = L.shape

    def f(flat):
        return _loss_grad(X, y, flat.reshape(shape))[0]

    def g(flat):
        return _loss_grad(X, y, flat.reshape(shape))[1].ravel()

    scale = np.linalg.norm(g(L.ravel()))
    assert check_grad(f, g, L.ravel(), epsilon=1e-6) < 1e-5 * max(scale, 1.0)


def test_gradient_matches_metric_learn_formula():
    # metric-learn writes the gradient as 4 Z' (W + W' - diag(colsum W)) X with
    # W_ij = p_ij (yhat_i - y_i)(y_j - yhat_i); an independent derivation.
    X, y, L = _random_problem(n_samples=40)
    L = 0.5 * L
    Z = X @ L.T
    D = ((Z[:, None] - Z[None]) ** 2).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    P = np.exp(-D - np.log(np.exp(-D).sum(axis=1, keepdims=True)))
    y_hat = P @ y
    W = P * (y_hat - y)[:, None] * (y[None, :] - y_hat[:, None])
    W_sym = W + W.T
    np.fill_diagonal(W_sym, -W.sum(axis=0))
    expected = 4.0 * Z.T @ W_sym @ X
    assert_allclose(
        _loss_grad(X, y, L)[1], expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max()
    )


# -------------------------------------------------------------------- fitting


def test_objective_decreases(diabetes):
    X, y = diabetes
    mlkr = MLKR(max_iter=40).fit(X, y)
    assert mlkr.objective_.shape == (mlkr.n_iter_ + 1,)
    assert np.all(np.diff(mlkr.objective_) <= 1e-9 * np.abs(mlkr.objective_[:-1]))
    assert mlkr.objective_[-1] < 0.8 * mlkr.objective_[0]
    assert_allclose(
        mlkr.objective_[-1], _loss_grad(X, y, mlkr.components_)[0], rtol=1e-12
    )


def test_learns_the_relevant_feature():
    # y depends on feature 0 only; the other features are noise of the same
    # scale. The learned map stretches feature 0 far more than the rest.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = np.sin(2.0 * X[:, 0])
    mlkr = MLKR(max_iter=200).fit(X, y)
    column_norms = np.linalg.norm(mlkr.components_, axis=0)
    assert column_norms[0] > 3 * column_norms[1:].max()
    error_before = ((_nadaraya_watson(X, y, np.eye(4)) - y) ** 2).mean()
    error_after = mlkr.objective_[-1] / X.shape[0]
    assert error_after < 0.2 * error_before


def test_transform_and_metric_api(diabetes):
    X, y = diabetes
    mlkr = MLKR(n_components=3, max_iter=10).fit(X, y)
    assert mlkr.components_.shape == (3, X.shape[1])
    assert mlkr.components_.dtype == np.float64
    assert_allclose(mlkr.transform(X), X @ mlkr.components_.T)
    M = mlkr.get_mahalanobis_matrix()
    assert np.linalg.eigvalsh(M).min() >= -1e-10 * np.abs(M).max()
    pairs = np.stack([X[:10], X[10:20]], axis=1)
    expected = np.linalg.norm(mlkr.transform(X[:10]) - mlkr.transform(X[10:20]), axis=1)
    assert_allclose(mlkr.pair_distance(pairs), expected)
    metric = mlkr.get_metric()
    assert_allclose([metric(a, b) for a, b in pairs], expected)
    assert mlkr.transform(X.astype(np.float32)).dtype == np.float32
    tags = get_tags(mlkr)
    assert tags.transformer_tags is not None and tags.target_tags.required


@pytest.mark.parametrize(
    "n_components, expected_start", [(None, "identity"), (2, "pca")]
)
def test_auto_init_uses_pca_or_identity(diabetes, n_components, expected_start):
    X, y = diabetes
    mlkr = MLKR(n_components=n_components, max_iter=1, random_state=0).fit(X, y)
    if expected_start == "identity":
        start = np.eye(X.shape[1])
    else:
        start = PCA(n_components=2, random_state=0).fit(X).components_
    assert_allclose(mlkr.objective_[0], _loss_grad(X, y, start)[0], rtol=1e-12)


def test_digit_labels_as_targets():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])  # constant pixel columns
    mlkr = MLKR(max_iter=20).fit(X, y[:300])
    assert np.all(np.isfinite(mlkr.components_))
    assert mlkr.objective_[-1] < mlkr.objective_[0]


def test_constant_target_is_already_optimal(diabetes):
    X, _ = diabetes
    mlkr = MLKR().fit(X, np.full(X.shape[0], 3.0))
    assert mlkr.n_iter_ == 0
    assert_array_equal(mlkr.components_, np.eye(X.shape[1]))


def test_pipeline_grid_search(diabetes):
    X, y = diabetes
    pipe = make_pipeline(
        StandardScaler(), MLKR(max_iter=10), KNeighborsRegressor(n_neighbors=5)
    )
    grid = GridSearchCV(pipe, {"mlkr__n_components": [2, 4]}, cv=3).fit(X, y)
    assert np.isfinite(grid.best_score_)


# ---------------------------------------------------- parameters and errors


@pytest.mark.parametrize(
    "params, change, message",
    [
        ({"n_components": 11}, None, "n_components"),
        ({"init": np.ones((2, 3))}, None, "init array"),
        ({"init": "lda"}, None, "init"),
        ({"tol": -1.0}, None, "tol"),
        ({"max_iter": 0}, None, "max_iter"),
        ({}, "X nan", "NaN"),
        ({}, "y nan", "NaN"),
        ({}, "y 2d", "y"),
    ],
)
def test_bad_input(diabetes, params, change, message):
    X, y = diabetes
    X, y = X.copy(), y.copy()
    if change == "X nan":
        X[0, 0] = np.nan
    elif change == "y nan":
        y[0] = np.nan
    elif change == "y 2d":
        y = np.stack([y, y], axis=1)
    with pytest.raises(ValueError, match=message):
        MLKR(**params).fit(X, y)


def test_convergence_warning(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        MLKR(max_iter=1).fit(X, y)


def test_random_state_and_n_jobs(diabetes):
    X, y = diabetes
    a = MLKR(init="random", max_iter=10, random_state=3, n_jobs=1).fit(X, y)
    b = MLKR(init="random", max_iter=10, random_state=3, n_jobs=2).fit(X, y)
    c = MLKR(init="random", max_iter=10, random_state=4).fit(X, y)
    assert_array_equal(a.components_, b.components_)
    assert not np.allclose(a.components_, c.components_)


def test_warm_start(diabetes):
    X, y = diabetes
    mlkr = MLKR(max_iter=3, warm_start=True)
    mlkr.fit(X, y)
    last = mlkr.objective_[-1]
    mlkr.fit(X, y)
    assert_allclose(mlkr.objective_[0], last, rtol=1e-12)
    assert mlkr.objective_[-1] < last
    with pytest.raises(ValueError, match="warm_start"):
        mlkr.fit(X[:, :3], y)
    cold = clone(mlkr).set_params(warm_start=False).fit(X[:, :3], y)
    assert cold.components_.shape == (3, 3)


def test_verbose(diabetes, capsys):
    X, y = diabetes
    MLKR(max_iter=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "[MLKR] iteration" in out and "training took" in out


def test_input_is_not_modified(diabetes):
    X, y = diabetes
    X_copy, y_copy = X.copy(), y.copy()
    MLKR(max_iter=3).fit(X, y)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
