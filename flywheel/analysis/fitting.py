"""The fitting problem shared by least squares, profiles and posteriors: parameters, data, residuals.

A ``FitProblem`` ties together a model, the run every evaluation starts from (the model's defaults or a
scenario's levers and settings), the parameters being fitted with their bounds (a ``Ranges``), and the
checked observations. Its one expensive operation, ``predict``, runs MANY parameter sets as ONE ensemble
(``flywheel.simulate(spec, members=...)``), so finite-difference Jacobians, profile points and MCMC
walkers each cost one call into the compiled engine, never a Python loop of single runs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .observations import Observations, check_observations
from .ranges import Ranges, load_ranges

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model, RunSpec
    from ..scenarios import Scenario

#: The relative step of the finite-difference Jacobian, in units of each parameter's bound width.
JACOBIAN_STEP = 1e-5


@dataclass
class FitProblem:
    """Everything a fit needs; ``predict`` and ``jacobian`` are the only places that run the model."""

    model: Model
    spec: RunSpec
    ranges: Ranges
    data: Observations
    point_weights: np.ndarray  # one weight per observed point (multiplies the residual)
    weights_given: bool  # False: weights are estimated from the residuals (see calibration)
    scenario: Scenario | None = None
    runs: int = 0  # model runs so far (ensemble members)
    ensembles: int = 0  # calls into the engine so far
    diverged: int = 0  # runs that blew up (their residuals are not finite)

    @property
    def names(self) -> list[str]:
        return self.ranges.names

    @property
    def n_params(self) -> int:
        return len(self.ranges)

    @property
    def low(self) -> np.ndarray:
        return np.array([d.bounds[0] for d in self.ranges.values()])

    @property
    def high(self) -> np.ndarray:
        return np.array([d.bounds[1] for d in self.ranges.values()])

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.low) / (self.high - self.low)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    # ------------------------------------------------------------------ running the model
    def run(self, X: np.ndarray, columns: list[str] | None = None, fixed: Mapping[str, float] | None = None):
        """One ensemble: a member per row of ``X`` (parameter values, in the order of ``names``); returns
        the core's ``Result`` with ``columns`` (default: the observed series) at every output time."""
        from ..core import simulate

        X = np.atleast_2d(np.asarray(X, dtype=float))
        members = {name: np.ascontiguousarray(X[:, j]) for j, name in enumerate(self.names)}
        for name, value in (fixed or {}).items():
            members[name] = np.full(len(X), float(value))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # blown-up members are counted (diverged), not warned about
            result = simulate(self.spec, members=members, columns=list(columns or self.data.series))
        self.runs += len(X)
        self.ensembles += 1
        self.diverged += int(result.diverged.sum())
        return result

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The model at the observed points for each row of ``X``: (rows, points); NaN where a run blew up."""
        values = self.data.pick(self.run(X).values)
        values[~np.isfinite(values)] = np.nan
        return values

    def residuals(self, X: np.ndarray) -> np.ndarray:
        """Weighted residuals ``w * (model - observed)`` for each row of ``X``: (rows, points)."""
        return self.point_weights * (self.predict(X) - self.data.values)

    def jacobian(self, x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """d residuals / d parameters at ``x`` (points x parameters), by central differences (one-sided
        at a bound), with every perturbed parameter set run as ONE ensemble."""
        return self.jacobian_unit(self.to_unit(x), weights) / (self.high - self.low)

    def jacobian_unit(self, u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The same in unit coordinates (each parameter's bounds mapped to [0, 1])."""
        u = np.asarray(u, dtype=float)
        p, h = len(u), JACOBIAN_STEP
        rows = [u]
        plan = []  # (index of the upper point, index of the lower point, distance) per parameter
        for j in range(p):
            up, down = u.copy(), u.copy()
            up[j] = min(u[j] + h, 1.0)
            down[j] = max(u[j] - h, 0.0)
            if up[j] - u[j] < h / 2:  # at the upper bound: backward difference
                up = u
            if u[j] - down[j] < h / 2:  # at the lower bound: forward difference
                down = u
            i_up = 0 if up is u else len(rows)
            if up is not u:
                rows.append(up)
            i_down = 0 if down is u else len(rows)
            if down is not u:
                rows.append(down)
            plan.append((i_up, i_down, (up[j] - down[j])))
        w = self.point_weights if weights is None else weights
        predictions = self.predict(self.from_unit(np.array(rows)))
        J = np.empty((self.data.n_points, p))
        for j, (i_up, i_down, distance) in enumerate(plan):
            column = w * (predictions[i_up] - predictions[i_down]) / distance
            if not np.all(np.isfinite(column)):  # a blown-up neighbour: fall back to the finite side
                forward = w * (predictions[i_up] - predictions[0]) / max(distance / 2, 1e-300)
                backward = w * (predictions[0] - predictions[i_down]) / max(distance / 2, 1e-300)
                column = np.where(np.isfinite(forward), forward, np.where(np.isfinite(backward), backward, 0.0))
            J[:, j] = column
        return J

    def full_params(self, x: np.ndarray) -> dict[str, float]:
        """The base run's parameters with the fitted ones set to ``x``."""
        return {**self.spec.params, **{n: float(v) for n, v in zip(self.names, x, strict=True)}}

    def series_sums(self, residuals: np.ndarray) -> np.ndarray:
        """Sum of squares of (weighted) residuals per series: (..., series)."""
        squared = np.nan_to_num(np.asarray(residuals) ** 2, nan=np.inf)
        out = np.zeros((*squared.shape[:-1], len(self.data.series)))
        for s in range(len(self.data.series)):
            out[..., s] = squared[..., self.data.series_of == s].sum(axis=-1)
        return out


