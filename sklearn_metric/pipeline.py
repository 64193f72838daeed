"""Resampling inside ``fit`` only, so that samplers work in scikit-learn's tools.

scikit-learn's :class:`~sklearn.pipeline.Pipeline` cannot hold a step that
changes the number of rows. :class:`ResampledClassifier` wraps a sampler (any
object with ``fit_resample``) and a classifier into one classifier that
resamples the training data in :term:`fit` and never at prediction time, so a
plain ``Pipeline``, :class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_val_score` use it with no leakage and no
dependency on imbalanced-learn.
"""

import inspect

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

__all__ = ["ResampledClassifier", "make_resampled_pipeline"]


def _default_classifier():
    return LogisticRegression()


def _classifier_has(attr):
    """Whether the fitted classifier, or else the unfitted one, has ``attr``."""

    def check(self):
        if hasattr(self, "classifier_"):
            return hasattr(self.classifier_, attr)
        classifier = (
            self.classifier if self.classifier is not None else _default_classifier()
        )
        return hasattr(classifier, attr)

    return check


def _accepts_sample_weight(sampler):
    try:
        parameters = inspect.signature(sampler.fit_resample).parameters
    except (TypeError, ValueError):
        return False
    return "sample_weight" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _input_tags_of(estimator):
    """Input tags of ``estimator``, or None for objects without sklearn tags."""
    if not hasattr(estimator, "__sklearn_tags__"):
        return None
    try:
        return get_tags(estimator).input_tags
    except (AttributeError, TypeError, ValueError):
        return None


class ResampledClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Classifier fitted on data resampled by a sampler, in fit only.

    :term:`fit` clones ``sampler`` and ``classifier``, resamples the training
    data with ``sampler.fit_resample`` and fits the classifier on the result.
    Prediction methods pass their input to the fitted classifier untouched:
    resampling never happens at prediction time, so held-out folds of
    cross-validation are scored on their real class balance.

    Read more in the :ref:`User Guide <resampled_pipeline>`.

    Parameters
    ----------
    sampler : object with ``fit_resample``, default=None
        Sampler such as :class:`sklearn_metric.over_sampling.SMOTE` or any
        imbalanced-learn sampler. ``None`` means no resampling: the classifier
        is fitted on the data as given.
    classifier : classifier, default=None
        Classifier fitted on the resampled data. ``None`` means
        :class:`~sklearn.linear_model.LogisticRegression` with its defaults.

    Attributes
    ----------
    sampler_ : object or None
        The fitted clone of ``sampler`` (``None`` when ``sampler`` is None).
    classifier_ : classifier
        The clone of ``classifier`` fitted on the resampled data.
    classes_ : ndarray of shape (n_classes,)
        Class labels, those of ``classifier_``.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names.
    n_samples_resampled_ : int
        Number of rows the classifier was fitted on.

    See Also
    --------
    make_resampled_pipeline : Build a pipeline with a sampler step from a list
        of steps.

    Notes
    -----
    With ``sample_weight``, the sampler must accept it in ``fit_resample`` and
    return ``(X_res, y_res, sample_weight_res)``; the resampled weights are
    passed to the classifier's ``fit``, which must accept ``sample_weight``.
    Other ``fit_params`` are passed to the classifier's ``fit`` unchanged, so
    they must not be per-sample arrays (their rows would not follow the
    resampling).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_metric.pipeline import ResampledClassifier
    >>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
    >>> clf = ResampledClassifier(classifier=LogisticRegression()).fit(X, y)
    >>> clf.n_samples_resampled_
    200
    >>> round(clf.score(X, y), 2)
    0.98
    >>> sorted(clf.get_params())[:3]
    ['classifier', 'classifier__C', 'classifier__class_weight']
    """

    _parameter_constraints: dict = {
        "sampler": [HasMethods(["fit_resample"]), None],
        "classifier": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(self, sampler=None, classifier=None):
        self.sampler = sampler
        self.classifier = classifier

    # The sampler and the classifier validate their own parameters.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Resample the training data, then fit the classifier on it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, in any container the sampler and classifier accept.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, resampled by the sampler (see Notes of the class)
            and passed to the classifier's ``fit``.
        **fit_params : dict
            Further keyword arguments of the classifier's ``fit``.

        Returns
        -------
        self : ResampledClassifier
            The fitted estimator.
        """
        # Records n_features_in_ and feature_names_in_; the sampler and the
        # classifier validate the values themselves.
        validate_data(self, X, skip_check_array=True)
        classifier = (
            clone(self.classifier)
            if self.classifier is not None
            else _default_classifier()
        )
        if sample_weight is not None and not has_fit_parameter(
            classifier, "sample_weight"
        ):
            raise TypeError(
                f"sample_weight was given, but the classifier "
                f"{type(classifier).__name__} does not accept sample_weight in fit."
            )
        if self.sampler is None:
            self.sampler_ = None
            X_res, y_res, weight_res = X, y, sample_weight
        else:
            self.sampler_ = clone(self.sampler)
            if sample_weight is None:
                X_res, y_res = self.sampler_.fit_resample(X, y)
                weight_res = None
            elif not _accepts_sample_weight(self.sampler_):
                raise TypeError(
                    f"sample_weight was given, but the sampler "
                    f"{type(self.sampler_).__name__} does not accept sample_weight "
                    "in fit_resample, so the weights cannot follow its resampling."
                )
            else:
                X_res, y_res, weight_res = self.sampler_.fit_resample(
                    X, y, sample_weight=sample_weight
                )
        if weight_res is not None:
            fit_params["sample_weight"] = weight_res
        self.classifier_ = classifier.fit(X_res, y_res, **fit_params)
        self.n_samples_resampled_ = np.asarray(y_res).shape[0]
        return self

    def _check_input(self, X):
        check_is_fitted(self)
        if not sparse.issparse(X) and getattr(X, "ndim", None) == 1:
            raise ValueError(
                "Expected a 2D array of shape (n_samples, n_features), got a 1D "
                "array instead. Reshape your data either using array.reshape(-1, 1) "
                "if your data has a single feature or array.reshape(1, -1) if it "
                "contains a single sample."
            )
        validate_data(self, X, reset=False, skip_check_array=True)

    @property
    def classes_(self):
        """Class labels of the fitted classifier."""
        return self.classifier_.classes_

    @available_if(_classifier_has("predict"))
    def predict(self, X):
        """Predict class labels with the fitted classifier; no resampling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        self._check_input(X)
        return self.classifier_.predict(X)

    @available_if(_classifier_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted classifier; no resampling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        self._check_input(X)
        return self.classifier_.predict_proba(X)

    @available_if(_classifier_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted classifier; no resampling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        self._check_input(X)
        return self.classifier_.predict_log_proba(X)

    @available_if(_classifier_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted classifier; no resampling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision scores, as the classifier returns them.
        """
        self._check_input(X)
        return self.classifier_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        classifier = (
            self.classifier if self.classifier is not None else _default_classifier()
        )
        parts = [_input_tags_of(classifier)]
        if self.sampler is not None:
            parts.append(_input_tags_of(self.sampler))
        # Unknown tags (objects without scikit-learn tags) count as "dense, finite".
        tags.input_tags.sparse = all(p is not None and p.sparse for p in parts)
        tags.input_tags.allow_nan = all(p is not None and p.allow_nan for p in parts)
        if parts[0] is not None:
            tags.input_tags.categorical = parts[0].categorical and all(
                p is not None and p.categorical for p in parts
            )
            tags.input_tags.string = all(p is not None and p.string for p in parts)
        try:
            classifier_tags = get_tags(classifier).classifier_tags
        except (AttributeError, TypeError, ValueError):
            classifier_tags = None
        if classifier_tags is not None:
            tags.classifier_tags.multi_class = classifier_tags.multi_class
            tags.classifier_tags.poor_score = classifier_tags.poor_score
        return tags


