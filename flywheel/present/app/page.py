"""The what-if page (Panel): sliders on the left, the two plans' takeaways, table and panels on the right.

Every slider comes from the model's profile through ``analysis.whatif`` (levers: your plan's value and
its switch month, today's value; assumptions). A move re-runs only what changed (your plan; both plans
when a shared assumption or today's value moves) and replaces the chart data, the table and the
takeaways in one held update. Uncertainty is on demand: a Monte Carlo (``analysis.whatif_uncertainty``)
after the sliders settle, computed on the next tick so the lines never wait for it. A broken upload or a
failed run shows a message in the page and leaves the last good state on screen.

``WhatIfPage(context).view`` is a Panel object: served by ``flywheel app``, or shown in a notebook.
The audit tab (``audit_tab``) follows when the model has an audit mapping; further tabs are added with
``add_tab``, or for every page with ``TAB_BUILDERS``.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn
from bokeh.models import InlineStyleSheet

from ...analysis.whatif import Control, Plan
from ...analysis.whatif_uncertainty import DOCUMENTED, Goal, goal_chances, plan_uncertainty
from ...errors import FlywheelError
from ..takeaways import takeaways
from . import panes
from .charts import Charts
from .context import AppContext
from .files import data_file, plan_file
from .text import lever_explanation, one_line, show_value, slider_format, unit_words
from .textboard import TextBoard
from .theme import CARD_STYLES, HTML_CSS, PANEL_STYLES, PLAN_COLORS
from .widgets import SLIDER_CSS, TABS_CSS, FastSlider, fixed_html, text_box

#: Builders of extra tabs after "What if" and "Audit": each takes the page and returns (title, Panel object),
#: or None for no tab.
TAB_BUILDERS: list[Callable[[WhatIfPage], tuple[str, Any] | None]] = []

SIDEBAR_WIDTH = 430
RUN_CHOICES = (200, 500, 1000, 2000)


class WhatIfPage:
    """One browser session's page over a shared ``AppContext`` (see the module text)."""

    def __init__(self, context: AppContext):
        self.context = context
        self.whatif = context.whatif
        self.profile = self.whatif.profile
        self.version = 0
        self.plan_title = context.start.title
        self.plan_source = ""  # the file your plan was loaded from, for the legend
        controls = {c.constant for c in self.whatif.controls}
        self.extras = {k: v for k, v in context.start.params.items() if k not in controls}
        self.runs: dict[str, Any] = {}
        self.band = None
        self._silent = False
        self._band_pending = False
        self.charts = Charts(self.whatif)
        self.sheet = InlineStyleSheet(css=HTML_CSS)
        self.board = TextBoard(("fw-legend", "fw-takeaways", "fw-table", "fw-chances", "fw-band-note"), self.sheet)
        self._build_widgets()
        self._build_layout()
        self.refresh(("your_plan", "alternative"))
        self.board.drawn()  # later changes come from the browser: texts travel through the board's source
        from .audit_tab import audit_tab

        for builder in (audit_tab, *TAB_BUILDERS):  # a builder may offer no tab for this model (None)
            tab = builder(self)
            if tab is not None:
                self.add_tab(*tab)

    # ----------------------------------------------------------------------------------- public API
    @property
    def view(self) -> Any:
        return self.layout

    def add_tab(self, title: str, view: Any) -> None:
        """Add a tab after "What if" (e.g. the audit)."""
        self.tabs.append((title, view))

    def values(self) -> dict[str, float]:
        """Every slider's value by constant."""
        return {constant: float(slider.value) for constant, slider in self.sliders.items()}

    def plan(self) -> Plan:
        """Your plan as the sliders set it (plus the other settings of a loaded file)."""
        return Plan("your_plan", self.plan_title, {**self.extras, **self.values()})

    def alternative(self) -> Plan:
        key = self.alternative_select.value
        scenario = self.context.alternatives[key]
        return self.whatif.alternative(scenario, self.plan(), shared=self.shared.value,
                                       title=self.context.alternative_title(key))  # fmt: skip

    def apply(self, values: Mapping[str, float], *, title: str | None = None, extras: Mapping[str, float] | None = None,
              source: str = "") -> None:  # fmt: skip
        """Set sliders from ``values`` (constant -> value; others are ignored) and re-run once."""
        checked = {k: self.whatif.check(k, v) for k, v in values.items() if k in self.sliders}
        self._silent = True
        try:
            for constant, value in checked.items():
                self.sliders[constant].value = value
        finally:
            self._silent = False
        if title is not None:
            self.plan_title = title
        if extras is not None:
            self.extras = dict(extras)
        self.plan_source = source
        self.refresh(("your_plan", "alternative"))

    def refresh(self, which: tuple[str, ...] = ("your_plan",)) -> None:
        """Run the plans in ``which`` and update every view of them (one held update)."""
        try:
            if "your_plan" in which:
                self.runs["your_plan"] = self.whatif.run(self.plan())
            if "alternative" in which:
                self.runs["alternative"] = self.whatif.run(self.alternative())
        except FlywheelError as exc:
            self._show_message(f"This setting does not run: {exc}", "danger")
            return
        self.version += 1
        with pn.io.hold():
            for key in which:
                self.charts.update_lines(key, self.runs[key].series)
            self._update_texts()
            self.board.flush()
        if self.band_toggle.value:
            self._schedule_band()

    # ------------------------------------------------------------------------------------- widgets
    def _build_widgets(self) -> None:
        values = self.context.start.params
        self.sliders: dict[str, pn.widgets.FloatSlider] = {}
        for control in self.whatif.controls:
            slider = FastSlider(
                label=self._slider_name(control), start=control.low, end=control.high, step=control.step,
                value=_clamp(values.get(control.constant, control.default), control), format=slider_format(control),
                sizing_mode="stretch_width", bar_color=PLAN_COLORS["your_plan"] if control.role != "assumption" else "#7b8794",
                margin=(2, 8), css_classes=[f"fw-slider-{control.role}"], stylesheets=[SLIDER_CSS],
            )  # fmt: skip
            slider.param.watch(lambda event, c=control: self._on_slider(c, event), "value")
            slider.param.watch(lambda event: self._on_settled(), "value_throttled")
            self.sliders[control.constant] = slider
        options = {self.context.alternative_title(k): k for k in self.context.alternatives}
        self.alternative_select = pn.widgets.Select(label="Alternative", options=options, value=self.context.alternative,
                                                    width=430, margin=(0, 8))  # fmt: skip
        self.alternative_select.param.watch(lambda e: self.refresh(("alternative",)), "value")
        has_world = any(c.role in ("today", "assumption") for c in self.whatif.controls)
        self.shared = pn.widgets.Checkbox(label="The alternative faces the same world (assumptions, today's practice)",
                                          value=bool(self.profile.levers) and has_world, margin=(8, 8))  # fmt: skip
        self.shared.param.watch(lambda e: self.refresh(("alternative",)), "value")
        goal = self.whatif.goal_panel()
        self.goal_panel = goal
        end = float(self.whatif.times[-1])
        start = float(self.whatif.times[0])
        self.goal_time = pn.widgets.IntSlider(label=f"Goal {self.whatif.time_unit.lower()}", start=int(math.ceil(start)),
                                              end=int(end), step=1, value=int(start + (end - start) / 2), width=260)  # fmt: skip
        self.goal_scale = 100.0 if goal is not None and goal.percent else 1.0  # a share is typed as a percentage
        label = f"Goal: {goal.label.lower()} at least" + (" (%)" if self.goal_scale == 100 else "") if goal else "Goal"
        self.goal_threshold = pn.widgets.FloatInput(label=label, value=round(self._default_threshold() * self.goal_scale, 6),
                                                    width=230)  # fmt: skip
        self.goal_time.param.watch(lambda e: self._update_chances(), "value_throttled")
        self.goal_threshold.param.watch(lambda e: self._update_chances(), "value")
        self.band_toggle = pn.widgets.Toggle(label="Show uncertainty", value=False, color="primary",
                                             width=180, margin=(18, 8, 4, 8))  # fmt: skip
        self.band_toggle.param.watch(self._on_band_toggle, "value")
        self.band_toggle.disabled = len(self.context.ranges) == 0
        self.runs_select = pn.widgets.Select(label="Runs", options=sorted({*RUN_CHOICES, self.context.runs}),
                                             value=self.context.runs, width=100)  # fmt: skip
        self.runs_select.param.watch(lambda e: self._schedule_band() if self.band_toggle.value else None, "value")
        self.upload = pn.widgets.FileInput(accept=".toml", multiple=False, width=260, margin=(4, 8),
                                          css_classes=["fw-scenario-upload"])
        self.upload.param.watch(self._on_upload, "value")
        self.download_toml = pn.widgets.FileDownload(callback=self._toml_file, filename="your_plan.toml",
                                                     label="Download your plan (.toml)", color="primary",
                                                     width=240, margin=(4, 8))  # fmt: skip
        self.download_csv = pn.widgets.FileDownload(callback=self._csv_file, filename="whatif.csv",
                                                    label="Download the data (.csv)", color="default",
                                                    width=220, margin=(4, 8))  # fmt: skip
        self.message = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width", margin=(4, 8))

    def _slider_name(self, control: Control) -> str:
        unit = unit_words(control.units)
        if control.role == "plan":
            today = self.context.start.params.get(self._today_constant(control), control.default)
            return f"Your plan (today {show_value(control, today)})"
        if control.role == "switch":
            return f"From {self.whatif.time_unit.lower()}"
        if control.role == "today":  # the lever's label without its explanation in brackets
            short = re.sub(r"\s*\([^)]*\)", "", control.label).strip() or control.label
            return short + (f" ({unit})" if unit and unit not in short.lower() else "")
        return "Value" + (f" ({unit})" if unit else "")

    def _today_constant(self, control: Control) -> str:
        lever = self.profile.lever(control.group)
        return lever.before if lever is not None else control.constant

    # -------------------------------------------------------------------------------------- layout
    def _build_layout(self) -> None:
        model = self.whatif.model
        variables = model.variables
        cards = []
        for lever in self.profile.levers:
            plan = self.sliders.get(lever.after)
            if plan is None:
                continue
            text = lever_explanation(variables[lever.before].documentation, lever.explain,
                                     variables[lever.after].documentation, lever.dimension)  # fmt: skip
            row = [plan] + ([self.sliders[lever.switch]] if lever.switch in self.sliders else [])
            body = pn.Row(*row, sizing_mode="stretch_width", margin=0)
            if len(row) == 2:
                plan.sizing_mode, plan.width = "stretch_width", None
                row[1].sizing_mode, row[1].width = None, 130
            doc = variables[lever.before].documentation
            cards.append(pn.Column(fixed_html(panes.lever_html(lever.label, text, doc, lever.dimension), self.sheet), body,
                                   styles=CARD_STYLES, sizing_mode="stretch_width", margin=(4, 0)))  # fmt: skip
        today = [self.sliders[c.constant] for c in self.whatif.controls if c.role == "today"]
        assumptions = []
        for control in self.whatif.controls:
            if control.role != "assumption":
                continue
            text = one_line(control.documentation)
            assumptions.append(pn.Column(fixed_html(panes.lever_html(control.label, text, control.documentation), self.sheet),
                                         self.sliders[control.constant], styles=CARD_STYLES,
                                         sizing_mode="stretch_width", margin=(4, 0)))  # fmt: skip
        sidebar_items: list[Any] = []
        if cards:
            sidebar_items += [fixed_html(panes.section_html("Your plan", "What management does from the month you choose."), self.sheet)]
            sidebar_items += cards
        if assumptions:
            note = "Both plans face these." if self.profile.levers else "Your plan's settings."
            sidebar_items += [fixed_html(panes.section_html("The world", note), self.sheet), *assumptions]
        if today:
            sidebar_items.append(pn.Card(*today, title="Where you start: today's practice", collapsed=True,
                                         sizing_mode="stretch_width", margin=(8, 0)))  # fmt: skip
        sidebar = pn.Column(*sidebar_items, width=SIDEBAR_WIDTH, margin=(0, 12, 0, 0),
                            css_classes=["fw-sidebar"])  # fmt: skip

        box = lambda name: text_box(self.board.divs[name])  # noqa: E731
        self.chances_div = self.board.divs["fw-chances"]
        self.chances_div.visible = False
        plots = pn.GridBox(*[pn.pane.Bokeh(f, sizing_mode="stretch_width") for f in self.charts.figures],
                           ncols=3, sizing_mode="stretch_width")  # fmt: skip
        compare_bar = pn.Row(box("fw-legend"), sizing_mode="stretch_width")
        choose = pn.Row(self.alternative_select, self.shared, sizing_mode="stretch_width")
        files = pn.Row(fixed_html('<div class="fw-note" style="padding-top:10px"><b>Load a scenario file</b></div>', self.sheet),
                       self.upload, self.download_toml, self.download_csv, sizing_mode="stretch_width")  # fmt: skip
        uncertainty = pn.Column(
            pn.Row(self.band_toggle, self.runs_select, self.goal_threshold, self.goal_time, sizing_mode="stretch_width"),
            box("fw-band-note"), box("fw-chances"), styles=PANEL_STYLES, sizing_mode="stretch_width", margin=(6, 0),
        )  # fmt: skip
        main = pn.Column(
            pn.Column(compare_bar, choose, files, styles=PANEL_STYLES, sizing_mode="stretch_width", margin=(0, 0, 6, 0)),
            self.message,
            pn.Column(fixed_html(panes.section_html("What happens"), self.sheet), box("fw-takeaways"), styles=PANEL_STYLES,
                      sizing_mode="stretch_width", margin=(6, 0)),
            pn.Column(box("fw-table"), styles=PANEL_STYLES, sizing_mode="stretch_width", margin=(6, 0)),
            uncertainty,
            plots,
            fixed_html(panes.caveats_html(self.profile.caveats), self.sheet),
            sizing_mode="stretch_width",
        )  # fmt: skip
        whatif_tab = pn.Row(sidebar, main, sizing_mode="stretch_width")
        self.tabs = pn.Tabs(("What if", whatif_tab), sizing_mode="stretch_width", dynamic=False, stylesheets=[TABS_CSS])
        header = fixed_html(panes.header_html(self.profile.title, self.profile.story), self.sheet)
        self.layout = pn.Column(header, self.tabs, sizing_mode="stretch_width", margin=(10, 18),
                                styles={"background": "#f5f7fa"})  # fmt: skip
        self._update_band_note()

    # ------------------------------------------------------------------------------------ callbacks
    def _on_slider(self, control: Control, event: Any) -> None:
        if self._silent:
            return
        if control.role == "today":
            self._rename_plan_slider(control)
        shared = control.role in ("today", "assumption") and self.shared.value
        self.refresh(("your_plan", "alternative") if shared else ("your_plan",))

    def _rename_plan_slider(self, today: Control) -> None:
        lever = self.profile.lever(today.group)
        if lever is None or lever.after not in self.sliders:
            return
        plan_control = self.whatif.control_index[lever.after]
        self.sliders[lever.after].label = f"Your plan (today {show_value(plan_control, self.sliders[today.constant].value)})"

    def _on_settled(self) -> None:
        if self.band_toggle.value:
            self._schedule_band()

    def _on_band_toggle(self, event: Any) -> None:
        self.band_toggle.label = "Hide uncertainty" if event.new else "Show uncertainty"
        if event.new:
            self._schedule_band()
        else:
            self.band = None
            with pn.io.hold():
                self.charts.update_bands(None)
                self.chances_div.visible = False
                self._update_band_note()
                self.board.flush()

    def _on_upload(self, event: Any) -> None:
        if not event.new:
            return
        from ...scenarios.writing import scenario_from_bytes

        filename = self.upload.filename or "upload.toml"
        try:
            scenario = scenario_from_bytes(event.new, filename, self.whatif.model)
            plan = self.whatif.plan(scenario, title="Your plan")
            controls = {c.constant for c in self.whatif.controls}
            extras = {k: v for k, v in plan.params.items() if k not in controls}
            self.apply(plan.params, title="Your plan", extras=extras, source=filename)
        except FlywheelError as exc:
            self._show_message(f"Could not load the file. {exc}", "danger")
            return
        note = f"Loaded {filename} ({scenario.title})."
        if extras:
            note += " It also sets " + ", ".join(f"{k} = {v:g}" for k, v in extras.items()) + "."
        if scenario.simulation != self.whatif.simulation:
            note += " The page keeps its own time settings."
        self._show_message(note, "success")

    # ------------------------------------------------------------------------------------- updates
    def _titles(self) -> dict[str, str]:
        mine = self.plan_title + (f" (from {self.plan_source})" if self.plan_source else "")
        return {"your_plan": mine, "alternative": f"Alternative: {self.runs['alternative'].plan.title}"
                if "alternative" in self.runs else "Alternative"}  # fmt: skip

    def _update_texts(self) -> None:
        frames = {k: self.runs[k] for k in ("your_plan", "alternative") if k in self.runs}
        titles = self._titles()
        self.board.set("fw-legend", panes.legend_html(titles))
        self.board.set("fw-table", panes.summary_html(frames, titles, self.profile, self.version))
        nouns = {"your_plan": "your plan", "alternative": "the alternative"}
        items = takeaways(frames, self.profile, nouns, self.whatif.time_unit, limit=4)
        self.board.set("fw-takeaways", panes.takeaways_html(items, self.version))
        plans = {k: self.runs[k].plan for k in frames}
        self.charts.update_markers(self.whatif.shock_month(plans["your_plan"]),
                                   {k: self.whatif.first_switch(plan) for k, plan in plans.items()})  # fmt: skip

    def _schedule_band(self) -> None:
        """Compute the band on the next tick, once, however many moves asked for it meanwhile."""
        if self._band_pending:
            return
        self._band_pending = True
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(self._update_band)
        else:  # a notebook or a test without a server
            self._update_band()

    def _update_band(self) -> None:
        self._band_pending = False
        if not self.band_toggle.value:
            return
        plans = [self.runs["your_plan"].plan, self.runs["alternative"].plan]
        try:
            self.band = plan_uncertainty(self.whatif, plans, self.context.ranges, n=int(self.runs_select.value),
                                         seed=self.context.seed)  # fmt: skip
        except FlywheelError as exc:
            self._show_message(f"No uncertainty band: {exc}", "warning")
            self.band_toggle.value = False
            return
        with pn.io.hold():
            self.charts.update_bands(self.band)
            self._update_band_note()
            self._update_chances()

    def _update_chances(self) -> None:
        if self.band is None or self.goal_panel is None:
            return
        typed = self.goal_threshold.value
        if typed is None or not math.isfinite(typed):
            self._show_message("Give the goal as a number.", "warning")
            return
        threshold = typed / self.goal_scale
        goal = Goal(self.goal_panel.variable, float(threshold), float(self.goal_time.value))
        try:
            chances = goal_chances(self.band, goal)
        except FlywheelError as exc:
            self._show_message(f"Goal not understood: {exc}", "warning")
            return
        shown = f"{typed:g}%" if self.goal_scale == 100 else f"{typed:g}"
        goal_text = (f"{self.goal_panel.label.lower()} is at least {shown} in {self.whatif.time_unit.lower()} "
                     f"{self.goal_time.value}")  # fmt: skip
        titles = self._titles()
        self.board.set("fw-chances", panes.chances_html(chances, titles, goal_text, self.version))
        self.board.flush()
        if not self.chances_div.visible:
            self.chances_div.visible = True

    def _band_text(self) -> str:
        ranges = self.context.ranges
        source = "the model's documented uncertainty ranges" if ranges.source == DOCUMENTED else ranges.source
        n = int(self.runs_select.value)
        return (f"Shaded bands: 9 in 10 of {n:,} runs per plan fall inside (5th to 95th percentile), drawing "
                f"{len(ranges)} uncertain numbers from {source}; the sliders' values are held and both plans get "
                "the same draws.")  # fmt: skip

    def _update_band_note(self) -> None:
        if self.band_toggle.value and self.band is not None:
            diverged = sum(self.band.diverged.values())
            extra = f" {diverged} runs diverged and are left out." if diverged else ""
            self.board.set("fw-band-note", f'<div class="fw-note">{panes.escape(self._band_text())}{extra}</div>')
        elif len(self.context.ranges) == 0:
            self.board.set("fw-band-note", '<div class="fw-note">No uncertainty band: this model documents no uncertain '
                           "ranges beyond the sliders. Start the page with <code>--ranges FILE</code> to give some.</div>")
        else:
            ranges = self.context.ranges
            source = "documented by the model" if ranges.source == DOCUMENTED else f"from {ranges.source}"
            self.board.set("fw-band-note", f'<div class="fw-note">Show the range of outcomes when {len(ranges)} uncertain '
                           f"numbers ({panes.escape(source)}) vary, and the chance of reaching the goal.</div>")

    def _show_message(self, text: str, kind: str) -> None:
        self.message.alert_type = kind
        self.message.object = html.escape(text, quote=False)  # a Markdown pane: no tags, quotes kept
        self.message.visible = True

    def _default_threshold(self) -> float:
        goal = self.whatif.goal_panel()
        if goal is None:
            return 0.0
        if goal.reference is not None:
            return round(0.95 * goal.reference, 6)
        run = self.whatif.run(self.context.start)
        return float(f"{run.series[goal.variable][0]:.3g}")

    # ----------------------------------------------------------------------------------- downloads
    def _toml_file(self) -> io.BytesIO:
        alternative = self.runs.get("alternative")
        return plan_file(self.whatif, self.plan(), alternative.plan.title if alternative else None)

    def _csv_file(self) -> io.BytesIO:
        plans = {key: run.plan for key, run in self.runs.items()}
        return data_file(self.whatif, plans, {"your_plan": self.plan_title})


def _clamp(value: float, control: Control) -> float:
    return float(min(max(float(value), control.low), control.high))
