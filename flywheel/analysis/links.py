"""Link polarity from the equations: the sign of each causal link's partial derivative, checked
numerically along a run and at sampled points of the documented ranges.

Each link x -> z is differentiated by central differences of z's own compiled equation (every other
input held, ``flywheel.core.probe.Probe``); a link into a stock differentiates the stock's net flow, so
an inflow is + and an outflow - (the stock-and-flow convention). SMOOTH, DELAY and TREND count as one
link from their input to their output with the builtin's polarity (+). A link whose sign is not the
same at every point is marked ``±`` and the ``where`` column says where each sign was found.

A subscripted variable is one node (as on a Vensim diagram): a link from an array moves every element of
the source together and reads every element of the target, so its polarity is ``±`` when elements
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .structure import Structure, causal_structure, elements_of

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model

RUN_POINTS = 16  # times along the run
SAMPLES = 6  # parameter sets drawn from the documented ranges
SAMPLE_POINTS = 4  # times along each sampled run
_REL_H = 1e-6


def spec_for(model: Model, scenario: Any = None, method: str = "euler"):
    """The run specification of a scenario (a ``Scenario``, a scenario file path, a RunSpec, a parameter
    dict) or of the model's defaults, with ``method``."""
    from ..core import RunSpec

    if model.compiled.layout.dynamic_time:
        raise ModelError(f"{model.path.name}: TIME STEP or SAVEPER change during the run; link and loop scores "
                         "need them constant")
    if scenario is None:
        spec = model.spec(method=method)
    elif isinstance(scenario, RunSpec):
        spec = scenario
    elif isinstance(scenario, dict):
        spec = model.spec(scenario, method=method)
    else:
        if not hasattr(scenario, "spec"):
            from ..scenarios import load_scenario

            scenario = load_scenario(scenario, model)
        spec = scenario.spec(model)
    if spec.method.name != method:
        spec = spec.replace(method=method)
    return spec


def _points(model: Model, structure: Structure, spec, samples: int, seed: int):
    """Evaluation points: (time, named values, states, label) along the run and at sampled inputs."""
    from ..core import simulate
    from ..core.probe import states_at
    from .ranges import load_ranges

    grid = spec.time.grid
    steps = np.unique(np.linspace(0, grid.n_steps, RUN_POINTS).round().astype(int))
    every = spec.replace(saveper=spec.time.time_step) if spec.time.saveper != spec.time.time_step else spec
    result = simulate(every)
    names = list(result.names)
    values = result.values[:, 0, steps].T
    states = states_at(spec, list(steps)) if model.compiled.layout.n_states else np.zeros((len(steps), 0))
    points = [(float(grid.times[k]), values[i], states[i], "run") for i, k in enumerate(steps)]
    if samples:
        try:
            ranges = load_ranges(None, model)
        except Exception:  # no documented ranges: the run alone
            ranges = None
        draw = {}
        if ranges is not None and len(ranges):
            layout = model.compiled.layout  # arrays' documented ranges are left out: scalars vary
            draw = {c: v for c, v in ranges.sample(samples, seed).items()
                    if c in layout.param_slots or c in layout.stock_init_slots}  # fmt: skip
        if draw:
            saves = np.flatnonzero(grid.schedule)
            sample_steps = np.unique(saves[np.linspace(1, len(saves) - 1, SAMPLE_POINTS).round().astype(int)])
            times = [float(grid.times[k]) for k in sample_steps]
            sample_states = states_at(spec, list(sample_steps)) if model.compiled.layout.n_states else None
            sampled = simulate(spec, members=draw, columns=names, times=times, lockstep=False)
            stock_row = model.compiled.layout.stock_index
            for m in range(samples):
                if bool(sampled.diverged[m]):
                    continue
                for j, _k in enumerate(sample_steps):
                    vals = sampled.values[:, m, j]
                    st = sample_states[j].copy() if sample_states is not None else np.zeros(0)
                    for stock, row in stock_row.items():
                        st[row] = vals[names.index(stock)]
                    points.append((times[j], vals, st, "sampled"))
    return names, points


def links(model: Model, scenario: Any = None, *, samples: int = SAMPLES, seed: int = 0) -> pd.DataFrame:
    """Every causal link between named variables that change, with its polarity ("+", "-" or "±")
    found numerically (see the module docstring). Columns: source, target, polarity, via ("flow" into a
    stock, "smooth"/"delay"/"trend" through a builtin, else ""), where (for ±: where each sign holds),
    points (the number of points where the derivative was not zero)."""

    structure = causal_structure(model)
    return link_table(structure, spec_for(model, scenario), samples=samples, seed=seed)


