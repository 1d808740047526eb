"""The loop animation: the causal loop diagram with every variable coloured by its value over time and
the dominant loop highlighted, beside the growing time series of one variable (GIF, or MP4 with ffmpeg).

The diagram's layout comes from Graphviz (``diagrams.cld_layout``); each frame is drawn with matplotlib,
so about 60 frames take a few seconds and the GIF stays well under 10 MB.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OutputError
from .diagrams import COLOURS, _label, cld_layout, default_markers

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

FRAMES = 60
FPS = 6  # 60 frames: 10 seconds
FIGSIZE = (19.2, 10.8)
DPI = 100


def animation_bytes(model, ds: xr.Dataset, df: pd.DataFrame, variable: str, fmt: str = "gif",
                    title: str = "") -> bytes:  # fmt: skip
    """The animation of one run as GIF or MP4 bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import animation
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    from ..analysis.loops import link_polarities, load_loop_names, loop_table
    from ..analysis.structure import causal_structure

    if fmt == "mp4" and shutil.which("ffmpeg") is None:
        raise OutputError("an MP4 needs ffmpeg, which is not installed; write a .gif instead")
    structure = causal_structure(model)
    polarity = link_polarities(model, structure)
    table = loop_table(structure, polarity, load_loop_names(model))
    dominant_ids = [d for d in dict.fromkeys(ds["dominant"].values) if d]
    marked = list(dict.fromkeys(default_markers(table) + dominant_ids[:4]))
    shown = table[table["id"].isin(marked)] if marked else table
    layout = cld_layout(structure, shown, polarity, [m for m in marked if m in set(shown["id"])])
    xs = np.array([p[0] for p in layout.nodes.values()])
    ys = np.array([p[1] for p in layout.nodes.values()])
    fig = Figure(figsize=FIGSIZE, dpi=DPI)  # a 1920 x 1080 slide
    box = (0.005, 0.01, 0.685, 0.86)  # the diagram's part of the frame
    ax = fig.add_axes(box)
    ts = fig.add_axes([0.73, 0.2, 0.255, 0.56])
    ax.set_xlim(xs.min() - 60, xs.max() + 60)
    ax.set_ylim(ys.min() - 40, ys.max() + 40)
    ax.set_aspect("equal")
    ax.axis("off")
    width_pts = box[2] * FIGSIZE[0] * 72
    height_pts = box[3] * FIGSIZE[1] * 72
    scale = min(width_pts / (xs.max() - xs.min() + 120), height_pts / (ys.max() - ys.min() + 80))
    font = max(9.0, 15.0 * scale)  # Graphviz laid the diagram out for 15 pt labels
    cmap = matplotlib.colormaps["coolwarm"]
    values = {n: df[n].to_numpy(float) for n in layout.nodes if n in df}
    ranges = {n: (np.nanmin(v), np.nanmax(v)) for n, v in values.items()}
    texts = {}
    for name, (x, y) in layout.nodes.items():
        stock = structure.kind(name) == "stock"
        box = dict(boxstyle="round,pad=0.35" if stock else "round,pad=0.25", fc="white",
                   ec="#333333" if stock else "none", lw=1.8 if stock else 0)  # fmt: skip
        texts[name] = ax.text(x, y, _label(name), ha="center", va="center", fontsize=font, bbox=box, zorder=3)
    arrows = {}
    for (s, t), _info in layout.links.items():
        (x0, y0), (x1, y1) = layout.nodes[s], layout.nodes[t]
        arrow = FancyArrowPatch((x0, y0), (x1, y1), connectionstyle="arc3,rad=0.12", arrowstyle="-|>",
                                mutation_scale=16, color="#9a9a9a", lw=1.2, shrinkA=2.2 * font, shrinkB=2.2 * font, zorder=1)  # fmt: skip
        ax.add_patch(arrow)
        arrows[(s, t)] = arrow
    for loop_id, row, (x, y) in layout.markers:
        colour = COLOURS.get(row["polarity"], "#444444")
        ax.text(x, y, f"{row['polarity']}\n{row['name'] or loop_id}", ha="center", va="center", fontsize=font,
                color=colour, fontweight="bold", zorder=2)  # fmt: skip
    heading = fig.text(0.01, 0.965, title, fontsize=24, fontweight="bold", va="top")
    sub = fig.text(0.01, 0.915, "", fontsize=17, va="top", color="#333333")
    series = df[variable].to_numpy(float)
    times = df.index.to_numpy(float)
    ts.set_xlim(times[0], times[-1])
    pad = 0.05 * (np.nanmax(series) - np.nanmin(series) or 1)
    ts.set_ylim(np.nanmin(series) - pad, np.nanmax(series) + pad)
    ts.set_title(variable, fontsize=20, loc="left", fontweight="bold")
    ts.set_xlabel("Month", fontsize=15)
    ts.tick_params(labelsize=13)
    ts.grid(alpha=0.3)
    (line,) = ts.plot([], [], color="#222222", lw=3)
    (dot,) = ts.plot([], [], "o", color="#b2182b", ms=9)
    fig.text(0.73, 0.08, "colour of a variable: blue = its lowest value\nin this run, red = its highest",
             fontsize=14, color="#555555")  # fmt: skip
    ds_times = ds["time"].values
    loop_vars = {str(k): str(v).split(" -> ") for k, v in zip(ds["loop"].values, ds["variables"].values, strict=True)}
    frames = np.unique(np.linspace(0, len(times) - 1, FRAMES).round().astype(int))
    del heading

    def draw(i: int):
        k = frames[i]
        t = times[k]
        for name, text in texts.items():
            if name in values:
                lo, hi = ranges[name]
                share = 0.5 if hi - lo <= 1e-12 * max(1.0, abs(hi)) else (values[name][k] - lo) / (hi - lo)
                text.get_bbox_patch().set_facecolor(cmap(0.15 + 0.7 * share))
        j = int(np.argmin(np.abs(ds_times - t)))
        dominant = str(ds["dominant"].values[j])
        on = set()
        if dominant:
            chain = [v for v in loop_vars[dominant] if structure.kind(v) != "flow"] or loop_vars[dominant]
            on = set(zip(chain, chain[1:] + chain[:1], strict=True))
            row = ds.sel(loop=dominant)
            name = str(row["name"].values) or dominant
            share = abs(float(row["relative_score"].values[j]))
            sub.set_text(f"Month {t:g}: strongest loop {dominant if name == dominant else f'{dominant} {name}'} "
                         f"({'reinforcing' if str(row['polarity'].values) == 'R' else 'balancing'}, {share:.0%})")  # fmt: skip
            colour = COLOURS.get(str(row["polarity"].values), "#444444")
        else:
            sub.set_text(f"Month {t:g}: at rest, no loop active")
            colour = "#9a9a9a"
        for key, arrow in arrows.items():
            hot = key in on
            arrow.set_color(colour if hot else "#b5b5b5")
            arrow.set_linewidth(4.0 if hot else 1.2)
        line.set_data(times[: k + 1], series[: k + 1])
        dot.set_data([t], [series[k]])
        return []

    writer = animation.PillowWriter(fps=FPS) if fmt == "gif" else animation.FFMpegWriter(fps=FPS, bitrate=1800)
    anim = animation.FuncAnimation(fig, draw, frames=len(frames), blit=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"animation.{fmt}"
        anim.save(path, writer=writer, dpi=DPI)
        data = path.read_bytes()
    return data
