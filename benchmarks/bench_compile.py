"""Compile and load times as models grow: flywheel against PySD and pysimlin on the same files.

For each model (the 5-stock business model, the flywheel model, and the generated 263-variable,
55-lookup World3-like ``large_model.mdl``), each in a new Python process:

- fresh: an empty FLYWHEEL_CACHE_DIR; ``import flywheel``, ``load_model`` (PySD's parser, the compiler,
  LLVM), the first ``run()``, then the first ``run_ensemble`` of 1,000 members (which compiles the
  lockstep module the first time a model needs it);
- cached: a second process with the same cache: ``load_model`` and the first ``run()``;
- PySD: ``pysd.read_vensim`` (translation to Python) and its first ``run()``; pysimlin: ``simlin.load``
  and its first ``run(analyze_loops=False)``.

Each case runs 3 times (once with --quick) with new cache folders; medians are printed. This script
asserts nothing; it prints numbers. Usage: ``python benchmarks/bench_compile.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = {
    "business model (45 variables)": HERE / "business_model.mdl",
    "flywheel model": HERE.parent / "models" / "evil_sales_flywheel.mdl",
    "large model (263 variables, 55 lookups)": HERE / "large_model.mdl",
}

_FLYWHEEL = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import flywheel
t1 = time.perf_counter()
model = flywheel.load_model(sys.argv[1])
t2 = time.perf_counter()
model.run()
t3 = time.perf_counter()
out = {"import": t1 - t0, "load": t2 - t1, "first_run": t3 - t2}
if sys.argv[2] == "fresh":
    name = model.constants[0]
    model.run_ensemble({name: [model.variables[name].default] * 1000}, return_columns=[model.stocks[0]])
    out["first_ensemble"] = time.perf_counter() - t3
print(json.dumps(out))
"""

_PEERS = """
import json, shutil, sys, tempfile, time, warnings
warnings.simplefilter("ignore")
path = sys.argv[1]
t0 = time.perf_counter()
import pysd
copy = shutil.copy(path, tempfile.mkdtemp())
t1 = time.perf_counter()
model = pysd.read_vensim(copy)
t2 = time.perf_counter()
model.run()
t3 = time.perf_counter()
import simlin
from flywheel.analysis.peers import simlin_path
t4 = time.perf_counter()
sim = simlin.load(str(simlin_path(path)))
t5 = time.perf_counter()
sim.run(analyze_loops=False).results
t6 = time.perf_counter()
print(json.dumps({"pysd_read": t2 - t1, "pysd_first_run": t3 - t2, "simlin_load": t5 - t4, "simlin_first_run": t6 - t5}))
"""


def child(code: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(path: Path, repeats: int, workdir: Path) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, float]]] = {"fresh": [], "cached": [], "peers": []}
    for i in range(repeats):
        env = {"FLYWHEEL_CACHE_DIR": str(workdir / f"{path.stem}-{i}")}
        runs["fresh"].append(child(_FLYWHEEL, [str(path), "fresh"], env))
        runs["cached"].append(child(_FLYWHEEL, [str(path), "cached"], env))
        runs["peers"].append(child(_PEERS, [str(path)], {}))
    return {case: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for case, rs in runs.items()}


def seconds(x: float) -> str:
    return f"{x * 1e3:8.0f} ms" if x < 10 else f"{x:8.1f} s "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition instead of three")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    print(f"compile and load times, median of {repeats}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = f"  {'':<44}{'fresh load':>12}{'first run':>12}{'lockstep':>12}{'cached':>12}"
    with tempfile.TemporaryDirectory(prefix="flywheel-compile-") as tmp:
        for label, path in MODELS.items():
            t = measure(path, repeats, Path(tmp))
            fresh, cached, peers = t["fresh"], t["cached"], t["peers"]
            print(f"\n{label}: {path.name}")
            print(header)
            print(
                f"  {'flywheel (load_model, first run(), first 1,000-member ensemble)':<44}"
                f"{seconds(fresh['load'])}  {seconds(fresh['first_run'])}  {seconds(fresh['first_ensemble'])}"
                f"  {seconds(cached['load'] + cached['first_run'])}"
            )
            print(f"    fresh load + first run: {seconds(fresh['load'] + fresh['first_run']).strip()} "
                  f"(target < 3 s for 250 variables); lockstep module: {seconds(fresh['first_ensemble']).strip()} "
                  f"(target < 5 s flywheel, < 15 s 250 variables); cached load + first run: "
                  f"{seconds(cached['load'] + cached['first_run']).strip()} (target < 0.3 s)")  # fmt: skip
            print(f"  PySD read_vensim {seconds(peers['pysd_read']).strip()}, first run {seconds(peers['pysd_first_run']).strip()}; "
                  f"pysimlin load {seconds(peers['simlin_load']).strip()}, first run {seconds(peers['simlin_first_run']).strip()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
