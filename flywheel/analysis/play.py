"""A management-game session: a ``Game`` dressed as the model's profile says a player should see it.

The ``[game]`` section of the profile (``flywheel.scenarios.game_profile``) says how long a turn is,
which shocks are drawn at random, how decisions are entered (a rate as a total per turn, a share in
%), what the dashboard shows, what people say about a miss and what the score is. ``Session`` turns
that into numbers: it draws the shocks from the seed, builds the ``Game``, converts entries between
the player's units and the model's, keeps which decisions the player holds (the others follow the
organisation's habit: the model's own equation), scores the run and replays the comparison policies
on the player's own shocks. A session saves as JSON (the game's moves plus the seed, scenario and
answers) and resumes by replaying: the same seed and moves give the same run, bit for bit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Model, load_model, simulate
from ..errors import FlywheelError, ParameterError
from ..scenarios import load_profile, load_scenario
from ..scenarios.game_profile import DashboardItem, DecisionView, GameSettings, Score
from .game import Game, read_save

if TYPE_CHECKING:
    import pandas as pd

    from ..scenarios import Scenario

SAVE_FORMAT = "flywheel-play/1"
HABIT_WORDS = ("habit", "auto")


@dataclass(frozen=True)
class DecisionRow:
    """One decision as the player sees it now, in the player's units."""

    view: DecisionView
    held: bool  # the player holds it (else it follows the organisation's habit)
    value: float  # in force now (held value, or the habit's current value)
    habit: float  # what the model's own equation gives now
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Reading:
    """One dashboard line now: the shown value, the previous turn's, and the series so far."""

    item: DashboardItem
    value: float
    previous: float | None
    series: tuple[float, ...]


@dataclass(frozen=True)
class PolicyRun:
    """A comparison policy replayed on the player's world, or the player's own run."""

    label: str
    frame: pd.DataFrame
    score: float


