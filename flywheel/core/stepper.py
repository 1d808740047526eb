"""Stepping a run: stop, look, change constants, continue; save the state and continue it later.

A ``Stepper`` owns one run's memory and advances it with the same compiled loop as a whole run, so a run
stepped in pieces, or continued from a saved ``State``, equals the uninterrupted run bit for bit. The
state holds every stock and every hidden state (SMOOTH, DELAY, TREND chains, DELAY FIXED pipelines,
SAMPLE IF TRUE values), the values fixed at initialisation, the step, and the specification in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError
from .results import Result
from .running import output_columns, prepared_workspace, report_problems
from .spec import RunSpec, build_spec, check_runnable, resolve_name
from .workspace import Output


@dataclass(frozen=True)
class State:
    """A run paused between two steps: continue it with ``Model.run(initial_state=state)`` or a stepper."""

    spec: RunSpec
    time: float
    step: int  # index of the next step to evaluate in the spec's time grid
    saves: int  # output times passed before this state
    arrays: Mapping[str, np.ndarray]

    @property
    def stocks(self) -> dict[str, float]:
        """The model's named stocks at this state."""
        Y = self.arrays["Y"][0, :, 0]
        return {name: float(Y[row]) for name, row in self.spec.model.layout.stock_index.items()}

    def __repr__(self) -> str:
        return f"<State of {self.spec.model.name} at time {self.time:g}>"


def model_spec(model, params: dict, base: RunSpec) -> RunSpec:
    """``base`` with exactly ``params`` (not merged), its time settings, method and strictness kept."""
    t = base.time
    condition = (t.initial_time, dict(base.initial_values)) if base.initial_values else None
    return build_spec(
        model, params, initial_condition=condition, time_step=t.time_step, final_time=t.final_time,
        saveper=t.saveper, method=base.method, strict=base.strict, ivp_options=base.ivp, seed=base.seed,
    )  # fmt: skip


