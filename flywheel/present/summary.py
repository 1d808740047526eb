"""The comparison table: a handful of numbers per scenario that answer "how bad does it get?".

Which numbers is the model's business: its profile lists the summary measures (a variable and a
statistic: final value, minimum, maximum, mean, first time below a threshold, ratio of sums).
``summarise`` gives a DataFrame for CSV and code; ``format_summary`` renders it for a terminal with
readable headers and units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps `flywheel --help` fast
    import pandas as pd

    from ..scenarios import Measure, Profile

__all__ = ["format_summary", "measure_of", "measure_value", "render_table", "summarise"]


def measure_value(df: pd.DataFrame, measure: Measure) -> float:
    """One measure of one run (NaN when the run lacks the variable)."""
    if measure.variable not in df.columns:
        return math.nan
    denominator = None
    if measure.statistic == "ratio_of_sums":
        if measure.denominator not in df.columns:
            return math.nan
        denominator = df[measure.denominator].to_numpy(dtype=float)
    return measure_of(df.index.to_numpy(dtype=float), df[measure.variable].to_numpy(dtype=float), measure, denominator)


def measure_of(times: Any, values: Any, measure: Measure, denominator: Any = None) -> float:
    """One measure from plain arrays (the page calls this on every slider move: no pandas)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    statistic = measure.statistic
    if statistic == "final":
        value = values[-1]
    elif statistic == "initial":
        value = values[0]
    elif statistic == "min":
        value = values.min()
    elif statistic == "max":
        value = values.max()
    elif statistic == "mean":
        value = values.mean()
    elif statistic == "final_relative":  # the end against the start: growth or loss over the run
        value = values[-1] / values[0] if values[0] != 0 else math.nan
    elif statistic in ("first_below", "first_above"):
        hits = values < measure.threshold if statistic == "first_below" else values > measure.threshold
        return float(np.asarray(times)[np.argmax(hits)]) if hits.any() else math.nan
    elif statistic == "ratio_of_sums":
        if denominator is None:
            return math.nan
        total = float(np.sum(denominator))
        value = float(values.sum()) / total if total != 0 else math.nan
    else:  # pragma: no cover - the profile reader accepts only known statistics
        raise ValueError(f"unknown statistic {statistic!r}")
    return float(value) * measure.scale


def summarise(results: Mapping[str, pd.DataFrame], profile: Profile) -> pd.DataFrame:
    """One row per scenario (index ``scenario``, in the given order), one column per profile measure."""
    import pandas as pd

    rows = [{"scenario": name, **{m.name: measure_value(df, m) for m in profile.measures}} for name, df in results.items()]
    table = pd.DataFrame(rows, columns=["scenario", *[m.name for m in profile.measures]])
    return table.set_index("scenario")


def format_summary(table: pd.DataFrame, profile: Profile, titles: Mapping[str, str] | None = None) -> str:
    """Render ``summarise``'s table as aligned plain text; a time that never happened reads "never"."""
    titles = titles or {}
    headers = ["Scenario"] + [m.label + (f" ({m.units})" if m.units else "") for m in profile.measures]
    rows = []
    for name, row in table.iterrows():
        cells = [titles.get(str(name), str(name))]
        for m in profile.measures:
            first = m.statistic in ("first_below", "first_above")
            cells.append(_num(row[m.name], m.digits, missing="never" if first else "n/a", trim=first))
        rows.append(cells)
    return render_table(headers, rows, align="l" + "r" * (len(headers) - 1))


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """Plain-text table with a header rule; ``align`` is one 'l' or 'r' per column (default: left).

    A header containing newlines spans several lines (bottom-aligned), which keeps wide tables
    within a terminal.
    """
    split = [str(h).split("\n") for h in headers]
    depth = max((len(h) for h in split), default=1)
    header_lines = [[""] * (depth - len(h)) + h for h in split]
    body = [[str(c) for c in row] for row in rows]
    widths = [max([len(x) for x in header_lines[i]] + [len(r[i]) for r in body]) for i in range(len(headers))]
    align = align or "l" * len(headers)

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line([h[k] for h in header_lines]) for k in range(depth)]
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in body]
    return "\n".join(out)


def _num(value: float, digits: int, missing: str = "n/a", trim: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    text = f"{value:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
