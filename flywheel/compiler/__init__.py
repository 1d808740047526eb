"""Model file -> PySD abstract model -> IR -> LLVM module -> machine code, with the model's metadata.

``compile_model(path)`` is the only entry point. The result is plain data (LLVM IR text, object code and
a JSON-able dict), so that it can be cached on disk and loaded later without PySD or the compiler.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FlywheelError, ModelError, UnsupportedConstructError
from .frame import CONTROL_NAMES

if TYPE_CHECKING:
    from .ir import Program

VENSIM_SUFFIXES = {".mdl"}
XMILE_SUFFIXES = {".xmile", ".xml", ".stmx", ".itmx"}


@dataclass(frozen=True)
class CompiledArtifacts:
    ir_text: str  # the base module: single runs, steppers, member-by-member ensembles
    lockstep_ir: str | None  # ensembles in vectors of members, compiled when first needed
    object_code: bytes
    meta: dict


def read_abstract_model(path: Path):
    """Parse a Vensim or XMILE file with PySD's own translators."""
    suffix = path.suffix.lower()
    if suffix not in VENSIM_SUFFIXES | XMILE_SUFFIXES:
        allowed = ", ".join(sorted(VENSIM_SUFFIXES | XMILE_SUFFIXES))
        raise ModelError(f"{path}: unknown model format '{suffix}' (allowed: {allowed})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if suffix in VENSIM_SUFFIXES:
                from pysd.translators.vensim.vensim_file import VensimFile

                source = VensimFile(path)
            else:
                from pysd.translators.xmile.xmile_file import XmileFile

                source = XmileFile(path)
            source.parse()
            return source.get_abstract_model()
    except FlywheelError:
        raise
    except Exception as exc:  # PySD's parsers raise many kinds; all mean "cannot read this file"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path.name}: cannot parse the model ({first[:200]})") from exc


def compile_model(path: Path, data_paths=None) -> CompiledArtifacts:
    """The model file's machine code (base module), IR of both modules, and metadata.

    Data files (GET DATA ...) are read now, from the model's folder or ``data_paths`` only; the metadata
    lists them with a hash of their content, so that a cached model is rebuilt when they change."""
    from .jit import compile_ir
    from .layout import assign
    from .llvm_kernels import build_module
    from .lowering import Lowerer
    from .ordering import analyse

    abstract = read_abstract_model(path)
    lowerer = Lowerer(abstract, path, data_paths)
    program = lowerer.run()
    elements = lowerer.elements
    if all(e.kind == "control" for e in elements):
        raise ModelError(
            f"{path.name}: no model variables found (an empty model, or an XMILE file in a pre-1.0 "
            "namespace that PySD's reader does not read)"
        )
    analysis = analyse(program, path.name)
    _check_dynamic_controls(program, analysis, path)
    record = [(e.name, e.key) for e in _output_order(elements) if e.kind != "lookup"]
    slots = assign(program, analysis, record)
    try:
        ir_text = str(build_module(program, analysis, slots, "base"))
    except UnsupportedConstructError as exc:
        raise UnsupportedConstructError(f"{path.name}: {exc}") from None
    # LLVM compiles the base module with the GIL released: write the lockstep module's IR meanwhile
    lockstep: list[str | None] = [None]

    def write_lockstep() -> None:
        try:
            lockstep[0] = str(build_module(program, analysis, slots, "lockstep"))
        except Exception:  # no lockstep module: ensembles run member by member
            lockstep[0] = None

    writer = threading.Thread(target=write_lockstep, name="flywheel-lockstep-ir")
    if slots.layout.lockstep:
        writer.start()
    object_code = compile_ir(ir_text, "base")
    if slots.layout.lockstep:
        writer.join()
        slots.layout.lockstep = lockstep[0] is not None
    meta = {
        "model_name": path.stem,
        "layout": slots.layout.to_dict(),
        "variables": _variables(program, analysis, elements),
        "dependencies": _named_dependencies(program, elements),
        "external_files": dict(lowerer.external.files),
    }
    return CompiledArtifacts(ir_text, lockstep[0], object_code, meta)


def _check_dynamic_controls(program: Program, analysis, path: Path) -> None:
    """TIME STEP, SAVEPER and FINAL TIME may change during a run (PySD re-reads them every step), but
    only as equations of Time and constants: the run evaluates them before anything else in a step."""
    for control in ("final_time", "time_step", "saveper"):
        key = analysis.dynamic_controls.get(control)
        if key is not None and control_closure(program, analysis, key) is None:
            raise UnsupportedConstructError(
                f"{path.name}: variable '{CONTROL_NAMES[control]}' depends on variables that change during "
                "the run, which flywheel does not support (allowed: an equation of Time and constants)"
            )


def control_closure(program: Program, analysis, key: str) -> set[str] | None:
    """The auxiliaries a time-varying control needs each step, or None if it needs the model's state."""
    from .ir import references

    auxes = {a.key: a for a in program.auxes}
    needed, stack = set(), [key]
    while stack:
        current = stack.pop()
        if current in needed or current in analysis.static:
            continue
        if current not in auxes:
            return None
        needed.add(current)
        stack.extend(references(auxes[current].expr, "run", program.controls) - {current})
    return needed


def _output_order(elements):
    """PySD's order: control variables first, then the model's own order."""
    controls = [e for e in elements if e.kind == "control"]
    return controls + [e for e in elements if e.kind != "control"]


def _variables(program: Program, analysis, elements) -> dict[str, dict]:
    from .ir import references

    flows = set()
    for stock in program.stocks:
        flows |= references(stock.flow, "run")
    out = {}
    for e in elements:
        kind = e.kind
        if kind == "auxiliary" and e.key in analysis.static:
            kind = "constant"
        elif kind == "auxiliary" and e.key in flows:
            kind = "flow"
        out[e.name] = {
            "name": e.name,
            "kind": kind,
            "units": e.units,
            "documentation": e.documentation,
            "limits": list(e.limits),
            "equation": e.equation,
        }
    return out


def _named_dependencies(program: Program, elements) -> dict[str, list[str]]:
    """Which named variables each named variable reads at run time, looking through hidden nodes.

    A reference to a control variable (TIME STEP ...) counts; an incomplete equation (A FUNCTION OF)
    lists its arguments, so the structure of a sketch model is known before it can run."""
    from .ir import references

    controls = program.controls
    direct: dict[str, set[str]] = {}
    for aux in program.auxes:
        direct[aux.key] = set(references(aux.expr, "run", controls, structural=True)) - {aux.key}
    for stock in program.stocks:
        direct[stock.key] = set(references(stock.flow, "run", controls))
    for chain in program.chains:
        direct[chain.key] = {chain.input, chain.time}
    for fixed in program.delay_fixed:
        direct[fixed.key] = {fixed.input, fixed.time}
    for sample in program.samples:
        direct[sample.key] = {sample.condition, sample.input}
    for initial in program.initials:
        direct[initial.key] = set(references(initial.expr, "init", controls))
    named = {e.key: e.name for e in elements}

    def expand(key: str, seen: set[str]) -> set[str]:
        found = set()
        for dep in direct.get(key, ()):
            if dep in named:
                found.add(named[dep])
            elif dep not in seen:
                seen.add(dep)
                found |= expand(dep, seen)
        return found

    return {e.name: sorted(expand(e.key, {e.key})) for e in elements if e.key in direct}
