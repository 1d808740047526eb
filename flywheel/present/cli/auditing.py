"""``flywheel audit``: the sales-ecosystem audit on the command line: answer files in, "your answers put you
here", seed 001's ranking and the path over time out (figures, CSV, a short text)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, add_command, default_path, status

DEFAULT_MAPPING = Path("models") / "audit_mapping.toml"


def register(sub: Any) -> None:
    p = add_command(
        sub, "audit",
        help="place a team in the model from its sales-ecosystem audit answers",
        description="Read a team's audit answers (about 20 questions from the seeds' checklists, 1-5, in a TOML "
        "file; write one with --template) and map them to the model's levers and constants through the mapping "
        "file (a structured judgement, not a measurement). Writes to DIR: radar.png/.svg (the dimensions), "
        "trajectory.png/.svg (your current way of managing against the deep-dive alternative, from your "
        "position), ranking.png/.svg and ranking.csv (each dimension raised by one point, one at a time: which "
        "would create the biggest shift?), positions.csv (one row per answers file), trajectory.csv, "
        "summary.txt (also printed); with several dated answer files also path.png/.svg, the team's path.",
        epilog="examples:\n  flywheel audit --template > answers.toml          a questionnaire to fill in\n"
        "  flywheel audit answers.toml -o audit/\n"
        "  flywheel audit examples/audit/*.toml -o audit/      quarterly audits: the path over time\n"
        "  flywheel audit answers.toml --mapping my_mapping.toml -o audit/",
    )  # fmt: skip
    p.add_argument("answers", metavar="ANSWERS.toml", nargs="*", help="answer files (several: one per audit date)")
    p.add_argument("-o", "--output", metavar="DIR", help="folder for the results (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite existing result files")
    p.add_argument("--mapping", metavar="FILE", help=f"the audit mapping (default: {DEFAULT_MAPPING})")
    p.add_argument("--template", metavar="FILE", nargs="?", const="-",
                   help="write an answers template (to FILE, or to standard output) and exit")  # fmt: skip
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from ...analysis.audit import load_answers, load_mapping, run_audit

    mapping = load_mapping(Path(args.mapping) if args.mapping else default_path(DEFAULT_MAPPING))
    if args.template is not None:
        return _template(args, mapping)
    if not args.answers:
        raise UsageError("audit: give one or more answer files (or --template to write one)")
    if not args.output:
        raise UsageError("audit: the following arguments are required: -o/--output")
    answers = [load_answers(p, mapping) for p in args.answers]  # every file checked before anything runs
    outdir = Path(args.output)
    names = ["radar", "trajectory", "ranking"] + (["path"] if len(answers) > 1 else [])
    targets = [outdir / f"{n}.{ext}" for n in names for ext in ("png", "svg")]
    targets += [outdir / n for n in ("ranking.csv", "positions.csv", "trajectory.csv", "summary.txt")]
    from ..output import check_can_write, write_files

    check_can_write(targets, force=args.force)
    result = run_audit(mapping, answers)
    files = audit_files(result, outdir)
    written = write_files(files, force=args.force)
    print(result.report(), end="")
    status(written)
    return EXIT_OK


def audit_files(result: Any, outdir: Path) -> dict[Path, bytes]:
    """Every output of ``flywheel audit`` as bytes, keyed by path (nothing written yet)."""
    import pandas as pd

    from ...scenarios import load_profile
    from ..audit_plots import path_figure, radar_figure, shift_figure, trajectory_figure
    from ..plots import figure_bytes

    mapping = result.mapping
    profile = load_profile(mapping.model)
    figures = {
        "radar": radar_figure(mapping, result.path.positions),
        "trajectory": trajectory_figure(result.projection, mapping.model, profile, mapping.statement),
        "ranking": shift_figure(result.ranking, mapping, profile),
    }
    if len(result.answers) > 1:
        figures["path"] = path_figure(result.path, mapping, profile)
    files: dict[Path, bytes] = {}
    for name, fig in figures.items():
        files.update(figure_bytes(fig, outdir / name, ("png", "svg")))
    note = f"# {mapping.statement}\n"
    ranking = result.ranking.table.copy()
    files[outdir / "ranking.csv"] = (note + ranking.to_csv()).encode("utf-8")
    files[outdir / "positions.csv"] = (note + result.path.table.to_csv()).encode("utf-8")
    proj = result.projection
    stacked = pd.concat([df.reset_index().assign(plan=proj.scenarios[k].title) for k, df in proj.results.items()],
                        ignore_index=True)  # fmt: skip
    stacked = stacked[["plan", *[c for c in stacked.columns if c != "plan"]]]
    files[outdir / "trajectory.csv"] = (note + stacked.to_csv(index=False)).encode("utf-8")
    files[outdir / "summary.txt"] = result.report().encode("utf-8")
    return files


def _template(args: argparse.Namespace, mapping: Any) -> int:
    from ...analysis.audit import answers_template

    text = answers_template(mapping)
    if args.template == "-":
        sys.stdout.write(text)
        return EXIT_OK
    from ..output import write_text

    status([write_text(args.template, text, force=args.force)])
    return EXIT_OK
