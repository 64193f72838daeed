"""Metric learners: sklearn_metric.metric_learning against metric-learn 0.7.

The fixed protocol of the metric-learning issue: ``load_digits``, a stratified
70/30 split with ``random_state=0``, ``StandardScaler`` fitted on the training
part, then the learner, then ``KNeighborsClassifier(3)`` in the learned space.
Each row times the learner's fit; quality is the 3-NN test accuracy. The
anchors run in the legacy venv (metric-learn only runs on scikit-learn < 1.6);
scikit-learn's own ``NeighborhoodComponentsAnalysis`` is timed in process,
interleaved with ours. The Euclidean 3-NN accuracy, the floor every learner
must clear less 0.01, is printed in the header.

The weakly supervised pair learners (ITML, SDML, MMC) get rows of their own:
2000 similar and 2000 dissimilar pairs drawn from the labels of the training
split, as many from the test split, and the accuracy of each learner's own
``predict`` (its threshold calibrated on the training pairs) on the held-out
pairs. So do SCML on 2000 triplets and LSML on 2000 quadruplets (as points;
quality: the share of held-out tuples predicted true), and RCA on 100
chunklets of two training points (quality: 3-NN accuracy).

MLKR gets a second row. Its L-BFGS run stops when an iteration barely lowers
the objective, and where that happens depends on rounding: on the protocol
split metric-learn stops at an objective of about 182 while ours goes on to a
lower one, so default-against-default compares different amounts of work. The
row "to the anchor's objective" times ours with ``max_iter`` set to the first
iteration at which its objective is at most the anchor's final objective
(evaluated by our loss at the anchor's ``components_``).
"""

import warnings
from functools import partial

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.preprocessing import StandardScaler

from .._harness import Case, LegacyAnchor, Quality, legacy_fit_case

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
# What the anchor's n_iter_ counts, where it is not iterations.
ANCHOR_ITERATION_NOTES = {
    "MLKR": (
        "metric-learn's MLKR n_iter_ counts objective evaluations, ours "
        "L-BFGS iterations (1.5 to 2 evaluations each)"
    ),
}
# The pair learners of the weakly supervised rows: (name, our parameters,
# metric-learn's parameters).
PAIR_LEARNERS = (
    ("ITML", {}, {}),
    ("SDML", {}, {}),
    ("MMC", {}, {}),
)
N_PAIRS = 2000
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
        X, y, test_size=0.3, stratify=y, random_state=0
    )
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
    return [f"Euclidean 3-NN test accuracy (the floor): {euclidean_accuracy(data):.4f}"]


def _fit(estimator, data):
    from sklearn.base import clone

    return clone(estimator).fit(data["X_train"], data["y_train"])


def _sklearn_nca_quality(data, anchor, ours):
    from ..legacy_runner import knn_accuracy

    split = (data["X_train"], data["y_train"], data["X_test"], data["y_test"])
    name, value = knn_accuracy(ours, *split)
    _, anchor_value = knn_accuracy(anchor, *split)
    return Quality(name, value, note=f"anchor accuracy {anchor_value:.4f}", fmt=".4f")


