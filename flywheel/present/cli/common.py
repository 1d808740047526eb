"""What every command shares: the error type for usage mistakes, the argparse classes that make a
mistake one line, output options, progress bars and small formatting helpers. Nothing heavy is
imported here, so ``flywheel --help`` stays instant."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODEL = Path("models") / "evil_sales_flywheel.mdl"
DEFAULT_SCENARIOS = Path("scenarios")
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake (missing argument, unknown option): reported like any other error."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake becomes one line and exit 2 instead of usage text plus a line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see '{self.prog} --help')")


class Formatter(argparse.HelpFormatter):
    """Wraps descriptions, keeps the line breaks of epilogs (examples), aligns the command list."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:  # pre-formatted (the examples)
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            # argparse (< 3.13) under-counts the sub-command indent and wraps "scenarios".
            longest = max((len(name) for name in action.choices), default=0)
            self._action_max_length = max(self._action_max_length, longest + 2 * self._indent_increment + 2)


def formatter(prog: str) -> argparse.HelpFormatter:
    return Formatter(prog)



def add_command(sub: Any, name: str, *, help: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A sub-command with the shared formatter."""
    return sub.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=formatter)


def add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o", "--output", metavar="DIR", required=True, help="folder for the results (created if missing)"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing result files")


def status(paths: Sequence[Path]) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)


def progress(items: Sequence[Any], desc: str) -> Any:
    """A tqdm bar on stderr for several items, when stderr is a terminal."""
    if len(items) < 2 or not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; a bar is not worth failing for
        return items
    return tqdm(items, desc=desc, unit="scenario", file=sys.stderr, leave=False)


def csv_bytes(df: Any) -> bytes:
    return df.to_csv(index_label="time").encode("utf-8")


def units(model: Any) -> dict[str, str]:
    return {name: info.units for name, info in getattr(model, "variables", {}).items()}


def default_path(relative: Path) -> Path:
    """./<relative> if it exists (the user's own files), else the one in the flywheel checkout."""
    here = Path.cwd() / relative
    return relative if here.exists() else REPO_ROOT / relative


def find_reference(model: Path) -> Path:
    for name in ("output.csv", "output.tab"):
        candidate = model.parent / name
        if candidate.is_file():
            return candidate
    raise UsageError(f"verify: no --reference given and no output.csv or output.tab next to {model}")


def show_range(limits: Any) -> str:
    if not limits:
        return ""
    lo, hi = limits
    if lo is None and hi is None:
        return ""
    return f"[{'?' if lo is None else f'{lo:g}'}, {'?' if hi is None else f'{hi:g}'}]"


def indent(text: str) -> str:
    import textwrap

    return textwrap.indent(textwrap.fill(" ".join(text.split()), 88), "  ")


