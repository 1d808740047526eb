"""What every way of running shares: the workspace of one member, the output columns asked for, and
the report of values that became NaN or infinite."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError, SimulationError
from .elements import element_names
from .spec import RunSpec, resolve_name
from .workspace import Workspace


class NonFiniteWarning(RuntimeWarning):
    """A model value became NaN or infinite during a run."""


def output_columns(spec: RunSpec, columns: Sequence[str] | str | None) -> list[str]:
    model = spec.model
    if columns is None:
        return list(model.layout.value_names)
    if isinstance(columns, str):
        columns = [columns]
    names = []
    for raw in columns:
        name = resolve_name(model, raw)
        expanded = element_names(model, name) if name not in model.value_index else [name]
        for element in expanded:
            if element not in model.value_index:
                raise ParameterError(f"{model.path.name}: {name!r} is a lookup and has no values over time")
            names.append(element)
    return names


_THREAD = threading.local()
_REUSED_MAX = 16


def prepared_workspace(spec: RunSpec, reuse: bool = False) -> Workspace:
    """A one-member workspace with the spec's parameters, tables and controls (not yet initialised).

    With ``reuse``, this thread's workspace of the same model and method is used again (single runs:
    allocating a dozen arrays costs more than the run of a small model); a stepper needs its own."""
    stages = spec.method.table.stages if spec.method.fixed_step else 1
    space = None
    if reuse:
        spaces = _THREAD.__dict__.setdefault("spaces", {})
        key = (id(spec.model), stages)
        space = spaces.get(key)
        if space is None or space.model is not spec.model:
            if len(spaces) >= _REUSED_MAX:
                spaces.clear()
            space = spaces[key] = Workspace(spec.model, 1, stages=stages)
        space.reset_flags()
    else:
        space = Workspace(spec.model, 1, stages=stages)
    values, override = spec.vector
    space.set_params(values, override)
    space.set_tables(spec.table_set)
    space.set_random(spec.seed)
    t = spec.time
    space.set_controls(t.initial_time, t.time_step, t.final_time, t.saveper)
    return space


def report_problems(spec: RunSpec, space: Workspace, members: int = 1) -> None:
    """A state that blew up is an error (single runs); a NaN/inf value at an output time is a warning."""
    model = spec.model
    bad = space.arrays["bad_state"][:members]
    if members == 1 and bad[0] >= 0:
        label = model.layout.state_labels[bad[0]]
        at = space.arrays["bad_state_time"][0]
        raise SimulationError(
            f"{model.path.name}: {label!r} became infinite or NaN at time {at:g} (method {spec.method.name}, "
            f"time step {spec.time.time_step:g}); try a smaller time step or check the parameters"
        )
    flagged = np.flatnonzero(space.arrays["bad_value"][:members] >= 0)
    if len(flagged):
        first = flagged[0]
        name = model.layout.value_names[space.arrays["bad_value"][first]]
        at = space.arrays["bad_value_time"][first]
        who = "" if members == 1 else f"{len(flagged)} of {members} members: "
        warnings.warn(
            f"{model.path.name}: {who}{name!r} is NaN or infinite at time {at:g}", NonFiniteWarning, stacklevel=3
        )
