"""The compiler's intermediate representation: flat scalar nodes with sanitised keys.

PySD's abstract model is lowered into these nodes (``lowering.py``); code generation (``codegen.py``)
reads them and never changes them. Every string that reaches generated code is either a key made by
``names.py`` (``[a-z0-9_]`` only) or a numeric literal made by ``literal()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL_NAMES = {
    "initial_time": "INITIAL TIME",
    "final_time": "FINAL TIME",
    "time_step": "TIME STEP",
    "saveper": "SAVEPER",
}
# the kernel arguments that stand for the control variables in generated code
CONTROL_ARGS = {"initial_time": "t0", "final_time": "tf", "time_step": "dt", "saveper": "sp"}


@dataclass(frozen=True)
class Expr:
    """A lowered expression in both phases: initialisation (ACTIVE INITIAL's init) and run."""

    run: str
    init: str
    deps: frozenset[str]  # node keys the run form reads
    init_deps: frozenset[str]  # node keys the init form reads
    uses_time: bool = False

    @staticmethod
    def const(code: str) -> Expr:
        return Expr(code, code, frozenset(), frozenset())


@dataclass
class Aux:
    """A value computed from other values: a model auxiliary/flow/constant, or a hidden argument."""

    key: str
    expr: Expr
    name: str | None = None  # the model's name; None for hidden nodes
    overridable: bool = False  # takes a parameter slot that ``run(params=...)`` can set


@dataclass
class Stock:
    """One continuous state: INTEG, or a hidden state of TREND/FORECAST."""

    key: str
    flow: Expr
    initial: Expr
    name: str | None = None
    non_negative: bool = False


@dataclass
class Chain:
    """A chain of ``order`` states for SMOOTH (kind 'smooth'), DELAY1/3 ('delay') and DELAY N ('delayn').

    ``input``, ``time`` and ``initial`` are keys of Aux nodes; ``order`` is the chain length fixed when the
    model is compiled (PySD fixes it at initialisation too). Delays may shorten their order at run time
    (PySD's rule: order * TIME STEP must not exceed the delay time).
    """

    key: str
    kind: str
    input: str
    time: str
    initial: str
    order: int


@dataclass
class InitialValue:
    """INITIAL(expr): computed once at initialisation."""

    key: str
    expr: Expr


@dataclass
class DelayFixed:
    """DELAY FIXED: a pipeline of round(delay / TIME STEP) values (discrete state)."""

    key: str
    input: str
    time: str
    initial: str


@dataclass
class SampleIfTrue:
    """SAMPLE IF TRUE: holds the input's value from the last step the condition was true."""

    key: str
    condition: str
    input: str
    initial: str


@dataclass
class Table:
    """A lookup table (named, or inline from WITH LOOKUP)."""

    key: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    mode: int
    name: str | None = None


@dataclass
class Program:
    """Everything code generation needs, plus the metadata the Model exposes."""

    auxes: list[Aux] = field(default_factory=list)
    stocks: list[Stock] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    initials: list[InitialValue] = field(default_factory=list)
    delay_fixed: list[DelayFixed] = field(default_factory=list)
    samples: list[SampleIfTrue] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # control variable -> key of the Aux holding its model equation (e.g. "final_time" -> "v3_final_time")
    controls: dict[str, str] = field(default_factory=dict)


def literal(value: float) -> str:
    """A numeric literal safe to paste into generated code."""
    value = float(value)
    if value != value:
        return "np.nan"
    if value in (float("inf"), float("-inf")):
        return "np.inf" if value > 0 else "(-np.inf)"
    return repr(value)  # a negative literal stays bare: PySD writes "-2**2", which Python reads as -(2**2)
