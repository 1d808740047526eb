"""Smoke test of benchmarks/bench_core.py: it runs end to end and prints its ratios (no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH = REPO_ROOT / "benchmarks" / "bench_core.py"


@pytest.mark.slow  # about 30 s: three engines, subprocess loads, a 100,000-member ensemble
def test_bench_core_quick_runs_and_prints_ratios(tmp_path: Path) -> None:
    pytest.importorskip("simlin", reason="pysimlin is not installed (pip install -e '.[bench]')")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    env["FLYWHEEL_CACHE_DIR"] = str(tmp_path / "flywheel-cache")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"bench_core.py --quick failed:\n{done.stdout}\n{done.stderr}"
    out = done.stdout
    for line in (
        "ratio PySD/flywheel:",
        "ratio pysimlin/flywheel:",
        "100,000",
        "first load_model + first run:",
        "cached load_model + first run:",
        "hardware floor:",
        "every step returned:",
        "`flywheel --help` in a new process:",
    ):
        assert line in out, f"{line!r} missing from the output:\n{out}"
    assert "flywheel vs PySD: max abs diff" in out


@pytest.mark.slow  # about a minute: PySD and pysimlin on a few members, Sobol and Monte Carlo once each
def test_bench_toolkit_quick_runs_and_prints_ratios(tmp_path: Path) -> None:
    pytest.importorskip("simlin", reason="pysimlin is not installed (pip install -e '.[bench]')")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_toolkit.py"), "--quick"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, f"bench_toolkit.py --quick failed:\n{done.stdout}\n{done.stderr}"
    for line in ("22,528 runs", "ratio PySD/flywheel", "ratio pysimlin/flywheel", "10,000 runs", "agreement"):
        assert line in done.stdout, f"{line!r} missing from the output:\n{done.stdout}"


@pytest.mark.slow  # about a minute: PySD runs two steps of the 1,000-region model
def test_bench_subscripts_quick_runs_and_prints_ratios(tmp_path: Path) -> None:
    pytest.importorskip("pysd")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_subscripts.py"), "--quick"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, f"bench_subscripts.py --quick failed:\n{done.stdout}\n{done.stderr}"
    for line in ("first load_model (empty cache", "ratio PySD/flywheel:", "member-runs/s", "flywheel vs PySD"):
        assert line in done.stdout, f"{line!r} missing from the output:\n{done.stdout}"
