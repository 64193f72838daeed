"""HNSW crossover: the size where the approximate neighbour path beats the exact one.

Both paths run on the same machine, with every thread, on 16 float32 features
of low intrinsic dimension (a 6-dimensional Gaussian mapped linearly to 16
dimensions, plus noise of standard deviation 0.1). The anchor is always the
exact path, ours the HNSW one (``M=16``, ``ef_construction=200``, ``ef=50``):

- ``SMOTE(k_neighbors=5)`` against
  ``SMOTE(k_neighbors=HNSWNeighborsTransformer(n_neighbors=6, random_state=0))``
  on binary problems whose minority class has ``m`` rows (and the majority
  ``4 m``). Quality: recall@5 of the neighbour lists the HNSW path drew
  partners from, against the exact lists, on up to 5,000 minority rows; the
  notes say whether both paths give the same class counts.
- ``KNeighborsClassifier(algorithm="brute")`` against ``algorithm="hnsw"``,
  fit then predict of 20,000 queries, on four classes. Quality: accuracy of
  both. Extra rows time ``predict`` alone on fitted models, for an index
  built once and queried often.

The exact search costs ``n_queries * n_index`` distances, HNSW about
``n_index * log(n_index)`` to build plus ``log(n_index)`` per query: a ratio
above 1 says HNSW has won from that size on. SMOTE searches the minority class
against itself, so both terms grow with ``m`` and HNSW wins from some size;
fit+predict with a fixed number of queries costs both paths time linear in
``n_train``, so there the crossover is in the number of queries, which the
predict rows give.

Peak memory is the peak resident set size of a fresh process that builds the
data and runs one side once, after a tiny warm-up run of the same side (which
loads the Numba kernels); the notes give both, in MB. RSS, not tracemalloc,
because Numba's allocations are invisible to tracemalloc. Each process reports
its own high-water mark (``VmHWM``, in MiB): ``ru_maxrss`` would carry over
the peak of the benchmark process that starts it, which holds every case's
data, and ``RUSAGE_CHILDREN`` would give the largest child so far.
"""

import json
import os
import subprocess
import sys
from functools import partial

import numpy as np
from sklearn.datasets import make_classification

from sklearn_metric.distances import knn_search
from sklearn_metric.neighbors import HNSWNeighborsTransformer, KNeighborsClassifier
from sklearn_metric.neighbors._search import drop_self
from sklearn_metric.over_sampling import SMOTE

from .._harness import REPO_ROOT, Case, Quality
from .hnsw import recall

N_FEATURES = 16
INTRINSIC = 6
NOISE = 0.1
K = 5
MAJORITY_PER_MINORITY = 4
N_QUERIES = 20_000
RECALL_ROWS = 5_000
SEED = 0

#: ``{quick: sizes}``: minority rows of the SMOTE cases, training rows and
#: queries of the kNN cases. 160,000 minority rows extend the issue's sizes
#: to where the exact search has lost.
SIZES = {
    False: {
        "smote": (5_000, 20_000, 80_000, 160_000),
        "knn": (20_000, 80_000, 200_000),
    },
    True: {"smote": (1_000, 4_000), "knn": (2_000, 8_000)},
}
QUERIES = {False: N_QUERIES, True: 2_000}
#: Sizes of the warm-up run before each memory measurement.
WARM_UP = {"smote": (200,), "knn": (400, 100)}


