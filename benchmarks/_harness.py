"""Timing, environment and markdown-table machinery shared by every suite.

A suite hands the harness :class:`Case` objects; the harness times the anchor
and our implementation in the same process, interleaved, and turns each case
into a :class:`Row`.  Rows become a markdown table headed by the environment
the numbers were measured in (versions, BLAS kernel and threads, numba
threading layer), because a speed ratio means little without it.

Anchors that only run on an older scikit-learn are described by a
:class:`LegacyAnchor` and run by ``benchmarks/legacy_runner.py`` inside the
legacy virtual environment built by ``benchmarks/legacy_env.sh``.
"""

from __future__ import annotations

import datetime
import gc
import importlib
import importlib.metadata
import json
import math
import os
import pkgutil
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
LEGACY_RUNNER = REPO_ROOT / "benchmarks" / "legacy_runner.py"
LEGACY_VENV_VARIABLE = "SKLEARN_METRIC_LEGACY_VENV"
LEGACY_HINT = "run benchmarks/legacy_env.sh"
SUITES_PACKAGE = "benchmarks.suites"

COLUMNS = (
    "case",
    "anchor",
    "anchor (ms)",
    "ours (ms)",
    "ratio",
    "GFLOP/s anchor / ours",
    "quality",
    "notes",
)

# Variables that change what BLAS or numba do; reported when set, never changed.
_REPORTED_VARIABLES = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMBA_THREADING_LAYER",
)
_VERSIONED_PACKAGES = ("numpy", "scipy", "scikit-learn", "numba", "threadpoolctl")


@dataclass(frozen=True)
class Quality:
    """How well our result agrees with the anchor or a reference.

    Parameters
    ----------
    name : str
        What is measured, e.g. ``"agreement"`` or ``"max rel diff vs cdist"``.
    value : float
        The measurement.
    note : str, default=""
        Extra detail appended to the row's notes.
    fmt : str, default=".4g"
        Format specification used to print ``value``.
    """

    name: str
    value: float
    note: str = ""
    fmt: str = ".4g"

    def __str__(self):
        return f"{self.name} {self.value:{self.fmt}}"


@dataclass(frozen=True)
class LegacyAnchor:
    """An anchor run by ``legacy_runner.py`` inside the legacy virtual env.

    Parameters
    ----------
    spec : mapping
        JSON-serialisable spec understood by ``benchmarks/legacy_runner.py``
        (``module``, ``class``, ``params``, optionally ``data``).
    arrays : mapping of str to ndarray, default={}
        Arrays written to a temporary ``.npz`` file whose path replaces
        ``spec["data"]``, so that both sides see exactly the same data.
    """

    spec: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Case:
    """One benchmark comparison: an anchor against our implementation.

    Parameters
    ----------
    name : str
        Case label shown in the table, e.g. ``"knn float32 5000x50000x64"``.
    anchor_name : str
        Label of the reference implementation.
    anchor : callable or LegacyAnchor
        Zero-argument callable doing the anchor's work, or a legacy spec.
    ours : callable
        Zero-argument callable doing the same work with ``sklearn_metric``.
        With ``ours_needs_report=True`` (legacy anchors only), a callable
        taking the runner's report and returning that zero-argument
        callable: the anchor then runs first, so that our side can be set
        up from its result (for example, to reach the anchor's objective).
    quality : callable, optional
        ``quality(anchor_result, ours_result) -> Quality``; for a legacy
        anchor, ``anchor_result`` is the runner's JSON report.
    flops : float, optional
        Nominal floating-point operation count; enables the GFLOP/s column.
    notes : str, default=""
        Free text copied to the row's notes.
    ours_needs_report : bool, default=False
        See ``ours``.
    """

    name: str
    anchor_name: str
    anchor: Callable[[], Any] | LegacyAnchor
    ours: Callable[[], Any]
    quality: Callable[[Any, Any], Quality] | None = None
    flops: float | None = None
    notes: str = ""
    ours_needs_report: bool = False


