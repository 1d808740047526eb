"""The what-if engine: two plans of one model, set by sliders and run again on every change.

A *control* is one slider: a model constant with its range, step, units and documentation, taken from the
model's profile (each lever gives three: today's value ``L Before``, the plan's value ``L After`` and its
switch month; each assumption one). A *plan* is a title and the constant overrides it runs with. "Your
plan" holds a value for every control; an alternative is a scenario file. Both plans face the same
world: with ``shared=True`` the alternative takes today's lever values and the assumptions from your
plan, and a lever the alternative's file leaves alone stays at today's value after the switch. All plans
run with one set of time settings, so their curves share one time axis. Nothing here knows a variable's
name: everything comes from the profile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model, RunSpec
    from ..scenarios import Profile, Scenario, SimulationSettings

ROLES = ("plan", "switch", "today", "assumption")


@dataclass(frozen=True)
class Control:
    """One slider: ``constant`` between ``low`` and ``high`` in steps of ``step``.

    ``role``: "plan" (a lever's value from its switch month on), "switch" (that month), "today" (the
    lever's value before), "assumption"; ``group`` is the lever's name ("" for an assumption)."""

    constant: str
    role: str
    group: str
    label: str
    documentation: str
    units: str
    low: float
    high: float
    step: float
    default: float  # the model's own value (an equation's value at the start, e.g. a switch month)
    dimension: str = ""


@dataclass(frozen=True)
class Plan:
    """A plan: a short key, a title for people, and the constant overrides it runs with."""

    name: str
    title: str
    params: Mapping[str, float] = field(default_factory=dict)

    def with_values(self, values: Mapping[str, float], title: str | None = None) -> Plan:
        return Plan(self.name, title or self.title, {**self.params, **{k: float(v) for k, v in values.items()}})


@dataclass(frozen=True)
class PlanRun:
    """One plan's run: ``series[variable]`` over ``times`` for the page's variables."""

    plan: Plan
    times: np.ndarray
    series: dict[str, np.ndarray]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        index = pd.Index(self.times, name="time")
        return pd.DataFrame(self.series, index=index, copy=False)


class WhatIf:
    """Controls, plans and runs of one model (see the module text). Cheap to run: one call is one run."""

    def __init__(self, model: Model, simulation: SimulationSettings | None = None):
        from ..scenarios import SimulationSettings, load_profile

        self.model = model
        self.profile: Profile = load_profile(model)
        self.simulation = simulation or SimulationSettings()
        self.base_spec = self._spec({})
        self.times = self._probe_times()
        self.controls: tuple[Control, ...] = tuple(self._controls())
        self.control_index = {c.constant: c for c in self.controls}
        self.columns = self._columns()

    # ------------------------------------------------------------------------------------------ facts
    @property
    def time_unit(self) -> str:
        from .subjects import time_unit

        return time_unit(self.model)

    @property
    def shared_constants(self) -> list[str]:
        """What both plans share when they face the same world: today's lever values and the assumptions."""
        return [c.constant for c in self.controls if c.role in ("today", "assumption")]

    @property
    def policy_constants(self) -> set[str]:
        """Every constant the profile names as policy or test input (levers, switch months, the shock)."""
        p = self.profile
        names = {n for lever in p.levers for n in (lever.before, lever.after, lever.switch) if n}
        names |= {n for n in (p.switch_default, p.shock_size, p.shock_month) if n}
        return names

    def goal_panel(self) -> Any:
        """The panel a leadership team is judged on: the first with a reference line, else the first."""
        panels = self.profile.panels
        return next((p for p in panels if p.reference is not None), panels[0] if panels else None)

    # ------------------------------------------------------------------------------------------ plans
    def plan(self, scenario: Scenario | None = None, name: str = "your_plan", title: str = "Your plan") -> Plan:
        """A plan with every control's value: the scenario's (or the model's), plus the scenario's other
        overrides (constants no slider shows are kept as they are)."""
        params = dict(scenario.params) if scenario is not None else {}
        values = self.effective(params)
        return Plan(name, title, {**params, **values})

    def alternative(self, scenario: Scenario | None, like: Plan | None, shared: bool = True,
                    name: str = "alternative", title: str | None = None) -> Plan:  # fmt: skip
        """The plan of a scenario file (None: carry on as today), facing ``like``'s world when ``shared``."""
        params = dict(scenario.params) if scenario is not None else {}
        if shared and like is not None:
            for constant in self.shared_constants:
                params[constant] = like.params[constant]
            for lever in self.profile.levers:  # a lever the file leaves alone carries on as today
                if lever.after not in (scenario.params if scenario is not None else {}):
                    params[lever.after] = params[lever.before]
        default_title = scenario.title if scenario is not None else "Carry on as today"
        return Plan(name, title or default_title, params)

    def effective(self, params: Mapping[str, float]) -> dict[str, float]:
        """Every control constant's value in a run with ``params`` (equations of other constants included)."""
        names = [c.constant for c in self.controls]
        if not names:
            return {}
        spec = self._spec(params)
        try:
            values = self.model.stepper(spec).values(names)
        except Exception:  # a model that cannot step: documented defaults, then the given values
            values = {c.constant: c.default for c in self.controls}
        return {n: float(params.get(n, values[n])) for n in names}

    def shock_month(self, plan: Plan) -> float | None:
        """When the profile's shock hits in ``plan`` (None without a shock or a profile shock)."""
        p = self.profile
        if p.shock_size is None or p.shock_month is None:
            return None
        values = self._with_effective(plan, [p.shock_size, p.shock_month])
        return values[p.shock_month] if values[p.shock_size] else None

    def first_switch(self, plan: Plan) -> float | None:
        """The first month a lever of ``plan`` changes (None when no lever changes)."""
        names = [n for lever in self.profile.levers for n in (lever.before, lever.after, lever.switch) if n]
        values = self._with_effective(plan, names)
        months = [values[lever.switch] for lever in self.profile.levers
                  if lever.switch and values[lever.before] != values[lever.after]]  # fmt: skip
        return min(months) if months else None

    def _with_effective(self, plan: Plan, names: list[str]) -> dict[str, float]:
        missing = [n for n in names if n not in plan.params]
        values = {n: float(plan.params[n]) for n in names if n in plan.params}
        if missing:
            values.update(self.model.stepper(self.spec(plan)).values(missing))
        return values

    def check(self, constant: str, value: float) -> float:
        """A slider value, checked against its control (one clear line for anything else)."""
        control = self.control_index.get(constant)
        if control is None:
            raise ParameterError(f"{constant!r} is not a control of this page")
        value = float(value)
        if not math.isfinite(value) or not control.low - 1e-12 <= value <= control.high + 1e-12:
            raise ParameterError(f"{control.label}: {value:g} is outside [{control.low:g}, {control.high:g}]")
        return value

    # ------------------------------------------------------------------------------------------- runs
    def spec(self, plan: Plan) -> RunSpec:
        return self._spec(plan.params)

    def run(self, plan: Plan) -> PlanRun:
        """One run of ``plan`` keeping the page's variables (panels and measures)."""
        from ..core import simulate

        result = simulate(self.spec(plan), columns=self.columns)
        series = {name: result.values[k, 0] for k, name in enumerate(result.names)}
        return PlanRun(plan, np.asarray(result.times, dtype=float), series)

    def run_many(self, plan: Plan, members: Mapping[str, np.ndarray], columns: Sequence[str] | None = None
                 ) -> dict[str, np.ndarray]:  # fmt: skip
        """Many variations of ``plan`` at once (an ensemble): variable -> (member, time)."""
        from ..core import simulate

        result = simulate(self.spec(plan), members=dict(members), columns=list(columns or self.columns))
        return {name: result.values[k] for k, name in enumerate(result.names)}

    def full_frame(self, plan: Plan) -> pd.DataFrame:
        """Every variable of one run (for downloads)."""
        from ..core import simulate

        return simulate(self.spec(plan)).to_frame()

    # ---------------------------------------------------------------------------------------- helpers
    def _spec(self, params: Mapping[str, float]) -> RunSpec:
        sim = self.simulation
        try:
            return self.model.spec(dict(params), method=sim.method or "euler", time_step=sim.time_step,
                                   final_time=sim.final_time, saveper=sim.saveper, strict=True)  # fmt: skip
        except ParameterError:
            raise
        except Exception as exc:  # time-setting errors of the core carry their own message
            raise ParameterError(str(exc)) from None

    def _probe_times(self) -> np.ndarray:
        from ..core import simulate

        return np.asarray(simulate(self.base_spec, columns=[]).times, dtype=float)

    def _columns(self) -> list[str]:
        p = self.profile
        names = [panel.variable for panel in p.panels]
        for m in p.measures:
            names += [m.variable] + ([m.denominator] if m.denominator else [])
        return [n for n in dict.fromkeys(names) if n in self.model.variables]

    def _controls(self) -> list[Control]:
        variables = self.model.variables
        defaults = self._defaults()
        start, end = float(self.times[0]), float(self.times[-1])
        out: list[Control] = []
        for lever in self.profile.levers:
            for role, constant in (("plan", lever.after), ("switch", lever.switch), ("today", lever.before)):
                if constant is None:
                    continue
                info = variables[constant]
                default = defaults[constant]
                if role == "switch":
                    low, high = _limits(info.limits, default, (start, end))
                    low, high = max(low, start), min(high, end)
                    step = 1.0 if high - low >= 12 else _nice_step((high - low) / 100)
                else:
                    low, high = _limits(info.limits, default)
                    step = lever.step or _nice_step((high - low) / 200)
                out.append(Control(constant, role, lever.name, lever.label, lever.explain or info.documentation,
                                   info.units, low, high, step, default, lever.dimension))  # fmt: skip
        for item in self.profile.assumptions:
            info = variables[item.name]
            default = defaults[item.name]
            low, high = _limits((item.low, item.high), default)
            step = item.step or _nice_step((high - low) / 200)
            out.append(Control(item.name, "assumption", "", item.label, item.explain or info.documentation,
                               info.units, low, high, step, default))  # fmt: skip
        return out

    def _defaults(self) -> dict[str, float]:
        p = self.profile
        names = [n for lever in p.levers for n in (lever.after, lever.switch, lever.before) if n]
        names += [a.name for a in p.assumptions]
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        try:
            return self.model.stepper(self.base_spec).values(names)
        except Exception:  # a model that cannot step (dynamic time): the documented values
            return {n: float(self.model.variables[n].default or 0.0) for n in names}


def _limits(limits: Any, default: float, fallback: tuple[float, float] | None = None) -> tuple[float, float]:
    """A slider's range: the documented one, else one around the default (or ``fallback``)."""
    low, high = limits if limits else (None, None)
    low = None if low is None or (isinstance(low, float) and math.isnan(low)) else float(low)
    high = None if high is None or (isinstance(high, float) and math.isnan(high)) else float(high)
    if low is None or high is None:
        if fallback is not None:
            guess = fallback
        elif default > 0:
            guess = (0.0, 2.0 * default)
        elif default < 0:
            guess = (2.0 * default, 0.0)
        else:
            guess = (0.0, 1.0)
        low = guess[0] if low is None else low
        high = guess[1] if high is None else high
    low, high = min(low, default), max(high, default)
    if high <= low:
        high = low + (abs(low) or 1.0)
    return low, high


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at most ``raw``."""
    if not raw > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (5, 2, 1):
        if factor * power <= raw:
            return factor * power
    return power
