"""The run specification: one place where names, values, ranges, tables, time settings and methods are
checked; the method table; incomplete models and NaN reporting."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import flywheel
from flywheel.core.methods import METHODS, ButcherTable, method
from flywheel.errors import ModelError, ParameterError, SimulationError

from .model_text import equation, write_model

BODY = (
    equation("Stock", "INTEG(Inflow - Outflow, Initial Stock)", "widgets [0,?]", "A stock.")
    + equation("Inflow", "Rate * Effect(Stock / 100)", "widgets/Month")
    + equation("Outflow", "Stock / Residence Time", "widgets/Month")
    + equation("Rate", "5", "widgets/Month [0,10]", "A documented range.")
    + equation("Residence Time", "4", "Month [1,10]")
    + equation("Initial Stock", "100", "widgets [0,1000]")
    + "Effect(\n\t[(0,0)-(2,2)],(0,1),(1,1),(2,0.5))\n\t~\tDmnl\n\t~\t\n\t|\n\n"
)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> flywheel.Model:
    return flywheel.load_model(write_model(tmp_path_factory.mktemp("spec"), BODY, final=8, dt=0.25, saveper=1))


def test_a_spec_is_frozen_and_checked_once(model) -> None:
    spec = model.spec({"rate": 7}, time_step=0.5)
    assert dict(spec.params) == {"Rate": 7.0}  # the model's own spelling
    assert (spec.time.time_step, spec.time.saveper, spec.method.name) == (0.5, 1.0, "euler")
    with pytest.raises(TypeError):
        spec.params["Rate"] = 8  # read-only
    again = spec.replace(params={"Residence Time": 2}, method="rk4")
    assert dict(again.params) == {"Rate": 7.0, "Residence Time": 2.0} and again.method.name == "rk4"
    assert spec.params == {"Rate": 7.0}  # the original is unchanged


def test_out_of_range_warns_once_naming_value_and_range_and_fails_when_strict(model) -> None:
    with pytest.warns(flywheel.RangeWarning, match=r"Rate = 12 is outside its documented range \[0, 10\]"):
        model.run(params={"Rate": 12})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same value again: no second warning
        model.run(params={"Rate": 12})
    with pytest.raises(ParameterError, match=r"Rate = 12 is outside its documented range \[0, 10\]"):
        model.run(params={"Rate": 12}, strict=True)
    with pytest.raises(ParameterError, match=r"Stock = -5 is outside"):
        model.spec(initial_condition=(0, {"Stock": -5}), strict=True)  # stocks have ranges too


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"time_step": 0.25, "saveper": 0.1}, r"saveper: saveper \(0.1\) must be a whole multiple of time_step \(0.25\)"),
        ({"time_step": 0.3}, r"time_step: saveper \(1\) must be a whole multiple of time_step \(0.3\)"),
        ({"time_step": -0.25}, r"time_step = -0.25: must be greater than 0"),
        ({"saveper": 0}, r"saveper = 0: must be greater than 0"),
        ({"final_time": -1}, r"final_time = -1: before the initial time 0"),
        ({"time_step": 20}, r"time_step = 20: longer than the whole run"),
        ({"final_time": float("nan")}, r"final_time must be a finite number"),
    ],
)
def test_time_settings_follow_one_set_of_rules(model, settings, message) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        model.run(**settings)
    assert str(info.value).startswith("model.mdl")


def test_a_saveper_that_is_a_multiple_of_the_step_is_kept(model) -> None:
    df = model.run(time_step=0.25, saveper=0.5)
    assert np.allclose(np.diff(df.index), 0.5)


@pytest.mark.parametrize(
    "table, message",
    [
        (([0, 2, 1], [1, 1, 1]), "xs must be sorted"),
        (([0, 1], [1, 1, 1]), "equal, non-zero length"),
        (([0, np.nan], [1, 1]), "finite"),
        ("nonsense", r"must be given as \(xs, ys\)"),
    ],
)
def test_bad_lookups_name_the_lookup(model, table, message) -> None:
    with pytest.raises(ParameterError, match=f"lookup 'Effect'.*{message}|lookup 'Effect' {message}"):
        model.run(params={"Effect": table})


def test_unknown_names_and_kinds(model) -> None:
    with pytest.raises(ParameterError, match="did you mean 'Residence Time'"):
        model.run(params={"Residense Time": 3})
    with pytest.raises(ParameterError, match="is a stock"):
        model.run(params={"Stock": 3})
    with pytest.raises(ParameterError, match="did you mean 'rk4'"):
        model.run(method="rk5")


def test_method_table_is_one_table_with_orders_checked() -> None:
    assert {"euler", "rk2", "rk4", "RK45", "DOP853", "LSODA", "Radau"} == set(METHODS)
    assert [METHODS[m].order for m in ("euler", "rk2", "rk4")] == [1, 2, 4]
    assert method("RK4") is METHODS["rk4"]
    with pytest.raises(ValueError, match="sum of row"):
        ButcherTable(np.array([[0, 0], [0.5, 0]]), np.array([0.5, 0.5]), np.array([0, 1.0]), order=2)
    with pytest.raises(ValueError, match="order condition b.c = 1/2"):
        ButcherTable(np.array([[0, 0], [1.0, 0]]), np.array([0.9, 0.1]), np.array([0, 1.0]), order=2)
    with pytest.raises(ValueError, match="strictly lower triangular"):
        ButcherTable(np.array([[0.5, 0], [0.5, 0]]), np.array([1.0, 0]), np.array([0.5, 0.5]), order=1)


@pytest.mark.parametrize("name, order", [("euler", 1), ("rk2", 2), ("rk4", 4)])
def test_each_fixed_step_method_converges_at_its_order(tmp_path, name, order) -> None:
    body = equation("Stock", "INTEG(-Stock / 4, 100)")
    model = flywheel.load_model(write_model(tmp_path, body, final=8, dt=0.5, saveper=1))
    exact = 100 * np.exp(-2)
    errors = [abs(model.run(method=name, time_step=h)["Stock"].iloc[-1] - exact) for h in (0.5, 0.25, 0.125)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - order) < 0.25), rates


def test_incomplete_equations_load_but_do_not_run(tmp_path) -> None:
    body = (
        equation("Sales", "A FUNCTION OF(Effort, Market)", "units")
        + equation("Effort", "A FUNCTION OF(Sales)", "hours")
        + equation("Market", "100", "units")
        + equation("Stock", "INTEG(Sales, 0)", "units")
    )
    model = flywheel.load_model(write_model(tmp_path, body))
    assert model.incomplete == ["Sales", "Effort"]
    assert model.dependencies["Sales"] == {"Effort", "Market"}
    assert model.dependencies["Stock"] == {"Sales"}
    with pytest.raises(ModelError, match=r"cannot run: these variables have no equation yet \(A FUNCTION OF\): "
                                         r"'Sales', 'Effort'"):
        model.run()
    with pytest.raises(ModelError, match="A FUNCTION OF"):
        model.stepper()


def test_nan_in_an_auxiliary_is_a_warning_naming_it_and_the_time(tmp_path) -> None:
    body = equation("Ratio", "Zero / Zero") + equation("Zero", "0") + equation("Stock", "INTEG(1, 0)")
    model = flywheel.load_model(write_model(tmp_path, body))
    with pytest.warns(flywheel.NonFiniteWarning, match="'Ratio' is NaN or infinite at time 0"):
        df = model.run()
    assert np.isnan(df["Ratio"]).all() and df["Stock"].iloc[-1] == 10
    with pytest.warns(flywheel.NonFiniteWarning, match="'Ratio' at time 0"):
        model.run_ensemble({"Zero": [0.0, 0.0]})


def test_a_blown_up_stock_is_an_error_and_a_diverged_member(tmp_path) -> None:
    body = equation("Stock", "INTEG(Stock * Stock * Gain, 1)") + equation("Gain", "1", "", "[0,10]")
    model = flywheel.load_model(write_model(tmp_path, body, final=100, dt=1))
    with pytest.raises(SimulationError, match="'Stock' became infinite or NaN at time"):
        model.run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = model.run_ensemble({"Gain": [0.0, 1.0, 0.0]})
    assert ds["diverged"].values.tolist() == [False, True, False]


def test_huge_expressions_compile_without_recursion(tmp_path) -> None:
    terms = " + ".join(f"X{i % 7}" for i in range(5000))
    body = equation("Total", terms) + "".join(equation(f"X{i}", str(i + 1)) for i in range(7))
    body += equation("Stock", "INTEG(Total / 1000, 0)")
    model = flywheel.load_model(write_model(tmp_path, body))
    assert model.run()["Total"].iloc[0] == sum((i % 7) + 1 for i in range(5000))


def test_an_unwritable_cache_folder_is_not_fatal_and_leaves_the_environment_alone(tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("FLYWHEEL_CACHE_DIR", str(blocked / "cache"))
    before = dict(os.environ)
    body = equation("Stock", "INTEG(Rate2, 0)") + equation("Rate2", "2")
    model = flywheel.load_model(write_model(tmp_path, body), cache=False)
    assert model.run()["Stock"].iloc[-1] == 20
    assert dict(os.environ) == before
