"""A precomputed grid of the main levers: what lets an exported page keep its sliders without a server.

The main controls are the plan's levers (or, for a model without levers, its assumptions) that move the
page's variables most over their ranges, one at a time from the plan (``rank_controls``). Each gets a few
values spread over its range, always including the plan's value and today's (``grid_values``); every
combination is run once, as one ensemble (``run_grid``). A slider in the exported page then snaps to the
grid and shows the precomputed run: the same numbers the live page gives at those settings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .whatif import Control, Plan, WhatIf

MAX_RUNS = 1000  # the largest grid an export embeds (about 3 MB of float32 curves for the flywheel)


@dataclass(frozen=True)
class Grid:
    """Runs of every combination of ``values`` (row-major: the last control varies fastest)."""

    controls: tuple[Control, ...]
    values: tuple[tuple[float, ...], ...]
    base: Plan
    times: np.ndarray
    series: dict[str, np.ndarray]  # variable -> (point, time)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.values)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.values else 1

    def point(self, index: int) -> dict[str, float]:
        """The control values of grid point ``index``."""
        choice = np.unravel_index(index, self.shape) if self.values else ()
        return {c.constant: self.values[k][int(i)] for k, (c, i) in enumerate(zip(self.controls, choice, strict=True))}

    def index_of(self, positions: Sequence[int]) -> int:
        return int(np.ravel_multi_index(tuple(positions), self.shape)) if self.values else 0


def rank_controls(whatif: WhatIf, plan: Plan, roles: Sequence[str] = ("plan",)) -> list[tuple[Control, float]]:
    """Controls of the given roles, the strongest first: how far their range's two ends move the page's
    panels apart (mean absolute difference over time, relative to each panel's typical size)."""
    candidates = [c for c in whatif.controls if c.role in roles]
    if not candidates:
        return []
    members = {c.constant: np.full(2 * len(candidates), plan.params[c.constant]) for c in candidates}
    for k, control in enumerate(candidates):
        members[control.constant][2 * k] = control.low
        members[control.constant][2 * k + 1] = control.high
    panels = [p.variable for p in whatif.profile.panels if p.variable in whatif.model.variables]
    runs = whatif.run_many(plan, members, panels)
    scored = []
    for k, control in enumerate(candidates):
        effect = 0.0
        for variable in panels:
            low, high = runs[variable][2 * k], runs[variable][2 * k + 1]
            scale = float(np.mean(np.abs(runs[variable]))) or 1.0
            difference = float(np.mean(np.abs(high - low))) / scale
            effect += difference if math.isfinite(difference) else 0.0
        scored.append((control, effect))
    return sorted(scored, key=lambda item: -item[1])


def grid_values(control: Control, keep: Sequence[float], count: int) -> tuple[float, ...]:
    """``count`` values over the control's range (snapped to its step) that include every value in ``keep``."""
    spread = list(np.linspace(control.low, control.high, count))
    chosen: list[float] = []
    for value in keep:  # each kept value replaces the nearest evenly spread one
        if any(math.isclose(value, c, abs_tol=control.step / 2) for c in chosen):
            continue
        if spread:
            spread.pop(int(np.argmin([abs(s - value) for s in spread])))
        chosen.append(float(value))
    snapped = [_snap(s, control) for s in spread]
    values = sorted({round(v, 12) for v in chosen + snapped})
    return tuple(values)


def run_grid(whatif: WhatIf, plan: Plan, *, max_runs: int = MAX_RUNS, max_controls: int = 4,
             roles: Sequence[str] | None = None, also: Sequence[Plan] = ()) -> Grid:  # fmt: skip
    """Run the grid of the main controls around ``plan`` (at most ``max_runs`` runs); each control's
    values include the plan's, today's and those of the plans in ``also`` (e.g. the alternative)."""
    if roles is None:
        roles = ("plan",) if any(c.role == "plan" for c in whatif.controls) else ("assumption",)
    ranked = [c for c, effect in rank_controls(whatif, plan, roles) if effect > 0][:max_controls]
    values: list[tuple[float, ...]] = []
    if ranked:
        count = max(2, int(math.floor(max_runs ** (1 / len(ranked)) + 1e-9)))
        for control in ranked:
            keep = [plan.params[control.constant]]
            today = _today_of(whatif, control)
            if today is not None:
                keep.append(plan.params[today])
            keep += [other.params[control.constant] for other in also if control.constant in other.params]
            values.append(grid_values(control, keep, min(count, 11)))
        while int(np.prod([len(v) for v in values])) > max_runs:  # kept values can add one point each
            longest = int(np.argmax([len(v) for v in values]))
            values[longest] = _thin(values[longest], [plan.params[ranked[longest].constant]])
    combos = list(itertools.product(*values)) if values else [()]
    members = {c.constant: np.array([combo[k] for combo in combos], dtype=float) for k, c in enumerate(ranked)}
    if members:
        series = whatif.run_many(plan, members)
    else:
        single = whatif.run(plan)
        series = {name: array[np.newaxis, :] for name, array in single.series.items()}
    return Grid(tuple(ranked), tuple(values), plan, whatif.times, series)


def _today_of(whatif: WhatIf, control: Control) -> str | None:
    if control.role != "plan":
        return None
    lever = whatif.profile.lever(control.group)
    return lever.before if lever is not None else None


def _snap(value: float, control: Control) -> float:
    snapped = control.low + round((value - control.low) / control.step) * control.step
    return float(min(max(snapped, control.low), control.high))


def _thin(values: tuple[float, ...], keep: Sequence[float]) -> tuple[float, ...]:
    """Drop one value (not a kept one, not an end if avoidable) from ``values``."""
    inner = [v for v in values[1:-1] if not any(math.isclose(v, k) for k in keep)]
    victims = inner or [v for v in values if not any(math.isclose(v, k) for k in keep)] or list(values[:1])
    drop = victims[len(victims) // 2]
    return tuple(v for v in values if v != drop)
