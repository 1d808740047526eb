"""The compiler's intermediate representation: expression trees over flat, sanitised nodes.

PySD's abstract model is lowered into these nodes (``lowering.py``); the LLVM emitter (``emit/``) reads
them and never changes them. Trees are frozen dataclasses, so an expression can be shared, compared and
hashed. A node key (``v12_trust``, ``h40_smooth``) is made by ``names.make_key``; model names and other
text from the file never reach generated code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .frame import CONTROL_NAMES, CONTROLS  # noqa: F401  (re-exported: the IR's control names)

# ---------------------------------------------------------------------------------------------- trees


@dataclass(frozen=True)
class Node:
    """An expression. Subclasses list their child expressions in ``children()``."""

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Num(Node):
    value: float


@dataclass(frozen=True)
class Ref(Node):
    """The value of another IR node (an auxiliary, a stock, a chain's output, an INITIAL value ...)."""

    key: str


@dataclass(frozen=True)
class Time(Node):
    """The current time."""


@dataclass(frozen=True)
class Control(Node):
    """A control value of the run (initial_time, final_time, time_step, saveper) as the run sets it."""

    name: str


@dataclass(frozen=True)
class Neg(Node):
    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic: ``+ - * / ^``, evaluated left to right like PySD's generated Python."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Node):
    """``= <> < <= > >=``: 1.0 when true, else 0.0."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Not(Node):
    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Logic(Node):
    """``:AND:`` / ``:OR:`` of two operands (non-zero is true): 1.0 or 0.0."""

    op: str  # "and" | "or"
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class If(Node):
    """IF THEN ELSE: both branches are values; the condition picks one (non-zero or NaN is true)."""

    cond: Node
    then: Node
    other: Node

    def children(self) -> tuple[Node, ...]:
        return (self.cond, self.then, self.other)


@dataclass(frozen=True)
class Call(Node):
    """A pure builtin of its arguments (``exp``, ``min``, ``zidz`` ...), see ``BUILTINS``."""

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class TimeCall(Node):
    """A builtin of time (``step``, ``ramp``, ``pulse`` ...), see ``TIME_BUILTINS``."""

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Lookup(Node):
    """A lookup table evaluated at ``arg`` with one of ``LOOKUP_MODES``."""

    table: str
    arg: Node
    mode: str

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class LookupInvert(Node):
    table: str
    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Phase(Node):
    """ACTIVE INITIAL: ``init`` while the model initialises, ``run`` afterwards."""

    run: Node
    init: Node

    def children(self) -> tuple[Node, ...]:
        return (self.run, self.init)


@dataclass(frozen=True)
class Incomplete(Node):
    """A FUNCTION OF(...): an equation not written yet. Its arguments are structure, not a formula."""

    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


# builtin name -> accepted argument counts
BUILTINS: dict[str, tuple[int, ...]] = {
    "abs": (1,), "exp": (1,), "sqrt": (1,), "ln": (1,), "log": (2,), "sin": (1,), "cos": (1,), "tan": (1,),
    "arcsin": (1,), "arccos": (1,), "arctan": (1,), "sinh": (1,), "cosh": (1,), "tanh": (1,),
    "power": (2,), "min": (2,), "max": (2,), "integer": (1,), "modulo": (2,), "quantum": (2,),
    "zidz": (2,), "xidz": (3,), "pi": (0,),
}  # fmt: skip
TIME_BUILTINS: dict[str, tuple[int, ...]] = {
    "step": (2,), "ramp": (2, 3), "Xramp": (2,), "pulse": (2,), "pulse_train": (4,), "Xpulse": (2,),
    "Xpulse_train": (3,),
}  # fmt: skip
LOOKUP_MODES = ("interpolate", "extrapolate", "backward", "forward")


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def references(
    node: Node, phase: str, controls: dict[str, str] | None = None, structural: bool = False
) -> frozenset[str]:
    """Keys the expression reads in ``phase`` ("run" or "init"): ACTIVE INITIAL reads one side only.

    With ``controls`` (control name -> key), a control reference counts as reading its equation's node.
    The arguments of A FUNCTION OF are structure, not something evaluated: only ``structural``
    references include them."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Ref):
            found.add(current.key)
        elif isinstance(current, Control):
            if controls and current.name in controls:
                found.add(controls[current.name])
        elif isinstance(current, Phase):
            stack.append(current.run if phase == "run" else current.init)
        elif isinstance(current, Incomplete) and not structural:
            continue
        else:
            stack.extend(current.children())
    return frozenset(found)


def uses_time(node: Node) -> bool:
    """Whether the value can change with time by itself (Time, a time builtin, a dynamic control)."""
    return any(isinstance(n, Time | TimeCall) for n in walk(node))


def has_phases(node: Node) -> bool:
    return any(isinstance(n, Phase) for n in walk(node))


def literal_value(node: Node) -> float | None:
    """The number an expression is, if it is a plain number (``-3`` included)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg) and isinstance(node.arg, Num):
        return -node.arg.value
    return None


# ---------------------------------------------------------------------------------------------- nodes


@dataclass
class Aux:
    """A value computed from other values: a model auxiliary/flow/constant, or a hidden argument."""

    key: str
    expr: Node
    name: str | None = None  # the model's name; None for hidden nodes
    overridable: bool = False  # takes a parameter slot that a run can set


@dataclass
class Stock:
    """One continuous state: INTEG, or a hidden state of TREND/FORECAST."""

    key: str
    flow: Node
    initial: Node
    name: str | None = None
    non_negative: bool = False


@dataclass
class Chain:
    """A chain of ``order`` states for SMOOTH (kind 'smooth'), DELAY1/3 ('delay') and DELAY N ('delayn').

    ``input``, ``time`` and ``initial`` are keys of Aux nodes; ``order`` is fixed when the model is
    compiled (PySD fixes it at initialisation too). Delays may shorten their order at initialisation
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
    expr: Node


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
    mode: str
    name: str | None = None


@dataclass
class Program:
    """Everything code generation needs, plus the metadata the model exposes."""

    auxes: list[Aux] = field(default_factory=list)
    stocks: list[Stock] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    initials: list[InitialValue] = field(default_factory=list)
    delay_fixed: list[DelayFixed] = field(default_factory=list)
    samples: list[SampleIfTrue] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # control variable -> key of the Aux holding its model equation (e.g. "final_time" -> "v3_final_time")
    controls: dict[str, str] = field(default_factory=dict)
    # keys of named variables whose equation is A FUNCTION OF (incomplete): they cannot run
    incomplete: list[str] = field(default_factory=list)
    # keys of named variables whose equation is GAME(x): decisions a player may hold
    decisions: list[str] = field(default_factory=list)
