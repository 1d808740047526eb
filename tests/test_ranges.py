"""Ranges of uncertain inputs: one TOML format (own file or a scenario's [ranges]), dicts, defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flywheel.analysis.ranges import Ranges, load_ranges
from flywheel.errors import ParameterError

from .conftest import REPO_ROOT


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_example_ranges_file_loads_against_the_model(model):
    files = sorted((REPO_ROOT / "scenarios" / "ranges").glob("*.toml"))
    assert files
    for path in files:
        ranges = load_ranges(path, model)
        assert len(ranges) >= 3
        for name in ranges:
            low, high = model.variables[name].limits
            b_low, b_high = ranges[name].bounds
            assert low <= b_low < b_high <= high


def test_toml_distributions_and_their_quantiles(tmp_path, model):
    path = write(tmp_path, """
[ranges]
"Trust Erosion Time" = { low = 3, high = 12 }
"Selling Time Share" = { distribution = "normal", mean = 0.41, sd = 0.04, low = 0.2, high = 0.6 }
"Conversion Power" = { distribution = "lognormal", median = 2.5, sigma = 0.2, low = 0.5, high = 10 }
"Trust Building Time" = { distribution = "triangular", low = 9, mode = 18, high = 36 }
""")
    r = load_ranges(path, model)
    assert r.names == ["Trust Erosion Time", "Selling Time Share", "Conversion Power", "Trust Building Time"]
    x = r.from_unit(np.array([[0.5, 0.5, 0.5, 0.5], [0.0, 0.975, 0.5, 1.0]]))
    assert x["Trust Erosion Time"].tolist() == [7.5, 3.0]
    assert x["Selling Time Share"][0] == pytest.approx(0.41)
    assert x["Selling Time Share"][1] == pytest.approx(0.41 + 1.959964 * 0.04, abs=1e-4)  # truncation far away
    assert x["Conversion Power"][0] == pytest.approx(2.5)
    assert x["Trust Building Time"][1] == pytest.approx(36)
    mode_share = (18 - 9) / (36 - 9)
    assert r["Trust Building Time"].ppf(np.array([mode_share]))[0] == pytest.approx(18)


def test_unbounded_distributions_never_map_the_unit_edges_to_infinity(model):
    spec = {"distribution": "lognormal", "median": 2.5, "sigma": 0.2}
    with pytest.raises(ParameterError, match=r"\[0, inf\] goes outside the documented range \[0.5, 10\]"):
        load_ranges({"Conversion Power": spec}, model)
    r = load_ranges({"Conversion Power": spec}, model, strict_bounds=False)
    values = r.from_unit(np.array([[0.0], [1.0]]))["Conversion Power"]
    assert np.all(np.isfinite(values)) and values[0] > 0


def test_scenario_ranges_table_by_object_and_by_path(write_scenario, model):
    from flywheel.scenarios import load_scenario

    path = write_scenario('[ranges]\n"Trust Erosion Time" = { low = 2, high = 10 }\n')
    for source in (path, load_scenario(path, model=model)):
        r = load_ranges(source, model)
        assert r.names == ["Trust Erosion Time"] and r["Trust Erosion Time"].bounds == (2.0, 10.0)
        assert "[ranges]" in r.source


def test_scenario_without_ranges_is_a_clear_error(write_scenario, model):
    path = write_scenario("")
    with pytest.raises(ParameterError, match=r"scenario\.toml: the scenario has no \[ranges\] table"):
        load_ranges(path, model)


def test_defaults_are_the_documented_ranges(model):
    r = load_ranges(None, model)
    assert "Trust Erosion Time" in r.names
    low, high = model.variables["Trust Erosion Time"].limits
    assert r["Trust Erosion Time"].bounds == (low, high)
    assert all(model.variables[n].kind == "constant" for n in r)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"Trust Erosoin Time" = { low = 3, high = 12 }', 'unknown variable; did you mean "Trust Erosion Time"'),
        ('"Trust Erosion Time" = { low = 12, high = 3 }', "low (12) must be below high (3)"),
        ('"Trust Erosion Time" = { low = "three", high = 12 }', "low = 'three' is not a finite number"),
        ('"Trust Erosion Time" = { low = 0.5, high = 12 }', "outside the documented range [1, 60]"),
        ('"Trust Erosion Time" = { distribution = "beta", low = 1, high = 2 }', "distribution 'beta' is not known"),
        ('"Trust Erosion Time" = { low = 1, hgh = 2 }', "'hgh' does not belong to a uniform range"),
        ('"Trust" = { low = 0, high = 1 }', "is a stock; only constants can have a range"),
    ],
)
def test_bad_ranges_name_the_file_and_the_item(tmp_path, model, text, message):
    path = write(tmp_path, "[ranges]\n" + text + "\n")
    with pytest.raises(ParameterError) as info:
        load_ranges(path, model)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_file_with_other_tables_is_refused(tmp_path, model):
    path = write(tmp_path, '[ranges]\n"Trust Erosion Time" = [3, 12]\n[other]\nx = 1\n')
    with pytest.raises(ParameterError, match="expected one table"):
        load_ranges(path, model)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 200), method=st.sampled_from(["random", "lhs"]))
def test_the_same_seed_gives_the_same_draws_within_the_bounds(model, seed, n, method):
    r = load_ranges({"Trust Erosion Time": (3, 12), "Conversion Power": (1, 4)}, model)
    a, b = r.sample(n, seed, method), r.sample(n, seed, method)
    for name in r:
        assert np.array_equal(a[name], b[name])
        low, high = r[name].bounds
        assert np.all((a[name] >= low) & (a[name] <= high))


def test_latin_hypercube_puts_one_draw_in_each_stratum(model):
    r = load_ranges({"Trust Erosion Time": (0 + 1, 11)}, model)
    x = r.sample(10, 3, "lhs")["Trust Erosion Time"]
    assert sorted(np.floor(x - 1).astype(int).tolist()) == list(range(10))


def test_ranges_object_passes_through_and_salib_problem(model):
    r = load_ranges({"Trust Erosion Time": (3, 12)}, model)
    assert load_ranges(r, model) is r
    assert isinstance(r, Ranges)
    assert r.salib_problem() == {"num_vars": 1, "names": ["Trust Erosion Time"], "bounds": [[3.0, 12.0]]}
    assert not math.isinf(r["Trust Erosion Time"].bounds[1])
