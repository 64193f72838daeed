"""HNSWNeighborsTransformer as the over-samplers' neighbours object.

The reference is the int path, our exact kernels: with ``ef`` at least the
number of rows indexed the index searches exhaustively, so every sampler must
resample bit for bit as with the int (same neighbour lists, ties by index, then
the same draws). With the default ``ef`` the search is approximate; on 5,000
rows the tests check what must hold whatever neighbours it finds, and that it
finds nearly all the true ones.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification

from sklearn_metric.distances import knn_search
from sklearn_metric.metric_learning import NCA
from sklearn_metric.neighbors import HNSWNeighborsTransformer
from sklearn_metric.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
)
from sklearn_metric.over_sampling._smote_nc import mixed_neighbors


def _imbalanced(n_samples=600, n_features=6, class_sep=0.8, seed=0):
    return make_classification(
        n_samples,
        n_features=n_features,
        n_informative=n_features - 2,
        n_redundant=0,
        n_classes=3,
        weights=[0.8, 0.15, 0.05],
        class_sep=class_sep,
        random_state=seed,
    )


def _hnsw(k, n_rows=None, **params):
    """The object for ``k`` neighbours; exhaustive when ``n_rows`` is given."""
    if n_rows is not None:
        params["ef"] = n_rows
    return HNSWNeighborsTransformer(n_neighbors=k + 1, random_state=0, **params)


class ExactNeighbors(BaseEstimator):
    """A minimal exact neighbours object: knn_search, ties by index."""

    def __init__(self, n_neighbors=5):
        self.n_neighbors = n_neighbors

    def fit(self, X, y=None):
        self.X_ = np.asarray(X)
        return self

    def kneighbors(self, X, n_neighbors=None, return_distance=True):
        distances, indices = knn_search(
            np.asarray(X), self.X_, n_neighbors or self.n_neighbors
        )
        return (distances, indices) if return_distance else indices


@pytest.fixture(
    scope="module",
    params=["float64", "float32", "overlapping"],
)
def dataset(request):
    if request.param == "overlapping":
        # Classes that overlap: most minority rows are in danger.
        return _imbalanced(class_sep=0.3, seed=1)
    X, y = _imbalanced()
    return X.astype(request.param), y


@pytest.fixture(scope="module")
def nca():
    X, y = _imbalanced()
    return NCA(n_components=4, max_iter=50, random_state=0).fit(X, y)


def _kmeans_smote_params():
    return {
        "k_neighbors": 3,
        "kmeans_estimator": 4,
        "cluster_balance_threshold": 0.05,
    }


# (sampler, parameters); every "*_neighbors" parameter is replaced in turn.
SAMPLERS = [
    (SMOTE, {"k_neighbors": 5}),
    (ADASYN, {"n_neighbors": 5}),
    (BorderlineSMOTE, {"k_neighbors": 5, "m_neighbors": 10}),
    (BorderlineSMOTE, {"k_neighbors": 5, "m_neighbors": 10, "kind": "borderline-2"}),
    (SVMSMOTE, {"k_neighbors": 5, "m_neighbors": 10}),
    (KMeansSMOTE, _kmeans_smote_params()),
]


def _sampler_id(make, params):
    return make.__name__ + (f"-{params['kind']}" if "kind" in params else "")


def _neighbour_keys(params):
    return [key for key in params if key.endswith("_neighbors")]


def _replacements():
    """Each neighbours parameter alone, and all of them together."""
    cases = []
    for make, params in SAMPLERS:
        keys = _neighbour_keys(params)
        choices = [[key] for key in keys] + ([keys] if len(keys) > 1 else [])
        label = _sampler_id(make, params)
        for replaced in choices:
            cases.append(
                pytest.param(make, params, replaced, id=f"{label}-{'+'.join(replaced)}")
            )
    return cases


def _fitted_attribute(key):
    return {"k_neighbors": "nn_k_", "m_neighbors": "nn_m_"}.get(key, "nn_")


@pytest.mark.parametrize("make, params, replaced", _replacements())
def test_exhaustive_hnsw_resamples_as_the_int_path(dataset, make, params, replaced):
    X, y = dataset
    X_ref, y_ref = make(random_state=0, **params).fit_resample(X, y)
    objects = {key: _hnsw(params[key], len(X)) for key in replaced}
    sampler = make(random_state=0, **{**params, **objects})
    X_res, y_res = sampler.fit_resample(X, y)
    # The same neighbours give the same draws and the same arithmetic.
    assert_array_equal(X_res, X_ref)
    assert_array_equal(y_res, y_ref)
    assert X_res.dtype == X.dtype
    for key, given in objects.items():
        fitted = getattr(sampler, _fitted_attribute(key))
        assert isinstance(fitted, HNSWNeighborsTransformer) and fitted is not given
        assert hasattr(fitted, "index_") and not hasattr(given, "index_")


def test_a_narrow_search_is_seen():
    # The control of the test above: a poor graph searched narrowly misses
    # neighbours, and the output shows it.
    X, y = _imbalanced(n_features=16)
    X_ref, _ = SMOTE(random_state=0).fit_resample(X, y)
    narrow = _hnsw(5, M=2, ef_construction=2, ef=1)
    X_res, _ = SMOTE(k_neighbors=narrow, random_state=0).fit_resample(X, y)
    assert X_res.shape == X_ref.shape
    assert not np.array_equal(X_res, X_ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("make, params, replaced", _replacements())
def test_learned_metric_goes_to_the_transformer(nca, make, params, replaced):
    X, y = _imbalanced()
    X_ref, y_ref = make(random_state=0, metric=nca, **params).fit_resample(X, y)
    X_plain, _ = make(random_state=0, **params).fit_resample(X, y)
    assert not np.array_equal(X_ref, X_plain)  # the metric changes the output
    objects = {key: _hnsw(params[key], len(X), metric=nca) for key in replaced}
    # An object parameter ignores the sampler's metric; the int parameters
    # left (and KMeansSMOTE's cluster sparsity) still use it.
    keeps_metric = replaced != _neighbour_keys(params) or make is KMeansSMOTE
    sampler_metric = {"metric": nca} if keeps_metric else {}
    sampler = make(random_state=0, **{**params, **objects}, **sampler_metric)
    X_res, y_res = sampler.fit_resample(X, y)
    assert_array_equal(X_res, X_ref)
    assert_array_equal(y_res, y_ref)
    for key in replaced:
        # The fitted learner reaches the clone that searched, still fitted.
        assert getattr(sampler, _fitted_attribute(key)).metric is nca


def test_the_learners_metric_callable_serves_as_well(nca):
    X, y = _imbalanced()
    X_ref, _ = SMOTE(metric=nca, random_state=0).fit_resample(X, y)
    neighbours = _hnsw(5, len(X), metric=nca.get_metric())
    X_res, _ = SMOTE(k_neighbors=neighbours, random_state=0).fit_resample(X, y)
    assert_array_equal(X_res, X_ref)


def _mixed(n_samples, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n_samples) < 0.15).astype(int)
    y[rng.rand(n_samples) < 0.05] = 2
    X = np.column_stack(
        [
            rng.randn(n_samples),
            3.0 * rng.randn(n_samples),
            rng.randint(0, 4, n_samples),
            rng.randn(n_samples),
            rng.randint(0, 3, n_samples),
        ]
    )
    return X, y, [2, 4]


def test_smotenc_exhaustive_hnsw_is_the_mixed_distance():
    # SMOTE-NC's distance is not one the index knows, but the sampler hands an
    # object the Euclidean embedding [continuous, one-hot * median_std / sqrt(2)]
    # whose squared distance is the mixed one: a mismatch costs median_std**2.
    # Only the rounding of that penalty differs, which could reorder rows whose
    # mixed distances tie to the last bit; continuous features rule that out.
    X, y, categorical = _mixed(600)
    X_ref, y_ref = SMOTENC(categorical, random_state=0).fit_resample(X, y)
    sampler = SMOTENC(categorical, k_neighbors=_hnsw(5, len(X)), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert_array_equal(X_res, X_ref)
    assert_array_equal(y_res, y_ref)
    # Three continuous features and one-hot columns of 4 + 3 categories.
    assert sampler.nn_k_.n_features_in_ == 3 + 7


def _categorical(n_samples, n_features, n_values, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.rand(n_samples) < 0.15).astype(int)
    y[rng.rand(n_samples) < 0.05] = 2
    values = np.array(list("abcdefgh")[:n_values], dtype=object)
    X = rng.choice(values, size=(n_samples, n_features))
    # A class-dependent feature, so that the value difference metric varies.
    X[y == 1, 0] = rng.choice(values[:2], size=np.count_nonzero(y == 1))
    return X, y


@pytest.mark.parametrize("n_values", [3, 5])
def test_smoten_object_searches_the_distance_rows(n_values):
    # SMOTEN's int path searches under the Value Difference Metric in a kernel;
    # an object gets, as in imbalanced-learn, the rows of the class's VDM
    # distance matrix as features and searches them with its own (Euclidean)
    # metric. No object reproduces the int path: the VDM is a sum of squared
    # L1 distances between class-probability vectors, no metric of the index.
    # What is meaningful is that the exhaustive HNSW search of those rows is
    # the exact one, also with the many duplicate rows of few categories.
    X, y = _categorical(600, 3 if n_values == 3 else 4, n_values)
    exact = SMOTEN(k_neighbors=ExactNeighbors(6), random_state=0)
    X_ref, y_ref = exact.fit_resample(X, y)
    sampler = SMOTEN(k_neighbors=_hnsw(5, len(X)), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert_array_equal(X_res, X_ref)
    assert_array_equal(y_res, y_ref)
    assert sampler.nn_k_.n_features_in_ == np.count_nonzero(y == 2)
    if n_values == 5:
        X_int, _ = SMOTEN(k_neighbors=5, random_state=0).fit_resample(X, y)
        assert not np.array_equal(X_int, X_ref)


# -- default ef on 5,000 rows ------------------------------------------------------


@pytest.fixture(scope="module")
def large():
    # 24 informative features: hard enough that the default ef is approximate.
    return _imbalanced(5_000, n_features=26)


def _search_domain(sampler, y, row):
    """Rows among which ``row``'s partners are searched by the sampler."""
    if getattr(sampler, "kind", None) == "borderline-2":
        return np.flatnonzero(np.arange(y.size) != row)
    same = y == y[row]
    if isinstance(sampler, KMeansSMOTE):
        clusters = sampler.kmeans_estimator_.labels_
        same &= clusters == clusters[row]
    same[row] = False
    return np.flatnonzero(same)


