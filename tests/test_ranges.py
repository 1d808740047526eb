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
from .uncertain_inputs import documented, judgement_constants, misspelt


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def names(model):
    """Four judgement constants of the model (the profile's assumptions first: on the second model Trust
    Erosion Time, Miss Tolerance, Overlay Budget, Market Assessment Time)."""
    return judgement_constants(model, 4)


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


def test_the_levers_file_spans_every_lever_of_the_profile_over_its_documented_range(model):
    from flywheel.scenarios import load_profile

    ranges = load_ranges(REPO_ROOT / "scenarios" / "ranges" / "levers.toml", model)
    levers = load_profile(model).levers
    assert ranges.names == [lever.after for lever in levers]
    for lever in levers:
        assert ranges[lever.after].kind == "uniform"
        assert ranges[lever.after].bounds == documented(model, lever.after)


def test_the_judgement_file_ranges_judgement_constants_around_their_defaults(model):
    """Each range holds the constant's default and stays within default x [0.67, 1.5] (the brief's
    judgement ranges), a little rounding allowed."""
    ranges = load_ranges(REPO_ROOT / "scenarios" / "ranges" / "judgement.toml", model)
    assert len(ranges) == 10
    for name in ranges:
        info = model.variables[name]
        assert "judgement" in info.documentation
        low, high = ranges[name].bounds
        assert low <= info.default <= high
        assert low >= 0.66 * info.default and high <= 1.5 * info.default


def test_toml_distributions_and_their_quantiles(tmp_path, model, names):
    """Each kind of range on a constant's documented range [lo, hi] (mid = the middle)."""
    (lo_u, hi_u), (lo_n, hi_n), (lo_l, hi_l), (lo_t, hi_t) = (documented(model, n) for n in names)
    uniform, normal, lognormal, triangular = names
    mean, sd = (lo_n + hi_n) / 2, (hi_n - lo_n) / 20  # truncation 10 sd away
    median = (lo_l + hi_l) / 2
    mode = model.variables[triangular].default
    path = write(tmp_path, f"""
[ranges]
"{uniform}" = {{ low = {lo_u!r}, high = {hi_u!r} }}
"{normal}" = {{ distribution = "normal", mean = {mean!r}, sd = {sd!r}, low = {lo_n!r}, high = {hi_n!r} }}
"{lognormal}" = {{ distribution = "lognormal", median = {median!r}, sigma = 0.02, low = {lo_l!r}, high = {hi_l!r} }}
"{triangular}" = {{ distribution = "triangular", low = {lo_t!r}, mode = {mode!r}, high = {hi_t!r} }}
""")
    r = load_ranges(path, model)
    assert r.names == names
    x = r.from_unit(np.array([[0.5, 0.5, 0.5, 0.5], [0.0, 0.975, 0.5, 1.0]]))
    assert x[uniform].tolist() == pytest.approx([(lo_u + hi_u) / 2, lo_u])
    assert x[normal][0] == pytest.approx(mean)
    assert x[normal][1] == pytest.approx(mean + 1.959964 * sd, rel=1e-5)  # truncation far away
    assert x[lognormal][0] == pytest.approx(median)
    assert x[triangular][1] == pytest.approx(hi_t)
    mode_share = (mode - lo_t) / (hi_t - lo_t)
    assert r[triangular].ppf(np.array([mode_share]))[0] == pytest.approx(mode)


def test_unbounded_distributions_never_map_the_unit_edges_to_infinity(model, names):
    name = names[0]
    low, high = documented(model, name)
    spec = {"distribution": "lognormal", "median": (low + high) / 2, "sigma": 0.2}
    with pytest.raises(ParameterError, match=rf"\[0, inf\] goes outside the documented range \[{low:g}, {high:g}\]"):
        load_ranges({name: spec}, model)
    r = load_ranges({name: spec}, model, strict_bounds=False)
    values = r.from_unit(np.array([[0.0], [1.0]]))[name]
    assert np.all(np.isfinite(values)) and values[0] > 0


def test_uniform_edges_map_exactly_onto_the_documented_range(model):
    """u = 0 and 1 give the documented ends, not one rounding step beyond them (1.7 + 1 * (3.9 - 1.7) is
    3.9000000000000004): a Morris design puts draws there, and the ensemble refuses values outside."""
    for name in judgement_constants(model):
        low, high = documented(model, name)
        edges = load_ranges({name: (low, high)}, model).from_unit(np.array([[0.0], [1.0]]))[name]
        assert edges.tolist() == [low, high], name
    name = judgement_constants(model, 1)[0]
    r = load_ranges({name: (1.7, 3.9)}, model, strict_bounds=False)
    assert r.from_unit(np.array([[1.0]]))[name][0] == 3.9


