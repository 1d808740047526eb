"""Headless Chromium for the report: HTML -> PDF (print layout) and HTML -> PNG (to look at it).

Driven by Python ``playwright`` with the system's Chromium (Debian package ``chromium``); never
``playwright install``. The page is loaded from a string with every network request refused, so a
report that renders here renders the same anywhere (it is self-contained by construction).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import OutputError

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "chromium_path", "html_to_pdf", "html_to_png"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")  # fmt: skip


def chromium_path() -> str:
    """The Chromium to drive: $FLYWHEEL_CHROMIUM, else /usr/bin/chromium, else `chromium` on the PATH."""
    for candidate in (os.environ.get("FLYWHEEL_CHROMIUM"), CHROMIUM, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise OutputError("rendering the report needs Chromium: install the Debian package 'chromium' "
                      "(apt-get install chromium) or set FLYWHEEL_CHROMIUM to its path")  # fmt: skip


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OutputError("rendering the report needs the Python package playwright: pip install 'flywheel[pdf]' "
                          "(it drives the system's Chromium; no 'playwright install' needed)") from None
    return sync_playwright


def _render(html: str, action):
    executable = chromium_path()
    sync_playwright = _sync_playwright()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page()
                page.route("**/*", _only_local)
                page.set_content(html, wait_until="load")
                return action(page)
            finally:
                browser.close()
    except OutputError:
        raise
    except Exception as exc:  # playwright's errors: the browser failed to start or to render
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OutputError(f"Chromium ({executable}) could not render the report: {first}") from None


def _only_local(route) -> None:
    """Refuse every request that would leave the page (the report must need none)."""
    if route.request.url.startswith(("data:", "about:")):
        route.continue_()
    else:
        route.abort()


def html_to_pdf(html: str) -> bytes:
    """Print the HTML to PDF with the page size and margins its CSS asks for (A4 in the report)."""
    return _render(html, lambda page: page.pdf(print_background=True, prefer_css_page_size=True, format="A4"))


def html_to_png(html: str, width: int = 1100) -> bytes:
    """A full-page screenshot of the HTML as a browser shows it (screen layout)."""

    def shot(page):
        page.set_viewport_size({"width": width, "height": 900})
        return page.screenshot(full_page=True, type="png")

    return _render(html, shot)
