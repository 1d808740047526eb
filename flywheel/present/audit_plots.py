"""Figures of the sales-ecosystem audit, each carrying the mapping's statement (a structured judgement,
not a measurement): the radar of the dimensions, the trajectory of the team's current way against the
alternative, the ranking of the one-point shifts (seed 001's question) and the team's path over time.

matplotlib is imported inside the functions; figures are ``matplotlib.figure.Figure`` objects (no pyplot
state), rendered with Agg by ``plots.figure_bytes``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .plots import OKABE_ITO, compare_figure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from ..analysis.audit import AuditMapping, AuditPath, Position, Projection, ShiftRanking
    from ..scenarios import Profile

__all__ = ["path_figure", "radar_figure", "shift_figure", "trajectory_figure"]

STATUS_QUO_COLOUR = "0.45"
CURRENT = OKABE_ITO[0]
HORIZON_COLOURS = ("#9ecae1", "#08519c", "#3182bd", "#6baed6")  # light = soon, dark = later


def _footnote(fig: Figure, text: str, size: float = 10) -> None:
    fig.supxlabel(text, fontsize=size, fontstyle="italic", color="0.3")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _percent_variables(profile: Profile) -> set[str]:
    return {p.variable for p in profile.panels if p.percent}


def radar_figure(mapping: AuditMapping, positions: Sequence[Position], title: str | None = None) -> Figure:
    """The dimensions' mean answers on a radar (1 at the centre, 5 outside): the latest position filled,
    earlier ones as thin outlines, the model's status quo (3 everywhere) dashed grey."""
    import numpy as np
    from matplotlib.figure import Figure

    dims = mapping.dimensions
    n = len(dims)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    fig = Figure(figsize=(8.2, 8.2), layout="constrained")
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)  # the first dimension at the top, the others clockwise
    ax.set_theta_direction(-1)
    ax.set_thetalim(0, 2 * np.pi)
    ax.set_ylim(0, 5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_yticklabels(["1", "2", "3", "4", "5"], fontsize=10, color="0.4")
    ax.set_rlabel_position(180 / n)
    ax.set_xticks(angles)
    ax.set_xticklabels([textwrap.fill(d.label, 16) for d in dims], fontsize=12.5, fontweight="bold")
    ax.tick_params(axis="x", pad=22)
    ax.grid(color="0.85")
    ax.spines["polar"].set_color("0.7")
    ref = np.full(n + 1, 3.0)
    ax.plot(closed, ref, color=STATUS_QUO_COLOUR, linestyle="--", linewidth=1.6,
            label="3 everywhere: the model's status quo")  # fmt: skip
    earlier = list(positions[:-1])
    greys = np.linspace(0.75, 0.45, max(len(earlier), 1))
    for p, shade in zip(earlier, greys, strict=False):
        scores = [p.dimension_scores[d.id] for d in dims]
        ax.plot(closed, scores + scores[:1], color=str(shade), linewidth=1.4, marker="o", markersize=3,
                label=f"Audit {p.answers.label}")  # fmt: skip
    latest = positions[-1]
    scores = [latest.dimension_scores[d.id] for d in dims]
    ax.fill(closed, scores + scores[:1], color=CURRENT, alpha=0.22)
    ax.plot(closed, scores + scores[:1], color=CURRENT, linewidth=2.6, marker="o", markersize=6,
            label=f"Your answers ({latest.answers.label})" if earlier else "Your answers")  # fmt: skip
    for angle, score in zip(angles, scores, strict=True):
        ax.annotate(f"{score:.1f}", (angle, score), xytext=(0, 9), textcoords="offset points", ha="center",
                    fontsize=11, fontweight="bold", color=CURRENT,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2, frameon=False, fontsize=10.5)
    team = latest.answers.team
    if title != "":  # "" leaves the title to the page around the figure
        fig.suptitle(title or "Your sales-management ecosystem" + (f"\n{team}" if team else ""), fontsize=17,
                     fontweight="bold")  # fmt: skip
    _footnote(fig, _wrap(f"Mean answer per dimension (1 = not at all, 5 = fully). {mapping.statement}", 90))
    return fig


def trajectory_figure(proj: Projection, model: Any, profile: Profile, statement: str,
                      title: str | None = None) -> Figure:  # fmt: skip
    """Your current way of managing against the alternative, from your audited position: the comparison
    panels of ``flywheel compare``, with the conditions and the statement underneath."""
    fig = compare_figure(proj.results, proj.scenarios, model, profile,
                         title=title or "Your answers put you here: your current way against the alternative")  # fmt: skip
    _footnote(fig, _wrap(f"Both start from your audited position; {proj.conditions}. {statement}", 150), size=12)
    return fig


def shift_figure(ranking: ShiftRanking, mapping: AuditMapping, profile: Profile, title: str | None = None) -> Figure:
    """Seed 001's answer as bars: per outcome, the change each dimension's one-point rise makes after each
    horizon, dimensions in rank order (best on top)."""
    import numpy as np
    from matplotlib.figure import Figure

    table = ranking.table
    outcomes = list(dict.fromkeys(c.split(" after ")[0] for c in table.columns if " after " in c))
    horizons = list(dict.fromkeys(c.split(" after ")[1] for c in table.columns if " after " in c))
    percent = _percent_variables(profile)
    labels = {p.variable: p.label for p in profile.panels}
    fig = Figure(figsize=(15, 0.85 * len(table) + 3.4), layout="constrained")
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)[0]
    y = np.arange(len(table))[::-1]
    height = 0.8 / len(horizons)
    for ax, outcome in zip(axes, outcomes, strict=True):
        scale = 100.0 if outcome in percent else 1.0
        units = (getattr(mapping.model.variables.get(outcome), "units", "") or "").strip()
        unit = "percentage points" if outcome in percent else ("" if units.lower() in ("", "dmnl", "1") else units)
        span = max(1e-12, float(np.nanmax(np.abs(table[[f"{outcome} after {h}" for h in horizons]].to_numpy()))) * scale)
        for k, horizon in enumerate(horizons):
            values = table[f"{outcome} after {horizon}"].to_numpy() * scale
            offset = (len(horizons) - 1) / 2 - k
            colour = HORIZON_COLOURS[0] if k == 0 and len(horizons) > 1 else HORIZON_COLOURS[1 + (k - 1) % 3]
            bars = ax.barh(y + offset * height, values, height=height * 0.92, color=colour, label=horizon)
            for bar, v in zip(bars, values, strict=True):
                text = f"{v:+.2f}" if outcome in percent else f"{v:+.3f}"
                ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(4 if v >= 0 else -4, 0),
                            textcoords="offset points", ha="left" if v >= 0 else "right", va="center", fontsize=10)
        ax.axvline(0, color="0.3", linewidth=0.8)
        ax.set_xlim(min(0.0, -0.05 * span) - 0.02 * span, span * 1.25)
        ax.set_title(f"{labels.get(outcome, outcome)}", fontsize=14, loc="left", fontweight="bold")
        ax.set_xlabel("change against your current way" + (f" ({unit})" if unit else ""), fontsize=11)
        ax.set_axisbelow(True)
        ax.grid(axis="x", color="0.9")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=11)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([f"{int(r['rank'])}. {r['label']}" for _, r in table.iterrows()], fontsize=12)
    axes[-1].legend(loc="lower right", frameon=False, fontsize=11, title="after the change")
    fig.suptitle(title or "Which part of your sales-management ecosystem would create the biggest shift\nif it "
                 "were strengthened today?", fontsize=16, fontweight="bold")  # fmt: skip
    pts = f"{ranking.points:g} point{'s' if ranking.points != 1 else ''}"
    _footnote(fig, _wrap(f"Each dimension raised by {pts} (at most to 5), one at a time, from month "
                         f"{ranking.month:g}, under {ranking.conditions}. {mapping.statement}", 150))  # fmt: skip
    return fig


