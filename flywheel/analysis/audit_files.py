"""The sales-ecosystem audit's two kinds of file: the mapping (questionnaire + answers -> model inputs) and
a team's dated answers.

The mapping (``models/audit_mapping.toml``) holds the questions (texts from the seeds' checklists), and for
each model input (a profile lever or a constant typed into the model) the questions it reads and its values
at the answers 1..5. It is a structured judgement, written down so it can be questioned and edited; this
module checks it against the model before anything runs: every name must exist, every value must lie in
the model's documented range, every question must feed the model. Answers come from a TOML file (the
template ``answers_template`` writes) or a dict (a web page). Every mistake is one ``AuditError`` line
naming the file and the item.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import AuditError
from ..scenarios.toml_checks import TomlChecker, read_toml

if TYPE_CHECKING:
    from ..core import Model
    from ..scenarios import Scenario

__all__ = [
    "SCORES",
    "Answers",
    "AuditMapping",
    "Dimension",
    "MappingInput",
    "ProjectionSettings",
    "Question",
    "ShiftSettings",
    "answers_from_dict",
    "answers_template",
    "load_answers",
    "load_mapping",
]

SCORES = (1, 2, 3, 4, 5)  # the answer scale; a mapping gives one value per score
MAPPING_FILE = "audit_mapping.toml"
_TOP = ("audit", "projection", "shift", "dimension", "input")
_AUDIT_KEYS = ("title", "model", "statement", "scale")
_PROJECTION_KEYS = ("alternative", "current_label", "alternative_label")
_SHIFT_KEYS = ("points", "month", "conditions", "outcomes", "months", "rank_by", "rank_month")
_DIMENSION_KEYS = ("id", "label", "source", "question")
_QUESTION_KEYS = ("id", "text", "source", "low", "high")
_INPUT_KEYS = ("lever", "constant", "questions", "weights", "values", "why")
_ANSWER_META = ("team", "date", "notes")
DEFAULT_STATEMENT = "The mapping from answers to the model is a structured judgement, not a measurement."


@dataclass(frozen=True)
class Question:
    """One audit question; ``id`` is "dimension.key" (the key is what the answers file uses)."""

    id: str
    dimension: str
    key: str
    text: str
    source: str
    low: str
    high: str


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    source: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class MappingInput:
    """One model input set from answers: ``kind`` "lever" (a profile lever: its Before and After
    constants) or "constant"; its value is the answers' weighted mean interpolated in ``values``."""

    target: str
    kind: str
    constants: tuple[str, ...]  # the model constants it sets (Before, After for a lever)
    questions: tuple[str, ...]
    weights: tuple[float, ...]
    values: tuple[float, ...]
    why: str
    units: str = ""

    def score(self, answers: Answers) -> float:
        """The weighted mean answer to this input's questions."""
        total = sum(self.weights)
        return sum(w * answers.scores[q] for q, w in zip(self.questions, self.weights, strict=True)) / total

    def value(self, score: float) -> float:
        """Linear interpolation of ``values`` at a score in [1, 5]."""
        score = min(max(score, SCORES[0]), SCORES[-1])
        low = min(int(math.floor(score)), SCORES[-1] - 1)
        frac = score - low
        a, b = self.values[low - 1], self.values[low]
        return a + (b - a) * frac


@dataclass(frozen=True)
class ProjectionSettings:
    alternative: Scenario
    current_label: str
    alternative_label: str


@dataclass(frozen=True)
class ShiftSettings:
    points: float
    month: float
    conditions: Scenario
    outcomes: tuple[str, ...]
    months: tuple[float, ...]
    rank_by: str
    rank_month: float


@dataclass(frozen=True)
class AuditMapping:
    """A checked audit mapping: the questionnaire, the inputs it sets, and the settings of its runs."""

    path: Path
    model: Model
    title: str
    statement: str
    scale: str
    dimensions: tuple[Dimension, ...]
    inputs: tuple[MappingInput, ...]
    projection: ProjectionSettings
    shift: ShiftSettings
    questions: Mapping[str, Question] = field(default_factory=dict)  # id -> question, in file order

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(dimension_id)

    def dimension_scores(self, answers: Answers) -> dict[str, float]:
        """The mean answer per dimension (what the radar shows), in questionnaire order."""
        return {d.id: sum(answers.scores[q.id] for q in d.questions) / len(d.questions) for d in self.dimensions}

    def input_values(self, answers: Answers) -> dict[str, float]:
        """Each input's value for these answers, keyed by the input's target (lever or constant name)."""
        return {i.target: i.value(i.score(answers)) for i in self.inputs}