def _partner_recall(X, y, sampler, k):
    """Share of the synthetic rows whose partner is an exact k-neighbour."""
    parents = sampler.synthetic_pairs_["parents"]
    exact = {}
    for row in np.unique(parents[:, 0]):
        domain = _search_domain(sampler, y, row)
        _, found = knn_search(X[row : row + 1], X[domain], k)
        exact[row] = set(domain[found[0]].tolist())
    return np.mean([partner in exact[row] for row, partner in parents])


@pytest.mark.parametrize(
    "make, params", SAMPLERS, ids=[_sampler_id(*sampler) for sampler in SAMPLERS]
)
def test_default_ef_on_5000_rows(large, make, params):
    X, y = large
    objects = {key: _hnsw(params[key]) for key in _neighbour_keys(params)}
    sampler = make(random_state=0, **{**params, **objects})
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    assert_array_equal(X_res[:n], X)
    a, b = sampler.synthetic_pairs_["parents"].T
    steps = sampler.synthetic_pairs_["steps"]
    counts = np.bincount(y_res)
    if make is ADASYN:
        # ADASYN's counts follow the majority share among each row's
        # neighbours, and their rounding: they match what it recorded.
        drawn = np.bincount(a, minlength=n)
        for label, (rows, per_row) in sampler.n_synthetic_per_row_.items():
            assert_array_equal(drawn[rows], per_row)
            assert counts[label] == np.count_nonzero(y == label) + per_row.sum()
            assert abs(counts[label] - counts[0]) <= 0.03 * counts[0]
    elif make is KMeansSMOTE:
        # Each kept cluster rounds its share up, independently of neighbours.
        X_int, y_int = make(random_state=0, **params).fit_resample(X, y)
        assert_array_equal(counts, np.bincount(y_int))
    else:
        assert_array_equal(counts, [np.count_nonzero(y == 0)] * 3)
    assert_array_equal(y[a], y_res[n:])
    assert_allclose(X_res[n:], X[a] + steps[:, None] * (X[b] - X[a]), atol=1e-12)
    same_class = y[b] == y[a]
    if getattr(sampler, "kind", None) == "borderline-2":
        # Towards a row of another class, at most halfway.
        assert np.all(steps[~same_class] < 0.5)
    else:
        assert np.all(same_class)
    low = -sampler.out_step if make is SVMSMOTE else 0.0
    assert np.all((steps >= low) & (steps < 1))
    k = params.get("k_neighbors", params.get("n_neighbors"))
    assert _partner_recall(X, y, sampler, k) >= 0.95


