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
class At:
    """One position of an array reference: a fixed element (its position along the dimension)."""

    position: int


@dataclass(frozen=True)
class Over:
    """One position of an array reference that follows loop variable ``var``: the position along the
    referenced dimension is ``table[i]`` for loop position ``i`` (``None``: ``i`` itself)."""

    var: int
    table: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Ref(Node):
    """The value of another IR node (an auxiliary, a stock, a chain's output, an INITIAL value ...).

    ``index`` is empty for a scalar node; for an array node it has one ``At``/``Over`` per dimension,
    and the value is the element those positions select (row-major order)."""

    key: str
    index: tuple[At | Over, ...] = ()


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
    """A lookup table evaluated at ``arg`` with one of ``LOOKUP_MODES``; ``index`` selects the table of
    an array of lookups (like ``Ref.index``)."""

    table: str
    arg: Node
    mode: str
    index: tuple[At | Over, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class LookupInvert(Node):
    table: str
    arg: Node
    index: tuple[At | Over, ...] = ()

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
class LoopValue(Node):
    """A subscript used as a number (Vensim: an element's 1-based position in its range), or an array
    constant: ``values[table position]`` for the loop variables ``vars`` (row-major over ``extents``)."""

    vars: tuple[int, ...]
    extents: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Reduce(Node):
    """A vector function over loop variables ``loops`` ((var, extent), ...) bound only inside ``args``:
    SUM, PROD, VMIN, VMAX (one argument) and VECTOR SELECT (selection, expression, missing value;
    ``op`` "select_<action>")."""

    op: str
    args: tuple[Node, ...]
    loops: tuple[tuple[int, int], ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Random(Node):
    """A random draw (RANDOM UNIFORM, NORMAL ...): a pure function of the run's seed, the member, the
    call site ``site``, the element (``vars`` over ``extents``) and the time, so any member can be
    computed alone and ensembles do not depend on how they are split."""

    dist: str
    args: tuple[Node, ...]
    site: int
    vars: tuple[int, ...] = ()
    extents: tuple[int, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Each(Node):
    """The expressions of an array node's parts, for analysis only (never emitted): walking it visits
    every part, so dependency and static analysis treat arrays like scalars."""

    exprs: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.exprs


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
# random distributions -> number of Vensim arguments (the last one is the stream ID)
DISTRIBUTIONS = {"uniform01": 0, "uniform": 3, "normal": 5, "exponential": 5, "poisson": 6, "triangular": 6}
LOOKUP_MODES = ("interpolate", "extrapolate", "backward", "forward", "raw")  # raw: data only at its own times


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
    return any(isinstance(n, Time | TimeCall | Random) for n in walk(node))


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


@dataclass(frozen=True)
class Loop:
    """One dimension of a part: loop variable ``var`` runs over ``len(positions)`` values; position
    ``i`` writes element ``positions[i]`` along the node's dimension."""

    var: int
    positions: tuple[int, ...]


@dataclass(frozen=True)
class Part:
    """One definition of (some elements of) an array node: a loop nest, one ``Loop`` per dimension of
    the node, minus the loop positions in ``skip`` (:EXCEPT:). Stocks keep their initial value in
    ``initial``."""

    loops: tuple[Loop, ...]
    expr: Node
    initial: Node | None = None
    skip: frozenset[tuple[int, ...]] = frozenset()


def identity_parts(shape: tuple[int, ...], expr: Node, first_var: int = 0, initial: Node | None = None) -> tuple[Part, ...]:
    """One part covering a whole hidden array, loop variables ``first_var ...`` in order."""
    loops = tuple(Loop(first_var + k, tuple(range(n))) for k, n in enumerate(shape))
    return (Part(loops, expr, initial),)


def size_of(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


@dataclass
class Aux:
    """A value computed from other values: a model auxiliary/flow/constant, or a hidden argument.

    An array (``shape`` not empty) is defined by ``parts``; its ``expr`` is ``Each`` of their
    expressions."""

    key: str
    expr: Node
    name: str | None = None  # the model's name; None for hidden nodes
    overridable: bool = False  # takes a parameter slot that a run can set
    shape: tuple[int, ...] = ()
    parts: tuple[Part, ...] = ()


@dataclass
class Stock:
    """One continuous state: INTEG, or a hidden state of TREND/FORECAST."""

    key: str
    flow: Node
    initial: Node
    name: str | None = None
    non_negative: bool = False
    shape: tuple[int, ...] = ()
    parts: tuple[Part, ...] = ()  # arrays: each part's expr is its flow, its initial the initial value


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
    shape: tuple[int, ...] = ()  # arrays: one chain per element (arguments are arrays of this shape or scalars)


@dataclass
class InitialValue:
    """INITIAL(expr): computed once at initialisation."""

    key: str
    expr: Node
    shape: tuple[int, ...] = ()
    parts: tuple[Part, ...] = ()


@dataclass
class DelayFixed:
    """DELAY FIXED: a pipeline of round(delay / TIME STEP) values (discrete state); an array has one
    pipeline per element."""

    key: str
    input: str
    time: str
    initial: str
    shape: tuple[int, ...] = ()


@dataclass
class SampleIfTrue:
    """SAMPLE IF TRUE: holds the input's value from the last step the condition was true."""

    key: str
    condition: str
    input: str
    initial: str
    shape: tuple[int, ...] = ()


@dataclass
class Table:
    """A lookup table (named, or inline from WITH LOOKUP)."""

    key: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    mode: str
    name: str | None = None  # the model's name ("Effect[North]" for one element of an array of lookups)


@dataclass
class VectorOp:
    """A builtin of whole arrays (VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER, INVERT MATRIX,
    ALLOCATE BY PRIORITY): computed along the last dimension(s) of ``shape`` into an array of that
    shape; ``args`` are keys of arrays of the same shape, or of scalars."""

    key: str
    op: str
    args: tuple[str, ...]
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Dims:
    """The subscript ranges of a named array: their names and their elements, in order."""

    names: tuple[str, ...]
    elements: tuple[tuple[str, ...], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(e) for e in self.elements)

    def labels(self) -> list[str]:
        """Every element as PySD names its column: ``a,b`` for element (a, b), in row-major order."""
        import itertools

        return [",".join(combo) for combo in itertools.product(*self.elements)]


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
    vector_ops: list[VectorOp] = field(default_factory=list)
    # named arrays (auxiliaries, stocks, lookups): key -> their subscript ranges
    dims: dict[str, Dims] = field(default_factory=dict)
    # arrays of lookups: key -> (index of the first element's table in ``tables``, shape)
    table_arrays: dict[str, tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # key -> the model's name, for named variables
    random: bool = False  # some equation draws random numbers

    def shape_of(self, key: str) -> tuple[int, ...]:
        """The shape of any value node (``()`` for scalars)."""
        shapes = self.__dict__.get("_shapes")
        if shapes is None or len(shapes) != self._count():
            shapes = {}
            for group in (self.auxes, self.stocks, self.chains, self.initials, self.samples, self.vector_ops):
                for node in group:
                    shapes[node.key] = node.shape
            for fixed in self.delay_fixed:
                shapes[fixed.key] = fixed.shape
            self.__dict__["_shapes"] = shapes
        return shapes.get(key, ())

    def _count(self) -> int:
        return sum(len(g) for g in (self.auxes, self.stocks, self.chains, self.initials, self.samples,
                                     self.vector_ops, self.delay_fixed))