@dataclass(frozen=True)
class Answers:
    """A team's answers: ``scores`` maps question ids ("dimension.key") to numbers in [1, 5]."""

    source: str
    scores: Mapping[str, float]
    team: str = ""
    date: dt.date | None = None
    notes: str = ""

    @property
    def label(self) -> str:
        """How outputs name these answers: the date, else the file's name."""
        return self.date.isoformat() if self.date else Path(self.source).stem

    def raised(self, questions: tuple[str, ...] | list[str], points: float) -> Answers:
        """The same answers with the given questions raised by ``points`` (at most to 5)."""
        scores = dict(self.scores)
        for q in questions:
            scores[q] = min(SCORES[-1], scores[q] + points)
        return Answers(self.source, MappingProxyType(scores), self.team, self.date, self.notes)


# --------------------------------------------------------------------------------------------- the mapping


def load_mapping(path: str | Path | None = None, model: Model | None = None) -> AuditMapping:
    """Read and check an audit mapping against its model.

    ``path`` defaults to ``audit_mapping.toml`` beside ``model``'s file; ``model`` defaults to the model
    the mapping names. Raises ``AuditError`` (one line naming the file and the item); a scenario the
    mapping names that is broken raises that scenario's ``ScenarioError``."""
    if path is None:
        if model is None:
            raise AuditError("load_mapping: give the mapping file or the model it belongs to")
        path = model.path.with_name(MAPPING_FILE)
    path = Path(path)
    raw = _read_toml(path, "audit mapping")
    check = _MappingChecker(path)
    check.keys(raw, _TOP, "")
    head = check.table(raw, "audit")
    check.keys(head, _AUDIT_KEYS, "[audit]")
    if model is None:
        model_file = (path.parent / check.text(head, "model", "[audit]", required=True)).resolve()
        if not model_file.is_file():
            raise check.fail(f"[audit] model = {json.dumps(head['model'])}: no such file ({model_file})")
        from ..scenarios import get_model

        model = get_model(model_file)
    dimensions = tuple(check.dimension(item, i) for i, item in enumerate(check.array(raw, "dimension")))
    if not dimensions:
        raise check.fail("no [[dimension]] with questions")
    questions = {q.id: q for d in dimensions for q in d.questions}
    inputs = tuple(check.input(item, i, questions, model) for i, item in enumerate(check.array(raw, "input")))
    if not inputs:
        raise check.fail("no [[input]]: the answers would not change the model")
    check.all_used(questions, inputs)
    return AuditMapping(
        path=path,
        model=model,
        title=check.text(head, "title", "[audit]") or "Sales-ecosystem audit",
        statement=check.text(head, "statement", "[audit]") or DEFAULT_STATEMENT,
        scale=check.text(head, "scale", "[audit]"),
        dimensions=dimensions,
        inputs=inputs,
        projection=check.projection(check.table(raw, "projection"), model),
        shift=check.shift(check.table(raw, "shift"), model),
        questions=MappingProxyType(questions),
    )


