"""``flywheel calibrate`` as a user runs it: the files it writes, a scenario that ``flywheel run``
accepts, the posterior with --bayes, and bad input (exit 2, one line naming the file and the item,
nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from .calibration_data import clean_series, flywheel_fit, noisy, shock_base
from .test_cli import assert_one_line_error, files_in


@pytest.fixture(scope="module")
def observed(model, tmp_path_factory):
    """Noisy quarterly observations of the shocked flywheel, a scenario file with the shock, the fit."""
    folder = tmp_path_factory.mktemp("calibrate")
    base = shock_base(model)
    data = noisy(clean_series(model, base), seed=1)
    data.iloc[3, 1] = np.nan  # a missing cell
    path = folder / "observed.csv"
    data.to_csv(path, index_label="time", float_format="%.6f")
    scenario = folder / "shocked.toml"
    lines = ['title = "Shocked"', f"model = {json.dumps(str(model.path))}", "[parameters]"]
    lines += [f"{json.dumps(k)} = {v!r}" for k, v in base.items()]
    scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fit = flywheel_fit(model, k=2)
    args = [a for name, (lo, hi) in fit.items() for a in ("--fit", f"{name}={lo:g}:{hi:g}")]
    return path, scenario, fit, args


def test_calibrate_writes_scenario_estimates_and_figures(cli, tmp_path, observed, model):
    data, scenario, fit, fit_args = observed
    proc = cli("calibrate", scenario, "--data", data, *fit_args, "--starts", "3", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "[[Estimates]]" in proc.stdout and "converged:         yes" in proc.stdout
    assert files_in(tmp_path / "out") == sorted(
        ["calibrated.toml", "estimates.csv", "report.txt", "fit.png", "fit.svg", "profiles.png", "profiles.svg"]
    )
    table = pd.read_csv(tmp_path / "out" / "estimates.csv", index_col="parameter")
    assert list(table.index) == list(fit)
    assert list(table.columns) == ["estimate", "stderr", "low", "high", "bound_low", "bound_high", "identifiable", "at_bound"]
    for name in fit:
        truth = model.variables[name].default
        assert table.loc[name, "low"] <= truth <= table.loc[name, "high"]
        assert bool(table.loc[name, "identifiable"])
    assert (tmp_path / "out" / "report.txt").read_text(encoding="utf-8").strip() == proc.stdout.strip()
    # The fitted scenario runs, and carries the base scenario's shock.
    run = cli("run", tmp_path / "out" / "calibrated.toml", "-o", tmp_path / "run")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "out" / "calibrated.toml").read_text(encoding="utf-8")
    for name in [*fit, *shock_base(model)]:
        assert json.dumps(name) in text
    # A second run refuses to overwrite; nothing changes.
    before = (tmp_path / "out" / "estimates.csv").read_bytes()
    again = cli("calibrate", scenario, "--data", data, *fit_args, "-o", tmp_path / "out")
    assert_one_line_error(again, "already exists", "--force")
    assert (tmp_path / "out" / "estimates.csv").read_bytes() == before


def test_calibrate_bayes_writes_the_posterior(cli, tmp_path, observed):
    import xarray as xr

    data, scenario, fit, fit_args = observed
    proc = cli("calibrate", scenario, "--data", data, *fit_args, "--starts", "2", "--no-profiles", "--bayes",
               "--walkers", "8", "--steps", "60", "-o", tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "[[Posterior]]" in proc.stdout
    for name in ("posterior.nc", "posterior_summary.csv", "corner.png", "corner.svg", "predictive.png", "predictive.svg"):
        assert (tmp_path / name).is_file(), name
    draws = xr.open_dataset(tmp_path / "posterior.nc", engine="scipy")
    assert dict(draws.sizes) == {"chain": 8, "draw": 30} and set(fit) <= set(draws.data_vars)
    summary = pd.read_csv(tmp_path / "posterior_summary.csv", index_col="parameter")
    assert list(summary.index) == list(fit) and {"median", "low", "high", "r_hat", "tau"} <= set(summary.columns)
    assert not (tmp_path / "profiles.png").exists()


def _write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "data_text, fit, parts",
    [
        ("time,Trst\n0,0.4\n3,0.4\n6,0.3\n", None, ["bad.csv", 'column "Trst"', 'did you mean "Trust"']),
        ("time,Trust Erosion Time\n0,1\n3,1\n6,1\n", None, ["bad.csv", '"Trust Erosion Time" is a constant', "stocks, flows or auxiliaries"]),
        ("time,Trust\n0,0.4\n3,0.4\n500,0.3\n", None, ["bad.csv", "time 500 is outside the run", "allowed: 0 to 120"]),
        ("time,Trust\n0,0.4\n3,abc\n6,0.3\n", None, ["bad.csv", 'column "Trust" at time 3', '"abc" is not a number', "allowed"]),
        ("time,Trust\n0,0.4\n3,0.4\n6,0.3\n", ["--fit", "Trust Erosion Time=24:1"], ['"Trust Erosion Time"', "low (24) must be below high (1)"]),
        ("time,Trust\n0,0.4\n3,0.4\n6,0.3\n", [], ["nothing to fit", "--fit"]),
        ("time,Trust\n0,0.4\n3,0.4\n6,0.3\n", ["--fit", "Trust Erosion Time"], ["--fit", "NAME=LOW:HIGH"]),
        ("time,Trust\n0,0.4\n3,0.4\n6,0.3\n", ["--fit", "Trust=0:1"], ['"Trust" is a stock', "only constants"]),
    ],
    ids=["unknown-column", "not-an-observable", "time-outside-run", "non-numeric", "low-above-high", "empty-fit",
         "malformed-fit", "fit-a-stock"],  # fmt: skip
)
def test_bad_input_is_one_line_and_writes_nothing(cli, tmp_path, model, data_text, fit, parts):
    data = _write(tmp_path, "bad.csv", data_text)
    if fit is None:  # a valid fit (a constant over its documented range), so the data are what is wrong
        name, (low, high) = next(iter(flywheel_fit(model, k=1).items()))
        fit = ["--fit", f"{name}={low:g}:{high:g}"]
    proc = cli("calibrate", model.path, "--data", data, *fit, "-o", tmp_path / "out")
    assert_one_line_error(proc, *parts)
    assert not (tmp_path / "out").exists()


def test_a_scenarios_ranges_table_says_what_to_fit(cli, tmp_path, observed, model):
    data, scenario, fit, _ = observed
    with_ranges = tmp_path / "with_ranges.toml"
    table = "\n".join(f"{json.dumps(n)} = {{ low = {lo!r}, high = {hi!r} }}" for n, (lo, hi) in fit.items())
    with_ranges.write_text(scenario.read_text(encoding="utf-8") + f"\n[ranges]\n{table}\n", encoding="utf-8")
    proc = cli("calibrate", with_ranges, "--data", data, "--starts", "2", "--no-profiles", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert list(pd.read_csv(tmp_path / "out" / "estimates.csv", index_col="parameter").index) == list(fit)
    bare = cli("calibrate", scenario, "--data", data, "-o", tmp_path / "none")
    assert_one_line_error(bare, "nothing to fit", "no [ranges] table")
    assert not (tmp_path / "none").exists()


def test_the_help_examples_fit_inside_the_documented_ranges(cli, model):
    """A user copies the examples: every --fit in the help names a constant within its documented range."""
    import re

    from flywheel.analysis.ranges import load_ranges

    from .conftest import REPO_ROOT

    examples = cli("calibrate", "--help").stdout + cli("--help").stdout
    examples += (REPO_ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    fits = re.findall(r'--fit "([^"=]+)=([-\d.e]+):([-\d.e]+)"', examples)
    assert len(fits) >= 5, fits
    for name, low, high in fits:
        load_ranges({name: (float(low), float(high))}, model)  # raises on an unknown name or a bound outside
