"""Subscripted models: flywheel against PySD on a generated regional supply-chain model.

The model (``make_subscripted_model.py``): N regions x 3 products, 60 months at TIME STEP 0.25 (240
steps), arrays of one and two dimensions, SUM over a dimension, lookups per element, SMOOTH and DELAY1
over arrays, MIN, MODULO and scalar aggregates. With N = 1,000 it has 3,000 stocks in an INTEG of two
dimensions, 2,000 more states in the SMOOTH and DELAY1 chains, and 19,000 output columns.

What is measured, printed as tables with ratios:

1. Compile: ``flywheel.load_model`` of the 1,000-region model in a fresh process with an empty cache
   (PySD's parser, lowering, LLVM), and again with the cache; the size of the LLVM IR for 10 and for
   1,000 regions (loops over the elements: the code does not grow with a dimension).
2. One run of the 1,000-region model: flywheel ``model.run()`` (median of 5, warm), against PySD 3.14's
   ``model.run()``. PySD needs about 5 s per time step on this model (its lookups over arrays loop over
   the elements in Python), so by default it runs the first 8 steps (``final_time=2``) and the full run
   is that time per step x 240 steps (printed as such); ``--pysd-full`` times PySD's whole run instead.
   Both engines' values agree on those steps (max abs diff printed).
3. Ensembles (``run_ensemble``, two constants varied, one column at 3 times, all cores): the 1,000-region
   model (512 members), and the same model with 3 regions (100,000 members), member-runs per second.

Times are wall-clock (``time.perf_counter``); nothing is asserted. Usage:
``python benchmarks/bench_subscripts.py [--quick] [--pysd-full]`` (``--quick``: fewer repetitions and
members, 2 PySD steps; a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_subscripted_model import write  # noqa: E402
from timing import fmt_time as fmt  # noqa: E402
from timing import median_seconds  # noqa: E402

REGIONS = 1000
STEPS = 240
COLUMNS = ["Total Inventory", "Total Delivered", "Average Price Effect"]


def load_in_subprocess(path: Path, cache_dir: Path) -> float:
    code = (
        "import time, sys, flywheel; t = time.perf_counter(); flywheel.load_model(sys.argv[1]); "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, FLYWHEEL_CACHE_DIR=str(cache_dir))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE.parent), env.get("PYTHONPATH", "")] if p)
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def compile_times(workdir: Path, path: Path) -> dict[str, float]:
    import flywheel

    cache = workdir / "cache"
    first = load_in_subprocess(path, cache)
    cached = load_in_subprocess(path, cache)
    small = write(10, workdir / "regions10.mdl")
    sizes = {n: len(flywheel.load_model(p, cache=False).compiled.ir("base")) for n, p in ((10, small), (REGIONS, path))}
    return {"first": first, "cached": cached, "ir10": sizes[10], "ir1000": sizes[REGIONS]}


def pysd_runs(workdir: Path, path: Path, steps: int, full: bool) -> dict:
    import pysd

    folder = workdir / "pysd"
    folder.mkdir(exist_ok=True)
    copy = folder / path.name
    shutil.copy(path, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model = pysd.read_vensim(str(copy))
        translate = time.perf_counter() - start
        final = None if full else steps * 0.25
        start = time.perf_counter()
        frame = model.run(final_time=final, return_columns=COLUMNS) if final else model.run(return_columns=COLUMNS)
        seconds = time.perf_counter() - start
    done_steps = STEPS if full else steps
    return {"translate": translate, "seconds": seconds, "steps": done_steps, "per_step": seconds / done_steps,
            "frame": frame}  # fmt: skip


def ensemble_rate(model, members: int, seed: int = 20261122) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    table = {"Utilisation": rng.uniform(0.8, 1.0, members), "Shipping Time": rng.uniform(1.0, 3.0, members)}
    model.run_ensemble({"Utilisation": np.full(16, 0.9)}, return_columns=["Total Inventory"])  # lockstep code
    start = time.perf_counter()
    model.run_ensemble(table, return_columns=["Total Inventory"], return_times=[0, 30, 60])
    wall = time.perf_counter() - start
    return wall, members / wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions and members (a smoke test)")
    parser.add_argument("--pysd-full", action="store_true", help="time PySD's whole run (about 20 minutes)")
    args = parser.parse_args(argv)
    import flywheel

    print(f"load average at the start {', '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["FLYWHEEL_CACHE_DIR"] = str(workdir / "cache-main")
        path = write(REGIONS, workdir / "regions1000.mdl")

        comp = compile_times(workdir, path)
        print(f"\n1. Compile, {REGIONS:,} regions x 3 products (a fresh process each)")
        print(f"  first load_model (empty cache: parse, lower, LLVM)  {fmt(comp['first'])}   target < 5 s")
        print(f"  cached load_model                                   {fmt(comp['cached'])}")
        print(f"  LLVM IR of the base module: 10 regions {comp['ir10']:,} chars, {REGIONS:,} regions {comp['ir1000']:,} "
              f"chars (ratio {comp['ir1000'] / comp['ir10']:.2f}: loops, not one statement per element)")  # fmt: skip

        model = flywheel.load_model(path)
        ours = median_seconds(model.run, 2 if args.quick else 5)
        frame = model.run()
        steps = 2 if args.quick else 8
        theirs = pysd_runs(workdir, path, steps, args.pysd_full)
        pysd_full = theirs["per_step"] * STEPS
        common = theirs["frame"].index.to_numpy(dtype=float)
        diff = max(float(np.nanmax(np.abs(frame.loc[common, c].to_numpy() - theirs["frame"][c].to_numpy()))) for c in COLUMNS)
        print(f"\n2. One run, {REGIONS:,} regions, {STEPS} steps, every column ({len(frame.columns):,}) at 61 times")
        print(f"  flywheel model.run()                                {fmt(ours)}")
        print(f"  PySD model.run(): {theirs['steps']} steps in {theirs['seconds']:.1f} s = {theirs['per_step']:.2f} s per step "
              f"(translation {theirs['translate']:.1f} s)")  # fmt: skip
        label = "measured" if args.pysd_full else f"{theirs['per_step']:.2f} s x {STEPS} steps"
        print(f"  PySD whole run ({label})                 {fmt(pysd_full)}")
        print(f"  ratio PySD/flywheel: {pysd_full / ours:,.0f}x   (target >= 100x)")
        print(f"  flywheel vs PySD on the steps both ran: max abs diff {diff:.3g} ({', '.join(COLUMNS)})")

        big_members = 64 if args.quick else 512
        wall, rate = ensemble_rate(model, big_members)
        element_steps = rate * STEPS * REGIONS * 3
        small = flywheel.load_model(write(3, workdir / "regions3.mdl"))
        small_members = 20_000 if args.quick else 100_000
        small_wall, small_rate = ensemble_rate(small, small_members)
        print("\n3. Ensembles (run_ensemble; Utilisation and Shipping Time varied; one column at 3 times; all cores)")
        print(f"  {REGIONS:,} regions: {big_members:,} members in {wall:.2f} s = {rate:,.0f} member-runs/s "
              f"({element_steps / 1e9:.2f} billion stock-element steps/s)")  # fmt: skip
        print(f"  3 regions: {small_members:,} members in {small_wall:.2f} s = {small_rate:,.0f} member-runs/s   "
              "(target >= 100,000/s)")
        print(f"  for scale: PySD one {REGIONS:,}-region run x {big_members} = {pysd_full * big_members / 3600:,.1f} h")
    print(f"\nload average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    summary = {"first_load_s": comp["first"], "run_s": ours, "pysd_run_s": pysd_full, "ratio": pysd_full / ours,
               "ensemble_1000_per_s": rate, "ensemble_3_per_s": small_rate}  # fmt: skip
    print("summary " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