def _name_estimators(estimators):
    return make_pipeline(*estimators).steps


def make_resampled_pipeline(*steps, memory=None, verbose=False):
    """Build a classifier pipeline whose sampler steps resample in fit only.

    The steps are split at the first step with ``fit_resample`` (a sampler):

    * the steps before it stay ordinary pipeline steps, fitted on the data as
      given;
    * the sampler and every step after it become one final
      :class:`ResampledClassifier` step, ``ResampledClassifier(sampler,
      classifier)``, where ``classifier`` is the single step after the sampler,
      or, when several steps follow it, ``make_resampled_pipeline`` applied to
      those steps (a :class:`~sklearn.pipeline.Pipeline`, itself split the same
      way when it holds another sampler).

    The result is the ``ResampledClassifier`` itself when the sampler is the
    first step, and otherwise a :class:`~sklearn.pipeline.Pipeline` of the
    leading steps followed by a step named ``"resampledclassifier"``. Step
    names are generated as by :func:`~sklearn.pipeline.make_pipeline`.

    Parameters
    ----------
    *steps : list of estimators
        The steps in order. At least one must be a sampler, and at least one
        step must follow the last sampler, ending with a classifier.
    memory : str or object with the joblib.Memory interface, default=None
        Caching of the transformers of the pipelines built, as in
        :class:`~sklearn.pipeline.Pipeline`.
    verbose : bool, default=False
        Whether the pipelines built print the time of each step.

    Returns
    -------
    estimator : Pipeline or ResampledClassifier
        The classifier described above.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_metric.pipeline import make_resampled_pipeline
    >>> class Identity:
    ...     def fit_resample(self, X, y):
    ...         return X, y
    >>> pipe = make_resampled_pipeline(StandardScaler(), Identity(),
    ...                                LogisticRegression())
    >>> [name for name, _ in pipe.steps]
    ['standardscaler', 'resampledclassifier']
    >>> type(pipe[-1].classifier).__name__
    'LogisticRegression'
    """
    is_sampler = [hasattr(step, "fit_resample") for step in steps]
    if not any(is_sampler):
        raise ValueError(
            "make_resampled_pipeline needs a step with fit_resample (a sampler); "
            "none of the steps given has one. Use sklearn.pipeline.make_pipeline "
            "for pipelines without a sampler."
        )
    first = is_sampler.index(True)
    after = steps[first + 1 :]
    if not after:
        raise ValueError(
            "make_resampled_pipeline needs a classifier after the sampler "
            f"{type(steps[first]).__name__}; the sampler is the last step."
        )
    if len(after) == 1:
        classifier = after[0]
        if hasattr(classifier, "fit_resample"):
            raise ValueError(
                "make_resampled_pipeline needs a classifier after the sampler "
                f"{type(classifier).__name__}; the sampler is the last step."
            )
    elif any(hasattr(step, "fit_resample") for step in after):
        classifier = make_resampled_pipeline(*after, memory=memory, verbose=verbose)
    else:
        classifier = make_pipeline(*after, memory=memory, verbose=verbose)
    resampled = ResampledClassifier(sampler=steps[first], classifier=classifier)
    if first == 0:
        return resampled
    named = _name_estimators(steps[:first])
    named.append(("resampledclassifier", resampled))
    return Pipeline(named, memory=memory, verbose=verbose)
