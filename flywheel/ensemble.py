"""Ensembles: many parameter sets in one parallel integration, in chunks that bound memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import ParameterError
from .simulate import FIXED_STEP

if TYPE_CHECKING:
    from .model import Model

_MAX_RESULT_BYTES = 8 * 2**30  # refuse results larger than this: ask for fewer columns or times
_CHUNK_BYTES = 64 * 2**20  # scratch per chunk (parameter matrix and outputs)
# From this many members on, the block kernel's speed (about 2x) repays its one-off compile time (seconds
# to tens of seconds for large models, then cached on disk); below it, members run one at a time.
BLOCK_MIN_MEMBERS = 20_000


def _columns_of(table) -> tuple[dict[str, np.ndarray], int, np.ndarray | None]:
    """Accept a DataFrame or a mapping of equal-length 1-D arrays."""
    if hasattr(table, "columns") and hasattr(table, "index"):
        columns = {str(c): np.asarray(table[c], dtype=float) for c in table.columns}
        return columns, len(table), np.asarray(table.index)
    if not hasattr(table, "items"):
        raise ParameterError("params_table must be a pandas DataFrame or a dict of 1-D arrays")
    columns = {}
    for name, values in table.items():
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"params_table[{name!r}] must hold numbers") from exc
        if array.ndim != 1:
            raise ParameterError(f"params_table[{name!r}] must be 1-D, got shape {array.shape}")
        columns[str(name)] = array
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ParameterError(f"params_table columns have different lengths: {sorted(lengths)}")
    return columns, lengths.pop(), None


def run_ensemble(
    model: Model,
    params_table,
    return_columns: Sequence[str] | None,
    return_times: Sequence[float] | None,
    method: str,
    time_step: float | None,
    final_time: float | None,
    saveper: float | None,
    chunk_size: int | None,
    progress: bool,
):
    import xarray as xr

    from .compiler import runtime as rt

    columns, n_members, index = _columns_of(params_table)
    method, p0, ovm, (lkx, lky, lko, lkn), s = model._prepare(None, None, time_step, final_time, saveper, method)
    if method not in FIXED_STEP:
        raise ParameterError(f"ensembles use fixed-step methods ({', '.join(FIXED_STEP)}), not {method}")
    if model._layout["dynamic_time"]:
        raise ParameterError(f"{model.path.name}: ensembles need constant FINAL TIME, TIME STEP and SAVEPER")
    slots = _slots(model, columns, ovm)
    names = model._columns(return_columns)
    cols = np.array([model._record_index[n] for n in names], dtype=np.int64)
    n_steps, schedule, step_times = rt.time_grid(s.initial_time, s.time_step, s.final_time, s.saveper)
    all_times = step_times[schedule == 1]
    row_map, times = _row_map(all_times, return_times)
    n_rows, n_cols = len(times), len(cols)
    if n_members * n_rows * n_cols * 8 > _MAX_RESULT_BYTES:
        raise ParameterError(
            f"the result would take {n_members * n_rows * n_cols * 8 / 2**30:.1f} GiB; "
            "ask for fewer return_columns or return_times"
        )
    out = np.empty((n_members, n_rows, n_cols))
    bad = np.empty(n_members, dtype=np.int64)
    per_member = 8 * (model._n_params + n_rows * n_cols) + 1
    chunk = chunk_size or int(np.clip(_CHUNK_BYTES // per_member, 1024, 1_000_000))
    table = FIXED_STEP[method]
    kernel = model._k.simulate_ensemble
    if n_members >= BLOCK_MIN_MEMBERS and hasattr(model._k, "simulate_ensemble_blocks"):
        kernel = model._k.simulate_ensemble_blocks
    starts = range(0, n_members, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, total=len(starts), unit="chunk", desc=f"{n_members:,} members")
    for lo in starts:
        hi = min(lo + chunk, n_members)
        P = np.empty((hi - lo, model._n_params))
        P[:] = p0
        for name, slot in slots.items():
            P[:, slot] = columns[name][lo:hi]
        kernel(
            P, ovm, lkx, lky, lko, lkn, s.initial_time, s.time_step, s.final_time, s.saveper, n_steps, schedule,
            table.a, table.b, table.c, row_map, cols, out[lo:hi], bad[lo:hi],
        )  # fmt: skip
    members = index if index is not None else np.arange(n_members)
    data = {name: (("member", "time"), out[:, :, j]) for j, name in enumerate(names)}
    coords = {"member": members, "time": times, "diverged": ("member", bad >= 0)}
    return xr.Dataset(data, coords=coords, attrs={"model": model.name, "method": method, "time_step": s.time_step})


def _slots(model: Model, columns: dict[str, np.ndarray], ovm: np.ndarray) -> dict[str, int]:
    slots = {}
    for raw in columns:
        name = model.resolve_name(raw)
        layout = model._layout
        if name in layout["param_slots"]:
            slot = layout["param_slots"][name]
        elif name in layout["stock_init_slots"]:
            slot = layout["stock_init_slots"][name]
        else:
            raise ParameterError(f"params_table: {name!r} is a {model.variables[name].kind}; only constants and stock initial values vary across members")
        if not np.all(np.isfinite(columns[raw])):
            raise ParameterError(f"params_table[{raw!r}] holds non-finite values")
        ovm[slot] = True
        slots[raw] = slot
    return slots


def _row_map(all_times: np.ndarray, return_times) -> tuple[np.ndarray, np.ndarray]:
    if return_times is None:
        return np.arange(len(all_times), dtype=np.int64), all_times
    wanted = np.atleast_1d(np.asarray(return_times, dtype=float))
    row_map = np.full(len(all_times), -1, dtype=np.int64)
    for row, t in enumerate(wanted):
        hits = np.flatnonzero(np.isclose(all_times, t, rtol=0, atol=1e-9 + 1e-9 * abs(t)))
        if len(hits) == 0:
            raise ParameterError(f"return_times: {t:g} is not an output time (every saveper from the initial time)")
        row_map[hits[0]] = row
    return row_map, wanted
