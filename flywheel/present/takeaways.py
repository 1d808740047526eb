"""Plain-language takeaways from runs: "overlays triple by month 48; customer time falls from 41% to 27%".

Computed from the numbers of each run (a DataFrame indexed by time, or anything with ``times`` and a
``series`` mapping, such as the what-if engine's ``PlanRun``: no pandas on the page's hot path) and the
model's profile (its panels name the variables and say
which are shares), never written by hand: for each plan the largest movements of its panels (a growth
or a fall by a whole factor, with the month it is reached; a dip and recovery; a rise or fall from start
to end), then how the plans differ at the end on the goal (the first panel with a reference line) and on
the panel where they differ most. Small movements (under 5 % of the starting value, or 2 points of a
share) are not worth a sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..scenarios import Panel, Profile

Run = tuple[np.ndarray, dict[str, np.ndarray]]  # (times, {variable: values})

__all__ = ["Takeaway", "as_arrays", "format_value", "plan_sentences", "takeaways"]

_FACTORS = {2: ("doubles", "double"), 3: ("triples", "triple"), 4: ("quadruples", "quadruple")}
_FALLS = {2: "half", 3: "a third", 4: "a quarter"}
_MIN_RELATIVE = 0.05
_MIN_POINTS = 0.02


@dataclass(frozen=True)
class Takeaway:
    """One sentence; ``plan`` is the run it is about (None when it compares runs)."""

    plan: str | None
    text: str


def takeaways(runs: Mapping[str, Any], profile: Profile, nouns: Mapping[str, str],
              time_unit: str = "month", limit: int = 3) -> list[Takeaway]:  # fmt: skip
    """Sentences about each run (keyed like ``nouns``: key -> "your plan") and how they differ."""
    unit = _unit(time_unit)
    runs = {key: as_arrays(run) for key, run in runs.items()}
    out = []
    for key, frame in runs.items():
        phrases = plan_sentences(frame, profile, unit, limit)
        if phrases:
            out.append(Takeaway(key, f"{_capital(nouns.get(key, key))}: {'; '.join(phrases)}."))
    if len(runs) >= 2:
        out += _comparisons(runs, profile, nouns, unit)
    return out


def as_arrays(run: Any) -> Run:
    """``(times, {variable: values})`` of a DataFrame indexed by time or of a ``PlanRun``-like object."""
    if isinstance(run, tuple):
        return run
    if hasattr(run, "series") and hasattr(run, "times"):
        return np.asarray(run.times, dtype=float), {k: np.asarray(v, dtype=float) for k, v in run.series.items()}
    return run.index.to_numpy(dtype=float), {str(c): run[c].to_numpy(dtype=float) for c in run.columns}


def plan_sentences(run: Any, profile: Profile, unit: str = "month", limit: int = 3) -> list[str]:
    """The ``limit`` largest movements of the profile's panels in one run, as phrases."""
    times, series = as_arrays(run)
    scored = []
    for panel in profile.panels:
        if panel.variable not in series:
            continue
        found = _movement(times, series[panel.variable], panel, unit)
        if found is not None:
            scored.append(found)
    scored.sort(key=lambda item: -item[0])
    return [text for _, text in scored[:limit]]


