"""Write small Vensim models for tests."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
TEST_MODELS = SHARED / "sd-test-models"

CONTROL = """
********************************************************
\t.Control
********************************************************~
\t\tSimulation Control Parameters
\t|

FINAL TIME  = {final}
\t~\tMonth
\t~\tThe final time for the simulation.
\t|

INITIAL TIME  = 0
\t~\tMonth
\t~\tThe initial time for the simulation.
\t|

SAVEPER  = {saveper}
\t~\tMonth [0,?]
\t~\tThe frequency with which output is stored.
\t|

TIME STEP  = {dt}
\t~\tMonth [0,?]
\t~\tThe time step for the simulation.
\t|

\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
"""


def equation(name: str, expr: str, units: str = "", doc: str = "") -> str:
    return f"{name} = {expr}\n\t~\t{units}\n\t~\t{doc}\n\t|\n\n"


def write_model(folder: Path, body: str, name: str = "model.mdl", final=10, dt=0.25, saveper=1) -> Path:
    path = Path(folder) / name
    path.write_text("{UTF-8}\n" + body + CONTROL.format(final=final, dt=dt, saveper=saveper), encoding="utf-8")
    return path
