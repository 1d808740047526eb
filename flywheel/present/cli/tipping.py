"""``flywheel tipping`` and ``flywheel equilibria``: where the long-run outcome jumps, and the steady states."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, add_command, add_output, status


def register(sub: Any) -> None:
    p = add_command(
        sub, "tipping",
        help="find where the long-run outcome jumps as one lever or constant moves",
        description="Sweep a lever of the model's profile (its Before and After values together), a constant, or "
        "a stock's initial value over a range with the ensemble engine, find every place where the outcome "
        "jumps, refine each threshold by bisection, and write DIR/tipping.png and .svg (outcome against the "
        "input, thresholds and the scenario's own value marked), DIR/sweep.csv and DIR/thresholds.csv.",
        epilog="examples:\n  flywheel tipping scenarios/shock_add_overlays.toml --lever 'Market Shock Size' --range 0:0.3 "
        "--final-time 360 -o tip/\n  flywheel tipping scenarios/steady.toml --lever 'Overlay Response' --range 0:20 -o tip/",
    )  # fmt: skip
    p.add_argument("scenario", metavar="SCENARIO.toml|MODEL", help="a scenario file, or a model file")
    p.add_argument("--lever", required=True, help="a profile lever, a constant, or a stock (its initial value)")
    p.add_argument("--range", required=True, metavar="LOW:HIGH", help="the values to sweep, e.g. 0:0.3")
    p.add_argument("--outcome", default=None, help="the variable read (default: the profile's first measure's variable)")
    p.add_argument("--at", type=float, default=None, help="the time the outcome is read (default: the final time)")
    p.add_argument("--final-time", type=float, default=None, help="run longer, for a long-run outcome")
    p.add_argument("--points", type=int, default=1000, help="values in the sweep (default 1000)")
    p.add_argument("--tol", type=float, default=1e-4, help="how closely each threshold is found (default 1e-4)")
    p.add_argument("--level", type=float, default=None,
                   help="find where the outcome crosses this level (default: find jumps)")  # fmt: skip
    add_output(p)
    p.set_defaults(func=cmd_tipping)

    p = add_command(
        sub, "equilibria",
        help="list the model's steady states with their stability",
        description="Find the steady states of the model (every stock, hidden SMOOTH/DELAY states included, stops "
        "changing) with the levers and inputs held at their values at one time, from many starting points, and "
        "print each with the eigenvalues of the Jacobian there and whether it is stable.",
        epilog="examples:\n  flywheel equilibria models/evil_sales_flywheel.mdl\n  flywheel equilibria scenarios/steady.toml --time 0",
    )  # fmt: skip
    p.add_argument("scenario", metavar="SCENARIO.toml|MODEL", help="a scenario file, or a model file")
    p.add_argument("--time", type=float, default=None, help="hold inputs at their values at this time (default: the start)")
    p.add_argument("--starts", type=int, default=200, help="starting points (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed for the starting points (default 0)")
    p.add_argument("--csv", metavar="FILE", help="also write the table to FILE")
    p.add_argument("--force", action="store_true", help="overwrite FILE")
    p.set_defaults(func=cmd_equilibria)


def _source(text: str) -> tuple[Any, Any]:
    """A scenario (with its model) or a plain model, from a path given on the command line."""
    from ...scenarios import get_model, load_scenario

    path = Path(text)
    if not path.is_file():
        raise UsageError(f"{path}: no such scenario or model file")
    if path.suffix.lower() == ".toml":
        scenario = load_scenario(path)
        return scenario, get_model(scenario.model_path)
    model = get_model(path)
    return model, model


def _range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError:
        raise UsageError(f"tipping: --range {text!r}: expected LOW:HIGH, two numbers") from None
    if not low < high:
        raise UsageError(f"tipping: --range {text!r}: LOW must be below HIGH")
    return low, high


def cmd_tipping(args: argparse.Namespace) -> int:
    from ...analysis.tipping import tipping
    from ...scenarios import load_profile
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    source, model = _source(args.scenario)
    low, high = _range(args.range)
    if args.points < 10:
        raise UsageError(f"tipping: --points {args.points}: at least 10")
    outdir = Path(args.output)
    targets = [outdir / name for name in ("tipping.png", "tipping.svg", "sweep.csv", "thresholds.csv")]
    check_can_write(targets, force=args.force)
    profile = load_profile(model)
    outcome = args.outcome or (profile.measures[0].variable if profile.measures else model.stocks[0])
    found = tipping(source, args.lever, low, high, outcome=outcome, at=args.at, tol=args.tol, n=args.points,
                    final_time=args.final_time, level=args.level)  # fmt: skip
    import pandas as pd

    sweep = pd.DataFrame({found.input: found.sweep, f"{found.outcome} at {found.at:g}": found.outcomes})
    units = model.variables[found.constants[0]].units
    figure = found.plot(units=units, outcome_units=model.variables[found.outcome].units)
    files = {
        **figure_bytes(figure, outdir / "tipping", ("png", "svg")),
        targets[2]: sweep.to_csv(index=False).encode(),
        targets[3]: found.table().to_csv(index=False).encode(),
    }
    written = write_files(files, force=args.force)
    print(found.report())
    status(written)
    return EXIT_OK


def cmd_equilibria(args: argparse.Namespace) -> int:
    from ...analysis.equilibria import equilibria

    source, model = _source(args.scenario)
    params = dict(source.params) if hasattr(source, "model_path") else None
    if args.starts < 1:
        raise UsageError(f"equilibria: --starts {args.starts}: at least 1")
    found = equilibria(model, params, time=args.time, starts=args.starts, seed=args.seed)
    print(found.report())
    if args.csv:
        from ..output import write_text

        status([write_text(args.csv, found.table().to_csv(index=False), force=args.force)])
    return EXIT_OK
