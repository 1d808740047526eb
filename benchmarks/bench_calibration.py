"""Calibration benchmark: 6 constants of the flywheel model fitted to 40 quarterly points of 3 series, by
flywheel.calibrate and by the scipy loop a PySD or pysimlin user writes, in the same run of this script.

The work (the same for every engine):
- the flywheel model under a 10% market shock in month 12 (from its profile); the truth is the model's
  defaults; observations: Trust, Overlay Functions and Target Attainment at t = 3, 6, ..., 120 (40 points
  each, 120 in all) with Gaussian noise of 2% of each series' mean level (seed 20261122);
- 6 constants fitted (how large a miss management tolerates, the overlay budget, how much a miss costs
  trust, the selling time a communication path costs, the trust ceiling of dashboard management, how long
  an overlay takes to embed), bounds a quarter to four times their defaults clipped to their documented
  ranges (on the second model: the documented ranges);
- weighted least squares with scipy's ``least_squares`` (trust-region reflective, bounded), 8 starts
  from a Latin hypercube over the bounds (seed 0).

What is timed:
1. flywheel: ``flywheel.calibrate(model, data, fit, scenario=shock, starts=8)``, warm (after one untimed
   calibration that compiles the lockstep kernels); median of 5 calls. Everything is included: the 8
   starts, every Jacobian as one ensemble (central differences), the second pass with the noise levels
   re-estimated, the covariance and intervals.
2. The hand-written scipy loop: ``least_squares(residuals, x0, bounds=..., jac="2-point")`` from the
   same 8 starts, where ``residuals`` runs the model ONCE per call (scipy's finite differences call it
   once per parameter per Jacobian), weights 1 / (2% of each series' mean level).
   - Its number of model runs is counted by running the whole loop with flywheel's single ``run`` as
     the engine (it gives PySD's numbers to 1e-16 on this model, so the optimiser takes the same path).
     That loop is also timed: flywheel's engine without its ensemble Jacobians.
   - PySD: ``model.run(params=..., return_columns=[3 series], return_timestamps=[40 times])``;
     pysimlin: ``model.run(overrides=..., analyze_loops=False).results``. Each is timed inside the same
     least_squares loop (from the first start) for a subset of runs (PySD 60, pysimlin 300; --quick: 15
     and 60), and its time per run is multiplied by the run count of the full loop (extrapolated).
Ratios: each peer's extrapolated time / flywheel.calibrate. Before timing, the three engines are checked
to agree on the 3 series at the 40 times. This script asserts nothing about speed: it prints numbers.

Usage: ``python benchmarks/bench_calibration.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = REPO_ROOT / "models" / "evil_sales_flywheel.mdl"
SERIES = ["Trust", "Overlay Functions", "Target Attainment"]
#: Six judgement constants that move the shocked run and that these data identify together (the calibration
#: report flags none of them on the second model); the first six present in the model are fitted.
CANDIDATES = [
    "Miss Tolerance", "Overlay Budget", "Trust Miss Sensitivity", "Load per Communication Path",
    "Dashboard Trust Ceiling", "Overlay Embedding Time", "Trust Erosion Time",
]  # fmt: skip
TIMES = np.arange(3.0, 121.0, 3.0)  # 40 quarterly points
SEED = 20261122
STARTS = 8


class Budget(Exception):
    """Raised inside the residual function when a timed subset of runs is complete."""


def problem(fw_model):
    """The shock, the 6 constants with bounds, the synthetic observations and the weights."""
    import flywheel

    profile = flywheel.load_profile(fw_model)
    base = {profile.shock_size: 0.1, profile.shock_month: 12.0}
    fit = {}
    for name in CANDIDATES:
        info = fw_model.variables.get(name)
        if info is None or not info.default:
            continue
        lo, hi = info.limits
        fit[name] = (max(info.default / 4, lo if lo is not None else -np.inf), min(info.default * 4, hi if hi is not None else np.inf))
        if len(fit) == 6:
            break
    clean = fw_model.run(base, return_columns=SERIES).loc[TIMES, SERIES]
    scale = 0.02 * clean.abs().mean()
    rng = np.random.default_rng(SEED)
    data = clean + rng.normal(size=clean.shape) * scale.to_numpy()
    data.attrs["source"] = "synthetic observations"
    return base, fit, data, (1 / scale).to_numpy()


def scipy_loop(run_once, fit, data, weights, starts: list[np.ndarray], budget: int | None = None):
    """The hand-written loop: bounded least squares per start, one model run per residual call, scipy's
    2-point Jacobian. Returns the runs made and the best cost (or stops after ``budget`` runs)."""
    from scipy.optimize import least_squares

    names = list(fit)
    low = np.array([fit[n][0] for n in names])
    high = np.array([fit[n][1] for n in names])
    observed = data[SERIES].to_numpy()
    runs = 0

    def residuals(x):
        nonlocal runs
        if budget is not None and runs >= budget:
            raise Budget
        runs += 1
        values = run_once(dict(zip(names, x, strict=True)))
        return ((values - observed) * weights).ravel()

    best = np.inf
    for u in starts:
        try:
            result = least_squares(residuals, low + u * (high - low), bounds=(low, high), method="trf", jac="2-point")
        except Budget:
            break
        best = min(best, result.cost)
    return runs, best


def engines(workdir: Path, fw_model, base):
    """One-run functions of the three engines: parameters -> (40 times x 3 series) array."""
    import pysd
    import simlin

    from flywheel.analysis.peers import simlin_name, simlin_path

    copy = workdir / MODEL_PATH.name
    shutil.copy(MODEL_PATH, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysd_model = pysd.read_vensim(str(copy))
    simlin_model = simlin.load(str(simlin_path(MODEL_PATH)))
    simlin_cols = [simlin_name(s) for s in SERIES]

    def run_pysd(params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pysd_model.run(params={**base, **params}, return_columns=SERIES, return_timestamps=TIMES)
        return frame[SERIES].to_numpy()

    def run_simlin(params):
        overrides = {simlin_name(k): float(v) for k, v in {**base, **params}.items()}
        return simlin_model.run(overrides=overrides, analyze_loops=False).results.loc[TIMES, simlin_cols].to_numpy()

    def run_flywheel(params):
        return fw_model.run({**base, **params}, return_columns=SERIES).loc[TIMES, SERIES].to_numpy()

    return {"PySD": run_pysd, "pysimlin": run_simlin, "flywheel (single runs)": run_flywheel}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and peer runs (a smoke test)")
    args = parser.parse_args(argv)
    import llvmlite
    import pysd
    import simlin
    from scipy.stats import qmc

    import flywheel

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"flywheel calibration benchmark{' (--quick: not a measurement)' if args.quick else ''}")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, llvmlite {llvmlite.__version__}, PySD "
          f"{pysd.__version__}, pysimlin {simlin.__version__}; load average at start {load}")  # fmt: skip
    fw_model = flywheel.load_model(MODEL_PATH)
    base, fit, data, weights = problem(fw_model)
    print(f"\n6 constants: {', '.join(f'{n} [{lo:g}, {hi:g}]' for n, (lo, hi) in fit.items())}")
    print(f"data: {', '.join(SERIES)} at t = 3, 6, ..., 120 ({data.size} points), noise 2% of each mean level")

    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp:
        run_once = engines(Path(tmp), fw_model, base)
        truth = {n: fw_model.variables[n].default for n in fit}
        reference = run_once["PySD"](truth)
        for name, fn in run_once.items():
            print(f"  agreement with PySD, {name}: max abs diff {np.max(np.abs(fn(truth) - reference)):.3g}")

        # 1. flywheel.calibrate, warm
        repeats = 2 if args.quick else 5
        flywheel.calibrate(fw_model, data, fit, scenario=base, starts=STARTS)  # compiles the lockstep kernels
        times, result = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            result = flywheel.calibrate(fw_model, data, fit, scenario=base, starts=STARTS)
            times.append(time.perf_counter() - start)
        ours = statistics.median(times)
        print(f"\n1. flywheel.calibrate, {STARTS} starts: median {ours:.3f} s of {repeats} (min {min(times):.3f} s); "
              f"{result.n_evaluations:,} model runs in {result.n_ensembles:,} ensemble calls; "
              f"converged: {result.converged}; target < 5 s")  # fmt: skip
        table = pd.DataFrame({"truth": truth, "estimate": result.estimates, "low": result.ci["low"],
                              "high": result.ci["high"], "identifiable": result.identifiable})  # fmt: skip
        print("   " + table.to_string(float_format=lambda v: f"{v:.4g}").replace("\n", "\n   "))

        # 2. the scipy loop: its run count (with flywheel single runs), then the peers' time per run
        starts = list(qmc.LatinHypercube(d=len(fit), seed=0).random(STARTS))
        start = time.perf_counter()
        loop_runs, loop_cost = scipy_loop(run_once["flywheel (single runs)"], fit, data, weights, starts)
        loop_seconds = time.perf_counter() - start
        print(f"\n2. The hand-written scipy loop (2-point Jacobian, one run per residual call), {STARTS} starts: "
              f"{loop_runs:,} runs, best cost {loop_cost:.4g}")  # fmt: skip
        print(f"   flywheel single runs in that loop: {loop_seconds:.3f} s ({loop_seconds / loop_runs * 1e3:.3f} ms per run "
              f"incl. scipy)")  # fmt: skip
        budgets = {"PySD": 15 if args.quick else 60, "pysimlin": 60 if args.quick else 300}
        print(f"   {'engine':<10} {'runs timed':>10} {'per run':>10} {'full loop (extrapolated)':>26} {'ratio to flywheel.calibrate':>29}")
        for name, budget in budgets.items():
            start = time.perf_counter()
            done, _ = scipy_loop(run_once[name], fit, data, weights, starts, budget=budget)
            per_run = (time.perf_counter() - start) / done
            full = per_run * loop_runs
            print(f"   {name:<10} {done:>10} {per_run * 1e3:>8.2f} ms {full:>24.1f} s {full / ours:>27.0f}x")
            print(f"   ratio {name}/flywheel: {full / ours:.0f}x")
        print(f"   ratio scipy loop with flywheel single runs / flywheel.calibrate: {loop_seconds / ours:.1f}x")
    print(f"\nload average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
