"""The compiled model: metadata, parameters, and runs (single and ensembles)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from .compiler.ir import CONTROL_NAMES
from .errors import ModelError, ParameterError, SimulationError
from .simulate import FIXED_STEP, IvpOptions, check_method, integrate_ivp

_CONTROL_PARAMS = {name: control for control, name in CONTROL_NAMES.items()}  # "TIME STEP" -> "time_step"


@dataclass(frozen=True)
class VariableInfo:
    """What the model says about one variable."""

    name: str
    kind: str  # stock, flow, auxiliary, constant, lookup, control
    units: str
    documentation: str
    limits: tuple[float | None, float | None]
    default: float | None
    equation: str


@dataclass(frozen=True)
class TimeSettings:
    initial_time: float
    final_time: float
    time_step: float
    saveper: float


def _loose(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


class Model:
    """A model compiled to numba kernels. Create it with ``flywheel.load_model``."""

    def __init__(self, path: Path, kernels: ModuleType, meta: dict):
        self.path = path
        self.name: str = meta["model_name"]
        self._k = kernels
        self._layout = meta["layout"]
        self._controls = meta["controls"]
        self.variables: dict[str, VariableInfo] = {
            n: VariableInfo(**{**v, "limits": tuple(v["limits"])}) for n, v in meta["variables"].items()
        }
        self.dependencies: dict[str, set[str]] = {n: set(d) for n, d in meta["dependencies"].items()}
        self._record = list(self._layout["record_names"])
        self._record_index = {n: i for i, n in enumerate(self._record)}
        self._defaults = np.array([np.nan if v is None else v for v in self._layout["param_defaults"]], dtype=float)
        self._n_params = max(len(self._defaults), 1)
        if len(self._defaults) == 0:
            self._defaults = np.zeros(1)
        self._tables_x = [np.asarray(x, dtype=float) for x in self._layout["table_x"]]
        self._tables_y = [np.asarray(y, dtype=float) for y in self._layout["table_y"]]
        self._loose_names = {_loose(n): n for n in self.variables}
        self._state_names = {i: n for n, i in self._layout["stock_index"].items()}

    # ------------------------------------------------------------------ metadata
    def _names_of(self, kind: str) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind == kind]

    @property
    def stocks(self) -> list[str]:
        return self._names_of("stock")

    @property
    def constants(self) -> list[str]:
        return self._names_of("constant")

    @property
    def lookups(self) -> list[str]:
        return self._names_of("lookup")

    @property
    def auxiliaries(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind in ("auxiliary", "flow")]

    @property
    def has_discrete_state(self) -> bool:
        return bool(self._layout["has_discrete_state"])

    @property
    def initial_time(self) -> float:
        return float(self._controls["initial_time"])

    @property
    def final_time(self) -> float | None:
        return self._controls["final_time"]

    @property
    def time_step(self) -> float:
        return float(self._controls["time_step"])

    @property
    def saveper(self) -> float:
        return float(self._controls["saveper"])

    def __repr__(self) -> str:
        return f"<flywheel.Model {self.name!r}: {len(self.stocks)} stocks, {len(self.variables)} variables>"

    # ------------------------------------------------------------------ names
    def resolve_name(self, name: str) -> str:
        """The model's own spelling of ``name`` (exact, or ignoring case, spaces and underscores)."""
        if name in self.variables:
            return name
        if isinstance(name, str) and _loose(name) in self._loose_names:
            return self._loose_names[_loose(name)]
        close = difflib.get_close_matches(str(name), list(self.variables), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ParameterError(f"{self.path.name}: unknown variable {name!r}{hint}")

    # ------------------------------------------------------------------ parameters
    def _time_settings(self, time_step, final_time, saveper, initial_time=None) -> TimeSettings:
        final = final_time if final_time is not None else self._controls["final_time"]
        if final is None and not self._layout["dynamic_time"]:
            raise ModelError(f"{self.path.name}: FINAL TIME is not a number; pass final_time=")
        step = time_step if time_step is not None else self.time_step
        if saveper is None:  # a model saving every step keeps doing so at a new time step
            saveper = step if self.saveper == self.time_step else self.saveper
        settings = TimeSettings(
            initial_time=float(initial_time if initial_time is not None else self.initial_time),
            final_time=float(final) if final is not None else np.inf,
            time_step=float(step),
            saveper=float(saveper),
        )
        for label, value in (("time_step", settings.time_step), ("saveper", settings.saveper)):
            if not np.isfinite(value) or value <= 0:
                raise ParameterError(f"{label} must be a positive number, got {value}")
        if settings.final_time < settings.initial_time:
            raise ParameterError(f"final_time ({settings.final_time}) is before the initial time ({settings.initial_time})")
        return settings

    def _apply_params(self, params: Mapping | None, p: np.ndarray, ovm: np.ndarray, tables: list, times: dict) -> None:
        for raw_name, value in (params or {}).items():
            name = self.resolve_name(raw_name)
            kind = self.variables[name].kind
            if name in _CONTROL_PARAMS:
                times[_CONTROL_PARAMS[name]] = _number(name, value)
            elif kind == "lookup":
                tables[self._layout["tables"][name]] = _table(name, value)
            elif kind == "stock":
                raise ParameterError(f"{name!r} is a stock; set its initial value with initial_condition=(time, {{name: value}})")
            elif name in self._layout["param_slots"]:
                slot = self._layout["param_slots"][name]
                p[slot] = _number(name, value)
                ovm[slot] = True
            else:
                raise ParameterError(f"{name!r} cannot be set (it is a {kind})")

    def _apply_initial_condition(self, initial_condition, p: np.ndarray, ovm: np.ndarray) -> float | None:
        if initial_condition is None or (isinstance(initial_condition, str) and initial_condition == "original"):
            return None
        if not (isinstance(initial_condition, Sequence) and len(initial_condition) == 2 and isinstance(initial_condition[1], Mapping)):
            raise ParameterError("initial_condition must be None, 'original' or (time, {stock name: value})")
        start, values = initial_condition
        for raw_name, value in values.items():
            name = self.resolve_name(raw_name)
            if name not in self._layout["stock_init_slots"]:
                raise ParameterError(f"initial_condition: {name!r} is not a stock")
            slot = self._layout["stock_init_slots"][name]
            p[slot] = _number(name, value)
            ovm[slot] = True
        return _number("initial_condition time", start)

    def _prepare(self, params, initial_condition, time_step, final_time, saveper, method):
        method = check_method(method)
        p = self._defaults.copy()
        ovm = np.zeros(self._n_params, dtype=np.bool_)
        tables = list(zip(self._tables_x, self._tables_y, strict=True))
        times: dict = {}
        self._apply_params(params, p, ovm, tables, times)
        start = self._apply_initial_condition(initial_condition, p, ovm)
        settings = self._time_settings(
            time_step if time_step is not None else times.get("time_step"),
            final_time if final_time is not None else times.get("final_time"),
            saveper if saveper is not None else times.get("saveper"),
            start if start is not None else times.get("initial_time"),
        )
        lk = _flatten_tables(tables)
        return method, p, ovm, lk, settings

    def _columns(self, return_columns) -> list[str]:
        if return_columns is None:
            return list(self._record)
        if isinstance(return_columns, str):
            return_columns = [return_columns]
        names = []
        for raw in return_columns:
            name = self.resolve_name(raw)
            if name not in self._record_index:
                raise ParameterError(f"{name!r} is a lookup and has no values over time")
            names.append(name)
        return names

    # ------------------------------------------------------------------ runs
    def run(
        self,
        params: Mapping | None = None,
        initial_condition=None,
        return_columns: Sequence[str] | None = None,
        method: str = "euler",
        time_step: float | None = None,
        final_time: float | None = None,
        saveper: float | None = None,
        ivp_options: IvpOptions | None = None,
    ):
        """Simulate once; a DataFrame indexed by time with one column per variable (PySD's shape)."""
        import pandas as pd

        method, p, ovm, (lkx, lky, lko, lkn), s = self._prepare(params, initial_condition, time_step, final_time, saveper, method)
        names = self._columns(return_columns)
        cols = np.array([self._record_index[n] for n in names], dtype=np.int64)
        if method in FIXED_STEP:
            values, times = self._run_fixed(method, p, ovm, lkx, lky, lko, lkn, s, cols)
        else:
            values, times = self._run_adaptive(method, p, ovm, lkx, lky, lko, lkn, s, cols, ivp_options or IvpOptions())
        digits = max(0, -int(np.log10(s.time_step * 1e-5)))
        index = pd.Index(np.round(times, digits), name="time")
        return pd.DataFrame(values, index=index, columns=names)

    def _run_fixed(self, method, p, ovm, lkx, lky, lko, lkn, s: TimeSettings, cols):
        from .compiler import runtime as rt

        table = FIXED_STEP[method]
        if self._layout["dynamic_time"]:
            capacity, n_steps, schedule = 1024, -1, np.zeros(1, dtype=np.int8)
        else:
            n_steps, schedule, _ = rt.time_grid(s.initial_time, s.time_step, s.final_time, s.saveper)
            capacity = int(schedule.sum()) + 1
        while True:
            out = np.empty((capacity, len(cols)))
            out_t = np.empty(capacity)
            row_map = np.arange(capacity, dtype=np.int64)
            nsave, bad, bad_time = self._k.simulate_member(
                p, ovm, lkx, lky, lko, lkn, s.initial_time, s.time_step, s.final_time, s.saveper, n_steps, schedule,
                table.a, table.b, table.c, row_map, cols, out, out_t,
            )  # fmt: skip
            if nsave <= capacity:
                break
            capacity = nsave + 1
        if bad >= 0:
            what = self._state_names.get(bad, "an internal state (SMOOTH/DELAY/TREND)")
            raise SimulationError(
                f"{self.path.name}: {what!r} became infinite or NaN at time {bad_time:g} "
                f"(method {method}, time step {s.time_step:g}); try a smaller time step or check the parameters"
            )
        return out[:nsave], out_t[:nsave]

    def _run_adaptive(self, method, p, ovm, lkx, lky, lko, lkn, s: TimeSettings, cols, options):
        from .compiler import runtime as rt

        if self.has_discrete_state or self._layout["dynamic_time"]:
            raise SimulationError(
                f"{self.path.name}: {method} is adaptive and this model has discrete state (DELAY FIXED, "
                "SAMPLE IF TRUE, a variable DELAY N time) or control variables that change during the run; "
                "use method='euler' or 'rk4'"
            )
        times = rt.save_times(s.initial_time, s.time_step, s.final_time, s.saveper)
        args = (p, ovm, lkx, lky, lko, lkn, s.initial_time, s.time_step, s.final_time, s.saveper)
        values = integrate_ivp(self._k, args, times, len(self._record), method, options)
        if not np.all(np.isfinite(values[:, [self._record_index[n] for n in self.stocks]])):
            raise SimulationError(f"{self.path.name}: a stock became infinite or NaN with {method}")
        return values[:, cols], times

    def run_ensemble(
        self,
        params_table,
        return_columns: Sequence[str] | None = None,
        return_times: Sequence[float] | None = None,
        method: str = "euler",
        time_step: float | None = None,
        final_time: float | None = None,
        saveper: float | None = None,
        chunk_size: int | None = None,
        progress: bool = False,
    ):
        """Run one member per row of ``params_table`` in one vectorised, parallel integration.

        Returns an ``xarray.Dataset`` with dimensions ``member`` and ``time``; the coordinate ``diverged``
        marks members whose states became infinite or NaN.
        """
        from .ensemble import run_ensemble

        return run_ensemble(self, params_table, return_columns, return_times, method, time_step, final_time, saveper, chunk_size, progress)


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name!r} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"{name!r} must be finite, got {value}")
    return value


