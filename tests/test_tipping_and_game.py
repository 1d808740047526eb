"""Tipping points and steady states against closed forms; Vensim's GAME and the Game object."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel
from flywheel.errors import ParameterError

from .model_text import TEST_MODELS, equation, write_model

# logistic growth with an Allee threshold: dP/dt = r P (P/A - 1)(1 - P/K); equilibria 0, A, K
ALLEE = (
    equation("Population", "INTEG(Growth, Initial Population)", "animals [0,?]")
    + equation("Growth", "r * Population * (Population / A - 1) * (1 - Population / K)", "animals/Year")
    + equation("r", "0.5", "1/Year [0,2]")
    + equation("A", "20", "animals [1,100]")
    + equation("K", "100", "animals [10,1000]")
    + equation("Initial Population", "50", "animals [0,200]")
)


@pytest.fixture(scope="module")
def allee(tmp_path_factory) -> flywheel.Model:
    return flywheel.load_model(write_model(tmp_path_factory.mktemp("allee"), ALLEE, final=100, dt=0.0625))


def test_the_allee_threshold_is_found_to_the_tolerance(allee) -> None:
    found = flywheel.tipping(allee, "Population", 0, 200, outcome="Population", tol=1e-7)
    assert len(found.thresholds) == 1
    threshold = found.thresholds[0]
    assert abs(threshold.value - 20) < 1e-6
    assert threshold.outcome_below < 1e-3 and abs(threshold.outcome_above - 100) < 1e-3
    assert "Population = 20" in found.report()
    # sweeping a constant: with 50 animals at the start, the population dies out once A passes 50
    shifted = flywheel.tipping(allee, "A", 10, 90, outcome="Population", tol=1e-6)
    assert len(shifted.thresholds) == 1 and abs(shifted.thresholds[0].value - 50) < 1e-5


def test_steady_states_match_the_closed_form_with_their_stability(allee) -> None:
    found = flywheel.equilibria(allee)
    values = [eq.stocks["Population"] for eq in found.found]
    assert np.allclose(values, [0, 20, 100], atol=1e-6)
    r, a, k = 0.5, 20, 100
    expected = [-r, r * (1 - a / k), -r * (k / a - 1)]  # f'(P) at each root
    for eq, slope in zip(found.found, expected, strict=True):
        assert abs(eq.eigenvalues[0].real - slope) < 1e-6
    assert [eq.stable for eq in found.found] == [True, False, True]


def test_tipping_refuses_bad_inputs(allee) -> None:
    with pytest.raises(ParameterError, match="outside the documented range"):
        flywheel.tipping(allee, "A", 0, 200, outcome="Population")
    with pytest.raises(ParameterError, match="is a auxiliary|is a flow|sweep a lever"):
        flywheel.tipping(allee, "Growth", 0, 1, outcome="Population")
    with pytest.raises(ParameterError, match="did you mean"):
        flywheel.tipping(allee, "Populaton", 0, 1, outcome="Population")


GAME = TEST_MODELS / "tests" / "game" / "test_game.mdl"


@pytest.mark.skipif(not GAME.is_file(), reason="the test-model suite is not present")
def test_game_passes_through_outside_gaming_mode_and_its_variables_are_decisions() -> None:
    model = flywheel.load_model(GAME)
    assert model.decisions == ["Gamed Equation", "Gamed Variable"]
    df = model.run()
    assert (df["Gamed Variable"] == 12).all() and df.loc[10, "Stock"] == 120


def test_a_game_holds_decisions_interval_by_interval_and_undoes(tmp_path) -> None:
    body = (
        equation("Stock", "INTEG(Hiring - Stock / 10, 5)", "people [0,?]")
        + equation("Hiring", "GAME(Stock / 10)", "people/Month [0,5]", "How many people to hire a month.")
    )
    model = flywheel.load_model(write_model(tmp_path, body, final=12, dt=0.5))
    game = flywheel.Game(model, interval=3, dashboard=["Stock", "Hiring"])
    assert [d.name for d in game.decisions] == ["Hiring"] and game.decisions[0].own_value == 0.5
    game.step({"Hiring": 2})
    assert game.time == 3 and game.decisions[0].own_value == pytest.approx(game.state["Stock"] / 10)
    game.step()  # left out: the model's own equation
    game.step({"Hiring": 0})
    assert list(game.history.index) == [0, 3, 6, 9]
    before = game.history.copy()
    game.step({"Hiring": 5})
    game.undo()
    assert game.time == 9 and game.history.equals(before)
    with pytest.raises(ParameterError, match=r"Hiring = 7 is outside its range \[0, 5\]"):
        game.step({"Hiring": 7})
    with pytest.raises(ParameterError, match="not a number"):
        game.step({"Hiring": "lots"})
    replay = flywheel.Game.from_json(game.to_json())
    assert replay.history.equals(game.history)
    game.step({"Hiring": 1})
    assert game.done
    result = game.result().to_frame()
    stock = 5.0
    for step in range(24):  # by hand: hire 2 for 3 months, the model's rule for 3, 0 for 3, then 1
        month = step * 0.5
        hiring = 2 if month < 3 else stock / 10 if month < 6 else 0 if month < 9 else 1
        stock += 0.5 * (hiring - stock / 10)
    assert result["Stock"].iloc[-1] == pytest.approx(stock, rel=1e-12)
    with pytest.raises(ParameterError, match="not a saved game"):
        flywheel.Game.from_json("{}")
    plain = flywheel.load_model(write_model(tmp_path, equation("Stock", "INTEG(1, 0)"), name="plain.mdl"))
    with pytest.raises(ParameterError, match="no GAME variables"):
        flywheel.Game(plain)


def test_loop_dominance_of_a_played_game_treats_held_decisions_as_inputs(tmp_path) -> None:
    """A decision the player holds cuts the loop through it: its links score 0 while held; the replayed
    run is the game's own run, and a game left to the model scores like the plain run."""
    body = (
        equation("Stock", "INTEG(Hiring - Stock / 10, 5)", "people [0,?]")
        + equation("Hiring", "GAME((Goal - Stock) / 4)", "people/Month [-5,5]", "Hiring (or firing) a month.")
        + equation("Goal", "20", "people")
    )
    model = flywheel.load_model(write_model(tmp_path, body, final=12, dt=0.5))
    own = flywheel.Game(model, interval=3, dashboard=["Stock"])
    while not own.done:
        own.step()
    plain = flywheel.loop_dominance(model)
    np.testing.assert_allclose(flywheel.loop_dominance(model, own)["loop_score"].values,
                               plain["loop_score"].values, rtol=1e-12, atol=1e-15)  # fmt: skip
    played = flywheel.Game(model, interval=3, dashboard=["Stock"])
    played.step()  # months 0-3: the model's rule
    while not played.done:
        played.step({"Hiring": 2})  # then held
    ds = flywheel.loop_dominance(model, played)
    goal_loop = [i for i, v in enumerate(ds["variables"].values) if "Hiring" in v][0]
    scores = ds["loop_score"].values[goal_loop]
    times = ds["time"].values
    assert np.all(scores[(times > 3.5)] == 0) and np.any(scores[(times > 0) & (times < 3)] != 0)
    link = ds["link_score"].sel(link="Stock -> Hiring").values
    assert np.all(link[times > 3.5] == 0) and np.all(link[(times > 0) & (times < 3)] < 0)
    assert np.all(ds["relative_score"].values[goal_loop, times > 3.5] == 0)
    frame = played.result().to_frame()
    replayed = flywheel.analysis.ltm.replayed_run_data(played.start, played.changes)
    assert np.allclose(replayed.cur_values[:, replayed.value_index["Stock"]], frame["Stock"].to_numpy(), rtol=1e-12)
