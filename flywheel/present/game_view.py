"""What the management game shows in a terminal (rich renderables) and writes for the trainer (plain text).

Everything here is drawing: the numbers come from ``flywheel.analysis.play.Session`` and
``flywheel.analysis.debrief``; the words and units from the model's profile. The interactive loop is
``flywheel.present.cli.play``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ..analysis.debrief import LoopStory, PredictionCheck
    from ..analysis.play import PolicyRun, Reading, Session

BLOCKS = "▁▂▃▄▅▆▇█"
GOOD, BAD, DIM, ACCENT = "green3", "red1", "grey58", "gold1"
POLICY_STYLES = ("red1", "green3", "deep_sky_blue1", "magenta")
COMMANDS = "Enter keeps it · a number holds it · 'habit' hands it back · undo · save · help · quit"


# ---------------------------------------------------------------------------------------------- small charts


def sparkline(values: Sequence[float], width: int, floor: float = 0.0) -> str:
    """One block character per value (the last ``width``), scaled to the series' own range, at least
    ``floor`` wide so that a flat line stays flat."""
    points = [v for v in values if math.isfinite(v)][-width:]
    if not points:
        return ""
    low, high = min(points), max(points)
    span = max(high - low, floor, 1e-12)
    low = (low + high) / 2 - span / 2
    return "".join(BLOCKS[min(7, max(0, round((v - low) / span * 7)))] for v in points)


def line_chart(series: Sequence[tuple[str, Sequence[float], str]], times: Sequence[float], *, height: int = 11,
               width: int = 64, digits: int = 0, unit: str = "month") -> Text:  # fmt: skip
    """Several series on one small character chart: (label, values, colour); the last is drawn on top."""
    finite = [v for _, values, _ in series for v in values if math.isfinite(v)]
    if not finite or len(times) < 2:
        return Text("")
    low, high = min(finite), max(finite)
    pad = max((high - low) * 0.08, 1e-9)
    low, high = low - pad, high + pad
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]
    for k, (_, values, colour) in enumerate(series):
        mark = "●" if k == len(series) - 1 else "•"
        n = len(values)
        for col in range(width):
            v = values[min(n - 1, round(col * (n - 1) / (width - 1)))]
            if math.isfinite(v):
                row = height - 1 - round((v - low) / (high - low) * (height - 1))
                grid[row][col] = (mark, colour)
    text = Text()
    label_width = max(len(f"{high:.{digits}f}"), len(f"{low:.{digits}f}")) + 1
    for r, row in enumerate(grid):
        value = high - (high - low) * r / (height - 1)
        label = f"{value:.{digits}f}" if r in (0, height // 2, height - 1) else ""
        text.append(label.rjust(label_width) + " │", style=DIM)
        for char, colour in row:
            text.append(char, style=colour)
        text.append("\n")
    axis = f"{times[0]:g}".ljust(width // 2) + f"{times[len(times) // 2]:g}"
    axis = axis.ljust(width - len(f"{times[-1]:g}")) + f"{times[-1]:g}"
    text.append(" " * label_width + " └" + "─" * width + "\n", style=DIM)
    text.append(" " * (label_width + 2) + axis + f"  {unit}s\n", style=DIM)
    for k, (label, _, colour) in enumerate(series):  # one legend line per series: labels may be long
        text.append(("●" if k == len(series) - 1 else "•") + " ", style=colour)
        text.append(label + ("\n" if k < len(series) - 1 else ""))
    return text


def number(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _with_units(value: float, digits: int, units: str) -> str:
    shown = number(value, digits)
    if units.startswith("%"):
        return f"{shown} {units}".replace(" % ", " % ").rstrip()
    return shown


# ---------------------------------------------------------------------------------------------- turns


def intro(session: Session, title: str) -> RenderableType:
    settings = session.settings
    body = Text(settings.intro or f"Play {title}: each {settings.turn} you decide, the model advances.", style="")
    body.append(f"\n\n{session.turns} {settings.turn}s of {settings.interval:g} {time_unit(session)}s. ", style="bold")
    body.append(_shock_text(session) if session.announce else "Any shock is hidden from you.", style=ACCENT)
    body.append("\n\nAt each decision: " + COMMANDS, style=DIM)
    return Panel(body, title=f"[bold]{title}[/]", subtitle=f"seed {session.seed}", border_style=ACCENT, padding=(1, 2))


def turn_view(session: Session, title: str, width: int = 100) -> RenderableType:
    """The dashboard of the current turn, what people say, and the decisions in force."""
    settings = session.settings
    name = settings.turn.capitalize()
    header = f"[bold]{name} {session.turn + 1} of {session.turns}[/] · {time_unit(session)} {session.time:g}"
    subtitle = _shock_text(session) if session.announce else f"results of the last {settings.turn}" if session.turn else "where you start"
    return Group(
        Panel(dashboard_table(session.readings(), width), title=f"{title} · {header}", subtitle=subtitle,
              border_style="grey42", padding=(0, 1)),  # fmt: skip
        voices_panel(session.voices()),
        decisions_table(session, width),
    )


def dashboard_table(readings: Sequence[Reading], width: int = 100) -> Table:
    """Label, value now, change since the last turn (green when it moves the right way), a sparkline of
    the turns so far (coloured by where it went since the start) and the value at the start."""
    labels = [_label(r.item) for r in readings]
    label_width = min(max((len(label.plain) for label in labels), default=10), max(20, width - 42 - 8))
    spark_width = max(8, min(41, width - label_width - 42))
    table = Table(box=None, pad_edge=False, show_header=True, header_style=DIM)
    table.add_column("", width=label_width, no_wrap=True)
    table.add_column("start", justify="right", no_wrap=True, width=6, style=DIM)
    table.add_column("now", justify="right", no_wrap=True, width=7)
    table.add_column("change", justify="right", no_wrap=True, width=7)
    table.add_column("trend", no_wrap=True, width=spark_width)
    for r, label in zip(readings, labels, strict=True):
        item = r.item
        unit = " %" if item.units.startswith("%") else ""
        style = _direction_style(r)
        table.add_row(label, number(r.series[0], item.digits) + unit,
                      Text(number(r.value, item.digits) + unit, style=f"bold {style}".strip()), _change(r),
                      Text(sparkline(r.series, spark_width, 0.05 * max((abs(v) for v in r.series if math.isfinite(v)),
                                                                       default=0.0)), style=style or ACCENT))  # fmt: skip
    return table


def _direction_style(r: Reading) -> str:
    """Green when the value moved the right way since the start, red the wrong way, "" when unchanged or
    when no direction is better."""
    item = r.item
    moved = r.series[-1] - r.series[0]
    if not item.better or abs(moved) < 0.5 * 10**-item.digits:
        return ""
    return GOOD if (moved > 0) == (item.better == "higher") else BAD


def _label(item) -> Text:
    label = Text(item.label)
    if item.units and not item.units.startswith("%"):
        label.append(f" ({item.units})", style=DIM)
    return label


def _change(r: Reading) -> Text:
    if r.previous is None:
        return Text("")
    item = r.item
    delta = r.value - r.previous
    if abs(delta) < 0.5 * 10**-item.digits:
        return Text("·", style=DIM)
    up = delta > 0
    good = (up and item.better == "higher") or (not up and item.better == "lower")
    return Text(f"{'▲' if up else '▼'} {number(abs(delta), item.digits)}", style="" if not item.better else GOOD if good else BAD)


def voices_panel(said: Sequence[tuple[str, str]]) -> RenderableType:
    if not said:
        return Text("")
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(style=DIM, no_wrap=True)
    table.add_column(style="italic")
    for speaker, line in said:
        table.add_row(speaker, f"“{line}”")
    return Panel(table, title="What you hear", title_align="left", border_style="grey42", padding=(0, 1))


def decisions_table(session: Session, width: int = 100) -> Table:
    turn = session.settings.turn
    table = Table(title=f"Your decisions for {turn} {session.turn + 1}", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, header_style=DIM)  # fmt: skip
    table.add_column("#", justify="right")
    table.add_column("decision")
    table.add_column("in force", justify="right", no_wrap=True)
    table.add_column("habit", justify="right", style=DIM, no_wrap=True)
    table.add_column("range", style=DIM, no_wrap=True)
    for k, row in enumerate(session.decision_rows(), 1):
        view = row.view
        value = number(row.value, view.digits)
        force = Text(value, style=f"bold {ACCENT}") if row.held else Text(value)
        force.append("  yours" if row.held else "  habit", style=ACCENT if row.held else DIM)
        label = Text(view.label)
        if view.units and width >= 100:  # the prompt repeats them
            label.append(f"  {view.units}", style=DIM)
        table.add_row(str(k), label, force, number(row.habit, view.digits), _range(row.low, row.high, view.digits))
    return table


def help_view(session: Session) -> RenderableType:
    table = Table(box=None, show_header=False, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for view in session.settings.decisions:
        table.add_row(view.label, view.explain)
    commands = Text.from_markup(
        "[bold]Enter[/] keeps a decision as it is · [bold]a number[/] holds it at that value from now on · "
        "[bold]habit[/] hands it back to the organisation (the model's own reflex) · [bold]undo[/] takes the last "
        f"{session.settings.turn} back · [bold]save[/] [FILE] saves the session · [bold]help[/] shows this · "
        "[bold]quit[/] ends the game (the transcript is written)."
    )
    return Panel(Group(table, Text(""), commands), title="Help", border_style=ACCENT)


# ---------------------------------------------------------------------------------------------- the end


def end_view(session: Session, you: PolicyRun, others: Sequence[PolicyRun], width: int = 100) -> RenderableType:
    """The score, the player's path against the comparison policies on the same shocks."""
    settings = session.settings
    score = settings.score
    head = Text()
    head.append("Your score: ", style="bold")
    head.append(number(you.score, score.digits) + (f" {score.units}" if score.units else ""), style=f"bold {ACCENT}")
    head.append(f"   {score.label}\n")
    head.append(_shock_text(session) + (" (announced)" if session.announce else " (hidden from you)"), style=DIM)
    runs = [*others, you]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style=DIM, title="At the end, on the same shocks",
                  title_justify="left", title_style="bold")  # fmt: skip
    table.add_column("")
    for k, run in enumerate(runs):
        style = f"bold {ACCENT}" if run is you else POLICY_STYLES[k % len(POLICY_STYLES)]
        table.add_column(Text("You" if run is you else run.label, style=style, justify="right"), justify="right",
                         max_width=4 if run is you else 24)  # fmt: skip
    table.add_row(Text("Score", style="bold"), *[Text(number(r.score, score.digits), style="bold") for r in runs])
    for item in settings.dashboard:
        cells = []
        for run in runs:
            series = run.frame[item.variable].to_numpy(dtype=float)
            shown = series[-1] / series[0] * item.scale if item.relative and series[0] else series[-1] * item.scale
            cells.append(number(shown, item.digits) + (" %" if item.units.startswith("%") else ""))
        table.add_row(item.label, *cells)
    chart_item = next((i for i in settings.dashboard if i.variable == score.variable), None)
    chart = _score_chart(session, runs, you, chart_item, width)
    return Group(Panel(head, border_style=ACCENT), table, chart)


