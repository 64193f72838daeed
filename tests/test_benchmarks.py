"""Smoke tests of the benchmark harness in ``benchmarks/``.

They run the machinery on a fake suite, on the ``kernels`` suite shrunk to
tiny sizes, and through the legacy runner with the current interpreter
standing in for the legacy venv.  Nothing here asserts a duration: the
machines are shared and noisy.
"""

import sys
import types
from pathlib import Path

import numpy as np
import pytest

# The benchmarks live beside the package; setup.cfg puts the repository root on
# the path (pytest's "pythonpath").
from benchmarks import _harness
from benchmarks.__main__ import main
from benchmarks.suites import kernels

ROOT = Path(__file__).resolve().parents[1]

TINY = kernels.Sizes(
    pairwise=((20, 30, 16),),
    knn=((25, 200, 16, np.float32), (25, 200, 16, np.float64)),
    n_neighbors=3,
    gemm=32,
)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    # The pause before timed calls only matters for real measurements; it is
    # inherited by the legacy runner's subprocess through the environment.
    monkeypatch.setenv("SKLEARN_METRIC_BENCH_PAUSE", "0")


def parse_table(markdown):
    """Return the header cells and the data rows (lists of cells) of a table."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    return split[0], split[2:]


def check_ratio_cells(cells):
    """The printed ratio is the printed anchor time over the printed our time."""
    anchor_ms, ours_ms = float(cells[2]), float(cells[3])
    # Both times are printed with at least three significant digits.
    assert float(cells[4]) == pytest.approx(anchor_ms / ours_ms, rel=0.02)


def fake_suite():
    """A two-case suite whose sides do different amounts of work."""
    calls = []

    def work(label, n):
        calls.append(label)
        return sum(range(n))

    def cases(quick):
        size = 1_000 if quick else 100_000
        yield _harness.Case(
            "sum",
            "builtin sum",
            anchor=lambda: work("anchor", 10 * size),
            ours=lambda: work("ours", size),
            quality=lambda a, o: _harness.Quality("agreement", float(a > o)),
            flops=float(size),
        )
        yield _harness.Case(
            "broken",
            "builtin sum",
            anchor=lambda: work("anchor", size),
            ours=lambda: 1 / 0,
        )

    suite = types.ModuleType("benchmarks.suites.fake", "A fake suite.\n\nMore.")
    suite.cases = cases
    suite.context = lambda quick: ["fake context line"]
    return suite, calls


def test_time_interleaved_warms_up_then_alternates():
    calls = []
    anchor_timing, ours_timing = _harness.time_interleaved(
        lambda: calls.append("a") or "A", lambda: calls.append("o") or "O", repeats=3
    )
    assert calls == ["a", "o"] + ["a", "o"] * 3
    assert (anchor_timing.result, ours_timing.result) == ("A", "O")
    assert anchor_timing.best >= 0 and ours_timing.cold >= 0


def test_every_timed_call_follows_a_pause(monkeypatch):
    events = []
    monkeypatch.setenv("SKLEARN_METRIC_BENCH_PAUSE", "0.125")
    monkeypatch.setattr(_harness.time, "sleep", lambda s: events.append(s))
    _harness.time_interleaved(
        lambda: events.append("a"), lambda: events.append("o"), repeats=2
    )
    assert events == [0.125, "a", 0.125, "o"] * 3


def test_fake_suite_rows_and_table():
    suite, calls = fake_suite()
    result = _harness.run_suite(suite, quick=True, repeats=2)
    assert (result.name, result.title) == ("fake", "A fake suite.")
    assert result.context == ["fake context line"]

    ok, broken = result.rows
    assert ok.status == "ok" and ok.ratio == ok.anchor_time / ok.our_time
    assert ok.quality.value == 1.0
    assert broken.status == "failed"
    assert "ZeroDivisionError" in broken.notes[0]
    assert calls[:6] == ["anchor", "ours", "anchor", "ours", "anchor", "ours"]

    report = _harness.render_report(result, ["env line"], "settings line")
    assert "- fake context line" in report and "- env line" in report
    header, rows = parse_table(report)
    assert tuple(header) == _harness.COLUMNS
    assert len(rows) == 2 and all(len(row) == len(header) for row in rows)
    check_ratio_cells(rows[0])
    assert rows[0][5].count("/") == 1  # GFLOP/s of both sides
    assert rows[0][6] == "agreement 1"
    assert rows[1][2] == rows[1][3] == "failed"


def test_max_relative_difference():
    reference = np.array([[1.0, 0.0], [2.0, 4.0]])
    actual = reference + np.array([[1e-3, 0.0], [0.0, 4e-3]])
    assert _harness.max_relative_difference(actual, reference) == pytest.approx(1e-3)
    assert _harness.max_relative_difference(reference, reference) == 0.0
    with pytest.raises(ValueError, match="shape"):
        _harness.max_relative_difference(reference[:1], reference)


def test_knn_quality_explains_ties():
    X_index = np.array([[1.0], [-1.0], [3.0]])
    X_query = np.zeros((2, 1))
    anchor = (np.ones((2, 2)), np.array([[0, 1], [1, 2]]))
    ours = (np.ones((2, 2)), np.array([[1, 0], [1, 0]]))
    quality = kernels.knn_quality(anchor, ours, X_query=X_query, X_index=X_index)
    assert quality.value == 0.0
    assert "2 of 2 queries differ: 1 only by near-ties" in quality.note
    assert "1 with closer neighbours in ours" in quality.note


def test_kernels_suite_tiny_through_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(kernels.SIZES, True, TINY)
    output = tmp_path / "all.md"
    argv = [
        "kernels",
        "--quick",
        "--repeats",
        "1",
        "--results-dir",
        str(tmp_path),
        "--output",
        str(output),
    ]
    assert main(argv) == 0

    report = (tmp_path / "kernels.md").read_text(encoding="utf-8")
    assert report in capsys.readouterr().out
    assert output.read_text(encoding="utf-8") == report
    for expected in (
        "numpy ",
        "scipy ",
        "scikit-learn ",
        "numba ",
        "BLAS: ",
        "numba threading layer: ",
        "GEMM peak",
        "date: ",
    ):
        assert expected in report

    header, rows = parse_table(report)
    assert tuple(header) == _harness.COLUMNS
    # 2 knn cases, then 3 metrics x 2 dtypes x 2 anchors per pairwise size.
    assert len(rows) == len(TINY.knn) + 12 * len(TINY.pairwise)
    for cells in rows:
        check_ratio_cells(cells)
        has_flops = "euclidean" in cells[0] or cells[0].startswith("knn")
        assert (cells[5] != "") == has_flops
    knn_rows = [cells for cells in rows if cells[0].startswith("knn")]
    assert [cells[6] for cells in knn_rows] == ["agreement 1.0000"] * 2
    for cells in rows:
        if cells[0].startswith("pairwise"):
            name, value = cells[6].rsplit(" ", 1)
            tolerance = 1e-5 if "float32" in cells[0] else 1e-12
            assert name == "max rel diff vs cdist" and float(value) < tolerance


def test_legacy_case_is_skipped_without_the_venv(tmp_path, monkeypatch):
    monkeypatch.setenv(_harness.LEGACY_VENV_VARIABLE, str(tmp_path / "missing"))
    case = _harness.Case(
        "legacy",
        "metric-learn NCA",
        anchor=_harness.LegacyAnchor({"module": "metric_learn", "class": "NCA"}),
        ours=lambda: pytest.fail("ours must not run when the anchor cannot"),
    )
    row = _harness.run_case(case, repeats=1)
    assert row.status == "skipped" and row.ratio is None
    assert _harness.LEGACY_HINT in row.notes[0]
    _, rows = parse_table(_harness.render_table([row]))
    assert rows[0][2] == "skipped"


def test_legacy_runner_through_a_subprocess(monkeypatch):
    from sklearn.datasets import load_iris
    from sklearn.neighbors import NeighborhoodComponentsAnalysis

    # The current interpreter stands in for the legacy venv's: the runner
    # only needs numpy, scikit-learn and the estimator's module.
    monkeypatch.setattr(_harness, "legacy_python", lambda: Path(sys.executable))
    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:100], order[100:]
    data = {
        "X_train": X[train],
        "y_train": y[train],
        "X_test": X[test],
        "y_test": y[test],
    }
    params = {"n_components": 2, "max_iter": 5, "random_state": 0}
    case = _harness.legacy_fit_case(
        "nca iris",
        "sklearn NCA (legacy runner)",
        module="sklearn.neighbors",
        class_name="NeighborhoodComponentsAnalysis",
        params=params,
        ours=NeighborhoodComponentsAnalysis(**params),
        data=data,
    )
    row = _harness.run_case(case, repeats=1)
    assert row.status == "ok", row.notes
    assert row.ratio == row.anchor_time / row.our_time
    assert row.quality.name == "knn3 accuracy" and 0.5 < row.quality.value <= 1.0
    notes = "; ".join(row.notes)
    assert "scikit-learn " in notes and "anchor knn3 accuracy" in notes
    _, rows = parse_table(_harness.render_table([row]))
    check_ratio_cells(rows[0])


def test_case_set_up_from_the_anchor_report(monkeypatch):
    from sklearn.datasets import load_iris
    from sklearn.neighbors import NeighborhoodComponentsAnalysis

    monkeypatch.setattr(_harness, "legacy_python", lambda: Path(sys.executable))
    X, y = load_iris(return_X_y=True)
    data = {"X_train": X[::2], "y_train": y[::2], "X_test": X[1::2], "y_test": y[1::2]}
    params = {"n_components": 2, "max_iter": 3, "random_state": 0}
    seen = {}

    def ours_from_report(report):
        # The anchor has run: its fitted map and iteration count are known.
        seen["components"] = np.asarray(report["components"])
        seen["n_iter"] = report["n_iter"]
        estimator = NeighborhoodComponentsAnalysis(**params)
        return lambda: estimator.fit(data["X_train"], data["y_train"])

    case = _harness.Case(
        "nca iris from report",
        "sklearn NCA (legacy runner)",
        anchor=_harness.LegacyAnchor(
            spec={
                "module": "sklearn.neighbors",
                "class": "NeighborhoodComponentsAnalysis",
                "params": params,
                "report_components": True,
            },
            arrays=data,
        ),
        ours=ours_from_report,
        ours_needs_report=True,
    )
    row = _harness.run_case(case, repeats=1)
    assert row.status == "ok", row.notes
    assert seen["components"].shape == (2, 4)
    # scikit-learn's NCA has the same seed and data on both sides.
    reference = NeighborhoodComponentsAnalysis(**params).fit(
        data["X_train"], data["y_train"]
    )
    np.testing.assert_allclose(seen["components"], reference.components_, rtol=1e-10)
    assert seen["n_iter"] == reference.n_iter_


def test_legacy_case_scored_by_predict(monkeypatch):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setattr(_harness, "legacy_python", lambda: Path(sys.executable))
    X, y = load_iris(return_X_y=True)
    data = {"X_train": X[::2], "y_train": y[::2], "X_test": X[1::2], "y_test": y[1::2]}
    case = _harness.legacy_fit_case(
        "logistic iris",
        "sklearn LogisticRegression (legacy runner)",
        module="sklearn.linear_model",
        class_name="LogisticRegression",
        params={"max_iter": 500},
        ours=LogisticRegression(max_iter=500),
        data=data,
        scoring="predict",
    )
    row = _harness.run_case(case, repeats=1)
    assert row.status == "ok", row.notes
    expected = (
        LogisticRegression(max_iter=500).fit(X[::2], y[::2]).score(X[1::2], y[1::2])
    )
    assert row.quality.name == "predict accuracy"
    assert row.quality.value == pytest.approx(expected)
    assert f"anchor predict accuracy {expected:.4f}" in "; ".join(row.notes)


def test_robustness_suite_table_without_the_legacy_venv():
    from benchmarks.suites import robustness

    rows = robustness.evaluate(["iris"], ["ITML_Supervised"], (0,), legacy=False)
    (row,) = rows
    # The Euclidean accuracy is the protocol's, computed independently here.
    X, y = robustness.DATASETS["iris"][0]()
    X_train, y_train, X_test, y_test = robustness.split(X, y, 0)
    from sklearn.neighbors import KNeighborsClassifier

    euclidean = KNeighborsClassifier(3).fit(X_train, y_train).score(X_test, y_test)
    assert row["euclidean"] == (euclidean, euclidean, euclidean)
    assert row["metric_learn"] is None
    # Without metric-learn, the margin is against Euclidean - 0.02 only.
    assert robustness.margin(row) == pytest.approx(row["ours"][0] - euclidean + 0.02)
    header, data = parse_table(robustness.markdown(rows))
    assert header[:2] == ["dataset", "learner"]
    assert data[0][:2] == ["iris", "ITML_Supervised"]


def test_robustness_suite_leaves_out_keel_sets_without_their_files(monkeypatch):
    from benchmarks.suites import robustness

    monkeypatch.setattr(robustness, "keel_directory", lambda: None)
    assert robustness.available(["iris", "vowel", "wine"]) == ["iris", "wine"]


def test_mmc_objective_ratio_and_table_without_the_legacy_venv():
    from benchmarks import mmc_objective

    rng = np.random.RandomState(0)
    X = rng.randn(12, 3)
    pairs = np.array([[0, 1], [2, 3], [4, 5], [6, 7]])
    labels = np.array([1.0, 1.0, -1.0, -1.0])
    L = rng.randn(2, 3)
    # Xing's objective at the active constraint, term by term.
    similar = sum(np.sum((L @ (X[i] - X[j])) ** 2) for i, j in pairs[:2])
    dissimilar = sum(np.linalg.norm(L @ (X[i] - X[j])) for i, j in pairs[2:])
    ratio = mmc_objective.mmc_ratio(L, X, pairs, labels)
    assert ratio == pytest.approx(dissimilar / np.sqrt(similar))
    assert mmc_objective.mmc_ratio(3.0 * L, X, pairs, labels) == pytest.approx(ratio)
    assert mmc_objective.effective_rank(np.diag([1.0, 1e-5, 0.0])) == 1

    (row,) = mmc_objective.evaluate(["iris"], [0], legacy=False)
    # MMC starts from the identity and only climbs.
    assert row["ours"] > row["identity"]
    assert "metric_learn" not in row
    header, data = parse_table(mmc_objective.markdown([row]))
    assert header[:2] == ["dataset", "split"] and data[0][4] == "-"


@pytest.mark.parametrize("kind", ["quadruplets", "chunks"])
def test_legacy_runner_fit_target(monkeypatch, kind):
    from benchmarks.suites import metric_learning as suite
    from sklearn_metric.metric_learning import LSML, RCA

    # Our own learners stand in for metric-learn's, in the current
    # interpreter: both sides then fit the same thing, the same way.
    monkeypatch.setattr(_harness, "legacy_python", lambda: Path(sys.executable))
    data = suite.digits_protocol(quick=True)
    _, quadruplets, chunks = suite.digit_tuples(data, n_tuples=60)
    if kind == "quadruplets":
        case = _harness.legacy_fit_case(
            "lsml",
            "LSML (runner)",
            module="sklearn_metric.metric_learning",
            class_name="LSML",
            params={"random_state": 0},
            ours=LSML(random_state=0),
            data=quadruplets,
            scoring="predict",
            fit_target=None,
        )
    else:
        case = _harness.legacy_fit_case(
            "rca",
            "RCA (runner)",
            module="sklearn_metric.metric_learning",
            class_name="RCA",
            params={},
            ours=RCA(),
            data=chunks,
            fit_target="chunks",
        )
    row = _harness.run_case(case, repeats=1)
    assert row.status == "ok", row.notes
    assert f"anchor {row.quality.name} {row.quality.value:.4f}" in "; ".join(row.notes)


def test_digit_tuples_are_true_by_the_labels():
    from benchmarks.suites import metric_learning as suite

    data = suite.digits_protocol(quick=True)
    triplets, quadruplets, chunks = suite.digit_tuples(data, n_tuples=50)

    def labels_of(points, split):
        # Each point is a row of the split: recover its label by lookup.
        rows = {
            row.tobytes(): label
            for row, label in zip(data[f"X_{split}"], data[f"y_{split}"])
        }
        return np.array([[rows[p.tobytes()] for p in tup] for tup in points])

    for split in ("train", "test"):
        t = labels_of(triplets[f"X_{split}"], split)
        assert np.all(t[:, 0] == t[:, 1]) and np.all(t[:, 0] != t[:, 2])
        q = labels_of(quadruplets[f"X_{split}"], split)
        assert np.all(q[:, 0] == q[:, 1]) and np.all(q[:, 2] != q[:, 3])
        assert np.all(triplets[f"y_{split}"] == 1)
    members = chunks["chunks"]
    for chunk in np.unique(members[members >= 0]):
        assert len(set(data["y_train"][members == chunk])) == 1
    assert np.unique(members[members >= 0]).shape[0] == 100


def test_mlkr_to_anchor_objective_stops_at_the_anchor_objective():
    # Regression: the row called the shared NCA/MLKR kernel without class
    # codes and failed to compile, so the benchmark row read "failed".
    from benchmarks.suites import metric_learning as suite

    data = suite.digits_protocol(quick=True)
    n_features = data["X_train"].shape[1]
    report = {"components": np.eye(n_features).tolist()}
    fit = suite._mlkr_to_anchor_objective(data, report)
    fitted = fit()
    # The identity is MLKR's starting point: reaching its objective takes
    # the fewest iterations allowed, and the recorded objective is its own.
    assert fitted.n_iter_ == 1
    assert report["anchor_objective"] == pytest.approx(fitted.objective_[0])


def test_prototypes_robustness_quick_cases_score_against_the_floor():
    from benchmarks.suites import prototypes_robustness

    cases = list(prototypes_robustness.cases(quick=True))
    assert len(cases) == 2 * 3
    case = cases[0]
    quality = case.quality(case.anchor(), case.ours())
    assert quality.name == "accuracy over the floor"
    assert -1.0 <= quality.value <= 1.0
    assert "NearestCentroid" in quality.note
    assert set(prototypes_robustness.classifiers()) >= {"GMLVQ", "RSLVQ"}


def test_hnsw_suite_rows_with_an_exact_stand_in(monkeypatch):
    from sklearn.neighbors import NearestNeighbors

    from benchmarks.suites import hnsw

    def build(X):
        return NearestNeighbors(n_neighbors=hnsw.K, algorithm="brute").fit(X)

    def query(index, Q):
        return index.kneighbors(Q, return_distance=False)

    monkeypatch.setattr(hnsw, "LIBRARIES", {"exact": (build, query, "sklearn")})
    monkeypatch.setattr(hnsw, "_sizes", lambda quick: (400, 40))
    monkeypatch.setattr(hnsw, "cold_start_seconds", lambda: (9.0, 1.0))
    result = _harness.run_suite(hnsw, quick=True, repeats=1)
    assert [row.status for row in result.rows] == ["ok", "ok"]
    build_row, query_row = result.rows
    # The stand-in is exact: its recall is 1, and ours on 400 rows nearly so.
    assert "anchor recall@10 1.0000" in "; ".join(build_row.notes)
    assert query_row.quality.value > 0.99
    assert any("9.00 s with an empty Numba cache" in line for line in result.context)
    X, Q = hnsw.make_data(50, 5, n_features=8, intrinsic=3)
    assert X.shape == (50, 8) and Q.shape == (5, 8) and X.dtype == np.float32
    exact = np.array([[0, 1, 2], [3, 4, 5]])
    assert hnsw.recall(np.array([[2, 1, 9], [3, 4, 5]]), exact) == pytest.approx(5 / 6)


def test_hnsw_crossover_suite_rows_at_tiny_sizes(monkeypatch):
    from sklearn.neighbors import KNeighborsClassifier

    from benchmarks.suites import hnsw_crossover as suite

    monkeypatch.setitem(suite.SIZES, True, {"smote": (300,), "knn": (500,)})
    monkeypatch.setitem(suite.QUERIES, True, 100)
    measured = []

    def fake_rss(kind, side, *sizes):
        # The fresh processes are tested below; here only the note matters.
        measured.append((kind, side, sizes))
        return 100.0, 150.0 if side == "exact" else 160.0

    monkeypatch.setattr(suite, "peak_rss_mb", fake_rss)
    result = _harness.run_suite(suite, quick=True, repeats=1)
    assert [row.status for row in result.rows] == ["ok"] * 3, result.rows
    assert measured == [
        ("smote", "exact", (300,)),
        ("smote", "hnsw", (300,)),
        ("knn", "exact", (500, 100)),
        ("knn", "hnsw", (500, 100)),
    ]
    smote, fit_predict, predict = result.rows
    for row in (smote, fit_predict):
        assert "peak RSS exact 150 MB, hnsw 160 MB" in "; ".join(row.notes)
    assert "class counts equal" in "; ".join(smote.notes)
    assert smote.quality.name == "recall@5 (hnsw)" and smote.quality.value > 0.95
    # The exact accuracy, from scikit-learn's brute force on the same split.
    X_train, y_train, X_test, y_test = suite.make_knn_data(500, 100)
    expected = KNeighborsClassifier(5, algorithm="brute").fit(X_train, y_train)
    accuracy = expected.score(X_test, y_test)
    for row in (fit_predict, predict):
        assert f"exact accuracy {accuracy:.4f}" in "; ".join(row.notes)
        assert abs(row.quality.value - accuracy) <= 0.05
    header, rows = parse_table(_harness.render_table(result.rows))
    assert tuple(header) == _harness.COLUMNS
    for cells in rows:
        check_ratio_cells(cells)


def test_hnsw_crossover_recall_and_fresh_process_memory():
    from sklearn.neighbors import NearestNeighbors

    from benchmarks.suites import hnsw_crossover as suite
    from sklearn_metric.neighbors import HNSWNeighborsTransformer

    X, y = suite.make_smote_data(400)
    assert X.shape == (2000, 16) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [1600, 400]
    X_minority = X[y == 1]
    exact = NearestNeighbors(n_neighbors=6, algorithm="brute").fit(X_minority)
    assert suite.neighbour_recall(X_minority, exact) == 1.0
    poor = HNSWNeighborsTransformer(
        n_neighbors=6, M=2, ef_construction=2, ef=1, random_state=0
    ).fit(X_minority)
    assert suite.neighbour_recall(X_minority, poor, n_rows=100) < 0.9
    warm, peak = suite.peak_rss_mb("smote", "hnsw", 300)
    # A process that imported numpy, scikit-learn and numba holds tens of MB.
    assert 20 < warm <= peak
