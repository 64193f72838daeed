"""Neighbour parameters given as a nearest-neighbours object, as in imblearn."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import MiniBatchKMeans
from sklearn.neighbors import NearestNeighbors

from sklearn_metric.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
)


def _data():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(80, 2), rng.randn(25, 2) * 0.8 + 1.0]
    y = np.r_[np.zeros(80, int), np.ones(25, int)]
    return X, y


@pytest.mark.parametrize(
    "make, params",
    [
        (SMOTE, {"k_neighbors": 4}),
        (BorderlineSMOTE, {"k_neighbors": 4, "m_neighbors": 7}),
        (BorderlineSMOTE, {"k_neighbors": 4, "m_neighbors": 7, "kind": "borderline-2"}),
        (SVMSMOTE, {"k_neighbors": 4, "m_neighbors": 7}),
        (ADASYN, {"n_neighbors": 4}),
        (
            KMeansSMOTE,
            {
                "k_neighbors": 2,
                "kmeans_estimator": MiniBatchKMeans(
                    n_clusters=3, n_init=1, random_state=0
                ),
                "cluster_balance_threshold": 0.1,
            },
        ),
    ],
)
def test_object_gives_the_rows_of_the_int(make, params):
    # scikit-learn's exact search, asked for k + 1 rows (the row itself first),
    # finds the neighbours our kernels find for k: the output is the same.
    X, y = _data()
    with_int = make(random_state=0, **params)
    as_objects = {
        key: NearestNeighbors(n_neighbors=value + 1)
        for key, value in params.items()
        if key.endswith("neighbors")
    }
    with_object = make(random_state=0, **{**params, **as_objects})
    X_int, y_int = with_int.fit_resample(X, y)
    X_obj, y_obj = with_object.fit_resample(X, y)
    assert_allclose(X_obj, X_int)
    assert_array_equal(y_obj, y_int)
    for key, value in as_objects.items():
        attribute = {"k_neighbors": "nn_k_", "m_neighbors": "nn_m_"}.get(key, "nn_")
        fitted = getattr(with_object, attribute)
        assert fitted is not value and hasattr(fitted, "n_samples_fit_")
        assert getattr(with_int, attribute).n_neighbors == params[key] + 1
        assert not hasattr(value, "n_samples_fit_")


def test_object_gives_smotenc_the_mixed_distance():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randn(60), rng.randn(60), rng.randint(0, 3, 60)])
    y = np.r_[np.zeros(45, int), np.ones(15, int)]
    ours = SMOTENC([2], k_neighbors=3, random_state=0).fit_resample(X, y)
    obj = SMOTENC([2], k_neighbors=NearestNeighbors(n_neighbors=4), random_state=0)
    theirs = obj.fit_resample(X, y)
    assert_allclose(theirs[0], ours[0])
    assert hasattr(obj.nn_k_, "n_samples_fit_")


def test_object_for_smoten_searches_the_vdm_rows():
    rng = np.random.RandomState(0)
    X = rng.choice(list("abc"), size=(60, 3)).astype(object)
    y = np.r_[np.zeros(40, int), np.ones(20, int)]
    sampler = SMOTEN(k_neighbors=NearestNeighbors(n_neighbors=4), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (80, 3) and np.bincount(y_res).tolist() == [40, 40]
    assert sampler.nn_k_.n_features_in_ == 20  # the class's distance matrix rows
    assert set(X_res.ravel()) <= set("abc")


def test_object_without_enough_neighbours_is_a_clear_error():
    X, y = _data()
    with pytest.raises(ValueError, match="k_neighbors given as a nearest-neighbours"):
        SMOTE(k_neighbors=NearestNeighbors(n_neighbors=1)).fit_resample(X, y)