class Session:
    """One player's game of a model, by the rules of its profile's ``[game]`` section."""

    def __init__(self, source: Any, *, seed: int = 0, turns: int | None = None, announce: bool = False):
        self.model, self.scenario = _model_and_scenario(source)
        self.settings: GameSettings = load_profile(self.model).game
        if not self.model.decisions:
            raise ParameterError(f"{self.model.path.name}: the model has no GAME variables to play (Decision = GAME(x))")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ParameterError(f"seed must be a whole number >= 0, got {seed!r}")
        self.seed = seed
        self.turns = self.settings.turns if turns is None else turns
        if isinstance(self.turns, bool) or not isinstance(self.turns, int) or self.turns < 1:
            raise ParameterError(f"the number of {self.settings.turn}s must be a whole number >= 1, got {turns!r}")
        self.announce = announce
        fixed = set(self.scenario.params) if self.scenario is not None else set()
        self.shocks = draw_shocks(self.settings, fixed, seed)
        start = self.model.initial_time
        self.game = Game(self.scenario if self.scenario is not None else self.model, self.settings.interval,
                         dashboard=self.settings.variables, params=self.shocks or None,
                         final_time=start + self.turns * self.settings.interval)  # fmt: skip
        self.answers: dict[str, Any] = {}  # the debrief: the player's predictions
        self._comparisons: list[PolicyRun] | None = None
        self._history: tuple[int, pd.DataFrame] | None = None

    # ------------------------------------------------------------------ where the game is
    @property
    def turn(self) -> int:
        """Turns played so far."""
        return len(self.game.moves)

    @property
    def done(self) -> bool:
        return self.game.done

    @property
    def time(self) -> float:
        return self.game.time

    @property
    def held(self) -> dict[str, float]:
        """The decisions the player holds now (model units): those of the last turn."""
        moves = self.game.moves
        return dict(moves[-1]) if moves else {}

    @property
    def world(self) -> dict[str, float]:
        """The shock assumptions in force (drawn or the scenario's): what the comparisons replay."""
        names = [shock.name for shock in self.settings.shocks]
        profile = load_profile(self.model)
        names += [n for n in (profile.shock_size, profile.shock_month) if n and n not in names]
        params = self.game.start.params
        return {n: float(params[n]) if n in params else float(self.model.variables[n].default) for n in names}

    # ------------------------------------------------------------------ decisions
    def decision_rows(self) -> list[DecisionRow]:
        held = self.held
        rows = []
        by_name = {d.name: d for d in self.game.decisions}
        for view in self.settings.decisions:
            decision = by_name[view.name]
            value = held.get(view.name, decision.own_value)
            low = None if decision.low is None else self.shown(view, decision.low)
            high = None if decision.high is None else self.shown(view, decision.high)
            rows.append(DecisionRow(view, view.name in held, self.shown(view, value), self.shown(view, decision.own_value),
                                    low, high))  # fmt: skip
        return rows

    def shown(self, view: DecisionView, value: float) -> float:
        """A decision's model value in the player's units."""
        return value * view.scale * (self.settings.interval if view.per_turn else 1.0)

    def model_value(self, view: DecisionView, shown: float) -> float:
        return shown / view.scale / (self.settings.interval if view.per_turn else 1.0)

    def parse(self, view: DecisionView, text: str) -> float | None:
        """A typed entry in the player's units -> the model value to hold (None: back to the habit).
        Raises ``ParameterError`` with a message for the player (the entry is simply asked again)."""
        entry = text.strip().replace(",", ".").rstrip("%").strip()
        if entry.lower() in HABIT_WORDS:
            return None
        row = next(r for r in self.decision_rows() if r.view.name == view.name)
        allowed = _range_text(row.low, row.high, view.digits)
        try:
            number = float(entry)
        except ValueError:
            raise ParameterError(f"{text.strip()!r} is not a number: enter {allowed}, 'habit', or press Enter") from None
        if not math.isfinite(number):
            raise ParameterError(f"{text.strip()!r} is not a number: enter {allowed}")
        tolerance = 1e-9 * max(1.0, abs(number))
        if (row.low is not None and number < row.low - tolerance) or (row.high is not None and number > row.high + tolerance):
            raise ParameterError(f"{number:g} is out of range: enter {allowed}")
        value = self.model_value(view, number)
        low, high = self.model.variables[view.name].limits  # a rounding step never leaves the model's range
        return min(max(value, low if low is not None else value), high if high is not None else value)

    def play(self, entries: dict[str, float | None] | None = None) -> None:
        """Advance one turn. ``entries`` change what the player holds (None: back to the habit); decisions
        not mentioned stay as they were (held at their value, or on habit)."""
        held = self.held
        for name, value in (entries or {}).items():
            if value is None:
                held.pop(name, None)
            else:
                held[name] = value
        self.game.step(held)
        self._comparisons = self._history = None

    def undo(self) -> None:
        self.game.undo()
        self._comparisons = self._history = None

    @property
    def history(self) -> pd.DataFrame:
        """The game's history (one row per turn), built once per turn."""
        if self._history is None or self._history[0] != self.turn:
            self._history = (self.turn, self.game.history)
        return self._history[1]

    # ------------------------------------------------------------------ what the player sees
    def readings(self, turn: int | None = None) -> list[Reading]:
        """The dashboard at the start of ``turn`` (0 = the first; default: now), with the series up to it."""
        history = self.history
        rows = len(history) if turn is None else turn + 1
        out = []
        for item in self.settings.dashboard:
            series = history[item.variable].to_numpy(dtype=float)[:rows]
            shown = self._display(item, series)
            out.append(Reading(item, float(shown[-1]), float(shown[-2]) if len(shown) > 1 else None,
                               tuple(float(v) for v in shown)))  # fmt: skip
        return out

    def _display(self, item: DashboardItem, series: np.ndarray) -> np.ndarray:
        if item.relative:
            first = series[0]
            return series / first * item.scale if first != 0 else np.full_like(series, np.nan)
        return series * item.scale

    def voices(self, turn: int | None = None) -> list[tuple[str, str]]:
        """What each speaker says at the start of ``turn`` (default: now): the first matching entry of
        each speaker, one of its lines, picked from the seed and the turn (the same on every replay)."""
        turn = self.turn if turn is None else turn
        row = self.history.iloc[turn]
        state = {name: float(row[name]) for name in self.settings.variables}
        said = []
        for k, speaker in enumerate(self.settings.speakers):
            for voice in self.settings.voices:
                if voice.speaker == speaker and voice.matches(state):
                    pick = int(np.random.default_rng([self.seed, turn, k]).integers(len(voice.lines)))
                    said.append((speaker, voice.lines[pick]))
                    break
        return said

    # ------------------------------------------------------------------ the end
    def frame(self) -> pd.DataFrame:
        """The played run so far, at the save times."""
        return self.game.result().to_frame()

    def score(self) -> float:
        return score_of(self.frame(), self.settings.score)

    def comparisons(self) -> list[PolicyRun]:
        """The comparison policies replayed on the player's world (shocks and scenario), same horizon."""
        if self._comparisons is None:
            self._comparisons = [self._replay(ref) for ref in self.settings.policies]
        return list(self._comparisons)

    def _replay(self, ref: Any) -> PolicyRun:
        try:
            policy = load_scenario(ref.scenario, self.model)
        except FlywheelError as exc:
            raise ParameterError(f"comparison policy {ref.label!r}: {exc}") from None
        profile = load_profile(self.model)
        levers = lever_constants(self.model)
        world = {k: v for k, v in self.game.start.params.items() if k not in levers}  # the player's, minus levers
        params = {**world, **{k: float(v) for k, v in policy.params.items() if k in levers}}
        if ref.switch != "scenario":
            month = self.game.start.time.initial_time
            if ref.switch == "shock" and profile.shock_month:
                month = self.world.get(profile.shock_month, month)
            switches = [lever.switch for lever in profile.levers if lever.switch] + [profile.switch_default]
            params.update({name: float(month) for name in switches if name})
        start = self.game.start
        spec = self.model.spec(params, method=start.method.name, time_step=start.time.time_step,
                               final_time=start.time.final_time, saveper=start.time.saveper)  # fmt: skip
        frame = simulate(spec).to_frame()
        return PolicyRun(ref.label, frame, score_of(frame, self.settings.score))

    def checkpoints(self) -> list[float]:
        """The times the player predicts: a third, two thirds and the end of the game (fewer in a short game)."""
        start = self.game.start.time.initial_time
        interval = self.settings.interval
        return sorted({start + interval * math.ceil(self.turns * k / 3) for k in (1, 2, 3)})

    # ------------------------------------------------------------------ saving
    def to_json(self) -> str:
        return json.dumps({
            "format": SAVE_FORMAT,
            "model": str(self.model.path.resolve()),
            "scenario": str(Path(self.scenario.path).resolve()) if self.scenario is not None else None,
            "seed": self.seed,
            "turns": self.turns,
            "announce": self.announce,
            "shocks": self.shocks,
            "game": json.loads(self.game.to_json()),
            "answers": self.answers,
        }, indent=1)  # fmt: skip

    @classmethod
    def from_json(cls, text: str, where: str = "the saved session") -> Session:
        """Rebuild a saved session (a broken file is one clear ``ParameterError``; nothing is played)."""
        data = read_save(text, where, SAVE_FORMAT, "a saved game of flywheel play")
        game = data.get("game")
        if not isinstance(game, dict) or not isinstance(data.get("shocks"), dict):
            raise ParameterError(f"{where}: the game or its shocks are missing")
        try:
            source = data["scenario"] or data["model"]
            if not isinstance(source, str) or not Path(source).is_file():
                raise ParameterError(f"the scenario or model {source!r} is gone")
            session = cls(source if not str(source).endswith(".toml") else load_scenario(source),
                          seed=data["seed"], turns=data["turns"], announce=bool(data.get("announce")))  # fmt: skip
        except FlywheelError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"{where}: cannot rebuild the session ({type(exc).__name__}: {exc})") from None
        if session.shocks != {k: float(v) for k, v in data["shocks"].items() if isinstance(v, int | float)}:
            raise ParameterError(f"{where}: the shocks do not match the seed (the profile's [game] shocks changed?)")
        moves = game.get("moves")
        if not isinstance(moves, list) or not all(isinstance(m, dict) for m in moves):
            raise ParameterError(f"{where}: 'moves' must be a list of decision tables")
        for number, move in enumerate(moves, 1):
            try:
                session.game.step(move)
            except (FlywheelError, TypeError, ValueError) as exc:
                raise ParameterError(f"{where}: {session.settings.turn} {number}: {exc}") from None
        answers = data.get("answers") or {}
        session.answers = answers if isinstance(answers, dict) else {}
        return session