def test_scenario_ranges_table_by_object_and_by_path(write_scenario, model, names):
    from flywheel.scenarios import load_scenario

    name = names[0]
    low, high = documented(model, name)
    inner = (low + (high - low) / 4, high - (high - low) / 4)
    path = write_scenario(f'[ranges]\n"{name}" = {{ low = {inner[0]!r}, high = {inner[1]!r} }}\n')
    for source in (path, load_scenario(path, model=model)):
        r = load_ranges(source, model)
        assert r.names == [name] and r[name].bounds == inner
        assert "[ranges]" in r.source


def test_scenario_without_ranges_is_a_clear_error(write_scenario, model):
    path = write_scenario("")
    with pytest.raises(ParameterError, match=r"scenario\.toml: the scenario has no \[ranges\] table"):
        load_ranges(path, model)


def test_defaults_are_the_documented_ranges(model, names):
    r = load_ranges(None, model)
    for name in names:
        assert r[name].bounds == documented(model, name)
    assert all(model.variables[n].kind == "constant" for n in r)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"{misspelt}" = {{ low = {low}, high = {high} }}', 'unknown variable; did you mean "{name}"'),
        ('"{name}" = {{ low = {high}, high = {low} }}', "low ({high}) must be below high ({low})"),
        ('"{name}" = {{ low = "three", high = {high} }}', "low = 'three' is not a finite number"),
        ('"{name}" = {{ low = {below}, high = {high} }}', "outside the documented range [{low}, {high}]"),
        ('"{name}" = {{ distribution = "beta", low = {low}, high = {high} }}', "distribution 'beta' is not known"),
        ('"{name}" = {{ low = {low}, hgh = {high} }}', "'hgh' does not belong to a uniform range"),
        ('"Trust" = {{ low = 0, high = 1 }}', "is a stock; only constants can have a range"),
    ],
)
def test_bad_ranges_name_the_file_and_the_item(tmp_path, model, names, text, message):
    low, high = documented(model, names[0])
    words = {"name": names[0], "misspelt": misspelt(names[0]), "low": f"{low:g}", "high": f"{high:g}",
             "below": f"{low / 2:g}"}  # fmt: skip
    text, message = text.format(**words), message.format(**words)
    path = write(tmp_path, "[ranges]\n" + text + "\n")
    with pytest.raises(ParameterError) as info:
        load_ranges(path, model)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_file_with_other_tables_is_refused(tmp_path, model, names):
    low, high = documented(model, names[0])
    path = write(tmp_path, f'[ranges]\n"{names[0]}" = [{low!r}, {high!r}]\n[other]\nx = 1\n')
    with pytest.raises(ParameterError, match="expected one table"):
        load_ranges(path, model)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 200), method=st.sampled_from(["random", "lhs"]))
def test_the_same_seed_gives_the_same_draws_within_the_bounds(model, seed, n, method):
    r = load_ranges({name: documented(model, name) for name in judgement_constants(model, 2)}, model)
    a, b = r.sample(n, seed, method), r.sample(n, seed, method)
    for name in r:
        assert np.array_equal(a[name], b[name])
        low, high = r[name].bounds
        assert np.all((a[name] >= low) & (a[name] <= high))


def test_latin_hypercube_puts_one_draw_in_each_stratum(model, names):
    low, high = documented(model, names[0])
    r = load_ranges({names[0]: (low, high)}, model)
    x = r.sample(10, 3, "lhs")[names[0]]
    assert sorted(np.floor(10 * (x - low) / (high - low)).astype(int).tolist()) == list(range(10))


def test_ranges_object_passes_through_and_salib_problem(model, names):
    low, high = documented(model, names[0])
    r = load_ranges({names[0]: (low, high)}, model)
    assert load_ranges(r, model) is r
    assert isinstance(r, Ranges)
    assert r.salib_problem() == {"num_vars": 1, "names": [names[0]], "bounds": [[low, high]]}
    assert not math.isinf(r[names[0]].bounds[1])


def test_the_module_example_loads_against_the_model(tmp_path, model):
    """The TOML example in the ranges module's docstring is valid for the model."""
    import flywheel.analysis.ranges as module

    lines = [line.strip() for line in module.__doc__.splitlines()]
    table = lines[lines.index("[ranges]"): lines.index("[ranges]") + 5]
    r = load_ranges(write(tmp_path, "\n".join(table) + "\n"), model)
    assert len(r) == 4
