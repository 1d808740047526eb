"""``Model``: the researcher's handle on a compiled model, with PySD's habits.

``run`` returns PySD's DataFrame shape and ``run_ensemble`` an xarray Dataset; both are thin wrappers
over ``build_spec`` + ``simulate``. ``spec``, ``simulate`` and ``stepper`` expose the layers beneath.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compiled import CompiledModel, VariableInfo, load_compiled
from .spec import IvpOptions, Parameter, RunSpec, build_spec, parameters, resolve_name

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from .results import Result
    from .stepper import State, Stepper


class Model:
    """A model compiled to machine code. Create it with ``flywheel.load_model``; it pickles."""

    def __init__(self, compiled: CompiledModel):
        self.compiled = compiled
        self._default_spec: RunSpec | None = None

    # ------------------------------------------------------------------ metadata
    @property
    def path(self) -> Path:
        return self.compiled.path

    @property
    def name(self) -> str:
        return self.compiled.name

    @property
    def variables(self) -> dict[str, VariableInfo]:
        return self.compiled.variables

    @property
    def dependencies(self) -> dict[str, set[str]]:
        """The named causal graph: the variables each variable's equation reads."""
        return self.compiled.dependencies

    def _names_of(self, *kinds: str) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind in kinds]

    @property
    def stocks(self) -> list[str]:
        return self._names_of("stock")

    @property
    def constants(self) -> list[str]:
        return self._names_of("constant")

    @property
    def lookups(self) -> list[str]:
        return self._names_of("lookup")

    @property
    def auxiliaries(self) -> list[str]:
        return self._names_of("auxiliary", "flow")

    @property
    def has_discrete_state(self) -> bool:
        return self.compiled.layout.has_discrete_state

    @property
    def decisions(self) -> list[str]:
        """Variables whose equation is GAME(x): the decisions a player of ``flywheel.Game`` holds."""
        return list(self.compiled.layout.decisions)

    @property
    def incomplete(self) -> list[str]:
        """Variables whose equation is A FUNCTION OF (the model has structure but cannot run)."""
        return list(self.compiled.layout.incomplete)

    @property
    def initial_time(self) -> float:
        return float(self.compiled.controls["initial_time"])

    @property
    def final_time(self) -> float | None:
        return self.compiled.controls["final_time"]

    @property
    def time_step(self) -> float:
        return float(self.compiled.controls["time_step"])

    @property
    def saveper(self) -> float:
        return float(self.compiled.controls["saveper"])

    def __repr__(self) -> str:
        return f"<flywheel.Model {self.name!r}: {len(self.stocks)} stocks, {len(self.variables)} variables>"

    def resolve_name(self, name: str) -> str:
        """The model's own spelling of ``name`` (exact, or ignoring case, spaces and underscores)."""
        return resolve_name(self.compiled, name)

    def parameters(self, spec: RunSpec | None = None) -> dict[str, Parameter]:
        """Every constant with its value, default and documented bounds."""
        return parameters(self.compiled, spec)

    # ------------------------------------------------------------------ specifications
    def spec(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        initial_condition: Any = None,
        method: str = "euler",
        time_step: float | None = None,
        final_time: float | None = None,
        saveper: float | None = None,
        ivp_options: IvpOptions | None = None,
        strict: bool = False,
        seed: int = 0,
    ) -> RunSpec:
        """A checked, frozen run specification (see ``flywheel.core.spec``); ``seed`` for random draws."""
        settings = (initial_condition, time_step, final_time, saveper, ivp_options)
        plain = not params and all(x is None for x in settings) and not strict and isinstance(seed, int) and seed == 0
        if plain and method == "euler":
            if self._default_spec is None:
                self._default_spec = build_spec(self.compiled)
            return self._default_spec
        return build_spec(
            self.compiled, params, initial_condition=initial_condition, method=method, time_step=time_step,
            final_time=final_time, saveper=saveper, ivp_options=ivp_options, strict=strict, seed=seed,
        )  # fmt: skip

    # ------------------------------------------------------------------ runs
    def run(
        self,
        params: Mapping[str, Any] | None = None,
        initial_condition: Any = None,
        return_columns: Sequence[str] | None = None,
        method: str = "euler",
        time_step: float | None = None,
        final_time: float | None = None,
        saveper: float | None = None,
        ivp_options: IvpOptions | None = None,
        *,
        initial_state: State | None = None,
        strict: bool = False,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """Simulate once; a DataFrame indexed by time with one column per variable (PySD's shape).

        ``initial_state`` continues a saved ``State`` (from ``stepper().state``) to the final time."""
        from .simulate import simulate

        if initial_state is not None:
            spec = initial_state.spec
            changes = {k: v for k, v in {"time_step": time_step, "final_time": final_time, "saveper": saveper}.items() if v is not None}
            if seed is not None:
                changes["seed"] = seed
            if params or changes or method != initial_state.spec.method.name:
                spec = spec.replace(params=params, method=method, **changes)
        else:
            spec = self.spec(
                params, initial_condition=initial_condition, method=method, time_step=time_step,
                final_time=final_time, saveper=saveper, ivp_options=ivp_options, strict=strict,
                seed=0 if seed is None else seed,
            )  # fmt: skip
        return simulate(spec, columns=return_columns, initial_state=initial_state).to_frame()

    def simulate(self, spec: RunSpec | None = None, **options: Any) -> Result:
        """Run a specification (the model's defaults if none) into a ``Result``; ``members=`` for ensembles."""
        from .simulate import simulate

        return simulate(spec if spec is not None else self.spec(), **options)

    def run_ensemble(
        self,
        params_table: Any,
        return_columns: Sequence[str] | None = None,
        return_times: Sequence[float] | None = None,
        method: str = "euler",
        time_step: float | None = None,
        final_time: float | None = None,
        saveper: float | None = None,
        chunk_size: int | None = None,
        progress: bool = False,
        *,
        base: Any = None,
        threads: int | None = None,
        lockstep: bool | None = None,
        seed: int | None = None,
    ) -> xr.Dataset:
        """One member per row of ``params_table`` (a DataFrame or dict of 1-D arrays), on top of ``base``
        (a parameter dict, a ``RunSpec`` or a scenario); an ``xarray.Dataset`` (member, time).

        Members run in lockstep vectors when the model allows it (``lockstep=None``); ``False`` runs
        them one at a time (the same numbers, bit for bit; slower). Random draws depend on ``seed`` and
        on each member's label in the table (so a member run alone draws the same numbers), never on
        how the members are split into chunks or threads."""
        from .simulate import simulate

        spec = self._base_spec(base, method, time_step, final_time, saveper)
        if seed is not None and seed != spec.seed:
            spec = spec.replace(seed=seed)
        result = simulate(
            spec, members=params_table, columns=return_columns, times=return_times, chunk_size=chunk_size,
            threads=threads, progress=progress, lockstep=lockstep,
        )  # fmt: skip
        return result.dataset

    def _base_spec(self, base: Any, method: str, time_step, final_time, saveper) -> RunSpec:
        if base is None:
            return self.spec(method=method, time_step=time_step, final_time=final_time, saveper=saveper)
        if isinstance(base, RunSpec):
            spec = base
        elif hasattr(base, "spec") and callable(base.spec):  # a scenario
            spec = base.spec(self)
        elif isinstance(base, Mapping):
            spec = self.spec(base)
        else:
            raise TypeError("base must be a parameter dict, a RunSpec or a scenario")
        changes = {k: v for k, v in {"time_step": time_step, "final_time": final_time, "saveper": saveper}.items() if v is not None}
        if changes or method != spec.method.name:
            spec = spec.replace(method=method, **changes)
        return spec

    def stepper(self, spec: RunSpec | None = None, columns: Sequence[str] | None = None) -> Stepper:
        """Step a run: ``step_to(t)``, ``set(name=value)``, ``state``, ``values()``, ``result()``."""
        from .stepper import Stepper

        return Stepper(spec if spec is not None else self.spec(), columns)

    def __reduce__(self):
        return (Model, (self.compiled,))


def load_model(path: str | Path, *, cache: bool = True, data_paths: Sequence[str | Path] | None = None) -> Model:
    """Read a Vensim (.mdl) or XMILE (.xmile/.stmx) model and compile it (cached on disk).

    Data files the model reads (GET DATA, GET LOOKUPS, GET CONSTANTS) are read relative to the model
    file and only from its folder, unless ``data_paths`` names further folders the caller allows."""
    return Model(load_compiled(path, use_cache=cache, data_paths=data_paths))
