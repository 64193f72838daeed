"""Metric learners: sklearn_metric.metric_learning against metric-learn 0.7.

The fixed protocol of the metric-learning issue: ``load_digits``, a stratified
70/30 split with ``random_state=0``, ``StandardScaler`` fitted on the training
part, then the learner, then ``KNeighborsClassifier(3)`` in the learned space.
Each row times the learner's fit; quality is the 3-NN test accuracy. The
anchors run in the legacy venv (metric-learn only runs on scikit-learn < 1.6);
scikit-learn's own ``NeighborhoodComponentsAnalysis`` is timed in process,
interleaved with ours. The Euclidean 3-NN accuracy, the floor every learner
must clear less 0.01, is printed in the header.
"""

from functools import partial

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.preprocessing import StandardScaler

from .._harness import Case, Quality, legacy_fit_case

# (our class name, our parameters, metric-learn class, its parameters). The
# parameters are those of the acceptance protocol; learners that draw
# constraints at random get the same seed on both sides.
LEARNERS = (
    ("NCA", {"max_iter": 100}, "NCA", {"max_iter": 100}),
    ("LMNN", {"n_neighbors": 3}, "LMNN", {"n_neighbors": 3}),
    ("ITML_Supervised", {"random_state": 0}, "ITML_Supervised", {"random_state": 0}),
    ("MLKR", {}, "MLKR", {}),
    ("SCML_Supervised", {"random_state": 0}, "SCML_Supervised", {"random_state": 0}),
    ("LSML_Supervised", {"random_state": 0}, "LSML_Supervised", {"random_state": 0}),
    ("MMC_Supervised", {"random_state": 0}, "MMC_Supervised", {"random_state": 0}),
    ("SDML_Supervised", {"random_state": 0}, "SDML_Supervised", {"random_state": 0}),
    ("LFDA", {"k": 7}, "LFDA", {"k": 7}),
    ("RCA_Supervised", {"random_state": 0}, "RCA_Supervised", {"random_state": 0}),
    ("Covariance", {}, "Covariance", {}),
)
# With --quick, a few cheap learners on a third of the training split.
QUICK_LEARNERS = ("NCA", "LFDA", "Covariance")


def digits_protocol(quick=False):
    """The protocol's standardised digits split.

    Parameters
    ----------
    quick : bool, default=False
        Keep every third training row only.

    Returns
    -------
    data : dict of str to ndarray
        ``X_train``, ``y_train``, ``X_test`` and ``y_test``.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    if quick:
        X_train, y_train = X_train[::3], y_train[::3]
    scaler = StandardScaler().fit(X_train)
    return {
        "X_train": scaler.transform(X_train),
        "y_train": y_train,
        "X_test": scaler.transform(X_test),
        "y_test": y_test,
    }


def euclidean_accuracy(data, n_neighbors=3):
    """3-NN test accuracy without any learning: the floor of the protocol."""
    knn = KNeighborsClassifier(n_neighbors).fit(data["X_train"], data["y_train"])
    return knn.score(data["X_test"], data["y_test"])


def context(quick):
    """Header line: the Euclidean floor of the protocol.

    Parameters
    ----------
    quick : bool
        Whether the quick split is used.

    Returns
    -------
    list of str
    """
    data = digits_protocol(quick)
    return [f"Euclidean 3-NN test accuracy (the floor): "
            f"{euclidean_accuracy(data):.4f}"]


def _fit(estimator, data):
    from sklearn.base import clone

    return clone(estimator).fit(data["X_train"], data["y_train"])


def _sklearn_nca_quality(data, anchor, ours):
    from ..legacy_runner import knn_accuracy

    split = (data["X_train"], data["y_train"], data["X_test"], data["y_test"])
    name, value = knn_accuracy(ours, *split)
    _, anchor_value = knn_accuracy(anchor, *split)
    return Quality(name, value, note=f"anchor accuracy {anchor_value:.4f}", fmt=".4f")


def cases(quick):
    """Yield one case per learner, plus scikit-learn's NCA.

    Parameters
    ----------
    quick : bool
        A few learners on a smaller training split.

    Yields
    ------
    Case
    """
    import sklearn_metric.metric_learning as ml

    data = digits_protocol(quick)
    for name, params, anchor_class, anchor_params in LEARNERS:
        if quick and name not in QUICK_LEARNERS:
            continue
        ours = getattr(ml, name)(**params)
        yield legacy_fit_case(
            f"{name} fit, digits protocol",
            f"metric-learn {anchor_class}",
            module="metric_learn",
            class_name=anchor_class,
            params=anchor_params,
            ours=ours,
            data=data,
        )
        if name == "NCA":
            sklearn_nca = NeighborhoodComponentsAnalysis(max_iter=params["max_iter"],
                                                         random_state=0)
            yield Case(
                "NCA fit, digits protocol",
                "scikit-learn NeighborhoodComponentsAnalysis",
                anchor=partial(_fit, sklearn_nca, data),
                ours=partial(_fit, ours, data),
                quality=partial(_sklearn_nca_quality, data),
                notes=f"same max_iter={params['max_iter']}",
            )

