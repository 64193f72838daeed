"""Fit one estimator inside the legacy virtual environment and report JSON.

The benchmark harness runs this script with the interpreter of the venv
built by ``benchmarks/legacy_env.sh`` (scikit-learn 1.5, metric-learn 0.7,
sklvq 0.1), because those anchors no longer import on the main stack::

    .legacy-venv/bin/python -I benchmarks/legacy_runner.py '<json spec>'
    .legacy-venv/bin/python -I benchmarks/legacy_runner.py @spec.json

It imports nothing from ``sklearn_metric`` or ``benchmarks``: only the
standard library, numpy, scikit-learn and the estimator's own module.

Spec keys
---------
module : str
    Module to import the estimator from, e.g. ``"metric_learn"``.
class : str
    Estimator class name, e.g. ``"NCA"``.
params : dict, optional
    Constructor parameters.
data : dict
    Either ``{"npz": path}`` naming a file with ``X_train``, ``y_train``,
    ``X_test`` and ``y_test``, or ``{"sklearn": "load_wine"}`` /
    ``{"sklearn": "make_classification", "params": {...}}`` naming a
    ``sklearn.datasets`` function, split by ``train_test_split`` with
    ``test_size`` (default 0.3) and ``random_state`` (default 0).
repeats : int, optional
    Timed fits after one untimed warm-up fit (default 3).
n_neighbors : int, optional
    Neighbours of the accuracy classifier (default 3).
report_components : bool, optional
    Add the fitted ``components_`` to the report (default false).
quality : str, optional
    ``"knn"`` (default): the accuracy of a k-NN classifier in the learned
    space, see :func:`knn_accuracy`; ``"predict"``: the accuracy of the
    estimator's own ``predict`` on the test split (for pair classifiers, whose
    ``X`` are pairs).
fit_target : str or null, optional
    What ``fit`` gets after ``X_train``: ``"y_train"`` (default), the name of
    another array of the ``npz`` file (``"chunks"`` for RCA), or null for
    ``fit(X_train)`` alone (triplet and quadruplet learners).

Output
------
One JSON line on standard output with ``fit_time`` (best of the repeats,
seconds), ``cold_time`` (the warm-up fit), ``times``, ``quality``,
``quality_name``, ``n_iter`` (the fitted ``n_iter_``, or null), ``n_train``,
``n_test`` and ``versions``; with ``report_components``, also
``components``.
"""

import importlib
import importlib.metadata
import json
import os
import platform
import sys
import time

import numpy as np


