"""A compiled model: machine code, layout and metadata of one model file, loaded from the cache.

``CompiledModel`` pickles as its cache entry (key, metadata, IR and object code), so a Dask worker or a
process pool gets the same compiled code without the model file and without PySD: it loads the object
code if its CPU matches, and otherwise recompiles the IR (a fraction of a second). Nothing is kept in
process-global tables: two loads of a changed file are two different keys.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compiler import cache
from ..compiler.frame import CONTROLS, ENTRY_POINTS, LOCKSTEP_ENTRY_POINTS, N_CONTROL
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
    default: float | np.ndarray | None  # an array (read-only, the variable's shape) for subscripted constants
    equation: str
    dims: tuple[str, ...] = ()  # subscript ranges of an array variable, in order
    coords: tuple[tuple[str, ...], ...] = ()  # their elements

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.coords)


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
    dynamic_params: tuple[str, ...]
    lockstep: bool
    decisions: tuple[str, ...]
    n_work: int
    arrays: dict[str, dict]
    random: bool

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

    def __init__(self, path: Path, key: str, meta: dict, base_object: bytes, ir: dict[str, str | None] | None = None):
        self.path = path
        self.key = key
        self.meta = meta
        self.kernels = load_object(base_object, ENTRY_POINTS)
        self._base_object = base_object
        self._ir = dict(ir or {})
        self._lockstep: Kernels | None = None
        self._lock = threading.Lock()
        self.name: str = path.stem  # the file's own name (a cache entry may be shared by identical files)
        self.layout = Layout.from_dict(meta["layout"])
        self.value_index = {name: i for i, name in enumerate(self.layout.value_names)}
        self.dependencies: dict[str, set[str]] = {n: set(d) for n, d in meta["dependencies"].items()}
        self.param_defaults = np.array([np.nan if v is None else v for v in self.layout.param_defaults], dtype=float)
        self.controls, values = _evaluate_defaults(self)
        self.variables: dict[str, VariableInfo] = {}
        for name, info in meta["variables"].items():
            default = None
            array = self.layout.arrays.get(name)
            dims = tuple(array["dims"]) if array else ()
            coords = tuple(tuple(c) for c in array["coords"]) if array else ()
            if info["kind"] in ("constant", "control") and name in self.value_index:
                default = float(values[self.value_index[name]])
            elif info["kind"] == "constant" and array and f"{name}[{','.join(c[0] for c in coords)}]" in self.value_index:
                first = self.value_index[f"{name}[{','.join(c[0] for c in coords)}]"]
                default = values[first : first + int(np.prod([len(c) for c in coords]))].reshape([len(c) for c in coords])
                default.setflags(write=False)
            fields = {k: v for k, v in info.items() if k in VariableInfo.__dataclass_fields__}
            self.variables[name] = VariableInfo(**{**fields, "limits": tuple(info["limits"]), "default": default,
                                                   "dims": dims, "coords": coords})  # fmt: skip
        self.warned: set[tuple[str, float]] = set()  # out-of-range values already reported for this model
        self._value_rows: dict[tuple[str, ...], np.ndarray] = {}
        self._column_indexes: dict[tuple[str, ...], object] = {}

    def __repr__(self) -> str:
        return f"<CompiledModel {self.name!r} {self.key}>"

    def value_rows(self, names: list[str]) -> np.ndarray:
        """The rows of V holding these named values (cached: runs ask for the same columns again)."""
        key = tuple(names)
        rows = self._value_rows.get(key)
        if rows is None:
            rows = np.array([self.value_index[n] for n in names], dtype=np.int64)
            rows.setflags(write=False)
            if len(self._value_rows) > 64:
                self._value_rows.clear()
            self._value_rows[key] = rows
        return rows

    def column_index(self, names: list[str]):
        """A pandas Index of these names (cached, for DataFrames of results)."""
        import pandas as pd

        key = tuple(names)
        index = self._column_indexes.get(key)
        if index is None:
            if len(self._column_indexes) > 64:
                self._column_indexes.clear()
            index = self._column_indexes[key] = pd.Index(list(names))
        return index

    def ir(self, part: str) -> str | None:
        """The LLVM IR of a module ("base" or "lockstep"), from memory or the cache."""
        if self._ir.get(part) is None:
            self._ir[part] = cache.read_text(self.key, f"{part}.ll")
        return self._ir[part]

    def lockstep_kernels(self) -> Kernels:
        """The ensemble module (members in vectors), compiled the first time an ensemble needs it."""
        with self._lock:
            if self._lockstep is None:
                host = host_fingerprint()
                code = cache.read_object(self.key, host, "lockstep")
                if code is None:
                    text = self.ir("lockstep")
                    if text is None:
                        raise ModelError(f"{self.path.name}: this model cannot run members in lockstep")
                    code = compile_ir(text, "lockstep")
                    cache.write(self.key, {cache.object_name(host, "lockstep"): code})
                self._lockstep = load_object(code, LOCKSTEP_ENTRY_POINTS)
            return self._lockstep

    # ------------------------------------------------------------------ pickling: by cache entry
    def __reduce__(self):
        ir = {part: self.ir(part) for part in ("base", "lockstep")}
        return (_restore, (str(self.path), self.key, self.meta, ir, self._base_object, host_fingerprint()))


def _restore(path: str, key: str, meta: dict, ir: dict, base_object: bytes, host: str) -> CompiledModel:
    """Rebuild a pickled model in another process: its object code if the CPU matches, else the IR."""
    here = host_fingerprint()
    if host != here:
        base_object = cache.read_object(key, here, "base") or compile_ir(ir["base"])
    if cache.read_meta(key) is None:
        files = {"meta.json": json.dumps(meta).encode(), cache.object_name(here, "base"): base_object}
        files.update({f"{part}.ll": text.encode() for part, text in ir.items() if text is not None})
        cache.write(key, files)
    return CompiledModel(Path(path), key, meta, base_object, ir)


_LOADED: OrderedDict[tuple[str, str], CompiledModel] = OrderedDict()  # by file content: never stale
_LOADED_MAX = 16
_LOADED_LOCK = threading.Lock()


def load_compiled(path: str | Path, *, use_cache: bool = True, data_paths=None) -> CompiledModel:
    """Read a Vensim (.mdl) or XMILE (.xmile/.stmx) model and compile it, or load it from the cache.

    The file is hashed on every call: a changed file is a new key and is compiled again. The last few
    models are kept in memory by that key (and path), so loading one file again is instant. Data files
    the model reads (GET DATA ...) must lie in the model's folder or in ``data_paths``; a cached model
    whose data files changed is compiled again."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    key = cache.model_key(path)
    if use_cache:
        with _LOADED_LOCK:
            loaded = _LOADED.get((key, str(path)))
        if loaded is not None and _data_current(loaded.meta, path, data_paths):
            with _LOADED_LOCK:
                _LOADED.move_to_end((key, str(path)))
            return loaded
    model = _load(path, key, use_cache, data_paths)
    if use_cache:
        with _LOADED_LOCK:
            _LOADED[(key, str(path))] = model
            while len(_LOADED) > _LOADED_MAX:
                _LOADED.popitem(last=False)
    return model