def _score_chart(session: Session, runs: Sequence[PolicyRun], you: PolicyRun, item, width: int) -> RenderableType:
    variable = session.settings.score.variable
    label = item.label if item is not None else variable
    series = []
    for k, run in enumerate(runs):
        values = run.frame[variable].to_numpy(dtype=float)
        if item is not None and item.relative and values[0]:
            values = values / values[0] * item.scale
        elif item is not None:
            values = values * item.scale
        colour = f"bold {ACCENT}" if run is you else POLICY_STYLES[k % len(POLICY_STYLES)]
        series.append(("You" if run is you else run.label, list(values), colour))
    times = list(you.frame.index.to_numpy(dtype=float))
    chart = line_chart(series, times, width=max(30, min(72, width - 16)), unit=time_unit(session))
    return Panel(chart, title=label, title_align="left", border_style="grey42", padding=(0, 1))


def loop_menu(story: LoopStory) -> RenderableType:
    table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    for _ in range(2):
        table.add_column(justify="right", style=DIM)
        table.add_column()
    named = list(story.named)
    half = (len(named) + 1) // 2
    for k in range(half):
        cells = []
        for j in (k, k + half):
            if j < len(named):
                loop_id, name, polarity = named[j]
                cells += [f"{j + 1}", Text.assemble((f"{loop_id} ", "bold red1" if polarity == "R" else "bold green3"), name)]
            else:
                cells += ["", ""]
        table.add_row(*cells)
    return Panel(table, title="The named feedback loops of the model (R reinforcing, B balancing)", title_align="left",
                 border_style="grey42")  # fmt: skip