class _MappingChecker(TomlChecker):
    """Reads mapping entries and checks every name and number (one line per mistake)."""

    error = AuditError

    def __init__(self, path: Path):
        super().__init__(path)
        self.targets: dict[str, str] = {}

    def text(self, table: dict, key: str, where: str, required: bool = False) -> str:
        return " ".join(super().text(table, key, where, required).split())  # question texts on one line

    def number(self, table: dict, key: str, where: str, default: float | None = None) -> float:
        if key not in table:
            if default is None:
                raise self.fail(f"{where} {key}: missing")
            return default
        return self.finite(table[key], f"{where} {key}")

    def finite(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(f"{where} = {_show(value)}: expected a finite number")
        return float(value)

    def dimension(self, item: dict, i: int) -> Dimension:
        where = f"[[dimension]] {i + 1}"
        self.keys(item, _DIMENSION_KEYS, where)
        dim_id = self.identifier(item, where)
        where = f"dimension {json.dumps(dim_id)}"
        if dim_id in _ANSWER_META or dim_id == "audit":
            raise self.fail(f"{where}: {json.dumps(dim_id)} is reserved for the answers' [audit] table")
        if dim_id in self.targets:
            raise self.fail(f"{where}: given twice")
        self.targets[dim_id] = where
        items = self.array(item, "question", f"{where}: ")
        if not items:
            raise self.fail(f"{where}: no [[dimension.question]]")
        questions, seen = [], set()
        for k, q in enumerate(items):
            qwhere = f"{where} question {k + 1}"
            self.keys(q, _QUESTION_KEYS, qwhere)
            key = self.identifier(q, qwhere)
            if key in seen:
                raise self.fail(f"{where}: question {json.dumps(key)} is given twice")
            seen.add(key)
            qwhere = f"question {json.dumps(f'{dim_id}.{key}')}"
            questions.append(Question(
                f"{dim_id}.{key}", dim_id, key, self.text(q, "text", qwhere, required=True),
                self.text(q, "source", qwhere), self.text(q, "low", qwhere), self.text(q, "high", qwhere),
            ))  # fmt: skip
        return Dimension(dim_id, self.text(item, "label", where) or dim_id, self.text(item, "source", where),
                         tuple(questions))  # fmt: skip

    def identifier(self, table: dict, where: str) -> str:
        value = self.text(table, "id", where, required=True)
        if not value.replace("_", "").isalnum() or not value.isascii():
            raise self.fail(f"{where} id {json.dumps(value)}: use letters, digits and underscores only")
        return value

    def input(self, item: dict, i: int, questions: dict[str, Question], model: Model) -> MappingInput:
        where = f"[[input]] {i + 1}"
        self.keys(item, _INPUT_KEYS, where)
        if ("lever" in item) == ("constant" in item):
            raise self.fail(f"{where}: give exactly one of lever = \"...\" or constant = \"...\"")
        kind = "lever" if "lever" in item else "constant"
        target = self.text(item, kind, where, required=True)
        where = f"[[input]] {i + 1} ({kind} {json.dumps(target)})"
        constants = self.target(kind, target, where, model)
        if target in self.targets:
            raise self.fail(f"{where}: {self.targets[target]} already maps to it")
        self.targets[target] = f"[[input]] {i + 1}"
        names = item.get("questions")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise self.fail(f"{where} questions: expected a non-empty list of question ids (\"dimension.question\")")
        for name in names:
            if name not in questions:
                raise self.fail(f"{where} questions: {json.dumps(name)} is not a question of this file"
                                f"{_suggest(name, list(questions))}")  # fmt: skip
        if len(set(names)) != len(names):
            raise self.fail(f"{where} questions: a question is listed twice")
        weights = item.get("weights", [1.0] * len(names))
        if not isinstance(weights, list) or len(weights) != len(names):
            raise self.fail(f"{where} weights: expected one number per question ({len(names)})")
        weights = [self.finite(w, f"{where} weights[{k}]") for k, w in enumerate(weights)]
        if any(w <= 0 for w in weights):
            raise self.fail(f"{where} weights: every weight must be greater than 0")
        values = item.get("values")
        if not isinstance(values, list) or len(values) != len(SCORES):
            raise self.fail(f"{where} values: expected {len(SCORES)} numbers, the input at the answers "
                            f"{', '.join(map(str, SCORES))}")  # fmt: skip
        values = [self.finite(v, f"{where} values[{k}]") for k, v in enumerate(values)]
        info = model.variables[constants[0]]
        low, high = info.limits
        for k, value in enumerate(values):
            if (low is not None and value < low) or (high is not None and value > high):
                raise self.fail(
                    f"{where} values[{k}] = {value:g} (answer {SCORES[k]}) is outside the documented range "
                    f"[{_bound(low)}, {_bound(high)}] of {constants[0]!r} in {model.path.name}"
                )
        why = self.text(item, "why", where)
        if not why:
            raise self.fail(f"{where} why: missing; say why these values (every number is a judgement)")
        return MappingInput(target, kind, constants, tuple(names), tuple(weights), tuple(values), why, info.units)

    def target(self, kind: str, target: str, where: str, model: Model) -> tuple[str, ...]:
        """The model constants an input sets; the input must point at something the model has."""
        if kind == "lever":
            from ..scenarios import load_profile

            profile = load_profile(model)
            lever = profile.lever(target)
            if lever is None:
                raise self.fail(f"{where}: the model {model.path.name} has no such lever"
                                f"{_suggest(target, profile.lever_names)} (levers: "
                                f"{', '.join(profile.lever_names) or 'none'})")  # fmt: skip
            return (lever.before, lever.after)
        info = model.variables.get(target)
        if info is None:
            raise self.fail(f"{where}: the model {model.path.name} has no such variable"
                            f"{_suggest(target, list(model.variables))}")  # fmt: skip
        if info.kind != "constant":
            raise self.fail(f"{where}: is a{'n' if info.kind[0] in 'aeiou' else ''} {info.kind} in "
                            f"{model.path.name}; an input must be a lever or a constant")  # fmt: skip
        if model.dependencies.get(target):
            raise self.fail(f"{where}: {model.path.name} computes it from other constants; map a constant typed "
                            "in as a number")  # fmt: skip
        return (target,)

    def all_used(self, questions: dict[str, Question], inputs: tuple[MappingInput, ...]) -> None:
        used = {q for i in inputs for q in i.questions}
        for qid in questions:
            if qid not in used:
                raise self.fail(f"question {json.dumps(qid)} feeds no [[input]]: add it to one, or remove it "
                                "(an answer that does not reach the model would mislead)")  # fmt: skip

    def scenario(self, table: dict, key: str, where: str, model: Model) -> Scenario:
        from ..scenarios import load_scenario

        name = self.text(table, key, where, required=True)
        scenario_path = (self.path.parent / name).resolve()
        if not scenario_path.is_file():
            raise self.fail(f"{where} {key} = {json.dumps(name)}: no such scenario file ({scenario_path})")
        return load_scenario(scenario_path, model)

    def projection(self, table: dict, model: Model) -> ProjectionSettings:
        self.keys(table, _PROJECTION_KEYS, "[projection]")
        alternative = self.scenario(table, "alternative", "[projection]", model)
        if not alternative.switch_months:
            raise self.fail(f"[projection] alternative {alternative.path.name}: changes no policy lever, so it "
                            "would equal the team's current way")  # fmt: skip
        return ProjectionSettings(
            alternative,
            self.text(table, "current_label", "[projection]") or "Your current way of managing",
            self.text(table, "alternative_label", "[projection]") or alternative.title,
        )

    def shift(self, table: dict, model: Model) -> ShiftSettings:
        where = "[shift]"
        self.keys(table, _SHIFT_KEYS, where)
        points = self.number(table, "points", where, 1.0)
        if points <= 0:
            raise self.fail(f"{where} points = {points:g}: must be greater than 0")
        month = self.number(table, "month", where, 0.0)
        conditions = self.scenario(table, "conditions", where, model)
        final = conditions.simulation.final_time or model.final_time or 0.0
        start = model.initial_time
        if not start <= month < final:
            raise self.fail(f"{where} month = {month:g}: must lie in [{start:g}, {final:g}) (the run of "
                            f"{conditions.path.name})")  # fmt: skip
        outcomes = table.get("outcomes")
        if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) for o in outcomes):
            raise self.fail(f"{where} outcomes: expected a non-empty list of variable names")
        for name in outcomes:
            if name not in model.variables:
                raise self.fail(f"{where} outcomes: {model.path.name} has no variable {json.dumps(name)}"
                                f"{_suggest(name, list(model.variables))}")  # fmt: skip
        months = table.get("months")
        if not isinstance(months, list) or not months:
            raise self.fail(f"{where} months: expected a non-empty list of months after the change")
        months = [self.finite(m, f"{where} months") for m in months]
        for m in months:
            if m <= 0 or month + m > final:
                raise self.fail(f"{where} months: {m:g} months after month {month:g} is outside the run "
                                f"(0 to {final:g})")  # fmt: skip
        rank_by = self.text(table, "rank_by", where) or outcomes[0]
        if rank_by not in outcomes:
            raise self.fail(f"{where} rank_by = {json.dumps(rank_by)}: must be one of the outcomes")
        rank_month = self.number(table, "rank_month", where, max(months))
        if rank_month not in months:
            raise self.fail(f"{where} rank_month = {rank_month:g}: must be one of months")
        return ShiftSettings(points, month, conditions, tuple(outcomes), tuple(months), rank_by, rank_month)


