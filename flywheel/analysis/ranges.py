"""Uncertain inputs: one small format for ranges and distributions, used by every analysis.

In TOML (a file of its own, e.g. ``scenarios/ranges/judgement.toml``, or a ``[ranges]`` table in a
scenario file)::

    [ranges]
    "Trust Erosion Time" = { low = 4, high = 9 }                                   # uniform
    "Overlay Response Before" = { distribution = "normal", mean = 4.8, sd = 1, low = 0, high = 10 }
    "Conversion Power" = { distribution = "lognormal", median = 4, sigma = 0.2, low = 2.6, high = 6 }
    "Review Period Before" = { distribution = "triangular", low = 1, mode = 3, high = 12 }

Normal and lognormal distributions may be truncated with ``low``/``high``. In Python every analysis takes
ranges as that file's path, a plain dict ``{name: (low, high)}`` (uniform), a ``Ranges``, or ``None``
(the documented ranges of the model's constants). Names are checked against the model (with "did you
mean"), and bounds against the documented range of each constant. Samplers take an explicit seed:
the same seed gives the same numbers.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from ..scenarios.toml_checks import read_toml

if TYPE_CHECKING:
    from ..core import Model

_U_EDGE = 1e-9  # unit samples of 0 or 1 (Morris levels, some designs) map to these quantiles when unbounded
DISTRIBUTIONS = ("uniform", "normal", "lognormal", "triangular")
_KEYS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "lognormal": ("median", "sigma", "low", "high"),
    "triangular": ("low", "mode", "high"),
}
_REQUIRED = {"uniform": ("low", "high"), "normal": ("mean", "sd"), "lognormal": ("median", "sigma"),
             "triangular": ("low", "mode", "high")}  # fmt: skip


@dataclass(frozen=True)
class Distribution:
    """One uncertain input: a distribution and its support ``[low, high]`` (infinite when untruncated)."""

    name: str
    kind: str = "uniform"
    low: float = -math.inf
    high: float = math.inf
    mean: float | None = None  # normal
    sd: float | None = None  # normal
    median: float | None = None  # lognormal
    sigma: float | None = None  # lognormal (of the logarithm)
    mode: float | None = None  # triangular

    @property
    def bounds(self) -> tuple[float, float]:
        """A finite interval for samplers that need one (SALib, Latin hypercubes): the support, or the
        0.1% and 99.9% quantiles where the support is infinite."""
        low, high = self.low, self.high
        if math.isinf(low) or math.isinf(high):
            q_low, q_high = self.ppf(np.array([0.001, 0.999]))
            low = q_low if math.isinf(low) else low
            high = q_high if math.isinf(high) else high
        return float(low), float(high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles: maps uniform numbers in (0, 1) to this distribution (truncation respected).

        The result is clipped to [low, high]: ``low + 1 * (high - low)`` can round past ``high`` (1.7 + (3.9 -
        1.7) is 3.9000000000000004), and a design that puts draws at the edges (Morris) would then step
        outside the documented range the bounds were checked against."""
        return np.clip(self._quantiles(u), self.low, self.high)

    def _quantiles(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        if math.isinf(self.low) or math.isinf(self.high):  # 0 and 1 would map to an infinite value
            u = np.clip(u, _U_EDGE, 1.0 - _U_EDGE)
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)
        from scipy import stats

        if self.kind == "triangular":
            scale = self.high - self.low
            return stats.triang.ppf(u, (self.mode - self.low) / scale, loc=self.low, scale=scale)
        base = (
            stats.norm(self.mean, self.sd) if self.kind == "normal" else stats.lognorm(self.sigma, scale=self.median)
        )
        lo, hi = base.cdf(self.low), base.cdf(self.high)
        return base.ppf(lo + u * (hi - lo))


