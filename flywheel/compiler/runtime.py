"""Numba helpers that generated model code calls: Vensim's builtins with PySD's exact conventions.

Each helper mirrors the PySD 3.14 function of the same name (``pysd.py_backend.functions``) so that an
Euler run here and in PySD agree to the last bit wherever the arithmetic allows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SMALL_VENSIM = 1e-6  # what Vensim treats as zero (PySD's SMALL_VENSIM)
TIME_RPREC = 1e-5  # relative precision PySD uses for the final time and the save times

LOOKUP_INTERPOLATE = 0
LOOKUP_EXTRAPOLATE = 1
LOOKUP_BACKWARD = 2  # hold the last value (Vensim LOOKUP BACKWARD, XMILE "discrete")
LOOKUP_FORWARD = 3  # take the next value (Vensim LOOKUP FORWARD)

_OPTS = {"cache": True, "error_model": "numpy", "nogil": True}
_INLINE = {**_OPTS, "inline": "always"}


@njit(**_OPTS)
def lookup(x, lkx, lky, start, n, mode):
    """Evaluate table ``start:start+n`` of the flat lookup arrays at ``x``."""
    if x != x:
        return np.nan
    first = start
    last = start + n - 1
    if x <= lkx[first]:
        if mode == LOOKUP_EXTRAPOLATE and n > 1 and x < lkx[first]:
            k = (lky[first + 1] - lky[first]) / (lkx[first + 1] - lkx[first])
            return lky[first] + k * (x - lkx[first])
        return lky[first]
    if x >= lkx[last]:
        if mode == LOOKUP_EXTRAPOLATE and n > 1 and x > lkx[last]:
            k = (lky[last] - lky[last - 1]) / (lkx[last] - lkx[last - 1])
            return lky[last] + k * (x - lkx[last])
        return lky[last]
    lo = first
    hi = last
    while hi - lo > 1:  # bisection: lkx[lo] < x < lkx[hi] holds throughout
        mid = (lo + hi) // 2
        if lkx[mid] <= x:
            lo = mid
        else:
            hi = mid
    if lkx[lo] == x:
        return lky[lo]
    if mode == LOOKUP_BACKWARD:
        return lky[lo]
    if mode == LOOKUP_FORWARD:
        return lky[hi]
    return lky[lo] + (x - lkx[lo]) * (lky[hi] - lky[lo]) / (lkx[hi] - lkx[lo])


@njit(**_OPTS)
def lookup_invert(y, lkx, lky, start, n):
    """Vensim LOOKUP INVERT: the x at which a monotonic table reaches ``y``."""
    first = start
    last = start + n - 1
    increasing = lky[last] >= lky[first]
    if (increasing and y <= lky[first]) or (not increasing and y >= lky[first]):
        return lkx[first]
    if (increasing and y >= lky[last]) or (not increasing and y <= lky[last]):
        return lkx[last]
    for i in range(first, last):
        y0 = lky[i]
        y1 = lky[i + 1]
        if (y0 <= y <= y1) or (y1 <= y <= y0):
            if y1 == y0:
                return lkx[i]
            return lkx[i] + (y - y0) * (lkx[i + 1] - lkx[i]) / (y1 - y0)
    return np.nan


@njit(**_OPTS)
def step(time, dt, value, tstep):
    """STEP(value, tstep): PySD counts the step from half a time step before ``tstep``."""
    return value * (1.0 if time + dt / 2.0 > tstep else 0.0)


@njit(**_OPTS)
def ramp(time, slope, start, finish, has_finish):
    """RAMP(slope, start[, finish])."""
    final = time
    if has_finish:
        final = min(finish, time)
    return (1.0 if time + SMALL_VENSIM > start else 0.0) * slope * (final - start)


@njit(**_OPTS)
def pulse(time, dt, start, repeat_time, width, has_width, magnitude, has_magnitude, end, has_end):
    """PULSE, PULSE TRAIN and XMILE PULSE with PySD's conventions."""
    w = width if has_width else 0.5 * dt
    out = magnitude / dt if has_magnitude else 1.0
    if repeat_time == 0.0:
        if start - SMALL_VENSIM <= time < start + w:
            return out
        return 0.0
    if start <= time and ((not has_end) or time < end):
        if (time - start + SMALL_VENSIM) % repeat_time < w:
            return out
        return 0.0
    return 0.0


