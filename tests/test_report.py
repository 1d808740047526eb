"""The board report: one self-contained HTML file with every section and figure, its numbers equal to
the runs, rendered by headless Chromium without errors, printed to a PDF with the expected pages; and
bad input as a user meets it."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest

from .conftest import REPO_ROOT, _cli
from .test_cli import assert_one_line_error

SCENARIOS = [REPO_ROOT / "scenarios" / "shock_add_overlays.toml", REPO_ROOT / "scenarios" / "shock_deep_dives.toml"]
EXAMPLES = sorted((REPO_ROOT / "examples" / "audit").glob("*.toml"))
SECTIONS = ["The story in three sentences", "The plans compared", "Why: the feedback loops",
            "Which loops drive the behaviour, and when", "What differs between the plans",
            "Your sales-ecosystem audit", "What this model is not"]  # fmt: skip
FIGURES = ["comparison", "loops", "dominance", "audit-radar", "audit-trajectory", "audit-ranking", "audit-path"]
WIDE_PAGES = 5  # comparison, dominance, trajectory, ranking, path: each on a landscape page


def chromium_ready() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    from flywheel.present.browser import chromium_path

    try:
        chromium_path()
    except Exception:
        return False
    return True


needs_chromium = pytest.mark.skipif(not chromium_ready(), reason="needs Chromium (/usr/bin/chromium) and playwright")
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz for the loop diagram")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``flywheel report`` run once as a user runs it: two plans, two dated audits, --pdf when possible."""
    folder = tmp_path_factory.mktemp("report")
    pdf = ["--pdf"] if chromium_ready() else []
    proc = _cli("report", *SCENARIOS, "--audit", *EXAMPLES[:2], "-o", folder / "board.html", *pdf, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    html = (folder / "board.html").read_text(encoding="utf-8")
    return folder, html, proc


def images(html: str) -> dict[str, bytes]:
    """Figure id -> decoded SVG of every embedded figure."""
    found = re.findall(r'<figure class="fig[^"]*" id="fig-([\w-]+)"><img alt="[^"]*" src="data:image/svg\+xml;base64,([^"]+)"', html)
    return {name: base64.b64decode(data) for name, data in found}


@needs_graphviz
def test_the_report_is_one_self_contained_file(built):
    _, html, _ = built
    assert not re.search(r"https?://", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:"), src[:40]
    assert not re.search(r"url\((?!data:)", html)
    for name, svg in images(html).items():  # nothing inside a figure points outside either
        text = svg.decode("utf-8")
        assert "<svg" in text, name
        assert not re.search(r'(?:xlink:)?href="(?!#|data:)', text), name


@needs_graphviz
def test_every_section_and_figure_is_there_in_order(built):
    _, html, _ = built
    headings = re.findall(r'<h2><span class="num">(\d+)</span>(.*?)</h2>', html)
    assert [int(n) for n, _ in headings] == list(range(1, len(SECTIONS) + 1))
    assert [t for _, t in headings] == SECTIONS
    assert list(images(html)) == FIGURES
    cover = html.split('<section class="section">')[0]
    assert "Board report" in cover and "Shock, then add overlays" in cover and re.search(r"\d{1,2} \w+ 20\d\d", cover)
    for title in SECTIONS:
        assert title in cover  # the contents
    assert "Appendix A: files and settings" in html and "Appendix B: the audit questionnaire and mapping" in html


def test_the_numbers_are_the_runs_numbers(built, model):
    from flywheel.present.summary import summarise
    from flywheel.scenarios import load_profile, load_scenario, run_scenario

    _, html, _ = built
    profile = load_profile(model)
    results = {p.stem: run_scenario(load_scenario(p), model) for p in SCENARIOS}
    table = summarise(results, profile)
    summary = html.split('<table class="summary">')[1].split("</table>")[0]
    for name, row in table.iterrows():
        for m in profile.measures:
            if row[m.name] == row[m.name]:  # not NaN
                text = f"{row[m.name]:,.{m.digits}f}"
                text = text.rstrip("0").rstrip(".") if m.statistic.startswith("first_") else text
                assert f'<td class="num">{text}</td>' in summary, (name, m.name, text)
    # the assumptions that differ, with the model's documentation as the source
    differ = html.split("What differs between the plans</h2>")[1].split("</section>")[0]
    assert "Deep Dive Share After" in differ and ">0.010</td>" in differ and ">0.300</td>" in differ
    assert model.variables["Deep Dive Share After"].documentation[:60] in differ
    assert "Market Shock Size" in differ  # set in every plan, against the model's default


def test_the_audit_and_the_caveats_say_what_the_numbers_are_not(built):
    _, html, _ = built
    statement = "The mapping from answers to the model is a structured judgement, not a measurement."
    audit = html.split("Your sales-ecosystem audit</h2>")[1].split("</section>")[0]
    assert statement in audit
    assert "would create the biggest shift" in audit
    caveats = html.split("What this model is not</h2>")[1].split("</section>")[0]
    assert statement in caveats
    assert "What the model cannot say." in caveats  # from models/README.md
    assert "Only the status quo is calibrated" in caveats  # from the profile


@needs_chromium
def test_chromium_renders_it_without_errors_and_every_figure_decodes(built):
    from playwright.sync_api import sync_playwright

    from flywheel.present.browser import CHROMIUM_ARGS, chromium_path

    _, html, _ = built
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "about:")) else None)
        page.set_content(html, wait_until="load")
        sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.getBoundingClientRect().width])")
        browser.close()
    assert not errors and not requests
    assert len(sizes) == len(FIGURES) and all(w > 0 and shown > 100 for w, shown in sizes)


