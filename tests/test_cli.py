"""The command line as a user runs it (a fresh ``python -m flywheel`` process), plus the summary
table and the safe writing it relies on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flywheel.errors import SimulationError
from flywheel.present.output import OutputError, write_files, write_text
from flywheel.present.summary import format_summary, render_table, summarise

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = REPO_ROOT / "models" / "evil_sales_flywheel.mdl"
COMMANDS = ["run", "compare", "scenarios", "describe", "verify", "calibrate"]
HEAVY = ["numpy", "pandas", "matplotlib", "pysd", "numba", "scipy", "xarray"]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *parts: str) -> None:
    """Exit 2, exactly one stderr line 'flywheel: ...' with the given parts, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("flywheel: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------------
# Help and start-up


def test_main_help_lists_every_command_with_examples(cli):
    proc = cli("--help")
    assert proc.returncode == 0, proc.stderr
    for command in COMMANDS:
        assert f"\n    {command} " in proc.stdout
    assert "flywheel compare scenarios/*.toml -o results/" in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: flywheel {command}")
    assert "example" in proc.stdout
    assert f"  flywheel {command} " in proc.stdout


def test_cli_imports_nothing_heavy_beyond_the_package():
    """The CLI itself adds no numeric library at import; those load inside the command that needs them."""
    code = (
        "import sys, json; import flywheel; before = set(sys.modules); import flywheel.present.cli; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules and m not in before]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == []


def test_help_is_fast(cli):
    """`flywheel --help` under 0.5 s (best of three, to ignore a busy machine's outliers)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        proc = cli("--help")
        times.append(time.perf_counter() - start)
        assert proc.returncode == 0, proc.stderr
    assert min(times) < 0.5, f"flywheel --help took {min(times):.2f} s"


# --------------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, nothing written


def test_missing_scenario_file(cli, tmp_path):
    assert_one_line_error(cli("run", "missing.toml", "-o", "out"), "missing.toml", "no such scenario file")
    assert not (tmp_path / "out").exists()


def test_broken_scenarios(cli, tmp_path, write_scenario):
    typo = write_scenario('[parameters]\n"Trsut" = 0.5\n', name="typo")
    assert_one_line_error(cli("run", typo, "-o", "out"), "typo.toml", '"Trsut"', 'did you mean "Trust"?')
    wide = write_scenario('[policy.after]\n"Deep Dive Share" = 1.7\n', name="wide")
    assert_one_line_error(
        cli("run", wide, "-o", "out"), "wide.toml", '"Deep Dive Share" = 1.7', "outside its range"
    )
    syntax = write_scenario("title = \n", name="syntax", header=False)
    assert_one_line_error(cli("run", syntax, "-o", "out"), "syntax.toml", "invalid TOML", "line 1")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        ((), ["required"]),
        (("rnu", "x.toml"), ["unknown command 'rnu'", "did you mean 'run'"]),
        (("run",), ["run:", "required", "-o/--output"]),
        (("compare", "-o", "out"), ["compare:", "required"]),
        (("run", "x.toml", "-o", "out", "--bogus"), ["--bogus"]),
        (("describe", "no/such/model.mdl"), ["no/such/model.mdl", "no such model file"]),
        (("describe", "--kind", "stockk"), ["--kind", "invalid choice"]),
        (("scenarios", "no_such_folder"), ["no_such_folder", "no such scenario folder"]),
        (("verify", "no/such/model.mdl"), ["no/such/model.mdl"]),
    ],
)
def test_usage_errors(cli, tmp_path, args, parts):
    assert_one_line_error(cli(*args), *parts)
    assert files_in(tmp_path) == []


def test_compare_with_one_broken_file_runs_nothing_and_writes_nothing(cli, tmp_path, write_scenario):
    good = write_scenario("", name="good")
    bad = write_scenario('[simulation]\nmethod = "heun"\n', name="bad")
    assert_one_line_error(cli("compare", good, bad, "-o", "out"), "bad.toml", 'method = "heun"')
    assert not (tmp_path / "out").exists()


def test_compare_rejects_the_same_file_twice(cli, tmp_path, write_scenario):
    good = write_scenario("", name="good")
    assert_one_line_error(cli("compare", good, good, "-o", "out"), "given twice")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------------
# run


def test_run_writes_csv_and_figures_and_refuses_to_overwrite(cli, tmp_path, write_scenario):
    path = write_scenario(
        '[parameters]\n"Market Shock Size" = 0.1\n[simulation]\nfinal_time = 48\n',
        name="shock",
        title="Shock",
    )
    proc = cli("run", path, "-o", "results")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results"
    assert files_in(out) == ["shock.csv", "shock.png", "shock.svg"]

    df = pd.read_csv(out / "shock.csv", index_col="time")
    assert df.index[0] == 0 and df.index[-1] == 48
    for column in ["Trust", "Overlay Functions", "Target Attainment", "Market Shock Size"]:
        assert column in df.columns
    assert (df["Market Shock Size"] == 0.1).all()
    assert (out / "shock.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in (out / "shock.svg").read_bytes()[:2000]
    assert "Shock" in proc.stdout and "Final" in proc.stdout  # its summary row

    before = {name: (out / name).read_bytes() for name in files_in(out)}
    again = cli("run", path, "-o", "results")
    assert_one_line_error(again, "already exists", "--force")
    assert {name: (out / name).read_bytes() for name in files_in(out)} == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left behind

    forced = cli("run", path, "-o", "results", "--force")
    assert forced.returncode == 0, forced.stderr
    assert files_in(out) == ["shock.csv", "shock.png", "shock.svg"]


# --------------------------------------------------------------------------------------------------
# compare


def test_compare_writes_everything_and_prints_the_summary(cli, tmp_path, write_scenario):
    base = write_scenario("", name="status_quo", title="Status quo")
    shock = write_scenario('[parameters]\n"Market Shock Size" = 0.15\n', name="shock", title="Market shock")
    remedy = write_scenario(
        """
        [parameters]
        "Market Shock Size" = 0.15
        [policy]
        switch_month = 18
        [policy.after]
        "Deep Dive Share" = 0.3
        "Overlay Response" = 0.0
        """,
        name="deep_dives",
        title="Market shock, then deep dives",
    )
    proc = cli("compare", base, shock, remedy, "-o", "cmp")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "cmp"
    assert files_in(out) == ["comparison.csv", "comparison.png", "comparison.svg", "summary.csv"]

    stacked = pd.read_csv(out / "comparison.csv")
    assert list(stacked.columns[:2]) == ["scenario", "time"]
    assert list(dict.fromkeys(stacked["scenario"])) == ["status_quo", "shock", "deep_dives"]
    summary = pd.read_csv(out / "summary.csv", index_col="scenario")
    assert list(summary.index) == ["status_quo", "shock", "deep_dives"]
    assert summary.loc["deep_dives", "title"] == "Market shock, then deep dives"

    # The summary agrees with the written results.
    for name, df in stacked.groupby("scenario"):
        row = summary.loc[name]
        assert row["final_attainment"] == pytest.approx(100 * df["Target Attainment"].iloc[-1])
        assert row["final_sales"] == pytest.approx(100 * df["Sales"].iloc[-1] / df["Sales"].iloc[0])
        assert row["lowest_trust"] == pytest.approx(df["Trust"].min())
        assert row["peak_overlays"] == pytest.approx(df["Overlay Functions"].max())
    # The flywheel: a shock without a remedy ends worse than the status quo.
    assert summary.loc["shock", "final_attainment"] < summary.loc["status_quo", "final_attainment"]
    assert summary.loc["shock", "lowest_trust"] < summary.loc["status_quo", "lowest_trust"]
    assert np.isnan(summary.loc["status_quo", "first_month_below"])

    for title in ["Status quo", "Market shock", "Market shock, then deep dives"]:
        assert title in proc.stdout
    assert "Final" in proc.stdout and "never" in proc.stdout

    # An existing result file blocks the whole compare, and stays as it was.
    (out / "summary.csv").write_text("keep me", encoding="utf-8")
    (out / "comparison.png").unlink()
    refused = cli("compare", base, shock, "-o", "cmp")
    assert_one_line_error(refused, "already exists")
    assert (out / "summary.csv").read_text(encoding="utf-8") == "keep me"
    assert not (out / "comparison.png").exists()


# --------------------------------------------------------------------------------------------------
# scenarios, describe, verify


def test_scenarios_lists_names_and_titles(cli, tmp_path, write_scenario):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "baseline.toml").write_text(
        f'title = "The baseline"\nmodel = "{MODEL_PATH}"\n', encoding="utf-8"
    )
    (folder / "typo.toml").write_text(
        f'title = "Has a typo"\nmodel = "{MODEL_PATH}"\n[parameters]\n"Trsut" = 1\n', encoding="utf-8"
    )
    proc = cli("scenarios", folder)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["Name", "Title"]
    assert any(line.split(maxsplit=1) == ["baseline", "The baseline"] for line in lines)
    assert any(line.split(maxsplit=1) == ["typo", "Has a typo"] for line in lines)

    checked = cli("scenarios", folder, "--check")
    assert checked.returncode == 1
    assert 'did you mean "Trust"' in checked.stdout


def test_scenarios_defaults_to_the_scenarios_folder(cli, tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "here.toml").write_text(f'title = "Found here"\nmodel = "{MODEL_PATH}"\n', encoding="utf-8")
    proc = cli("scenarios")
    assert proc.returncode == 0, proc.stderr
    assert "Found here" in proc.stdout


def test_describe_shows_kinds_units_defaults_ranges_and_levers(cli, model):
    proc = cli("describe", MODEL_PATH)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("  ")[0]: line for line in proc.stdout.splitlines()}
    assert "stock" in rows["Trust"] and "Dmnl" in rows["Trust"] and "[0, 1]" in rows["Trust"]
    default = model.variables["Deep Dive Share Before"].default
    assert f"{default:g}" in rows["Deep Dive Share Before"] and "constant" in rows["Deep Dive Share Before"]
    assert "Policy levers" in proc.stdout and "Deep Dive Share" in proc.stdout.split("Policy levers")[1]

    constants = cli("describe", MODEL_PATH, "--kind", "constant")
    assert re.search(r"^Market Shock Size {2,}constant", constants.stdout, re.M)
    assert not re.search(r"^Trust {2,}", constants.stdout, re.M)
    assert re.search(r"^Trust {2,}stock", proc.stdout, re.M)


def _reference(model, tmp_path: Path, trust_offset: float = 0.0) -> Path:
    """A reference output in the layout of PySD's test models (Time column, one column per variable)."""
    df = model.run()
    df["Trust"] = df["Trust"] + trust_offset
    path = tmp_path / ("ref_off.csv" if trust_offset else "ref.csv")
    df.reset_index().rename(columns={"time": "Time"}).to_csv(path, index=False)
    return path


def test_verify_passes_against_its_own_output_and_fails_against_a_perturbed_one(cli, tmp_path, model):
    good = cli("verify", MODEL_PATH, "--reference", _reference(model, tmp_path))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = cli("verify", MODEL_PATH, "--reference", _reference(model, tmp_path, trust_offset=0.5))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Trust" in bad.stdout


def test_verify_a_folder_of_test_models(cli, tmp_path, model):
    for name, offset in (("good", 0.0), ("bad", 0.5)):
        folder = tmp_path / "suite" / name
        folder.mkdir(parents=True)
        (folder / "model.mdl").write_text(MODEL_PATH.read_text(encoding="utf-8"), encoding="utf-8")
        _reference(model, tmp_path, trust_offset=offset).rename(folder / "output.csv")
    only_good = cli("verify", tmp_path / "suite", "--pattern", "good")
    assert only_good.returncode == 0, only_good.stdout + only_good.stderr
    assert "1 passed, 0 failed" in only_good.stdout
    both = cli("verify", tmp_path / "suite")
    assert both.returncode == 1, both.stdout + both.stderr
    assert "1 passed, 1 failed" in both.stdout
    assert_one_line_error(cli("verify", tmp_path / "suite", "--pattern", "nothing"), "no models matching")
    assert_one_line_error(cli("verify", tmp_path / "suite", "--pattern", "("), "not a regular expression")


def test_verify_needs_a_reference_for_a_single_model(cli, tmp_path):
    model_copy = tmp_path / "m.mdl"
    model_copy.write_text(MODEL_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert_one_line_error(cli("verify", model_copy), "no --reference")
    assert_one_line_error(cli("verify", model_copy, "--reference", "nope.csv"), "nope.csv")


# --------------------------------------------------------------------------------------------------
# The summary table


def _frame(attainment, sales, target, trust, overlays, times=None):
    index = pd.Index(times if times is not None else range(len(attainment)), name="time", dtype=float)
    return pd.DataFrame(
        {
            "Target Attainment": attainment,
            "Sales": sales,
            "Sales Target": target,
            "Trust": trust,
            "Overlay Functions": overlays,
        },
        index=index,
    )


@pytest.fixture(scope="module")
def profile():
    """A profile with one measure of each kind (the model's own profile may change)."""
    from flywheel.scenarios import Measure, Profile

    return Profile(title="test", measures=(
        Measure("final_attainment", "Final\nattainment (%)", "Target Attainment", "final", scale=100, digits=1),
        Measure("cumulative_attainment", "Cum. sales /\ntarget (%)", "Sales", "ratio_of_sums", scale=100, digits=1,
                denominator="Sales Target"),
        Measure("lowest_trust", "Lowest\ntrust", "Trust", "min", units="Dmnl"),
        Measure("peak_overlays", "Peak\noverlays", "Overlay Functions", "max", digits=1, units="Overlays"),
        Measure("final_sales", "Final sales /\nfirst month (%)", "Sales", "final_relative", scale=100, digits=1),
        Measure("first_month_below", "First month\nbelow 90%", "Target Attainment", "first_below", threshold=0.9,
                digits=1),
    ))  # fmt: skip


def test_summarise_computes_each_metric(profile):
    a = _frame(
        [1.0, 0.95, 0.85, 0.8],
        [10, 9, 8, 8],
        [10, 10, 10, 10],
        [0.6, 0.5, 0.3, 0.4],
        [1, 2, 3, 2.5],
        times=[0, 6, 12, 18],
    )
    b = _frame([1.0, 1.0, 1.0], [5, 5, 5], [4, 4, 4], [0.6, 0.7, 0.8], [1, 1, 1])
    table = summarise({"a": a, "b": b}, profile)
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "final_attainment"] == 80.0  # the profile shows attainment in percent
    assert table.loc["a", "cumulative_attainment"] == pytest.approx(100 * 35 / 40)
    assert table.loc["a", "lowest_trust"] == 0.3
    assert table.loc["a", "peak_overlays"] == 3
    assert table.loc["a", "first_month_below"] == 12  # a time, not a row number
    assert table.loc["b", "cumulative_attainment"] == pytest.approx(125)
    assert np.isnan(table.loc["b", "first_month_below"])
    assert table.loc["a", "final_sales"] == 80.0 and table.loc["b", "final_sales"] == 100.0


def test_format_summary_is_aligned_with_units_and_never(profile):
    a = _frame([1.0, 0.8], [10, 8], [10, 10], [0.6, 0.3], [1, 3])
    b = _frame([1.0, 1.0], [5, 5], [4, 4], [0.6, 0.7], [1, 1])
    text = format_summary(summarise({"a": a, "b": b}, profile), profile, titles={"a": "Scenario A"})
    lines = text.splitlines()
    assert "(Dmnl)" in text and "(Overlays)" in text and "(%)" in text
    assert lines[-2].startswith("Scenario A") and lines[-1].startswith("b ")
    assert lines[-2].split()[-6:] == ["80.0", "90.0", "0.30", "3.0", "80.0", "1"]
    assert lines[-1].split()[-6:] == ["100.0", "125.0", "0.60", "1.0", "100.0", "never"]
    assert len({len(line) for line in lines[-3:]}) == 1  # rule and rows line up


def test_render_table_multiline_headers():
    text = render_table(["Name", "Two\nlines"], [["x", "1"], ["longer", "22"]], align="lr")
    assert text.splitlines() == [
        "          Two",
        "Name    lines",
        "------  -----",
        "x           1",
        "longer     22",
    ]


# --------------------------------------------------------------------------------------------------
# Safe writing


def test_write_files_refuses_to_overwrite_and_writes_nothing_then(tmp_path):
    (tmp_path / "b.txt").write_text("old", encoding="utf-8")
    with pytest.raises(OutputError, match="b.txt already exists"):
        write_files({tmp_path / "a.txt": b"new a", tmp_path / "b.txt": b"new b"})
    assert files_in(tmp_path) == ["b.txt"]
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "old"
    write_files({tmp_path / "a.txt": b"new a", tmp_path / "b.txt": b"new b"}, force=True)
    assert (tmp_path / "b.txt").read_bytes() == b"new b"
    assert files_in(tmp_path) == ["a.txt", "b.txt"]


def test_write_files_cleans_up_when_interrupted(tmp_path, monkeypatch):
    import flywheel.present.output as output

    calls = []

    def place(tmp, path, force):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_place(tmp, path, force)

    real_place = output._place
    monkeypatch.setattr(output, "_place", place)
    target = tmp_path / "new" / "dir"
    with pytest.raises(KeyboardInterrupt):
        write_files({target / "a.csv": b"a", target / "b.csv": b"b"})
    assert not (tmp_path / "new").exists()  # the first file and the folders it needed are gone


def test_write_text_creates_folders(tmp_path):
    path = write_text(tmp_path / "x" / "y.txt", "hello")
    assert path.read_text(encoding="utf-8") == "hello"
    with pytest.raises(OutputError, match="already exists"):
        write_text(path, "again")
    assert path.read_text(encoding="utf-8") == "hello"


# --------------------------------------------------------------------------------------------------
# Failures in the middle of a comparison (in-process, to inject them)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (SimulationError("Trust became NaN at time 31.5"), "flywheel: Trust became NaN at time 31.5\n"),
        (KeyboardInterrupt(), "flywheel: interrupted\n"),
    ],
)
def test_a_run_failing_midway_writes_nothing(tmp_path, write_scenario, monkeypatch, capsys, error, message):
    import flywheel.scenarios as scenarios
    from flywheel.present.cli import main

    first = write_scenario("", name="first")
    second = write_scenario("", name="second")
    real_run = scenarios.run_scenario

    def run(scenario, model=None):
        if scenario.name == "second":
            raise error
        return real_run(scenario, model)

    monkeypatch.setattr(scenarios, "run_scenario", run)
    code = main(["compare", str(first), str(second), "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == message
    assert captured.out == ""
    assert not (tmp_path / "out").exists()
