"""Integration methods: fixed-step Runge-Kutta by Butcher table, and scipy's solve_ivp.

Euler and RK4 differ only in their tables; the generated kernel has one stepping loop for both. Euler
steps exactly like Vensim and PySD: ``state + ddt * dt`` and ``time += dt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError, SimulationError


@dataclass(frozen=True)
class ButcherTable:
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray


EULER = ButcherTable(np.zeros((1, 1)), np.array([1.0]), np.array([0.0]))
RK4 = ButcherTable(
    np.array([[0.0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1.0, 0]]),
    np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    np.array([0.0, 0.5, 0.5, 1.0]),
)
FIXED_STEP = {"euler": EULER, "rk4": RK4}
ADAPTIVE = ("RK45", "DOP853", "LSODA", "Radau")
METHODS = tuple(FIXED_STEP) + ADAPTIVE


def check_method(method: str) -> str:
    if method in METHODS:
        return method
    lowered = {m.lower(): m for m in METHODS}
    if isinstance(method, str) and method.lower() in lowered:
        return lowered[method.lower()]
    raise ParameterError(f"method {method!r} is not known; choose one of {', '.join(METHODS)}")


@dataclass(frozen=True)
class IvpOptions:
    """Tolerances for solve_ivp; the defaults suit models whose values are O(1)..O(1e6)."""

    rtol: float = 1e-6
    atol: float = 1e-9


def integrate_ivp(kernels, args: tuple, times: np.ndarray, n_record: int, method: str, options: IvpOptions):
    """Run scipy's solve_ivp on the generated derivative function; values at ``times`` (n_times x n_record)."""
    from scipy.integrate import solve_ivp

    p, ovm, lkx, lky, lko, lkn, t0, dt, tf, sp = args
    y0, c = kernels.init_state(p, ovm, lkx, lky, lko, lkn, t0, dt, tf, sp)
    dydt = np.zeros_like(y0)
    rec = np.zeros(max(n_record, 1))

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        kernels.eval_state(t, y, c, p, ovm, lkx, lky, lko, lkn, t0, dt, tf, sp, dydt, rec)
        return dydt.copy()

    end = float(times[-1]) if len(times) else t0
    solution = solve_ivp(
        rhs, (t0, end), y0, method=method, t_eval=times, rtol=options.rtol, atol=options.atol, max_step=np.inf
    )
    if not solution.success:
        raise SimulationError(f"solve_ivp ({method}) failed: {solution.message}")
    values = np.empty((len(times), n_record))
    for k in range(len(times)):
        kernels.eval_state(float(times[k]), solution.y[:, k].copy(), c, p, ovm, lkx, lky, lko, lkn, t0, dt, tf, sp, dydt, rec)
        values[k] = rec[:n_record]
    return values
