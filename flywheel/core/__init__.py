"""The simulation core: compiled models, run specifications, simulation, results and stepping."""

from .compiled import CompiledModel, VariableInfo, load_compiled
from .methods import METHODS, ButcherTable, Method
from .model import Model, load_model
from .results import Result
from .running import NonFiniteWarning
from .simulate import simulate
from .spec import IvpOptions, Parameter, RangeWarning, RunSpec, TimeSettings, build_spec
from .stepper import State, Stepper

__all__ = [
    "METHODS",
    "ButcherTable",
    "CompiledModel",
    "IvpOptions",
    "Method",
    "Model",
    "NonFiniteWarning",
    "Parameter",
    "RangeWarning",
    "Result",
    "RunSpec",
    "State",
    "Stepper",
    "TimeSettings",
    "VariableInfo",
    "build_spec",
    "load_compiled",
    "load_model",
    "simulate",
]
