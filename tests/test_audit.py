"""The sales-ecosystem audit: the questionnaire and mapping against the seeds and the model, the position,
the one-point shift ranking against runs done by hand, the path over dated files, bad input, and
``flywheel audit`` as a user runs it."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flywheel.analysis import audit
from flywheel.errors import AuditError

from .conftest import MODEL_PATH, REPO_ROOT
from .test_cli import assert_one_line_error, files_in

MAPPING = REPO_ROOT / "models" / "audit_mapping.toml"
EXAMPLES = sorted((REPO_ROOT / "examples" / "audit").glob("*.toml"))
SEEDS = Path("/work/shared/seeds")


@pytest.fixture(scope="module")
def mapping(model):
    return audit.load_mapping(MAPPING, model)


def uniform(mapping, score: float, **overrides: float) -> audit.Answers:
    """Every question answered ``score``; ``overrides`` by question id with "." written as "__"."""
    data = {q: score for q in mapping.questions}
    data.update({k.replace("__", "."): v for k, v in overrides.items()})
    return audit.answers_from_dict(data, mapping, "test")


# ------------------------------------------------------------------------------------------- questionnaire


def test_about_twenty_questions_in_six_dimensions_each_feeding_the_model(mapping):
    assert 18 <= len(mapping.questions) <= 24
    assert [d.id for d in mapping.dimensions] == ["strategy", "structure", "culture", "kpis", "alignment", "effectiveness"]
    used = {q for item in mapping.inputs for q in item.questions}
    assert used == set(mapping.questions)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed texts are not here")
def test_question_texts_come_from_the_seeds_checklists(mapping):
    texts = {p.name[:3]: p.read_text(encoding="utf-8").lower() for p in SEEDS.glob("*.txt")}
    stop = {"the", "and", "or", "a", "an", "of", "to", "in", "is", "are", "do", "you", "your", "how", "what", "with",
            "it", "that", "not", "just", "when", "from", "time", "have", "has", "they", "them", "their", "does"}
    for q in mapping.questions.values():
        sources = re.findall(r"\d{3}", q.source)
        assert sources, q.id
        seed = " ".join(texts[s] for s in sources)
        words = [w for w in re.findall(r"[a-z]+", q.text.lower()) if w not in stop and len(w) > 2]
        found = [w for w in words if w in seed or w.rstrip("s") in seed]
        assert len(found) >= 0.85 * len(words), (q.id, sorted(set(words) - set(found)))


def test_every_mapped_value_is_the_model_default_at_three_and_inside_its_range(mapping, model):
    for item in mapping.inputs:
        for name in item.constants:
            info = model.variables[name]
            assert item.values[2] == pytest.approx(info.default), name
            low, high = info.limits
            assert all(low <= v <= high for v in item.values), name


def test_interpolation_between_the_values_at_the_answers(mapping):
    item = next(i for i in mapping.inputs if i.target == "Deep Dive Share")
    assert [item.value(s) for s in (1, 2, 3, 4, 5)] == list(item.values)
    assert item.value(3.5) == pytest.approx((item.values[2] + item.values[3]) / 2)
    assert item.value(0.2) == item.values[0] and item.value(7) == item.values[4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1, 5), min_size=21, max_size=21))
def test_any_answers_give_scores_in_1_5_and_inputs_inside_the_documented_ranges(mapping, model, values):
    ids = list(mapping.questions)
    answers = audit.answers_from_dict(dict(zip(ids, values, strict=False)), mapping)
    assert all(1 <= s <= 5 for s in mapping.dimension_scores(answers).values())
    for item in mapping.inputs:
        low, high = model.variables[item.constants[0]].limits
        assert low <= mapping.input_values(answers)[item.target] <= high


def test_the_template_is_an_answers_file_of_threes_with_every_question(mapping, tmp_path):
    text = audit.answers_template(mapping)
    for q in mapping.questions.values():
        assert q.text in text and f"{q.key} = 3" in text
    path = tmp_path / "answers.toml"
    path.write_text(text)
    answers = audit.load_answers(path, mapping)
    assert set(answers.scores.values()) == {3.0} and answers.date is not None


# ------------------------------------------------------------------------------------------- position


def test_a_team_answering_3_everywhere_sits_at_the_status_quo(mapping, model):
    pos = audit.position(mapping, uniform(mapping, 3))
    for name in model.stocks:
        assert pos.start[name] == pytest.approx(pos.status_quo[name], abs=1e-12), name
    assert pos.start["Alignment of Expectations"] == pytest.approx(0.289, abs=0.001)  # seed 003: ~70 % unknown
    assert all(pos.params[n] == pytest.approx(model.variables[n].default) for n in pos.params)


def test_better_answers_put_the_team_in_a_better_position(mapping):
    weak, strong = (audit.position(mapping, uniform(mapping, s)) for s in (2, 4))
    sq = weak.status_quo
    for name in ("Trust", "Management Understanding", "Alignment of Expectations"):
        assert weak.start[name] < sq[name] < strong.start[name], name
    assert weak.start["Overlay Functions"] > sq["Overlay Functions"] > strong.start["Overlay Functions"]
    # the model calibrates starting attainment: every team starts at the status quo's plan attainment
    assert weak.start["Target Attainment"] == pytest.approx(strong.start["Target Attainment"], abs=1e-12)


def test_projection_current_way_equals_the_status_quo_scenario_for_threes(mapping, model):
    proj = audit.projection(mapping, uniform(mapping, 3))
    reference = model.run(dict(mapping.projection.alternative.params))
    alt = proj.results["alternative"]
    assert np.allclose(alt["Target Attainment"], reference["Target Attainment"], atol=1e-12)
    shock_only = model.run({k: v for k, v in mapping.projection.alternative.params.items() if "Market Shock" in k})
    assert np.allclose(proj.results["current"]["Trust"], shock_only["Trust"], atol=1e-12)
    assert alt["Target Attainment"].iloc[-1] > proj.results["current"]["Target Attainment"].iloc[-1] + 0.2


# ------------------------------------------------------------------------------------------- ranking


def test_raising_culture_raises_deep_dives_and_attainment_after_36_months(mapping):
    answers = uniform(mapping, 3)
    raised = answers.raised([q.id for q in mapping.dimension("culture").questions], 1)
    assert mapping.input_values(raised)["Deep Dive Share"] > mapping.input_values(answers)["Deep Dive Share"]
    ranking = audit.shift_ranking(mapping, answers)
    assert ranking.effect("culture", "Target Attainment", 36) > 0.01  # more than a percentage point
    assert ranking.effect("culture", "Trust", 36) > ranking.effect("culture", "Trust", 12) > 0
    assert ranking.table.loc["culture", "step"] == pytest.approx(1.0)
    assert list(ranking.table["rank"]) == list(range(1, 7))
    column = ranking.column("Target Attainment", 36)
    assert list(ranking.table[column]) == sorted(ranking.table[column], reverse=True)
    # from the status quo, one point of culture and one of sales-force effectiveness are within 10 %
    runner = ranking.close_call()
    assert {ranking.best, runner} == {"culture", "effectiveness"}
    assert ranking.close_call(within=0.0) is None or ranking.table[column].iloc[0] == ranking.table[column].iloc[1]


def test_the_ranking_equals_one_at_a_time_runs_by_hand(mapping, model):
    """Each dimension's effect, recomputed with plain model.run: the position's levers as Before, the raised
    values as After from month 0; a raised constant with the model's closed-form status quo held."""
    answers = audit.load_answers(EXAMPLES[0], mapping)
    ranking = audit.shift_ranking(mapping, answers)
    position = {}
    for item in mapping.inputs:
        for name in item.constants:
            position[name] = item.value(item.score(answers))
    base_run = model.run(position)
    calibration = [n for n in model.constants if model.dependencies.get(n) and not n.endswith("Switch Month")]
    held = {n: float(base_run[n].iloc[0]) for n in calibration}
    for dim in mapping.dimensions:
        raised = answers.raised([q.id for q in dim.questions], 1)
        params = dict(position)
        for item in mapping.inputs:
            value = item.value(item.score(raised))
            if item.kind == "lever":
                params[f"{item.target} After"] = value
                params[f"{item.target} Switch Month"] = 0
            else:
                params[item.target] = value
        run = model.run({**params, **held})
        for outcome in ("Target Attainment", "Trust"):
            for months in (12, 36):
                by_hand = run.loc[months, outcome] - base_run.loc[months, outcome]
                assert ranking.effect(dim.id, outcome, months) == pytest.approx(by_hand, abs=1e-12), (dim.id, outcome)


