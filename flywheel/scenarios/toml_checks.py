"""Reading a TOML file's tables with one clear line per mistake: the file, the item, what is allowed.

The profile, game and audit-mapping readers share these checks, so a wrong key, a table that is not a
table or a value of the wrong type reads the same everywhere ("did you mean" included).
"""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ScenarioError


def read_toml(path: Path, kind: str, error: type[Exception] = ScenarioError) -> dict[str, Any]:
    """Parse a TOML file; every way of failing becomes one ``error`` naming the file (``kind``: what the
    file should be, e.g. "scenario file")."""
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{path}: no such {kind}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not {article} {kind}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None


class TomlChecker:
    """Checks the tables of one file; ``error`` is the exception its mistakes raise."""

    error: type[Exception] = ScenarioError

    def __init__(self, path: Path):
        self.path = path

    def fail(self, message: str) -> Exception:
        return self.error(f"{self.path}: {message}")

    def keys(self, table: dict, allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {json.dumps(close[0])}?" if close else ""
                raise self.fail(f"{where} {json.dumps(key)}: unknown key (allowed: {', '.join(allowed)}){hint}".strip())

    def table(self, raw: dict, name: str) -> dict:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(f"[{name}] must be a table")
        return value

    def array(self, raw: dict, name: str, where: str = "") -> list[dict]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{where}[[{name}]] must be an array of tables".strip())
        return value

    def text(self, table: dict, key: str, where: str, required: bool = False) -> str:
        """The string at ``key``, stripped ("" when absent and not required)."""
        if key not in table:
            if required:
                raise self.fail(f"{where} {key}: missing")
            return ""
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(f"{where} {key}: expected a string")
        if required and not value.strip():
            raise self.fail(f"{where} {key}: empty")
        return value.strip()
