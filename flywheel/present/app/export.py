"""The what-if page as one standalone HTML file: no server, no network, sliders that still work.

The main levers (``analysis.whatif_grid``: those that move the panels most, values that include your
plan's, today's and the alternative's) are run on a grid when the file is written; the file embeds the
curves (float32), the summary table and the takeaways of every grid point, and a few lines of JavaScript
that show the point the sliders pick. Charts, table and takeaways are made by the same code as the live
page. Bokeh's JavaScript is inlined, so the file opens anywhere, offline. Other settings are fixed at
their values when the file was written (listed in the file); uncertainty bands need the live page.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSTickFormatter,
    Div,
    GridBox,
    InlineStyleSheet,
    Slider,
)
from bokeh.resources import INLINE

from ...analysis.whatif_grid import MAX_RUNS, run_grid
from ..takeaways import takeaways
from . import panes
from .charts import RANGE_JS, Charts
from .context import AppContext
from .text import escape, lever_explanation, one_line, show_value
from .textboard import TextBoard
from .theme import CARD_STYLES, HTML_CSS, PAGE_CSS, PLAN_COLORS

_JS = """
let index = 0;
for (let k = 0; k < sliders.length; k++) {
    index = index * shape[k] + sliders[k].value;
}
const sources = [source, alternative];
const n = times.length;
const data = {time: times};
for (const name of variables) {
    data[name] = grid.data[name].slice(index * n, (index + 1) * n);
}
source.data = data;
texts.data = Object.assign({}, texts.data, {"fw-table": [tables[index]], "fw-takeaways": [notes[index]]});
%RANGES%
const month = switches[index];
for (const span of spans) {
    span.visible = month !== null;
    if (month !== null) { span.location = month; }
}
""".replace("%RANGES%", RANGE_JS)


def export_html(context: AppContext, *, max_runs: int = MAX_RUNS, shared: bool = True) -> str:
    """The standalone page (HTML text) for the context's starting plan and first alternative."""
    whatif = context.whatif
    profile = whatif.profile
    plan = context.start
    alternative = whatif.alternative(context.alternatives[context.alternative], plan, shared=shared,
                                     title=context.alternative_title(context.alternative))  # fmt: skip
    grid = run_grid(whatif, plan, max_runs=max_runs, also=[alternative])
    alt_run = whatif.run(alternative)
    titles = {"your_plan": "Your plan", "alternative": f"Alternative: {alternative.title}"}
    nouns = {"your_plan": "your plan", "alternative": "the alternative"}

    tables, notes = _texts(whatif, grid, alt_run, titles, nouns)
    start_index = grid.index_of([grid.values[k].index(_nearest(grid.values[k], plan.params[c.constant]))
                                 for k, c in enumerate(grid.controls)])  # fmt: skip
    charts = Charts(whatif)
    charts.update_lines("alternative", alt_run.series)
    charts.update_lines("your_plan", {v: grid.series[v][start_index] for v in grid.series})
    switches = [whatif.first_switch(plan.with_values(grid.point(i))) for i in range(grid.size)]
    charts.update_markers(whatif.shock_month(plan), {"alternative": whatif.first_switch(alternative),
                                                     "your_plan": switches[start_index]})  # fmt: skip

    css = InlineStyleSheet(css=HTML_CSS)
    div = lambda text, **kw: Div(text=text, stylesheets=[css], sizing_mode="stretch_width", **kw)  # noqa: E731
    board = TextBoard(("fw-table", "fw-takeaways"), css)
    board.set("fw-table", tables[start_index])
    board.set("fw-takeaways", notes[start_index])
    board.flush()  # not drawn yet: the Divs get their text

    variables = [p.variable for p in charts.panels]
    flat = ColumnDataSource({v: grid.series[v].astype(np.float32).ravel() for v in variables}, name="fw-grid")
    sliders = []
    for k, control in enumerate(grid.controls):
        values = grid.values[k]
        position = values.index(_nearest(values, plan.params[control.constant]))
        label = [show_value(control, v) for v in values]
        title = "Your plan" if control.role == "plan" else "Value"
        shown = CustomJSTickFormatter(args={"labels": label}, code="return labels[Math.round(tick)]")
        slider = Slider(start=0, end=len(values) - 1, step=1, value=position, title=title, format=shown,
                        sizing_mode="stretch_width", bar_color=PLAN_COLORS["your_plan"], name=f"fw-slider-{k}")
        sliders.append(slider)
    args = dict(
        sliders=sliders, shape=list(grid.shape), times=np.asarray(whatif.times, dtype=float), variables=variables,
        grid=flat, source=charts.sources["your_plan"], alternative=charts.sources["alternative"], texts=board.source,
        tables=tables, notes=notes, switches=switches, spans=charts.switch_spans["your_plan"], ranges=charts.y_ranges,
        references={p.variable: p.reference for p in charts.panels},
    )  # fmt: skip
    callback = CustomJS(args=args, code=_JS)
    for slider in sliders:
        slider.js_on_change("value", callback)

    cards = []
    for k, control in enumerate(grid.controls):
        lever = profile.lever(control.group)
        if lever is not None:
            variables_info = whatif.model.variables
            text = lever_explanation(variables_info[lever.before].documentation, lever.explain,
                                     variables_info[lever.after].documentation, lever.dimension)  # fmt: skip
            head = panes.lever_html(lever.label, text, variables_info[lever.before].documentation, lever.dimension)
        else:
            head = panes.lever_html(control.label, one_line(control.documentation), control.documentation)
        cards.append(column(div(head), sliders[k], sizing_mode="stretch_width",
                            styles={**CARD_STYLES, "margin": "4px 0"}))  # fmt: skip
    fixed = _fixed_settings(whatif, plan, {c.constant for c in grid.controls})
    sidebar = column(
        div(panes.section_html("Your plan", f"The {len(grid.controls)} levers that move the results most; "
                                            f"{grid.size:,} settings precomputed.")),
        *cards,
        div(fixed),
        width=430,
    )  # fmt: skip
    figures = GridBox(children=[(f, i // 3, i % 3) for i, f in enumerate(charts.figures)],
                      sizing_mode="stretch_width", spacing=8)  # fmt: skip
    main = column(
        div(panes.legend_html(titles), styles={**CARD_STYLES, "padding": "10px 14px"}),
        column(div(panes.section_html("What happens")), board.divs["fw-takeaways"], sizing_mode="stretch_width",
               styles={**CARD_STYLES, "padding": "10px 14px"}),
        column(board.divs["fw-table"], sizing_mode="stretch_width", styles={**CARD_STYLES, "padding": "10px 14px"}),
        figures,
        div(panes.caveats_html(profile.caveats)),
        sizing_mode="stretch_width",
    )  # fmt: skip
    stamp = _dt.date.today().isoformat()
    header = div(panes.header_html(profile.title, profile.story)
                 + f'<div class="fw-note">Exported from <code>flywheel app</code> on {stamp}. Runs without a server: '
                 "the sliders move over a precomputed grid; the live page has every lever, uncertainty bands and "
                 "file loading.</div>")  # fmt: skip
    page = column(header, row(sidebar, main, sizing_mode="stretch_width"), sizing_mode="stretch_width",
                  styles={"padding": "10px 18px", "background": "#f5f7fa"})  # fmt: skip
    html = file_html(page, resources=INLINE, title=f"What if? {profile.title}")
    html = _EXTERNAL_SCRIPT.sub("", html)  # e.g. Panel's module shim, added to Bokeh's resources once Panel is imported
    return html.replace("<head>", f"<head>\n<style>{PAGE_CSS}</style>", 1)


_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[^>]*>\s*</script>", re.IGNORECASE)


def _texts(whatif: Any, grid: Any, alt_run: Any, titles: dict[str, str], nouns: dict[str, str]
           ) -> tuple[list[str], list[str]]:  # fmt: skip
    """Summary table and takeaways of every grid point (the live page's functions)."""
    times = np.asarray(whatif.times, dtype=float)
    tables, notes = [], []
    for point in range(grid.size):
        frames = {"your_plan": (times, {v: grid.series[v][point] for v in grid.series}), "alternative": alt_run}
        tables.append(panes.summary_html(frames, titles, whatif.profile))
        notes.append(panes.takeaways_html(takeaways(frames, whatif.profile, nouns, whatif.time_unit, limit=4)))
    return tables, notes


def _fixed_settings(whatif: Any, plan: Any, varied: set[str]) -> str:
    items = []
    for control in whatif.controls:
        if control.constant in varied:
            continue
        value = plan.params.get(control.constant, control.default)
        role = {"plan": "your plan", "switch": "from", "today": "today", "assumption": ""}[control.role]
        name = control.label if control.role == "assumption" else f"{control.label}, {role}"
        items.append(f"<li>{escape(name)}: {escape(show_value(control, value))}</li>")
    if not items:
        return ""
    return (f'<details class="fw-caveats"><summary><b>Fixed in this file</b> ({len(items)} other settings)</summary>'
            f'<ul style="padding-left:18px">{"".join(items)}</ul></details>')  # fmt: skip


def _nearest(values: tuple[float, ...], value: float) -> float:
    return min(values, key=lambda v: abs(v - value))