def format_value(value: float, percent: bool = False) -> str:
    """A number as a person would say it: shares as whole percents, others to two significant digits."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if percent:
        return f"{value * 100:.0f}%"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size == 0:
        return "0"
    digits = max(0, 1 - math.floor(math.log10(size)))
    return f"{value:.{digits}f}"


# ------------------------------------------------------------------------------------------- one run


def _movement(times: np.ndarray, values: np.ndarray, panel: Panel, unit: str) -> tuple[float, str] | None:
    if len(values) < 2 or not np.all(np.isfinite(values)):
        return None
    start, end = values[0], values[-1]
    noun, plural = _noun(panel.label)
    fmt = lambda v: format_value(v, panel.percent)  # noqa: E731
    verb = lambda singular, many: many if plural else singular  # noqa: E731
    if start > 0:
        peak, low = values.max(), values.min()
        factor = int(math.floor(peak / start + 1e-9))
        if factor >= 2:
            month = times[np.argmax(values >= factor * start)]
            word = _FACTORS.get(factor, (f"grows {factor}-fold", f"grow {factor}-fold"))
            text = f"{noun} {verb(*word)} by {unit} {month:g}"
            if end < 0.75 * peak:
                text += f", then {verb('eases', 'ease')} to {fmt(end)}"
            return math.log(peak / start), text
        shrink = int(math.floor(start / low + 1e-9)) if low > 0 else 5
        if shrink >= 2:
            month = times[np.argmax(values <= start / min(shrink, 4))]
            share = _FALLS.get(min(shrink, 4), "a quarter")
            return math.log(start / max(low, 1e-12)), f"{noun} {verb('falls', 'fall')} to {share} by {unit} {month:g}"
    change = end - start
    big = abs(change) >= _MIN_POINTS if panel.percent else abs(change) >= _MIN_RELATIVE * max(abs(start), 1e-12)
    dip = values.min()
    dipped = (start - dip) >= (_MIN_POINTS if panel.percent else 0.1 * abs(start)) and dip < end
    if dipped and abs(end - start) < (start - dip) / 2:
        month = times[int(np.argmin(values))]
        score = (start - dip) / max(abs(start), 1e-12)
        recovers = verb("recovers", "recover")
        return score, f"{noun} {verb('dips', 'dip')} to {fmt(dip)} in {unit} {month:g} and {recovers} to {fmt(end)}"
    if big:
        direction = verb("rises", "rise") if change > 0 else verb("falls", "fall")
        score = abs(change) / max(abs(start), 1e-12)
        return score, f"{noun} {direction} from {fmt(start)} to {fmt(end)}"
    return None


# -------------------------------------------------------------------------------------- comparisons


def _comparisons(runs: Mapping[str, Run], profile: Profile, nouns: Mapping[str, str], unit: str) -> list[Takeaway]:
    keys = list(runs)
    first, second = keys[0], keys[1]
    (times, a), (_, b) = runs[first], runs[second]
    out = []
    panels = [p for p in profile.panels if p.variable in a and p.variable in b]
    if not panels:
        return out
    goal = next((p for p in panels if p.reference is not None), panels[0])
    end = times[-1]
    goal_noun, _ = _noun(goal.label)
    va, vb = float(a[goal.variable][-1]), float(b[goal.variable][-1])
    out.append(Takeaway(None, f"By {unit} {end:g}, {goal_noun} is {format_value(va, goal.percent)} under "
                              f"{nouns.get(first, first)} and {format_value(vb, goal.percent)} under "
                              f"{nouns.get(second, second)}."))  # fmt: skip
    gaps = []
    for panel in panels:
        if panel is goal:
            continue
        x, y = float(a[panel.variable][-1]), float(b[panel.variable][-1])
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        size = max(abs(x), abs(y))
        gap = abs(x - y) / size if size > 0 else 0.0
        if (panel.percent and abs(x - y) < _MIN_POINTS) or gap < _MIN_RELATIVE:
            continue
        gaps.append((gap, panel, x, y))
    if gaps:
        _, panel, x, y = max(gaps, key=lambda item: item[0])
        noun, plural = _noun(panel.label)
        out.append(Takeaway(None, f"{_capital(noun)} {'end' if plural else 'ends'} at {format_value(x, panel.percent)} "
                                  f"under {nouns.get(first, first)} and {format_value(y, panel.percent)} under "
                                  f"{nouns.get(second, second)}."))  # fmt: skip
    for measure in profile.measures:
        if measure.statistic not in ("first_below", "first_above") or measure.variable not in a:
            continue
        when = [_first(runs[k][0], runs[k][1][measure.variable], measure.statistic, measure.threshold)
                for k in (first, second)]  # fmt: skip
        if when[0] == when[1]:
            continue
        noun, plural = _noun(next((p.label for p in panels if p.variable == measure.variable), measure.variable))
        side = "below" if measure.statistic == "first_below" else "above"
        share = next((p.percent for p in panels if p.variable == measure.variable), False)
        parts = [f"in {unit} {t:g} under {nouns.get(k, k)}" if t is not None else f"never under {nouns.get(k, k)}"
                 for t, k in zip(when, (first, second), strict=True)]  # fmt: skip
        verb = "go" if plural else "goes"
        out.append(Takeaway(None, f"{_capital(noun)} first {verb} {side} "
                                  f"{format_value(measure.threshold, share)} {parts[0]}; {parts[1]}."))  # fmt: skip
    return out


def _first(times: np.ndarray, values: np.ndarray, statistic: str, threshold: float) -> float | None:
    hits = values < threshold if statistic == "first_below" else values > threshold
    return float(times[int(np.argmax(hits))]) if hits.any() else None


# -------------------------------------------------------------------------------------------- words


def _noun(label: str) -> tuple[str, bool]:
    """A panel label as a noun inside a sentence ("Overlays (FTE per 10 sellers)" -> "overlays"), and
    whether it takes a plural verb: its head word (the last before "of", "with", "making" ...) is a
    plural ("overlays", "sales", "sellers making quota"; not "sales force", "sellers' time")."""
    text = re.sub(r"\s*\([^)]*\)", "", label).strip() or label
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split()]
    head = words[:1]
    for word in words[1:]:
        if word in _PREPOSITIONS or word.endswith("ing"):
            break
        head.append(word)
    last = head[-1] if head else ""
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is", "'s"))
    return " ".join(words) or label, plural


_PREPOSITIONS = {"of", "with", "per", "in", "for", "at", "to", "from", "by", "on", "between", "and", "or"}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unit(time_unit: str) -> str:
    unit = (time_unit or "time").strip().lower()
    return unit[:-1] if unit.endswith("s") and len(unit) > 3 else unit
