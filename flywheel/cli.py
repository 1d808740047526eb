"""The ``flywheel`` command line: run and compare scenarios, list them, describe and verify models.

Design rules: ``flywheel --help`` must be instant, so nothing heavy (numpy, pandas, matplotlib,
PySD, numba) is imported at module level, only inside the command that needs it. Every error a user
can cause becomes one line ``flywheel: <message>`` on stderr and exit code 2, without a traceback.
Results are written only after every run succeeded, atomically, and never over existing files
unless ``--force``. This is the only module that prints or exits.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flywheel.errors import FlywheelError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = Path("models") / "evil_sales_flywheel.mdl"
DEFAULT_SCENARIOS = Path("scenarios")
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake (missing argument, unknown option): reported like any other error."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake becomes one line and exit 2 instead of usage text plus a line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see '{self.prog} --help')")


class _Formatter(argparse.HelpFormatter):
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


def _formatter(prog: str) -> argparse.HelpFormatter:
    return _Formatter(prog)


# --------------------------------------------------------------------------------------------------
# Commands


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario; write <name>.csv, <name>.png and <name>.svg; print its summary row."""
    from flywheel.output import check_can_write, write_files
    from flywheel.plots import figure_bytes, run_figure
    from flywheel.scenarios import get_model, load_scenario, run_scenario
    from flywheel.summary import format_summary, summarise

    scenario = load_scenario(args.scenario)
    outdir = Path(args.output)
    base = outdir / scenario.name
    targets = [base.with_name(f"{scenario.name}.{ext}") for ext in ("csv", "png", "svg")]
    check_can_write(targets, force=args.force)  # fail before the (possibly slow) run

    model = get_model(scenario.model_path)
    df = run_scenario(scenario, model)
    fig = run_figure(df, scenario, model)
    files = {targets[0]: _csv_bytes(df), **figure_bytes(fig, base, ("png", "svg"))}
    written = write_files(files, force=args.force)

    table = summarise({scenario.name: df})
    print(format_summary(table, {scenario.name: scenario.title}, _units(model)))
    _status(written)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several scenarios and write the comparison figure, the stacked results and the summary."""
    from flywheel.output import check_can_write, write_files
    from flywheel.plots import compare_figure, figure_bytes
    from flywheel.scenarios import get_model, load_scenario, run_scenario
    from flywheel.summary import format_summary, summarise

    # Validate every file before running any, so a typo in the last one costs no time.
    scenarios = [load_scenario(p) for p in args.scenarios]
    by_name: dict[str, Any] = {}
    for s in scenarios:
        if s.name in by_name:
            other = by_name[s.name].path
            same = Path(other).resolve() == Path(s.path).resolve()
            reason = "is given twice" if same else f"and {other} have the same name"
            raise UsageError(f"compare: {s.path} {reason}; each scenario needs its own file name")
        by_name[s.name] = s

    outdir = Path(args.output)
    targets = {
        "png": outdir / "comparison.png",
        "svg": outdir / "comparison.svg",
        "csv": outdir / "comparison.csv",
        "summary": outdir / "summary.csv",
    }
    check_can_write(targets.values(), force=args.force)

    results = {}
    bar = _progress(scenarios, "running")
    for s in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(s.name)
        results[s.name] = run_scenario(s, get_model(s.model_path))

    import pandas as pd

    model = get_model(scenarios[0].model_path)  # units for the axes
    table = summarise(results)
    fig = compare_figure(results, by_name, model, title=args.title)
    stacked = pd.concat(
        [df.reset_index().assign(scenario=name) for name, df in results.items()], ignore_index=True
    )
    stacked = stacked[["scenario", *[c for c in stacked.columns if c != "scenario"]]]
    summary = table.copy()
    summary.insert(0, "title", [by_name[n].title for n in summary.index])

    files = {
        **figure_bytes(fig, outdir / "comparison", ("png", "svg")),
        targets["csv"]: stacked.to_csv(index=False).encode("utf-8"),
        targets["summary"]: summary.to_csv().encode("utf-8"),
    }
    written = write_files(files, force=args.force)
    titles = {name: s.title for name, s in by_name.items()}
    print(format_summary(table, titles, _units(model)))
    _status(written)
    return EXIT_OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the scenario files of a folder with their titles (and, with --check, whether they load)."""
    from flywheel.scenarios import list_scenarios
    from flywheel.summary import render_table

    directory = Path(args.directory) if args.directory else _default_path(DEFAULT_SCENARIOS)
    listings = list_scenarios(directory, validate=args.check)
    if not listings:
        print(f"no scenario files (*.toml) in {directory}", file=sys.stderr)
        return EXIT_OK
    rows = []
    for item in listings:
        title = item.title or "(no title)"
        if item.error:
            title = f"{title}  [BROKEN: {item.error}]"
        rows.append([item.name, title])
    print(render_table(["Name", "Title"], rows))
    if args.verbose:
        for item in listings:
            if item.description:
                print(f"\n{item.name}:\n{_indent(item.description)}")
    broken = sum(1 for item in listings if item.error)
    if args.check:
        print(f"\n{len(listings) - broken} ok, {broken} broken", file=sys.stderr)
        return EXIT_FAILED if broken else EXIT_OK
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    """Print the model's variables with kind, units, default, range and documentation."""
    import textwrap

    from flywheel.scenarios import get_model, model_levers
    from flywheel.summary import render_table

    path = Path(args.model) if args.model else _default_path(DEFAULT_MODEL)
    if not path.is_file():
        raise UsageError(f"describe: {path}: no such model file")
    model = get_model(path)
    rows = []
    names = sorted(model.variables, key=str.casefold) if args.sort else list(model.variables)
    for name in names:
        info = model.variables[name]
        if args.kind and info.kind not in args.kind:
            continue
        doc = " ".join((info.documentation or "").split())
        lines = textwrap.wrap(doc, args.width) or [""]
        default = "" if info.default is None else f"{info.default:g}"
        rows.append([name, info.kind, info.units or "", default, _range(info.limits), lines[0]])
        rows.extend(["", "", "", "", "", more] for more in lines[1:])
    print(f"{path}: {len(model.variables)} variables")
    print(render_table(["Name", "Kind", "Units", "Default", "Range", "Documentation"], rows, align="lllrll"))
    levers = model_levers(model.variables)
    if levers:
        print("\nPolicy levers ([policy.before] / [policy.after] in a scenario): " + ", ".join(levers))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Compare a model's run with a reference output (or a whole folder of test models)."""
    try:
        from flywheel import verify
    except ImportError as exc:
        raise UsageError(f"verify: not available in this installation ({exc})") from None

    path = Path(args.path)
    if path.is_dir():
        if args.reference:
            raise UsageError("verify: --reference goes with a model file, not a folder")
        if args.pattern:
            import re

            try:
                re.compile(args.pattern)
            except re.error as exc:
                raise UsageError(
                    f"verify: --pattern {args.pattern!r} is not a regular expression: {exc}"
                ) from None
        report = verify.verify_suite(path, progress=sys.stderr.isatty(), pattern=args.pattern)
        if len(report.table) == 0:
            which = f" matching {args.pattern!r}" if args.pattern else ""
            raise UsageError(f"verify: no models{which} with an output.csv/output.tab reference below {path}")
        print(report.to_text())
        return EXIT_OK if report.n_failed == 0 and report.n_error == 0 else EXIT_FAILED
    if not path.is_file():
        raise UsageError(f"verify: {path}: no such model file or folder")
    reference = Path(args.reference) if args.reference else _find_reference(path)
    if not reference.is_file():
        raise UsageError(f"verify: {reference}: no such reference file")
    if args.pattern:
        raise UsageError("verify: --pattern goes with a folder, not a model file")
    report = verify.compare_with_reference(path, reference, method=args.method)
    print(report.to_text(n=args.top))
    return EXIT_OK if report.passed else EXIT_FAILED