@dataclass
class Row:
    """The measured outcome of one :class:`Case`.

    Parameters
    ----------
    case, anchor : str
        Case and anchor labels.
    anchor_time, our_time : float or None
        Best time in seconds, ``None`` when the case was skipped or failed.
    quality : Quality, optional
        Agreement or accuracy measurement.
    flops : float, optional
        Nominal operation count of the case.
    notes : list of str
        Free-text notes, joined in the table.
    status : {"ok", "skipped", "failed"}
        Whether the row holds measurements.
    """

    case: str
    anchor: str
    anchor_time: float | None = None
    our_time: float | None = None
    quality: Quality | None = None
    flops: float | None = None
    notes: list[str] = field(default_factory=list)
    status: str = "ok"

    @property
    def ratio(self):
        """Anchor time divided by our time (> 1 means we are faster), or None."""
        if not self.anchor_time or not self.our_time:
            return None
        return self.anchor_time / self.our_time

    def gflops(self, seconds):
        """Return the GFLOP/s achieved in ``seconds``, or None without a count."""
        if self.flops is None or not seconds:
            return None
        return self.flops / seconds / 1e9


@dataclass(frozen=True)
class Timing:
    """Timings of one callable: best of the repeats and the first (cold) call.

    Parameters
    ----------
    best : float
        Minimum over the timed repeats, in seconds.
    cold : float
        Duration of the untimed warm-up call (includes JIT compilation).
    result : object
        What the warm-up call returned, kept for the quality check.
    """

    best: float
    cold: float
    result: Any


@dataclass
class SuiteResult:
    """Rows and header lines produced by one suite run.

    Parameters
    ----------
    name : str
        Suite name (its module name).
    title : str
        First line of the suite module's docstring.
    context : list of str
        Suite-specific header lines (e.g. the measured GEMM peak).
    rows : list of Row
        One row per case.
    """

    name: str
    title: str
    context: list[str]
    rows: list[Row]


def _call_timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# Seconds of idle time before every timed call. OpenBLAS and OpenMP worker
# threads spin for a while after their last task before they sleep; without
# the pause they compete for the cores with the next call (on 2 cores, an
# NCA fit timed right after scikit-learn's took 285 ms instead of 201 ms).
# The environment variable (also read by the legacy runner) overrides it when
# the call is made; the tests set it to 0.
PAUSE = 0.2
PAUSE_VARIABLE = "SKLEARN_METRIC_BENCH_PAUSE"


def _call_after_pause(fn):
    time.sleep(float(os.environ.get(PAUSE_VARIABLE, PAUSE)))
    return _call_timed(fn)


def _timed_repeats(functions, repeats):
    """Warm each function up once, then time them round-robin ``repeats`` times.

    Every call, warm-up included, starts after :data:`PAUSE` idle seconds.
    """
    warm = [_call_after_pause(fn) for fn in functions]
    best = [math.inf] * len(functions)
    # As timeit does: a collection triggered by the anchor's garbage must not
    # be billed to whichever callable happens to run next.
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for i, fn in enumerate(functions):
                best[i] = min(best[i], _call_after_pause(fn)[0])
    finally:
        if gc_was_enabled:
            gc.enable()
    return [
        Timing(best=b, cold=cold, result=result)
        for b, (cold, result) in zip(best, warm)
    ]


def time_interleaved(anchor, ours, repeats):
    """Time two callables alternately (A B A B ...) after one warm-up each.

    Interleaving spreads the machine's noise (other processes, frequency
    changes) evenly over both sides, and the minimum over repeats is the
    least noisy estimate of the achievable time.

    Parameters
    ----------
    anchor, ours : callable
        Zero-argument callables.
    repeats : int
        Number of timed calls of each, after the warm-up.

    Returns
    -------
    anchor_timing, ours_timing : Timing
        Best and cold times, and the warm-up results.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    anchor_timing, ours_timing = _timed_repeats([anchor, ours], repeats)
    return anchor_timing, ours_timing


def best_time(fn, repeats):
    """Time one callable: one warm-up call, then the best of ``repeats`` calls.

    Parameters
    ----------
    fn : callable
        Zero-argument callable.
    repeats : int
        Number of timed calls after the warm-up.

    Returns
    -------
    Timing
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    return _timed_repeats([fn], repeats)[0]


def format_ms(seconds):
    """Format a duration in milliseconds with at least three significant digits.

    Parameters
    ----------
    seconds : float
        Duration in seconds.

    Returns
    -------
    str
    """
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.3g}"