def path_figure(path: AuditPath, mapping: AuditMapping, profile: Profile, title: str | None = None) -> Figure:
    """The team's audits over time: mean answers per dimension (left) and where the model puts the team
    (right: the model's stocks that move between audits, the status quo dashed)."""
    import datetime as dt

    from matplotlib.figure import Figure

    positions = path.positions
    dates = [p.answers.date or dt.date(2000, 1, 1 + i) for i, p in enumerate(positions)]
    first = positions[0]

    def moves(name: str) -> bool:
        return any(abs(p.start[name] - first.start[name]) > 1e-9 * max(1.0, abs(first.start[name])) for p in positions)

    stocks = [n for n in mapping.model.stocks if n in first.start and moves(n)]
    moving = (stocks or [n for n in first.start if moves(n)])[:6]  # the model's state first
    percent = _percent_variables(profile)
    labels = {p.variable: p.label for p in profile.panels}
    cols = max(1, -(-len(moving) // 2))
    fig = Figure(figsize=(9 + 3.6 * cols, 7.5), layout="constrained")
    grid = fig.add_gridspec(2, 2 + cols, width_ratios=[1.25, 1.25] + [1] * cols)
    left = fig.add_subplot(grid[:, :2])
    span = (dates[-1] - dates[0]).days if len(dates) > 1 else 30
    markers = "osD^vP*X"
    n = len(mapping.dimensions)
    for k, dim in enumerate(mapping.dimensions):
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        dodge = dt.timedelta(days=span * 0.012 * (k - (n - 1) / 2))  # overlapping lines stay visible
        scores = [p.dimension_scores[dim.id] for p in positions]
        left.plot([d + dodge for d in dates], scores, marker=markers[k % len(markers)], markersize=7,
                  linewidth=2.4, color=colour, label=dim.label)  # fmt: skip
    left.axhline(3, color=STATUS_QUO_COLOUR, linestyle="--", linewidth=1.2, label="3: the model's status quo")
    left.set_ylim(0.8, 5.2)
    left.set_ylabel("mean answer (1 = not at all, 5 = fully)", fontsize=12)
    left.set_title("Your answers per dimension", fontsize=14, loc="left", fontweight="bold")
    left.legend(loc="upper left", fontsize=10, frameon=True, framealpha=0.9, ncols=2)
    axes = [left]
    for i, name in enumerate(moving):
        ax = fig.add_subplot(grid[i % 2, 2 + i // 2])
        scale = 100.0 if name in percent else 1.0
        ax.plot(dates, [p.start[name] * scale for p in positions], marker="o", linewidth=2.4, color=CURRENT)
        ax.axhline(first.status_quo[name] * scale, color=STATUS_QUO_COLOUR, linestyle="--", linewidth=1.2)
        ax.set_title(textwrap.fill(labels.get(name, name), 24), fontsize=12, loc="left", fontweight="bold")
        if name in percent:
            ax.set_ylabel("%", fontsize=10)
        ax.margins(y=0.25)
        axes.append(ax)
    pad = dt.timedelta(days=max(span * 0.08, 5))
    for ax in axes:
        ax.set_xticks(dates)
        ax.set_xticklabels([d.strftime("%d %b\n%Y") for d in dates])
        ax.set_xlim(dates[0] - pad, dates[-1] + pad)
        ax.grid(color="0.9")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=10)
    fig.suptitle(title or "Your path: quarterly audits of the sales-management ecosystem", fontsize=17,
                 fontweight="bold")  # fmt: skip
    _footnote(fig, _wrap("Right: where the model puts you at each audit (month 0 of the model; dashed: the model's "
                         f"status quo). {mapping.statement}", 150))  # fmt: skip
    return fig
