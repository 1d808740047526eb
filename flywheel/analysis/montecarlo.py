"""Monte Carlo: what the uncertain inputs make of a scenario's future, as fan charts and probabilities.

``montecarlo(model_or_scenarios, ranges, n=10_000, seed=0)`` draws ``n`` input sets from ``ranges``
(independent draws; the same seed gives the same draws) and runs them on every scenario given, the
same draws for each (common random numbers: differences between scenarios are the policy's, not the
sample's). ``MonteCarlo.percentiles`` and ``plot`` give 5/25/50/75/95 percentile fans of any kept
variable, ``probability("Target Attainment >= 0.95 at month 60")`` the share of runs where a condition
holds (see ``analysis.quantities``) with its Wilson score interval. Runs that diverged are counted,
left out of percentiles and probabilities, and reported with the input most likely responsible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from .quantities import parse_condition
from .ranges import Ranges
from .subjects import ranges_for, subjects, time_unit

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

PERCENTILES = (5, 25, 50, 75, 95)


@dataclass(frozen=True)
class Probability:
    """The share of runs where ``condition`` holds, with its Wilson score interval."""

    condition: str
    scenario: str
    p: float
    low: float
    high: float
    successes: int
    n: int  # runs where the condition could be evaluated (diverged runs left out)
    diverged: int
    confidence: float = 0.95

    def __str__(self) -> str:
        if self.n == 0:
            return f"P({self.condition}) [{self.scenario}]: undefined (no run finished)"
        left = f"; {self.diverged:,} diverged runs left out" if self.diverged else ""
        return (f"P({self.condition}) [{self.scenario}] = {self.p:.3f}  "
                f"({self.confidence:.0%} interval {self.low:.3f} - {self.high:.3f}; {self.successes:,} of {self.n:,} runs{left})")  # fmt: skip


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion (good near 0 and 1, unlike the normal one)."""
    from statistics import NormalDist

    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends where rounding would miss them
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


