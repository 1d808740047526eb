"""A sweep on disk: one zarr store (written through xarray) that fills chunk by chunk and survives a kill.

Layout: ``values`` (variable, member, time), ``diverged`` (member), ``inputs`` (member, input) and one
``done`` flag per chunk of members; the attributes name the variables and inputs and hold the sweep's
fingerprint (a hash of the model, the run specification, the inputs, the outputs and the chunking).
Each chunk of members is its own zarr chunk, and its ``done`` flag is written only after its values, so
a process killed mid-way loses at most the chunk it was writing; the next run with the same inputs sees
which chunks are done and computes only the rest. A store is created in a temporary folder and renamed
into place, so a half-created store is never mistaken for a sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ..errors import OutputError

_FORMAT = "flywheel-sweep-1"


class SweepStore:
    """One sweep's zarr store; create or reopen it with ``SweepStore.open``."""

    def __init__(self, path: Path, n_chunks: int, chunk_size: int):
        self.path = path
        self.n_chunks = n_chunks
        self.chunk_size = chunk_size

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        key: str,
        variables: list[str],
        input_names: list[str],
        inputs: np.ndarray,
        times: np.ndarray,
        chunk_size: int,
        description: str = "",
    ) -> SweepStore:
        """Reopen the store at ``path`` if it holds this sweep (same ``key``), or create it there."""
        path = Path(path)
        n = inputs.shape[0]
        n_chunks = -(-n // chunk_size) if n else 0
        if path.exists():
            attrs = _read_attrs(path)
            if attrs.get("format") != _FORMAT:
                raise OutputError(f"{path} exists and is not a flywheel sweep store; choose another store path")
            if attrs.get("key") != key:
                raise OutputError(
                    f"{path} holds a different sweep (other model, settings, inputs or chunk size); "
                    "choose another store path or delete it to start again"
                )
            return cls(path, n_chunks, chunk_size)
        _create(path, key, variables, input_names, inputs, times, chunk_size, n_chunks, description)
        return cls(path, n_chunks, chunk_size)

    def done(self) -> np.ndarray:
        """One flag per chunk: True where the chunk's values are complete on disk."""
        import zarr

        group = zarr.open_group(str(self.path), mode="r")
        return np.asarray(group["done"][:], dtype=bool)

    def write_chunk(self, index: int, values: np.ndarray, diverged: np.ndarray) -> None:
        """Write chunk ``index`` (values (variable, members, time)), then mark it done."""
        import xarray as xr

        lo = index * self.chunk_size
        hi = lo + values.shape[1]
        part = xr.Dataset(
            {"values": (("variable", "member", "time"), values), "diverged": (("member",), diverged)}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part.to_zarr(self.path, region={"variable": slice(None), "member": slice(lo, hi), "time": slice(None)},
                         consolidated=False)  # fmt: skip
            flag = xr.Dataset({"done": (("chunk",), np.array([True]))})
            flag.to_zarr(self.path, region={"chunk": slice(index, index + 1)}, consolidated=False)

    def load(self):
        """The whole sweep as an ``xarray.Dataset`` in memory (values, diverged, inputs, attributes)."""
        import xarray as xr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with xr.open_zarr(self.path, consolidated=False) as ds:
                return ds.load()


def _read_attrs(path: Path) -> dict:
    try:
        meta = json.loads((path / "zarr.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta.get("attributes", {}) if isinstance(meta, dict) else {}


def _create(path, key, variables, input_names, inputs, times, chunk_size, n_chunks, description) -> None:
    import dask.array as da
    import xarray as xr

    n = inputs.shape[0]
    data = {
        "values": (("variable", "member", "time"),
                   da.full((len(variables), n, len(times)), np.nan, chunks=(len(variables), chunk_size, len(times)))),
        "diverged": (("member",), da.zeros(n, dtype=bool, chunks=chunk_size)),
        "done": (("chunk",), da.zeros(n_chunks, dtype=bool, chunks=1)),
        "inputs": (("member", "input"), inputs),
    }  # fmt: skip
    attrs = {"format": _FORMAT, "key": key, "variables": list(variables), "inputs": list(input_names),
             "chunk_size": int(chunk_size), "description": description}  # fmt: skip
    ds = xr.Dataset(data, coords={"member": np.arange(n), "time": np.asarray(times, dtype=float)}, attrs=attrs)
    encoding = {"inputs": {"chunks": (chunk_size, max(len(input_names), 1))}}
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.creating-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.to_zarr(staging, mode="w-", compute=False, consolidated=False, encoding=encoding)
        os.rename(staging, path)
    except OSError as exc:
        raise OutputError(f"cannot create the sweep store {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
