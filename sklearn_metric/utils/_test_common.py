"""Instances and documented expected failures for the common estimator checks.

``tests/test_common.py`` builds one instance of every estimator in
:func:`~sklearn_metric.utils.discovery.all_estimators` from here. An estimator
that needs different constructor arguments for the checks to run quickly, or
that cannot pass a check by design, says so in the two tables below, with the
reason; nothing else is skipped.
"""

from .discovery import all_estimators

# Constructor arguments that make the checks fast (fewer iterations, small k).
PER_ESTIMATOR_CHECK_PARAMS = {
    "LSML_Supervised": {"max_iter": 20},
    "SCML_Supervised": {"max_iter": 200, "output_iter": 50},
    "NCA": {"max_iter": 10},
    "MLKR": {"max_iter": 10},
    "KNeighborsClassifier": {"n_neighbors": 3},
    # The checks fit on as few as 10-30 rows; the default k_range reaches 30,
    # which a fit on fewer than 31 rows refuses by name.
    "ExpectedAccuracyKNNClassifier": {"k_range": (1, 3), "n_similar": 10},
    "ExpectedAccuracyKNNRegressor": {"k_range": (1, 3), "n_similar": 10},
    "LMNN": {"n_neighbors": 2, "max_iter": 30},
    "ITML_Supervised": {"max_iter": 20},
    "MMC_Supervised": {"max_iter": 20},
    # SMOTENC has no default for categorical_features; the first column of the
    # checks' random data serves (each distinct value is a category).
    "SMOTENC": {"categorical_features": [0]},
    # Three prototypes per class (the default) need three distinct rows in
    # every class; some checks have classes of one or two rows.
    "SupportTrivialPrototypeClassifier": {"n_prototypes_per_class": 1},
}

# {estimator name: {check name: reason}} for checks an estimator fails by design.
PER_ESTIMATOR_XFAIL_CHECKS = {
    "GMLVQ": {
        "check_sample_weight_equivalence_on_dense_data": (
            "The weighted and the repeated fits minimise the same cost, but on "
            "the check's random labels the cost is flat along most directions "
            "of Omega, and the rounding of the sums in a different order sends "
            "L-BFGS to another minimiser, which the check sees in transform. "
            "On iris the two fits agree to 1e-14 "
            "(tests/prototypes/test_lvq.py::"
            "test_integer_sample_weight_equals_repetition)."
        ),
    },
    "RCA": {
        "check_fit_score_takes_y": (
            "RCA.fit(X, chunks) takes chunklet ids, not class labels, and keeps "
            "metric-learn's argument name; RCA_Supervised.fit(X, y) takes labels "
            "(docs/migrating_metric_learn.rst)."
        ),
    },
}


def construct_instances():
    """Yield one instance of every public estimator, set up for the checks.

    Yields
    ------
    estimator : BaseEstimator
        An unfitted instance with the parameters of
        ``PER_ESTIMATOR_CHECK_PARAMS`` applied.
    """
    for name, cls in all_estimators():
        yield cls(**PER_ESTIMATOR_CHECK_PARAMS.get(name, {}))


def expected_failed_checks(estimator):
    """Return the documented expected failures of ``estimator``.

    Parameters
    ----------
    estimator : BaseEstimator
        An estimator instance.

    Returns
    -------
    failures : dict
        ``{check name: reason}``, empty when the estimator passes every check.
    """
    return dict(PER_ESTIMATOR_XFAIL_CHECKS.get(type(estimator).__name__, {}))
