"""``flywheel verify``: a model's results against reference outputs (Vensim/Stella exports, test suites)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, UsageError, find_reference, formatter


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="check a model's results against a reference output (or a folder of test models)",
        description="Run MODEL and compare it with a reference output (Vensim .csv or .tab export); "
        "prints the worst variables. Without --reference, output.csv or output.tab next to the model "
        "is used. Given a folder, every test model in it is verified. Exit 0 if all passed, else 1.",
        epilog="examples:\n  flywheel verify models/evil_sales_flywheel.mdl --reference ref/output.csv\n"
        "  flywheel verify tests/models/ --pattern 'delay|smooth'",
        formatter_class=formatter,
    )
    p.add_argument("path", metavar="MODEL|DIR", help="a model file, or a folder of test models")
    p.add_argument("--reference", metavar="OUTPUT", help="reference output (.csv or .tab) for a single model")
    p.add_argument(
        "--method",
        default="euler",
        choices=["euler", "rk4", "RK45", "DOP853", "LSODA", "Radau"],
        metavar="METHOD",
        help="integration method for a single model (default euler)",
    )
    p.add_argument("--pattern", metavar="REGEX", help="for a folder: only models whose path matches REGEX")
    p.add_argument("-n", "--top", type=int, default=10, help="how many worst variables to show (default 10)")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    """Compare a model's run with a reference output (or a whole folder of test models)."""
    try:
        from ...analysis import verify
    except ImportError as exc:
        raise UsageError(f"verify: not available in this installation ({exc})") from None

    path = Path(args.path)
    if path.is_dir():
        if args.reference:
            raise UsageError("verify: --reference goes with a model file, not a folder")
        if args.pattern:
            import re

            try:
                re.compile(args.pattern)
            except re.error as exc:
                raise UsageError(
                    f"verify: --pattern {args.pattern!r} is not a regular expression: {exc}"
                ) from None
        report = verify.verify_suite(path, progress=sys.stderr.isatty(), pattern=args.pattern)
        if len(report.table) == 0:
            which = f" matching {args.pattern!r}" if args.pattern else ""
            raise UsageError(f"verify: no models{which} with an output.csv/output.tab reference below {path}")
        print(report.to_text())
        return EXIT_OK if report.n_failed == 0 and report.n_error == 0 else EXIT_FAILED
    if not path.is_file():
        raise UsageError(f"verify: {path}: no such model file or folder")
    reference = Path(args.reference) if args.reference else find_reference(path)
    if not reference.is_file():
        raise UsageError(f"verify: {reference}: no such reference file")
    if args.pattern:
        raise UsageError("verify: --pattern goes with a folder, not a model file")
    report = verify.compare_with_reference(path, reference, method=args.method)
    print(report.to_text(n=args.top))
    return EXIT_OK if report.passed else EXIT_FAILED
