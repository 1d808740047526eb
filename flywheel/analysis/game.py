"""Vensim's gaming mode as an object: a player holds a model's GAME variables, interval by interval.

``Game(model_or_scenario, interval=3)`` exposes the decisions (the model's GAME variables with their
units, documented ranges and the value the model itself would use), the dashboard state, ``step(...)``
(advance one interval with the player's values held; a decision left out follows the model's own
equation), the ``history``, ``undo()``, and ``result()``. A session saves as plain JSON (the decisions
of every step, never code) and resumes by replaying them: runs are deterministic, so the replay is the
session, bit for bit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import Model, RunSpec, State, Stepper, load_model
from ..errors import FlywheelError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Result

SAVE_FORMAT = "flywheel-game/1"


@dataclass(frozen=True)
class Decision:
    """One GAME variable: what the player decides, in which units, within which range."""

    name: str
    units: str
    low: float | None
    high: float | None
    documentation: str
    own_value: float  # what the model's equation gives at the current time


def read_save(text: str, where: str, save_format: str, what: str = "a saved game") -> dict[str, Any]:
    """The JSON object of a save file written in ``save_format``; text that is not JSON, or a file of
    another format, is one clear ``ParameterError`` naming ``where``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{where}: not a saved game ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != save_format:
        raise ParameterError(f"{where}: not {what} (expected format {save_format})")
    return data


