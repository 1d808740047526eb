"""Ensemble inputs: a table of varied values, one row per member, on top of a base specification.

A column may be a constant, a stock's initial value, or a lookup table (each member its own points, the
same number of points for every member). Names and values are checked once, with the same rules as
single runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .elements import base_name, element_names
from .spec import RunSpec, check_range, resolve_name
from .workspace import Tables

if TYPE_CHECKING:
    from .compiled import CompiledModel


@dataclass(frozen=True)
class MemberTable:
    """Checked ensemble inputs: ``values[name]`` has one number per member; ``tables[name]`` is (xs, ys)
    with one row of points per member."""

    n: int
    index: np.ndarray | None
    values: Mapping[str, np.ndarray]
    tables: Mapping[str, tuple[np.ndarray, np.ndarray]]


def member_table(model: CompiledModel, table: Any, strict: bool = False, where: str = "params_table") -> MemberTable:
    """Read a DataFrame (one column per input) or a mapping of 1-D arrays; lookups as (xs, ys)."""
    if isinstance(table, MemberTable):
        return table
    index = None
    if hasattr(table, "columns") and hasattr(table, "index"):
        raw = {str(c): table[c].to_numpy() for c in table.columns}
        index = np.asarray(table.index)
        n = len(table)
    elif isinstance(table, Mapping):
        raw = dict(table)
        n = None
    else:
        raise ParameterError(f"{where} must be a pandas DataFrame or a dict of 1-D arrays")
    values: dict[str, np.ndarray] = {}
    tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for raw_name, column in raw.items():
        name = resolve_name(model, raw_name, where)
        kind = model.variables[base_name(name)].kind
        if base_name(name) == name and model.layout.arrays.get(name) is not None:
            raise ParameterError(
                f"{where}: {name!r} is an array; give one column per element, e.g. {element_names(model, name)[0]!r}"
            )
        if kind == "lookup":
            xs, ys = _lookup_column(name, column, where)
            tables[name] = (xs, ys)
            length = ys.shape[0]
        elif name in model.layout.param_slots or name in model.layout.stock_init_slots:
            try:
                array = np.asarray(column, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{where}[{raw_name!r}] must hold numbers") from None
            if array.ndim != 1:
                raise ParameterError(f"{where}[{raw_name!r}] must be 1-D, got shape {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ParameterError(f"{where}[{raw_name!r}] holds non-finite values")
            if len(array):
                for extreme in (float(array.min()), float(array.max())):
                    check_range(model, name, extreme, strict, where)
            values[name] = array
            length = len(array)
        else:
            raise ParameterError(
                f"{where}: {name!r} is a {kind}; only constants, stock initial values and lookups vary across members"
            )
        if n is None:
            n = length
        elif length != n:
            raise ParameterError(f"{where}: columns have different lengths ({n} and {length} for {name!r})")
    return MemberTable(n or 0, index, values, tables)


def _lookup_column(name: str, column: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) with ys (members, points) and xs (points,) or (members, points); or a column of pairs."""
    if isinstance(column, np.ndarray) and column.dtype == object or isinstance(column, list):
        pairs = list(column)
        try:
            xs = np.array([np.asarray(p[0], dtype=float) for p in pairs])
            ys = np.array([np.asarray(p[1], dtype=float) for p in pairs])
        except (TypeError, ValueError, IndexError):
            raise ParameterError(f"{where}[{name!r}]: each member needs (xs, ys) of the same number of points") from None
    else:
        try:
            xs, ys = (np.asarray(v, dtype=float) for v in column)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}[{name!r}]: a varied lookup is (xs, ys), ys with one row per member") from None
    if ys.ndim != 2:
        raise ParameterError(f"{where}[{name!r}]: ys must have one row of points per member, got shape {ys.shape}")
    if xs.ndim == 1:
        xs = np.broadcast_to(xs, ys.shape)
    if xs.shape != ys.shape or ys.shape[1] == 0:
        raise ParameterError(f"{where}[{name!r}]: xs and ys must have the same shape, got {xs.shape} and {ys.shape}")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ParameterError(f"{where}[{name!r}]: every point must be a finite number")
    if np.any(np.diff(xs, axis=1) < 0):
        raise ParameterError(f"{where}[{name!r}]: xs must be sorted in increasing order for every member")
    return np.ascontiguousarray(xs), np.ascontiguousarray(ys)


def parameter_block(spec: RunSpec, members: MemberTable, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The parameter matrix (slots x members) of members ``lo:hi`` and the override flags."""
    layout = spec.model.layout
    base, override = spec.vector
    P = np.empty((max(layout.n_params, 1), hi - lo))
    P[: layout.n_params] = base[:, None]
    override = override.copy()
    for name, column in members.values.items():
        slot = layout.param_slots.get(name, layout.stock_init_slots.get(name))
        P[slot] = column[lo:hi]
        override[slot] = 1
    return P, override


def member_tables(spec: RunSpec, members: MemberTable) -> Tables:
    """The lookup tables of every member: shared unless some vary."""
    base = spec.table_set
    if not members.tables:
        return base
    layout = spec.model.layout
    pieces_x, pieces_y = [], []
    for index in range(len(base.lengths)):
        name = next((n for n, i in layout.tables.items() if i == index), None)
        if name in members.tables:
            xs, ys = members.tables[name]
        else:
            start, count = base.offsets[index], base.lengths[index]
            xs = np.broadcast_to(base.x[0, start : start + count], (members.n, count))
            ys = np.broadcast_to(base.y[0, start : start + count], (members.n, count))
        pieces_x.append(xs)
        pieces_y.append(ys)
    lengths = np.array([p.shape[1] for p in pieces_x], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return Tables(np.hstack(pieces_x), np.hstack(pieces_y), offsets, lengths)
