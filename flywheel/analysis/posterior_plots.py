"""Figures of a posterior: the corner plot of its draws and posterior predictive bands over time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .calibration_plots import BLUE, DATA, SKY, VERMILLION, model_title, style, time_label, units_label, wrap

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

    from .posterior import Posterior


def corner_figure(post: Posterior, credible: float, truth: Mapping[str, float] | None = None, max_points: int = 4000) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    names = post.names
    p = len(names)
    samples = post.samples()
    summary = post.summary
    rng = np.random.default_rng(0)
    shown = samples[rng.choice(len(samples), size=min(max_points, len(samples)), replace=False)]
    size = max(2.6 * p, 6.5)
    fig = Figure(figsize=(size, size + 0.6), layout="constrained")
    axes = fig.subplots(p, p, squeeze=False)
    credible = int(round(credible * 100))
    fig.suptitle(f"{model_title(post.problem.model)}: posterior of {p} parameter{'s' if p > 1 else ''}",
                 fontsize=15, fontweight="bold")  # fmt: skip
    lows = np.quantile(samples, 0.002, axis=0)
    highs = np.quantile(samples, 0.998, axis=0)
    pad = 0.05 * (highs - lows + 1e-300)
    lims = [(lows[j] - pad[j], highs[j] + pad[j]) for j in range(p)]
    correlation = np.corrcoef(samples.T) if p > 1 else np.ones((1, 1))
    for i in range(p):
        for j in range(p):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                if p > 1:
                    r = correlation[i, j]
                    ax.text(0.5, 0.5, f"r = {r:+.2f}", ha="center", va="center", fontsize=13,
                            color=VERMILLION if abs(r) > 0.95 else "0.35",
                            fontweight="bold" if abs(r) > 0.95 else "normal", transform=ax.transAxes)  # fmt: skip
                continue
            if i == j:
                row = summary.loc[names[i]]
                ax.hist(samples[:, i], bins=40, range=lims[i], color=SKY, edgecolor=BLUE, histtype="stepfilled",
                        linewidth=1.2, density=True)  # fmt: skip
                ax.axvline(row["median"], color=BLUE, linewidth=2)
                for edge in (row["low"], row["high"]):
                    ax.axvline(edge, color=BLUE, linestyle="--", linewidth=1.2)
                if truth and names[i] in truth:
                    ax.axvline(truth[names[i]], color=VERMILLION, linewidth=2)
                ax.set_yticks([])
                ax.set_title(f"{wrap(names[i], 28)}\n{row['median']:.4g} [{row['low']:.4g}, {row['high']:.4g}]",
                             fontsize=10.5, loc="left")  # fmt: skip
                ax.set_xlim(lims[i])
                ax.spines[["top", "right", "left"]].set_visible(False)
            else:
                from scipy.ndimage import gaussian_filter

                hist, xedges, yedges = np.histogram2d(samples[:, j], samples[:, i], bins=40, range=[lims[j], lims[i]])
                hist = gaussian_filter(hist, 1.2)
                ax.plot(shown[:, j], shown[:, i], ".", color=BLUE, markersize=1.2, alpha=0.25, rasterized=True)
                levels = _mass_levels(hist, (0.9, 0.5))
                if levels is not None:
                    centres_x = 0.5 * (xedges[1:] + xedges[:-1])
                    centres_y = 0.5 * (yedges[1:] + yedges[:-1])
                    ax.contour(centres_x, centres_y, hist.T, levels=levels, colors=[BLUE, "#003F66"], linewidths=1.4)
                if truth and names[i] in truth and names[j] in truth:
                    ax.plot(truth[names[j]], truth[names[i]], "s", color=VERMILLION, markersize=7)
                ax.set_xlim(lims[j])
                ax.set_ylim(lims[i])
                style(ax)
            if i == p - 1:
                ax.set_xlabel(wrap(names[j], 24), fontsize=10)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(wrap(names[i], 24), fontsize=10)
            elif j > 0 and i != j:
                ax.tick_params(labelleft=False)
    handles = [
        Line2D([], [], color=BLUE, linewidth=2, label="Median"),
        Line2D([], [], color=BLUE, linestyle="--", linewidth=1.2, label=f"{credible}% credible interval"),
        Line2D([], [], color=BLUE, linewidth=1.4, label="50% and 90% of the draws (pairs)"),
    ]
    if truth:
        handles.append(Line2D([], [], color=VERMILLION, linewidth=2, marker="s", label="True value"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles) if p > 3 else 2, frameon=False,
               fontsize=10.5)  # fmt: skip
    return fig


def _mass_levels(hist: np.ndarray, masses: tuple[float, ...]) -> list[float] | None:
    """Histogram heights enclosing the given probability masses (increasing, for ``contour``)."""
    flat = np.sort(hist.ravel())[::-1]
    total = flat.sum()
    if total <= 0:
        return None
    cumulative = np.cumsum(flat) / total
    levels = sorted({float(flat[min(np.searchsorted(cumulative, m), len(flat) - 1)]) for m in masses})
    levels = [lv for lv in levels if lv > 0]
    return levels if len(levels) == len(masses) else None


def predictive_figure(post: Posterior, model_bands: xr.Dataset, noisy_bands: xr.Dataset) -> Figure:
    """Per variable: the median and 90% band of the model over posterior draws; for observed series also
    the 90% predictive band including measurement noise, and the observations."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    problem = post.problem
    model = problem.model
    names = list(model_bands.data_vars)
    ncols = min(len(names), 3)
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(max(5.2 * ncols, 8), 4.3 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.suptitle(f"{model_title(model)}: posterior predictive bands ({model_bands.attrs.get('draws', '')} draws)",
                 fontsize=15, fontweight="bold")  # fmt: skip
    times = model_bands["time"].to_numpy()
    frame = problem.data.frame
    for ax, name in zip(axes.flat, names, strict=False):
        band = model_bands[name]
        if name in frame.columns:
            noisy = noisy_bands[name]
            ax.fill_between(times, noisy.sel(quantile=0.05), noisy.sel(quantile=0.95), color=SKY, alpha=0.3, linewidth=0)
        ax.fill_between(times, band.sel(quantile=0.05), band.sel(quantile=0.95), color=BLUE, alpha=0.35, linewidth=0)
        ax.plot(times, band.sel(quantile=0.5), color=BLUE, linewidth=2.2)
        if name in frame.columns:
            observed = frame[name].dropna()
            ax.plot(observed.index, observed.to_numpy(), "o", color=DATA, markersize=4)
        ax.set_title(wrap(name, 40) + ("" if name in frame.columns else "  (not observed)"), fontsize=12, loc="left",
                     fontweight="bold")  # fmt: skip
        ax.set_ylabel(units_label(model, name), fontsize=11)
        ax.set_xlabel(time_label(model), fontsize=11)
        ax.set_xlim(times[0], times[-1])
        style(ax)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = [
        Line2D([], [], color=BLUE, linewidth=2.2, label="Median"),
        Patch(color=BLUE, alpha=0.35, label="90% band of the model (parameter uncertainty)"),
        Patch(color=SKY, alpha=0.3, label="90% predictive band incl. measurement noise"),
        Line2D([], [], color=DATA, marker="o", linestyle="", label="Observed"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=11)
    return fig
