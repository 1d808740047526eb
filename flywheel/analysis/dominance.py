"""Loop dominance through time by Loops That Matter: link scores, loop scores, relative loop scores and
the dominant loops at every save time of a run.

A loop's score is the product of its link scores (``flywheel.analysis.ltm``); its relative score is its
share of the sum of the absolute scores of the loops in its cycle partition (the loops that share
stocks through feedback; one partition in a connected model), in [-1, 1]: positive reinforcing,
negative balancing. At each time the dominant loop is the one with the largest absolute relative
score, and the dominant set the fewest strongest loops that together explain at least half.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .loops import MAX_LOOPS, link_polarities, load_loop_names, loop_table
from .ltm import PartialEvaluator, Term, link_score, run_data
from .structure import Structure, causal_structure, verify_builtins

if TYPE_CHECKING:
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


def loop_dominance(
    model: Model, scenario: Any = None, method: str = "euler", *, limit: int = MAX_LOOPS, names: Any = None
) -> xr.Dataset:
    """Loops That Matter along one run of ``model`` (the scenario's, or the defaults).

    Returns an ``xarray.Dataset`` with dimensions ``time``, ``loop`` and ``link``: ``link_score`` (link,
    time), ``loop_score`` and ``relative_score`` (loop, time), ``dominant`` (time: the id of the loop
    with the largest absolute relative score, "" when no loop is active) and ``dominant_loops`` (time:
    the fewest strongest loops explaining at least half, comma-separated). Loop coordinates: ``name``,
    ``polarity``, ``length``, ``variables`` (" -> "-joined), ``partition``. Raises ``ModelError`` for a
    model without feedback loops."""
    import xarray as xr

    from .links import spec_for

    structure = causal_structure(model)
    spec = spec_for(model, scenario, method)
    polarity = link_polarities(model, structure, spec)
    table = loop_table(structure, polarity, load_loop_names(model, names), limit)
    if table.empty:
        raise ModelError(f"{model.path.name}: the model has no feedback loops, so there is no loop dominance")
    data = run_data(spec)
    if structure.builtins:
        verify_builtins(structure, spec, data.cur_states[0])
    edges = sorted({(s, t) for v in table["variables"] for s, t in zip(v, v[1:] + v[:1], strict=True)})
    pathways = {edge: _edge_terms(structure, *edge) for edge in edges}
    terms = sorted({term for paths in pathways.values() for path in paths for term in path}, key=str)
    values = PartialEvaluator(structure, spec, data).evaluate(terms)
    scores = {term: link_score(*values[term]) for term in terms}
    n_t = len(data.times)
    link_scores = np.empty((len(edges), n_t))
    for i, edge in enumerate(edges):
        products = [np.prod([scores[t] for t in path], axis=0) for path in pathways[edge]]
        best = products[0]
        for other in products[1:]:
            best = np.where(np.abs(other) > np.abs(best), other, best)
        link_scores[i] = best
    edge_index = {edge: i for i, edge in enumerate(edges)}
    loop_scores = np.ones((len(table), n_t))
    for j, variables in enumerate(table["variables"]):
        for edge in zip(variables, variables[1:] + variables[:1], strict=True):
            loop_scores[j] *= link_scores[edge_index[edge]]
    partition = _partitions(structure, table)
    relative = _relative(loop_scores, partition)
    ids = list(table["id"])
    dominant, dominant_sets = _dominance(relative, ids)
    ds = xr.Dataset(
        {
            "link_score": (("link", "time"), link_scores),
            "loop_score": (("loop", "time"), loop_scores),
            "relative_score": (("loop", "time"), relative),
            "dominant": (("time",), np.array(dominant, dtype=object)),
            "dominant_loops": (("time",), np.array(dominant_sets, dtype=object)),
        },
        coords={
            "time": data.times,
            "loop": ids,
            "link": [f"{s} -> {t}" for s, t in edges],
            "name": ("loop", list(table["name"])),
            "polarity": ("loop", list(table["polarity"])),
            "length": ("loop", list(table["length"])),
            "variables": ("loop", [" -> ".join(v) for v in table["variables"]]),
            "partition": ("loop", partition),
        },
        attrs={"model": model.name, "method": spec.method.name, "time_step": spec.time.time_step,
               "description": "Loops That Matter (Schoenberg, Davidsen & Eberlein 2020; flow-to-stock scores "
               "as in Schoenberg, Hayward & Eberlein 2023)"},
    )  # fmt: skip
    return ds


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
    dominant, sets = [], []
    for k in range(relative.shape[1]):
        share = np.abs(relative[:, k])
        if not share.any():
            dominant.append("")
            sets.append("")
            continue
        order = np.argsort(-share, kind="stable")
        dominant.append(ids[order[0]])
        chosen, total = [], 0.0
        for i in order:
            chosen.append(ids[i])
            total += share[i]
            if total >= DOMINANT_SHARE * share.sum() - 1e-12:
                break
        sets.append(",".join(chosen))
    return dominant, sets
