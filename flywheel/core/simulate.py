"""``simulate``: run a specification, for one member or for a table of members, into a ``Result``.

Fixed-step methods run in the compiled stepping loop: one member for a single run; for an ensemble,
chunks of members on a thread pool (the compiled code releases the GIL), each chunk in blocks of
members advancing in lockstep. Adaptive methods use scipy's ``solve_ivp`` on the compiled derivative
function. A state that becomes NaN or infinite in a single run is an error naming it and the time; a
value found NaN or infinite at an output time is a warning naming the variable and the time.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import ParameterError, SimulationError
from .ensemble import MemberTable, member_table, member_tables, parameter_block
from .results import EnsembleSpec, Result
from .running import NonFiniteWarning, output_columns, prepared_workspace, report_problems
from .spec import RunSpec, check_runnable
from .stepper import Stepper
from .workspace import BLOCK, Output, Workspace

_CHUNK_BYTES = 24 * 2**20  # scratch per chunk of an ensemble
_MAX_RESULT_BYTES = 16 * 2**30  # refuse results larger than this: ask for fewer columns or times
_MIN_CHUNK = 256


def simulate(
    spec: RunSpec,
    *,
    members: Any = None,
    columns: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    initial_state: Any = None,
    chunk_size: int | None = None,
    threads: int | None = None,
    progress: bool = False,
    lockstep: bool | None = None,
) -> Result:
    """Run ``spec`` once, or once per row of ``members`` (an ensemble around the spec).

    Given a ``Result`` instead of a spec, run exactly what made it again (the same numbers, bit for bit).

    Ensemble members run in lockstep vectors when the model allows (``lockstep`` None), or one at a
    time (False); both give the same numbers as single runs, bit for bit."""
    if isinstance(spec, Result):
        return _repeat(spec)
    check_runnable(spec.model)
    names = output_columns(spec, columns)
    if members is None:
        if initial_state is not None:
            result = _continue(spec, names, initial_state)
        elif spec.method.fixed_step:
            result = _single(spec, names)
        else:
            result = _adaptive(spec, names)
        return result if times is None else _at_times(result, times)
    if initial_state is not None:
        raise ParameterError("an ensemble starts from the model's initial state; initial_state is for single runs")
    table = member_table(spec.model, members, spec.strict)
    return _ensemble(spec, table, names, times, chunk_size, threads, progress, lockstep)


# ------------------------------------------------------------------------------------------- single


def _single(spec: RunSpec, names: list[str]) -> Result:
    space = prepared_workspace(spec, reuse=True)
    space.init()
    cols = spec.model.value_rows(names)
    if spec.model.layout.dynamic_time:
        return _single_dynamic(spec, space, names, cols)
    grid = spec.time.grid
    n_rows = grid.n_saves
    output = Output(np.empty((len(cols), 1, n_rows)), np.empty(n_rows), grid.rows, cols)
    space.run(grid.times, grid.schedule, spec.method.table, 0, grid.n_steps, True, output)
    report_problems(spec, space)
    return Result(spec, names, output.times, output.values)


def _single_dynamic(spec: RunSpec, space: Workspace, names: list[str], cols: np.ndarray) -> Result:
    """TIME STEP or SAVEPER as equations of Time: the run finds its own steps and output times."""
    start = np.array([spec.time.initial_time])
    state = space.copy_state()
    capacity = 1024
    while True:
        output = Output(np.empty((len(cols), 1, capacity)), np.empty(capacity), np.arange(capacity, dtype=np.int64), cols)
        nsave = space.run(start, np.zeros(1, dtype=np.uint8), spec.method.table, 0, 2**62, True, output)
        if nsave <= capacity:
            break
        capacity = nsave + 1
        space.restore_state(state)
    report_problems(spec, space)
    return Result(spec, names, output.times[:nsave], output.values[:, :, :nsave])


def _continue(spec: RunSpec, names: list[str], state: Any) -> Result:
    """Continue a run from a saved ``State`` (see core.stepper) to the spec's final time."""
    stepper = Stepper(spec, columns=names, state=state)
    stepper.run_to_end()
    return stepper.result(since_state=True)


# ------------------------------------------------------------------------------------------- adaptive


