"""Tests of ResampledClassifier and make_resampled_pipeline."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils import get_tags

from sklearn_metric.over_sampling import SMOTE
from sklearn_metric.pipeline import ResampledClassifier, make_resampled_pipeline
from sklearn_metric.under_sampling import ClusterComplexityUnderSampler

# Row counts seen by DuplicateMinority.fit_resample, to check what fit sees.
SEEN_ROWS = []


class DuplicateMinority(BaseEstimator):
    """Tiny deterministic over-sampler: repeat the minority rows ``times`` times."""

    def __init__(self, times=2):
        self.times = times

    def fit_resample(self, X, y, sample_weight=None):
        SEEN_ROWS.append(len(y))
        X, y = np.asarray(X), np.asarray(y)
        classes, counts = np.unique(y, return_counts=True)
        rows = np.flatnonzero(y == classes[np.argmin(counts)])
        extra = np.tile(rows, self.times - 1)
        order = np.r_[np.arange(len(y)), extra]
        if sample_weight is None:
            return X[order], y[order]
        return X[order], y[order], np.asarray(sample_weight)[order]


class DropFirstRows(BaseEstimator):
    """Sampler without sample_weight support: drop the first ``n`` rows."""

    def __init__(self, n=1):
        self.n = n

    def fit_resample(self, X, y):
        return X[self.n :], y[self.n :]


def _data(n_samples=300, seed=0):
    return make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        weights=[0.85],
        random_state=seed,
    )


# ----------------------------------------------------------------------------
# ResampledClassifier


def test_fit_resamples_and_predict_does_not():
    X, y = _data()
    n_min = np.bincount(y).min()
    clf = ResampledClassifier(DuplicateMinority(times=3), KNeighborsClassifier(3))
    SEEN_ROWS.clear()
    clf.fit(X, y)
    assert SEEN_ROWS == [len(y)]
    assert clf.n_samples_resampled_ == len(y) + 2 * n_min
    assert clf.classifier_.n_samples_fit_ == len(y) + 2 * n_min
    proba = clf.predict_proba(X[:20])
    assert SEEN_ROWS == [len(y)]  # no resampling at prediction time
    assert proba.shape == (20, 2)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_features_in_ == X.shape[1]
    # The parameters given are not fitted (clones are).
    assert not hasattr(clf.classifier, "n_samples_fit_")


def test_same_as_resampling_by_hand():
    X, y = _data()
    X_test, _ = _data(seed=1)
    sampler = SMOTE(random_state=0)
    clf = ResampledClassifier(sampler, LogisticRegression()).fit(X, y)
    X_res, y_res = clone(sampler).fit_resample(X, y)
    ref = LogisticRegression().fit(X_res, y_res)
    np.testing.assert_allclose(
        clf.decision_function(X_test), ref.decision_function(X_test)
    )
    np.testing.assert_array_equal(clf.predict(X_test), ref.predict(X_test))
    np.testing.assert_allclose(
        clf.predict_log_proba(X_test), ref.predict_log_proba(X_test)
    )
    assert clf.score(X_test, ref.predict(X_test)) == 1.0


def test_defaults_are_no_resampling_and_logistic_regression():
    X, y = _data()
    clf = ResampledClassifier().fit(X, y)
    assert clf.sampler_ is None
    assert isinstance(clf.classifier_, LogisticRegression)
    np.testing.assert_allclose(
        clf.predict_proba(X), LogisticRegression().fit(X, y).predict_proba(X)
    )


def test_get_params_exposes_sampler_and_classifier_parameters():
    clf = ResampledClassifier(SMOTE(k_neighbors=3), LogisticRegression(C=2.0))
    params = clf.get_params(deep=True)
    assert params["sampler__k_neighbors"] == 3
    assert params["classifier__C"] == 2.0
    clf.set_params(sampler__k_neighbors=4, classifier__C=0.5)
    assert clf.sampler.k_neighbors == 4 and clf.classifier.C == 0.5
    assert is_classifier(clf)


def test_grid_search_over_sampler_parameters():
    X, y = _data()
    grid = GridSearchCV(
        ResampledClassifier(SMOTE(random_state=0), KNeighborsClassifier(5)),
        {"sampler__k_neighbors": [2, 5], "classifier__n_neighbors": [3, 7]},
        cv=3,
        scoring="roc_auc",
    ).fit(X, y)
    assert grid.best_params_["sampler__k_neighbors"] in (2, 5)
    # Every cell equals resampling each training fold by hand.
    cv = StratifiedKFold(3)
    for params, score in zip(
        grid.cv_results_["params"], grid.cv_results_["mean_test_score"]
    ):
        fold_scores = []
        for train, test in cv.split(X, y):
            X_res, y_res = SMOTE(
                random_state=0, k_neighbors=params["sampler__k_neighbors"]
            ).fit_resample(X[train], y[train])
            knn = KNeighborsClassifier(params["classifier__n_neighbors"])
            proba = knn.fit(X_res, y_res).predict_proba(X[test])[:, 1]
            from sklearn.metrics import roc_auc_score

            fold_scores.append(roc_auc_score(y[test], proba))
        assert score == pytest.approx(np.mean(fold_scores))


def test_cross_validation_fits_the_sampler_on_training_folds_only():
    X, y = _data(n_samples=300)
    SEEN_ROWS.clear()
    scores = cross_val_score(ResampledClassifier(DuplicateMinority()), X, y, cv=3)
    assert SEEN_ROWS == [200, 200, 200]
    assert scores.mean() > 0.8
    # A classifier, so folds are stratified: every test fold has its share of 1s.
    predictions = cross_val_predict(
        ResampledClassifier(DuplicateMinority(), KNeighborsClassifier(1)), X, y, cv=3
    )
    assert predictions.shape == y.shape


def test_works_in_a_plain_sklearn_pipeline_under_grid_search():
    X, y = _data()
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("model", ResampledClassifier(SMOTE(random_state=0), LogisticRegression())),
        ]
    )
    grid = GridSearchCV(pipe, {"model__sampler__k_neighbors": [3, 5]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8


def test_sample_weight_follows_the_resampling():
    X, y = _data()
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    clf = ResampledClassifier(DuplicateMinority(), LogisticRegression()).fit(
        X, y, sample_weight=w
    )
    X_res, y_res, w_res = DuplicateMinority().fit_resample(X, y, w)
    ref = LogisticRegression().fit(X_res, y_res, sample_weight=w_res)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X))
    unweighted = LogisticRegression().fit(X_res, y_res)
    assert not np.allclose(clf.decision_function(X), unweighted.decision_function(X))
    # Our SMOTE returns interpolated weights as a third output.
    smote_clf = ResampledClassifier(SMOTE(random_state=0)).fit(X, y, sample_weight=w)
    X_s, y_s, w_s = SMOTE(random_state=0).fit_resample(X, y, sample_weight=w)
    ref = LogisticRegression().fit(X_s, y_s, sample_weight=w_s)
    np.testing.assert_allclose(smote_clf.decision_function(X), ref.decision_function(X))


def test_sample_weight_errors_name_the_culprit():
    X, y = _data()
    w = np.ones(len(y))
    with pytest.raises(TypeError, match="DropFirstRows does not accept"):
        ResampledClassifier(DropFirstRows()).fit(X, y, sample_weight=w)
    with pytest.raises(TypeError, match="KNeighborsClassifier does not accept"):
        ResampledClassifier(DuplicateMinority(), KNeighborsClassifier()).fit(
            X, y, sample_weight=w
        )


def test_fit_params_reach_the_classifier():
    X, y = _data()

    class Recorder(LogisticRegression):
        def fit(self, X, y, sample_weight=None, note=None):
            self.note_ = note
            return super().fit(X, y, sample_weight=sample_weight)

    clf = ResampledClassifier(DuplicateMinority(), Recorder()).fit(X, y, note="hi")
    assert clf.classifier_.note_ == "hi"


def test_methods_follow_the_classifier():
    X, y = _data()
    knn = ResampledClassifier(DuplicateMinority(), KNeighborsClassifier())
    assert hasattr(knn, "predict_proba")
    assert not hasattr(knn, "decision_function")
    svc = ResampledClassifier(DuplicateMinority(), LinearSVC())
    assert hasattr(svc, "decision_function")
    assert not hasattr(svc, "predict_proba")
    assert not hasattr(svc.fit(X, y), "predict_proba")


def test_unfitted_raises_and_feature_checks():
    from sklearn.exceptions import NotFittedError

    X, y = _data()
    clf = ResampledClassifier(DuplicateMinority())
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not hasattr(clf, "n_features_in_")
    clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Reshape your data"):
        clf.predict(X[0])


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = ResampledClassifier(SMOTE(random_state=0)).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[frame.columns[::-1]])


def test_sparse_input_and_tags():
    X, y = _data()
    Xs = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    both = ResampledClassifier(SMOTE(random_state=0), LogisticRegression())
    assert get_tags(both).input_tags.sparse
    both.fit(Xs, y)
    assert both.predict(Xs).shape == y.shape

    # A sampler without scikit-learn tags is taken as dense only.
    class Bare:
        def fit_resample(self, X, y):
            return X, y

    assert not get_tags(ResampledClassifier(Bare())).input_tags.sparse
    assert not get_tags(ResampledClassifier(SMOTE(), PCAClassifier())).input_tags.sparse
    assert get_tags(
        ResampledClassifier(ClusterComplexityUnderSampler())
    ).input_tags.sparse


class PCAClassifier(Pipeline):
    """A dense-only classifier (PCA does not take sparse input by default)."""

    def __init__(self, steps=None, *, memory=None, transform_input=None, verbose=False):
        super().__init__(
            steps
            if steps is not None
            else [("pca", PCA(2)), ("lr", LogisticRegression())],
            memory=memory,
            transform_input=transform_input,
            verbose=verbose,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def test_under_sampler_inside():
    X, y = _data()
    clf = ResampledClassifier(
        ClusterComplexityUnderSampler(random_state=0), KNeighborsClassifier(3)
    ).fit(X, y)
    n_min = np.bincount(y).min()
    assert clf.classifier_.n_samples_fit_ == 2 * n_min


def test_same_as_imbalanced_learn_pipeline():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    imblearn_over = pytest.importorskip("imblearn.over_sampling")
    X, y = _data()
    X_test, _ = _data(seed=2)
    ref = imblearn_pipeline.make_pipeline(
        StandardScaler(), imblearn_over.SMOTE(random_state=0), LogisticRegression()
    )
    ours = make_resampled_pipeline(
        StandardScaler(), imblearn_over.SMOTE(random_state=0), LogisticRegression()
    )
    ref.fit(X, y)
    ours.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test))
    # The same cross-validated scores, fold by fold.
    np.testing.assert_allclose(
        cross_val_score(ours, X, y, cv=4), cross_val_score(ref, X, y, cv=4)
    )


def test_imbalanced_learn_samplers_under_grid_search():
    imblearn_over = pytest.importorskip("imblearn.over_sampling")
    X, y = _data()
    grid = GridSearchCV(
        ResampledClassifier(imblearn_over.SMOTE(random_state=0)),
        {"sampler__k_neighbors": [3, 5]},
        cv=3,
    ).fit(X, y)
    assert grid.best_estimator_.sampler_.k_neighbors in (3, 5)
    ros = ResampledClassifier(
        imblearn_over.RandomOverSampler(random_state=0), KNeighborsClassifier(3)
    ).fit(X, y)
    assert ros.classifier_.n_samples_fit_ == 2 * np.bincount(y).max()


# ----------------------------------------------------------------------------
# make_resampled_pipeline


def test_make_resampled_pipeline_sampler_first():
    model = make_resampled_pipeline(SMOTE(), LogisticRegression())
    assert isinstance(model, ResampledClassifier)
    assert isinstance(model.sampler, SMOTE)
    assert isinstance(model.classifier, LogisticRegression)


def test_make_resampled_pipeline_with_prefix_and_suffix():
    scaler, sampler, pca, lr = StandardScaler(), SMOTE(), PCA(3), LogisticRegression()
    model = make_resampled_pipeline(scaler, sampler, pca, lr)
    assert isinstance(model, Pipeline)
    assert [name for name, _ in model.steps] == [
        "standardscaler",
        "resampledclassifier",
    ]
    assert model.steps[0][1] is scaler
    inner = model[-1]
    assert inner.sampler is sampler
    assert isinstance(inner.classifier, Pipeline)
    assert [step for _, step in inner.classifier.steps] == [pca, lr]
    assert "resampledclassifier__sampler__k_neighbors" in model.get_params()
    # It fits like the same steps by hand: scale, resample, reduce, classify.
    X, y = _data()
    model.set_params(resampledclassifier__sampler__random_state=0).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    X_res, y_res = SMOTE(random_state=0).fit_resample(Xs, y)
    ref = make_pipeline(PCA(3), LogisticRegression()).fit(X_res, y_res)
    np.testing.assert_allclose(
        model.predict_proba(X), ref.predict_proba(StandardScaler().fit(X).transform(X))
    )


def test_make_resampled_pipeline_two_samplers_nest():
    model = make_resampled_pipeline(
        StandardScaler(),
        DuplicateMinority(),
        PCA(3),
        DuplicateMinority(times=3),
        KNeighborsClassifier(1),
    )
    outer = model[-1]
    assert isinstance(outer.classifier, Pipeline)
    assert isinstance(outer.classifier[-1], ResampledClassifier)
    assert outer.classifier[-1].sampler.times == 3
    X, y = _data()
    SEEN_ROWS.clear()
    model.fit(X, y)
    n_min = np.bincount(y).min()
    assert SEEN_ROWS == [len(y), len(y) + n_min]
    # The second sampler triples the 2 * n_min minority rows of the first.
    assert outer.classifier_[-1].classifier_.n_samples_fit_ == len(y) + 5 * n_min


@pytest.mark.parametrize(
    "steps, match",
    [
        ((StandardScaler(), LogisticRegression()), "none of the steps"),
        ((StandardScaler(), SMOTE()), "the sampler is the last step"),
        ((SMOTE(), DuplicateMinority()), "the sampler is the last step"),
    ],
)
def test_make_resampled_pipeline_errors(steps, match):
    with pytest.raises(ValueError, match=match):
        make_resampled_pipeline(*steps)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sampler": LogisticRegression()}, "'sampler' parameter"),
        ({"classifier": SMOTE()}, "'classifier' parameter"),
    ],
)
def test_parameter_validation(params, match):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = _data()
    with pytest.raises(InvalidParameterError, match=match):
        ResampledClassifier(**params).fit(X, y)
