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
    ``ModelError`` for a model without feedback loops."""
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
    import networkx as nx

    component = {}
    for k, nodes in enumerate(nx.strongly_connected_components(structure.graph)):
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