# --------------------------------------------------------------------------------------------------
# The parser

_MAIN_EPILOG = """\
examples:
  flywheel scenarios                                  list the scenarios and their titles
  flywheel run scenarios/shock.toml -o results/       one scenario: CSV + figure
  flywheel compare scenarios/*.toml -o results/       all scenarios side by side
  flywheel describe                                   the model's variables and levers

Each command has its own --help. Exit codes: 0 ok, 1 check failed (verify, scenarios --check),
2 error (bad input, refused overwrite, failed run)."""


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree; separate from ``main`` so tests and docs can inspect it."""
    parser = _Parser(
        prog="flywheel",
        description="A fast system-dynamics lab for the Evil Sales Org Flywheel: run scenarios, "
        "compare them, inspect and verify models.",
        epilog=_MAIN_EPILOG,
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)

    p = sub.add_parser(
        "run",
        help="run one scenario, write its results and figure",
        description="Run one scenario file and write DIR/<name>.csv (every variable, one row per "
        "saved time) and DIR/<name>.png and .svg (the flywheel's variables, one panel each). "
        "The scenario's summary row is printed.",
        epilog="example:\n  flywheel run scenarios/shock_then_overlays.toml -o results/",
        formatter_class=_formatter,
    )
    p.add_argument("scenario", metavar="SCENARIO.toml", help="the scenario file")
    _add_output(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "compare",
        help="run several scenarios, write a comparison figure and summary",
        description="Run several scenario files and write DIR/comparison.png and .svg (one panel per "
        "variable, one colour per scenario), DIR/comparison.csv (all results, with a scenario "
        "column) and DIR/summary.csv; the summary table is printed. Every file is checked before "
        "anything runs, and nothing is written unless every run succeeds.",
        epilog="examples:\n  flywheel compare scenarios/baseline.toml scenarios/deep_dives.toml -o results/\n"
        "  flywheel compare scenarios/*.toml -o results/ --title 'Board meeting, Q3' --force",
        formatter_class=_formatter,
    )
    p.add_argument("scenarios", metavar="SCENARIO.toml", nargs="+", help="scenario files, in legend order")
    _add_output(p)
    p.add_argument("--title", help="figure title (default: 'Evil Sales Org Flywheel: scenario comparison')")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "scenarios",
        help="list scenario files and their titles",
        description="List the scenario files (*.toml) in a folder with their titles. Default folder: "
        "./scenarios if it exists, else the scenarios/ folder of the flywheel checkout.",
        epilog="examples:\n  flywheel scenarios\n  flywheel scenarios my_scenarios/ --check",
        formatter_class=_formatter,
    )
    p.add_argument("directory", metavar="DIR", nargs="?", help="folder of scenario files")
    p.add_argument(
        "--check",
        action="store_true",
        help="also validate every scenario against its model (slower; exit 1 if any is broken)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="also print each scenario's description")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser(
        "describe",
        help="list a model's variables with units, defaults, ranges and documentation",
        description="List a model's variables: kind, units, default value (constants), documented "
        "range and documentation, and the policy levers a scenario can switch. Default model: "
        f"{DEFAULT_MODEL} (in the current folder if present, else in the flywheel checkout).",
        epilog="examples:\n  flywheel describe\n  flywheel describe models/evil_sales_flywheel.mdl --kind constant",
        formatter_class=_formatter,
    )
    p.add_argument("model", metavar="MODEL", nargs="?", help="a Vensim .mdl or XMILE .xmile/.stmx file")
    p.add_argument(
        "--kind",
        action="append",
        choices=["stock", "flow", "auxiliary", "constant", "lookup", "control"],
        metavar="KIND",
        help="only variables of this kind: stock, flow, auxiliary, constant, lookup or control (repeatable)",
    )
    p.add_argument("--sort", action="store_true", help="sort by name instead of model order")
    p.add_argument("--width", type=int, default=60, help="wrap documentation at this width (default 60)")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser(
        "verify",
        help="check a model's results against a reference output (or a folder of test models)",
        description="Run MODEL and compare it with a reference output (Vensim .csv or .tab export); "
        "prints the worst variables. Without --reference, output.csv or output.tab next to the model "
        "is used. Given a folder, every test model in it is verified. Exit 0 if all passed, else 1.",
        epilog="examples:\n  flywheel verify models/evil_sales_flywheel.mdl --reference ref/output.csv\n"
        "  flywheel verify tests/models/ --pattern 'delay|smooth'",
        formatter_class=_formatter,
    )
    p.add_argument("path", metavar="MODEL|DIR", help="a model file, or a folder of test models")
    p.add_argument("--reference", metavar="OUTPUT", help="reference output (.csv or .tab) for a single model")
    p.add_argument(
        "--method",
        default="euler",
        choices=["euler", "rk4", "RK45", "DOP853", "LSODA", "Radau"],
        metavar="METHOD",
        help="integration method for a single model (default euler)",
    )
    p.add_argument("--pattern", metavar="REGEX", help="for a folder: only models whose path matches REGEX")
    p.add_argument("-n", "--top", type=int, default=10, help="how many worst variables to show (default 10)")
    p.set_defaults(func=cmd_verify)
    return parser


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o", "--output", metavar="DIR", required=True, help="folder for the results (created if missing)"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing result files")


# --------------------------------------------------------------------------------------------------
# Entry point


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


def _check_command(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Catch a mistyped command with a suggestion (argparse only lists the choices)."""
    commands = ["run", "compare", "scenarios", "describe", "verify"]
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


