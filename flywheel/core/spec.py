"""The run specification: parameters (values with bounds), time settings and method, checked once.

Every run, ensemble, stepper and scenario goes through ``build_spec``, so there is one set of rules for
names, values, ranges and time settings, and one place that reports a mistake: an unknown name (with
"did you mean"), a value outside its documented range (a warning naming the value and the range, or an
error when strict), a save period that is not a multiple of the time step, a final time before the
initial time, a lookup with unsorted or mismatched points. A ``RunSpec`` is frozen; ``replace`` makes a
new, re-checked one.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..compiler.frame import CONTROL_NAMES
from ..errors import ModelError, ParameterError
from .elements import array_info, array_items, base_name, element_names, resolve_element, split
from .methods import Method
from .methods import method as find_method
from .workspace import Tables, default_tables

if TYPE_CHECKING:
    from .compiled import CompiledModel

TIME_RPREC = 1e-5  # PySD's relative precision for the final time and the save times
_CONTROL_PARAMS = {name: control for control, name in CONTROL_NAMES.items()}  # "TIME STEP" -> "time_step"


class RangeWarning(UserWarning):
    """A value lies outside the range the model documents for it."""


@dataclass(frozen=True)
class IvpOptions:
    """Tolerances for scipy's solve_ivp; the defaults suit models whose values are O(1)..O(1e6)."""

    rtol: float = 1e-6
    atol: float = 1e-9


@dataclass(frozen=True)
class Parameter:
    """One settable input of a model: its value, default and documented bounds (like lmfit's Parameter)."""

    name: str
    value: float
    default: float | None
    low: float | None
    high: float | None
    units: str = ""

    def within(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


# ------------------------------------------------------------------------------------------------ time


@dataclass(frozen=True)
class TimeGrid:
    """The steps of a fixed-step run: their times (accumulated ``t += dt`` exactly as the run does), and
    which of them are output times (PySD's rule, robust to rounding)."""

    times: np.ndarray
    schedule: np.ndarray  # uint8 flags
    n_steps: int

    @property
    def save_times(self) -> np.ndarray:
        return self.times[self.schedule == 1]

    @functools.cached_property
    def n_saves(self) -> int:
        return int(self.schedule.sum())

    @functools.cached_property
    def rows(self) -> np.ndarray:
        """0, 1, ... for every output time: the row map of a run that keeps them all."""
        rows = np.arange(self.n_saves, dtype=np.int64)
        rows.setflags(write=False)
        return rows


@functools.lru_cache(maxsize=256)
def time_grid(t0: float, dt: float, tf: float, saveper: float) -> TimeGrid:
    n_max = int((tf - t0) / dt) + 3
    times = np.cumsum(np.concatenate([[t0], np.full(n_max, dt)]))  # sequential: t = t + dt, bit for bit
    running = times + dt * TIME_RPREC < tf
    n_steps = int(np.argmin(running)) if not running.all() else len(times) - 1
    times = times[: n_steps + 1]
    prec = dt * TIME_RPREC
    delay = times - t0
    schedule = ((np.mod(delay, saveper) < prec) | (np.mod(-delay, saveper) < prec)).astype(np.uint8)
    times.setflags(write=False)
    schedule.setflags(write=False)
    return TimeGrid(times, schedule, n_steps)


@dataclass(frozen=True)
class TimeSettings:
    initial_time: float
    final_time: float
    time_step: float
    saveper: float

    @property
    def grid(self) -> TimeGrid:
        return time_grid(self.initial_time, self.time_step, self.final_time, self.saveper)


def check_time_settings(
    model: CompiledModel,
    *,
    initial_time: float | None = None,
    final_time: float | None = None,
    time_step: float | None = None,
    saveper: float | None = None,
    where: str = "",
) -> TimeSettings:
    """The one set of rules for time settings; ``None`` means the model's own value. ``where`` starts
    every message (default: the model file's name)."""
    where = where or f"{model.path.name}:"
    controls = model.controls
    given = {"final_time": final_time, "time_step": time_step, "saveper": saveper}
    for label, value in given.items():
        if value is not None:
            _finite(where.rstrip(":"), label, value)
    if model.layout.dynamic_time:
        for label, value in given.items():
            if value is not None:
                raise ParameterError(
                    f"{where} {label}: this model computes {CONTROL_NAMES[label]} from an equation of Time; "
                    "it cannot be set for a run"
                )
    start = float(initial_time) if initial_time is not None else float(controls["initial_time"])
    final = final_time if final_time is not None else controls["final_time"]
    if final is None:
        raise ModelError(f"{where} FINAL TIME is not a number; give final_time")
    step = float(time_step) if time_step is not None else float(controls["time_step"])
    if saveper is not None:
        every = float(saveper)
    elif controls["saveper"] == controls["time_step"]:  # a model saving every step keeps doing so
        every = step
    else:
        every = float(controls["saveper"])
    settings = TimeSettings(start, float(final), step, every)
    if settings.time_step <= 0:
        raise ParameterError(f"{where} time_step = {settings.time_step:g}: must be greater than 0")
    if settings.saveper <= 0:
        raise ParameterError(f"{where} saveper = {settings.saveper:g}: must be greater than 0")
    if settings.final_time < settings.initial_time:
        raise ParameterError(
            f"{where} final_time = {settings.final_time:g}: before the initial time {settings.initial_time:g}"
        )
    length = settings.final_time - settings.initial_time
    if time_step is not None and length > 0 and settings.time_step > length:
        raise ParameterError(
            f"{where} time_step = {settings.time_step:g}: longer than the whole run "
            f"({settings.initial_time:g} to {settings.final_time:g})"
        )
    if (time_step is not None or saveper is not None) and not model.layout.dynamic_time:
        ratio = settings.saveper / settings.time_step
        if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio):
            label = "saveper" if saveper is not None else "time_step"
            raise ParameterError(
                f"{where} {label}: saveper ({settings.saveper:g}) must be a whole multiple of time_step "
                f"({settings.time_step:g})"
            )
    return settings


