"""The board report: one self-contained HTML file a manager can forward (and print to PDF).

Sections: a cover; 1 the story in three sentences and what the plans do; 2 the plans compared (the
comparison figure and the summary table); 3 why: the feedback loops (causal loop diagram); 4 which loops
drive the behaviour when (loop dominance); 5 the assumptions that differ between the plans, with their
sources from the model's documentation; 6 the sales-ecosystem audit when given; 7 what this model is not;
an appendix with the files and settings. Figures are embedded as SVG data URIs; there is no reference to
anything outside the file (no fonts, scripts or images to fetch), so it renders the same offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FlywheelError
from .report_style import CSS

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

    from ..analysis.audit import AuditResult
    from ..scenarios import Profile, Scenario

__all__ = ["Report", "build_report", "model_limitations"]


@dataclass
class Report:
    """A built report: the HTML text, the figures it embeds (name -> SVG bytes), notes on what was left
    out (e.g. no Graphviz for the loop diagram)."""

    html: str
    figures: dict[str, bytes] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)


def build_report(
    scenarios: Sequence[Scenario],
    audit: AuditResult | None = None,
    *,
    title: str | None = None,
    date: dt.date | None = None,
    step: Callable[[str], None] | None = None,
) -> Report:
    """Run the plans and every analysis the report shows, and compose the HTML. ``step`` is told what is
    being done (for a progress display)."""
    from ..scenarios import get_model, load_profile, run_scenario

    step = step or (lambda _: None)
    model = get_model(scenarios[0].model_path)
    profile = load_profile(model)
    date = date or dt.date.today()
    results = {}
    for s in scenarios:
        step(f"running {s.name}")
        results[s.name] = run_scenario(s, get_model(s.model_path))
    builder = _Builder(model, profile, list(scenarios), results, audit)
    step("comparison figure and summary")
    sections = [builder.story(), builder.comparison()]
    step("feedback loops")
    sections.append(builder.loops())
    step("loop dominance")
    sections.append(builder.dominance())
    sections.append(builder.assumptions())
    if audit is not None:
        step("audit")
        sections.append(builder.audit())
    sections.append(builder.caveats())
    numbered = [s.replace("{n}", str(i)) for i, s in enumerate((s for s in sections if s), start=1)]
    appendix = builder.appendix()
    body = "\n".join([builder.cover(title, date, _contents(numbered + [appendix])), *numbered, appendix])
    page_title = title or f"{profile.title}: board report"
    text = _DOCUMENT.format(title=_e(page_title), css=CSS, running=_css_string(page_title), body=body)
    return Report(text, builder.figures, builder.omitted)


_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
@page {{ @top-left {{ content: "{running}"; }} }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


class _Builder:
    """Composes the sections; each returns an HTML string ("" when it has nothing to show)."""

    def __init__(self, model, profile: Profile, scenarios: list[Scenario], results: dict[str, pd.DataFrame],
                 audit: AuditResult | None):  # fmt: skip
        self.model = model
        self.profile = profile
        self.scenarios = scenarios
        self.by_name = {s.name: s for s in scenarios}
        self.results = results
        self.audit_result = audit
        self.figures: dict[str, bytes] = {}
        self.omitted: list[str] = []
        self.percent = {p.variable for p in profile.panels if p.percent}

    # -------------------------------------------------------------------------------------- helpers
    def figure(self, name: str, fig: Figure, width: float, caption: str, css: str = "", wide: bool = False) -> str:
        """Embed a matplotlib figure as SVG, re-laid-out at ``width`` inches (so its text prints legibly);
        ``wide`` figures get a landscape page of their own in print."""
        from .plots import figure_bytes

        w, h = fig.get_size_inches()
        if width and abs(w - width) > 1e-6:
            fig.set_size_inches(width, h * width / w)
        svg = next(iter(figure_bytes(fig, Path(name), ("svg",)).values()))
        return self.embed(name, svg, caption, css, wide)

    def embed(self, name: str, svg: bytes, caption: str, css: str = "", wide: bool = False) -> str:
        self.figures[name] = svg
        data = base64.b64encode(svg).decode("ascii")
        style = f' style="{css}"' if css else ""
        return (f'<figure class="fig{" wide" if wide else ""}" id="fig-{name}"><img alt="{_e(caption)}" '
                f'src="data:image/svg+xml;base64,{data}"{style}><figcaption>{_e(caption)}</figcaption></figure>')  # fmt: skip

    def fmt(self, variable: str, value: float, digits: int = 3) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if variable in self.percent:
            return f"{100 * value:.1f}&nbsp;%"
        return _num(value)

    def titles(self) -> dict[str, str]:
        return {s.name: s.title or s.name for s in self.scenarios}

    # -------------------------------------------------------------------------------------- sections
    def cover(self, title: str | None, date: dt.date, contents: list[str]) -> str:
        plans = "".join(f"<li><span class=\"swatch\" style=\"background:{c}\"></span>{_e(t)}</li>"
                        for t, c in zip(self.titles().values(), self.colours(), strict=True))  # fmt: skip
        audit = ""
        if self.audit_result is not None:
            a = self.audit_result.position.answers
            audit = (f"<p class=\"cover-audit\">With the sales-ecosystem audit of {_e(a.team or 'the team')}"
                     f"{' (' + a.date.strftime('%d %B %Y').lstrip('0') + ')' if a.date else ''}</p>")  # fmt: skip
        n = len(self.scenarios)
        count = _WORDS[n] if n < len(_WORDS) else str(n)
        toc = "".join(f"<li>{_e(c)}</li>" for c in contents)
        return f"""<section class="cover">
