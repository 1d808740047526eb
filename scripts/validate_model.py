"""Validate the Evil Sales Org Flywheel model and write docs/model_validation.md.

Every required behaviour of the model (issue 7, checks 1-10) is measured on the model file as it is:
balance, the vicious cycle, the remedy, the price tag of overlays, recovery, robustness of the tipping
point, plausibility against published figures, extreme conditions, loop dominance by an independent
Loops-That-Matter implementation (pysimlin) and agreement with PySD.

    PYTHONPATH=. python3 scripts/validate_model.py            # full run (5,000 draws, fine grids)
    PYTHONPATH=. python3 scripts/validate_model.py --quick    # small draws and coarse grids (run by a test)
    PYTHONPATH=. python3 scripts/validate_model.py -o report.md

The functions are importable (tests/test_flywheel_model.py and tests/test_model_validation.py use them),
so the tests and the report measure the same things in the same way.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from flywheel.analysis.peers import simlin_name

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = ROOT / "models" / "evil_sales_flywheel.mdl"
SCENARIO_DIR = ROOT / "scenarios"
REPORT_PATH = ROOT / "docs" / "model_validation.md"

#: Sourced numbers (their ranges come from the sources), scale and unit constants, and test inputs:
#: every other literal constant is a judgement number, ranged default x [0.67, 1.5].
SOURCED = ("Status Quo Attainment", "Status Quo Customer Time", "Status Quo Seller Turnover")
FIXED = ("Months per Year", "Seller Positions per Overlay Unit", "Reference Market Potential", "Fastest Overlay Retirement Time")
TEST_INPUTS = (
    "Market Shock Size",
    "Market Shock Month",
    "Extra Overlays",
    "Extra Overlay Month",
    "Hold Overlays",
    "Hold Trust",
    "Hold Understanding",
    "Policy Switch Month",
)
#: Stock-like outputs that must stay flat in the status quo (stocks and the outputs of SMOOTH functions).
STATE = (
    "Trust",
    "Overlay Functions",
    "Management Understanding",
    "Customer Intimacy",
    "Perceived Attainment",
    "Alignment of Expectations",
    "Embedded Overlays",
    "Quota Ratchet",
    "Ramp Up Share",
    "Perceived Market Potential",
)
#: Stocks with a documented upper bound of 1.
BOUNDED = ("Trust", "Management Understanding", "Customer Intimacy", "Alignment of Expectations")
SHOCK = 0.1
TRAP_ATTAINMENT = 0.8
LONG_RUN = 480.0  # months: "long run" for the tipping point (40 years; the trap has settled by then)
JUDGEMENT_FACTOR = (0.67, 1.5)
OAT_FACTORS = (0.8, 1.2)


# --------------------------------------------------------------------------------------------------
# Model, scenarios and parameter classes


def load_model():
    import flywheel

    return flywheel.load_model(MODEL_PATH)


def scenario_params(model, name: str) -> dict[str, float]:
    from flywheel.scenarios import load_scenario

    return dict(load_scenario(SCENARIO_DIR / f"{name}.toml", model=model).params)


def literal_constants(model) -> list[str]:
    """Constants typed in as numbers (the others are derived from them)."""
    names = []
    for name in model.constants:
        try:
            float(model.variables[name].equation)
        except ValueError:
            continue
        names.append(name)
    return names


def levers(model) -> list[str]:
    from flywheel.scenarios import load_profile

    return load_profile(model).lever_names


def judgement_parameters(model) -> list[str]:
    """Judgement constants (not sourced, fixed, test inputs or levers), then the status-quo levers."""
    lever_names = levers(model)
    lever_constants = {f"{lv} {side}" for lv in lever_names for side in ("Before", "After")}
    plain = [
        n
        for n in literal_constants(model)
        if n not in SOURCED and n not in FIXED and n not in TEST_INPUTS and n not in lever_constants
    ]
    return plain + lever_names


def default(model, name: str) -> float:
    return float(model.variables[name].default)


def perturb(model, name: str, factor: float) -> dict[str, float]:
    """One judgement parameter times factor (a lever: its status-quo value, Before and After alike).

    Miss Tolerance and Shortfall Half Pressure are measured from the status-quo attainment, so a factor
    on their value is the same factor on their distance to the operating point."""
    if f"{name} Before" in model.variables:
        value = default(model, f"{name} Before") * factor
        return {f"{name} Before": value, f"{name} After": value}
    return {name: default(model, name) * factor}


def limits(model, name: str) -> tuple[float, float]:
    lo, hi = model.variables[name].limits
    return float(lo), float(hi)


def draw_uncertain(model, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Random draws for the policy comparisons: judgement and sourced constants uniform over their
    documented ranges; the status-quo value of each lever uniform over default x [0.67, 1.5] (within
    the lever's range), Before = After (scenarios then set their own After values)."""
    columns = {}
    for name in judgement_parameters(model) + list(SOURCED):
        if f"{name} Before" in model.variables:
            lo_r, hi_r = limits(model, f"{name} Before")
            d = default(model, f"{name} Before")
            lo, hi = max(lo_r, d * JUDGEMENT_FACTOR[0]), min(hi_r, d * JUDGEMENT_FACTOR[1])
            values = rng.uniform(lo, hi, n)
            columns[f"{name} Before"] = values
            columns[f"{name} After"] = values
        else:
            lo, hi = limits(model, name)
            columns[name] = rng.uniform(lo, hi, n)
    return pd.DataFrame(columns)


def draw_documented(model, n: int, rng: np.random.Generator, tests: bool = False) -> pd.DataFrame:
    """Every literal constant uniform over its documented range (levers: Before = After, no policy
    change). Without ``tests`` the test inputs stay off (no shock, no extra overlays, no holds)."""
    columns = {}
    lever_names = levers(model)
    for name in literal_constants(model):
        if name in FIXED or (name in TEST_INPUTS and not tests):
            continue
        if any(name == f"{lv} After" for lv in lever_names) and not tests:
            continue
        lo, hi = limits(model, name)
        columns[name] = rng.uniform(lo, hi, n)
    if not tests:
        for lv in lever_names:
            columns[f"{lv} After"] = columns[f"{lv} Before"]
    return pd.DataFrame(columns)


def with_scenario(table: pd.DataFrame, params: dict[str, float]) -> pd.DataFrame:
    out = table.copy()
    for name, value in params.items():
        out[name] = value
    return out


def fill_defaults(model, table: pd.DataFrame) -> pd.DataFrame:
    """Missing values (a column one scenario sets and another does not) take the model's default."""
    return table.fillna(value={c: default(model, c) for c in table.columns})