@njit(**_OPTS)
def if_nan_min(a, b):
    """MIN with numpy's NaN propagation (np.minimum)."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(**_OPTS)
def if_nan_max(a, b):
    """MAX with numpy's NaN propagation (np.maximum)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(**_OPTS)
def integer(x):
    """INTEGER: truncation toward zero."""
    return float(math.trunc(x)) if x == x and abs(x) != np.inf else x


@njit(**_OPTS)
def quantum(a, b):
    """QUANTUM(a, b) = b * INTEGER(a / b), or a when b is (near) zero or negative."""
    if b < SMALL_VENSIM:
        return a
    return b * integer(a / b)


@njit(**_OPTS)
def modulo(x, m):
    """MODULO as PySD defines it: x - QUANTUM(x, m)."""
    return x - quantum(x, m)


@njit(**_OPTS)
def zidz(num, den):
    """ZIDZ: 0 when the denominator is (near) zero."""
    if abs(den) < SMALL_VENSIM:
        return 0.0
    return num / den


@njit(**_OPTS)
def xidz(num, den, x):
    """XIDZ: x when the denominator is (near) zero."""
    if abs(den) < SMALL_VENSIM:
        return x
    return num / den


# Inlined twins of the small helpers, for the ensemble's block kernel: inlining lets the member loops
# vectorise, but costs compile time, so the single-run kernel (compiled on first use) calls the plain ones.
INLINED = ("step", "ramp", "if_nan_min", "if_nan_max", "integer", "quantum", "modulo", "zidz", "xidz")
step_inline = njit(**_INLINE)(step.py_func)
ramp_inline = njit(**_INLINE)(ramp.py_func)
if_nan_min_inline = njit(**_INLINE)(if_nan_min.py_func)
if_nan_max_inline = njit(**_INLINE)(if_nan_max.py_func)
integer_inline = njit(**_INLINE)(integer.py_func)
quantum_inline = njit(**_INLINE)(quantum.py_func)
modulo_inline = njit(**_INLINE)(modulo.py_func)
zidz_inline = njit(**_INLINE)(zidz.py_func)
xidz_inline = njit(**_INLINE)(xidz.py_func)


@njit(**_OPTS)
def is_save_time(time, t0, dt, saveper):
    """PySD's rule for whether ``time`` is an output time (robust to accumulated rounding)."""
    prec = dt * TIME_RPREC
    delay = time - t0
    return (delay % saveper) < prec or ((-delay) % saveper) < prec


@njit(**_OPTS)
def time_grid(t0, dt, tf, saveper):
    """Steps and output times of a fixed-step run, accumulating ``t += dt`` exactly as the kernel does.

    Returns (number of steps, save flag per step time, step times). The kernel reads the flags instead of
    testing every step with a floating-point modulo.
    """
    n_max = int((tf - t0) / dt) + 3
    flags = np.zeros(n_max, dtype=np.int8)
    times = np.empty(n_max)
    k = 0
    t = t0
    while t + dt * TIME_RPREC < tf:
        times[k] = t
        flags[k] = 1 if is_save_time(t, t0, dt, saveper) else 0
        t = t + dt
        k += 1
    times[k] = t
    flags[k] = 1 if is_save_time(t, t0, dt, saveper) else 0
    return k, flags[: k + 1], times[: k + 1]


def save_times(t0: float, dt: float, tf: float, saveper: float) -> np.ndarray:
    """The output times of a fixed-step run."""
    _, flags, times = time_grid(t0, dt, tf, saveper)
    return times[flags == 1]
