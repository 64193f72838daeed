"""Prototype classifiers: sklearn_metric.prototypes against sklvq 0.1.2.

The fixed protocol of the prototype issue: ``load_digits``, a stratified 70/30
split with ``random_state=0``, ``StandardScaler`` fitted on the training
part, then the classifier, scored by its own ``predict`` on the test part.
sklvq runs in the legacy venv (it no longer imports on scikit-learn >= 1.6),
with its defaults and, for GMLVQ, also with its L-BFGS solver; ours runs with
its defaults. ``NearestCentroid``, the floor, is in the header.

The models sklvq does not have are run against the closest scikit-learn
model in the same process, both timed on fit plus predict of the test part:
nearest prototypes against ``NearestCentroid``, the soft vote against
``KNeighborsClassifier(5)``, and the trained models (CBC, support/trivial
prototypes, equiangular directions) against ``LogisticRegression``. Those
rows say what a model costs against a familiar baseline of similar accuracy,
not that either is an implementation of the other.
"""

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid

from .._harness import Case, Quality, legacy_fit_case
from .metric_learning import digits_protocol

# (our class, sklvq class, sklvq parameters, label of the anchor's setting).
LVQ = (
    ("GLVQ", "GLVQ", {}, "defaults"),
    ("GMLVQ", "GMLVQ", {}, "defaults"),
    ("GMLVQ", "GMLVQ", {"solver_type": "lbfgs"}, "solver_type='lbfgs'"),
    ("LGMLVQ", "LGMLVQ", {}, "defaults"),
)
QUICK = ("GLVQ",)


def context(quick):
    """Header line: the nearest-centroid floor of the protocol.

    Parameters
    ----------
    quick : bool
        Whether the quick split is used.

    Returns
    -------
    list of str
    """
    data = digits_protocol(quick)
    accuracy = (
        NearestCentroid()
        .fit(data["X_train"], data["y_train"])
        .score(data["X_test"], data["y_test"])
    )
    return [f"NearestCentroid test accuracy (the floor): {accuracy:.4f}"]


def cases(quick):
    """Yield one case per LVQ model and sklvq setting.

    Parameters
    ----------
    quick : bool
        GLVQ only, on a third of the training split.

    Yields
    ------
    Case
    """
    import sklearn_metric.prototypes as prototypes

    data = digits_protocol(quick)
    for ours, anchor, params, setting in LVQ:
        if quick and ours not in QUICK:
            continue
        yield legacy_fit_case(
            f"{ours} (sklvq {setting})",
            f"sklvq {anchor}",
            module="sklvq",
            class_name=anchor,
            params={**params, "random_state": 0},
            ours=getattr(prototypes, ours)(random_state=0),
            data=data,
            scoring="predict",
        )
    if quick:
        return
    for name, ours, anchor_name, anchor in _local_cases():
        yield _local_case(name, ours, anchor_name, anchor, data)


def _local_cases():
    import sklearn_metric.prototypes as prototypes

    logistic = LogisticRegression(max_iter=1000)
    return (
        (
            "NearestPrototypeClassifier(5)",
            prototypes.NearestPrototypeClassifier(5, random_state=0),
            "NearestCentroid",
            NearestCentroid(),
        ),
        (
            "SoftNearestNeighborClassifier",
            prototypes.SoftNearestNeighborClassifier(random_state=0),
            "KNeighborsClassifier(5)",
            KNeighborsClassifier(5),
        ),
        (
            "CBCClassifier",
            prototypes.CBCClassifier(random_state=0),
            "LogisticRegression",
            logistic,
        ),
        (
            "SupportTrivialPrototypeClassifier",
            prototypes.SupportTrivialPrototypeClassifier(),
            "LogisticRegression",
            logistic,
        ),
        (
            "EquiangularBasisClassifier",
            prototypes.EquiangularBasisClassifier(random_state=0),
            "LogisticRegression",
            logistic,
        ),
    )


def _local_case(name, ours, anchor_name, anchor, data):
    """Fit on the training part and predict the test part, on both sides."""

    def run(estimator):
        def fit_predict():
            fitted = clone(estimator).fit(data["X_train"], data["y_train"])
            return (fitted.predict(data["X_test"]) == data["y_test"]).mean()

        return fit_predict

    def quality(anchor_accuracy, our_accuracy):
        return Quality(
            "test accuracy",
            float(our_accuracy),
            note=f"anchor test accuracy {anchor_accuracy:.4f}",
            fmt=".4f",
        )

    return Case(
        f"{name} (fit + predict)",
        f"scikit-learn {anchor_name}",
        anchor=run(anchor),
        ours=run(ours),
        quality=quality,
    )
