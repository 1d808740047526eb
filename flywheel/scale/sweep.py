"""Sweeps: one run specification, many members, evaluated in chunks here or on a Dask cluster.

``run_sweep`` is what every analysis calls to evaluate its sample. Without a store or a scheduler it is
one ensemble (``flywheel.simulate(spec, members=...)``, all cores). With ``store=PATH`` the members run
chunk by chunk and each finished chunk is written to a zarr store (see ``scale.store``): run the same
sweep again after an interruption and it continues, giving exactly the numbers of an uninterrupted
run. With ``scheduler="tcp://HOST:PORT"`` (or a ``dask.distributed.Client``) the chunks run on the
cluster's workers; the run specification travels once to every worker, its compiled model as its cache
entry (object code and LLVM IR; no model file, no PySD on the workers). Every member is computed
independently by the same compiled code, so the chunking and the place of computation never change a
number.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import NonFiniteWarning, simulate
from ..core.ensemble import member_table
from ..errors import ParameterError
from .chunks import evaluate_chunk
from .store import SweepStore

if TYPE_CHECKING:
    import xarray as xr

    from ..core import RunSpec

DEFAULT_CHUNK = 8192


@dataclass(frozen=True)
class Sweep:
    """A finished sweep: ``dataset`` (member, time) with one variable per output column and the
    coordinate ``diverged``; how many chunks it had and how many a store already held."""

    dataset: xr.Dataset
    n_chunks: int = 1
    reused_chunks: int = 0
    store: Path | None = None

    @property
    def diverged(self) -> np.ndarray:
        return np.asarray(self.dataset["diverged"].values, dtype=bool)


def run_sweep(
    spec: RunSpec,
    inputs: Mapping[str, np.ndarray],
    columns: Sequence[str],
    *,
    times: Sequence[float] | None = None,
    store: str | os.PathLike[str] | None = None,
    chunk_size: int | None = None,
    scheduler: Any = None,
    progress: bool | Callable[[int], None] = False,
) -> Sweep:
    """Evaluate one member per row of ``inputs`` (name -> 1-D array) on top of ``spec``.

    ``store``: a zarr path; finished chunks are written there and reused when the same sweep runs again.
    ``scheduler``: a Dask scheduler address or ``dask.distributed.Client``; chunks run on its workers.
    ``progress``: a tqdm bar on stderr (True), or a callable told how many members just finished."""
    table = member_table(spec.model, dict(inputs), spec.strict, where="inputs")
    columns = list(dict.fromkeys(columns))
    all_times = spec.time.grid.save_times
    out_times = all_times if times is None else np.asarray(times, dtype=float)
    if store is None and scheduler is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonFiniteWarning)  # divergence is reported through the flags
            result = simulate(spec, members=table, columns=columns, times=times, progress=progress is True)
        return Sweep(result.dataset)
    n = table.n
    chunk = int(chunk_size or DEFAULT_CHUNK)
    if chunk < 1:
        raise ParameterError(f"chunk_size must be a positive number of members, got {chunk_size!r}")
    names = list(table.values)
    matrix = np.column_stack([table.values[k] for k in names]) if names else np.empty((n, 0))
    starts = list(range(0, n, chunk))
    sweep_store = None
    done = np.zeros(len(starts), dtype=bool)
    if store is not None:
        key = _fingerprint(spec, names, matrix, columns, out_times, chunk)
        sweep_store = SweepStore.open(
            store, key=key, variables=columns, input_names=names, inputs=matrix, times=out_times,
            chunk_size=chunk, description=spec.describe(),
        )  # fmt: skip
        done = sweep_store.done()
    values = np.full((len(columns), n, len(out_times)), np.nan)
    diverged = np.zeros(n, dtype=bool)
    todo = [k for k in range(len(starts)) if not done[k]]
    tick = _progress(progress, n, sum(min(chunk, n - starts[k]) for k in range(len(starts)) if done[k]))

    def finished(k: int, chunk_values: np.ndarray, chunk_diverged: np.ndarray) -> None:
        lo = starts[k]
        hi = lo + chunk_values.shape[1]
        values[:, lo:hi] = chunk_values
        diverged[lo:hi] = chunk_diverged
        if sweep_store is not None:
            sweep_store.write_chunk(k, chunk_values, chunk_diverged)
        tick(hi - lo)

    def rows(k: int) -> dict[str, np.ndarray]:
        lo = starts[k]
        return {name: matrix[lo : lo + chunk, j] for j, name in enumerate(names)}

    try:
        if scheduler is None:
            for k in todo:
                finished(k, *evaluate_chunk(spec, rows(k), columns, None if times is None else out_times))
        else:
            from .distributed import run_on_cluster

            run_on_cluster(scheduler, spec, [(k, rows(k)) for k in todo], columns,
                           None if times is None else out_times, finished)  # fmt: skip
    finally:
        tick(None)
    if sweep_store is not None and done.any():
        stored = sweep_store.load()
        for k in np.flatnonzero(done):
            lo, hi = starts[k], min(starts[k] + chunk, n)
            values[:, lo:hi] = stored["values"].values[:, lo:hi]
            diverged[lo:hi] = stored["diverged"].values[lo:hi]
    dataset = _dataset(columns, values, diverged, out_times, spec)
    return Sweep(dataset, len(starts), int(done.sum()), None if store is None else Path(store))


def _dataset(columns, values, diverged, times, spec) -> xr.Dataset:
    import xarray as xr

    data = {name: (("member", "time"), values[j]) for j, name in enumerate(columns)}
    coords = {"member": np.arange(values.shape[1]), "time": np.asarray(times, dtype=float), "diverged": ("member", diverged)}
    attrs = {"model": spec.model.name, "method": spec.method.name, "time_step": spec.time.time_step}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _fingerprint(spec: RunSpec, names, matrix: np.ndarray, columns, times: np.ndarray, chunk: int) -> str:
    """What makes two sweeps the same: model, specification, inputs, outputs, times and chunking."""
    h = hashlib.sha256()
    t = spec.time
    description = {
        "model": spec.model.key, "params": sorted((k, float(v)) for k, v in spec.params.items()),
        "tables": sorted((k, [list(map(float, x)), list(map(float, y))]) for k, (x, y) in spec.tables.items()),
        "initial": sorted((k, float(v)) for k, v in spec.initial_values.items()), "method": spec.method.name,
        "time": [t.initial_time, t.final_time, t.time_step, t.saveper], "inputs": list(names),
        "columns": list(columns), "chunk": chunk,
    }  # fmt: skip
    h.update(json.dumps(description, sort_keys=True).encode())
    h.update(np.ascontiguousarray(matrix, dtype=float).tobytes())
    h.update(np.ascontiguousarray(times, dtype=float).tobytes())
    return h.hexdigest()


def _progress(progress: bool | Callable[[int], None], total: int, already: int) -> Callable[[int | None], None]:
    """A function told how many members finished (None: close the bar)."""
    if callable(progress):
        return lambda count: None if count is None else progress(count)
    if not progress or total == 0:
        return lambda count: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=already, unit="member", desc=f"{total:,} members", leave=False)
    return lambda count: bar.close() if count is None else bar.update(count)
