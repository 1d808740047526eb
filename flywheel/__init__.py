"""flywheel: a fast system-dynamics lab for the Evil Sales Org Flywheel.

Models are Vensim/XMILE files read with PySD's translators and compiled to machine code with LLVM.
"""

from .core import (
    METHODS,
    IvpOptions,
    Model,
    NonFiniteWarning,
    Parameter,
    RangeWarning,
    Result,
    RunSpec,
    State,
    Stepper,
    VariableInfo,
    build_spec,
    load_model,
    simulate,
)
from .errors import (
    FlywheelError,
    ModelError,
    OutputError,
    ParameterError,
    ScenarioError,
    SimulationError,
    UnsupportedConstructError,
)

__all__ = [
    "METHODS",
    "FlywheelError",
    "IvpOptions",
    "Model",
    "ModelError",
    "NonFiniteWarning",
    "OutputError",
    "Parameter",
    "ParameterError",
    "RangeWarning",
    "Result",
    "RunSpec",
    "ScenarioError",
    "SimulationError",
    "State",
    "Stepper",
    "UnsupportedConstructError",
    "VariableInfo",
    "build_spec",
    "load_model",
    "simulate",
]
__version__ = "0.2.0"