def ensemble(model, table, columns, times, final_time, time_step=0.25):
    table = fill_defaults(model, table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.run_ensemble(
            table, return_columns=list(columns), return_times=list(times), final_time=final_time, time_step=time_step
        )


def run(model, params, time_step=0.25, final_time=120.0):
    return model.run(params=params, time_step=time_step, final_time=final_time, saveper=1)


# --------------------------------------------------------------------------------------------------
# Check 1: balance


def balance(model, n: int, seed: int, time_step: float) -> dict:
    rng = np.random.default_rng(seed)
    table = draw_documented(model, n, rng)
    ds = ensemble(model, table, STATE, range(0, 121), 120, time_step)
    drift = max(float(np.nanmax(np.abs(ds[c].values - ds[c].values[:, :1]))) for c in STATE)
    return {"draws": n, "max_drift": drift, "diverged": int(ds["diverged"].values.sum())}


# --------------------------------------------------------------------------------------------------
# Checks 2-5: the scenarios


def scenario_runs(model, time_step: float = 0.25) -> dict[str, pd.DataFrame]:
    names = [p.stem for p in sorted(SCENARIO_DIR.glob("*.toml"))]
    return {name: run(model, scenario_params(model, name), time_step) for name in names}


def vicious_cycle(runs) -> dict:
    v, hold = runs["shock_add_overlays"], runs["shock_hold"]
    s0 = v.loc[0, "Sales"]
    return {
        "sales_120": v.loc[120, "Sales"] / s0,
        "hold_sales_120": hold.loc[120, "Sales"] / s0,
        "attainment_11": v.loc[11, "Target Attainment"],
        "attainment_120": v.loc[120, "Target Attainment"],
        "trust_0": v.loc[0, "Trust"],
        "trust_120": v.loc[120, "Trust"],
        "overlays_0": v.loc[0, "Overlay Functions"],
        "overlays_max": v["Overlay Functions"].max(),
        "overlays_120": v.loc[120, "Overlay Functions"],
        "customer_time_0": v.loc[0, "Customer Time"],
        "customer_time_120": v.loc[120, "Customer Time"],
        "min_sales": v["Sales"].min() / s0,
        "min_customer_time": v["Customer Time"].min(),
        "min_trust": v["Trust"].min(),
        "turnover_120": v.loc[120, "Seller Turnover"],
        "share_quota_120": v.loc[120, "Share Making Quota"],
    }


def remedy(model, runs, time_step: float = 0.25) -> dict:
    r, v, hold = runs["shock_deep_dives"], runs["shock_add_overlays"], runs["shock_hold"]
    s0 = r.loc[0, "Sales"]
    params = scenario_params(model, "shock_deep_dives")
    held_trust = run(model, {**params, "Hold Trust": 1}, time_step)
    held_understanding = run(model, {**params, "Hold Understanding": 1}, time_step)
    return {
        "sales_120": r.loc[120, "Sales"] / s0,
        "vs_add_overlays": r.loc[120, "Sales"] / v.loc[120, "Sales"],
        "vs_hold": r.loc[120, "Sales"] / hold.loc[120, "Sales"],
        "min_attainment_48_120": r.loc[48:120, "Target Attainment"].min(),
        "max_attainment": r["Target Attainment"].max(),
        "target_120": r.loc[120, "Sales Target"] / s0,
        "overlays_0": r.loc[0, "Overlay Functions"],
        "overlays_max": r["Overlay Functions"].max(),
        "trust_0": r.loc[0, "Trust"],
        "trust_120": r.loc[120, "Trust"],
        "hold_trust_drop": 1 - held_trust.loc[120, "Sales"] / r.loc[120, "Sales"],
        "hold_understanding_drop": 1 - held_understanding.loc[120, "Sales"] / r.loc[120, "Sales"],
    }


def price_tag(model, runs, time_step: float = 0.25) -> dict:
    full, dd = runs["deep_dives_retire_overlays"], runs["deep_dives"]
    quick, steady = runs["quick_fix_overlays"], runs["steady"]
    gain = quick["Sales Efficiency"] - steady["Sales Efficiency"]
    sales_gap = quick["Sales"] / steady["Sales"] - 1
    below = sales_gap[(sales_gap.index > 12) & (sales_gap < 0)]
    # Long-run efficiency with overlays held at a fixed level (no shock): highest without overlays.
    o0 = steady.loc[0, "Overlay Functions"]
    levels = [0.0, 0.5 * o0, o0, 2 * o0, 4 * o0]
    long_run = {}
    for level in levels:
        df = model.run(
            params={"Hold Overlays": 1},
            initial_condition=(0, {"Overlay Functions": level}),
            time_step=time_step,
            final_time=LONG_RUN,
            saveper=LONG_RUN,
            return_columns=["Sales Efficiency"],
        )
        long_run[level] = float(df["Sales Efficiency"].iloc[-1])
    return {
        "retire_vs_deep_dives_120": full.loc[120, "Sales"] / dd.loc[120, "Sales"],
        "quick_gain_13_15_min": gain.loc[13:15].min(),
        "quick_gain_13_5": gain.loc[13:14].max(),
        "quick_first_month_below": float(below.index[0]) if len(below) else math.nan,
        "quick_sales_gap_24": sales_gap.loc[24],
        "quick_long_run_attainment": quick_fix_long_run(model, time_step),
        "long_run_efficiency": long_run,
    }


def quick_fix_long_run(model, time_step=0.25) -> float:
    df = model.run(
        params={"Extra Overlays": 1, "Extra Overlay Month": 12},
        time_step=time_step,
        final_time=LONG_RUN,
        saveper=LONG_RUN,
        return_columns=["Target Attainment"],
    )
    return float(df["Target Attainment"].iloc[-1])


def recovery(runs) -> dict:
    r = runs["recovery_from_trap"]
    above = r.loc[60:, "Target Attainment"]
    first = above[above > 0.9]
    return {
        "attainment_59": r.loc[59, "Target Attainment"],
        "first_month_above_09": float(first.index[0]) if len(first) else math.nan,
        "min_attainment_108_120": r.loc[108:120, "Target Attainment"].min(),
        "max_attainment": r["Target Attainment"].max(),
        "sales_60": r.loc[60, "Sales"] / r.loc[0, "Sales"],
        "sales_108": r.loc[108, "Sales"] / r.loc[0, "Sales"],
        "target_60": r.loc[60, "Sales Target"] / r.loc[0, "Sales"],
        "target_108": r.loc[108, "Sales Target"] / r.loc[0, "Sales"],
        "understanding_60": r.loc[60, "Management Understanding"],
        "understanding_66": r.loc[66, "Management Understanding"],
        "understanding_120": r.loc[120, "Management Understanding"],
    }


# --------------------------------------------------------------------------------------------------
# Check 6: tipping point and its robustness


def tipping_points(model, cases: list[dict], grid: np.ndarray, time_step: float = 0.25) -> list[float]:
    """For each parameter set, the smallest permanent shock of the grid whose long-run attainment (month
    480, status-quo policy) is below 0.8; inf if none on the grid."""
    table = pd.DataFrame([{**case, "Market Shock Size": s} for case in cases for s in grid])
    ds = ensemble(model, table, ["Target Attainment"], [LONG_RUN], LONG_RUN, time_step)
    a = ds["Target Attainment"].values[:, 0].reshape(len(cases), len(grid))
    out = []
    for row in a:
        tipped = row < TRAP_ATTAINMENT
        out.append(float(grid[np.argmax(tipped)]) if tipped.any() else math.inf)
    return out


def long_run_attainment(model, shocks, time_step=0.25) -> dict[float, float]:
    table = pd.DataFrame({"Market Shock Size": list(shocks)})
    ds = ensemble(model, table, ["Target Attainment"], [LONG_RUN], LONG_RUN, time_step)
    return dict(zip(shocks, map(float, ds["Target Attainment"].values[:, 0]), strict=True))


def tipping_sensitivity(model, step: float) -> tuple[float, dict[str, tuple[float, float]]]:
    names = judgement_parameters(model)
    cases = [{}] + [perturb(model, n, f) for n in names for f in OAT_FACTORS]
    grid = np.round(np.arange(step, 0.3 + 1e-9, step), 6)
    tips = tipping_points(model, cases, grid)
    table = {n: (tips[1 + 2 * i], tips[2 + 2 * i]) for i, n in enumerate(names)}
    return tips[0], table


def stricter_sensitivity(model, step: float) -> dict[str, float]:
    """Tipping shock under readings the one-at-a-time table does not cover: the half-pressure threshold
    moved by 20 % of its distance to the operating point as an attainment level (0.94 - 0.033 - 0.06 = 0.847,
    so +-0.0186), both pressure parameters together, and the sourced numbers at the edges of +-20 % of
    their distance to the nearest bound of their sourced range."""
    h, tol = default(model, "Shortfall Half Pressure"), default(model, "Miss Tolerance")
    dist = tol + h
    cases = {
        f"Shortfall Half Pressure {h - 0.2 * dist:.4f}": {"Shortfall Half Pressure": h - 0.2 * dist},
        f"Shortfall Half Pressure {h + 0.2 * dist:.4f}": {"Shortfall Half Pressure": h + 0.2 * dist},
        "Miss Tolerance and Shortfall Half Pressure x0.8": {"Miss Tolerance": 0.8 * tol, "Shortfall Half Pressure": 0.8 * h},
        "Miss Tolerance and Shortfall Half Pressure x1.2": {"Miss Tolerance": 1.2 * tol, "Shortfall Half Pressure": 1.2 * h},
    }
    for name in SOURCED:
        d = default(model, name)
        lo, hi = limits(model, name)
        cases[f"{name} {d - 0.2 * (d - lo):g}"] = {name: d - 0.2 * (d - lo)}
        cases[f"{name} {d + 0.2 * (hi - d):g}"] = {name: d + 0.2 * (hi - d)}
    grid = np.round(np.arange(step, 0.3 + 1e-9, step), 6)
    return dict(zip(cases, tipping_points(model, list(cases.values()), grid), strict=True))


def policy_draws(model, n: int, seed: int, time_step: float = 0.25) -> dict:
    """Random draws under the scenarios: deep dives against adding overlays, over-attainment."""
    rng = np.random.default_rng(seed)
    base = draw_uncertain(model, n, rng)
    names = ["steady", "shock_add_overlays", "shock_deep_dives", "deep_dives_retire_overlays", "recovery_from_trap"]
    sales, att, diverged = [], [], []
    for s in names:  # one ensemble per scenario: each stays below the block kernel's compile threshold
        ds = ensemble(model, with_scenario(base, scenario_params(model, s)), ["Sales", "Target Attainment"], range(0, 121), 120, time_step)
        sales.append(ds["Sales"].values)
        att.append(ds["Target Attainment"].values)
        diverged.append(ds["diverged"].values)
    sales, att, diverged = np.array(sales), np.array(att), np.array(diverged)
    i_v, i_r = names.index("shock_add_overlays"), names.index("shock_deep_dives")
    beat = sales[i_r, :, 120] > sales[i_v, :, 120]
    over = {s: float(np.mean((att[k] > 1.05).sum(axis=1) > 12)) for k, s in enumerate(names)}
    # the same draws: does a 10 % shock tip them (long-run attainment under the status quo)?
    tipped = ensemble(
        model, with_scenario(base, scenario_params(model, "shock_add_overlays")), ["Target Attainment"], [LONG_RUN], LONG_RUN, time_step
    )["Target Attainment"].values[:, 0]
    ratio = sales[i_r, :, 120] / sales[i_v, :, 120]
    return {
        "draws": n,
        "deep_dives_beat_overlays": float(np.mean(beat)),
        "median_ratio": float(np.median(ratio)),
        "p10_ratio": float(np.percentile(ratio, 10)),
        "over_105_gt_12_months": over,
        "shock_tips_share": float(np.mean(tipped < TRAP_ATTAINMENT)),
        "diverged": int(diverged.sum()),
    }


# --------------------------------------------------------------------------------------------------
# Check 7: plausibility


def plausibility(model, runs, time_step: float = 0.25) -> dict:
    steady = runs["steady"]
    out = {
        "customer_time_0": steady.loc[0, "Customer Time"],
        "attainment_0": steady.loc[0, "Target Attainment"],
        "share_quota_0": steady.loc[0, "Share Making Quota"],
        "turnover_0": steady.loc[0, "Seller Turnover"],
        "turnover_vicious_120": runs["shock_add_overlays"].loc[120, "Seller Turnover"],
        "turnover_vicious_max": runs["shock_add_overlays"]["Seller Turnover"].max(),
        "sales_efficiency_0": steady.loc[0, "Sales Efficiency"],
        "alignment_0": steady.loc[0, "Alignment of Expectations"],
    }
    out.update(slovic(model, time_step))
    out.update(understanding_half_time(runs))
    return out


def slovic(model, time_step=0.25) -> dict:
    """Trust change at the operating point when perceived attainment is 5 points lower / higher."""
    a0 = default(model, "Status Quo Attainment")
    rates = {}
    for label, pa in (("fall", a0 - 0.05), ("rise", a0 + 0.05)):
        df = model.run(
            initial_condition=(0, {"Perceived Attainment": pa}),
            time_step=time_step,
            final_time=time_step,
            saveper=time_step,
            return_columns=["Trust Change"],
        )
        rates[label] = float(df["Trust Change"].iloc[0])
    return {"trust_rate_fall": rates["fall"], "trust_rate_rise": rates["rise"], "slovic_ratio": -rates["fall"] / rates["rise"]}


def understanding_half_time(runs) -> dict:
    """Months from the policy switch until understanding has closed half of its rise to month 120."""
    out = {}
    for name, start in (("shock_deep_dives", 12), ("recovery_from_trap", 60)):
        u = runs[name]["Management Understanding"]
        half = u.loc[start] + 0.5 * (u.loc[120] - u.loc[start])
        reached = u.loc[start:][u.loc[start:] >= half]
        out[f"u_half_months_{name}"] = float(reached.index[0] - start) if len(reached) else math.nan
        out[f"u_6_months_share_{name}"] = (u.loc[start + 6] - u.loc[start]) / (u.loc[120] - u.loc[start])
    return out


def review_period_effect(model, step: float, time_step=0.25) -> dict[float, dict[str, float]]:
    """The review cadence in the long run: the review period changed at month 12 (no shock), and the
    tipping shock of an organisation whose status quo has that cadence."""
    periods = [1.0, 2.0, 3.0, 6.0, 12.0]
    table = pd.DataFrame({"Review Period After": periods})
    ds = ensemble(model, table, ["Sales", "Target Attainment", "Alignment of Expectations", "Management Understanding"], [0, LONG_RUN], LONG_RUN, time_step)
    grid = np.round(np.arange(step, 0.3 + 1e-9, step), 6)
    tips = tipping_points(model, [{"Review Period Before": p, "Review Period After": p} for p in periods], grid, time_step)
    out = {}
    for i, p in enumerate(periods):
        out[p] = {
            "sales": float(ds["Sales"].values[i, 1] / ds["Sales"].values[i, 0]),
            "attainment": float(ds["Target Attainment"].values[i, 1]),
            "alignment": float(ds["Alignment of Expectations"].values[i, 1]),
            "understanding": float(ds["Management Understanding"].values[i, 1]),
            "tipping": tips[i],
        }
    return out


# --------------------------------------------------------------------------------------------------
# Check 8: extreme conditions and bounds


def extreme_conditions(model) -> dict:
    no_overlays = model.run(
        params={"Overlay Response Before": 0, "Overlay Response After": 0, "Market Shock Size": SHOCK},
        initial_condition=(0, {"Overlay Functions": 0}),
    )
    no_selling = model.run(params={"Status Quo Customer Time": 0, "Market Shock Size": SHOCK})
    no_market = model.run(params={"Reference Market Potential": 0})
    total_shock = model.run(params={"Market Shock Size": 1})
    frames = (no_overlays, no_selling, no_market, total_shock)
    return {
        "no_overlays_max_overhead": float(no_overlays["Communication Overhead"].abs().max()),
        "no_selling_max_sales": float(no_selling["Sales"].abs().max()),
        "no_market_max_sales": float(no_market["Sales"].abs().max()),
        "total_shock_sales_after": float(total_shock.loc[13:, "Sales"].abs().max()),
        "nan": bool(any(f.isna().any().any() for f in frames)),
    }


def bounds(model, n: int, seed: int, time_step: float = 0.25) -> dict:
    rng = np.random.default_rng(seed)
    table = draw_documented(model, n, rng, tests=True)
    cols = list(BOUNDED) + ["Overlay Functions", "Customer Time", "Sales", "Perceived Attainment"]
    ds = ensemble(model, table, cols, range(0, 121), 120, time_step)
    out = {"draws": n, "diverged": int(ds["diverged"].values.sum())}
    for c in BOUNDED:
        out[f"{c} range"] = (float(ds[c].values.min()), float(ds[c].values.max()))
    for c in ("Overlay Functions", "Customer Time", "Sales", "Perceived Attainment"):
        out[f"{c} min"] = float(ds[c].values.min())
    return out


# --------------------------------------------------------------------------------------------------
# Check 9: loop dominance (pysimlin)


@dataclass
class LoopResult:
    mode: str
    loops: int
    cluster_variables: int
    months: int
    series: list = field(default_factory=list)


def simlin_model():
    import simlin

    from flywheel.analysis.peers import simlin_path

    return simlin.load(str(simlin_path(MODEL_PATH)))


def loop_dominance(sim_model, overrides: dict[str, float] | None = None) -> LoopResult:
    """In shock_add_overlays: months 13-60 in which the reinforcing loops through Overlay Functions
    together outscore the balancing loops (relative loop scores: score / sum of |scores|)."""
    params = {"Market Shock Size": SHOCK, "Market Shock Month": 12, **(overrides or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sim_model.run(overrides={simlin_name(k): v for k, v in params.items()})
        loops = result.loops
    times = np.asarray(result.results.index, dtype=float)
    scores = np.array([lp.behavior_time_series for lp in loops], dtype=float)  # loops x times
    total = np.nansum(np.abs(scores), axis=0)
    relative = np.divide(scores, total, out=np.zeros_like(scores), where=total > 0)
    pol = [str(lp.polarity) for lp in loops]
    reinforcing = np.array([p in ("R", "Rux") and "overlay_functions" in lp.variables for p, lp in zip(pol, loops, strict=True)])
    balancing = np.array([p in ("B", "Bux") for p in pol])
    series, months = [], 0
    for month in range(13, 61):
        i = int(np.argmin(np.abs(times - month)))
        r = float(np.nansum(relative[reinforcing, i]))
        b = float(np.nansum(np.abs(relative[balancing, i])))
        series.append((month, r, b))
        months += r > b
    cluster = len({v for lp in loops for v in lp.variables})
    return LoopResult(result.ltm_mode, len(loops), cluster, months, series)


def loop_sensitivity(model, sim_model) -> dict[str, tuple[int, int]]:
    out = {}
    for name in judgement_parameters(model):
        out[name] = tuple(loop_dominance(sim_model, perturb(model, name, f)).months for f in OAT_FACTORS)
    return out


def simlin_agreement(model, sim_model) -> float:
    """Largest relative difference between pysimlin and flywheel in Sales and Trust (10 % shock)."""
    ours = run(model, {"Market Shock Size": SHOCK})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = sim_model.run(overrides={"market_shock_size": SHOCK}, analyze_loops=False).results
    worst = 0.0
    for name in ("Sales", "Trust", "Overlay Functions", "Target Attainment"):
        a = ours[name].to_numpy()
        b = theirs[simlin_name(name)].reindex(ours.index).to_numpy()
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12))))
    return worst