def _adaptive(spec: RunSpec, names: list[str]) -> Result:
    from scipy.integrate import solve_ivp

    space = prepared_workspace(spec)
    space.init()
    model = spec.model
    n = model.layout.n_states
    y0 = space.first("Y")[:n].copy()
    dydt = space.first("dydt")

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        space.evaluate(t, y)
        return dydt[:n].copy()

    grid = spec.time.grid
    times = grid.save_times
    end = float(times[-1]) if len(times) else spec.time.initial_time
    solution = solve_ivp(
        rhs, (spec.time.initial_time, end), y0 if n else np.zeros(1), method=spec.method.name, t_eval=times,
        rtol=spec.ivp.rtol, atol=spec.ivp.atol,
    )  # fmt: skip
    if not solution.success:
        raise SimulationError(f"{model.path.name}: solve_ivp ({spec.method.name}) failed: {solution.message}")
    cols = [model.value_index[name] for name in names]
    values = np.empty((len(cols), 1, len(times)))
    for k, t in enumerate(times):
        space.evaluate(float(t), solution.y[:n, k] if n else None)
        values[:, 0, k] = space.first("V")[cols]
    if n and not np.all(np.isfinite(solution.y)):
        raise SimulationError(f"{model.path.name}: a stock became infinite or NaN with {spec.method.name}")
    return Result(spec, names, np.asarray(times, dtype=float), values)


# ------------------------------------------------------------------------------------------- ensembles


