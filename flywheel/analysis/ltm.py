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


def replayed_run_data(spec, changes) -> RunData:
    """``run_data`` for a run whose constants changed on the way (a played game): ``spec`` is the run at
    its start; ``changes`` lists ``(time, set, release)``: values held from that time on, and names
    that follow their own equations again. Replayed one time step at a time with the run's stepper."""
    from ..core import Stepper

    model = spec.model
    if model.layout.dynamic_time or not spec.method.fixed_step:
        raise ParameterError(f"{model.path.name}: loop scores need a fixed-step method and a constant TIME STEP")
    grid = spec.time.grid
    stepper = Stepper(spec)
    names = list(model.layout.value_names)
    values = np.empty((grid.n_steps + 1, len(names)))
    states = np.empty((grid.n_steps + 1, model.layout.n_states))
    pending = sorted(changes, key=lambda change: change[0])
    for k in range(grid.n_steps + 1):
        while pending and pending[0][0] <= grid.times[k] + 1e-9:
            _, held, released = pending.pop(0)
            if released:
                stepper.release(*released)
            if held:
                stepper.set(held)
        now = stepper.values(names)
        values[k] = [now[n] for n in names]
        states[k] = stepper.state_vector()
        if k < grid.n_steps:
            stepper.step()
    save_steps = np.flatnonzero(grid.schedule)
    prev_steps = np.maximum(save_steps - 1, 0)
    index = {n: i for i, n in enumerate(names)}
    return RunData(grid.times[save_steps], values[save_steps], values[prev_steps], states[save_steps],
                   states[prev_steps], index)  # fmt: skip


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


