"""Command line: ``python -m benchmarks [suites...] [--quick] [--output FILE]``.

Runs the named suites (all of them when none is named), prints one markdown
report per suite to standard output, writes each to
``benchmarks/results/<suite>.md`` and, with ``--output``, all of them to one
file.  Progress goes to standard error.  The exit status is 1 when a case
failed (a skipped legacy case does not count).
"""

import argparse
import sys
from pathlib import Path

from ._harness import (
    RESULTS_DIR,
    available_suites,
    environment_lines,
    load_suite,
    progress_to_stderr,
    render_report,
    run_suite,
)

DEFAULT_REPEATS = {False: 5, True: 3}


def build_parser():
    """Build the argument parser of ``python -m benchmarks``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time sklearn_metric against its anchors and write markdown "
        "tables (ratio = anchor time / our time).",
    )
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=f"suites to run (default: all of {', '.join(available_suites())})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: seconds, not minutes"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed calls per side after the warm-up "
        f"(default {DEFAULT_REPEATS[False]}, {DEFAULT_REPEATS[True]} with --quick)",
    )
    parser.add_argument(
        "--output", type=Path, help="also write every suite's report to this file"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="folder of the per-suite reports (default: benchmarks/results)",
    )
    parser.add_argument(
        "-k",
        dest="match",
        metavar="TEXT",
        help="run only the cases whose name contains TEXT",
    )
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    return parser


def _check_arguments(parser, args):
    unknown = sorted(set(args.suites) - set(available_suites()))
    if unknown:
        parser.error(
            f"unknown suite(s) {', '.join(unknown)}; "
            f"available: {', '.join(available_suites())}"
        )
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")


def main(argv=None):
    """Run the benchmarks named on the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 when every case ran or was skipped, 1 when one failed.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available_suites()))
        return 0
    _check_arguments(parser, args)
    repeats = args.repeats or DEFAULT_REPEATS[args.quick]
    settings = (
        f"`python -m benchmarks {' '.join(argv if argv is not None else sys.argv[1:])}`"
        f" ({'quick' if args.quick else 'full'} sizes, best of {repeats} repeats)"
    )

    results = [
        run_suite(
            load_suite(name),
            quick=args.quick,
            repeats=repeats,
            progress=progress_to_stderr,
            match=args.match,
        )
        for name in args.suites or available_suites()
    ]
    # Read last: by now the suites have started numba's threading layer the
    # way they use it, so the report shows the layer that was really timed.
    environment = environment_lines()

    args.results_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for result in results:
        report = render_report(result, environment, settings)
        (args.results_dir / f"{result.name}.md").write_text(report, encoding="utf-8")
        print(report)
        reports.append(report)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(reports), encoding="utf-8")
    failed = any(row.status == "failed" for result in results for row in result.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
