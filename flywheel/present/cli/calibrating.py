"""``flywheel calibrate``: fit model constants to observed data; optionally sample their posterior."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, add_command, add_output, status

_EPILOG = """\
examples:
  flywheel calibrate models/evil_sales_flywheel.mdl --data observed.csv \\
      --fit "Miss Tolerance=0.022:0.05" --fit "Overlay Budget=3.4:7.8" -o calibration/
  flywheel calibrate scenarios/shock_add_overlays.toml --data observed.csv \\
      --fit "Miss Tolerance=0.022:0.05" --bayes --steps 2000 -o calibration/

Without --fit and --ranges, a scenario's own [ranges] table says what to fit.

The data file is a CSV: a time column (first, or named time), then one column per observed model
variable; empty cells are missing values. Every time must be an output time of the run.

writes, in DIR:
  calibrated.toml          a scenario with the fitted values (flywheel run accepts it)
  estimates.csv            estimate, stderr, 95% interval, bounds and flags per parameter
  report.txt               the calibration report (also printed)
  fit.png, fit.svg         fit versus data and residuals per series
  profiles.png, .svg       profile-likelihood curves and intervals (unless --no-profiles)
with --bayes also:
  posterior.nc             the draws (NetCDF, dimensions chain and draw)
  posterior_summary.csv    median, 90% credible interval, R-hat, autocorrelation time, ESS
  corner.png, .svg         the corner plot of the draws
  predictive.png, .svg     posterior predictive bands of the observed series"""


def register(sub: Any) -> None:
    p = add_command(
        sub, "calibrate",
        help="fit constants to observed data, with intervals (and a posterior)",
        description="Fit model constants to observed time series by weighted least squares from several "
        "starts, with 95% intervals from the Jacobian, profile-likelihood intervals and identifiability "
        "flags; with --bayes also sample the posterior with emcee. Every input is checked before any run, "
        "and nothing is written unless everything succeeds.",
        epilog=_EPILOG,
    )  # fmt: skip
    p.add_argument("target", metavar="MODEL|SCENARIO", help="a model file, or a scenario whose levers and settings are the base run")
    p.add_argument("--data", required=True, metavar="CSV", help="the observations (time, then one column per series)")
    p.add_argument(
        "--fit", action="append", default=[], metavar="NAME=LOW:HIGH",
        help="a constant to fit and its bounds, e.g. \"Miss Tolerance=0.022:0.05\" (repeat for more)",
    )  # fmt: skip
    p.add_argument("--ranges", metavar="TOML", help="a ranges file ([ranges] table) of constants to fit; its distributions are the priors of --bayes")
    p.add_argument("--starts", type=int, default=8, help="least-squares starts from a Latin hypercube (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starts and the sampler (default 0)")
    p.add_argument("--no-profiles", action="store_true", help="skip the profile-likelihood intervals")
    p.add_argument("--bayes", action="store_true", help="also sample the posterior with emcee")
    p.add_argument("--walkers", type=int, default=64, help="emcee walkers (default 64)")
    p.add_argument("--steps", type=int, default=2000, help="emcee steps (default 2000; the first half is discarded)")
    add_output(p)
    p.set_defaults(func=cmd_calibrate)


def parse_fit(items: list[str]) -> dict[str, tuple[float, float]]:
    """``["Name=1:24", ...]`` to ``{name: (low, high)}``; a malformed item is a one-line error."""
    fit: dict[str, tuple[float, float]] = {}
    for item in items:
        name, sep, bounds = item.rpartition("=")
        low_text, colon, high_text = bounds.partition(":")
        example = 'e.g. --fit "Miss Tolerance=0.022:0.05"'
        if not sep or not name.strip() or not colon:
            raise UsageError(f"calibrate: --fit {item!r}: expected NAME=LOW:HIGH, {example}")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise UsageError(f"calibrate: --fit {item!r}: LOW and HIGH must be numbers, {example}") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise UsageError(f"calibrate: --fit {item!r}: LOW and HIGH must be finite numbers")
        if name.strip() in fit:
            raise UsageError(f"calibrate: --fit {name.strip()!r} is given twice")
        fit[name.strip()] = (low, high)
    return fit


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ...analysis.calibration import calibrate_problem
    from ...analysis.fitting import setup_problem
    from ...analysis.observations import read_observations
    from ...analysis.posterior import posterior
    from ..output import check_can_write, write_files
    from ..plots import figure_bytes

    fit = parse_fit(args.fit)
    if args.ranges and fit:
        raise UsageError("calibrate: give the constants to fit with --fit or with --ranges, not both")
    if args.starts < 1:
        raise UsageError(f"calibrate: --starts {args.starts}: must be at least 1")
    if args.bayes and (args.walkers < 2 or args.steps < 2):
        raise UsageError("calibrate: --walkers and --steps must be at least 2")
    target = Path(args.target)
    if not target.is_file():
        raise UsageError(f"calibrate: {target}: no such model or scenario file")

    outdir = Path(args.output)
    names = ["calibrated.toml", "estimates.csv", "report.txt", "fit.png", "fit.svg"]
    if not args.no_profiles:
        names += ["profiles.png", "profiles.svg"]
    if args.bayes:
        names += ["posterior.nc", "posterior_summary.csv", "corner.png", "corner.svg", "predictive.png", "predictive.svg"]
    check_can_write([outdir / n for n in names], force=args.force)

    fit_source: Any = args.ranges or fit
    if not fit_source:
        fit_source = _scenario_ranges(target)
    data = read_observations(args.data)
    problem = setup_problem(target, data, fit_source, where="--fit")  # every input checked here
    if args.bayes and args.walkers < 2 * problem.n_params:
        raise UsageError(f"calibrate: --walkers {args.walkers}: emcee needs at least {2 * problem.n_params} for {problem.n_params} parameters")
    bars = sys.stderr.isatty()
    calibration = calibrate_problem(problem, starts=args.starts, seed=args.seed, progress=bars)
    report = calibration.report()
    files: dict[Path, bytes] = {
        outdir / "calibrated.toml": calibration.scenario_toml(outdir / "calibrated.toml").encode("utf-8"),
        outdir / "estimates.csv": calibration.table().to_csv().encode("utf-8"),
        **figure_bytes(calibration.plot(), outdir / "fit"),
    }
    if not args.no_profiles:
        files.update(figure_bytes(calibration.plot_profiles(), outdir / "profiles"))
    if args.bayes:
        post = posterior(target, data, fit_source, walkers=args.walkers, steps=args.steps, seed=args.seed,
                         start=calibration, progress=bars)  # fmt: skip
        report += "\n\n" + post.report()
        files[outdir / "posterior.nc"] = bytes(post.draws.to_netcdf(engine="scipy"))
        files[outdir / "posterior_summary.csv"] = post.summary.to_csv().encode("utf-8")
        files.update(figure_bytes(post.plot(), outdir / "corner"))
        files.update(figure_bytes(post.plot_predictive(), outdir / "predictive"))
    files[outdir / "report.txt"] = (report + "\n").encode("utf-8")
    written = write_files(files, force=args.force)
    print(report)
    status(written)
    if not calibration.converged:
        print("note: the least-squares fit did NOT converge (see the report)", file=sys.stderr)
    if args.bayes and not post.converged:
        print("note: the posterior sampler has NOT converged; run more --steps (see r_hat and tau)", file=sys.stderr)
    return EXIT_OK


def _scenario_ranges(target: Path) -> dict[str, Any]:
    """Without --fit or --ranges: the [ranges] table of a scenario given as the target."""
    if target.suffix.lower() == ".toml":
        from ...scenarios import load_scenario

        ranges = load_scenario(target).ranges
        if ranges:
            return dict(ranges)
        raise UsageError(f'calibrate: nothing to fit: {target} has no [ranges] table; give --fit "NAME=LOW:HIGH" or --ranges FILE')
    raise UsageError('calibrate: nothing to fit: give --fit "NAME=LOW:HIGH" (repeatable) or --ranges FILE')
