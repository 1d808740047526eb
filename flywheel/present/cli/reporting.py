"""``flywheel report``: the board report, one self-contained HTML file (and a PDF with --pdf)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .auditing import DEFAULT_MAPPING
from .common import EXIT_OK, UsageError, add_command, default_path, status


def register(sub: Any) -> None:
    p = add_command(
        sub, "report",
        help="write the board report: one self-contained HTML file (and PDF)",
        description="Run the scenario files (the plans) and write one self-contained HTML file a manager can "
        "forward: a cover, the story in three sentences and what the plans do, the comparison figure and summary "
        "table, the causal loop diagram, the loop-dominance picture, the assumptions that differ between the "
        "plans with their sources, the sales-ecosystem audit (with --audit), and what the model is not. Figures "
        "are embedded; the file references nothing outside itself. --pdf also prints it to PDF (A4) with "
        "headless Chromium (needs the Debian package chromium and the Python package playwright).",
        epilog="examples:\n  flywheel report scenarios/shock_add_overlays.toml scenarios/shock_deep_dives.toml -o report.html\n"
        "  flywheel report scenarios/shock_*.toml --audit examples/audit/*.toml -o board.html --pdf\n"
        "  flywheel report S1.toml S2.toml --title 'Sales plan 2026: two ways' -o report.html --force",
    )  # fmt: skip
    p.add_argument("scenarios", metavar="SCENARIO.toml", nargs="+", help="the plans, in legend order")
    p.add_argument("-o", "--output", metavar="FILE.html", required=True, help="the report file (.html)")
    p.add_argument("--pdf", action="store_true", help="also write FILE.pdf (headless Chromium)")
    p.add_argument("--audit", metavar="ANSWERS.toml", nargs="+", help="audit answer files (several: a path over time)")
    p.add_argument("--mapping", metavar="FILE", help=f"the audit mapping (default: {DEFAULT_MAPPING})")
    p.add_argument("--title", help="the report's title (default: the model's title)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ...scenarios import load_scenario
    from ..output import check_can_write, write_files

    target = Path(args.output)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"report: {target.name}: the report file must end in .html")
    targets = [target] + ([target.with_suffix(".pdf")] if args.pdf else [])
    scenarios = [load_scenario(p) for p in args.scenarios]  # every input checked before anything runs
    _distinct(scenarios)
    audit = None
    if args.audit:
        from ...analysis.audit import load_answers, load_mapping

        mapping = load_mapping(Path(args.mapping) if args.mapping else default_path(DEFAULT_MAPPING))
        answers = [load_answers(p, mapping) for p in args.audit]
    elif args.mapping:
        raise UsageError("report: --mapping needs --audit ANSWERS.toml")
    if args.pdf:
        from ..browser import _sync_playwright, chromium_path

        chromium_path(), _sync_playwright()  # fail before the work when the PDF cannot be made
    check_can_write(targets, force=args.force)
    if args.audit:
        from ...analysis.audit import run_audit

        audit = run_audit(mapping, answers)
    from ..report import build_report

    report = build_report(scenarios, audit, title=args.title, step=_step)
    files = {target: report.html.encode("utf-8")}
    if args.pdf:
        from ..browser import html_to_pdf

        _step("printing to PDF")
        files[targets[1]] = html_to_pdf(report.html)
    written = write_files(files, force=args.force)
    for note in report.omitted:
        print(f"note: left out {note}", file=sys.stderr)
    status(written)
    return EXIT_OK


def _distinct(scenarios: list[Any]) -> None:
    seen: dict[str, Any] = {}
    for s in scenarios:
        if s.name in seen:
            same = Path(seen[s.name].path).resolve() == Path(s.path).resolve()
            reason = "is given twice" if same else f"and {seen[s.name].path} have the same name"
            raise UsageError(f"report: {s.path} {reason}; each plan needs its own file name")
        seen[s.name] = s


def _step(text: str) -> None:
    if sys.stderr.isatty():
        print(f"  {text} ...", file=sys.stderr)
