"""Where every value of a compiled model lives at run time: rows of the frame's arrays.

The layout is plain data, computed once from the IR and saved as JSON beside the object code, so that a
cached model loads without the compiler.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

from .ir import CONTROLS, LoopValue, Program, literal_value, size_of
from .ordering import Analysis

UNROLL_DELAY = 8  # delay chains up to this order are unrolled (vectorisable); longer ones loop


@dataclass
class Layout:
    n_states: int = 0
    n_params: int = 0
    n_static: int = 0
    n_values: int = 0
    n_discrete: int = 0
    n_pipes: int = 0
    value_names: list[str] = field(default_factory=list)  # row of V -> model name (output columns)
    state_labels: list[str] = field(default_factory=list)  # row of Y -> stock name, or what it belongs to
    param_slots: dict[str, int] = field(default_factory=dict)  # overridable name -> row of P
    param_defaults: list[float | None] = field(default_factory=list)  # literal defaults (None: equation)
    stock_init_slots: dict[str, int] = field(default_factory=dict)  # stock name -> row of P
    stock_index: dict[str, int] = field(default_factory=dict)  # stock name -> row of Y
    tables: dict[str, int] = field(default_factory=dict)  # named lookup -> table index
    table_x: list[list[float]] = field(default_factory=list)
    table_y: list[list[float]] = field(default_factory=list)
    pipe_len_rows: list[int] = field(default_factory=list)  # row of C holding each pipeline's length
    pipe_init_rows: list[int] = field(default_factory=list)  # row of C holding each pipeline's initial value
    static_value_rows: list[int] = field(default_factory=list)  # rows of V that are fixed at initialisation
    dynamic_time: bool = False  # FINAL TIME, TIME STEP or SAVEPER change during the run
    has_discrete_state: bool = False
    incomplete: list[str] = field(default_factory=list)  # names with A FUNCTION OF equations
    # blocks of members run the lockstep evaluation: it takes no override of these (auxiliaries that
    # change during the run) and expects every table with its compiled number of points
    dynamic_params: list[str] = field(default_factory=list)
    lockstep: bool = False  # the model can run members in lockstep vectors (continuous, fixed time settings)
    decisions: list[str] = field(default_factory=list)  # names of GAME variables, in model order
    n_work: int = 0  # rows of V after the named values: hidden arrays (arguments, chain outputs ...)
    # subscripted variables: name -> {"dims": [range names], "coords": [[elements] per range]}; their
    # elements appear everywhere else (value_names, param_slots ...) as "Name[a,b]"
    arrays: dict[str, dict] = field(default_factory=dict)
    random: bool = False  # the model draws random numbers (RANDOM UNIFORM ...)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Slots:
    """The compiler's own view of the layout: IR key -> row, for every kind of storage."""

    layout: Layout
    state: dict[str, int]  # stock key -> Y row; chain key -> first Y row
    param: dict[str, int]  # aux key -> P row
    stock_param: dict[str, int]  # stock key -> P row of its initial value
    static: dict[str, int]  # static aux / INITIAL key -> C row
    chain_order: dict[str, int]  # delay chain key -> C row holding its (possibly shortened) order
    pipe_len: dict[str, int]  # DELAY FIXED key -> C row holding its length
    pipe_init: dict[str, int]  # DELAY FIXED key -> C row holding its initial value
    value: dict[str, int]  # named key -> V row
    discrete: dict[str, int]  # "<key>:<part>" -> D row
    pipe_index: dict[str, int]  # DELAY FIXED key -> pipeline number (index into doff)
    literal_params: set[str]  # aux keys whose equation is a plain number (no equation to fall back on)
    home: dict[str, tuple[str, int]]  # array key -> ("Y" | "C" | "V", first row)


def element_names(name: str, dims) -> list[str]:
    """The column names of a variable: itself, or ``Name[a,b]`` for every element of an array."""
    if dims is None:
        return [name]
    return [f"{name}[{label}]" for label in dims.labels()]


