"""The what-if web page for leadership teams (Panel): served by ``flywheel app``, shown in a notebook, or
exported to one standalone HTML file.

    from flywheel.present.app import build_context, WhatIfPage
    page = WhatIfPage(build_context(["scenarios/shock_add_overlays.toml", "scenarios/deep_dives.toml"]))
    page.view            # in a notebook (after ``import panel as pn; pn.extension()``)
    page.add_tab("Audit", audit_view)     # or append a builder to TAB_BUILDERS for every page

Modules: ``context`` (what the page starts from), ``page`` (widgets, layout, callbacks), ``charts`` (Bokeh
panels updated in place), ``panes`` (table, takeaways, chances as HTML), ``text`` (explanations, units),
``theme``, ``export`` (standalone HTML, Bokeh only), ``server`` (loopback-only serving). Names are imported
on first use, so writing an export never imports Panel.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"AppContext": "context", "build_context": "context", "export_html": "export", "WhatIfPage": "page",
          "TAB_BUILDERS": "page"}  # fmt: skip

__all__ = ["TAB_BUILDERS", "AppContext", "WhatIfPage", "build_context", "export_html"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
