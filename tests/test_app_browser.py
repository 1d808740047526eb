"""The what-if page in a real browser (Debian chromium driven by playwright), served by `flywheel app` as a
user starts it: it loads without console errors or requests off this machine, a slider changes the curves
and the table, an upload sets the sliders, a broken upload shows a message and the page keeps working,
a downloaded plan runs with `flywheel run`, the exported file works with no server, and the server listens
on 127.0.0.1 only. One server and one browser for the module; skipped without chromium or playwright."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .browser import (
    app_server,
    browser_missing,
    external,
    flywheel_env,
    launch,
    line_values,
    model_text,
    open_page,
    timed_key,
    wait_ready,
)
from .conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
SCENARIOS = REPO_ROOT / "scenarios"


@pytest.fixture(scope="module")
def server():
    with app_server(str(SCENARIOS / "shock_add_overlays.toml"), str(SCENARIOS / "deep_dives.toml"), "--runs", "200",
                    cwd=REPO_ROOT) as (url, process):  # fmt: skip
        yield url, process


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = launch(pw)
        yield instance
        instance.close()


@pytest.fixture
def page(server, browser):
    page, messages, requests = open_page(browser, server[0])
    wait_ready(page)
    page.fw_messages, page.fw_requests = messages, requests
    yield page
    page.close()


def table_cells(page) -> list[str]:
    return re.findall(r"<td>([^<]*)</td>", model_text(page, "fw-table"))


def slider_value(page, title_start: str) -> float:
    return float(page.evaluate("""(start) => { for (const m of Bokeh.documents[0].all_models) {
        if (m.type === 'Slider' && String(m.title).startsWith(start)) return m.value; } return null; }""", title_start))


def plan_handle(page, index: int = 0):
    return page.locator(".fw-slider-plan .noUi-handle").nth(index)


def test_the_page_loads_without_errors_or_requests_off_this_machine(page) -> None:
    errors = [text for kind, text in page.fw_messages if kind == "error"]
    assert errors == []
    assert external(page.fw_requests) == []
    assert page.get_by_text("What if? Evil Sales Org Flywheel").count() == 1
    assert "Your plan" in model_text(page, "fw-legend")
    assert len(page.locator(".fw-slider-plan .noUi-handle").all()) == 6  # one per lever of the profile


def test_a_slider_move_changes_the_curves_and_the_summary(page) -> None:
    curve = line_values(page, "your_plan", "Target Attainment")
    other = line_values(page, "alternative", "Target Attainment")
    cells = table_cells(page)
    deep_dives = plan_handle(page, 4)  # the profile's fifth lever: deep dives
    for _ in range(3):
        timed_key(page, deep_dives, "PageUp")
    moved = line_values(page, "your_plan", "Target Attainment")
    assert moved[-1] > curve[-1] + 0.05 and line_values(page, "alternative", "Target Attainment") == other
    assert table_cells(page) != cells
    assert "your plan" in model_text(page, "fw-takeaways").lower()
    assert [kind for kind, _ in page.fw_messages if kind == "error"] == []


def test_after_a_fast_drag_the_page_shows_the_run_at_the_sliders_last_value(page) -> None:
    from flywheel.analysis.whatif import WhatIf
    from flywheel.scenarios import get_model, load_scenario

    handle = plan_handle(page, 4)  # deep dives
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 16):  # about 100 px in 15 quick steps: a stream of value changes
        page.mouse.move(box["x"] + box["width"] / 2 + 7 * step, box["y"] + box["height"] / 2)
    page.mouse.up()
    last, settled = None, 0
    while settled < 4:  # wait until the curve stops changing
        page.wait_for_timeout(250)
        now = line_values(page, "your_plan", "Trust")
        settled = settled + 1 if now == last else 0
        last = now
    value = slider_value(page, "Your plan (today 1%)")  # the deep-dive slider (aria-valuenow is rounded)
    assert value > 0.05
    scenario = load_scenario(SCENARIOS / "shock_add_overlays.toml")
    whatif = WhatIf(get_model(scenario.model_path), scenario.simulation)
    expected = whatif.run(whatif.plan(scenario).with_values({"Deep Dive Share After": value}))
    assert last == pytest.approx(list(expected.series["Trust"]), abs=1e-9)
    attainment = float(re.findall(r"<td>([\d.]+)</td>", model_text(page, "fw-table"))[0])
    assert attainment == pytest.approx(expected.series["Target Attainment"][-1] * 100, abs=0.05)


def test_an_uploaded_scenario_sets_the_sliders(page) -> None:
    deep_dives = plan_handle(page, 4)
    before = float(deep_dives.get_attribute("aria-valuenow"))
    page.locator(".fw-scenario-upload input[type=file]").set_input_files(str(SCENARIOS / "deep_dives_retire_overlays.toml"))
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('fw-legend').text.includes('deep_dives_retire')")
    assert before < 0.05 and float(deep_dives.get_attribute("aria-valuenow")) == pytest.approx(0.3)
    assert float(plan_handle(page, 2).get_attribute("aria-valuenow")) == pytest.approx(12)  # overlay lifetime
    assert page.get_by_text("Loaded deep_dives_retire_overlays.toml").count() == 1
    rows = re.findall(r"<tr data-plan=.*?</tr>", model_text(page, "fw-table"))
    assert float(re.findall(r"<td>([\d.]+)</td>", rows[0])[0]) > 95  # final attainment of the remedy


def test_a_broken_upload_shows_a_message_and_the_page_keeps_working(page, tmp_path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "Broken"\nmodel = "evil_sales_flywheel.mdl"\n[parameters]\n"Trust Erosion Time" = "soon"\n',
                      encoding="utf-8")  # fmt: skip
    page.locator(".fw-scenario-upload input[type=file]").set_input_files(str(broken))
    message = page.get_by_text("Could not load the file. broken.toml:")
    message.wait_for(timeout=30_000)
    assert "expected a number" in message.inner_text()
    curve = line_values(page, "your_plan", "Trust")
    timed_key(page, plan_handle(page, 4), "PageUp")
    assert line_values(page, "your_plan", "Trust") != curve


def test_the_downloaded_plan_runs_with_flywheel_run(page, tmp_path) -> None:
    timed_key(page, plan_handle(page, 1), "Home")  # overlay reflex to zero: no new overlays
    with page.expect_download() as info:
        page.get_by_text("Download your plan (.toml)").click()
    saved = tmp_path / "your_plan.toml"
    info.value.save_as(saved)
    assert '"Overlay Response" = 0' in saved.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flywheel", "run", str(saved), "-o", str(tmp_path / "out")],
                          env=flywheel_env(), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    run = pd.read_csv(tmp_path / "out" / "your_plan.csv")
    assert run["Overlay Functions"].to_numpy() == pytest.approx(line_values(page, "your_plan", "Overlay Functions"))


def test_the_exported_page_works_with_no_server(browser, tmp_path) -> None:
    target = tmp_path / "whatif.html"
    proc = subprocess.run([sys.executable, "-m", "flywheel", "app", "--export", str(target)], cwd=REPO_ROOT,
                          env=flywheel_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    page, messages, requests = open_page(browser, target.as_uri(), offline=True)
    try:
        wait_ready(page)
        curve = line_values(page, "your_plan", "Target Attainment")
        cells = table_cells(page)
        handle = page.locator(".noUi-handle").first
        key = "ArrowRight" if handle.get_attribute("aria-valuenow") != handle.get_attribute("aria-valuemax") else "ArrowLeft"
        timed_key(page, handle, key)
        assert line_values(page, "your_plan", "Target Attainment") != curve and table_cells(page) != cells
        assert [t for kind, t in messages if kind == "error"] == [] and external(requests) == []
        assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests)
    finally:
        page.close()


def test_another_model_is_served_through_its_profile(browser, tmp_path) -> None:
    from .whatif_models import team_scenario, write_team

    model = write_team(tmp_path)
    team_scenario(tmp_path, "coach", "[policy.after]\nCoaching = 1\n", title="More coaching")
    with app_server("--model", str(model), "--scenarios", str(tmp_path), cwd=tmp_path) as (url, _):
        page, messages, requests = open_page(browser, url)
        try:
            wait_ready(page)
            assert page.get_by_text("What if? Team").count() == 1
            assert "More coaching" in model_text(page, "fw-legend")
            curve = line_values(page, "your_plan", "Morale")
            timed_key(page, page.locator(".fw-slider-plan .noUi-handle").first, "PageUp")
            assert line_values(page, "your_plan", "Morale")[-1] > curve[-1]
            assert [t for kind, t in messages if kind == "error"] == [] and external(requests) == []
        finally:
            page.close()


def test_the_server_listens_on_loopback_only(server) -> None:
    port = int(server[0].rsplit(":", 1)[1].strip("/"))
    listening = _listening_addresses(port)
    assert listening == {"127.0.0.1"}, listening
    other = _non_loopback_address()
    if other is not None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            assert probe.connect_ex((other, port)) != 0


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets listening on ``port`` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))  # no packet is sent: only picks the outgoing interface
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address