@dataclass(frozen=True)
class Ranges(Mapping[str, Distribution]):
    """Uncertain inputs by model name, in a fixed order (the order of sample columns)."""

    items_: tuple[Distribution, ...]
    source: str = "the model's documented ranges"
    _index: dict[str, Distribution] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({d.name: d for d in self.items_})

    def __getitem__(self, name: str) -> Distribution:
        return self._index[name]

    def __iter__(self) -> Iterator[str]:
        return iter(d.name for d in self.items_)

    def __len__(self) -> int:
        return len(self.items_)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.items_]

    def from_unit(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Columns from uniform numbers ``u`` (rows: members, columns: inputs in order)."""
        u = np.atleast_2d(u)
        return {d.name: d.ppf(u[:, j]) for j, d in enumerate(self.items_)}

    def sample(self, n: int, seed: int, method: str = "random") -> dict[str, np.ndarray]:
        """``n`` draws of every input: independent ("random") or a Latin hypercube ("lhs")."""
        if method == "lhs":
            from scipy.stats import qmc

            u = qmc.LatinHypercube(d=len(self), seed=seed).random(n)
        elif method == "random":
            u = np.random.default_rng(seed).random((n, len(self)))
        else:
            raise ParameterError(f"sampling method {method!r} is not known; choose 'random' or 'lhs'")
        return self.from_unit(u)

    def salib_problem(self) -> dict[str, Any]:
        """SALib's problem specification (the bounds; non-uniform inputs are mapped with ``from_unit``)."""
        return {"num_vars": len(self), "names": self.names, "bounds": [list(d.bounds) for d in self.items_]}


def load_ranges(source: Any, model: Model, *, strict_bounds: bool = True) -> Ranges:
    """Ranges from a TOML path (a ranges file, or a scenario file with a ``[ranges]`` table), a
    ``Scenario`` (its ``[ranges]``), a dict ``{name: (low, high)}`` or of TOML-like tables, a ``Ranges``,
    or ``None`` (every constant with a documented range). Checked against the model."""
    if isinstance(source, Ranges):
        return source
    if source is None:
        items = []
        for name in model.constants:
            low, high = model.variables[name].limits
            if low is not None and high is not None and low < high:
                items.append(Distribution(name, "uniform", float(low), float(high)))
        return Ranges(tuple(items))
    where = "ranges"
    if hasattr(source, "ranges") and hasattr(source, "path"):  # a Scenario: its [ranges] table
        where = f"{source.path}: [ranges]"
        if not source.ranges:
            raise ParameterError(f"{source.path}: the scenario has no [ranges] table")
        source = source.ranges
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        where = str(path)
        raw = read_toml(path, "ranges file", ParameterError)
        if "model" in raw and "title" in raw:  # a scenario file: its [ranges] table
            if not isinstance(raw.get("ranges"), dict) or not raw["ranges"]:
                raise ParameterError(f"{path}: the scenario has no [ranges] table")
            where = f"{path}: [ranges]"
        elif set(raw) - {"ranges"} or not isinstance(raw.get("ranges"), dict):
            extra = sorted(set(raw) - {"ranges"})
            found = f" (found {', '.join(extra)})" if extra else ""
            raise ParameterError(
                f"{path}: expected one table [ranges] of name = {{ low = ..., high = ... }}{found}"
            )
        source = raw["ranges"]
    if not isinstance(source, Mapping):
        raise ParameterError("ranges must be a TOML file, a dict {name: (low, high)}, a Ranges object or None")
    items = tuple(_distribution(where, model, name, spec, strict_bounds) for name, spec in source.items())
    if not items:
        raise ParameterError(f"{where}: no ranges given")
    return Ranges(items, where if where != "ranges" else "the ranges given")


def _distribution(where: str, model: Model, raw_name: Any, spec: Any, strict_bounds: bool) -> Distribution:
    variables = model.variables
    name = raw_name if raw_name in variables else None
    if name is None:
        loose = {str(n).casefold(): n for n in variables}
        name = loose.get(str(raw_name).casefold())
    if name is None:
        close = difflib.get_close_matches(str(raw_name), list(variables), n=1)
        hint = f"; did you mean {json.dumps(close[0])}?" if close else ""
        raise ParameterError(f"{where}: {json.dumps(str(raw_name))}: unknown variable{hint}")
    info = variables[name]
    if info.kind != "constant":
        raise ParameterError(f"{where}: {json.dumps(name)} is a {info.kind}; only constants can have a range")
    label = f"{where}: {json.dumps(name)}"
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        spec = {"low": spec[0], "high": spec[1]}
    if not isinstance(spec, Mapping):
        raise ParameterError(f"{label}: expected {{ low = ..., high = ... }} or (low, high)")
    kind = spec.get("distribution", "uniform")
    if kind not in DISTRIBUTIONS:
        raise ParameterError(f"{label}: distribution {kind!r} is not known (allowed: {', '.join(DISTRIBUTIONS)})")
    allowed = {"distribution", *_KEYS[kind]}
    for key in spec:
        if key not in allowed:
            raise ParameterError(f"{label}: {key!r} does not belong to a {kind} range (allowed: {', '.join(sorted(allowed))})")
    values: dict[str, float] = {}
    for key in _KEYS[kind]:
        if key in spec:
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
                raise ParameterError(f"{label}: {key} = {value!r} is not a finite number")
            values[key] = float(value)
    missing = [k for k in _REQUIRED[kind] if k not in values]
    if missing:
        raise ParameterError(f"{label}: a {kind} range needs {', '.join(missing)}")
    low, high = values.get("low", -math.inf), values.get("high", math.inf)
    if not low < high:
        raise ParameterError(f"{label}: low ({low:g}) must be below high ({high:g})")
    if kind == "normal" and values["sd"] <= 0 or kind == "lognormal" and (values["sigma"] <= 0 or values["median"] <= 0):
        raise ParameterError(f"{label}: the spread (sd, sigma) and a lognormal's median must be positive")
    if kind == "triangular" and not low <= values["mode"] <= high:
        raise ParameterError(f"{label}: mode {values['mode']:g} must lie between low and high")
    documented_low, documented_high = info.limits
    if strict_bounds:
        support_low = 0.0 if kind == "lognormal" and math.isinf(low) else low
        if (documented_low is not None and support_low < documented_low) or (
            documented_high is not None and high > documented_high
        ):
            shown = f"[{'-inf' if documented_low is None else f'{documented_low:g}'}, {'inf' if documented_high is None else f'{documented_high:g}'}]"
            raise ParameterError(
                f"{label}: [{support_low:g}, {high:g}] goes outside the documented range {shown} "
                "(truncate it with low and high)"
            )
    extra = {k: v for k, v in values.items() if k not in ("low", "high")}
    return Distribution(name, kind, low, high, **extra)