def digit_pairs(data, n_pairs=N_PAIRS, seed=0):
    """Labelled pairs drawn from the protocol's train and test splits.

    Parameters
    ----------
    data : dict
        The output of :func:`digits_protocol`.
    n_pairs : int, default=N_PAIRS
        Similar pairs, and as many dissimilar ones, per split.
    seed : int, default=0
        Seed of the draws.

    Returns
    -------
    pairs : dict of str to ndarray
        ``X_train`` and ``X_test`` of shape (2 * n_pairs, 2, n_features) and
        ``y_train``, ``y_test`` in {+1, -1}.
    """
    import numpy as np

    from sklearn_metric.metric_learning.constraints import Constraints

    out = {}
    for split in ("train", "test"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        a, b, c, d = Constraints(y).positive_negative_pairs(n_pairs, random_state=seed)
        first = np.concatenate((a, c))
        second = np.concatenate((b, d))
        out[f"X_{split}"] = np.ascontiguousarray(
            np.stack((X[first], X[second]), axis=1)
        )
        out[f"y_{split}"] = np.r_[np.ones(a.shape[0]), -np.ones(c.shape[0])]
    return out


def digit_tuples(data, n_tuples=N_PAIRS, seed=0):
    """Triplets, quadruplets and chunklets drawn from the protocol's splits.

    Parameters
    ----------
    data : dict
        The output of :func:`digits_protocol`.
    n_tuples : int, default=N_PAIRS
        Tuples per split.
    seed : int, default=0
        Seed of the draws.

    Returns
    -------
    triplets, quadruplets : dict of str to ndarray
        ``X_train`` and ``X_test`` of shape (n_tuples, 3 or 4, n_features),
        each tuple true (``d(a, b) < d(a, c)``, resp. ``d(a, b) < d(c, d)``,
        when the classes are right), and ``y_train``, ``y_test`` all +1, the
        label that a tuple learner's ``predict`` should give.
    chunks : dict of str to ndarray
        The protocol's split plus ``chunks``, 100 chunklets of 2 training
        points of one class each (-1: in no chunklet), RCA's input.
    """
    import numpy as np

    from sklearn_metric.metric_learning.constraints import Constraints

    rng = np.random.RandomState(seed)
    triplets, quadruplets = {}, {}
    for split in ("train", "test"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        a, b, c, d = Constraints(y).positive_negative_pairs(n_tuples, random_state=rng)
        # The third point of a triplet: any point of another class than a.
        other = np.array([rng.choice(np.flatnonzero(y != y[i])) for i in a])
        triplets[f"X_{split}"] = np.ascontiguousarray(
            np.stack((X[a], X[b], X[other]), axis=1)
        )
        quadruplets[f"X_{split}"] = np.ascontiguousarray(
            np.stack((X[a], X[b], X[c], X[d]), axis=1)
        )
        triplets[f"y_{split}"] = np.ones(a.shape[0])
        quadruplets[f"y_{split}"] = np.ones(a.shape[0])
    chunks = dict(data)
    chunks["chunks"] = Constraints(data["y_train"]).chunks(
        n_chunks=100, chunk_size=2, random_state=seed
    )
    return triplets, quadruplets, chunks


def _mlkr_to_anchor_objective(data, report):
    """Our MLKR, stopped once it is as good as the anchor's final map."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_metric.metric_learning import MLKR
    from sklearn_metric.metric_learning._kernels._softmax import (
        MLKR_OBJECTIVE,
        softmax_loss_grad,
    )

    X, y = data["X_train"], data["y_train"]
    targets = np.asarray(y, dtype=np.float64)
    # The kernel is shared with NCA and takes class codes too (unused here).
    anchor_objective, _, _ = softmax_loss_grad(
        np.ascontiguousarray(X, dtype=np.float64),
        np.asarray(report["components"], dtype=np.float64),
        np.zeros(X.shape[0], dtype=np.int64),
        targets,
        MLKR_OBJECTIVE,
    )
    trace = MLKR().fit(X, y).objective_
    reached = np.flatnonzero(trace <= anchor_objective)
    n_iter = int(reached[0]) if reached.size else len(trace) - 1
    estimator = MLKR(max_iter=max(n_iter, 1))
    report["anchor_objective"] = float(anchor_objective)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return estimator.fit(X, y)

    return fit


def _mlkr_objective_quality(data, report, fitted):
    from ..legacy_runner import knn_accuracy

    split = (data["X_train"], data["y_train"], data["X_test"], data["y_test"])
    name, value = knn_accuracy(fitted, *split)
    note = (
        f"ours stopped at n_iter_ {fitted.n_iter_} with objective "
        f"{fitted.objective_[-1]:.2f}; anchor's final objective "
        f"{report['anchor_objective']:.2f}, anchor {report['quality_name']} "
        f"{report['quality']:.4f}"
    )
    return Quality(name, value, note=note, fmt=".4f")


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
    if not quick:
        pairs = digit_pairs(data)
        for name, params, anchor_params in PAIR_LEARNERS:
            yield legacy_fit_case(
                f"{name} on {2 * N_PAIRS} digit pairs",
                f"metric-learn {name}",
                module="metric_learn",
                class_name=name,
                params=anchor_params,
                ours=getattr(ml, name)(**params),
                data=pairs,
                scoring="predict",
            )
        triplets, quadruplets, chunks = digit_tuples(data)
        for name, tuples, kind in (
            ("SCML", triplets, "triplets"),
            ("LSML", quadruplets, "quadruplets"),
        ):
            params = {"random_state": 0}
            yield legacy_fit_case(
                f"{name} on {N_PAIRS} digit {kind}",
                f"metric-learn {name}",
                module="metric_learn",
                class_name=name,
                params=params,
                ours=getattr(ml, name)(**params),
                data=tuples,
                scoring="predict",
                fit_target=None,
                notes=f"quality: share of held-out {kind} predicted true",
            )
        yield legacy_fit_case(
            "RCA on 100 digit chunklets of 2",
            "metric-learn RCA",
            module="metric_learn",
            class_name="RCA",
            params={},
            ours=ml.RCA(),
            data=chunks,
            fit_target="chunks",
        )
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
            notes=ANCHOR_ITERATION_NOTES.get(name, ""),
        )
        if name == "MLKR" and not quick:
            yield Case(
                "MLKR fit to the anchor's objective, digits protocol",
                f"metric-learn {anchor_class}",
                anchor=LegacyAnchor(
                    spec={
                        "module": "metric_learn",
                        "class": anchor_class,
                        "params": anchor_params,
                        "n_neighbors": 3,
                        "report_components": True,
                    },
                    arrays=dict(data),
                ),
                ours=partial(_mlkr_to_anchor_objective, data),
                quality=partial(_mlkr_objective_quality, data),
                ours_needs_report=True,
            )
        if name == "NCA":
            sklearn_nca = NeighborhoodComponentsAnalysis(
                max_iter=params["max_iter"], random_state=0
            )
            yield Case(
                "NCA fit, digits protocol",
                "scikit-learn NeighborhoodComponentsAnalysis",
                anchor=partial(_fit, sklearn_nca, data),
                ours=partial(_fit, ours, data),
                quality=partial(_sklearn_nca_quality, data),
                notes=f"same max_iter={params['max_iter']}",
            )