def test_a_dimension_already_at_5_cannot_be_raised(mapping):
    answers = uniform(mapping, 4, **{f"culture__{q.key}": 5 for q in mapping.dimension("culture").questions})
    ranking = audit.shift_ranking(mapping, answers)
    assert ranking.table.loc["culture", "step"] == 0
    assert ranking.effect("culture", "Target Attainment", 36) == 0
    assert ranking.table.loc["culture", "inputs"] == ""


# ------------------------------------------------------------------------------------------- path


def test_three_dated_audits_make_a_path_oldest_first(mapping):
    answers = [audit.load_answers(p, mapping) for p in reversed(EXAMPLES)]
    result = audit.run_audit(mapping, answers)
    dates = [a.date.isoformat() for a in result.answers]
    assert dates == sorted(dates) and list(result.path.table.index) == dates
    trust = [p.start["Trust"] for p in result.path.positions]
    assert trust == sorted(trust)  # the example team improves every quarter
    assert result.position is result.path.positions[-1]
    text = result.report()
    assert "structured judgement, not a measurement" in text
    assert "Which part of your sales management ecosystem" in text and "Answer: " in text


def test_several_files_need_distinct_dates(mapping, tmp_path):
    a = audit.load_answers(EXAMPLES[0], mapping)
    undated = audit.answers_from_dict({q: 3 for q in mapping.questions}, mapping, "undated.toml")
    with pytest.raises(AuditError, match=r"undated.toml: \[audit\] date: missing"):
        audit.run_audit(mapping, [a, undated])
    with pytest.raises(AuditError, match="has the same date"):
        audit.run_audit(mapping, [a, audit.load_answers(EXAMPLES[0], mapping)])


