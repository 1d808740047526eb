"""Scenario files: parsing, validation against the real model, lever expansion, running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flywheel.errors import ScenarioError
from flywheel.scenarios import (
    Scenario,
    SimulationSettings,
    list_scenarios,
    load_profile,
    load_scenario,
    run_scenario,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = REPO_ROOT / "models" / "evil_sales_flywheel.mdl"

# --------------------------------------------------------------------------------------------------
# Valid files


def test_full_scenario_expands_levers_and_reads_everything(write_scenario):
    path = write_scenario(
        """
        description = \"\"\"Shock at 24, then deep dives.\"\"\"

        [parameters]
        "Market Shock Size" = 0.1
        "Market Shock Month" = 24

        [policy]
        switch_month = 30
        [policy.before]
        "Overlay Response" = 0.2
        "Review Period" = 6
        [policy.after]
        "Overlay Response" = 0.0
        "Deep Dive Share" = 0.3

        [simulation]
        final_time = 60
        time_step = 0.125
        saveper = 0.5
        method = "rk4"
        """,
        name="shock_then_deep_dives",
        title="Shock, then deep dives",
    )
    s = load_scenario(path)
    assert isinstance(s, Scenario)
    assert s.name == "shock_then_deep_dives"
    assert s.title == "Shock, then deep dives"
    assert s.description == "Shock at 24, then deep dives."
    assert s.model_path == MODEL_PATH.resolve()
    assert s.params == {
        "Market Shock Size": 0.1,
        "Market Shock Month": 24.0,
        "Policy Switch Month": 30.0,
        "Overlay Response Before": 0.2,
        "Overlay Response After": 0.0,
        # before-only lever: the after value follows the before value from the same file
        "Review Period Before": 6.0,
        "Review Period After": 6.0,
        # after-only lever: "Before" keeps the model default (not set)
        "Deep Dive Share After": 0.3,
    }
    assert s.switch_month == 30.0
    assert s.shock_month == 24.0
    assert s.simulation == SimulationSettings(final_time=60.0, time_step=0.125, saveper=0.5, method="rk4")


def test_minimal_scenario_uses_model_defaults(write_scenario, model):
    s = load_scenario(write_scenario(""))
    assert s.params == {}
    assert s.description == ""
    assert s.simulation == SimulationSettings()
    # The model's default shock size is 0: no shock to mark; no lever differs: no switch.
    assert model.variables["Market Shock Size"].default == 0
    assert s.shock_month is None
    assert s.switch_month is None


def test_shock_month_defaults_to_the_model_value(write_scenario, model):
    s = load_scenario(write_scenario('[parameters]\n"Market Shock Size" = 0.1\n'))
    assert s.shock_month == model.variables["Market Shock Month"].default


def test_switch_month_defaults_to_the_model_value_when_a_lever_switches(write_scenario, model):
    s = load_scenario(write_scenario('[policy.after]\n"Deep Dive Share" = 0.3\n'))
    assert s.switch_month == model.variables["Policy Switch Month"].default
    assert s.params == {"Deep Dive Share After": 0.3}


def test_model_path_is_relative_to_the_scenario_file(tmp_path):
    folder = tmp_path / "deep" / "er"
    folder.mkdir(parents=True)
    rel = os.path.relpath(MODEL_PATH, folder)
    path = folder / "rel.toml"
    path.write_text(f'title = "Relative"\nmodel = "{rel}"\n', encoding="utf-8")
    assert load_scenario(path).model_path == MODEL_PATH.resolve()


def test_levers_of_the_real_model(model):
    levers = load_profile(model).levers
    assert {"Overlay Response", "Deep Dive Share"} <= {lever.name for lever in levers}
    for lever in levers:
        assert model.variables[lever.before].kind == "constant"
        assert model.variables[lever.after].kind == "constant"


# --------------------------------------------------------------------------------------------------
# Every way a file can be wrong: one ScenarioError line naming the file and the key


BAD = {
    "unknown_top_key": ("paramters = 1\n", ['"paramters"', "unknown key", 'did you mean "parameters"']),
    "unknown_policy_key": ("[policy]\nswitchmonth = 3\n", ["[policy]", '"switchmonth"', 'did you mean "switch_month"']),
    "policy_switch_not_a_table": ("[policy]\nswitch = 3\n", ["[policy] switch must be a table ([policy.switch])"]),
    "unknown_simulation_key": ("[simulation]\nfinal = 3\n", ["[simulation]", '"final"', "final_time"]),
    "unknown_variable": ('[parameters]\n"Trsut" = 0.5\n', ['[parameters] "Trsut"', 'did you mean "Trust"?']),
    "wrong_case": ('[parameters]\n"market shock size" = 0.1\n', ['did you mean "Market Shock Size"?']),
    "string_for_number": (
        '[parameters]\n"Market Shock Size" = "0.1"\n',
        ['[parameters] "Market Shock Size"', "expected a number, got a string"],
    ),
    "bool_for_number": ('[parameters]\n"Market Shock Size" = true\n', ["expected a number, got a boolean"]),
    "nan": ('[parameters]\n"Market Shock Size" = nan\n', ['"Market Shock Size"', "finite"]),
    "parameters_not_a_table": ("parameters = 3\n", ["parameters", "must be a table"]),
    "out_of_range": (
        '[parameters]\n"Market Shock Size" = 1.5\n',
        ['"Market Shock Size" = 1.5', "outside its range [0, 1]"],
    ),
    "below_range": ('[parameters]\n"Market Shock Size" = -0.1\n', ["outside its range [0, 1]"]),
    "lever_out_of_range": (
        '[policy.after]\n"Deep Dive Share" = 1.7\n',
        ['[policy.after] "Deep Dive Share" = 1.7 is outside its range ['],
    ),
    "unknown_lever": (
        '[policy.before]\n"Overlay Respons" = 0.1\n',
        ["[policy.before]", 'did you mean "Overlay Response"?'],
    ),
    "lever_string": (
        '[policy.after]\n"Overlay Response" = "none"\n',
        ['[policy.after] "Overlay Response"', "expected a number"],
    ),
    "switch_month_string": (
        '[policy]\nswitch_month = "12"\n',
        ["[policy] switch_month", "expected a number"],
    ),
    "switch_month_range": (
        "[policy]\nswitch_month = 5000\n",
        ["[policy] switch_month = 5000", "outside its range ["],
    ),
    "stock": ('[parameters]\n"Trust" = 0.5\n', ['"Trust"', "stock", "only constants"]),
    "control": ('[parameters]\n"FINAL TIME" = 60\n', ['"FINAL TIME"', "[simulation] final_time"]),
    "negative_time_step": ("[simulation]\ntime_step = -1\n", ["[simulation] time_step", "greater than 0"]),
    "zero_final_time": ("[simulation]\nfinal_time = 0\n", ["[simulation] final_time", "greater than 0"]),
    "time_step_range": (
        "[simulation]\ntime_step = 50\n",
        ["[simulation] time_step = 50", "outside its range"],
    ),
    "saveper_below_step": (
        "[simulation]\nsaveper = 0.125\ntime_step = 0.5\n",
        ["[simulation] saveper", "whole multiple of time_step (0.5)"],
    ),
    "unknown_method": (
        '[simulation]\nmethod = "RK4"\n',
        ['method = "RK4"', "unknown method", 'did you mean "rk4"'],
    ),
    "method_not_string": ("[simulation]\nmethod = 4\n", ["[simulation] method", "expected a string"]),
    "lever_set_twice": (
        '[parameters]\n"Overlay Response Before" = 0.1\n[policy.before]\n"Overlay Response" = 0.2\n',
        ['"Overlay Response Before"', "[parameters] already sets"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_gives_one_line_naming_file_and_key(write_scenario, case):
    body, expected = BAD[case]
    path = write_scenario(body, name=case)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_range_message_quotes_the_documented_range(write_scenario, model):
    lo, hi = model.variables["Deep Dive Share After"].limits
    assert lo is not None and hi is not None
    path = write_scenario(f'[policy.after]\n"Deep Dive Share" = {hi + 1}\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f'{path}: [policy.after] "Deep Dive Share" = {hi + 1:g} is outside its range [{lo:g}, {hi:g}]'
    )
    # The bounds themselves are allowed.
    assert load_scenario(
        write_scenario(f'[policy.after]\n"Deep Dive Share" = {hi}\n', name="edge")
    ).params == {"Deep Dive Share After": hi}


def test_toml_syntax_error_names_file_and_line(write_scenario):
    path = write_scenario('[parameters\n"Trust" = 1\n', name="syntax")
    with pytest.raises(ScenarioError, match=r"syntax\.toml: invalid TOML: .*line 3"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'model = "{MODEL_PATH}"\n', 'missing required key "title"'),
        ('title = "No model"\n', 'missing required key "model"'),
        (f'title = 3\nmodel = "{MODEL_PATH}"\n', "title = 3: expected a string, got a number"),
        ('title = "x"\nmodel = "no/such/model.mdl"\n', 'model = "no/such/model.mdl": no such file'),
    ],
)
def test_missing_or_wrong_top_level_keys(write_scenario, text, expected):
    path = write_scenario(text, header=False)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_missing_file_and_non_utf8_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope\.toml: no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'title = "\xff\xfe"\n')
    with pytest.raises(ScenarioError, match=r"binary\.toml: not UTF-8"):
        load_scenario(binary)


def test_a_key_with_a_newline_stays_on_one_line(write_scenario):
    path = write_scenario('[parameters]\n"Tr\\nust" = 0.5\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "\n" not in str(info.value)
    assert '"Tr\\nust"' in str(info.value)


# --------------------------------------------------------------------------------------------------
# Running


def test_run_scenario_applies_params_levers_and_time_settings(write_scenario):
    status_quo = load_scenario(write_scenario("[simulation]\nfinal_time = 60\n", name="status_quo"))
    shock = load_scenario(
        write_scenario(
            """
            [parameters]
            "Market Shock Size" = 0.2
            [policy]
            switch_month = 24
            [policy.after]
            "Deep Dive Share" = 0.3
            [simulation]
            final_time = 60
            saveper = 2
            """,
            name="shock",
        )
    )
    base = run_scenario(status_quo)
    df = run_scenario(shock)

    assert base.index.name == "time"
    assert base.index[0] == 0 and base.index[-1] == 60
    assert list(df.index) == [float(t) for t in range(0, 61, 2)]
    # The lever is Before until the switch month and After from it on.
    share = df["Deep Dive Share"]
    assert share.loc[22] == pytest.approx(base["Deep Dive Share"].loc[22])
    assert share.loc[24] == pytest.approx(0.3)
    assert share.loc[60] == pytest.approx(0.3)
    # The status quo starts in equilibrium; a 20 % market shock at month 12 lowers attainment.
    assert base["Target Attainment"].iloc[-1] == pytest.approx(base["Target Attainment"].iloc[0], rel=1e-3)
    assert df["Target Attainment"].loc[14] < base["Target Attainment"].loc[14] - 0.05


def test_list_scenarios_reports_titles_and_broken_files(tmp_path, write_scenario):
    write_scenario("", name="b_good", title="A good one")
    (tmp_path / "a_broken.toml").write_text("title = \n", encoding="utf-8")
    write_scenario('[parameters]\n"Trsut" = 1\n', name="c_typo", title="Typo")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")

    quick = list_scenarios(tmp_path)
    assert [s.name for s in quick] == ["a_broken", "b_good", "c_typo"]
    assert quick[1].title == "A good one" and quick[1].error is None
    assert "a_broken.toml: invalid TOML" in quick[0].error
    assert quick[2].error is None  # names are only checked against the model with validate=True

    checked = list_scenarios(tmp_path, validate=True)
    assert checked[1].error is None
    assert 'did you mean "Trust"' in checked[2].error

    with pytest.raises(ScenarioError, match="no such scenario folder"):
        list_scenarios(tmp_path / "missing")


def test_the_shipped_scenarios_are_valid():
    folder = REPO_ROOT / "scenarios"
    listings = list_scenarios(folder, validate=True)
    assert listings, f"no scenario files in {folder}"
    broken = {s.name: s.error for s in listings if s.error}
    assert not broken
    for item in listings:
        assert item.title


def test_scenario_paths_are_kept_as_given(write_scenario, tmp_path):
    path = write_scenario("")
    s = load_scenario(Path(os.path.relpath(path)))
    assert s.path == Path(os.path.relpath(path))
    assert s.name == "scenario"
