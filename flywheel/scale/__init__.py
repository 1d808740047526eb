"""Scale: sweeps of many members in chunks, written to a zarr store as they finish (so an interrupted
sweep resumes where it stopped), in this process or on a Dask cluster."""

from .store import SweepStore
from .sweep import Sweep, run_sweep

__all__ = ["Sweep", "SweepStore", "run_sweep"]
