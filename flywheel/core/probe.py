"""Probing a model's equations: evaluate them for many members at once, some inputs held at given values.

Analyses such as Loops That Matter and link polarity need "what would this equation give if this input
had its current value and the others their previous ones". A ``Probe`` answers that with the compiled
code of the run itself (no second evaluator, no re-parsing): it evaluates every named value and every
state derivative of ``n`` members at one time, from states the caller gives and with any named
auxiliary held at a value per member (through the parameter slots a run uses to make an auxiliary
constant). ``states_at`` returns the full state vector (hidden SMOOTH/DELAY stages included) at chosen
steps of a run, advancing the same compiled stepping loop as ``simulate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import ParameterError
from .running import prepared_workspace
from .spec import RunSpec, check_runnable
from .workspace import Output, Workspace


class Probe:
    """Evaluate the equations of ``spec``'s model for ``n`` members at one time (fixed-step methods)."""

    def __init__(self, spec: RunSpec, n: int):
        check_runnable(spec.model)
        if spec.model.layout.dynamic_time:
            raise ParameterError(f"{spec.model.path.name}: probing needs a TIME STEP that stays constant")
        self.spec = spec
        self.model = spec.model
        self.n = int(n)
        layout = self.model.layout
        self._space = Workspace(self.model, self.n)
        values, override = spec.vector
        self._base_override = override.copy()
        self._space.set_params(values, override)
        self._space.set_tables(spec.table_set)
        t = spec.time
        self._space.set_controls(t.initial_time, t.time_step, t.final_time, t.saveper)
        self._space.init()  # values fixed at initialisation (INITIAL, constants) come from the spec
        self._no_output = Output(np.zeros((0, self.n, 1)), np.zeros(1), np.full(1, -1, dtype=np.int64),
                                 np.zeros(0, dtype=np.int64))  # fmt: skip
        self._n_states = layout.n_states
        self._table = spec.method.table

    @property
    def holdable(self) -> frozenset[str]:
        """The named values that can be held (auxiliaries and constants with a parameter slot)."""
        return frozenset(self.model.layout.param_slots)

    def evaluate(
        self, time: float, states: np.ndarray, held: Mapping[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values (members x named values, in ``model.layout.value_names`` order) and state derivatives
        (members x states) at ``time``, from ``states`` (members x states) with ``held`` names fixed at
        the given per-member values instead of their equations."""
        space = self._space
        layout = self.model.layout
        states = np.asarray(states, dtype=float)
        if states.shape != (self.n, self._n_states):
            raise ParameterError(f"states must have shape ({self.n}, {self._n_states}), not {states.shape}")
        P = space.arrays["P"]
        override = self._base_override.copy()
        values, _ = self.spec.vector
        P[:, :, 0] = values[None, :]
        for name, value in (held or {}).items():
            slot = layout.param_slots.get(name)
            if slot is None:
                raise ParameterError(f"{self.model.path.name}: {name!r} cannot be held (not an auxiliary or constant)")
            P[:, slot, 0] = value
            override[slot] = 1
        space.arrays["ovm"][:] = override
        if self._n_states:
            space.arrays["Y"][:, : self._n_states, 0] = states
        times = np.array([float(time)])
        space.run(times, np.zeros(1, dtype=np.uint8), self._table, 0, 0, True, self._no_output)
        V = space.arrays["V"][:, : layout.n_values, 0].copy()
        dydt = space.arrays["K"][:, : self._n_states, 0].copy()
        return V, dydt


def states_at(spec: RunSpec, steps: Sequence[int]) -> np.ndarray:
    """The full state vector (named stocks and hidden stages, ``layout.state_labels`` order) at each of
    ``steps`` (indices into ``spec.time.grid.times``, ascending), stepping the run's compiled loop."""
    check_runnable(spec.model)
    if not spec.method.fixed_step or spec.model.layout.dynamic_time:
        raise ParameterError("states along a run need a fixed-step method and a constant TIME STEP")
    grid = spec.time.grid
    space = prepared_workspace(spec)
    space.init()
    out = np.empty((len(steps), spec.model.layout.n_states))
    no_output = Output(np.zeros((0, 1, 1)), np.zeros(1), np.full(1, -1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    at = 0
    for i, step in enumerate(steps):
        if step < at or step > grid.n_steps:
            raise ParameterError(f"steps must be ascending indices of the run's grid, got {step}")
        if step > at:
            space.run(grid.times, grid.schedule, spec.method.table, at, step, False, no_output)
            at = step
        out[i] = space.first("Y")[: out.shape[1]]
    return out
