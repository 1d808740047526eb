"""The memory of a run: numpy arrays for a number of members, and the frame that points at them.

A workspace is created for one run (or one stepper, or one chunk of an ensemble) and reused across the
calls into compiled code: ``init``, ``run`` (step by step if need be), ``statics`` and ``evaluate``.
It holds every array the frame points at, so none can be freed while compiled code uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..compiler.frame import BLOCK, N_CONTROL, Frame

if TYPE_CHECKING:
    from .compiled import CompiledModel
    from .methods import ButcherTable


@dataclass
class Output:
    """Where ``run`` writes: ``values[col, member0 + m, row]`` and ``times[row]``; ``row_map`` maps the n-th
    output time of the run to a row (or -1: not kept)."""

    values: np.ndarray  # (n_cols, n_members_total, n_rows)
    times: np.ndarray  # (n_rows,)
    row_map: np.ndarray  # int64
    cols: np.ndarray  # int64 value rows
    member0: int = 0


@dataclass
class Tables:
    """Lookup tables: one shared set (``stride`` 0) or one row per member."""

    x: np.ndarray  # (n_rows, total_points)
    y: np.ndarray
    offsets: np.ndarray  # int64 per table
    lengths: np.ndarray  # int64 per table

    @property
    def per_member(self) -> bool:
        return self.x.shape[0] > 1

    def rows(self, start: int, stop: int, pad_to: int | None = None) -> Tables:
        """Members ``start:stop`` (their own rows when tables vary), padded by repeating the last."""
        if not self.per_member:
            return self
        x, y = self.x[start:stop], self.y[start:stop]
        if pad_to is not None and pad_to > len(x):
            extra = pad_to - len(x)
            x = np.vstack([x, np.repeat(x[-1:], extra, axis=0)])
            y = np.vstack([y, np.repeat(y[-1:], extra, axis=0)])
        return Tables(x, y, self.offsets, self.lengths)


def _ptr(array: np.ndarray) -> int:
    return array.ctypes.data


class Workspace:
    """Arrays for ``n`` members of one model, in the frame's block layout: numpy shape (blocks, rows,
    width), member ``m``'s value ``i`` at ``[m // width, i, m % width]``.

    With ``blocks``, members advance in lockstep blocks of BLOCK (``width``); the member count is padded
    to a whole number of blocks (the padding repeats the last member and is never recorded)."""

    def __init__(self, model: CompiledModel, n: int, *, blocks: bool = False, stages: int = 1):
        layout = model.layout
        self.model = model
        self.n = n
        self.width = width = BLOCK if blocks else 1
        self.stride = stride = -(-n // width) * width
        count = stride // width

        def per_member(rows: int) -> np.ndarray:
            return np.zeros((count, max(rows, 1), width))

        a: dict[str, np.ndarray] = {}
        a["P"] = per_member(layout.n_params)
        a["ovm"] = np.zeros(max(layout.n_params, 1), dtype=np.uint8)
        a["ctl"] = np.full(2 * N_CONTROL, np.nan)
        a["Y"] = per_member(layout.n_states)
        a["YS"] = per_member(layout.n_states)
        a["K"] = per_member(stages * max(layout.n_states, 1))
        a["C"] = per_member(layout.n_static)
        a["D"] = per_member(layout.n_discrete)
        a["V"] = per_member(layout.n_values + layout.n_work)  # named values, then hidden arrays
        a["doff"] = np.zeros(max(layout.n_pipes, 1), dtype=np.int64)
        a["dydt"] = per_member(layout.n_states)
        a["bad_state"] = np.full(stride, -1, dtype=np.int64)
        a["bad_state_time"] = np.full(stride, np.nan)
        a["bad_value"] = np.full(stride, -1, dtype=np.int64)
        a["bad_value_time"] = np.full(stride, np.nan)
        a["streams"] = np.zeros(stride, dtype=np.int64)  # each member's random stream
        self.arrays = a
        self._bound: dict[str, int] = {}  # id of the array each frame field points at (skip re-binding)
        self.frame = Frame()
        self.frame.stride = stride
        self.frame.n = n
        self.frame.block = width
        self.frame.d_rows = a["D"].shape[1]
        for name in ("P", "ovm", "ctl", "Y", "YS", "K", "C", "D", "V", "doff", "dydt", "bad_state", "bad_state_time",
                     "bad_value", "bad_value_time", "streams"):  # fmt: skip
            setattr(self.frame, name, _ptr(a[name]))
        self.frame.ns = stages

    def reset_flags(self) -> None:
        """Forget blow-ups found by an earlier run in this workspace."""
        a = self.arrays
        a["bad_state"].fill(-1)
        a["bad_value"].fill(-1)
        a["bad_state_time"].fill(np.nan)
        a["bad_value_time"].fill(np.nan)

    def member_rows(self, name: str) -> np.ndarray:
        """A per-member array as (rows, members), members in order (a copy)."""
        array = self.arrays[name]
        return array.transpose(1, 0, 2).reshape(array.shape[1], -1)

    def first(self, name: str) -> np.ndarray:
        """Member 0's rows of a per-member array (a view)."""
        return self.arrays[name][0, :, 0]

    @classmethod
    def for_defaults(cls, model: CompiledModel) -> Workspace:
        """One member with the model's own parameters and tables (to read its defaults)."""
        space = cls(model, 1)
        space.set_params(model.param_defaults, np.zeros(model.layout.n_params, dtype=np.uint8))
        space.set_tables(default_tables(model))
        return space

    # ------------------------------------------------------------------ inputs
    def set_params(self, values: np.ndarray, override: np.ndarray) -> None:
        """``values``: one vector for every member, or a (n_params, n) matrix."""
        if self.model.layout.n_params == 0:
            return
        P = self.arrays["P"]
        if values.ndim == 1:
            P[:] = values[None, :, None]
        else:
            padded = np.empty((values.shape[0], self.stride))
            padded[:, : values.shape[1]] = values
            padded[:, values.shape[1] :] = values[:, -1:]  # padding repeats the last member
            P[:] = padded.reshape(values.shape[0], -1, self.width).transpose(1, 0, 2)
        self.arrays["ovm"][:] = override

    def _bind(self, field: str, array: np.ndarray) -> None:
        """Point a frame field at an array (once per array: runs reuse the time grid, the method and
        the columns)."""
        if self._bound.get(field) != id(array):
            self.arrays[field] = array
            setattr(self.frame, field, _ptr(array))
            self._bound[field] = id(array)

    def set_tables(self, tables: Tables) -> None:
        if self._bound.get("tables") == id(tables):
            return
        self._bound["tables"] = id(tables)
        self.arrays["tables"] = tables  # keeps the id valid while bound
        x = np.ascontiguousarray(tables.x if tables.x.size else np.zeros((1, 1)))
        y = np.ascontiguousarray(tables.y if tables.y.size else np.zeros((1, 1)))
        offsets = np.ascontiguousarray(tables.offsets if tables.offsets.size else np.zeros(1, dtype=np.int64))
        lengths = np.ascontiguousarray(tables.lengths if tables.lengths.size else np.zeros(1, dtype=np.int64))
        self.arrays.update(lkx=x, lky=y, lko=offsets, lkn=lengths)
        self.frame.lkx, self.frame.lky = _ptr(x), _ptr(y)
        self.frame.lko, self.frame.lkn = _ptr(offsets), _ptr(lengths)
        self.frame.lk_stride = x.shape[1] if tables.per_member else 0

    def set_random(self, seed: int, streams: np.ndarray | None = None) -> None:
        """The run's seed, and each member's stream (its number in an ensemble; padding repeats the last)."""
        self.frame.seed = int(seed)
        if streams is not None:
            ids = self.arrays["streams"]
            ids[: len(streams)] = streams
            ids[len(streams) :] = streams[-1] if len(streams) else 0

    def set_controls(self, initial_time: float, time_step: float, final_time: float, saveper: float) -> None:
        ctl = self.arrays["ctl"]
        ctl[:N_CONTROL] = ctl[N_CONTROL:] = (initial_time, time_step, final_time, saveper)

    # ------------------------------------------------------------------ calls
    def init(self) -> None:
        """Initialise every member, then size and fill the DELAY FIXED pipelines."""
        self.model.kernels("fw_init", self.frame)
        self._make_pipes()

    def statics(self) -> None:
        self.model.kernels("fw_statics", self.frame)

    def evaluate(self, time: float, states: np.ndarray | None = None) -> None:
        """Values (into V) and derivatives (into dydt) of member 0 at ``time``."""
        if states is not None:
            self.first("Y")[: len(states)] = states
        self.frame.time = time
        self.model.kernels("fw_eval", self.frame)

    def run(self, grid_times: np.ndarray, schedule: np.ndarray, table: ButcherTable, k0: int, k1: int, final: bool,
            output: Output, nsave: int = 0, init_first: bool = False) -> int:  # fmt: skip
        """Step from step ``k0`` to ``k1``; returns the number of output times passed so far."""
        f = self.frame
        for field, array in (("times", grid_times), ("schedule", schedule), ("bt_a", table.a_flat), ("bt_b", table.b),
                             ("bt_c", table.c), ("out", output.values), ("out_t", output.times),
                             ("row_map", output.row_map), ("cols", output.cols)):  # fmt: skip
            self._bind(field, array)
        f.ns = table.stages
        f.k0, f.k1, f.final = k0, k1, int(final)
        f.n_row_map, f.ncols, f.member0 = len(output.row_map), len(output.cols), output.member0
        f.out_col_stride = output.values.shape[1] * output.values.shape[2]
        f.out_member_stride = output.values.shape[2]
        f.nsave = nsave
        f.init_first = int(init_first)
        if self.width > 1:
            self.model.lockstep_kernels()("fw_run_lockstep", f)
        else:
            self.model.kernels("fw_run", f)
        return int(f.nsave)

    def advance(self, k0: int, k1: int) -> None:
        """Step from step ``k0`` to ``k1`` with the arrays the last ``run`` bound (a stepping loop's
        inner call: nothing is rebound)."""
        f = self.frame
        f.k0, f.k1, f.final = k0, k1, 0
        if self.width > 1:
            self.model.lockstep_kernels()("fw_run_lockstep", f)
        else:
            self.model.kernels("fw_run", f)

    # ------------------------------------------------------------------ DELAY FIXED pipelines
    def _make_pipes(self) -> None:
        layout = self.model.layout
        if not layout.n_pipes:
            return
        C = self.arrays["C"]
        lengths = [int(np.nanmax(C[:, row, :])) for row in layout.pipe_len_rows]
        offsets = np.cumsum([layout.n_discrete, *lengths[:-1]]).astype(np.int64)
        old = self.arrays["D"]
        D = np.zeros((old.shape[0], layout.n_discrete + sum(lengths), old.shape[2]))
        D[:, : layout.n_discrete] = old[:, : layout.n_discrete]
        for first, length, init_row in zip(offsets, lengths, layout.pipe_init_rows, strict=True):
            D[:, first : first + length] = C[:, init_row : init_row + 1, :]
        self.arrays["D"], self.arrays["doff"] = D, offsets
        self.frame.D, self.frame.doff, self.frame.d_rows = _ptr(D), _ptr(offsets), D.shape[1]

    # ------------------------------------------------------------------ state
    def copy_state(self) -> dict[str, np.ndarray]:
        """Everything a continued run needs (states, fixed values, discrete state, pipelines)."""
        return {name: self.arrays[name].copy() for name in ("Y", "C", "D", "V", "doff")}

    def restore_state(self, state: dict[str, np.ndarray]) -> None:
        for name, value in state.items():
            array = value.copy()
            self.arrays[name] = array
            setattr(self.frame, name, _ptr(array))
            self._bound.pop(name, None)
        self.frame.d_rows = self.arrays["D"].shape[1]


def default_tables(model: CompiledModel, overrides: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Tables:
    """The model's lookup tables as flat arrays, with some replaced (by name)."""
    layout = model.layout
    xs = [np.asarray(x, dtype=float) for x in layout.table_x]
    ys = [np.asarray(y, dtype=float) for y in layout.table_y]
    for name, (x, y) in (overrides or {}).items():
        index = layout.tables[name]
        xs[index], ys[index] = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lengths = np.array([len(x) for x in xs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(xs) else np.zeros(0, dtype=np.int64)
    x = np.concatenate(xs)[None, :] if xs else np.zeros((1, 0))
    y = np.concatenate(ys)[None, :] if ys else np.zeros((1, 0))
    return Tables(x, y, offsets, lengths)