def max_relative_difference(actual, reference):
    """Largest elementwise relative difference of ``actual`` to ``reference``.

    Entries of ``reference`` close to zero are measured against a floor of
    one machine epsilon (of ``actual``'s dtype) times the largest magnitude,
    so an exact zero cannot turn a rounding error into an infinite ratio.

    Parameters
    ----------
    actual, reference : array-like of the same shape
        Values to compare; ``reference`` is taken as exact.

    Returns
    -------
    float
    """
    actual = np.asarray(actual)
    reference = np.asarray(reference, dtype=np.float64)
    if actual.shape != reference.shape:
        raise ValueError(f"shape {actual.shape} differs from {reference.shape}")
    if reference.size == 0:
        return 0.0
    dtype = actual.dtype if actual.dtype.kind == "f" else np.dtype(np.float64)
    magnitude = np.abs(reference)
    floor = np.finfo(dtype).eps * max(float(magnitude.max()), 1.0)
    error = np.abs(actual.astype(np.float64) - reference)
    return float(np.max(error / np.maximum(magnitude, floor)))


def legacy_python():
    """Path of the legacy venv's interpreter, or None when it is not built.

    The venv lives in ``.legacy-venv/`` at the repository root unless the
    ``SKLEARN_METRIC_LEGACY_VENV`` environment variable names another folder
    (relative paths are taken from the repository root, as in
    ``legacy_env.sh``).

    Returns
    -------
    pathlib.Path or None
    """
    venv = Path(os.environ.get(LEGACY_VENV_VARIABLE) or ".legacy-venv")
    if not venv.is_absolute():
        venv = REPO_ROOT / venv
    python = venv / "bin" / "python"
    return python if python.exists() else None


def run_legacy(anchor, repeats, python):
    """Run a :class:`LegacyAnchor` through ``legacy_runner.py`` and parse its JSON.

    Parameters
    ----------
    anchor : LegacyAnchor
        What to fit, and the arrays to fit it on.
    repeats : int
        Timed fits after one warm-up fit, done inside the runner.
    python : path-like
        Interpreter of the legacy venv.

    Returns
    -------
    dict
        The runner's report: ``fit_time``, ``cold_time``, ``quality``,
        ``quality_name`` and ``versions``.
    """
    with tempfile.TemporaryDirectory(prefix="sklearn-metric-bench-") as tmp:
        spec = dict(anchor.spec, repeats=repeats)
        if anchor.arrays:
            data_path = Path(tmp) / "data.npz"
            np.savez(data_path, **anchor.arrays)
            spec["data"] = {"npz": str(data_path)}
        # -I keeps the main environment's PYTHONPATH and user site-packages
        # (and the benchmarks folder itself) out of the legacy interpreter.
        command = [str(python), "-I", str(LEGACY_RUNNER), json.dumps(spec)]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=tmp
        )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no stderr"]
        raise RuntimeError(
            f"legacy runner exited with {completed.returncode}: {tail[0]}"
        )
    lines = completed.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("legacy runner printed nothing")
    # Only the last line is the report: libraries may print to stdout first.
    return json.loads(lines[-1])


def _describe_versions(versions):
    return ", ".join(f"{name} {version}" for name, version in versions.items())


def _run_legacy_case(case, repeats):
    python = legacy_python()
    if python is None:
        expected = os.environ.get(LEGACY_VENV_VARIABLE) or ".legacy-venv"
        return Row(
            case.name,
            case.anchor_name,
            status="skipped",
            notes=[f"skipped: legacy venv {expected} missing, {LEGACY_HINT}"],
        )
    if case.ours_needs_report:
        try:
            report = run_legacy(case.anchor, repeats, python)
        except RuntimeError as exc:
            return Row(
                case.name,
                case.anchor_name,
                status="failed",
                notes=[case.notes, f"anchor crashed: {exc}"],
            )
        ours = best_time(case.ours(report), repeats)
        return _legacy_row(case, report, ours)
    ours = best_time(case.ours, repeats)
    try:
        report = run_legacy(case.anchor, repeats, python)
    except RuntimeError as exc:
        # An anchor that crashes is a finding, not a reason to hide our figures.
        quality = case.quality(None, ours.result) if case.quality else None
        return Row(
            case.name,
            case.anchor_name,
            our_time=ours.best,
            quality=quality,
            flops=case.flops,
            notes=[case.notes, f"anchor crashed: {exc}"],
        )
    return _legacy_row(case, report, ours)


