"""Figures a manager can put on a slide: the flywheel's variables, one small panel each.

The panels follow the vicious cycle (trust -> overlays -> overhead -> customer time -> efficiency ->
attainment) plus the remedy (management understanding). Every scenario keeps one colour across all
panels (Okabe-Ito, safe for colour-blind readers), the market shock is a grey dashed line and each
scenario's policy switch a dotted line in its colour. matplotlib is imported inside the functions
so that importing this module (and ``flywheel --help``) stays fast; figures are built with
``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend, rendered with Agg).
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel.output import check_can_write, write_files

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

    from flywheel.scenarios import Scenario

__all__ = [
    "OKABE_ITO",
    "PANEL_VARIABLES",
    "compare_figure",
    "figure_bytes",
    "run_figure",
    "save_figure",
    "scenario_colors",
]

#: The variables shown, one panel each, in the order of the flywheel.
PANEL_VARIABLES: tuple[str, ...] = (
    "Trust",
    "Overlay Functions",
    "Communication Overhead",
    "Customer Time",
    "Sales Efficiency",
    "Target Attainment",
    "Management Understanding",
)

#: Okabe & Ito's colour-blind-safe palette, most distinct first (yellow last: weak on white).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
_LINESTYLES = ("-", "--", "-.", (0, (5, 1, 1, 1)))
_SHOCK_COLOR = "0.35"
_NCOLS, _NROWS = 4, 2


def scenario_colors(names: Sequence[str]) -> dict[str, tuple[str, Any]]:
    """Colour and line style per scenario, by order: the same scenario list always looks the same.

    More than eight scenarios reuse the colours with a different line style.
    """
    n = len(OKABE_ITO)
    return {
        name: (OKABE_ITO[i % n], _LINESTYLES[(i // n) % len(_LINESTYLES)]) for i, name in enumerate(names)
    }


def compare_figure(
    results: Mapping[str, pd.DataFrame],
    scenarios: Mapping[str, Scenario],
    model: Any,
    title: str | None = None,
) -> Figure:
    """Small multiples comparing scenarios: one panel per flywheel variable, one line per scenario.

    ``results`` and ``scenarios`` are keyed by scenario name (legend and colours follow the order of
    ``results``); ``model`` supplies units for the y axes. Panels for variables absent from every
    result are left out.
    """
    if not results:
        raise ValueError("compare_figure needs at least one result")
    return _figure(results, scenarios, model, title or "Evil Sales Org Flywheel: scenario comparison")


def run_figure(df: pd.DataFrame, scenario: Scenario, model: Any, title: str | None = None) -> Figure:
    """The same panels for a single run, titled with the scenario's title."""
    return _figure({scenario.name: df}, {scenario.name: scenario}, model, title or scenario.title)


def save_figure(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    formats: Sequence[str] = ("png", "svg"),
    force: bool = False,
) -> list[Path]:
    """Save a figure in several formats at once, atomically, refusing to overwrite unless ``force``.

    Every format is rendered in memory first, so a rendering error writes nothing.
    """
    base = Path(path_without_suffix)
    paths = [base.with_name(f"{base.name}.{fmt}") for fmt in formats]
    check_can_write(paths, force=force)
    return write_files(figure_bytes(fig, base, formats), force=force)


def figure_bytes(
    fig: Figure, path_without_suffix: str | os.PathLike[str], formats: Sequence[str] = ("png", "svg")
) -> dict[Path, bytes]:
    """Render a figure to ``{path.<fmt>: bytes}`` without touching the disk (for all-or-nothing writes)."""
    base = Path(path_without_suffix)
    out = {}
    for fmt in formats:
        buf = io.BytesIO()
        # Fixed metadata so the same run gives byte-identical SVG/PNG files.
        metadata = {"Date": None} if fmt in {"svg", "pdf"} else {"Software": None}
        fig.savefig(buf, format=fmt, dpi=150, metadata=metadata)
        out[base.with_name(f"{base.name}.{fmt}")] = buf.getvalue()
    return out


