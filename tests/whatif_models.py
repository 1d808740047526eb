"""A small model with a profile, written for the what-if page's tests (levers, a shock, uncertain numbers)."""

from __future__ import annotations

from pathlib import Path

from .model_text import equation, write_model

TEAM_BODY = (
    equation("Morale", "INTEG((Target Morale - Morale) / Adjustment Time, 0.5)", "Dmnl", "Morale of the team.")
    + equation("Target Morale", "MIN(1, 0.3 + Coaching * Coaching Effect)", "Dmnl")
    + equation("Coaching", "IF THEN ELSE(Time >= Coaching Switch Month, Coaching After, Coaching Before)", "Dmnl")
    + equation("Coaching Before", "0.2", "Dmnl [0,1]",
               "Culture. Share of management time spent coaching before the switch. Status quo 0.2 (judgement).")
    + equation("Coaching After", "0.2", "Dmnl [0,1]", "Coaching from Coaching Switch Month on.")
    + equation("Coaching Switch Month", "5", "Month [0,40]", "Month at which Coaching switches.")
    + equation("Coaching Effect", "1", "Dmnl [0.5,1.5]", "How much coaching lifts morale (judgement).")
    + equation("Adjustment Time", "4", "Month [2,8]", "Months for morale to follow its target.")
    + equation("Capacity", "100", "Widgets/Month [50,200]", "Output of a fully motivated team.")
    + equation("Output", "Morale * Capacity * (1 - Shock Size * STEP(1, Shock Month))", "Widgets/Month",
               "What the team delivers.")  # fmt: skip
    + equation("Attainment", "Output / 50", "Dmnl", "Output against the plan of 50 widgets a month.")
    + equation("Shock Size", "0", "Dmnl [0,0.5]", "Test input: share of output lost from Shock Month on.")
    + equation("Shock Month", "10", "Month [0,40]", "Test input: month of the shock.")
)

TEAM_PROFILE = """
[model]
title = "Team"
time_unit = "Month"
story = "Coaching lifts morale. Morale makes output."
caveats = ["A toy model for tests."]

[shock]
size = "Shock Size"
month = "Shock Month"
label = "shock"

[[lever]]
name = "Coaching"
label = "Coaching share"
dimension = "culture"
step = 0.05

[[assumption]]
name = "Shock Size"
label = "Shock (share of output lost)"
step = 0.01

[[assumption]]
name = "Shock Month"
label = "Month of the shock"
step = 1

[[panel]]
variable = "Attainment"
label = "Attainment"
reference = 1.0
percent = true

[[panel]]
variable = "Morale"
label = "Morale"
percent = true

[[panel]]
variable = "Output"
label = "Widgets (per month)"

[[measure]]
name = "final_attainment"
label = "Final attainment (%)"
variable = "Attainment"
scale = 100
digits = 1

[[measure]]
name = "below"
label = "First month below 90%"
variable = "Attainment"
statistic = "first_below"
threshold = 0.9
"""


def write_team(folder: Path) -> Path:
    """``team.mdl`` with its profile in ``folder``; 40 months, step 0.25."""
    path = write_model(folder, TEAM_BODY, name="team.mdl", final=40, dt=0.25)
    (Path(folder) / "team.profile.toml").write_text(TEAM_PROFILE, encoding="utf-8")
    return path


def team_scenario(folder: Path, name: str, body: str, title: str | None = None) -> Path:
    path = Path(folder) / f"{name}.toml"
    path.write_text(f'title = "{title or name}"\nmodel = "team.mdl"\n{body}', encoding="utf-8")
    return path
