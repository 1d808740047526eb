"""flywheel.posterior: emcee on the flywheel model with known truth; credible intervals against the
truth over noise seeds and against the least-squares intervals; draws, summary, predictive bands,
priors, known noise, reproducibility, and the walkers run as ensembles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import flywheel
from flywheel.errors import ParameterError

from .calibration_data import clean_series, flywheel_fit, noisy, shock_base, truth_of

WALKERS, STEPS = 32, 600  # enough for 3 parameters started at the least-squares estimate (tau ~ 15 steps)


@pytest.fixture(scope="module")
def setting(model):
    base = shock_base(model)
    return model.spec(base), flywheel_fit(model), clean_series(model, base)


@pytest.fixture(scope="module")
def sampled(model, setting):
    spec, fit, clean = setting
    return flywheel.posterior(model, noisy(clean, seed=1), fit, scenario=spec, walkers=WALKERS, steps=STEPS, seed=1)


def test_draws_summary_and_truth(model, setting, sampled):
    spec, fit, clean = setting
    post = sampled
    names = list(fit)
    assert post.names == names
    assert dict(post.draws.sizes) == {"chain": WALKERS, "draw": STEPS // 2}
    assert set(post.draws.data_vars) == {*names, "log_prob"}
    assert np.all(np.isfinite(post.draws["log_prob"]))
    assert list(post.summary.columns) == ["median", "low", "high", "mean", "sd", "r_hat", "tau", "ess"]
    truth = truth_of(model, fit)
    assert np.all((post.summary["low"] <= truth) & (truth <= post.summary["high"])), (post.summary, truth)
    assert np.all(post.summary["low"] < post.summary["median"]) and np.all(post.summary["median"] < post.summary["high"])
    assert 0.2 < post.acceptance < 0.8
    assert np.all(post.summary["r_hat"] < 1.05) and np.all(post.summary["tau"] < STEPS / 20)
    assert post.converged
    assert post.n_evaluations >= WALKERS * STEPS
    text = post.report()
    assert "[[Posterior]]" in text and all(n in text for n in names)


def test_credible_intervals_match_the_least_squares_ones(setting, sampled):
    """With flat priors and this much data the posterior is nearly normal (Bernstein-von Mises): its 90%
    interval is the Jacobian's 90% interval, to within sampling error."""
    calibration = sampled.calibration
    t = stats.t.ppf(0.95, calibration.dof)
    for name in sampled.names:
        low = calibration.estimates[name] - t * calibration.stderr[name]
        high = calibration.estimates[name] + t * calibration.stderr[name]
        width = high - low
        row = sampled.summary.loc[name]
        assert abs(row["low"] - low) < 0.2 * width and abs(row["high"] - high) < 0.2 * width, (name, row, low, high)
        assert row["median"] == pytest.approx(calibration.estimates[name], abs=0.1 * width)


def test_every_half_step_of_the_walkers_is_one_ensemble(model, setting):
    """emcee's stretch move updates the walkers in two halves; each half runs as ONE ensemble."""
    spec, fit, clean = setting
    start = flywheel.calibrate(model, noisy(clean, 2), fit, scenario=spec, starts=2)
    post = flywheel.posterior(model, noisy(clean, 2), fit, scenario=spec, walkers=16, steps=40, start=start, seed=3)
    problem = post.problem
    assert post.n_evaluations == 16 * 40 + 16  # the steps, and emcee's look at the initial walkers
    # 40 steps x 2 halves, plus the initial walkers (checked once by us, once by emcee).
    assert problem.ensembles == 2 * 40 + 2
    assert problem.runs == 16 * 40 + 2 * 16


def test_same_seed_same_draws(model, setting):
    spec, fit, clean = setting
    data = noisy(clean, 5)
    start = flywheel.calibrate(model, data, fit, scenario=spec, starts=2)
    one = flywheel.posterior(model, data, fit, scenario=spec, walkers=8, steps=30, seed=4, start=start)
    two = flywheel.posterior(model, data, fit, scenario=spec, walkers=8, steps=30, seed=4, start=start)
    other = flywheel.posterior(model, data, fit, scenario=spec, walkers=8, steps=30, seed=5, start=start)
    assert one.draws.equals(two.draws)
    assert not one.draws.equals(other.draws)


def test_predictive_bands(sampled):
    bands = sampled.predictive(["Trust", "Sales"], n=200)
    assert set(bands.data_vars) == {"Trust", "Sales"}
    assert list(bands["quantile"].to_numpy()) == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert bands.sizes["time"] == len(sampled.problem.data.output_times)
    assert np.all(np.diff(bands["Sales"].to_numpy(), axis=0) >= -1e-12)  # quantiles in order
    noisy_bands = sampled.predictive(["Trust", "Sales"], n=200, observation_noise=True)
    width = (bands["Trust"].sel(quantile=0.95) - bands["Trust"].sel(quantile=0.05)).mean()
    noisy_width = (noisy_bands["Trust"].sel(quantile=0.95) - noisy_bands["Trust"].sel(quantile=0.05)).mean()
    assert noisy_width > 2 * width  # measurement noise dominates parameter uncertainty here
    # Unobserved variables get no noise.
    assert np.allclose(noisy_bands["Sales"], bands["Sales"])
    # About 90% of the observations fall inside the 90% predictive band.
    observed = sampled.problem.data.frame["Trust"]
    band = noisy_bands["Trust"].sel(time=observed.index.to_numpy())
    inside = (band.sel(quantile=0.05).to_numpy() <= observed.to_numpy()) & (observed.to_numpy() <= band.sel(quantile=0.95).to_numpy())
    assert 0.75 <= inside.mean() <= 1.0


