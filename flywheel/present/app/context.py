"""What the page starts from: the model, your plan's first settings, the alternatives and the ranges.

Built once per server (every browser session gets its own page over the same context). With scenario
files: the first sets "your plan" (and the page's time settings), the second is the alternative shown
first, all are offered as alternatives. Without: your plan carries on as today in the world of the first
alternative (its shock and assumptions), and the alternative shown first is the first scenario in the
folder that changes a lever. Every scenario of the same model in the folder is offered as an
alternative; files for other models are left out, broken files are listed in ``skipped``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...analysis.ranges import Ranges
from ...analysis.whatif import Plan, WhatIf
from ...analysis.whatif_uncertainty import page_ranges
from ...errors import FlywheelError, ScenarioError

CARRY_ON = "carry_on"


@dataclass
class AppContext:
    """Shared by every session: ``alternatives`` maps a key to a Scenario (None: carry on as today)."""

    whatif: WhatIf
    start: Plan
    alternatives: dict[str, Any]
    alternative: str
    ranges: Ranges
    runs: int = 500
    seed: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def model(self) -> Any:
        return self.whatif.model

    def alternative_title(self, key: str) -> str:
        scenario = self.alternatives[key]
        return scenario.title if scenario is not None else "Carry on as today (no change of practice)"


def build_context(scenarios: Sequence[str | os.PathLike[str]] = (), *, model: str | os.PathLike[str] | None = None,
                  folder: str | os.PathLike[str] | None = None, ranges: Any = None, runs: int = 500,
                  seed: int = 0) -> AppContext:  # fmt: skip
    """Load and check everything the page needs (one clear FlywheelError for any bad input)."""
    from ...scenarios import get_model, list_scenarios, load_scenario

    given = [load_scenario(path) for path in scenarios]
    if given:
        the_model = get_model(given[0].model_path)
        for other in given[1:]:
            if Path(other.model_path).resolve() != Path(given[0].model_path).resolve():
                raise ScenarioError(f"{other.path}: runs {Path(other.model_path).name}, but {given[0].path} runs "
                                    f"{Path(given[0].model_path).name}; the page compares plans of one model")  # fmt: skip
    elif model is not None:
        the_model = get_model(model)
    else:
        raise ScenarioError("name a scenario file or a model")
    whatif = WhatIf(the_model, given[0].simulation if given else None)

    alternatives: dict[str, Any] = {CARRY_ON: None}
    for scenario in given[1:]:
        alternatives.setdefault(scenario.name, scenario)
    skipped: list[str] = []
    if folder is not None and Path(folder).is_dir():
        model_file = Path(the_model.path).resolve()
        for listing in list_scenarios(folder):
            if listing.error is not None:
                skipped.append(listing.error)
                continue
            try:
                scenario = load_scenario(listing.path)
            except FlywheelError as exc:
                skipped.append(str(exc))
                continue
            if Path(scenario.model_path).resolve() == model_file and scenario.name not in alternatives:
                alternatives[scenario.name] = scenario
    if len(given) >= 2:
        first_alternative = given[1].name
    else:
        changing = [k for k, s in alternatives.items() if s is not None and s.switch_months
                    and not (given and s.name == given[0].name)]  # fmt: skip
        first_alternative = changing[0] if changing else CARRY_ON

    if given:
        start = whatif.plan(given[0], title="Your plan")
    else:  # carry on as today, in the first alternative's world
        start = whatif.plan(None, title="Your plan")
        world = alternatives[first_alternative]
        if world is not None:
            values = whatif.effective(dict(world.params))
            assumptions = {c.constant: values[c.constant] for c in whatif.controls if c.role == "assumption"}
            start = start.with_values(assumptions)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 10:
        raise FlywheelError(f"runs must be a whole number of at least 10, got {runs!r}")
    return AppContext(whatif, start, alternatives, first_alternative, page_ranges(whatif, ranges), runs, seed, skipped)
