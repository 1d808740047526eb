"""Stepping and state: a run stopped, inspected, changed and continued equals what it should, bit for bit."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flywheel
from flywheel.errors import ParameterError

from .conftest import MODEL_PATH
from .model_text import TEST_MODELS, equation, write_model

HIDDEN = (
    equation("Input", "Base + STEP(Jump, 2) + PULSE(3, 1)")
    + equation("Base", "10", "", "[0,100]")
    + equation("Jump", "5", "", "[0,100]")
    + equation("Smooth3", "SMOOTH3(Input, Delay Time)")
    + equation("Delayed", "DELAY3(Input, Delay Time)")
    + equation("DelayedN", "DELAY N(Input, Delay Time, Base, 5)")
    + equation("Fixed", "DELAY FIXED(Input, 1.5, Base)")
    + equation("Sampled", "SAMPLE IF TRUE(Time >= 4, Input, 0)")
    + equation("Trend", "TREND(Input, Delay Time, 0)")
    + equation("Frozen", "INITIAL(Input * 2)")
    + equation("Stock", "INTEG(Delayed - Smooth3 * 0.1 + Fixed * 0.01 + Sampled * 0.001, Base)")
    + equation("Delay Time", "3", "Month", "[1,10]")
)


@pytest.fixture(scope="module")
def hidden(tmp_path_factory) -> flywheel.Model:
    return flywheel.load_model(write_model(tmp_path_factory.mktemp("hidden"), HIDDEN, final=12, dt=0.25, saveper=0.5))


def test_stepping_in_pieces_equals_the_whole_run(hidden) -> None:
    whole = hidden.run()
    stepper = hidden.stepper()
    for t in (0.25, 3.0, 3.0, 7.5, 11.75):
        stepper.step_to(t)
        assert stepper.time == t
    stepper.run_to_end()
    pieces = stepper.result().to_frame()
    assert pieces.index.equals(whole.index)
    assert np.array_equal(pieces.to_numpy(), whole.to_numpy(), equal_nan=True)


def test_a_run_continued_from_a_saved_state_equals_the_uninterrupted_run(hidden) -> None:
    whole = hidden.run()
    stepper = hidden.stepper().step_to(5.0)
    state = pickle.loads(pickle.dumps(stepper.state))  # a state survives a trip through pickle
    assert state.time == 5.0 and set(state.stocks) == {"Stock"}
    rest = hidden.run(initial_state=state)
    assert rest.index[0] == 5.0 and rest.index[-1] == 12.0
    assert np.array_equal(rest.to_numpy(), whole.loc[5.0:].to_numpy(), equal_nan=True)


def test_values_show_the_current_time_without_advancing(hidden) -> None:
    whole = hidden.run()
    stepper = hidden.stepper().step_to(6.0)
    now = stepper.values(["Stock", "Smooth3", "Frozen"])
    assert now == {name: whole.loc[6.0, name] for name in now}
    assert stepper.time == 6.0
    assert np.array_equal(stepper.run_to_end().result().to_frame().to_numpy(), whole.to_numpy(), equal_nan=True)


def test_set_changes_constants_from_now_on_and_keeps_initial_values(tmp_path) -> None:
    body = (
        equation("Stock", "INTEG(-Stock / Residence Time, 100)")
        + equation("Residence Time", "4", "Month", "[1,10]")
        + equation("Half Life", "Residence Time * LN(2)")
        + equation("Start", "INITIAL(Residence Time)")
    )
    model = flywheel.load_model(write_model(tmp_path, body, final=8, dt=0.25))
    stepper = model.stepper().step_to(4.0)
    stepper.set({"Residence Time": 2})
    result = stepper.run_to_end().result().to_frame()
    stock = 100.0
    for step in range(32):  # Euler by hand: residence 4 until t = 4, then 2
        stock = stock + 0.25 * (-stock / (4.0 if step < 16 else 2.0))
    assert result.loc[8.0, "Stock"] == stock
    assert result.loc[3.0, "Half Life"] == 4 * np.log(2) and result.loc[5.0, "Half Life"] == 2 * np.log(2)
    assert (result["Start"] == 4).all()  # INITIAL keeps the value it had at the start
    with pytest.raises(ParameterError, match="did you mean 'Residence Time'"):
        model.stepper().set(Residense=3)


def test_stepping_errors(hidden) -> None:
    stepper = hidden.stepper().step_to(4.0)
    with pytest.raises(ParameterError, match="cannot go back"):
        stepper.step_to(2.0)
    with pytest.raises(ParameterError, match="not a step time"):
        stepper.step_to(4.1)
    state = stepper.state
    with pytest.raises(ParameterError, match="continues with the initial time and time step"):
        hidden.run(initial_state=state, time_step=0.125)


def test_the_flywheel_restarted_at_month_30_equals_the_uninterrupted_run() -> None:
    """The defect of the first version: restarting from the stocks alone lost the SMOOTH3 states."""
    model = flywheel.load_model(MODEL_PATH)
    params = {"Market Shock Size": 0.1}
    spec = model.spec(params)
    whole = model.run(params)
    state = model.stepper(spec).step_to(30).state
    rest = model.run(initial_state=state)
    assert np.array_equal(rest.to_numpy(), whole.loc[30.0:].to_numpy())
    assert rest.loc[120, "Overlay Functions"] == whole.loc[120, "Overlay Functions"]


@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 47), min_size=1, max_size=5),
    base=st.floats(1, 100),
    delay=st.floats(1, 10),
    method=st.sampled_from(["euler", "rk2", "rk4"]),
)
def test_any_cut_points_give_the_same_run(hidden, cuts, base, delay, method) -> None:
    spec = hidden.spec({"Base": base, "Delay Time": delay}, method=method)
    whole = flywheel.simulate(spec)
    stepper = hidden.stepper(spec)
    for step in sorted(cuts):
        stepper.step_to(step * 0.25)
    assert np.array_equal(stepper.run_to_end().result().values, whole.values, equal_nan=True)


def _suite_models_with_hidden_state() -> list[str]:
    if not TEST_MODELS.is_dir():
        return []
    markers = ("SMOOTH", "DELAY", "TREND", "FORECAST", "SAMPLE IF TRUE", "INITIAL(")
    found = []
    for path in sorted(TEST_MODELS.glob("*/*/*.mdl")):
        text = path.read_text(errors="ignore").upper()
        if any(marker in text for marker in markers):
            found.append(str(path.relative_to(TEST_MODELS)))
    return found


@pytest.mark.parametrize("relative", _suite_models_with_hidden_state())
def test_continuation_is_exact_on_suite_models_with_hidden_state(relative) -> None:
    try:
        model = flywheel.load_model(TEST_MODELS / relative)
    except flywheel.UnsupportedConstructError as exc:
        pytest.skip(f"unsupported: {exc}")
    if model.compiled.layout.dynamic_time:
        pytest.skip("TIME STEP or SAVEPER change during the run: no stepping")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = model.run()
        grid = model.spec().time.grid
        middle = float(grid.times[grid.n_steps // 2])
        state = model.stepper().step_to(middle).state
        rest = model.run(initial_state=state)
    tail = whole.loc[whole.index >= middle - 1e-9]
    assert len(rest) == len(tail)
    assert np.array_equal(rest.to_numpy(dtype=float), tail.to_numpy(dtype=float), equal_nan=True)
