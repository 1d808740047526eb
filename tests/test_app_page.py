"""The what-if page's behaviour in Python (Panel objects, no browser): sliders re-run the plans and update the
charts' data, the table and the takeaways; uploads set the sliders or show a message; downloads read back;
the uncertainty band and the chance of the goal; extra tabs; any model through its profile."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("panel", reason="the what-if page needs panel (a dependency of flywheel)")

from flywheel.present.app import TAB_BUILDERS, WhatIfPage, build_context  # noqa: E402
from flywheel.scenarios import load_scenario  # noqa: E402

from .conftest import REPO_ROOT  # noqa: E402
from .whatif_models import team_scenario, write_team  # noqa: E402

SCENARIOS = REPO_ROOT / "scenarios"


@pytest.fixture(scope="module")
def flywheel_context():
    return build_context([SCENARIOS / "shock_add_overlays.toml", SCENARIOS / "deep_dives.toml"], folder=SCENARIOS)


@pytest.fixture
def page(flywheel_context) -> WhatIfPage:
    return WhatIfPage(flywheel_context)


def line(page: WhatIfPage, plan: str, variable: str) -> np.ndarray:
    return np.asarray(page.charts.sources[plan].data[variable])


def table_rows(page: WhatIfPage) -> list[list[str]]:
    html = page.board.text("fw-table")
    return [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr data-plan=.*?</tr>", html)]


def test_the_page_starts_with_both_plans_drawn_and_summarised(page) -> None:
    assert table_rows(page)[0] and len(table_rows(page)) == 2
    mine, other = line(page, "your_plan", "Target Attainment"), line(page, "alternative", "Target Attainment")
    assert mine[-1] < 0.8 < 0.95 < other[-1]  # overlays against deep dives, after the shock
    takeaways = page.board.text("fw-takeaways")
    assert "Your plan:" in takeaways and "By month 120, target attainment is" in takeaways
    assert "Alternative: What if: deep dives, no new overlays" in page.board.text("fw-legend")


def test_a_lever_slider_reruns_your_plan_only(page) -> None:
    before_mine = line(page, "your_plan", "Target Attainment").copy()
    before_other = line(page, "alternative", "Target Attainment").copy()
    before_table = table_rows(page)
    page.sliders["Deep Dive Share After"].value = 0.3
    assert line(page, "your_plan", "Target Attainment")[-1] > before_mine[-1] + 0.1
    assert np.array_equal(line(page, "alternative", "Target Attainment"), before_other)
    assert table_rows(page)[0] != before_table[0] and table_rows(page)[1] == before_table[1]
    page.sliders["Overlay Response After"].value = 0.0  # now your plan is the alternative's policy
    assert line(page, "your_plan", "Target Attainment") == pytest.approx(before_other, abs=1e-12)


def test_an_assumption_moves_both_plans_unless_the_alternative_keeps_its_own_world(page) -> None:
    other = line(page, "alternative", "Sales").copy()
    page.sliders["Market Shock Size"].value = 0.2
    assert line(page, "alternative", "Sales")[-1] < other[-1] - 0.01
    page.shared.value = False
    assert np.array_equal(line(page, "alternative", "Sales"), other)  # its file's own 10 % shock
    moved = line(page, "your_plan", "Sales").copy()
    page.sliders["Market Shock Size"].value = 0.25
    assert line(page, "your_plan", "Sales")[-1] < moved[-1] and np.array_equal(line(page, "alternative", "Sales"), other)


def test_uploading_a_scenario_sets_the_sliders(page) -> None:
    data = (SCENARIOS / "deep_dives_retire_overlays.toml").read_bytes()
    page.upload.filename = "retire.toml"
    page.upload.value = data
    assert page.sliders["Deep Dive Share After"].value == 0.3
    assert page.sliders["Overlay Lifetime After"].value == 12
    assert page.sliders["Overlay Response After"].value == 0
    assert page.message.visible and page.message.alert_type == "success" and "retire.toml" in page.message.object
    assert "from retire.toml" in page.board.text("fw-legend")
    reference = flywheel_run(SCENARIOS / "deep_dives_retire_overlays.toml")
    assert line(page, "your_plan", "Sales") == pytest.approx(reference["Sales"].to_numpy(), abs=1e-12)


def flywheel_run(path):
    from flywheel.scenarios import run_scenario

    return run_scenario(load_scenario(path))


def test_a_broken_upload_shows_a_message_and_the_page_keeps_working(page) -> None:
    values = page.values()
    page.upload.filename = "typo.toml"
    page.upload.value = b'title = "x"\nmodel = "evil_sales_flywheel.mdl"\n[policy.after]\n"Deep Dive Shar" = 0.3\n'
    assert page.message.visible and page.message.alert_type == "danger"
    assert 'Could not load the file. typo.toml: [policy.after] "Deep Dive Shar": unknown lever' in page.message.object
    assert page.values() == values
    before = line(page, "your_plan", "Trust").copy()
    page.sliders["Deep Dive Share After"].value = 0.2
    assert not np.array_equal(line(page, "your_plan", "Trust"), before)


def test_the_downloaded_plan_reads_back_to_the_same_run_and_the_csv_has_both_plans(page, tmp_path) -> None:
    page.sliders["Deep Dive Share After"].value = 0.25
    page.sliders["Review Period Switch Month"].value = 30
    page.sliders["Review Period After"].value = 1
    path = tmp_path / "mine.toml"
    path.write_bytes(page._toml_file().getvalue())
    scenario = load_scenario(path)
    assert scenario.params["Deep Dive Share After"] == 0.25 and scenario.switch_months["Review Period"] == 30
    from flywheel.scenarios import run_scenario

    assert run_scenario(scenario)["Trust"].to_numpy() == pytest.approx(line(page, "your_plan", "Trust"), abs=1e-12)
    table = pd.read_csv(io.BytesIO(page._csv_file().getvalue()))
    assert table["plan"].nunique() == 2 and len(table) == 2 * 121
    assert {"time", "Trust", "Overlay Functions", "Customer Time"} <= set(table.columns)


def test_uncertainty_draws_bands_and_the_chance_of_the_goal(flywheel_context) -> None:
    flywheel_context.runs = 200
    page = WhatIfPage(flywheel_context)
    page.runs_select.value = 200
    page.band_toggle.value = True
    assert page.band is not None and page.band.n == 200
    lows = np.asarray(page.charts.band_sources["your_plan"].data["Trust|p5"])
    highs = np.asarray(page.charts.band_sources["your_plan"].data["Trust|p95"])
    assert np.all(lows <= highs) and np.any(highs - lows > 0.01)
    chances = page.board.text("fw-chances")
    assert "Chance that target attainment is at least 95% in month 60" in chances
    shares = [float(x) for x in re.findall(r'class="fw-big">([\d.]+)%', chances)]
    assert len(shares) == 2 and shares[0] < shares[1]  # overlays against deep dives
    assert all(renderer.visible for renderer in page.charts.band_renderers)
    page.goal_threshold.value = 50.0
    assert "at least 50% in month 60" in page.board.text("fw-chances")
    page.band_toggle.value = False
    assert not any(renderer.visible for renderer in page.charts.band_renderers)


def test_extra_tabs_come_after_the_what_if_tab(flywheel_context) -> None:
    import panel as pn

    TAB_BUILDERS.append(lambda page: ("Sources", pn.pane.Markdown("sources here")))
    TAB_BUILDERS.append(lambda page: None)  # a builder may offer no tab
    try:
        page = WhatIfPage(flywheel_context)
    finally:
        del TAB_BUILDERS[-2:]
    page.add_tab("Notes", pn.pane.Markdown("notes"))
    assert page.tabs._names == ["What if", "Audit", "Sources", "Notes"]


def test_page_apply_sets_sliders_for_other_tabs(page) -> None:
    page.apply({"Deep Dive Share Before": 0.2, "Not A Slider": 3}, title="Audited team")
    assert page.sliders["Deep Dive Share Before"].value == 0.2
    assert "Audited team" in page.board.text("fw-legend")
    with pytest.raises(Exception, match="outside"):
        page.apply({"Deep Dive Share Before": 0.9})


@pytest.mark.parametrize("which", ["team", "business"])
def test_the_page_serves_any_model_through_its_profile(tmp_path, which) -> None:
    if which == "team":
        model = write_team(tmp_path)
        team_scenario(tmp_path, "coach", "[policy.after]\nCoaching = 1\n", title="More coaching")
        context = build_context([], model=model, folder=tmp_path)
        assert context.alternative == "coach"
        moving, variable = "Coaching After", "Morale"
        assert not WhatIfPage(context).band_toggle.disabled  # three documented uncertain numbers
    else:
        context = build_context([], model=REPO_ROOT / "benchmarks" / "business_model.mdl", folder=tmp_path)
        assert context.alternative == "carry_on"
        moving, variable = "Price per Customer", "Cash"
    page = WhatIfPage(context)
    if which == "business":  # every ranged constant is a slider: nothing left to vary
        assert page.band_toggle.disabled and "--ranges FILE" in page.board.text("fw-band-note")
    before = line(page, "your_plan", variable).copy()
    control = page.whatif.control_index[moving]
    page.sliders[moving].value = control.high
    after = line(page, "your_plan", variable)
    assert not np.array_equal(before, after) and all(math.isfinite(x) for x in after)
    assert len(table_rows(page)) == 2


def test_a_ranges_file_replaces_the_documented_uncertainty(tmp_path) -> None:
    ranges = tmp_path / "mine.toml"
    ranges.write_text('[ranges]\n"Trust Building Time" = { low = 12, high = 27 }\n'
                      '"Conversion Power" = { distribution = "triangular", low = 2.6, mode = 4, high = 6 }\n')
    context = build_context([SCENARIOS / "shock_add_overlays.toml"], folder=SCENARIOS, ranges=ranges, runs=100)
    assert context.ranges.names == ["Trust Building Time", "Conversion Power"]
    page = WhatIfPage(context)
    assert "2 uncertain numbers (from " in page.board.text("fw-band-note")
    page.band_toggle.value = True
    assert page.band.n == 100 and "mine.toml" in page.board.text("fw-band-note")
    assert set(page.band.inputs.columns) == {"Trust Building Time", "Conversion Power"}
    assert page.runs_select.value == 100 and 100 in page.runs_select.options


def test_the_page_renders_outside_a_server_as_in_a_notebook(flywheel_context) -> None:
    from bokeh.document import Document

    page = WhatIfPage(flywheel_context)
    doc = Document()
    root = page.view.get_root(doc)  # what Panel does to show a page in Jupyter
    names = {m.name for m in root.references() if getattr(m, "name", None)}
    assert root is not None and {"fw-texts", "line-your_plan", "line-alternative", "fw-table"} <= names


# ----------------------------------------------------------------------------------------- the audit tab


def _audit(page: WhatIfPage):
    assert len(page.tabs) == 2  # "What if", then "Audit" (the model has an audit mapping)
    from flywheel.analysis.audit_files import load_mapping
    from flywheel.present.app.audit_tab import AuditTab

    return AuditTab(page, load_mapping(page.context.model.path.with_name("audit_mapping.toml"), page.context.model))


def test_the_audit_tab_places_the_team_and_starts_your_plan_there(page) -> None:
    tab = _audit(page)
    assert len(tab.sliders) >= 15 and all(s.value == 3 for s in tab.sliders.values())
    tab.run()  # all 3s: the model's status quo
    assert tab.result.position.start["Trust"] == pytest.approx(tab.result.position.status_quo["Trust"], abs=1e-12)
    assert tab.radar.visible and tab.trajectory.visible and tab.ranking.visible and not tab.use.disabled
    assert "not a measurement" in tab.mapping.statement.lower() or "judgement" in tab.mapping.statement.lower()
    culture = [qid for qid in tab.sliders if qid.startswith("culture")]
    for qid in culture:  # a team that dives deep
        tab.sliders[qid].value = 5
    tab.run()
    deep = tab.result.position.params
    assert deep["Deep Dive Share Before"] > 0.01  # more deep dives than the status quo's 0.01
    before = line(page, "your_plan", "Target Attainment").copy()
    tab.start_plan()
    assert page.sliders["Deep Dive Share Before"].value == pytest.approx(deep["Deep Dive Share Before"])
    assert not np.array_equal(line(page, "your_plan", "Target Attainment"), before)
    assert page.plan_title == "Your audited position"


def test_a_broken_answers_upload_is_a_message_and_the_tab_keeps_working(page) -> None:
    tab = _audit(page)
    tab.upload.filename = "broken.toml"
    tab.upload.value = b"[strategy\nnot toml"
    assert tab.message.visible and tab.message.alert_type == "danger" and "broken.toml" in tab.message.object
    first = next(iter(tab.sliders))
    dim, key = first.split(".", 1)
    tab.upload.filename = "bad.toml"
    tab.upload.value = f"[{dim}]\n{key} = 9\n".encode()
    assert "outside 1-5" in tab.message.object
    tab.run()  # still works
    assert tab.result is not None
