"""Speed of the loop analyses against pysimlin, side by side in one run (not a test).

    PYTHONPATH=. python3 benchmarks/bench_loops.py [scenario.toml]

loop_dominance on a flywheel scenario vs pysimlin's run() with and without its loop analysis; loops()
and links() warm. Prints the median of repeated calls and the ratios."""

from __future__ import annotations

import sys
from pathlib import Path

from timing import median_seconds

import flywheel
from flywheel.analysis.peers import simlin_name, simlin_path
from flywheel.scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    scenario_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scenarios" / "shock_add_overlays.toml"
    model_path = ROOT / "models" / "evil_sales_flywheel.mdl"
    model = flywheel.load_model(model_path)
    scenario = load_scenario(scenario_path, model)
    ours = median_seconds(lambda: flywheel.loop_dominance(model, scenario), 20)
    loops = median_seconds(lambda: flywheel.loops(model), 20)
    links = median_seconds(lambda: flywheel.links(model, scenario), 5)
    print(f"flywheel loop_dominance ({scenario_path.stem}): {ours * 1e3:8.2f} ms")
    print(f"flywheel loops (warm):                        {loops * 1e3:8.2f} ms   (target < 50 ms)")
    print(f"flywheel links (warm, with sampled checks):   {links * 1e3:8.2f} ms   (target < 500 ms)")
    try:
        import simlin
    except ImportError:
        print("pysimlin is not installed: no comparison")
        return
    overrides = {simlin_name(k): v for k, v in scenario.params.items()}
    sm = simlin.load(str(simlin_path(model_path)))
    with_loops = median_seconds(lambda: sm.run(overrides=overrides), 20)
    without = median_seconds(lambda: sm.run(overrides=overrides, analyze_loops=False), 20)
    print(f"pysimlin run() with loop analysis:            {with_loops * 1e3:8.2f} ms")
    print(f"pysimlin run() without loop analysis:         {without * 1e3:8.2f} ms")
    print(f"ratio loop_dominance / pysimlin with loops:   {ours / with_loops:8.2f}x")
    print(f"ratio loop_dominance / pysimlin without:      {ours / without:8.2f}x")


if __name__ == "__main__":
    main()
