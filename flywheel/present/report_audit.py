"""The board report's audit section and its appendix (the questionnaire and the mapping), from an
``AuditResult``; every part repeats that the mapping is a structured judgement, not a measurement."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..analysis.audit import AuditResult

__all__ = ["audit_section", "mapping_appendix"]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def audit_section(builder: Any, result: AuditResult) -> str:
    """Section "Your sales-ecosystem audit": radar, position, trajectory, seed 001's ranking, path."""
    from ..scenarios import load_profile
    from .audit_plots import path_figure, radar_figure, shift_figure, trajectory_figure

    mapping, pos, ranking, proj = result.mapping, result.position, result.ranking, result.projection
    model = mapping.model
    profile = load_profile(model)
    labels = {p.variable: p.label for p in profile.panels}
    answers = pos.answers
    who = _e(answers.team or "the team")
    when = f" on {answers.date.strftime('%d %B %Y').lstrip('0')}" if answers.date else ""
    dims = "".join(f"<tr><th scope=\"row\">{_e(d.label)}</th><td class=\"num\">{len(d.questions)}</td>"
                   f"<td class=\"num\">{pos.dimension_scores[d.id]:.2f}</td><td>{_bar(pos.dimension_scores[d.id])}</td></tr>"
                   for d in mapping.dimensions)  # fmt: skip
    radar = builder.figure("audit-radar", radar_figure(mapping, result.path.positions, title=""), 7.2,
                           "Mean answer per dimension; dashed: 3 everywhere, the model's status quo.")  # fmt: skip
    shown = [n for n in pos.start if n in labels or (n in model.stocks and abs(pos.start[n] - pos.status_quo[n]) > 1e-12)]
    start_rows = "".join(
        f"<tr><th scope=\"row\">{_e(labels.get(n, n))}</th><td class=\"num\">{builder.fmt(n, pos.start[n])}</td>"
        f"<td class=\"num\">{builder.fmt(n, pos.status_quo[n])}</td><td class=\"num\">{_difference(builder, n, pos)}</td></tr>"
        for n in shown
    )  # fmt: skip
    trajectory = builder.figure("audit-trajectory", trajectory_figure(proj, model, profile, mapping.statement), 14,
                                f"From your position: {proj.scenarios['current'].title.lower()} against "
                                f"{proj.scenarios['alternative'].title.lower()}, under {proj.conditions}.")  # fmt: skip
    final = float(proj.results["current"].index[-1])
    outcome_rows = ""
    for outcome in mapping.shift.outcomes:
        for m in sorted({*mapping.shift.months, final}):
            a, b = (proj.results[k].loc[m, outcome] for k in ("current", "alternative"))
            outcome_rows += (f"<tr><th scope=\"row\">{_e(labels.get(outcome, outcome))}, month {m:g}</th>"
                             f"<td class=\"num\">{builder.fmt(outcome, a)}</td><td class=\"num\">{builder.fmt(outcome, b)}</td></tr>")  # fmt: skip
    shift = builder.figure("audit-ranking", shift_figure(ranking, mapping, profile), 13.5,
                           "Each dimension raised by one point from your answers, one at a time: the change against "
                           "your current way after 12 and 36 months.", wide=True)  # fmt: skip
    best = ranking.table.iloc[0]
    column = ranking.column(ranking.rank_by, ranking.rank_month)
    effect = _change(builder, ranking.rank_by, best[column])
    ranking_rows = _ranking_rows(builder, ranking)
    runner = ranking.close_call()
    close = ""
    if runner is not None:
        other = ranking.table.loc[runner]
        close = (f" A close call: <strong>{_e(other['label'])}</strong> comes within 10 % "
                 f"({_change(builder, ranking.rank_by, other[column])}); the order of the two rests on the mapping's "
                 "judgement more than on the model.")  # fmt: skip
    path = ""
    if len(result.answers) > 1:
        figure = builder.figure("audit-path", path_figure(result.path, mapping, profile), 14,
                                "Your audits over time: the answers per dimension and where the model puts you.")  # fmt: skip
        path = f"<div class=\"wide-block\"><h3>Your path since the first audit</h3>\n{figure}</div>"
    return f"""<section class="section audit">
<h2><span class="num">{{n}}</span>Your sales-ecosystem audit</h2>
<p class="callout"><strong>{_e(mapping.statement)}</strong> The answers of {who}{when} were mapped to the
model's levers and constants with the judgements written in {_e(mapping.path.name)} (appendix). The results
show what the model does from that position; they are not a measurement of the team.</p>
<h3>Your answers</h3>
<div class="two-col"><div>{radar}</div><div><table class="compact dims"><thead><tr><th>Dimension</th><th>Items</th>
<th>Mean</th><th>1 &ndash; 5</th></tr></thead><tbody>{dims}</tbody></table>
<p class="small">1 = not at all, 3 = what a typical sales organisation does today (the model's calibrated status quo),
5 = fully.</p></div></div>
<h3>Your answers put you here</h3>
<table class="compact position"><thead><tr><th>In the model at month 0</th><th>You</th><th>Status quo (3 everywhere)</th>
<th>Difference</th></tr></thead><tbody>{start_rows}</tbody></table>
<p class="small">{_calibrated(shown, pos, labels)}</p>
<div class="wide-block"><h3>Your current way against the alternative</h3>
<p>Both start from your position and face {_e(proj.conditions)}.</p>
{trajectory}</div>
<table class="compact projection"><caption>The two paths in numbers</caption><thead><tr><th>Projection</th><th>{_e(proj.scenarios['current'].title)}</th>
<th>{_e(proj.scenarios['alternative'].title)}</th></tr></thead><tbody>{outcome_rows}</tbody></table>
<h3>Which part of your ecosystem would create the biggest shift if it were strengthened today?</h3>
<p>Seed 001's question, answered in the model: from your position, each dimension was raised by
{ranking.points:g} point (answers at most 5), one at a time as seed 000 advises, from month {ranking.month:g},
under {_e(ranking.conditions)}. <strong>{_e(best['label'])}</strong> would create the biggest shift:
{_e(ranking.rank_by.lower())} {effect} after {ranking.rank_month:g} months against your current way.{close}</p>
<table class="compact ranking"><thead><tr><th>#</th><th>Dimension</th><th>Step</th>{ranking_rows[0]}<th>Model inputs it moves</th></tr></thead>
<tbody>{ranking_rows[1]}</tbody></table>
{shift}
{path}
</section>"""


