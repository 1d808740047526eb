"""Smoke test of benchmarks/bench_game.py --quick: it runs and prints its numbers (no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO_ROOT


def test_bench_game_quick_prints_every_number(tmp_path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    done = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "bench_game.py"), "--quick"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for line in ("flywheel Game.step:", "flywheel Stepper.set + step_to:", "market shock, outcome at month 480",
                 "overlay reflex after the shock", "flywheel equilibria:", "neither PySD nor pysimlin has this feature"):  # fmt: skip
        assert line in out, f"{line!r} missing from:\n{out}"
    assert "threshold 0.0772" in out and "3 steady states (stable, unstable, stable)" in out
