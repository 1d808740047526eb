"""``flywheel.calibrate``: fit model constants to observed time series, with honest uncertainty.

Weighted least squares (scipy's bounded ``least_squares``) from several starts spread over the bounds
by a Latin hypercube; every residual Jacobian runs its perturbed parameter sets as ONE ensemble. Without
``weights`` each series is weighted by one over its noise level, estimated from the residuals of a first
fit (then refitted), so series in different units count by how well they are measured. Standard errors,
95% intervals and correlations come from the Jacobian at the estimate (scaled by the residual variance,
as lmfit does); a parameter whose estimate is strongly correlated with another (|r| > 0.95), or whose
interval spans its whole bound, is flagged as not identifiable from these data. Profile-likelihood
intervals (``Calibration.profile``) check the linear approximation where it matters.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import OutputError, ParameterError
from .fitting import FitProblem, observed_frame, series_scale, setup_problem
from .least_squares import Solution, multistart, solve

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from .profiles import LikelihoodProfile

#: |correlation| above which two estimates are called not separately identifiable.
CORRELATION_LIMIT = 0.95
#: The confidence level of ``ci``.
LEVEL = 0.95
#: Refits with re-estimated noise levels (when no weights are given).
REWEIGHTS = 2


@dataclass(frozen=True, eq=False)
class Calibration:
    """The result of ``flywheel.calibrate``; every field always exists.

    Attributes:
        estimates: best-fit value per parameter (``pandas.Series`` indexed by parameter).
        stderr: standard error per parameter from the Jacobian (inf where the data say nothing).
        ci: 95% confidence intervals: a DataFrame indexed by parameter with columns ``low`` and ``high``
            (estimate +- t * stderr, clipped to the bounds).
        correlation: correlation matrix of the estimates (DataFrame, parameter x parameter).
        identifiable: per parameter, False when |r| > 0.95 with another parameter, when its interval
            spans the whole bound, or when its standard error is infinite.
        bounds: the fitted bounds (DataFrame: ``low``, ``high``).
        cost: 0.5 * the sum of squared weighted residuals at the estimate (scipy's convention).
        chisqr, redchi: the sum of squared weighted residuals, and divided by ``dof``.
        rmse: root-mean-square error per series, in the series' own units.
        noise: the estimated noise level (standard deviation) per series, in its units.
        weights: the weight of each series' residuals (1 / noise unless weights were given).
        n_points, dof: observed points, and points minus parameters.
        n_evaluations: model runs used (ensemble members, including Jacobians and the second pass).
        n_ensembles: calls into the ensemble engine.
        converged: whether the best start ended by a convergence test of ``least_squares``.
        message: scipy's message for the best start.
        starts: one row per start: its starting values, final cost, status and evaluations.
        fitted, residuals: the model at the observation times and observed minus model
            (DataFrames shaped like the data).
        problem: the checked problem (model, base run, observations, weights) the fit ran on.
    """

    estimates: pd.Series
    stderr: pd.Series
    ci: pd.DataFrame
    correlation: pd.DataFrame
    identifiable: pd.Series
    bounds: pd.DataFrame
    cost: float
    chisqr: float
    redchi: float
    rmse: pd.Series
    noise: pd.Series
    weights: pd.Series
    n_points: int
    dof: int
    n_evaluations: int
    n_ensembles: int
    converged: bool
    message: str
    starts: pd.DataFrame
    fitted: pd.DataFrame
    residuals: pd.DataFrame
    problem: FitProblem = field(repr=False)
    _profiles: dict[str, LikelihoodProfile] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ derived
    @property
    def names(self) -> list[str]:
        return list(self.estimates.index)

    @property
    def at_bound(self) -> pd.Series:
        """Parameters whose estimate sits on a bound (their interval is one-sided)."""
        width = self.bounds["high"] - self.bounds["low"]
        near = (self.estimates - self.bounds["low"]).abs().le(1e-6 * width) | (
            self.bounds["high"] - self.estimates
        ).abs().le(1e-6 * width)
        return near

    def table(self) -> pd.DataFrame:
        """Estimates, standard errors, intervals, bounds and flags in one table (the CLI's CSV)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "estimate": self.estimates,
                "stderr": self.stderr,
                "low": self.ci["low"],
                "high": self.ci["high"],
                "bound_low": self.bounds["low"],
                "bound_high": self.bounds["high"],
                "identifiable": self.identifiable,
                "at_bound": self.at_bound,
            }
        ).rename_axis("parameter")

    def params(self) -> dict[str, float]:
        """The base run's parameters with the fitted values (what ``to_scenario`` writes)."""
        return self.problem.full_params(self.estimates.to_numpy())

    def run(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The fitted run: a DataFrame indexed by time (PySD's shape), the observed series by default."""
        result = self.problem.run(self.estimates.to_numpy()[None], columns=columns or list(self.problem.data.series))
        return result.to_frame(0)

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        flagged = int((~self.identifiable).sum())
        note = f", {flagged} not identifiable" if flagged else ""
        return (f"<Calibration of {len(self.estimates)} parameters to {self.problem.data.source}: {state}, "
                f"chi-square {self.chisqr:.4g} on {self.dof} dof{note}>")  # fmt: skip

    # ------------------------------------------------------------------ views
    def report(self) -> str:
        """A readable report in the spirit of lmfit's ``fit_report``."""
        from .calibration_report import calibration_report

        return calibration_report(self, CORRELATION_LIMIT)

    def __str__(self) -> str:
        return self.report()

    def plot(self, band: bool = True, seed: int = 0) -> Figure:
        """Fit versus data (top row) and residuals (bottom row), one column per series; with ``band``,
        a 95% band of the model from the parameters' uncertainty (drawn when every parameter is
        identifiable)."""
        from .calibration_plots import fit_figure

        return fit_figure(self, band=band, seed=seed)

    def profile(self, name: str, *, level: float = LEVEL, max_points: int = 30) -> LikelihoodProfile:
        """The profile-likelihood interval of one parameter (the others refitted at every point), with
        ``.interval``, ``.frame`` and ``.plot()``. Cached per parameter and level."""
        from .profiles import likelihood_profile

        resolved = _resolve(name, self.names)
        key = f"{resolved}@{level}@{max_points}"
        if key not in self._profiles:
            self._profiles[key] = likelihood_profile(self, resolved, level=level, max_points=max_points)
        return self._profiles[key]

    def plot_profiles(self, names: list[str] | None = None) -> Figure:
        """Profiles of several parameters (default: all), one panel each."""
        from .calibration_plots import profiles_figure

        return profiles_figure([self.profile(n) for n in (names or self.names)])

    # ------------------------------------------------------------------ scenario
    def scenario_toml(self, path: str | os.PathLike[str] | None = None, title: str | None = None) -> str:
        """A scenario file with the fitted values (and the base scenario's settings); the model path is
        written relative to ``path``'s folder when given. ``flywheel run`` accepts it."""
        problem = self.problem
        model_path = Path(problem.model.path).resolve()
        if path is not None:
            model_ref = os.path.relpath(model_path, Path(path).resolve().parent)
        else:
            model_ref = str(model_path)
        base = problem.scenario
        source = Path(problem.data.source).name
        title = title or f"Calibrated to {source}"
        lines_desc = [
            f"Fitted by flywheel.calibrate to {source} ({self.n_points} points of {len(self.rmse)} series)"
            + (f", starting from the scenario {base.name!r}." if base is not None else "."),
            "Estimates with 95% intervals: "
            + "; ".join(
                f"{n} = {self.estimates[n]:.6g} [{self.ci.loc[n, 'low']:.4g}, {self.ci.loc[n, 'high']:.4g}]"
                + ("" if self.identifiable[n] else " (not identifiable from these data)")
                for n in self.names
            )
            + ".",
        ]
        if not self.converged:
            lines_desc.append("The fit did NOT converge: " + self.message)
        out = [
            f"title = {_toml_str(title)}",
            f'description = """{" ".join(lines_desc)}"""'.replace("\\", "\\\\"),
            f"model = {_toml_str(model_ref)}",
            "",
            "[parameters]",
        ]
        base_params = dict(problem.spec.params)
        for name, value in base_params.items():
            if name not in self.names:
                out.append(f"{_toml_str(name)} = {_toml_float(value)}")
        for name in self.names:
            low, high = self.ci.loc[name, "low"], self.ci.loc[name, "high"]
            out.append(
                f"{_toml_str(name)} = {_toml_float(self.estimates[name])}  # fitted; 95% interval [{low:.6g}, {high:.6g}]"
            )
        simulation = _simulation_settings(problem)
        if simulation:
            out += ["", "[simulation]", *(f"{k} = {v}" for k, v in simulation.items())]
        return "\n".join(out) + "\n"

    def to_scenario(self, path: str | os.PathLike[str], *, title: str | None = None, force: bool = False) -> Path:
        """Write ``scenario_toml`` to ``path`` (refuses to overwrite unless ``force``); returns the path."""
        path = Path(path)
        text = self.scenario_toml(path, title=title)
        try:
            with path.open("w" if force else "x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise OutputError(f"{path} already exists; pass force=True to overwrite") from None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path


def calibrate(
    model: Any,
    data: Any,
    fit: Any,
    *,
    scenario: Any = None,
    weights: Any = None,
    starts: int = 8,
    seed: int = 0,
    progress: bool = False,
) -> Calibration:
    """Fit the constants in ``fit`` to ``data`` by weighted least squares; see ``Calibration``.

    Args:
        model: a ``Model``, a model path, or a scenario (object or TOML path) to start every run from.
        data: a DataFrame indexed by time, one column per observed model variable (NaN = missing), or
            the path of such a CSV file.
        fit: ``{name: (low, high)}`` for the constants to fit (or a ranges TOML path / ``Ranges``).
        scenario: the base run: a scenario (object or TOML path) whose levers and settings every run
            starts from, a ``RunSpec`` of ``model``, or a dict of parameter values.
        weights: None (estimated noise levels), ``{series: weight}``, or a DataFrame like ``data``;
            weights multiply the residuals.
        starts: least-squares starts from a Latin hypercube over the bounds.
        seed: the seed of the Latin hypercube (the same seed gives the same numbers).
        progress: a progress bar over the starts.
    """
    problem = setup_problem(model, data, fit, scenario=scenario, weights=weights)
    return calibrate_problem(problem, starts=starts, seed=seed, progress=progress)


def calibrate_problem(problem: FitProblem, *, starts: int = 8, seed: int = 0, progress: bool = False) -> Calibration:
    """``calibrate`` on an already checked problem (the posterior starts from this)."""
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
        raise ParameterError(f"starts must be a whole number of at least 1, got {starts!r}")
    if not problem.weights_given:  # start from the data's scales, whatever an earlier fit estimated
        problem.point_weights = 1.0 / series_scale(problem.data)[problem.data.series_of]
    solutions = multistart(problem, int(starts), seed, progress)
    best = min(solutions, key=lambda s: s.cost)
    if np.isfinite(best.cost) and not problem.weights_given:
        for _ in range(REWEIGHTS):
            problem.point_weights = _noise_weights(problem, best.x)
            best = solve(problem, best.u)
    return _result(problem, best, solutions)


def _noise_weights(problem: FitProblem, x: np.ndarray) -> np.ndarray:
    """One over each series' noise level, estimated from its residuals at ``x``."""
    noise = _noise(problem, problem.predict(x[None])[0] - problem.data.values)
    floor = 1e-12 * np.maximum(np.abs(problem.data.values), 1e-300)
    return 1.0 / np.maximum(noise[problem.data.series_of], floor)


def _noise(problem: FitProblem, raw_residuals: np.ndarray) -> np.ndarray:
    """Residual standard deviation per series, corrected for the fitted parameters (n / (n - p))."""
    n, p = problem.data.n_points, problem.n_params
    sums = problem.series_sums(raw_residuals)
    counts = problem.data.counts()
    return np.sqrt(sums / counts * n / max(n - p, 1))


def _result(problem: FitProblem, best: Solution, solutions: list[Solution]) -> Calibration:
    import pandas as pd
    from scipy import stats

    names = problem.names
    series = list(problem.data.series)
    n, p = problem.data.n_points, problem.n_params
    dof = n - p
    x = best.x
    prediction = problem.predict(x[None])[0]
    raw = prediction - problem.data.values
    weighted = problem.point_weights * raw
    finite = np.all(np.isfinite(weighted))
    chisqr = float(np.sum(weighted**2)) if finite else np.inf
    redchi = chisqr / dof
    covariance = _covariance(problem.jacobian(x), redchi) if finite else np.full((p, p), np.inf)
    stderr = np.sqrt(np.clip(np.diag(covariance), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(stderr, stderr)
    correlation = np.where(np.isfinite(correlation), np.clip(correlation, -1, 1), np.nan)
    np.fill_diagonal(correlation, 1.0)
    t = stats.t.ppf(0.5 + LEVEL / 2, dof)
    low, high = problem.low, problem.high
    ci_low = np.clip(x - t * stderr, low, high)
    ci_high = np.clip(x + t * stderr, low, high)
    off_diagonal = np.abs(np.where(np.eye(p, dtype=bool), 0.0, np.nan_to_num(correlation, nan=1.0)))
    spans = (ci_low <= low) & (ci_high >= high)
    identifiable = (off_diagonal.max(axis=1, initial=0.0) <= CORRELATION_LIMIT) & ~spans & np.isfinite(stderr)

    counts = problem.data.counts()
    sums = problem.series_sums(raw)
    rmse = np.sqrt(sums / counts)
    noise = _noise(problem, raw)
    series_weights = np.array([problem.point_weights[problem.data.series_of == s].mean() for s in range(len(series))])
    starts = pd.DataFrame(
        [
            {
                **{f"start {name}": v for name, v in zip(names, problem.from_unit(s.u0), strict=True)},
                **{name: v for name, v in zip(names, s.x, strict=True)},
                "cost": s.cost, "status": s.status, "evaluations": s.nfev, "jacobians": s.njev,
            }  # fmt: skip
            for s in solutions
        ]
    ).rename_axis("start")
    return Calibration(
        estimates=pd.Series(x, index=names, name="estimate"),
        stderr=pd.Series(stderr, index=names, name="stderr"),
        ci=pd.DataFrame({"low": ci_low, "high": ci_high}, index=pd.Index(names, name="parameter")),
        correlation=pd.DataFrame(correlation, index=names, columns=names),
        identifiable=pd.Series(identifiable, index=names, name="identifiable"),
        bounds=pd.DataFrame({"low": low, "high": high}, index=pd.Index(names, name="parameter")),
        cost=0.5 * chisqr,
        chisqr=chisqr,
        redchi=redchi,
        rmse=pd.Series(rmse, index=series, name="rmse"),
        noise=pd.Series(noise, index=series, name="noise"),
        weights=pd.Series(series_weights, index=series, name="weight"),
        n_points=n,
        dof=dof,
        n_evaluations=problem.runs,
        n_ensembles=problem.ensembles,
        converged=bool(best.success and finite),
        message=best.message if finite else "the model blew up or could not be run at every start",
        starts=starts,
        fitted=observed_frame(problem, prediction),
        residuals=observed_frame(problem, -raw),
        problem=problem,
    )


def _covariance(J: np.ndarray, redchi: float) -> np.ndarray:
    """redchi * (J'J)^-1 through the SVD of J; directions the data do not constrain get a variance that
    is effectively infinite (and show up as huge standard errors and |r| near 1), never zero."""
    if not np.all(np.isfinite(J)):
        return np.full((J.shape[1], J.shape[1]), np.inf)
    _, singular, vt = np.linalg.svd(J, full_matrices=False)
    floor = max(singular.max(initial=0.0), 1e-300) * 1e-13
    inverse = 1.0 / np.maximum(singular, floor) ** 2
    return redchi * (vt.T * inverse) @ vt


def _simulation_settings(problem: FitProblem) -> dict[str, str]:
    """The base run's time settings and method where they differ from the model's own."""
    model, time = problem.model, problem.spec.time
    out = {}
    for key, value, own in (
        ("final_time", time.final_time, model.final_time),
        ("time_step", time.time_step, model.time_step),
        ("saveper", time.saveper, model.saveper),
    ):
        if own is None or abs(value - own) > 1e-12 * max(1.0, abs(own)):
            out[key] = _toml_float(value)
    if problem.spec.method.name != "euler":
        out["method"] = _toml_str(problem.spec.method.name)
    return out


def _resolve(name: str, names: list[str]) -> str:
    if name in names:
        return name
    loose = {"".join(n.split()).casefold(): n for n in names}
    key = "".join(str(name).split()).casefold()
    if key in loose:
        return loose[key]
    raise ParameterError(f"{name!r} is not a fitted parameter (fitted: {', '.join(names)})")


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _toml_float(value: float) -> str:
    return repr(float(value))
