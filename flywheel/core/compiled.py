"""A compiled model: machine code, layout and metadata of one model file, loaded from the cache.

``CompiledModel`` pickles as its cache entry (key, metadata, IR and object code), so a Dask worker or a
process pool gets the same compiled code without the model file and without PySD: it loads the object
code if its CPU matches, and otherwise recompiles the IR (a fraction of a second). Nothing is kept in
process-global tables: two loads of a changed file are two different keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compiler import cache
from ..compiler.frame import N_CONTROL
from ..compiler.ir import CONTROLS
from ..compiler.jit import Kernels, compile_ir, host_fingerprint, load_object
from ..errors import ModelError


@dataclass(frozen=True)
class VariableInfo:
    """What the model says about one variable."""

    name: str
    kind: str  # stock, flow, auxiliary, constant, lookup, control
    units: str
    documentation: str
    limits: tuple[float | None, float | None]
    default: float | None
    equation: str


@dataclass(frozen=True)
class Layout:
    """The run-time layout (``compiler.layout.Layout``) as the core reads it."""

    n_states: int
    n_params: int
    n_static: int
    n_values: int
    n_discrete: int
    n_pipes: int
    value_names: tuple[str, ...]
    state_labels: tuple[str, ...]
    param_slots: dict[str, int]
    param_defaults: tuple[float | None, ...]
    stock_init_slots: dict[str, int]
    stock_index: dict[str, int]
    tables: dict[str, int]
    table_x: tuple[tuple[float, ...], ...]
    table_y: tuple[tuple[float, ...], ...]
    pipe_len_rows: tuple[int, ...]
    pipe_init_rows: tuple[int, ...]
    static_value_rows: tuple[int, ...]
    dynamic_time: bool
    has_discrete_state: bool
    incomplete: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        values = {}
        for name in cls.__dataclass_fields__:
            value = data[name]
            if isinstance(value, list):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            values[name] = value
        return cls(**values)


class CompiledModel:
    """Machine code and metadata of one model file. Create it with ``load_compiled(path)``."""

    def __init__(self, path: Path, key: str, meta: dict, kernels: Kernels, ir_text: str | None, object_code: bytes | None):
        self.path = path
        self.key = key
        self.meta = meta
        self.kernels = kernels
        self._ir_text = ir_text
        self._object_code = object_code
        self.name: str = meta["model_name"]
        self.layout = Layout.from_dict(meta["layout"])
        self.value_index = {name: i for i, name in enumerate(self.layout.value_names)}
        self.dependencies: dict[str, set[str]] = {n: set(d) for n, d in meta["dependencies"].items()}
        self.param_defaults = np.array([np.nan if v is None else v for v in self.layout.param_defaults], dtype=float)
        self.controls, values = _evaluate_defaults(self)
        self.variables: dict[str, VariableInfo] = {}
        for name, info in meta["variables"].items():
            default = None
            if info["kind"] in ("constant", "control") and name in self.value_index:
                default = float(values[self.value_index[name]])
            self.variables[name] = VariableInfo(**{**info, "limits": tuple(info["limits"]), "default": default})
        self.warned: set[tuple[str, float]] = set()  # out-of-range values already reported for this model

    def __repr__(self) -> str:
        return f"<CompiledModel {self.name!r} {self.key}>"

    # ------------------------------------------------------------------ pickling: by cache entry
    def __reduce__(self):
        ir_text = self._ir_text if self._ir_text is not None else cache.read_ir(self.key)
        return (_restore, (str(self.path), self.key, self.meta, ir_text, self._object_code, host_fingerprint()))


def _restore(path: str, key: str, meta: dict, ir_text: str | None, object_code: bytes | None, host: str) -> CompiledModel:
    """Rebuild a pickled model in another process: its object code if the CPU matches, else the IR."""
    here = host_fingerprint()
    entry = cache.read(key, here)
    if entry is not None and entry.object_code is not None:
        object_code = entry.object_code
    elif object_code is None or host != here:
        if ir_text is None:
            raise ModelError(f"{Path(path).name}: the compiled model cannot be rebuilt here (no IR in the pickle)")
        object_code = compile_ir(ir_text)
        cache.write(key, here, meta, ir_text, object_code)
    return CompiledModel(Path(path), key, meta, load_object(object_code), ir_text, object_code)


def load_compiled(path: str | Path, *, use_cache: bool = True) -> CompiledModel:
    """Read a Vensim (.mdl) or XMILE (.xmile/.stmx) model and compile it, or load it from the cache."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    key = cache.model_key(path)
    host = host_fingerprint()
    entry = cache.read(key, host) if use_cache else None
    if entry is not None:
        object_code = entry.object_code
        if object_code is None:
            object_code = compile_ir(entry.ir_text)
            cache.write(key, host, entry.meta, None, object_code)
        return CompiledModel(path, key, entry.meta, load_object(object_code), entry.ir_text, object_code)
    from ..compiler import compile_model

    artifacts = compile_model(path)
    cache.write(key, host, artifacts.meta, artifacts.ir_text, artifacts.object_code)
    return CompiledModel(path, key, artifacts.meta, load_object(artifacts.object_code), artifacts.ir_text, artifacts.object_code)


def _evaluate_defaults(model: CompiledModel) -> tuple[dict[str, float | None], np.ndarray]:
    """The model's control values and every value at initialisation, with the default parameters."""
    from .workspace import Workspace

    layout = model.layout
    space = Workspace.for_defaults(model)
    model.kernels("fw_controls", space.frame)
    ctl = space.arrays["ctl"]
    controls: dict[str, float | None] = {}
    for i, name in enumerate(CONTROLS):
        value = float(ctl[i])
        controls[name] = None if math.isnan(value) else value
    if controls["saveper"] is None:
        controls["saveper"] = controls["time_step"]
    for name in ("initial_time", "time_step"):
        if controls[name] is None:
            from ..compiler.ir import CONTROL_NAMES

            raise ModelError(f"{model.path.name}: {CONTROL_NAMES[name]} must be a constant number")
    if controls["time_step"] <= 0:
        raise ModelError(f"{model.path.name}: TIME STEP must be > 0, got {controls['time_step']:g}")
    for i, name in enumerate(CONTROLS):
        value = controls[name]
        ctl[i] = ctl[N_CONTROL + i] = np.nan if value is None else value
    if layout.n_values:
        model.kernels("fw_init", space.frame)
    return controls, space.arrays["V"][:, 0].copy() if layout.n_values else np.zeros(0)