@dataclass(frozen=True)
class MonteCarlo:
    """Runs of one or more scenarios over one sample of the uncertain inputs (every field always exists).

    ``dataset``: the kept variables over (scenario, member, time), with ``diverged`` (scenario, member);
    ``inputs``: the drawn inputs (one row per member); ``diverged``: count per scenario; ``notes``: what
    the report warns about (divergence and its likely cause)."""

    dataset: xr.Dataset
    inputs: pd.DataFrame
    ranges: Ranges
    scenarios: tuple[str, ...]
    titles: dict[str, str]
    n: int
    seed: int
    diverged: dict[str, int]
    notes: tuple[str, ...] = ()
    time_unit: str = "Month"
    units: dict[str, str] = field(default_factory=dict)
    panels: tuple[tuple[str, str, float | None, bool], ...] = ()  # (variable, label, reference, percent)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def variables(self) -> list[str]:
        return [str(v) for v in self.dataset.data_vars]

    def percentiles(self, variable: str, q: tuple[float, ...] = PERCENTILES) -> xr.DataArray:
        """Percentiles over the runs that finished: (scenario, percentile, time)."""
        import xarray as xr

        name = self._variable(variable)
        cache = self.extra.setdefault("percentiles", {})
        if (name, tuple(q)) in cache:
            return cache[(name, tuple(q))]
        values = self.dataset[name].values  # (scenario, member, time)
        finite = ~self.dataset["diverged"].values
        out = np.full((len(self.scenarios), len(q), values.shape[2]), np.nan)
        for s in range(len(self.scenarios)):
            kept = values[s][finite[s]]
            if len(kept):
                out[s] = np.percentile(kept, q, axis=0)
        bands = xr.DataArray(out, dims=("scenario", "percentile", "time"),
                             coords={"scenario": list(self.scenarios), "percentile": list(q), "time": self.dataset["time"].values},
                             name=name)  # fmt: skip
        cache[(name, tuple(q))] = bands
        return bands

    def percentile_table(self, variables: list[str] | None = None) -> pd.DataFrame:
        """Every kept variable's percentiles as one long table (scenario, variable, time, p5 ... p95)."""
        import pandas as pd

        frames = []
        for variable in variables or self.variables:
            da = self.percentiles(variable)
            for s in self.scenarios:
                block = pd.DataFrame(da.sel(scenario=s).values.T, columns=[f"p{q:g}" for q in PERCENTILES])
                block.insert(0, "time", da["time"].values)
                block.insert(0, "variable", variable)
                block.insert(0, "scenario", s)
                frames.append(block)
        return pd.concat(frames, ignore_index=True)

    def probability(self, condition: str, scenario: str | None = None, confidence: float = 0.95) -> Probability:
        """The share of finished runs where ``condition`` holds, e.g. "Target Attainment >= 0.95 at month 60",
        with its Wilson interval. With several scenarios, name one."""
        s = self._scenario(scenario)
        parsed = parse_condition(condition, self.variables, "condition")
        times = self.dataset["time"].values
        parsed.check_times(times)
        values = {v: self.dataset[v].values[s] for v in parsed.variables}
        holds, defined = parsed.evaluate(values, times)
        defined &= ~self.dataset["diverged"].values[s]
        successes, n = int(np.sum(holds & defined)), int(np.sum(defined))
        low, high = wilson_interval(successes, n, confidence)
        p = successes / n if n else math.nan
        return Probability(parsed.label, self.scenarios[s], p, low, high, successes, n,
                           int(len(defined) - n), confidence)  # fmt: skip

    def probability_table(self, conditions: list[str], confidence: float = 0.95) -> pd.DataFrame:
        """Every condition for every scenario: p, its interval, and the counts."""
        import pandas as pd

        rows = [vars(self.probability(c, s, confidence)) for c in conditions for s in self.scenarios]
        return pd.DataFrame(rows)[["scenario", "condition", "p", "low", "high", "successes", "n", "diverged", "confidence"]]

    def report(self, conditions: list[str] | None = None) -> str:
        lines = [f"Monte Carlo: {self.n:,} runs per scenario, seed {self.seed}, "
                 f"{len(self.ranges)} uncertain inputs (ranges from {self.ranges.source})"]  # fmt: skip
        for s in self.scenarios:
            lines.append(f"  {s}: {self.titles.get(s, s)}; {self.diverged[s]:,} diverged")
        for condition in conditions or []:
            for s in self.scenarios:
                lines.append(str(self.probability(condition, s)))
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {note}" for note in self.notes)
        return "\n".join(lines)

    def plot(self, variables: list[str] | None = None, title: str | None = None) -> Figure:
        """Fan charts (5-95 and 25-75 percentile bands, median line), one panel per variable, every
        scenario in its own colour on the same panels."""
        from .uncertainty_figures import fan_chart

        chosen = [self._variable(v) for v in (variables or self.variables)]
        return fan_chart(self, chosen, title)

    def _variable(self, variable: str) -> str:
        if variable in self.dataset.data_vars:
            return variable
        loose = {"".join(str(v).split()).casefold(): str(v) for v in self.dataset.data_vars}
        key = "".join(str(variable).split()).casefold()
        if key in loose:
            return loose[key]
        raise ParameterError(
            f"{variable!r} was not kept in this Monte Carlo run; kept: {', '.join(self.variables)} "
            "(pass variables=[...] to montecarlo to keep others)"
        )

    def _scenario(self, scenario: str | None) -> int:
        if scenario is None:
            if len(self.scenarios) > 1:
                raise ParameterError(f"several scenarios ran; name one of {', '.join(self.scenarios)}")
            return 0
        if scenario not in self.scenarios:
            raise ParameterError(f"scenario {scenario!r} did not run; scenarios: {', '.join(self.scenarios)}")
        return self.scenarios.index(scenario)


