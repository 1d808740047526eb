"""Loop dominance through time by Loops That Matter: link scores, loop scores, relative loop scores and
the dominant loops at every save time of a run.

A loop's score is the product of its link scores (``flywheel.analysis.ltm``); its relative score is its
share of the sum of the absolute scores of the loops in its cycle partition (the loops that share
stocks through feedback; one partition in a connected model), in [-1, 1]: positive reinforcing,
negative balancing. At each time the dominant loop is the one with the largest absolute relative
score, and the dominant set the fewest strongest loops that together explain at least half.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .game import Game
from .loops import MAX_LOOPS, link_polarities, load_loop_names, loop_file, loop_table
from .ltm import PartialEvaluator, ProbeCall, Term, link_score, plan_calls, replayed_run_data, run_data
from .structure import Structure, causal_structure, verify_builtins

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from ..core import Model

DOMINANT_SHARE = 0.5


def _ref(structure: Structure, name: str) -> tuple[str, object]:
    rows = structure.model.compiled.layout.stock_index
    return ("Y", rows[name]) if name in rows else ("V", name)


def _edge_terms(structure: Structure, source: str, target: str) -> list[list[Term]]:
    """The terms whose link scores multiply to the score of source -> target, one list per pathway."""
    builtin = structure.builtins.get(target)
    src = _ref(structure, source)
    if structure.kind(target) == "stock":
        return [[Term(("D", structure.model.compiled.layout.stock_index[target]), src)]]
    if builtin is None or source not in builtin.input_names:
        return [[Term(("V", target), src)]]
    rows = builtin.rows
    if builtin.kind == "trend":
        return [[Term(("V", target), src)], [Term(("D", rows[0]), src), Term(("V", target), ("Y", rows[0]))]]
    chain = [Term(("D", rows[0]), src)]
    chain += [Term(("D", rows[k]), ("Y", rows[k - 1])) for k in range(1, len(rows))]
    chain.append(Term(("V", target), ("Y", rows[-1])))
    return [chain]


@dataclass
class _Plan:
    """What loop dominance needs from a model's structure alone, found once per model and loop file: the
    loop table, the links of its loops, the terms whose scores multiply into each link, partitions."""

    structure: Structure
    table: pd.DataFrame
    edges: list[tuple[str, str]]
    pathways: dict[tuple[str, str], list[list[Term]]]
    terms: list[Term]
    path_terms: np.ndarray  # (pathways, longest): the index of each pathway's terms in ``terms``, -1 after the end
    edge_paths: list[list[int]]  # the pathways of each link (rows of ``path_terms``)
    loop_edges: np.ndarray  # (loops, longest loop): the index of each loop's links in ``edges``, -1 after the end
    partition: list[int]
    coords: dict[str, Any]  # the Dataset's loop and link coordinates
    calls: list[ProbeCall]  # how the terms' partial values are evaluated


_PLANS: dict[tuple, _Plan] = {}
_PACK = True  # pack sources into shared probe members (tests compare with one member per source)


def _plan(model: Model, names: Any, limit: int) -> _Plan:
    names_file = loop_file(model) if names is None else Path(names)
    stamp = names_file.stat().st_mtime_ns if names_file.is_file() else None
    key = (model.compiled.key, str(model.path), str(names_file), stamp, limit)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    structure = causal_structure(model)
    arrays = sorted(n for part in structure.components if len(part) > 1 for n in part if model.variables[n].dims)
    if arrays:  # variables on feedback loops that are subscripted
        shown = ", ".join(arrays[:3]) + (f" and {len(arrays) - 3} more" if len(arrays) > 3 else "")
        raise ModelError(f"{model.path.name}: loop dominance works on variables without subscripts, and "
                         f"{shown} {'is' if len(arrays) == 1 else 'are'} subscripted (links, loops and diagrams "
                         "work on subscripted models)")  # fmt: skip
    if structure.builtins:  # a safety net for the matching of hidden rows to builtins, once per model
        default = model.spec()
        if not default.model.layout.dynamic_time and default.method.fixed_step:
            from ..core.probe import states_at

            verify_builtins(structure, default, states_at(default, [0])[0])
    # loop ids and polarities are the model's (its default run and documented ranges), the same in every
    # scenario, so that two scenarios' figures name the same loops alike
    polarity = link_polarities(model, structure, None)
    table = loop_table(structure, polarity, load_loop_names(model, names), limit)
    if table.empty:
        raise ModelError(f"{model.path.name}: the model has no feedback loops, so there is no loop dominance")
    loops = [list(zip(v, v[1:] + v[:1], strict=True)) for v in table["variables"]]
    edges = sorted({edge for loop in loops for edge in loop})
    pathways = {edge: _edge_terms(structure, *edge) for edge in edges}
    terms = sorted({term for paths in pathways.values() for path in paths for term in path}, key=str)
    term_index = {term: i for i, term in enumerate(terms)}
    paths = [path for edge in edges for path in pathways[edge]]
    path_terms = np.full((len(paths), max(len(path) for path in paths)), -1, dtype=np.int64)
    for k, path in enumerate(paths):
        path_terms[k, : len(path)] = [term_index[term] for term in path]
    edge_paths, k = [], 0
    for edge in edges:
        edge_paths.append(list(range(k, k + len(pathways[edge]))))
        k += len(pathways[edge])
    index = {edge: i for i, edge in enumerate(edges)}
    loop_edges = np.full((len(loops), max(len(loop) for loop in loops)), -1, dtype=np.int64)
    for j, loop in enumerate(loops):
        loop_edges[j, : len(loop)] = [index[edge] for edge in loop]
    partition = _partitions(structure, table)
    coords = {
        "loop": list(table["id"]),
        "link": [f"{s} -> {t}" for s, t in edges],
        "name": ("loop", list(table["name"])),
        "polarity": ("loop", list(table["polarity"])),
        "length": ("loop", list(table["length"])),
        "variables": ("loop", [" -> ".join(v) for v in table["variables"]]),
        "stocks": ("loop", [", ".join(v) for v in table["stocks"]]),
        "partition": ("loop", partition),
    }
    plan = _Plan(structure, table, edges, pathways, terms, path_terms, edge_paths, loop_edges, partition, coords,
                 plan_calls(structure, terms, pack=_PACK))
    if len(_PLANS) > 32:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def loop_dominance(
    model: Model, scenario: Any = None, method: str = "euler", *, limit: int = MAX_LOOPS, names: Any = None
) -> xr.Dataset:
    """Loops That Matter along one run of ``model`` (the scenario's, the defaults, or a played ``Game``'s,
    where the decisions the player held are inputs: links into them score 0 while held).

    Returns an ``xarray.Dataset`` with dimensions ``time``, ``loop`` and ``link``: ``link_score`` (link,
    time), ``loop_score`` and ``relative_score`` (loop, time), ``dominant`` (time: the id of the loop
    with the largest absolute relative score, "" when no loop is active) and ``dominant_loops`` (time:
    the fewest strongest loops explaining at least half, comma-separated). Loop coordinates: ``name``,
    ``polarity``, ``length``, ``variables`` (" -> "-joined), ``stocks`` (", "-joined), ``partition``.
    Loop ids and polarities are the model's (as ``loops(model)``), the same for every scenario. Raises
    ``ModelError`` for a model without feedback loops, and for one whose loops pass through subscripted
    variables (Loops That Matter scores loops element by element; not yet done here)."""
    import xarray as xr

    from .links import spec_for

    plan = _plan(model, names, limit)
    structure = plan.structure
    if isinstance(scenario, Game):
        spec, data, values = _game_partials(plan, scenario, method)
    else:
        spec = spec_for(model, scenario, method)
        data = run_data(spec)
        values = PartialEvaluator(structure, spec, data).evaluate(plan.terms, plan.calls)
    n_t = len(data.times)
    term_scores = np.ones((len(plan.terms) + 1, n_t))  # the last row (index -1) pads short pathways
    term_scores[:-1] = link_score(*(np.array([values[t][k] for t in plan.terms]) for k in range(4)))
    path_scores = term_scores[plan.path_terms].prod(axis=1)
    link_scores = np.ones((len(plan.edges) + 1, n_t))  # the last row pads short loops
    for i, paths in enumerate(plan.edge_paths):
        best = path_scores[paths[0]]
        for other in path_scores[paths[1:]]:  # TREND: the stronger of its pathways
            best = np.where(np.abs(other) > np.abs(best), other, best)
        link_scores[i] = best
    loop_scores = link_scores[plan.loop_edges].prod(axis=1)
    relative = _relative(loop_scores, plan.partition)
    dominant, dominant_sets = _dominance(relative, plan.coords["loop"])
    ds = xr.Dataset(
        {
            "link_score": (("link", "time"), link_scores[:-1]),
            "loop_score": (("loop", "time"), loop_scores),
            "relative_score": (("loop", "time"), relative),
            "dominant": (("time",), np.array(dominant, dtype=object)),
            "dominant_loops": (("time",), np.array(dominant_sets, dtype=object)),
        },
        coords={"time": data.times, **plan.coords},
        attrs={"model": model.name, "method": spec.method.name, "time_step": spec.time.time_step,
               "description": "Loops That Matter (Schoenberg, Davidsen & Eberlein 2020; flow-to-stock scores "
               "as in Schoenberg, Hayward & Eberlein 2023)"},
    )  # fmt: skip
    return ds


def _game_partials(plan: _Plan, game: Game, method: str):
    """A played game's run and partial values. While the player holds a decision it is an input (links
    into it score 0); while the model's own equation sets it, it is scored as usual: save times are
    evaluated in groups by the decisions held at each."""
    spec = game.start if game.start.method.name == method else game.start.replace(method=method)
    changes = game.changes
    data = replayed_run_data(spec, changes)
    held_at: list[frozenset[str]] = []
    for t in data.times:
        held: set[str] = set()
        for when, chosen, released in changes:
            if when <= t + 1e-9:
                held -= set(released)
                held |= set(chosen)
        held_at.append(frozenset(held))
    values: dict[Term, list[np.ndarray]] = {}
    for held in dict.fromkeys(held_at):
        rows = np.array([k for k, h in enumerate(held_at) if h == held])
        part = replace(data, times=data.times[rows], cur_values=data.cur_values[rows], prev_values=data.prev_values[rows],
                       cur_states=data.cur_states[rows], prev_states=data.prev_states[rows])  # fmt: skip
        exogenous = spec.replace(params={n: data.cur_values[rows[0], data.value_index[n]] for n in held}) if held else spec
        for term, arrays in PartialEvaluator(plan.structure, exogenous, part).evaluate(plan.terms, plan.calls).items():
            full = values.setdefault(term, [np.empty(len(data.times)) for _ in arrays])
            for target, array in zip(full, arrays, strict=True):
                target[rows] = array
    return spec, data, {term: tuple(arrays) for term, arrays in values.items()}


def _partitions(structure: Structure, table) -> list[int]:
    """Each loop's cycle partition: the strongly connected component of the causal graph it lies in."""
    component = {}
    for k, nodes in enumerate(structure.components):
        for node in nodes:
            component[node] = k
    ids = {}
    return [ids.setdefault(component[v[0]], len(ids)) for v in table["variables"]]


