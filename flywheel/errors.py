"""One error hierarchy, so the command line can turn any of them into one clear line and exit code 2."""

from __future__ import annotations


class FlywheelError(Exception):
    """Base of every error the user can cause (bad model, bad scenario, bad parameters, blow-ups)."""


class ModelError(FlywheelError):
    """The model file cannot be read or compiled."""


class UnsupportedConstructError(ModelError):
    """The model uses a Vensim/XMILE construct the compiler does not implement."""


class ParameterError(FlywheelError):
    """A run was asked with an unknown variable name or a value of the wrong kind."""


class ScenarioError(FlywheelError):
    """A scenario file is malformed, names unknown variables or holds out-of-range values."""


class AuditError(FlywheelError):
    """An audit answers file or audit mapping is malformed, incomplete, or does not fit the model."""


class SimulationError(FlywheelError):
    """A run could not be completed (numerical blow-up, adaptive method on discrete state ...)."""


class OutputError(FlywheelError):
    """A result file cannot be written, or would overwrite an existing one without ``force``."""
