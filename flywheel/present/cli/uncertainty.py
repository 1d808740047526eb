"""``flywheel sensitivity``, ``flywheel montecarlo`` and ``flywheel tornado``: what the uncertain inputs do.

Each command checks its inputs (model or scenario, ranges, outcomes, times) before any run, writes its
results (CSV, NetCDF, figures as PNG and SVG, the report as text) only when everything succeeded, and
prints the report. ``--store DIR`` keeps the runs in zarr stores there, chunk by chunk: an interrupted
command run again continues where it stopped; ``--scheduler tcp://HOST:PORT`` runs the chunks on a Dask
cluster.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from .common import DEFAULT_MODEL, EXIT_OK, UsageError, add_command, add_output, default_path, status

_TARGET_HELP = "a model file (.mdl, .xmile) or a scenario file (.toml); default: the flywheel model"


def register(sub: Any) -> None:
    p = add_command(
        sub, "sensitivity",
        help="which uncertain inputs drive an outcome, through time (Sobol, Morris, FAST)",
        description="Global sensitivity analysis: SALib draws a design over the ranges, every run is simulated, "
        "and the indices are computed for each outcome: for a variable at every output time (a heat map) and "
        "for one-number outcomes such as 'final Trust', 'min Trust', 'Trust at month 60', 'mean Trust', "
        "'cumulative Sales' or 'first time Target Attainment below 0.9' (bars with intervals). Writes "
        "DIR/sensitivity.csv (every index), DIR/sensitivity.nc and/or sensitivity_scalars.nc (xarray), "
        "DIR/sensitivity.txt (the report) and the figures.",
        epilog="examples:\n"
        "  flywheel sensitivity --ranges scenarios/ranges/judgement.toml --outcome 'Target Attainment' -o results/\n"
        "  flywheel sensitivity scenarios/deep_dives.toml --outcome 'min Trust' --method morris -n 256 -o results/",
    )  # fmt: skip
    _target(p, several=False)
    p.add_argument("--outcome", action="append", required=True, metavar="TEXT",
                   help="what to explain (repeatable): a variable, or 'final|min|max|mean|cumulative VARIABLE', "
                   "'VARIABLE at month T', 'first time VARIABLE below X'")  # fmt: skip
    p.add_argument("--method", choices=("sobol", "morris", "fast"), default="sobol", help="default: sobol")
    p.add_argument("-n", type=int, default=1024, metavar="N",
                   help="base sample size (Sobol: N (2D+2) runs; Morris: N trajectories; FAST: N D runs); default 1024")  # fmt: skip
    p.add_argument("--times", metavar="T0:T1:STEP|T,T,...", help="output times of the indices (default: every saved time)")
    p.add_argument("--at", type=float, metavar="T", help="the time of the bar chart (default: the last time)")
    _common(p)
    p.set_defaults(func=cmd_sensitivity)

    p = add_command(
        sub, "montecarlo",
        help="fan charts and probabilities over the uncertain inputs",
        description="Draw N sets of the uncertain inputs and run each scenario on the same draws. Writes "
        "DIR/fan_chart.png and .svg (5/25/50/75/95 percentiles of each variable, every scenario on the same "
        "panels), DIR/montecarlo_percentiles.csv, DIR/montecarlo.nc (the percentiles, xarray), "
        "DIR/montecarlo_inputs.csv (the draws), DIR/probabilities.csv (with --probability: the share of runs "
        "where a condition holds, with its 95%% Wilson interval) and DIR/montecarlo.txt (the report). Runs that "
        "diverge are counted and reported, not hidden.",
        epilog="examples:\n"
        "  flywheel montecarlo scenarios/shock_add_overlays.toml scenarios/shock_deep_dives.toml \\\n"
        "      --ranges scenarios/ranges/judgement.toml -n 10000 \\\n"
        "      --probability 'Target Attainment >= 0.95 at month 60' -o results/\n"
        "  flywheel montecarlo scenarios/steady.toml -n 1000000 --store runs/ -o results/   (resumable)",
    )  # fmt: skip
    _target(p, several=True)
    p.add_argument("-n", type=int, default=10_000, metavar="N", help="runs per scenario (default 10,000)")
    p.add_argument("--variable", action="append", metavar="NAME", help="a variable to chart (repeatable; default: the profile's panels)")
    p.add_argument("--probability", action="append", metavar="CONDITION",
                   help="e.g. 'Target Attainment >= 0.95 at month 60', 'min Trust < 0.2' (repeatable)")  # fmt: skip
    p.add_argument("--sampling", choices=("random", "lhs"), default="random", help="independent draws or a Latin hypercube")
    p.add_argument("--members", action="store_true", help="also write every run to DIR/montecarlo_runs.nc")
    _common(p)
    p.set_defaults(func=cmd_montecarlo)

    p = add_command(
        sub, "tornado",
        help="one input at a time: a sorted tornado chart of the effect on an outcome",
        description="Set each uncertain input to its low and its high value (a normal or lognormal input: its 5th "
        "and 95th percentile), the others at the base (the scenario or the model's defaults), and sort the "
        "inputs by the swing they cause in a one-number outcome. Writes DIR/tornado.csv, DIR/tornado.png and "
        ".svg and DIR/tornado.txt.",
        epilog="example:\n  flywheel tornado scenarios/deep_dives.toml --outcome 'final Target Attainment' -o results/",
    )  # fmt: skip
    _target(p, several=False)
    p.add_argument("--outcome", required=True, metavar="TEXT",
                   help="a one-number outcome: 'final Target Attainment', 'Trust at month 60', 'min Trust', ...")  # fmt: skip
    p.add_argument("--top", type=int, default=15, metavar="K", help="bars shown in the chart (default 15; the CSV has all)")
    p.add_argument("--ranges", metavar="FILE", help="a ranges TOML file (default: the scenario's [ranges], else the documented ranges)")
    add_output(p)
    p.set_defaults(func=cmd_tornado)


def _target(p: argparse.ArgumentParser, several: bool) -> None:
    if several:
        p.add_argument("targets", nargs="*", metavar="MODEL|SCENARIO", help=_TARGET_HELP + "; several scenarios share one figure")
    else:
        p.add_argument("target", nargs="?", metavar="MODEL|SCENARIO", help=_TARGET_HELP)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ranges", metavar="FILE",
                   help="a ranges TOML file (default: the scenario's [ranges], else the documented ranges)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed (the same seed gives the same numbers); default 0")
    p.add_argument("--store", metavar="DIR", help="keep the runs in zarr stores here, chunk by chunk (resumable)")
    p.add_argument("--chunk-size", type=int, metavar="M", help="members per chunk with --store or --scheduler (default 8192)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the chunks on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    add_output(p)


def _default_target(value: str | None) -> str:
    return value if value else str(default_path(DEFAULT_MODEL))


def _progress() -> bool:
    return sys.stderr.isatty()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:60] or "output"


def _times(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        if ":" in text:
            parts = [float(x) for x in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError
            count = int(round((parts[1] - parts[0]) / parts[2])) + 1
            return [parts[0] + k * parts[2] for k in range(count) if parts[0] + k * parts[2] <= parts[1] + 1e-9]
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--times {text!r}: expected START:STOP:STEP (e.g. 0:120:12) or T,T,... (e.g. 12,60,120)") from None


def _positive(value: int | None, option: str) -> None:
    if value is not None and value < 1:
        raise UsageError(f"{option} must be at least 1, got {value}")


def _resumed(extra: dict, store: str | None) -> None:
    if store and extra.get("reused_chunks"):
        print(f"resumed: {extra['reused_chunks']} chunk(s) of earlier runs reused from {store}", file=sys.stderr)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from ...analysis.sensitivity import sensitivity
    from ...analysis.subjects import subject
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    _positive(args.n, "-n")
    _positive(args.chunk_size, "--chunk-size")
    outdir = Path(args.output)
    check_can_write([outdir / "sensitivity.csv", outdir / "sensitivity.txt"], force=args.force)
    the_subject = subject(_default_target(args.target))
    store = None if args.store is None else Path(args.store) / f"sensitivity-{args.method}.zarr"
    result = sensitivity(
        the_subject.model, args.ranges, args.outcome, method=args.method, n=args.n, times=_times(args.times),
        seed=args.seed, scenario=the_subject.scenario, store=store, scheduler=args.scheduler,
        chunk_size=args.chunk_size, progress=_progress(),
    )  # fmt: skip
    if args.at is not None and len(result.indices["output"]):
        result.table(result.outputs[0], args.at)  # checks the time before anything is drawn or written
    files: dict[Path, bytes] = {}
    rows = []
    for label in result.outputs:
        through_time = label in list(result.indices["output"].values)
        slug = _slug(label)
        if through_time:
            files.update(figure_bytes(result.plot(label, "heatmap"), outdir / f"sensitivity_{slug}_heatmap"))
            rows.append(_long(result.indices.sel(output=label), label))
        else:
            rows.append(_long(result.scalars.sel(output=label), label))
        files.update(figure_bytes(result.plot(label, "bars", args.at if through_time else None), outdir / f"sensitivity_{slug}_bars"))
    import pandas as pd

    files[outdir / "sensitivity.csv"] = pd.concat(rows, ignore_index=True).to_csv(index=False).encode()
    if len(result.indices["output"]):
        files[outdir / "sensitivity.nc"] = _netcdf(result.indices)
    if len(result.scalars["output"]):
        files[outdir / "sensitivity_scalars.nc"] = _netcdf(result.scalars)
    report = result.report()
    files[outdir / "sensitivity.txt"] = (report + "\n").encode()
    written = write_files(files, force=args.force)
    _resumed(result.extra, args.store)
    print(report)
    status(written)
    return EXIT_OK


def _long(ds: Any, label: str) -> Any:
    """One output's indices as rows (output, parameter[, time], index columns); S2 left to the NetCDF."""
    keep = [v for v in ds.data_vars if not str(v).startswith("S2")]
    frame = ds[keep].to_dataframe().reset_index()
    frame = frame.drop(columns=[c for c in ("output", "parameter_2") if c in frame.columns])
    frame.insert(0, "output", label)
    return frame