def montecarlo(
    model_or_scenario: Any,
    ranges: Any = None,
    *,
    n: int = 10_000,
    seed: int = 0,
    variables: list[str] | None = None,
    sampling: str = "random",
    scheduler: Any = None,
    store: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
) -> MonteCarlo:
    """``n`` runs per scenario over draws from ``ranges`` (see the module text).

    ``model_or_scenario``: a Model, a Scenario, a path, or a list of scenarios of one model.
    ``variables``: what to keep (default: the model profile's panels). ``sampling``: "random" or "lhs".
    ``store``: a folder; each scenario's runs go to ``<store>/montecarlo-<scenario>.zarr`` chunk by chunk
    and resume after an interruption. ``scheduler``: a Dask address or Client to run the chunks on."""
    import pandas as pd

    from ..scale import run_sweep
    from ..scenarios import load_profile

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n must be a whole number of runs of at least 1, got {n!r}")
    items = subjects(model_or_scenario)
    first = items[0]
    the_ranges = ranges_for(ranges, first)
    model = first.model
    profile = load_profile(model)
    keep = _variables(variables, model, profile)
    inputs = the_ranges.sample(int(n), seed, method=sampling)
    results, diverged, notes = [], {}, []
    reused = 0
    for item in items:
        path = None
        if store is not None:
            from pathlib import Path

            path = Path(store) / f"montecarlo-{item.name}.zarr"
        sweep = run_sweep(item.spec, inputs, keep, store=path, scheduler=scheduler, chunk_size=chunk_size,
                          progress=progress)  # fmt: skip
        reused += sweep.reused_chunks
        results.append(sweep.dataset)
        flags = sweep.diverged
        diverged[item.name] = int(flags.sum())
        if flags.any():
            from .sensitivity import _divergence_note

            notes.append(f"{item.name}: {_divergence_note(flags, inputs, the_ranges)}")
    dataset = _stack(results, [i.name for i in items], keep)
    panels = _panels(keep, profile)
    return MonteCarlo(
        dataset=dataset, inputs=pd.DataFrame(inputs, index=pd.RangeIndex(int(n), name="member")),
        ranges=the_ranges, scenarios=tuple(i.name for i in items), titles={i.name: i.title for i in items},
        n=int(n), seed=seed, diverged=diverged, notes=tuple(notes), time_unit=time_unit(model),
        units={v: model.variables[v].units for v in keep}, panels=panels, extra={"reused_chunks": reused},
    )  # fmt: skip


def _variables(variables: list[str] | None, model: Any, profile: Any) -> list[str]:
    if variables is None:
        chosen = [p.variable for p in profile.panels] or list(model.stocks)
    else:
        items = [variables] if isinstance(variables, str) else list(variables)
        if not items:
            raise ParameterError("variables: name at least one variable to keep")
        chosen = [model.resolve_name(v) for v in items]
    return list(dict.fromkeys(chosen))


def _panels(keep: list[str], profile: Any) -> tuple:
    by_variable = {p.variable: p for p in profile.panels}
    return tuple(
        (v, by_variable[v].label if v in by_variable else v,
         by_variable[v].reference if v in by_variable else None,
         bool(by_variable[v].percent) if v in by_variable else False)
        for v in keep
    )  # fmt: skip


def _stack(results: list[xr.Dataset], names: list[str], keep: list[str]) -> xr.Dataset:
    import xarray as xr

    first = results[0]
    data = {v: (("scenario", "member", "time"), np.stack([r[v].values for r in results])) for v in keep}
    diverged = np.stack([np.asarray(r["diverged"].values, dtype=bool) for r in results])
    coords = {"scenario": names, "member": np.arange(first.sizes["member"]), "time": first["time"].values,
              "diverged": (("scenario", "member"), diverged)}  # fmt: skip
    return xr.Dataset(data, coords=coords)

