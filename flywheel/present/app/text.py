"""Words for the page: one-line explanations from a model's documentation, units people read, numbers.

A lever's documentation is written for modellers ("Structure and processes. Overlay reflex before the
switch: ... Status quo 4.8 (judgement, ...)"); next to a slider a leadership team needs its first
sentence, without the dimension it belongs to, the switch ("before the switch") or a "Test input:" tag.
The full text stays available as the slider's tooltip.
"""

from __future__ import annotations

import html
import re

from ...analysis.whatif import Control

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")
_TAG = re.compile(r"^(?:[A-Z][a-z]+(?: [a-z]+){0,2}):\s+")  # "Test input: ", "Test switch: "
_SWITCH_WORDS = re.compile(r",? (?:before|after|from) the switch(?: month)?", re.IGNORECASE)
_UNIT_WORDS = {"dmnl": "", "dimensionless": "", "1": "", "month": "months", "year": "years", "week": "weeks",
               "day": "days", "quarter": "quarters"}  # fmt: skip


def one_line(documentation: str, dimension: str = "") -> str:
    """The first sentence that says what the constant is (see the module text)."""
    text = " ".join((documentation or "").split())
    if not text:
        return ""
    sentences = _SENTENCE_END.split(text)
    if dimension and len(sentences) > 1 and sentences[0].lower().startswith(dimension.lower()):
        sentences = sentences[1:]
    first = _TAG.sub("", sentences[0], count=1)
    first = _SWITCH_WORDS.sub("", first)
    first = first[:1].upper() + first[1:]
    return first if len(first) <= 240 else first[:237].rsplit(" ", 1)[0] + "..."


def lever_explanation(documentation_before: str, explain: str, documentation_after: str, dimension: str) -> str:
    """A lever's line: the profile's own ``explain`` when it wrote one, else what "today's" value is."""
    if explain and explain != documentation_after:
        return one_line(explain)
    return one_line(documentation_before or explain, dimension)


def is_share(control: Control) -> bool:
    """A dimensionless value between 0 and 1: shown as a percentage."""
    return control.units.strip().lower() in ("dmnl", "dimensionless", "1", "") and control.low >= 0 and control.high <= 1


def unit_words(units: str) -> str:
    """"Overlays/Year" -> "overlays per year", "Month" -> "months", "Dmnl" -> ""."""
    text = (units or "").strip()
    if text.lower() in _UNIT_WORDS:
        return _UNIT_WORDS[text.lower()]
    text = re.sub(r"^1\s*/\s*", "per ", text)
    text = re.sub(r"\s*/\s*", " per ", text)
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in text.split())


def slider_format(control: Control) -> str:
    """A numbro format for the slider's value: percent for shares, else as many decimals as the step."""
    if is_share(control):
        decimals = _decimals(control.step * 100)
        return "0" + ("." + "0" * decimals if decimals else "") + "%"
    decimals = _decimals(control.step)
    return "0,0" + ("." + "0" * decimals if decimals else "")


def show_value(control: Control, value: float) -> str:
    """A control's value as the slider shows it, with its unit."""
    if is_share(control):
        decimals = _decimals(control.step * 100)
        return f"{value * 100:.{decimals}f}%"
    decimals = _decimals(control.step)
    unit = unit_words(control.units)
    return f"{value:,.{decimals}f}" + (f" {unit}" if unit else "")


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def _decimals(step: float) -> int:
    if step <= 0 or step >= 1:
        return 0
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0
