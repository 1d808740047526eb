"""Figures: seven panels with units, one line per scenario in a colour kept across panels."""

from __future__ import annotations

import numpy as np
import pytest

from flywheel.present.output import OutputError
from flywheel.present.plots import (
    OKABE_ITO,
    compare_figure,
    run_figure,
    save_figure,
    scenario_colors,
)
from flywheel.scenarios import load_profile, load_scenario, run_scenario

SCENARIOS = {
    "status_quo": ("Status quo", ""),
    "shock": ("Market shock", '[parameters]\n"Market Shock Size" = 0.1\n"Market Shock Month" = 12\n'),
    "deep_dives": (
        "Market shock, then deep dives",
        '[parameters]\n"Market Shock Size" = 0.1\n"Market Shock Month" = 12\n'
        '[policy]\nswitch_month = 18\n[policy.after]\n"Deep Dive Share" = 0.3\n',
    ),
}


@pytest.fixture
def runs(write_scenario):
    scenarios, results = {}, {}
    for name, (title, body) in SCENARIOS.items():
        scenario = load_scenario(
            write_scenario(body + "[simulation]\nfinal_time = 60\n", name=name, title=title)
        )
        scenarios[name] = scenario
        results[name] = run_scenario(scenario)
    return scenarios, results


def panels(fig):
    return [ax for ax in fig.axes if ax.get_label().startswith("panel:")]


def data_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def vlines(ax, kind):
    return [line for line in ax.get_lines() if line.get_label() == f"_{kind}"]


def test_compare_figure_panels_units_lines_and_colours(runs, model):
    scenarios, results = runs
    fig = compare_figure(results, scenarios, model, load_profile(model))

    axes = panels(fig)
    assert [ax.get_title(loc="left") for ax in axes] == [p.label for p in load_profile(model).panels]
    assert len(axes) == 7
    for ax, panel in zip(axes, load_profile(model).panels, strict=True):
        units = model.variables[panel.variable].units
        assert units and (units in ax.get_ylabel() or (panel.percent and ax.get_ylabel() == "%"))
        lines = data_lines(ax)
        assert [line.get_label() for line in lines] == [t for t, _ in SCENARIOS.values()]
        assert [line.get_color() for line in lines] == list(OKABE_ITO[:3])  # the same in every panel
        # The lines are the results, not something else.
        for line, name in zip(lines, SCENARIOS, strict=True):
            np.testing.assert_allclose(line.get_ydata(), results[name][panel.variable].to_numpy())
            np.testing.assert_allclose(line.get_xdata(), results[name].index.to_numpy())
        # The shock at month 12 (grey, dashed) and the deep-dive switch at 18 in that scenario's colour.
        assert [line.get_xdata()[0] for line in vlines(ax, "market shock")] == [12]
        switches = vlines(ax, "policy switch")
        assert [(line.get_xdata()[0], line.get_color()) for line in switches] == [(18, OKABE_ITO[2])]
    assert any(ax.get_xlabel() == "Month" for ax in axes)
    assert fig.get_suptitle()

    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert len(legends) == 1
    texts = [t.get_text().replace("\n", " ") for t in legends[0].get_texts()]
    assert texts[:3] == [t for t, _ in SCENARIOS.values()]
    assert any("Market shock (month 12)" in t for t in texts)


def test_run_figure_has_the_same_panels_with_one_line(runs, model):
    scenarios, results = runs
    fig = run_figure(results["deep_dives"], scenarios["deep_dives"], model, load_profile(model))
    axes = panels(fig)
    assert len(axes) == 7
    assert fig.get_suptitle() == "Market shock, then deep dives"
    for ax in axes:
        assert len(data_lines(ax)) == 1
        assert data_lines(ax)[0].get_color() == OKABE_ITO[0]
    # No shock in the status quo: no shock line, no switch line.
    fig = run_figure(results["status_quo"], scenarios["status_quo"], model, load_profile(model))
    assert all(not vlines(ax, "market shock") and not vlines(ax, "policy switch") for ax in panels(fig))


def test_colours_follow_scenario_order_and_never_repeat_a_style():
    names = [f"s{i}" for i in range(12)]
    styles = scenario_colors(names)
    assert styles["s0"][0] == OKABE_ITO[0] and styles["s7"][0] == OKABE_ITO[7]
    assert styles["s8"][0] == OKABE_ITO[0] and styles["s8"][1] != styles["s0"][1]
    assert len(set(styles.values())) == len(names)
    assert scenario_colors(["b", "a"])["b"] == styles["s0"]


def test_save_figure_writes_png_and_svg_and_refuses_to_overwrite(runs, model, tmp_path):
    scenarios, results = runs
    fig = run_figure(results["shock"], scenarios["shock"], model, load_profile(model))
    written = save_figure(fig, tmp_path / "figs" / "shock")
    assert [p.name for p in written] == ["shock.png", "shock.svg"]
    png, svg = (tmp_path / "figs" / "shock.png").read_bytes(), (tmp_path / "figs" / "shock.svg").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert b"<svg" in svg[:2000] and b"Market shock" in svg

    with pytest.raises(OutputError, match="already exists"):
        save_figure(fig, tmp_path / "figs" / "shock")
    assert (tmp_path / "figs" / "shock.png").read_bytes() == png
    save_figure(fig, tmp_path / "figs" / "shock", formats=("svg",), force=True)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["shock.png", "shock.svg"]
