"""flywheel: a fast system-dynamics lab for the Evil Sales Org Flywheel.

Models are Vensim/XMILE files read with PySD's translators and compiled to machine code with LLVM.
The public API below is imported on first use (PEP 562), so that ``import flywheel`` and
``flywheel --help`` stay instant; ``flywheel.__all__`` lists all of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    FlywheelError,
    ModelError,
    OutputError,
    ParameterError,
    ScenarioError,
    SimulationError,
    UnsupportedConstructError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and readers: the real imports
    from .analysis.calibration import Calibration, calibrate
    from .analysis.dominance import loop_dominance
    from .analysis.equilibria import equilibria
    from .analysis.game import Game
    from .analysis.links import links
    from .analysis.loops import loops
    from .analysis.montecarlo import MonteCarlo, Probability, montecarlo
    from .analysis.posterior import Posterior, posterior
    from .analysis.profiles import LikelihoodProfile
    from .analysis.ranges import Ranges, load_ranges
    from .analysis.sensitivity import Sensitivity, sensitivity
    from .analysis.tipping import tipping
    from .analysis.tornado import Tornado, tornado
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
    from .scenarios import Profile, Scenario, load_profile, load_scenario

_LAZY = {
    "METHODS": "core", "IvpOptions": "core", "Model": "core", "NonFiniteWarning": "core", "Parameter": "core",
    "RangeWarning": "core", "Result": "core", "RunSpec": "core", "State": "core", "Stepper": "core",
    "VariableInfo": "core", "build_spec": "core", "load_model": "core", "simulate": "core",
    "Profile": "scenarios", "Scenario": "scenarios", "load_profile": "scenarios", "load_scenario": "scenarios",
    "Game": "analysis.game", "tipping": "analysis.tipping", "equilibria": "analysis.equilibria",
    "links": "analysis.links", "loops": "analysis.loops", "loop_dominance": "analysis.dominance",
    "Calibration": "analysis.calibration", "calibrate": "analysis.calibration",
    "LikelihoodProfile": "analysis.profiles",
    "Posterior": "analysis.posterior", "posterior": "analysis.posterior",
    "Ranges": "analysis.ranges", "load_ranges": "analysis.ranges",
    "Sensitivity": "analysis.sensitivity", "sensitivity": "analysis.sensitivity",
    "MonteCarlo": "analysis.montecarlo", "Probability": "analysis.montecarlo", "montecarlo": "analysis.montecarlo",
    "Tornado": "analysis.tornado", "tornado": "analysis.tornado",
}  # fmt: skip

__all__ = [
    "METHODS",
    "Calibration",
    "FlywheelError",
    "Game",
    "IvpOptions",
    "LikelihoodProfile",
    "Model",
    "ModelError",
    "MonteCarlo",
    "NonFiniteWarning",
    "OutputError",
    "Parameter",
    "ParameterError",
    "Posterior",
    "Probability",
    "Profile",
    "RangeWarning",
    "Ranges",
    "Result",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "SimulationError",
    "State",
    "Stepper",
    "Tornado",
    "UnsupportedConstructError",
    "VariableInfo",
    "build_spec",
    "calibrate",
    "equilibria",
    "links",
    "load_model",
    "load_profile",
    "load_ranges",
    "load_scenario",
    "loop_dominance",
    "loops",
    "montecarlo",
    "posterior",
    "sensitivity",
    "simulate",
    "tipping",
    "tornado",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flywheel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
