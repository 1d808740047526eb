"""Sensitivity through time: Sobol' (against the Ishigami function's exact indices and against SALib's own
analyze, time by time), Morris and FAST, one-number outcomes, seeds, divergence and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flywheel
from flywheel.analysis.sobol_time import sobol_through_time
from flywheel.errors import ParameterError

from .uncertainty_models import explosive, growth, ishigami

PI = math.pi
ISHIGAMI_RANGES = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}
ISHIGAMI_S1 = [0.314, 0.442, 0.0]
ISHIGAMI_ST = [0.558, 0.442, 0.244]


@pytest.fixture(scope="module")
def ishigami_model(tmp_path_factory):
    return flywheel.load_model(ishigami(tmp_path_factory.mktemp("ishigami")))


@pytest.fixture(scope="module")
def growth_model(tmp_path_factory):
    return flywheel.load_model(growth(tmp_path_factory.mktemp("growth")))


def test_sobol_indices_of_the_ishigami_function_within_0_05_at_n_4096(ishigami_model):
    s = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", n=4096, seed=3)
    assert s.n_runs == 4096 * 8
    table = s.table("final Y").loc[["x1", "x2", "x3"]]
    assert np.abs(table["S1"].to_numpy() - ISHIGAMI_S1).max() < 0.05
    assert np.abs(table["ST"].to_numpy() - ISHIGAMI_ST).max() < 0.05
    assert np.all(table["ST_conf"] < 0.05)  # the intervals are tight at this N
    assert s.scalars["S2"].sel(output="final Y", parameter="x1", parameter_2="x3").item() == pytest.approx(0.244, abs=0.06)


def test_the_same_seed_gives_the_same_indices_and_another_seed_other_ones(ishigami_model):
    a = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", n=256, seed=5)
    b = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", n=256, seed=5)
    c = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", n=256, seed=6)
    assert a.scalars.equals(b.scalars)
    assert a.samples.equals(b.samples)
    assert not np.array_equal(a.scalars["S1"].values, c.scalars["S1"].values)


def test_through_time_equals_salib_analyze_time_by_time():
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[-PI, PI]] * 3}
    X = sobol_sample.sample(problem, 256, seed=2)
    y = Ishigami.evaluate(X)
    Y = np.column_stack([y, y**2 + X[:, 0], np.exp(0.1 * y) * X[:, 2]])
    ours = sobol_through_time(Y, 3, seed=11)
    for t in range(Y.shape[1]):
        theirs = sobol.analyze(problem, Y[:, t], seed=11)
        for key in ("S1", "S1_conf", "ST", "ST_conf"):
            np.testing.assert_allclose(ours[key][:, t], theirs[key], rtol=0, atol=1e-12)
        upper = ~np.isnan(theirs["S2"])
        np.testing.assert_allclose(ours["S2"][:, :, t][upper], theirs["S2"][upper], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours["S2_conf"][:, :, t][upper], theirs["S2_conf"][upper], rtol=0, atol=1e-12)


def test_indices_through_time_follow_the_drivers_of_a_growing_level(growth_model):
    """Level(t) = a + r t with a ~ U(0, 10), r ~ U(0, 1): Var from a is 100/12, from r t^2/12, so
    S1(a) = 100 / (100 + t^2) exactly (additive: ST = S1)."""
    s = flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, ["Level", "Doubled at month 20"], n=2048, seed=1)
    ds = s.indices.sel(output="Level")
    assert ds["S1"].sizes == {"parameter": 2, "time": 21}
    for t in (2.0, 10.0, 20.0):
        expected = 100 / (100 + t * t)
        assert ds["S1"].sel(parameter="a", time=t).item() == pytest.approx(expected, abs=0.04)
        assert ds["ST"].sel(parameter="r", time=t).item() == pytest.approx(1 - expected, abs=0.04)
    assert math.isnan(ds["S1"].sel(parameter="a", time=0.0).item()) is False  # Level(0) = a varies
    at20 = s.table("Doubled at month 20")
    assert at20.index[0] == "r" and at20.loc["r", "S1"] == pytest.approx(0.8, abs=0.04)
    report = s.report()
    assert "leading input (ST) by month: 0: a; 4: a; 8: a; 12: r; 16: r; 20: r" in report


def test_times_restrict_the_indices_and_times_outside_the_run_are_refused(growth_model):
    s = flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, "Level", n=64, times=[5, 15])
    assert s.indices["time"].values.tolist() == [5.0, 15.0]
    with pytest.raises(ParameterError, match="times: time 30 is outside the run"):
        flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, "Level", n=64, times=[30])
    with pytest.raises(ParameterError, match="time 2.5 is not an output time"):
        flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, "Level at month 2.5", n=64)
    with pytest.raises(ParameterError, match='"Levle" is not a variable of the model; did you mean "Level"'):
        flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, "final Levle", n=64)


def test_morris_ranks_the_ishigami_inputs_and_fast_matches_the_exact_first_order(ishigami_model):
    m = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method="morris", n=200, seed=2)
    assert m.n_runs == 200 * 4
    table = m.table()
    assert set(table.columns) == {"mu", "mu_star", "sigma", "mu_star_conf"}
    assert table.index[-1] == "x3" or table.loc["x3", "mu_star"] < table.loc["x2", "mu_star"]
    assert table.loc["x1", "sigma"] > 0  # x1 interacts with x3
    f = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method="fast", n=1024, seed=2)
    table = f.table().loc[["x1", "x2", "x3"]]
    assert np.abs(table["S1"].to_numpy() - ISHIGAMI_S1).max() < 0.05
    assert np.abs(table["ST"].to_numpy() - ISHIGAMI_ST).max() < 0.08


def test_morris_through_time_has_the_documented_variables(growth_model):
    s = flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, "Level", method="morris", n=20, seed=0)
    assert set(s.indices.data_vars) == {"mu", "mu_star", "sigma", "mu_star_conf"}
    # Level = a + r t is linear: a's effect over its whole range (0 to 10) is 10 at every time, r's is t
    np.testing.assert_allclose(s.indices["mu_star"].sel(output="Level", parameter="a").values, 10, rtol=1e-9)
    np.testing.assert_allclose(s.indices["mu_star"].sel(output="Level", parameter="r").values, np.arange(21.0), atol=1e-9)
    assert s.indices["sigma"].sel(output="Level", parameter="a").values.max() < 1e-9


def test_runs_that_blow_up_are_reported_with_their_cause(tmp_path):
    model = flywheel.load_model(explosive(tmp_path))
    s = flywheel.sensitivity(model, {"k": (0, 0.3), "calm": (0, 2)}, "Stock", n=64, seed=0)
    assert s.diverged > 0
    assert any("diverged" in note and "'k'" in note for note in s.notes)
    assert "diverged" in s.report()
    assert np.isnan(s.indices["S1"].sel(output="Stock").values[:, -1]).all()
    assert np.isfinite(s.indices["S1"].sel(output="Stock", parameter="k").values[1:5]).all()


def test_bad_arguments_are_one_clear_line(ishigami_model):
    with pytest.raises(ParameterError, match="method 'sobel' is not known; choose sobol, morris, fast"):
        flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method="sobel")
    with pytest.raises(ParameterError, match="FAST needs n above 64"):
        flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method="fast", n=50)
    with pytest.raises(ParameterError, match="name at least one outcome"):
        flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, [])
    with pytest.raises(ParameterError, match="low \\(2\\) must be below high \\(1\\)"):
        flywheel.sensitivity(ishigami_model, {"x1": (2, 1)}, "final Y")


def test_figures_show_every_input(growth_model):
    s = flywheel.sensitivity(growth_model, {"a": (0, 10), "r": (0, 1)}, ["Level", "max Level"], n=128)
    heat = s.plot("Level")
    labels = [t.get_text() for t in heat.axes[0].get_yticklabels()]
    assert labels == ["r", "a"] or labels == ["a", "r"]
    assert "What drives Level" in heat._suptitle.get_text()
    bars = s.plot("max Level", kind="bars")
    assert [t.get_text() for t in bars.axes[0].get_yticklabels()] == ["a", "r"]  # largest on top
    with pytest.raises(ParameterError, match="plot it with kind='bars'"):
        s.plot("max Level")


@pytest.mark.parametrize(("method", "n"), [("sobol", 64), ("morris", 20), ("fast", 100)])
def test_seed_zero_is_a_seed_too(ishigami_model, method, n):
    """SALib treats a falsy seed as "no seed" in places; seed 0 must still give the same numbers."""
    a = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method=method, n=n, seed=0)
    b = flywheel.sensitivity(ishigami_model, ISHIGAMI_RANGES, "final Y", method=method, n=n, seed=0)
    assert a.samples.equals(b.samples) and a.scalars.equals(b.scalars)
