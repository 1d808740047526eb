"""The ``flywheel`` command line: a thin layer over the public API, one module per command group.

Design rules: ``flywheel --help`` must be instant, so nothing heavy (numpy, pandas, matplotlib, PySD,
LLVM) is imported at module level, only inside the command that needs it. Every error a user can
cause becomes one line ``flywheel: <message>`` on stderr and exit code 2, without a traceback.
Results are written only after every run succeeded, atomically, and never over existing files unless
``--force``. This package is the only place that prints or exits.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence

from ...errors import FlywheelError
from . import (
    app,
    auditing,
    calibrating,
    listing,
    loops,
    play,
    reporting,
    runs,
    tipping,
    uncertainty,
    verifying,
)
from .common import EXIT_ERROR, EXIT_OK, Parser, UsageError, formatter

COMMAND_MODULES = (runs, listing, loops, tipping, play, verifying, uncertainty, calibrating, auditing, reporting, app)

_MAIN_EPILOG = """\
examples:
  flywheel scenarios                                  list the scenarios and their titles
  flywheel run scenarios/shock_add_overlays.toml -o results/
  flywheel compare scenarios/*.toml -o results/       all scenarios side by side
  flywheel describe                                   the model's variables and levers
  flywheel calibrate MODEL --data obs.csv --fit "Miss Tolerance=0.022:0.05" -o results/
  flywheel montecarlo scenarios/deep_dives.toml --ranges scenarios/ranges/judgement.toml -o results/
  flywheel sensitivity --outcome 'Target Attainment' -o results/    Sobol indices through time
  flywheel play --seed 7 --save me.json               the management game in the terminal
  flywheel app                                        the what-if page on http://127.0.0.1:5006/

Each command has its own --help. Exit codes: 0 ok, 1 check failed (verify, scenarios --check),
2 error (bad input, refused overwrite, failed run)."""


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree; separate from ``main`` so tests and docs can inspect it."""
    parser = Parser(
        prog="flywheel",
        description="A fast system-dynamics lab for the Evil Sales Org Flywheel: run scenarios, "
        "compare them, inspect and verify models.",
        epilog=_MAIN_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 check failed, 2 error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        _check_command(parser, argv)
        args = parser.parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except (UsageError, FlywheelError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except BrokenPipeError:
        # `flywheel scenarios | head`: the reader went away; not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{name}{exc.strerror or exc}")
    except OSError as exc:
        return _fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _check_command(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Catch a mistyped command with a suggestion (argparse only lists the choices)."""
    commands = _commands(parser)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first in commands or argv.index(first) != 0:
        return
    match = difflib.get_close_matches(first, commands, n=1)
    hint = f"; did you mean '{match[0]}'?" if match else f"; commands: {', '.join(commands)}"
    raise UsageError(f"unknown command '{first}'{hint}")


def _fail(message: str) -> int:
    """Print one line on stderr: a multi-line message is joined so scripts can grep it."""
    line = " ".join(message.split("\n")).strip() or "failed"
    print(f"flywheel: {line}", file=sys.stderr)
    return EXIT_ERROR


class _VersionAction(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata is not free)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args, **kwargs) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("flywheel")
    except Exception:  # not installed (running from a checkout)
        return "(development checkout)"


if __name__ == "__main__":
    sys.exit(main())