<div class="cover-band"></div>
<p class="cover-kicker">Board report</p>
<h1 class="cover-title">{_e(title or self.profile.title)}</h1>
<p class="cover-sub">{count} plan{'s' if n != 1 else ''} compared in a system-dynamics model</p>
<ul class="cover-plans">{plans}</ul>
{audit}
<p class="cover-date">{date.strftime('%d %B %Y').lstrip('0')}</p>
<div class="cover-toc"><p class="cover-toc-head">Contents</p><ul>{toc}</ul></div>
<p class="cover-note">A simulation of the mechanism, not a forecast: the numbers show what the plans do in the model,
under its documented assumptions (see "What this model is not").</p>
<p class="cover-foot">Prepared with flywheel {_e(_version())} &middot; model {_e(self.model.path.name)}</p>
</section>"""

    def colours(self) -> list[str]:
        from .plots import scenario_colors

        return [c for c, _ in scenario_colors([s.name for s in self.scenarios]).values()]

    def story(self) -> str:
        sentences = _sentences(self.profile.story)[:3]
        story = "".join(f"<li>{_e(s)}</li>" for s in sentences)
        return f"""<section class="section">
<h2><span class="num">{{n}}</span>The story in three sentences</h2>
<ol class="story">{story}</ol>
<h3>What the plans do</h3>
{self.findings()}
</section>"""

    def findings(self) -> str:
        """Plain-language takeaways computed from the runs: a headline and the panels at start and end."""
        titles = self.titles()
        names = list(self.results)
        first = self.results[names[0]]
        final = float(first.index[-1])
        panels = [p for p in self.profile.panels if all(p.variable in df.columns for df in self.results.values())]
        lines = []
        shocks = {(s.params.get(self.profile.shock_size or "", 0.0), s.shock_month) for s in self.scenarios}
        if len(shocks) == 1:
            size, month = next(iter(shocks))
            if size and month is not None:
                lines.append(f"All plans face the same {size:.0%} {_e(self.profile.shock_label)} in month {month:g}.")
        if len(names) > 1 and panels:
            key = panels[0]
            ends = {n: float(df[key.variable].iloc[-1]) for n, df in self.results.items()}
            best, worst = max(ends, key=ends.get), min(ends, key=ends.get)
            parts = []
            for p in panels[1:4]:
                a, b = self.results[best][p.variable].iloc[-1], self.results[worst][p.variable].iloc[-1]
                parts.append(f"{_e(_lower_first(p.label))} {self.fmt(p.variable, a)} against {self.fmt(p.variable, b)}")
            lines.append(f"By month {final:g}, <strong>{_e(titles[best])}</strong> ends with {_e(_lower_first(key.label))} at "
                         f"<strong>{self.fmt(key.variable, ends[best])}</strong>, <strong>{_e(titles[worst])}</strong> at "
                         f"<strong>{self.fmt(key.variable, ends[worst])}</strong>; " + "; ".join(parts) + ".")  # fmt: skip
        head = "".join(f"<th>{_e(titles[n])}</th>" for n in names)
        rows = "".join(
            f"<tr><th scope=\"row\">{_e(p.label)}</th><td class=\"num\">{self.fmt(p.variable, first[p.variable].iloc[0])}</td>"
            + "".join(f"<td class=\"num\">{self.fmt(p.variable, self.results[n][p.variable].iloc[-1])}</td>" for n in names)
            + "</tr>"
            for p in panels
        )  # fmt: skip
        table = (f"<table class=\"compact keynumbers\"><thead><tr><th></th><th>At the start</th>{head}</tr>"
                 f"<tr class=\"sub\"><th></th><th>month {float(first.index[0]):g}</th>"
                 + "".join(f"<th>month {final:g}</th>" for _ in names) + f"</tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip
        return "".join(f"<p class=\"headline\">{x}</p>" for x in lines) + table

    def comparison(self) -> str:
        from .plots import compare_figure
        from .summary import summarise

        fig = compare_figure(self.results, self.by_name, self.model, self.profile)
        figure = self.figure("comparison", fig, 14, "The plans over time: one colour per plan; the market shock "
                             "dashed grey; policy switches dotted in the plan's colour.", wide=True)  # fmt: skip
        table = summarise(self.results, self.profile)
        head = "".join(f"<th>{_e(m.label.replace(chr(10), ' '))}</th>" for m in self.profile.measures)
        rows = []
        for name, row in table.iterrows():
            cells = []
            for m in self.profile.measures:
                v = row[m.name]
                if isinstance(v, float) and math.isnan(v):
                    text = "never" if m.statistic.startswith("first_") else "n/a"
                else:
                    text = f"{v:,.{m.digits}f}"
                    if m.statistic.startswith("first_"):
                        text = text.rstrip("0").rstrip(".")
                cells.append(f"<td class=\"num\">{text}</td>")
            rows.append(f"<tr><th scope=\"row\">{_e(self.titles()[str(name)])}</th>{''.join(cells)}</tr>")
        plans = "".join(f"<dt>{_e(s.title)}</dt><dd>{_e(s.description)}</dd>" for s in self.scenarios)
        return f"""<section class="section">
