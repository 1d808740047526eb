"""Core benchmarks: PySD, pysimlin and flywheel on one 5-stock business model (benchmarks/business_model.mdl).

What is measured, all in one run of this script, printed as tables of times and ratios:

1. One 120-month run at TIME STEP 0.25 (481 steps, output every month, all variables):
   - PySD:     ``model.run()`` after one warm-up run; median of 20 runs.
   - pysimlin: ``model.run(analyze_loops=False).results`` (the run and its DataFrame of every variable,
     the equivalent of the other two); median of 50 runs after one warm-up. For reference also
     pysimlin's default ``model.run()`` (which adds its loop-dominance analysis) and its low-level
     ``Sim.reset()`` + ``Sim.run_to_end()`` (no DataFrame).
   - flywheel: ``model.run()`` on a loaded, warm model (kernels compiled); median of 200 runs.
   Ratios: PySD / flywheel and pysimlin / flywheel.
2. Ensembles: flywheel ``run_ensemble`` with 100,000 and 1,000,000 members; three constants drawn
   uniformly within +-30% of their defaults (fixed seed); two stocks returned at t = 0, 12, ..., 120.
   Wall time of the call (after a warm-up that compiles the lockstep module; 100,000 members: median and
   min of 3 calls, 1,000,000: one call), member-runs per second, and PySD's median time per run x 100,000
   for scale. Then the same 1,000,000 members returning every one of the 481 steps (saveper = time
   step), against the time it takes numpy to write an array of that size once (``np.full``): what the
   result costs beyond the runs themselves. And the floor the hardware sets: the model's lockstep
   evaluation does D divisions per member and step (counted in its LLVM IR); numpy's division of
   contiguous arrays (SIMD) takes t per double; D x t x 481 steps is the least a member-run costs.
3. Load times, each in a fresh Python subprocess:
   - first load: empty FLYWHEEL_CACHE_DIR; inside the process the time of ``flywheel.load_model(path)``
     and of the first ``run()``, and, from outside, the wall time of the whole process (interpreter start,
     ``import flywheel``, load, first run).
   - cached load: a second process with the same cache dir: ``load_model`` and the first ``run()``.
   - the same cached load in a process that has imported numpy, pandas and xarray before the clock
     starts (a notebook): what is left when the libraries a researcher has loaded anyway are loaded.
   Each pair (first, cached) is repeated 3 times with new cache dirs; the medians are printed.
   ``benchmarks/bench_compile.py`` measures compile and load times on larger models.
Before timing, the script checks that the three engines agree (stocks at every time step).

Times are wall-clock (``time.perf_counter``). This script asserts nothing about speed: it prints numbers.
Usage: ``python benchmarks/bench_core.py [--quick]``; ``--quick`` uses few repetitions and skips the
1,000,000-member ensemble (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from timing import fmt_time, median_seconds

from flywheel.analysis.peers import simlin_name

MODEL_PATH = Path(__file__).resolve().parent / "business_model.mdl"
STOCKS = ["Prospects", "Customers", "Sales Force", "Cash", "Product Quality"]
ENSEMBLE_PARAMS = ["Deals per Rep", "Base Churn Rate", "Marketing Fraction"]
ENSEMBLE_COLUMNS = ["Customers", "Cash"]
RETURN_TIMES = list(range(0, 121, 12))
SEED = 20261122
PYSD_TIME_SCALE = 100_000


# --------------------------------------------------------------------------- the engines
def load_engines(workdir: Path):
    """PySD, pysimlin and flywheel models of the benchmark model.

    PySD translates the .mdl into a .py beside it, so it reads a copy in ``workdir``.
    """
    import pysd
    import simlin

    import flywheel
    from flywheel.analysis.peers import simlin_path

    copy = workdir / MODEL_PATH.name
    shutil.copy(MODEL_PATH, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysd_model = pysd.read_vensim(str(copy))
    return pysd_model, simlin.load(str(simlin_path(MODEL_PATH))), flywheel.load_model(MODEL_PATH)


def check_agreement(pysd_model, simlin_model, fw_model) -> dict[str, float]:
    """Stocks at every time step (SAVEPER = TIME STEP) in the three engines."""
    step = fw_model.time_step
    every_step = np.arange(fw_model.initial_time, fw_model.final_time + step / 2, step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pysd_model.run(return_columns=STOCKS, return_timestamps=every_step)[STOCKS].to_numpy()
    fw = fw_model.run(return_columns=STOCKS, saveper=step)[STOCKS].to_numpy()
    simlin_model.project.set_sim_specs(save_step=step)
    try:
        results = simlin_model.run(analyze_loops=False).results
    finally:
        simlin_model.project.set_sim_specs(save_step=fw_model.saveper)
    sl = results[[simlin_name(s) for s in STOCKS]].to_numpy()
    if ref.shape != fw.shape or ref.shape != sl.shape:
        raise RuntimeError(
            f"output shapes differ: PySD {ref.shape}, flywheel {fw.shape}, pysimlin {sl.shape}"
        )
    return {
        "steps": len(ref),
        "flywheel_vs_pysd_max_abs": float(np.max(np.abs(fw - ref))),
        "pysimlin_vs_pysd_max_abs": float(np.max(np.abs(sl - ref))),
        "pysimlin_vs_pysd_max_rel": float(np.max(np.abs(sl - ref) / np.maximum(np.abs(ref), 1e-300))),
    }


# --------------------------------------------------------------------------- 1. single runs
def time_single_runs(pysd_model, simlin_model, fw_model, quick: bool) -> dict[str, float]:
    reps = {"pysd": 3, "simlin": 10, "flywheel": 20} if quick else {"pysd": 20, "simlin": 50, "flywheel": 200}

    def pysd_run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pysd_model.run()

    sim = simlin_model.simulate()

    def simlin_low_level():
        sim.reset()
        sim.run_to_end()

    return {
        "pysd": median_seconds(pysd_run, reps["pysd"]),
        "simlin": median_seconds(lambda: simlin_model.run(analyze_loops=False).results, reps["simlin"]),
        "simlin_ltm": median_seconds(lambda: simlin_model.run().results, reps["simlin"]),
        "simlin_sim": median_seconds(simlin_low_level, reps["simlin"]),
        "flywheel": median_seconds(fw_model.run, reps["flywheel"]),
        "reps": reps,
    }


# --------------------------------------------------------------------------- 2. ensembles
def ensemble_table(fw_model, n_members: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """``n_members`` uniform draws of ENSEMBLE_PARAMS within +-30% of their defaults."""
    rng = np.random.default_rng(seed)
    return {
        name: fw_model.variables[name].default * rng.uniform(0.7, 1.3, n_members) for name in ENSEMBLE_PARAMS
    }


def time_ensemble(fw_model, n_members: int) -> tuple[float, int]:
    """Wall time of one ``run_ensemble`` call (table drawn beforehand) and the number of diverged members."""
    table = ensemble_table(fw_model, n_members)
    start = time.perf_counter()
    result = fw_model.run_ensemble(table, return_columns=ENSEMBLE_COLUMNS, return_times=RETURN_TIMES)
    elapsed = time.perf_counter() - start
    expected = (n_members, len(RETURN_TIMES))
    if result[ENSEMBLE_COLUMNS[0]].shape != expected:
        raise RuntimeError(
            f"ensemble result has shape {result[ENSEMBLE_COLUMNS[0]].shape}, expected {expected}"
        )
    return elapsed, int(result["diverged"].sum())


def time_ensembles(fw_model, quick: bool) -> dict[int, list[tuple[float, int]]]:
    """100,000 members 3 times (once with --quick) and 1,000,000 once (skipped with --quick)."""
    repeats = {100_000: 1} if quick else {100_000: 3, 1_000_000: 1}
    # a warm-up compiles the lockstep module (once per model and machine), which is not timed
    fw_model.run_ensemble(ensemble_table(fw_model, 2_000), return_columns=ENSEMBLE_COLUMNS, return_times=RETURN_TIMES)
    return {n: [time_ensemble(fw_model, n) for _ in range(r)] for n, r in repeats.items()}


def time_every_step(fw_model, n_members: int) -> dict[str, float]:
    """An ensemble returning every step, against writing an array of the result's size once.

    A virtual machine backs memory the first time a process touches it, slowly; the result's worth of
    memory is written once before anything is timed, so both timings see memory the system has given out
    before."""
    table = ensemble_table(fw_model, n_members)
    step = fw_model.time_step
    n_times = len(fw_model.spec(saveper=step).time.grid.save_times)
    np.full((len(ENSEMBLE_COLUMNS), n_members, n_times), 0.0)  # warm the memory, then let it go
    start = time.perf_counter()
    result = fw_model.run_ensemble(table, return_columns=ENSEMBLE_COLUMNS, saveper=step)
    every = time.perf_counter() - start
    shape = (len(ENSEMBLE_COLUMNS), n_members, result.sizes["time"])
    del result
    start = time.perf_counter()
    np.full(shape, 1.0)
    write_once = time.perf_counter() - start
    start = time.perf_counter()
    fw_model.run_ensemble(table, return_columns=ENSEMBLE_COLUMNS, return_times=RETURN_TIMES)
    few = time.perf_counter() - start
    return {"members": n_members, "times": shape[2], "every": every, "few": few, "write_once": write_once,
            "gib": np.prod(shape) * 8 / 2**30}  # fmt: skip


def division_floor(fw_model) -> dict[str, float]:
    """Divisions per member-step in the lockstep evaluation, and numpy's SIMD time per division."""
    import re

    text = fw_model.compiled.ir("lockstep") or ""
    body = text[text.find('@"member_eval_lockstep"'):]
    body = body[: body.find("\n}\n")]
    divisions = len(re.findall(r"= fdiv <", body))
    a, b = np.full(1 << 20, 1.2345), np.full(1 << 20, 1.0000001)
    per_double = median_seconds(lambda: np.divide(a, b, out=a), 20) / len(a)
    steps = fw_model.spec().time.grid.n_steps
    return {"divisions": divisions, "per_double": per_double, "floor_run": divisions * per_double * steps}


