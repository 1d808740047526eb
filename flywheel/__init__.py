"""flywheel: a fast system-dynamics lab for the Evil Sales Org Flywheel.

Models are Vensim/XMILE files read with PySD's translators and compiled to numba kernels.
"""

from .errors import (
    FlywheelError,
    ModelError,
    OutputError,
    ParameterError,
    ScenarioError,
    SimulationError,
    UnsupportedConstructError,
)
from .model import Model, VariableInfo, load_model
from .simulate import METHODS, IvpOptions

__all__ = [
    "METHODS",
    "FlywheelError",
    "IvpOptions",
    "Model",
    "ModelError",
    "OutputError",
    "ParameterError",
    "ScenarioError",
    "SimulationError",
    "UnsupportedConstructError",
    "VariableInfo",
    "load_model",
]
__version__ = "0.1.0"
