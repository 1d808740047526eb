"""`flywheel app` on the command line as a user runs it: the export, and bad input (one line, exit 2,
nothing written, nothing served)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

pytest.importorskip("panel", reason="the what-if page needs panel (a dependency of flywheel)")

from .conftest import REPO_ROOT  # noqa: E402

SCENARIOS = REPO_ROOT / "scenarios"


def one_line_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flywheel: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_export_writes_one_standalone_file_under_ten_megabytes(cli, tmp_path) -> None:
    proc = cli("app", SCENARIOS / "shock_add_overlays.toml", SCENARIOS / "deep_dives.toml", "--export", "page.html")
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "page.html"
    html = page.read_text(encoding="utf-8")
    assert 1e6 < page.stat().st_size < 10e6
    assert not re.search(r"<script[^>]*\bsrc=", html)  # every script inline
    assert not re.search(r"""<link[^>]*href=["']https?:""", html)  # no style sheets from the network
    assert "What if? Evil Sales Org Flywheel" in html and "fw-grid" in html
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # nothing else, no temporary files
    again = cli("app", "--export", "page.html")
    one_line_error(again, "page.html already exists; use --force")
    assert cli("app", "--export", "page.html", "--force").returncode == 0


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["scenarios/nope.toml"], ["nope.toml: no such scenario file"]),
        (["--export", "missing/page.html"], ["--export missing/page.html: no such folder missing"]),
        (["--export", "page.txt"], ["must end in .html"]),
        (["--host", "0.0.0.0"], ["--host 0.0.0.0: not a loopback address; add --allow-remote"]),
        (["--port", "70000"], ["--port 70000: expected a port number from 1 to 65535"]),
        (["--scenarios", "nowhere"], ["--scenarios nowhere: no such folder"]),
        (["--ranges", "nope.toml"], ["nope.toml: no such ranges file"]),
        (["--model", "models/evil_sales_flywheel.mdl", "scenarios/steady.toml"], ["give scenarios or --model"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, fragments) -> None:
    args = [str(REPO_ROOT / a) if a.startswith(("scenarios/", "models/")) else a for a in args]
    proc = cli("app", *args)
    one_line_error(proc, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_a_port_in_use_is_one_line_and_exit_2(cli) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = cli("app", "--port", port)
    one_line_error(proc, f"--port {port}: already in use on 127.0.0.1; choose another port")


def test_a_broken_scenario_names_the_file_and_key(cli, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'title = "Bad"\nmodel = "{REPO_ROOT / "models" / "evil_sales_flywheel.mdl"}"\n'
                   '[policy.after]\n"Deep Dive Share" = 2\n', encoding="utf-8")  # fmt: skip
    proc = cli("app", bad, "--export", "page.html")
    one_line_error(proc, 'bad.toml: [policy.after] "Deep Dive Share" = 2 is outside its range [0, 0.5]')
    assert not (tmp_path / "page.html").exists()


def test_the_help_shows_the_command(cli) -> None:
    proc = cli("app", "--help")
    assert proc.returncode == 0 and "--allow-remote" in proc.stdout and "--export FILE.html" in proc.stdout


def test_a_plan_saved_from_the_page_runs_with_flywheel_run(cli, tmp_path: Path) -> None:
    from flywheel.present.app import WhatIfPage, build_context

    page = WhatIfPage(build_context([SCENARIOS / "shock_add_overlays.toml"], folder=SCENARIOS))
    page.sliders["Deep Dive Share After"].value = 0.3
    page.sliders["Overlay Lifetime Switch Month"].value = 24
    (tmp_path / "your_plan.toml").write_bytes(page._toml_file().getvalue())
    proc = cli("run", "your_plan.toml", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    run = pd.read_csv(tmp_path / "out" / "your_plan.csv", index_col="time")
    assert run["Trust"].to_numpy() == pytest.approx(page.charts.sources["your_plan"].data["Trust"], abs=1e-12)


def test_another_host_needs_the_explicit_flag_and_prints_a_warning(monkeypatch, capsys) -> None:
    """The server itself is replaced (a test must not listen beyond loopback); what it is given is checked."""
    from flywheel.present import cli
    from flywheel.present.app import server

    served = {}
    monkeypatch.setattr(server, "serve", lambda make_page, host, port, title, **kw: served.update(host=host, **kw))
    assert cli.main(["app", "--host", "0.0.0.0", "--allow-remote", "--port", "5999", "--model",
                     str(REPO_ROOT / "models" / "evil_sales_flywheel.mdl")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert err.strip() == "flywheel: warning: serving on 0.0.0.0: other machines can open the page and run the model"
    assert served == {"host": "0.0.0.0", "allow_remote": True, "on_ready": served["on_ready"]}
    assert cli.main(["app", "--host", "0.0.0.0", "--port", "5999"]) == 2
    assert "add --allow-remote" in capsys.readouterr().err