<h2><span class="num">{{n}}</span>The plans compared</h2>
<dl class="plans">{plans}</dl>
<table class="summary"><thead><tr><th>Plan</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<p class="small">Sales relative to the first month; trust on a 0-1 scale; overlays in FTE per 10 seller positions;
"first month below 90%" of target attainment. Every number comes from the model runs in the figure.</p>
{figure}
</section>"""

    def loops(self) -> str:
        from ..analysis.loops import link_polarities, load_loop_names, loop_table
        from ..analysis.structure import causal_structure
        from .diagrams import causal_loop_diagram, default_markers, require_graphviz

        try:
            require_graphviz()
            structure = causal_structure(self.model)
            polarity = link_polarities(self.model, structure)
            table = loop_table(structure, polarity, load_loop_names(self.model))
        except FlywheelError as exc:
            self.omitted.append(f"causal loop diagram: {exc}")
            return ""
        if table.empty:
            return ""
        named = table[table["name"] != ""]
        chosen = named if len(named) else table
        diagram = causal_loop_diagram(structure, chosen, polarity, default_markers(chosen))
        figure = self.embed("loops", _svg_without_size(diagram.svg), "Causal loop diagram of the named loops: stocks "
                            "in boxes; + and - at the arrow heads; || marks a delay.", "max-height: 200mm")  # fmt: skip
        items = "".join(f"<li><span class=\"loop-id loop-{_e(r.polarity)}\">{_e(r.id)}</span> {_e(r.name)}</li>"
                        for r in sorted(chosen.itertuples(), key=lambda r: (r.polarity != "R", _loop_order(r.id))))  # fmt: skip
        return f"""<section class="section">
<h2><span class="num">{{n}}</span>Why: the feedback loops</h2>
<p>The model's behaviour comes from its feedback loops. Reinforcing loops (<strong class="r">R</strong>) amplify a
change: a miss leads to more overlays, less customer time and a bigger miss. Balancing loops
(<strong class="b">B</strong>) pull back towards a goal.</p>
{figure}
<ul class="loop-list">{items}</ul>
</section>"""

    def dominance(self) -> str:
        from ..analysis.dominance import loop_dominance
        from .dominance_plot import dominance_figure

        shown = self.scenarios[:2]
        variable = self.profile.panels[0].variable if self.profile.panels else self.model.stocks[0]
        try:
            runs = [(s.title or s.name, loop_dominance(self.model, s), self.results[s.name]) for s in shown]
        except FlywheelError as exc:
            self.omitted.append(f"loop dominance: {exc}")
            return ""
        fig = dominance_figure(runs, variable, units=self.model.variables[variable].units,
                               title=f"Which feedback loops drive {variable}?")  # fmt: skip
        more = (f" (the first two of the {len(self.scenarios)} plans)" if len(self.scenarios) > 2 else "")
        figure = self.figure("dominance", fig, 14, f"Loop dominance{more}: above, {variable}; below, each loop's "
                             "share of the change in the model at that time (Loops That Matter). Reds are "
                             "reinforcing loops, blues balancing.")  # fmt: skip
        return f"""<section class="section wide-page">
