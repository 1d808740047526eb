"""The causal structure of a compiled model: the named graph of variables that change, the stocks with
their flows, and the SMOOTH/DELAY/TREND builtins with the hidden states that belong to each.

Everything comes from the compiled model's metadata (``model.dependencies``, variable kinds, the
layout's state labels and each variable's rendered equation); nothing is parsed from the model file.
A builtin is recognised when a variable's rendered equation is one call (``SMOOTH(in, time, init,
order)``, ``DELAY(...)``, ``DELAYN(...)``, ``TREND(...)``), alone or inside an expression (``SMOOTH(Sales,
T) * (1 + Stretch)``): its hidden stages are then scored as the chain they are (Loops That Matter's
composite link score), ending in the variable. A variable with two or more calls is counted (so that the
hidden rows still line up) and scored as a black box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import networkx as nx

    from ..core import Model

DYNAMIC_KINDS = ("stock", "flow", "auxiliary")
_CALL = re.compile(r"\b(SMOOTHN|SMOOTH|DELAYN|DELAY|TREND|FORECAST)\(")
_KIND = {"SMOOTH": "smooth", "SMOOTHN": "smooth", "DELAY": "delay", "DELAYN": "delay", "TREND": "trend",
         "FORECAST": "trend"}  # fmt: skip
_LABEL = {"smooth": "an internal state of SMOOTH", "delay": "an internal state of DELAY",
          "trend": "an internal state of TREND/FORECAST"}  # fmt: skip


@dataclass(frozen=True)
class Builtin:
    """A variable defined by one SMOOTH/DELAY/TREND call: ``output = KIND(input, time, ...)``."""

    output: str
    kind: str  # smooth, delay, trend
    function: str  # the call as rendered (SMOOTH, DELAYN ...)
    rows: tuple[int, ...]  # its hidden states, first stage first
    input_names: tuple[str, ...]  # the named variables its input argument reads
    time_names: tuple[str, ...]  # the named variables its time argument reads
    whole: bool = True  # the call is the whole equation (else the output is an expression of the call)

    @property
    def order(self) -> int:
        return len(self.rows)

    @property
    def label(self) -> str:
        return {"smooth": "smooth", "delay": "delay", "trend": "trend"}[self.kind]


@dataclass
class Structure:
    """The causal structure of one model (see the module docstring)."""

    model: Model
    nodes: list[str]
    edges: dict[str, tuple[str, ...]]  # target -> its dynamic sources, in a stable order
    builtins: dict[str, Builtin] = field(default_factory=dict)
    unmapped_builtins: bool = False  # hidden rows could not be matched to calls (builtins are black boxes)
    cycles: dict[int, list[list[str]]] = field(default_factory=dict)  # elementary cycles by limit, once found

    @cached_property
    def graph(self) -> nx.DiGraph:
        """networkx DiGraph of the named causal links (source -> target), node attribute ``kind``, edge
        attribute ``via`` ("flow" into a stock, the builtin's kind through a SMOOTH/DELAY/TREND, or "")."""
        import networkx as nx

        g = nx.DiGraph()
        for name in self.nodes:
            g.add_node(name, kind=self.kind(name))
        for target, sources in self.edges.items():
            for source in sources:
                g.add_edge(source, target, via=self.via(source, target))
        return g

    @cached_property
    def components(self) -> list[set[str]]:
        """The strongly connected components of the graph (networkx's order): a feedback loop lies
        inside one, and a component of one variable holds no loop."""
        import networkx as nx

        return list(nx.strongly_connected_components(self.graph))

    def kind(self, name: str) -> str:
        return self.model.variables[name].kind

    def via(self, source: str, target: str) -> str:
        if self.kind(target) == "stock":
            return "flow"
        builtin = self.builtins.get(target)
        if builtin is not None and source in builtin.input_names:
            return builtin.kind
        return ""

    @property
    def stocks(self) -> list[str]:
        return [n for n in self.nodes if self.kind(n) == "stock"]


def elements_of(model: Model, name: str, known) -> list[str]:
    """The columns of a named variable: itself, or every element of an array (those in ``known``)."""
    from ..core.elements import element_names

    if name in known:
        return [name]
    return [e for e in element_names(model.compiled, name) if e in known]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's argument text."""
    args, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    args.append("".join(current).strip())
    return args


def _call_args(equation: str, start: int) -> tuple[list[str], int]:
    """The arguments of the call whose '(' is at ``start``, and the index after its ')'."""
    depth = 0
    for i in range(start, len(equation)):
        if equation[i] == "(":
            depth += 1
        elif equation[i] == ")":
            depth -= 1
            if depth == 0:
                return _split_args(equation[start + 1 : i]), i + 1
    return _split_args(equation[start + 1 :]), len(equation)


def _names_in(arg: str, by_norm: dict[str, str]) -> tuple[str, ...]:
    found = []
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", arg):
        name = by_norm.get(_norm(token))
        if name is not None and name not in found:
            found.append(name)
    return tuple(found)


_STRUCTURES: dict[tuple[str, str], Structure] = {}


def causal_structure(model: Model) -> Structure:
    """The named causal graph of ``model`` restricted to variables that change (stocks, flows and
    auxiliaries; constants, lookups and control variables are left out), and its builtins. Found once
    per compiled model in a process (analyses of many scenarios share it)."""
    key = (model.compiled.key, str(model.path))
    cached = _STRUCTURES.get(key)
    if cached is None:
        if len(_STRUCTURES) > 32:
            _STRUCTURES.clear()
        cached = _STRUCTURES[key] = _causal_structure(model)
    return cached


def _causal_structure(model: Model) -> Structure:
    variables = model.variables
    nodes = [n for n, v in variables.items() if v.kind in DYNAMIC_KINDS]
    dynamic = set(nodes)
    edges: dict[str, tuple[str, ...]] = {}
    for name in nodes:
        sources = sorted(d for d in model.dependencies.get(name, ()) if d in dynamic and d != name)
        edges[name] = tuple(sources)
    structure = Structure(model, nodes, edges)
    _find_builtins(structure)
    return structure


def _find_builtins(structure: Structure) -> None:
    """Match each SMOOTH/DELAY/TREND call (in model order) to its block of hidden state rows."""
    model = structure.model
    labels = model.compiled.layout.state_labels
    by_norm = {_norm(n): n for n in model.variables}
    free = {kind: [i for i, lab in enumerate(labels) if lab == label] for kind, label in _LABEL.items()}
    free["delay"] += [i for i, lab in enumerate(labels) if lab == "an internal state of DELAYN"]
    free["delay"].sort()
    taken = {kind: 0 for kind in free}
    calls: list[tuple[str, str, str, list[str], bool]] = []  # output, function, kind, args, whole equation
    for name, info in model.variables.items():
        equation = info.equation.strip()
        for match in _CALL.finditer(equation):
            args, end = _call_args(equation, match.end() - 1)
            whole = match.start() == 0 and end == len(equation)
            calls.append((name, match.group(1), _KIND[match.group(1)], args, whole))
    for name, function, kind, args, whole in calls:
        order = 1
        if kind in ("smooth", "delay"):
            try:
                order = int(round(float(args[3]))) if len(args) > 3 else 1
            except ValueError:  # SMOOTHN/DELAYN with a variable order: the rows left for it
                order = _rows_left(free, taken, kind, calls, name)
        size = int(np.prod(model.variables[name].shape or (1,)))  # an array's call has rows per element
        rows = free[kind][taken[kind] : taken[kind] + order * size]
        taken[kind] += order * size
        if len(rows) != order * size:
            structure.unmapped_builtins = True
            structure.builtins.clear()
            return
        single = sum(1 for call in calls if call[0] == name) == 1  # one call: its rows are the output's
        if size > 1 and not whole:
            continue  # an expression of an array's call: a black box (its rows' order is not known here)
        if (whole or single) and name in structure.edges:
            structure.builtins[name] = Builtin(
                name, kind, function, tuple(rows), _names_in(args[0], by_norm),
                _names_in(args[1], by_norm) if len(args) > 1 else (), whole,
            )  # fmt: skip
    if any(taken[k] != len(free[k]) for k in free):
        structure.unmapped_builtins = True
        structure.builtins.clear()


def _rows_left(free, taken, kind, calls, name) -> int:
    later = 0
    seen = False
    for other, _function, other_kind, args, _whole in calls:
        if other == name:
            seen = True
            continue
        if seen and other_kind == kind:
            try:
                later += int(round(float(args[3]))) if len(args) > 3 else 1
            except ValueError:
                return 1
    return len(free[kind]) - taken[kind] - later


def verify_builtins(structure: Structure, spec, states: np.ndarray) -> None:
    """Drop builtins whose hidden rows do not drive their output (a safety net for the row matching)."""
    if not structure.builtins:
        return
    from ..core.probe import Probe

    model = structure.model
    names = model.compiled.layout.value_names
    index = {n: i for i, n in enumerate(names)}
    items = list(structure.builtins.values())
    probe = Probe(spec, 2 * len(items))
    base = np.repeat(states[None, :], 2 * len(items), axis=0)
    for i, builtin in enumerate(items):
        base[2 * i + 1, builtin.rows[-1]] += 1e-3 * max(1.0, abs(base[2 * i + 1, builtin.rows[-1]]))
    V, _ = probe.evaluate(spec.time.initial_time, base)
    for i, builtin in enumerate(items):
        columns = [index[e] for e in elements_of(model, builtin.output, index)]
        if not columns or np.array_equal(V[2 * i, columns], V[2 * i + 1, columns]):
            del structure.builtins[builtin.output]