def test_every_figure_carries_the_statement_and_its_numbers(mapping):
    from flywheel.present import audit_plots
    from flywheel.scenarios import load_profile

    result = audit.run_audit(mapping, [audit.load_answers(p, mapping) for p in EXAMPLES])
    profile = load_profile(mapping.model)
    figures = [audit_plots.radar_figure(mapping, result.path.positions),
               audit_plots.trajectory_figure(result.projection, mapping.model, profile, mapping.statement),
               audit_plots.shift_figure(result.ranking, mapping, profile),
               audit_plots.path_figure(result.path, mapping, profile)]  # fmt: skip
    for fig in figures:
        footer = " ".join(fig._supxlabel.get_text().split())
        assert mapping.statement in footer
    bars = figures[2].axes[0].patches  # the ranking: one bar per dimension and horizon, best on top
    widths = sorted((b.get_width() for b in bars), reverse=True)
    best = result.ranking.table.iloc[0][result.ranking.column("Target Attainment", 36)]
    assert widths[0] == pytest.approx(100 * best)


# ------------------------------------------------------------------------------------------- bad input

GOOD = {"strategy": {"objectives_linked": 3}}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kpis.reviewed_to_learn": 6}, r"answers.toml: \[kpis\] reviewed_to_learn = 6: outside 1-5"),
        ({"kpis.reviewed_to_learn": 0.5}, r"\[kpis\] reviewed_to_learn = 0.5: outside 1-5"),
        ({"kpis.reviewed_to_learn": "4"}, r"reviewed_to_learn = \"4\": expected a number from 1 to 5"),
        ({"kpis.reviewed_to_learn": True}, r"reviewed_to_learn = true: expected a number"),
        ({"kpis.reviewed_to_lern": 3}, r"\[kpis\] \"reviewed_to_lern\": unknown question; did you mean \"reviewed_to_learn\""),
        ({"kpi": {"x": 1}}, r"\"kpi\": unknown dimension .*did you mean \"kpis\""),
        ({"audit": {"date": "March"}}, r"\[audit\] date = \"March\": expected a date"),
        ({"audit": {"teams": "x"}}, r"\[audit\] \"teams\": unknown key"),
    ],
)
def test_bad_answers_are_one_line_naming_the_file_and_item(mapping, change, message):
    data = {q: 3 for q in mapping.questions}
    data.update(change)
    with pytest.raises(AuditError, match=message) as info:
        audit.answers_from_dict(data, mapping, "answers.toml")
    assert "\n" not in str(info.value)


