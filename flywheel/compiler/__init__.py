"""Model file -> PySD abstract model -> IR -> numba source and metadata.

``compile_model(path)`` is the only entry point; the result is plain data (source text and a JSON-able
dict) so that it can be cached on disk and loaded later without importing PySD.
"""

from __future__ import annotations

import types
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import FlywheelError, ModelError
from .ir import CONTROL_ARGS, CONTROL_NAMES

VENSIM_SUFFIXES = {".mdl"}
XMILE_SUFFIXES = {".xmile", ".xml", ".stmx", ".itmx"}


@dataclass(frozen=True)
class CompiledArtifacts:
    source: str
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


def compile_model(path: Path) -> CompiledArtifacts:
    from .codegen import CodeGenerator
    from .lowering import Lowerer
    from .ordering import analyse

    abstract = read_abstract_model(path)
    lowerer = Lowerer(abstract, path)
    program = lowerer.run()
    analysis = analyse(program, path.name)
    _check_dynamic_controls(program, analysis, path)
    elements = lowerer.elements
    if all(e.kind == "control" for e in elements):
        raise ModelError(
            f"{path.name}: no model variables found (an empty model, or an XMILE file in a pre-1.0 "
            "namespace that PySD's reader does not read)"
        )
    record = [(e.name, e.key) for e in _output_order(elements) if e.kind != "lookup"]
    generator = CodeGenerator(program, analysis, record)
    source = generator.source()
    values = _static_values(program, analysis, generator)
    meta = {
        "model_name": path.stem,
        "layout": generator.layout.to_dict(),
        "controls": _control_values(program, values),
        "variables": _variables(program, analysis, elements, values),
        "dependencies": _named_dependencies(program, elements),
    }
    _check_control_values(meta["controls"], path)
    return CompiledArtifacts(source, meta)


def _check_dynamic_controls(program, analysis, path: Path) -> None:
    """TIME STEP and SAVEPER may change during a run (PySD re-reads them every step), but only as
    equations of Time and constants: the kernel evaluates them before anything else in a step."""
    from ..errors import UnsupportedConstructError

    auxes = {a.key: a for a in program.auxes}
    for control in ("time_step", "saveper"):
        key = program.controls.get(control)
        dynamic = key and key not in analysis.static and key in auxes
        if dynamic and not all(dep in analysis.static for dep in auxes[key].expr.deps):
            raise UnsupportedConstructError(
                f"{path.name}: variable '{CONTROL_NAMES[control]}' depends on variables that change during "
                "the run, which flywheel does not support (allowed: an equation of Time and constants)"
            )


def _output_order(elements):
    """PySD's order: control variables first, then the model's own order."""
    controls = [e for e in elements if e.kind == "control"]
    return controls + [e for e in elements if e.kind != "control"]


def _python_runtime() -> types.SimpleNamespace:
    """The runtime helpers as plain Python functions, to evaluate static values without compiling."""
    from . import runtime as rt

    return types.SimpleNamespace(
        **{name: getattr(obj, "py_func", obj) for name, obj in vars(rt).items() if not name.startswith("_")}
    )


def _static_values(program, analysis, generator) -> dict[str, float]:
    """Evaluate every static value with its default, in Python (generated, sanitised code only)."""
    import numpy as np

    namespace: dict = {"np": np, "rt": _python_runtime(), "abs": abs, "round": round, "max": max}
    lkx = np.concatenate([np.asarray(t.x) for t in program.tables]) if program.tables else np.zeros(1)
    lky = np.concatenate([np.asarray(t.y) for t in program.tables]) if program.tables else np.zeros(1)
    namespace.update(lkx=lkx, lky=lky)
    offset = 0
    for table in program.tables:
        namespace[f"{table.key}_o"], namespace[f"{table.key}_n"] = offset, len(table.x)
        offset += len(table.x)
    auxes = {a.key: a for a in program.auxes}
    args = CONTROL_ARGS
    values: dict[str, float] = {}
    pending = [k for k in analysis.init_order if k in analysis.static and k in auxes]
    for _ in range(6):  # control values may refer to each other (SAVEPER = TIME STEP)
        left = []
        for key in pending:
            try:
                value = eval(compile(auxes[key].expr.init, "<flywheel>", "eval"), {"__builtins__": {}}, namespace)
            except NameError:
                left.append(key)
                continue
            except Exception:
                value = float("nan")
            namespace[key] = values[key] = float(value)
            for control, ckey in program.controls.items():
                if ckey == key:
                    namespace[args[control]] = float(value)
        if not left or len(left) == len(pending):
            break
        pending = left
    # a control variable with a time-varying equation (e.g. INITIAL TIME = IF THEN ELSE(Time < 3, 0, 0.2))
    # takes the value its equation has at time 0, as PySD does when it reads the control variables
    for control in ("initial_time", "time_step", "final_time", "saveper"):
        key = program.controls.get(control)
        if key and key not in values and key in auxes:
            try:
                code = compile(auxes[key].expr.init, "<flywheel>", "eval")
                value = float(eval(code, {"__builtins__": {}}, {**namespace, "time": 0.0}))
            except Exception:
                continue
            values[key] = namespace[args[control]] = value
    return values


def _control_values(program, values: dict[str, float]) -> dict[str, float | None]:
    out = {}
    for control in CONTROL_NAMES:
        key = program.controls.get(control)
        out[control] = values.get(key) if key else None
    if out["saveper"] is None:
        out["saveper"] = out["time_step"]
    return out


def _check_control_values(controls: dict, path: Path) -> None:
    for name in ("initial_time", "time_step"):
        if controls[name] is None or controls[name] != controls[name]:
            raise ModelError(f"{path.name}: {CONTROL_NAMES[name]} must be a constant number")
    if controls["time_step"] <= 0:
        raise ModelError(f"{path.name}: TIME STEP must be > 0, got {controls['time_step']}")


def _variables(program, analysis, elements, values) -> dict[str, dict]:
    flows = set()
    for stock in program.stocks:
        flows |= set(stock.flow.deps)
    out = {}
    for e in elements:
        kind = e.kind
        if kind == "auxiliary" and e.key in analysis.static and e.key in values:
            kind = "constant"
        elif kind == "auxiliary" and e.key in flows:
            kind = "flow"
        default = values.get(e.key) if kind in ("constant", "control") else None
        out[e.name] = {
            "name": e.name,
            "kind": kind,
            "units": e.units,
            "documentation": e.documentation,
            "limits": list(e.limits),
            "default": default,
            "equation": e.equation,
        }
    return out


def _named_dependencies(program, elements) -> dict[str, list[str]]:
    """Which named variables each named variable reads at run time, looking through hidden nodes."""
    direct: dict[str, set[str]] = {}
    for aux in program.auxes:
        direct[aux.key] = set(aux.expr.deps)
    for stock in program.stocks:
        direct[stock.key] = set(stock.flow.deps)
    for chain in program.chains:
        direct[chain.key] = {chain.input, chain.time}
    for fixed in program.delay_fixed:
        direct[fixed.key] = {fixed.input, fixed.time}
    for sample in program.samples:
        direct[sample.key] = {sample.condition, sample.input}
    for initial in program.initials:
        direct[initial.key] = set(initial.expr.init_deps)
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
