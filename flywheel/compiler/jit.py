"""LLVM IR -> machine code for this CPU, and machine code -> callable entry points (llvmlite).

Object code is what the cache stores: loading it takes a millisecond and needs no compiler. The code
is specific to the host CPU (``host_fingerprint`` is part of the cache key); a different machine
recompiles from the IR text, which is kept beside the object code.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

import llvmlite
import llvmlite.binding as llvm

from .frame import Frame


@functools.cache
def _initialise() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def _new_target_machine() -> llvm.TargetMachine:
    """A target machine for the host CPU. An execution engine takes ownership of the one it is given
    (and frees it with itself), so every engine gets its own."""
    _initialise()
    target = llvm.Target.from_default_triple()
    features = llvm.get_host_cpu_features().flatten()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(), features=features, opt=3, codemodel="jitdefault")


@functools.cache
def _target_machine() -> llvm.TargetMachine:
    """The target machine the compiler emits object code with (never given to an engine)."""
    return _new_target_machine()


@functools.cache
def host_fingerprint() -> str:
    """What machine code depends on: the CPU, its features, LLVM."""
    _target_machine()
    return "|".join(
        (llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(), llvmlite.__version__, llvm.get_process_triple())
    )


# Optimisation levels, measured: the base module is straight-line code that LLVM's -O1 makes as fast as
# -O3 (the 263-variable benchmark model runs in 0.32 ms at -O1, 0.36 ms at -O3) in half the time; the
# lockstep module (explicit vectors) is best at -O2. The auto-vectorisers only help the lockstep module:
# on the base module they cost a third of the optimisation time (0.35 s of 3.1 s for the 263-variable
# model's first load) and its runs were as fast or faster without them (that model, the flywheel model
# and a 1,000-region subscripted model alike).
SPEED_LEVELS = {"base": 1, "lockstep": 2}
VECTORISE = {"base": False, "lockstep": True}


def compile_ir(ir_text: str, part: str = "base") -> bytes:
    """Optimise and emit an object file for the host CPU (the level depends on the module's part)."""
    machine = _target_machine()
    module = llvm.parse_assembly(ir_text)
    module.triple = machine.triple
    module.data_layout = str(machine.target_data)
    module.verify()
    tuning = llvm.create_pipeline_tuning_options(speed_level=SPEED_LEVELS[part])
    tuning.loop_vectorization = VECTORISE[part]
    tuning.slp_vectorization = VECTORISE[part]
    passes = llvm.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(module, passes)
    return machine.emit_object(module)


_FUNCTION = ctypes.CFUNCTYPE(None, ctypes.POINTER(Frame))  # ctypes releases the GIL during the call


@dataclass
class Kernels:
    """The entry points of one compiled model; keeps the execution engine (and so the code) alive."""

    engine: object
    object_file: object  # the engine reads from it for as long as it lives
    functions: dict[str, object]

    def __call__(self, name: str, frame: Frame) -> None:
        self.functions[name](ctypes.byref(frame))


def load_object(object_code: bytes, entry_points: tuple[str, ...]) -> Kernels:
    machine = _new_target_machine()
    host = llvm.parse_assembly("")
    host.triple = machine.triple
    engine = llvm.create_mcjit_compiler(host, machine)
    object_file = llvm.ObjectFileRef.from_data(object_code)
    engine.add_object_file(object_file)
    engine.finalize_object()
    functions = {name: _FUNCTION(engine.get_function_address(name)) for name in entry_points}
    return Kernels(engine, object_file, functions)
