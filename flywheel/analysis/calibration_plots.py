"""Figures of calibrations and posteriors, good enough for a slide: fit versus data with residuals,
likelihood profiles, a corner plot of posterior draws and posterior predictive bands.

They live beside the analyses (``Calibration.plot()`` must not import the presentation layer) and follow
its style: matplotlib ``Figure`` objects without pyplot state, Okabe-Ito colours, the model's units on
the axes, titles that say what the reader is looking at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .calibration import Calibration
    from .profiles import LikelihoodProfile

BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"
DATA = "#222222"


def style(ax: Axes) -> None:
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10)


def units_label(model: Any, name: str) -> str:
    info = model.variables.get(name)
    units = (getattr(info, "units", "") or "").strip()
    return units if units and units.lower() not in ("dmnl", "1") else "(dimensionless)"


def wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def model_title(model: Any) -> str:
    """The title of the model's profile (e.g. "Evil Sales Org Flywheel"), else its file name."""
    from ..errors import FlywheelError
    from ..scenarios import load_profile

    try:
        return load_profile(model).title or model.name
    except FlywheelError:
        return model.name


def time_label(model: Any) -> str:
    """"Time (Month)": the unit of the model's time settings."""
    for control in ("INITIAL TIME", "FINAL TIME", "TIME STEP"):
        info = model.variables.get(control)
        units = (getattr(info, "units", "") or "").strip()
        if units:
            return f"Time ({units})"
    return "Time"


