"""Steady states: where every stock (hidden SMOOTH/DELAY states included) stops changing.

``equilibria(model, params)`` holds the levers and inputs at their values at one time, finds the roots
of the stock derivatives with ``scipy.optimize.root`` from many starting points in the stocks'
documented ranges, and reports each distinct root with the eigenvalues of the Jacobian there (central
differences of the compiled derivatives): stable when every real part is negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import Model
from ..core.running import prepared_workspace

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Equilibrium:
    """One steady state: the named stocks' values, all states, the Jacobian's eigenvalues."""

    stocks: dict[str, float]
    states: np.ndarray
    eigenvalues: np.ndarray
    residual: float

    @property
    def stable(self) -> bool:
        return bool(np.all(self.eigenvalues.real < -1e-9))

    @property
    def dominant(self) -> complex:
        """The eigenvalue with the largest real part (it decides stability)."""
        return complex(self.eigenvalues[np.argmax(self.eigenvalues.real)])


@dataclass(frozen=True)
class Equilibria:
    time: float
    found: tuple[Equilibrium, ...]
    starts: int

    def table(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for eq in self.found:
            rows.append({**eq.stocks, "stable": eq.stable, "dominant eigenvalue": eq.dominant,
                         "eigenvalues": ", ".join(f"{e:.3g}" for e in eq.eigenvalues), "residual": eq.residual})  # fmt: skip
        return pd.DataFrame(rows)

    def report(self) -> str:
        lines = [f"{len(self.found)} steady state(s) at time {self.time:g} from {self.starts} starting points"]
        for i, eq in enumerate(self.found, 1):
            kind = "stable" if eq.stable else "unstable"
            values = ", ".join(f"{k} = {v:.6g}" for k, v in eq.stocks.items())
            lines.append(f"  {i}. {kind} (largest real part {eq.dominant.real:.3g}): {values}")
        return "\n".join(lines)


def equilibria(
    model: Model,
    params: Mapping[str, Any] | None = None,
    *,
    time: float | None = None,
    starts: int = 200,
    seed: int = 0,
    tol: float = 1e-10,
) -> Equilibria:
    """Steady states with the levers and inputs held at their values at ``time`` (default: the start)."""
    from scipy.optimize import root

    spec = model.spec(params)
    space = prepared_workspace(spec)
    space.init()
    layout = model.compiled.layout
    n = layout.n_states
    at = float(spec.time.initial_time if time is None else time)
    start_state = space.first("Y")[:n].copy()
    dydt = space.first("dydt")

    def rhs(y: np.ndarray) -> np.ndarray:
        space.evaluate(at, y)
        return dydt[:n].copy()

    guesses = _starting_points(model, start_state, starts, seed)
    found: list[Equilibrium] = []
    scale = np.maximum(np.abs(start_state), 1.0)
    for guess in guesses:
        solution = root(rhs, guess, method="hybr", tol=tol)
        residual = float(np.max(np.abs(rhs(solution.x)) / scale)) if n else 0.0
        if not solution.success and residual > 1e-8 or not np.all(np.isfinite(solution.x)):
            continue
        if any(np.allclose(solution.x, eq.states, rtol=1e-6, atol=1e-9 * scale.max()) for eq in found):
            continue
        jacobian = _jacobian(rhs, solution.x)
        stocks = {name: float(solution.x[row]) for name, row in layout.stock_index.items()}
        found.append(Equilibrium(stocks, solution.x, np.linalg.eigvals(jacobian), residual))
    found.sort(key=lambda eq: tuple(eq.stocks.values()))
    return Equilibria(at, tuple(found), len(guesses))


def _starting_points(model: Model, start: np.ndarray, count: int, seed: int) -> np.ndarray:
    """The initial state first, then states drawn within the stocks' documented ranges (or around the
    initial values where a range is open); hidden states are scaled with the stocks."""
    rng = np.random.default_rng(seed)
    layout = model.compiled.layout
    points = [start.copy()]
    for _ in range(max(count - 1, 0)):
        point = start * rng.uniform(0.2, 2.0, len(start))
        for name, row in layout.stock_index.items():
            low, high = model.variables[name].limits
            if low is not None and high is not None:
                point[row] = rng.uniform(low, high)
            elif low is not None:
                point[row] = low + abs(start[row] - low) * rng.uniform(0.0, 3.0) + rng.uniform(0, 1)
        points.append(point)
    return np.array(points)


def _jacobian(rhs, y: np.ndarray) -> np.ndarray:
    n = len(y)
    jacobian = np.empty((n, n))
    for j in range(n):
        h = 1e-6 * max(1.0, abs(y[j]))
        up, down = y.copy(), y.copy()
        up[j] += h
        down[j] -= h
        jacobian[:, j] = (rhs(up) - rhs(down)) / (2 * h)
    return jacobian
