"""Tipping points: where a long-run outcome jumps as one input moves.

``tipping(model_or_scenario, lever, low, high)`` sweeps the input with the ensemble engine (a thousand
values in one call), finds every place where the outcome jumps (a discontinuity, or a change far
steeper than the rest of the sweep), and refines each threshold by bisection to the tolerance asked:
each round evaluates a few dozen points inside the bracket as one ensemble, so a bracket narrows
about thirty-fold per round. The input may be a profile lever (its Before and After values move
together, so the lever holds for the whole run), any constant, or a stock's initial value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Model, RunSpec, simulate
from ..errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

_ROUND = 32  # points per bisection round (one ensemble)


@dataclass(frozen=True)
class Threshold:
    """One tipping point: the input's value (within ``tolerance``) and the outcome on either side."""

    value: float
    tolerance: float
    outcome_below: float  # just below the threshold
    outcome_above: float  # just above it

    @property
    def jump(self) -> float:
        return self.outcome_above - self.outcome_below


@dataclass(frozen=True)
class Tipping:
    """What ``tipping`` found: the thresholds, and the sweep they were found in (for the figure)."""

    input: str  # the lever or constant swept
    constants: tuple[str, ...]  # the model constants set to each value
    outcome: str
    at: float  # the time the outcome is read
    thresholds: tuple[Threshold, ...]
    sweep: np.ndarray  # the input values
    outcomes: np.ndarray  # the outcome at each
    own_value: float | None  # the scenario's (or the model's) value of the input
    title: str = ""
    level: float | None = None
    evaluations: int = 0
    diverged: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {"threshold": t.value, "tolerance": t.tolerance, "outcome_below": t.outcome_below,
             "outcome_above": t.outcome_above, "jump": t.jump}  # fmt: skip
            for t in self.thresholds
        ]
        return pd.DataFrame(rows, columns=["threshold", "tolerance", "outcome_below", "outcome_above", "jump"])

    def report(self) -> str:
        lines = [f"Tipping points of {self.outcome} at {self.at:g}{self._level_text()} as {self.input} goes from "
                 f"{self.sweep[0]:g} to {self.sweep[-1]:g} ({len(self.sweep)} values, {self.evaluations} runs)"]  # fmt: skip
        if not self.thresholds:
            lines.append("  no jump: the outcome changes smoothly over the whole range")
        for t in self.thresholds:
            lines.append(f"  {self.input} = {t.value:.6g} (+- {t.tolerance:.1g}): {self.outcome} "
                         f"{t.outcome_below:.4g} below, {t.outcome_above:.4g} above")  # fmt: skip
        if self.own_value is not None:
            lines.append(f"  this scenario's value: {self.own_value:g}")
        if self.diverged:
            lines.append(f"  {self.diverged} runs blew up (NaN/inf) and are left out")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def _level_text(self) -> str:
        return f" (crossing {self.level:g})" if self.level is not None else ""

    def plot(self, units: str = "", outcome_units: str = "") -> Figure:
        """Long-run outcome against the input, bifurcation-diagram style: thresholds and own value marked."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 5.6), layout="constrained")
        ax = fig.subplots()
        ax.plot(self.sweep, self.outcomes, ".", color="#0072B2", markersize=3, label=f"{self.outcome} at {self.at:g}")
        for i, t in enumerate(self.thresholds):
            ax.axvline(t.value, color="#D55E00", linewidth=1.6, linestyle="--", label="tipping point" if i == 0 else None)
            ax.annotate(f"{t.value:.4g}", xy=(t.value, 1), xycoords=("data", "axes fraction"), xytext=(4, -14),
                        textcoords="offset points", color="#D55E00", fontsize=11, fontweight="bold")  # fmt: skip
        if self.own_value is not None:
            ax.axvline(self.own_value, color="0.25", linewidth=1.2, linestyle=":", label="this scenario")
        if self.level is not None:
            ax.axhline(self.level, color="0.5", linewidth=1.0, linestyle="-.", label=f"level {self.level:g}")
        ax.set_xlabel(f"{self.input}" + (f" ({units})" if units else ""), fontsize=12)
        ax.set_ylabel(f"{self.outcome}" + (f" ({outcome_units})" if outcome_units else "") + f" at {self.at:g}", fontsize=12)
        ax.set_title(self.title or f"Where {self.outcome} tips as {self.input} changes", loc="left", fontsize=14, fontweight="bold")
        ax.grid(True, color="0.9")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=10)
        return fig


def tipping(
    model_or_scenario: Any,
    lever: str,
    low: float,
    high: float,
    *,
    outcome: str = "Target Attainment",
    at: float | None = None,
    tol: float = 1e-4,
    n: int = 1000,
    final_time: float | None = None,
    steepness: float = 8.0,
    level: float | None = None,
) -> Tipping:
    """Sweep ``lever`` over ``[low, high]`` (``n`` values), find where ``outcome`` (read at time ``at``,
    default the final time; ``final_time`` extends the run for a long-run outcome) tips, and refine each
    threshold to ``tol``.

    Without ``level``, a tipping point is a jump: a step between neighbouring values larger than
    ``steepness`` times the median step (and than 0.5% of the outcome's range), i.e. a discontinuity or
    a change far steeper than the rest of the sweep. With ``level``, it is where the outcome crosses that
    level (e.g. long-run attainment 0.8: "in the trap" below it)."""
    model, spec, title = _model_and_spec(model_or_scenario, final_time)
    constants, label, own = _input(model, spec, lever)
    for name in constants:
        lo_doc, hi_doc = model.variables[name].limits
        if (lo_doc is not None and low < lo_doc) or (hi_doc is not None and high > hi_doc):
            shown = f"[{'-inf' if lo_doc is None else f'{lo_doc:g}'}, {'inf' if hi_doc is None else f'{hi_doc:g}'}]"
            raise ParameterError(f"{label}: the range {low:g}:{high:g} goes outside the documented range {shown} of {name}")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ParameterError(f"{label}: the range must be two numbers, low below high (got {low!r}:{high!r})")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ParameterError(f"tol must be a positive number, got {tol!r}")
    outcome = model.resolve_name(outcome)
    read_at = float(spec.time.final_time if at is None else at)
    evaluate = _evaluator(spec, constants, outcome, read_at)

    xs = np.linspace(low, high, n)
    ys, bad = evaluate(xs)
    runs, diverged = n, int(bad.sum())
    ok = ~bad
    thresholds = []
    brackets = _crossings(ys[ok], level) if level is not None else _jumps(xs[ok], ys[ok], steepness)
    for i in brackets:
        left, right = xs[ok][i], xs[ok][i + 1]
        y_left, y_right = ys[ok][i], ys[ok][i + 1]
        middle = 0.5 * (y_left + y_right) if level is None else level
        rising = y_right > y_left
        while right - left > tol:
            inside = np.linspace(left, right, _ROUND + 2)[1:-1]
            values, broken = evaluate(inside)
            runs += len(inside)
            values = np.where(broken, np.nan, values)
            upper = values > middle if rising else values < middle  # on the right of the threshold
            first = int(np.argmax(upper)) if upper.any() else len(inside)
            new_left = inside[first - 1] if first > 0 else left
            new_right = inside[first] if first < len(inside) else right
            if first > 0:
                y_left = values[first - 1]
            if first < len(inside):
                y_right = values[first]
            left, right = new_left, new_right
        thresholds.append(Threshold(0.5 * (left + right), 0.5 * (right - left), float(y_left), float(y_right)))
    notes = ()
    if not ok.any():
        notes = ("every run blew up: no outcome to read",)
    return Tipping(label, tuple(constants), outcome, read_at, tuple(thresholds), xs, np.where(bad, np.nan, ys), own,
                   title, level, runs, diverged, notes)  # fmt: skip


def _crossings(ys: np.ndarray, level: float) -> list[int]:
    """Indices i where ys crosses ``level`` between i and i+1."""
    above = ys >= level
    return [int(i) for i in np.flatnonzero(above[1:] != above[:-1])]


def _jumps(xs: np.ndarray, ys: np.ndarray, steepness: float) -> list[int]:
    """Indices i where ys jumps between xs[i] and xs[i+1], one per jump (the steepest of a run of steps)."""
    if len(ys) < 3:
        return []
    steps = np.abs(np.diff(ys))
    span = float(np.nanmax(ys) - np.nanmin(ys))
    if span == 0 or not np.isfinite(span):
        return []
    floor = max(steepness * float(np.median(steps)), 0.005 * span)
    steep = steps > floor
    found = []
    i = 0
    while i < len(steps):
        if steep[i]:
            j = i
            while j + 1 < len(steps) and steep[j + 1]:
                j += 1
            found.append(i + int(np.argmax(steps[i : j + 1])))
            i = j + 1
        else:
            i += 1
    return found


def _evaluator(spec: RunSpec, constants: tuple[str, ...], outcome: str, at: float):
    def evaluate(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        table = {name: values for name in constants}
        result = simulate(spec, members=table, columns=[outcome], times=[at])
        return result.values[0, :, 0].copy(), result.diverged.copy()

    return evaluate


def _input(model: Model, spec: RunSpec, name: str) -> tuple[tuple[str, ...], str, float | None]:
    """The constants a swept input sets, its label, and its value in the spec."""
    from ..scenarios import load_profile

    lever = load_profile(model).lever(name)
    if lever is not None:
        value = spec.params.get(lever.before, model.variables[lever.before].default)
        return (lever.before, lever.after), name, value
    resolved = model.resolve_name(name)
    info = model.variables[resolved]
    if info.kind == "stock":
        start = spec.initial_values.get(resolved)
        return (resolved,), resolved, start
    if info.kind != "constant":
        raise ParameterError(f"{resolved!r} is a {info.kind}; sweep a lever, a constant or a stock's initial value")
    return (resolved,), resolved, spec.params.get(resolved, info.default)


def _model_and_spec(source: Any, final_time: float | None) -> tuple[Model, RunSpec, str]:
    if isinstance(source, Model):
        model, spec, title = source, source.spec(), ""
    elif hasattr(source, "model_path") and hasattr(source, "spec"):
        from ..scenarios import get_model

        model = get_model(source.model_path)
        spec, title = source.spec(model), source.title
    else:
        raise TypeError("tipping needs a Model or a scenario")
    if final_time is not None:
        spec = spec.replace(final_time=final_time)
    return model, spec, title