<h2><span class="num">{{n}}</span>Which loops drive the behaviour, and when</h2>
<p>Loop dominance shows which feedback loop explains most of the change at each moment. When the red,
reinforcing loops take over, a plan is in the vicious cycle; when blue, balancing loops dominate, the
organisation settles.</p>
{figure}
</section>"""

    def assumptions(self) -> str:
        labels = {a.name: a.label for a in self.profile.assumptions}
        for lever in self.profile.levers:
            labels[lever.before] = f"{lever.label} (before the switch)"
            labels[lever.after] = f"{lever.label} (after the switch)"
            if lever.switch:
                labels[lever.switch] = f"{lever.label}: switch month"
        if self.profile.switch_default:
            labels[self.profile.switch_default] = "Month the policy changes"
        names = list(dict.fromkeys(n for s in self.scenarios for n in s.params))
        variables = self.model.variables
        rows, shared = [], []
        for name in names:
            values = [s.params.get(name, variables[name].default) for s in self.scenarios]
            if len({round(float(v), 12) for v in values if v is not None}) <= 1:
                if values[0] is not None and values[0] != variables[name].default:
                    units = variables[name].units
                    unit = "" if units.lower() in ("dmnl", "1", "") else f" {units}"
                    shared.append(f"<tr><th scope=\"row\">{_e(labels.get(name, name))}<div class=\"varname\">"
                                  f"{_e(name)}</div></th><td class=\"num\">{_num(values[0])}{_e(unit)}</td>"
                                  f"<td class=\"num\">{_num(variables[name].default)}</td>"
                                  f"<td class=\"source\">{_e(variables[name].documentation)}</td></tr>")  # fmt: skip
                continue
            units = variables[name].units
            unit = "" if units.lower() in ("dmnl", "1", "") else f" {units}"
            cells = "".join(f"<td class=\"num\">{_num(v)}{_e(unit)}</td>" for v in values)
            label = labels.get(name, name)
            rows.append(f"<tr><th scope=\"row\">{_e(label)}<div class=\"varname\">{_e(name)}</div></th>{cells}"
                        f"<td class=\"source\">{_e(variables[name].documentation)}</td></tr>")  # fmt: skip
        if not rows:
            body = "<p>The plans use the same assumptions and levers; they differ only in their time settings.</p>"
        else:
            head = "".join(f"<th>{_e(t)}</th>" for t in self.titles().values())
            body = (f"<table class=\"assumptions\"><thead><tr><th>Assumption or lever</th>{head}<th>Source (the "
                    f"model's documentation)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")  # fmt: skip
        common = ""
        if shared:
            common = (f"<h3>Set in every plan</h3><table class=\"assumptions\"><thead><tr><th>Assumption</th><th>All plans</th>"
                      f"<th>Model default</th><th>Source (the model's documentation)</th></tr></thead><tbody>"
                      f"{''.join(shared)}</tbody></table>")  # fmt: skip
        return f"""<section class="section">
<h2><span class="num">{{n}}</span>What differs between the plans</h2>
<p>Every other number is the same in all plans: the model's documented defaults (see the model documentation,
models/README.md, for each with its range and source).</p>
{body}
{common}
</section>"""

    def audit(self) -> str:
        from .report_audit import audit_section

        return audit_section(self, self.audit_result)

    def caveats(self) -> str:
        items = [_e(c) for c in self.profile.caveats]
        items += [_markdown_inline(t) for t in model_limitations(self.model.path)]
        if self.audit_result is not None:
            items.append(f"<strong>{_e(self.audit_result.mapping.statement)}</strong> The audit places a team in "
                         "the model through judgements written in the mapping file "
                         f"({_e(self.audit_result.mapping.path.name)}); another consultant could map the same "
                         "answers differently.")  # fmt: skip
        items.append("The plans are run exactly as their scenario files say; nothing was tuned to make one look better.")
        return f"""<section class="section">