def test_figures(model, setting, sampled):
    spec, fit, clean = setting
    fig = sampled.plot(truth=dict(zip(fit, truth_of(model, fit), strict=True)))
    p = len(fit)
    assert len(fig.axes) == p * p
    diagonal = [fig.axes[i * p + i] for i in range(p)]
    assert all(ax.get_title(loc="left").startswith(name[:10]) for ax, name in zip(diagonal, fit, strict=True))
    fig = sampled.plot_predictive(["Trust", "Sales"])
    assert len([ax for ax in fig.axes if ax.lines]) == 2
    fig.savefig(__import__("io").BytesIO(), format="png")


def test_a_narrow_prior_pulls_the_posterior(model, setting):
    spec, fit, clean = setting
    name = next(iter(fit))
    low, high = fit[name]
    truth = model.variables[name].default
    prior_mean = truth * 1.05
    ranges = {n: {"low": lo, "high": hi} for n, (lo, hi) in fit.items()}
    ranges[name] = {"distribution": "normal", "mean": prior_mean, "sd": 1e-3 * truth, "low": low, "high": high}
    data = noisy(clean, 1)
    post = flywheel.posterior(model, data, ranges, scenario=spec, walkers=WALKERS, steps=300, seed=2)
    assert post.summary.loc[name, "median"] == pytest.approx(prior_mean, rel=2e-3)


def test_known_noise_gives_the_same_intervals_as_marginalised_noise(model, setting, sampled):
    spec, fit, clean = setting
    sigma = dict(0.02 * clean.abs().mean())
    known = flywheel.posterior(model, noisy(clean, seed=1), fit, scenario=spec, walkers=WALKERS, steps=400, seed=1,
                               noise=sigma, start=sampled.calibration)  # fmt: skip
    width = sampled.summary["high"] - sampled.summary["low"]
    assert np.all(np.abs(known.summary["median"] - sampled.summary["median"]) < 0.2 * width)
    assert np.all(np.abs((known.summary["high"] - known.summary["low"]) / width - 1) < 0.3)
    assert known.noise == pytest.approx(sigma)


def test_bad_sampler_settings(model, setting):
    spec, fit, clean = setting
    with pytest.raises(ParameterError, match="at least twice as many walkers"):
        flywheel.posterior(model, clean, fit, walkers=4)
    with pytest.raises(ParameterError, match="burn must be"):
        flywheel.posterior(model, clean, fit, steps=10, burn=10)
    with pytest.raises(ParameterError, match="no level given"):
        flywheel.posterior(model, clean, fit, noise={"Trust": 0.01})
    with pytest.raises(ParameterError, match="not an observed series"):
        flywheel.posterior(model, clean, fit, noise={"Sales": 0.01})


def _coverage(model, setting, seeds, walkers, steps):
    spec, fit, clean = setting
    truth = truth_of(model, fit)
    hits = np.zeros(len(fit))
    for seed in seeds:
        post = flywheel.posterior(model, noisy(clean, seed), fit, scenario=spec, walkers=walkers, steps=steps, seed=seed)
        assert post.calibration.identifiable.all()
        hits += (post.summary["low"].to_numpy() <= truth) & (truth <= post.summary["high"].to_numpy())
    return hits / len(seeds)


def test_the_90_percent_credible_intervals_cover_the_truth_quick(model, setting):
    """Quick variant (4 seeds, short chains): nearly all intervals contain the truth."""
    coverage = _coverage(model, setting, range(20, 24), 24, 240)
    assert coverage.mean() >= 0.8, coverage


@pytest.mark.slow
def test_the_90_percent_credible_intervals_cover_the_truth_over_40_seeds(model, setting):
    """The issue's check for posteriors (90% intervals over at least 20 noise seeds), here over 40: at
    least 80% per parameter (for a correct sampler binomial P(X < 32 | 40, 0.9) = 0.015) and at least 90%
    over all parameters together.

    Why 40 seeds, not 20: the overall bar holds reliably only because these intervals are slightly
    conservative. Measured on the second model (32 walkers x 600 steps): seeds 0-59 cover 54, 56 and 58 of
    60 (93.3% together; the least-squares 90% intervals on the same seeds 52, 57, 57). Seeds 0-19 alone
    give 17, 18 and 18 of 20, identical to the least-squares intervals, i.e. 88.3% together: an ordinary
    draw (at a true 93.3% a 20-seed run falls below 90% with probability 0.11; at exactly 90%, 0.39).
    Over 40 seeds the chance is 0.059 and the measured result is 37, 38 and 38 of 40 (94.2%)."""
    coverage = _coverage(model, setting, range(40), WALKERS, STEPS)
    assert np.all(coverage >= 0.8), coverage
    assert coverage.mean() >= 0.9, coverage


def test_split_r_hat_sees_stuck_groups_and_drift_but_not_correlated_walkers():
    from flywheel.analysis.posterior import split_r_hat

    rng = np.random.default_rng(0)
    draws, walkers = 400, 32
    # Converged but strongly autocorrelated walkers (AR(1), tau ~ 40): R-hat stays near 1.
    chains = np.empty((draws, walkers))
    chains[0] = rng.normal(size=walkers)
    for t in range(1, draws):
        chains[t] = 0.95 * chains[t - 1] + np.sqrt(1 - 0.95**2) * rng.normal(size=walkers)
    assert split_r_hat(chains) < 1.05
    stuck = chains + np.where(np.arange(walkers) < walkers // 4, 2.0, 0.0)  # a quarter of the walkers elsewhere
    assert split_r_hat(stuck) > 1.1
    drifting = chains + np.linspace(0, 3, draws)[:, None]
    assert split_r_hat(drifting) > 1.1
