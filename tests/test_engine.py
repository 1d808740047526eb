"""The simulation core on small models with known answers."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flywheel
from flywheel.errors import ModelError, ParameterError, SimulationError, UnsupportedConstructError

from .model_text import equation, write_model

DECAY = (
    equation("Stock", "INTEG(-Outflow, Initial Stock)", "widgets", "A stock that drains.")
    + equation("Outflow", "Stock / Residence Time", "widgets/Month")
    + equation("Residence Time", "4", "Month [1,10]", "How long a widget stays.")
    + equation("Initial Stock", "100", "widgets")
)


@pytest.fixture(scope="module")
def decay(tmp_path_factory) -> flywheel.Model:
    return flywheel.load_model(write_model(tmp_path_factory.mktemp("decay"), DECAY, final=8, dt=0.25, saveper=1))


def test_euler_matches_the_difference_equation(decay: flywheel.Model) -> None:
    df = decay.run()
    assert list(df.index) == [float(t) for t in range(9)]
    steps = np.arange(0, 33, 4)
    assert np.allclose(df["Stock"], 100 * (1 - 0.25 / 4) ** steps, rtol=0, atol=1e-12)
    assert np.allclose(df["Outflow"], df["Stock"] / 4)


def test_metadata(decay: flywheel.Model) -> None:
    info = decay.variables["Residence Time"]
    assert (info.kind, info.units, info.default, info.limits) == ("constant", "Month", 4.0, (1.0, 10.0))
    assert info.documentation == "How long a widget stays."
    assert decay.variables["Stock"].kind == "stock" and decay.variables["Outflow"].kind == "flow"
    assert decay.stocks == ["Stock"]
    assert decay.dependencies["Outflow"] == {"Stock", "Residence Time"}
    assert decay.dependencies["Stock"] == {"Outflow"}
    assert (decay.initial_time, decay.final_time, decay.time_step, decay.saveper) == (0, 8, 0.25, 1)


@pytest.mark.parametrize("method, order", [("euler", 1), ("rk4", 4)])
def test_convergence_order(decay: flywheel.Model, method: str, order: int) -> None:
    exact = 100 * np.exp(-8 / 4)
    errors = [abs(decay.run(method=method, time_step=h, saveper=1)["Stock"].iloc[-1] - exact) for h in (0.5, 0.25, 0.125)]
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(abs(np.log2(r) - order) < 0.25 for r in ratios), ratios


@pytest.mark.parametrize("method", ["RK45", "DOP853", "LSODA", "Radau"])
def test_solve_ivp_methods(decay: flywheel.Model, method: str) -> None:
    df = decay.run(method=method)
    assert list(df.index) == [float(t) for t in range(9)]
    assert np.allclose(df["Stock"], 100 * np.exp(-df.index.to_numpy() / 4), rtol=1e-4)


def test_params_constants_initial_condition_and_columns(decay: flywheel.Model) -> None:
    base = decay.run()
    faster = decay.run(params={"Residence Time": 2})
    assert faster["Stock"].iloc[-1] < base["Stock"].iloc[-1]
    assert faster["Residence Time"].iloc[0] == 2
    derived = decay.run(params={"Initial Stock": 50})
    assert derived["Stock"].iloc[0] == 50
    started = decay.run(initial_condition=(2, {"Stock": 10}), return_columns=["Stock"])
    assert list(started.columns) == ["Stock"] and started.index[0] == 2 and started["Stock"].iloc[0] == 10
    assert decay.run(params={"residence_time": 2})["Stock"].equals(faster["Stock"])  # loose names


@pytest.mark.parametrize(
    "params, message",
    [
        ({"Residense Time": 2}, "did you mean 'Residence Time'"),
        ({"Residence Time": "2"}, "must be a number"),
        ({"Residence Time": float("nan")}, "must be finite"),
        ({"Stock": 3}, "is a stock"),
    ],
)
def test_bad_params(decay: flywheel.Model, params: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        decay.run(params=params)


def test_bad_method_and_times(decay: flywheel.Model) -> None:
    with pytest.raises(ParameterError, match="choose one of euler, rk2, rk4"):
        decay.run(method="leapfrog")
    with pytest.raises(ParameterError, match="time_step = 0: must be greater than 0"):
        decay.run(time_step=0)


def test_lookups_if_then_else_and_builtins(tmp_path) -> None:
    body = (
        equation("Effect", "Effect Table(Time)")
        + "Effect Table(\n\t[(0,0)-(10,10)],(0,0),(5,10),(10,0))\n\t~\t\n\t~\t\n\t|\n\n"
        + equation("Inline", "WITH LOOKUP(Time, ([(0,0)-(10,1)],(0,1),(10,0)))")
        + equation("Safe Log", "IF THEN ELSE(Level > 0, LN(Level), 0)")
        + equation("Level", "STEP(1, 5)")
        + equation("Ratio", "ZIDZ(1, Level) + XIDZ(1, Level, 7)")
        + equation("Pulse", "PULSE(2, 1)")
        + equation("Ramp", "RAMP(2, 1, 3)")
        + equation("Smoothed", "SMOOTH(Level, 2)")
        + equation("Delayed", "DELAY FIXED(Level, 2, 0)")
    )
    model = flywheel.load_model(write_model(tmp_path, body, final=10, dt=0.5, saveper=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the branch not taken must not warn
        df = model.run()
    assert df.loc[2.5, "Effect"] == 5 and df.loc[5, "Effect"] == 10 and df.loc[10, "Effect"] == 0
    assert df.loc[5, "Inline"] == 0.5
    assert not df.isna().any().any()
    assert df.loc[4, "Ratio"] == 7 and df.loc[6, "Ratio"] == 2
    assert df.loc[2, "Pulse"] == 1 and df.loc[3, "Pulse"] == 0
    assert df.loc[1, "Ramp"] == 0 and df.loc[2, "Ramp"] == 2 and df.loc[5, "Ramp"] == 4
    assert df.loc[6, "Delayed"] == 0 and df.loc[7, "Delayed"] == 1
    new_table = model.run(params={"Effect Table": ([0, 10], [1, 1])})
    assert (new_table["Effect"] == 1).all()
    with pytest.raises(ParameterError, match="discrete state"):
        model.run(method="RK45")


def test_unsupported_constructs_name_construct_variable_and_file(tmp_path) -> None:
    cases = {
        "GET TIME VALUE": equation("Noise", "GET TIME VALUE(2, 0, 1)"),
        "ALLOCATE AVAILABLE": "Region: north, south\n\t~\t~\t|\n\n"
        + equation("Noise[Region]", "ALLOCATE AVAILABLE(Region, 1, 3)"),
        "GAME inside a larger expression": equation("Noise", "1 + GAME(3)"),
    }
    for construct, body in cases.items():
        path = write_model(tmp_path, body, name=f"m_{construct.split()[0].lower()}.mdl")
        with pytest.raises(UnsupportedConstructError) as info:
            flywheel.load_model(path, cache=False)
        message = str(info.value)
        assert construct in message and "Noise" in message and path.name in message, message


def test_broken_files(tmp_path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        flywheel.load_model(tmp_path / "missing.mdl")
    broken = tmp_path / "broken.mdl"
    broken.write_text("{UTF-8}\nx = (1 + \n~~|\n")
    with pytest.raises(ModelError, match="broken.mdl"):
        flywheel.load_model(broken)
    empty = write_model(tmp_path, "", name="empty.mdl")
    with pytest.raises(ModelError, match="empty.mdl: no model variables found"):
        flywheel.load_model(empty)
    loop = write_model(tmp_path, equation("A", "B + 1") + equation("B", "A * 2"), name="loop.mdl")
    with pytest.raises(ModelError, match="circular"):
        flywheel.load_model(loop)


def test_blow_up_is_a_simulation_error(tmp_path) -> None:
    body = equation("Stock", "INTEG(Stock * Stock, 1)")
    model = flywheel.load_model(write_model(tmp_path, body, final=100, dt=1))
    with pytest.raises(SimulationError, match="'Stock' became infinite or NaN"):
        model.run()


def test_hostile_names_never_execute(tmp_path) -> None:
    marker = tmp_path / "PWNED"
    evil = f"__import__('os').system('touch {marker}')"
    body = (
        equation(f'"{evil}"', "3", "Dmnl", f"doc \"\"\" ''' \\\\ {evil}")
        + equation("class", f'"{evil}" * 2')
        + equation("lambda", "INTEG(class, 1)")
        + equation('"quote\\"s and \\\\ backslash"', "lambda + 1")
    )
    model = flywheel.load_model(write_model(tmp_path, body))
    df = model.run()
    assert not marker.exists()
    assert df["lambda"].iloc[-1] == 1 + 6 * 10
    assert df["class"].iloc[0] == 6
    source = model.compiled.ir("base") + (model.compiled.ir("lockstep") or "")
    # no text of the model file reaches the generated code: names become rows, numbers constants
    for text in ("__import__", "touch", "quote", "backslash", "class", "lambda", "'"):
        assert text not in source, text
    assert not os.path.exists(marker)


def test_cache_is_keyed_by_content(tmp_path) -> None:
    path = write_model(tmp_path, DECAY)
    first = flywheel.load_model(path).run()["Stock"].iloc[-1]
    assert flywheel.load_model(path).run()["Stock"].iloc[-1] == first
    path.write_text(path.read_text().replace("Residence Time = 4", "Residence Time = 5"))
    assert flywheel.load_model(path).variables["Residence Time"].default == 5


def test_ensemble_shape_and_equality_with_single_runs(decay: flywheel.Model) -> None:
    table = pd.DataFrame({"Residence Time": [2.0, 4.0, 8.0], "Initial Stock": [10.0, 20.0, 30.0]})
    ds = decay.run_ensemble(table, return_columns=["Stock", "Outflow"], return_times=[0, 4, 8])
    assert ds["Stock"].dims == ("member", "time") and ds["Stock"].shape == (3, 3)
    for i, row in table.iterrows():
        single = decay.run(params=row.to_dict())
        assert np.array_equal(ds["Stock"].values[i], single.loc[[0.0, 4.0, 8.0], "Stock"].to_numpy())
    assert not ds["diverged"].any()
    with pytest.raises(ParameterError, match="not an output time"):
        decay.run_ensemble(table, return_times=[0.3])


@settings(max_examples=60, deadline=None)
@given(
    residence=st.floats(1, 10),
    initial=st.floats(0, 1e6),
    dt=st.sampled_from([1.0, 0.5, 0.25, 0.125]),
)
def test_decay_invariants(decay: flywheel.Model, residence: float, initial: float, dt: float) -> None:
    """A draining stock never goes negative, never grows, and outflow = stock / residence at every time."""
    df = decay.run(params={"Residence Time": residence, "Initial Stock": initial}, time_step=dt, saveper=1)
    stock = df["Stock"].to_numpy()
    assert np.all(stock >= 0) and np.all(np.diff(stock) <= 0)
    assert np.allclose(df["Outflow"], stock / residence)


CHAINS = (
    equation("Input", "Base + STEP(Jump, 2)")
    + equation("Base", "10", "", "[0,100]")
    + equation("Jump", "5", "", "[0,100]")
    + equation("Smooth1", "SMOOTH(Input, Delay Time)")
    + equation("Smooth3", "SMOOTH3(Input, Delay Time)")
    + equation("Delayed3", "DELAY3(Input, Delay Time)")
    + equation("DelayedN", "DELAY N(Input, Delay Time, Base, 4)")
    + equation("Trend", "TREND(Input, Delay Time, 0)")
    + equation("Stock", "INTEG(Delayed3 - Smooth3 * 0.1, Base)")
    + equation("Delay Time", "3", "Month", "[1,10]")
)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(1, 10)), min_size=1, max_size=70
    ),
    st.sampled_from(["euler", "rk2", "rk4"]),
    st.sampled_from([None, False]),
)
def test_ensemble_members_equal_single_runs(tmp_path_factory, rows, method, lockstep) -> None:
    """Both ensemble paths (members in lockstep vectors, or one member at a time) give results
    bit-identical to one run per member."""
    model = flywheel.load_model(write_model(tmp_path_factory.mktemp("chains"), CHAINS, final=12, dt=0.25))
    table = pd.DataFrame(rows, columns=["Base", "Jump", "Delay Time"])
    names = ["Smooth1", "Smooth3", "Delayed3", "DelayedN", "Trend", "Stock"]
    ds = model.run_ensemble(table, return_columns=names, method=method, lockstep=lockstep)
    for i in {0, len(rows) - 1, len(rows) // 2}:
        single = model.run(params=table.iloc[i].to_dict(), return_columns=names, method=method)
        for name in names:
            assert np.array_equal(ds[name].values[i], single[name].to_numpy(), equal_nan=True), name


def test_time_step_may_change_with_time_but_not_with_state(tmp_path) -> None:
    body = equation("Stock", "INTEG(1, 0)")
    text = write_model(tmp_path, body, final=6, dt=1).read_text()
    path = tmp_path / "dynamic.mdl"
    path.write_text(text.replace("TIME STEP  = 1", "TIME STEP  = IF THEN ELSE(Time < 2, 1, 0.5)"))
    df = flywheel.load_model(path).run()
    assert list(df.index) == [0, 1, 2, 3, 4, 5, 6] and df.loc[6, "Stock"] == 6
    assert df.loc[1, "TIME STEP"] == 1 and df.loc[3, "TIME STEP"] == 0.5
    path.write_text(text.replace("TIME STEP  = 1", "TIME STEP  = IF THEN ELSE(Stock < 2, 1, 0.5)"))
    with pytest.raises(UnsupportedConstructError, match="'TIME STEP' depends on variables that change"):
        flywheel.load_model(path)


def test_names_that_look_like_internal_suffixes(tmp_path) -> None:
    """A variable whose key ends like an internal name (``..._o``) keeps its fractional value on every path."""
    body = equation("Rate O", "0.5") + equation("Stock", "INTEG(Rate O * Smoothed, 1)") + equation("Smoothed", "SMOOTH(Stock, 2)")
    model = flywheel.load_model(write_model(tmp_path, body, final=4, dt=0.25))
    euler = model.run()
    assert euler.loc[0, "Rate O"] == 0.5
    adaptive = model.run(method="RK45")
    assert np.allclose(adaptive["Stock"], euler["Stock"], rtol=0.05) and adaptive.loc[4, "Stock"] > 1.5
    ds = model.run_ensemble({"Rate O": [0.5, 0.25]}, return_columns=["Stock"])
    assert np.array_equal(ds["Stock"].values[0], euler["Stock"].to_numpy())