def _netcdf(ds: Any) -> bytes:
    """NetCDF (version 3, through scipy) as bytes, so it is written with the other files or not at all."""
    data = ds.to_netcdf(engine="scipy")
    return bytes(data)


def cmd_montecarlo(args: argparse.Namespace) -> int:
    from ...analysis.montecarlo import montecarlo
    from ...analysis.subjects import subjects
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    _positive(args.n, "-n")
    _positive(args.chunk_size, "--chunk-size")
    outdir = Path(args.output)
    names = ["fan_chart.png", "fan_chart.svg", "montecarlo_percentiles.csv", "montecarlo.nc", "montecarlo_inputs.csv",
             "montecarlo.txt"] + (["probabilities.csv"] if args.probability else []) + (["montecarlo_runs.nc"] if args.members else [])  # fmt: skip
    check_can_write([outdir / n for n in names], force=args.force)
    items = subjects(args.targets or [_default_target(None)])
    if args.probability:  # check the conditions before the runs
        from ...analysis.quantities import parse_condition

        for condition in args.probability:
            parse_condition(condition, list(items[0].model.variables), "--probability").check_times(
                items[0].spec.time.grid.save_times
            )
    result = montecarlo(items, args.ranges, n=args.n, seed=args.seed, variables=args.variable, sampling=args.sampling,
                        scheduler=args.scheduler, store=args.store, chunk_size=args.chunk_size, progress=_progress())  # fmt: skip
    files: dict[Path, bytes] = dict(figure_bytes(result.plot(), outdir / "fan_chart"))
    table = result.percentile_table()
    files[outdir / "montecarlo_percentiles.csv"] = table.to_csv(index=False).encode()
    import xarray as xr

    percentiles = xr.Dataset({v: result.percentiles(v) for v in result.variables})
    percentiles["diverged_runs"] = ("scenario", [result.diverged[s] for s in result.scenarios])
    percentiles.attrs.update({"runs_per_scenario": result.n, "seed": result.seed})
    files[outdir / "montecarlo.nc"] = _netcdf(percentiles)
    files[outdir / "montecarlo_inputs.csv"] = result.inputs.to_csv().encode()
    if args.probability:
        files[outdir / "probabilities.csv"] = result.probability_table(args.probability).to_csv(index=False).encode()
    if args.members:
        runs = result.dataset.assign_coords(diverged=result.dataset["diverged"].astype("int8"))
        files[outdir / "montecarlo_runs.nc"] = _netcdf(runs)
    report = result.report(args.probability)
    files[outdir / "montecarlo.txt"] = (report + "\n").encode()
    written = write_files(files, force=args.force)
    _resumed(result.extra, args.store)
    print(report)
    status(written)
    return EXIT_OK


def cmd_tornado(args: argparse.Namespace) -> int:
    from ...analysis.tornado import tornado
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    _positive(args.top, "--top")
    outdir = Path(args.output)
    targets = [outdir / n for n in ("tornado.csv", "tornado.png", "tornado.svg", "tornado.txt")]
    check_can_write(targets, force=args.force)
    result = tornado(_default_target(args.target), args.ranges, args.outcome)
    files = dict(figure_bytes(result.plot(args.top), outdir / "tornado"))
    files[outdir / "tornado.csv"] = result.table.to_csv().encode()
    report = result.report()
    files[outdir / "tornado.txt"] = (report + "\n").encode()
    written = write_files(files, force=args.force)
    print(report)
    status(written)
    return EXIT_OK