# --------------------------------------------------------------------------- 3. load times
_CHILD = """
import json, sys, time
if len(sys.argv) > 2:  # a notebook's process: numpy, pandas and xarray are imported already
    import numpy, pandas, xarray
t0 = time.perf_counter()
import flywheel
t1 = time.perf_counter()
model = flywheel.load_model(sys.argv[1])
t2 = time.perf_counter()
model.run()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_run": t3 - t2}))
"""


def load_in_subprocess(env_overrides: dict[str, str], preimported: bool = False) -> dict[str, float]:
    """Import flywheel, load the model and run it once in a new interpreter; times inside and outside.
    ``preimported``: numpy, pandas and xarray are imported before the clock starts, as in a notebook."""
    env = {**os.environ, **env_overrides}
    start = time.perf_counter()
    argv = [sys.executable, "-c", _CHILD, str(MODEL_PATH)] + (["preimported"] if preimported else [])
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"load subprocess failed:\n{done.stderr}")
    times = json.loads(done.stdout.strip().splitlines()[-1])
    times["process"] = wall
    return times


def time_loads(workdir: Path, repeats: int) -> dict[str, dict[str, float]]:
    """A first then a cached load, ``repeats`` times with new cache dirs; medians per case and field."""
    runs: dict[str, list[dict[str, float]]] = {}
    for i in range(repeats):
        env = {"FLYWHEEL_CACHE_DIR": str(workdir / f"flywheel-cache-{i}")}
        for key in ("first", "cached"):
            runs.setdefault(key, []).append(load_in_subprocess(env))
        runs.setdefault("notebook", []).append(load_in_subprocess(env, preimported=True))
    return {
        key: {field: statistics.median(r[field] for r in rs) for field in rs[0]} for key, rs in runs.items()
    }


