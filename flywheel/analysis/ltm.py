"""Link scores of Loops That Matter (Schoenberg, Davidsen & Eberlein 2020, SDR 36(2); flow-to-stock links
as corrected by Schoenberg, Hayward & Eberlein 2023, SDR 39(2)), evaluated with the compiled model.

For a link x -> z at a save time t (one time step ``dt`` back is t - dt):

    LS(x -> z) = |Δ_x z / Δz| * sign(Δ_x z / Δx),   0 when Δz = 0 or Δx = 0,

with Δz = z(t) - z(t - dt) and Δ_x z = z(x at t, every other input at t - dt) - z(t - dt). The partial
value is the model's own equation for z, evaluated by ``flywheel.core.probe.Probe`` with the inputs held
at those values. A stock's "equation" is its net flow (its derivative), so a link into a stock scores
|Δ_x net / Δnet| with the sign of the flow (inflow +, outflow -): the 2023 flow-to-stock score, which
does not depend on how the flows are split. SMOOTH/DELAY chains are scored as the stocks they are:
the composite score of input -> output is the product of the link scores along the chain (input ->
stage 1 -> ... -> last stage -> output); TREND takes the stronger of its two pathways.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .structure import Structure

# a source or target: ("V", name) a named value; ("D", row) the derivative of state row; ("Y", row) a state
Ref = tuple[str, object]


@dataclass(frozen=True)
class Term:
    """One partial to evaluate: ``target`` with ``source`` at its current value, the rest one step back."""

    target: Ref
    source: Ref


@dataclass
class RunData:
    """What link scores need from one run: named values and full states at each save time and one
    time step before it."""

    times: np.ndarray  # save times
    cur_values: np.ndarray  # (n_times, n_values) at t
    prev_values: np.ndarray  # (n_times, n_values) at t - dt (the first row repeats t0)
    cur_states: np.ndarray  # (n_times, n_states)
    prev_states: np.ndarray
    value_index: dict[str, int]


def run_data(spec) -> RunData:
    """One run at the spec's settings: values and states at the save times and one step before each."""
    from ..core import simulate
    from ..core.probe import states_at

    model = spec.model
    if model.layout.dynamic_time or not spec.method.fixed_step:
        raise ParameterError(f"{model.path.name}: loop scores need a fixed-step method and a constant TIME STEP")
    grid = spec.time.grid
    save_steps = np.flatnonzero(grid.schedule)
    every = spec.replace(saveper=spec.time.time_step) if spec.time.saveper != spec.time.time_step else spec
    result = simulate(every)
    values = result.values[:, 0, :].T  # (steps, n_values)
    names = list(result.names)
    index = {n: i for i, n in enumerate(names)}
    prev_steps = np.maximum(save_steps - 1, 0)
    n_states = model.layout.n_states
    named_rows = model.layout.stock_index
    if n_states and len(named_rows) < n_states:
        steps = sorted(set(save_steps.tolist()) | set(prev_steps.tolist()))
        states = states_at(spec, steps)
        row_of = {s: i for i, s in enumerate(steps)}
        cur_states = states[[row_of[s] for s in save_steps]]
        prev_states = states[[row_of[s] for s in prev_steps]]
    else:  # every state is a named stock: read them from the values
        cur_states = np.zeros((len(save_steps), n_states))
        prev_states = np.zeros((len(save_steps), n_states))
        for name, row in named_rows.items():
            cur_states[:, row] = values[save_steps, index[name]]
            prev_states[:, row] = values[prev_steps, index[name]]
    return RunData(grid.times[save_steps], values[save_steps], values[prev_steps], cur_states, prev_states, index)


def _aux_groups(structure: Structure, targets: list[str]) -> list[list[str]]:
    """Split auxiliary targets into groups with no link between two members of a group (greedy
    colouring), so that every input of a target can be held while the target itself is computed."""
    neighbours = {t: set() for t in targets}
    wanted = set(targets)
    for t in targets:
        for s in structure.edges.get(t, ()):
            if s in wanted:
                neighbours[t].add(s)
                neighbours[s].add(t)
    colour: dict[str, int] = {}
    for t in sorted(targets, key=lambda n: -len(neighbours[n])):
        used = {colour[n] for n in neighbours[t] if n in colour}
        colour[t] = next(c for c in range(len(targets) + 1) if c not in used)
    groups: dict[int, list[str]] = {}
    for t in targets:
        groups.setdefault(colour[t], []).append(t)
    return [groups[c] for c in sorted(groups)]


