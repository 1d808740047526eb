"""Speed of the game, tipping points and equilibria on the flywheel model (not a test).

    PYTHONPATH=. python3 benchmarks/bench_game.py [--quick]

1. One game step, warm: ``Game.step`` advancing one quarter (12 Euler steps) with two decisions held at
   new values (targets: under 5 ms), and ``Session.play`` (the same with the play layer). Neither peer
   has a gaming mode; the nearest they offer is stepping with a changed value: PySD's ``set_stepper`` /
   ``step(12, step_vars)`` and pysimlin's ``Sim.set_value`` / ``run_to``. Those are timed on the same
   work for a ratio.
2. ``tipping`` over 1,000 values of the market shock (and of the overlay reflex) with bisection to 1e-4,
   warm (target: under 2 s). Neither peer finds tipping points; for scale, the same number of runs one
   by one in each peer is estimated from timed single runs.
3. ``equilibria`` from 200 starting points (target: under 2 s). Neither peer finds steady states.

``--quick``: fewer repetitions and no PySD (its translation alone takes about 10 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import flywheel
from flywheel.analysis.peers import simlin_path
from flywheel.analysis.play import Session
from flywheel.scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "evil_sales_flywheel.mdl"
SHOCK = ROOT / "scenarios" / "shock_add_overlays.toml"
DECISIONS = ("Deep Dive Share", "Overlay Creation")
NO_PEER = "neither PySD nor pysimlin has this feature"


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and minimum wall time of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def game_steps(model, games: int) -> list[float]:
    """Wall time of every step of ``games`` 40-quarter games, two decisions changed each quarter."""
    times = []
    for _ in range(games):
        game = flywheel.Game(model, interval=3, params={"Market Shock Size": 0.1})
        for k in range(40):
            start = time.perf_counter()
            game.step({DECISIONS[0]: 0.3 - 0.005 * k, DECISIONS[1]: 0.001 * k})
            times.append(time.perf_counter() - start)
    return times


def stepper_steps(model, games: int, names: tuple[str, str]) -> list[float]:
    """The core work the peers' stepping does: set two values, advance a quarter (no dashboard, no history)."""
    times = []
    for _ in range(games):
        stepper = flywheel.Stepper(model.spec({"Market Shock Size": 0.1}))
        for k in range(40):
            start = time.perf_counter()
            stepper.set({names[0]: 0.3 - 0.005 * k, names[1]: 0.001 * k})
            stepper.step_to(3.0 * (k + 1))
            times.append(time.perf_counter() - start)
    return times


def session_steps(scenario, games: int) -> list[float]:
    times = []
    for _ in range(games):
        session = Session(scenario, seed=0)
        for k in range(40):
            start = time.perf_counter()
            session.play({DECISIONS[0]: 0.3 - 0.005 * k, DECISIONS[1]: 0.001 * k})
            session.readings()  # what a turn shows
            times.append(time.perf_counter() - start)
    return times


