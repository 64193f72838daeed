"""Tests of NCA: the softmax kernel, the objective, the gradient and the API."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from sklearn_metric._kernels._threads import parallel_section
from sklearn_metric.metric_learning import NCA
from sklearn_metric.metric_learning._kernels import _softmax as ks

from ._oracles import softmax_loss_grad_numpy

NCA_CODE = ks.NCA_OBJECTIVE

# Short fits stop at max_iter on purpose; the tests that are about the warning
# catch it with pytest.warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:NCA did not converge:sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _random_problem(n_samples=60, n_features=5, n_components=3, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = rng.randint(n_classes, size=n_samples).astype(np.int64)
    L = rng.randn(n_components, n_features)
    return X, y, L


def _loss_grad(X, y, L, n_threads=2):
    with parallel_section(n_threads, limit_blas=True):
        return ks.softmax_loss_grad(X, L, y, np.zeros(X.shape[0]), NCA_CODE)


def _nca_objective_by_definition(X, y, L):
    """sum_i p_i with p_ij = exp(-d_ij) / sum_{k != i} exp(-d_ik), no shift."""
    Z = X @ L.T
    total = 0.0
    for i in range(X.shape[0]):
        d = ((Z - Z[i]) ** 2).sum(axis=1)
        k = np.exp(-d)
        k[i] = 0.0
        total += k[y == y[i]].sum() / k.sum()
    return total


# ----------------------------------------------------------------- the kernel


@pytest.mark.parametrize("scale", [0.2, 1.0, 4.0])
def test_kernel_matches_numpy_twin(scale):
    # Small scales give dense softmax rows (the GEMM path), large ones rows
    # that are mostly cut off (the sparse path).
    X, y, L = _random_problem(n_samples=80, n_features=6, n_components=4)
    L = scale * L
    loss, grad, p = _loss_grad(X, y, L)
    loss_ref, grad_ref, p_ref = softmax_loss_grad_numpy(X, L, y, None, NCA_CODE)
    assert_allclose(loss, loss_ref, rtol=1e-12)
    assert_allclose(grad, grad_ref, rtol=1e-9, atol=1e-11 * np.abs(grad_ref).max())
    assert_allclose(p, p_ref, rtol=1e-10, atol=1e-14)


def test_kernel_float32_is_close_to_float64():
    X, y, L = _random_problem()
    loss64, grad64, _ = _loss_grad(X, y, L)
    loss32, grad32, _ = _loss_grad(X.astype(np.float32), y, L)
    assert_allclose(loss32, loss64, rtol=1e-5)
    assert_allclose(grad32, grad64, rtol=1e-3, atol=1e-4 * np.abs(grad64).max())


def test_kernel_objective_by_definition():
    X, y, L = _random_problem(n_samples=40)
    L = 0.5 * L
    loss, _, _ = _loss_grad(X, y, L)
    assert_allclose(-loss, _nca_objective_by_definition(X, y, L), rtol=1e-12)


def test_kernel_layout_and_threads_do_not_change_the_result():
    X, y, L = _random_problem(n_samples=97)
    Z = np.ascontiguousarray(X @ L.T)
    targets = np.zeros(X.shape[0])
    reference = ks.softmax_chunks(X, Z, y, targets, NCA_CODE, 97, 1)
    for chunk_rows, n_groups in [(7, 3), (16, 7), (50, 2)]:
        with parallel_section(2, limit_blas=True):
            result = ks.softmax_chunks(X, Z, y, targets, NCA_CODE, chunk_rows, n_groups)
        for got, expected in zip(result, reference):
            assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # With the layout fixed by n alone, the thread count changes no bit.
    loss1, grad1, _ = _loss_grad(X, y, L, n_threads=1)
    loss2, grad2, _ = _loss_grad(X, y, L, n_threads=2)
    assert loss1 == loss2
    assert_array_equal(grad1, grad2)


def test_kernel_softmax_exponential_matches_math_exp():
    shifted = np.concatenate(
        [
            np.linspace(0.0, ks.SOFTMAX_CUTOFF, 5001),
            [ks.SOFTMAX_CUTOFF + 1e-9, 100.0, 1e4, np.inf],
        ]
    )
    weights = np.empty_like(shifted)
    ks._softmax_weights(shifted, 0.0, weights, np.empty(shifted.shape[0], np.int64))
    expected = np.where(shifted <= ks.SOFTMAX_CUTOFF, np.exp(-shifted), 0.0)
    assert_allclose(weights, expected, rtol=4e-16, atol=0)


def test_kernel_duplicates_and_two_samples():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [3.0, 1.0], [3.0, 1.0]])
    y = np.array([0, 0, 1, 1])
    loss, grad, p = _loss_grad(X, y, np.eye(2))
    expected = 1.0 / (1.0 + 2.0 * np.exp(-9.0))  # the duplicate at 0, two at 9
    assert_allclose(p, expected, rtol=1e-14)
    assert_allclose(loss, -4.0 * expected, rtol=1e-14)
    assert np.all(np.isfinite(grad))
    # Far apart (beyond the cutoff): the other class gets exactly no weight.
    loss, grad, p = _loss_grad(X, y, 10.0 * np.eye(2))
    assert_array_equal(p, 1.0)
    assert_array_equal(grad, 0.0)
    loss, grad, p = _loss_grad(X[1:3], y[1:3], np.eye(2))
    assert_allclose(p, 0.0)
    assert np.all(np.isfinite(grad))


# ------------------------------------------------------ objective and gradient


def test_objective_and_gradient_equal_scikit_learn(iris):
    X, y = iris
    rng = np.random.RandomState(1)
    L = rng.randn(3, X.shape[1])
    reference = NeighborhoodComponentsAnalysis()
    reference.n_iter_ = 1  # skips its verbose header
    same_class = y[:, None] == y[None, :]
    loss_ref, grad_ref = reference._loss_grad_lbfgs(L.ravel(), X, same_class, -1.0)
    loss, grad, _ = _loss_grad(X, y, L)
    assert_allclose(loss, loss_ref, rtol=1e-12)
    assert_allclose(grad.ravel(), grad_ref, rtol=1e-9, atol=1e-12)


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


def test_same_path_as_scikit_learn(iris):
    # Same objective, gradient, start and L-BFGS-B settings: the same map.
    X, y = iris
    ours = NCA(init="identity", max_iter=5, tol=1e-5).fit(X, y)
    theirs = NeighborhoodComponentsAnalysis(init="identity", max_iter=5, tol=1e-5).fit(
        X, y
    )
    assert_allclose(ours.components_, theirs.components_, rtol=1e-6, atol=1e-8)


def test_objective_at_least_as_good_as_scikit_learn(iris):
    X, y = iris
    ours = NCA(init="pca", max_iter=30, random_state=0).fit(X, y)
    theirs = NeighborhoodComponentsAnalysis(
        init="pca", max_iter=30, random_state=0
    ).fit(X, y)
    loss_theirs = _loss_grad(X, y, theirs.components_)[0]
    assert ours.objective_[-1] <= loss_theirs + 1e-6 * abs(loss_theirs)


# -------------------------------------------------------------------- fitting


def test_simple_example():
    # scikit-learn's test_simple_example: in the learned space the nearest
    # neighbour of every point is the other point of its class.
    X = np.array([[0, 0], [0, 1], [2, 0], [2, 1]])
    y = np.array([1, 0, 1, 0])
    nca = NCA(n_components=2, init="identity", random_state=42).fit(X, y)
    X_t = nca.transform(X)
    assert_array_equal(pairwise_distances(X_t).argsort()[:, 1], [2, 3, 0, 1])


def test_objective_trace_decreases_and_iris_accuracy(iris):
    X, y = iris
    nca = NCA(max_iter=50).fit(X, y)
    assert nca.objective_.shape == (nca.n_iter_ + 1,)
    assert np.all(np.diff(nca.objective_) <= 1e-9 * np.abs(nca.objective_[:-1]))
    assert_allclose(
        nca.objective_[-1], _loss_grad(X, y, nca.components_)[0], rtol=1e-12
    )
    # The expected leave-one-out accuracy on iris exceeds 0.95.
    assert -nca.objective_[-1] / X.shape[0] > 0.95
    knn = KNeighborsClassifier(n_neighbors=1)
    assert cross_val_score(knn, nca.transform(X), y, cv=5).mean() > 0.95


def test_low_dimensional_embedding_uses_lda_start(iris):
    X, y = iris
    nca = NCA(n_components=2, max_iter=20).fit(X, y)
    assert nca.components_.shape == (2, 4)
    assert nca.transform(X).shape == (150, 2)
    knn = KNeighborsClassifier(n_neighbors=3)
    assert cross_val_score(knn, nca.transform(X), y, cv=5).mean() > 0.9


def test_transform_and_metric_api(iris):
    X, y = iris
    nca = NCA(max_iter=10).fit(X, y)
    assert nca.components_.dtype == np.float64
    assert_allclose(nca.transform(X), X @ nca.components_.T)
    M = nca.get_mahalanobis_matrix()
    assert np.linalg.eigvalsh(M).min() >= -1e-10 * np.abs(M).max()
    pairs = np.stack([X[:10], X[10:20]], axis=1)
    expected = np.linalg.norm(nca.transform(X[:10]) - nca.transform(X[10:20]), axis=1)
    assert_allclose(nca.pair_distance(pairs), expected)
    metric = nca.get_metric()
    assert_allclose([metric(a, b) for a, b in pairs], expected)
    assert nca.transform(X.astype(np.float32)).dtype == np.float32
    tags = get_tags(nca)
    assert tags.transformer_tags is not None and tags.target_tags.required


def test_constant_and_collinear_features():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]  # has constant pixel columns
    X = np.hstack([X, X[:, :3] * 2.0])  # and collinear ones
    for init in ("auto", "pca", "lda", "covariance", "random"):
        nca = NCA(init=init, n_components=8, max_iter=5, random_state=0)
        with pytest.warns(ConvergenceWarning):
            nca.fit(X / 16.0, y)
        assert np.all(np.isfinite(nca.components_))
        assert np.all(np.isfinite(nca.objective_))


def test_pipeline_grid_search(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(), NCA(max_iter=10), KNeighborsClassifier(n_neighbors=3)
    )
    grid = GridSearchCV(pipe, {"nca__n_components": [2, 4]}, cv=3).fit(X, y)
    assert grid.best_score_ > 0.9


# ---------------------------------------------------- parameters and errors


@pytest.mark.parametrize(
    "params, X_change, message",
    [
        ({"n_components": 5}, None, "n_components"),
        ({"init": np.ones((2, 3))}, None, "init array"),
        ({"init": "lda", "n_components": 3}, None, "lda"),
        ({"tol": -1.0}, None, "tol"),
        ({"max_iter": 0}, None, "max_iter"),
        ({"init": "bogus"}, None, "init"),
        ({}, "nan", "NaN"),
        ({}, "inf", "infinity"),
    ],
)
def test_bad_input(iris, params, X_change, message):
    X, y = iris
    X = X.copy()
    if X_change == "nan":
        X[0, 0] = np.nan
    elif X_change == "inf":
        X[0, 0] = np.inf
    with pytest.raises(ValueError, match=message):
        NCA(**params).fit(X, y)


def test_one_class_and_few_samples(iris):
    X, y = iris
    with pytest.raises(ValueError, match="at least 2 classes"):
        NCA().fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="sample"):
        NCA().fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="Unknown label type"):
        NCA().fit(X, y + 0.5)


def test_convergence_warning(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        NCA(max_iter=1).fit(X, y)


def test_random_state_reproducibility(iris):
    X, y = iris
    a = NCA(init="random", max_iter=10, random_state=3).fit(X, y)
    b = NCA(init="random", max_iter=10, random_state=3).fit(X, y)
    c = NCA(init="random", max_iter=10, random_state=4).fit(X, y)
    assert_array_equal(a.components_, b.components_)
    assert not np.allclose(a.components_, c.components_)


def test_n_jobs_does_not_change_the_result(iris):
    X, y = iris
    a = NCA(max_iter=15, n_jobs=1).fit(X, y)
    b = NCA(max_iter=15, n_jobs=2).fit(X, y)
    assert_array_equal(a.components_, b.components_)


def test_warm_start(iris):
    X, y = iris
    nca = NCA(max_iter=3, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        nca.fit(X, y)
    first = nca.components_.copy()
    last = nca.objective_[-1]
    with pytest.warns(ConvergenceWarning):
        nca.fit(X, y)
    assert_allclose(nca.objective_[0], last, rtol=1e-12)
    assert nca.objective_[-1] < last
    assert not np.allclose(nca.components_, first)
    with pytest.raises(ValueError, match="warm_start"):
        nca.fit(X[:, :3], y)
    cold = clone(nca).set_params(warm_start=False).fit(X[:, :3], y)
    assert cold.components_.shape == (3, 3)


def test_callback_and_verbose(iris, capsys):
    X, y = iris
    seen = []
    NCA(
        max_iter=5,
        tol=0.0,
        verbose=1,
        callback=lambda L, n_iter: seen.append((L.shape, n_iter)),
    ).fit(X, y)
    assert [n for _, n in seen] == list(range(1, len(seen) + 1))
    assert all(shape == (4, 4) for shape, _ in seen)
    out = capsys.readouterr().out
    assert "[NCA] iteration" in out and "training took" in out


def test_input_is_not_modified(iris):
    X, y = iris
    X_copy, y_copy = X.copy(), y.copy()
    init = np.eye(4)
    NCA(init=init, max_iter=3, tol=1.0).fit(X, y)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert_array_equal(init, np.eye(4))
