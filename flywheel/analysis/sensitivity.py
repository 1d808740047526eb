"""Global sensitivity through time: which uncertain inputs drive an outcome, month by month.

``sensitivity(model, ranges, outputs, method="sobol"|"morris"|"fast", n=1024)``: SALib draws the design
on the unit hypercube, ``Ranges.from_unit`` maps it to each input's distribution, the ensemble engine
runs every member (``scale.run_sweep``: one ensemble, or chunks to a zarr store or a Dask cluster), and
SALib's estimators give the indices, for a variable at every output time (SALib analyses one output at a
time; users ask for time-resolved indices, SALib issue 525) or for one-number outcomes (final, min, max,
mean, cumulative, at a month, first time below a threshold; see ``analysis.quantities``).

Sobol' (Saltelli design, N (2D + 2) runs): S1, ST, their bootstrap 95% intervals and S2. Morris
(N trajectories, N (D + 1) runs, 4 levels): mu, mu_star, sigma and mu_star's interval, as elementary
effects in the outcome's units per an input's whole range (in quantile space: a linear effect of a uniform
input is the change from its low to its high end). FAST (eFAST, N D runs): S1, ST.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .quantities import Quantity, check_times, parse_quantities
from .ranges import Ranges
from .sobol_time import NO_VARIATION
from .subjects import ranges_for, subject, time_unit

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

METHODS = ("sobol", "morris", "fast")
VARIABLES = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "sigma", "mu_star_conf"),
    "fast": ("S1", "S1_conf", "ST", "ST_conf"),
}
MORRIS_LEVELS = 4
FAST_M = 4
RESAMPLES = 100


@dataclass(frozen=True)
class Sensitivity:
    """Sensitivity indices of one or more outcomes (every field always exists).

    ``indices``: an ``xarray.Dataset`` over (output, parameter, time) for outcomes that are variables
    through time (S1, S1_conf, ST, ST_conf [, S2, S2_conf over parameter_2] for Sobol and FAST; mu,
    mu_star, sigma, mu_star_conf for Morris); ``scalars``: the same over (output, parameter) for one-number
    outcomes. Either may have no outputs. ``samples``: the inputs of every run; ``evaluations``: the
    outcomes of every run. ``diverged``: runs that blew up (their outcomes are NaN, and so are the
    indices where they count); ``notes``: what the report warns about."""

    method: str
    indices: xr.Dataset
    scalars: xr.Dataset
    outputs: tuple[str, ...]
    parameters: tuple[str, ...]
    ranges: Ranges
    n: int
    n_runs: int
    seed: int
    samples: pd.DataFrame
    evaluations: xr.Dataset
    diverged: int
    title: str
    notes: tuple[str, ...] = ()
    time_unit: str = "Month"
    units: dict[str, str] = field(default_factory=dict)  # output label -> its units
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def main_index(self) -> str:
        """The index that ranks inputs: ST (Sobol, FAST) or mu_star (Morris)."""
        return "mu_star" if self.method == "morris" else "ST"

    def table(self, output: str | None = None, time: float | None = None) -> pd.DataFrame:
        """Indices of one outcome (at ``time`` for a variable through time, default its last time),
        one row per input, most influential first."""
        import pandas as pd

        label, ds = self._find(output)
        if "time" in ds.dims:
            times = ds["time"].values
            when = times[-1] if time is None else check_times([time], times, f"{label}: time")[0]
            ds = ds.sel(time=when)
        frame = pd.DataFrame(
            {name: ds[name].values for name in VARIABLES[self.method]}, index=pd.Index(self.parameters, name="parameter")
        )
        return frame.sort_values(self.main_index, ascending=False, na_position="last")

    def _find(self, output: str | None) -> tuple[str, xr.Dataset]:
        label = output if output is not None else self.outputs[0]
        for ds in (self.indices, self.scalars):
            if "output" in ds.dims and label in list(ds["output"].values):
                return label, ds.sel(output=label)
        raise ParameterError(f"output {label!r} was not analysed; outputs: {', '.join(self.outputs)}")

    def report(self) -> str:
        """A readable summary: the design, the ranking of inputs per outcome with intervals, the notes."""
        lines = [f"Sensitivity of {self.title}: {self._method_name()}",
                 f"  {len(self.parameters)} inputs, N = {self.n}, {self.n_runs:,} runs, seed {self.seed}; "
                 f"ranges from {self.ranges.source}"]  # fmt: skip
        if self.diverged:
            lines.append(f"  {self.diverged:,} of {self.n_runs:,} runs diverged (see the notes)")
        for label in self.outputs:
            _, ds = self._find(label)
            through_time = "time" in ds.dims
            when = f" at {self.time_unit.lower()} {ds['time'].values[-1]:g}" if through_time else ""
            lines.append("")
            lines.append(f"{label}{when}:")
            table = self.table(label)
            lines.append(_format_table(table, self.method))
            if through_time:
                lines.append(self._leaders(label, ds))
        if self.notes:
            lines.append("")
            lines.append("Notes:")
            lines.extend(textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    ") for n in self.notes)
        return "\n".join(lines)

    def _method_name(self) -> str:
        return {"sobol": "Sobol' indices (Saltelli design, bootstrap 95% intervals)",
                "morris": f"Morris elementary effects ({MORRIS_LEVELS} levels)",
                "fast": "extended FAST (first-order and total indices)"}[self.method]  # fmt: skip

    def _leaders(self, label: str, ds: xr.Dataset) -> str:
        """Which input leads at a few times: how the drivers change through the run."""
        index = ds[self.main_index]
        times = ds["time"].values
        picks = np.unique(np.linspace(0, len(times) - 1, min(6, len(times))).round().astype(int))
        parts = []
        for i in picks:
            column = index.isel(time=i).values
            if np.all(np.isnan(column)):
                parts.append(f"{times[i]:g}: no variation")
            else:
                parts.append(f"{times[i]:g}: {self.parameters[int(np.nanargmax(column))]}")
        return textwrap.fill(f"  leading input ({self.main_index}) by {self.time_unit.lower()}: " + "; ".join(parts),
                             100, subsequent_indent="    ")  # fmt: skip

    def plot(self, output: str | None = None, kind: str = "heatmap", time: float | None = None) -> Figure:
        """``kind="heatmap"``: the main indices of a variable over time; ``"bars"``: every input's
        indices with their intervals at one time (or for a one-number outcome)."""
        from .uncertainty_figures import sensitivity_bars, sensitivity_heatmap

        label, ds = self._find(output)
        if kind == "heatmap":
            if "time" not in ds.dims:
                raise ParameterError(f"{label!r} is one number per run: plot it with kind='bars'")
            return sensitivity_heatmap(self, label, ds)
        if kind == "bars":
            return sensitivity_bars(self, label, self.table(label, time), time if "time" in ds.dims else None, ds)
        raise ParameterError(f"kind {kind!r} is not known; choose 'heatmap' or 'bars'")


def sensitivity(
    model: Any,
    ranges: Any = None,
    outputs: Any = None,
    *,
    method: str = "sobol",
    n: int = 1024,
    times: Any = None,
    seed: int = 0,
    scenario: Any = None,
    second_order: bool = True,
    store: Any = None,
    scheduler: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
) -> Sensitivity:
    """Sensitivity indices of ``outputs`` to the inputs in ``ranges`` (see the module text).

    ``model``: a Model, Scenario or path; ``scenario``: a scenario of that model to use as the base.
    ``times``: the output times of the indices for variables through time (default: every output time).
    ``store``/``scheduler``: a zarr path to make the runs resumable, a Dask cluster to run them on, in
    chunks of ``chunk_size`` members (default 8192)."""
    from SALib.sample import fast_sampler, morris, sobol

    if method not in METHODS:
        raise ParameterError(f"method {method!r} is not known; choose {', '.join(METHODS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ParameterError(f"n must be a whole number of at least 2, got {n!r}")
    if method == "fast" and n <= 4 * FAST_M**2:
        raise ParameterError(f"FAST needs n above {4 * FAST_M**2} (4 M^2 with M = {FAST_M}), got {n}")
    the_subject = subject(scenario if scenario is not None else model, model=_model_or_none(model, scenario))
    the_ranges = ranges_for(ranges, the_subject)
    model_ = the_subject.model
    spec = the_subject.spec
    quantities = parse_quantities(outputs, list(model_.variables), "outputs")
    save_times = spec.time.grid.save_times
    for q in quantities:
        q.check_times(save_times, f"outputs: {q.label!r}")
    series_times = check_times(times, save_times, "times")
    D = len(the_ranges)
    unit = {"num_vars": D, "names": the_ranges.names, "bounds": [[0.0, 1.0]] * D}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's note on powers of two: the caller chose n
        if method == "sobol":
            design = sobol.sample(unit, int(n), calc_second_order=second_order, seed=seed)
        elif method == "morris":
            design = morris.sample(unit, int(n), num_levels=MORRIS_LEVELS, seed=seed)
        else:
            design = fast_sampler.sample(unit, int(n), M=FAST_M, seed=seed)
    inputs = the_ranges.from_unit(design)
    from ..scale import run_sweep

    columns = list(dict.fromkeys(q.variable for q in quantities))
    sweep = run_sweep(spec, inputs, columns, store=store, scheduler=scheduler, chunk_size=chunk_size, progress=progress)
    data = sweep.dataset
    diverged = sweep.diverged
    notes = []
    if diverged.any():
        notes.append(_divergence_note(diverged, inputs, the_ranges))
    evaluations, series, scalars = {}, [], []
    for q in quantities:
        values = q.evaluate(data[q.variable].values, save_times)
        if q.kind.startswith("first_"):
            never = np.isnan(values) & ~diverged
            if never.any():
                notes.append(f"{q.label}: {never.sum():,} of {len(values):,} runs never cross; they count as "
                             f"crossing at the final time ({save_times[-1]:g})")  # fmt: skip
                values = np.where(never, save_times[-1], values)
        if q.is_series:
            keep = np.searchsorted(save_times, series_times)
            values = values[:, keep]
            series.append((q, values))
            evaluations[q.label] = (("run", "time"), values)
        else:
            scalars.append((q, values))
            evaluations[q.label] = (("run",), values)
    seed_resample = seed + 1
    analysed_series = [(q, _analyse(method, unit, design, v, second_order, seed_resample)) for q, v in series]
    analysed_scalars = [(q, _analyse(method, unit, design, v[:, None], second_order, seed_resample)) for q, v in scalars]
    import pandas as pd
    import xarray as xr

    indices = _dataset(analysed_series, the_ranges.names, series_times, method)
    scalar_ds = _dataset(analysed_scalars, the_ranges.names, None, method)
    samples = pd.DataFrame(inputs, index=pd.RangeIndex(len(design), name="run"))
    evaluation_ds = xr.Dataset(evaluations, coords={"time": series_times} if series else {})
    return Sensitivity(
        method=method, indices=indices, scalars=scalar_ds, outputs=tuple(q.label for q in quantities),
        parameters=tuple(the_ranges.names), ranges=the_ranges, n=int(n), n_runs=len(design), seed=seed,
        samples=samples, evaluations=evaluation_ds, diverged=int(diverged.sum()), title=the_subject.title,
        notes=tuple(notes), time_unit=time_unit(model_),
        units={q.label: _units(model_, q) for q in quantities},
        extra={"reused_chunks": sweep.reused_chunks, "chunks": sweep.n_chunks},
    )  # fmt: skip


def _units(model: Any, quantity: Quantity) -> str:
    if quantity.kind.startswith("first_"):
        return "time"
    units = model.variables[quantity.variable].units or ""
    return units if units.lower() not in ("dmnl", "1", "") else "dimensionless"


def _model_or_none(model: Any, scenario: Any) -> Any:
    from ..core import Model

    return model if scenario is not None and isinstance(model, Model) else None


def _analyse(method: str, unit: dict, design: np.ndarray, Y: np.ndarray, second_order: bool, seed: int) -> dict:
    """Indices per column of Y (runs, times): arrays (params, times) [and (params, params, times)]."""
    if method == "sobol":
        from .sobol_time import sobol_through_time

        return sobol_through_time(Y, unit["num_vars"], second_order=second_order, num_resamples=RESAMPLES, seed=seed)
    from SALib.analyze import fast, morris

    D, T = unit["num_vars"], Y.shape[1]
    keys = VARIABLES[method]
    out = {key: np.full((D, T), np.nan) for key in keys}
    for t in range(T):
        y = Y[:, t]
        if not np.all(np.isfinite(y)) or np.std(y) <= NO_VARIATION * np.abs(y).max():
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # FAST's note that its bootstrap intervals are indicative
            if method == "morris":
                result = morris.analyze(unit, design, y, num_resamples=RESAMPLES, num_levels=MORRIS_LEVELS, seed=seed)
            else:
                result = fast.analyze(unit, y, M=FAST_M, num_resamples=RESAMPLES, seed=seed)
        for key in keys:
            out[key][:, t] = np.asarray(result[key], dtype=float)
    return out


def _dataset(analysed, names: list[str], times: np.ndarray | None, method: str) -> xr.Dataset:
    import xarray as xr

    labels = [q.label for q, _ in analysed]
    keys = [k for k in VARIABLES[method]] + (["S2", "S2_conf"] if analysed and "S2" in analysed[0][1] else [])
    data = {}
    for key in keys:
        stacked = np.stack([a[key] for _, a in analysed]) if analysed else np.empty((0, len(names), 0 if times is None else len(times)))
        if key.startswith("S2"):
            dims = ("output", "parameter", "parameter_2", "time")
        else:
            dims = ("output", "parameter", "time")
        if times is None:
            stacked = stacked[..., 0] if analysed else stacked[..., :0].reshape(stacked.shape[:-1])
            dims = dims[:-1]
        data[key] = (dims, stacked)
    coords: dict[str, Any] = {"output": labels, "parameter": list(names)}
    if any(k.startswith("S2") for k in keys):
        coords["parameter_2"] = list(names)
    if times is not None:
        coords["time"] = np.asarray(times, dtype=float)
    return xr.Dataset(data, coords=coords, attrs={"method": method})


def _divergence_note(diverged: np.ndarray, inputs: dict[str, np.ndarray], ranges: Ranges) -> str:
    """Which input's range makes runs blow up: the one whose values differ most between the runs that
    diverged and the others (Kolmogorov-Smirnov statistic)."""
    from scipy.stats import ks_2samp

    count, total = int(diverged.sum()), len(diverged)
    text = f"{count:,} of {total:,} runs diverged (a stock became infinite or NaN); their outcomes are NaN"
    if count == total:
        return text + ": every run diverged; the ranges or the model's settings cannot be run"
    scores = {name: ks_2samp(values[diverged], values[~diverged]).statistic for name, values in inputs.items()}
    worst = max(scores, key=scores.get)
    bad = inputs[worst][diverged]
    low, high = ranges[worst].bounds
    return (f"{text}. They come from {worst!r} = {bad.min():.4g} .. {bad.max():.4g} (range {low:g} .. {high:g}); "
            "narrow that range or check the model there")  # fmt: skip


def _format_table(table: pd.DataFrame, method: str) -> str:
    if method == "morris":
        header = f"    {'input':<40} {'mu*':>10} {'+-':>9} {'mu':>10} {'sigma':>10}"
        rows = [f"    {name[:40]:<40} {r.mu_star:>10.4g} {r.mu_star_conf:>9.3g} {r.mu:>10.4g} {r.sigma:>10.4g}"
                for name, r in table.iterrows()]  # fmt: skip
    else:
        header = f"    {'input':<40} {'S1':>7} {'+-':>6} {'ST':>7} {'+-':>6}"
        rows = [f"    {name[:40]:<40} {_num(r.S1)} {_num(r.S1_conf, 6)} {_num(r.ST)} {_num(r.ST_conf, 6)}"
                for name, r in table.iterrows()]  # fmt: skip
    return "\n".join([header, *rows])


def _num(x: float, width: int = 7) -> str:
    return f"{'n/a':>{width}}" if x is None or math.isnan(x) else f"{x:>{width}.3f}"
