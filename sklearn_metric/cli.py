"""The ``sklearn-metric`` command: cross-validate distance-based models on a table.

Run ``sklearn-metric`` with no argument to use a dataset bundled with
scikit-learn, or give it a CSV file whose last column (or ``--target``) holds
the class labels. It prints one row per model: mean and standard deviation of
the cross-validated accuracy, and the mean fit and score times.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neighbors import KNeighborsClassifier as SklearnKNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import __version__
from .distances import METRICS
from .neighbors import ExpectedAccuracyKNNClassifier, KNeighborsClassifier
from .prototypes import GMLVQ

BUILTIN_DATASETS = {
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
DEFAULT_METRICS = ("euclidean", "manhattan", "cosine", "chebyshev", "snr")
# Metrics that need no parameter beyond their name.
CLI_METRICS = tuple(name for name in METRICS if name != "mahalanobis")


def load_csv(path, target=None):
    """Read a numeric CSV with a header row into features and labels.

    Parameters
    ----------
    path : str or path-like
        The CSV file. The first row names the columns.
    target : str, default=None
        Column holding the class labels; the last column when ``None``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The other columns, as float64.
    y : ndarray of shape (n_samples,)
        The labels, as strings.
    feature_names : list of str
        Names of the feature columns.
    """
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ValueError(f"{path}: expected a header row and at least one data row.")
    header, body = rows[0], [row for row in rows[1:] if row]
    target = header[-1] if target is None else target
    if target not in header:
        raise ValueError(f"{path}: no column named {target!r}; columns are {header}.")
    target_col = header.index(target)
    feature_cols = [j for j in range(len(header)) if j != target_col]
    X = np.empty((len(body), len(feature_cols)))
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {i}: {len(row)} fields where the header has "
                f"{len(header)}."
            )
        for a, j in enumerate(feature_cols):
            try:
                X[i - 2, a] = float(row[j])
            except ValueError:
                raise ValueError(
                    f"{path}, line {i}: column {header[j]!r} holds {row[j]!r}, which "
                    "is not a number; encode categorical columns first."
                ) from None
    y = np.array([row[target_col] for row in body])
    return X, y, [header[j] for j in feature_cols]


def build_models(n_neighbors, metrics):
    """The models to compare, each standardising its input first.

    Parameters
    ----------
    n_neighbors : int
        Number of neighbours of every kNN model.
    metrics : sequence of str
        Metrics for :class:`~sklearn_metric.neighbors.KNeighborsClassifier`.

    Returns
    -------
    models : dict of str to estimator
        Model name to unfitted pipeline: kNN under each metric, the adaptive
        kNN, GMLVQ, and scikit-learn's kNN as the reference.
    """
    models = {
        f"kNN ({metric})": make_pipeline(
            StandardScaler(), KNeighborsClassifier(n_neighbors, metric=metric)
        )
        for metric in metrics
    }
    # k chosen per query from the leave-one-out accuracy of its neighbours:
    # the kNN that needs no k.
    models["adaptive kNN (expected accuracy)"] = make_pipeline(
        StandardScaler(), ExpectedAccuracyKNNClassifier()
    )
    # A learned metric with prototypes: one per class, and the relevance
    # matrix of the features.
    models["GMLVQ"] = make_pipeline(StandardScaler(), GMLVQ(random_state=0))
    # The reference point: scikit-learn's own kNN on the same folds.
    models["scikit-learn kNN (euclidean)"] = make_pipeline(
        StandardScaler(), SklearnKNeighborsClassifier(n_neighbors)
    )
    return models


def run(X, y, models, cv, random_state=0):
    """Cross-validate each model and collect one result row per model.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Class labels.
    models : dict of str to estimator
        Models to evaluate.
    cv : int
        Number of stratified folds.
    random_state : int, default=0
        Seed of the fold shuffling.

    Returns
    -------
    rows : list of dict
        One dict per model with keys ``model``, ``accuracy``, ``std``,
        ``fit_seconds`` and ``score_seconds``.
    """
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    rows = []
    for name, model in models.items():
        result = cross_validate(model, X, y, cv=folds)
        rows.append(
            {
                "model": name,
                "accuracy": result["test_score"].mean(),
                "std": result["test_score"].std(),
                "fit_seconds": result["fit_time"].mean(),
                "score_seconds": result["score_time"].mean(),
            }
        )
    return rows


def format_table(rows):
    """Render result rows as a markdown table.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`run`.

    Returns
    -------
    table : str
        The table, one line per model.
    """
    lines = [
        "| model | accuracy | std | fit (s) | score (s) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['accuracy']:.4f} | {row['std']:.4f} | "
            f"{row['fit_seconds']:.4f} | {row['score_seconds']:.4f} |"
        )
    return "\n".join(lines)


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-metric",
        description="Cross-validate distance-based classifiers on a CSV file or on "
        "a dataset bundled with scikit-learn.",
    )
    parser.add_argument(
        "csv", nargs="?", help="CSV file with a header row; omit it to use --dataset"
    )
    parser.add_argument("--target", help="label column of the CSV (default: last)")
    parser.add_argument(
        "--dataset",
        choices=sorted(BUILTIN_DATASETS),
        default="wine",
        help="built-in dataset used when no CSV is given (default: wine)",
    )
    parser.add_argument(
        "--cv", type=int, default=5, help="stratified folds (default: 5)"
    )
    parser.add_argument(
        "--n-neighbors", type=int, default=5, help="neighbours per vote (default: 5)"
    )
    parser.add_argument(
        "--metrics",
        default=",".join(DEFAULT_METRICS),
        help="comma-separated metrics (default: %(default)s)",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-metric`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; ``sys.argv[1:]`` when ``None``.

    Returns
    -------
    status : int
        0 on success, 2 on bad input (with a message on standard error).
    """
    args = _parser().parse_args(argv)
    try:
        if args.csv is not None:
            X, y, _ = load_csv(Path(args.csv), args.target)
            source = args.csv
        else:
            X, y = BUILTIN_DATASETS[args.dataset](return_X_y=True)
            source = f"{args.dataset} (bundled with scikit-learn)"
        metrics = [name.strip() for name in args.metrics.split(",") if name.strip()]
        unknown = [name for name in metrics if name not in CLI_METRICS]
        if unknown or not metrics:
            raise ValueError(
                f"--metrics takes a comma-separated list among {list(CLI_METRICS)}; "
                f"got {args.metrics!r}."
            )
        models = build_models(args.n_neighbors, metrics)
        n_classes = np.unique(y).shape[0]
        print(
            f"data: {source}: {X.shape[0]} samples, {X.shape[1]} features, "
            f"{n_classes} classes; {args.cv}-fold stratified cross-validation\n"
        )
        start = time.perf_counter()
        rows = run(X, y, models, args.cv)
    except (ValueError, OSError) as exc:
        print(f"sklearn-metric: error: {exc}", file=sys.stderr)
        return 2
    print(format_table(rows))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
