"""Chunks of a sweep on a Dask cluster: ``scheduler="tcp://HOST:PORT"`` or a ``dask.distributed.Client``.

The run specification is scattered once to every worker (its compiled model pickles as its cache entry:
object code for this kind of CPU plus the LLVM IR to recompile elsewhere), then one task per chunk
returns that chunk's values. Results come back to this process as they finish, where they are kept (and
written to the sweep's store, if it has one), so workers need no shared disk, only ``flywheel`` installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError


def client_for(scheduler: Any) -> tuple[Any, bool]:
    """(client, whether we opened it and must close it) for an address or an existing Client."""
    from dask.distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str) and scheduler.strip():
        try:
            return Client(scheduler.strip(), timeout="5s"), True
        except (OSError, TimeoutError) as exc:
            raise ParameterError(f"scheduler {scheduler!r}: cannot reach the Dask scheduler ({exc})") from None
    raise ParameterError(
        f"scheduler must be a Dask scheduler address such as 'tcp://10.0.0.5:8786' or a "
        f"dask.distributed.Client, got {scheduler!r}"
    )


def run_on_cluster(
    scheduler: Any,
    spec: Any,
    chunks: Sequence[tuple[int, dict[str, np.ndarray]]],
    columns: Sequence[str],
    times: np.ndarray | None,
    finished: Callable[[int, np.ndarray, np.ndarray], None],
) -> None:
    """Run every chunk ``(index, inputs)`` on the cluster; ``finished(index, values, diverged)`` in this
    process as each one comes back (in any order)."""
    if not chunks:
        return
    from dask.distributed import as_completed

    from .chunks import evaluate_chunk

    client, owned = client_for(scheduler)
    try:
        [spec_on_workers] = client.scatter([spec], broadcast=True, hash=False)
        futures = {}
        for index, inputs in chunks:
            future = client.submit(evaluate_chunk, spec_on_workers, inputs, list(columns), times, pure=False)
            futures[future] = index
        try:
            for future in as_completed(futures):
                values, diverged = future.result()
                finished(futures[future], values, diverged)
        finally:
            client.cancel(list(futures))
    finally:
        if owned:
            client.close()
