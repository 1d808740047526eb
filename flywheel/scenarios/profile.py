"""Model profiles: what a view needs to know about a model, in a small data file next to it.

``models/<model>.profile.toml`` names the model's policy levers (with their Before/After constants,
switch month and the ecosystem dimension they belong to), the key assumptions a what-if page offers,
the panels of a comparison figure, the summary measures, and how the management game shows the model
(``[game]``, read by ``game_profile``). ``compare``, ``run``, summaries, the web
page and reports read a model only through its profile, never through names typed in code. A model
without a profile gets sensible defaults from itself: its stocks as panels and measures, every
constant pair "L Before"/"L After" as a lever, and the first constants with a documented range as
assumptions (sliders on the what-if page).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from .game_profile import GameSettings, default_game, read_game
from .toml_checks import TomlChecker, read_toml

if TYPE_CHECKING:
    from ..core import Model

STATISTICS = ("final", "initial", "min", "max", "mean", "final_relative", "first_below", "first_above",
              "ratio_of_sums")
_TOP = ("model", "switch", "shock", "lever", "assumption", "panel", "measure", "game")
_MODEL_KEYS = ("title", "story", "time_unit", "caveats")
_LEVER_KEYS = ("name", "before", "after", "switch", "label", "explain", "dimension", "step")
_ASSUMPTION_KEYS = ("name", "label", "explain", "low", "high", "step")
_PANEL_KEYS = ("variable", "label", "reference", "percent")
_MEASURE_KEYS = ("name", "label", "variable", "statistic", "scale", "digits", "threshold", "denominator", "units")


@dataclass(frozen=True)
class Lever:
    """A policy lever: the model runs ``before`` until ``switch`` (a month constant), then ``after``."""

    name: str
    before: str
    after: str
    switch: str | None
    label: str
    explain: str
    dimension: str = ""
    step: float | None = None


@dataclass(frozen=True)
class Assumption:
    """A constant a leadership team may want to question (slider), with its documented range."""

    name: str
    label: str
    explain: str
    low: float | None = None
    high: float | None = None
    step: float | None = None


@dataclass(frozen=True)
class Panel:
    variable: str
    label: str
    reference: float | None = None  # a horizontal line, e.g. attainment 1.0
    percent: bool = False  # show a fraction as a percentage


@dataclass(frozen=True)
class Measure:
    """One number per run for the summary table: ``statistic`` of ``variable`` times ``scale``."""

    name: str
    label: str
    variable: str
    statistic: str = "final"
    scale: float = 1.0
    digits: int = 2
    threshold: float | None = None  # first_below / first_above
    denominator: str | None = None  # ratio_of_sums: sum(variable) / sum(denominator)
    units: str = ""


@dataclass(frozen=True)
class Profile:
    """A model's profile (from its ``.profile.toml``, or defaults made from the model itself)."""

    title: str
    story: str = ""
    time_unit: str = ""
    caveats: tuple[str, ...] = ()
    switch_default: str | None = None  # the constant [policy] switch_month sets
    shock_size: str | None = None
    shock_month: str | None = None
    shock_label: str = "shock"
    levers: tuple[Lever, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    panels: tuple[Panel, ...] = ()
    measures: tuple[Measure, ...] = ()
    game: GameSettings | None = None  # the [game] section (or defaults from the model)
    path: Path | None = None
    lever_index: dict[str, Lever] = field(default_factory=dict, compare=False, repr=False)

    def lever(self, name: str) -> Lever | None:
        return self.lever_index.get(name)

    @property
    def lever_names(self) -> list[str]:
        return [lever.name for lever in self.levers]


def profile_path(model_path: Path) -> Path:
    return model_path.with_name(f"{model_path.stem}.profile.toml")


def load_profile(model: Model) -> Profile:
    """The profile next to the model file, checked against the model; or defaults if there is none."""
    cached = model.compiled.__dict__.get("_profile")
    if cached is not None:
        return cached
    path = profile_path(model.path)
    profile = _read(path, model) if path.is_file() else default_profile(model)
    model.compiled.__dict__["_profile"] = profile
    return profile


def default_profile(model: Model) -> Profile:
    """Stocks as panels and final values, "L Before"/"L After" pairs as levers, ranged constants as
    assumptions."""
    variables = model.variables
    levers = []
    for name, info in variables.items():
        if name.endswith(" Before") and info.kind == "constant":
            lever = name[: -len(" Before")]
            after = variables.get(f"{lever} After")
            if after is not None and after.kind == "constant":
                switch = f"{lever} Switch Month" if f"{lever} Switch Month" in variables else None
                levers.append(Lever(lever, name, f"{lever} After", switch, lever, info.documentation))
    # a subscripted stock is shown by its first element (its columns are "Stock[a,b]")
    stocks = [(n, f"{n}[{','.join(c[0] for c in v.coords)}]" if v.dims else n)
              for n, v in variables.items() if v.kind == "stock"][:8]  # fmt: skip
    panels = tuple(Panel(column, column) for _, column in stocks)
    measures = tuple(Measure(_slug(column), f"Final {column}", column, "final", units=variables[n].units)
                     for n, column in stocks[:5])  # fmt: skip
    in_levers = {n for lever in levers for n in (lever.before, lever.after, lever.switch)}
    assumptions = tuple(_documented_assumptions(model, in_levers))
    return _indexed(Profile(title=model.name, levers=tuple(levers), assumptions=assumptions, panels=panels,
                            measures=measures, game=default_game(model, panels)))  # fmt: skip


def _documented_assumptions(model: Model, exclude: set[str | None], limit: int = 12) -> list[Assumption]:
    """The first constants with a documented range (``~ units [low, high]``) that no lever uses."""
    found = []
    for name, info in model.variables.items():
        low, high = info.limits if info.limits else (None, None)
        if info.kind != "constant" or info.dims or name in exclude or low is None or high is None or not low < high:
            continue
        found.append(Assumption(name, name, info.documentation, float(low), float(high)))
        if len(found) == limit:
            break
    return found


def _slug(name: str) -> str:
    return "_".join(name.lower().split())


def _indexed(profile: Profile) -> Profile:
    profile.lever_index.update({lever.name: lever for lever in profile.levers})
    return profile


# ---------------------------------------------------------------------------------------------- reading


def _read(path: Path, model: Model) -> Profile:
    raw = read_toml(path, "model profile")
    check = _Checker(path, model)
    check.keys(raw, _TOP, "")
    head = check.table(raw, "model")
    check.keys(head, _MODEL_KEYS, "[model]")
    switch = check.table(raw, "switch")
    shock = check.table(raw, "shock")
    levers = tuple(check.lever(item, i) for i, item in enumerate(check.array(raw, "lever")))
    assumptions = tuple(check.assumption(item, i) for i, item in enumerate(check.array(raw, "assumption")))
    panels = tuple(check.panel(item, i) for i, item in enumerate(check.array(raw, "panel")))
    measures = tuple(check.measure(item, i) for i, item in enumerate(check.array(raw, "measure")))
    panels = panels or default_profile(model).panels
    game = read_game(raw["game"], check, model, panels) if "game" in raw else default_game(model, panels)
    caveats = head.get("caveats", [])
    if not isinstance(caveats, list) or not all(isinstance(c, str) for c in caveats):
        raise ScenarioError(f"{path}: [model] caveats must be a list of strings")
    profile = Profile(
        title=check.text(head, "title", "[model]", required=True),
        story=check.text(head, "story", "[model]"),
        time_unit=check.text(head, "time_unit", "[model]"),
        caveats=tuple(caveats),
        switch_default=check.constant(switch.get("default"), "[switch] default") if "default" in switch else None,
        shock_size=check.constant(shock.get("size"), "[shock] size") if "size" in shock else None,
        shock_month=check.constant(shock.get("month"), "[shock] month") if "month" in shock else None,
        shock_label=check.text(shock, "label", "[shock]") or "shock",
        levers=levers,
        assumptions=assumptions,
        panels=panels,
        measures=measures or default_profile(model).measures,
        game=game,
        path=path,
    )
    return _indexed(profile)


class _Checker(TomlChecker):
    """Reads profile entries and checks every name against the model (one line per mistake)."""

    def __init__(self, path: Path, model: Model):
        super().__init__(path)
        self.model = model

    def number(self, table: dict, key: str, where: str) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where} {key}: expected a number")
        return float(value)

    def variable(self, name: Any, where: str, kinds: tuple[str, ...] | None = None) -> str:
        if not isinstance(name, str):
            raise self.fail(f"{where}: expected a variable name")
        variables = self.model.variables
        if name not in variables:
            close = difflib.get_close_matches(name, list(variables), n=1)
            hint = f"; did you mean {json.dumps(close[0])}?" if close else ""
            raise self.fail(f"{where} {json.dumps(name)}: the model has no such variable{hint}")
        if kinds is not None and variables[name].kind not in kinds:
            raise self.fail(f"{where} {json.dumps(name)} is a {variables[name].kind}; expected a {' or '.join(kinds)}")
        return name

    def constant(self, name: Any, where: str) -> str:
        return self.variable(name, where, ("constant",))

    def lever(self, item: dict, i: int) -> Lever:
        where = f"[[lever]] {i + 1}"
        self.keys(item, _LEVER_KEYS, where)
        name = self.text(item, "name", where, required=True)
        before = self.constant(item.get("before", f"{name} Before"), f"{where} before")
        after = self.constant(item.get("after", f"{name} After"), f"{where} after")
        if "switch" in item:
            switch = self.constant(item["switch"], f"{where} switch")
        else:  # the lever's own switch month, when the model has one
            own = self.model.variables.get(f"{name} Switch Month")
            switch = f"{name} Switch Month" if own is not None and own.kind == "constant" else None
        explain = self.text(item, "explain", where) or self.model.variables[after].documentation
        return Lever(name, before, after, switch, self.text(item, "label", where) or name, explain,
                     self.text(item, "dimension", where), self.number(item, "step", where))  # fmt: skip

    def assumption(self, item: dict, i: int) -> Assumption:
        where = f"[[assumption]] {i + 1}"
        self.keys(item, _ASSUMPTION_KEYS, where)
        name = self.constant(item.get("name"), f"{where} name")
        info = self.model.variables[name]
        low = self.number(item, "low", where)
        high = self.number(item, "high", where)
        return Assumption(
            name, self.text(item, "label", where) or name, self.text(item, "explain", where) or info.documentation,
            low if low is not None else info.limits[0], high if high is not None else info.limits[1],
            self.number(item, "step", where),
        )  # fmt: skip

    def panel(self, item: dict, i: int) -> Panel:
        where = f"[[panel]] {i + 1}"
        self.keys(item, _PANEL_KEYS, where)
        variable = self.variable(item.get("variable"), f"{where} variable", ("stock", "flow", "auxiliary", "constant"))
        percent = item.get("percent", False)
        if not isinstance(percent, bool):
            raise self.fail(f"{where} percent: expected true or false")
        return Panel(variable, self.text(item, "label", where) or variable, self.number(item, "reference", where), percent)

    def measure(self, item: dict, i: int) -> Measure:
        where = f"[[measure]] {i + 1}"
        self.keys(item, _MEASURE_KEYS, where)
        name = self.text(item, "name", where, required=True)
        variable = self.variable(item.get("variable"), f"{where} variable")
        statistic = self.text(item, "statistic", where) or "final"
        if statistic not in STATISTICS:
            raise self.fail(f"{where} statistic {json.dumps(statistic)}: unknown (allowed: {', '.join(STATISTICS)})")
        threshold = self.number(item, "threshold", where)
        if statistic in ("first_below", "first_above") and threshold is None:
            raise self.fail(f"{where}: statistic {statistic} needs a threshold")
        denominator = None
        if statistic == "ratio_of_sums":
            denominator = self.variable(item.get("denominator"), f"{where} denominator")
        digits = self.number(item, "digits", where)
        scale = self.number(item, "scale", where)
        return Measure(
            name, self.text(item, "label", where) or name, variable, statistic, 1.0 if scale is None else scale,
            2 if digits is None else int(digits), threshold, denominator, self.text(item, "units", where),
        )  # fmt: skip
