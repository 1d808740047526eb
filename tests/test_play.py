"""The management game as data and as numbers: the profile's [game] section, a played session (scripted
players on the flywheel model), scores, comparison policies on the player's shocks, voices, saving,
and the debrief of the loops that drove a run."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import flywheel
from flywheel.analysis.debrief import check_prediction, loop_story
from flywheel.analysis.play import Session, draw_shocks
from flywheel.errors import ParameterError, ScenarioError
from flywheel.scenarios import load_scenario

from .conftest import REPO_ROOT
from .model_text import equation, write_model

SHOCK = REPO_ROOT / "scenarios" / "shock_add_overlays.toml"
OVERLAYS, DEEP_DIVES, RETIRE, TARGETS = ("Overlay Creation", "Deep Dive Share", "Overlay Retirement Decision",
                                         "Plan Rebase Weight in Force")  # fmt: skip

# a small model with two decisions, for the profile checks
HIRING = (
    equation("Staff", "INTEG(Hiring - Leaving, 5)", "people [0,?]")
    + equation("Hiring", "GAME(Staff / 10)", "people/Month [0,5]", "People hired a month.")
    + equation("Leaving", "Staff / 10", "people/Month")
    + equation("Bonus Share", "GAME(0.2)", "Dmnl [0,1]", "Share of pay as bonus.")
    + equation("Morale", "1 - Bonus Share / 2 + Staff / 100", "Dmnl")
    + equation("Shock", "0", "people [0,3]", "A one-off loss of staff.")
)


def play(session: Session, moves: dict, turns: int | None = None) -> Session:
    for _ in range(turns or session.turns - session.turn):
        session.play(moves)
    return session


@pytest.fixture(scope="module")
def shocked():
    return load_scenario(SHOCK)


@pytest.fixture(scope="module")
def players(shocked):
    """Twenty quarters after a 10 % market shock at month 12: one player adds three overlay FTE per 100
    sellers every quarter, the other spends 30 % of the time in deep dives and launches no overlays; both
    then hand every decision back to the organisation's habit for 30 more years (does it get out?)."""
    views = {}
    out = {}
    for name, entries in {"overlays": {OVERLAYS: "3"}, "deep dives": {DEEP_DIVES: "30", OVERLAYS: "0"}}.items():
        session = Session(shocked, seed=0, turns=140)
        views = {v.name: v for v in session.settings.decisions}
        moves = {decision: session.parse(views[decision], text) for decision, text in entries.items()}
        play(session, moves, 20)
        at_20 = dict(session.game.state)
        score_20 = flywheel.analysis.play.score_of(session.frame(), session.settings.score)
        play(session, {decision: None for decision in moves})  # back to habit until month 420
        out[name] = (at_20, score_20, dict(session.game.state), session)
    return out


# ---------------------------------------------------------------------------------------------- the profile


def test_the_flywheel_game_section_describes_the_four_decisions(model) -> None:
    game = flywheel.load_profile(model).game
    assert {d.name for d in game.decisions} == set(model.decisions) == {OVERLAYS, DEEP_DIVES, RETIRE, TARGETS}
    views = {d.name: d for d in game.decisions}
    assert views[OVERLAYS].per_turn and views[OVERLAYS].scale == 10 and views[DEEP_DIVES].scale == 100
    assert (game.interval, game.turns, game.turn) == (3, 40, "quarter")
    assert game.score.variable == "Sales" and game.score.statistic == "mean_relative"
    assert [p.scenario.name for p in game.policies] == ["shock_add_overlays.toml", "shock_deep_dives.toml"]
    for shock in game.shocks:  # drawn within the documented ranges
        low, high = model.variables[shock.name].limits
        assert low <= shock.low < shock.high <= high
    assert {"Candour", "Target Attainment"} <= set(game.variables)


def test_a_model_without_a_game_section_plays_every_decision_on_its_panels(tmp_path) -> None:
    model = flywheel.load_model(write_model(tmp_path, HIRING, final=24, dt=0.5))
    game = flywheel.load_profile(model).game
    assert [d.name for d in game.decisions] == model.decisions and set(model.decisions) == {"Bonus Share", "Hiring"}
    assert [d.variable for d in game.dashboard] == ["Staff"]  # the default panels: the stocks
    assert (game.interval, game.turns) == (3, 8)  # the model's own 24 months in turns of 3
    session = play(Session(model, seed=3), {})
    assert session.done and session.turn == 8 and session.score() == pytest.approx(100.0)  # nothing moved


