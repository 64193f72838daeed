"""The code style is checked by a machine: ``ruff format`` and ``ruff check``.

ruff is a test extra, pinned to one minor version in ``pyproject.toml`` so that
the formatter's output does not change under the suite between releases.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff():
    script = shutil.which("ruff")
    if script is None:
        pytest.fail("ruff is a test extra: install it with pip install -e '.[test]'")
    return script


@pytest.mark.parametrize(
    "arguments",
    [["format", "--check", "--diff"], ["check", "--no-fix"]],
    ids=["format", "lint"],
)
def test_ruff(arguments):
    result = subprocess.run(
        [_ruff(), *arguments, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"ruff {' '.join(arguments)} failed:\n{report}"