def _embed(Z, seed):
    """Map latent rows to ``N_FEATURES`` dimensions and add noise, as float32."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(Z.shape[1], N_FEATURES))
    rows = Z @ A + NOISE * rng.normal(size=(Z.shape[0], N_FEATURES))
    return rows.astype(np.float32)


def make_smote_data(n_minority, seed=SEED):
    """A binary problem with ``n_minority`` minority rows, four times as many others.

    Parameters
    ----------
    n_minority : int
        Rows of class 1.
    seed : int, default=0
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (5 * n_minority, 16), float32
        Rows, the majority first.
    y : ndarray of shape (5 * n_minority,)
        Labels, 0 for the majority and 1 for the minority.
    """
    rng = np.random.default_rng(seed)
    n_majority = MAJORITY_PER_MINORITY * n_minority
    Z = np.concatenate(
        [
            rng.normal(size=(n_majority, INTRINSIC)),
            0.7 * rng.normal(size=(n_minority, INTRINSIC)) + 1.0,
        ]
    )
    y = np.repeat([0, 1], [n_majority, n_minority])
    return _embed(Z, seed + 1), y


def make_knn_data(n_train, n_queries, seed=SEED):
    """Four classes in a 6-dimensional latent space, mapped to 16 features.

    Parameters
    ----------
    n_train, n_queries : int
        Training rows and query rows, drawn from the same law.
    seed : int, default=0
        Seed of the generator.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        float32 rows and their labels.
    """
    Z, y = make_classification(
        n_train + n_queries,
        n_features=INTRINSIC,
        n_informative=INTRINSIC,
        n_redundant=0,
        n_classes=4,
        class_sep=1.5,
        random_state=seed,
    )
    X = _embed(Z, seed + 1)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def smote_sampler(side):
    """The SMOTE of one side: ``"exact"`` or ``"hnsw"``.

    Parameters
    ----------
    side : {"exact", "hnsw"}

    Returns
    -------
    SMOTE
    """
    if side == "exact":
        return SMOTE(k_neighbors=K, random_state=SEED)
    neighbours = HNSWNeighborsTransformer(n_neighbors=K + 1, random_state=SEED)
    return SMOTE(k_neighbors=neighbours, random_state=SEED)


def knn_classifier(side):
    """The ``KNeighborsClassifier`` of one side: ``"exact"`` or ``"hnsw"``.

    Parameters
    ----------
    side : {"exact", "hnsw"}

    Returns
    -------
    KNeighborsClassifier
    """
    algorithm = "brute" if side == "exact" else "hnsw"
    return KNeighborsClassifier(K, algorithm=algorithm, random_state=SEED)


def _resample(side, X, y):
    sampler = smote_sampler(side)
    X_res, y_res = sampler.fit_resample(X, y)
    return X_res, y_res, sampler


def _fit_predict(side, X_train, y_train, X_test):
    return knn_classifier(side).fit(X_train, y_train).predict(X_test)


def run_side(kind, side, *sizes):
    """Build the data of one case and run one side of it once.

    This is what a memory measurement runs in a fresh process.

    Parameters
    ----------
    kind : {"smote", "knn"}
        The case.
    side : {"exact", "hnsw"}
        The path.
    *sizes : int
        Minority rows for ``"smote"``; training rows and queries for ``"knn"``.
    """
    if kind == "smote":
        _resample(side, *make_smote_data(*sizes))
    else:
        X_train, y_train, X_test, _ = make_knn_data(*sizes)
        _fit_predict(side, X_train, y_train, X_test)


# The child's own high-water mark (VmHWM): ru_maxrss would carry over the peak
# of the benchmark process that starts it, which holds every case's data.
_RSS_SCRIPT = """
import json, sys
from benchmarks.suites.hnsw_crossover import WARM_UP, run_side
from benchmarks.suites.over_sampling_categorical import _peak_rss_mib
kind, side, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
run_side(kind, side, *WARM_UP[kind])
warm = _peak_rss_mib()
run_side(kind, side, *sizes)
print(json.dumps([warm, _peak_rss_mib()]))
"""


def peak_rss_mb(kind, side, *sizes):
    """Peak resident set size of one side, run once in a fresh process.

    Parameters
    ----------
    kind, side, *sizes
        As in :func:`run_side`.

    Returns
    -------
    warm, peak : float
        Peak RSS in MiB of the child process after the imports and the warm-up
        run, and after the run itself.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    completed = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, kind, side, *map(str, sizes)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )
    warm, peak = json.loads(completed.stdout.strip().splitlines()[-1])
    return warm, peak


def _memory_note(kind, *sizes):
    exact_warm, exact = peak_rss_mb(kind, "exact", *sizes)
    hnsw_warm, hnsw = peak_rss_mb(kind, "hnsw", *sizes)
    return (
        f"peak RSS exact {exact:.0f} MB, hnsw {hnsw:.0f} MB (after imports and "
        f"warm-up: {exact_warm:.0f} and {hnsw_warm:.0f} MB)"
    )


def neighbour_recall(X_minority, fitted_neighbours, n_rows=RECALL_ROWS, seed=SEED):
    """Recall@k of a fitted neighbours object's lists against the exact ones.

    Parameters
    ----------
    X_minority : ndarray of shape (m, n_features)
        The rows the object was fitted on (SMOTE's class).
    fitted_neighbours : HNSWNeighborsTransformer
        The fitted object, whose ``n_neighbors`` counts the row itself.
    n_rows : int, default=5000
        Rows whose lists are compared, drawn at random when there are more.
    seed : int, default=0
        Seed of that draw.

    Returns
    -------
    float
        Share of the exact neighbours (each row's own excluded) that the
        object's lists hold.
    """
    k = fitted_neighbours.n_neighbors - 1
    m = X_minority.shape[0]
    rows = np.arange(m)
    if m > n_rows:
        rows = np.sort(np.random.default_rng(seed).choice(m, n_rows, replace=False))
    # Both lists are asked one longer and lose the row itself, as SMOTE does.
    distances, found = fitted_neighbours.kneighbors(X_minority[rows], k + 1)
    _, found = drop_self(distances, found, rows, k)
    distances, exact = knn_search(X_minority[rows], X_minority, k + 1)
    _, exact = drop_self(distances, exact, rows, k)
    return recall(found, exact)