GOOD_GAME = """
[model]
title = "Hiring"

[game]
interval = 2
{extra}
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour = 1", r'\[game\] "colour": unknown key'),
        ("turns = 0", "turns: must be a whole number of at least 1"),
        ('[[game.decision]]\nname = "Morale"', "'Morale': not a GAME variable of the model"),
        ('[[game.decision]]\nname = "Bonus Share"\nper_turn = true', "per_turn: Bonus Share is not a rate"),
        ('[[game.decision]]\nname = "Hiring"\npercent = true\nscale = 3', "give percent or scale, not both"),
        ('[game.score]\nvariable = "Staff"\nstatistic = "best"', "statistic 'best': unknown"),
        ('[game.score]\nvariable = "Staf"', 'the model has no such variable; did you mean "Staff"'),
        ('[[game.dashboard]]\nvariable = "Staff"\nbetter = "up"', "better 'up': unknown"),
        ('[[game.policy]]\nscenario = "nowhere.toml"', "no such scenario file"),
        ('[[game.policy]]\nscenario = "policy.toml"\nswitch = "later"', "switch 'later': unknown"),
        ('[[game.shock]]\nname = "Shock"\nlow = 1\nhigh = 9', "goes outside the documented range"),
        ('[[game.shock]]\nname = "Staff"\nlow = 1\nhigh = 2', "is a stock; expected a constant"),
        ('[[game.voice]]\nspeaker = "HR"\nwhen = { Morale = [1, 0] }\nlines = ["Hm."]', "expected \\[low, high\\]"),
        ('[[game.voice]]\nspeaker = "HR"\nlines = []', "lines: expected a non-empty list"),
        ('shock_text = "Lost {Shock} and {Nothing}"', "'Nothing' is not a constant"),
    ],
)
def test_a_mistake_in_the_game_section_is_one_line_naming_it(tmp_path, extra: str, message: str) -> None:
    path = write_model(tmp_path, HIRING, final=24, dt=0.5)
    (tmp_path / "policy.toml").write_text('title = "p"\nmodel = "model.mdl"\n', encoding="utf-8")
    (tmp_path / "model.profile.toml").write_text(textwrap.dedent(GOOD_GAME).format(extra=extra), encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as info:
        flywheel.load_profile(flywheel.load_model(path))
    assert "\n" not in str(info.value) and "model.profile.toml" in str(info.value)


# ---------------------------------------------------------------------------------------------- playing


def test_the_overlay_player_ends_in_the_trap_and_the_deep_dive_player_does_not(players, model) -> None:
    start = model.run(return_columns=["Target Attainment", "Trust", "Overlay Functions", "Customer Time"]).iloc[0]
    overlays, overlay_score, overlays_later, _ = players["overlays"]
    deep, deep_score, deep_later, _ = players["deep dives"]
    # after 20 quarters: attainment and sales far below the deep-dive player's
    assert overlays["Target Attainment"] < deep["Target Attainment"] - 0.2
    assert overlays["Sales"] < 0.75 * deep["Sales"]
    assert overlay_score < deep_score - 10
    # the trap's mechanism: trust fell, overlays multiplied, customer time fell; the remedy's: the reverse
    assert overlays["Trust"] < start["Trust"] - 0.1 < deep["Trust"] - 0.2
    assert overlays["Overlay Functions"] > 3 * start["Overlay Functions"] > 3 * deep["Overlay Functions"]
    assert overlays["Customer Time"] < 0.8 * start["Customer Time"] < deep["Customer Time"]
    assert deep["Target Attainment"] > start["Target Attainment"]
    # in the trap: handed back to the organisation's habit it does not get out; the deep-dive player's does
    assert overlays_later["Target Attainment"] < 0.75 < 0.9 < deep_later["Target Attainment"]
    assert deep_later["Sales"] > 1.4 * overlays_later["Sales"]


def test_entries_are_read_in_the_players_units(shocked) -> None:
    session = Session(shocked, turns=4)
    views = {v.name: v for v in session.settings.decisions}
    assert session.parse(views[OVERLAYS], "3") == pytest.approx(0.1)  # 3 FTE per 100 sellers a quarter
    assert session.parse(views[DEEP_DIVES], "30 %") == pytest.approx(0.3)
    assert session.parse(views[TARGETS], "habit") is None
    for text, message in (("lots", "'lots' is not a number"), ("51", "51 is out of range: enter a number from 0 to 50"),
                          ("-1", "out of range"), ("nan", "not a number")):  # fmt: skip
        with pytest.raises(ParameterError, match=message):
            session.parse(views[DEEP_DIVES], text)
    rows = {r.view.name: r for r in session.decision_rows()}
    assert rows[OVERLAYS].high == pytest.approx(30) and not rows[OVERLAYS].held  # [0, 1]/month x 3 x 10
    habit = rows[OVERLAYS].habit
    session.play({OVERLAYS: 0.1, DEEP_DIVES: 0.3})
    session.play({DEEP_DIVES: None})  # back to habit; the overlays stay held
    assert session.held == {OVERLAYS: 0.1}
    assert session.game.moves == [{OVERLAYS: 0.1, DEEP_DIVES: 0.3}, {OVERLAYS: 0.1}]
    session.undo()
    assert session.held == {OVERLAYS: 0.1, DEEP_DIVES: 0.3} and session.turn == 1
    # the habit of launching overlays is the model's own reflex at the status quo
    own = flywheel.load_model(shocked.model_path).run(shocked.params)
    assert habit == pytest.approx(3 * 10 * own[OVERLAYS].iloc[0])


def test_a_player_who_plays_a_comparison_policy_scores_exactly_like_it(shocked) -> None:
    """The comparisons replay the policies' lever settings on the player's world: the habit policy is a
    player who never decides, the deep-dive policy from the first quarter a player who holds 30 % deep
    dives and no launches from the first quarter."""
    habit = play(Session(shocked, turns=12), {})
    deep = play(Session(shocked, turns=12), {DEEP_DIVES: 0.3, OVERLAYS: 0.0})
    policies = habit.comparisons()
    assert [p.label[:15] for p in policies] == ["The organisatio", "Deep dives, no "]
    assert policies[0].score == pytest.approx(habit.score(), rel=1e-12)
    assert policies[1].score == pytest.approx(deep.score(), rel=1e-9)
    np.testing.assert_allclose(policies[1].frame["Sales"], deep.frame()["Sales"], rtol=1e-9)
    assert len(policies[0].frame) == len(habit.frame()) == 37  # the game's horizon: 12 quarters, monthly


def test_the_score_rewards_selling_not_lower_targets(shocked) -> None:
    bottom_up = play(Session(shocked, turns=20), {TARGETS: 1.0})
    habit = play(Session(shocked, turns=20), {})
    deep = play(Session(shocked, turns=20), {DEEP_DIVES: 0.3, OVERLAYS: 0.0})
    attainment = {n: s.game.state["Target Attainment"] for n, s in (("bottom", bottom_up), ("deep", deep))}
    assert attainment["bottom"] > 0.9  # targets from current sales: attainment looks fine ...
    assert bottom_up.score() < deep.score() - 3  # ... the score sees the lost sales
    assert habit.score() < bottom_up.score()


def test_shocks_are_drawn_from_the_seed_and_a_scenario_keeps_its_own(model, shocked) -> None:
    settings = flywheel.load_profile(model).game
    draws = [draw_shocks(settings, set(), seed) for seed in range(40)]
    assert draws[7] == draw_shocks(settings, set(), 7)
    assert len({tuple(d.values()) for d in draws}) > 20
    for shock in settings.shocks:
        values = np.array([d[shock.name] for d in draws])
        assert values.min() >= shock.low and values.max() <= shock.high
        np.testing.assert_allclose((values - shock.low) / shock.step, np.round((values - shock.low) / shock.step), atol=1e-9)
    session = Session(shocked, seed=5)
    assert session.shocks == {} and session.world["Market Shock Size"] == 0.1
    assert Session(model, seed=5).world == draws[5]


def test_what_people_say_follows_candour(players) -> None:
    *_, overlays = players["overlays"]
    *_, deep = players["deep dives"]
    voices = {v.speaker: v for v in overlays.settings.voices}
    excuses = next(v for v in overlays.settings.voices if dict((n, (lo, hi)) for n, lo, hi in v.when).get("Candour") == (0, 0.5))
    honest = [line for v in deep.settings.voices if any(n == "Candour" and lo >= 0.65 for n, lo, _ in v.when) for line in v.lines]
    late = overlays.game.history.iloc[20]
    assert late["Candour"] < 0.5 and dict(overlays.voices(20))["Your sales team"] in excuses.lines
    assert deep.game.history.iloc[20]["Candour"] > 0.65 and dict(deep.voices(20))["Your sales team"] in honest
    assert overlays.voices(20) == overlays.voices(20)  # the same line on every replay
    assert "Your leadership team concludes" in voices


def test_a_saved_session_resumes_to_the_same_run(shocked) -> None:
    session = play(Session(shocked, seed=4, turns=10), {OVERLAYS: 0.05}, 6)
    session.answers["loops"] = ["R1"]
    again = Session.from_json(session.to_json())
    assert again.game.history.equals(session.game.history) and again.answers == {"loops": ["R1"]}
    play(session, {DEEP_DIVES: 0.2})
    play(again, {DEEP_DIVES: 0.2})
    assert again.score() == session.score() and again.frame().equals(session.frame())
    drawn = play(Session(flywheel.load_model(shocked.model_path), seed=9, turns=3), {})
    assert Session.from_json(drawn.to_json()).shocks == drawn.shocks


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: "{not json", "not a saved game"),
        (lambda d: json.dumps({**d, "format": "other"}), "expected format flywheel-play/1"),
        (lambda d: json.dumps({**d, "game": {**d["game"], "moves": [{"Overlay Creation": 7}]}}), "quarter 1: .*outside its range"),
        (lambda d: json.dumps({**d, "game": {**d["game"], "moves": "x"}}), "'moves' must be a list"),
        (lambda d: json.dumps({**d, "model": "/nowhere/model.mdl"}), "is gone"),
        (lambda d: json.dumps({**d, "seed": "x"}), "seed must be a whole number"),
        (lambda d: json.dumps({**d, "shocks": {"Market Shock Size": 0.5}}), "shocks do not match the seed"),
    ],
)
def test_a_broken_save_is_one_clear_error(model, edit, message) -> None:
    data = json.loads(play(Session(model, seed=1, turns=3), {}).to_json())
    with pytest.raises(ParameterError, match=message) as info:
        Session.from_json(edit(data), where="save.json")
    assert str(info.value).startswith("save.json: ") and "\n" not in str(info.value)


def test_a_model_without_decisions_cannot_be_played(tmp_path) -> None:
    plain = flywheel.load_model(write_model(tmp_path, equation("Stock", "INTEG(1, 0)", "things")))
    with pytest.raises(ParameterError, match="no GAME variables"):
        Session(plain)


# ---------------------------------------------------------------------------------------------- debrief


def test_the_debrief_names_the_loops_that_drove_each_run(shocked) -> None:
    habit = play(Session(shocked, turns=40), {})
    story = loop_story(habit)
    assert abs(sum(f.share for f in story.families) - 1) < 1e-9
    flywheel_loops = {"R1", "R2", "R3", "R4", "R5", "R6", "R7"}  # overlays' reinforcing loops (README)
    assert story.reinforcing > 0.6
    assert sum(f.share for f in story.families if f.key in flywheel_loops) > 0.5
    late = [p for p in story.phases if p.start >= 60]
    assert late and all(p.family.polarity == "R" for p in late)
    assert story.held == {}
    deep = loop_story(play(Session(shocked, turns=40), {DEEP_DIVES: 0.3, OVERLAYS: 0.0}))
    assert deep.reinforcing < 0.3
    turns, through = deep.held[OVERLAYS]
    assert turns == 40 and {"R1", "B1"} <= set(through)
    assert deep.held[DEEP_DIVES] == (40, ())  # an input: no loop runs through it
    check = check_prediction(story, ["R1", "R8", "R10"], [(42, 90, 88.0), (81, 80, 70.0), (120, 70, 65.6)])
    assert [i for i, _ in check.confirmed] == ["R1"] and "R8" in [i for i, _ in check.idle]
    for loop_id, share in check.confirmed + check.minor + check.idle:
        assert share == story.family_of(loop_id).share
    assert {f.key for f in check.missed} >= {"R6"}
    text = "\n".join(check.words("Attainment", "%"))
    assert "month 81: you expected 80, it was 70" in text and "off by 5 points" in text
    assert any("R6 Misreading the misses" in line for line in story.words())
    held = check_prediction(deep, ["R1", "B1"], [])
    assert held.yours == (("R1", OVERLAYS), ("B1", OVERLAYS))
    assert "R1, B1 run through Overlay Creation, which you decided yourself" in "\n".join(held.words("", ""))
