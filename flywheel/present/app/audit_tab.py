"""The what-if page's audit tab: the team answers the sales-ecosystem questionnaire (a 1-5 slider per
question, or an answers file), the page places it in the model ("your answers put you here": its
current way against the alternative, the radar of its dimensions, the one-point shifts ranked) and can
start "your plan" from that position. Everything is computed by ``flywheel.analysis.audit``; this module
only lays it out. A model without an audit mapping (``audit_mapping.toml`` beside it) gets no tab.
"""

from __future__ import annotations

import html
import tomllib
from typing import TYPE_CHECKING, Any

import panel as pn

from ...errors import FlywheelError

if TYPE_CHECKING:
    from .page import WhatIfPage

FIGURE_DPI = 96


def audit_tab(page: WhatIfPage) -> tuple[str, Any] | None:
    """("Audit", view) for the page's model, or None when the model has no audit mapping."""
    from ...analysis.audit_files import MAPPING_FILE, load_mapping

    model = page.context.model
    path = model.path.with_name(MAPPING_FILE)
    if not path.is_file():
        return None
    try:
        mapping = load_mapping(path, model)
    except FlywheelError as exc:  # a broken mapping: say so in the tab, keep the page
        return "Audit", pn.pane.Alert(f"The audit is not available: {html.escape(str(exc))}", alert_type="danger")
    return "Audit", AuditTab(page, mapping).view


class AuditTab:
    """The questionnaire on the left, the team's position on the right."""

    def __init__(self, page: WhatIfPage, mapping: Any):
        from ...scenarios import load_profile

        self.page = page
        self.mapping = mapping
        self.profile = load_profile(mapping.model)
        self.result: Any = None
        self.sliders = {
            q.id: pn.widgets.IntSlider(label="Your answer", start=1, end=5, value=3, sizing_mode="stretch_width",
                                       margin=(0, 8, 6, 8))  # fmt: skip
            for d in mapping.dimensions for q in d.questions
        }
        cards = [
            pn.Card(*[item for q in d.questions for item in (self._question(q), self.sliders[q.id])],
                    title=f"{d.label} ({len(d.questions)})", collapsed=False, sizing_mode="stretch_width",
                    margin=(4, 0))  # fmt: skip
            for d in mapping.dimensions
        ]
        self.upload = pn.widgets.FileInput(accept=".toml", multiple=False, sizing_mode="stretch_width",
                                          css_classes=["fw-answers-upload"])
        self.upload.param.watch(self._on_upload, "value")
        self.place = pn.widgets.Button(label="Place us in the model", color="primary", sizing_mode="stretch_width")
        self.place.on_click(lambda _event: self.run())
        self.use = pn.widgets.Button(label="Start your plan from this position", color="success", disabled=True,
                                     sizing_mode="stretch_width")  # fmt: skip
        self.use.on_click(lambda _event: self.start_plan())
        self.message = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")
        self.summary = pn.pane.HTML("", sizing_mode="stretch_width")
        self.radar = pn.pane.Matplotlib(None, dpi=FIGURE_DPI, tight=True, width=520, visible=False)
        self.trajectory = pn.pane.Matplotlib(None, dpi=FIGURE_DPI, tight=True, sizing_mode="stretch_width",
                                             visible=False)  # fmt: skip
        self.ranking = pn.pane.Matplotlib(None, dpi=FIGURE_DPI, tight=True, sizing_mode="stretch_width", visible=False)
        scale = f" {html.escape(mapping.scale)}" if mapping.scale else ""
        questions = pn.Column(
            pn.pane.HTML(f"<h3>{html.escape(mapping.title)}</h3><p>Answer each question from 1 to 5.{scale} "
                         "Or load an answers file (<code>flywheel audit --template</code> writes one).</p>"),
            self.upload, *cards, self.place, width=520, scroll=True, height=900,
        )  # fmt: skip
        statement = pn.pane.Alert(html.escape(mapping.statement), alert_type="warning", sizing_mode="stretch_width")
        results = pn.Column(statement, self.message, self.use, self.trajectory, self.ranking,
                            pn.Row(self.radar, self.summary, sizing_mode="stretch_width"),
                            sizing_mode="stretch_width")  # fmt: skip
        self.view = pn.Row(questions, results, sizing_mode="stretch_width")

    @staticmethod
    def _question(q: Any) -> Any:
        """The question in full, with what 1 and 5 mean."""
        scale = ""
        if q.low or q.high:
            scale = (f"<div style='font-size: 12px; color: #555'>1 = {html.escape(q.low)} &nbsp; · &nbsp; "
                     f"5 = {html.escape(q.high)}</div>")  # fmt: skip
        return pn.pane.HTML(f"<div style='font-size: 14px; line-height: 1.3'>{html.escape(q.text)}</div>{scale}",
                            sizing_mode="stretch_width", margin=(6, 8, 0, 8))  # fmt: skip

    # ----------------------------------------------------------------------------------------- actions
    def answers(self) -> Any:
        """The sliders' answers, checked like an answers file."""
        from ...analysis.audit_files import answers_from_dict

        return answers_from_dict({qid: slider.value for qid, slider in self.sliders.items()}, self.mapping,
                                 source="the page's answers")  # fmt: skip

    def run(self) -> None:
        """Place the team in the model and show where its answers put it."""
        from ...analysis.audit import run_audit
        from ..audit_plots import radar_figure, shift_figure, trajectory_figure

        try:
            result = run_audit(self.mapping, self.answers())
        except FlywheelError as exc:
            self._say(f"The audit did not run: {exc}", "danger")
            return
        self.result = result
        model = self.mapping.model
        self.radar.object = radar_figure(self.mapping, [result.position])
        self.trajectory.object = trajectory_figure(result.projection, model, self.profile, self.mapping.statement)
        self.ranking.object = shift_figure(result.ranking, self.mapping, self.profile)
        for pane in (self.radar, self.trajectory, self.ranking):
            pane.visible = True
        self.summary.object = f"<pre style='white-space: pre-wrap; font-size: 14px'>{html.escape(result.report())}</pre>"
        self.use.disabled = False
        self.message.visible = False

    def start_plan(self) -> None:
        """Your plan on the "What if" tab starts from the audited position (today's practice and the plan)."""
        if self.result is None:
            return
        params = dict(self.result.position.params)
        sliders = {k: v for k, v in params.items() if k in self.page.sliders}
        extras = {**self.page.extras, **{k: v for k, v in params.items() if k not in self.page.sliders}}
        self.page.apply(sliders, title="Your audited position", extras=extras, source="the audit")
        self._say("Your plan on the What if tab now starts from your audited position.", "success")

    def _on_upload(self, event: Any) -> None:
        from ...analysis.audit_files import answers_from_dict

        name = self.upload.filename or "the uploaded file"
        try:
            data = tomllib.loads(bytes(event.new).decode("utf-8"))
            answers = answers_from_dict(data, self.mapping, source=name)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self._say(f"{name}: not a TOML answers file ({exc})", "danger")
            return
        except FlywheelError as exc:
            self._say(str(exc), "danger")
            return
        for qid, value in answers.scores.items():
            self.sliders[qid].value = int(round(value))
        self.run()
        team = f" for {answers.team}" if answers.team else ""
        self._say(f"Loaded {name}{team}.", "success")

    def _say(self, text: str, kind: str) -> None:
        self.message.object = html.escape(text)
        self.message.alert_type = kind
        self.message.visible = True
