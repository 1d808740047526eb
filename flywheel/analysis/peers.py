"""The same model for the field's other tools, where they lack a construct flywheel reads, and their
spelling of its names.

pysimlin (0.8) reads Vensim's ``GAME(x)`` but cannot simulate it ("not_simulatable"). Outside gaming mode
Vensim defines ``GAME(x)`` as ``x``, so comparisons give pysimlin a copy of the model text with every
``GAME(x)`` written as ``(x)``: the same equations, the same results. Nothing here parses the model; it
only finds the call's closing parenthesis.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

_GAME = re.compile(r"\bGAME\s*\(", re.IGNORECASE)


def simlin_name(name: str) -> str:
    """pysimlin's spelling of a Vensim name (its result columns and ``overrides`` keys): lower case,
    spaces as underscores."""
    return name.lower().replace(" ", "_")


def without_game(text: str) -> str:
    """``text`` with each ``GAME(x)`` written as ``(x)`` (nested parentheses and quoted names kept)."""
    out, at = [], 0
    for match in _GAME.finditer(text):
        if match.start() < at:
            continue
        out.append(text[at : match.start()])
        at = match.end() - 1  # the opening parenthesis stays
    out.append(text[at:])
    return "".join(out)


def simlin_path(path: str | Path) -> Path:
    """A model file pysimlin can simulate: ``path`` itself, or (when it uses GAME) a copy without GAME in
    a temporary folder (named by the content, so repeated calls reuse it)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if not _GAME.search(text):
        return path
    plain = without_game(text)
    digest = hashlib.sha256(plain.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"flywheel-peers-{digest}"
    folder.mkdir(exist_ok=True)
    copy = folder / path.name
    if not copy.is_file():
        staging = folder / f".{path.name}.tmp"
        staging.write_text(plain, encoding="utf-8")
        staging.replace(copy)
    return copy