def _legacy_row(case, report, ours):
    quality = case.quality(report, ours.result) if case.quality else None
    notes = [
        case.notes,
        f"anchor timed in the legacy venv ({_describe_versions(report['versions'])})",
        f"first call: anchor {format_ms(report['cold_time'])} ms, "
        f"ours {format_ms(ours.cold)} ms",
    ]
    return Row(
        case.name,
        case.anchor_name,
        anchor_time=report["fit_time"],
        our_time=ours.best,
        quality=quality,
        flops=case.flops,
        notes=notes,
    )


def _run_local_case(case, repeats):
    anchor, ours = time_interleaved(case.anchor, case.ours, repeats)
    quality = case.quality(anchor.result, ours.result) if case.quality else None
    notes = [
        case.notes,
        f"first call: anchor {format_ms(anchor.cold)} ms, "
        f"ours {format_ms(ours.cold)} ms",
    ]
    return Row(
        case.name,
        case.anchor_name,
        anchor_time=anchor.best,
        our_time=ours.best,
        quality=quality,
        flops=case.flops,
        notes=notes,
    )


def run_case(case, repeats):
    """Measure one case; a failure becomes a ``"failed"`` row, not an exception.

    Parameters
    ----------
    case : Case
        The comparison to run.
    repeats : int
        Timed calls of each side after one warm-up call each.

    Returns
    -------
    Row
    """
    try:
        if isinstance(case.anchor, LegacyAnchor):
            row = _run_legacy_case(case, repeats)
        else:
            row = _run_local_case(case, repeats)
    except Exception as exc:
        # One broken case must not cost the numbers of all the others.
        return Row(
            case.name,
            case.anchor_name,
            status="failed",
            notes=[f"failed: {type(exc).__name__}: {exc}"],
        )
    if row.quality is not None and row.quality.note:
        row.notes.append(row.quality.note)
    row.notes = [note for note in row.notes if note]
    return row


def legacy_fit_case(
    name,
    anchor_name,
    *,
    module,
    class_name,
    params,
    ours,
    data,
    n_neighbors=3,
    notes="",
    scoring="knn",
    fit_target="y_train",
):
    """Build a case comparing fit times against an estimator of the legacy venv.

    Both sides fit on ``data["X_train"], data["y_train"]``; quality is the
    accuracy of a ``KNeighborsClassifier(n_neighbors)`` on the transformed
    test split (or the estimator's own ``score`` when it cannot transform),
    computed by the same function, ``legacy_runner.knn_accuracy``, on both.

    Parameters
    ----------
    name, anchor_name : str
        Case and anchor labels.
    module, class_name : str
        Where the legacy venv imports the anchor estimator from,
        e.g. ``"metric_learn"`` and ``"NCA"``.
    params : dict
        JSON-serialisable constructor parameters of the anchor.
    ours : estimator
        Unfitted ``sklearn_metric`` estimator; cloned before every fit.
    data : mapping of str to ndarray
        ``X_train``, ``y_train``, ``X_test`` and ``y_test``.
    n_neighbors : int, default=3
        Neighbours of the accuracy classifier.
    notes : str, default=""
        Extra text for the case's notes column.
    scoring : {"knn", "predict"}, default="knn"
        ``"predict"`` scores both sides by the accuracy of their own
        ``predict`` on the test split instead (pair classifiers).
    fit_target : str or None, default="y_train"
        The key of ``data`` passed to ``fit`` after ``X_train`` (for example
        ``"chunks"`` for RCA), or None for ``fit(X_train)`` alone (triplet
        and quadruplet learners, whose tuples are the training input).

    Returns
    -------
    Case
    """
    from sklearn.base import clone

    from .legacy_runner import knn_accuracy, n_iter_of, predict_accuracy

    def fit_ours():
        if fit_target is None:
            return clone(ours).fit(data["X_train"])
        return clone(ours).fit(data["X_train"], data[fit_target])

    def quality(report, fitted):
        split = (data["X_train"], data["y_train"], data["X_test"], data["y_test"])
        if scoring == "predict":
            metric, value = predict_accuracy(fitted, data["X_test"], data["y_test"])
        else:
            metric, value = knn_accuracy(fitted, *split, n_neighbors=n_neighbors)
        ours_iter = n_iter_of(fitted)
        iterations = "" if ours_iter is None else f"; n_iter_ {ours_iter}"
        if report is None:
            return Quality(metric, value, note=iterations.lstrip("; "), fmt=".4f")
        note = f"anchor {report['quality_name']} {report['quality']:.4f}"
        if report.get("n_iter") is not None:
            iterations += f", anchor n_iter_ {report['n_iter']}"
        return Quality(metric, value, note=note + iterations, fmt=".4f")

    spec = {
        "module": module,
        "class": class_name,
        "params": params,
        "n_neighbors": n_neighbors,
        "quality": scoring,
        "fit_target": fit_target,
    }
    return Case(
        name,
        anchor_name,
        anchor=LegacyAnchor(spec=spec, arrays=dict(data)),
        ours=fit_ours,
        quality=quality,
        notes=notes,
    )


