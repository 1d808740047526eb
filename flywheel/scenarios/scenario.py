"""Scenario files: a TOML description of "what if" that a manager can read and a model can run.

A scenario names a model, overrides some of its constants, switches policy levers (before/after, each
at its own month or at the shared switch month), and may change the simulation settings. Everything
is checked against the model before any run, with the core's rules (``build_spec``, strict: a value
outside its documented range is an error in a scenario file), so a typo or an out-of-range value
becomes one clear line naming the file and the key. The levers come from the model's profile.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FlywheelError, ParameterError, ScenarioError
from .profile import Profile, load_profile
from .toml_checks import read_toml

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps imports light
    import pandas as pd

    from ..core import Model, RunSpec

__all__ = [
    "Scenario",
    "ScenarioListing",
    "SimulationSettings",
    "get_model",
    "list_scenarios",
    "load_scenario",
    "run_scenario",
]

_CONTROL_SETTINGS = {"FINAL TIME": "final_time", "TIME STEP": "time_step", "SAVEPER": "saveper"}
_TOP_KEYS = ("title", "description", "model", "parameters", "policy", "simulation", "ranges")
_POLICY_KEYS = ("switch_month", "before", "after", "switch")
_SIMULATION_KEYS = ("final_time", "time_step", "saveper", "method")


@dataclass(frozen=True)
class SimulationSettings:
    """Simulation control overrides; ``None`` means "use the model's own value"."""

    final_time: float | None = None
    time_step: float | None = None
    saveper: float | None = None
    method: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready to run: ``params`` are final model-constant overrides."""

    path: Path
    name: str
    title: str
    description: str
    model_path: Path
    params: dict[str, float] = field(default_factory=dict)
    switch_months: dict[str, float] = field(default_factory=dict)  # lever -> month, for levers that change
    shock_month: float | None = None
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    ranges: dict[str, Any] = field(default_factory=dict)  # the raw [ranges] table (uncertain inputs)

    @property
    def switch_month(self) -> float | None:
        """The first month a lever switches (None when no lever changes)."""
        return min(self.switch_months.values()) if self.switch_months else None

    def spec(self, model: Model | None = None) -> RunSpec:
        """The checked run specification of this scenario (strict: no value outside its range)."""
        model = model if model is not None else get_model(self.model_path)
        sim = self.simulation
        try:
            return model.spec(
                dict(self.params), method=sim.method or "euler", time_step=sim.time_step,
                final_time=sim.final_time, saveper=sim.saveper, strict=True,
            )  # fmt: skip
        except ParameterError as exc:
            raise ScenarioError(f"{self.path}: {str(exc).split(': ', 1)[-1]}") from None


@dataclass(frozen=True)
class ScenarioListing:
    """What ``flywheel scenarios`` shows: a scenario's name and title, or why it is broken."""

    path: Path
    name: str
    title: str
    description: str
    error: str | None = None


def get_model(path: str | os.PathLike[str]) -> Model:
    """Load a model through ``flywheel.load_model`` (in memory once per file content, so never stale)."""
    from ..core import load_model

    return load_model(Path(path).resolve())


def load_scenario(path: str | os.PathLike[str], model: Any = None) -> Scenario:
    """Read and fully validate a scenario file against its model.

    ``model`` may be given to skip loading the model the file names (tests, or a caller that
    already has it). Raises ``ScenarioError`` with one line naming the file and the offending key.
    """
    path = Path(path)
    raw = _read_toml(path)
    shape = _check_shape(path, raw)
    if model is None:
        model = get_model(_existing_model(path, raw, shape))
    return _build(path, raw, shape, model)


def run_scenario(scenario: Scenario, model: Any = None) -> pd.DataFrame:
    """Run one scenario; returns the model's results (index ``time``, one column per variable)."""
    from ..core import simulate

    return simulate(scenario.spec(model)).to_frame()


def _initial_values(spec: RunSpec, names: list[str]) -> dict[str, float]:
    """The values of constants at the start of ``spec``'s run (equations of other constants included)."""
    if not names:
        return {}
    from ..core import Stepper

    try:
        return Stepper(spec).values(names)
    except FlywheelError:  # a model that cannot step (dynamic time): the documented defaults
        variables = spec.model.variables
        return {n: float(variables[n].default) for n in names if variables[n].default is not None}