def _calibrated(shown: list[str], pos: Any, labels: dict[str, str]) -> str:
    def lower(name: str) -> str:  # a profile label keeps its acronyms; a model name is Title Case
        text = labels.get(name)
        return (text[:1].lower() + text[1:] if text[1:2].islower() else text) if text else name.lower()

    same = [lower(n) for n in shown if abs(pos.start[n] - pos.status_quo[n]) <= 1e-12]
    moved = [lower(n) for n in shown if abs(pos.start[n] - pos.status_quo[n]) > 1e-12]
    text = ""
    if same:
        text += f"The model starts every team with the same {_e(', '.join(same))} (it is calibrated so). "
    if moved:
        text += f"Your answers move {_e(', '.join(moved))}: the state in which the team meets the next shock."
    return text


def _difference(builder: Any, name: str, pos: Any) -> str:
    d = pos.start[name] - pos.status_quo[name]
    if abs(d) < 1e-12:
        return "&ndash;"
    if name in builder.percent:
        return f"{100 * d:+.1f}&nbsp;pts"
    return f"{d:+.3f}" if abs(d) < 1 else f"{d:+.2f}"


def _bar(score: float) -> str:
    width = max(0.0, min(1.0, (score - 1) / 4)) * 100
    return f'<span class="bar"><span style="width:{width:.0f}%"></span></span>'