def _relative(scores: np.ndarray, partition: list[int]) -> np.ndarray:
    relative = np.zeros_like(scores)
    part = np.array(partition)
    for p in np.unique(part):
        rows = part == p
        total = np.abs(scores[rows]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative[rows] = np.where(total > 0, scores[rows] / total, 0.0)
    return relative


def _dominance(relative: np.ndarray, ids: list[str]) -> tuple[list[str], list[str]]:
    share = np.abs(relative)
    order = np.argsort(-share, axis=0, kind="stable")  # (loops, time), strongest first
    ranked = np.take_along_axis(share, order, axis=0)
    total = share.sum(axis=0)
    # the fewest strongest loops whose shares add up to half the total
    count = (np.cumsum(ranked, axis=0) < DOMINANT_SHARE * total - 1e-12).sum(axis=0) + 1
    dominant, sets = [], []
    for k in range(share.shape[1]):
        if total[k] == 0:
            dominant.append("")
            sets.append("")
        else:
            dominant.append(ids[order[0, k]])
            sets.append(",".join(ids[i] for i in order[: count[k], k]))
    return dominant, sets


@dataclass(frozen=True)
class Period:
    """A stretch of a run with one dominant loop: ``loop`` (id), its ``label`` for people and its mean
    ``share`` of the total absolute loop score over the stretch, with the runner-up."""

    start: float
    end: float
    loop: str
    label: str
    share: float
    runner_up: str = ""
    runner_up_share: float = 0.0


def loop_label(ds: xr.Dataset, loop: str, stocks: int = 3) -> str:
    """A loop for people: "R1 Evil flywheel ..." when named, else its id with the stocks it passes through."""
    row = ds.sel(loop=loop)
    name = str(row["name"].values)
    if name:
        return f"{loop} {name}"
    through = [s for s in str(row["stocks"].values).split(", ") if s] if "stocks" in row.coords else []
    length = int(row["length"].values)
    if not through:
        return f"{loop} ({length} links)"
    shown = ", ".join(through[:stocks]) + (", ..." if len(through) > stocks else "")
    return f"{loop} (through {shown}; {length} links)"


def dominance_periods(ds: xr.Dataset, min_length: int = 4) -> list[Period]:
    """The run cut into periods a trainer can name: stretches with one dominant loop, where a stretch of
    fewer than ``min_length`` save times joins its longer neighbour; each period's loop is then the one
    with the largest mean share over it. Times when no loop is active are left out."""
    share = np.abs(ds["relative_score"].values)  # (loops, time)
    ids = list(ds["loop"].values)
    times = ds["time"].values
    active = share.sum(axis=0) > 0
    labels = [str(d) if a else "" for d, a in zip(ds["dominant"].values, active, strict=True)]
    runs = []  # [label, first, last] over consecutive times
    for k, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][2] = k
        else:
            runs.append([label, k, k])
    while True:
        short = [i for i, r in enumerate(runs) if r[0] and r[2] - r[1] + 1 < min_length]
        if not short or len(runs) == 1:
            break
        i = min(short, key=lambda j: runs[j][2] - runs[j][1])
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(runs) and runs[j][0]]
        if not neighbours:
            break
        j = max(neighbours, key=lambda n: runs[n][2] - runs[n][1])
        runs[j][1], runs[j][2] = min(runs[i][1], runs[j][1]), max(runs[i][2], runs[j][2])
        del runs[i]
        merged = []  # neighbours with the same label join
        for r in runs:
            if merged and merged[-1][0] == r[0] and r[0]:
                merged[-1][2] = r[2]
            else:
                merged.append(r)
        runs = merged
    periods = []
    for label, first, last in runs:
        if not label:
            continue
        mean = share[:, first : last + 1].mean(axis=1)
        order = np.argsort(-mean, kind="stable")
        best, second = ids[order[0]], ids[order[1]] if len(order) > 1 else ""
        periods.append(Period(float(times[first]), float(times[last]), best, loop_label(ds, best), float(mean[order[0]]),
                              second, float(mean[order[1]]) if second else 0.0))  # fmt: skip
    return periods
