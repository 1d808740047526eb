"""The Evil Sales Org Flywheel model: balance, the vicious cycle, the remedy, recovery, the fix that fails,
extreme conditions, agreement with PySD and robustness to the time step."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flywheel
from flywheel.scenarios import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "evil_sales_flywheel.mdl"
SCENARIOS = ROOT / "scenarios"
STOCKS = ["Trust", "Overlay Functions", "Management Understanding", "Customer Intimacy", "Perceived Attainment"]
BOUNDED = {"Trust": (0, 1), "Management Understanding": (0, 1), "Customer Intimacy": (0, 1)}


@pytest.fixture(scope="module")
def model() -> flywheel.Model:
    return flywheel.load_model(MODEL)


def scenario_run(model, name: str, time_step: float = 0.25) -> pd.DataFrame:
    scenario = load_scenario(SCENARIOS / f"{name}.toml", model=model)
    return model.run(params=scenario.params, time_step=time_step, saveper=1, final_time=120)


def test_model_structure(model) -> None:
    assert set(STOCKS) <= set(model.stocks)
    for name in STOCKS + ["Communication Overhead", "Customer Time", "Sales Efficiency", "Target Attainment"]:
        info = model.variables[name]
        assert info.units and info.documentation, name
    for name in _literal_constants(model):
        lo, hi = model.variables[name].limits
        assert lo is not None and hi is not None, f"{name} has no documented range"
    for lever in ("Overlay Response", "Deep Dive Share", "Overlay Lifetime", "Review Period"):
        assert {f"{lever} Before", f"{lever} After"} <= set(model.constants)
    # the loops of the story exist in the causal graph
    deps = model.dependencies
    assert "Trust" in deps["Prescriptiveness"] or "Trust" in deps["Candour"]
    assert "Overlay Functions" in str(deps["Communication Paths"]) or "Overlay Functions" in str(deps["Handoff Load"])


@pytest.mark.parametrize("time_step", [0.25, 0.125])
def test_steady_state_is_balanced(model, time_step) -> None:
    df = scenario_run(model, "steady", time_step)
    for stock in STOCKS:
        assert np.max(np.abs(df[stock] - df[stock].iloc[0])) < 1e-6, stock


@pytest.mark.parametrize("time_step", [0.25, 0.125])
def test_vicious_cycle(model, time_step) -> None:
    df = scenario_run(model, "shock_add_overlays", time_step)
    before = df.loc[11, "Target Attainment"]
    assert df.loc[120, "Target Attainment"] < before - 0.2
    assert df.loc[120, "Trust"] < 0.3
    assert df["Overlay Functions"].max() >= 2 * df.loc[0, "Overlay Functions"]
    assert df.loc[120, "Customer Time"] <= df.loc[0, "Customer Time"] * (2 / 3)


@pytest.mark.parametrize("time_step", [0.25, 0.125])
def test_deep_dives_remedy(model, time_step) -> None:
    df = scenario_run(model, "shock_deep_dives", time_step)
    assert df.loc[48:120, "Target Attainment"].min() >= 0.95
    assert df["Overlay Functions"].max() <= df.loc[0, "Overlay Functions"] + 1e-9
    assert df.loc[120, "Trust"] >= df.loc[0, "Trust"] - 0.05


@pytest.mark.parametrize("time_step", [0.25, 0.125])
def test_recovery_from_trap(model, time_step) -> None:
    df = scenario_run(model, "recovery_from_trap", time_step)
    assert df.loc[59, "Target Attainment"] < 0.9  # trapped before the switch
    assert df.loc[108:120, "Target Attainment"].min() > 0.9


def test_overlay_is_a_fix_that_fails(model) -> None:
    steady = scenario_run(model, "steady")
    scenario = load_scenario(SCENARIOS / "steady.toml", model=model)
    fixed = model.run(params={**scenario.params, "Extra Overlays": 1, "Extra Overlay Month": 12}, final_time=120, saveper=1)
    gain = fixed["Sales Efficiency"] - steady["Sales Efficiency"]
    assert (gain.loc[13:15] > 0).all()
    assert gain.loc[24] < 0


def test_extreme_conditions(model) -> None:
    no_overlays = model.run(initial_condition=(0, {"Overlay Functions": 0}))
    assert no_overlays.loc[0, "Overlay Functions"] == 0 and no_overlays.loc[0, "Communication Overhead"] == 0
    zero_market = model.run(params={"Reference Market Potential": 0})
    assert np.allclose(zero_market["Sales"], 0) and not zero_market.isna().any().any()
    no_selling = model.run(params={"Selling Time Share": 0})
    assert np.allclose(no_selling["Customer Time"], 0) and np.allclose(no_selling["Sales"], 0)
    assert not no_selling.isna().any().any()


def _literal_constants(model) -> list[str]:
    """Constants typed in as numbers (the others are derived from them)."""
    names = []
    for name in model.constants:
        try:
            float(model.variables[name].equation)
        except ValueError:
            continue
        names.append(name)
    return names


def _ranges(model) -> dict[str, tuple[float, float]]:
    return {n: model.variables[n].limits for n in _literal_constants(model)}


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_bounded_stocks_over_random_parameters(model, data) -> None:
    """1,000 random parameter sets from the documented ranges, run as one ensemble per example (40 x 25)."""
    ranges = _ranges(model)
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({n: rng.uniform(lo, hi, 25) for n, (lo, hi) in ranges.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = model.run_ensemble(table, return_columns=list(BOUNDED) + ["Overlay Functions", "Customer Time"])
    assert not bool(ds["diverged"].any())
    for name, (lo, hi) in BOUNDED.items():
        values = ds[name].values
        assert np.all(values >= lo - 1e-9) and np.all(values <= hi + 1e-9), name
    assert np.all(ds["Overlay Functions"].values >= -1e-9) and np.all(ds["Customer Time"].values >= 0)


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.toml")))
def test_agrees_with_pysd(model, name, tmp_path) -> None:
    pysd = pytest.importorskip("pysd")
    shutil.copy(MODEL, tmp_path / MODEL.name)
    scenario = load_scenario(SCENARIOS / f"{name}.toml", model=model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pysd.read_vensim(str(tmp_path / MODEL.name)).run(params=scenario.params)
    ours = run_scenario(scenario, model=model)
    common = [c for c in theirs.columns if c in ours.columns]
    assert len(common) == len(theirs.columns)
    diff = np.abs(ours.loc[theirs.index, common].to_numpy() - theirs[common].to_numpy(dtype=float))
    assert diff.max() < 1e-9
