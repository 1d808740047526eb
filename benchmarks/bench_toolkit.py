"""Research-toolkit benchmarks: Sobol' through time and Monte Carlo on the flywheel model, against PySD and
pysimlin evaluating the same sample with their ``run()``.

What is measured, all in one run of this script (models/evil_sales_flywheel.mdl under scenarios/shock_add_overlays.toml,
120 months, TIME STEP 0.25, output every month; the 10 uncertain inputs of scenarios/ranges/judgement.toml;
without a shock the model stays in its equilibrium whatever these inputs are):

1. Sobol': ``flywheel.sensitivity(model, ranges, "Target Attainment", n=1024)``: SALib's Saltelli design with
   second-order terms, 1024 (2 x 10 + 2) = 22,528 runs, S1/ST/S2 with bootstrap intervals at each of the 121
   months. Warm (after one untimed call): median of 3 calls, end to end (design, mapping to the ranges'
   distributions, runs, indices); then the same plus the two figures (heat map and bars) rendered as PNG.
2. Monte Carlo: ``flywheel.montecarlo(model, ranges, n=10_000, variables=["Target Attainment"])`` plus its
   fan chart rendered as PNG; warm, median of 3. Also with the profile's 7 panel variables.
3. The peers on the same sample: PySD ``model.run(params=..., return_columns=[...])`` and pysimlin
   ``model.run(overrides=..., analyze_loops=False).results`` per member, timed on the first K members of
   each sample (K = 40, or 8 with --quick) and extrapolated to the whole sample; plus, for Sobol', what a
   peer's user adds on top: SALib's ``sobol.analyze`` called once per month (121 calls, timed). Ratios:
   peer time / flywheel time.
Before timing, the script checks that the three engines agree on one member's Target Attainment.

Times are wall-clock (``time.perf_counter``) on a warm process; the load average is printed at the start
and end (the machine may be shared). Usage: ``python benchmarks/bench_toolkit.py [--quick]``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from flywheel.analysis.peers import simlin_name

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = ROOT / "models" / "evil_sales_flywheel.mdl"
RANGES_PATH = ROOT / "scenarios" / "ranges" / "judgement.toml"
SCENARIO_PATH = ROOT / "scenarios" / "shock_add_overlays.toml"  # the shock makes attainment move
OUTCOME = "Target Attainment"


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` calls after one untimed warm-up call; the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def png(fig) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return len(buffer.getvalue())


def peers(workdir: Path):
    import pysd
    import simlin

    from flywheel.analysis.peers import simlin_path

    copy = workdir / MODEL_PATH.name
    shutil.copy(MODEL_PATH, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysd_model = pysd.read_vensim(str(copy))
    return pysd_model, simlin.load(str(simlin_path(MODEL_PATH)))


def peer_seconds_per_run(pysd_model, simlin_model, table: dict[str, np.ndarray], k: int, base: dict) -> tuple[float, float]:
    """Seconds per member for PySD and pysimlin on the first ``k`` members of ``table`` (on top of ``base``)."""
    names = list(table)
    rows = [{**base, **{n: float(table[n][i]) for n in names}} for i in range(k)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysd_model.run(params=rows[0], return_columns=[OUTCOME])
        start = time.perf_counter()
        for row in rows:
            pysd_model.run(params=row, return_columns=[OUTCOME])
        pysd_time = (time.perf_counter() - start) / k
    simlin_model.run(overrides={simlin_name(n): v for n, v in rows[0].items()}, analyze_loops=False)
    start = time.perf_counter()
    for row in rows:
        _ = simlin_model.run(overrides={simlin_name(n): v for n, v in row.items()}, analyze_loops=False).results
    simlin_time = (time.perf_counter() - start) / k
    return pysd_time, simlin_time


def agreement(model, pysd_model, simlin_model, row: dict[str, float]) -> tuple[float, float]:
    ours = model.run(row, return_columns=[OUTCOME])[OUTCOME].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pysd_model.run(params=row, return_columns=[OUTCOME])[OUTCOME].to_numpy()
    simlin = simlin_model.run(overrides={simlin_name(n): v for n, v in row.items()}, analyze_loops=False).results
    return float(np.max(np.abs(ours - theirs))), float(np.max(np.abs(ours - simlin[simlin_name(OUTCOME)].to_numpy())))


def salib_per_month_seconds(Y: np.ndarray, names: list[str], months: int) -> float:
    """What a peer's user adds: SALib's sobol.analyze once per month (timed on a few, scaled to all)."""
    from SALib.analyze import sobol

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    sample = min(months, 6)
    start = time.perf_counter()
    for t in range(months - sample, months):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sobol.analyze(problem, Y[:, t], calc_second_order=True, seed=1)
    return (time.perf_counter() - start) / sample * months


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, few peer runs (a smoke test)")
    args = parser.parse_args()
    repeats, k = (1, 8) if args.quick else (3, 40)

    import pysd
    import simlin

    import flywheel

    print(f"load average at start: {load_average()}  (cores: {os.cpu_count()})")
    print(f"flywheel {flywheel.__version__}, PySD {pysd.__version__}, pysimlin {simlin.__version__}")
    model = flywheel.load_model(MODEL_PATH)
    ranges = flywheel.load_ranges(RANGES_PATH, model)
    scenario = flywheel.load_scenario(SCENARIO_PATH, model=model)
    base = scenario.params
    with tempfile.TemporaryDirectory() as workdir:
        pysd_model, simlin_model = peers(Path(workdir))
        row = {**base, **{n: float(ranges[n].ppf(np.array([0.3]))[0]) for n in ranges}}
        d_pysd, d_simlin = agreement(model, pysd_model, simlin_model, row)
        print(f"agreement on one member's {OUTCOME} (121 months): flywheel vs PySD max abs diff {d_pysd:.3g}, "
              f"vs pysimlin {d_simlin:.3g}")  # fmt: skip

        print("\n1. Sobol' through time: 10 inputs, N = 1024, 22,528 runs, indices at every month (121)")
        t_sobol, sens = timed(lambda: flywheel.sensitivity(model, ranges, OUTCOME, n=1024, seed=0, scenario=scenario), repeats)
        t_sobol_figs, _ = timed(lambda: [png(s.plot()) + png(s.plot(kind="bars")) for s in
                                         [flywheel.sensitivity(model, ranges, OUTCOME, n=1024, seed=0, scenario=scenario)]], repeats)  # fmt: skip
        print(f"  flywheel.sensitivity, end to end (warm, median of {repeats}):   {t_sobol:8.2f} s   "
              f"({sens.n_runs / t_sobol:,.0f} runs/s incl. analysis)")  # fmt: skip
        print(f"  ... plus heat map and bar chart rendered as PNG:           {t_sobol_figs:8.2f} s   (goal < 3 s)")
        pysd_run, simlin_run = peer_seconds_per_run(pysd_model, simlin_model, dict(sens.samples.items()), k, base)
        Y = sens.evaluations[OUTCOME].values
        salib = salib_per_month_seconds(Y, list(ranges), Y.shape[1])
        n = sens.n_runs
        print(f"  PySD run() x {n:,} (from {k} runs, {pysd_run * 1e3:.1f} ms each):    {pysd_run * n:8.1f} s")
        print(f"  pysimlin run() x {n:,} (from {k} runs, {simlin_run * 1e3:.2f} ms each): {simlin_run * n:8.1f} s")
        print(f"  SALib sobol.analyze once per month (121 calls):            {salib:8.1f} s")
        print(f"  ratio PySD/flywheel (runs + SALib per month vs end to end):     {(pysd_run * n + salib) / t_sobol:8.0f}x")
        print(f"  ratio pysimlin/flywheel (runs + SALib per month vs end to end): {(simlin_run * n + salib) / t_sobol:8.0f}x")
        print(f"  ratio PySD/flywheel (runs alone vs end to end):                 {pysd_run * n / t_sobol:8.0f}x")
        print(f"  ratio pysimlin/flywheel (runs alone vs end to end):             {simlin_run * n / t_sobol:8.0f}x")

        print("\n2. Monte Carlo: 10,000 runs of the 10 inputs, a fan chart")

        def monte_carlo(variables):
            mc = flywheel.montecarlo(scenario, ranges, n=10_000, seed=0, variables=variables)
            png(mc.plot())
            return mc

        t_mc, mc = timed(lambda: monte_carlo([OUTCOME]), repeats)
        t_mc7, _ = timed(lambda: monte_carlo(None), repeats)
        t_mc_runs, _ = timed(lambda: flywheel.montecarlo(scenario, ranges, n=10_000, seed=0, variables=[OUTCOME]), repeats)
        print(f"  flywheel.montecarlo + fan chart PNG, 1 variable (warm):    {t_mc:8.2f} s   (goal < 1 s)")
        print(f"  ... without the figure:                                    {t_mc_runs:8.2f} s")
        print(f"  ... the profile's 7 panel variables + their fan chart:    {t_mc7:8.2f} s")
        inputs = {name: mc.inputs[name].to_numpy() for name in mc.inputs.columns}
        pysd_run, simlin_run = peer_seconds_per_run(pysd_model, simlin_model, inputs, k, base)
        print(f"  PySD run() x 10,000 (from {k} runs):                         {pysd_run * 1e4:8.1f} s")
        print(f"  pysimlin run() x 10,000 (from {k} runs):                     {simlin_run * 1e4:8.1f} s")
        print(f"  ratio PySD/flywheel (runs alone vs runs + fan chart):          {pysd_run * 1e4 / t_mc:8.0f}x")
        print(f"  ratio pysimlin/flywheel (runs alone vs runs + fan chart):      {simlin_run * 1e4 / t_mc:8.0f}x")
    print(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    main()