# --------------------------------------------------------------------------------------------------
# Check 10: PySD


def pysd_agreement(model) -> float:
    import pysd

    from flywheel.scenarios import load_scenario, run_scenario

    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / MODEL_PATH.name
        shutil.copy(MODEL_PATH, copy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_model = pysd.read_vensim(str(copy))
            for path in sorted(SCENARIO_DIR.glob("*.toml")):
                scenario = load_scenario(path, model=model)
                theirs = theirs_model.run(params=scenario.params)
                theirs_model.reload()
                ours = run_scenario(scenario, model=model)
                common = [c for c in theirs.columns if c in ours.columns]
                diff = np.abs(ours.loc[theirs.index, common].to_numpy() - theirs[common].to_numpy(dtype=float))
                worst = max(worst, float(diff.max()))
    return worst


# --------------------------------------------------------------------------------------------------
# Report


def fmt(x, digits=3) -> str:
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "none up to 30 %"
    return f"{x:.{digits}f}"


def pct(x, digits=1) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "none up to 30 %"
    return f"{100 * x:.{digits}f} %"


def ok(flag: bool) -> str:
    return "pass" if flag else "**FAIL**"


def measure(quick: bool) -> dict:
    """Every number of the report, measured on the model."""
    model = load_model()
    res: dict = {"quick": quick}
    n_balance, n_draws, n_bounds = (200, 500, 200) if quick else (1000, 5000, 1000)
    step = 0.01 if quick else 0.0025
    for dt in (0.25, 0.125):
        runs = scenario_runs(model, dt)
        res[dt] = {
            "balance": balance(model, n_balance, 1, dt),
            "vicious": vicious_cycle(runs),
            "remedy": remedy(model, runs, dt),
            "price": price_tag(model, runs, dt),
            "recovery": recovery(runs),
            "plausibility": plausibility(model, runs, dt),
        }
        if dt == 0.25:
            res["runs"] = runs
    grid = np.round(np.arange(step, 0.3 + 1e-9, step), 6)
    res["tipping"] = tipping_points(model, [{}], grid)[0]
    res["tipping_0125"] = tipping_points(model, [{}], grid, time_step=0.125)[0]
    res["long_run"] = long_run_attainment(model, [0.02, 0.05, 0.075, 0.1, 0.15, 0.2])
    res["tipping_default"], res["tipping_oat"] = tipping_sensitivity(model, step)
    res["tipping_strict"] = stricter_sensitivity(model, step)
    res["defaults"] = {n: default(model, f"{n} Before" if f"{n} Before" in model.variables else n) for n in res["tipping_oat"]}
    res["draws"] = policy_draws(model, n_draws, 7)
    res["review"] = review_period_effect(model, step)
    res["extreme"] = extreme_conditions(model)
    res["bounds"] = bounds(model, n_bounds, 11)
    sim = simlin_model()
    res["loops"] = loop_dominance(sim)
    res["loop_oat"] = {} if quick else loop_sensitivity(model, sim)
    res["simlin_agreement"] = simlin_agreement(model, sim)
    res["pysd"] = None if quick else pysd_agreement(model)
    return res


def report(res: dict, seconds: float) -> str:
    q = res["quick"]
    a, b = res[0.25], res[0.125]
    L = []
    w = L.append
    w("# Model validation: the Evil Sales Org Flywheel")
    w("")
    w(
        "Generated by `scripts/validate_model.py`"
        + (" in **quick mode** (fewer draws, coarser grids; not the published numbers)" if q else "")
        + f" in {seconds:.0f} s. Every number below is measured on `models/evil_sales_flywheel.mdl` with the"
        " project's engine (Euler). Required behaviours are those of issue 7; sales are relative to the"
        " pre-shock (month 0) sales of the same run."
    )
    w("")
    w("## 1. Balance")
    w("")
    w("| | TIME STEP 0.25 | TIME STEP 0.125 |")
    w("| --- | --- | --- |")
    w(
        f"| `steady` with {a['balance']['draws']} random draws from all documented ranges (levers Before = After):"
        f" largest change of any stock | {a['balance']['max_drift']:.1e} | {b['balance']['max_drift']:.1e} |"
    )
    w(f"| | {ok(a['balance']['max_drift'] < 1e-6)} | {ok(b['balance']['max_drift'] < 1e-6)} |")
    w("")

    def rows(title, items):
        w(f"## {title}")
        w("")
        w("| Check | Required | TIME STEP 0.25 | TIME STEP 0.125 | |")
        w("| --- | --- | --- | --- | --- |")
        for label, req, fa, fb, passed in items:
            w(f"| {label} | {req} | {fa} | {fb} | {ok(passed)} |")
        w("")

    va, vb = a["vicious"], b["vicious"]
    rows(
        "2. Vicious cycle (`shock_add_overlays`: 10 % permanent shock at month 12)",
        [
            (
                "sales at 120 (vs `shock_hold`, the shock only)",
                "below `shock_hold`",
                f"{fmt(va['sales_120'])} vs {fmt(va['hold_sales_120'])}",
                f"{fmt(vb['sales_120'])} vs {fmt(vb['hold_sales_120'])}",
                va["sales_120"] < va["hold_sales_120"] and vb["sales_120"] < vb["hold_sales_120"],
            ),
            (
                "attainment month 11 -> 120",
                "(context)",
                f"{fmt(va['attainment_11'])} -> {fmt(va['attainment_120'])}",
                f"{fmt(vb['attainment_11'])} -> {fmt(vb['attainment_120'])}",
                True,
            ),
            ("trust at 120", "< 0.3", f"{fmt(va['trust_0'])} -> {fmt(va['trust_120'])}", f"{fmt(vb['trust_120'])}", va["trust_120"] < 0.3 and vb["trust_120"] < 0.3),
            (
                "overlays: start -> peak",
                "at least x2",
                f"{fmt(va['overlays_0'])} -> {fmt(va['overlays_max'])} (x{va['overlays_max'] / va['overlays_0']:.2f})",
                f"x{vb['overlays_max'] / vb['overlays_0']:.2f}",
                va["overlays_max"] >= 2 * va["overlays_0"] and vb["overlays_max"] >= 2 * vb["overlays_0"],
            ),
            (
                "customer time: start -> 120",
                "falls by at least a third",
                f"{fmt(va['customer_time_0'])} -> {fmt(va['customer_time_120'])} (x{va['customer_time_120'] / va['customer_time_0']:.3f})",
                f"x{vb['customer_time_120'] / vb['customer_time_0']:.3f}",
                va["customer_time_120"] <= va["customer_time_0"] * 2 / 3 and vb["customer_time_120"] <= vb["customer_time_0"] * 2 / 3,
            ),
            (
                "lowest sales / customer time / trust",
                "all > 0",
                f"{fmt(va['min_sales'])} / {fmt(va['min_customer_time'])} / {fmt(va['min_trust'])}",
                f"{fmt(vb['min_sales'])} / {fmt(vb['min_customer_time'])} / {fmt(vb['min_trust'])}",
                min(va["min_sales"], va["min_customer_time"], va["min_trust"], vb["min_sales"], vb["min_customer_time"], vb["min_trust"]) > 0,
            ),
        ],
    )
    ra, rb = a["remedy"], b["remedy"]
    rows(
        "3. Remedy (`shock_deep_dives`: deep dives 0.3, no new overlays from month 12)",
        [
            ("sales at 120 / `shock_add_overlays`", ">= 1.10", fmt(ra["vs_add_overlays"]), fmt(rb["vs_add_overlays"]), min(ra["vs_add_overlays"], rb["vs_add_overlays"]) >= 1.1),
            ("sales at 120 / `shock_hold`", "> 1", fmt(ra["vs_hold"]), fmt(rb["vs_hold"]), min(ra["vs_hold"], rb["vs_hold"]) > 1),
            ("sales at 120 / pre-shock sales", "<= 1", fmt(ra["sales_120"]), fmt(rb["sales_120"]), max(ra["sales_120"], rb["sales_120"]) <= 1),
            (
                "lowest attainment, months 48-120",
                ">= 0.95",
                fmt(ra["min_attainment_48_120"]),
                fmt(rb["min_attainment_48_120"]),
                min(ra["min_attainment_48_120"], rb["min_attainment_48_120"]) >= 0.95,
            ),
            ("highest attainment", "(context)", fmt(ra["max_attainment"]), fmt(rb["max_attainment"]), True),
            ("target at 120 / pre-shock sales", "(context)", fmt(ra["target_120"]), fmt(rb["target_120"]), True),
            (
                "overlays: start, highest",
                "never above start",
                f"{fmt(ra['overlays_0'])}, {fmt(ra['overlays_max'])}",
                f"{fmt(rb['overlays_0'])}, {fmt(rb['overlays_max'])}",
                ra["overlays_max"] <= ra["overlays_0"] + 1e-9 and rb["overlays_max"] <= rb["overlays_0"] + 1e-9,
            ),
            ("trust: start -> 120", "ends above start", f"{fmt(ra['trust_0'])} -> {fmt(ra['trust_120'])}", f"{fmt(rb['trust_120'])}", ra["trust_120"] > ra["trust_0"] and rb["trust_120"] > rb["trust_0"]),
            ("sales at 120 lost with trust held (`Hold Trust` = 1)", ">= 2 %", pct(ra["hold_trust_drop"]), pct(rb["hold_trust_drop"]), min(ra["hold_trust_drop"], rb["hold_trust_drop"]) >= 0.02),
            (
                "sales at 120 lost with understanding held (`Hold Understanding` = 1)",
                ">= 2 %",
                pct(ra["hold_understanding_drop"]),
                pct(rb["hold_understanding_drop"]),
                min(ra["hold_understanding_drop"], rb["hold_understanding_drop"]) >= 0.02,
            ),
        ],
    )
    pa, pb = a["price"], b["price"]
    rows(
        "4. Price tag of overlays",
        [
            (
                "`deep_dives_retire_overlays` / `deep_dives`, sales at 120",
                ">= 1",
                fmt(pa["retire_vs_deep_dives_120"], 4),
                fmt(pb["retire_vs_deep_dives_120"], 4),
                min(pa["retire_vs_deep_dives_120"], pb["retire_vs_deep_dives_120"]) >= 1,
            ),
            (
                "one extra overlay at 12 (`quick_fix_overlays` - `steady`): smallest efficiency gain, months 13-15",
                "> 0",
                f"{pa['quick_gain_13_15_min']:+.4f}",
                f"{pb['quick_gain_13_15_min']:+.4f}",
                min(pa["quick_gain_13_15_min"], pb["quick_gain_13_15_min"]) > 0,
            ),
            (
                "... first month with sales below `steady`",
                "<= 24",
                fmt(pa["quick_first_month_below"], 0),
                fmt(pb["quick_first_month_below"], 0),
                max(pa["quick_first_month_below"], pb["quick_first_month_below"]) <= 24,
            ),
            ("... sales gap at month 24", "< 0", pct(pa["quick_sales_gap_24"]), pct(pb["quick_sales_gap_24"]), max(pa["quick_sales_gap_24"], pb["quick_sales_gap_24"]) < 0),
            (
                "long-run efficiency with overlays held at 0 / 0.5 / 1 / 2 / 4 x status quo",
                "highest at 0",
                " / ".join(fmt(v) for v in pa["long_run_efficiency"].values()),
                " / ".join(fmt(v) for v in pb["long_run_efficiency"].values()),
                all(max(p["long_run_efficiency"].values()) == p["long_run_efficiency"][0.0] for p in (pa, pb)),
            ),
            (
                "... long-run attainment after the extra overlay (month 480)",
                "(context)",
                fmt(pa["quick_long_run_attainment"]),
                fmt(pb["quick_long_run_attainment"]),
                True,
            ),
        ],
    )
    ca, cb = a["recovery"], b["recovery"]
    rows(
        "5. Recovery (`recovery_from_trap`: status quo after the shock, remedy from month 60)",
        [
            ("attainment at 59 (trapped)", "< 0.9", fmt(ca["attainment_59"]), fmt(cb["attainment_59"]), max(ca["attainment_59"], cb["attainment_59"]) < 0.9),
            ("first month above 0.9 after the switch", "<= 108", fmt(ca["first_month_above_09"], 2), fmt(cb["first_month_above_09"], 2), max(ca["first_month_above_09"], cb["first_month_above_09"]) <= 108),
            ("lowest attainment, months 108-120", "> 0.9", fmt(ca["min_attainment_108_120"]), fmt(cb["min_attainment_108_120"]), min(ca["min_attainment_108_120"], cb["min_attainment_108_120"]) > 0.9),
            ("highest attainment", "<= 1.05", fmt(ca["max_attainment"]), fmt(cb["max_attainment"]), max(ca["max_attainment"], cb["max_attainment"]) <= 1.05),
            (
                "sales (target) month 60 -> 108, / pre-shock sales",
                "sales rise",
                f"{fmt(ca['sales_60'])} -> {fmt(ca['sales_108'])} ({fmt(ca['target_60'])} -> {fmt(ca['target_108'])})",
                f"{fmt(cb['sales_60'])} -> {fmt(cb['sales_108'])}",
                ca["sales_108"] > 1.05 * ca["sales_60"] and cb["sales_108"] > 1.05 * cb["sales_60"],
            ),
        ],
    )
    w("## 6. Robust, not a knife edge")
    w("")
    lr = res["long_run"]
    w(
        f"Smallest permanent shock that tips the status quo into the trap (attainment at month {LONG_RUN:.0f} below"
        f" {TRAP_ATTAINMENT}, status-quo policy), on a grid of {'1' if q else '0.25'} %:"
        f" **{pct(res['tipping'], 2)}** at TIME STEP 0.25, {pct(res['tipping_0125'], 2)} at 0.125"
        f" (required: between 5 % and 10 %): {ok(0.05 <= res['tipping'] <= 0.10 and 0.05 <= res['tipping_0125'] <= 0.10)}."
    )
    w("")
    w("| Permanent shock | 2 % | 5 % | 7.5 % | 10 % | 15 % | 20 % |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    w("| Attainment at month 480 | " + " | ".join(fmt(lr[s]) for s in (0.02, 0.05, 0.075, 0.1, 0.15, 0.2)) + " |")
    w("")
    d = res["tipping_default"]
    w(
        "One at a time, each judgement parameter x0.8 and x1.2 (the status-quo value of each lever, Before and"
        " After together). Miss Tolerance and Shortfall Half Pressure are distances from the status-quo"
        " attainment, so x0.8/x1.2 moves them by 20 % of their distance to the operating point. Required: the"
        f" tipping shock stays within a factor of 2 of {pct(d, 2)}, i.e. in [{pct(d / 2, 2)}, {pct(2 * d, 2)}]."
    )
    w("")
    w("| Parameter | default | x0.8 | x1.2 | |")
    w("| --- | --- | --- | --- | --- |")
    worst = 0.0
    for name, (lo, hi) in res["tipping_oat"].items():
        dflt = res["defaults"][name]
        inside = all(math.isfinite(x) and d / 2 <= x <= 2 * d for x in (lo, hi))
        worst = max(worst, *(abs(math.log(x / d)) if math.isfinite(x) else math.inf for x in (lo, hi)))
        w(f"| {name} | {dflt:g} | {pct(lo, 2)} | {pct(hi, 2)} | {ok(inside)} |")
    w("")
    w(f"Largest factor away from the default: {math.exp(worst):.2f}.")
    w("")
    w(
        "Stricter readings: the half-pressure threshold as an attainment level (0.94 - 0.033 - 0.06 = 0.847) moved"
        " by 20 % of its distance to the operating point, both pressure parameters together, and the sourced"
        " numbers moved by 20 % of their distance to the ends of their sourced ranges:"
    )
    w("")
    w("| Case | Tipping shock | |")
    w("| --- | --- | --- |")
    for label, x in res["tipping_strict"].items():
        w(f"| {label} | {pct(x, 2)} | {ok(math.isfinite(x) and d / 2 <= x <= 2 * d)} |")
    w("")
    dr = res["draws"]
    w(
        f"Random draws ({dr['draws']}): every judgement constant uniform over its documented range, which is"
        " default x [0.67, 1.5] (fixed up front; a few are narrower where a share cannot exceed 1 or the"
        " README says why); sourced constants over their sourced ranges; the status-quo value of each lever"
        " over default x [0.67, 1.5]. Each draw is run under each scenario."
    )
    w("")
    w("| Statistic | Value | Required | |")
    w("| --- | --- | --- | --- |")
    w(f"| deep dives (`shock_deep_dives`) sell more at month 120 than `shock_add_overlays` | {pct(dr['deep_dives_beat_overlays'])} of draws | >= 90 % | {ok(dr['deep_dives_beat_overlays'] >= 0.9)} |")
    w(f"| median (10th percentile) of that sales ratio | {fmt(dr['median_ratio'])} ({fmt(dr['p10_ratio'])}) | | |")
    w(f"| a 10 % shock tips the status quo (attainment at 480 < 0.8) | {pct(dr['shock_tips_share'])} of draws | | |")
    for s, v in dr["over_105_gt_12_months"].items():
        w(f"| attainment above 1.05 for more than 12 months, `{s}` | {pct(v, 2)} of draws | <= 1 % | {ok(v <= 0.01)} |")
    w(f"| runs that became infinite or NaN | {dr['diverged']} | 0 | {ok(dr['diverged'] == 0)} |")
    w("")
    la, lb = a["plausibility"], b["plausibility"]
    rows(
        "7. Plausible against published figures",
        [
            ("status-quo customer time", "0.41 +- 0.02", fmt(la["customer_time_0"]), fmt(lb["customer_time_0"]), abs(la["customer_time_0"] - 0.41) <= 0.02),
            ("status-quo plan attainment", "0.94", fmt(la["attainment_0"]), fmt(lb["attainment_0"]), abs(la["attainment_0"] - 0.94) < 1e-9),
            ("status-quo share of sellers making quota", "0.55 +- 0.03", fmt(la["share_quota_0"]), fmt(lb["share_quota_0"]), abs(la["share_quota_0"] - 0.55) <= 0.03),
            (
                "seller turnover per year: status quo, `shock_add_overlays` at 120",
                "about 0.35, rising with misses",
                f"{fmt(la['turnover_0'])}, {fmt(la['turnover_vicious_120'])}",
                f"{fmt(lb['turnover_0'])}, {fmt(lb['turnover_vicious_120'])}",
                abs(la["turnover_0"] - 0.35) < 1e-9 and la["turnover_vicious_120"] > la["turnover_0"],
            ),
            (
                "trust change per month at attainment -5 / +5 points (erosion / building)",
                "ratio >= 2",
                f"{la['trust_rate_fall']:+.4f} / {la['trust_rate_rise']:+.4f} (ratio {la['slovic_ratio']:.2f})",
                f"ratio {lb['slovic_ratio']:.2f}",
                min(la["slovic_ratio"], lb["slovic_ratio"]) >= 2,
            ),
            (
                "months for understanding to close half its rise (`shock_deep_dives`, `recovery_from_trap`)",
                ">= 6",
                f"{fmt(la['u_half_months_shock_deep_dives'], 2)}, {fmt(la['u_half_months_recovery_from_trap'], 2)}",
                f"{fmt(lb['u_half_months_shock_deep_dives'], 2)}, {fmt(lb['u_half_months_recovery_from_trap'], 2)}",
                min(la["u_half_months_shock_deep_dives"], la["u_half_months_recovery_from_trap"], lb["u_half_months_shock_deep_dives"], lb["u_half_months_recovery_from_trap"]) >= 6,
            ),
            ("status-quo sales efficiency, alignment", "(context)", f"{fmt(la['sales_efficiency_0'])}, {fmt(la['alignment_0'])}", "", True),
        ],
    )
    rv = res["review"]
    w(
        "Review cadence in the long run (issue point 7: the first model's review period had no long-run effect)."
        " The review period is changed at month 12 without a shock; values at month 480. The last row is the"
        " tipping shock of an organisation whose status quo has that cadence: a slow cadence hides a shock from"
        " management for longer, so it reacts less, but it also learns and aligns less."
    )
    w("")
    w("| Review period (months) | " + " | ".join(f"{p:g}" for p in rv) + " |")
    w("| --- | " + " | ".join("---" for _ in rv) + " |")
    w("| sales / month-0 sales | " + " | ".join(fmt(v["sales"]) for v in rv.values()) + " |")
    w("| plan attainment | " + " | ".join(fmt(v["attainment"]) for v in rv.values()) + " |")
    w("| alignment of expectations | " + " | ".join(fmt(v["alignment"]) for v in rv.values()) + " |")
    w("| management understanding | " + " | ".join(fmt(v["understanding"]) for v in rv.values()) + " |")
    w("| tipping shock (status quo with this cadence) | " + " | ".join(pct(v["tipping"], 2) for v in rv.values()) + " |")
    w("")
    ex, bd = res["extreme"], res["bounds"]
    w("## 8. Extreme conditions and bounds")
    w("")
    w("| Condition | Result | |")
    w("| --- | --- | --- |")
    w(f"| no overlays at all (reflex 0, stock 0), 10 % shock: largest communication overhead | {ex['no_overlays_max_overhead']:.1e} | {ok(ex['no_overlays_max_overhead'] == 0)} |")
    w(f"| no selling time (`Status Quo Customer Time` 0): largest sales | {ex['no_selling_max_sales']:.1e} | {ok(ex['no_selling_max_sales'] == 0)} |")
    w(f"| no market (`Reference Market Potential` 0): largest sales | {ex['no_market_max_sales']:.1e} | {ok(ex['no_market_max_sales'] == 0)} |")
    w(f"| market shock of 100 %: largest sales after month 12 | {ex['total_shock_sales_after']:.1e} | {ok(ex['total_shock_sales_after'] == 0)} |")
    w(f"| any NaN in these runs | {ex['nan']} | {ok(not ex['nan'])} |")
    in_bounds = all(lo >= -1e-9 and hi <= 1 + 1e-9 for lo, hi in (bd[f"{c} range"] for c in BOUNDED))
    w(
        f"| {bd['draws']} random draws of every documented constant (test inputs included): range of "
        + ", ".join(f"{c} [{bd[f'{c} range'][0]:.3f}, {bd[f'{c} range'][1]:.3f}]" for c in BOUNDED)
        + f"; lowest overlays {bd['Overlay Functions min']:.3g}, customer time {bd['Customer Time min']:.3g}; diverged {bd['diverged']}"
        f" | | {ok(in_bounds and bd['Overlay Functions min'] >= -1e-9 and bd['Customer Time min'] >= 0 and bd['diverged'] == 0)} |"
    )
    w("")
    lo = res["loops"]
    w("## 9. Loop dominance (pysimlin, Loops That Matter)")
    w("")
    w(
        f"pysimlin enumerates the loops exhaustively (mode `{lo.mode}`): {lo.loops} loops, {lo.cluster_variables}"
        " variables in the one feedback cluster (pysimlin switches to discovery mode at 48). In"
        " `shock_add_overlays` the reinforcing loops through Overlay Functions together outscore the balancing"
        f" loops (relative scores, score / sum of |scores|) in **{lo.months} of the months 13-60** (required:"
        f" >= 12): {ok(lo.months >= 12)}."
    )
    w("")
    w("| Month | 13 | 15 | 18 | 24 | 30 | 36 | 48 | 60 |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    pick = {m_: (r, b_) for m_, r, b_ in lo.series}
    w("| reinforcing through overlays | " + " | ".join(f"{pick[m_][0]:.2f}" for m_ in (13, 15, 18, 24, 30, 36, 48, 60)) + " |")
    w("| balancing (absolute) | " + " | ".join(f"{pick[m_][1]:.2f}" for m_ in (13, 15, 18, 24, 30, 36, 48, 60)) + " |")
    w("")
    if res["loop_oat"]:
        worst_loop = min(min(v) for v in res["loop_oat"].values())
        who = [k for k, v in res["loop_oat"].items() if min(v) == worst_loop]
        w(
            f"Under x0.8 / x1.2 of any single judgement parameter the fewest such months is **{worst_loop}**"
            f" ({', '.join(who)}; required: >= 8): {ok(worst_loop >= 8)}."
        )
        w("")
        w("| Parameter | x0.8 | x1.2 |")
        w("| --- | --- | --- |")
        for k, (x, y) in res["loop_oat"].items():
            w(f"| {k} | {x} | {y} |")
        w("")
    else:
        w("(quick mode: the one-at-a-time loop sweep is skipped.)")
        w("")
    w("## 10. Other implementations")
    w("")
    w(
        "Largest relative difference between pysimlin's run and flywheel's in Sales, Trust, Overlay Functions"
        f" and Target Attainment (10 % shock): {res['simlin_agreement']:.1e}."
    )
    if res["pysd"] is not None:
        w(
            f"flywheel against PySD on every scenario file: largest absolute difference {res['pysd']:.1e}"
            f" (required < 1e-9): {ok(res['pysd'] < 1e-9)}."
        )
    w("")
    return "\n".join(L) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer draws and coarser grids (for tests)")
    parser.add_argument("-o", "--output", type=Path, default=REPORT_PATH, help="report to write")
    args = parser.parse_args(argv)
    start = time.time()
    res = measure(args.quick)
    write_atomic(args.output, report(res, time.time() - start))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
