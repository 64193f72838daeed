"""Tests of MMC and MMC_Supervised."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_metric.metric_learning import MMC, Constraints, MMC_Supervised
from sklearn_metric.metric_learning._mmc import _project_spectraplex

from .test_itml import _digit_pairs


@pytest.mark.parametrize("diagonal", [False, True])
def test_dissimilar_constraint_holds_and_objective_decreases(diagonal):
    X, y = load_iris(return_X_y=True)
    mmc = MMC_Supervised(diagonal=diagonal, n_constraints=80, random_state=0)
    mmc.fit(X, y)
    # Rebuild the dissimilar pairs the same way the learner drew them.
    _, _, c, d = Constraints(y).positive_negative_pairs(80, random_state=0)
    d = mmc.transform(X[c]) - mmc.transform(X[d])
    assert np.linalg.norm(d, axis=1).sum() >= 1 - 1e-8
    assert np.linalg.eigvalsh(mmc.get_mahalanobis_matrix()).min() > -1e-10
    assert mmc.objective_[-1] <= mmc.objective_[0] + 1e-12
    if diagonal:
        M = mmc.get_mahalanobis_matrix()
        assert_allclose(M, np.diag(np.diag(M)), atol=1e-12)


def test_spectraplex_projection():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(5, 5))
    A = A + A.T
    P = _project_spectraplex(A)
    w = np.linalg.eigvalsh(P)
    assert w.min() > -1e-12 and w.sum() <= 1 + 1e-12
    # Projection is idempotent and no feasible point is closer.
    assert_allclose(_project_spectraplex(P), P, atol=1e-12)
    for _ in range(20):
        Q = rng.normal(size=(5, 5))
        Q = Q @ Q.T
        Q /= np.trace(Q) * 1.5
        assert np.linalg.norm(A - P) <= np.linalg.norm(A - Q) + 1e-12


def test_convergence_warning():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        MMC_Supervised(max_iter=1, tol=0.0, random_state=0).fit(X, y)


def test_needs_both_kinds_of_pairs():
    with pytest.raises(ValueError, match="dissimilar"):
        MMC().fit(np.random.default_rng(0).random((4, 2, 3)), [1, 1, 1, 1])


def test_weakly_supervised_digits_pairs_accuracy():
    X, (train, ytrain), (test, ytest) = _digit_pairs()
    mmc = MMC(preprocessor=X).fit(train, ytrain)
    assert np.mean(mmc.predict(test) == ytest) >= 0.75


def test_clone_pickle_cross_val_on_pairs():
    X, (train, ytrain), _ = _digit_pairs(n_train=300, n_constraints=150)
    mmc = MMC(preprocessor=X, max_iter=30)
    fitted = clone(mmc).fit(train, ytrain)
    restored = pickle.loads(pickle.dumps(fitted))
    assert_allclose(restored.predict(train), fitted.predict(train))
    assert cross_val_score(mmc, train, ytrain, cv=3).mean() > 0.7
    GridSearchCV(mmc, {"diagonal": [False, True]}, cv=3).fit(train, ytrain)