def available_suites():
    """Names of the suite modules in ``benchmarks/suites/``, sorted.

    Returns
    -------
    list of str
    """
    package = importlib.import_module(SUITES_PACKAGE)
    return sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def load_suite(name):
    """Import the suite module ``benchmarks.suites.<name>``.

    Parameters
    ----------
    name : str
        Suite name, as listed by :func:`available_suites`.

    Returns
    -------
    module
    """
    if name not in available_suites():
        raise KeyError(f"unknown suite {name!r}; available: {available_suites()}")
    return importlib.import_module(f"{SUITES_PACKAGE}.{name}")


def _progress_line(suite_name, row):
    if row.status != "ok":
        return f"[{suite_name}] {row.case} vs {row.anchor}: {row.notes[-1]}"
    if row.anchor_time is None:
        return (
            f"[{suite_name}] {row.case} vs {row.anchor}: ours "
            f"{format_ms(row.our_time)} ms; {row.notes[-1]}"
        )
    return (
        f"[{suite_name}] {row.case} vs {row.anchor}: "
        f"{format_ms(row.anchor_time)} ms / {format_ms(row.our_time)} ms "
        f"= {row.ratio:.3g}"
    )


def run_suite(suite, *, quick, repeats, progress=None, match=None):
    """Run every case of a suite module, or those whose name contains ``match``.

    Parameters
    ----------
    suite : module
        Exposes ``cases(quick) -> iterable of Case`` and optionally
        ``context(quick) -> list of str`` (header lines, measured first).
    quick : bool
        Ask the suite for its small sizes.
    repeats : int
        Timed calls of each side per case.
    progress : callable, optional
        Called with one line of text after each case.
    match : str, optional
        Run only the cases whose name contains this text.

    Returns
    -------
    SuiteResult
    """
    name = suite.__name__.rsplit(".", 1)[-1]
    title = (suite.__doc__ or name).strip().splitlines()[0]
    context = list(suite.context(quick)) if hasattr(suite, "context") else []
    rows = []
    for case in suite.cases(quick):
        if match is not None and match not in case.name:
            continue
        row = run_case(case, repeats)
        rows.append(row)
        if progress is not None:
            progress(_progress_line(name, row))
    return SuiteResult(name=name, title=title, context=context, rows=rows)


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _sklearn_metric_version():
    # The package is usually run from a checkout, not installed: ask it.
    try:
        return importlib.import_module("sklearn_metric").__version__
    except ImportError:
        return "not importable"


def _git_revision():
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO_ROOT,
        )
    except OSError:
        return "unknown"
    return completed.stdout.strip() or "no commit"


def _library_owner(filepath):
    # Wheels vendor their own BLAS/OpenMP (numpy.libs/, scikit_learn.libs/...):
    # the folder tells which package loaded which copy.
    parts = Path(filepath).parts
    if "site-packages" in parts:
        owner = parts[parts.index("site-packages") + 1].removesuffix(".libs")
        return f"loaded by {owner}"
    return f"from {filepath}"


def _thread_pools():
    from threadpoolctl import threadpool_info

    lines = []
    # BLAS first: it is what the GEMM-based kernels and anchors depend on.
    pools = sorted(threadpool_info(), key=lambda pool: pool["user_api"] != "blas")
    for pool in pools:
        label = "BLAS" if pool["user_api"] == "blas" else "OpenMP"
        details = [f"{pool['internal_api']} {pool.get('version') or ''}".strip()]
        if pool.get("architecture"):
            details.append(f"kernel {pool['architecture']}")
        details.append(f"{pool['num_threads']} threads")
        details.append(_library_owner(pool["filepath"]))
        lines.append(f"{label}: {', '.join(details)}")
    return lines or ["no BLAS/OpenMP pool found by threadpoolctl"]


