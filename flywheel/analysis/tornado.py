"""One lever at a time: each uncertain input at its low and its high value, the others at the base.

``tornado(model_or_scenario, ranges, outcome)`` runs 2 k + 1 members as one ensemble (the base, then
each of k inputs at low and at high) and sorts the inputs by the swing they cause in a one-number
outcome ("final Target Attainment", "Trust at month 60", "min Trust", ...; see ``analysis.quantities``).
Low and high are a uniform or triangular range's ends, and the 5th and 95th percentiles of a normal or
lognormal one (a plausible swing rather than a tail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .quantities import parse_quantity
from .ranges import Distribution, Ranges
from .subjects import ranges_for, subject

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Tornado:
    """The outcome at the base and with each input at its low and high value (every field always exists).

    ``table``: one row per input, largest swing first: ``base_value`` (the input's value in the base run),
    ``low``, ``high`` (the input's values), ``outcome_low``, ``outcome_high`` (the outcome with the input at
    low / high) and ``swing`` = |outcome_high - outcome_low|. ``diverged``: inputs whose low or high run
    blew up (their outcomes are NaN)."""

    outcome: str
    title: str
    base_outcome: float
    table: pd.DataFrame
    ranges: Ranges
    diverged: tuple[str, ...] = ()
    units: str = ""

    def report(self) -> str:
        lines = [f"One input at a time: {self.outcome} ({self.title})",
                 f"  base: {self.base_outcome:.4g}; {len(self.table)} inputs, ranges from {self.ranges.source}",
                 f"    {'input':<36} {'low':>10} {'high':>10} {'at low':>10} {'at high':>10} {'swing':>9}"]  # fmt: skip
        for name, row in self.table.iterrows():
            lines.append(f"    {name[:36]:<36} {row.low:>10.4g} {row.high:>10.4g} {row.outcome_low:>10.4g} "
                         f"{row.outcome_high:>10.4g} {row.swing:>9.3g}")  # fmt: skip
        if self.diverged:
            lines.append(f"  runs diverged with: {', '.join(self.diverged)} (outcome NaN; narrow those ranges)")
        return "\n".join(lines)

    def plot(self, top: int = 15) -> Figure:
        """The tornado chart: a bar per input from its low-value to its high-value outcome, largest on top."""
        from .uncertainty_figures import tornado_chart

        return tornado_chart(self, top)


def swing_values(distribution: Distribution) -> tuple[float, float]:
    """The low and high value of one input for a tornado (see the module text)."""
    if distribution.kind in ("uniform", "triangular"):
        return float(distribution.low), float(distribution.high)
    low, high = distribution.ppf(np.array([0.05, 0.95]))
    return float(low), float(high)


def tornado(
    model_or_scenario: Any,
    ranges: Any = None,
    outcome: Any = None,
    *,
    scenario: Any = None,
) -> Tornado:
    """Each input in ``ranges`` at its low and high value, the others at the base (see the module text)."""
    import pandas as pd

    from ..core import simulate

    the_subject = subject(scenario if scenario is not None else model_or_scenario)
    the_ranges = ranges_for(ranges, the_subject)
    model, spec = the_subject.model, the_subject.spec
    if outcome is None:
        raise ParameterError("outcome: name the one-number outcome to compare, e.g. 'final Target Attainment'")
    quantity = parse_quantity(outcome, list(model.variables), "outcome")
    if quantity.is_series:
        raise ParameterError(
            f"outcome {quantity.label!r} changes over time: choose a month ('{quantity.variable} at month 60') "
            "or a summary (final, min, max, mean, cumulative)"
        )
    save_times = spec.time.grid.save_times
    quantity.check_times(save_times, f"outcome {quantity.label!r}")
    names = the_ranges.names
    params = model.parameters(spec)
    base = {name: float(params[name].value) for name in names}
    columns = {name: np.full(2 * len(names) + 1, base[name]) for name in names}
    swings = {}
    for i, name in enumerate(names):
        low, high = swing_values(the_ranges[name])
        swings[name] = (low, high)
        columns[name][1 + 2 * i] = low
        columns[name][2 + 2 * i] = high
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence shows as NaN and in ``diverged``
        result = simulate(spec, members=columns, columns=[quantity.variable])
    values = quantity.evaluate(result.values[0], result.times)
    values = np.where(result.diverged, np.nan, values)
    rows = []
    for i, name in enumerate(names):
        at_low, at_high = float(values[1 + 2 * i]), float(values[2 + 2 * i])
        rows.append({"parameter": name, "base_value": base[name], "low": swings[name][0], "high": swings[name][1],
                     "outcome_low": at_low, "outcome_high": at_high, "swing": abs(at_high - at_low)})  # fmt: skip
    table = pd.DataFrame(rows).set_index("parameter").sort_values("swing", ascending=False, na_position="first")
    diverged = tuple(n for i, n in enumerate(names) if result.diverged[1 + 2 * i] or result.diverged[2 + 2 * i])
    units = model.variables[quantity.variable].units if not quantity.kind.startswith("first_") else "time"
    return Tornado(quantity.label, the_subject.title, float(values[0]), table, the_ranges, diverged, units)