# --------------------------------------------------------------------------- report
def print_header(quick: bool) -> None:
    import llvmlite
    import pysd
    import simlin

    import flywheel

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"flywheel benchmark: {MODEL_PATH.name}{' (--quick: few repetitions, not a measurement)' if quick else ''}"
    )
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, llvmlite {llvmlite.__version__}, "
        f"PySD {pysd.__version__}, pysimlin {simlin.__version__}, "
        f"flywheel {getattr(flywheel, '__version__', '?')}; load average at start {load}"
    )


def print_agreement(agree: dict[str, float]) -> None:
    print(f"\nAgreement of the 5 stocks at every one of {agree['steps']} steps (reference: PySD)")
    print(f"  flywheel vs PySD: max abs diff {agree['flywheel_vs_pysd_max_abs']:.3g}")
    print(
        f"  pysimlin vs PySD: max abs diff {agree['pysimlin_vs_pysd_max_abs']:.3g}, "
        f"max rel diff {agree['pysimlin_vs_pysd_max_rel']:.3g}"
    )


def print_single(t: dict) -> None:
    reps = t["reps"]
    print("\n1. One 120-month run, TIME STEP 0.25 (481 steps), all variables at every month")
    print(f"  {'engine':<52} {'median':>12}")
    print(f"  {'PySD model.run()':<52} {fmt_time(t['pysd'])}   ({reps['pysd']} runs)")
    print(
        f"  {'pysimlin model.run(analyze_loops=False).results':<52} {fmt_time(t['simlin'])}   ({reps['simlin']} runs)"
    )
    print(f"  {'  for reference: pysimlin model.run().results (LTM)':<52} {fmt_time(t['simlin_ltm'])}")
    print(f"  {'  for reference: pysimlin Sim.reset()+run_to_end()':<52} {fmt_time(t['simlin_sim'])}")
    print(f"  {'flywheel model.run()':<52} {fmt_time(t['flywheel'])}   ({reps['flywheel']} runs)")
    print(f"  ratio PySD/flywheel:     {t['pysd'] / t['flywheel']:8.1f}x")
    print(f"  ratio pysimlin/flywheel: {t['simlin'] / t['flywheel']:8.1f}x   (flywheel.run target < 0.1 ms)")