def load_spec(argument):
    """Parse the spec given on the command line.

    Parameters
    ----------
    argument : str
        A JSON object, or ``@`` followed by the path of a JSON file.

    Returns
    -------
    dict
    """
    if argument.startswith("@"):
        with open(argument[1:], encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(argument)


def load_data(data):
    """Return ``(X_train, y_train, X_test, y_test)`` described by ``data``.

    Parameters
    ----------
    data : dict
        ``{"npz": path}`` or ``{"sklearn": function_name, ...}``; see the
        module docstring.

    Returns
    -------
    tuple of ndarray
    """
    if "npz" in data:
        with np.load(data["npz"]) as arrays:
            return tuple(arrays[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    dataset = getattr(datasets, data["sklearn"])(**data.get("params", {}))
    X, y = dataset[:2] if isinstance(dataset, tuple) else (dataset.data, dataset.target)
    X_train, X_test, y_train, y_test = train_test_split(
        X,
        y,
        test_size=data.get("test_size", 0.3),
        random_state=data.get("random_state", 0),
        stratify=y,
    )
    return X_train, y_train, X_test, y_test


def knn_accuracy(estimator, X_train, y_train, X_test, y_test, n_neighbors=3):
    """Test accuracy of a k-nearest-neighbour classifier in the learned space.

    The benchmark harness imports this function too, so both environments
    score their estimators the same way.

    Parameters
    ----------
    estimator : fitted estimator
        Used through ``transform`` when it has one; otherwise its own
        ``score`` is reported.
    X_train, y_train, X_test, y_test : ndarray
        Train and test split.
    n_neighbors : int, default=3
        Neighbours of the classifier.

    Returns
    -------
    name : str
        What was measured, e.g. ``"knn3 accuracy"``.
    value : float
        The accuracy.
    """
    from sklearn.neighbors import KNeighborsClassifier

    if not hasattr(estimator, "transform"):
        return "own accuracy", float(estimator.score(X_test, y_test))
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors)
    classifier.fit(estimator.transform(X_train), y_train)
    accuracy = classifier.score(estimator.transform(X_test), y_test)
    return f"knn{n_neighbors} accuracy", float(accuracy)


def predict_accuracy(estimator, X_test, y_test):
    """Accuracy of the estimator's own ``predict`` on the test split.

    Parameters
    ----------
    estimator : fitted estimator
        A classifier, e.g. a pair classifier with its calibrated threshold.
    X_test, y_test : ndarray
        Test inputs (points, or pairs as a 3-D array) and labels.

    Returns
    -------
    name : str
        ``"predict accuracy"``.
    value : float
        The accuracy.
    """
    return "predict accuracy", float(np.mean(estimator.predict(X_test) == y_test))


def _distribution_version(module_name):
    top_level = module_name.split(".")[0]
    # The import name and the distribution name differ (metric_learn is
    # shipped by metric-learn): ask importlib.metadata which is which.
    for distribution in importlib.metadata.packages_distributions().get(top_level, []):
        return distribution, importlib.metadata.version(distribution)
    module = importlib.import_module(top_level)
    return top_level, getattr(module, "__version__", "unknown")


def library_versions(module_name):
    """Versions of Python, numpy, scipy, scikit-learn and the estimator's package.

    Parameters
    ----------
    module_name : str
        Module the estimator is imported from.

    Returns
    -------
    dict of str to str
    """
    versions = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "scikit-learn"):
        versions[name] = importlib.metadata.version(name)
    distribution, version = _distribution_version(module_name)
    versions[distribution] = version
    return versions


# Idle seconds before every fit, as in the harness (benchmarks/_harness.py,
# PAUSE): worker threads of the previous fit spin for a while before they
# sleep, and must not compete with the next one. The tests set it to 0.
PAUSE = float(os.environ.get("SKLEARN_METRIC_BENCH_PAUSE", "0.2"))


def _timed_fit(estimator_class, params, X, y):
    """Time ``fit(X, y)``, or ``fit(X)`` when ``y`` is None."""
    estimator = estimator_class(**params)
    arguments = (X,) if y is None else (X, y)
    time.sleep(PAUSE)
    start = time.perf_counter()
    estimator.fit(*arguments)
    return time.perf_counter() - start, estimator


def fit_target(spec, y_train):
    """The second argument of ``fit`` that ``spec`` names (None: none)."""
    name = spec.get("fit_target", "y_train")
    if name is None:
        return None
    if name == "y_train":
        return y_train
    with np.load(spec["data"]["npz"]) as arrays:
        return arrays[name]


def n_iter_of(estimator):
    """The fitted ``n_iter_`` as an int, or None when absent or not a scalar."""
    n_iter = getattr(estimator, "n_iter_", None)
    try:
        return None if n_iter is None else int(n_iter)
    except (TypeError, ValueError):
        return None


def run(spec):
    """Fit the estimator described by ``spec`` and build the report.

    Parameters
    ----------
    spec : dict
        See the module docstring.

    Returns
    -------
    dict
        The JSON-serialisable report.
    """
    estimator_class = getattr(importlib.import_module(spec["module"]), spec["class"])
    params = spec.get("params", {})
    X_train, y_train, X_test, y_test = load_data(spec["data"])
    target = fit_target(spec, y_train)
    cold_time, estimator = _timed_fit(estimator_class, params, X_train, target)
    times = [
        _timed_fit(estimator_class, params, X_train, target)[0]
        for _ in range(spec.get("repeats", 3))
    ]
    if spec.get("quality", "knn") == "predict":
        quality_name, quality = predict_accuracy(estimator, X_test, y_test)
    else:
        quality_name, quality = knn_accuracy(
            estimator, X_train, y_train, X_test, y_test, spec.get("n_neighbors", 3)
        )
    report = {
        "fit_time": min(times, default=cold_time),
        "cold_time": cold_time,
        "times": times,
        "quality": quality,
        "quality_name": quality_name,
        "n_iter": n_iter_of(estimator),
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "versions": library_versions(spec["module"]),
    }
    if spec.get("report_components"):
        report["components"] = np.asarray(estimator.components_).tolist()
    return report


def main(argv=None):
    """Command-line entry point: print the report of ``argv[0]``'s spec.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the script name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status.
    """
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.splitlines()[0], file=sys.stderr)
        print("usage: legacy_runner.py '<json spec>' | @spec.json", file=sys.stderr)
        return 2
    report = run(load_spec(argv[0]))
    # Estimators may print progress: the report must be the last stdout line.
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