def reveal_view(story: LoopStory, check: PredictionCheck | None, label: str, units: str, time_unit: str) -> RenderableType:
    parts: list[RenderableType] = []
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style=DIM, title="What drove your run (Loops That Matter)",
                  title_justify="left", title_style="bold")  # fmt: skip
    table.add_column("loop")
    table.add_column("share", justify="right")
    table.add_column("", no_wrap=True)
    for family in [f for f in story.families if f.share >= 0.02][:8]:
        colour = "red1" if family.polarity == "R" else "green3"
        table.add_row(Text(family.title, style=colour), f"{100 * family.share:.0f} %", Text("█" * round(40 * family.share), style=colour))
    parts.append(table)
    words = [w for w in story.words(time_unit) if not w.startswith("What drove")]
    parts.append(Text("\n".join(f"• {w}" for w in words)))
    if check is not None:
        lines = check.words(label, units)
        if lines:
            parts.append(Panel(Text("\n".join(lines)), title="Your prediction against what happened", title_align="left",
                               border_style=ACCENT))  # fmt: skip
    return Group(*parts)


# ---------------------------------------------------------------------------------------------- transcript


def transcript(session: Session, title: str, you: PolicyRun | None = None, others: Sequence[PolicyRun] = (),
               story: LoopStory | None = None, check: PredictionCheck | None = None, note: str = "") -> str:  # fmt: skip
    """The session as plain text for the trainer: every turn's dashboard, voices and decisions, the end."""
    settings = session.settings
    scenario = session.scenario.path.name if session.scenario is not None else "(the model's default game)"
    lines = [f"flywheel play: {title}", "=" * (15 + len(title)),
             f"Seed {session.seed} · {session.turns} {settings.turn}s of {settings.interval:g} {time_unit(session)}s · "
             f"scenario {scenario} · model {session.model.path.name}",
             f"{_shock_text(session)} ({'announced to' if session.announce else 'hidden from'} the player)"]  # fmt: skip
    if note:
        lines.append(note)
    history = session.game.history
    moves = session.game.moves
    views = {v.name: v for v in settings.decisions}
    for turn in range(len(history)):
        time = history.index[turn]
        played = turn < len(moves)
        unit = time_unit(session)
        heading = (f"{settings.turn.capitalize()} {turn + 1} ({unit} {time:g})" if played else
                   f"After {turn} {settings.turn}{'s' if turn != 1 else ''} ({unit} {time:g})")  # fmt: skip
        lines += ["", heading]
        readings = session.readings(turn)
        lines.append("  " + " | ".join(f"{r.item.label} {_plain(r.value, r.item)}" for r in readings))
        for speaker, said in session.voices(turn):
            lines.append(f"  {speaker}: \"{said}\"")
        if played:
            move = moves[turn]
            chosen = [f"{views[n].label} {number(session.shown(views[n], v), views[n].digits)} {views[n].units}".rstrip()
                      for n, v in move.items() if n in views]  # fmt: skip
            habit = [views[n].label for n in views if n not in move]
            lines.append("  Decided: " + ("; ".join(chosen) if chosen else "nothing (all on habit)")
                         + (f" | on habit: {', '.join(habit)}" if chosen and habit else ""))  # fmt: skip
    if you is not None:
        score = settings.score
        lines += ["", "Result", "------", f"Score: {number(you.score, score.digits)} ({score.label})"]
        for run in others:
            lines.append(f"  {run.label}: {number(run.score, score.digits)}")
    if story is not None:
        lines += ["", "Debrief", "-------"]
        answers = session.answers
        if answers.get("loops") is not None:
            lines.append("Loops the player named: " + (", ".join(answers["loops"]) or "none"))
        if answers.get("trajectory"):
            lines.append("Trajectory the player expected: " + ", ".join(f"{t:g}: {v:g}" for t, v in answers["trajectory"]))
        lines += story.words(time_unit(session))
        if check is not None:
            item = _predict_item(session)
            lines += check.words(item.label if item else settings.predict, item.units if item else "")
    return "\n".join(lines) + "\n"