def test_a_missing_question_is_named_with_its_text(mapping):
    data = {q: 3 for q in mapping.questions if q != "alignment.tested_understanding"}
    with pytest.raises(AuditError, match=r"answers.toml: \[alignment\] tested_understanding: missing \(answer 1-5: Have"):
        audit.answers_from_dict(data, mapping, "answers.toml")


def mapping_copy(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """The shipped mapping with absolute paths (so it works from tmp_path) and one text replaced."""
    text = MAPPING.read_text(encoding="utf-8")
    text = text.replace('model = "evil_sales_flywheel.mdl"', f"model = {json.dumps(str(MODEL_PATH))}")
    text = text.replace('"../scenarios/', json.dumps(str(REPO_ROOT / "scenarios")).rstrip('"') + "/")
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('lever = "Deep Dive Share"', 'lever = "Deep Dive Shares"',
         r'\(lever "Deep Dive Shares"\): the model evil_sales_flywheel.mdl has no such lever; did you mean "Deep Dive Share"'),
        ('constant = "Ramp Up Time"', 'constant = "Ramp-Up Time"',
         r'constant "Ramp-Up Time"\): the model evil_sales_flywheel.mdl has no such variable; did you mean "Ramp Up Time"'),
        ('constant = "Ramp Up Time"', 'constant = "Status Quo Trust"', r"computes it from other constants"),
        ('constant = "Ramp Up Time"', 'constant = "Trust"', r"is a stock in evil_sales_flywheel.mdl"),
        ("values = [12.0, 10.5, 9.0, 8.0, 7.0]", "values = [20.0, 10.5, 9.0, 8.0, 7.0]",
         r"values\[0\] = 20 \(answer 1\) is outside the documented range \[6, 14\] of 'Ramp Up Time'"),
        ("values = [12.0, 10.5, 9.0, 8.0, 7.0]", "values = [12.0, 9.0, 8.0, 7.0]", r"values: expected 5 numbers"),
        ('questions = ["effectiveness.consistent_scale"]', 'questions = ["effectiveness.consistent_scales"]',
         r'"effectiveness.consistent_scales" is not a question of this file; did you mean'),
        ('outcomes = ["Target Attainment", "Trust"]', 'outcomes = ["Target Attainment", "Trustt"]',
         r'\[shift\] outcomes: evil_sales_flywheel.mdl has no variable "Trustt"'),
        ('alternative = "', 'alternative = "missing_', r"\[projection\] alternative = .*no such scenario file"),
        ("[audit]", "[audit]\ncolour = 1", r'\[audit\] "colour": unknown key'),
        ('questions = ["structure.cadence"]', 'questions = ["structure.tools_help_think"]',
         r'question "structure.cadence" feeds no \[\[input\]\]'),
    ],
)
def test_a_broken_mapping_is_one_line_naming_the_file_and_item(tmp_path, model, old, new, message):
    path = mapping_copy(tmp_path, old, new)
    with pytest.raises(AuditError, match=message) as info:
        audit.load_mapping(path, model)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------- the command line