def _data_current(meta: dict, path: Path, data_paths) -> bool:
    """Whether the data files a compiled model read are unchanged; refuses files outside the model's
    folder that the caller has not allowed (``data_paths``)."""
    from ..compiler.external import allowed_roots, check_allowed, file_digest

    files = meta.get("external_files") or {}
    roots = allowed_roots(path, data_paths)
    for name, digest in files.items():  # names relative to the model's folder
        file = (roots[0] / name).resolve()
        check_allowed(file, roots, path.name, f"reading {name}")
        if not file.is_file() or file_digest(file) != digest:
            return False
    return True


def _load(path: Path, key: str, use_cache: bool, data_paths=None) -> CompiledModel:
    host = host_fingerprint()
    meta = cache.read_meta(key) if use_cache else None
    if meta is not None and not _data_current(meta, path, data_paths):
        meta = None  # its data changed: compile again, into a fresh entry
        cache.remove(key)
    if meta is not None:
        code = cache.read_object(key, host, "base")
        if code is None:
            text = cache.read_text(key, "base.ll")
            if text is not None:
                code = compile_ir(text)
                cache.write(key, {cache.object_name(host, "base"): code})
        if code is not None:
            return CompiledModel(path, key, meta, code)
    from ..compiler import compile_model

    artifacts = compile_model(path, data_paths)
    files = {
        "meta.json": json.dumps(artifacts.meta).encode(),
        "base.ll": artifacts.ir_text.encode(),
        cache.object_name(host, "base"): artifacts.object_code,
    }
    if artifacts.lockstep_ir is not None:
        files["lockstep.ll"] = artifacts.lockstep_ir.encode()
    cache.write(key, files)
    ir = {"base": artifacts.ir_text, "lockstep": artifacts.lockstep_ir}
    return CompiledModel(path, key, artifacts.meta, artifacts.object_code, ir)


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
            from ..compiler.frame import CONTROL_NAMES

            raise ModelError(f"{model.path.name}: {CONTROL_NAMES[name]} must be a constant number")
    if controls["time_step"] <= 0:
        raise ModelError(f"{model.path.name}: TIME STEP must be > 0, got {controls['time_step']:g}")
    for i, name in enumerate(CONTROLS):
        value = controls[name]
        ctl[i] = ctl[N_CONTROL + i] = np.nan if value is None else value
    if layout.n_values:
        model.kernels("fw_init", space.frame)
    return controls, space.first("V").copy() if layout.n_values else np.zeros(0)
