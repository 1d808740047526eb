"""Outcomes and conditions in words: what an analysis measures, read by a small parser (never eval).

Quantities, one number per run (or a series through time)::

    Trust                                   the variable at every output time (a series)
    Trust at 60, Trust at month 60          its value at month 60
    final Trust, initial Trust              its last / first value
    min Trust, max Trust, mean Trust        over the run's output times
    cumulative Sales                        its integral over the run (trapezoid on the output times)
    first time Target Attainment below 0.9  the first output time it is below (above) a threshold;
                                            NaN where it never is

Conditions, for probabilities: ``QUANTITY OP NUMBER [at month T]`` with OP one of ``< <= > >= == !=``,
joined by ``and`` / ``or`` (``and`` binds tighter); a number may be a percentage (``95%``)::

    Target Attainment >= 0.95 at month 60
    min Trust < 0.2
    final Trust > 0.5 and max Overlay Functions < 3

Names are the model's own, ignoring case, spaces and underscores, or in double quotes. The longest run of
words that names a variable is taken, so names may contain words such as "at" or "and".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError

SUMMARIES = ("final", "initial", "min", "max", "mean", "cumulative")
_SYNONYMS = {"minimum": "min", "maximum": "max", "average": "mean", "last": "final", "total": "cumulative"}
_OPERATORS = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
    "=": np.equal, "!=": np.not_equal,
}  # fmt: skip
_TOKEN = re.compile(r'\s*(?:"(?P<quoted>[^"]*)"|(?P<op><=|>=|==|!=|<|>|=)|(?P<word>[^\s"<>=!]+))')
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?$")
_TIME_WORDS = ("month", "time", "t", "year", "day", "week", "quarter")
GRAMMAR = (
    "a variable, 'VARIABLE at month T', 'final|initial|min|max|mean|cumulative VARIABLE' or "
    "'first time VARIABLE below|above X'"
)


@dataclass(frozen=True)
class Quantity:
    """One outcome of a run: ``kind`` is "series", "at", a summary name, or "first_below"/"first_above"."""

    variable: str
    kind: str = "series"
    time: float | None = None  # "at"
    threshold: float | None = None  # first_below / first_above

    @property
    def is_series(self) -> bool:
        return self.kind == "series"

    @property
    def label(self) -> str:
        if self.kind == "series":
            return self.variable
        if self.kind == "at":
            return f"{self.variable} at month {self.time:g}"
        if self.kind in ("first_below", "first_above"):
            return f"first time {self.variable} {self.kind.split('_')[1]} {self.threshold:g}"
        return f"{self.kind} {self.variable}"

    def check_times(self, times: np.ndarray, where: str = "") -> None:
        """A time asked for must be an output time of the run (one clear line otherwise)."""
        if self.kind == "at":
            _time_index(times, self.time, where or self.label)

    def evaluate(self, values: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``values`` (member, time) of the variable -> one number per member, or (member, time)."""
        values = np.asarray(values, dtype=float)
        if self.kind == "series":
            return values
        if self.kind == "at":
            return values[:, _time_index(times, self.time, self.label)]
        if self.kind == "final":
            return values[:, -1]
        if self.kind == "initial":
            return values[:, 0]
        if self.kind == "min":
            return values.min(axis=1)
        if self.kind == "max":
            return values.max(axis=1)
        if self.kind == "mean":
            return values.mean(axis=1)
        if self.kind == "cumulative":
            return np.trapezoid(values, times, axis=1) if len(times) > 1 else np.zeros(len(values))
        crossed = values < self.threshold if self.kind == "first_below" else values > self.threshold
        first = np.argmax(crossed, axis=1)
        return np.where(crossed.any(axis=1), np.asarray(times, dtype=float)[first], np.nan)


@dataclass(frozen=True)
class Comparison:
    quantity: Quantity
    operator: str
    value: float

    @property
    def label(self) -> str:
        return f"{self.quantity.label} {self.operator} {self.value:g}"


