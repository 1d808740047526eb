"""Bounded least squares on a ``FitProblem``: one start, many starts, or with some parameters held fixed.

scipy's ``least_squares`` (trust-region reflective, bounded) works in unit coordinates (each parameter's
bounds mapped to [0, 1], so parameters of very different sizes are equally well scaled). The residual
Jacobian is ``FitProblem.jacobian_unit``: the perturbed parameter sets of one Jacobian run as ONE
ensemble. A start whose residuals cannot be computed (the run blows up there) is recorded as failed,
not raised: a calibration that does not converge says so in its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .fitting import FitProblem

TOLERANCE = 1e-10  # ftol, xtol and gtol of scipy's least_squares


@dataclass(frozen=True)
class Solution:
    """One run of ``least_squares`` (``u`` in unit coordinates; ``x`` in the parameters' units)."""

    u0: np.ndarray
    u: np.ndarray
    x: np.ndarray
    cost: float  # 0.5 * sum of squared weighted residuals (scipy's convention); inf when it failed
    success: bool
    status: int
    message: str
    nfev: int
    njev: int


def solve(problem: FitProblem, u0: np.ndarray, fixed: Sequence[int] = (), max_nfev: int | None = None) -> Solution:
    """Minimise from ``u0``; parameters whose indices are in ``fixed`` stay at their value in ``u0``."""
    from scipy.optimize import least_squares

    u0 = np.clip(np.asarray(u0, dtype=float), 0.0, 1.0)
    free = np.array([j for j in range(problem.n_params) if j not in set(fixed)], dtype=int)

    def full(v: np.ndarray) -> np.ndarray:
        u = u0.copy()
        u[free] = v
        return u

    def residuals(v: np.ndarray) -> np.ndarray:
        r = problem.residuals(problem.from_unit(full(v))[None])[0]
        return np.where(np.isfinite(r), r, np.nan)  # scipy shrinks the step on non-finite residuals

    def jacobian(v: np.ndarray) -> np.ndarray:
        return problem.jacobian_unit(full(v))[:, free]

    if len(free) == 0:  # nothing to fit: the cost at u0
        r = residuals(np.empty(0))
        cost = 0.5 * float(np.sum(r**2)) if np.all(np.isfinite(r)) else np.inf
        return Solution(u0, u0, problem.from_unit(u0), cost, np.isfinite(cost), 1, "no free parameters", 1, 0)
    try:
        result = least_squares(
            residuals, u0[free], jac=jacobian, bounds=(0.0, 1.0), method="trf", x_scale=1.0,
            ftol=TOLERANCE, xtol=TOLERANCE, gtol=TOLERANCE, max_nfev=max_nfev,
        )  # fmt: skip
    except ValueError as exc:  # residuals not finite at the start: the model blows up there
        return Solution(u0, u0, problem.from_unit(u0), np.inf, False, -2, str(exc), 1, 0)
    u = full(result.x)
    return Solution(
        u0, u, problem.from_unit(u), float(result.cost), bool(result.success), int(result.status),
        str(result.message), int(result.nfev), int(result.njev or 0),
    )  # fmt: skip


def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` starting points in the unit cube, one per stratum of every parameter."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, seed=seed).random(n)


def multistart(problem: FitProblem, starts: int, seed: int, progress: bool = False) -> list[Solution]:
    """``solve`` from each point of a Latin hypercube over the bounds; the solutions in start order."""
    points = latin_hypercube(starts, problem.n_params, seed)
    iterator = points
    if progress and starts > 1:
        from tqdm.auto import tqdm

        iterator = tqdm(points, desc="calibrating", unit="start", leave=False)
    return [solve(problem, u0) for u0 in iterator]
