"""The ``[game]`` section of a model profile: how the management game shows a model to a player.

A game needs more than the model's GAME variables: how long a turn is and how many there are, what
the dashboard shows, how each decision is entered (a rate as a total per turn, a share in %), what
the score rewards, which policies the player is compared with, which shocks are drawn at random,
and what the people in the story say about a miss, worded by the model's state. All of it is data
in the profile, checked against the model when the profile is read (one line per mistake); a model
without the section gets defaults from itself (every GAME variable, the profile panels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import Model

SCORE_STATISTICS = ("mean_relative", "final_relative", "mean", "final", "sum")
POLICY_SWITCHES = ("start", "shock", "scenario")
BETTER = ("higher", "lower", "")

_GAME_KEYS = ("interval", "turns", "turn", "intro", "predict", "shock_text", "score", "dashboard", "decision", "policy",
              "shock", "voice")  # fmt: skip
_SCORE_KEYS = ("variable", "statistic", "scale", "digits", "label", "units")
_DASHBOARD_KEYS = ("variable", "label", "percent", "scale", "relative", "digits", "better", "units")
_DECISION_KEYS = ("name", "label", "explain", "per_turn", "percent", "scale", "units", "digits")
_POLICY_KEYS = ("scenario", "label", "switch")
_SHOCK_KEYS = ("name", "label", "low", "high", "step", "percent")
_VOICE_KEYS = ("speaker", "when", "lines")


@dataclass(frozen=True)
class DashboardItem:
    """One line of the player's dashboard: a variable shown times ``scale`` (or relative to its start)."""

    variable: str
    label: str
    scale: float = 1.0
    units: str = ""
    relative: bool = False  # shown as a share of its value at the start of the game (x scale)
    digits: int = 2
    better: str = ""  # "higher", "lower" or "" (colours the change)


@dataclass(frozen=True)
class DecisionView:
    """How the player enters one decision: ``shown = value * scale`` (``* interval`` when ``per_turn``)."""

    name: str
    label: str
    explain: str = ""
    per_turn: bool = False  # a rate entered as the total of one turn
    scale: float = 1.0
    units: str = ""
    digits: int = 2


@dataclass(frozen=True)
class Score:
    """The game's score: ``statistic`` of ``variable`` over the played run, times ``scale``."""

    variable: str
    statistic: str = "mean_relative"
    scale: float = 1.0
    digits: int = 1
    label: str = ""
    units: str = ""


@dataclass(frozen=True)
class PolicyRef:
    """A comparison policy: a scenario whose lever settings are replayed on the player's own shocks.

    ``switch``: "start" moves the levers' switch months to the start of the game (a policy the player
    could have played from the first turn), "shock" to the month of the player's shock, "scenario"
    keeps the scenario's own months."""

    scenario: Path
    label: str
    switch: str = "start"


@dataclass(frozen=True)
class ShockRange:
    """A shock assumption drawn at random (seeded) in [low, high], rounded to ``step``."""

    name: str
    label: str
    low: float
    high: float
    step: float | None = None
    percent: bool = False


@dataclass(frozen=True)
class Voice:
    """Lines a ``speaker`` says when every ``when`` variable is in its [low, high) range."""

    speaker: str
    when: tuple[tuple[str, float, float], ...]
    lines: tuple[str, ...]

    def matches(self, values: dict[str, float]) -> bool:
        return all(low <= values[name] < high for name, low, high in self.when)


@dataclass(frozen=True)
class GameSettings:
    """Everything a game view needs to know about a model (the ``[game]`` section, or its defaults)."""

    interval: float
    turns: int
    turn: str
    score: Score
    dashboard: tuple[DashboardItem, ...]
    decisions: tuple[DecisionView, ...]
    policies: tuple[PolicyRef, ...] = ()
    shocks: tuple[ShockRange, ...] = ()
    voices: tuple[Voice, ...] = ()
    intro: str = ""
    predict: str = ""
    shock_text: str = ""  # e.g. "The market lost {Market Shock Size:.0%} in month {Market Shock Month:g}."

    @property
    def variables(self) -> list[str]:
        """Every variable the game reads at each turn (dashboard, voices, score, prediction)."""
        names = [item.variable for item in self.dashboard]
        names += [name for voice in self.voices for name, _, _ in voice.when]
        names += [self.score.variable, self.predict]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(voice.speaker for voice in self.voices))


def default_game(model: Model, panels: tuple[Any, ...]) -> GameSettings:
    """A game from the model alone: every GAME variable as entered, the panels as the dashboard, the
    model's own run length in turns of 3 time units, scored by the first panel's mean against its start."""
    span = float(model.final_time or 0) - model.initial_time
    interval = 3.0
    turns = max(1, math.ceil(span / interval - 1e-9)) if span > 0 else 40
    def units(column: str) -> str:  # a panel may show one element of an array: "Stock[a,b]"
        return model.variables[column.split("[", 1)[0]].units

    dashboard = tuple(
        DashboardItem(p.variable, p.label, 100.0 if p.percent else 1.0, "%" if p.percent else units(p.variable),
                      digits=0 if p.percent else 2)  # fmt: skip
        for p in panels
    )
    decisions = tuple(
        DecisionView(name, name, model.variables[name].documentation, units=model.variables[name].units)
        for name in model.decisions
    )
    first = dashboard[0].variable if dashboard else (model.stocks[0] if model.stocks else "")
    score = Score(first, "mean_relative", 100.0, 1, f"{first}, averaged over the game (start = 100)")
    return GameSettings(interval, turns, "turn", score, dashboard, decisions, predict=first)


