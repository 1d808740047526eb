"""Dependency analysis: which values are static, and the evaluation order of both phases.

Initialisation follows the "init" dependencies (a stock needs its initial-value expression); a time
step follows the "run" dependencies (stocks, INITIAL values and constants are known at its start).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..errors import ModelError
from .ir import Aux, Control, Program, has_phases, references, uses_time, walk


@dataclass
class Analysis:
    """What code generation needs to know about the order of evaluation."""

    static: set[str] = field(default_factory=set)  # keys computed once, at initialisation
    init_order: list[str] = field(default_factory=list)
    run_order: list[str] = field(default_factory=list)  # dynamic values, each time step
    names: dict[str, str] = field(default_factory=dict)  # key -> model name, for messages
    dynamic_controls: dict[str, str] = field(default_factory=dict)  # control -> key, equations of time


def value_dependencies(program: Program) -> tuple[dict[str, frozenset], dict[str, frozenset]]:
    """For every value node: (run-phase deps, init-phase deps)."""
    run: dict[str, frozenset] = {}
    init: dict[str, frozenset] = {}
    controls = program.controls
    for aux in program.auxes:
        run[aux.key] = references(aux.expr, "run", controls) - {aux.key}
        init[aux.key] = references(aux.expr, "init", controls) - {aux.key}
    for stock in program.stocks:
        run[stock.key], init[stock.key] = frozenset(), references(stock.initial, "init", controls)
    for chain in program.chains:
        timed = chain.kind in ("delay", "delayn")
        run[chain.key] = frozenset({chain.time}) if timed else frozenset()
        init[chain.key] = frozenset({chain.initial, chain.time})
    for initial in program.initials:
        run[initial.key], init[initial.key] = frozenset(), references(initial.expr, "init", controls)
    for fixed in program.delay_fixed:
        run[fixed.key], init[fixed.key] = frozenset(), frozenset({fixed.initial, fixed.time})
    for sample in program.samples:
        run[sample.key] = frozenset({sample.condition, sample.input})
        init[sample.key] = frozenset({sample.condition, sample.input, sample.initial})
    for op in program.vector_ops:
        run[op.key] = init[op.key] = frozenset(op.args)
    return run, init


def analyse(program: Program, model_name: str) -> Analysis:
    run_deps, init_deps = value_dependencies(program)
    result = Analysis()
    for aux in program.auxes:
        if aux.name:
            result.names[aux.key] = aux.name
    for stock in program.stocks:
        if stock.name:
            result.names[stock.key] = stock.name
    result.static = _static_keys(program)
    result.init_order = _toposort(list(init_deps), init_deps, "initial values", result.names, model_name)
    computed = {a.key for a in program.auxes} | {c.key for c in program.chains} | {s.key for s in program.samples}
    computed |= {op.key for op in program.vector_ops}
    dynamic = [k for k in run_deps if k not in result.static and k in computed]  # recomputed every step
    known = set(run_deps) - set(dynamic)
    restricted = {k: frozenset(d for d in run_deps[k] if d not in known) for k in dynamic}
    result.run_order = _toposort(dynamic, restricted, "equations (an algebraic loop)", result.names, model_name)
    result.dynamic_controls = {
        control: key for control, key in program.controls.items() if key not in result.static
    }
    return result


def _static_keys(program: Program) -> set[str]:
    """Values that cannot change during a run: constants, INITIAL values and what depends only on them.

    An expression reading a control that changes with time (TIME STEP as an equation of Time) is not
    static; neither is one with ACTIVE INITIAL's two phases."""
    static = {i.key for i in program.initials}
    auxes: dict[str, Aux] = {a.key: a for a in program.auxes}
    changed = True
    while changed:
        changed = False
        for key, aux in auxes.items():
            if key in static or uses_time(aux.expr) or has_phases(aux.expr):
                continue
            if any(isinstance(n, Control) and program.controls.get(n.name, key) not in static for n in walk(aux.expr)):
                continue  # reads a control that is not known yet, or changes with time
            if all(d in static for d in references(aux.expr, "run")):
                static.add(key)
                changed = True
        for op in program.vector_ops:
            if op.key not in static and all(a in static for a in op.args):
                static.add(op.key)
                changed = True
    return static


def _toposort(keys: list[str], deps: dict[str, frozenset], what: str, names: dict[str, str], model: str) -> list[str]:
    """Kahn's algorithm, keeping model order among independent nodes; a cycle is a ModelError."""
    pending = {k: {d for d in deps.get(k, ()) if d in deps} for k in keys}
    users: dict[str, list[str]] = {k: [] for k in keys}
    for k, ds in pending.items():
        for d in ds:
            users.setdefault(d, []).append(k)
    position = {k: i for i, k in enumerate(keys)}
    order: list[str] = []
    heap = [(position[k], k) for k, ds in pending.items() if not ds]
    heapq.heapify(heap)
    while heap:
        _, k = heapq.heappop(heap)
        order.append(k)
        for u in users.get(k, ()):
            pending[u].discard(k)
            if not pending[u]:
                heapq.heappush(heap, (position[u], u))
    if len(order) != len(keys):
        stuck = [k for k in keys if pending[k]]
        shown = ", ".join(sorted({names[k] for k in stuck if k in names})) or ", ".join(stuck[:5])
        raise ModelError(f"{model}: circular definition among {what}: {shown}")
    return order
