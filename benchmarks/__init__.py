"""Benchmarks of ``sklearn_metric`` against reference implementations.

Run from the repository root::

    python -m benchmarks --quick          # every suite, small sizes
    python -m benchmarks kernels          # one suite, full sizes

Each suite is a module of :mod:`benchmarks.suites`; the timing, environment
and table machinery is in :mod:`benchmarks._harness`.  See
``benchmarks/README.md``.
"""

from ._harness import Case, LegacyAnchor, Quality, Row, legacy_fit_case

__all__ = ["Case", "LegacyAnchor", "Quality", "Row", "legacy_fit_case"]
