"""Issue 10, section 1 on the flywheel model: the shock that tips the status quo into the trap, the overlay
reflex that tips a shocked organisation, and the status-quo equilibrium with its stability.

Each threshold is found by ``flywheel.tipping`` and then checked independently with plain runs 0.001 on
either side: below it the long-run attainment is back at the status quo (absorbed), above it the run
settles in the trap. The numbers are in models/README.md ("Tipping points and equilibria")."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel
from flywheel.core.running import prepared_workspace
from flywheel.scenarios import load_scenario

from .conftest import REPO_ROOT

LONG_RUN = 480  # months: runs near a threshold linger by the saddle; by 480 they have settled
SHOCK = REPO_ROOT / "scenarios" / "shock_add_overlays.toml"


@pytest.fixture(scope="module")
def shocked():
    return load_scenario(SHOCK)


def long_run_attainment(model, params: dict) -> float:
    return float(model.run(params, final_time=LONG_RUN, return_columns=["Target Attainment"])["Target Attainment"].iloc[-1])


def check_threshold(model, base: dict, constants: tuple[str, ...], value: float) -> tuple[float, float]:
    """Long-run attainment 0.001 below and above ``value`` (absorbed, trapped)."""
    below = long_run_attainment(model, {**base, **{c: value - 0.001 for c in constants}})
    above = long_run_attainment(model, {**base, **{c: value + 0.001 for c in constants}})
    return below, above


def test_the_market_shock_that_tips_the_status_quo_is_found_to_a_thousandth(model, shocked) -> None:
    found = flywheel.tipping(shocked, "Market Shock Size", 0.0, 0.3, final_time=LONG_RUN, tol=1e-4)
    assert len(found.thresholds) == 1
    threshold = found.thresholds[0]
    assert 0.05 <= threshold.value <= 0.10  # the model's required band (models/README.md, check 6)
    assert threshold.tolerance <= 1e-4
    status_quo = float(model.variables["Status Quo Attainment"].default)
    below, above = check_threshold(model, dict(shocked.params), ("Market Shock Size",), threshold.value)
    assert below == pytest.approx(status_quo, abs=0.005)  # absorbed: back where it started
    assert above < status_quo - 0.2  # the trap
    assert threshold.outcome_below == pytest.approx(status_quo, abs=0.01) and threshold.outcome_above < 0.75


def test_the_overlay_reflex_that_tips_a_shocked_organisation_is_found_to_a_thousandth(model, shocked) -> None:
    """A 10 % shock in month 12 with the overlay reflex changed from month 12 (Overlay Response After):
    a weak reflex absorbs the shock, the status quo's (4.8 a year) slides into the trap."""
    found = flywheel.tipping(shocked, "Overlay Response After", 0.0, 10.0, final_time=LONG_RUN, tol=1e-4)
    assert len(found.thresholds) == 1
    threshold = found.thresholds[0].value
    status_quo = float(model.variables["Overlay Response Before"].default)
    assert 0 < threshold < status_quo
    below, above = check_threshold(model, dict(shocked.params), ("Overlay Response After",), threshold)
    assert below > float(model.variables["Status Quo Attainment"].default) - 0.005 and above < 0.8


def test_the_status_quo_equilibrium_is_the_closed_form_start_and_stable(model) -> None:
    found = flywheel.equilibria(model)
    space = prepared_workspace(model.spec())
    space.init()
    start = space.first("Y")[: model.compiled.layout.n_states].copy()  # the closed-form initial values
    status_quo = [eq for eq in found.found if np.allclose(eq.states, start, rtol=1e-6, atol=1e-9)]
    assert len(status_quo) == 1
    eq = status_quo[0]
    np.testing.assert_allclose(eq.states, start, rtol=1e-8, atol=1e-8)
    assert eq.stable and np.all(eq.eigenvalues.real < 0) and eq.residual < 1e-8
    assert -0.05 < eq.dominant.real < 0  # slow: the trap is not far
    # bistable: a stable trap with lower attainment and a saddle between the two
    stable = [e for e in found.found if e.stable]
    saddles = [e for e in found.found if not e.stable]
    assert len(stable) >= 2 and saddles
    trap = min(stable, key=lambda e: e.stocks["Perceived Attainment"])
    saddle = saddles[0]
    assert trap.stocks["Perceived Attainment"] < 0.75 < saddle.stocks["Perceived Attainment"] < eq.stocks["Perceived Attainment"]
    assert trap.stocks["Overlay Functions"] > saddle.stocks["Overlay Functions"] > eq.stocks["Overlay Functions"]
    assert sum(e.real > 0 for e in saddle.eigenvalues) == 1  # one way out: into the trap or back
