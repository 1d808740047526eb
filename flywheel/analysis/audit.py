"""The sales-ecosystem audit: a team's answers placed in the model, and what strengthening each part does.

Seeds 000/001 describe the sales-management ecosystem (strategy; structure and processes; culture and
behaviours; KPIs, metrics and compensation), 003 alignment of expectations and 004 sales-force
effectiveness. A team answers about twenty questions from their checklists (1-5); the mapping file
(``models/audit_mapping.toml``, a structured judgement, not a measurement) turns the answers into the model's
levers and constants. Then:

- ``position``: "your answers put you here": the model's equilibrium for the team's inputs (trust,
  alignment, understanding, overlays ... at month 0), beside the model's status quo;
- ``projection``: the team's current way of managing against the alternative (the deep-dive scenario's
  policy applied to the team's position), under the alternative scenario's market conditions;
- ``shift_ranking``: seed 001's question, "which part would create the biggest shift if it were
  strengthened today?": each dimension raised by one point, one at a time (seed 000), as one ensemble;
- ``audit_path``: several dated answer files (seed 000: revisit quarterly) as the team's path;
- ``run_audit``: all of it for a list of answer files (the latest is "now").

Library code: no printing, no figures (``flywheel.present.audit_plots`` draws them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AuditError, FlywheelError
from .audit_files import (
    Answers,
    AuditMapping,
    Dimension,
    MappingInput,
    Question,
    answers_from_dict,
    answers_template,
    load_answers,
    load_mapping,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model, RunSpec
    from ..scenarios import Scenario

__all__ = [
    "Answers",
    "AuditMapping",
    "AuditPath",
    "AuditResult",
    "Dimension",
    "MappingInput",
    "Position",
    "Projection",
    "Question",
    "ShiftRanking",
    "answers_from_dict",
    "answers_template",
    "audit_path",
    "load_answers",
    "load_mapping",
    "position",
    "projection",
    "run_audit",
    "shift_ranking",
]


# ------------------------------------------------------------------------------------------------ position


@dataclass(frozen=True)
class Position:
    """Where a team's answers put it in the model (every field always exists).

    ``dimension_scores``: mean answer per dimension; ``inputs``: each mapped input's value (by lever or
    constant name); ``params``: the model constants those set; ``start``: the model's stocks and profile
    panel variables at month 0 for these inputs; ``status_quo``: the same at the model's defaults (a team
    answering 3 everywhere)."""

    answers: Answers
    dimension_scores: dict[str, float]
    inputs: dict[str, float]
    params: dict[str, float]
    start: dict[str, float]
    status_quo: dict[str, float]


def position_params(mapping: AuditMapping, answers: Answers) -> dict[str, float]:
    """The model constants a team's answers set: a lever's Before and After, or the constant itself."""
    params = {}
    for item in mapping.inputs:
        value = item.value(item.score(answers))
        for name in item.constants:
            params[name] = value
    return params


def position(mapping: AuditMapping, answers: Answers) -> Position:
    """The model's starting point for these answers, beside the model's status quo."""
    from ..core import Stepper

    model = mapping.model
    params = position_params(mapping, answers)
    names = _start_variables(mapping)
    spec = _spec(model, mapping.shift.conditions, params)
    default = _spec(model, mapping.shift.conditions, {})
    return Position(
        answers=answers,
        dimension_scores=mapping.dimension_scores(answers),
        inputs=mapping.input_values(answers),
        params=params,
        start=Stepper(spec).values(names),
        status_quo=Stepper(default).values(names),
    )


def _start_variables(mapping: AuditMapping) -> list[str]:
    from ..scenarios import load_profile

    profile = load_profile(mapping.model)
    names = [p.variable for p in profile.panels] + list(mapping.model.stocks) + list(mapping.shift.outcomes)
    return [n for n in dict.fromkeys(names) if mapping.model.variables[n].kind != "lookup"]


# ------------------------------------------------------------------------------------------------ runs


def _lever_constants(model: Model) -> set[str]:
    """Every constant that is part of a profile lever (Before, After, own switch) or the shared switch."""
    from ..scenarios import load_profile

    profile = load_profile(model)
    names = {n for lever in profile.levers for n in (lever.before, lever.after, lever.switch) if n}
    if profile.switch_default:
        names.add(profile.switch_default)
    return names


def conditions_of(scenario: Scenario, model: Model) -> dict[str, float]:
    """A scenario's settings that are not policy: its parameters without any lever constant (e.g. its
    market shock). The team's own levers replace the scenario's."""
    levers = _lever_constants(model)
    return {k: v for k, v in scenario.params.items() if k not in levers}


def _spec(model: Model, scenario: Scenario, params: Mapping[str, float]) -> RunSpec:
    sim = scenario.simulation
    merged = {**conditions_of(scenario, model), **params}
    try:
        return model.spec(merged, method=sim.method or "euler", time_step=sim.time_step,
                          final_time=sim.final_time, saveper=sim.saveper, strict=True)  # fmt: skip
    except FlywheelError as exc:  # e.g. the scenario sets a mapped constant out of range: they disagree
        raise AuditError(f"{scenario.path.name} with the audited position: {exc}") from None


# ------------------------------------------------------------------------------------------------ projection


@dataclass(frozen=True)
class Projection:
    """The team's current way of managing against the alternative, from the team's position.

    ``results`` and ``scenarios`` are keyed "current" and "alternative" (DataFrames of every variable;
    scenario records with titles, switch months and shock month for figures and summaries)."""

    position: Position
    results: dict[str, pd.DataFrame]
    scenarios: dict[str, Scenario]
    conditions: str  # a sentence: under which conditions both run


def projection(mapping: AuditMapping, answers: Answers, pos: Position | None = None) -> Projection:
    """Run the current way and the alternative (its policy levers applied to the team's position)."""
    import dataclasses

    from ..core import simulate
    from ..scenarios import load_profile

    model = mapping.model
    pos = pos or position(mapping, answers)
    settings = mapping.projection
    alternative = settings.alternative
    profile = load_profile(model)
    policy = {}
    for lever in profile.levers:
        if lever.name in alternative.switch_months:
            policy[lever.after] = alternative.params.get(lever.after, model.variables[lever.after].default)
            for name in (lever.switch, profile.switch_default):
                if name and name in alternative.params:
                    policy[name] = alternative.params[name]
    current_spec = _spec(model, alternative, pos.params)
    alternative_spec = _spec(model, alternative, {**pos.params, **policy})
    results = {"current": simulate(current_spec).to_frame(), "alternative": simulate(alternative_spec).to_frame()}
    scenarios = {
        "current": dataclasses.replace(alternative, name="current", title=settings.current_label,
                                       description="The team's audited levers, unchanged.",
                                       params=dict(current_spec.params), switch_months={}),
        "alternative": dataclasses.replace(alternative, name="alternative", title=settings.alternative_label,
                                           description=alternative.title, params=dict(alternative_spec.params)),
    }  # fmt: skip
    return Projection(pos, results, scenarios, _conditions_sentence(alternative, model))


def _conditions_sentence(scenario: Scenario, model: Model) -> str:
    from ..scenarios import load_profile

    profile = load_profile(model)
    size = scenario.params.get(profile.shock_size) if profile.shock_size else None
    if size and scenario.shock_month is not None:
        return (f"a {size:.0%} {profile.shock_label} in {profile.time_unit.lower() or 'time'} "
                f"{scenario.shock_month:g} (the conditions of {scenario.path.name})")  # fmt: skip
    return f"the conditions of {scenario.path.name}"


# ------------------------------------------------------------------------------------------------ ranking


@dataclass(frozen=True)
class ShiftRanking:
    """Seed 001's answer: each dimension raised by ``points`` from the team's position, one at a time.

    ``table``: one row per dimension (index: dimension id), best first: ``label``, ``rank``, ``step`` (how
    much the dimension's mean answer actually rose: less than ``points`` where answers hit 5), ``inputs``
    (the inputs it moved, "name old -> new"), and one column per outcome and month, "<outcome> after <m>
    months": the outcome with the dimension raised minus the outcome of the current way. ``baseline``: the
    current way's outcomes (rows: months after the change, columns: outcomes)."""

    position: Position
    table: pd.DataFrame
    baseline: pd.DataFrame
    points: float
    month: float
    rank_by: str
    rank_month: float
    conditions: str

    @staticmethod
    def column(outcome: str, months: float) -> str:
        return f"{outcome} after {months:g} months"

    def effect(self, dimension: str, outcome: str, months: float) -> float:
        return float(self.table.loc[dimension, self.column(outcome, months)])

    @property
    def best(self) -> str:
        return str(self.table.index[0])

    def close_call(self, within: float = 0.1) -> str | None:
        """The runner-up when its effect on ``rank_by`` is within ``within`` (a share) of the best one's:
        then the order of the two rests on the mapping's judgement more than on the model."""
        if len(self.table) < 2:
            return None
        column = self.column(self.rank_by, self.rank_month)
        first, second = (float(x) for x in self.table[column].iloc[:2])
        if first > 0 and second >= (1 - within) * first:
            return str(self.table.index[1])
        return None


def shift_ranking(mapping: AuditMapping, answers: Answers, pos: Position | None = None) -> ShiftRanking:
    """Raise each dimension's answers by ``[shift] points`` (capped at 5) from ``[shift] month`` on and rank
    the dimensions by their effect on ``rank_by`` after ``rank_month`` months; all runs as one ensemble
    whose member 0 is the team's current way."""
    import pandas as pd

    from ..core import Stepper

    model = mapping.model
    settings = mapping.shift
    pos = pos or position(mapping, answers)
    base_params = dict(pos.params)
    for item in mapping.inputs:  # a lever changes its After value from the shift month
        if item.kind == "lever":
            base_params.update(_switch_constants(model, item.target, settings.month))
    spec = _spec(model, settings.conditions, base_params)
    pinned = _calibration_constants(model, [i.target for i in mapping.inputs if i.kind == "constant"])
    if pinned:  # the model's start-of-run calibration keeps the audited position's values
        spec = spec.replace(params=Stepper(spec).values(pinned))
    rows, steps, moved = [], [], []
    rows.append(_member(mapping, pos.inputs))
    for dim in mapping.dimensions:
        raised = answers.raised([q.id for q in dim.questions], settings.points)
        values = mapping.input_values(raised)
        rows.append(_member(mapping, values))
        steps.append(mapping.dimension_scores(raised)[dim.id] - pos.dimension_scores[dim.id])
        moved.append("; ".join(f"{name} {pos.inputs[name]:.4g} -> {values[name]:.4g}"
                               for name in values if values[name] != pos.inputs[name]))  # fmt: skip
    table = pd.DataFrame(rows)
    times = [settings.month + m for m in settings.months]
    ds = model.run_ensemble(table, return_columns=list(settings.outcomes), return_times=times, base=spec)
    if bool(ds["diverged"].any()):
        raise AuditError(f"{mapping.path}: a run of the shift ranking diverged; check the mapping's values")
    data = {}
    for outcome in settings.outcomes:
        values = ds[outcome].values  # (member, time)
        for k, months in enumerate(settings.months):
            data[ShiftRanking.column(outcome, months)] = values[1:, k] - values[0, k]
    ids = [d.id for d in mapping.dimensions]
    effects = pd.DataFrame(data, index=pd.Index(ids, name="dimension"))
    order = [ShiftRanking.column(settings.rank_by, settings.rank_month)]
    order += [c for c in effects.columns if c not in order]
    ranked = effects.sort_values(order, ascending=False, kind="stable")
    out = pd.DataFrame({"label": [mapping.dimension(i).label for i in ranked.index],
                        "rank": range(1, len(ranked) + 1),
                        "step": [steps[ids.index(i)] for i in ranked.index],
                        "inputs": [moved[ids.index(i)] for i in ranked.index]}, index=ranked.index)  # fmt: skip
    out = out.join(ranked)
    baseline = pd.DataFrame({o: ds[o].values[0] for o in settings.outcomes},
                            index=pd.Index(list(settings.months), name="months after the change"))  # fmt: skip
    conditions = _conditions_sentence(settings.conditions, model)
    if not conditions_of(settings.conditions, model).get(_shock_size(model) or "", 0):
        conditions = f"no market shock (the conditions of {settings.conditions.path.name})"
    return ShiftRanking(pos, out, baseline, settings.points, settings.month, settings.rank_by,
                        settings.rank_month, conditions)  # fmt: skip


def _shock_size(model: Model) -> str | None:
    from ..scenarios import load_profile

    return load_profile(model).shock_size


def _switch_constants(model: Model, lever_name: str, month: float) -> dict[str, float]:
    from ..scenarios import load_profile

    profile = load_profile(model)
    lever = profile.lever(lever_name)
    name = lever.switch or profile.switch_default
    if name is None:
        raise AuditError(f"{model.path.name}: lever {lever_name!r} has no switch month; it cannot change today")
    return {name: month}


def _member(mapping: AuditMapping, values: Mapping[str, float]) -> dict[str, float]:
    """One ensemble row: a lever's After value, a constant's value."""
    row = {}
    for item in mapping.inputs:
        name = item.constants[-1]  # After for a lever, the constant itself otherwise
        row[name] = values[item.target]
    return row


def _calibration_constants(model: Model, changed: Iterable[str]) -> list[str]:
    """The constants the model computes from ``changed`` (e.g. its closed-form status quo), except lever
    switch months: fixing them at the position keeps a changed constant from moving the starting point."""
    changed = set(changed)
    if not changed:
        return []
    levers = _lever_constants(model)
    derived = [n for n in model.constants if model.dependencies.get(n) and n not in levers]
    reach: dict[str, bool] = {}

    def depends(name: str, seen: frozenset = frozenset()) -> bool:
        if name in reach:
            return reach[name]
        found = False
        for dep in model.dependencies.get(name, ()):
            if dep in changed or (dep not in seen and depends(dep, seen | {name})):
                found = True
                break
        reach[name] = found
        return found

    return [n for n in derived if depends(n)]


# ------------------------------------------------------------------------------------------------ path


@dataclass(frozen=True)
class AuditPath:
    """Positions of several dated answer files, oldest first; ``table`` one row per file."""

    positions: tuple[Position, ...]
    table: pd.DataFrame


def audit_path(mapping: AuditMapping, answers: Sequence[Answers]) -> AuditPath:
    """The team's path over time: several answer files need distinct dates (sorted oldest first)."""
    import pandas as pd

    ordered = _ordered(answers)
    positions = tuple(position(mapping, a) for a in ordered)
    rows = []
    for p in positions:
        row: dict[str, Any] = {"date": p.answers.date.isoformat() if p.answers.date else "",
                               "team": p.answers.team, "file": p.answers.source}  # fmt: skip
        row.update({f"score: {mapping.dimension(k).label}": v for k, v in p.dimension_scores.items()})
        row.update({f"input: {k}": v for k, v in p.inputs.items()})
        row.update({f"start: {k}": v for k, v in p.start.items()})
        rows.append(row)
    return AuditPath(positions, pd.DataFrame(rows).set_index("date"))


def _ordered(answers: Sequence[Answers]) -> list[Answers]:
    answers = list(answers)
    if not answers:
        raise AuditError("audit: give at least one answers file")
    if len(answers) == 1:
        return answers
    for a in answers:
        if a.date is None:
            raise AuditError(f"{a.source}: [audit] date: missing; several answer files are a path over time "
                             "and each needs its date")  # fmt: skip
    seen: dict[dt.date, str] = {}
    for a in answers:
        if a.date in seen:
            raise AuditError(f"{a.source}: [audit] date = {a.date.isoformat()}: {seen[a.date]} has the same date")
        seen[a.date] = a.source
    return sorted(answers, key=lambda a: a.date)


# ------------------------------------------------------------------------------------------------ all


@dataclass(frozen=True)
class AuditResult:
    """Everything ``flywheel audit`` shows, for the latest answers (``position``, ``projection``,
    ``ranking``) and for all of them (``path``)."""

    mapping: AuditMapping
    answers: tuple[Answers, ...]  # oldest first
    position: Position
    projection: Projection
    ranking: ShiftRanking
    path: AuditPath
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        """A short plain-text summary (what ``flywheel audit`` writes as summary.txt)."""
        from .audit_text import audit_summary

        return audit_summary(self)


def run_audit(mapping: AuditMapping, answers: Sequence[Answers] | Answers) -> AuditResult:
    """Position, projection and shift ranking of the latest answers, and the path over all of them."""
    if isinstance(answers, Answers):
        answers = [answers]
    ordered = tuple(_ordered(answers))
    path = audit_path(mapping, ordered)
    latest = path.positions[-1]
    return AuditResult(
        mapping=mapping,
        answers=ordered,
        position=latest,
        projection=projection(mapping, latest.answers, latest),
        ranking=shift_ranking(mapping, latest.answers, latest),
        path=path,
    )