def _start_numba_threads():
    # numba picks its threading layer lazily, on the first parallel call;
    # a tiny prange kernel makes the choice happen so it can be reported.
    import numba

    @numba.njit(parallel=True)
    def _parallel_sum(values):
        total = 0.0
        for i in numba.prange(values.shape[0]):
            total += values[i]
        return total

    _parallel_sum(np.ones(4))


def _numba_threading():
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:
        # Raised before any parallel kernel ran in this process.
        _start_numba_threads()
        layer = numba.threading_layer()
    return f"numba threading layer: {layer}, {numba.get_num_threads()} threads"


def environment_lines():
    """Describe the machine and software the numbers were measured with.

    Returns
    -------
    list of str
        Date, CPU, Python, package versions, BLAS kernel and threads,
        numba threading layer, and the BLAS/threading environment variables
        that are set.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    # Before threadpool_info: starting numba's layer may load an OpenMP runtime.
    numba_line = _numba_threading()
    versions = ", ".join(
        f"{name} {_package_version(name)}" for name in _VERSIONED_PACKAGES
    )
    lines = [
        f"date: {now.isoformat(timespec='seconds')}",
        f"machine: {_cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"{platform.platform()}",
        f"python {platform.python_version()}; sklearn_metric "
        f"{_sklearn_metric_version()} (git {_git_revision()}); {versions}",
        *_thread_pools(),
        numba_line,
    ]
    variables = [
        f"{name}={os.environ[name]}"
        for name in _REPORTED_VARIABLES
        if name in os.environ
    ]
    lines.append(f"environment: {' '.join(variables) if variables else 'none set'}")
    return lines


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _gflops_cell(row):
    anchor, ours = row.gflops(row.anchor_time), row.gflops(row.our_time)
    if anchor is None or ours is None:
        return ""
    return f"{anchor:.1f} / {ours:.1f}"


def _row_cells(row):
    if row.status != "ok":
        status = row.status
        return [row.case, row.anchor, status, status, "", "", "", "; ".join(row.notes)]
    return [
        row.case,
        row.anchor,
        format_ms(row.anchor_time) if row.anchor_time is not None else "crash",
        format_ms(row.our_time),
        f"{row.ratio:.3g}" if row.ratio is not None else "n/a",
        _gflops_cell(row),
        str(row.quality) if row.quality is not None else "",
        "; ".join(row.notes),
    ]


def render_table(rows):
    """Render rows as a markdown table with the columns in :data:`COLUMNS`.

    Parameters
    ----------
    rows : iterable of Row

    Returns
    -------
    str
    """
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(c) for c in _row_cells(row)) + " |")
    return "\n".join(lines)


def render_report(result, environment, settings):
    """Render one suite's markdown report: title, header lines, then the table.

    Parameters
    ----------
    result : SuiteResult
        The suite's rows and context lines.
    environment : list of str
        Lines from :func:`environment_lines`.
    settings : str
        How the run was invoked (sizes, repeats), shown under the title.

    Returns
    -------
    str
    """
    header = [f"## `{result.name}`: {result.title}", "", settings, ""]
    header += [f"- {line}" for line in environment + result.context]
    legend = (
        "Times are the best of the repeats after one untimed warm-up call; "
        "ratio = anchor / ours (> 1 means sklearn_metric is faster)."
    )
    return "\n".join([*header, "", legend, "", render_table(result.rows), ""])


def progress_to_stderr(line):
    """Print a progress line to standard error, flushed at once.

    Parameters
    ----------
    line : str
    """
    print(line, file=sys.stderr, flush=True)


__all__ = [
    "COLUMNS",
    "Case",
    "LegacyAnchor",
    "Quality",
    "Row",
    "SuiteResult",
    "Timing",
    "available_suites",
    "best_time",
    "environment_lines",
    "format_ms",
    "legacy_fit_case",
    "legacy_python",
    "load_suite",
    "max_relative_difference",
    "progress_to_stderr",
    "render_report",
    "render_table",
    "run_case",
    "run_legacy",
    "run_suite",
    "time_interleaved",
]
