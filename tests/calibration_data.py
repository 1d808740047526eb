"""Synthetic observations with known truth, for the calibration tests and notebooks' checks.

The flywheel model is made to move (a 10% market shock in month 12, found through its profile, so the
choice survives a rework of the model) and three of its series are observed quarterly with Gaussian
noise of 2% of each series' mean level. The fitted constants are picked from a list of candidates
that exist in the model, each with bounds of a quarter to four times its default (inside its
documented range), so the tests do not depend on today's exact set of constants.

The candidates are the ones the second model's data identify well (its calibration report, seed 1):
Miss Tolerance, Overlay Budget and Trust Miss Sensitivity have standard errors of 0.9%, 0.5% and 0.7%
and 95% intervals of 4%, 2% and 3% of their documented ranges. Not chosen: Trust Erosion Time (8%; its
interval spans 38% of its documented range [4, 9]), Trust Building Time (not identifiable: trust never
rises after a shock under the status quo) and Shortfall Half Pressure (correlated with Miss Tolerance at
r = -0.99: the data only see where the pressure starts and how strong it is, together).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .model_text import equation, write_model

SERIES = ["Trust", "Overlay Functions", "Target Attainment"]
CANDIDATES = [
    "Miss Tolerance",
    "Overlay Budget",
    "Trust Miss Sensitivity",
    "Conversion Power",
    "Load per Communication Path",
    "Dashboard Trust Ceiling",
]
NOISE = 0.02  # of each series' mean level


def shock_base(model) -> dict[str, float]:
    """The base run: the profile's market shock (10% in month 12), when the model has one."""
    from flywheel import load_profile

    profile = load_profile(model)
    base = {}
    if profile.shock_size:
        base[profile.shock_size] = 0.1
    if profile.shock_month:
        base[profile.shock_month] = 12.0
    return base


def flywheel_fit(model, k: int = 3) -> dict[str, tuple[float, float]]:
    """``k`` constants to fit with bounds [default / 4, default * 4] within their documented range."""
    fit = {}
    for name in CANDIDATES:
        info = model.variables.get(name)
        if info is None or info.kind != "constant" or not info.default:
            continue
        lo, hi = info.limits
        low = max(info.default / 4, lo if lo is not None else -np.inf)
        high = min(info.default * 4, hi if hi is not None else np.inf)
        fit[name] = (float(low), float(high))
        if len(fit) == k:
            break
    assert len(fit) == k, f"the flywheel model lacks {k} of the candidate constants {CANDIDATES}"
    return fit


def truth_of(model, fit) -> np.ndarray:
    return np.array([model.variables[n].default for n in fit])


def clean_series(model, base: dict[str, float], params: dict[str, float] | None = None, every: float = 3.0) -> pd.DataFrame:
    """The model's series at quarterly times (no noise)."""
    import flywheel

    spec = model.spec({**base, **(params or {})})
    frame = flywheel.simulate(spec, columns=SERIES).to_frame()
    times = np.arange(float(model.initial_time), float(spec.time.final_time) + 1e-9, every)
    return frame.loc[times]


def noisy(clean: pd.DataFrame, seed: int, fraction: float = NOISE) -> pd.DataFrame:
    """Gaussian noise of ``fraction`` of each series' mean level."""
    rng = np.random.default_rng(seed)
    scale = fraction * clean.abs().mean().to_numpy()
    return clean + rng.normal(size=clean.shape) * scale


# --------------------------------------------------------------------------------------------------
# A small model where two constants only enter as a product: their product is identifiable, they
# are not. "Drain Time" stays identifiable.

PRODUCT_MODEL = (
    equation("Level", "INTEG(Inflow - Outflow, 10)", "Units")
    + equation("Inflow", "Gain A * Gain B * (Target - Level)", "Units/Month")
    + equation("Outflow", "Level / Drain Time", "Units/Month")
    + equation("Target", "20 + STEP(10, 12)", "Units")
    + equation("Gain A", "0.5", "1/Month [0.01, 5]")
    + equation("Gain B", "0.4", "Dmnl [0.01, 5]")
    + equation("Drain Time", "8", "Month [1, 40]")
)


def product_model(folder: Path):
    import flywheel

    return flywheel.load_model(write_model(folder, PRODUCT_MODEL, name="product.mdl", final=48, dt=0.25, saveper=1))
