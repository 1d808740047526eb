"""flywheel.calibrate against synthetic data with known truth: estimates, interval coverage over many
noise seeds, identifiability flags, profiles, Jacobians as one ensemble, scenarios out, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flywheel
from flywheel.analysis.fitting import setup_problem
from flywheel.errors import OutputError, ParameterError

from .calibration_data import SERIES, clean_series, flywheel_fit, noisy, product_model, shock_base, truth_of


@pytest.fixture(scope="module")
def setting(model):
    """The flywheel under a market shock, three constants to fit, and its clean quarterly series."""
    base = shock_base(model)
    fit = flywheel_fit(model)
    return model.spec(base), fit, clean_series(model, base)


@pytest.fixture(scope="module")
def fitted(model, setting):
    spec, fit, clean = setting
    return flywheel.calibrate(model, noisy(clean, seed=1), fit, scenario=spec, starts=4)


# --------------------------------------------------------------------------------------------------
# What a calibration returns


def test_recovers_known_values_with_every_field(model, setting, fitted):
    spec, fit, clean = setting
    c = fitted
    truth = truth_of(model, fit)
    names = list(fit)
    assert list(c.estimates.index) == names
    assert list(c.ci.columns) == ["low", "high"] and list(c.ci.index) == names
    assert c.converged and c.identifiable.all()
    inside = (c.ci["low"].to_numpy() <= truth) & (truth <= c.ci["high"].to_numpy())
    assert inside.all(), (c.ci, truth)
    # Close to the truth relative to the bounds, and intervals narrower than the bounds.
    width = np.array([hi - lo for lo, hi in fit.values()])
    assert np.all(np.abs(c.estimates.to_numpy() - truth) < 0.05 * width)
    assert np.all((c.ci["high"] - c.ci["low"]).to_numpy() < 0.2 * width)
    # The noise was 2% of each series' mean level; its estimate and the rmse say so.
    expected = 0.02 * clean.abs().mean()
    assert np.allclose(c.noise[SERIES].to_numpy(), expected.to_numpy(), rtol=0.3)
    assert np.allclose(c.rmse[SERIES].to_numpy(), expected.to_numpy(), rtol=0.3)
    assert c.redchi == pytest.approx(1.0, abs=0.05)  # weights are 1 / the estimated noise
    assert c.n_points == clean.size and c.dof == clean.size - len(fit)
    assert c.cost == pytest.approx(0.5 * c.chisqr)
    assert c.n_evaluations > c.n_ensembles > 0
    corr = c.correlation.to_numpy()
    assert np.allclose(np.diag(corr), 1) and np.allclose(corr, corr.T) and np.all(np.abs(corr) <= 1)
    assert c.residuals.shape == clean.shape and c.fitted.shape == clean.shape
    assert np.allclose(c.residuals + c.fitted, noisy(clean, seed=1), atol=1e-12)
    assert len(c.starts) == 4 and c.starts["cost"].min() < np.inf


def test_report_reads_like_a_fit_report(fitted):
    text = fitted.report()
    for part in ("[[Calibration]]", "[[Estimates]]", "[[Fit per series]]", "[[Correlations]]", "[[Identifiability]]",
                 "converged:         yes", "every parameter is identifiable"):  # fmt: skip
        assert part in text, text
    for name in fitted.names:
        assert name in text
    assert str(fitted) == text


def test_same_seed_same_numbers_and_another_seed_other_starts(model, setting):
    spec, fit, clean = setting
    data = noisy(clean, seed=3)
    one = flywheel.calibrate(model, data, fit, scenario=spec, starts=3, seed=5)
    two = flywheel.calibrate(model, data, fit, scenario=spec, starts=3, seed=5)
    other = flywheel.calibrate(model, data, fit, scenario=spec, starts=3, seed=6)
    assert one.estimates.equals(two.estimates) and one.stderr.equals(two.stderr)
    assert not one.starts.filter(like="start ").equals(other.starts.filter(like="start "))
    assert np.allclose(one.estimates, other.estimates, rtol=1e-4)  # the same optimum from other starts


def test_the_95_percent_intervals_cover_the_truth_over_50_noise_seeds(model, setting):
    """The issue's check: at least 90% of the 95% intervals contain the truth, per identifiable parameter.
    (Measured on the second model: 49, 50 and 49 of 50 for Miss Tolerance, Overlay Budget and Trust Miss
    Sensitivity; over 200 further seeds 96.5%, 94.5% and 96.5%. A 95% interval misses 2.5 of 50 on average.)"""
    spec, fit, clean = setting
    truth = truth_of(model, fit)
    hits = np.zeros(len(fit))
    identified = np.zeros(len(fit))
    for seed in range(50):
        c = flywheel.calibrate(model, noisy(clean, seed), fit, scenario=spec, starts=2, seed=seed)
        inside = (c.ci["low"].to_numpy() <= truth) & (truth <= c.ci["high"].to_numpy())
        ok = c.identifiable.to_numpy()
        hits += inside & ok
        identified += ok
    assert np.all(identified >= 45), identified  # the flywheel identifies these from three series
    coverage = hits / identified
    assert np.all(coverage >= 0.90), dict(zip(fit, coverage, strict=True))


def test_missing_values_are_skipped(model, setting):
    spec, fit, clean = setting
    data = noisy(clean, seed=4)
    data.iloc[::5, 1] = np.nan
    data.iloc[2, 0] = np.nan
    c = flywheel.calibrate(model, data, fit, scenario=spec, starts=2)
    assert c.n_points == int(data.notna().to_numpy().sum())
    assert c.residuals.isna().equals(data.isna())
    assert c.converged


def test_given_weights_are_used_and_scale_the_covariance_like_lmfit(model, setting):
    spec, fit, clean = setting
    data = noisy(clean, seed=2)
    estimated = flywheel.calibrate(model, data, fit, scenario=spec, starts=2)
    per_series = flywheel.calibrate(model, data, fit, scenario=spec, starts=2, weights=dict(1 / estimated.noise))
    assert np.allclose(per_series.estimates, estimated.estimates, rtol=1e-4)
    assert np.allclose(per_series.stderr, estimated.stderr, rtol=1e-2)
    # Weights ten times larger everywhere: the same fit and intervals (the scale is estimated).
    frame = pd.DataFrame({s: np.full(len(data), 10 / estimated.noise[s]) for s in data.columns}, index=data.index)
    scaled = flywheel.calibrate(model, data, fit, scenario=spec, starts=2, weights=frame)
    assert np.allclose(scaled.estimates, estimated.estimates, rtol=1e-4)
    assert np.allclose(scaled.stderr, estimated.stderr, rtol=1e-2)
    assert scaled.chisqr == pytest.approx(100 * per_series.chisqr, rel=1e-3)


def test_a_scenario_is_the_base_run(model, write_scenario, setting, tmp_path):
    spec, fit, clean = setting
    lines = "\n".join(f"{_toml(k)} = {v!r}" for k, v in spec.params.items())
    path = write_scenario(f"[parameters]\n{lines}\n", name="shocked")
    data = noisy(clean, seed=1)
    by_path = flywheel.calibrate(path, data, fit, starts=2)
    as_keyword = flywheel.calibrate(model, data, fit, scenario=flywheel.load_scenario(path), starts=2)
    assert by_path.estimates.equals(as_keyword.estimates)
    assert by_path.problem.spec.params == spec.params
    # Without the shock the same data cannot be fitted as well.
    no_shock = flywheel.calibrate(model, data, fit, starts=2)
    assert no_shock.chisqr > 2 * by_path.chisqr or no_shock.rmse.sum() > 2 * by_path.rmse.sum()


# --------------------------------------------------------------------------------------------------
# Identifiability


def test_a_pair_that_only_enters_as_a_product_is_flagged(tmp_path):
    model = product_model(tmp_path)
    clean = model.run(return_columns=["Level", "Outflow"]).loc[np.arange(0, 49, 3.0)]
    data = noisy(clean, seed=0, fraction=0.01)
    c = flywheel.calibrate(model, data, {"Gain A": (0.05, 5), "Gain B": (0.05, 5), "Drain Time": (1, 40)}, starts=4)
    assert not c.identifiable["Gain A"] and not c.identifiable["Gain B"]
    assert c.identifiable["Drain Time"]
    assert abs(c.correlation.loc["Gain A", "Gain B"]) > 0.95
    assert c.ci.loc["Drain Time", "low"] <= 8 <= c.ci.loc["Drain Time", "high"]
    # Their product is what the data determine.
    assert c.estimates["Gain A"] * c.estimates["Gain B"] == pytest.approx(0.2, rel=0.02)
    text = c.report()
    assert "NOT identifiable from these data: Gain A" in text and "NOT identifiable from these data: Gain B" in text
    assert "Drain Time" not in text.split("[[Identifiability]]")[1]
    # The profile of one of them is flat down to its lower bound; Drain Time's is closed on both sides.
    flat = c.profile("Gain A")
    assert flat.open_low and flat.interval[0] == 0.05
    assert np.nanmax(flat.frame.loc[flat.frame["value"] < 3, "statistic"]) < flat.threshold
    closed = c.profile("drain time")  # names resolve loosely
    assert not closed.open_low and not closed.open_high


# --------------------------------------------------------------------------------------------------
# Profiles, figures, scenarios


def test_profile_agrees_with_the_jacobian_where_the_model_is_nearly_linear(fitted):
    for name in fitted.names:
        p = fitted.profile(name)
        assert not p.open_low and not p.open_high
        width = p.wald[1] - p.wald[0]
        assert abs(p.interval[0] - p.wald[0]) < 0.15 * width and abs(p.interval[1] - p.wald[1]) < 0.15 * width
        assert p.interval[0] < p.estimate < p.interval[1]
        at_estimate = p.frame.iloc[int(np.argmin(np.abs(p.frame["value"] - p.estimate)))]
        assert at_estimate["statistic"] == pytest.approx(0, abs=1e-6)
        assert (p.frame["statistic"] > -1e-6).all()  # the estimate is the minimum
        assert p.n_evaluations > 0
    assert fitted.profile(fitted.names[0]) is fitted.profile(fitted.names[0])  # cached
    with pytest.raises(ParameterError, match="not a fitted parameter"):
        fitted.profile("Trust")


def test_figures_show_every_series_and_parameter(fitted):
    fig = fitted.plot()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2 * len(SERIES)
    titles = [ax.get_title(loc="left") for ax in axes]
    for series in SERIES:
        assert any(t.startswith(series) for t in titles)
    top = axes[0]
    assert len(top.lines) >= 2 and len(top.collections) >= 1  # the fit, the data and the band
    fig = fitted.plot_profiles()
    panels = [ax for ax in fig.axes if ax.lines]
    assert len(panels) == len(fitted.names)
    fig.savefig(__import__("io").BytesIO(), format="png")


def test_to_scenario_writes_a_file_flywheel_runs(model, fitted, tmp_path):
    path = fitted.to_scenario(tmp_path / "fitted.toml")
    scenario = flywheel.load_scenario(path)
    for name in fitted.names:
        assert scenario.params[name] == fitted.estimates[name]
    for name, value in fitted.problem.spec.params.items():
        assert scenario.params.get(name, fitted.estimates.get(name)) == pytest.approx(value) or name in fitted.names
    run = flywheel.scenarios.run_scenario(scenario, model)
    assert np.allclose(run.loc[fitted.fitted.index, SERIES].to_numpy(), fitted.fitted.to_numpy())
    with pytest.raises(OutputError, match="already exists"):
        fitted.to_scenario(path)
    fitted.to_scenario(path, force=True, title="Refit")
    assert flywheel.load_scenario(path).title == "Refit"


def test_jacobian_is_one_ensemble_and_matches_single_runs(model, setting):
    spec, fit, clean = setting
    problem = setup_problem(model, noisy(clean, 1), fit, scenario=spec)
    x = truth_of(model, fit)
    runs, calls = problem.runs, problem.ensembles
    J = problem.jacobian(x)
    assert problem.ensembles == calls + 1 and problem.runs == runs + 2 * len(fit) + 1
    # The same derivative from single runs, one parameter at a time.
    for j, name in enumerate(fit):
        h = 1e-5 * (fit[name][1] - fit[name][0])
        values = []
        for sign in (+1, -1):
            frame = model.run({**spec.params, **dict(zip(fit, x, strict=True)), name: x[j] + sign * h}, return_columns=SERIES)
            values.append(frame.loc[problem.data.frame.index, list(problem.data.series)].to_numpy().T.ravel())
        expected = problem.point_weights * (values[0] - values[1]) / (2 * h)
        assert np.allclose(J[:, j], expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


def test_a_calibration_that_cannot_run_says_so_without_raising(tmp_path):
    from .model_text import equation, write_model

    body = (
        equation("Level", "INTEG(Rate, 1)", "Units")
        + equation("Rate", "Level / (Speed - Speed)", "Units/Month")  # always infinite
        + equation("Speed", "1", "1/Month [0.1, 10]")
    )
    model = flywheel.load_model(write_model(tmp_path, body, final=12))
    data = pd.DataFrame({"Level": [1.0, 2.0, 3.0, 4.0]}, index=[0.0, 3.0, 6.0, 9.0])
    c = flywheel.calibrate(model, data, {"Speed": (0.5, 5)}, starts=2)
    assert not c.converged
    assert "NO:" in c.report()
    assert not c.identifiable["Speed"] and math.isinf(c.stderr["Speed"])


# --------------------------------------------------------------------------------------------------
# Bad input: one clear line naming the item and what is allowed


@pytest.mark.parametrize(
    "change, parts",
    [
        (lambda d, f: (d.rename(columns={"Trust": "Trst"}), f), ["column \"Trst\"", "did you mean \"Trust\""]),
        (lambda d, f: (d.rename(columns={"Trust": "Market Shock Size"}), f), ["is a constant", "stocks, flows or auxiliaries"]),
        (lambda d, f: (d.set_axis(d.index + 600, axis=0), f), ["outside the run", "allowed: 0 to"]),
        (lambda d, f: (d.set_axis(d.index + 0.5, axis=0), f), ["not an output time"]),
        (lambda d, f: (_with_cell(d, 6.0, "Trust", "n/a?"), f), ["\"n/a?\" is not a number", "column \"Trust\" at time 6"]),
        (lambda d, f: (pd.concat([d, d.iloc[:1]]), f), ["appears twice"]),
        (lambda d, f: (d.iloc[:1], f), ["cannot determine"]),
        (lambda d, f: (d, {}), ["no parameters to fit"]),
        (lambda d, f: (d, {next(iter(f)): (5, 2)}), ["low (5) must be below high (2)"]),
        (lambda d, f: (d, {"Trust": (0, 1)}), ["is a stock", "only constants"]),
        (lambda d, f: (d, {"Trust Erosion Tim": (1, 2)}), ["did you mean"]),
        (lambda d, f: (d.assign(Trust=np.nan), f), ["has no observations"]),
    ],
    ids=["unknown-column", "constant-column", "outside-the-run", "off-the-grid", "non-numeric", "duplicate-time",
         "too-few-points", "empty-fit", "low-above-high", "not-a-constant", "misspelt-fit", "empty-column"],  # fmt: skip
)
def test_bad_input_is_one_clear_error(model, setting, change, parts):
    spec, fit, clean = setting
    data, fit = change(clean.copy(), dict(fit))
    with pytest.raises(ParameterError) as info:
        flywheel.calibrate(model, data, fit)
    message = str(info.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


def test_bad_weights_and_starts(model, setting):
    spec, fit, clean = setting
    with pytest.raises(ParameterError, match="not an observed series"):
        flywheel.calibrate(model, clean, fit, weights={"Sales": 1.0})
    with pytest.raises(ParameterError, match="positive, finite weight"):
        flywheel.calibrate(model, clean, fit, weights={"Trust": -1.0})
    with pytest.raises(ParameterError, match="starts must be"):
        flywheel.calibrate(model, clean, fit, starts=0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.floats(-5, 5)), min_size=3, max_size=3), min_size=4, max_size=12))
def test_observed_points_round_trip_into_the_data_frame(model, rows):
    """Whatever cells are missing, the flattened points map back onto exactly the observed cells."""
    from flywheel.analysis.fitting import observed_frame
    from flywheel.analysis.observations import check_observations

    frame = pd.DataFrame([[np.nan if v is None else v for v in r] for r in rows], columns=SERIES,
                         index=np.arange(len(rows)) * 3.0)  # fmt: skip
    if frame.isna().all().any():
        with pytest.raises(ParameterError, match="no observations"):
            check_observations(frame, model, model.spec())
        return
    observations = check_observations(frame, model, model.spec())
    assert observations.n_points == int(frame.notna().to_numpy().sum())
    problem = type("P", (), {"data": observations})()
    back = observed_frame(problem, observations.values)
    assert back.equals(frame.astype(float)) or np.allclose(back.fillna(1e300), frame.fillna(1e300))


def _with_cell(frame: pd.DataFrame, time: float, column: str, value: object) -> pd.DataFrame:
    frame = frame.astype(object)
    frame.loc[time, column] = value
    return frame


def _toml(name: str) -> str:
    import json

    return json.dumps(name)
