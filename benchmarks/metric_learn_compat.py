"""Run metric-learn 0.7's own test suite against sklearn_metric's learners.

The tests are copied into a temporary directory (never into this repository)
as a package named ``test``, the name their imports use, next to a
``conftest.py`` that puts module aliases into ``sys.modules`` before they are
collected: ``metric_learn`` and its public submodules resolve to
:mod:`sklearn_metric.metric_learning`, so only the imports change.

metric-learn's private helpers (``sklearn_shims``, ``_util``, ``_BaseSDML``,
``lmnn._sum_outer_products``...) have no counterpart here. The aliases give
scikit-learn's equivalents for the shims (they are test utilities), and for
every other private name a placeholder that raises ``NotImplementedError``
when used, so the test modules still import and only the tests that exercise
those internals fail.

Usage::

    python benchmarks/metric_learn_compat.py /path/to/metric-learn/test [pytest args]

It prints the counts of passed, failed and errored tests, and the failing
test ids, one a line, for classification (see docs/migrating_metric_learn.rst).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CONFTEST = '''
"""Module aliases: metric_learn -> sklearn_metric.metric_learning."""

import inspect
import sys
import types

import sklearn
import sklearn.utils._testing as _testing
from sklearn.metrics import get_scorer

import sklearn_metric.metric_learning as _ml
from sklearn_metric.metric_learning import constraints as _constraints


class _Private:
    """Stands for a private metric-learn helper with no counterpart."""

    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f"{self.__name__} is a private metric-learn internal; "
            "sklearn_metric has no counterpart"
        )


class _AliasModule(types.ModuleType):
    """Public names from a sklearn_metric module, placeholders for the rest."""

    def __init__(self, name, *sources, strip_underscore=False):
        super().__init__(name)
        self._sources = sources
        self._strip = strip_underscore

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        names = [attr]
        if self._strip and attr.startswith("_"):
            names.append(attr.lstrip("_"))
        for source in self._sources:
            for candidate in names:
                if hasattr(source, candidate):
                    return getattr(source, candidate)
        if attr.lstrip("_")[:1].isupper():
            # A private class (_BaseSDML) or an exception (NonPSDError): a type
            # that no sklearn_metric object is an instance of.
            base = Exception if attr.endswith("Error") else object
            return type(attr, (base,), {})
        return _Private(f"{self.__name__}.{attr}")


def _is_public_parameter(attr):
    return not (attr.startswith("_") or attr.endswith("_"))


def _get_args(function, varargs=False):
    params = inspect.signature(function).parameters
    args = [
        key
        for key, param in params.items()
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    ]
    return args


shims = types.ModuleType("metric_learn.sklearn_shims")
shims.set_random_state = _testing.set_random_state
shims.ignore_warnings = _testing.ignore_warnings
shims.assert_allclose_dense_sparse = _testing.assert_allclose_dense_sparse
shims._get_args = _get_args
shims.is_public_parameter = _is_public_parameter
shims.get_scorer = get_scorer
shims.SKLEARN_AT_LEAST_0_22 = True
shims.__all__ = []

_exceptions = getattr(_ml, "exceptions", None)
aliases = {
    "metric_learn": _ml,
    "metric_learn.constraints": _constraints,
    "metric_learn.sklearn_shims": shims,
    "metric_learn.base_metric": _AliasModule(
        "metric_learn.base_metric", _ml, strip_underscore=True
    ),
    "metric_learn.exceptions": _AliasModule(
        "metric_learn.exceptions", *([_exceptions] if _exceptions else [])
    ),
    "metric_learn._util": _AliasModule("metric_learn._util"),
}
for _sub in ("itml", "lmnn", "lsml", "mlkr", "mmc", "nca", "rca", "scml", "sdml",
             "lfda", "covariance"):
    aliases[f"metric_learn.{_sub}"] = _AliasModule(f"metric_learn.{_sub}", _ml)
sys.modules.update(aliases)
'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_dir", help="metric-learn's test directory")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)

    source = Path(args.test_dir).resolve()
    if not source.is_dir():
        parser.error(f"{source} is not a directory")
    with tempfile.TemporaryDirectory(prefix="ml-compat-") as tmp:
        root = Path(tmp)
        shutil.copytree(source, root / "test", ignore=shutil.ignore_patterns("*.pyc"))
        (root / "test" / "__init__.py").touch()
        (root / "conftest.py").write_text(_CONFTEST)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rfE",
            "--tb=no",
            "-W",
            "ignore",
            "test",
            *args.pytest_args,
        ]
        result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    output = result.stdout
    failures = sorted(
        line.split(" ", 1)[1].split(" - ")[0]
        for line in output.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    )
    summary = output.strip().splitlines()[-1] if output.strip() else result.stderr
    counts = {
        kind: int(number)
        for number, kind in re.findall(
            r"(\d+) (passed|failed|error|errors|skipped)", summary
        )
    }
    for test_id in failures:
        print(test_id)
    print(
        "metric-learn suite: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("passed", "failed", "skipped"))
        + f", {counts.get('error', 0) + counts.get('errors', 0)} errors"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
