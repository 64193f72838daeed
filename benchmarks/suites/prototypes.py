"""Prototype classifiers: sklearn_metric.prototypes against sklvq 0.1.2.

The fixed protocol of the prototype issue: ``load_digits``, a stratified 70/30
split with ``random_state=0``, ``StandardScaler`` fitted on the training
part, then the classifier, scored by its own ``predict`` on the test part.
sklvq runs in the legacy venv (it no longer imports on scikit-learn >= 1.6),
with its defaults and, for GMLVQ, also with its L-BFGS solver; ours runs with
its defaults. ``NearestCentroid``, the floor, is in the header.
"""

from sklearn.neighbors import NearestCentroid

from .._harness import legacy_fit_case
from .metric_learning import digits_protocol

# (our class, sklvq class, sklvq parameters, label of the anchor's setting).
LVQ = (
    ("GLVQ", "GLVQ", {}, "defaults"),
    ("GMLVQ", "GMLVQ", {}, "defaults"),
    ("GMLVQ", "GMLVQ", {"solver_type": "lbfgs"}, "solver_type='lbfgs'"),
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