def setup_problem(
    model: Any, data: Any, fit: Any, *, scenario: Any = None, weights: Any = None, where: str = "fit"
) -> FitProblem:
    """Check every input once and build the problem. ``model`` is a ``Model`` or a model path; a
    scenario (object or TOML path) may be given as ``model`` or ``scenario`` and is then the base run;
    ``scenario`` may also be a ``RunSpec`` or a dict of parameter values."""
    from ..core import Model, RunSpec, load_model
    from ..scenarios import Scenario, get_model, load_scenario

    if isinstance(model, Scenario) or _is_toml(model):
        if scenario is not None:
            raise ParameterError("give the scenario once: as the model argument or as scenario=, not both")
        scenario, model = model, None
    if model is not None and not isinstance(model, Model):
        model = load_model(model)
    base = None
    if isinstance(scenario, RunSpec):
        if model is None or scenario.model is not model.compiled:
            raise ParameterError("scenario: a RunSpec must belong to the model given")
        base, scenario = scenario, None
    elif isinstance(scenario, Mapping):
        if model is None:
            raise ParameterError("scenario: parameter values need a model")
        base, scenario = model.spec(dict(scenario)), None
    elif scenario is not None and not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, model=model)
    if model is None:
        model = get_model(scenario.model_path)
    spec = base if base is not None else scenario.spec(model) if scenario is not None else model.spec()
    if not spec.method.fixed_step:
        spec = spec.replace(method="euler")
    ranges = fit_ranges(fit, model, where)
    observations = check_observations(data, model, spec)
    p, n = len(ranges), observations.n_points
    if n <= p:
        raise ParameterError(
            f"{observations.source}: {n} observed point(s) cannot determine {p} parameter(s) (need more points than parameters)"
        )
    point_weights, given = _point_weights(weights, observations)
    return FitProblem(model, spec, ranges, observations, point_weights, given, scenario)


def fit_ranges(fit: Any, model: Model, where: str = "fit") -> Ranges:
    """The fitted parameters and their bounds, with ``load_ranges``'s checks; messages start with ``where``."""
    if fit is None or (isinstance(fit, Mapping) and not isinstance(fit, Ranges) and len(fit) == 0):
        raise ParameterError(f"{where}: no parameters to fit (give {{name: (low, high)}} for constants of {model.name})")
    try:
        ranges = load_ranges(fit, model)
    except ParameterError as exc:
        message = str(exc)
        if message.startswith("ranges: "):
            message = f"{where}: " + message.removeprefix("ranges: ")
        raise ParameterError(message) from None
    for d in ranges.values():
        low, high = d.bounds
        if not np.isfinite(low) or not np.isfinite(high):
            raise ParameterError(f"{where}: {d.name!r} needs finite bounds")
    return ranges


def series_scale(observations: Observations) -> np.ndarray:
    """A typical size of each series (its standard deviation, else its mean magnitude, else 1): the
    first-pass weights that make series of different units comparable."""
    scales = np.ones(len(observations.series))
    for s in range(len(observations.series)):
        values = observations.values[observations.series_of == s]
        spread = float(np.std(values)) if len(values) > 1 else 0.0
        level = float(np.mean(np.abs(values)))
        scales[s] = spread if spread > 1e-12 * max(level, 1e-300) else (level if level > 0 else 1.0)
    return scales


def _point_weights(weights: Any, observations: Observations) -> tuple[np.ndarray, bool]:
    """``None``: estimated later, starting from 1/scale per series; a dict per series; a DataFrame
    shaped like the data (one weight per observed cell)."""
    import pandas as pd

    series = observations.series
    if weights is None:
        return 1.0 / series_scale(observations)[observations.series_of], False
    if isinstance(weights, pd.DataFrame):
        frame = weights.copy()
        frame.columns = [_match(c, series, "weights") for c in frame.columns]
        frame = frame.reindex(index=observations.frame.index, columns=list(series))
        per_point = frame.to_numpy(dtype=float).T[~np.isnan(observations.frame.to_numpy().T)]
        # (series-major order, like the observed points)
    elif isinstance(weights, Mapping):
        per_series = np.ones(len(series))
        for key, value in weights.items():
            per_series[series.index(_match(key, series, "weights"))] = float(value)
        per_point = per_series[observations.series_of]
    else:
        raise ParameterError("weights must be None, a dict {series: weight} or a DataFrame shaped like the data")
    if not np.all(np.isfinite(per_point)) or np.any(per_point <= 0):
        raise ParameterError("weights: every observed point needs a positive, finite weight")
    return np.asarray(per_point, dtype=float), True


def _match(name: Any, series: tuple[str, ...], where: str) -> str:
    loose = {"".join(s.split()).casefold(): s for s in series}
    key = "".join(str(name).split()).casefold()
    if key not in loose:
        raise ParameterError(f"{where}: {str(name)!r} is not an observed series (allowed: {', '.join(series)})")
    return loose[key]


def _is_toml(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and Path(value).suffix.lower() == ".toml"


def observed_frame(problem: FitProblem, values: np.ndarray) -> pd.DataFrame:
    """Point values (series-major, like the observations) back into a frame shaped like the data."""
    import pandas as pd

    obs = problem.data
    frame = np.full(obs.frame.shape, np.nan).T
    mask = ~np.isnan(obs.frame.to_numpy().T)
    frame[mask] = values
    return pd.DataFrame(frame.T, index=obs.frame.index, columns=list(obs.series))
