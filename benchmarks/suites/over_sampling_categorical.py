"""Categorical over-sampling: SMOTENC and SMOTEN against imbalanced-learn.

Two kinds of case:

* speed, in this process: ``fit_resample`` of ours and of imbalanced-learn's
  ``SMOTENC`` / ``SMOTEN`` on data small enough for imbalanced-learn's
  one-hot path. Quality: largest difference of the interpolated continuous
  features (same seed, same draws), or the class counts.
* memory: peak resident memory of a child process that builds the data and
  runs one ``fit_resample``. Ours runs at full size (100,000 rows, 5
  continuous and 10 categorical features of 1,000 levels, 5% minority).
  imbalanced-learn's ``SMOTENC`` builds a dense (n_new, k_neighbors,
  n_one_hot_columns) array, tens of GiB at that size, so it runs on fewer rows
  in a child whose address space is capped; its peak is extrapolated linearly
  in the number of rows and the notes say so. The times of memory cases
  include process start-up and imports: read them as rough wall times.
"""

import json
import resource
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from .._harness import Case, Quality

ROOT = Path(__file__).resolve().parents[2]
#: Address-space cap of the child processes, so that a run cannot exhaust the
#: machine's memory.
CHILD_MEMORY_LIMIT = 10 * 2**30


def make_mixed(
    n_samples, *, n_continuous=5, n_categorical=10, n_levels=1000, minority=0.05, seed=0
):
    """Continuous and categorical features with a rare class.

    Parameters
    ----------
    n_samples : int
        Rows.
    n_continuous, n_categorical, n_levels : int
        Continuous features; categorical features, each with ``n_levels``
        integer-coded values.
    minority : float
        Fraction of rows of class 1.
    seed : int
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_continuous + n_categorical)
        Continuous features first, then the codes (as floats).
    y : ndarray of shape (n_samples,)
        Labels 0 and 1.
    categorical : list of int
        Indices of the categorical features.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_continuous + n_categorical))
    X[:, :n_continuous] = rng.normal(size=(n_samples, n_continuous))
    X[:, n_continuous:] = rng.integers(0, n_levels, size=(n_samples, n_categorical))
    y = (rng.random(n_samples) < minority).astype(np.int64)
    return X, y, list(range(n_continuous, n_continuous + n_categorical))


def _run_smote_nc(library, X, y, categorical, seed=0):
    if library == "ours":
        from sklearn_metric.over_sampling._smote_nc import SMOTENC
    else:
        from imblearn.over_sampling import SMOTENC
    return SMOTENC(categorical, random_state=seed).fit_resample(X, y)


def _run_smoten(library, X, y, seed=0):
    if library == "ours":
        from sklearn_metric.over_sampling._smoten import SMOTEN
    else:
        from imblearn.over_sampling import SMOTEN
    return SMOTEN(random_state=seed).fit_resample(X, y)


def _peak_rss_mib():
    # VmHWM belongs to this process's address space; ru_maxrss would also
    # carry the parent's peak across fork and exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(spec_json):
    """Body of a memory-measurement child: one fit_resample, one JSON line.

    Parameters
    ----------
    spec_json : str
        ``{"library": "ours" | "imblearn", "n_samples": int, "warm": bool}``.
    """
    spec = json.loads(spec_json)
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))
    X, y, categorical = make_mixed(spec["n_samples"])
    if spec.get("warm"):
        # Load (or compile) the kernels first, so that the peak is the run's.
        X_warm, y_warm, _ = make_mixed(300, minority=0.2, seed=1)
        _run_smote_nc(spec["library"], X_warm, y_warm, categorical)
    base = _peak_rss_mib()
    start = time.perf_counter()
    status = "ok"
    try:
        X_res, _ = _run_smote_nc(spec["library"], X, y, categorical)
        n_out = int(X_res.shape[0])
    except MemoryError:
        status, n_out = "MemoryError", 0
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "status": status,
                "peak_mib": _peak_rss_mib(),
                "before_mib": base,
                "seconds": seconds,
                "n_out": n_out,
                "n_samples": spec["n_samples"],
            }
        )
    )


def measure_peak(library, n_samples):
    """Peak RSS of a child running one SMOTE-NC ``fit_resample``.

    Parameters
    ----------
    library : {"ours", "imblearn"}
        Whose SMOTENC.
    n_samples : int
        Rows of :func:`make_mixed` data.

    Returns
    -------
    report : dict
        ``status``, ``peak_mib`` (the child's high-water resident memory),
        ``before_mib`` (the same after the data, imports and warm-up, before
        the call), ``seconds``, ``n_out``.
    """
    spec = json.dumps({"library": library, "n_samples": n_samples, "warm": True})
    code = (
        "import sys; from benchmarks.suites.over_sampling_categorical import "
        "child_main; child_main(sys.argv[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, spec],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {
            "status": f"exit {done.returncode}: {done.stderr.strip()[-200:]}",
            "peak_mib": float("nan"),
            "n_samples": n_samples,
        }
    return json.loads(lines[-1])


def _memory_quality(full_n, anchor_ns, anchor_reports, ours_report):
    ok = [r for r in anchor_reports if r["status"] == "ok"]
    note = "; ".join(
        f"imblearn n={r['n_samples']}: {r['status']}, peak {r['peak_mib']:.0f} MiB"
        for r in anchor_reports
    )
    if len(ok) >= 2:
        # Linear in the rows: the dense block is n_new x k x n_one_hot_columns.
        n = np.array([r["n_samples"] for r in ok], dtype=float)
        peak = np.array([r["peak_mib"] for r in ok])
        slope, intercept = np.polyfit(n, peak, 1)
        note += (
            f"; imblearn extrapolated to n={full_n}: "
            f"{(slope * full_n + intercept) / 1024:.1f} GiB"
        )
    note += (
        f"; ours n={full_n}: {ours_report['status']}, "
        f"{ours_report.get('seconds', float('nan')):.2f} s in the child"
    )
    return Quality("ours peak RSS (MiB)", ours_report["peak_mib"], note=note, fmt=".0f")


def _continuous_difference(n_continuous, anchor_result, ours_result):
    X_anchor, y_anchor = anchor_result
    X_ours, y_ours = ours_result
    same_counts = np.array_equal(np.bincount(y_anchor), np.bincount(y_ours))
    diff = float(np.max(np.abs(X_anchor[:, :n_continuous] - X_ours[:, :n_continuous])))
    agreement = float(np.mean(X_anchor[:, n_continuous:] == X_ours[:, n_continuous:]))
    return Quality(
        "max |diff| continuous",
        diff,
        fmt=".1e",
        note=f"counts identical: {same_counts}; categorical values "
        f"equal: {agreement:.3f} (ties are broken at random)",
    )


def _nominal_quality(anchor_result, ours_result):
    X_anchor, y_anchor = anchor_result
    X_ours, y_ours = ours_result
    return Quality(
        "fraction of equal values",
        float(np.mean(X_anchor == X_ours)),
        note="counts identical: "
        f"{np.array_equal(np.bincount(y_anchor), np.bincount(y_ours))}",
        fmt=".3f",
    )


def cases(quick):
    """Yield the categorical over-sampling cases.

    Parameters
    ----------
    quick : bool
        Small sizes.

    Yields
    ------
    Case
    """
    n_speed = 2_000 if quick else 6_000
    X, y, categorical = make_mixed(n_speed)
    yield Case(
        f"SMOTENC {n_speed}x(5 cont + 10 cat x 1000 levels), 5% minority",
        "imblearn SMOTENC",
        anchor=partial(_run_smote_nc, "imblearn", X, y, categorical),
        ours=partial(_run_smote_nc, "ours", X, y, categorical),
        quality=partial(_continuous_difference, 5),
    )
    del X, y

    n_nominal = 3_000 if quick else 20_000
    rng = np.random.default_rng(1)
    y = (rng.random(n_nominal) < 0.1).astype(np.int64)
    X = np.where(
        y[:, None] == 1,
        rng.integers(0, 5, size=(n_nominal, 8)),
        rng.integers(0, 8, size=(n_nominal, 8)),
    )
    X = np.array(list("abcdefgh"), dtype=object)[X]
    yield Case(
        f"SMOTEN {n_nominal}x8 (<= 8 levels), 10% minority",
        "imblearn SMOTEN",
        anchor=partial(_run_smoten, "imblearn", X, y),
        ours=partial(_run_smoten, "ours", X, y),
        quality=_nominal_quality,
    )
    del X, y

    full_n = 10_000 if quick else 100_000
    anchor_ns = (1_000, 2_000) if quick else (4_000, 8_000)
    reports = {}

    def run_anchor():
        reports["anchor"] = [measure_peak("imblearn", n) for n in anchor_ns]
        return reports["anchor"]

    def run_ours():
        reports["ours"] = measure_peak("ours", full_n)
        return reports["ours"]

    yield Case(
        f"SMOTENC peak memory, {full_n}x(5 cont + 10 cat x 1000 levels)",
        f"imblearn SMOTENC at n={'/'.join(map(str, anchor_ns))}",
        anchor=run_anchor,
        ours=run_ours,
        quality=lambda anchor, ours: _memory_quality(full_n, anchor_ns, anchor, ours),
        notes="times are child-process wall times; the anchor runs on fewer rows",
    )
