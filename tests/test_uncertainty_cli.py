"""The uncertainty commands as a user runs them: results and figures written, bad input refused with one
line and nothing written, and a killed sweep that resumes to the numbers of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO_ROOT
from .test_cli import assert_one_line_error, files_in
from .uncertain_inputs import documented, judgement_constants

RANGES = REPO_ROOT / "scenarios" / "ranges" / "judgement.toml"
LEVERS = REPO_ROOT / "scenarios" / "ranges" / "levers.toml"
DEEP_DIVES = REPO_ROOT / "scenarios" / "shock_deep_dives.toml"
OVERLAYS = REPO_ROOT / "scenarios" / "shock_add_overlays.toml"
MODEL = REPO_ROOT / "models" / "evil_sales_flywheel.mdl"


@pytest.mark.parametrize("command", ["sensitivity", "montecarlo", "tornado"])
def test_help_has_an_example(cli, command):
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: flywheel {command}")
    assert f"  flywheel {command} " in proc.stdout


def test_montecarlo_writes_fan_chart_percentiles_and_probabilities(cli, tmp_path):
    proc = cli("montecarlo", OVERLAYS, DEEP_DIVES, "--ranges", RANGES, "-n", "500", "--seed", "3",
               "--probability", "Target Attainment >= 0.95 at month 60", "--members", "-o", "out")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert files_in(out) == sorted(["fan_chart.png", "fan_chart.svg", "montecarlo.nc", "montecarlo.txt", "montecarlo_inputs.csv",
                                    "montecarlo_percentiles.csv", "montecarlo_runs.nc", "probabilities.csv"])  # fmt: skip
    probabilities = pd.read_csv(out / "probabilities.csv")
    assert list(probabilities["scenario"]) == ["shock_add_overlays", "shock_deep_dives"]
    assert probabilities["p"].iloc[1] > probabilities["p"].iloc[0]
    assert (probabilities["low"] <= probabilities["p"]).all() and (probabilities["p"] <= probabilities["high"]).all()
    assert "P(Target Attainment at month 60 >= 0.95) [shock_deep_dives]" in proc.stdout
    import xarray as xr

    runs = xr.open_dataset(out / "montecarlo_runs.nc", engine="scipy")
    direct = (runs["Target Attainment"].sel(time=60).values >= 0.95).sum(axis=1)
    assert probabilities["successes"].tolist() == direct.tolist()
    inputs = pd.read_csv(out / "montecarlo_inputs.csv", index_col="member")
    assert len(inputs) == 500 and set(inputs.columns) == set(pd.read_csv(out / "montecarlo_inputs.csv").columns[1:])
    again = cli("montecarlo", OVERLAYS, DEEP_DIVES, "--ranges", RANGES, "-n", "500", "--seed", "3", "-o", "out2")
    assert (tmp_path / "out2" / "montecarlo_percentiles.csv").read_bytes() == (out / "montecarlo_percentiles.csv").read_bytes()
    assert again.returncode == 0


def test_sensitivity_writes_indices_figures_and_report(cli, tmp_path):
    proc = cli("sensitivity", DEEP_DIVES, "--ranges", RANGES, "--outcome", "Target Attainment", "--outcome", "min Trust",
               "-n", "64", "--times", "0:120:12", "--at", "60", "-o", "out")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert files_in(out) == sorted(["sensitivity.csv", "sensitivity.nc", "sensitivity.txt", "sensitivity_scalars.nc",
        "sensitivity_target_attainment_heatmap.png", "sensitivity_target_attainment_heatmap.svg",
        "sensitivity_target_attainment_bars.png", "sensitivity_target_attainment_bars.svg",
        "sensitivity_min_trust_bars.png", "sensitivity_min_trust_bars.svg"])  # fmt: skip
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["output"]) == {"Target Attainment", "min Trust"}
    assert sorted(table.loc[table.output == "Target Attainment", "time"].unique()) == list(range(0, 121, 12))
    assert set(table["parameter"]) == set(_ranges_names(RANGES))
    assert "Target Attainment at month 120:" in proc.stdout


def test_tornado_writes_its_chart(cli, tmp_path):
    proc = cli("tornado", OVERLAYS, "--ranges", LEVERS, "--outcome", "final Target Attainment", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "out" / "tornado.csv", index_col="parameter")
    assert table["swing"].is_monotonic_decreasing and sorted(table.index) == sorted(_ranges_names(LEVERS))
    assert files_in(tmp_path / "out") == ["tornado.csv", "tornado.png", "tornado.svg", "tornado.txt"]


def _ranges_names(path: Path) -> list[str]:
    import tomllib

    return list(tomllib.loads(path.read_text(encoding="utf-8"))["ranges"])


def _ranges_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad_ranges.toml"
    path.write_text("[ranges]\n" + body + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        ('"Trust Erosoin Time" = { low = 3, high = 12 }', ['"Trust Erosoin Time"', 'did you mean "Trust Erosion Time"']),
        ('"Trust Erosion Time" = { low = 12, high = 3 }', ["low (12) must be below high (3)"]),
        ('"Trust Erosion Time" = { low = "x", high = 3 }', ["low = 'x' is not a finite number"]),
    ],
)
@pytest.mark.parametrize("command", ["montecarlo", "sensitivity", "tornado"])
def test_bad_ranges_file_is_one_line_and_writes_nothing(cli, tmp_path, command, body, parts):
    path = _ranges_file(tmp_path, body)
    extra = {"montecarlo": [], "sensitivity": ["--outcome", "min Trust"], "tornado": ["--outcome", "min Trust"]}[command]
    proc = cli(command, MODEL, "--ranges", path, *extra, "-o", "out")
    assert_one_line_error(proc, str(path), *parts)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["sensitivity", "--outcome", "Trust", "--times", "0:200:12"], ["times: time 132 is outside the run"]),
        (["sensitivity", "--outcome", "Trust at month 130"], ["time 130 is outside the run"]),
        (["sensitivity", "--outcome", "final Trsut"], ['did you mean "Trust"']),
        (["sensitivity", "--outcome", "Trust", "--times", "a:b"], ["--times 'a:b': expected START:STOP:STEP"]),
        (["montecarlo", "--probability", "Target Attainment >= 0.95 at month 200"], ["time 200 is outside the run"]),
        (["montecarlo", "--probability", "Trust > 0.5"], ["changes over time"]),
        (["montecarlo", "--variable", "Trustt"], ["unknown variable 'Trustt'"]),
        (["montecarlo", "-n", "0"], ["-n must be at least 1"]),
        (["tornado", "--outcome", "Trust"], ["changes over time"]),
        (["montecarlo", "--scheduler", "tcp://127.0.0.1:9"], ["cannot reach the Dask scheduler"]),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(cli, tmp_path, args, parts):
    proc = cli(*args, "--ranges", RANGES, "-o", "out")
    assert_one_line_error(proc, *parts)
    assert not (tmp_path / "out").exists()


def test_a_scenario_ranges_table_is_used_and_checked(cli, tmp_path, write_scenario, model):
    name = judgement_constants(model, 1)[0]
    low, high = documented(model, name)
    good = write_scenario(f'[ranges]\n"{name}" = {{ low = {low!r}, high = {high!r} }}\n', name="uncertain")
    proc = cli("tornado", good, "--outcome", "min Trust", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(tmp_path / "out" / "tornado.csv")["parameter"].tolist() == [name]
    bad = write_scenario(f'[ranges]\n"{name[:-1]}" = {{ low = {low!r}, high = {high!r} }}\n', name="broken")
    proc = cli("montecarlo", bad, "-o", "out2")
    assert_one_line_error(proc, f"{bad}: [ranges]", f'"{name[:-1]}"', "did you mean")
    assert not (tmp_path / "out2").exists()


def _done_chunks(store: Path) -> int:
    folder = store / "done" / "c"
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def test_a_killed_montecarlo_resumes_to_the_numbers_of_an_uninterrupted_run(tmp_path):
    """SIGKILL mid-sweep: the same command continues from the chunks marked done (and says so), and its
    results are identical to those of a run that was never interrupted (here: one without a store)."""
    args = ["montecarlo", MODEL, "--ranges", RANGES, "-n", "12000", "--chunk-size", "300", "--variable", "Trust",
            "--variable", "Target Attainment", "--seed", "5"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "flywheel", *map(str, args)]
    store = tmp_path / "runs" / "montecarlo-evil_sales_flywheel.zarr"
    proc = subprocess.Popen([*command, "--store", tmp_path / "runs", "-o", tmp_path / "a"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while _done_chunks(store) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_after_kill = _done_chunks(store)
    assert 3 <= done_after_kill < 40, done_after_kill  # killed mid-way
    assert not (tmp_path / "a").exists()
    resumed = subprocess.run([*command, "--store", tmp_path / "runs", "-o", tmp_path / "a"], env=env,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {done_after_kill} chunk(s)" in resumed.stderr or f"resumed: {done_after_kill + 1} chunk(s)" in resumed.stderr
    whole = subprocess.run([*command, "-o", tmp_path / "b"], env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert "resumed" not in whole.stderr
    for name in ("montecarlo_percentiles.csv", "montecarlo_inputs.csv", "montecarlo.nc"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