def read_game(raw: Any, check: Any, model: Model, panels: tuple[Any, ...]) -> GameSettings:
    """The ``[game]`` table, checked against the model; ``check`` is the profile reader's checker."""
    if not isinstance(raw, dict):
        raise check.fail("[game] must be a table")
    check.keys(raw, _GAME_KEYS, "[game]")
    defaults = default_game(model, panels)
    interval = check.number(raw, "interval", "[game]")
    interval = 3.0 if interval is None else interval
    if not (interval > 0 and math.isfinite(interval)):
        raise check.fail(f"[game] interval: must be a positive number of time units, got {interval:g}")
    turns = raw.get("turns", 40)
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise check.fail(f"[game] turns: must be a whole number of at least 1, got {turns!r}")
    dashboard = tuple(_dashboard(check, item, i) for i, item in enumerate(check.array(raw, "dashboard")))
    dashboard = dashboard or defaults.dashboard
    decisions = tuple(_decision(check, model, item, i) for i, item in enumerate(check.array(raw, "decision")))
    seen = [d.name for d in decisions]
    if len(set(seen)) != len(seen):
        raise check.fail("[[game.decision]]: a decision is listed twice")
    # decisions the section does not describe are still the player's: shown with the model's own words
    decisions += tuple(d for d in defaults.decisions if d.name not in seen)
    score = _score(check, check.table(raw, "score"), defaults.score) if "score" in raw else defaults.score
    predict = raw.get("predict", dashboard[0].variable if dashboard else defaults.predict)
    predict = check.variable(predict, "[game] predict") if predict else ""
    return GameSettings(
        interval=interval,
        turns=turns,
        turn=check.text(raw, "turn", "[game]") or "turn",
        score=score,
        dashboard=dashboard,
        decisions=decisions,
        policies=tuple(_policy(check, item, i) for i, item in enumerate(check.array(raw, "policy"))),
        shocks=tuple(_shock(check, model, item, i) for i, item in enumerate(check.array(raw, "shock"))),
        voices=tuple(_voice(check, item, i) for i, item in enumerate(check.array(raw, "voice"))),
        intro=check.text(raw, "intro", "[game]"),
        predict=predict,
        shock_text=_shock_text(check, model, raw),
    )


def _shock_text(check: Any, model: Model, raw: dict) -> str:
    """A sentence naming the shock, with {Variable:format} fields (checked by formatting the defaults)."""
    text = check.text(raw, "shock_text", "[game]")
    if text:
        values = {name: float(info.default) for name, info in model.variables.items()
                  if info.kind == "constant" and isinstance(info.default, int | float)}  # fmt: skip
        try:
            text.format(**values)
        except KeyError as exc:
            raise check.fail(f"[game] shock_text: {exc.args[0]!r} is not a constant of the model") from None
        except (ValueError, IndexError) as exc:
            raise check.fail(f"[game] shock_text: {exc}") from None
    return text


def _digits(check: Any, item: dict, where: str, default: int) -> int:
    digits = check.number(item, "digits", where)
    if digits is None:
        return default
    if digits != int(digits) or not 0 <= digits <= 6:
        raise check.fail(f"{where} digits: a whole number from 0 to 6, got {digits:g}")
    return int(digits)