@dataclass(frozen=True)
class _Slots:
    """Where a link's source and target live in a probe's inputs and outputs: a builtin chain's last
    stage, stock rows, or held values; an array as all its elements."""

    structure: Structure
    pos: dict[str, int]  # held values: column in the run's named values
    vpos: dict[str, int]  # the probe's values V
    stock_row: dict[str, int]  # states and derivatives D
    elements: dict[str, list[str]]
    through_state: dict[tuple[str, str], int]

    def sources(self, s: str, t: str) -> list[tuple[bool, Any]]:
        """(is a state, its row) or (not a state, its held name) for every input the link moves."""
        through = self.through_state.get((s, t))
        if through is not None:
            return [(True, through)]
        return [(True, self.stock_row[e]) if e in self.stock_row else (False, e) for e in self.elements[s]]

    def value(self, source: tuple[bool, Any], vals: np.ndarray, st: np.ndarray) -> float:
        is_state, where = source
        return st[where] if is_state else vals[self.pos[where]]

    def response(self, t: str, V: np.ndarray, D: np.ndarray) -> np.ndarray:
        """The target's columns for every probe member: its net flows for a stock, else its values."""
        if self.structure.kind(t) == "stock":
            return D[:, [self.stock_row[e] for e in self.elements[t]]]
        return V[:, [self.vpos[e] for e in self.elements[t]]]


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where ``b`` differs from ``a`` beyond rounding (and both are finite)."""
    change = b - a
    return np.isfinite(change) & (np.abs(change) > 1e-9 * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300))


def link_table(structure: Structure, spec, *, samples: int = SAMPLES, seed: int = 0) -> pd.DataFrame:
    import pandas as pd

    from ..core.probe import Probe
    from .ltm import _aux_groups

    model = structure.model
    names, points = _points(model, structure, spec, samples, seed)
    pos = {n: i for i, n in enumerate(names)}
    vpos = {n: i for i, n in enumerate(model.compiled.layout.value_names)}
    stock_row = model.compiled.layout.stock_index
    holdable = [n for n in model.compiled.layout.param_slots if n in pos]
    elements = {n: elements_of(model, n, vpos) for n in structure.nodes}
    rows: list[dict] = []
    pairs = [(s, t) for t, sources in structure.edges.items() for s in sources]
    fixed = {}  # builtin links: the builtin's polarity
    numeric = []
    through_state: dict[tuple[str, str], int] = {}  # input -> variable with a builtin inside: its last stage
    for s, t in pairs:
        builtin = structure.builtins.get(t)
        if builtin is not None and s in builtin.input_names:
            if builtin.whole:
                fixed[(s, t)] = ("+", "")
            else:  # the builtin is +; the rest of the equation decides: the variable's response to the chain
                through_state[(s, t)] = builtin.rows[-1]
                numeric.append((s, t))
        elif builtin is not None and (builtin.whole or s in builtin.time_names):
            fixed[(s, t)] = ("±", f"the {builtin.kind} time: the sign follows whether the input is above the output")
        else:
            numeric.append((s, t))
    slots = _Slots(structure, pos, vpos, stock_row, elements, through_state)
    signs: dict[tuple[str, str], list[tuple[float, str, int]]] = {p: [] for p in numeric}
    stocks_targets = [p for p in numeric if structure.kind(p[1]) == "stock"]
    aux_targets = sorted({t for _, t in numeric if structure.kind(t) != "stock"})
    groups = [(stocks_targets, frozenset())] if stocks_targets else []
    for group in _aux_groups(structure, aux_targets):
        members = set(group)
        groups.append(([p for p in numeric if p[1] in members], frozenset(members)))
    for group_pairs, computed in groups:
        if not group_pairs:
            continue
        computed_columns = {e for name in computed for e in elements[name]}
        held_names = [h for h in holdable if h not in computed_columns]
        n = 2 * len(group_pairs)
        probe = Probe(spec, n)
        hpos = {h: k for k, h in enumerate(held_names)}
        for time, vals, st, label in points:
            held = np.repeat(vals[[pos[h] for h in held_names]][None, :], n, axis=0)
            states = np.repeat(st[None, :], n, axis=0)
            for m, (s, t) in enumerate(group_pairs):
                for source in slots.sources(s, t):  # an array moves as a whole
                    x = slots.value(source, vals, st)
                    h = _REL_H * max(1.0, abs(x))
                    is_state, where = source
                    target, column = (states, where) if is_state else (held, hpos[where])
                    target[2 * m, column] = x + h
                    target[2 * m + 1, column] = x - h
            V, D = probe.evaluate(time, states, {h: held[:, k] for k, h in enumerate(held_names)})
            for m, (s, t) in enumerate(group_pairs):
                response = slots.response(t, V[2 * m : 2 * m + 2], D[2 * m : 2 * m + 2])
                down, up = response[1], response[0]
                change = up - down
                for sign in sorted({1 if c > 0 else -1 for c in change[_changed(down, up)]}):
                    signs[(s, t)].append((time, label, sign))
    dormant = [pair for pair in numeric if not signs[pair]]
    wide = _dormant_signs(slots, spec, dormant, points, holdable) if dormant else {}
    for s, t in pairs:
        if (s, t) in fixed:
            polarity, where = fixed[(s, t)]
            count = len(points)
        else:
            found = signs[(s, t)]
            polarity, where = _polarity(found, len(points))
            count = len(found)
            if not found and wide.get((s, t)):
                polarity, _ = _polarity(wide[(s, t)], len(points))
                where = (f"no effect near the run's values (the link binds only further away, e.g. a MIN or MAX "
                         f"that does not bind); {polarity} when {s} moves far from them")
        rows.append({"source": s, "target": t, "polarity": polarity, "via": structure.via(s, t), "where": where,
                     "points": count})  # fmt: skip
    return pd.DataFrame(rows, columns=["source", "target", "polarity", "via", "where", "points"])


WIDE_FACTORS = (0.01, 0.1, 0.5, 2.0, 10.0, 100.0)  # how far a dormant link's source is moved


def _dormant_signs(slots: _Slots, spec, pairs, points, holdable):
    """Signs of links with no effect near the run: the source moved far (``WIDE_FACTORS``), at the run's
    points, the target computed from it with every other input held (an array's elements move together,
    each by the same factor)."""
    from ..core.probe import Probe

    members = 1 + len(WIDE_FACTORS)
    probe = Probe(spec, members)
    found: dict[tuple[str, str], list[tuple[float, str, int]]] = {pair: [] for pair in pairs}
    for s, t in pairs:
        targets = set(slots.elements[t])
        held_names = [h for h in holdable if h not in targets]
        hpos = {h: k for k, h in enumerate(held_names)}
        sources = slots.sources(s, t)
        for time, vals, st, label in points:
            if label != "run":
                continue
            held = np.repeat(vals[[slots.pos[h] for h in held_names]][None, :], members, axis=0)
            states = np.repeat(st[None, :], members, axis=0)
            direction = 0.0
            for source in sources:
                x = slots.value(source, vals, st)
                is_state, where = source
                target, column = (states, where) if is_state else (held, hpos[where])
                for m, f in enumerate(WIDE_FACTORS, start=1):
                    target[m, column] = x * f if x != 0 else (f - 1.0)
                direction = direction or (1.0 if x >= 0 else -1.0)
            V, D = probe.evaluate(time, states, {h: held[:, k] for k, h in enumerate(held_names)})
            z = slots.response(t, V, D)
            for m, f in enumerate(WIDE_FACTORS, start=1):
                up = (f - 1.0) * direction  # the sign of the source's move (x*f - x, or f - 1 from 0)
                for c in (z[m] - z[0])[_changed(z[0], z[m])]:
                    found[(s, t)].append((time, label, 1 if c * up > 0 else -1))
    return found


def _polarity(found: list[tuple[float, str, int]], total: int) -> tuple[str, str]:
    plus = [f for f in found if f[2] > 0]
    minus = [f for f in found if f[2] < 0]
    if plus and not minus:
        return "+", ""
    if minus and not plus:
        return "-", ""
    if not found:
        return "?", f"no effect found at any of {total} points"
    return "±", f"+ {_where(plus)}; - {_where(minus)}"


def _where(found: list[tuple[float, str, int]]) -> str:
    parts = []
    run = sorted(f[0] for f in found if f[1] == "run")
    if run:
        parts.append(f"along the run at t {run[0]:g}-{run[-1]:g} ({len(run)} points)")
    sampled = [f for f in found if f[1] == "sampled"]
    if sampled:
        parts.append(f"at {len(sampled)} sampled points")
    return ", ".join(parts)