@needs_chromium
def test_the_pdf_has_a_cover_the_sections_and_landscape_figure_pages(built):
    folder, _, _ = built
    data = (folder / "board.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    pages = [(float(w), float(h)) for w, h in boxes]
    assert 12 <= len(pages) <= 24, len(pages)
    assert pages[0] == pytest.approx((595, 842), abs=1)  # A4 portrait cover
    assert sum(w > h for w, h in pages) == WIDE_PAGES
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", folder / "board.pdf", "-"], capture_output=True, text=True).stdout
        assert f"Page 2 of {len(pages)}" in text and "Page 1 of" not in text  # the cover has no page number
        body = text.split("\f", 1)[1]  # after the cover (and its contents)
        positions = [body.find(title) for title in SECTIONS]
        assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_a_report_without_graphviz_or_audit_still_builds(monkeypatch):
    from flywheel.present import diagrams
    from flywheel.present.report import build_report
    from flywheel.scenarios import load_scenario

    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    report = build_report([load_scenario(p) for p in SCENARIOS])
    headings = re.findall(r'<h2><span class="num">(\d+)</span>(.*?)</h2>', report.html)
    assert [t for _, t in headings] == [s for s in SECTIONS if s not in ("Why: the feedback loops", "Your sales-ecosystem audit")]
    assert any("graphviz is not installed" in o for o in report.omitted)
    assert "graphviz is not installed" in report.html  # said in the appendix, not silently dropped
    assert set(report.figures) == {"comparison", "dominance"}


# ------------------------------------------------------------------------------------------- bad input


def test_report_bad_answers_exit_2_nothing_written(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLES[0].read_text().replace("deep_dives = 1", "deep_dives = 9"))
    proc = cli("report", *SCENARIOS, "--audit", bad, "-o", tmp_path / "out" / "r.html")
    assert_one_line_error(proc, "bad.toml", "[culture] deep_dives = 9: outside 1-5")
    assert not (tmp_path / "out").exists()


def test_report_bad_scenario_or_target_exit_2(cli, tmp_path):
    proc = cli("report", SCENARIOS[0], tmp_path / "missing.toml", "-o", tmp_path / "r.html")
    assert_one_line_error(proc, "missing.toml", "no such scenario file")
    proc = cli("report", *SCENARIOS, "-o", tmp_path / "r.pdf")
    assert_one_line_error(proc, "must end in .html")
    proc = cli("report", *SCENARIOS, "--mapping", "x.toml", "-o", tmp_path / "r.html")
    assert_one_line_error(proc, "--mapping needs --audit")
    proc = cli("report", SCENARIOS[0], SCENARIOS[0], "-o", tmp_path / "r.html")
    assert_one_line_error(proc, "is given twice")
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "r.pdf").exists()


def test_report_refuses_to_overwrite(cli, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    proc = cli("report", *SCENARIOS, "-o", target)
    assert_one_line_error(proc, "r.html already exists")
    assert target.read_text() == "old"


def test_no_test_needs_playwright_install():
    run = (REPO_ROOT / ".ci" / "run").read_text()
    assert not re.search(r"^[^#\n]*playwright install", run, re.M) and "command -v chromium" in run
    source = (REPO_ROOT / "flywheel" / "present" / "browser.py").read_text()
    assert '"/usr/bin/chromium"' in source
    for arg in ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        assert arg in source