def _flag(check: Any, item: dict, key: str, where: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise check.fail(f"{where} {key}: expected true or false")
    return value


def _scaling(check: Any, item: dict, where: str, units: str) -> tuple[float, str]:
    """``percent = true`` is shorthand for scale 100 shown in %; otherwise ``scale`` (default 1)."""
    percent = _flag(check, item, "percent", where)
    scale = check.number(item, "scale", where)
    if percent and scale is not None:
        raise check.fail(f"{where}: give percent or scale, not both")
    if scale is not None and not (scale > 0 and math.isfinite(scale)):
        raise check.fail(f"{where} scale: must be a positive number, got {scale:g}")
    shown = check.text(item, "units", where) if "units" in item else None  # units = "" shows none
    if percent:
        return 100.0, "%" if shown is None else shown
    return (1.0 if scale is None else scale), units if shown is None else shown


def _dashboard(check: Any, item: dict, i: int) -> DashboardItem:
    where = f"[[game.dashboard]] {i + 1}"
    check.keys(item, _DASHBOARD_KEYS, where)
    variable = check.variable(item.get("variable"), f"{where} variable")
    scale, units = _scaling(check, item, where, check.model.variables[variable].units)
    relative = _flag(check, item, "relative", where)
    better = check.text(item, "better", where)
    if better not in BETTER:
        raise check.fail(f"{where} better {better!r}: unknown (allowed: higher, lower)")
    return DashboardItem(variable, check.text(item, "label", where) or variable, scale, units, relative,
                         _digits(check, item, where, 0 if scale >= 100 else 2), better)  # fmt: skip


def _decision(check: Any, model: Model, item: dict, i: int) -> DecisionView:
    where = f"[[game.decision]] {i + 1}"
    check.keys(item, _DECISION_KEYS, where)
    name = check.variable(item.get("name"), f"{where} name")
    if name not in model.decisions:
        shown = ", ".join(model.decisions) or "none"
        raise check.fail(f"{where} name {name!r}: not a GAME variable of the model (its decisions: {shown})")
    info = model.variables[name]
    per_turn = _flag(check, item, "per_turn", where)
    if per_turn and "/" not in (info.units or ""):
        raise check.fail(f"{where} per_turn: {name} is not a rate (units {info.units or 'none'}); only a rate is "
                         "entered as a total per turn")  # fmt: skip
    scale, units = _scaling(check, item, where, info.units)
    return DecisionView(name, check.text(item, "label", where) or name, check.text(item, "explain", where)
                        or info.documentation, per_turn, scale, units, _digits(check, item, where, 2))  # fmt: skip


def _score(check: Any, item: dict, default: Score) -> Score:
    where = "[game.score]"
    check.keys(item, _SCORE_KEYS, where)
    variable = check.variable(item.get("variable", default.variable), f"{where} variable")
    statistic = check.text(item, "statistic", where) or "mean_relative"
    if statistic not in SCORE_STATISTICS:
        raise check.fail(f"{where} statistic {statistic!r}: unknown (allowed: {', '.join(SCORE_STATISTICS)})")
    scale = check.number(item, "scale", where)
    if scale is not None and not (scale > 0 and math.isfinite(scale)):
        raise check.fail(f"{where} scale: must be a positive number, got {scale:g}")
    return Score(variable, statistic, 1.0 if scale is None else scale, _digits(check, item, where, 1),
                 check.text(item, "label", where) or f"{statistic} of {variable}", check.text(item, "units", where))  # fmt: skip


def _policy(check: Any, item: dict, i: int) -> PolicyRef:
    where = f"[[game.policy]] {i + 1}"
    check.keys(item, _POLICY_KEYS, where)
    text = check.text(item, "scenario", where, required=True)
    path = (check.path.parent / text).resolve()
    if not path.is_file():
        raise check.fail(f"{where} scenario {text!r}: no such scenario file ({path})")
    switch = check.text(item, "switch", where) or "start"
    if switch not in POLICY_SWITCHES:
        raise check.fail(f"{where} switch {switch!r}: unknown (allowed: {', '.join(POLICY_SWITCHES)})")
    return PolicyRef(path, check.text(item, "label", where) or path.stem, switch)


def _shock(check: Any, model: Model, item: dict, i: int) -> ShockRange:
    where = f"[[game.shock]] {i + 1}"
    check.keys(item, _SHOCK_KEYS, where)
    name = check.constant(item.get("name"), f"{where} name")
    low, high, step = (check.number(item, key, where) for key in ("low", "high", "step"))
    if low is None or high is None or not low < high:
        raise check.fail(f"{where}: needs low and high, low below high")
    doc_low, doc_high = model.variables[name].limits
    if (doc_low is not None and low < doc_low) or (doc_high is not None and high > doc_high):
        shown = f"[{'-inf' if doc_low is None else f'{doc_low:g}'}, {'inf' if doc_high is None else f'{doc_high:g}'}]"
        raise check.fail(f"{where}: {low:g}..{high:g} goes outside the documented range {shown} of {name}")
    if step is not None and not (0 < step <= high - low):
        raise check.fail(f"{where} step: must be positive and at most high - low, got {step:g}")
    return ShockRange(name, check.text(item, "label", where) or name, low, high, step, _flag(check, item, "percent", where))


def _voice(check: Any, item: dict, i: int) -> Voice:
    where = f"[[game.voice]] {i + 1}"
    check.keys(item, _VOICE_KEYS, where)
    speaker = check.text(item, "speaker", where, required=True)
    when = item.get("when", {})
    if not isinstance(when, dict):
        raise check.fail(f"{where} when: expected a table of variable = [low, high]")
    conditions = []
    for name, bounds in when.items():
        check.variable(name, f"{where} when")
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds) or not bounds[0] < bounds[1]):  # fmt: skip
            raise check.fail(f"{where} when {name!r}: expected [low, high], two numbers, low below high")
        conditions.append((name, float(bounds[0]), float(bounds[1])))
    lines = item.get("lines")
    if not isinstance(lines, list) or not lines or not all(isinstance(line, str) and line.strip() for line in lines):
        raise check.fail(f"{where} lines: expected a non-empty list of strings")
    return Voice(speaker, tuple(conditions), tuple(line.strip() for line in lines))
