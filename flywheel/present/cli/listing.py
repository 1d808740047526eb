"""``flywheel scenarios`` and ``flywheel describe``: what scenarios and models there are."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import (
    DEFAULT_MODEL,
    DEFAULT_SCENARIOS,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    default_path,
    formatter,
    indent,
    show_range,
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "scenarios",
        help="list scenario files and their titles",
        description="List the scenario files (*.toml) in a folder with their titles. Default folder: "
        "./scenarios if it exists, else the scenarios/ folder of the flywheel checkout.",
        epilog="examples:\n  flywheel scenarios\n  flywheel scenarios my_scenarios/ --check",
        formatter_class=formatter,
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
        formatter_class=formatter,
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



def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the scenario files of a folder with their titles (and, with --check, whether they load)."""
    from ...scenarios import list_scenarios
    from ..summary import render_table

    directory = Path(args.directory) if args.directory else default_path(DEFAULT_SCENARIOS)
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
                print(f"\n{item.name}:\n{indent(item.description)}")
    broken = sum(1 for item in listings if item.error)
    if args.check:
        print(f"\n{len(listings) - broken} ok, {broken} broken", file=sys.stderr)
        return EXIT_FAILED if broken else EXIT_OK
    return EXIT_OK


def show_default(default) -> str:
    """A number, or for an array the one value of all its elements or their span."""
    if default is None:
        return ""
    if getattr(default, "ndim", 0):
        low, high = float(default.min()), float(default.max())
        return f"{low:g} each" if low == high else f"{low:g}..{high:g}"
    return f"{default:g}"


def cmd_describe(args: argparse.Namespace) -> int:
    """Print the model's variables with kind, units, default, range and documentation."""
    import textwrap

    from ...scenarios import get_model, load_profile
    from ..summary import render_table

    path = Path(args.model) if args.model else default_path(DEFAULT_MODEL)
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
        label = f"{name}[{','.join(info.dims)}]" if info.dims else name
        rows.append([label, info.kind, info.units or "", show_default(info.default), show_range(info.limits), lines[0]])
        rows.extend(["", "", "", "", "", more] for more in lines[1:])
    print(f"{path}: {len(model.variables)} variables")
    print(render_table(["Name", "Kind", "Units", "Default", "Range", "Documentation"], rows, align="lllrll"))
    levers = load_profile(model).lever_names
    if levers:
        print("\nPolicy levers ([policy.before] / [policy.after] / [policy.switch] in a scenario): " + ", ".join(levers))
    return EXIT_OK
