"""Run imbalanced-learn's own over-sampling tests against sklearn_metric's samplers.

The installed test modules of imbalanced-learn (``imblearn/over_sampling/tests``
and ``imblearn/over_sampling/_smote/tests``) are copied into a temporary
directory, never into this repository. In each copy, only the sampler imports
change: ``from imblearn.over_sampling import ...`` becomes
``from sklearn_metric.over_sampling import ...``. Every other import (their
test utilities, scikit-learn) is left as it is. pytest then runs the copies and
the script prints the counts of passed and failed tests and the failing ids,
one a line; docs/migrating_imbalanced_learn.rst explains each difference.

Usage::

    python -m benchmarks.imblearn_compat [pytest args]
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

#: The sampler import of imbalanced-learn's tests, single-line or parenthesised.
_SAMPLER_IMPORT = re.compile(r"^(\s*)from imblearn\.over_sampling import\b", re.M)

#: Test directories of imbalanced-learn, relative to the installed package.
TEST_DIRS = ("over_sampling/tests", "over_sampling/_smote/tests")


def rewrite_sampler_imports(source):
    """Point the sampler imports of a test module at sklearn_metric.

    Parameters
    ----------
    source : str
        Text of one of imbalanced-learn's test modules.

    Returns
    -------
    source : str
        The same text in which ``from imblearn.over_sampling import`` reads
        ``from sklearn_metric.over_sampling import``; nothing else changes.

    Examples
    --------
    >>> rewrite_sampler_imports("from imblearn.over_sampling import SMOTE\\n")
    'from sklearn_metric.over_sampling import SMOTE\\n'
    >>> rewrite_sampler_imports("from imblearn.utils import check_target_type\\n")
    'from imblearn.utils import check_target_type\\n'
    """
    return _SAMPLER_IMPORT.sub(r"\1from sklearn_metric.over_sampling import", source)


def imblearn_test_files():
    """The installed test modules of imbalanced-learn's over-samplers.

    Returns
    -------
    files : list of (Path, str)
        Each test file and its path relative to the imblearn package.

    Raises
    ------
    ImportError
        When imbalanced-learn is not installed.
    """
    import imblearn

    root = Path(imblearn.__file__).parent
    files = []
    for sub in TEST_DIRS:
        for path in sorted((root / sub).glob("test_*.py")):
            files.append((path, f"{sub}/{path.name}"))
    return files


def copy_rewritten(destination, select=None):
    """Copy the rewritten test modules into ``destination``.

    Parameters
    ----------
    destination : Path
        An empty directory.
    select : callable, default=None
        ``relative path -> bool``; only the files it accepts are copied.

    Returns
    -------
    copied : list of Path
        The rewritten copies.
    """
    copied = []
    for path, relative in imblearn_test_files():
        if select is not None and not select(relative):
            continue
        target = destination / ("test__" + relative.replace("/", "__"))
        target.write_text(rewrite_sampler_imports(path.read_text()))
        copied.append(target)
    return copied


def parse_counts(output):
    """Passed and failed counts from pytest's ``-rA`` summary lines.

    Parameters
    ----------
    output : str
        pytest's standard output.

    Returns
    -------
    counts : dict
        ``{"passed": n, "failed": n, "error": n, "skipped": n, "xfailed": n}``
        and ``"failures"``, the sorted failing test ids.
    """
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0, "xfailed": 0}
    failures = []
    for line in output.splitlines():
        match = re.match(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL)\s+(\S+)", line)
        if not match:
            continue
        outcome, test_id = match.groups()
        key = {"XFAIL": "xfailed"}.get(outcome, outcome.lower())
        counts[key] += 1
        if outcome in ("FAILED", "ERROR"):
            failures.append(test_id)
    counts["failures"] = sorted(failures)
    return counts


def run(pytest_args=(), select=None):
    """Copy, rewrite and run imbalanced-learn's over-sampling tests.

    Parameters
    ----------
    pytest_args : sequence of str, default=()
        Extra arguments for pytest.
    select : callable, default=None
        As in :func:`copy_rewritten`.

    Returns
    -------
    counts : dict
        As returned by :func:`parse_counts`.
    """
    with tempfile.TemporaryDirectory(prefix="imblearn_compat_") as tmp:
        tmp = Path(tmp)
        # An empty conftest/ini keeps the repository's pytest configuration out.
        (tmp / "pytest.ini").write_text("[pytest]\n")
        copy_rewritten(tmp, select)
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-rA",
                "--continue-on-collection-errors",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(tmp),
                "-c",
                str(tmp / "pytest.ini"),
                *pytest_args,
                str(tmp),
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        return parse_counts(completed.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    counts = run(args.pytest_args)
    total = counts["passed"] + counts["failed"] + counts["error"]
    print(
        f"passed {counts['passed']} of {total} "
        f"(failed {counts['failed']}, errors {counts['error']}, "
        f"skipped {counts['skipped']}, xfailed {counts['xfailed']})"
    )
    for test_id in counts["failures"]:
        print(f"FAILED {test_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
