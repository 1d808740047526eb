"""Builtins the SDXorg suite does not cover, against PySD 3.14 and against hand-computed values."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

import flywheel

from .model_text import equation, write_model

TABLE = "Tab(\n\t[(0,0)-(10,10)],(0,0),(2,4),(5,5),(8,9))\n\t~\t\n\t~\t\n\t|\n\n"
KITCHEN_SINK = (
    TABLE
    + equation("X", "Time / 2")
    + equation("Fc", "FORECAST(Input, 3, 2)")
    + equation("Input", "10 + STEP(5, 3) + RAMP(1, 2, 6) + PULSE TRAIN(1, 0.5, 2, 8)")
    + equation("Sampled", "SAMPLE IF TRUE(MODULO(Time, 2) = 0, Input, 0)")
    + equation("S1", "SMOOTHI(Input, 2, 3)")
    + equation("S3", "SMOOTH3I(Input, 2, 3)")
    + equation("D1", "DELAY1I(Input, 2, 1)")
    + equation("D3", "DELAY3I(Input, 2, 1)")
    + equation("Ints", "INTEGER(X) + MODULO(Time, 3) + QUANTUM(Time, 0.75)")
    + equation("Trig", "SIN(X) + COS(X) + TAN(X / 10) + ARCSIN(0.5) + ARCCOS(0.5) + ARCTAN(X)")
    + equation("Pw", "POWER(X + 1, 1.5) + LOG(X + 2, 10) + LN(X + 1) + EXP(-X) + SQRT(X) + ABS(-X)")
    + equation("Logic", "IF THEN ELSE(X > 1 :AND: X < 3 :OR: :NOT: (X <> 4), 1, 0)")
    + equation("Init", "INITIAL(Input * 2)")
    + equation("Act", "ACTIVE INITIAL(Input * 3, 7)")
    + equation("Stk", "INTEG(Act + Fc + Sampled + S1 + S3 + D1 + D3 + Ints + Trig + Pw + Logic + Init, Act)")
)


def test_kitchen_sink_agrees_with_pysd(tmp_path) -> None:
    pysd = pytest.importorskip("pysd")
    path = write_model(tmp_path, KITCHEN_SINK, name="sink.mdl", final=10, dt=0.25, saveper=0.25)
    ours = flywheel.load_model(path).run()
    copy = tmp_path / "pysd" / "sink.mdl"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pysd.read_vensim(str(copy)).run()
    assert set(theirs.columns) == set(ours.columns)
    diff = (ours[theirs.columns] - theirs.astype(float)).abs().to_numpy()
    assert np.nanmax(diff) < 1e-9
    assert ours.loc[0, "Stk"] == 7  # ACTIVE INITIAL's initial value sets the stock's start
    assert ours.loc[0, "Act"] == 30  # and its run value is the equation


def test_lookup_calls(tmp_path) -> None:
    body = (
        TABLE
        + equation("Above", "LOOKUP EXTRAPOLATE(Tab, 10)")
        + equation("Below", "LOOKUP EXTRAPOLATE(Tab, -1)")
        + equation("Forward", "LOOKUP FORWARD(Tab, 3)")
        + equation("Forward On Point", "LOOKUP FORWARD(Tab, 2)")
        + equation("Backward", "LOOKUP BACKWARD(Tab, 3)")
        + equation("Inverse", "LOOKUP INVERT(Tab, 4.5)")
        + equation("Held", "Tab(10)")
        + equation("Interpolated", "Tab(3.5)")
    )
    row = flywheel.load_model(write_model(tmp_path, body)).run().iloc[0]
    assert row["Above"] == pytest.approx(9 + 4 / 3 * 2) and row["Below"] == pytest.approx(-2)
    assert (row["Forward"], row["Forward On Point"], row["Backward"]) == (5, 4, 4)
    assert row["Inverse"] == pytest.approx(3.5)
    assert row["Held"] == 9 and row["Interpolated"] == pytest.approx(4.5)
