"""Adaptive kNN: ExpectedAccuracyKNNClassifier against a kNN of tuned k.

Protocol: a stratified 70/30 split, ``StandardScaler`` fitted on the training
part. The anchor is scikit-learn's ``KNeighborsClassifier`` with ``k`` chosen
by 5-fold ``GridSearchCV`` over 1..30, refitted on the whole training part;
ours is ``ExpectedAccuracyKNNClassifier`` with its defaults (``k_range=(1,
30)``, ``n_similar=75``). Both are timed from fit to predict. The quality is
the test accuracy of ours minus that of the anchor (the acceptance line is
-0.01); the notes hold both accuracies, the tuned ``k``, the leave-one-out
``global_k_`` and the median ``k`` the test rows get. The datasets are those
bundled with scikit-learn and a noisy 5000-row ``make_classification``
problem; ``--quick`` keeps iris and wine.

``python -m benchmarks.suites.adaptive_knn [--quick] [--seeds 0 1 2]`` prints
the accuracy table over several split seeds, without timing.
"""

import argparse
from functools import partial

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_metric.neighbors import ExpectedAccuracyKNNClassifier

from .._harness import Case, Quality

#: Tolerance of the acceptance line: ours >= tuned kNN - TOLERANCE.
TOLERANCE = 0.01


def _noisy_classification():
    return make_classification(
        5000,
        20,
        n_informative=8,
        n_redundant=4,
        n_classes=3,
        flip_y=0.05,
        class_sep=0.8,
        random_state=0,
    )


DATASETS = {
    "iris": partial(load_iris, return_X_y=True),
    "wine": partial(load_wine, return_X_y=True),
    "breast_cancer": partial(load_breast_cancer, return_X_y=True),
    "digits": partial(load_digits, return_X_y=True),
    "make_classification_5000": _noisy_classification,
}
QUICK_DATASETS = ("iris", "wine")


def split(name, seed):
    """The scaled stratified 70/30 split of a dataset.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    seed : int
        Seed of the split.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    X, y = DATASETS[name]()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def tuned_knn(X_train, y_train, X_test):
    """Fit the grid-searched kNN and predict.

    Parameters
    ----------
    X_train, y_train, X_test : ndarray
        The split.

    Returns
    -------
    y_pred : ndarray
        Predictions on X_test.
    k : int
        The tuned number of neighbours.
    """
    grid = GridSearchCV(
        KNeighborsClassifier(), {"n_neighbors": list(range(1, 31))}, cv=5
    ).fit(X_train, y_train)
    return grid.predict(X_test), grid.best_params_["n_neighbors"]


def adaptive_knn(X_train, y_train, X_test):
    """Fit the default adaptive kNN and predict.

    Parameters
    ----------
    X_train, y_train, X_test : ndarray
        The split.

    Returns
    -------
    y_pred : ndarray
        Predictions on X_test.
    global_k : int
        The leave-one-out best fixed k.
    median_k : float
        Median of the ks the test rows get.
    """
    model = ExpectedAccuracyKNNClassifier().fit(X_train, y_train)
    return (
        model.predict(X_test),
        model.global_k_,
        float(np.median(model.chosen_k(X_test))),
    )


def _quality(y_test, anchor, ours):
    tuned = float(np.mean(anchor[0] == y_test))
    adaptive = float(np.mean(ours[0] == y_test))
    return Quality(
        "accuracy - tuned kNN",
        adaptive - tuned,
        note=(
            f"adaptive {adaptive:.4f}, tuned kNN {tuned:.4f} (k={anchor[1]}); "
            f"global_k_={ours[1]}, median chosen k {ours[2]:g}"
        ),
        fmt="+.4f",
    )


def cases(quick):
    """Yield one case per dataset, on the split of seed 0.

    Parameters
    ----------
    quick : bool
        Keep only the small datasets.

    Yields
    ------
    Case
    """
    names = QUICK_DATASETS if quick else tuple(DATASETS)
    for name in names:
        X_train, X_test, y_train, y_test = split(name, 0)
        yield Case(
            f"fit+predict, {name} {X_train.shape[0]}x{X_train.shape[1]}",
            "sklearn KNeighborsClassifier, k by 5-fold GridSearchCV over 1..30",
            anchor=partial(tuned_knn, X_train, y_train, X_test),
            ours=partial(adaptive_knn, X_train, y_train, X_test),
            quality=partial(_quality, y_test),
        )


def context(quick):
    """Header lines: the protocol.

    Parameters
    ----------
    quick : bool
        Whether only the small datasets are used.

    Returns
    -------
    list of str
    """
    return [
        "Stratified 70/30 split (seed 0), StandardScaler on the training part; "
        "ours with its defaults, the anchor's k tuned by 5-fold grid search.",
        f"Acceptance: accuracy - tuned kNN >= -{TOLERANCE}.",
    ]


def accuracy_table(names, seeds):
    """Markdown table of the accuracies over several split seeds.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`DATASETS`.
    seeds : sequence of int
        Seeds of the splits.

    Returns
    -------
    str
    """
    lines = [
        "| dataset | seed | tuned kNN acc | tuned k | global_k_ | adaptive acc "
        "| difference |",
        "|---|---|---|---|---|---|---|",
    ]
    differences = []
    for name in names:
        for seed in seeds:
            X_train, X_test, y_train, y_test = split(name, seed)
            anchor = tuned_knn(X_train, y_train, X_test)
            ours = adaptive_knn(X_train, y_train, X_test)
            tuned = np.mean(anchor[0] == y_test)
            adaptive = np.mean(ours[0] == y_test)
            differences.append(adaptive - tuned)
            lines.append(
                f"| {name} | {seed} | {tuned:.4f} | {anchor[1]} | {ours[1]} | "
                f"{adaptive:.4f} | {adaptive - tuned:+.4f} |"
            )
    lines.append("")
    lines.append(
        f"Difference: mean {np.mean(differences):+.4f}, "
        f"minimum {np.min(differences):+.4f}."
    )
    return "\n".join(lines)


def main(argv=None):
    """Print :func:`accuracy_table` for the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suites.adaptive_knn")
    parser.add_argument("--quick", action="store_true", help="iris and wine only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    names = QUICK_DATASETS if args.quick else tuple(DATASETS)
    print(accuracy_table(names, args.seeds))


if __name__ == "__main__":
    main()