def score_of(frame: pd.DataFrame, score: Score) -> float:
    """The score of one run (a DataFrame indexed by time)."""
    values = frame[score.variable].to_numpy(dtype=float)
    statistic = score.statistic
    if statistic in ("mean_relative", "final_relative"):
        if values[0] == 0:
            return math.nan
        values = values / values[0]
    if statistic in ("mean_relative", "mean"):
        value = float(values.mean())
    elif statistic in ("final_relative", "final"):
        value = float(values[-1])
    else:  # sum: the total over the game (a flow over time: value x save period)
        times = frame.index.to_numpy(dtype=float)
        step = float(times[1] - times[0]) if len(times) > 1 else 1.0
        value = float(values.sum() * step)
    return value * score.scale


def draw_shocks(settings: GameSettings, fixed: set[str], seed: int) -> dict[str, float]:
    """The random shocks of a game: each range not fixed by the scenario, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    drawn = {}
    for shock in settings.shocks:
        value = float(rng.uniform(shock.low, shock.high))  # always drawn, so one fixed shock moves no other
        if shock.name in fixed:
            continue
        if shock.step:
            value = shock.low + round((value - shock.low) / shock.step) * shock.step
            value = round(min(max(value, shock.low), shock.high), 12)
        drawn[shock.name] = value
    return drawn


def lever_constants(model: Model) -> set[str]:
    """The constants that make up the profile's levers (Before, After, switch months)."""
    profile = load_profile(model)
    names = {profile.switch_default} if profile.switch_default else set()
    for lever in profile.levers:
        names.update(n for n in (lever.before, lever.after, lever.switch) if n)
    return names


def _range_text(low: float | None, high: float | None, digits: int) -> str:
    def show(v: float) -> str:
        return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"

    if low is None and high is None:
        return "a number"
    if high is None:
        return f"a number from {show(low)}"
    if low is None:
        return f"a number up to {show(high)}"
    return f"a number from {show(low)} to {show(high)}"


def _model_and_scenario(source: Any) -> tuple[Model, Scenario | None]:
    if isinstance(source, Model):
        return source, None
    if hasattr(source, "model_path") and hasattr(source, "spec"):
        from ..scenarios import get_model

        return get_model(source.model_path), source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() == ".toml":
            scenario = load_scenario(path)
            from ..scenarios import get_model

            return get_model(scenario.model_path), scenario
        return load_model(path), None
    raise TypeError("a game session needs a Model, a scenario or a model file")