def _predict_item(session: Session):
    return next((i for i in session.settings.dashboard if i.variable == session.settings.predict), None)


def _plain(value: float, item) -> str:
    return number(value, item.digits) + (" %" if item.units.startswith("%") else "")


def _shock_text(session: Session) -> str:
    """The shock in the profile's words (``shock_text``), or each shock assumption with its value."""
    world = session.world
    if not world:
        return "No shock in this game."
    text = session.settings.shock_text
    if text:
        values = {name: float(info.default) for name, info in session.model.variables.items()
                  if info.kind == "constant" and isinstance(info.default, int | float)}  # fmt: skip
        values.update(session.game.start.params)
        return text.format(**values) + _after_the_end(session)
    labels = {s.name: s for s in session.settings.shocks}
    parts = []
    for name, value in world.items():
        shock = labels.get(name)
        shown = f"{100 * value:g} %" if shock is not None and shock.percent else f"{value:g}"
        parts.append(f"{shock.label if shock else name}: {shown}")
    return "; ".join(parts) + "." + _after_the_end(session)


def _after_the_end(session: Session) -> str:
    from ..scenarios import load_profile

    month = load_profile(session.model).shock_month
    when = session.world.get(month) if month else None
    return " (after the end of this game: no shock while you played)" if when is not None and when >= session.game.final_time else ""


def _range(low: float | None, high: float | None, digits: int) -> str:
    def show(v: float | None) -> str:
        return "" if v is None else (f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}")

    return f"{show(low)}–{show(high)}"


def time_unit(session: Session) -> str:
    """The model's time unit in lower case ("month"), from its profile."""
    from ..scenarios import load_profile

    unit = load_profile(session.model).time_unit or "time unit"
    return unit.lower()