# ------------------------------------------------------------------------------------------------ spec


@dataclass(frozen=True, eq=False)
class RunSpec:
    """Everything that determines a run, checked. Build it with ``build_spec``."""

    model: CompiledModel
    params: Mapping[str, float]  # constants (and auxiliaries made constant) set for the run
    tables: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]]  # lookups replaced for the run
    initial_values: Mapping[str, float]  # stocks started at a given value
    time: TimeSettings
    method: Method
    ivp: IvpOptions = field(default_factory=IvpOptions)
    strict: bool = False
    seed: int = 0  # random draws (RANDOM UNIFORM ...): the same seed gives the same numbers

    def __reduce__(self):  # pickles by value (mapping proxies do not pickle); the model by its cache entry
        return (_rebuild_spec, (self.model, dict(self.params), dict(self.tables), dict(self.initial_values),
                                self.time, self.method.name, self.ivp, self.strict, self.seed))  # fmt: skip

    def replace(self, params: Mapping[str, Any] | None = None, **changes: Any) -> RunSpec:
        """A new specification with some settings changed (``params`` are merged), checked again."""
        merged = {**self.params, **{k: _table_tuple(v) for k, v in self.tables.items()}, **(params or {})}
        time = self.time
        settings = {
            "time_step": changes.pop("time_step", time.time_step),
            "final_time": changes.pop("final_time", time.final_time),
            "saveper": changes.pop("saveper", time.saveper),
            "method": changes.pop("method", self.method),
            "strict": changes.pop("strict", self.strict),
            "ivp_options": changes.pop("ivp_options", self.ivp),
            "seed": changes.pop("seed", self.seed),
        }
        initial = changes.pop("initial_values", self.initial_values)
        if changes:
            raise ParameterError(f"RunSpec.replace: unknown setting(s) {', '.join(changes)}")
        start = time.initial_time if initial or time.initial_time != self.model.controls["initial_time"] else None
        condition = (start, dict(initial)) if start is not None else None
        if self.model.layout.dynamic_time:
            settings.update(time_step=None, final_time=None, saveper=None)
        return build_spec(self.model, merged, initial_condition=condition, **settings)

    @functools.cached_property
    def vector(self) -> tuple[np.ndarray, np.ndarray]:
        """Parameter values (one per slot) and which slots override the model's equation."""
        layout = self.model.layout
        values = self.model.param_defaults.copy()
        override = np.zeros(layout.n_params, dtype=np.uint8)
        for name, value in self.params.items():
            slot = layout.param_slots[name]
            values[slot], override[slot] = value, 1
        for name, value in self.initial_values.items():
            slot = layout.stock_init_slots[name]
            values[slot], override[slot] = value, 1
        values.setflags(write=False)
        override.setflags(write=False)
        return values, override

    @functools.cached_property
    def table_set(self) -> Tables:
        return default_tables(self.model, {name: (np.array(x), np.array(y)) for name, (x, y) in self.tables.items()})

    def describe(self) -> str:
        """A short text for reports and reprs."""
        parts = [f"{self.model.name}", f"{self.method.name}", f"dt {self.time.time_step:g}",
                 f"{self.time.initial_time:g}..{self.time.final_time:g}"]  # fmt: skip
        if self.params:
            parts.append(", ".join(f"{k}={v:g}" for k, v in self.params.items()))
        if self.model.layout.random:
            parts.append(f"seed {self.seed}")
        return "; ".join(parts)