def list_scenarios(directory: str | os.PathLike[str], validate: bool = False) -> list[ScenarioListing]:
    """List the ``*.toml`` scenarios of a folder, sorted by name, without stopping at a broken one.

    Without ``validate`` only the TOML and its top-level shape are read (fast: no model is loaded);
    with it every scenario is checked against its model. A broken file is listed with ``error`` set.
    Raises ``ScenarioError`` if ``directory`` is not a folder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(f"{directory}: no such scenario folder")
    listings = []
    for path in sorted(directory.glob("*.toml")):
        title, description = "", ""
        try:
            raw = _read_toml(path)
            title = raw.get("title", "") if isinstance(raw.get("title"), str) else ""
            description = raw.get("description", "") if isinstance(raw.get("description"), str) else ""
            if validate:
                load_scenario(path)
            else:
                _existing_model(path, raw, _check_shape(path, raw))
        except FlywheelError as exc:  # a broken scenario or a model that fails to load
            listings.append(ScenarioListing(path, path.stem, title, description, str(exc)))
            continue
        listings.append(ScenarioListing(path, path.stem, title, description))
    return listings


# --------------------------------------------------------------------------------------------------
# Reading and checking


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse the file; every way of failing becomes a ScenarioError naming the file."""
    return read_toml(path, "scenario file")


def _existing_model(path: Path, raw: dict[str, Any], shape: dict[str, Any]) -> Path:
    model_path = shape["model_path"]
    if not model_path.is_file():
        raise ScenarioError(f"{path}: model = {_q(raw['model'])}: no such file ({model_path})")
    return model_path


