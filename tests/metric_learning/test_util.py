"""Tests of the machinery shared by the Mahalanobis learners (``_util``)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from sklearn_metric.metric_learning._util import (
    check_classification_labels,
    check_n_components,
    components_from_metric,
    initialize_components,
    lbfgs_minimize,
    project_psd,
    whitening_map,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


# initialize_components


@pytest.mark.parametrize(
    "init, n_components",
    [
        (init, n)
        for init in ["auto", "pca", "lda", "identity", "random", "covariance"]
        for n in [None, 2]
        if not (init == "lda" and n is None)
    ],  # lda: at most 2
)
def test_init_shapes_and_dtype(iris, init, n_components):
    X, y = iris
    L = initialize_components(init, X, y, n_components=n_components, random_state=0)
    expected_rows = 4 if n_components is None else n_components
    assert L.shape == (expected_rows, 4)
    assert L.dtype == np.float64 and L.flags.c_contiguous
    assert np.all(np.isfinite(L))


def test_init_lda_needs_few_components_and_labels(iris):
    X, y = iris
    with pytest.raises(ValueError, match="at most min"):
        initialize_components("lda", X, y)
    with pytest.raises(ValueError, match="init='lda' needs class labels"):
        initialize_components("lda", X, n_components=2)


def test_init_values(iris):
    X, y = iris
    assert_array_equal(
        initialize_components("identity", X, n_components=3), np.eye(3, 4)
    )
    assert_allclose(
        initialize_components("pca", X, n_components=2, random_state=0),
        PCA(n_components=2, random_state=0).fit(X).components_,
    )
    assert_allclose(
        initialize_components("covariance", X, n_components=3), whitening_map(X, 3)
    )
    first = initialize_components("random", X, random_state=5)
    assert_array_equal(initialize_components("random", X, random_state=5), first)
    assert not np.allclose(initialize_components("random", X, random_state=6), first)


def test_init_auto_rule(iris):
    X, y = iris
    # n_components <= n_classes - 1 with labels: lda.
    assert_allclose(
        initialize_components("auto", X, y, n_components=2),
        initialize_components("lda", X, y, n_components=2),
    )
    # Fewer components than features, no labels: pca.
    assert_allclose(
        initialize_components("auto", X, n_components=3, random_state=0),
        initialize_components("pca", X, n_components=3, random_state=0),
    )
    # As many components as features: identity.
    assert_array_equal(initialize_components("auto", X, y), np.eye(4))


def test_init_array(iris):
    X, _ = iris
    init = np.arange(8.0).reshape(2, 4)
    L = initialize_components(init, X)
    assert_array_equal(L, init)
    L[0, 0] = 100.0
    assert init[0, 0] == 0.0  # a copy


@pytest.mark.parametrize(
    "init, kwargs, match",
    [
        (np.ones((2, 3)), {}, r"must have shape \(n_components, 4\)"),
        (np.ones(4), {}, r"must have shape \(n_components, 4\)"),
        (np.ones((2, 4)), {"n_components": 3}, "has 2 rows but n_components=3"),
        (np.full((2, 4), np.nan), {}, "NaN or infinity"),
        ("nonsense", {}, "init must be one of"),
        ("identity", {"n_components": 5}, "n_components=5 must be at most"),
    ],
)
def test_init_errors(iris, init, kwargs, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        initialize_components(init, X, y, **kwargs)


def test_init_verbose_prints_timing(iris, capsys):
    X, y = iris
    initialize_components("pca", X, n_components=2, verbose=1)
    assert "[init] pca done in" in capsys.readouterr().out
    initialize_components("identity", X, verbose=1)
    assert capsys.readouterr().out == ""


def test_init_lda_keeps_n_components_with_collinear_class_means():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.randn(90, 4)
    for label in range(3):
        X[y == label] -= X[y == label].mean(axis=0)
        X[y == label, 0] += 3.0 * label  # means on one line
    assert initialize_components("lda", X, y, n_components=2).shape == (2, 4)


def test_check_n_components():
    assert check_n_components(None, 5) == 5
    assert check_n_components(3, 5) == 3
    with pytest.raises(ValueError, match="n_components=6 must be at most"):
        check_n_components(6, 5)


# whitening_map


def test_whitening_map_inverts_covariance(iris):
    X, _ = iris
    L = whitening_map(X)
    assert_allclose(L.T @ L, np.linalg.inv(np.cov(X, rowvar=False)), rtol=1e-6)
    assert_allclose(np.cov(X @ L.T, rowvar=False), np.eye(4), atol=1e-6)
    # Rows in order of decreasing variance of the data.
    assert_allclose(whitening_map(X, 2), L[:2])


def test_whitening_map_with_constant_feature(iris):
    X, _ = iris
    X = np.column_stack([X, np.full(X.shape[0], 2.0)])
    L = whitening_map(X)
    assert np.all(np.isfinite(L))
    # The varying features are whitened, the constant one is mapped to a
    # constant, so the training data stay finite and decorrelated.
    Z = X @ L.T
    assert np.all(np.isfinite(Z))
    C = np.cov(Z, rowvar=False)
    assert_allclose(C[:4, :4], np.eye(4), atol=1e-6)
    assert_allclose(C[4], 0.0, atol=1e-6)
    # Truncated to the top directions, the constant feature drops out.
    assert_allclose(whitening_map(X, 4)[:, 4], 0.0, atol=1e-12)


def test_whitening_map_keeps_constant_feature_out(iris):
    X, _ = iris
    X = np.column_stack([X, np.full(X.shape[0], 2.0)])
    L = whitening_map(X)
    assert np.abs(L[:, 4]).max() < 1e3


# project_psd


def test_project_psd_is_nearest_psd_by_brute_comparison():
    rng = np.random.RandomState(0)
    A = rng.randn(4, 4)
    M = (A + A.T) / 2.0
    P = project_psd(M)
    assert_allclose(P, P.T)
    assert np.linalg.eigvalsh(P).min() > -1e-12
    best = np.linalg.norm(M - P)
    # No PSD candidate is closer: random PSD matrices, and PSD perturbations
    # of the projection itself.
    for _ in range(2000):
        B = rng.randn(4, rng.randint(1, 5))
        candidate = B @ B.T * rng.uniform(0, 2)
        assert np.linalg.norm(M - candidate) >= best - 1e-12
        E = rng.randn(4, 4) * 0.1
        perturbed = P + (E + E.T) / 2.0
        if np.linalg.eigvalsh(perturbed).min() >= 0:
            assert np.linalg.norm(M - perturbed) >= best - 1e-12
    # The closed form: negative eigenvalues clipped to zero.
    values, vectors = np.linalg.eigh(M)
    assert_allclose(
        P, vectors @ np.diag(np.clip(values, 0, None)) @ vectors.T, atol=1e-12
    )


def test_project_psd_keeps_psd_and_symmetrises():
    rng = np.random.RandomState(1)
    B = rng.randn(5, 3)
    M = B @ B.T
    assert_allclose(project_psd(M), M, atol=1e-12)
    skew = rng.randn(5, 5)
    skew = skew - skew.T
    assert_allclose(project_psd(M + skew), M, atol=1e-12)


# components_from_metric


@pytest.mark.parametrize("rank", [1, 3, 5])
def test_components_from_metric_round_trip(rank):
    rng = np.random.RandomState(rank)
    B = rng.randn(5, rank)
    M = B @ B.T
    L = components_from_metric(M)
    assert L.shape == (5, 5)
    assert_allclose(L.T @ L, M, atol=1e-10)
    row_norms = np.linalg.norm(L, axis=1)
    assert np.all(np.diff(row_norms) <= 1e-12)  # decreasing eigenvalues
    assert_allclose(row_norms[rank:], 0.0, atol=1e-7)


def test_components_from_metric_accepts_rounding_below_zero():
    M = np.diag([1.0, 2.0, -1e-14])
    assert_allclose(
        components_from_metric(M).T @ components_from_metric(M),
        np.diag([1.0, 2.0, 0.0]),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "M, match",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "must be symmetric"),
        (np.diag([1.0, -1.0]), "positive semi-definite; its smallest eigenvalue"),
    ],
)
def test_components_from_metric_errors(M, match):
    with pytest.raises(ValueError, match=match):
        components_from_metric(M)


# check_classification_labels


def test_check_classification_labels_encodes():
    classes, encoded = check_classification_labels(
        np.array(["b", "a", "b", "c"]), "Learner"
    )
    assert_array_equal(classes, ["a", "b", "c"])
    assert_array_equal(encoded, [1, 0, 1, 2])


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        ([1, 1, 1], {}, "Learner needs samples of at least 2 classes; got 1 class\\."),
        ([0, 0, 1, 1, 2], {"min_classes": 4}, "at least 4 classes; got 3 classes"),
        (
            [0, 0, 0, 1, 1],
            {"min_per_class": 3},
            "at least 3 samples in every class; class np.int64\\(1\\) has 2|"
            "at least 3 samples in every class; class 1 has 2",
        ),
        ([0.5, 1.5, 0.25], {}, "Unknown label type"),
    ],
)
def test_check_classification_labels_errors(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_classification_labels(np.array(y), "Learner", **kwargs)


# lbfgs_minimize


def _quadratic(size=6, seed=0):
    rng = np.random.RandomState(seed)
    B = rng.randn(size, size)
    A = B @ B.T + size * np.eye(size)
    b = rng.randn(size)

    def loss_grad(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    return loss_grad, np.linalg.solve(A, b)


def test_lbfgs_minimize_solves_a_quadratic():
    loss_grad, solution = _quadratic()
    calls = []
    x, n_iter, trace = lbfgs_minimize(
        loss_grad,
        np.zeros((2, 3)),
        max_iter=200,
        tol=1e-10,
        estimator_name="Toy",
        callback=lambda x, i: calls.append(i),
    )
    assert x.shape == (2, 3)
    # L-BFGS-B also stops on its relative objective change (ftol), which tol
    # does not set, so the solution is accurate to about 1e-4 here.
    assert_allclose(x.ravel(), solution, rtol=1e-3)
    assert len(trace) == n_iter + 1 and trace[0] == 0.0
    assert np.all(np.diff(trace) <= 1e-12)
    assert calls == list(range(1, n_iter + 1))


def test_lbfgs_minimize_warns_when_stopped_by_max_iter():
    loss_grad, _ = _quadratic(size=20)
    with pytest.warns(
        ConvergenceWarning,
        match=r"Toy did not converge in "
        r"max_iter=2 iterations.*increase max_iter or tol",
    ):
        _, n_iter, trace = lbfgs_minimize(
            loss_grad, np.zeros(20), max_iter=2, tol=1e-12, estimator_name="Toy"
        )
    assert n_iter == 2 and len(trace) == 3
    with pytest.warns(ConvergenceWarning, match="increase n_steps or eps"):
        lbfgs_minimize(
            loss_grad,
            np.zeros(20),
            max_iter=1,
            tol=1e-12,
            estimator_name="Toy",
            max_iter_name="n_steps",
            tol_name="eps",
        )


def test_lbfgs_minimize_verbose(capsys):
    loss_grad, _ = _quadratic()
    with pytest.warns(ConvergenceWarning):
        lbfgs_minimize(
            loss_grad,
            np.zeros(6),
            max_iter=3,
            tol=1e-12,
            estimator_name="Toy",
            verbose=1,
        )
    assert "[Toy] iteration    1: objective" in capsys.readouterr().out


def test_lbfgs_minimize_restarts_after_a_stall():
    # A large constant makes L-BFGS-B's relative-reduction test (ftol) stop it
    # while the gradient of this badly conditioned quadratic is still large.
    scales = np.logspace(0, 4, 20)

    def loss_grad(x):
        return 1e7 + 0.5 * np.sum(scales * x * x), scales * x

    x0 = np.ones(20)
    plain = minimize(loss_grad, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-5})
    assert "RELATIVE REDUCTION" in plain.message
    assert np.abs(plain.jac).max() > 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        x, n_iter, trace = lbfgs_minimize(
            loss_grad, x0, max_iter=1000, tol=1e-5, estimator_name="Toy"
        )
    # The restarts go on from the stall: more iterations, a lower objective.
    assert n_iter > plain.nit
    assert loss_grad(x)[0] < plain.fun
    assert len(trace) == n_iter + 1 and trace[-1] == loss_grad(x)[0]
    # They stay within max_iter, and running out of it still warns.
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        _, n_iter, _ = lbfgs_minimize(
            loss_grad, x0, max_iter=plain.nit + 2, tol=1e-5, estimator_name="Toy"
        )
    assert n_iter <= plain.nit + 2
