"""``flywheel run`` and ``flywheel compare``: scenarios to results, figures and the summary table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, add_command, add_output, csv_bytes, progress, status


def register(sub: Any) -> None:
    p = add_command(
        sub, "run",
        help="run one scenario, write its results and figure",
        description="Run one scenario file and write DIR/<name>.csv (every variable, one row per saved time) "
        "and DIR/<name>.png and .svg (the model's key variables, one panel each). The scenario's summary row "
        "is printed.",
        epilog="example:\n  flywheel run scenarios/shock_add_overlays.toml -o results/",
    )  # fmt: skip
    p.add_argument("scenario", metavar="SCENARIO.toml", help="the scenario file")
    add_output(p)
    p.set_defaults(func=cmd_run)

    p = add_command(
        sub, "compare",
        help="run several scenarios, write a comparison figure and summary",
        description="Run several scenario files and write DIR/comparison.png and .svg (one panel per key "
        "variable, one colour per scenario), DIR/comparison.csv (all results, with a scenario column) and "
        "DIR/summary.csv; the summary table is printed. Every file is checked before anything runs, and "
        "nothing is written unless every run succeeds.",
        epilog="examples:\n  flywheel compare scenarios/steady.toml scenarios/shock_deep_dives.toml -o results/\n"
        "  flywheel compare scenarios/*.toml -o results/ --title 'Board meeting, Q3' --force",
    )  # fmt: skip
    p.add_argument("scenarios", metavar="SCENARIO.toml", nargs="+", help="scenario files, in legend order")
    add_output(p)
    p.add_argument("--title", help="figure title (default: '<model title>: scenario comparison')")
    p.set_defaults(func=cmd_compare)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario; write <name>.csv, <name>.png and <name>.svg; print its summary row."""
    from ...scenarios import get_model, load_profile, load_scenario, run_scenario
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes, run_figure
    from ..summary import format_summary, summarise

    scenario = load_scenario(args.scenario)
    outdir = Path(args.output)
    base = outdir / scenario.name
    targets = [base.with_name(f"{scenario.name}.{ext}") for ext in ("csv", "png", "svg")]
    check_can_write(targets, force=args.force)  # fail before the (possibly slow) run

    model = get_model(scenario.model_path)
    profile = load_profile(model)
    df = run_scenario(scenario, model)
    fig = run_figure(df, scenario, model, profile)
    files = {targets[0]: csv_bytes(df), **figure_bytes(fig, base, ("png", "svg"))}
    written = write_files(files, force=args.force)
    print(format_summary(summarise({scenario.name: df}, profile), profile, {scenario.name: scenario.title}))
    status(written)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several scenarios and write the comparison figure, the stacked results and the summary."""
    from ...scenarios import get_model, load_profile, load_scenario, run_scenario
    from ..output import check_can_write, write_files
    from ..plots import compare_figure, figure_bytes
    from ..summary import format_summary, summarise

    # Validate every file before running any, so a typo in the last one costs no time.
    scenarios = [load_scenario(p) for p in args.scenarios]
    by_name: dict[str, Any] = {}
    for s in scenarios:
        if s.name in by_name:
            other = by_name[s.name].path
            same = Path(other).resolve() == Path(s.path).resolve()
            reason = "is given twice" if same else f"and {other} have the same name"
            raise UsageError(f"compare: {s.path} {reason}; each scenario needs its own file name")
        by_name[s.name] = s

    outdir = Path(args.output)
    targets = {
        "png": outdir / "comparison.png",
        "svg": outdir / "comparison.svg",
        "csv": outdir / "comparison.csv",
        "summary": outdir / "summary.csv",
    }
    check_can_write(targets.values(), force=args.force)

    results = {}
    bar = progress(scenarios, "running")
    for s in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(s.name)
        results[s.name] = run_scenario(s, get_model(s.model_path))

    import pandas as pd

    model = get_model(scenarios[0].model_path)  # units and profile for the figure and table
    profile = load_profile(model)
    table = summarise(results, profile)
    fig = compare_figure(results, by_name, model, profile, title=args.title)
    stacked = pd.concat([df.reset_index().assign(scenario=name) for name, df in results.items()], ignore_index=True)
    stacked = stacked[["scenario", *[c for c in stacked.columns if c != "scenario"]]]
    summary = table.copy()
    summary.insert(0, "title", [by_name[n].title for n in summary.index])

    files = {
        **figure_bytes(fig, outdir / "comparison", ("png", "svg")),
        targets["csv"]: stacked.to_csv(index=False).encode("utf-8"),
        targets["summary"]: summary.to_csv().encode("utf-8"),
    }
    written = write_files(files, force=args.force)
    print(format_summary(table, profile, {name: s.title for name, s in by_name.items()}))
    status(written)
    return EXIT_OK