def assign(program: Program, analysis: Analysis, record: list[tuple[str, str]]) -> Slots:
    """Give every IR node its rows. ``record`` is the (name, key) of every output variable, in order;
    an array takes one row per element (row-major), its columns named ``Name[a,b]``."""
    layout = Layout()
    shape = program.shape_of
    state: dict[str, int] = {}
    for stock in program.stocks:
        state[stock.key] = len(layout.state_labels)
        names = element_names(stock.name, program.dims.get(stock.key)) if stock.name else None
        if names:
            for i, label in enumerate(names):
                layout.stock_index[label] = state[stock.key] + i
            layout.state_labels += names
        else:
            layout.state_labels += ["an internal state of TREND/FORECAST"] * size_of(stock.shape)
    for chain in program.chains:
        state[chain.key] = len(layout.state_labels)
        layout.state_labels += [f"an internal state of {chain.kind.upper()}"] * (chain.order * size_of(chain.shape))
    layout.n_states = len(layout.state_labels)

    controls = set(program.controls.values())
    param: dict[str, int] = {}
    literal_params: set[str] = set()
    for aux in program.auxes:
        if aux.overridable and aux.key not in controls:
            param[aux.key] = len(layout.param_defaults)
            names = element_names(aux.name, program.dims.get(aux.key))
            defaults = _literal_defaults(aux)
            for i, label in enumerate(names):
                layout.param_slots[label] = param[aux.key] + i
            layout.param_defaults += defaults
            if all(v is not None for v in defaults):
                literal_params.add(aux.key)
    stock_param: dict[str, int] = {}
    for stock in program.stocks:
        if stock.name:
            stock_param[stock.key] = len(layout.param_defaults)
            for i, label in enumerate(element_names(stock.name, program.dims.get(stock.key))):
                layout.stock_init_slots[label] = stock_param[stock.key] + i
                layout.param_defaults.append(None)
    layout.n_params = len(layout.param_defaults)

    static: dict[str, int] = {}
    rows = 0
    for key in analysis.init_order:
        if key in analysis.static:
            static[key] = rows
            rows += size_of(shape(key))
    chain_order = {}
    for chain in program.chains:
        if chain.kind != "smooth":
            chain_order[chain.key] = rows
            rows += 1
    pipe_len, pipe_init, pipe_index = {}, {}, {}
    pipes = 0
    for fixed in program.delay_fixed:  # one pipeline per element: lengths, then initial values
        size = size_of(fixed.shape)
        pipe_len[fixed.key], pipe_init[fixed.key], pipe_index[fixed.key] = rows, rows + size, pipes
        layout.pipe_len_rows += list(range(rows, rows + size))
        layout.pipe_init_rows += list(range(rows + size, rows + 2 * size))
        rows += 2 * size
        pipes += size
    layout.n_static = rows
    layout.n_pipes = pipes

    value = {}
    for name, key in record:
        value[key] = len(layout.value_names)
        dims = program.dims.get(key)
        layout.value_names += element_names(name, dims)
        if dims is not None:
            layout.arrays[name] = {"dims": list(dims.names), "coords": [list(e) for e in dims.elements]}
    for key, dims in program.dims.items():  # arrays of lookups
        name = program.names.get(key)
        if name and name not in layout.arrays:
            layout.arrays[name] = {"dims": list(dims.names), "coords": [list(e) for e in dims.elements]}
    layout.n_values = len(layout.value_names)

    # where arrays live: stocks in Y, static arrays in C, named ones in their value rows, hidden ones in
    # work rows after the named values
    home: dict[str, tuple[str, int]] = {}
    work = layout.n_values
    hidden_arrays = [a.key for a in program.auxes if a.shape] + [c.key for c in program.chains if c.shape]
    hidden_arrays += [s.key for s in program.samples if s.shape] + [o.key for o in program.vector_ops]
    hidden_arrays += [i.key for i in program.initials if i.shape]
    for stock in program.stocks:
        if stock.shape:
            home[stock.key] = ("Y", state[stock.key])
    for key in hidden_arrays:
        if key in static:
            home[key] = ("C", static[key])
        elif key in value:
            home[key] = ("V", value[key])
        else:
            home[key] = ("V", work)
            work += size_of(shape(key))
    layout.n_work = work - layout.n_values

    discrete: dict[str, int] = {}  # label -> first row
    n_discrete = 0

    def take(label: str, size: int = 1) -> None:
        nonlocal n_discrete
        discrete[label] = n_discrete
        n_discrete += size

    for fixed in program.delay_fixed:
        size = size_of(fixed.shape)
        take(f"{fixed.key}:ptr", size)
        take(f"{fixed.key}:out", size)
        take(f"{fixed.key}:in", size)
    for sample in program.samples:
        size = size_of(sample.shape)
        take(f"{sample.key}:state", size)
        take(f"{sample.key}:in", size)
        take(f"{sample.key}:cond", size)
    dynamic_delayn = [c for c in program.chains if c.kind == "delayn" and c.time not in analysis.static]
    for chain in dynamic_delayn:
        size = size_of(chain.shape)
        take(f"{chain.key}:times", chain.order * size)
        take(f"{chain.key}:tnow", size)
    layout.n_discrete = n_discrete
    for fixed in program.delay_fixed:
        if fixed.shape:
            home[fixed.key] = ("D", discrete[f"{fixed.key}:out"])

    for name, key in layout_tables(program):
        layout.tables[name] = key
    for table in program.tables:
        layout.table_x.append(list(table.x))
        layout.table_y.append(list(table.y))

    layout.dynamic_time = any(c in analysis.dynamic_controls for c in CONTROLS if c != "initial_time")
    layout.has_discrete_state = bool(program.delay_fixed or program.samples or dynamic_delayn)
    layout.random = program.random
    layout.static_value_rows = [
        value[k] + i for k in value if k in analysis.static or k in controls for i in range(size_of(shape(k)))
    ]
    names = {a.key: a.name for a in program.auxes}
    layout.incomplete = [names[k] for k in program.incomplete if names.get(k)]
    layout.decisions = [names[k] for k in program.decisions if names.get(k)]
    layout.dynamic_params = [
        label for k in param if k not in analysis.static for label in element_names(names[k], program.dims.get(k))
    ]
    layout.lockstep = not (layout.dynamic_time or layout.has_discrete_state) and all(
        c.kind == "smooth" or c.order <= UNROLL_DELAY for c in program.chains
    )
    return Slots(
        layout, state, param, stock_param, static, chain_order, pipe_len, pipe_init, value, discrete,
        pipe_index, literal_params, home,
    )  # fmt: skip


def _literal_defaults(aux) -> list[float | None]:
    """The default of every element of a parameter: its number, or None where an equation defines it."""
    if not aux.shape:
        return [literal_value(aux.expr)]
    strides = _strides(aux.shape)
    defaults: list[float | None] = [None] * size_of(aux.shape)
    for part in aux.parts:
        extents = tuple(len(loop.positions) for loop in part.loops)
        for point in itertools.product(*(range(n) for n in extents)):
            if point in part.skip:
                continue
            flat = sum(loop.positions[i] * s for loop, i, s in zip(part.loops, point, strides, strict=True))
            number = literal_value(part.expr)
            if number is None and isinstance(part.expr, LoopValue) and part.expr.vars == tuple(lp.var for lp in part.loops):
                number = part.expr.values[sum(i * s for i, s in zip(point, _strides(extents), strict=True))]
            defaults[flat] = number
    return defaults


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def layout_tables(program: Program) -> list[tuple[str, int]]:
    return [(t.name, i) for i, t in enumerate(program.tables) if t.name]
