"""Smoke test of benchmarks/bench_calibration.py: it runs end to end and prints its ratios (no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH = REPO_ROOT / "benchmarks" / "bench_calibration.py"


@pytest.mark.slow  # about a minute: PySD translates the model and runs it 15 times
def test_bench_calibration_quick_runs_and_prints_ratios(tmp_path: Path) -> None:
    pytest.importorskip("simlin", reason="pysimlin is not installed (pip install -e '.[bench]')")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, f"bench_calibration.py --quick failed:\n{done.stdout}\n{done.stderr}"
    for line in ("1. flywheel.calibrate, 8 starts:", "ratio PySD/flywheel:", "ratio pysimlin/flywheel:",
                 "agreement with PySD, pysimlin: max abs diff"):  # fmt: skip
        assert line in done.stdout, f"{line!r} missing from the output:\n{done.stdout}"