def _as_view(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` reshaped without a copy (the probe reads what is written through it)."""
    view = array.reshape(shape)
    if not np.shares_memory(view, array):
        raise AssertionError("probe inputs cannot be reshaped in place")
    return view


@dataclass(frozen=True)
class ProbeCall:
    """One evaluation of a run's save times: the terms whose targets are computed together (the named
    ones listed in ``computed``, which are then not held) and, per time, the members after the two
    reference members (every input current; every input previous): each the sources made current
    together (sources that no target of another source in the member reads)."""

    terms: tuple[Term, ...]
    computed: frozenset[str]
    members: tuple[tuple[Ref, ...], ...]

    @property
    def per_time(self) -> int:
        return 2 + len(self.members)


def plan_calls(structure: Structure, terms: list[Term], *, pack: bool = True) -> list[ProbeCall]:
    """Group ``terms`` into probe calls (a parameter slot is held for a whole call, so targets that read
    each other go to different calls) and pack each call's sources into as few members as their
    dependencies allow (``pack=False``: one member per source)."""
    derivative = [t for t in terms if t.target[0] == "D"]
    named = [t for t in terms if t.target[0] == "V"]
    groups: list[tuple[list[Term], frozenset[str]]] = [(derivative, frozenset())] if derivative else []
    targets = sorted({t.target[1] for t in named})
    for group in _aux_groups(structure, targets):
        members = set(group)
        groups.append(([t for t in named if t.target[1] in members], frozenset(members)))
    calls = []
    for group, computed in groups:
        sources = sorted({t.source for t in group}, key=str)
        members = _pack(structure, group, computed, sources) if pack else [[source] for source in sources]
        calls.append(ProbeCall(tuple(group), computed, tuple(tuple(m) for m in members)))
    return calls


def _pack(structure: Structure, terms: list[Term], computed: frozenset[str], sources: list[Ref]) -> list[list[Ref]]:
    """Greedy packing: a source joins the first member where no target of its terms reads another of
    the member's sources, and no target of theirs reads it."""
    reads = _Reads(structure, computed)
    feeds: dict[Ref, set[Ref] | None] = {}  # source -> everything its targets read (None: unknown)
    for term in terms:
        got = reads.of(term.target)
        known = feeds.setdefault(term.source, set())
        if got is None or known is None:
            feeds[term.source] = None
        else:
            known |= got
    members: list[list[Ref]] = []
    for source in sorted(sources, key=lambda s: (feeds[s] is None, str(s))):
        mine = feeds[source]
        for member in members:
            if mine is not None and all(
                (theirs := feeds[other]) is not None and other not in mine and source not in theirs for other in member
            ):
                member.append(source)
                break
        else:
            members.append([source])
    return members


class _Reads:
    """What a target's value reads in a member where the named ``computed`` are computed and every
    other auxiliary or constant is held: held names, stock and builtin states, through computed ones."""

    def __init__(self, structure: Structure, computed: frozenset[str]):
        self.structure = structure
        layout = structure.model.compiled.layout
        self.stock_row = layout.stock_index
        self.held = set(layout.param_slots) - computed
        self.dependencies = structure.model.dependencies
        self.row_owner = {r: b for b in structure.builtins.values() for r in b.rows}

    def _expand(self, name: str, seen: set[str]) -> set[Ref]:
        out: set[Ref] = {("V", name)}
        if name in self.stock_row:
            out.add(("Y", self.stock_row[name]))
            return out
        if name in self.held:
            return out
        builtin = self.structure.builtins.get(name)
        if builtin is not None:
            out |= {("Y", r) for r in builtin.rows}
        for dep in self.dependencies.get(name, ()):
            if dep not in seen:
                seen.add(dep)
                out |= self._expand(dep, seen)
        return out

    def _names(self, names) -> set[Ref]:
        out: set[Ref] = set()
        seen: set[str] = set(names)
        for name in names:
            out |= self._expand(name, seen)
        return out

    def of(self, target: Ref) -> set[Ref] | None:
        kind, what = target
        if kind == "V":
            builtin = self.structure.builtins.get(what)
            rows = {("Y", r) for r in builtin.rows} if builtin is not None else set()
            return self._names(self.dependencies.get(what, ())) | rows
        stock = next((n for n, r in self.stock_row.items() if r == what), None)
        if stock is not None:
            return self._names(self.dependencies.get(stock, ())) | {("Y", what)}
        builtin = self.row_owner.get(what)
        if builtin is None:
            return None
        return self._names(builtin.input_names + builtin.time_names) | {("Y", r) for r in builtin.rows}


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
        self.overridden = set(spec.params)

    def evaluate(
        self, terms: list[Term], calls: list[ProbeCall] | None = None
    ) -> dict[Term, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """For each term: (partial, current, previous value of the target, change of the source), each an
        array over the save times. ``calls``: the terms' ``plan_calls`` (planned here when not given)."""
        from ..core.probe import probe_for

        if calls is None:
            calls = plan_calls(self.structure, terms)
        most = max((call.per_time for call in calls), default=0) * len(self.data.times)
        out: dict[Term, tuple] = {}
        with probe_for(self.spec, max(most, 1)) as probe:
            for call in calls:
                out.update(self._call(probe, call))
        return out

    def _source_change(self, source: Ref) -> np.ndarray:
        d = self.data
        if source[0] == "Y":
            return d.cur_states[:, source[1]] - d.prev_states[:, source[1]]
        i = d.value_index[source[1]]
        return d.cur_values[:, i] - d.prev_values[:, i]

    def _call(self, probe, call: ProbeCall) -> dict[Term, tuple]:
        """One probe call: per save time (each member evaluated at that time), every input current (the
        targets' current values), every input previous (their previous values), then the members of
        ``call`` with their sources current (the partials of the targets those sources feed)."""
        d = self.data
        n_t = len(d.times)
        per_time = call.per_time
        held_names = [h for h in self.holdable if h not in call.computed]
        held_pos = {h: i for i, h in enumerate(held_names)}
        slots = probe.slots(held_names)
        cols = np.array([d.value_index[h] for h in held_names], dtype=np.int64)
        held_cur = d.cur_values[:, cols]  # (n_t, n_held)
        rows_prev = np.repeat(probe.param_values[None, :], n_t, axis=0)  # every parameter slot, per time
        rows_prev[:, slots] = d.prev_values[:, cols]
        rows_cur = rows_prev.copy()
        rows_cur[:, slots] = held_cur
        # a target the run itself held (a player's decision, an override) is an input, not an equation:
        # its partials are its own values, so links into it score 0
        exogenous = [n for n in sorted(call.computed) if n in self.overridden and n in d.value_index]
        if exogenous:
            own, own_cols = probe.slots(exogenous), [d.value_index[n] for n in exogenous]
            rows_prev[:, own] = d.prev_values[:, own_cols]
            rows_cur[:, own] = d.cur_values[:, own_cols]
        params, states, times = probe.inputs(n_t * per_time, whole_rows=True)
        P = _as_view(params, (n_t, per_time, -1))
        Y = _as_view(states, (n_t, per_time, -1))
        P[:] = rows_prev[:, None, :]
        Y[:] = d.prev_states[:, None, :]
        P[:, 0, :] = rows_cur
        Y[:, 0, :] = d.cur_states
        member_of: dict[Ref, int] = {}
        for m, sources in enumerate(call.members, start=2):
            for source in sources:
                kind, what = source
                member_of[source] = m
                if kind == "Y":
                    Y[:, m, what] = d.cur_states[:, what]
                elif what in held_pos:
                    P[:, m, slots[held_pos[what]]] = held_cur[:, held_pos[what]]
                else:
                    raise ParameterError(f"{self.model.path.name}: {what!r} cannot be held for a partial")
        _as_view(times, (n_t, per_time))[:] = d.times[:, None]
        values, derivatives = probe.compute(n_t * per_time, slots)
        V = values.reshape(n_t, per_time, -1)
        D = derivatives.reshape(n_t, per_time, -1)

        def pick(target: Ref, m: int) -> np.ndarray:
            kind, what = target
            return (V[:, m, self.value_pos[what]] if kind == "V" else D[:, m, what]).copy()

        return {
            term: (pick(term.target, member_of[term.source]), pick(term.target, 0), pick(term.target, 1),
                   self._source_change(term.source))
            for term in call.terms
        }  # fmt: skip


def link_score(partial: np.ndarray, cur: np.ndarray, prev: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """The LTM link score from a partial value, the target's current and previous values and Δx (arrays
    over the save times, last axis)."""
    dz = cur - prev
    dxz = partial - prev
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.abs(dxz / dz) * np.sign(dxz / dx)
    score[(dz == 0) | (dx == 0) | ~np.isfinite(score)] = 0.0
    if score.shape[-1]:
        score[..., 0] = 0.0  # no previous step at the initial time
    return score
