"""Small Vensim models for the uncertainty tests, written with tests/model_text.py."""

from __future__ import annotations

from pathlib import Path

from .model_text import equation, write_model


def ishigami(folder: Path) -> Path:
    """Y = sin(x1) + 7 sin(x2)^2 + 0.1 x3^4 sin(x1): Sobol' indices known in closed form."""
    body = (
        equation("x1", "0", "Dmnl")
        + equation("x2", "0", "Dmnl")
        + equation("x3", "0", "Dmnl")
        + equation("Y", "SIN(x1) + 7 * SIN(x2) ^ 2 + 0.1 * x3 ^ 4 * SIN(x1)", "Dmnl")
    )
    return write_model(folder, body, "ishigami.mdl", final=1, dt=1, saveper=1)


def growth(folder: Path) -> Path:
    """Two inputs whose influence changes over time: early the level a, later the rate r.

    Level = INTEG(r, a): Level(t) = a + r t exactly with Euler; a in [0, 10] and r in [0, 1] over 20 months
    make a dominate at first and r at the end (at t = 10 both have the same variance)."""
    body = (
        equation("Level", "INTEG(r, a)", "Widgets")
        + equation("a", "5", "Widgets", "starting level")
        + equation("r", "0.5", "Widgets/Month", "growth per month")
        + equation("Doubled", "2 * Level", "Widgets")
    )
    return write_model(folder, body, "growth.mdl", final=20, dt=0.5, saveper=1)


def explosive(folder: Path) -> Path:
    """Stock' = k Stock^2 from 1: finite-time blow-up at t = 1/k, so k above 0.1 diverges within 10 months."""
    body = (
        equation("Stock", "INTEG(k * Stock * Stock, 1)", "Widgets")
        + equation("k", "0.01", "1/(Widgets*Month) [0,2]", "explosiveness")
        + equation("calm", "1", "Dmnl [0,2]", "an input that changes nothing")
    )
    return write_model(folder, body, "explosive.mdl", final=10, dt=0.25, saveper=1)
