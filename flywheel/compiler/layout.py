"""Where every value of a compiled model lives at run time: rows of the frame's arrays.

The layout is plain data, computed once from the IR and saved as JSON beside the object code, so that a
cached model loads without the compiler.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .ir import CONTROLS, Program, literal_value
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


def assign(program: Program, analysis: Analysis, record: list[tuple[str, str]]) -> Slots:
    """Give every IR node its rows. ``record`` is the (name, key) of every output column, in order."""
    layout = Layout()
    state: dict[str, int] = {}
    for stock in program.stocks:
        state[stock.key] = len(layout.state_labels)
        if stock.name:
            layout.stock_index[stock.name] = state[stock.key]
        layout.state_labels.append(stock.name or "an internal state of TREND/FORECAST")
    for chain in program.chains:
        state[chain.key] = len(layout.state_labels)
        layout.state_labels += [f"an internal state of {chain.kind.upper()}"] * chain.order
    layout.n_states = len(layout.state_labels)

    controls = set(program.controls.values())
    param: dict[str, int] = {}
    literal_params: set[str] = set()
    for aux in program.auxes:
        if aux.overridable and aux.key not in controls:
            param[aux.key] = len(layout.param_defaults)
            layout.param_slots[aux.name] = param[aux.key]
            value = literal_value(aux.expr)
            layout.param_defaults.append(value)
            if value is not None:
                literal_params.add(aux.key)
    stock_param: dict[str, int] = {}
    for stock in program.stocks:
        if stock.name:
            stock_param[stock.key] = len(layout.param_defaults)
            layout.stock_init_slots[stock.name] = stock_param[stock.key]
            layout.param_defaults.append(None)
    layout.n_params = len(layout.param_defaults)

    static: dict[str, int] = {}
    for key in analysis.init_order:
        if key in analysis.static:
            static[key] = len(static)
    rows = len(static)
    chain_order = {}
    for chain in program.chains:
        if chain.kind != "smooth":
            chain_order[chain.key] = rows
            rows += 1
    pipe_len, pipe_init, pipe_index = {}, {}, {}
    for i, fixed in enumerate(program.delay_fixed):
        pipe_len[fixed.key], pipe_init[fixed.key], pipe_index[fixed.key] = rows, rows + 1, i
        rows += 2
    layout.n_static = rows
    layout.pipe_len_rows = [pipe_len[f.key] for f in program.delay_fixed]
    layout.pipe_init_rows = [pipe_init[f.key] for f in program.delay_fixed]
    layout.n_pipes = len(program.delay_fixed)

    value = {}
    for name, key in record:
        value[key] = len(layout.value_names)
        layout.value_names.append(name)
    layout.n_values = len(layout.value_names)

    discrete: dict[str, int] = {}  # label -> first row
    n_discrete = 0

    def take(label: str, size: int = 1) -> None:
        nonlocal n_discrete
        discrete[label] = n_discrete
        n_discrete += size

    for fixed in program.delay_fixed:
        take(f"{fixed.key}:ptr")
        take(f"{fixed.key}:out")
        take(f"{fixed.key}:in")
    for sample in program.samples:
        take(f"{sample.key}:state")
        take(f"{sample.key}:in")
        take(f"{sample.key}:cond")
    dynamic_delayn = [c for c in program.chains if c.kind == "delayn" and c.time not in analysis.static]
    for chain in dynamic_delayn:
        take(f"{chain.key}:times", chain.order)
        take(f"{chain.key}:tnow")
    layout.n_discrete = n_discrete

    for name, key in layout_tables(program):
        layout.tables[name] = key
    for table in program.tables:
        layout.table_x.append(list(table.x))
        layout.table_y.append(list(table.y))

    layout.dynamic_time = any(c in analysis.dynamic_controls for c in CONTROLS if c != "initial_time")
    layout.has_discrete_state = bool(program.delay_fixed or program.samples or dynamic_delayn)
    layout.static_value_rows = [value[k] for k in value if k in analysis.static or k in controls]
    names = {a.key: a.name for a in program.auxes}
    layout.incomplete = [names[k] for k in program.incomplete if names.get(k)]
    layout.decisions = [names[k] for k in program.decisions if names.get(k)]
    layout.dynamic_params = [names[k] for k in param if k not in analysis.static]
    layout.lockstep = not (layout.dynamic_time or layout.has_discrete_state) and all(
        c.kind == "smooth" or c.order <= UNROLL_DELAY for c in program.chains
    )
    return Slots(
        layout, state, param, stock_param, static, chain_order, pipe_len, pipe_init, value, discrete,
        pipe_index, literal_params,
    )  # fmt: skip


def layout_tables(program: Program) -> list[tuple[str, int]]:
    return [(t.name, i) for i, t in enumerate(program.tables) if t.name]
