"""The sklearn-metric command on built-in data and on CSV files."""

import numpy as np
import pytest

from sklearn_metric.cli import load_csv, main


def test_default_run_prints_a_table(capsys):
    assert main(["--dataset", "iris", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "| model | accuracy |" in out
    rows = [line for line in out.splitlines() if line.startswith("| kNN")]
    assert len(rows) == 5
    accuracy = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in rows}
    # Standardised iris is easy for a 5-NN: a broken kernel would show here.
    assert accuracy["kNN (euclidean)"] > 0.9
    adaptive = [line for line in out.splitlines() if line.startswith("| adaptive kNN")]
    assert len(adaptive) == 1 and float(adaptive[0].split("|")[2]) > 0.9
    gmlvq = [line for line in out.splitlines() if line.startswith("| GMLVQ")]
    assert len(gmlvq) == 1 and float(gmlvq[0].split("|")[2]) > 0.9


def test_csv_input(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (30, 3)), rng.normal(4, 1, (30, 3))])
    labels = ["low"] * 30 + ["high"] * 30
    path = tmp_path / "data.csv"
    lines = ["a,b,c,kind"] + [
        ",".join(f"{v:.6f}" for v in row) + f",{label}" for row, label in zip(X, labels)
    ]
    path.write_text("\n".join(lines) + "\n")
    X_read, y_read, names = load_csv(path)
    np.testing.assert_allclose(X_read, X, atol=1e-6)
    assert names == ["a", "b", "c"] and list(y_read) == labels
    assert main([str(path), "--metrics", "euclidean", "--cv", "3"]) == 0
    assert "kNN (euclidean) | 1.0000" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("a,b,y\n1,x,0\n2,3,1\n", [], "not a number"),
        ("a,b,y\n1,2\n", [], "2 fields"),
        ("a,b,y\n1,2,0\n", ["--target", "z"], "no column named 'z'"),
        ("a,b,y\n", [], "at least one data row"),
        ("a,b,y\n1,2,0\n", ["--metrics", "nope"], "--metrics"),
    ],
)
def test_bad_input_exits_with_message(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main([str(path), *args]) == 2
    assert message in capsys.readouterr().err