def fit_figure(c: Calibration, band: bool = True, seed: int = 0) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    problem = c.problem
    model = problem.model
    series = list(problem.data.series)
    x = c.estimates.to_numpy()
    run = problem.run(x[None])
    times = run.times
    curves = run.values[:, 0, :]
    lower = upper = None
    if band and bool(c.identifiable.all()) and np.all(np.isfinite(c.stderr)):
        lower, upper = _band(c, seed)

    ncols = min(len(series), 3)  # more series wrap onto further rows, each a fit row and a residual row
    rows = -(-len(series) // ncols)
    fig = Figure(figsize=(max(5.2 * ncols, 8), 5.9 * rows + 0.7), layout="constrained")
    axes = fig.subplots(2 * rows, ncols, squeeze=False, sharex=True, gridspec_kw={"height_ratios": [2.3, 1] * rows})
    for ax in axes.flat:
        ax.set_visible(False)  # shown below, panel by panel
    source = problem.data.source.rsplit("/", 1)[-1]
    verdict = "" if c.converged else "  (DID NOT CONVERGE)"
    fig.suptitle(f"{model_title(model)}: model calibrated to {source}{verdict}", fontsize=16, fontweight="bold")
    frame = problem.data.frame
    for s, name in enumerate(series):
        row, column = divmod(s, ncols)
        top, bottom = axes[2 * row, column], axes[2 * row + 1, column]
        top.set_visible(True)
        bottom.set_visible(True)
        observed = frame[name].dropna()
        if lower is not None:
            top.fill_between(times, lower[s], upper[s], color=SKY, alpha=0.6, linewidth=0, zorder=1)
        top.plot(times, curves[s], color=BLUE, linewidth=2.4, zorder=2)
        top.plot(observed.index, observed.to_numpy(), "o", color=DATA, markersize=4.5, zorder=3)
        top.set_title(
            f"{wrap(name, 40)}\nrmse {c.rmse[name]:.3g}, {len(observed)} points", fontsize=12, loc="left",
            fontweight="bold",
        )  # fmt: skip
        top.set_ylabel(units_label(model, name), fontsize=11)
        residuals = c.residuals[name].dropna()
        noise = c.noise[name]
        bottom.axhspan(-2 * noise, 2 * noise, color="0.93", zorder=0)
        bottom.axhline(0, color="0.4", linewidth=1)
        bottom.vlines(residuals.index, 0, residuals.to_numpy(), color=VERMILLION, linewidth=1.2)
        bottom.plot(residuals.index, residuals.to_numpy(), "o", color=VERMILLION, markersize=3.5)
        bottom.set_ylabel("observed - model", fontsize=10)
        bottom.set_xlabel(time_label(model), fontsize=11)
        bottom.tick_params(labelbottom=True)  # every residual panel shows its time axis
        top.tick_params(labelbottom=False)
        limit = max(float(np.nanmax(np.abs(residuals.to_numpy()), initial=0.0)), 2.2 * noise, 1e-12)
        bottom.set_ylim(-1.15 * limit, 1.15 * limit)
        for ax in (top, bottom):
            style(ax)
            ax.set_xlim(times[0], times[-1])
    handles = [
        Line2D([], [], color=DATA, marker="o", linestyle="", markersize=5, label="Observed"),
        Line2D([], [], color=BLUE, linewidth=2.4, label="Fitted model"),
    ]
    if lower is not None:
        handles.append(Patch(color=SKY, alpha=0.6, label="95% band from parameter uncertainty"))
    handles.append(Patch(color="0.93", label="+/- 2 x estimated noise (residual panels)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=11)
    return fig


def _band(c: Calibration, seed: int, draws: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% of the model over parameter draws from the estimates' normal approximation
    (clipped to the bounds), all run as one ensemble."""
    problem = c.problem
    rng = np.random.default_rng(seed)
    cov = (c.correlation.to_numpy() * np.outer(c.stderr, c.stderr))
    X = rng.multivariate_normal(c.estimates.to_numpy(), cov, size=draws, method="eigh")
    X = np.clip(X, problem.low, problem.high)
    values = problem.run(X).values  # (series, member, time)
    return np.nanpercentile(values, 2.5, axis=1), np.nanpercentile(values, 97.5, axis=1)


def profiles_figure(profiles: Sequence[LikelihoodProfile]) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    n = len(profiles)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.2 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    level = int(round(profiles[0].level * 100))
    fig.suptitle("Profile likelihood: how much worse the fit gets, the other parameters refitted",
                 fontsize=15, fontweight="bold")  # fmt: skip
    for ax, p in zip(axes.flat, profiles, strict=False):
        frame = p.frame
        statistic = np.clip(frame["statistic"].to_numpy(), 0, None)
        top = max(3 * p.threshold, float(np.nanmax(np.where(np.isfinite(statistic), statistic, 0))) * 1.05)
        top = min(top, 6 * p.threshold)
        low, high = p.interval
        ax.axvspan(low, high, color=SKY, alpha=0.25, linewidth=0)
        ax.plot(frame["value"], statistic, "-o", color=BLUE, linewidth=2.2, markersize=3.5)
        ax.axhline(p.threshold, color=VERMILLION, linestyle="--", linewidth=1.4)
        ax.axvline(p.estimate, color="0.3", linewidth=1)
        wald_y = p.threshold * 1.12
        ax.plot(p.wald, [wald_y, wald_y], color=GREEN, linewidth=1.8, marker="|", markersize=12, markeredgewidth=1.8)
        ax.set_ylim(0, top)
        shown = np.concatenate([frame["value"].to_numpy(), p.wald])
        span = shown.max() - shown.min() or abs(p.estimate) or 1.0
        ax.set_xlim(shown.min() - 0.04 * span, shown.max() + 0.04 * span)
        lo_text = f"{low:.4g}{' (bound)' if p.open_low else ''}"
        hi_text = f"{high:.4g}{' (bound)' if p.open_high else ''}"
        ax.set_title(f"{wrap(p.parameter, 40)}\n{level}% profile interval [{lo_text}, {hi_text}]",
                     fontsize=11.5, loc="left", fontweight="bold")  # fmt: skip
        ax.set_xlabel(f"{p.parameter} ({p.units})" if p.units else p.parameter, fontsize=10.5)
        ax.set_ylabel("increase in chi-square (F statistic)", fontsize=10)
        style(ax)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # narrow intervals of small numbers: long labels
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [
        Line2D([], [], color=BLUE, linewidth=2.2, marker="o", markersize=3.5, label="Profile"),
        Line2D([], [], color=VERMILLION, linestyle="--", label=f"{level}% threshold F(1, dof)"),
        Patch(color=SKY, alpha=0.4, label=f"{level}% profile interval"),
        Line2D([], [], color=GREEN, linewidth=1.6, label=f"{level}% interval from the Jacobian"),
        Line2D([], [], color="0.3", linewidth=1, label="Estimate"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=10.5)
    return fig