def _status(paths: Sequence[Path]) -> None:
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)


def _progress(items: Sequence[Any], desc: str) -> Any:
    """A tqdm bar on stderr for several items, when stderr is a terminal."""
    if len(items) < 2 or not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; a bar is not worth failing for
        return items
    return tqdm(items, desc=desc, unit="scenario", file=sys.stderr, leave=False)


def _csv_bytes(df: Any) -> bytes:
    return df.to_csv(index_label="time").encode("utf-8")


def _units(model: Any) -> dict[str, str]:
    return {name: info.units for name, info in getattr(model, "variables", {}).items()}


def _default_path(relative: Path) -> Path:
    """./<relative> if it exists (the user's own files), else the one in the flywheel checkout."""
    here = Path.cwd() / relative
    return relative if here.exists() else REPO_ROOT / relative


def _find_reference(model: Path) -> Path:
    for name in ("output.csv", "output.tab"):
        candidate = model.parent / name
        if candidate.is_file():
            return candidate
    raise UsageError(f"verify: no --reference given and no output.csv or output.tab next to {model}")


def _range(limits: Any) -> str:
    if not limits:
        return ""
    lo, hi = limits
    if lo is None and hi is None:
        return ""
    return f"[{'?' if lo is None else f'{lo:g}'}, {'?' if hi is None else f'{hi:g}'}]"


def _indent(text: str) -> str:
    import textwrap

    return textwrap.indent(textwrap.fill(" ".join(text.split()), 88), "  ")


class _VersionAction(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata is not free)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
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
