"""The comparison table: a handful of numbers per scenario that answer "how bad does it get?".

The numbers follow the flywheel: did the sales org hit its target (final and cumulative), how far
did management's trust fall, how many overlay functions piled up, and when did the org first slip
below 90 % attainment. ``summarise`` gives a DataFrame for CSV and code; ``format_summary`` renders
it for a terminal with readable headers and units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps `flywheel --help` fast
    import pandas as pd

__all__ = ["ATTAINMENT_THRESHOLD", "SUMMARY_COLUMNS", "format_summary", "render_table", "summarise"]

#: "Missed target" threshold used for ``first_month_below``.
ATTAINMENT_THRESHOLD = 0.9

#: Column name -> what it means (column order of ``summarise``'s table).
SUMMARY_COLUMNS: dict[str, str] = {
    "final_attainment": "Final target attainment",
    "cumulative_attainment": "Cumulative sales / target",
    "lowest_trust": "Lowest trust",
    "peak_overlays": "Peak overlay functions",
    "first_month_below": f"First month attainment < {ATTAINMENT_THRESHOLD:.0%}",
}


def summarise(results: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per scenario (index ``scenario``, in the given order) with the comparison metrics.

    - ``final_attainment``: Target Attainment at the last saved time.
    - ``cumulative_attainment``: sum of Sales / sum of Sales Target over the saved rows.
    - ``lowest_trust``: minimum of Trust.
    - ``peak_overlays``: maximum of Overlay Functions.
    - ``first_month_below``: first saved time with Target Attainment < 0.9; NaN if never.

    A metric whose variable is missing from a result is NaN, so the table still works for a model
    that lacks one of them.
    """
    import numpy as np
    import pandas as pd

    rows = []
    for name, df in results.items():
        attainment = _column(df, "Target Attainment")
        sales, target = _column(df, "Sales"), _column(df, "Sales Target")
        trust, overlays = _column(df, "Trust"), _column(df, "Overlay Functions")
        first_below = np.nan
        if attainment is not None:
            below = attainment.index[attainment.to_numpy() < ATTAINMENT_THRESHOLD]
            if len(below):
                first_below = float(below[0])
        cumulative = np.nan
        if sales is not None and target is not None:
            total_target = float(target.sum())
            cumulative = float(sales.sum()) / total_target if total_target != 0 else np.nan
        rows.append(
            {
                "scenario": name,
                "final_attainment": float(attainment.iloc[-1]) if attainment is not None else np.nan,
                "cumulative_attainment": cumulative,
                "lowest_trust": float(trust.min()) if trust is not None else np.nan,
                "peak_overlays": float(overlays.max()) if overlays is not None else np.nan,
                "first_month_below": first_below,
            }
        )
    table = pd.DataFrame(rows, columns=["scenario", *SUMMARY_COLUMNS])
    return table.set_index("scenario")


def format_summary(
    table: pd.DataFrame,
    titles: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> str:
    """Render ``summarise``'s table as aligned plain text for a terminal.

    ``titles`` maps scenario names to the titles shown (default: the names); ``units`` maps model
    variable names to units (e.g. from ``model.variables[n].units``), used for trust and overlays.
    Attainment ratios are shown in percent; a month that never happened reads "never".
    """
    titles = titles or {}
    units = units or {}
    headers = [
        "Scenario",
        "Final\nattainment (%)",
        "Cum. sales /\ntarget (%)",
        "Lowest\ntrust" + _unit(units.get("Trust")),
        "Peak\noverlays" + _unit(units.get("Overlay Functions")),
        f"First month\nbelow {ATTAINMENT_THRESHOLD:.0%}",
    ]
    rows = []
    for name, row in table.iterrows():
        rows.append(
            [
                titles.get(str(name), str(name)),
                _num(row["final_attainment"] * 100, 1),
                _num(row["cumulative_attainment"] * 100, 1),
                _num(row["lowest_trust"], 2),
                _num(row["peak_overlays"], 1),
                _num(row["first_month_below"], 1, missing="never", trim=True),
            ]
        )
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


def _column(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


def _unit(unit: str | None) -> str:
    """ " (units)" for a header, or nothing when the model gives none."""
    unit = (unit or "").strip()
    return f" ({unit})" if unit else ""


def _num(value: float, digits: int, missing: str = "n/a", trim: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    text = f"{value:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