def print_ensembles(ens: dict[int, list[tuple[float, int]]], pysd_run: float) -> None:
    targets = {100_000: ">= 600,000/s", 1_000_000: ">= 600,000/s"}
    print(
        f"\n2. flywheel run_ensemble: {', '.join(ENSEMBLE_PARAMS)} uniform within +-30% (seed {SEED}); "
        f"{' and '.join(ENSEMBLE_COLUMNS)} at t = 0, 12, ..., 120"
    )
    print(
        f"  {'members':>10} {'calls':>5} {'median wall':>12} {'min wall':>12} {'member-runs/s':>14} {'diverged':>9}   target"
    )
    for n, calls in ens.items():
        times = [seconds for seconds, _ in calls]
        wall = statistics.median(times)
        diverged = calls[-1][1]
        print(
            f"  {n:>10,} {len(calls):>5} {fmt_time(wall)} {fmt_time(min(times))} {n / wall:>14,.0f} {diverged:>9}"
            f"   {targets.get(n, '')}"
        )
    hours = pysd_run * PYSD_TIME_SCALE / 3600
    print(
        f"  for scale: PySD {PYSD_TIME_SCALE:,} runs one by one = {fmt_time(pysd_run).strip()} x {PYSD_TIME_SCALE:,} = {hours:.1f} h"
    )


