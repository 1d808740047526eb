"""Uncertainty for the what-if page: bands over the plans and the chance of reaching a goal.

The bands come from ``montecarlo`` (one sample of the uncertain inputs, the same draws for both plans:
differences between the plans are the policy's, not the sample's; a fixed seed, so a band does not
jitter while the sliders move). Which inputs are uncertain: a ranges file or table when one is given;
otherwise the model's *documented uncertainty*: every constant whose documented range is a band around
its value (low > 0, the value strictly inside, high at most ten times low), leaving out what the page
sets (policy levers, switch months, the shock and every slider), test switches and wide policy spaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from .montecarlo import MonteCarlo, Probability, montecarlo
from .ranges import Distribution, Ranges, load_ranges
from .subjects import Subject

if TYPE_CHECKING:
    from ..core import Model
    from .whatif import Plan, WhatIf

DOCUMENTED = "the model's documented uncertainty ranges"
_MAX_WIDTH = 10.0  # a range wider than high/low = 10 is a policy space or a scale, not an uncertainty band


def documented_uncertainty(model: Model, exclude: Iterable[str] = ()) -> Ranges:
    """Uniform ranges over the constants whose documented range is an uncertainty band (module text)."""
    skip = set(exclude)
    items = []
    for name in model.constants:
        info = model.variables[name]
        if name in skip or not info.limits or info.default is None:
            continue
        low, high = info.limits
        if low is None or high is None or not 0 < low < info.default < high or high / low > _MAX_WIDTH:
            continue
        items.append(Distribution(name, "uniform", float(low), float(high)))
    return Ranges(tuple(items), DOCUMENTED)


def page_ranges(whatif: WhatIf, source: Any = None) -> Ranges:
    """The inputs the page's bands vary: ``source`` (a ranges file, dict or Ranges) or the documented ones."""
    if source is not None:
        return load_ranges(source, whatif.model)
    exclude = whatif.policy_constants | {c.constant for c in whatif.controls}
    return documented_uncertainty(whatif.model, exclude)


@dataclass(frozen=True)
class Goal:
    """"``variable`` at least ``threshold`` at time ``time``" (e.g. attainment >= 0.95 in month 60)."""

    variable: str
    threshold: float
    time: float

    @property
    def condition(self) -> str:
        return f'"{self.variable}" >= {self.threshold!r} at {self.time:g}'


def plan_uncertainty(whatif: WhatIf, plans: Sequence[Plan], ranges: Ranges, *, n: int = 500, seed: int = 0,
                     variables: Sequence[str] | None = None) -> MonteCarlo:  # fmt: skip
    """``n`` runs of every plan over one sample of ``ranges`` (the same draws for each plan)."""
    if len(ranges) == 0:
        raise ParameterError(
            f"{whatif.model.path.name}: no uncertain inputs (no documented uncertainty ranges beyond the "
            "sliders); give a ranges file"
        )
    items = [Subject(whatif.model, whatif.spec(plan), plan.name, plan.title) for plan in plans]
    keep = list(variables or [p.variable for p in whatif.profile.panels])
    return montecarlo(items, ranges, n=n, seed=seed, variables=keep)


def goal_chances(result: MonteCarlo, goal: Goal) -> dict[str, Probability]:
    """The chance of reaching ``goal`` for every plan in ``result``, with its Wilson interval."""
    return {name: result.probability(goal.condition, name) for name in result.scenarios}