def _smote_quality(X_minority, anchor, ours):
    _, y_exact, _ = anchor
    _, y_hnsw, sampler = ours
    same_counts = np.array_equal(np.bincount(y_exact), np.bincount(y_hnsw))
    return Quality(
        f"recall@{K} (hnsw)",
        neighbour_recall(X_minority, sampler.nn_k_),
        note=f"class counts {'equal' if same_counts else 'DIFFER'}",
        fmt=".4f",
    )


def _knn_quality(y_test, anchor_pred, ours_pred):
    return Quality(
        "accuracy (hnsw)",
        float(np.mean(ours_pred == y_test)),
        note=f"exact accuracy {np.mean(anchor_pred == y_test):.4f}",
        fmt=".4f",
    )


def smote_cases(quick):
    """Yield the SMOTE cases, one per minority size.

    Parameters
    ----------
    quick : bool
        Use the small sizes.

    Yields
    ------
    Case
    """
    for m in SIZES[quick]["smote"]:
        notes = _memory_note("smote", m)
        X, y = make_smote_data(m)
        yield Case(
            f"SMOTE k={K}, minority {m} x {N_FEATURES} float32 "
            f"(+{MAJORITY_PER_MINORITY * m} majority)",
            f"SMOTE(k_neighbors={K}), exact",
            anchor=partial(_resample, "exact", X, y),
            ours=partial(_resample, "hnsw", X, y),
            quality=partial(_smote_quality, X[y == 1]),
            notes=notes,
        )


def knn_cases(quick):
    """Yield the kNN cases: fit+predict, then predict alone, per training size.

    Parameters
    ----------
    quick : bool
        Use the small sizes.

    Yields
    ------
    Case
    """
    n_queries = QUERIES[quick]
    for n_train in SIZES[quick]["knn"]:
        notes = _memory_note("knn", n_train, n_queries)
        X_train, y_train, X_test, y_test = make_knn_data(n_train, n_queries)
        label = f"{n_train} x {N_FEATURES} float32, {n_queries} queries ({K}-NN)"
        yield Case(
            f"KNeighborsClassifier fit+predict, {label}",
            'KNeighborsClassifier(algorithm="brute")',
            anchor=partial(_fit_predict, "exact", X_train, y_train, X_test),
            ours=partial(_fit_predict, "hnsw", X_train, y_train, X_test),
            quality=partial(_knn_quality, y_test),
            notes=notes,
        )
        exact = knn_classifier("exact").fit(X_train, y_train)
        hnsw = knn_classifier("hnsw").fit(X_train, y_train)
        yield Case(
            f"KNeighborsClassifier predict (fitted), {label}",
            'KNeighborsClassifier(algorithm="brute")',
            anchor=partial(exact.predict, X_test),
            ours=partial(hnsw.predict, X_test),
            quality=partial(_knn_quality, y_test),
            notes="peak RSS: the fit+predict row's",
        )


def cases(quick):
    """Yield the SMOTE cases, then the kNN ones.

    Parameters
    ----------
    quick : bool
        Use the small sizes.

    Yields
    ------
    Case
    """
    yield from smote_cases(quick)
    yield from knn_cases(quick)


def context(quick):
    """Header lines: the problems and the HNSW settings.

    Parameters
    ----------
    quick : bool
        Whether the small sizes are used.

    Returns
    -------
    list of str
    """
    sizes = SIZES[quick]
    return [
        f"SMOTE: minority sizes {', '.join(map(str, sizes['smote']))}, "
        f"{MAJORITY_PER_MINORITY}x as many majority rows; kNN: training sizes "
        f"{', '.join(map(str, sizes['knn']))}, {QUERIES[quick]} queries; "
        f"{N_FEATURES} float32 features of intrinsic dimension {INTRINSIC}, k={K}.",
        "HNSW: M=16, ef_construction=200, ef=50, random_state=0; both paths use "
        "every thread.",
    ]