<h2><span class="num">{{n}}</span>What this model is not</h2>
<ul class="caveats">{''.join(f'<li>{x}</li>' for x in items)}</ul>
</section>"""

    def command(self) -> str:
        words = ["flywheel", "report", *(s.path.name for s in self.scenarios)]
        if self.audit_result is not None:
            words += ["--audit", *(Path(a.source).name for a in self.audit_result.answers)]
        return " ".join(words + ["-o", "report.html"])

    def appendix(self) -> str:
        rows = []
        for s in self.scenarios:
            spec = s.spec(self.model)
            t = spec.time
            rows.append(f"<tr><td>{_e(s.path.name)}</td><td>{_e(s.title)}</td><td>{_e(spec.method.name)}, time step "
                        f"{t.time_step:g}, months {t.initial_time:g}-{t.final_time:g}</td></tr>")  # fmt: skip
        digest = hashlib.sha256(self.model.path.read_bytes()).hexdigest()[:12]
        audit = ""
        if self.audit_result is not None:
            from .report_audit import mapping_appendix

            audit = f"""</section>
<section class="appendix appendix-b section">
<h2>Appendix B: the audit questionnaire and mapping</h2>
{mapping_appendix(self.audit_result)}"""
        omitted = "".join(f"<li>{_e(o)}</li>" for o in self.omitted)
        omitted = f"<p>Left out of this report:</p><ul>{omitted}</ul>" if omitted else ""
        return f"""<section class="appendix section">
<h2>Appendix{" A" if self.audit_result is not None else ""}: files and settings</h2>
<table class="compact"><thead><tr><th>Scenario file</th><th>Plan</th><th>Run</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
<p class="small">Model {_e(self.model.path.name)} (SHA-256 {digest}...), its documentation models/README.md;
flywheel {_e(_version())}. Re-run with <code>{_e(self.command())}</code>.</p>
{omitted}
{audit}
</section>"""


# ------------------------------------------------------------------------------------------------ helpers


def model_limitations(model_path: Path) -> list[str]:
    """The bullets of the model documentation (README.md beside the model) that say what the model
    cannot say: those under a heading about limitations whose bold lead says "cannot" or "not"."""
    readme = model_path.with_name("README.md")
    if not readme.is_file():
        return []
    text = readme.read_text(encoding="utf-8")
    out = []
    for section in re.split(r"\n(?=## )", text):
        heading = section.splitlines()[0].lower() if section else ""
        if "limitation" not in heading and "caveat" not in heading:
            continue
        for bullet in re.split(r"\n(?=\* )", section):
            if not bullet.startswith("* "):
                continue
            lead = re.match(r"\* \*\*(.+?)\*\*", bullet)
            if lead and re.search(r"\b(cannot|not)\b", lead.group(1), re.I):
                out.append(" ".join(bullet[2:].split()))
    return out


def _contents(sections: list[str]) -> list[str]:
    """The section headings, as the cover's table of contents."""
    out = []
    for section in sections:
        for heading in re.findall(r"<h2>(.*?)</h2>", section, re.S):
            text = re.sub(r'<span class="num">(\d+)</span>', r"\1 ", heading)
            out.append(re.sub(r"<[^>]+>", "", text).strip())
    return out


_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


def _markdown_inline(text: str) -> str:
    """Escape, then the two inline marks the documentation uses: **bold** and `code`."""
    text = _e(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _loop_order(loop_id: str) -> tuple[int, str]:
    digits = "".join(c for c in loop_id if c.isdigit())
    return (int(digits) if digits else 0, loop_id)


def _svg_without_size(svg: bytes) -> bytes:
    """Graphviz writes width/height in points; drop them so the image scales to the column."""
    text = svg.decode("utf-8")
    head, sep, rest = text.partition("<svg")
    tag, close, tail = rest.partition(">")
    size = dict(re.findall(r'\s(width|height)="([\d.]+)(?:pt|px)?"', tag))
    if "width" in size and "height" in size:  # the drawing is scaled to width x height: view all of it
        tag = re.sub(r'\sviewBox="[^"]*"', f' viewBox="0 0 {size["width"]} {size["height"]}"', tag)
    tag = re.sub(r'\s(width|height)="[^"]*"', "", tag)
    return (head + sep + tag + close + tail).encode("utf-8")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(text.split())) if s.strip()]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(value: Any) -> str:
    """A model number for a table: 3 decimals below 1, 2 up to 100, thousands separators above."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    x = float(value)
    if x == int(x) and abs(x) < 1e6:
        return f"{int(x):,}"
    if abs(x) < 1:
        return f"{x:.3f}"
    return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _version() -> str:
    import flywheel

    return getattr(flywheel, "__version__", "development")