# --------------------------------------------------------------------------------------------- answers


def load_answers(path: str | Path, mapping: AuditMapping) -> Answers:
    """Read a team's answers file and check it against the mapping's questionnaire."""
    path = Path(path)
    return _answers(_read_toml(path, "answers"), mapping, str(path))


def answers_from_dict(data: Mapping[str, Any], mapping: AuditMapping, source: str = "answers") -> Answers:
    """Answers given as a dict, nested like the file ({"strategy": {"go_to_market": 4}, "audit": {...}})
    or flat ({"strategy.go_to_market": 4}); checked exactly like a file (``source`` names it in errors)."""
    if not isinstance(data, Mapping):
        raise AuditError(f"{source}: expected a table of answers, got {type(data).__name__}")
    nested: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and "." in key and not isinstance(value, Mapping):
            dim, _, q = key.partition(".")
            nested.setdefault(dim, {})
            if not isinstance(nested[dim], dict):
                raise AuditError(f"{source}: {json.dumps(dim)} is given both as a table and as a value")
            nested[dim][q] = value
        else:
            nested[key] = dict(value) if isinstance(value, Mapping) else value
    return _answers(nested, mapping, source)


def _answers(raw: dict[str, Any], mapping: AuditMapping, source: str) -> Answers:
    def fail(message: str) -> AuditError:
        return AuditError(f"{source}: {message}")

    dims = {d.id: d for d in mapping.dimensions}
    meta = raw.get("audit", {})
    if not isinstance(meta, dict):
        raise fail("[audit] must be a table (team, date, notes)")
    for key in meta:
        if key not in _ANSWER_META:
            raise fail(f"[audit] {json.dumps(key)}: unknown key (allowed: {', '.join(_ANSWER_META)})"
                       f"{_suggest(key, _ANSWER_META)}")  # fmt: skip
    for key, value in raw.items():
        if key == "audit":
            continue
        if key not in dims:
            raise fail(f"{json.dumps(key)}: unknown dimension (dimensions: {', '.join(dims)}){_suggest(key, list(dims))}")
        if not isinstance(value, dict):
            raise fail(f"{json.dumps(key)} must be a table ([{key}]) of answers")
    scores: dict[str, float] = {}
    missing = []
    for dim in mapping.dimensions:
        given = raw.get(dim.id, {})
        keys = [q.key for q in dim.questions]
        for key in given:
            if key not in keys:
                raise fail(f"[{dim.id}] {json.dumps(key)}: unknown question{_suggest(key, keys)} "
                           f"(questions: {', '.join(keys)})")  # fmt: skip
        for q in dim.questions:
            if q.key not in given:
                missing.append(q)
                continue
            value = given[q.key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise fail(f"[{dim.id}] {q.key} = {_show(value)}: expected a number from 1 to 5")
            if not SCORES[0] <= value <= SCORES[-1]:
                raise fail(f"[{dim.id}] {q.key} = {_show(value)}: outside 1-5 (allowed: 1 to 5)")
            scores[q.id] = float(value)
    if missing:
        first = missing[0]
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise fail(f"[{first.dimension}] {first.key}: missing (answer 1-5: {first.text}){more}")
    team = meta.get("team", "")
    notes = meta.get("notes", "")
    for key, value in (("team", team), ("notes", notes)):
        if not isinstance(value, str):
            raise fail(f"[audit] {key}: expected a string")
    return Answers(source, MappingProxyType(scores), " ".join(team.split()), _date(meta.get("date"), fail),
                   notes.strip())  # fmt: skip


def _date(value: Any, fail) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail(f"[audit] date = {_show(value)}: expected a date like 2025-03-31")


def answers_template(mapping: AuditMapping, date: dt.date | None = None, team: str = "") -> str:
    """A TOML answers file for a team to fill: every question with its source and scale, answered 3."""
    date = date or dt.date.today()
    lines = [
        f"# {mapping.title}: your team's answers (flywheel audit). Revisit quarterly: save a dated copy each time.",
        "# Replace each 3 with your team's answer from 1 to 5 "
        f"({mapping.scale or '1 = not at all, 5 = fully'}).",
        f"# {mapping.statement}",
        "# Sources: the seeds' checklists (000 ecosystem audit, 001 sales management, 002 the evil flywheel,",
        "# 003 alignment of expectations, 004 sales-force effectiveness).",
        "",
        "[audit]",
        f"team = {json.dumps(team or 'Our sales leadership team')}",
        f"date = {date.isoformat()}",
        'notes = ""',
    ]
    for dim in mapping.dimensions:
        lines += ["", f"# ---- {dim.label}" + (f" (seed {dim.source})" if dim.source else ""), f"[{dim.id}]"]
        for q in dim.questions:
            lines.append(f"# {q.text} [{q.source}]")
            if q.low or q.high:
                lines.append(f"#   1 = {q.low or 'not at all'}; 5 = {q.high or 'fully'}")
            lines.append(f"{q.key} = 3")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- helpers


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    return read_toml(path, f"{what} file", AuditError)


def _suggest(word: str, candidates: Any) -> str:
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {json.dumps(match[0])}?" if match else ""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        text = json.dumps(value)
        return text if len(text) <= 40 else text[:37] + '..."'
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return str(value)


def _bound(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"