def pysd_steps(games: int) -> tuple[list[float], float] | None:
    try:
        import pysd
        from pysd.py_backend.output import ModelOutput
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-game-pysd-"))
    try:
        copy = folder / MODEL.name
        shutil.copy(MODEL, copy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pysd.read_vensim(str(copy))
            one_run, _ = timed(lambda: model.run(params={"market_shock_size": 0.1}), 3)
            times = []
            for _ in range(games):
                model.set_stepper(ModelOutput(), step_vars=["deep_dive_share", "overlay_creation"],
                                  params={"market_shock_size": 0.1})  # fmt: skip
                for k in range(40):
                    start = time.perf_counter()
                    model.step(12, {"deep_dive_share": 0.3 - 0.005 * k, "overlay_creation": 0.001 * k})
                    times.append(time.perf_counter() - start)
        return times, one_run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def simlin_steps(games: int) -> tuple[list[float] | None, float, str] | None:
    try:
        import simlin
    except ImportError:
        return None
    model = simlin.load(str(simlin_path(MODEL)))
    overrides = {"market_shock_size": 0.1}
    run, _ = timed(lambda: model.run(overrides=overrides, analyze_loops=False), 20)
    times: list[float] = []
    note = ""
    names = ("deep_dive_share", "overlay_creation")
    for attempt in range(2):
        times = []
        try:
            for _ in range(games):
                sim = model.simulate(overrides=overrides)
                for k in range(40):
                    start = time.perf_counter()
                    sim.set_value(names[0], 0.3 - 0.005 * k)
                    sim.set_value(names[1], 0.1 * k if attempt else 0.001 * k)
                    sim.run_to(3.0 * (k + 1))
                    times.append(time.perf_counter() - start)
            break
        except Exception as exc:  # pysimlin sets only simple constants: the levers' After constants then
            note = f"pysimlin cannot set a decision with an equation ({type(exc).__name__}); timed with the levers' constants"
            names = ("deep_dive_share_after", "overlay_response_after")
    else:
        times = None
    return times, run, note


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, no PySD")
    args = parser.parse_args(argv)
    games, repeat = (2, 2) if args.quick else (20, 5)
    print(f"bench_game: flywheel model, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
          f"{' (quick)' if args.quick else ''}")  # fmt: skip
    model = flywheel.load_model(MODEL)
    scenario = load_scenario(SHOCK, model)
    start = time.perf_counter()
    flywheel.equilibria(model)  # the first call of the process (kernels and workspace made), for section 3
    cold = time.perf_counter() - start

    print("\n1. One game step: one quarter (12 Euler steps), two decisions held at new values")
    game_steps(model, 1)  # warm
    steps = game_steps(model, games)
    play = session_steps(scenario, games)
    step_median = statistics.median(steps)
    print(f"   flywheel Game.step:                 median {ms(step_median)}, 95th percentile "
          f"{ms(sorted(steps)[int(0.95 * len(steps))])}   (target < 5 ms; {len(steps)} steps)")  # fmt: skip
    print(f"   flywheel Session.play + readings:   median {ms(statistics.median(play))}")
    core = statistics.median(stepper_steps(model, games, DECISIONS))
    print(f"   flywheel Stepper.set + step_to:     median {ms(core)}   (the peers' work: no dashboard, no history)")
    print(f"   gaming mode (GAME held by a player): {NO_PEER}; nearest equivalent, stepping with a changed value:")
    peers: dict[str, float] = {}
    if not args.quick:
        pysd_result = pysd_steps(max(2, games // 5))
        if pysd_result is None:
            print("   PySD is not installed")
        else:
            pysd_times, pysd_run = pysd_result
            peers["PySD run"] = pysd_run
            print(f"   PySD set_stepper + step(12):        median {ms(statistics.median(pysd_times))}")
            print(f"   ratio PySD/flywheel Stepper:        {statistics.median(pysd_times) / core:8.1f}x")
    else:
        print("   PySD: skipped in --quick")
    simlin_result = simlin_steps(games)
    if simlin_result is None:
        print("   pysimlin is not installed")
    else:
        simlin_times, simlin_run, note = simlin_result
        peers["pysimlin run"] = simlin_run
        if note:
            print(f"   {note}")
        if simlin_times:
            print(f"   pysimlin set_value + run_to:        median {ms(statistics.median(simlin_times))}")
            print(f"   ratio pysimlin/flywheel Stepper:    {statistics.median(simlin_times) / core:8.1f}x")

    print("\n2. tipping: 1,000 values swept as one ensemble, each jump refined by bisection to 1e-4")
    results = {}
    for label, lever, low, high, final in (
        ("market shock, outcome at month 120", "Market Shock Size", 0.0, 0.3, None),
        ("market shock, outcome at month 480", "Market Shock Size", 0.0, 0.3, 480),
        ("overlay reflex after the shock, month 480", "Overlay Response After", 0.0, 10.0, 480),
    ):
        found = {}

        def sweep(lever=lever, low=low, high=high, final=final, found=found) -> None:
            found["t"] = flywheel.tipping(scenario, lever, low, high, n=1000, tol=1e-4, final_time=final)

        median, best = timed(sweep, repeat)
        t = found["t"]
        results[label] = (median, t.evaluations)
        value = ", ".join(f"{x.value:.5g}" for x in t.thresholds) or "none"
        print(f"   {label:42s} median {median:6.3f} s (min {best:.3f} s), {t.evaluations} runs, "
              f"threshold {value}   (target < 2 s)")  # fmt: skip
    print(f"   tipping points: {NO_PEER}. The same runs one by one, estimated from timed single runs:")
    runs = results["market shock, outcome at month 120"][1]
    for name, seconds in peers.items():
        print(f"   {name} x {runs}: about {seconds * runs:7.1f} s "
              f"(ratio to flywheel's tipping: {seconds * runs / results['market shock, outcome at month 120'][0]:.0f}x)")  # fmt: skip

    print("\n3. equilibria: root finding from 200 starting points, eigenvalues of the Jacobian")
    found_eq = {}
    median, best = timed(lambda: found_eq.update(e=flywheel.equilibria(model)), repeat)
    kinds = ", ".join("stable" if e.stable else "unstable" for e in found_eq["e"].found)
    print(f"   flywheel equilibria:                median {median:6.3f} s (min {best:.3f} s): "
          f"{len(found_eq['e'].found)} steady states ({kinds})   (target < 2 s)")  # fmt: skip
    print(f"   first call in a fresh process:      {cold:6.3f} s")
    print(f"   steady states: {NO_PEER}")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