@dataclass(frozen=True)
class Condition:
    """Comparisons joined by "or" of "and"s: ``any(all(c for c in group) for group in groups)``."""

    text: str
    groups: tuple[tuple[Comparison, ...], ...]

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(c.quantity.variable for group in self.groups for c in group))

    @property
    def label(self) -> str:
        return " or ".join(" and ".join(c.label for c in group) for group in self.groups)

    def check_times(self, times: np.ndarray) -> None:
        for group in self.groups:
            for comparison in group:
                comparison.quantity.check_times(times, f"condition {self.text!r}")

    def evaluate(self, values: Mapping[str, np.ndarray], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(holds, defined) per member; ``defined`` is False where a value is NaN or infinite (a run that
        diverged), except that "first time ... below" never reached is a defined NaN (it never happened)."""
        holds = None
        defined = None
        for group in self.groups:
            group_holds = None
            for c in group:
                x = c.quantity.evaluate(values[c.quantity.variable], times)
                ok = np.isfinite(x) | (np.isnan(x) & c.quantity.kind.startswith("first_"))
                raw = values[c.quantity.variable]
                ok &= np.all(np.isfinite(raw), axis=1)
                with np.errstate(invalid="ignore"):
                    result = _OPERATORS[c.operator](x, c.value)
                group_holds = result if group_holds is None else group_holds & result
                defined = ok if defined is None else defined & ok
            holds = group_holds if holds is None else holds | group_holds
        return holds, defined


# ------------------------------------------------------------------------------------------ parsing


def parse_quantity(text: Any, variables: Sequence[str], where: str = "outcome") -> Quantity:
    """A ``Quantity`` from its words (see the module text); one clear line when it is not one."""
    if isinstance(text, Quantity):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"{where}: expected {GRAMMAR}, got {text!r}")
    parser = _Parser(text, variables, where)
    quantity = parser.quantity()
    parser.end()
    return quantity


def parse_quantities(outputs: Any, variables: Sequence[str], where: str = "outputs") -> list[Quantity]:
    """One or several outcomes (a string, a Quantity, or a list of them), without duplicates."""
    items = [outputs] if isinstance(outputs, (str, Quantity)) else list(outputs or [])
    if not items:
        raise ParameterError(f"{where}: name at least one outcome ({GRAMMAR})")
    parsed = [parse_quantity(item, variables, where) for item in items]
    return list(dict.fromkeys(parsed))


def parse_condition(text: Any, variables: Sequence[str], where: str = "condition") -> Condition:
    """A ``Condition`` from its words, e.g. "Target Attainment >= 0.95 at month 60"."""
    if isinstance(text, Condition):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"{where}: expected 'QUANTITY OP NUMBER', e.g. 'Trust >= 0.5 at month 60', got {text!r}")
    parser = _Parser(text, variables, where)
    groups = [[parser.comparison()]]
    while not parser.done():
        joiner = parser.word()
        if joiner == "and":
            groups[-1].append(parser.comparison())
        elif joiner == "or":
            groups.append([parser.comparison()])
        else:
            parser.fail(f"expected 'and', 'or' or the end after {groups[-1][-1].label!r}")
    return Condition(text.strip(), tuple(tuple(g) for g in groups))


class _Parser:
    """Recursive descent over tokens: quoted names, operators, words (names, numbers, keywords)."""

    def __init__(self, text: str, variables: Sequence[str], where: str):
        self.text = text
        self.where = f"{where} {text.strip()!r}"
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                self.fail(f"cannot read {text[position:].strip()!r}")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.i = 0
        self.exact = {v: v for v in variables}
        self.loose = {_loose(v): v for v in variables}
        self.variables = list(variables)

    def fail(self, message: str) -> None:
        raise ParameterError(f"{self.where}: {message}")

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def end(self) -> None:
        if not self.done():
            self.fail(f"unexpected {self.tokens[self.i][1]!r}; expected {GRAMMAR}")

    def peek(self, offset: int = 0) -> str | None:
        j = self.i + offset
        if j < len(self.tokens) and self.tokens[j][0] == "word":
            return self.tokens[j][1].casefold()
        return None

    def word(self) -> str | None:
        token = self.peek()
        self.i += 1
        return token

    def number(self, what: str) -> float:
        if self.done() or self.tokens[self.i][0] != "word" or not _NUMBER.match(self.tokens[self.i][1]):
            found = repr(self.tokens[self.i][1]) if not self.done() else "the end"
            self.fail(f"expected a number for {what}, found {found}")
        raw = self.tokens[self.i][1]
        self.i += 1
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)

    def name(self) -> str:
        if self.done():
            self.fail(f"expected a variable name; expected {GRAMMAR}")
        kind, raw = self.tokens[self.i]
        if kind == "quoted":
            self.i += 1
            return self.resolve(raw)
        if kind != "word":
            self.fail(f"expected a variable name before {raw!r}")
        best = None
        j = self.i
        while j < len(self.tokens) and self.tokens[j][0] == "word":
            j += 1
            candidate = " ".join(t[1] for t in self.tokens[self.i : j])
            if candidate in self.exact or _loose(candidate) in self.loose:
                best = (j, self.exact.get(candidate) or self.loose[_loose(candidate)])
        if best is None:
            words = []
            for kind_, raw_ in self.tokens[self.i :]:
                if kind_ != "word" or raw_.casefold() in ("at", "below", "above", "and", "or"):
                    break
                words.append(raw_)
            self.resolve(" ".join(words) or raw)
        self.i = best[0]
        return best[1]

    def resolve(self, name: str) -> str:
        if name in self.exact:
            return name
        if _loose(name) in self.loose:
            return self.loose[_loose(name)]
        close = difflib.get_close_matches(name, self.variables, n=1, cutoff=0.6)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        self.fail(f'"{name}" is not a variable of the model{hint}')
        raise AssertionError  # unreachable

    def at_time(self) -> float | None:
        if self.peek() != "at":
            return None
        self.i += 1
        if self.peek() in _TIME_WORDS:
            self.i += 1
            if not self.done() and self.tokens[self.i] == ("op", "="):
                self.i += 1
        return self.number("the time after 'at'")

    def quantity(self) -> Quantity:
        head = self.peek()
        if head == "first" and self.peek(1) in _TIME_WORDS:
            self.i += 2
            variable = self.name()
            direction = self.word() if self.peek() in ("below", "above") else None
            if direction is None and not self.done() and self.tokens[self.i][0] == "op":
                direction = {"<": "below", "<=": "below", ">": "above", ">=": "above"}.get(self.tokens[self.i][1])
                self.i += 1
            if direction is None:
                self.fail("'first time VARIABLE' needs 'below X' or 'above X'")
            return Quantity(variable, f"first_{direction}", threshold=self.number("the threshold"))
        summary = _SYNONYMS.get(head, head) if head else None
        if summary in SUMMARIES and self._names_follow():
            self.i += 1
            if self.peek() == "of":
                self.i += 1
            return Quantity(self.name(), summary)
        variable = self.name()
        time = self.at_time()
        return Quantity(variable, "series") if time is None else Quantity(variable, "at", time=time)

    def _names_follow(self) -> bool:
        """A summary word is a keyword unless the words from it on name a variable ("Final Sales")."""
        j = self.i
        while j < len(self.tokens) and self.tokens[j][0] == "word":
            j += 1
            words = " ".join(t[1] for t in self.tokens[self.i : j])
            if words in self.exact or _loose(words) in self.loose:
                return False
        return self.i + 1 < len(self.tokens)

    def comparison(self) -> Comparison:
        quantity = self.quantity()
        if self.done() or self.tokens[self.i][0] != "op":
            self.fail(f"expected a comparison (<, <=, >, >=, ==, !=) after {quantity.label!r}")
        operator = self.tokens[self.i][1]
        self.i += 1
        value = self.number(f"the comparison with {quantity.label!r}")
        time = self.at_time()
        if time is not None:
            if quantity.kind != "series":
                self.fail(f"'at month {time:g}' cannot apply to {quantity.label!r}, which is one number per run")
            quantity = Quantity(quantity.variable, "at", time=time)
        if quantity.is_series:
            self.fail(
                f"{quantity.variable!r} changes over time: say when ('{quantity.variable} {operator} {value:g} "
                f"at month T') or use final, min, max or mean"
            )
        return Comparison(quantity, "==" if operator == "=" else operator, value)


def _loose(name: str) -> str:
    return "".join(name.split()).replace("_", "").casefold()


def _time_index(times: np.ndarray, time: float, where: str) -> int:
    times = np.asarray(times, dtype=float)
    hits = np.flatnonzero(np.isclose(times, time, rtol=0, atol=1e-9 + 1e-9 * abs(time)))
    if len(hits) == 0:
        if len(times) == 0:
            raise ParameterError(f"{where}: the run has no output times")
        step = times[1] - times[0] if len(times) > 1 else 0
        every = f"every {step:g} from {times[0]:g} to {times[-1]:g}" if step else f"only {times[0]:g}"
        inside = times[0] <= time <= times[-1]
        reason = "is not an output time" if inside else "is outside the run"
        raise ParameterError(f"{where}: time {time:g} {reason} (output times: {every})")
    return int(hits[0])


def check_times(times: Any, available: np.ndarray, where: str = "times") -> np.ndarray:
    """Requested times (a list, or None for all output times) checked against the run's output times."""
    available = np.asarray(available, dtype=float)
    if times is None:
        return available
    try:
        wanted = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: expected numbers (output times), got {times!r}") from None
    if wanted.ndim != 1 or len(wanted) == 0 or not np.all(np.isfinite(wanted)):
        raise ParameterError(f"{where}: expected one or more finite output times, got {times!r}")
    return np.array([available[_time_index(available, float(t), where)] for t in wanted])
