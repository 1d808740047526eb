"""The loop dominance figure: a variable over time above a band of the strongest loops' shares.

One column per scenario (one or two side by side). The band stacks each loop's absolute relative score
(its share of the change in the model at that time); reinforcing loops in reds, balancing in blues,
the rest grey, so a trainer can point at "the red band takes over after month 30".
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

REDS = ["#b2182b", "#d6604d", "#f4a582", "#8c0d25", "#e7298a"]
BLUES = ["#2166ac", "#4393c3", "#92c5de", "#053061", "#35978f"]
OTHER = "#c8c8c8"


def strongest_loops(datasets: list[xr.Dataset], top: int = 6) -> list[str]:
    """The loops with the largest mean absolute relative score over all given runs (named loops first
    among equals)."""
    totals: dict[str, float] = {}
    for ds in datasets:
        share = np.abs(ds["relative_score"].values).mean(axis=1)
        for loop, value in zip(ds["loop"].values, share, strict=True):
            totals[str(loop)] = totals.get(str(loop), 0.0) + float(value)
    ranked = sorted(totals, key=lambda k: -totals[k])
    return [k for k in ranked if totals[k] > 0][:top]


def loop_label(ds: xr.Dataset, loop: str) -> str:
    """The legend's label: named loops by name, others by the stocks they pass through (wrapped)."""
    from ..analysis.dominance import loop_label as label

    return textwrap.fill(label(ds, loop), width=34, subsequent_indent="  ")


def dominance_figure(runs: list[tuple[str, xr.Dataset, pd.DataFrame]], variable: str, *, units: str = "",
                     top: int = 6, title: str = "") -> Figure:  # fmt: skip
    """``runs``: (label, loop dominance dataset, results DataFrame) per scenario, one or two."""
    from matplotlib.figure import Figure

    loops = strongest_loops([ds for _, ds, _ in runs], top)
    ds0 = runs[0][1]
    colours = {}
    reds, blues = iter(REDS), iter(BLUES)
    for loop in loops:
        polarity = str(ds0.sel(loop=loop)["polarity"].values)
        colours[loop] = next(reds, "#fb9a99") if polarity == "R" else next(blues, "#a6cee3") if polarity == "B" else "#9e7bb5"
    width = 7.5 * len(runs) + 3.2
    fig = Figure(figsize=(width, 7.2), dpi=110, layout="constrained")
    grid = fig.add_gridspec(2, len(runs), height_ratios=[1, 1.25])
    axes_top, axes_band = [], []
    for col, (label, ds, df) in enumerate(runs):
        ax = fig.add_subplot(grid[0, col], sharey=axes_top[0] if axes_top else None)
        band = fig.add_subplot(grid[1, col], sharex=ax)
        axes_top.append(ax)
        axes_band.append(band)
        ax.plot(df.index, df[variable], color="#222222", lw=2.4)
        ax.set_title(label, fontsize=15, loc="left", fontweight="bold")
        ax.set_ylabel(f"{variable}" + (f" ({units})" if units and units.lower() not in ("dmnl", "1") else ""), fontsize=12)
        ax.grid(alpha=0.3)
        ax.tick_params(labelbottom=False, labelsize=11)
        share = np.abs(ds["relative_score"].values)
        times = ds["time"].values
        index = {str(k): i for i, k in enumerate(ds["loop"].values)}
        layers = [share[index[k]] if k in index else np.zeros_like(times) for k in loops]
        rest = share.sum(axis=0) - (np.sum(layers, axis=0) if layers else 0)
        band.stackplot(times, *layers, np.clip(rest, 0, None), colors=[colours[k] for k in loops] + [OTHER],
                       labels=[loop_label(ds0, k) for k in loops] + ["other loops"], alpha=0.95, lw=0)  # fmt: skip
        band.set_ylim(0, 1)
        band.set_yticks([0, 0.25, 0.5, 0.75, 1])
        band.set_yticklabels(["0", "25%", "50%", "75%", "100%"])
        band.set_ylabel("share of loop dominance", fontsize=12)
        band.set_xlabel("Month", fontsize=12)
        band.tick_params(labelsize=11)
        band.margins(x=0)
        inactive = share.sum(axis=0) == 0
        if inactive.any():
            band.fill_between(times, 0, 1, where=inactive, color="white", step="mid")
            first = times[inactive][0]
            if inactive[0]:
                end = times[np.argmin(inactive)] if not inactive.all() else times[-1]
                narrow = (end - first) < 0.15 * (times[-1] - times[0])
                band.text((first + end) / 2, 0.5, "at rest: no loop active" if narrow else "at rest:\nno loop\nactive",
                          ha="center", va="center", fontsize=10, color="#777777", rotation=90 if narrow else 0)  # fmt: skip
    handles, labels = axes_band[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="outside right center", fontsize=11, frameon=False,
               title="Strongest loops", title_fontsize=12)  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=17, fontweight="bold")
    return fig
