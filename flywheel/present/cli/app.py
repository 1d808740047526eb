"""``flywheel app``: the what-if page for leadership teams, served on this machine or exported to one file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import DEFAULT_MODEL, DEFAULT_SCENARIOS, EXIT_OK, add_command, default_path


def register(sub: Any) -> None:
    p = add_command(
        sub, "app",
        help="the what-if web page: sliders, two plans side by side, uncertainty",
        description="Serve the what-if page on this machine (http://127.0.0.1:PORT/): sliders for the model's "
        "levers and key assumptions, your plan against an alternative from the scenario folder, the comparison "
        "panels, the summary table, plain-language takeaways and, on demand, uncertainty bands with the chance "
        "of reaching the goal. The first SCENARIO sets your plan, the second the alternative shown first. "
        "With --export the page is written to one standalone HTML file (no server needed) and nothing is served.",
        epilog="examples:\n  flywheel app                                   the flywheel model, scenarios/ as alternatives\n"
        "  flywheel app scenarios/shock_add_overlays.toml scenarios/deep_dives.toml --port 8080\n"
        "  flywheel app --export whatif.html              one file to e-mail; sliders still work\n"
        "  flywheel app --model benchmarks/business_model.mdl\n"
        "Stop the server with Ctrl+C.",
    )  # fmt: skip
    p.add_argument("scenarios", metavar="SCENARIO.toml", nargs="*", help="your plan, then alternatives")
    p.add_argument("--model", metavar="MODEL", help=f"the model when no scenario is given (default: {DEFAULT_MODEL})")
    p.add_argument("--scenarios", metavar="DIR", dest="folder",
                   help=f"folder of alternatives (default: {DEFAULT_SCENARIOS}/)")  # fmt: skip
    p.add_argument("--ranges", metavar="FILE", help="ranges TOML for the uncertainty bands (default: the model's "
                   "documented uncertainty ranges)")  # fmt: skip
    p.add_argument("--runs", type=int, default=500, metavar="N", help="Monte Carlo runs per plan (default: 500)")
    p.add_argument("--port", type=int, default=5006, metavar="N", help="port to serve on (default: 5006)")
    p.add_argument("--host", default="127.0.0.1", metavar="H", help="address to serve on (default: 127.0.0.1)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other than loopback: other machines can open the page")  # fmt: skip
    p.add_argument("--export", metavar="FILE.html", help="write a standalone page to FILE.html instead of serving")
    p.add_argument("--force", action="store_true", help="overwrite an existing --export file")
    p.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """Check every input first (files, ranges, address, export path), then serve or export."""
    from ...errors import FlywheelError
    from ..output import check_can_write
    from .common import UsageError

    export = Path(args.export) if args.export else None
    if export is not None:
        if export.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"app: --export {export}: the file name must end in .html")
        if not export.parent.exists():
            raise UsageError(f"app: --export {export}: no such folder {export.parent}")
        check_can_write([export], force=args.force)
    else:
        from ..app.server import check_address, is_loopback

        check_address(args.host, args.port, args.allow_remote)
        if not is_loopback(args.host):
            print(f"flywheel: warning: serving on {args.host}: other machines can open the page and run the model",
                  file=sys.stderr)  # fmt: skip

    from ..app.context import build_context

    folder = Path(args.folder) if args.folder else default_path(DEFAULT_SCENARIOS)
    if args.folder and not folder.is_dir():
        raise UsageError(f"app: --scenarios {folder}: no such folder")
    model = args.model if (args.model or args.scenarios) else default_path(DEFAULT_MODEL)
    if args.model and args.scenarios:
        raise UsageError("app: give scenarios or --model, not both (a scenario names its model)")
    context = build_context(args.scenarios, model=model, folder=folder, ranges=args.ranges, runs=args.runs)

    if export is not None:
        from ..app.export import export_html
        from ..output import write_files
        from .common import status

        text = export_html(context)
        written = write_files({export: text.encode("utf-8")}, force=args.force)
        status(written)
        return EXIT_OK

    from ..app.page import WhatIfPage
    from ..app.server import serve

    def ready(url: str) -> None:
        print(f"flywheel app: serving {url}  (Ctrl+C stops it)", flush=True)

    try:
        serve(lambda: WhatIfPage(context).view, args.host, args.port, f"What if? {context.whatif.profile.title}",
              allow_remote=args.allow_remote, on_ready=ready)  # fmt: skip
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as exc:  # lost a race for the port after the check
        raise FlywheelError(f"--port {args.port}: cannot listen on {args.host} ({exc.strerror or exc})") from None
    return EXIT_OK
