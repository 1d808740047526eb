"""Random functions: reproducible with a seed, independent streams for ensemble members that do not
depend on chunks or threads, and the right distributions (the suite's random/ expected statistics,
Kolmogorov-Smirnov against scipy's distributions)."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import flywheel
from flywheel.errors import ParameterError

from .model_text import TEST_MODELS, equation, write_model

stats = pytest.importorskip("scipy.stats")

NOISY = (
    "Region: North, South, East\n\t~\t~\t|\n\n"
    + equation("Demand[Region]", "100 + RANDOM NORMAL(-50, 50, 0, 10, 0)")
    + equation("Stock[Region]", "INTEG(Demand[Region] - Stock[Region] / 5, 500)")
    + equation("Noise", "RANDOM UNIFORM(0, 1, 0)")
    + equation("Pink", "RANDOM PINK NOISE(0, 1, 4, 0)")
    + equation("Gain", "2")
    + equation("Total", "SUM(Stock[Region!]) * Gain + Noise")
)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    path = write_model(tmp_path_factory.mktemp("noisy"), NOISY, name="noisy.mdl", final=50, dt=0.5)
    return flywheel.load_model(path)


def test_the_same_seed_gives_the_same_run(noisy) -> None:
    first = noisy.run(seed=11)
    assert first.equals(noisy.run(seed=11))
    assert not first.equals(noisy.run(seed=12))
    assert noisy.run().equals(noisy.run(seed=0))  # the default seed is 0, not the clock
    # each element and each call site draws its own numbers
    assert first["Demand[North]"].iloc[3] != first["Demand[South]"].iloc[3]
    with pytest.raises(ParameterError, match="seed must be a whole number"):
        noisy.run(seed=-1)
    with pytest.raises(ParameterError, match="draws random numbers"):
        noisy.run(method="RK45")


def test_members_draw_independent_streams_whatever_the_split(noisy) -> None:
    gains = np.linspace(1, 2, 41)
    whole = noisy.run_ensemble({"Gain": gains}, seed=3)
    split = noisy.run_ensemble({"Gain": gains}, seed=3, chunk_size=8, threads=2)
    slow = noisy.run_ensemble({"Gain": gains}, seed=3, lockstep=False, threads=1)
    for name in ("Total", "Stock", "Pink"):
        assert np.array_equal(whole[name].values, split[name].values)
        assert np.array_equal(whole[name].values, slow[name].values)
    noise = whole["Noise"].values
    assert len({float(v) for v in noise[:, 5]}) == len(gains)  # members differ
    # independent streams: no correlation between members, nor from one step to the next
    correlations = np.corrcoef(noise)[np.triu_indices(len(gains), 1)]
    assert np.abs(correlations).mean() < 0.15 and np.abs(correlations).max() < 0.5
    lags = [np.corrcoef(member[:-1], member[1:])[0, 1] for member in noise]
    assert abs(np.mean(lags)) < 0.05
    # a member computed alone (its label kept) draws what it drew in the ensemble
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"Gain": gains})
    alone = noisy.run_ensemble(table.iloc[[17]], seed=3)
    assert np.array_equal(alone["Total"].values[0], whole["Total"].values[17])
    # member 0 is the single run with the same seed
    single = noisy.run(params={"Gain": gains[0]}, seed=3)
    assert np.array_equal(single["Total"].to_numpy(), whole["Total"].values[0])


def test_a_stepped_run_draws_what_the_whole_run_draws(noisy) -> None:
    spec = noisy.spec(seed=5)
    whole = flywheel.simulate(spec).to_frame()
    stepper = noisy.stepper(spec).step_to(20)
    state = pickle.loads(pickle.dumps(stepper.state))
    continued = noisy.run(initial_state=state)
    assert np.array_equal(continued.to_numpy(), whole.loc[20:].to_numpy())


def test_pink_noise_keeps_its_mean_deviation_and_correlation(tmp_path) -> None:
    body = equation("Pink", "RANDOM PINK NOISE(5, 2, 4, 0)")
    model = flywheel.load_model(write_model(tmp_path, body, name="pink.mdl", final=40000, dt=0.5, saveper=0.5))
    series = model.run(seed=1)["Pink"].to_numpy()
    assert series.mean() == pytest.approx(5, abs=0.15)
    assert series.std() == pytest.approx(2, rel=0.05)
    lag = np.corrcoef(series[:-1], series[1:])[0, 1]
    assert lag == pytest.approx(1 - 0.5 / 4, abs=0.02)  # one step of the first-order filter


def _expected(name: str) -> tuple[list[str], dict[str, np.ndarray]]:
    path = TEST_MODELS / "random" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    lines = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    calls = [c.strip() for c in lines[0][1:]]
    return calls, {row[0]: np.array([float(v) for v in row[1:]]) for row in lines[1:]}


def _reference(call: str):
    """scipy's distribution for a call, with PySD's truncation rules."""
    name, args = re.match(r"(RANDOM [A-Z0-9 ]+?)\s*\((.*)\)", call).groups()
    values = [float(v) for v in args.split(",")] if args.strip() else []
    if name in ("RANDOM 0 1",):
        return stats.uniform(0, 1)
    if name == "RANDOM UNIFORM":
        low, high = values[:2]
        return stats.uniform(low, high - low)
    if name == "RANDOM NORMAL":
        low, high, mean, sd = values[:4]
        return stats.truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)
    if name == "RANDOM EXPONENTIAL":
        low, high, shift, stretch = values[:4]
        loc = max(low, shift)
        return stats.truncexpon((high - loc) / stretch, loc=loc, scale=stretch)
    raise AssertionError(call)


@pytest.mark.parametrize("table", ["random_uniform/uniform_expected.tab", "random_normal/normal_expected.tab",
                                   "random_exponential/exponential_expected.tab"])  # fmt: skip
def test_draws_follow_the_suites_expected_distributions(tmp_path, table) -> None:
    calls, expected = _expected(table)
    body = "".join(equation(f"V{i}", call) for i, call in enumerate(calls))
    model = flywheel.load_model(write_model(tmp_path, body, name="draws.mdl", final=20000, dt=1), cache=False)
    df = model.run(seed=2024)
    for i, call in enumerate(calls):
        sample = df[f"V{i}"].to_numpy()
        assert sample.min() >= expected["min"][i] and sample.max() <= expected["max"][i], call
        sd = np.sqrt(expected["variance"][i])
        assert abs(sample.mean() - expected["mean"][i]) < 5 * sd / np.sqrt(len(sample)), call
        assert sample.var() == pytest.approx(expected["variance"][i], rel=0.05), call
        assert stats.skew(sample) == pytest.approx(expected["skewness"][i], abs=0.25), call
        result = stats.kstest(sample, _reference(call).cdf)
        assert result.pvalue > 1e-3, (call, result)


def test_poisson_and_triangular_draws(tmp_path) -> None:
    body = (equation("Arrivals", "RANDOM POISSON(0, 1000, 3.5, 10, 2, 0)")
            + equation("Big", "RANDOM POISSON(0, 1e9, 900, 0, 1, 0)")
            + equation("Capped", "RANDOM POISSON(2, 5, 3, 0, 1, 0)")
            + equation("Tri", "RANDOM TRIANGULAR(0, 100, 10, 20, 60, 0)"))  # fmt: skip
    model = flywheel.load_model(write_model(tmp_path, body, name="counts.mdl", final=20000, dt=1), cache=False)
    df = model.run(seed=9)
    counts = (df["Arrivals"].to_numpy() - 10) / 2  # shift 10, stretch 2
    assert np.all(counts == np.round(counts)) and counts.mean() == pytest.approx(3.5, abs=0.05)
    observed = np.bincount(counts.astype(int), minlength=15)[:15]
    expected = stats.poisson(3.5).pmf(np.arange(15)) * len(counts)
    keep = expected > 5
    assert stats.chisquare(observed[keep], expected[keep] * observed[keep].sum() / expected[keep].sum()).pvalue > 1e-3
    assert df["Big"].mean() == pytest.approx(900, abs=1) and df["Big"].var() == pytest.approx(900, rel=0.05)
    capped = df["Capped"].to_numpy()
    assert capped.min() == 2 and capped.max() == 5
    pmf = stats.poisson(3).pmf(np.arange(2, 6))
    shares = np.array([(capped == k).mean() for k in range(2, 6)])
    assert np.allclose(shares, pmf / pmf.sum(), atol=0.015)
    triangle = stats.triang((20 - 10) / 50, loc=10, scale=50)
    assert stats.kstest(df["Tri"].to_numpy(), triangle.cdf).pvalue > 1e-3
