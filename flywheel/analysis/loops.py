"""Feedback loops: the elementary cycles of a model's named causal graph, their polarity, and the names a
modeller gives them in ``models/<model>.loops.toml``.

A loop's polarity is the product of its links' polarities (``flywheel.links``): R (reinforcing, an even
number of - links), B (balancing), or ? when one of its links changes sign. Loops are numbered R1, R2,
..., B1, ..., U1 (undetermined) by length, then by their variables; the loop file names them::

    [[loop]]
    name = "evil flywheel"            # shown on diagrams and figures
    polarity = "R"                    # what the modeller expects; `flywheel loops --check` verifies it
    through = ["Overlay Functions", "Communication Overhead", "Customer Time", "Trust"]
    id = "R1"                         # optional: the id the documentation uses

A name goes to the shortest loop that passes through all the ``through`` variables (its variants, longer
loops through the same variables, keep their ids). Unnamed loops are numbered by length around the ids
the file gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError, ParameterError
from ..scenarios.toml_checks import read_toml
from .structure import Structure, causal_structure

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model

MAX_LOOPS = 2000
_POLARITY_WORDS = {"R": "reinforcing", "B": "balancing", "?": "undetermined"}


@dataclass(frozen=True)
class LoopName:
    """One entry of a loop file."""

    name: str
    polarity: str
    through: tuple[str, ...]
    id: str = ""  # the id the documentation uses (R1, B2 ...); unnamed loops are numbered around it


def loop_file(model: Model) -> Path:
    return model.path.with_name(f"{model.path.stem}.loops.toml")


def load_loop_names(model: Model, path: str | Path | None = None) -> list[LoopName]:
    """The named loops of ``models/<model>.loops.toml`` (or ``path``); [] when there is no file.
    A name that is not a variable of the model is a ``ModelError`` (with "did you mean")."""
    file = Path(path) if path is not None else loop_file(model)
    if not file.is_file():
        if path is not None:
            raise ModelError(f"{file}: no such loop file")
        return []
    raw = read_toml(file, "loop file", ModelError)
    unknown = set(raw) - {"loop"}
    if unknown:
        raise ModelError(f"{file}: unknown table {sorted(unknown)[0]!r}; allowed: [[loop]]")
    names = []
    for i, entry in enumerate(raw.get("loop", []), 1):
        where = f"{file}: loop {i}"
        if not isinstance(entry, dict):
            raise ModelError(f"{where}: must be a table with name, polarity and through")
        extra = set(entry) - {"name", "polarity", "through", "id"}
        if extra:
            raise ModelError(f"{where}: unknown key {sorted(extra)[0]!r}; allowed: name, polarity, through, id")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ModelError(f"{where}: 'name' must be a non-empty text")
        polarity = str(entry.get("polarity", "")).upper()
        if polarity not in ("R", "B"):
            raise ModelError(f"{where} ({name!r}): polarity must be \"R\" or \"B\", not {entry.get('polarity')!r}")
        through = entry.get("through")
        if not isinstance(through, list) or not through or not all(isinstance(t, str) for t in through):
            raise ModelError(f"{where} ({name!r}): 'through' must be a list of variable names")
        resolved = []
        for variable in through:
            try:
                resolved.append(model.resolve_name(variable))
            except ParameterError as exc:
                raise ModelError(f"{file}: loop {name!r}: {exc}") from None
        ident = str(entry.get("id", "")).strip().upper()
        if ident and not re.fullmatch(rf"{polarity}[1-9][0-9]*", ident):
            raise ModelError(f"{where} ({name!r}): id must be {polarity} and a number (like {polarity}1), not {ident!r}")
        if ident and ident in {n.id for n in names}:
            raise ModelError(f"{where} ({name!r}): id {ident} is already given to another loop")
        names.append(LoopName(name.strip(), polarity, tuple(resolved), ident))
    return names


def elementary_cycles(structure: Structure, limit: int = MAX_LOOPS) -> list[list[str]]:
    """Every elementary cycle of the named graph (networkx's Johnson algorithm), each rotated to start
    at its first stock in model order; a ``ModelError`` when there are more than ``limit``."""
    import networkx as nx

    if limit in structure.cycles:
        return structure.cycles[limit]
    order = {n: i for i, n in enumerate(structure.nodes)}
    cycles = []
    for cycle in nx.simple_cycles(structure.graph):
        if len(cycles) >= limit:
            raise ModelError(
                f"{structure.model.path.name}: more than {limit} feedback loops (the count explodes in densely "
                "connected models); raise the limit (limit=, --max-loops) or focus on one variable (--focus)"
            )
        stocks = [n for n in cycle if structure.kind(n) == "stock"]
        first = min(stocks or cycle, key=order.__getitem__)
        k = cycle.index(first)
        cycles.append(cycle[k:] + cycle[:k])
    structure.cycles[limit] = cycles
    return cycles


def loop_table(structure: Structure, link_polarity: dict[tuple[str, str], str], names: list[LoopName],
               limit: int = MAX_LOOPS) -> pd.DataFrame:  # fmt: skip
    """The loop table from a structure and the polarity of each link."""
    import pandas as pd

    order = {n: i for i, n in enumerate(structure.nodes)}
    rows = []
    for cycle in elementary_cycles(structure, limit):
        links = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
        signs = [link_polarity.get(link, "?") for link in links]
        polarity = "?" if any(s not in "+-" for s in signs) else "B" if signs.count("-") % 2 else "R"
        rows.append({"polarity": polarity, "length": len(cycle), "variables": tuple(cycle),
                     "stocks": tuple(n for n in cycle if structure.kind(n) == "stock"),
                     "delays": sum(1 for s, t in links if structure.via(s, t) in ("smooth", "delay", "trend"))})  # fmt: skip
    rows.sort(key=lambda r: (r["length"], [order[v] for v in r["variables"]]))
    for row in rows:
        row["name"], row["expected"], row["id"] = "", "", ""
    for entry in names:  # a name goes to the shortest loop through all its variables
        through = set(entry.through)
        match = next((row for row in rows if through <= set(row["variables"]) and not row["name"]), None)
        if match is not None:
            match["name"], match["expected"] = entry.name, entry.polarity
            if entry.id and entry.id[0] == match["polarity"]:
                match["id"] = entry.id
    taken = {row["id"] for row in rows if row["id"]}
    counts = {"R": 0, "B": 0, "?": 0}
    for row in rows:  # the rest by length, around the ids the loop file gives
        if row["id"]:
            continue
        letter = "U" if row["polarity"] == "?" else row["polarity"]
        while True:
            counts[row["polarity"]] += 1
            ident = f"{letter}{counts[row['polarity']]}"
            if ident not in taken:
                break
        row["id"] = ident
    columns = ["id", "name", "polarity", "length", "variables", "stocks", "delays", "expected"]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["model"] = structure.model.name
    return table


def loops(model: Model, scenario: Any = None, *, limit: int = MAX_LOOPS, names: str | Path | None = None) -> pd.DataFrame:
    """Every feedback loop of ``model``: id (R1, B1, U1 ...), name (from the loop file), polarity (R, B
    or ?), length, variables (in causal order, from a stock), stocks, delays (links through a
    SMOOTH/DELAY/TREND) and the polarity the loop file expects. Polarities come from ``links`` along the
    scenario's run (or the defaults) and sampled points of the documented ranges."""
    structure = causal_structure(model)
    polarity = link_polarities(model, structure, scenario)
    return loop_table(structure, polarity, load_loop_names(model, names), limit)


_POLARITY_CACHE: dict[tuple, dict[tuple[str, str], str]] = {}


def link_polarities(model: Model, structure: Structure, scenario: Any = None) -> dict[tuple[str, str], str]:
    """Link polarity by (source, target), computed once per model file and scenario in this process."""
    from .links import link_table, spec_for

    spec = spec_for(model, scenario)
    key = (model.compiled.key, str(model.path), repr(sorted(spec.params.items())), spec.time)
    cached = _POLARITY_CACHE.get(key)
    if cached is None:
        table = link_table(structure, spec)
        cached = {(r.source, r.target): r.polarity for r in table.itertuples()}
        if len(_POLARITY_CACHE) > 32:
            _POLARITY_CACHE.clear()
        _POLARITY_CACHE[key] = cached
    return cached


def check_loop_names(table: pd.DataFrame, names: list[LoopName]) -> list[str]:
    """Problems with the named loops: a name that matches no loop, or a loop whose polarity differs from
    the one expected. [] when every named loop is found with its polarity."""
    problems = []
    for entry in names:
        named = table[table["name"] == entry.name]
        if named.empty:
            problems.append(f"loop {entry.name!r}: no feedback loop passes through {', '.join(entry.through)}")
            continue
        row = named.iloc[0]
        if row["polarity"] != entry.polarity:
            problems.append(f"loop {entry.name!r} ({row['id']}): expected {_POLARITY_WORDS[entry.polarity]}, found "
                            f"{_POLARITY_WORDS[row['polarity']]}")  # fmt: skip
    return problems
