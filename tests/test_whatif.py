"""The what-if engine behind the page (no browser): controls from the profile, two plans facing one world,
scenario files in and out, uncertainty bands and goal chances, the export grid, plain-language takeaways."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flywheel
from flywheel.analysis.whatif import Plan, WhatIf
from flywheel.analysis.whatif_grid import grid_values, rank_controls, run_grid
from flywheel.analysis.whatif_uncertainty import DOCUMENTED, Goal, goal_chances, page_ranges, plan_uncertainty
from flywheel.errors import ScenarioError
from flywheel.present.takeaways import format_value, plan_sentences, takeaways
from flywheel.scenarios import load_profile, load_scenario
from flywheel.scenarios.writing import scenario_from_bytes, scenario_text

from .conftest import REPO_ROOT
from .whatif_models import team_scenario, write_team

BUSINESS = REPO_ROOT / "benchmarks" / "business_model.mdl"


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return write_team(tmp_path)


@pytest.fixture
def team_whatif(team) -> WhatIf:
    return WhatIf(flywheel.load_model(team))


# ------------------------------------------------------------------------------------------- controls


def test_each_lever_gives_three_sliders_and_each_assumption_one(team_whatif) -> None:
    controls = {c.constant: c for c in team_whatif.controls}
    assert [c.role for c in team_whatif.controls] == ["plan", "switch", "today", "assumption", "assumption"]
    plan = controls["Coaching After"]
    assert (plan.low, plan.high, plan.step, plan.default, plan.units) == (0.0, 1.0, 0.05, 0.2, "Dmnl")
    assert plan.label == "Coaching share" and plan.group == "Coaching" and plan.dimension == "culture"
    switch = controls["Coaching Switch Month"]
    assert (switch.low, switch.high, switch.step, switch.default) == (0.0, 40.0, 1.0, 5.0)
    assert controls["Shock Size"].high == 0.5 and controls["Shock Month"].default == 10


def test_the_flywheel_page_offers_every_profile_lever_within_its_documented_range(model) -> None:
    whatif = WhatIf(model)
    profile = load_profile(model)
    plans = [c for c in whatif.controls if c.role == "plan"]
    assert [c.group for c in plans] == profile.lever_names
    for control in whatif.controls:
        low, high = model.variables[control.constant].limits
        assert low <= control.low <= control.default <= control.high <= high, control.constant
        assert control.documentation and control.units


def test_a_model_without_a_profile_gets_its_ranged_constants_as_sliders() -> None:
    whatif = WhatIf(flywheel.load_model(BUSINESS))
    assert whatif.controls and all(c.role == "assumption" for c in whatif.controls)
    first = whatif.controls[0]
    assert (first.constant, first.low, first.high) == ("Prospect Lifetime", 1.0, 24.0)
    run = whatif.run(whatif.plan())
    assert set(whatif.columns) <= set(run.series) and len(run.times) == 121


# ---------------------------------------------------------------------------------------------- plans


def test_the_alternative_faces_your_plans_world_and_carries_on_where_its_file_is_silent(team, team_whatif) -> None:
    folder = team.parent
    mine = team_whatif.plan(None).with_values({"Shock Size": 0.3, "Coaching Before": 0.4, "Coaching After": 0.9})
    quiet = load_scenario(team_scenario(folder, "quiet", '[parameters]\n"Shock Size" = 0.1\n'), team_whatif.model)
    shared = team_whatif.alternative(quiet, mine)
    assert shared.params["Shock Size"] == 0.3  # the world of your plan, not the file's 0.1
    assert shared.params["Coaching After"] == 0.4  # the file changes no lever: it carries on as today
    own = team_whatif.alternative(quiet, mine, shared=False)
    assert own.params["Shock Size"] == 0.1 and "Coaching After" not in own.params
    coach = load_scenario(team_scenario(folder, "coach", "[policy.after]\nCoaching = 1\n"), team_whatif.model)
    assert team_whatif.alternative(coach, mine).params["Coaching After"] == 1.0


def test_a_plan_runs_like_the_scenario_it_came_from(team, team_whatif) -> None:
    path = team_scenario(team.parent, "coach", '[parameters]\n"Shock Size" = 0.2\n[policy.after]\nCoaching = 0.8\n'
                         "[policy.switch]\nCoaching = 12\n")  # fmt: skip
    scenario = load_scenario(path)
    plan = team_whatif.plan(scenario)
    assert plan.params["Coaching After"] == 0.8 and plan.params["Coaching Switch Month"] == 12
    run = team_whatif.run(plan)
    reference = flywheel.simulate(scenario.spec(team_whatif.model))
    assert np.array_equal(run.series["Output"], reference["Output"].values[0])
    assert team_whatif.first_switch(plan) == 12 and team_whatif.shock_month(plan) == 10


def test_more_coaching_in_your_plan_lifts_morale_after_the_switch_only(team_whatif) -> None:
    base = team_whatif.plan(None)
    more = team_whatif.run(base.with_values({"Coaching After": 1.0}))
    same = team_whatif.run(base)
    times = more.times
    before = times < 5
    assert np.array_equal(more.series["Morale"][before], same.series["Morale"][before])
    assert more.series["Morale"][-1] > same.series["Morale"][-1] + 0.3


# --------------------------------------------------------------------------------- scenario files


@settings(max_examples=15, deadline=None)
@given(coaching=st.floats(0, 1), month=st.integers(0, 40), shock=st.floats(0, 0.5), before=st.floats(0, 1))
def test_downloaded_settings_read_back_to_the_same_run(tmp_path_factory, coaching, month, shock, before) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    model = flywheel.load_model(write_team(folder))
    whatif = WhatIf(model)
    plan = whatif.plan(None).with_values({"Coaching After": coaching, "Coaching Switch Month": month,
                                          "Shock Size": shock, "Coaching Before": before})  # fmt: skip
    path = folder / "mine.toml"
    path.write_text(scenario_text("Mine", model, plan.params), encoding="utf-8")
    again = whatif.plan(load_scenario(path))
    assert again.params == pytest.approx(plan.params, rel=0, abs=0)
    assert np.array_equal(whatif.run(again).series["Output"], whatif.run(plan).series["Output"])


def test_the_flywheel_plan_file_spells_out_every_lever(model, tmp_path) -> None:
    whatif = WhatIf(model)
    text = scenario_text("Mine", model, whatif.plan(None).params, description='Say "hi"')
    for table in ("[policy.before]", "[policy.after]", "[policy.switch]", "[parameters]"):
        assert table in text
    for lever in load_profile(model).lever_names:
        assert text.count(f'"{lever}" = ') == 3
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path).description == 'Say "hi"'


@pytest.mark.parametrize(
    "data, message",
    [
        (b'title = "x"\nmodel = "team.mdl"\n[policy.after]\nCoachin = 1\n', 'broken.toml: [policy.after] "Coachin": unknown lever; did you mean "Coaching"?'),
        (b'title = "x"\nmodel = "team.mdl"\n[parameters]\n"Shock Size" = 2\n', "broken.toml: [parameters] \"Shock Size\" = 2 is outside its range [0, 0.5]"),
        (b"title = x\n", "broken.toml: invalid TOML"),
        (b'title = "x"\nmodel = "../models/other.mdl"\n', 'broken.toml: model = "../models/other.mdl": this page runs team.mdl'),
        (b"\xff\xfe", "broken.toml: not UTF-8 text"),
    ],
)
def test_a_broken_upload_is_one_line_naming_the_uploaded_file(team, data, message) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_bytes(data, "broken.toml", flywheel.load_model(team))
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text and "flywheel-upload" not in text


def test_an_upload_for_the_page_model_from_another_folder_loads(team) -> None:
    data = b'title = "Coach"\nmodel = "C:\\\\models\\\\team.mdl"\n[policy.after]\nCoaching = 0.7\n'
    scenario = scenario_from_bytes(data, "coach.toml", flywheel.load_model(team))
    assert scenario.params["Coaching After"] == 0.7 and scenario.title == "Coach"


# ------------------------------------------------------------------------------------------ uncertainty


def test_documented_uncertainty_leaves_out_what_the_page_sets(model) -> None:
    whatif = WhatIf(model)
    ranges = page_ranges(whatif)
    assert ranges.source == DOCUMENTED and len(ranges) >= 10
    names = set(ranges.names)
    assert not names & whatif.policy_constants and not names & {c.constant for c in whatif.controls}
    for name in names:  # a band around the value, never a switch (0/1) or a policy space from 0
        d = ranges[name]
        assert 0 < d.low < model.variables[name].default < d.high <= 10 * d.low


def test_both_plans_get_the_same_draws_and_the_chance_comes_with_its_interval(team_whatif) -> None:
    ranges = page_ranges(team_whatif)
    assert set(ranges.names) == {"Coaching Effect", "Adjustment Time", "Capacity"}
    mine = team_whatif.plan(None)
    better = Plan("alternative", "More coaching", {**mine.params, "Coaching After": 1.0})
    result = plan_uncertainty(team_whatif, [mine, better], ranges, n=300, seed=4)
    again = plan_uncertainty(team_whatif, [mine, better], ranges, n=300, seed=4)
    assert np.array_equal(result.dataset["Output"].values, again.dataset["Output"].values)
    assert result.scenarios == ("your_plan", "alternative") and result.n == 300
    chances = goal_chances(result, Goal("Attainment", 1.0, 30))
    low, high = chances["your_plan"], chances["alternative"]
    assert low.p < high.p and high.low <= high.p <= high.high and high.n == 300
    finals = result.dataset["Attainment"].values[:, :, -1]
    assert high.successes == int(np.sum(result.dataset["Attainment"].sel(time=30).values[1] >= 1.0))
    assert np.all(finals[1] >= finals[0] - 1e-12)  # more coaching never hurts, draw by draw


# ------------------------------------------------------------------------------------------------ grid


def test_grid_values_keep_the_plans_values_and_stay_on_the_sliders_steps(team_whatif) -> None:
    control = team_whatif.control_index["Coaching After"]
    values = grid_values(control, [0.2, 0.65], 5)
    assert 0.2 in values and 0.65 in values and len(values) == 5
    assert all(math.isclose(round(v / 0.05) * 0.05, v) for v in values) and min(values) == 0


def test_the_export_grid_is_the_live_runs_at_its_points(model) -> None:
    whatif = WhatIf(model, load_scenario(REPO_ROOT / "scenarios" / "shock_add_overlays.toml").simulation)
    plan = whatif.plan(load_scenario(REPO_ROOT / "scenarios" / "shock_add_overlays.toml"))
    ranked = rank_controls(whatif, plan)
    assert len(ranked) == len(load_profile(model).levers) and ranked[0][1] >= ranked[-1][1] > 0
    grid = run_grid(whatif, plan, max_runs=90, max_controls=3)
    assert grid.size <= 90 and len(grid.controls) == 3
    for index in (0, grid.size // 2, grid.size - 1):
        live = whatif.run(plan.with_values(grid.point(index)))
        for variable, values in live.series.items():
            assert np.array_equal(grid.series[variable][index], values), variable


# ------------------------------------------------------------------------------------------- takeaways


def _frame(values: dict[str, list[float]]):
    import pandas as pd

    n = len(next(iter(values.values())))
    return pd.DataFrame(values, index=pd.Index(np.arange(n, dtype=float) * 12, name="time"))


def test_takeaways_say_what_moved_by_a_whole_factor_and_from_where_to_where(team_whatif) -> None:
    profile = team_whatif.profile
    run = _frame({"Attainment": [0.94] * 6, "Morale": [0.41, 0.40, 0.35, 0.30, 0.28, 0.27],
                  "Output": [10, 14, 25, 31, 33, 34]})  # fmt: skip
    phrases = plan_sentences(run, profile, "month")
    assert phrases == ["widgets triple by month 36", "morale falls from 41% to 27%"]


def test_takeaways_compare_the_plans_on_the_goal_and_the_first_miss(team_whatif) -> None:
    profile = team_whatif.profile
    mine = _frame({"Attainment": [0.94, 0.91, 0.85, 0.7], "Morale": [0.5] * 4, "Output": [47, 45, 42, 35]})
    other = _frame({"Attainment": [0.94, 0.96, 0.98, 0.99], "Morale": [0.5] * 4, "Output": [47, 48, 49, 49.5]})
    items = takeaways({"a": mine, "b": other}, profile, {"a": "your plan", "b": "the alternative"}, "Month")
    texts = [t.text for t in items]
    assert "By month 36, attainment is 70% under your plan and 99% under the alternative." in texts
    assert "Attainment first goes below 90% in month 24 under your plan; never under the alternative." in texts
    assert [t.plan for t in items][:1] == ["a"]


@pytest.mark.parametrize("value, percent, text", [(0.412, True, "41%"), (3.84, False, "3.8"), (0.097, False, "0.097"),
                                                   (1234.5, False, "1,234"), (55.2, False, "55")])  # fmt: skip
def test_numbers_read_as_people_say_them(value, percent, text) -> None:
    assert format_value(value, percent) == text
