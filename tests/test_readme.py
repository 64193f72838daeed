"""Every command in README.md is run here or by .ci/run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def _bash_commands():
    return [
        line.strip()
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.strip()
    ]


def _cli():
    """The installed console script, or the module when only the source is here."""
    script = shutil.which("sklearn-metric")
    return [script] if script else [sys.executable, "-m", "sklearn_metric"]


def test_every_bash_command_is_covered():
    covered = {
        'python -m pip install -e ".[test]"',  # .ci/run
        "python -m pytest -n 2",  # .ci/run
        "python -m pip install .",  # test_pip_install_builds
        "sklearn-metric",  # test_default_command
        "sklearn-metric my_table.csv --target label --metrics euclidean,cosine",
    }
    assert set(_bash_commands()) == covered


def test_ci_runs_the_marked_block():
    marker = "<!-- ci: test command -->"
    assert marker in README
    assert marker in (ROOT / ".ci" / "run").read_text()
    block = README.split(marker, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert block.split("\n")[:2] == [
        'python -m pip install -e ".[test]"',
        "python -m pytest -n 2",
    ]


def test_default_command():
    result = subprocess.run(
        _cli(), capture_output=True, text=True, timeout=600, check=True
    )
    assert "wine" in result.stdout
    assert "| kNN (euclidean) |" in result.stdout


def test_csv_command(tmp_path):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    lines = ["a,b,c,d,label"] + [
        ",".join(map(str, row)) + f",{t}" for row, t in zip(X, y)
    ]
    (tmp_path / "my_table.csv").write_text("\n".join(lines) + "\n")
    command = "sklearn-metric my_table.csv --target label --metrics euclidean,cosine"
    result = subprocess.run(
        _cli() + command.split()[1:],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert "| kNN (cosine) |" in result.stdout


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_blocks_run(index):
    exec(
        compile(_blocks("python")[index], f"README.md python block {index}", "exec"), {}
    )


@pytest.mark.slow
def test_pip_install_builds(tmp_path):
    # The README's install command, into a scratch folder and without resolving
    # the (already installed) dependencies again.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            ".",
            "--quiet",
            "--no-deps",
            "--target",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    assert (tmp_path / "site" / "sklearn_metric" / "distances.py").exists()
