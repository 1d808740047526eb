"""Driving the what-if page in a real browser: Debian's chromium through playwright (never `playwright install`).

Shared by tests/test_app_browser.py and benchmarks/bench_app.py: start `flywheel app` as a user does (a
subprocess on a free loopback port), launch chromium with flags that keep it off the network, and time a
slider move from the key press to the moment the new curves, table and takeaways are drawn.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: What a slider move updates in the browser (Bokeh model names given by the page).
UPDATED_BY_A_MOVE = ("line-your_plan", "fw-texts")  # the curves, and table and takeaways in one source


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return "chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flywheel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def app_server(*args: str, cwd: Path | None = None, timeout: float = 120) -> Iterator[tuple[str, subprocess.Popen]]:
    """``flywheel app ARGS --port <free>`` in a subprocess; yields (url, process) once it serves."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flywheel", "app", *args, "--port", str(port)],
        cwd=cwd, env=flywheel_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                line = ""
            seen.append(line)
            if "serving http" in line:
                url = line.split("serving ", 1)[1].split()[0]
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"flywheel app did not start:\n{''.join(seen)}")
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_page(browser: Any, url: str, *, offline: bool = False) -> tuple[Any, list[tuple[str, str]], list[str]]:
    """A new page at ``url`` (1600x1000); returns (page, console messages, requests made)."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    messages: list[tuple[str, str]] = []
    requests: list[str] = []
    page.on("console", lambda m: messages.append((m.type, m.text)))
    page.on("pageerror", lambda e: messages.append(("error", str(e))))
    page.on("request", lambda r: requests.append(r.url))
    if offline:  # anything but the page itself and local files fails, as with the network cut
        page.route("**/*", lambda route: route.continue_() if _local(route.request.url) else route.abort())
    page.goto(url)
    return page, messages, requests


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "file:", "data:", "blob:", "about:"))


def external(requests: list[str]) -> list[str]:
    return [u for u in requests if not _local(u)]


WAIT_READY = """() => {
    if (!window.Bokeh || !Bokeh.documents.length) return false;
    const table = Bokeh.documents[0].get_model_by_name('fw-table');
    return !!table && table.text.includes('data-version');
}"""

ARM = """(names) => {
    const doc = Bokeh.documents[0];
    const need = new Set(names);
    window.__fw_done = new Promise((resolve) => {
        const seen = (event) => {
            const model = event.model;
            if (!model || !need.has(model.name) || !(event.attr === 'data' || event.attr === 'text')) return;
            need.delete(model.name);
            if (need.size === 0) {
                doc.remove_on_change(seen);
                requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
            }
        };
        doc.on_change(seen);
    });
    return true;
}"""


def wait_ready(page: Any, timeout: float = 60_000) -> float:
    """Wait until the page shows its first results; returns the time it took after navigation (ms)."""
    page.wait_for_function(WAIT_READY, timeout=timeout)
    return float(page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                               "() => r(performance.now()))))"))  # fmt: skip


def timed_key(page: Any, handle: Any, key: str, names: tuple[str, ...] = UPDATED_BY_A_MOVE,
              timeout: float = 30.0) -> float:  # fmt: skip
    """Press ``key`` on a slider handle; ms until every model in ``names`` changed and was painted."""
    handle.focus()
    page.evaluate(ARM, list(names))
    start = page.evaluate("performance.now()")
    page.keyboard.press(key)
    done = page.evaluate(f"Promise.race([window.__fw_done, new Promise(r => setTimeout(() => r(-1), {timeout * 1000}))])")
    if done < 0:
        raise TimeoutError(f"no update of {', '.join(names)} within {timeout:g} s after {key}")
    return float(done) - float(start)


def model_text(page: Any, name: str) -> str:
    return str(page.evaluate("(n) => Bokeh.documents[0].get_model_by_name(n).text", name))


def line_values(page: Any, plan: str, variable: str) -> list[float]:
    return list(page.evaluate("([p, v]) => Array.from(Bokeh.documents[0].get_model_by_name('line-' + p).data[v])",
                              [plan, variable]))  # fmt: skip
