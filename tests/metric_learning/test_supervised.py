"""The shared supervised front-end and the metric-learn drop-in behaviours."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sklearn_metric.metric_learning import (
    LFDA,
    LMNN,
    MLKR,
    NCA,
    RCA,
    SCML,
    Covariance,
    ITML_Supervised,
    LSML_Supervised,
    MMC_Supervised,
    RCA_Supervised,
    SCML_Supervised,
    SDML_Supervised,
    generate_knntriplets,
)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


SUPERVISED = [
    ITML_Supervised(n_constraints=60, max_iter=50, random_state=0),
    SDML_Supervised(
        balance_param=1e-3, n_constraints=60, prior="covariance", random_state=0
    ),
    MMC_Supervised(n_constraints=60, max_iter=20, random_state=0),
    LSML_Supervised(n_constraints=60, max_iter=50, random_state=0),
    SCML_Supervised(n_basis=12, max_iter=300, output_iter=100, random_state=0),
    RCA_Supervised(random_state=0),
    NCA(max_iter=20, random_state=0),
    MLKR(max_iter=20, random_state=0),
    LMNN(max_iter=20, random_state=0),
    LFDA(),
    Covariance(),
]


@pytest.mark.parametrize("learner", SUPERVISED, ids=lambda e: type(e).__name__)
def test_index_preprocessor_gives_the_same_model(learner):
    # metric-learn's contract: fitting on 1-D indices into a preprocessor is
    # fitting on the rows they select, and transform takes indices too.
    X, y = _iris()
    y_arg = y.astype(float) if isinstance(learner, MLKR) else y
    plain = learner.__class__(**learner.get_params()).fit(X, y_arg)
    indexed = learner.__class__(**{**learner.get_params(), "preprocessor": X})
    indexed.fit(np.arange(X.shape[0]), y_arg)
    assert_allclose(indexed.components_, plain.components_)
    assert_allclose(indexed.transform(np.array([3, 70])), plain.transform(X[[3, 70]]))
    # The fitted preprocessor also serves index pairs.
    assert_allclose(
        indexed.pair_distance(np.array([[0, 1], [5, 100]])),
        plain.pair_distance(X[[[0, 1], [5, 100]]]),
    )


@pytest.mark.parametrize(
    "learner",
    [
        ITML_Supervised(n_constraints=30, max_iter=20, random_state=0),
        SDML_Supervised(balance_param=1e-3, n_constraints=30, random_state=0),
        MMC_Supervised(n_constraints=30, max_iter=20, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_pair_front_ends_honour_the_preprocessor(learner):
    X, y = _iris()
    learner.set_params(preprocessor=X).fit(X, y)
    assert learner.preprocessor_ is not None
    assert_allclose(
        learner.pair_distance(np.array([[0, 120]])),
        learner.pair_distance(X[None, [0, 120]]),
    )


def test_index_preprocessor_rejects_out_of_range_indices():
    X, y = _iris()
    with pytest.raises(ValueError, match="rows"):
        NCA(preprocessor=X, max_iter=5).fit(np.array([0, 1, 500]), y[:3])


def test_negative_labels_are_unknown():
    # As metric-learn's Constraints: a -1 sample enters no constraint.
    X, y = _iris()
    partial = y.copy()
    partial[::3] = -1
    rca = RCA_Supervised(random_state=0).fit(X, partial)
    assert np.all(rca.chunks_[partial == -1] == -1)
    assert_array_equal(rca.classes_, [0, 1, 2])
    # The same model as RCA fitted on the chunklets it drew.
    assert_allclose(RCA().fit(X, rca.chunks_).components_, rca.components_)
    itml = ITML_Supervised(n_constraints=40, max_iter=5, random_state=0)
    itml.fit(X, partial)
    known = np.flatnonzero(partial >= 0)
    reference = ITML_Supervised(n_constraints=40, max_iter=5, random_state=0)
    # Unknown samples change only the row numbering, so on the known rows
    # alone the drawn pairs, hence the model, are the same.
    reference.fit(X[known], partial[known])
    assert_allclose(itml.components_, reference.components_)


def test_scml_triplet_diffs_draws_until_n_basis():
    # 1-feature triplets give one direction per draw, some of them zero: the
    # bases are drawn until there are n_basis of them.
    X, y = load_iris(return_X_y=True)
    X = X[:, :1]
    triplets = generate_knntriplets(X, y, 3, 10)
    scml = SCML(n_basis=200, basis="triplet_diffs", max_iter=10, output_iter=5)
    scml.set_params(preprocessor=X, random_state=0).fit(triplets)
    assert scml.basis_.shape == (200, 1)


def test_lsml_rejects_a_numerically_singular_prior():
    X, y = _iris()
    # Smallest eigenvalue 3e-16 (the case), which a Cholesky
    # factorisation may still accept; ITML and SDML reject it.
    Q, _ = np.linalg.qr(np.random.RandomState(0).normal(size=(4, 4)))
    prior = (Q * [3e-16, 1.0, 2.0, 3.0]) @ Q.T
    prior = (prior + prior.T) / 2
    with pytest.raises(ValueError, match="positive definite"):
        LSML_Supervised(prior=prior, n_constraints=20, random_state=0).fit(X, y)


def test_lsml_supervised_counts_an_iteration_at_an_optimal_start():
    # Two far-apart blobs: the identity prior already orders every quadruplet.
    X = np.r_[np.zeros((10, 2)), np.full((10, 2), 100.0)]
    X = X + np.random.RandomState(0).normal(scale=0.01, size=X.shape)
    y = np.repeat([0, 1], 10)
    lsml = LSML_Supervised(random_state=0).fit(X, y)
    assert lsml.n_iter_ == 1
    assert_allclose(lsml.components_, np.eye(2))
    assert lsml.objective_[0] == lsml.objective_[-1]


def test_score_pairs_is_a_deprecated_distance():
    X, y = _iris()
    nca = NCA(max_iter=5, random_state=0).fit(X, y)
    pairs = X[[[0, 1], [2, 100]]]
    with pytest.warns(FutureWarning, match="pair_distance"):
        scores = nca.score_pairs(pairs)
    assert_allclose(scores, nca.pair_distance(pairs))


def test_lmnn_warm_start_raises_on_a_shape_mismatch():
    X, y = _iris()
    lmnn = LMNN(n_components=2, max_iter=3, warm_start=True, random_state=0)
    lmnn.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        lmnn.fit(X[:, :3], y)
    with pytest.raises(ValueError, match="n_components"):
        lmnn.set_params(n_components=3).fit(X, y)
