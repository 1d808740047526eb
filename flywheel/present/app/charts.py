"""The page's comparison panels as Bokeh figures whose data are replaced in place.

One figure per panel of the model's profile (the panels of ``flywheel compare``), one line per plan in
the plan's colour, optional uncertainty bands (5th to 95th percentile of a Monte Carlo), the goal's
reference line, the shock and each plan's switch month. All figures of a plan read one data source (one
column per variable), so a slider move sends one small update per plan and the browser redraws the
lines; nothing is re-rendered on the server. The axes' ranges are set here with the data (``Range1d``),
not found by the browser: a browser-side auto-range draws every figure twice and sends each new range
back to the server. The live page and the exported file use the same charts (the file computes the
ranges in JavaScript, ``RANGE_JS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, Label, NumeralTickFormatter, Range1d, Span
from bokeh.plotting import figure

from ...analysis.montecarlo import MonteCarlo
from .text import unit_words
from .theme import FONT, INK, MUTED, PLAN_COLORS, RULE

BAND = ("p5", "p95", 0.16)  # nine runs in ten fall inside; one band per plan keeps overlaps readable
PAD = 0.06  # share of the data's span added above and below

#: JavaScript twin of ``Charts.rescale`` for the exported file (args: ``ranges``, ``sources``, ``references``).
RANGE_JS = """
for (const [name, range] of Object.entries(ranges)) {
    let low = Infinity, high = -Infinity;
    for (const src of sources) {
        for (const v of src.data[name]) { if (Number.isFinite(v)) { low = Math.min(low, v); high = Math.max(high, v); } }
    }
    const reference = references[name];
    if (reference !== null && reference !== undefined) { low = Math.min(low, reference); high = Math.max(high, reference); }
    if (!Number.isFinite(low)) continue;
    let pad = (high - low) * PAD;
    if (pad === 0) { pad = Math.abs(high) * 0.05 || 0.05; }
    range.setv({start: low - pad, end: high + pad});
}
""".replace("PAD", repr(PAD))


class Charts:
    """Figures and data sources for the profile's panels; ``update_*`` replace data in place."""

    def __init__(self, whatif: Any, plans: Sequence[str] = tuple(PLAN_COLORS), height: int = 230):
        self.whatif = whatif
        profile = whatif.profile
        self.panels = [p for p in profile.panels if p.variable in whatif.model.variables]
        self.plans = list(plans)
        empty = {"time": np.asarray(whatif.times, dtype=float)}
        self.sources = {k: ColumnDataSource(dict(empty, **{p.variable: np.zeros(len(whatif.times))
                                                           for p in self.panels}), name=f"line-{k}")
                        for k in self.plans}  # fmt: skip
        self.band_sources = {k: ColumnDataSource(self._empty_band(), name=f"band-{k}") for k in self.plans}
        self.band_renderers: list[Any] = []
        self.switch_spans: dict[str, list[Span]] = {k: [] for k in self.plans}
        self.shock_spans: list[Span] = []
        self.shock_labels: list[Label] = []
        self._markers: Any = None
        self.x_range = Range1d(float(whatif.times[0]), float(whatif.times[-1]))
        self.y_ranges = {p.variable: Range1d(0.0, 1.0, name=f"y-{p.variable}") for p in self.panels}
        self.figures = [self._figure(panel, height) for panel in self.panels]

    # -------------------------------------------------------------------------------------- updates
    def update_lines(self, key: str, series: Mapping[str, np.ndarray]) -> None:
        """Replace one plan's curves (one message to the browser)."""
        data = {"time": np.asarray(self.whatif.times, dtype=float)}
        for panel in self.panels:
            data[panel.variable] = np.asarray(series[panel.variable], dtype=float)
        self.sources[key].data = data
        self.rescale()

    def rescale(self) -> None:
        """Fit every panel's y axis to what it shows: the plans' lines, visible bands, the reference line."""
        bands_on = any(renderer.visible for renderer in self.band_renderers)
        for panel in self.panels:
            arrays = [np.asarray(self.sources[k].data[panel.variable], dtype=float) for k in self.plans]
            if bands_on:
                arrays += [np.asarray(self.band_sources[k].data[f"{panel.variable}|{q}"], dtype=float)
                           for k in self.plans for q in BAND[:2]]  # fmt: skip
            values = np.concatenate(arrays + ([np.array([panel.reference])] if panel.reference is not None else []))
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            low, high = float(values.min()), float(values.max())
            pad = (high - low) * PAD or (abs(high) * 0.05 or 0.05)
            y_range = self.y_ranges[panel.variable]
            if (y_range.start, y_range.end) != (low - pad, high + pad):
                y_range.update(start=low - pad, end=high + pad)

    def update_bands(self, result: MonteCarlo | None) -> None:
        """Show the percentile bands of ``result`` (its scenarios are the plan keys), or hide them."""
        if result is None:
            for renderer in self.band_renderers:
                renderer.visible = False
            self.rescale()
            return
        for key in self.plans:
            if key not in result.scenarios:
                continue
            data = {"time": np.asarray(result.dataset["time"].values, dtype=float)}
            for panel in self.panels:
                if panel.variable not in result.variables:
                    continue
                bands = result.percentiles(panel.variable).sel(scenario=key)
                for q in (5, 95):
                    data[f"{panel.variable}|p{q}"] = bands.sel(percentile=q).values
            self.band_sources[key].data = data
        for renderer in self.band_renderers:
            renderer.visible = True
        self.rescale()

    def update_markers(self, shock: float | None, switches: Mapping[str, float | None]) -> None:
        """Move the shock line and each plan's switch line (hidden when there is none)."""
        key = (shock, tuple(sorted(switches.items())))
        if key == self._markers:
            return
        self._markers = key
        for span, label in zip(self.shock_spans, self.shock_labels, strict=True):
            span.visible = label.visible = shock is not None
            if shock is not None:
                span.location = label.x = float(shock)
        for key, spans in self.switch_spans.items():
            month = switches.get(key)
            for span in spans:
                span.visible = month is not None
                if month is not None:
                    span.location = float(month)

    # ------------------------------------------------------------------------------------- building
    def _empty_band(self) -> dict[str, Any]:
        n = len(self.whatif.times)
        data = {"time": np.asarray(self.whatif.times, dtype=float)}
        for panel in self.panels:
            for q in (5, 95):
                data[f"{panel.variable}|p{q}"] = np.full(n, np.nan)
        return data

    def _figure(self, panel: Any, height: int) -> Any:
        units = "" if panel.percent else unit_words(self.whatif.model.variables[panel.variable].units)
        fig = figure(height=height, sizing_mode="stretch_width", min_width=280, toolbar_location=None,
                     tools="", title=panel.label, x_axis_label=self.whatif.time_unit, x_range=self.x_range,
                     y_range=self.y_ranges[panel.variable],
                     y_axis_label=units or None, name=f"panel-{panel.variable}")  # fmt: skip
        fig.title.text_font_size = "15px"
        fig.title.text_font_style = "bold"
        fig.title.text_color = INK
        fig.title.text_font = FONT
        for axis in (fig.xaxis, fig.yaxis):
            axis.axis_label_text_font_size = "12px"
            axis.axis_label_text_font_style = "normal"
            axis.axis_label_text_color = MUTED
            axis.major_label_text_font_size = "12px"
            axis.axis_line_color = RULE
            axis.major_tick_line_color = RULE
            axis.minor_tick_line_color = None
        fig.xgrid.grid_line_color = None
        fig.yaxis.ticker.desired_num_ticks = 5
        fig.ygrid.grid_line_color = "#eef2f6"
        fig.outline_line_color = None
        fig.background_fill_color = "white"
        fig.border_fill_color = "white"
        # fixed borders: a tick label that grows must not resize the figure (a resize redraws the page)
        fig.min_border_left, fig.min_border_right, fig.min_border_top, fig.min_border_bottom = 64, 12, 8, 8
        # plain numbers with thousands separators, never scientific notation (1.000e+5)
        fig.yaxis.formatter = NumeralTickFormatter(format="0.[0]%" if panel.percent else "0,0.[0000]")
        if panel.reference is not None:
            fig.add_layout(Span(location=panel.reference, dimension="width", line_color="#9aa5b1",
                                line_dash="dashed", line_width=1))  # fmt: skip
        shock = Span(location=0, dimension="height", line_color="#7b8794", line_dash="dashed", line_width=1.2,
                     visible=False)  # fmt: skip
        label = Label(x=0, y=4, x_units="data", y_units="screen", text=self.whatif.profile.shock_label,
                      text_font_size="11px", text_color="#7b8794", x_offset=3, visible=False)  # fmt: skip
        fig.add_layout(shock)
        fig.add_layout(label)
        self.shock_spans.append(shock)
        self.shock_labels.append(label)
        fmt = "{0.0%}" if panel.percent else "{0,0.00}"
        for key in self.plans:
            colour = PLAN_COLORS.get(key, "#000000")
            low, high, alpha = BAND
            band = fig.varea(x="time", y1=f"{panel.variable}|{low}", y2=f"{panel.variable}|{high}",
                             source=self.band_sources[key], fill_color=colour, fill_alpha=alpha, visible=False)
            self.band_renderers.append(band)
            for edge in (low, high):
                self.band_renderers.append(fig.line(x="time", y=f"{panel.variable}|{edge}", source=self.band_sources[key],
                                                    line_color=colour, line_alpha=0.55, line_width=1,
                                                    line_dash="dashed", visible=False))  # fmt: skip
            switch = Span(location=0, dimension="height", line_color=colour, line_dash="dotted", line_width=1.6,
                          visible=False)  # fmt: skip
            fig.add_layout(switch)
            self.switch_spans[key].append(switch)
        for key in self.plans:
            colour = PLAN_COLORS.get(key, "#000000")
            line = fig.line(x="time", y=panel.variable, source=self.sources[key], line_color=colour,
                            line_width=3 if key == self.plans[0] else 2.6, name=f"curve-{key}")  # fmt: skip
            fig.add_tools(HoverTool(renderers=[line], mode="vline", attachment="horizontal",
                                    tooltips=[(PLAN_NAMES.get(key, key), f"@{{{panel.variable}}}{fmt}"),
                                              (self.whatif.time_unit, "@time")]))  # fmt: skip
        return fig


PLAN_NAMES = {"your_plan": "Your plan", "alternative": "Alternative"}