def _ensemble(spec, table: MemberTable, names, times, chunk_size, threads, progress, lockstep) -> Result:
    model = spec.model
    if not spec.method.fixed_step:
        raise ParameterError(f"ensembles use fixed-step methods (euler, rk2, rk4), not {spec.method.name}")
    if model.layout.dynamic_time:
        raise ParameterError(f"{model.path.name}: ensembles need FINAL TIME, TIME STEP and SAVEPER that stay constant")
    grid = spec.time.grid
    all_times = grid.save_times
    row_map, kept = _row_map(all_times, times)
    cols = np.array([model.value_index[n] for n in names], dtype=np.int64)
    n = table.n
    size = n * len(kept) * len(cols) * 8
    if size > _MAX_RESULT_BYTES:
        raise ParameterError(
            f"the result would take {size / 2**30:.1f} GiB; ask for fewer return_columns or return_times"
        )
    values = np.empty((len(cols), n, len(kept)))
    out_t = np.empty(len(kept))
    bad = np.full(n, -1, dtype=np.int64)
    layout = model.layout
    per_member = 8 * (layout.n_params + (3 + spec.method.table.stages) * layout.n_states + layout.n_static
                      + layout.n_discrete + layout.n_values + layout.n_work + 8)  # fmt: skip
    threads = threads or os.cpu_count() or 1
    chunk = chunk_size or int(np.clip(_CHUNK_BYTES // max(per_member, 1), _MIN_CHUNK, max(_MIN_CHUNK, math.ceil(n / threads))))
    chunk = max(BLOCK, -(-chunk // BLOCK) * BLOCK)  # whole blocks
    tables = member_tables(spec, table)
    discrete = layout.has_discrete_state
    blocks = lockstep_ok(spec, table, tables) if lockstep is not False else False
    problems: list[tuple[int, int, float]] = []
    streams = member_streams(table)

    def run_chunk(lo: int) -> None:
        hi = min(lo + chunk, n)
        space = Workspace(model, hi - lo, blocks=blocks, stages=spec.method.table.stages)
        P, override = parameter_block(spec, table, lo, hi)
        space.set_params(P, override)
        space.set_tables(tables.rows(lo, hi, pad_to=space.stride))
        space.set_random(spec.seed, streams[lo:hi])
        t = spec.time
        space.set_controls(t.initial_time, t.time_step, t.final_time, t.saveper)
        output = Output(values, out_t, row_map, cols, member0=lo)
        if discrete:
            space.init()
        space.run(grid.times, grid.schedule, spec.method.table, 0, grid.n_steps, True, output, init_first=not discrete)
        bad[lo:hi] = space.arrays["bad_state"][: hi - lo]
        flagged = np.flatnonzero(space.arrays["bad_value"][: hi - lo] >= 0)
        if len(flagged):
            first = flagged[0]
            problems.append((lo + first, int(space.arrays["bad_value"][first]), float(space.arrays["bad_value_time"][first])))

    starts = list(range(0, n, chunk))
    bar = None
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="member", desc=f"{n:,} members")
    if len(starts) <= 1 or threads == 1:
        for lo in starts:
            run_chunk(lo)
            if bar is not None:
                bar.update(min(chunk, n - lo))
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for lo, _ in zip(starts, pool.map(run_chunk, starts), strict=True):
                if bar is not None:
                    bar.update(min(chunk, n - lo))
    if bar is not None:
        bar.close()
    if problems:
        member, row, at = min(problems)
        count = "some members" if len(problems) > 1 else f"member {member}"
        warnings.warn(
            f"{model.path.name}: {count} had NaN or infinite values (first: {layout.value_names[row]!r} at time {at:g})",
            NonFiniteWarning,
            stacklevel=3,
        )
    members = table.index if table.index is not None else np.arange(n)
    ensemble = EnsembleSpec(table, tuple(names), None if times is None else tuple(float(t) for t in kept))
    return Result(spec, names, kept, values, members=members, diverged=bad >= 0, ensemble=ensemble)


def member_streams(table: MemberTable) -> np.ndarray:
    """Each member's random stream: its label in the table (a whole number), else its position; so a
    member run alone (``table.iloc[[k]]``) draws what it draws in the whole ensemble."""
    index = table.index
    if index is not None and len(index) and np.issubdtype(np.asarray(index).dtype, np.integer):
        return np.asarray(index, dtype=np.int64)
    return np.arange(table.n, dtype=np.int64)


def lockstep_ok(spec: RunSpec, table: MemberTable, tables) -> bool:
    """Whether members can run in lockstep blocks (the compiled lockstep evaluation applies): a model
    without discrete state and with fixed time settings, no auxiliary that changes during the run
    overridden, and lookup tables shared by all members, of the compiled sizes."""
    layout = spec.model.layout
    if not layout.lockstep:
        return False
    dynamic = set(layout.dynamic_params)
    if dynamic & (set(spec.params) | set(table.values)):
        return False
    compiled = [len(x) for x in layout.table_x]
    return not tables.per_member and [int(n) for n in tables.lengths] == compiled


def _row_map(all_times: np.ndarray, wanted: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Which output time goes to which result row (-1: not kept), and the times kept."""
    if wanted is None:
        return np.arange(len(all_times), dtype=np.int64), all_times.copy()
    wanted = np.atleast_1d(np.asarray(wanted, dtype=float))
    tolerance = 1e-9 + 1e-9 * np.abs(wanted)
    hits = np.minimum(np.searchsorted(all_times, wanted - tolerance, side="left"), len(all_times) - 1)
    missing = ~(np.abs(all_times[hits] - wanted) <= tolerance)
    if missing.any():
        t = wanted[np.argmax(missing)]
        raise ParameterError(f"return_times: {t:g} is not an output time (every saveper from the initial time)")
    if len(np.unique(hits)) < len(hits):
        raise ParameterError("return_times: a time is asked for twice; each output time may appear once")
    row_map = np.full(len(all_times), -1, dtype=np.int64)
    row_map[hits] = np.arange(len(wanted))
    return row_map, wanted


def _at_times(result: Result, times: Sequence[float]) -> Result:
    """A single run's result at the requested output times only (in the order asked)."""
    row_map, kept = _row_map(np.asarray(result.times, dtype=float), times)
    rows = np.empty(len(kept), dtype=np.int64)
    rows[row_map[row_map >= 0]] = np.flatnonzero(row_map >= 0)
    return Result(result.spec, result.names, kept, result.values[:, :, rows])


def _repeat(result: Result) -> Result:
    if result.ensemble is None:
        again = simulate(result.spec, columns=result.names)
        if len(again.times) == len(result.times) and np.array_equal(again.times, result.times):
            return again
        return _at_times(again, result.times)
    ensemble = result.ensemble
    return simulate(result.spec, members=ensemble.members, columns=ensemble.columns, times=ensemble.times)