class Stepper:
    """Advance one run in steps. ``step_to(t)``, ``set(name=value)``, ``state``, ``values``, ``result()``."""

    def __init__(self, spec: RunSpec, columns: Sequence[str] | None = None, state: State | None = None):
        check_runnable(spec.model)
        if not spec.method.fixed_step:
            raise ParameterError(f"a stepper uses a fixed-step method (euler, rk2, rk4), not {spec.method.name}")
        if spec.model.layout.dynamic_time:
            raise ParameterError(f"{spec.model.path.name}: stepping needs a TIME STEP and SAVEPER that stay constant")
        self.spec = spec
        self.names = output_columns(spec, columns)
        self._grid = spec.time.grid
        self._space = prepared_workspace(spec)
        cols = np.array([spec.model.value_index[n] for n in self.names], dtype=np.int64)
        n_rows = int(self._grid.schedule.sum())
        self._output = Output(np.full((len(cols), 1, n_rows), np.nan), np.full(n_rows, np.nan),
                              np.arange(n_rows, dtype=np.int64), cols)  # fmt: skip
        self._finished = False
        if state is None:
            self._space.init()
            self._step, self._saves, self._first_save = 0, 0, 0
        else:
            self._resume(state)

    def _resume(self, state: State) -> None:
        same_grid = (state.spec.time.initial_time, state.spec.time.time_step) == (
            self.spec.time.initial_time, self.spec.time.time_step,
        )  # fmt: skip
        if not same_grid or state.step >= len(self._grid.times) or self._grid.times[state.step] != state.time:
            raise ParameterError(
                f"{self.spec.model.path.name}: a state continues with the initial time and time step it was made "
                f"with ({state.spec.time.initial_time:g}, {state.spec.time.time_step:g}), up to a final time after "
                f"{state.time:g}"
            )
        self._space.restore_state(dict(state.arrays))
        if state.spec.vector[0].tobytes() != self.spec.vector[0].tobytes() or state.spec.tables != self.spec.tables:
            self._space.statics()  # constants changed since the state was saved
        self._step, self._saves, self._first_save = state.step, state.saves, state.saves

    # ------------------------------------------------------------------ where we are
    @property
    def time(self) -> float:
        return float(self._grid.times[self._step])

    @property
    def final_time(self) -> float:
        return float(self._grid.times[-1])

    @property
    def done(self) -> bool:
        return self._finished

    @property
    def state(self) -> State:
        return State(self.spec, self.time, self._step, self._saves, self._space.copy_state())

    def state_vector(self) -> np.ndarray:
        """Every state at the current time (named stocks and hidden stages, ``layout.state_labels`` order)."""
        return self._space.first("Y")[: self.spec.model.layout.n_states].copy()

    def values(self, names: Sequence[str] | None = None) -> dict[str, float]:
        """Every named value (or those asked for) at the current time, without advancing."""
        self._space.evaluate(self.time)
        V = self._space.first("V")
        model = self.spec.model
        chosen = model.layout.value_names if names is None else output_columns(self.spec, list(names))
        return {name: float(V[model.value_index[name]]) for name in chosen}

    # ------------------------------------------------------------------ moving
    def step_to(self, time: float) -> Stepper:
        """Advance to ``time`` (a step time of the run, up to its final time)."""
        target = self._step_index(time)
        if target < self._step:
            raise ParameterError(f"step_to({time:g}): the run is already at {self.time:g}; it cannot go back")
        self._advance(target)
        return self

    def step(self, n: int = 1) -> Stepper:
        """Advance ``n`` time steps."""
        return self.step_to(float(self._grid.times[min(self._step + n, self._grid.n_steps)]))

    def run_to_end(self) -> Stepper:
        self._advance(self._grid.n_steps)
        if not self._finished:
            self._saves = self._space.run(self._grid.times, self._grid.schedule, self.spec.method.table,
                                          self._step, self._step, True, self._output, self._saves)  # fmt: skip
            self._check()
            self._finished = True
        return self

    def _advance(self, target: int) -> None:
        if self._finished or target == self._step:
            return
        self._saves = self._space.run(self._grid.times, self._grid.schedule, self.spec.method.table,
                                      self._step, target, False, self._output, self._saves)  # fmt: skip
        self._step = target
        self._check()

    def _check(self) -> None:
        report_problems(self.spec, self._space)

    def _step_index(self, time: float) -> int:
        times = self._grid.times
        tol = 1e-9 + 1e-9 * abs(float(time))
        hits = np.flatnonzero(np.abs(times - float(time)) <= max(tol, self.spec.time.time_step * 1e-6))
        if len(hits) == 0:
            raise ParameterError(
                f"step_to({time:g}): not a step time of this run (from {times[0]:g} to {times[-1]:g} "
                f"every {self.spec.time.time_step:g})"
            )
        return int(hits[0])

    # ------------------------------------------------------------------ changing constants
    def set(self, values: Mapping[str, Any] | None = None, /, **named: Any) -> Stepper:
        """Change constants (or lookups, or hold any auxiliary at a value) from the current time on;
        values fixed at initialisation that depend on them are recomputed, INITIAL values and stocks
        are kept."""
        changes = {**(values or {}), **named}
        if changes:
            self._use(self.spec.replace(params=changes))
        return self

    def release(self, *names: str) -> Stepper:
        """Let variables set with ``set`` follow their own equations again (from the current time on)."""
        model = self.spec.model
        dropped = {resolve_name(model, name) for name in names}
        if dropped & set(self.spec.params):
            kept = {k: v for k, v in self.spec.params.items() if k not in dropped}
            kept.update({k: v for k, v in self.spec.tables.items() if k not in dropped})
            base = self.spec
            spec = model_spec(model, kept, base)
            self._use(spec)
        return self

    def _use(self, spec: RunSpec) -> None:
        if self._finished:
            raise ParameterError("the run has ended; nothing can be set")
        self.spec = spec
        values_vector, override = spec.vector
        self._space.set_params(values_vector, override)
        self._space.set_tables(spec.table_set)
        self._space.statics()

    # ------------------------------------------------------------------ results
    def result(self, since_state: bool = False) -> Result:
        """The outputs recorded so far (from the start, or from the state this stepper resumed)."""
        first = self._first_save if since_state else 0
        rows = slice(first, self._saves)
        return Result(self.spec, self.names, self._output.times[rows].copy(), self._output.values[:, :, rows].copy())