class Game:
    """A run played interval by interval. ``step({"Decision": value})`` advances ``interval`` time units."""

    def __init__(
        self,
        model_or_scenario: Any,
        interval: float = 3,
        *,
        dashboard: Sequence[str] | None = None,
        params: Mapping[str, float] | None = None,
        final_time: float | None = None,
    ):
        self.model, base = _model_and_spec(model_or_scenario, params)
        if final_time is not None and final_time != base.time.final_time:
            base = base.replace(final_time=final_time)
        if not self.model.decisions:
            raise ParameterError(f"{self.model.path.name}: the model has no GAME variables to play (Decision = GAME(x))")
        if not (isinstance(interval, (int, float)) and interval > 0 and math.isfinite(interval)):
            raise ParameterError(f"interval must be a positive number of {self._time_unit()}, got {interval!r}")
        self.interval = float(interval)
        self.scenario = model_or_scenario if _is_scenario(model_or_scenario) else None
        self._params = dict(params or {})  # what the caller set on top of the scenario (saved with it)
        self._base = base
        self._stepper = Stepper(base)
        self.dashboard = list(dashboard) if dashboard is not None else self._default_dashboard()
        for name in self.dashboard:
            self.model.resolve_name(name)
        self._rows: list[dict[str, float]] = []
        self._moves: list[dict[str, float]] = []
        self._undo: list[tuple[State, int, RunSpec]] = []
        self._changes: list[tuple[float, dict[str, float], tuple[str, ...]]] = []  # (time, held, released)
        self._record({})

    # ------------------------------------------------------------------ what the player sees
    @property
    def time(self) -> float:
        return self._stepper.time

    @property
    def final_time(self) -> float:
        return self._stepper.final_time

    @property
    def done(self) -> bool:
        return self.time >= self.final_time - 1e-9

    @property
    def decisions(self) -> list[Decision]:
        now = self._stepper.values(self.model.decisions)
        out = []
        for name in self.model.decisions:
            info = self.model.variables[name]
            low, high = info.limits
            own = self._own_value(name, now[name])
            out.append(Decision(name, info.units, low, high, info.documentation, own))
        return out

    @property
    def state(self) -> dict[str, float]:
        """The dashboard: its variables at the current time."""
        return self._stepper.values(self.dashboard)

    @property
    def history(self) -> pd.DataFrame:
        """One row per decision point: the time, the decisions held, and the dashboard."""
        import pandas as pd

        return pd.DataFrame(self._rows).set_index("time")

    @property
    def moves(self) -> list[dict[str, float]]:
        """What the player decided at each step (empty: the model's own values)."""
        return [dict(m) for m in self._moves]

    # ------------------------------------------------------------------ playing
    def step(self, decisions: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Hold ``decisions`` for one interval (the others follow the model), advance, return the state."""
        if self.done:
            raise ParameterError(f"the game is over (time {self.time:g} of {self.final_time:g})")
        chosen = self._check(decisions or {})
        self._undo.append((self._stepper.state, len(self._rows), self._stepper.spec))
        released = [name for name in self.model.decisions if name not in chosen and name in self._stepper.spec.params]
        if released:
            self._stepper.release(*released)
        if chosen:
            self._stepper.set(chosen)
        self._changes.append((self.time, dict(chosen), tuple(released)))
        for name, value in chosen.items():  # the decisions belong to the row of the time they were taken
            self._rows[-1][f"decision: {name}"] = value
        self._stepper.step_to(self._next_time())
        self._moves.append(chosen)
        self._record({})
        return {name: self._rows[-1][name] for name in self.dashboard}

    def undo(self) -> None:
        """Take the last step back."""
        if not self._undo:
            raise ParameterError("nothing to undo: the game is at its start")
        state, rows, spec = self._undo.pop()
        self._stepper = Stepper(spec, state=state)
        del self._rows[rows:]
        self._rows[-1] = {k: v for k, v in self._rows[-1].items() if not k.startswith("decision: ")}
        self._moves.pop()
        self._changes.pop()

    @property
    def start(self) -> RunSpec:
        """The run before any decision: the model's (or scenario's) own."""
        return self._base

    @property
    def changes(self) -> list[tuple[float, dict[str, float], tuple[str, ...]]]:
        """Every step's change to the run: (time, decisions held from then on, decisions released)."""
        return [(t, dict(held), released) for t, held, released in self._changes]

    def result(self) -> Result:
        """The run so far (to the final time once the game is over)."""
        stepper = self._stepper
        if self.done and not stepper.done:
            stepper.run_to_end()
        return stepper.result()

    # ------------------------------------------------------------------ saving
    def to_json(self) -> str:
        """The session as data: model file, scenario, interval and every step's decisions."""
        return json.dumps({
            "format": SAVE_FORMAT,
            "model": str(self.model.path.resolve()),
            "scenario": str(Path(self.scenario.path).resolve()) if self.scenario is not None else None,
            "params": dict(self._base.params) if self.scenario is None else self._params,
            "interval": self.interval,
            "final_time": self.final_time,
            "dashboard": self.dashboard,
            "moves": self._moves,
        }, indent=1)  # fmt: skip

    @classmethod
    def from_json(cls, text: str, where: str = "the saved game") -> Game:
        """Replay a saved session (checked: a broken file is one clear error, nothing runs)."""
        data = read_save(text, where, SAVE_FORMAT)
        moves = data.get("moves")
        if not isinstance(moves, list) or not all(isinstance(m, dict) for m in moves):
            raise ParameterError(f"{where}: 'moves' must be a list of decision tables")
        try:
            if data.get("scenario"):
                from ..scenarios import load_scenario

                source: Any = load_scenario(data["scenario"])
            else:
                source = load_model(data["model"])
            game = cls(source, data.get("interval", 3), dashboard=data.get("dashboard"), params=data.get("params") or None,
                       final_time=data.get("final_time"))
        except FlywheelError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"{where}: cannot rebuild the game ({exc})") from None
        for number, move in enumerate(moves, 1):
            try:
                game.step(move)
            except ParameterError as exc:
                raise ParameterError(f"{where}: step {number}: {exc}") from None
        return game

    # ------------------------------------------------------------------ helpers
    def _check(self, decisions: Mapping[str, Any]) -> dict[str, float]:
        chosen: dict[str, float] = {}
        for raw, value in decisions.items():
            name = self.model.resolve_name(raw)
            if name not in self.model.decisions:
                raise ParameterError(f"{name!r} is not a decision of this game (decisions: {', '.join(self.model.decisions)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(f"{name}: {value!r} is not a number")
            low, high = self.model.variables[name].limits
            if (low is not None and value < low) or (high is not None and value > high):
                shown = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
                raise ParameterError(f"{name} = {value:g} is outside its range {shown}")
            chosen[name] = float(value)
        return chosen

    def _own_value(self, name: str, current: float) -> float:
        """What the model's equation gives now (the current value, unless the player holds it)."""
        if name not in self._stepper.spec.params:
            return current
        probe = Stepper(self._stepper.spec, state=self._stepper.state)
        return probe.release(name).values([name])[name]

    def _next_time(self) -> float:
        grid = self._stepper.spec.time.grid.times
        target = min(self.time + self.interval, self.final_time)
        return float(grid[int(abs(grid - target).argmin())])

    def _record(self, chosen: dict[str, float]) -> None:
        row = {"time": self.time, **{f"decision: {k}": v for k, v in chosen.items()}}
        row.update(self.state)
        self._rows.append(row)

    def _default_dashboard(self) -> list[str]:
        from ..scenarios import load_profile

        return [panel.variable for panel in load_profile(self.model).panels]

    def _time_unit(self) -> str:
        return self.model.variables.get("TIME STEP").units if "TIME STEP" in self.model.variables else "time"


def _is_scenario(source: Any) -> bool:
    return hasattr(source, "model_path") and hasattr(source, "spec")


def _model_and_spec(source: Any, params: Mapping[str, float] | None) -> tuple[Model, RunSpec]:
    if isinstance(source, Model):
        return source, source.spec(params)
    if _is_scenario(source):
        from ..scenarios import get_model

        model = get_model(source.model_path)
        spec = source.spec(model)
        return model, spec.replace(params=params) if params else spec
    if isinstance(source, (str, Path)):
        model = load_model(source)
        return model, model.spec(params)
    raise TypeError("Game needs a Model, a scenario or a model file")