class PartialEvaluator:
    """Evaluates terms for every save time of a run: partial, current and previous value of each target."""

    def __init__(self, structure: Structure, spec, data: RunData):
        self.structure = structure
        self.spec = spec
        self.data = data
        self.model = spec.model
        layout = self.model.layout
        self.holdable = [n for n in layout.param_slots if n in data.value_index]
        self.value_pos = {n: i for i, n in enumerate(layout.value_names)}
        self.stock_row = dict(layout.stock_index)

    def evaluate(self, terms: list[Term]) -> dict[Term, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """For each term: (partial, current, previous value of the target, change of the source), each an
        array over the save times."""
        out: dict[Term, tuple] = {}
        derivative = [t for t in terms if t.target[0] == "D"]
        named = [t for t in terms if t.target[0] == "V"]
        if derivative:
            out.update(self._group(derivative, frozenset()))
        targets = sorted({t.target[1] for t in named})
        for group in _aux_groups(self.structure, targets):
            members = set(group)
            out.update(self._group([t for t in named if t.target[1] in members], frozenset(members)))
        return out

    def _source_change(self, source: Ref) -> np.ndarray:
        d = self.data
        if source[0] == "Y":
            return d.cur_states[:, source[1]] - d.prev_states[:, source[1]]
        i = d.value_index[source[1]]
        return d.cur_values[:, i] - d.prev_values[:, i]

    def _group(self, terms: list[Term], computed: frozenset[str]) -> dict[Term, tuple]:
        d = self.data
        n_t = len(d.times)
        targets = sorted({t.target for t in terms}, key=str)
        # members, per time: each term's partial, then each target's current and previous value
        per_time = len(terms) + 2 * len(targets)
        n = per_time * n_t
        held_names = [h for h in self.holdable if h not in computed]
        cols = np.array([d.value_index[h] for h in held_names], dtype=np.int64)
        held_prev = d.prev_values[:, cols]  # (n_t, n_held)
        held_cur = d.cur_values[:, cols]
        held = np.repeat(held_prev[:, None, :], per_time, axis=1)  # (n_t, per_time, n_held)
        states = np.repeat(d.prev_states[:, None, :], per_time, axis=1)
        held_pos = {h: i for i, h in enumerate(held_names)}
        for m, term in enumerate(terms):
            kind, what = term.source
            if kind == "Y":
                states[:, m, what] = d.cur_states[:, what]
            else:
                if what not in held_pos:
                    raise ParameterError(f"{self.model.path.name}: {what!r} cannot be held for a partial")
                held[:, m, held_pos[what]] = held_cur[:, held_pos[what]]
        first_cur = len(terms)
        for j in range(len(targets)):
            held[:, first_cur + 2 * j, :] = held_cur
            states[:, first_cur + 2 * j, :] = d.cur_states
        check = {t[1]: first_cur + 2 * j for j, t in enumerate(targets) if t[0] == "V"}
        V, D = self._evaluate_at_times(held.reshape(n, -1), states.reshape(n, -1), held_names, check, n_t, per_time)
        V = V.reshape(n_t, per_time, -1)
        D = D.reshape(n_t, per_time, -1)

        def pick(target: Ref, m: int) -> np.ndarray:
            kind, what = target
            return V[:, m, self.value_pos[what]] if kind == "V" else D[:, m, what]

        result = {}
        where = {target: j for j, target in enumerate(targets)}
        for m, term in enumerate(terms):
            j = where[term.target]
            cur = pick(term.target, first_cur + 2 * j)
            prev = pick(term.target, first_cur + 2 * j + 1)
            result[term] = (pick(term.target, m), cur, prev, self._source_change(term.source))
        return result

    def _evaluate_at_times(self, held, states, held_names, check, n_t, per_time):
        """Evaluate every member at the initial time; targets whose current value then differs from the
        run's (equations that read Time) are evaluated again one save time at a time."""
        from ..core.probe import Probe

        d = self.data
        probe = Probe(self.spec, held.shape[0])
        columns = {h: held[:, i] for i, h in enumerate(held_names)}
        V, D = probe.evaluate(self.spec.time.initial_time, states, columns)
        # check: the "all current" member of each computed named target must give the run's value
        Vr = V.reshape(n_t, per_time, -1)
        stale = [
            name for name, m in check.items()
            if not np.allclose(Vr[:, m, self.value_pos[name]], d.cur_values[:, d.value_index[name]], rtol=1e-9,
                               atol=1e-12, equal_nan=True)
        ]  # fmt: skip
        if stale:
            probe = Probe(self.spec, per_time)
            V = V.copy()
            for k, time in enumerate(d.times):
                rows = slice(k * per_time, (k + 1) * per_time)
                Vk, Dk = probe.evaluate(time, states[rows], {h: held[rows, i] for i, h in enumerate(held_names)})
                V[rows] = Vk
                D[rows] = Dk
        return V, D


def link_score(partial: np.ndarray, cur: np.ndarray, prev: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """The LTM link score from a partial value, the target's current and previous values and Δx."""
    dz = cur - prev
    dxz = partial - prev
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.abs(dxz / dz) * np.sign(dxz / dx)
    score[(dz == 0) | (dx == 0) | ~np.isfinite(score)] = 0.0
    if len(score):
        score[0] = 0.0  # no previous step at the initial time
    return score
