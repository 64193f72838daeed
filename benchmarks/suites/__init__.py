"""Benchmark suites, discovered by module name.

Every public module here (a name not starting with ``_``) is a suite that
``python -m benchmarks <name>`` can run.  A suite module exposes:

``cases(quick: bool) -> Iterable[benchmarks.Case]``
    The comparisons to time.  A generator is best: each case's data is then
    built only when the harness reaches it and freed after it.
``context(quick: bool) -> list[str]`` (optional)
    Extra header lines, computed before the first case (for example a
    machine peak measured in the same run).

The first line of the module docstring is the suite's title in the report.
"""
