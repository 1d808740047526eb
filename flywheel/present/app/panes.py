"""The page's text blocks as HTML: summary table, takeaways, chances, legend, lever headers, caveats.

Pure functions from numbers to HTML strings, so the live page and the exported file show the same
words, and tests can read them without a browser. Every text from a model or a file is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..summary import measure_of
from ..takeaways import Takeaway, as_arrays
from .text import escape
from .theme import INK, PLAN_COLORS


def chip(key: str) -> str:
    return f'<span class="fw-chip" style="background:{PLAN_COLORS.get(key, INK)}"></span>'


def summary_values(runs: Mapping[str, Any], profile: Any) -> dict[str, dict[str, float]]:
    """plan -> measure name -> value (``summary.measure_of`` on plain arrays)."""
    out = {}
    for key, run in runs.items():
        times, series = as_arrays(run)
        row = {}
        for m in profile.measures:
            if m.variable not in series or (m.statistic == "ratio_of_sums" and m.denominator not in series):
                row[m.name] = math.nan
                continue
            row[m.name] = measure_of(times, series[m.variable], m, series.get(m.denominator or ""))
        out[key] = row
    return out


def summary_html(runs: Mapping[str, Any], titles: Mapping[str, str], profile: Any, version: int = 0) -> str:
    """The profile's summary measures, one row per plan, each row with its plan's colour."""
    table = summary_values(runs, profile)
    head = "".join(
        f"<th>{escape(m.label).replace(chr(10), '<br>')}{escape(f' ({m.units})') if m.units else ''}</th>"
        for m in profile.measures
    )
    rows = []
    for key, row in table.items():
        cells = []
        for m in profile.measures:
            value = row[m.name]
            first = m.statistic in ("first_below", "first_above")
            cells.append(f"<td>{_number(value, m.digits, 'never' if first else 'n/a', first)}</td>")
        rows.append(f'<tr data-plan="{escape(str(key))}"><td>{chip(str(key))}{escape(titles.get(key, key))}</td>'
                    f"{''.join(cells)}</tr>")  # fmt: skip
    return (f'<table class="fw-summary" data-version="{version}"><thead><tr><th>Plan</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


def takeaways_html(items: Sequence[Takeaway], version: int = 0) -> str:
    lines = []
    for item in items:
        colour = PLAN_COLORS.get(item.plan or "", "#9aa5b1")
        lines.append(f'<li style="border-left-color:{colour}">{escape(item.text)}</li>')
    body = "".join(lines) or '<li>The plans run alike: no variable moves by more than 5 %.</li>'
    return f'<ul class="fw-takeaways" data-version="{version}">{body}</ul>'


def chances_html(chances: Mapping[str, Any], titles: Mapping[str, str], goal_text: str, version: int = 0) -> str:
    """"Chance of <goal>": one card per plan with the share of runs and its 95 % interval."""
    cards = []
    for key, p in chances.items():
        colour = PLAN_COLORS.get(key, INK)
        if p.n == 0 or math.isnan(p.p):
            big, small = "n/a", "no run finished"
        else:
            big = _percent(p.p, p.successes, p.n)
            small = (f"95% interval {p.low * 100:.0f}-{p.high * 100:.0f}% "
                     f"({p.successes:,} of {p.n:,} runs{f'; {p.diverged} diverged' if p.diverged else ''})")  # fmt: skip
        cards.append(f'<div class="fw-card" style="border-left-color:{colour}" data-plan="{escape(key)}">'
                     f'<div class="fw-note">{escape(titles.get(key, key))}</div><div class="fw-big">{big}</div>'
                     f'<div class="fw-note">{escape(small)}</div></div>')  # fmt: skip
    return (f'<div class="fw-plan" data-version="{version}">Chance that {escape(goal_text)}</div>'
            f'<div class="fw-chance">{"".join(cards)}</div>')  # fmt: skip


def _percent(p: float, successes: int, n: int) -> str:
    """A share as a person reads it; 0 % and 100 % only when no run (or every run) made it."""
    text = f"{p * 100:.0f}%"
    if (text == "100%" and successes < n) or (text == "0%" and successes > 0):
        text = f"{p * 100:.1f}%"
    return text


def legend_html(titles: Mapping[str, str]) -> str:
    parts = [f'<span class="fw-plan">{chip(k)}{escape(t)}</span>' for k, t in titles.items()]
    return '<div style="display:flex;gap:26px;flex-wrap:wrap">' + "".join(parts) + "</div>"


def header_html(title: str, story: str) -> str:
    first = story.split(". ")[0].strip()
    lead = f"<p>{escape(first.rstrip('.'))}.</p>" if first else ""
    return f'<div class="fw-header"><h1>What if? {escape(title)}</h1>{lead}</div>'


def lever_html(label: str, explanation: str, documentation: str, dimension: str = "") -> str:
    dim = f'<div class="fw-dimension">{escape(dimension)}</div>' if dimension else ""
    return (f'{dim}<div class="fw-lever-title">{escape(label)}</div>'
            f'<div class="fw-explain" title="{escape(documentation)}">{escape(explanation)}</div>')  # fmt: skip


def section_html(text: str, note: str = "") -> str:
    extra = f'<div class="fw-note">{escape(note)}</div>' if note else ""
    return f'<div class="fw-section">{escape(text)}</div>{extra}'


def caveats_html(caveats: Sequence[str]) -> str:
    if not caveats:
        return ""
    items = "".join(f"<li>{escape(c)}</li>" for c in caveats)
    return f'<div class="fw-caveats"><b>What this model is not.</b><ul>{items}</ul></div>'


def _number(value: float, digits: int, missing: str, trim: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    text = f"{value:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
