"""Figures of the uncertainty analyses, made for a slide: sensitivity heat maps and bars, fan charts,
tornado charts. matplotlib ``Figure`` objects without pyplot state (rendered with Agg), imported inside
the functions so that importing the analyses stays light; Okabe-Ito colours (safe for colour-blind
readers), as in ``flywheel.present.plots``."""

from __future__ import annotations

import textwrap
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_GRID = "0.9"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=11)


# ------------------------------------------------------------------------------------------ sensitivity


def sensitivity_heatmap(sens: Any, label: str, ds: xr.Dataset) -> Figure:
    """Inputs (rows, most influential on top) by time (columns): S1 and ST side by side (Sobol, FAST),
    or mu_star (Morris)."""
    from matplotlib.figure import Figure

    times = ds["time"].values
    main = ds[sens.main_index].values  # (parameter, time)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an input without any defined index sorts last
        order = np.argsort(-np.nan_to_num(np.nanmean(np.where(np.isfinite(main), main, np.nan), axis=1), nan=-1))
    names = [sens.parameters[i] for i in order]
    morris = sens.method == "morris"
    keys = ["mu_star"] if morris else ["S1", "ST"]
    D = len(names)
    fig = Figure(figsize=(15 if not morris else 11, max(4.2, 0.42 * D + 2.6)), layout="constrained")
    axes = fig.subplots(1, len(keys), sharey=True, squeeze=False)[0]
    vmax = float(np.nanmax(main)) if np.isfinite(main).any() and morris else 1.0
    step = (times[1] - times[0]) if len(times) > 1 else 1.0
    extent = (times[0] - step / 2, times[-1] + step / 2, D - 0.5, -0.5)
    import matplotlib as mpl

    cmap = mpl.colormaps["YlGnBu"].with_extremes(bad="0.88")
    image = None
    subtitles = {"S1": "First-order S1: the input alone", "ST": "Total ST: the input with its interactions",
                 "mu_star": f"mu*: mean |effect| across the input's range ({sens.units.get(label) or 'output units'})"}  # fmt: skip
    for ax, key in zip(axes, keys, strict=True):
        data = np.clip(ds[key].values[order], 0, None)
        image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=cmap, vmin=0, vmax=vmax,
                          extent=extent, interpolation="nearest")  # fmt: skip
        ax.set_title(subtitles[key], fontsize=13, loc="left", fontweight="bold")
        ax.set_yticks(range(D), [_wrap(n, 34) for n in names], fontsize=11)
        ax.set_xlabel(sens.time_unit, fontsize=12)
        ax.tick_params(labelsize=11)
        for spine in ax.spines.values():
            spine.set_visible(False)
    bar = fig.colorbar(image, ax=list(axes), shrink=0.9, pad=0.01)
    bar.set_label("share of the outcome's variance" if not morris else "mu*", fontsize=12)
    method = {"sobol": "Sobol'", "fast": "eFAST", "morris": "Morris"}[sens.method]
    unit = sens.time_unit.lower()
    when = f"{unit} by {unit}" if unit != "time" else "over time"
    fig.suptitle(f"What drives {label}, {when}", fontsize=17, fontweight="bold")
    note = f"{sens.title}; {method}, N = {sens.n:,}, {sens.n_runs:,} runs; inputs ordered by their mean {sens.main_index}"
    if np.isnan(main).any():
        note += "; grey: no variation (or diverged runs) at that time"
    fig.supxlabel(note, fontsize=10, color="0.35", x=0.01, ha="left")
    return fig


