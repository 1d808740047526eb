"""Probing a model's equations: evaluate them for many members at once, some inputs held at given values.

Analyses such as Loops That Matter and link polarity need "what would this equation give if this input
had its current value and the others their previous ones". A ``Probe`` answers that with the compiled
code of the run itself (no second evaluator, no re-parsing): it evaluates every named value and every
state derivative of ``n`` members, each at its own time, in one call, from states the caller gives and with any named
auxiliary held at a value per member (through the parameter slots a run uses to make an auxiliary
constant). ``states_at`` returns the full state vector (hidden SMOOTH/DELAY stages included) at chosen
steps of a run, advancing the same compiled stepping loop as ``simulate``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from ..errors import ParameterError
from .running import prepared_workspace
from .spec import RunSpec, check_runnable
from .workspace import Output, Workspace


class Probe:
    """Evaluate the equations of ``spec``'s model for up to ``n`` members, each at its own time
    (fixed-step methods). One probe serves many calls: its arrays are allocated once, and ``probe_for``
    lends the same probe to later analyses of the model (rebound to their run)."""

    def __init__(self, spec: RunSpec, n: int):
        check_runnable(spec.model)
        if spec.model.layout.dynamic_time:
            raise ParameterError(f"{spec.model.path.name}: probing needs a TIME STEP that stays constant")
        self.model = spec.model
        self.n = int(n)
        self._space = Workspace(self.model, self.n)
        self._times = np.zeros(self.n)
        self._space._bind("times", self._times)
        self._n_states = self.model.layout.n_states
        self.bind(spec)

    def bind(self, spec: RunSpec) -> None:
        """Evaluate ``spec``'s run from now on (its parameters, tables, settings and initial values)."""
        if spec.model is not self.model:
            raise ParameterError("a probe evaluates the model it was made for")
        self.spec = spec
        values, override = spec.vector
        t = spec.time
        # values fixed at initialisation (INITIAL, constants, pipelines) are the same for every member:
        # initialise one member and copy it
        one = Workspace(self.model, 1)
        one.set_params(values, override)
        one.set_tables(spec.table_set)
        one.set_controls(t.initial_time, t.time_step, t.final_time, t.saveper)
        one.init()
        space = self._space
        space.set_params(values, override)
        space.set_tables(spec.table_set)
        space.set_controls(t.initial_time, t.time_step, t.final_time, t.saveper)
        fixed = one.copy_state()
        for name in ("C", "D"):
            if space.arrays[name].shape[1:] == fixed[name].shape[1:]:
                space.arrays[name][:] = fixed[name]
            else:
                space.restore_state({name: np.repeat(fixed[name], self.n, axis=0)})
        space.restore_state({"doff": fixed["doff"]})
        self._values = values
        self._base_override = override.copy()
        self._touched = np.zeros(0, dtype=np.int64)  # parameter slots the last call changed
        self._last = self.n  # members the last call used
        self._dirty = False  # whole rows were written by a caller

    def _slot(self, name: str) -> int:
        slot = self.model.layout.param_slots.get(name)
        if slot is None:
            raise ParameterError(f"{self.model.path.name}: {name!r} cannot be held (not an auxiliary or constant)")
        return slot

    @property
    def holdable(self) -> frozenset[str]:
        """The named values that can be held (auxiliaries and constants with a parameter slot)."""
        return frozenset(self.model.layout.param_slots)

    def slots(self, names: Sequence[str]) -> np.ndarray:
        """The parameter slots of named values to hold (columns of ``inputs``' parameter view)."""
        return np.array([self._slot(name) for name in names], dtype=np.int64)

    @property
    def param_values(self) -> np.ndarray:
        """The run's value of every parameter slot."""
        return self._values

    def inputs(self, m: int, *, whole_rows: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Writable views of the first ``m`` members' parameters (m x parameter slots, at the run's
        values unless the caller writes ``whole_rows`` itself), states (m x states) and times (m,):
        fill them, then ``compute``."""
        if m > self.n:
            raise ParameterError(f"a probe for {self.n} members cannot evaluate {m}")
        P = self._space.arrays["P"]
        if whole_rows:
            self._touched = np.zeros(0, dtype=np.int64)
            self._last = self.n  # the rows written are not the run's: reset them all next time
            self._dirty = True
        elif self._dirty:
            P[:, :, 0] = self._values
            self._dirty = False
        elif self._touched.size:  # undo the last call's held values (a literal constant reads its slot)
            P[: self._last, self._touched, 0] = self._values[self._touched]
            self._touched = np.zeros(0, dtype=np.int64)
        return P[:m, :, 0], self._space.arrays["Y"][:m, : self._n_states, 0], self._times[:m]

    def compute(self, m: int, held_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate the first ``m`` members from their ``inputs``, the ``held_slots`` taking the values
        written there instead of their equations. Returns views of the values (m x named values, in
        ``model.layout.value_names`` order) and derivatives (m x states), valid until the next call."""
        space = self._space
        override = self._base_override.copy()
        override[held_slots] = 1
        if not self._dirty:
            self._touched = np.asarray(held_slots, dtype=np.int64)
            self._last = m
        space.arrays["ovm"][:] = override
        space.frame.n = m
        self.model.kernels("fw_probe", space.frame)
        return space.arrays["V"][:m, : self.model.layout.n_values, 0], space.arrays["dydt"][:m, : self._n_states, 0]

    def evaluate(
        self, time: float | np.ndarray, states: np.ndarray, held: Mapping[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values (members x named values, in ``model.layout.value_names`` order) and state derivatives
        (members x states) of ``len(states)`` members at ``time`` (one, or one per member), from
        ``states`` (members x states) with ``held`` names fixed at the given per-member values instead
        of their equations."""
        states = np.asarray(states, dtype=float)
        if states.ndim != 2 or states.shape[1] != self._n_states or states.shape[0] > self.n:
            raise ParameterError(f"states must have shape (<= {self.n}, {self._n_states}), not {states.shape}")
        m = states.shape[0]
        held = held or {}
        params, ys, times = self.inputs(m)
        slots = self.slots(list(held))
        for slot, value in zip(slots, held.values(), strict=True):
            params[:, slot] = value
        ys[:] = states
        times[:] = time
        V, dydt = self.compute(m, slots)
        return V.copy(), dydt.copy()


_POOL: dict[str, list[Probe]] = {}
_POOL_LOCK = threading.Lock()


@contextmanager
def probe_for(spec: RunSpec, n: int) -> Iterator[Probe]:
    """A probe for ``spec`` with room for ``n`` members, lent from a pool (one thread at a time uses a
    probe): repeated analyses of a model reuse its memory instead of allocating it afresh."""
    key = spec.model.key
    with _POOL_LOCK:
        free = _POOL.get(key, [])
        probe = next((p for p in free if p.n >= n and p.model is spec.model), None)
        if probe is not None:
            free.remove(probe)
    if probe is None:
        probe = Probe(spec, n)
    else:
        probe.bind(spec)
    try:
        yield probe
    finally:
        with _POOL_LOCK:
            if len(_POOL) > 8 and key not in _POOL:
                _POOL.clear()
            pool = _POOL.setdefault(key, [])
            pool.append(probe)
            del pool[:-2]  # keep the two latest


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
    space.run(grid.times, grid.schedule, spec.method.table, 0, 0, False, no_output)  # binds the run's arrays
    Y = space.first("Y")
    at = 0
    for i, step in enumerate(steps):
        if step < at or step > grid.n_steps:
            raise ParameterError(f"steps must be ascending indices of the run's grid, got {step}")
        if step > at:
            space.advance(at, step)
            at = step
        out[i] = Y[: out.shape[1]]
    return out
