"""Monte Carlo (fan charts, probabilities with Wilson intervals, common random numbers, divergence), the
tornado, and the outcome/condition words they read."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel
from flywheel.analysis.montecarlo import wilson_interval
from flywheel.analysis.quantities import parse_condition, parse_quantity
from flywheel.errors import ParameterError

from .conftest import REPO_ROOT
from .uncertain_inputs import documented_ranges, moving_ranges
from .uncertainty_models import explosive, growth

SCENARIOS = REPO_ROOT / "scenarios"


@pytest.fixture(scope="module")
def ranges(model):
    """Three judgement constants over their documented ranges (the profile's assumptions first)."""
    return documented_ranges(model, 3)


@pytest.fixture(scope="module")
def mc(model, ranges):
    from flywheel.scenarios import load_scenario

    scenarios = [load_scenario(SCENARIOS / f"{n}.toml", model=model) for n in ("shock_add_overlays", "shock_deep_dives")]
    return flywheel.montecarlo(scenarios, ranges, n=2000, seed=4)


def test_probabilities_agree_with_a_direct_count(mc):
    for scenario in mc.scenarios:
        p = mc.probability("Target Attainment >= 0.9 at month 60", scenario)
        direct = mc.dataset["Target Attainment"].sel(scenario=scenario, time=60).values >= 0.9
        assert p.successes == int(direct.sum()) and p.n == 2000 and p.diverged == 0
        assert p.p == direct.mean()
        assert (p.low, p.high) == wilson_interval(p.successes, p.n)
        q = mc.probability("min Trust < 0.3 or final Overlay Functions > 2", scenario)
        trust = mc.dataset["Trust"].sel(scenario=scenario).values
        overlays = mc.dataset["Overlay Functions"].sel(scenario=scenario).values
        assert q.successes == int(((trust.min(axis=1) < 0.3) | (overlays[:, -1] > 2)).sum())


def test_the_policies_differ_as_the_model_says_on_the_same_draws(mc):
    """Deep dives stop the flywheel: higher attainment at month 60 in more runs, fewer overlays."""
    overlays = mc.probability("Target Attainment >= 0.9 at month 60", "shock_add_overlays").p
    dives = mc.probability("Target Attainment >= 0.9 at month 60", "shock_deep_dives").p
    assert dives > overlays
    median = mc.percentiles("Overlay Functions").sel(percentile=50, time=120)
    assert median.sel(scenario="shock_deep_dives") < median.sel(scenario="shock_add_overlays")


def test_percentiles_are_ordered_and_match_numpy(mc):
    bands = mc.percentiles("Trust")
    assert bands.dims == ("scenario", "percentile", "time")
    assert np.all(np.diff(bands.values, axis=1) >= 0)
    values = mc.dataset["Trust"].sel(scenario="shock_deep_dives").values
    np.testing.assert_array_equal(bands.sel(scenario="shock_deep_dives").values, np.percentile(values, [5, 25, 50, 75, 95], axis=0))
    table = mc.percentile_table(["Trust"])
    assert list(table.columns) == ["scenario", "variable", "time", "p5", "p25", "p50", "p75", "p95"]
    assert len(table) == 2 * 121


def test_the_same_seed_gives_the_same_numbers(model):
    ranges = moving_ranges(model)
    a = flywheel.montecarlo(model, ranges, n=300, seed=9, variables=["Trust"])
    b = flywheel.montecarlo(model, ranges, n=300, seed=9, variables=["Trust"])
    c = flywheel.montecarlo(model, ranges, n=300, seed=10, variables=["Trust"])
    assert a.dataset.equals(b.dataset) and a.inputs.equals(b.inputs)
    assert not a.inputs.equals(c.inputs) and not a.dataset.equals(c.dataset)
    assert str(a.probability("final Trust > 0.4")) == str(b.probability("final Trust > 0.4"))


def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)
    assert low == 0 and high == pytest.approx(1.959964**2 / (10 + 1.959964**2), rel=1e-6)  # 0.2775
    low, high = wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.40383, 0.59617), abs=1e-5)
    low, high = wilson_interval(81, 263)  # Wilson (1927), as in Newcombe (1998), table I: 0.2553 - 0.3662
    assert (low, high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_a_range_that_makes_runs_blow_up_is_reported(tmp_path):
    model = flywheel.load_model(explosive(tmp_path))
    mc = flywheel.montecarlo(model, {"k": (0, 0.3), "calm": (0, 2)}, n=500, seed=1, variables=["Stock"])
    blown = mc.dataset["diverged"].values[0]
    assert mc.diverged[model.name] == int(blown.sum()) > 0
    assert (mc.inputs["k"][blown] > 0.09).all()  # blow-up at t = 1/k within 10 months
    assert any("'k'" in note for note in mc.notes) and "diverged" in mc.report()
    p = mc.probability("final Stock > 2")
    assert p.diverged == int(blown.sum()) and p.n == 500 - p.diverged
    assert np.all(np.isfinite(mc.percentiles("Stock").values))
    fig = mc.plot()
    assert "diverged" in fig._supxlabel.get_text()


def test_bad_conditions_and_variables_are_one_clear_line(mc, model):
    with pytest.raises(ParameterError, match="name one of shock_add_overlays, shock_deep_dives"):
        mc.probability("final Trust > 0.5")
    with pytest.raises(ParameterError, match="changes over time: say when"):
        mc.probability("Trust > 0.5", "shock_deep_dives")
    with pytest.raises(ParameterError, match="time 200 is outside the run"):
        mc.probability("Trust > 0.5 at month 200", "shock_deep_dives")
    not_kept = next(v for v in model.variables if model.variables[v].kind != "constant" and v not in mc.variables)
    with pytest.raises(ParameterError, match="was not kept"):
        mc.percentiles(not_kept)


def test_fan_chart_has_a_panel_per_variable_and_a_legend(mc, model):
    """One panel per variable, titled with the profile's panel label."""
    labels = {p.variable: p.label for p in flywheel.load_profile(model).panels}
    fig = mc.plot(["Trust", "Target Attainment"])
    titled = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titled == [labels.get("Trust", "Trust"), labels.get("Target Attainment", "Target Attainment")]
    texts = [t.get_text() for ax in fig.axes for legend in [ax.get_legend()] if legend for t in legend.get_texts()]
    texts += [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any("5th-95th" in t for t in texts) and any("deep dives" in t.lower() for t in texts)


def test_tornado_swings_are_exact_on_a_linear_model(tmp_path):
    model = flywheel.load_model(growth(tmp_path))
    t = flywheel.tornado(model, {"a": (0, 10), "r": (0, 2)}, "final Level")
    # Level(20) = a + 20 r; base a = 5, r = 0.5 -> 15
    assert t.base_outcome == pytest.approx(15)
    assert list(t.table.index) == ["r", "a"]
    assert t.table.loc["r", ["outcome_low", "outcome_high", "swing"]].tolist() == pytest.approx([5, 45, 40])
    assert t.table.loc["a", ["outcome_low", "outcome_high", "swing"]].tolist() == pytest.approx([10, 20, 10])
    normal = flywheel.tornado(model, {"a": {"distribution": "normal", "mean": 5, "sd": 1}}, "Level at month 0")
    assert normal.table.loc["a", "low"] == pytest.approx(5 - 1.644854, abs=1e-5)
    assert "One input at a time" in t.report()
    fig = t.plot()
    assert [tick.get_text() for tick in fig.axes[0].get_yticklabels()] == ["a", "r"]  # largest on top
    with pytest.raises(ParameterError, match="changes over time"):
        flywheel.tornado(model, {"a": (0, 10)}, "Level")


def test_tornado_on_the_flywheel_levers(model):
    t = flywheel.tornado(SCENARIOS / "shock_add_overlays.toml", SCENARIOS / "ranges" / "levers.toml",
                         "final Target Attainment")  # fmt: skip
    # more overlays after the shock make attainment worse; more deep dives make it better
    assert t.table.loc["Overlay Response After", "outcome_high"] < t.table.loc["Overlay Response After", "outcome_low"]
    assert t.table.loc["Deep Dive Share After", "outcome_high"] > t.table.loc["Deep Dive Share After", "outcome_low"]
    assert t.table["swing"].is_monotonic_decreasing


VARIABLES = ["Trust", "Target Attainment", "Final Sales"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Trust", "Trust"),
        ("trust at 60", "Trust at month 60"),
        ("minimum Trust", "min Trust"),
        ("Final Sales", "Final Sales"),
        ("final Final Sales", "final Final Sales"),
        ("first time Target Attainment below 90%", "first time Target Attainment below 0.9"),
        ('cumulative "Trust"', "cumulative Trust"),
    ],
)
def test_outcome_words(text, label):
    assert parse_quantity(text, VARIABLES).label == label


def test_outcomes_evaluate_to_numbers():
    times = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([[1.0, 0.5, 0.2, 0.4], [1.0, 1.0, 1.0, 1.0]])
    q = lambda text: parse_quantity(text, VARIABLES).evaluate(values, times)  # noqa: E731
    assert q("final Trust").tolist() == [0.4, 1.0]
    assert q("min Trust").tolist() == [0.2, 1.0]
    assert q("cumulative Trust").tolist() == [pytest.approx(0.75 + 0.35 + 0.3), 3.0]
    assert q("Trust at 2").tolist() == [0.2, 1.0]
    first = q("first time Trust below 0.3")
    assert first[0] == 2.0 and np.isnan(first[1])
    holds, defined = parse_condition("min Trust < 0.3 and final Trust > 0.3", VARIABLES).evaluate({"Trust": values}, times)
    assert holds.tolist() == [True, False] and defined.all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Trust", "expected a comparison"),
        ("Trust >= 0.5 at", "expected a number for the time"),
        ("Trsut at 5 > 1", 'did you mean "Trust"'),
        ("final Trust > 0.5 xor final Trust < 1", "expected 'and', 'or' or the end"),
        ("final Trust >", "expected a number"),
        ("__import__('os') > 1", "is not a variable"),
    ],
)
def test_bad_conditions(text, message):
    with pytest.raises(ParameterError, match=message):
        parse_condition(text, VARIABLES)
