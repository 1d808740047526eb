"""Integration methods, in one table: fixed-step Runge-Kutta methods as Butcher tables, and scipy's
adaptive ``solve_ivp`` methods.

Euler and RK4 differ only in their tables; the compiled stepping loop runs any explicit table. A table
carries its order and is checked when it is made (explicit, consistent, and meeting the order
conditions it claims), so a mistyped coefficient fails at import, not in a run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

_TOL = 1e-12


@dataclass(frozen=True)
class ButcherTable:
    """An explicit Runge-Kutta method: stages ``c``, matrix ``a`` (strictly lower triangular), weights ``b``."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    order: int
    a_flat: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        a, b, c = (np.ascontiguousarray(x, dtype=float) for x in (self.a, self.b, self.c))
        s = len(b)
        if a.shape != (s, s) or c.shape != (s,):
            raise ValueError(f"Butcher table: a must be {s}x{s} and c of length {s}, got {a.shape} and {c.shape}")
        if np.any(np.triu(a) != 0):
            raise ValueError("Butcher table: a must be strictly lower triangular (explicit method)")
        if not np.allclose(a.sum(axis=1), c, atol=_TOL):
            raise ValueError("Butcher table: each c_i must equal the sum of row i of a")
        for condition, (value, expected) in _order_conditions(a, b, c, self.order).items():
            if abs(value - expected) > 1e-10:
                raise ValueError(f"Butcher table: order condition {condition} is {value:g}, not {expected:g}")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "a_flat", np.ascontiguousarray(a.ravel()))

    @property
    def stages(self) -> int:
        return len(self.b)


def _order_conditions(a, b, c, order: int) -> dict[str, tuple[float, float]]:
    """The classical conditions up to order 4 (Butcher's rooted trees)."""
    conditions = {"sum(b) = 1": (b.sum(), 1.0)}
    if order >= 2:
        conditions["b.c = 1/2"] = (b @ c, 1 / 2)
    if order >= 3:
        conditions["b.c^2 = 1/3"] = (b @ c**2, 1 / 3)
        conditions["b.A.c = 1/6"] = (b @ a @ c, 1 / 6)
    if order >= 4:
        conditions["b.c^3 = 1/4"] = (b @ c**3, 1 / 4)
        conditions["b.(c*A.c) = 1/8"] = (b @ (c * (a @ c)), 1 / 8)
        conditions["b.A.c^2 = 1/12"] = (b @ a @ c**2, 1 / 12)
        conditions["b.A.A.c = 1/24"] = (b @ a @ a @ c, 1 / 24)
    if order > 4:
        raise ValueError("Butcher table: order conditions are checked up to order 4")
    return conditions


@dataclass(frozen=True)
class Method:
    """One integration method: a fixed-step table run by the compiled loop, or a solve_ivp method."""

    name: str
    order: int
    description: str
    table: ButcherTable | None = None  # None: adaptive (scipy's solve_ivp)

    @property
    def fixed_step(self) -> bool:
        return self.table is not None


EULER = ButcherTable(np.zeros((1, 1)), np.array([1.0]), np.array([0.0]), order=1)
HEUN = ButcherTable(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0.5, 0.5]), np.array([0.0, 1.0]), order=2)
RK4 = ButcherTable(
    np.array([[0.0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1.0, 0]]),
    np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    np.array([0.0, 0.5, 0.5, 1.0]),
    order=4,
)

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("euler", 1, "Euler, stepping exactly like Vensim and PySD", EULER),
        Method("rk2", 2, "Heun's method (explicit trapezoid, Vensim's RK2)", HEUN),
        Method("rk4", 4, "classical Runge-Kutta", RK4),
        Method("RK45", 5, "solve_ivp: Dormand-Prince 5(4), adaptive"),
        Method("DOP853", 8, "solve_ivp: Dormand-Prince 8(5,3), adaptive"),
        Method("LSODA", 12, "solve_ivp: Adams/BDF with stiffness detection"),
        Method("Radau", 5, "solve_ivp: implicit Runge-Kutta, for stiff models"),
    )
}
FIXED_STEP = tuple(name for name, m in METHODS.items() if m.fixed_step)


def method(name: str) -> Method:
    """The method called ``name`` (any case); an unknown name lists the choices."""
    if isinstance(name, Method):
        return name
    if isinstance(name, str):
        if name in METHODS:
            return METHODS[name]
        by_case = {m.lower(): m for m in METHODS}
        if name.lower() in by_case:
            return METHODS[by_case[name.lower()]]
    close = difflib.get_close_matches(str(name), list(METHODS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ParameterError(f"method {name!r} is not known; choose one of {', '.join(METHODS)}{hint}")
