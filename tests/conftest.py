"""Shared fixtures: the real flywheel model, scenario files written into tmp_path, the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = REPO_ROOT / "models" / "evil_sales_flywheel.mdl"


@pytest.fixture(scope="session")
def model():
    """The Evil Sales Org Flywheel model, loaded once through the public API."""
    import flywheel

    return flywheel.load_model(MODEL_PATH)


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write ``<name>.toml`` into tmp_path; ``title`` and ``model`` lines are added unless ``header=False``."""

    def write(body: str = "", name: str = "scenario", title: str | None = None, header: bool = True) -> Path:
        path = tmp_path / f"{name}.toml"
        text = textwrap.dedent(body).lstrip("\n")
        if header:
            head = f"title = {json.dumps(title or f'Test {name}')}\nmodel = {json.dumps(str(MODEL_PATH))}\n"
            text = head + text
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _cli(*args: object, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m flywheel ARGS`` in a fresh process, with the checkout importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    return subprocess.run(
        [sys.executable, "-m", "flywheel", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the command line in tmp_path (so relative outputs land there)."""

    def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _cli(*args, cwd=cwd or tmp_path)

    return run