def test_smotenc_default_ef_on_5000_rows():
    X, y, categorical = _mixed(5_000)
    sampler = SMOTENC(categorical, k_neighbors=_hnsw(5), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    assert_array_equal(np.bincount(y_res), [np.count_nonzero(y == 0)] * 3)
    continuous = [0, 1, 3]
    a, b = sampler.synthetic_pairs_["parents"].T
    steps = sampler.synthetic_pairs_["steps"]
    assert np.all((y[a] == y_res[n:]) & (y[b] == y[a]))
    on_segment = X[a][:, continuous] + steps[:, None] * (
        X[b][:, continuous] - X[a][:, continuous]
    )
    assert_allclose(X_res[n:, continuous], on_segment, atol=1e-12)
    for column in categorical:
        assert set(X_res[n:, column]) <= set(X[:, column])
    # Partners among the exact neighbours under the mixed distance.
    hits = []
    for label in (1, 2):
        rows = np.flatnonzero(y == label)
        median_std = sampler.median_std_[label]
        exact = mixed_neighbors(
            X[rows][:, continuous],
            X[rows][:, categorical].astype(np.int64),
            median_std**2,
            5,
        )
        position = np.searchsorted(rows, a[y[a] == label])
        partners = np.searchsorted(rows, b[y[a] == label])
        hits.append(np.any(exact[position] == partners[:, None], axis=1))
    assert np.mean(np.concatenate(hits)) >= 0.95


def test_smoten_default_ef_on_5000_rows():
    X, y = _categorical(5_000, 6, 5)
    sampler = SMOTEN(k_neighbors=_hnsw(5), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n = len(X)
    assert_array_equal(np.bincount(y_res), [np.count_nonzero(y == 0)] * 3)
    for column in range(X.shape[1]):
        assert set(X_res[n:, column]) <= set(X[:, column])
    # Against the exact search of the same distance rows: the same parent
    # rows are drawn, and nearly every vote comes out the same.
    X_exact, _ = SMOTEN(k_neighbors=ExactNeighbors(6), random_state=0).fit_resample(
        X, y
    )
    same_rows = np.all(X_res[n:] == X_exact[n:], axis=1)
    assert np.mean(same_rows) >= 0.95
