"""What the page's download buttons give: your plan as a scenario file, both plans' runs as one CSV.

The scenario file is ``scenarios.writing.scenario_text`` (read back by ``load_scenario`` and ``flywheel
run`` to the same run); the CSV has every variable of both plans, one row per saved time and plan.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ...analysis.whatif import Plan, WhatIf


def plan_file(whatif: WhatIf, plan: Plan, compared_with: str | None = None) -> io.BytesIO:
    from ...scenarios.writing import scenario_text

    against = f" Compared on the page with: {compared_with}." if compared_with else ""
    text = scenario_text("Your plan (from the what-if page)", whatif.model, plan.params,
                         description=f"Saved from the flywheel what-if page.{against}",
                         simulation=whatif.simulation)  # fmt: skip
    return io.BytesIO(text.encode("utf-8"))


def data_file(whatif: WhatIf, plans: Mapping[str, Plan], titles: Mapping[str, str]) -> io.BytesIO:
    """Every variable of each plan's run, with a ``plan`` column (its title)."""
    import pandas as pd

    frames: list[Any] = []
    for key, plan in plans.items():
        frame = whatif.full_frame(plan).reset_index()
        frame.insert(0, "plan", titles.get(key, plan.title))
        frames.append(frame)
    return io.BytesIO(pd.concat(frames, ignore_index=True).to_csv(index=False).encode("utf-8"))