def _rebuild_spec(model, params, tables, initial_values, time, method, ivp, strict, seed=0) -> RunSpec:
    return RunSpec(model, MappingProxyType(params), MappingProxyType(tables), MappingProxyType(initial_values),
                   time, find_method(method), ivp, strict, seed)  # fmt: skip


def check_seed(seed: Any, where: str) -> int:
    """A seed is a whole number from 0 to 2**63 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise ParameterError(f"{where}: seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return int(seed)


def build_spec(
    model: CompiledModel,
    params: Mapping[str, Any] | None = None,
    *,
    initial_condition: Any = None,
    time_step: float | None = None,
    final_time: float | None = None,
    saveper: float | None = None,
    method: str | Method = "euler",
    strict: bool = False,
    ivp_options: IvpOptions | None = None,
    where: str = "",
    seed: int = 0,
) -> RunSpec:
    """Check everything a run is given, once, and freeze it."""
    where = where or model.path.name
    chosen = find_method(method)
    seed = check_seed(seed, where)
    values: dict[str, float] = {}
    tables: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
    controls: dict[str, float] = {}
    for name, value in _element_items(model, params or {}, where):
        info = model.variables[base_name(name)]
        if name in _CONTROL_PARAMS:
            controls[_CONTROL_PARAMS[name]] = _number(where, name, value)
        elif info.kind == "lookup":
            if name not in model.layout.tables:
                raise ParameterError(f"{where}: {name!r} is an array of lookups; set its elements, e.g. {element_names(model, name)[0]!r}")
            tables[name] = _table_tuple(check_table(where, name, value))
        elif info.kind == "stock":
            raise ParameterError(
                f"{where}: {name!r} is a stock; set its initial value with initial_condition=(time, {{name: value}})"
            )
        elif name in model.layout.param_slots:
            number = _number(where, name, value)
            check_range(model, name, number, strict, where)
            values[name] = number
        else:
            raise ParameterError(f"{where}: {name!r} cannot be set (it is a {info.kind})")
    start, initial_values = _initial_condition(model, initial_condition, strict, where)
    time = check_time_settings(
        model,
        initial_time=start if start is not None else controls.get("initial_time"),
        final_time=final_time if final_time is not None else controls.get("final_time"),
        time_step=time_step if time_step is not None else controls.get("time_step"),
        saveper=saveper if saveper is not None else controls.get("saveper"),
        where=f"{where}:",
    )
    if not chosen.fixed_step and (model.layout.has_discrete_state or model.layout.dynamic_time):
        raise ParameterError(
            f"{where}: {chosen.name} is adaptive and this model has discrete state (DELAY FIXED, SAMPLE IF TRUE, "
            "a variable DELAY N time) or control variables that change during the run; use euler, rk2 or rk4"
        )
    if not chosen.fixed_step and model.layout.random:
        raise ParameterError(
            f"{where}: {chosen.name} is adaptive and this model draws random numbers (a new draw at every time "
            "the solver tries); use euler, rk2 or rk4"
        )
    return RunSpec(
        model=model,
        params=MappingProxyType(values),
        tables=MappingProxyType(tables),
        initial_values=MappingProxyType(initial_values),
        time=time,
        method=chosen,
        ivp=ivp_options or IvpOptions(),
        strict=strict,
        seed=seed,
    )


def check_runnable(model: CompiledModel) -> None:
    """A model with incomplete equations (A FUNCTION OF) has structure but cannot run."""
    if model.layout.incomplete:
        names = ", ".join(repr(n) for n in model.layout.incomplete)
        raise ModelError(f"{model.path.name}: cannot run: these variables have no equation yet (A FUNCTION OF): {names}")


# ------------------------------------------------------------------------------------------------ names


def _loose(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def _element_items(model: CompiledModel, given: Mapping[str, Any], where: str) -> list[tuple[str, Any]]:
    """(name, value) pairs with whole arrays split into their elements (``Name[a,b]``)."""
    items: list[tuple[str, Any]] = []
    for raw_name, value in given.items():
        name = resolve_name(model, raw_name, where)
        if array_info(model, name) is not None and model.variables[name].kind != "lookup":
            items += array_items(model, name, value, where)
        elif array_info(model, name) is not None and _is_table(value):  # one table for every element
            items += [(element, value) for element in element_names(model, name)]
        else:
            items.append((name, value))
    return items


def _is_table(value: Any) -> bool:
    try:
        xs, ys = value
        return np.asarray(xs, dtype=float).ndim == 1 and np.asarray(ys, dtype=float).ndim == 1
    except (TypeError, ValueError):
        return hasattr(value, "index") and hasattr(value, "values")


def resolve_name(model: CompiledModel, name: Any, where: str = "") -> str:
    """The model's own spelling of ``name`` (exact, or ignoring case, spaces and underscores); an element
    of an array as ``Name[a,b]`` (each element matched the same way)."""
    variables = model.variables
    if isinstance(name, str) and name in variables:
        return name
    if isinstance(name, str):
        base, subs = split(name)
        if subs is not None:
            return resolve_element(model, resolve_name(model, base, where), subs, where)
        loose = _loose_names(model)
        if _loose(name) in loose:
            return loose[_loose(name)]
    close = difflib.get_close_matches(str(name), list(variables), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ParameterError(f"{where or model.path.name}: unknown variable {name!r}{hint}")


def _loose_names(model: CompiledModel) -> dict[str, str]:
    cached = model.__dict__.get("_loose_names")
    if cached is None:
        cached = {_loose(n): n for n in model.variables}
        model.__dict__["_loose_names"] = cached
    return cached


# ------------------------------------------------------------------------------------------------ values


def check_range(model: CompiledModel, name: str, value: float, strict: bool, where: str = "") -> None:
    """Compare a value with the range the model documents; warn once per model, or raise when strict."""
    low, high = model.variables[base_name(name)].limits
    if (low is None or value >= low) and (high is None or value <= high):
        return
    shown = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
    message = f"{where or model.path.name}: {name} = {value:g} is outside its documented range {shown}"
    if strict:
        raise ParameterError(message)
    if (name, value) not in model.warned:
        model.warned.add((name, value))
        warnings.warn(message, RangeWarning, stacklevel=4)


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where}: {name!r} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{where}: {name!r} must be finite, got {value}")
    return value


def _finite(where: str, label: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise ParameterError(f"{where}: {label} must be a finite number, got {value!r}")


def check_table(where: str, name: str, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """A lookup given as (xs, ys) or a pandas Series (index = x): 1-D, equal lengths, sorted, finite."""
    try:
        if hasattr(value, "index") and hasattr(value, "values"):
            xs, ys = np.asarray(value.index, dtype=float), np.asarray(value.values, dtype=float)
        else:
            xs, ys = (np.asarray(v, dtype=float) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: lookup {name!r} must be given as (xs, ys), got {value!r}") from None
    if xs.ndim != 1 or xs.shape != ys.shape or len(xs) == 0:
        raise ParameterError(f"{where}: lookup {name!r}: xs and ys must be 1-D and of equal, non-zero length")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ParameterError(f"{where}: lookup {name!r}: every point must be a finite number")
    if np.any(np.diff(xs) < 0):
        raise ParameterError(f"{where}: lookup {name!r}: xs must be sorted in increasing order")
    return xs, ys


def _table_tuple(value: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    xs, ys = value
    return tuple(float(x) for x in xs), tuple(float(y) for y in ys)


def _initial_condition(model: CompiledModel, condition: Any, strict: bool, where: str) -> tuple[float | None, dict[str, float]]:
    if condition is None or (isinstance(condition, str) and condition == "original"):
        return None, {}
    if not (isinstance(condition, Sequence) and len(condition) == 2 and isinstance(condition[1], Mapping)):
        raise ParameterError(f"{where}: initial_condition must be None, 'original' or (time, {{stock name: value}})")
    start, given = condition
    values = {}
    for name, value in _element_items(model, given, where):
        if name not in model.layout.stock_init_slots:
            raise ParameterError(f"{where}: initial_condition: {name!r} is not a stock")
        number = _number(where, name, value)
        check_range(model, name, number, strict, where)
        values[name] = number
    return (_number(where, "initial_condition time", start) if start is not None else None), values


def parameters(model: CompiledModel, spec: RunSpec | None = None) -> dict[str, Parameter]:
    """Every constant of the model with its value (the spec's, else the default) and documented bounds."""
    out = {}
    for name, info in model.variables.items():
        if info.kind != "constant":
            continue
        defaults = np.ravel(info.default) if info.dims else [info.default]
        for element, default in zip(element_names(model, name), defaults, strict=True):
            if element not in model.layout.param_slots:
                continue
            default = None if default is None else float(default)
            value = spec.params.get(element, default) if spec is not None else default
            low, high = info.limits
            out[element] = Parameter(element, float(value) if value is not None else math.nan, default, low, high,
                                     info.units)  # fmt: skip
    return out