def test_audit_command_writes_figures_tables_and_summary(cli, tmp_path):
    proc = cli("audit", *EXAMPLES, "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    names = files_in(tmp_path / "out")
    for stem in ("radar", "trajectory", "ranking", "path"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    assert {"ranking.csv", "positions.csv", "trajectory.csv", "summary.txt"} <= set(names)
    for name in ("ranking.csv", "positions.csv", "trajectory.csv", "summary.txt"):
        assert "structured judgement, not a measurement" in (tmp_path / "out" / name).read_text()
    ranking = pd.read_csv(tmp_path / "out" / "ranking.csv", comment="#", index_col=0)
    assert list(ranking["rank"]) == [1, 2, 3, 4, 5, 6]
    positions = pd.read_csv(tmp_path / "out" / "positions.csv", comment="#", index_col=0)
    assert list(positions.index) == ["2025-01-15", "2025-04-15", "2025-07-15"]
    assert "Your answers put you here" in proc.stdout and "Answer: " in proc.stdout


def test_the_template_round_trips_and_one_file_writes_no_path(cli, tmp_path):
    proc = cli("audit", "--template")
    assert proc.returncode == 0 and "[culture]" in proc.stdout
    (tmp_path / "answers.toml").write_text(proc.stdout)
    proc = cli("audit", tmp_path / "answers.toml", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    names = files_in(tmp_path / "out")
    assert "radar.png" in names and "path.png" not in names
    ranking = pd.read_csv(tmp_path / "out" / "ranking.csv", comment="#", index_col=0)
    assert ranking.index[0] in ("culture", "effectiveness")  # from the status quo: deep dives or ramp-up


@pytest.mark.parametrize(
    "edit, parts",
    [
        (("deep_dives = 1", "deep_dives = 7"), ["[culture] deep_dives = 7: outside 1-5"]),
        (("deep_dives = 1\n", ""), ["[culture] deep_dives: missing"]),
        (("deep_dives = 1", "deep_dives = 1\nfield_trips = 2"), ['[culture] "field_trips": unknown question']),
        (("[kpis]", "[kpis"), ["invalid TOML"]),
    ],
)
def test_audit_command_bad_answers_exit_2_one_line_nothing_written(cli, tmp_path, edit, parts):
    text = EXAMPLES[0].read_text().replace(*edit)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    proc = cli("audit", EXAMPLES[1], bad, "-o", tmp_path / "out")
    assert_one_line_error(proc, "bad.toml", *parts)
    assert not (tmp_path / "out").exists()


def test_audit_command_mapping_with_a_missing_variable_exit_2(cli, tmp_path):
    path = mapping_copy(tmp_path, 'constant = "Ramp Up Time"', 'constant = "Onboarding Time"')
    proc = cli("audit", EXAMPLES[0], "--mapping", path, "-o", tmp_path / "out")
    assert_one_line_error(proc, "mapping.toml", '"Onboarding Time"', "has no such variable")
    assert not (tmp_path / "out").exists()


def test_audit_command_refuses_to_overwrite(cli, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "radar.png").write_bytes(b"old")
    proc = cli("audit", EXAMPLES[0], "-o", tmp_path / "out")
    assert_one_line_error(proc, "radar.png", "already exists")
    assert files_in(tmp_path / "out") == ["radar.png"]


def test_audit_help_names_the_judgement(cli):
    proc = cli("audit", "--help")
    assert proc.returncode == 0
    assert "structured judgement, not a measurement" in " ".join(proc.stdout.split())
    assert textwrap.dedent("flywheel audit --template") in proc.stdout
