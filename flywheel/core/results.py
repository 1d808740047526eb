"""Results of single runs and ensembles alike: values by (variable, member, time), with the spec.

A ``Result`` keeps the raw array the compiled code wrote (one contiguous (member, time) block per
variable), so ``to_frame`` for one run and ``dataset`` for an ensemble are views, not copies. It carries
the specification that made it (and the varied member table for ensembles), so ``simulate(result)``
repeats it exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from .spec import RunSpec


_TIME_INDEXES: dict[tuple, object] = {}


def _time_index(times: np.ndarray, time_step: float):
    """The time index of a result, rounded like PySD's (times a little off the grid read clean);
    cached, since runs of one model share their output times."""
    import pandas as pd

    key = (times.tobytes(), time_step)
    index = _TIME_INDEXES.get(key)
    if index is None:
        digits = max(0, -int(np.floor(np.log10(time_step * 1e-5))))
        index = pd.Index(np.round(times, digits), name="time")
        if len(_TIME_INDEXES) > 64:
            _TIME_INDEXES.clear()
        _TIME_INDEXES[key] = index
    return index


@dataclass(frozen=True)
class EnsembleSpec:
    """What an ensemble ran: the base specification plus one row of varied inputs per member."""

    members: Any  # a MemberTable (see core.ensemble)
    columns: tuple[str, ...] | None
    times: tuple[float, ...] | None


class Result:
    """Values of the kept variables: ``values[k]`` is variable ``names[k]`` as (member, time)."""

    def __init__(
        self,
        spec: RunSpec,
        names: list[str],
        times: np.ndarray,
        values: np.ndarray,
        *,
        members: np.ndarray | None = None,
        diverged: np.ndarray | None = None,
        ensemble: EnsembleSpec | None = None,
    ):
        self.spec = spec
        self.names = list(names)
        self.times = times
        self.values = values
        self.members = members if members is not None else np.arange(values.shape[1])
        self.diverged = diverged if diverged is not None else np.zeros(values.shape[1], dtype=bool)
        self.ensemble = ensemble

    @property
    def n_members(self) -> int:
        return self.values.shape[1]

    def __repr__(self) -> str:
        kind = f"{self.n_members} members" if self.ensemble is not None else "one run"
        return f"<Result {kind}, {len(self.names)} variables x {len(self.times)} times: {self.spec.describe()}>"

    def __getitem__(self, name: str) -> xr.DataArray:
        return self.dataset[name]

    @functools.cached_property
    def dataset(self) -> xr.Dataset:
        """An ``xarray.Dataset`` with dimensions ``member`` and ``time``; ``diverged`` marks blow-ups.

        A subscripted variable whose elements were all kept is one variable with its subscript ranges as
        further dimensions (``member``, ``time``, ``Region``, ...); single elements keep their column
        names (``Stock[North]``)."""
        import xarray as xr

        from .elements import element_names

        data: dict[str, tuple] = {}
        coords: dict[str, object] = {"member": self.members, "time": self.times, "diverged": ("member", self.diverged)}
        position = {name: j for j, name in enumerate(self.names)}
        grouped: set[str] = set()
        model = self.spec.model
        for base, info in model.layout.arrays.items():
            elements = element_names(model, base)
            if not all(e in position for e in elements):
                continue
            dims = [d if d not in ("member", "time") else f"{d}_" for d in info["dims"]]
            shape = [len(c) for c in info["coords"]]
            stacked = self.values[[position[e] for e in elements]]  # (elements, member, time)
            stacked = np.moveaxis(stacked.reshape(*shape, *stacked.shape[1:]), (-2, -1), (0, 1))
            data[base] = (("member", "time", *dims), stacked)
            for dim, labels in zip(dims, info["coords"], strict=True):
                coords[dim] = list(labels)
            grouped.update(elements)
        for j, name in enumerate(self.names):
            if name not in grouped:
                data[name] = (("member", "time"), self.values[j])
        order = {name: i for i, name in enumerate(self.names)}
        first = {base: min(order[e] for e in element_names(model, base)) for base in data if base not in order}
        data = dict(sorted(data.items(), key=lambda item: order.get(item[0], first.get(item[0], 0))))
        attrs = {
            "model": self.spec.model.name,
            "method": self.spec.method.name,
            "time_step": self.spec.time.time_step,
        }
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def to_frame(self, member: int = 0) -> pd.DataFrame:
        """One member as PySD shapes a run: index ``time``, one column per variable."""
        import pandas as pd

        position = int(np.flatnonzero(self.members == member)[0]) if self.ensemble is not None else member
        index = _time_index(self.times, self.spec.time.time_step)
        block = self.values[:, position, :]
        return pd.DataFrame(block.T, index=index, columns=self.spec.model.column_index(self.names), copy=False)
