"""``flywheel loops``, ``diagram``, ``dominance`` and ``animate``: the feedback loops of a model, drawn,
and which of them drive the behaviour when (Loops That Matter)."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, UsageError, add_command, add_output, status


def register(sub: Any) -> None:
    p = add_command(
        sub, "loops",
        help="list the model's feedback loops with their polarity",
        description="Find every feedback loop of a model (elementary cycles of its causal graph) with its polarity "
        "(R reinforcing, B balancing, ? when a link changes sign), length and variables. Loops are named in "
        "<model>.loops.toml next to the model; --check verifies that each named loop exists with the polarity "
        "the file expects (exit 1 if not).",
        epilog="examples:\n  flywheel loops models/evil_sales_flywheel.mdl\n"
        "  flywheel loops models/evil_sales_flywheel.mdl --check\n"
        "  flywheel loops models/evil_sales_flywheel.mdl --scenario scenarios/shock_add_overlays.toml --csv loops.csv",
    )  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="a Vensim .mdl or XMILE model file")
    p.add_argument("--scenario", metavar="S", help="scenario file whose run the link polarities are checked along")
    p.add_argument("--check", action="store_true", help="check the named loops of <model>.loops.toml")
    p.add_argument("--csv", metavar="FILE", help="also write the loop table as CSV")
    p.add_argument("--force", action="store_true", help="overwrite an existing CSV file")
    p.add_argument("--max-loops", type=int, default=2000, metavar="N", help="give up above N loops (default 2000)")
    p.set_defaults(func=cmd_loops)

    p = add_command(
        sub, "diagram",
        help="draw the causal loop diagram and the stock-and-flow view",
        description="Draw DIR/<model>_loops.svg/.png (causal loop diagram: stocks as boxes, + and - on the links, || "
        "on links through a delay, R/B markers with the loop names) and DIR/<model>_stocks.svg/.png (stocks, "
        "flows with valves, clouds). Needs Graphviz ('dot').",
        epilog="examples:\n  flywheel diagram models/evil_sales_flywheel.mdl -o diagrams/\n"
        "  flywheel diagram models/evil_sales_flywheel.mdl -o diagrams/ --focus Trust\n"
        "  flywheel diagram models/evil_sales_flywheel.mdl -o diagrams/ --loops R9,B11",
    )  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="a Vensim .mdl or XMILE model file")
    add_output(p)
    p.add_argument("--focus", metavar="VARIABLE", help="draw only the loops through this variable")
    p.add_argument("--loops", metavar="IDS", help="comma-separated loop ids or names to draw and mark (e.g. R1,B2)")
    p.set_defaults(func=cmd_diagram)

    p = add_command(
        sub, "dominance",
        help="which loops drive the behaviour when (Loops That Matter)",
        description="Compute loop dominance along each scenario's run (link, loop and relative loop scores) and "
        "write DIR/dominance.png/.svg (a variable over time above the shares of the strongest loops, scenarios "
        "side by side) and DIR/<scenario>_loops.csv (relative loop scores per time). Prints the dominant loops "
        "per period.",
        epilog="examples:\n  flywheel dominance scenarios/shock_add_overlays.toml -o results/\n"
        "  flywheel dominance scenarios/shock_add_overlays.toml scenarios/shock_deep_dives.toml -o results/ "
        "--variable 'Target Attainment'",
    )  # fmt: skip
    p.add_argument("scenarios", metavar="SCENARIO", nargs="+", help="one or two scenario files")
    add_output(p)
    p.add_argument("--variable", help="the variable shown above the loop band (default: the profile's first panel)")
    p.add_argument("--top", type=int, default=6, help="how many loops get their own colour (default 6)")
    p.set_defaults(func=cmd_dominance)

    p = add_command(
        sub, "animate",
        help="animate the loop diagram over a scenario's run",
        description="Write an animation (GIF; MP4 when the name ends in .mp4 and ffmpeg is installed): the causal "
        "loop diagram with each variable coloured by its value over time and the dominant loop highlighted, "
        "beside the growing time series of a variable. About 10 seconds.",
        epilog="example:\n  flywheel animate scenarios/shock_add_overlays.toml -o flywheel.gif",
    )  # fmt: skip
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the animation file (.gif or .mp4)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--variable", help="the variable plotted (default: the profile's first panel)")
    p.set_defaults(func=cmd_animate)


def _model(path: str):
    from ...scenarios import get_model

    return get_model(path)


def _format_table(table) -> str:
    lines = [f"{'id':<5} {'polarity':<8} {'length':>6}  {'name':<20} variables"]
    for r in table.itertuples():
        path = " -> ".join(r.variables)
        lines.append(f"{r.id:<5} {r.polarity:<8} {r.length:>6}  {r.name:<20} {path}")
    return "\n".join(lines)


def cmd_loops(args: argparse.Namespace) -> int:
    from ...analysis.loops import check_loop_names, load_loop_names, loops
    from ..output import check_can_write, write_files

    model = _model(args.model)
    if args.csv:
        check_can_write([args.csv], force=args.force)
    table = loops(model, args.scenario, limit=args.max_loops)
    if table.empty:
        from ...errors import ModelError

        raise ModelError(f"{Path(args.model).name}: the model has no feedback loops")
    print(_format_table(table))
    counts = table["polarity"].value_counts()
    print(f"\n{len(table)} loops: {counts.get('R', 0)} reinforcing, {counts.get('B', 0)} balancing, "
          f"{counts.get('?', 0)} undetermined (a link changes sign)")  # fmt: skip
    if args.csv:
        out = table.assign(variables=[" -> ".join(v) for v in table["variables"]],
                           stocks=[" ; ".join(v) for v in table["stocks"]])  # fmt: skip
        status(write_files({Path(args.csv): out.to_csv(index=False).encode()}, force=args.force))
    if args.check:
        names = load_loop_names(model)
        if not names:
            raise UsageError(f"loops --check: no loop file {model.path.with_name(model.path.stem + '.loops.toml')}")
        problems = check_loop_names(table, names)
        for problem in problems:
            print(f"FAIL {problem}")
        if problems:
            return EXIT_FAILED
        print(f"ok: all {len(names)} named loops found with their expected polarity")
    return EXIT_OK


def _resolve_focus(model, focus: str, table) -> str:
    try:
        name = model.resolve_name(focus)
    except Exception:
        match = difflib.get_close_matches(focus, list(model.variables), n=1)
        hint = f"; did you mean {match[0]!r}?" if match else ""
        raise UsageError(f"diagram: --focus {focus!r} is not a variable of {model.path.name}{hint}") from None
    if not any(name in v for v in table["variables"]):
        raise UsageError(f"diagram: --focus {name!r} is not in any feedback loop of {model.path.name}")
    return name


def cmd_diagram(args: argparse.Namespace) -> int:
    from ...analysis.loops import link_polarities, load_loop_names, loop_table
    from ...analysis.structure import causal_structure
    from ..diagrams import (
        causal_loop_diagram,
        default_markers,
        loops_for,
        require_graphviz,
        stock_flow_diagram,
    )
    from ..output import check_can_write, write_files

    require_graphviz()
    model = _model(args.model)
    outdir = Path(args.output)
    stem = model.path.stem
    targets = [outdir / f"{stem}_{kind}.{ext}" for kind in ("loops", "stocks") for ext in ("svg", "png")]
    check_can_write(targets, force=args.force)
    structure = causal_structure(model)
    polarity = link_polarities(model, structure)
    table = loop_table(structure, polarity, load_loop_names(model))
    if table.empty:
        from ...errors import ModelError

        raise ModelError(f"{model.path.name}: the model has no feedback loops to draw")
    focus = _resolve_focus(model, args.focus, table) if args.focus else None
    ids = [i.strip() for i in args.loops.split(",") if i.strip()] if args.loops else None
    if ids:
        known = set(table["id"]) | set(table["name"])
        for loop_id in ids:
            if loop_id not in known:
                match = difflib.get_close_matches(loop_id, sorted(known - {""}), n=1)
                hint = f"; did you mean {match[0]!r}?" if match else ""
                raise UsageError(f"diagram: --loops {loop_id!r} is not a loop of {model.path.name}{hint}")
    chosen = loops_for(table, focus, ids)
    marked = list(chosen["id"]) if ids else [i for i in default_markers(table) if i in set(chosen["id"])]
    if not marked:
        marked = default_markers(chosen)
    title = f"{model.path.stem.replace('_', ' ')}: feedback loops" + (f" through {focus}" if focus else "")
    cld = causal_loop_diagram(structure, chosen, polarity, marked, title)
    sfd = stock_flow_diagram(structure, polarity, f"{model.path.stem.replace('_', ' ')}: stocks and flows")
    files = dict(zip(targets, [cld.svg, cld.png, sfd.svg, sfd.png], strict=True))
    status(write_files(files, force=args.force))
    return EXIT_OK


def _default_variable(model, chosen: str | None) -> str:
    if chosen:
        return model.resolve_name(chosen)
    from ...scenarios import load_profile

    profile = load_profile(model)
    panels = getattr(profile, "panels", None)
    if panels:
        return panels[0].variable
    return model.stocks[0]


def describe_dominance(ds) -> list[str]:
    """Periods of the run with one dominant loop, as lines a trainer can read."""
    from ...analysis.dominance import dominance_periods, loop_label

    lines = []
    for p in dominance_periods(ds):
        then = f"; then {loop_label(ds, p.runner_up)} ({p.runner_up_share:.0%})" if p.runner_up_share > 0.1 else ""
        lines.append(f"  months {p.start:g}-{p.end:g}: {p.label} ({p.share:.0%} on average{then})")
    return lines


def cmd_dominance(args: argparse.Namespace) -> int:
    from ...analysis.dominance import loop_dominance
    from ...scenarios import get_model, load_scenario, run_scenario
    from ..dominance_plot import dominance_figure
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    if len(args.scenarios) > 2:
        raise UsageError("dominance: give one or two scenarios (they are drawn side by side)")
    scenarios = [load_scenario(p) for p in args.scenarios]
    outdir = Path(args.output)
    targets = [outdir / "dominance.png", outdir / "dominance.svg"] + [outdir / f"{s.name}_loops.csv" for s in scenarios]
    check_can_write(targets, force=args.force)
    runs, files = [], {}
    model = get_model(scenarios[0].model_path)
    variable = _default_variable(model, args.variable)
    for s in scenarios:
        m = get_model(s.model_path)
        ds = loop_dominance(m, s)
        df = run_scenario(s, m)
        runs.append((s.title or s.name, ds, df))
        table = ds["relative_score"].to_pandas().T
        table.columns = [f"{c} {n}".strip() for c, n in zip(ds["loop"].values, ds["name"].values, strict=True)]
        table["dominant"] = ds["dominant"].values
        files[outdir / f"{s.name}_loops.csv"] = table.to_csv(index_label="time").encode()
        print(f"{s.name}: dominant loop by period")
        print("\n".join(describe_dominance(ds)) or "  no loop is active (the model stays at rest)")
    fig = dominance_figure(runs, variable, units=model.variables[variable].units, top=args.top,
                           title=f"Which feedback loops drive {variable}?")  # fmt: skip
    files.update(figure_bytes(fig, outdir / "dominance", ("png", "svg")))
    status(write_files(files, force=args.force))
    return EXIT_OK


def cmd_animate(args: argparse.Namespace) -> int:
    from ...analysis.dominance import loop_dominance
    from ...scenarios import get_model, load_scenario, run_scenario
    from ..animation import animation_bytes
    from ..diagrams import require_graphviz
    from ..output import check_can_write, write_files

    require_graphviz()
    target = Path(args.output)
    if target.suffix.lower() not in (".gif", ".mp4"):
        raise UsageError(f"animate: {target.name}: the file must end in .gif or .mp4")
    check_can_write([target], force=args.force)
    scenario = load_scenario(args.scenario)
    model = get_model(scenario.model_path)
    variable = _default_variable(model, args.variable)
    ds = loop_dominance(model, scenario)
    df = run_scenario(scenario, model)
    data = animation_bytes(model, ds, df, variable, target.suffix.lower()[1:], title=scenario.title or scenario.name)
    status(write_files({target: data}, force=args.force))
    return EXIT_OK
