"""Smoke test of benchmarks/bench_app.py: it drives the page in chromium and prints its numbers (no timing
is checked; speed is the benchmark's business)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .browser import REPO_ROOT, browser_missing, flywheel_env


@pytest.mark.slow  # about a minute: a server, chromium, an export
@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_bench_app_quick_runs_and_prints_its_numbers() -> None:
    done = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "bench_app.py"), "--quick"], cwd=REPO_ROOT,
                          env=flywheel_env(), capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("page load", "slider move -> curves, table, takeaways drawn: median", "with the band on",
                 "console errors: 0; requests off this machine: 0", "export:", "exported file, no server"):
        assert line in done.stdout, done.stdout
