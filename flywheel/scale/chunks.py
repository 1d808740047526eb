"""The unit of work of a sweep: one chunk of members, in this process or as a Dask worker's task."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core import simulate

if TYPE_CHECKING:
    from ..core import RunSpec


def evaluate_chunk(
    spec: RunSpec, inputs: Mapping[str, np.ndarray], columns: Sequence[str], times: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of members: values (variable, member, time) and the diverged flags. This is the task
    a Dask worker runs (it needs only the pickled spec)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence is reported through the flags
        result = simulate(spec, members=dict(inputs), columns=list(columns), times=times)
    return np.ascontiguousarray(result.values), np.asarray(result.diverged, dtype=bool)