def _figure(
    results: Mapping[str, pd.DataFrame],
    scenarios: Mapping[str, Scenario],
    model: Any,
    title: str,
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    names = list(results)
    styles = scenario_colors(names)
    variables = getattr(model, "variables", {}) or {}
    panels = [v for v in PANEL_VARIABLES if any(v in df.columns for df in results.values())]
    if not panels:
        raise ValueError(f"none of the flywheel variables ({', '.join(PANEL_VARIABLES)}) is in the results")

    fig = Figure(figsize=(16, 8.5), layout="constrained")
    grid = fig.subplots(_NROWS, _NCOLS, squeeze=False)
    axes = [ax for row in grid for ax in row]
    fig.suptitle(title, fontsize=17, fontweight="bold")

    shock_months = sorted(
        {
            s.shock_month
            for s in (scenarios.get(n) for n in names)
            if s is not None and s.shock_month is not None
        }
    )
    t_min = min(float(df.index.min()) for df in results.values())
    t_max = max(float(df.index.max()) for df in results.values())

    for i, var in enumerate(panels):
        ax = axes[i]
        ax.set_label(f"panel:{var}")
        for name in names:
            df = results[name]
            if var not in df.columns:
                continue
            color, style = styles[name]
            ax.plot(
                df.index.to_numpy(),
                df[var].to_numpy(),
                color=color,
                linestyle=style,
                linewidth=2.2,
                label=_title_of(name, scenarios),
            )
        for month in shock_months:
            ax.axvline(
                month, color=_SHOCK_COLOR, linestyle="--", linewidth=1.2, label="_market shock", zorder=0
            )
        for name in names:
            scenario = scenarios.get(name)
            if scenario is not None and scenario.switch_month is not None:
                ax.axvline(
                    scenario.switch_month,
                    color=styles[name][0],
                    linestyle=":",
                    linewidth=1.8,
                    label="_policy switch",
                    zorder=0,
                )
        if var == "Target Attainment":
            ax.axhline(1.0, color="0.6", linewidth=0.8, label="_target", zorder=0)
        info = variables.get(var)
        units = (getattr(info, "units", "") or "").strip()
        ax.set_title(var, fontsize=13, loc="left", fontweight="bold")
        ax.set_ylabel(units or "(no units)", fontsize=11)
        ax.set_xlim(t_min, t_max)
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=10)
        below_is_empty = i + _NCOLS >= len(panels)
        if below_is_empty:
            ax.set_xlabel("Month", fontsize=11)
    if shock_months:
        # Label the shock once, in the first panel, where the eye starts.
        ax = axes[0]
        for month in shock_months:
            ax.annotate(
                "market shock",
                xy=(month, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=9,
                color=_SHOCK_COLOR,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )

    # The slots without a panel: the first one holds the shared legend, the rest stay empty.
    spare = axes[len(panels) :]
    for ax in spare:
        ax.axis("off")
    handles = [
        Line2D(
            [],
            [],
            color=styles[n][0],
            linestyle=styles[n][1],
            linewidth=2.5,
            label=_wrap(_title_of(n, scenarios)),
        )
        for n in names
    ]
    if shock_months:
        months = ", ".join(f"{m:g}" for m in shock_months)
        handles.append(
            Line2D(
                [],
                [],
                color=_SHOCK_COLOR,
                linestyle="--",
                linewidth=1.2,
                label=f"Market shock (month {months})",
            )
        )
    if any(scenarios.get(n) is not None and scenarios[n].switch_month is not None for n in names):
        handles.append(
            Line2D(
                [], [], color="0.2", linestyle=":", linewidth=1.8, label="Policy switch (in scenario colour)"
            )
        )
    if spare:
        legend_ax = spare[0]
        legend_ax.set_label("legend")
        legend_ax.legend(
            handles=handles,
            loc="center",
            frameon=False,
            fontsize=11,
            title="Scenarios" if len(names) > 1 else "Scenario",
            title_fontsize=12,
            alignment="left",
        )
    else:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            frameon=False,
            fontsize=11,
        )
    return fig


def _title_of(name: str, scenarios: Mapping[str, Scenario]) -> str:
    scenario = scenarios.get(name)
    return scenario.title if scenario is not None and scenario.title else name


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text
