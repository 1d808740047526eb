"""Profile-likelihood intervals: hold one parameter at a value, refit all others, see how much worse the
fit gets. Where the model is nonlinear the interval can be lopsided, and where the data do not pin a
parameter down the profile stays flat up to the bound: both show here and not in the Jacobian's interval.

The statistic is lmfit's F-test: ``(chisqr(theta) - chisqr_min) / (chisqr_min / dof)``, compared with the
95% quantile of F(1, dof). Each side is walked outward from the estimate, each point's refit starting
from its neighbour's (warm starts), until the statistic is well past the threshold or the bound is hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .least_squares import solve

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from .calibration import Calibration


@dataclass(frozen=True)
class LikelihoodProfile:
    """A profile of one parameter.

    Attributes:
        parameter: its name.
        frame: one row per profile point (sorted by value): ``value``, ``chisqr``, ``statistic`` and the
            refitted values of the other parameters.
        threshold: the statistic's critical value at ``level``.
        level: the confidence level (0.95).
        interval: (low, high) where the statistic crosses the threshold (a bound where it never does).
        open_low, open_high: True where the profile reaches the bound below the threshold.
        estimate, wald: the best estimate and the Jacobian's interval, for comparison.
        n_evaluations: model runs used.
    """

    parameter: str
    frame: pd.DataFrame
    threshold: float
    level: float
    interval: tuple[float, float]
    open_low: bool
    open_high: bool
    estimate: float
    wald: tuple[float, float]
    bounds: tuple[float, float]
    n_evaluations: int
    units: str = ""

    def __repr__(self) -> str:
        low, high = self.interval
        return (f"<LikelihoodProfile of {self.parameter!r}: {int(self.level * 100)}% interval "
                f"[{low:.6g}{' (bound)' if self.open_low else ''}, {high:.6g}{' (bound)' if self.open_high else ''}], "
                f"{len(self.frame)} points>")  # fmt: skip

    def plot(self) -> Figure:
        """The profile with its threshold, interval and the Jacobian's interval."""
        from .calibration_plots import profiles_figure

        return profiles_figure([self])


def likelihood_profile(c: Calibration, name: str, *, level: float = 0.95, max_points: int = 30) -> LikelihoodProfile:
    import pandas as pd
    from scipy import stats

    problem = c.problem
    k = problem.names.index(name)
    runs_before = problem.runs
    x_hat = c.estimates.to_numpy()
    u_hat = problem.to_unit(x_hat)
    chisqr_min, dof = c.chisqr, c.dof
    scale = chisqr_min / dof if chisqr_min > 0 else 1e-300
    threshold = float(stats.f.ppf(level, 1, dof))
    width = problem.high[k] - problem.low[k]
    se = c.stderr[name]
    step = (se / 4 if np.isfinite(se) and 0 < se < width / 4 else width / 20) / width  # in unit coordinates
    rows = [(x_hat[k], chisqr_min, 0.0, x_hat.copy())]

    for direction in (+1, -1):
        u = u_hat.copy()
        beyond = 0
        for _ in range(max_points):
            target = u[k] + direction * step
            if target < 0 or target > 1:
                if abs(u[k] - (0.0 if direction < 0 else 1.0)) < 1e-12:
                    break
                target = min(max(target, 0.0), 1.0)
            u = u.copy()
            u[k] = target
            solution = solve(problem, u, fixed=(k,))
            chisqr = 2 * solution.cost
            statistic = (chisqr - chisqr_min) / scale
            rows.append((solution.x[k], chisqr, statistic, solution.x))
            if np.isfinite(solution.cost):
                u = solution.u
            if statistic > 2 * threshold:
                beyond += 1
                if beyond >= 2:
                    break

    rows.sort(key=lambda r: r[0])
    values = np.array([r[0] for r in rows])
    statistic = np.array([r[2] for r in rows])
    frame = pd.DataFrame({"value": values, "chisqr": [r[1] for r in rows], "statistic": statistic})
    for j, other in enumerate(problem.names):
        if j != k:
            frame[other] = [r[3][j] for r in rows]
    centre = int(np.argmin(np.abs(values - x_hat[k])))
    low, open_low = _crossing(values[: centre + 1][::-1], statistic[: centre + 1][::-1], threshold, problem.low[k])
    high, open_high = _crossing(values[centre:], statistic[centre:], threshold, problem.high[k])
    return LikelihoodProfile(
        parameter=name,
        frame=frame,
        threshold=threshold,
        level=level,
        interval=(low, high),
        open_low=open_low,
        open_high=open_high,
        estimate=float(x_hat[k]),
        wald=(float(c.ci.loc[name, "low"]), float(c.ci.loc[name, "high"])),
        bounds=(float(problem.low[k]), float(problem.high[k])),
        n_evaluations=problem.runs - runs_before,
        units=(problem.model.variables[name].units or "").strip(),
    )


def _crossing(values: np.ndarray, statistic: np.ndarray, threshold: float, bound: float) -> tuple[float, bool]:
    """Where the statistic first rises through the threshold walking away from the estimate (linear
    interpolation); the bound (and open) when it never does."""
    for i in range(1, len(values)):
        if statistic[i] >= threshold > statistic[i - 1]:
            a, b = statistic[i - 1], statistic[i]
            fraction = (threshold - a) / (b - a) if np.isfinite(b) else 0.0
            return float(values[i - 1] + fraction * (values[i] - values[i - 1])), False
    return float(bound), True