def _table(name: str, value) -> tuple[np.ndarray, np.ndarray]:
    try:
        if hasattr(value, "index") and hasattr(value, "values"):  # pandas Series: index is x
            xs, ys = np.asarray(value.index, dtype=float), np.asarray(value.values, dtype=float)
        else:
            xs, ys = (np.asarray(v, dtype=float) for v in value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"lookup {name!r} must be given as (xs, ys), got {value!r}") from exc
    if xs.ndim != 1 or xs.shape != ys.shape or len(xs) == 0:
        raise ParameterError(f"lookup {name!r}: xs and ys must be 1-D and of equal, non-zero length")
    if np.any(np.diff(xs) < 0) or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ParameterError(f"lookup {name!r}: xs must be increasing and all values finite")
    return xs, ys


def _flatten_tables(tables: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not tables:
        return np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    lkn = np.array([len(x) for x, _ in tables], dtype=np.int64)
    lko = np.concatenate([[0], np.cumsum(lkn)[:-1]]).astype(np.int64)
    return np.concatenate([x for x, _ in tables]), np.concatenate([y for _, y in tables]), lko, lkn


def load_model(path: str | Path, *, cache: bool = True) -> Model:
    """Read a Vensim (.mdl) or XMILE (.xmile/.stmx) model and compile it (cached on disk)."""
    from .compiler import cache as model_cache

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    key = model_cache.model_key(path)
    loaded = model_cache.load_cached(key) if cache else None
    if loaded is None:
        from .compiler import compile_model

        artifacts = compile_model(path)
        loaded = model_cache.store(key, artifacts.source, artifacts.meta)
    kernels, meta = loaded
    return Model(path, kernels, meta)
