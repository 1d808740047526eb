"""Model profiles: views know a model only through its profile (or defaults made from the model itself),
and scenarios switch its levers, each at its own month."""

from __future__ import annotations

import json

import pytest

import flywheel
from flywheel.errors import ScenarioError
from flywheel.scenarios import load_profile, load_scenario, run_scenario

from .model_text import equation, write_model

BODY = (
    equation("Level", "INTEG(Push - Level / Drain Time, 0)", "units")
    + equation("Push", "IF THEN ELSE(Time >= Push Switch Month, Push After, Push Before)", "units/Month")
    + equation("Push Before", "1", "units/Month [0,10]", "Push until the switch.")
    + equation("Push After", "1", "units/Month [0,10]", "Push from the switch on.")
    + equation("Push Switch Month", "Policy Switch Month", "Month [0,50]")
    + equation("Drain Time", "IF THEN ELSE(Time >= Policy Switch Month, Drain Time After, Drain Time Before)", "Month")
    + equation("Drain Time Before", "5", "Month [1,20]")
    + equation("Drain Time After", "5", "Month [1,20]")
    + equation("Policy Switch Month", "10", "Month [0,50]")
    + equation("Noise", "0", "units [0,1]")
)

PROFILE = """
[model]
title = "Tank"
time_unit = "Month"
story = "A tank."

[switch]
default = "Policy Switch Month"

[[lever]]
name = "Push"
switch = "Push Switch Month"
label = "How hard we push"
dimension = "Strategy"

[[lever]]
name = "Drain Time"

[[panel]]
variable = "Level"
label = "Level in the tank"
reference = 5

[[measure]]
name = "final_level"
label = "Final level"
variable = "Level"
"""


@pytest.fixture
def tank(tmp_path):
    path = write_model(tmp_path, BODY, name="tank.mdl", final=40, dt=0.25)
    (tmp_path / "tank.profile.toml").write_text(PROFILE, encoding="utf-8")
    return path


def scenario(tmp_path, tank, body: str, name: str = "s"):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'title = "T"\nmodel = {json.dumps(str(tank))}\n{body}', encoding="utf-8")
    return load_scenario(path)


def test_the_profile_names_levers_panels_and_measures(tank) -> None:
    profile = load_profile(flywheel.load_model(tank))
    assert profile.title == "Tank" and profile.switch_default == "Policy Switch Month"
    push = profile.lever("Push")
    assert (push.before, push.after, push.switch, push.dimension) == ("Push Before", "Push After", "Push Switch Month", "Strategy")
    assert push.explain == "Push from the switch on."  # from the model's documentation
    assert profile.lever("Drain Time").switch is None
    assert [p.variable for p in profile.panels] == ["Level"] and profile.panels[0].reference == 5


def test_each_lever_switches_at_its_own_month(tmp_path, tank) -> None:
    s = scenario(tmp_path, tank, '[policy]\nswitch_month = 20\n[policy.after]\n"Push" = 3\n"Drain Time" = 2\n[policy.switch]\n"Push" = 5\n')
    assert s.params == {"Policy Switch Month": 20.0, "Push After": 3.0, "Drain Time After": 2.0, "Push Switch Month": 5.0}
    assert s.switch_months == {"Push": 5.0, "Drain Time": 20.0} and s.switch_month == 5.0
    df = run_scenario(s)
    assert df.loc[4, "Push"] == 1 and df.loc[6, "Push"] == 3
    assert df.loc[19, "Drain Time"] == 5 and df.loc[21, "Drain Time"] == 2


@pytest.mark.parametrize(
    "body, message",
    [
        ('[policy.switch]\n"Drain Time" = 5\n', '"Drain Time": this lever has no switch month of its own'),
        ('[policy.switch]\n"Push" = 99\n', '[policy.switch] "Push" = 99 is outside its range [0, 50]'),
        ('[policy.after]\n"Noise" = 1\n', '[policy.after] "Noise": unknown lever; levers: Push, Drain Time'),
        ("[policy]\nswitch = 3\n", "[policy] switch must be a table"),
    ],
)
def test_lever_mistakes_are_one_line(tmp_path, tank, body, message) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario(tmp_path, tank, body)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "change, message",
    [
        (('variable = "Level"', 'variable = "Levle"'), '[[panel]] 1 variable "Levle": the model has no such variable; did you mean "Level"?'),
        (('name = "Drain Time"', 'name = "Drain"'), '[[lever]] 2 before "Drain Before"'),
        (('statistic = "final"', 'statistic = "median"'), "unknown"),
        (("[[panel]]", "[[panels]]"), '"panels": unknown key'),
    ],
)
def test_a_broken_profile_names_the_file_and_the_item(tmp_path, tank, change, message) -> None:
    text = PROFILE.replace(*change) if change[0] in PROFILE else PROFILE.replace('variable = "Level"\n', f'variable = "Level"\n{change[1]}\n', 1)
    (tmp_path / "tank.profile.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_profile(flywheel.load_model(tank))
    assert str(info.value).startswith(str(tmp_path / "tank.profile.toml")) and message in str(info.value)


def test_a_model_without_a_profile_gets_defaults_from_itself(tmp_path) -> None:
    path = write_model(tmp_path, BODY, name="bare.mdl", final=40)
    model = flywheel.load_model(path)
    profile = load_profile(model)
    assert profile.title == "bare" and profile.path is None
    assert [p.variable for p in profile.panels] == ["Level"]
    assert [lever.name for lever in profile.levers] == ["Push", "Drain Time"]
    assert profile.lever("Push").switch == "Push Switch Month"
    assert [m.variable for m in profile.measures] == ["Level"]


def test_compare_works_for_any_model_through_its_profile(tmp_path, tank, cli) -> None:
    a = tmp_path / "a.toml"
    a.write_text(f'title = "Steady"\nmodel = {json.dumps(str(tank))}\n', encoding="utf-8")
    b = tmp_path / "b.toml"
    b.write_text(f'title = "Push"\nmodel = {json.dumps(str(tank))}\n[policy.after]\n"Push" = 3\n', encoding="utf-8")
    proc = cli("compare", a, b, "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert "Final level" in proc.stdout and "Steady" in proc.stdout
    assert (tmp_path / "out" / "comparison.png").stat().st_size > 10_000
