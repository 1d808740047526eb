"""Figures a manager can put on a slide: a model's key variables, one small panel each.

The panels come from the model's profile (for the flywheel they follow the vicious cycle: trust ->
overlays -> overhead -> customer time -> efficiency -> attainment, plus the remedy). Every scenario
keeps one colour across all panels (Okabe-Ito, safe for colour-blind readers), the shock is a grey
dashed line and each scenario's policy switches dotted lines in its colour. matplotlib is imported
inside the functions so that importing this module (and ``flywheel --help``) stays fast; figures are
built with ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend, rendered with Agg).
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import check_can_write, write_files

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

    from ..scenarios import Profile, Scenario

__all__ = [
    "OKABE_ITO",
    "compare_figure",
    "figure_bytes",
    "run_figure",
    "save_figure",
    "scenario_colors",
]

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
_NCOLS = 4


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
    profile: Profile,
    title: str | None = None,
) -> Figure:
    """Small multiples comparing scenarios: one panel per profile panel, one line per scenario.

    ``results`` and ``scenarios`` are keyed by scenario name (legend and colours follow the order of
    ``results``); ``model`` supplies units for the y axes. Panels for variables absent from every
    result are left out.
    """
    if not results:
        raise ValueError("compare_figure needs at least one result")
    return _figure(results, scenarios, model, profile, title or f"{profile.title}: scenario comparison")


def run_figure(df: pd.DataFrame, scenario: Scenario, model: Any, profile: Profile, title: str | None = None) -> Figure:
    """The same panels for a single run, titled with the scenario's title."""
    return _figure({scenario.name: df}, {scenario.name: scenario}, model, profile, title or scenario.title)


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
    profile: Profile,
    title: str,
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    names = list(results)
    styles = scenario_colors(names)
    variables = getattr(model, "variables", {}) or {}
    shown = [p for p in profile.panels if any(p.variable in df.columns for df in results.values())]
    if not shown:
        wanted = ", ".join(p.variable for p in profile.panels)
        raise ValueError(f"none of the profile's panel variables ({wanted}) is in the results")
    panels = [p.variable for p in shown]
    by_variable = {p.variable: p for p in shown}
    rows = -(-(len(panels) + 1) // _NCOLS)  # room for the legend in the last slot

    fig = Figure(figsize=(16, 4.25 * rows), layout="constrained")
    grid = fig.subplots(rows, _NCOLS, squeeze=False)
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
            for month in sorted(set(getattr(scenario, "switch_months", {}).values())) if scenario else ():
                ax.axvline(month, color=styles[name][0], linestyle=":", linewidth=1.8, label="_policy switch", zorder=0)
        panel = by_variable[var]
        if panel.reference is not None:
            ax.axhline(panel.reference, color="0.6", linewidth=0.8, label="_reference", zorder=0)
        info = variables.get(var)
        units = (getattr(info, "units", "") or "").strip()
        ax.set_title(_wrap(panel.label, 32), fontsize=13, loc="left", fontweight="bold")
        if panel.percent:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))  # round percents
            ax.yaxis.set_major_formatter(_percent_ticks())
            units = "% " + (f"({units})" if units and units.lower() not in ("dmnl", "1") else "")
        ax.set_ylabel(units.strip() or "(no units)", fontsize=11)
        ax.set_xlim(t_min, t_max)
        if i + _NCOLS >= len(panels):  # nothing below this panel
            ax.set_xlabel(profile.time_unit or "Time", fontsize=11)
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=10)
    if shock_months:
        # Label the shock once, in the first panel, where the eye starts.
        ax = axes[0]
        for month in shock_months:
            ax.annotate(
                profile.shock_label,
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
                label=f"{profile.shock_label.capitalize()} ({profile.time_unit.lower() or 'time'} {months})",
            )
        )
    if any(scenarios.get(n) is not None and getattr(scenarios[n], "switch_months", None) for n in names):
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



def _percent_ticks():
    """A formatter for fractions as percentages with as few decimals as the tick spacing needs (so
    42.5 % never reads "43 %")."""
    import numpy as np
    from matplotlib.ticker import Formatter

    class PercentTicks(Formatter):
        decimals = 0

        def __call__(self, value: float, position: object = None) -> str:
            return f"{100 * value:.{self.decimals}f}%"

        def set_locs(self, locs) -> None:
            super().set_locs(locs)
            steps = np.abs(np.diff(np.asarray(locs, dtype=float))) * 100
            step = float(steps.min()) if len(steps) else 1.0
            self.decimals = 0 if step >= 1 - 1e-9 else int(np.ceil(-np.log10(step) - 1e-9))

    return PercentTicks()