def sensitivity_bars(sens: Any, label: str, table: pd.DataFrame, time: float | None, ds: xr.Dataset) -> Figure:
    """Every input's indices with their 95% intervals, largest on top."""
    from matplotlib.figure import Figure

    morris = sens.method == "morris"
    if morris:
        series = [("mu_star", "mu* (mean |effect|)", "mu_star_conf", OKABE_ITO[0]), ("sigma", "sigma (interactions, non-linearity)", None, OKABE_ITO[1])]
    else:
        series = [("S1", "S1: the input alone", "S1_conf", OKABE_ITO[0]), ("ST", "ST: with its interactions", "ST_conf", OKABE_ITO[1])]
    table = table.iloc[::-1]  # barh draws bottom-up: largest on top
    D = len(table)
    fig = Figure(figsize=(12, max(4.0, 0.5 * D + 2.2)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(D)
    height = 0.38
    for k, (key, name, conf, colour) in enumerate(series):
        values = np.nan_to_num(table[key].to_numpy(), nan=0.0)
        errors = np.nan_to_num(table[conf].to_numpy(), nan=0.0) if conf else None
        ax.barh(y + (0.5 - k) * height, values, height=height, color=colour, label=name,
                xerr=errors, error_kw={"ecolor": "0.25", "capsize": 3, "linewidth": 1.2})  # fmt: skip
    ax.set_yticks(y, [_wrap(n, 36) for n in table.index], fontsize=11)
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.grid(True, axis="x", color=_GRID)
    ax.set_axisbelow(True)
    _style(ax)
    if morris:
        ax.set_xlabel(f"effect on {label} ({sens.units.get(label) or 'output units'})", fontsize=12)
    else:
        ax.set_xlabel("share of the outcome's variance (95% bootstrap interval)", fontsize=12)
        largest = np.nan_to_num(table["ST"].to_numpy(), nan=0.0).max(initial=0.0)
        ax.set_xlim(min(0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]) if largest > 0.8 else ax.get_xlim()[1])
    ax.legend(loc="lower right", fontsize=11, frameon=False)
    when = ""
    if "time" in ds.dims:
        t = ds["time"].values[-1] if time is None else time
        when = f" at {sens.time_unit.lower()} {t:g}"
    fig.suptitle(f"What drives {label}{when}", fontsize=17, fontweight="bold")
    method = {"sobol": "Sobol'", "fast": "eFAST", "morris": "Morris"}[sens.method]
    fig.supxlabel(f"{sens.title}; {method}, N = {sens.n:,}, {sens.n_runs:,} runs", fontsize=10, color="0.35",
                  x=0.01, ha="left")  # fmt: skip
    return fig


# ------------------------------------------------------------------------------------------ Monte Carlo


def fan_chart(mc: Any, variables: list[str], title: str | None) -> Figure:
    """One panel per variable; per scenario a 5-95 band, a 25-75 band and the median line."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    ncols = {1: 1, 2: 2, 3: 3, 4: 2}.get(len(variables), 3 if len(variables) <= 6 else 4)
    nrows = -(-len(variables) // ncols)
    legend_inside = nrows * ncols > len(variables)
    fig = Figure(figsize=(5.4 * ncols, 4.3 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    times = mc.dataset["time"].values
    panels = {p[0]: p for p in mc.panels}
    colours = {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(mc.scenarios)}
    for ax, variable in zip(axes, variables, strict=False):
        bands = mc.percentiles(variable)
        for s in mc.scenarios:
            p = bands.sel(scenario=s).values
            colour = colours[s]
            ax.fill_between(times, p[0], p[4], color=colour, alpha=0.16, linewidth=0)
            ax.fill_between(times, p[1], p[3], color=colour, alpha=0.34, linewidth=0)
            ax.plot(times, p[2], color=colour, linewidth=2.2)
        _, label, reference, percent = panels.get(variable, (variable, variable, None, False))
        if reference is not None:
            ax.axhline(reference, color="0.45", linewidth=1.0, linestyle="--", zorder=0)
        ax.set_title(_wrap(label, 34), fontsize=13, loc="left", fontweight="bold")
        units = (mc.units.get(variable) or "").strip()
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            units = "%"
        ax.set_ylabel(units if units and units.lower() not in ("dmnl", "1") else ("%" if percent else ""), fontsize=11)
        if not percent and np.nanmax(np.abs(bands.values)) >= 10_000:
            from matplotlib.ticker import StrMethodFormatter

            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlim(times[0], times[-1])
        ax.set_xlabel(mc.time_unit, fontsize=11)
        ax.grid(True, color=_GRID)
        _style(ax)
    for ax in axes[len(variables):]:
        ax.axis("off")
    handles = [Line2D([], [], color=colours[s], linewidth=2.5, label=_wrap(mc.titles.get(s, s), 40)) for s in mc.scenarios]
    grey = "0.35"
    handles += [Patch(color=grey, alpha=0.34, label="middle 50% of runs (25th-75th percentile)"),
                Patch(color=grey, alpha=0.16, label="90% of runs (5th-95th percentile)"),
                Line2D([], [], color=grey, linewidth=2.2, label="median")]  # fmt: skip
    if legend_inside:
        axes[len(variables)].legend(handles=handles, loc="center", frameon=False, fontsize=11,
                                    title="Scenarios" if len(mc.scenarios) > 1 else "Scenario", title_fontsize=12)  # fmt: skip
    else:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), frameon=False, fontsize=11)
    runs = f"{mc.n:,} runs" + (" per scenario" if len(mc.scenarios) > 1 else "")
    fig.suptitle(title or f"Range of outcomes: {runs} over {len(mc.ranges)} uncertain inputs", fontsize=17,
                 fontweight="bold")  # fmt: skip
    diverged = sum(mc.diverged.values())
    if diverged:
        fig.supxlabel(f"{diverged:,} runs diverged and are left out (see the report)", fontsize=11,
                      color=OKABE_ITO[1], x=0.01, ha="left")  # fmt: skip
    return fig


# ------------------------------------------------------------------------------------------ tornado


def tornado_chart(tornado: Any, top: int) -> Figure:
    """Bars from the outcome with each input at its low value to that with its high value, around the base."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    table = tornado.table.head(top).iloc[::-1]
    hidden = len(tornado.table) - len(table)
    D = len(table)
    base = tornado.base_outcome
    fig = Figure(figsize=(12.5, max(4.0, 0.55 * D + 2.4)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(D)
    low_colour, high_colour = OKABE_ITO[0], OKABE_ITO[1]
    span = np.nanmax(np.abs(np.r_[table["outcome_low"], table["outcome_high"]] - base)) if D else 0.0
    span = span if np.isfinite(span) and span > 0 else 1.0
    for i, (_name, row) in enumerate(table.iterrows()):
        ends = [(row.outcome_low, row.low, low_colour), (row.outcome_high, row.high, high_colour)]
        if not all(np.isfinite(value) for value, _, _ in ends):
            ax.text(base, i, "  runs diverged", va="center", ha="left", fontsize=10, color=high_colour)
            continue
        ends.sort(key=lambda e: -abs(e[0] - base))  # the longer bar first, so the shorter stays visible
        same_side = (ends[0][0] - base) * (ends[1][0] - base) > 0
        for k, (value, setting, colour) in enumerate(ends):
            ax.barh(i, value - base, left=base, height=0.62 if k == 0 else 0.4, color=colour, alpha=0.92)
            side = 1 if value >= base else -1
            anchor = value
            if k == 1 and same_side:  # label the shorter bar on the other side of the base line
                side, anchor = -side, base
            text = f"{value:.3g}  ({setting:.4g})" if side > 0 else f"({setting:.4g})  {value:.3g}"
            ax.text(anchor + side * 0.012 * span, i, text, va="center", ha="left" if side > 0 else "right",
                    fontsize=9.5, color="0.2")  # fmt: skip
    ax.axvline(base, color="0.15", linewidth=1.3)
    ax.set_yticks(y, [_wrap(n, 36) for n in table.index], fontsize=11)
    low, high = ax.get_xlim()
    pad = 0.2 * (high - low)
    ax.set_xlim(low - pad, high + pad)
    ax.grid(True, axis="x", color=_GRID)
    ax.set_axisbelow(True)
    _style(ax)
    units = tornado.units if tornado.units and tornado.units.lower() not in ("dmnl", "1") else ""
    ax.set_xlabel(f"{tornado.outcome}" + (f" ({units})" if units else ""), fontsize=12)
    fig.suptitle(f"One input at a time: {tornado.outcome}", fontsize=17, fontweight="bold")
    # inside the axes, bottom right, where the smallest swings leave room (a figure legend "outside upper
    # center" sat on the title, "outside lower center" on the note)
    ax.legend(handles=[Patch(color=low_colour, label="input at its low value"),
                       Patch(color=high_colour, label="input at its high value")],
              loc="lower right", fontsize=11, frameon=True, framealpha=0.9, edgecolor="none")  # fmt: skip
    note = f"{tornado.title}; base {base:.3g} (line); labels: outcome (input value)"
    if hidden:
        note += f"; {hidden} inputs with smaller swings not shown"
    fig.supxlabel(note, fontsize=10, color="0.35", x=0.01, ha="left")
    return fig