def _change(builder: Any, variable: str, value: float) -> str:
    if variable in builder.percent:
        return f"{100 * value:+.2f} percentage points"
    return f"{value:+.3f}"


def _ranking_rows(builder: Any, ranking: Any) -> tuple[str, str]:
    columns = [c for c in ranking.table.columns if " after " in c]
    head = "".join(f"<th>{_e(c.split(' after ')[0])}<br><span class=\"small\">after {_e(c.split(' after ')[1])}</span></th>"
                   for c in columns)  # fmt: skip
    rows = []
    for _, row in ranking.table.iterrows():
        cells = "".join(
            f"<td class=\"num\">{(100 * row[c]) if c.split(' after ')[0] in builder.percent else row[c]:+.{2 if c.split(' after ')[0] in builder.percent else 3}f}</td>"
            for c in columns
        )  # fmt: skip
        moved = "<br>".join(_e(part).replace(" ", "&nbsp;").replace("&nbsp;-&gt;&nbsp;", "&nbsp;&rarr;&nbsp;")
                            for part in str(row["inputs"]).split("; "))  # fmt: skip
        rows.append(f"<tr><td class=\"num\">{int(row['rank'])}</td><th scope=\"row\">{_e(row['label'])}</th>"
                    f"<td class=\"num\">{row['step']:+.2f}</td>{cells}<td class=\"small\">{moved}</td></tr>")  # fmt: skip
    return head, "".join(rows)


def _question_label(mapping: Any, qid: str) -> str:
    q = mapping.questions[qid]
    return f"{_e(mapping.dimension(q.dimension).label)}: {_e(q.key.replace('_', ' '))}"


def mapping_appendix(result: AuditResult) -> str:
    """The questionnaire and the mapping, so a board can see every judgement behind the audit."""
    mapping = result.mapping
    questions = "".join(
        f"<tr><td>{_e(mapping.dimension(q.dimension).label)}</td><td>{_e(q.text)}</td><td>{_e(q.source)}</td>"
        f"<td class=\"num\">{' / '.join(f'{a.scores[q.id]:g}' for a in result.answers)}</td></tr>"
        for q in mapping.questions.values()
    )  # fmt: skip
    inputs = "".join(
        f"<tr><th scope=\"row\">{_e(i.target)}<div class=\"varname\">{_e(i.kind)}{', ' + _e(i.units) if i.units and i.units.lower() != 'dmnl' else ''}</div></th>"
        f"<td class=\"num\">{' / '.join(f'{v:g}' for v in i.values)}</td><td>{'<br>'.join(_question_label(mapping, q) for q in i.questions)}</td>"
        f"<td class=\"small\">{_e(i.why)}</td></tr>"
        for i in mapping.inputs
    )  # fmt: skip
    dates = " / ".join(a.label for a in result.answers)
    return f"""<h3>The audit questionnaire</h3>
<p class="small">Question texts from the seeds' checklists (000 ecosystem audit, 001 sales management, 002 the evil
flywheel, 003 alignment of expectations, 004 sales-force effectiveness). Answers: {_e(dates)}.</p>
<table class="compact questions"><thead><tr><th>Dimension</th><th>Question</th><th>Seed</th><th>Answer</th></tr></thead>
<tbody>{questions}</tbody></table>
<h3>How the answers map to the model</h3>
<p class="callout"><strong>{_e(mapping.statement)}</strong> Every value below is a judgement, written down in
{_e(mapping.path.name)} so that it can be questioned and changed.</p>
<p class="small">Each model input is the mean answer to its questions, interpolated between its values at the
answers 1 / 2 / 3 / 4 / 5 (at 3 the model's default). File: {_e(mapping.path.name)}.</p>
<table class="compact mapping"><thead><tr><th>Model input</th><th>Values at 1 / 2 / 3 / 4 / 5</th><th>Questions</th>
<th>Why</th></tr></thead><tbody>{inputs}</tbody></table>"""
