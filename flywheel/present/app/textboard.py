"""Blocks of HTML that change on every slider move, updated in place like the charts' data.

A Bokeh ``Div`` re-renders itself and re-lays out the page when its text changes (20-50 ms a block in a
busy browser). Here every changing block is a ``Div`` whose new text travels in one small data source
(``fw-texts``: one column per block), and a few lines of JavaScript put it into the block's element
without re-rendering it (the Div's own text is updated silently, so a later re-render shows the same).
The live page sends all its text changes as one message; the exported file sets the source from its
precomputed texts. Blocks keep one style sheet each, set once.
"""

from __future__ import annotations

from collections.abc import Iterable

from bokeh.models import ColumnDataSource, CustomJS, Div, InlineStyleSheet

from .theme import HTML_CSS

SOURCE_NAME = "fw-texts"

#: JavaScript: put each block's new HTML into its element (``texts`` and ``divs`` are the callback's args).
APPLY_JS = """
const data = texts.data;
for (const [name, div] of Object.entries(divs)) {
    const column = data[name];
    if (column == null || column.length == 0) continue;
    const html = column[0];
    if (html === div.text) continue;
    const view = Bokeh.index.find_one(div);
    if (view != null && view.markup_el != null) {
        div.setv({text: html}, {silent: true});
        view.markup_el.innerHTML = html;
    } else {
        div.text = html;  // not drawn yet: the ordinary way
    }
}
"""


class TextBoard:
    """Named HTML blocks (``divs[name]``) whose texts change together through one data source."""

    def __init__(self, names: Iterable[str], sheet: InlineStyleSheet | None = None):
        self.sheet = sheet or InlineStyleSheet(css=HTML_CSS)
        self.divs = {name: Div(text="", sizing_mode="stretch_width", name=name, stylesheets=[self.sheet])
                     for name in names}  # fmt: skip
        self.source = ColumnDataSource({name: [""] for name in self.divs}, name=SOURCE_NAME)
        self.callback = CustomJS(args={"texts": self.source, "divs": self.divs}, code=APPLY_JS)
        self.source.js_on_change("data", self.callback)
        for div in self.divs.values():  # a document holds what its models reference: the Divs carry the source
            div.tags = [self.source]
        self._pending: dict[str, str] = {}

    def text(self, name: str) -> str:
        return self._pending.get(name, self.source.data[name][0])

    def set(self, name: str, html: str) -> None:
        """Queue a block's new text; ``flush`` sends every queued change in one message."""
        if self.text(name) != html:
            self._pending[name] = html

    def flush(self) -> None:
        if not self._pending:
            return
        if not self._drawn:  # before the page is shown: the Divs carry their text themselves
            for name, html in self._pending.items():
                self.divs[name].text = html
        data = {name: [self._pending.get(name, column[0])] for name, column in self.source.data.items()}
        self._pending = {}
        self.source.data = data

    _drawn = False

    def drawn(self) -> None:
        """From now on texts travel through the source (call once the page is in a browser)."""
        self._drawn = True
