"""Serving the page: on the loopback address only, unless the user explicitly asks for more.

The page runs the model for whoever opens it, so by default only this machine can reach it (127.0.0.1).
Another address needs ``allow_remote`` (the command line's ``--allow-remote``) and the caller prints a
warning. Panel serves its own JavaScript and style sheets, so the page fetches nothing from the internet.
Address and port are checked before anything heavy starts, each mistake one line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from ...errors import FlywheelError

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_address(host: str, port: int, allow_remote: bool) -> None:
    """Refuse a non-loopback host without ``allow_remote``, a port outside 1-65535 or one already taken."""
    if not is_loopback(host) and not allow_remote:
        raise FlywheelError(f"--host {host}: not a loopback address; add --allow-remote to let other machines "
                            "open the page (anyone who reaches it can run the model)")  # fmt: skip
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise FlywheelError(f"--port {port}: expected a port number from 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise FlywheelError(f"--host {host}: no such address on this machine") from None
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise FlywheelError(f"--port {port}: already in use on {host}; choose another port") from None
            raise FlywheelError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None


def serve(make_page: Callable[[], Any], host: str, port: int, title: str, *, allow_remote: bool = False,
          on_ready: Callable[[str], None] | None = None) -> None:  # fmt: skip
    """Serve ``make_page()`` (one page per browser session) until interrupted."""
    import panel as pn

    from .theme import PAGE_CSS

    check_address(host, port, allow_remote)
    pn.extension(raw_css=[PAGE_CSS])
    origins = ["*"] if allow_remote else [f"{LOOPBACK}:{port}", f"localhost:{port}"]
    server = pn.serve({"/": make_page}, port=port, address=host, websocket_origin=origins, show=False,
                      start=False, title=title, verbose=False, threaded=False)  # fmt: skip
    server.start()
    if on_ready is not None:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{port}/")
    server.io_loop.start()
