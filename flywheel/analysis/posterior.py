"""``flywheel.posterior``: Bayesian calibration with emcee, every step's walkers run as ONE ensemble.

The likelihood is Gaussian per observed series. By default each series' noise level is unknown and
integrated out analytically under Jeffreys' prior (p(sigma) ~ 1/sigma), which leaves
``-n_s/2 * log(sum of squared residuals of series s)``: no nuisance dimensions for the sampler, and series
in different units weigh by how well the model can follow them. With ``noise={series: sigma}`` the noise
levels are known instead. Priors come from the fit's ranges: uniform over ``(low, high)`` for a plain
dict, or the distributions of a ranges file (normal, lognormal, triangular, truncated to their bounds).

The walkers start around the least-squares estimate (its normal approximation, clipped to the prior's
support; uniform over the bounds for parameters the data do not identify), so little of the chain is
spent finding the posterior. emcee's ``vectorize=True`` hands all walkers of a step to the likelihood
at once, and they run as one ensemble of the compiled model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .calibration import Calibration, calibrate_problem
from .fitting import FitProblem, setup_problem

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

#: The credible level of ``summary``'s ``low`` and ``high``.
CREDIBLE = 0.90
#: A chain is called converged when every split R-hat is below ``RHAT_LIMIT``, every effective sample
#: size is at least ``MIN_ESS`` (Vehtari et al. 2021) and the kept chain is at least ``MIN_TAU_MULTIPLE``
#: autocorrelation times long (shorter, and emcee's estimate of tau itself is unreliable).
RHAT_LIMIT = 1.05
MIN_ESS = 400
MIN_TAU_MULTIPLE = 10
PREDICTIVE_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, eq=False)
class Posterior:
    """The result of ``flywheel.posterior``; every field always exists.

    Attributes:
        draws: an ``xarray.Dataset`` of the kept draws: one variable per parameter plus ``log_prob``,
            dimensions ``chain`` (one per walker) and ``draw`` (ArviZ's layout).
        summary: per parameter: ``median``, ``low`` and ``high`` (the 90% credible interval), ``mean``,
            ``sd``, ``r_hat`` (split R-hat over groups of walkers, see ``split_r_hat``), ``tau`` (integrated autocorrelation time, in
            steps) and ``ess`` (effective sample size).
        acceptance: the mean acceptance fraction of the walkers (0.2 to 0.5 is healthy).
        converged: every R-hat below 1.05, every ESS at least 400, and the kept chain at least 10
            autocorrelation times long.
        walkers, steps, burn, thin: the sampler's settings (``burn`` steps discarded).
        noise: the noise model: ``"marginalised"`` or the given ``{series: sigma}``.
        n_evaluations: model runs used by the sampler.
        calibration: the least-squares fit the walkers started from.
        problem: the checked problem (model, base run, observations) the sampler ran on.
    """

    draws: xr.Dataset
    summary: pd.DataFrame
    acceptance: float
    converged: bool
    walkers: int
    steps: int
    burn: int
    thin: int
    noise: Any
    n_evaluations: int
    calibration: Calibration
    problem: FitProblem = field(repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.summary.index)

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        return (f"<Posterior of {len(self.names)} parameters: {self.walkers} walkers x {self.steps} steps, {state}, "
                f"acceptance {self.acceptance:.2f}>")  # fmt: skip

    def samples(self) -> np.ndarray:
        """The kept draws as one array (draws x parameters), walkers pooled."""
        return np.stack([self.draws[n].to_numpy().ravel() for n in self.names], axis=1)

    def report(self) -> str:
        """A readable summary: settings, convergence and the credible intervals."""
        lines = [
            f"[[Posterior]] {self.problem.model.name} to {self.problem.data.source}",
            f"    sampler:     emcee, {self.walkers} walkers x {self.steps} steps (first {self.burn} discarded"
            + (f", every {self.thin}th kept)" if self.thin > 1 else ")"),
            f"    noise:       {'unknown per series, marginalised (Jeffreys prior)' if isinstance(self.noise, str) else self.noise}",
            f"    acceptance:  {self.acceptance:.3f}",
            f"    converged:   {'yes' if self.converged else 'NO: run more steps (see r_hat and tau)'}",
            f"    model runs:  {self.n_evaluations:,}",
            f"[[Credible intervals]]  ({int(CREDIBLE * 100)}%: low, high)",
        ]
        width = max(len(n) for n in self.names)
        for name, row in self.summary.iterrows():
            lines.append(
                f"    {name:<{width}}  median {row['median']:.5g}  [{row['low']:.5g}, {row['high']:.5g}]"
                f"  r_hat {row['r_hat']:.3f}  tau {row['tau']:.1f}  ess {row['ess']:.0f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()

    def plot(self, truth: Mapping[str, float] | None = None, max_points: int = 4000) -> Figure:
        """A corner plot: each parameter's marginal (with median and 90% interval) on the diagonal, the
        pairs below, their correlations above; ``truth`` marks known values."""
        from .posterior_plots import corner_figure

        return corner_figure(self, CREDIBLE, truth=truth, max_points=max_points)

    def predictive(
        self, variables: Sequence[str] | str | None = None, *, n: int = 500, seed: int = 0,
        quantiles: Sequence[float] = PREDICTIVE_QUANTILES, observation_noise: bool = False,
    ) -> xr.Dataset:  # fmt: skip
        """Posterior predictive bands: ``n`` draws run as one ensemble; the quantiles of each variable
        at every output time (dimensions ``quantile`` and ``time``). With ``observation_noise``, the
        observed series include the measurement noise (drawn per draw from its conditional posterior)."""
        import xarray as xr

        problem = self.problem
        if variables is None:
            variables = list(problem.data.series)
        elif isinstance(variables, str):
            variables = [variables]
        names = [problem.model.resolve_name(v) for v in variables]
        samples = self.samples()
        rng = np.random.default_rng(seed)
        chosen = samples[rng.choice(len(samples), size=min(n, len(samples)), replace=False)]
        columns = list(dict.fromkeys([*names, *problem.data.series]))
        result = problem.run(chosen, columns=columns)
        values = {name: result.values[columns.index(name)] for name in names}  # (draw, time)
        if observation_noise:
            sigma = self._noise_draws(result, columns, rng)
            for s, series in enumerate(problem.data.series):
                if series in values:
                    values[series] = values[series] + rng.normal(size=values[series].shape) * sigma[:, s : s + 1]
        q = np.asarray(quantiles, dtype=float)
        data = {name: (("quantile", "time"), np.nanquantile(v, q, axis=0)) for name, v in values.items()}
        return xr.Dataset(data, coords={"quantile": q, "time": result.times},
                          attrs={"draws": len(chosen), "observation_noise": int(observation_noise)})  # fmt: skip

    def _noise_draws(self, result: Any, columns: list[str], rng: np.random.Generator) -> np.ndarray:
        problem = self.problem
        rows = [columns.index(s) for s in problem.data.series]
        picked = problem.data.pick(result.values[rows])  # (draw, point)
        raw = picked - problem.data.values
        if isinstance(self.noise, Mapping):
            return np.tile([self.noise[s] for s in problem.data.series], (len(raw), 1))
        sums = problem.series_sums(raw)
        counts = problem.data.counts()
        return np.sqrt(sums / rng.chisquare(counts, size=sums.shape))

    def plot_predictive(self, variables: Sequence[str] | None = None, *, n: int = 500, seed: int = 0) -> Figure:
        """Posterior predictive bands of each variable (default: the observed series): the model's 90%
        band over the draws and, for observed series, the 90% band including measurement noise."""
        from .posterior_plots import predictive_figure

        model_bands = self.predictive(variables, n=n, seed=seed)
        noisy_bands = self.predictive(variables, n=n, seed=seed, observation_noise=True)
        return predictive_figure(self, model_bands, noisy_bands)


def posterior(
    model: Any,
    data: Any,
    fit: Any,
    *,
    scenario: Any = None,
    weights: Any = None,
    noise: Mapping[str, float] | None = None,
    walkers: int = 64,
    steps: int = 2000,
    burn: int | None = None,
    thin: int = 1,
    seed: int = 0,
    start: Calibration | None = None,
    moves: Any = None,
    progress: bool = False,
) -> Posterior:
    """Sample the posterior of the constants in ``fit`` given ``data`` with emcee; see ``Posterior``.

    ``model``, ``data``, ``fit``, ``scenario`` and ``weights`` are as for ``flywheel.calibrate`` (a ranges
    file's distributions are the priors). ``noise``: known noise levels ``{series: sigma}`` (default:
    unknown, marginalised). ``burn`` steps are discarded (default: half of ``steps``); ``thin`` keeps
    every n-th step. ``start``: a calibration to start the walkers from (default: a new one with 4
    starts). ``moves``: emcee's proposal moves, passed through (default: its stretch move), e.g.
    ``[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]``. The same seed gives the same
    draws. A posterior along a thin curved ridge (two constants that only enter as a product) mixes
    badly with either; the result then says it has not converged."""
    for label, value, least in (("walkers", walkers, 2), ("steps", steps, 2), ("thin", thin, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ParameterError(f"{label} must be a whole number of at least {least}, got {value!r}")
    burn = steps // 2 if burn is None else burn
    if isinstance(burn, bool) or not isinstance(burn, (int, np.integer)) or not 0 <= burn < steps:
        raise ParameterError(f"burn must be a whole number from 0 to steps - 1 ({steps - 1}), got {burn!r}")
    problem = setup_problem(model, data, fit, scenario=scenario, weights=weights)
    if walkers < 2 * problem.n_params:
        raise ParameterError(f"walkers = {walkers}: emcee needs at least twice as many walkers as parameters ({2 * problem.n_params})")
    sigma = _known_noise(noise, problem)
    if start is None:
        start = calibrate_problem(problem, starts=4, seed=seed)
    elif list(start.estimates.index) != problem.names:
        raise ParameterError(f"start: a calibration of {', '.join(start.names)}, not of {', '.join(problem.names)}")
    return _sample(problem, start, sigma, _Settings(int(walkers), int(steps), int(burn), int(thin), seed, moves, progress))


def _known_noise(noise: Mapping[str, float] | None, problem: FitProblem) -> np.ndarray | None:
    if noise is None:
        return None
    if not isinstance(noise, Mapping):
        raise ParameterError("noise must be a dict {series: standard deviation} or None (estimated)")
    series = problem.data.series
    loose = {"".join(s.split()).casefold(): i for i, s in enumerate(series)}
    sigma = np.full(len(series), np.nan)
    for key, value in noise.items():
        index = loose.get("".join(str(key).split()).casefold())
        if index is None:
            raise ParameterError(f"noise: {str(key)!r} is not an observed series (allowed: {', '.join(series)})")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0 or not np.isfinite(value):
            raise ParameterError(f"noise: {series[index]!r} = {value!r}: a noise level must be a positive number")
        sigma[index] = float(value)
    missing = [series[i] for i in np.flatnonzero(np.isnan(sigma))]
    if missing:
        raise ParameterError(f"noise: no level given for {', '.join(repr(m) for m in missing)} (give every observed series)")
    return sigma


class _LogProbability:
    """The log posterior of many parameter sets at once (emcee's ``vectorize=True``)."""

    def __init__(self, problem: FitProblem, sigma: np.ndarray | None):
        self.problem = problem
        self.sigma = sigma
        self.priors = [_prior(d) for d in problem.ranges.values()]
        self.support_low = np.array([d.low for d in problem.ranges.values()])
        self.support_high = np.array([d.high for d in problem.ranges.values()])
        self.counts = problem.data.counts()

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(X)
        out = np.full(len(X), -np.inf)
        inside = np.all((self.support_low <= X) & (self.support_high >= X), axis=1)
        if not inside.any():
            return out
        Xin = X[inside]
        prior = np.sum([p(Xin[:, j]) for j, p in enumerate(self.priors)], axis=0)
        residuals = self.problem.residuals(Xin)  # weighted; NaN where a run blew up
        if self.sigma is None:
            sums = self.problem.series_sums(residuals)
            with np.errstate(divide="ignore"):
                likelihood = -0.5 * np.sum(self.counts * np.log(sums), axis=1)
        else:
            raw = residuals / self.problem.point_weights
            scaled = raw / self.sigma[self.problem.data.series_of]
            likelihood = -0.5 * np.sum(np.nan_to_num(scaled**2, nan=np.inf), axis=1)
        value = prior + likelihood
        out[inside] = np.where(np.isfinite(value), value, -np.inf)
        return out


def _prior(d: Any):
    """The log density (up to a constant) of one range's distribution, on its support."""
    from scipy import stats

    if d.kind == "uniform":
        return lambda x: np.zeros_like(x)
    if d.kind == "normal":
        return lambda x: -0.5 * ((x - d.mean) / d.sd) ** 2
    if d.kind == "lognormal":
        return lambda x: stats.lognorm.logpdf(x, d.sigma, scale=d.median)
    scale = d.high - d.low
    return lambda x: stats.triang.logpdf(x, (d.mode - d.low) / scale, loc=d.low, scale=scale)


def _initial_walkers(problem: FitProblem, start: Calibration, walkers: int, rng: np.random.Generator,
                     log_prob: _LogProbability) -> np.ndarray:  # fmt: skip
    """Around the least-squares estimate: its normal approximation where identified, uniform over the
    bounds where not; redrawn until every walker has a finite log probability."""
    p = problem.n_params
    low, high = problem.low, problem.high
    low = np.maximum(low, log_prob.support_low)
    high = np.minimum(high, log_prob.support_high)
    estimate = start.estimates.to_numpy()
    stderr = start.stderr.to_numpy()
    identified = start.identifiable.to_numpy() & np.isfinite(stderr)
    spread = np.where(identified, np.minimum(stderr, (high - low) / 4), 0.0)
    X = np.empty((walkers, p))
    todo = np.arange(walkers)
    for _ in range(100):
        draw = estimate + rng.normal(size=(len(todo), p)) * spread
        uniform = low + rng.random((len(todo), p)) * (high - low)
        draw = np.where(identified, draw, uniform)
        draw = np.clip(draw, low, high)
        X[todo] = draw
        finite = np.isfinite(log_prob(draw))
        todo = todo[~finite]
        if len(todo) == 0:
            return X
    raise ParameterError("posterior: no starting point with a finite likelihood (the model blows up everywhere tried)")


@dataclass(frozen=True)
class _Settings:
    walkers: int
    steps: int
    burn: int
    thin: int
    seed: int
    moves: Any
    progress: bool


def _sample(problem: FitProblem, start: Calibration, sigma: np.ndarray | None, settings: _Settings) -> Posterior:
    import emcee
    import pandas as pd
    import xarray as xr

    walkers, steps, burn, thin, seed = settings.walkers, settings.steps, settings.burn, settings.thin, settings.seed

    log_prob = _LogProbability(problem, sigma)
    rng = np.random.default_rng(seed)
    initial = _initial_walkers(problem, start, walkers, rng, log_prob)
    runs_before = problem.runs
    sampler = emcee.EnsembleSampler(walkers, problem.n_params, log_prob, vectorize=True, moves=settings.moves)
    state = emcee.State(initial, random_state=np.random.RandomState(seed).get_state())
    sampler.run_mcmc(state, steps, progress=settings.progress, progress_kwargs={"desc": "sampling", "leave": False})
    chain = sampler.get_chain(discard=burn, thin=thin)  # (draw, walker, parameter)
    log_probs = sampler.get_log_prob(discard=burn, thin=thin)
    names = problem.names
    data = {name: (("chain", "draw"), chain[:, :, j].T.copy()) for j, name in enumerate(names)}
    data["log_prob"] = (("chain", "draw"), log_probs.T.copy())
    draws = xr.Dataset(data, coords={"chain": np.arange(walkers), "draw": burn + thin * np.arange(chain.shape[0])},
                       attrs={"model": problem.model.name, "walkers": walkers, "steps": steps, "burn": burn,
                              "thin": thin, "seed": seed})  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):  # a walker that never moved has no autocorrelation
        tau = emcee.autocorr.integrated_time(chain, tol=0) * thin
    tau = np.where(np.isfinite(tau), tau, np.inf)
    pooled = chain.reshape(-1, len(names))
    alpha = (1 - CREDIBLE) / 2
    r_hat = np.array([split_r_hat(chain[:, :, j]) for j in range(len(names))])
    kept_steps = chain.shape[0] * thin
    summary = pd.DataFrame(
        {
            "median": np.median(pooled, axis=0),
            "low": np.quantile(pooled, alpha, axis=0),
            "high": np.quantile(pooled, 1 - alpha, axis=0),
            "mean": pooled.mean(axis=0),
            "sd": pooled.std(axis=0, ddof=1),
            "r_hat": r_hat,
            "tau": tau,
            "ess": walkers * kept_steps / tau,
        },
        index=pd.Index(names, name="parameter"),
    )
    converged = bool(
        np.all(r_hat < RHAT_LIMIT) and np.all(summary["ess"] >= MIN_ESS) and kept_steps >= MIN_TAU_MULTIPLE * np.max(tau)
    )
    return Posterior(
        draws=draws,
        summary=summary,
        acceptance=float(np.mean(sampler.acceptance_fraction)),
        converged=converged,
        walkers=walkers,
        steps=steps,
        burn=burn,
        thin=thin,
        noise="marginalised" if sigma is None else dict(zip(problem.data.series, sigma.tolist(), strict=True)),
        n_evaluations=problem.runs - runs_before,
        calibration=start,
        problem=problem,
    )


def split_r_hat(chains: np.ndarray, groups: int = 4) -> float:
    """Gelman-Rubin's split R-hat for an ensemble sampler: the walkers (draw, walker) are pooled into
    ``groups`` groups and each group's draws cut into a first and a second half, giving 2 * groups
    sequences. emcee's walkers are not independent chains (each moves using the others), and one
    walker's short chain holds few independent draws, so R-hat over single walkers reads high even for
    a sampler that has converged; over groups it still catches what R-hat is for: halves that disagree
    (no stationarity) and groups of walkers in different places (no mixing)."""
    n = chains.shape[0] // 2
    walkers = chains.shape[1]
    groups = max(1, min(groups, walkers))
    if n < 2:
        return float("nan")
    members = np.array_split(np.arange(walkers), groups)
    sequences = [chains[part][:, m].ravel() for part in (slice(0, n), slice(-n, None)) for m in members]
    means = np.array([q.mean() for q in sequences])
    variances = np.array([q.var(ddof=1) for q in sequences])
    length = min(len(q) for q in sequences)
    within = variances.mean()
    between = length * means.var(ddof=1)
    if within <= 0:
        return float("nan") if between > 0 else 1.0
    pooled = (length - 1) / length * within + between / length
    return float(np.sqrt(pooled / within))
