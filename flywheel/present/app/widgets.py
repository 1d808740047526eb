"""Small building blocks of the page that Panel does not offer as needed.

``FastSlider``: Panel waits 50 ms for more changes of a widget before it calls Python
(``Syncable._debounce``); a "priority" change is scheduled at once, so a move costs no waiting (changes
that arrive while one is being handled are still merged into one). ``fixed_html``: a block of HTML in a
Bokeh ``Div`` with the page's style sheet set once; not Panel's HTML pane, which re-sends its style sheets
with the first change of its text and makes Bokeh re-walk the whole document (up to a second on a busy
machine). Blocks that change with every move live on the page's ``TextBoard``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import panel as pn
from bokeh.models import Div, InlineStyleSheet

SLIDER_CSS = ":host .bk-slider-title { font-size: 13.5px; } :host .bk-slider-value { font-weight: 700; }"
TABS_CSS = ":host .bk-tab { font-size: 15px; font-weight: 600; padding: 6px 18px; }"


class FastSlider(pn.widgets.FloatSlider):
    """A FloatSlider whose moves reach Python at once (see the module text)."""

    _priority_changes: ClassVar[list[str]] = ["value", "value_throttled"]


def fixed_html(text: str, sheet: InlineStyleSheet) -> Any:
    """A block of HTML that does not change, styled by ``sheet``."""
    div = Div(text=text, sizing_mode="stretch_width", stylesheets=[sheet])
    return pn.pane.Bokeh(div, sizing_mode="stretch_width", margin=(2, 4))


def text_box(div: Div) -> Any:
    """A TextBoard block placed in a Panel layout."""
    return pn.pane.Bokeh(div, sizing_mode="stretch_width", margin=(2, 4))