def print_every_step(e: dict[str, float], floor: dict[str, float], ens: dict) -> None:
    print(f"\n   Every step: {e['members']:,} members x {e['times']} times x {len(ENSEMBLE_COLUMNS)} variables "
          f"({e['gib']:.1f} GiB)")  # fmt: skip
    extra = e["every"] - e["few"]
    print(f"  every step returned: {fmt_time(e['every']).strip()}; 11 times: {fmt_time(e['few']).strip()}; "
          f"the difference {fmt_time(extra).strip()} against writing the result once with np.full "
          f"{fmt_time(e['write_once']).strip()} (ratio {extra / e['write_once']:.2f}, target <= 1)")  # fmt: skip
    best = min(min(s for s, _ in calls) / n for n, calls in ens.items())
    print(f"  hardware floor: {floor['divisions']} divisions per member-step in the lockstep evaluation x "
          f"{floor['per_double'] * 1e9:.2f} ns per double (numpy SIMD) x 481 steps = "
          f"{floor['floor_run'] * 1e6:.2f} us per member-run per core, i.e. at most "
          f"{(os.cpu_count() or 1) / floor['floor_run']:,.0f} member-runs/s on {os.cpu_count()} cores; "
          f"measured {1 / best:,.0f}/s")  # fmt: skip


def print_help_time(seconds: float) -> None:
    print(f"\n4. `flywheel --help` in a new process: {fmt_time(seconds).strip()} (target < 0.3 s)")


def time_help() -> float:
    def run() -> None:
        subprocess.run([sys.executable, "-m", "flywheel", "--help"], capture_output=True, check=True, timeout=60)

    return median_seconds(run, 5)


def print_loads(loads: dict[str, dict[str, float]], repeats: int) -> None:
    print(
        f"\n3. Load times, each in a new process, median of {repeats} "
        "(import = `import flywheel`; process = whole subprocess wall time)"
    )
    print(f"  {'case':<46} {'import':>12} {'load_model':>12} {'first run':>12} {'process':>12}   target")
    rows = [
        ("first load, empty FLYWHEEL_CACHE_DIR", "first", "load + first run < 3 s"),
        ("cached load (same FLYWHEEL_CACHE_DIR)", "cached", "load + first run < 0.3 s"),
        ("cached, numpy/pandas/xarray already imported", "notebook", ""),
    ]
    for label, key, target in rows:
        t = loads[key]
        cells = " ".join(fmt_time(t[k]) for k in ("import", "load", "first_run", "process"))
        print(f"  {label:<46} {cells}   {target}")
    first = loads["first"]
    print(
        f"  first load_model + first run: {fmt_time(first['load'] + first['first_run']).strip()} (target < 3 s)"
    )
    cached = loads["cached"]
    print(
        f"  cached load_model + first run: {fmt_time(cached['load'] + cached['first_run']).strip()} (target < 0.3 s)"
    )
    notebook = loads["notebook"]
    print(
        "  the same with numpy, pandas and xarray imported before (a notebook): "
        f"{fmt_time(notebook['load'] + notebook['first_run']).strip()}; the difference is importing them "
        "(lazily, at load_model and at the first DataFrame)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions, no 1,000,000-member ensemble")
    args = parser.parse_args(argv)
    print_header(args.quick)
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp:
        workdir = Path(tmp)
        load_repeats = 1 if args.quick else 3
        loads = time_loads(workdir, load_repeats)  # first, while this process runs nothing else
        pysd_model, simlin_model, fw_model = load_engines(workdir)
        print_agreement(check_agreement(pysd_model, simlin_model, fw_model))
        single = time_single_runs(pysd_model, simlin_model, fw_model, args.quick)
        print_single(single)
        ensembles = time_ensembles(fw_model, args.quick)
        print_ensembles(ensembles, single["pysd"])
        print_every_step(time_every_step(fw_model, 100_000 if args.quick else 1_000_000), division_floor(fw_model), ensembles)
        print_loads(loads, load_repeats)
        print_help_time(time_help())
    print(f"\nload average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