def _check_shape(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Check keys and types that need no model; returns the resolved model path."""
    _check_keys(path, raw, _TOP_KEYS, "")
    for key in ("title", "model"):
        if key not in raw:
            raise ScenarioError(f'{path}: missing required key "{key}"')
    for key in ("title", "description", "model"):
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(
                f"{path}: {key} = {_show(raw[key])}: expected a string, got {_type_name(raw[key])}"
            )
    if not raw["title"].strip():
        raise ScenarioError(f"{path}: title is empty")
    if not raw["model"].strip():
        raise ScenarioError(f"{path}: model is empty")

    for table in ("parameters", "policy", "simulation"):
        if table in raw and not isinstance(raw[table], dict):
            raise ScenarioError(f"{path}: {table} must be a table ([{table}]), got {_type_name(raw[table])}")
    params = raw.get("parameters", {})
    for name, value in params.items():
        _number(path, "[parameters]", name, value)

    policy = raw.get("policy", {})
    _check_keys(path, policy, _POLICY_KEYS, "[policy]")
    if "switch_month" in policy:
        _number(path, "[policy]", "switch_month", policy["switch_month"], bare=True)
    for side in ("before", "after", "switch"):
        if side in policy:
            if not isinstance(policy[side], dict):
                raise ScenarioError(
                    f"{path}: [policy] {side} must be a table ([policy.{side}]), got {_type_name(policy[side])}"
                )
            for lever, value in policy[side].items():
                _number(path, f"[policy.{side}]", lever, value)
    if "ranges" in raw and not isinstance(raw["ranges"], dict):
        raise ScenarioError(f"{path}: ranges must be a table ([ranges]), got {_type_name(raw['ranges'])}")

    sim = raw.get("simulation", {})
    _check_keys(path, sim, _SIMULATION_KEYS, "[simulation]")
    for key in ("final_time", "time_step", "saveper"):
        if key in sim:
            value = _number(path, "[simulation]", key, sim[key], bare=True)
            if value <= 0:
                raise ScenarioError(f"{path}: [simulation] {key} = {_show(value)}: must be greater than 0")
    if "method" in sim:
        method = sim["method"]
        if not isinstance(method, str):
            raise ScenarioError(
                f"{path}: [simulation] method = {_show(method)}: expected a string, got {_type_name(method)}"
            )
        from ..core.methods import METHODS

        if method not in METHODS:
            hint = _suggest(method, METHODS, case_insensitive=True)
            raise ScenarioError(
                f"{path}: [simulation] method = {_q(method)}: unknown method (allowed: {', '.join(METHODS)}){hint}"
            )
    model_path = (path.parent / raw["model"]).resolve()
    return {"model_path": model_path}


def _build(path: Path, raw: dict[str, Any], shape: dict[str, Any], model: Any) -> Scenario:
    """Check names and values against the model and expand levers into constant overrides."""
    variables = model.variables
    profile: Profile = load_profile(model)
    params: dict[str, float] = {}
    origin: dict[str, str] = {}  # constant -> where the scenario set it, for conflict messages

    def put(name: str, value: float, where: str) -> None:
        if name in origin:
            raise ScenarioError(f"{path}: {where} sets {_q(name)}, which {origin[name]} already sets")
        params[name] = value
        origin[name] = where

    for name, value in raw.get("parameters", {}).items():
        info = variables.get(name)
        if info is None and "[" in name:  # one element of a subscripted constant: "Capacity[North]"
            try:
                name = model.resolve_name(name)
            except FlywheelError as exc:
                raise ScenarioError(f"{path}: [parameters] {str(exc).split(': ', 1)[-1]}") from None
            info = variables[name.split("[")[0]]
        if info is None:
            hint = _suggest(name, list(variables), case_insensitive=True)
            raise ScenarioError(f"{path}: [parameters] {_q(name)}: unknown variable{hint}")
        if info.kind == "control":
            setting = _CONTROL_SETTINGS.get(name.upper())
            where = f"use [simulation] {setting}" if setting else "it cannot be changed by a scenario"
            raise ScenarioError(f"{path}: [parameters] {_q(name)} is a simulation setting; {where}")
        if info.kind != "constant":
            raise ScenarioError(
                f"{path}: [parameters] {_q(name)} is a{'n' if info.kind[0] in 'aeiou' else ''} {info.kind}, "
                "not a constant; only constants can be set"
            )
        _check_range(path, "[parameters]", name, float(value), info.limits)
        put(name, float(value), "[parameters]")

    policy = raw.get("policy", {})
    if "switch_month" in policy:
        value = float(policy["switch_month"])
        constant = profile.switch_default
        if constant is None:
            raise ScenarioError(f"{path}: [policy] switch_month: the model's profile names no shared switch month")
        _check_range(path, "[policy]", "switch_month", value, variables[constant].limits, bare=True)
        put(constant, value, "[policy] switch_month")

    levers = profile.lever_names
    for side in ("before", "after", "switch"):
        for name in policy.get(side, {}):
            lever = profile.lever(name)
            if lever is None:
                hint = _suggest(name, levers, case_insensitive=True)
                allowed = f"; levers: {', '.join(levers)}" if levers and not hint else ""
                raise ScenarioError(f"{path}: [policy.{side}] {_q(name)}: unknown lever{hint}{allowed}")
            if side == "switch" and lever.switch is None:
                raise ScenarioError(f"{path}: [policy.switch] {_q(name)}: this lever has no switch month of its own")
            constant = {"before": lever.before, "after": lever.after, "switch": lever.switch}[side]
            _check_range(path, f"[policy.{side}]", name, float(policy[side][name]), variables[constant].limits)
    before, after, switch = (policy.get(side, {}) for side in ("before", "after", "switch"))
    for name, value in before.items():
        lever = profile.lever(name)
        put(lever.before, float(value), f"[policy.before] {_q(name)}")
        if name not in after:
            put(lever.after, float(value), f"[policy.before] {_q(name)}")
    for name, value in after.items():
        put(profile.lever(name).after, float(value), f"[policy.after] {_q(name)}")
    for name, value in switch.items():
        put(profile.lever(name).switch, float(value), f"[policy.switch] {_q(name)}")

    simulation = _simulation(path, raw.get("simulation", {}), model)
    try:  # the core's rules, strictly: every value in range, time settings consistent
        spec = model.spec(dict(params), strict=True, method=simulation.method or "euler",
                          time_step=simulation.time_step, final_time=simulation.final_time,
                          saveper=simulation.saveper)  # fmt: skip
    except FlywheelError as exc:
        raise ScenarioError(f"{path}: {str(exc).split(': ', 1)[-1]}") from None
    # what each lever constant is in this run (a switch month may be an equation of the shared one)
    named = [n for lever in profile.levers for n in (lever.before, lever.after, lever.switch) if n]
    named += [n for n in (profile.switch_default, profile.shock_size, profile.shock_month) if n]
    initial = _initial_values(spec, [n for n in dict.fromkeys(named) if n in variables])

    def effective(name: str | None) -> float | None:
        if name is None:
            return None
        if name in params:
            return params[name]
        return initial.get(name)

    switch_months = {}
    for lever in profile.levers:
        if effective(lever.before) != effective(lever.after):
            month = effective(lever.switch) if lever.switch else effective(profile.switch_default)
            if month is not None:
                switch_months[lever.name] = month
    shock_month = None
    size = effective(profile.shock_size)
    if size is not None and size != 0:
        shock_month = effective(profile.shock_month)

    return Scenario(
        path=path,
        name=path.stem,
        title=raw["title"].strip(),
        description=raw.get("description", "").strip(),
        model_path=shape["model_path"],
        params=params,
        switch_months=switch_months,
        shock_month=shock_month,
        simulation=simulation,
        ranges=dict(raw.get("ranges", {})),
    )


def _simulation(path: Path, sim: dict[str, Any], model: Any) -> SimulationSettings:
    """Check the time settings with the core's one set of rules (and the controls' documented ranges)."""
    from ..core.spec import check_time_settings

    settings = SimulationSettings(
        final_time=_opt_float(sim.get("final_time")),
        time_step=_opt_float(sim.get("time_step")),
        saveper=_opt_float(sim.get("saveper")),
        method=sim.get("method"),
    )
    for key, control in (("final_time", "FINAL TIME"), ("time_step", "TIME STEP"), ("saveper", "SAVEPER")):
        value = getattr(settings, key)
        info = model.variables.get(control)
        if value is not None and info is not None:
            _check_range(path, "[simulation]", key, value, info.limits, bare=True)
    try:
        check_time_settings(
            model.compiled, final_time=settings.final_time, time_step=settings.time_step, saveper=settings.saveper,
            where=f"{path}: [simulation]",
        )  # fmt: skip
    except FlywheelError as exc:
        raise ScenarioError(str(exc)) from None
    return settings


def _check_keys(path: Path, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            hint = _suggest(key, allowed, case_insensitive=True)
            prefix = f"{where} " if where else ""
            raise ScenarioError(
                f"{path}: {prefix}{_q(key)}: unknown key (allowed: {', '.join(allowed)}){hint}"
            )


def _number(path: Path, where: str, key: str, value: Any, bare: bool = False) -> float:
    """A finite int or float (bool is rejected though Python calls it an int)."""
    label = f"{where} {key}" if bare else f"{where} {_q(key)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{path}: {label} = {_show(value)}: expected a number, got {_type_name(value)}")
    if not math.isfinite(value):
        raise ScenarioError(f"{path}: {label} = {_show(value)}: expected a finite number")
    return float(value)


def _check_range(path: Path, where: str, key: str, value: float, limits: Any, bare: bool = False) -> None:
    lo, hi = _limits(limits)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        label = f"{where} {key}" if bare else f"{where} {_q(key)}"
        lo_s = _fmt(lo) if lo is not None else "-inf"
        hi_s = _fmt(hi) if hi is not None else "inf"
        raise ScenarioError(f"{path}: {label} = {_fmt(value)} is outside its range [{lo_s}, {hi_s}]")


def _limits(limits: Any) -> tuple[float | None, float | None]:
    """Normalise ``(lo, hi)``: None and NaN both mean "no bound"."""
    if not limits:
        return None, None
    lo, hi = limits

    def clean(x: Any) -> float | None:
        if x is None:
            return None
        x = float(x)
        return None if math.isnan(x) else x

    return clean(lo), clean(hi)


def _suggest(word: str, candidates: Any, case_insensitive: bool = False) -> str:
    """'; did you mean "X"?' for the closest candidate, or '' if none is close."""
    candidates = list(candidates)
    if case_insensitive:
        folded = {c.casefold(): c for c in candidates}
        if word.casefold() in folded:
            return f"; did you mean {_q(folded[word.casefold()])}?"
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not match and case_insensitive:
        lowered = {c.casefold(): c for c in candidates}
        hit = difflib.get_close_matches(word.casefold(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[hit[0]]] if hit else []
    return f"; did you mean {_q(match[0])}?" if match else ""


def _q(text: str) -> str:
    """A name in double quotes, with newlines and quotes escaped so a message stays on one line."""
    return json.dumps(text, ensure_ascii=False)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _show(value: Any) -> str:
    """A value as it would look in TOML, shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = _q(value)
    elif isinstance(value, dict):
        text = "{...}"
    elif isinstance(value, list):
        text = "[...]"
    elif isinstance(value, float):
        text = _fmt(value)
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"  # dates and times
