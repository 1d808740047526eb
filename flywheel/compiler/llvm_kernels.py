"""The compiled model as one LLVM module: five entry points over a frame (``frame.py``).

- ``fw_controls``: the model's own control values (INITIAL TIME ...) from its equations.
- ``fw_init``: initialise members: states, values fixed at initialisation, discrete state, all values.
- ``fw_statics``: recompute the values fixed at initialisation after constants changed mid-run.
- ``fw_eval``: derivatives and all values of one member at one time (for scipy's ``solve_ivp``).
- ``fw_run``: the stepping loop. One loop serves every explicit Runge-Kutta table and every use: single
  runs and steppers (blocks of one member) and ensembles (blocks of members in lockstep, so the loops
  over members vectorise).

Member-level code (``_MemberCode``) is emitted once per use into small internal functions marked
``alwaysinline``; LLVM inlines them into the loops over members.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from .frame import FIELD_INDEX, FRAME_FIELDS, N_CONTROL
from .ir import CONTROLS, Aux, Chain, Program, Stock
from .layout import Slots
from .llvm_expr import ExprEmitter
from .llvm_support import (
    F64,
    F64P,
    I1,
    I8P,
    I64,
    I64P,
    TIME_RPREC,
    Builtins,
    as_float,
    entry_alloca,
    f64,
    for_range,
    i64,
    is_finite,
    is_true,
    load,
    store,
)
from .ordering import Analysis

UNROLL_DELAY = 8  # delay chains up to this order are unrolled (vectorisable); longer ones loop
_KIND_TYPES = {"f64*": F64P, "u8*": I8P, "i64*": I64P, "i64": I64, "f64": F64}

# the member view: the frame's arrays as arguments of the internal member functions (all noalias)
_VIEW = (
    ("P", F64P), ("ovm", I8P), ("lkx", F64P), ("lky", F64P), ("lko", I64P), ("lkn", I64P), ("ctl", F64P),
    ("Y", F64P), ("C", F64P), ("D", F64P), ("V", F64P), ("doff", I64P), ("stride", I64), ("m", I64),
)  # fmt: skip


@dataclass
class View:
    """One member's access to the frame arrays inside an LLVM function."""

    b: ir.IRBuilder
    args: dict[str, ir.Value]

    def __getitem__(self, name: str) -> ir.Value:
        return self.args[name]

    def index(self, row) -> ir.Value:
        row = i64(row) if isinstance(row, int) else row
        return self.b.add(self.b.mul(row, self.args["stride"]), self.args["m"])

    def get(self, array: str, row) -> ir.Value:
        return load(self.b, self.args[array], self.index(row))

    def put(self, value: ir.Value, array: str, row) -> None:
        store(self.b, value, self.args[array], self.index(row))

    def get_at(self, base: ir.Value, row) -> ir.Value:
        return load(self.b, base, self.index(row))

    def put_at(self, value: ir.Value, base: ir.Value, row) -> None:
        store(self.b, value, base, self.index(row))

    def control(self, i: int) -> ir.Value:
        return load(self.b, self.args["ctl"], i64(i))

    def table(self, index: int) -> tuple[ir.Value, ir.Value, ir.Value]:
        offset = load(self.b, self.args["lko"], i64(index))
        n = load(self.b, self.args["lkn"], i64(index))
        return (self.b.gep(self.args["lkx"], [offset], inbounds=True), self.b.gep(self.args["lky"], [offset], inbounds=True), n)


class ModuleBuilder:
    """Builds the LLVM module of one model from its IR, analysis and layout."""

    def __init__(self, program: Program, analysis: Analysis, slots: Slots):
        self.p = program
        self.a = analysis
        self.s = slots
        self.module = ir.Module("flywheel_model")
        self.builtins = Builtins(self.module)
        self.aux = {a.key: a for a in program.auxes}
        self.stocks = {s.key: s for s in program.stocks}
        self.chains = {c.key: c for c in program.chains}
        self.initials = {i.key: i for i in program.initials}
        self.fixed = {f.key: f for f in program.delay_fixed}
        self.samples = {s.key: s for s in program.samples}
        self.control_of = {key: name for name, key in program.controls.items()}
        self.table_index = {t.key: i for i, t in enumerate(program.tables)}
        self.discrete_delayn = {c.key for c in program.chains if f"{c.key}:times" in slots.discrete}

    def build(self) -> ir.Module:
        init = self._member_function("init", self._emit_member_init)
        statics = self._member_function("statics", self._emit_member_statics)
        evaluate = self._member_eval()
        self._entry_controls()
        self._entry_over_members("fw_init", init)
        self._entry_over_members("fw_statics", statics)
        self._entry_eval(evaluate)
        self._entry_run(init, evaluate)
        return self.module

    # ================================================================== member functions
    def _member_function(self, name: str, emit_body) -> ir.Function:
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [t for _, t in _VIEW]), f"member_{name}")
        _internal(fn)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        view = View(b, dict(zip([n for n, _ in _VIEW], fn.args, strict=True)))
        emit_body(view)
        b.ret_void()
        return fn

    def _expr(self, view: View, phase: str, time: ir.Value, values: dict[str, ir.Value], resolve, control) -> ExprEmitter:
        def lookup_resolve(key: str) -> ir.Value:
            return values[key] if key in values else resolve(key)

        return ExprEmitter(
            view.b, self.builtins, phase=phase, time=time, resolve=lookup_resolve, control=control,
            table=lambda key: view.table(self.table_index[key]),
        )  # fmt: skip

    def _with_override(self, view: View, aux: Aux, compute) -> ir.Value:
        """A parameter slot overrides the equation: a literal constant is just its slot."""
        slot = self.s.param.get(aux.key)
        if slot is None:
            return compute()
        if aux.key in self.s.literal_params:
            return view.get("P", slot)
        b = view.b
        chosen = b.icmp_unsigned("!=", load(b, view["ovm"], i64(slot)), ir.Constant(ir.IntType(8), 0))
        return b.select(chosen, view.get("P", slot), compute())

    def _setting(self, view: View, name: str) -> ir.Value:
        return view.control(CONTROLS.index(name))

    def _current(self, view: View, name: str) -> ir.Value:
        return view.control(N_CONTROL + CONTROLS.index(name))

    # ------------------------------------------------------------------ initialisation
    def _emit_member_init(self, view: View) -> None:
        b = view.b
        time = self._setting(view, "initial_time")
        dt = self._setting(view, "time_step")
        values: dict[str, ir.Value] = {}

        def control(name: str) -> ir.Value:
            return self._setting(view, name)

        expr = self._expr(view, "init", time, values, lambda key: values[key], control)
        for key in self.a.init_order:
            if key in self.aux:
                aux = self.aux[key]
                if key in self.control_of and key in self.a.static:
                    value = self._setting(view, self.control_of[key])
                else:
                    value = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr))
            elif key in self.stocks:
                stock = self.stocks[key]
                value = self._stock_initial(view, stock, expr)
                view.put(value, "Y", self.s.state[key])
            elif key in self.chains:
                value = self._chain_init(view, self.chains[key], values, dt)
            elif key in self.initials:
                value = expr.emit(self.initials[key].expr)
            elif key in self.fixed:
                value = self._delay_fixed_init(view, key, values, dt)
            elif key in self.samples:
                sample = self.samples[key]
                state = values[sample.initial]
                view.put(state, "D", self.s.discrete[f"{key}:state"])
                value = b.select(is_true(b, values[sample.condition]), values[sample.input], state)
            else:
                continue
            values[key] = value
            if key in self.s.static:
                view.put(value, "C", self.s.static[key])
            if key in self.s.value:
                view.put(value, "V", self.s.value[key])

    def _stock_initial(self, view: View, stock: Stock, expr: ExprEmitter) -> ir.Value:
        slot = self.s.stock_param.get(stock.key)
        if slot is None:
            return expr.emit(stock.initial)
        b = view.b
        chosen = b.icmp_unsigned("!=", load(b, view["ovm"], i64(slot)), ir.Constant(ir.IntType(8), 0))
        return b.select(chosen, view.get("P", slot), expr.emit(stock.initial))

    def _chain_init(self, view: View, chain: Chain, values: dict[str, ir.Value], dt: ir.Value) -> ir.Value:
        b = view.b
        base = self.s.state[chain.key]
        initial, delay = values[chain.initial], values[chain.time]
        if chain.kind == "smooth":
            for k in range(chain.order):
                view.put(initial, "Y", base + k)
            return view.get("Y", base + chain.order - 1)
        # PySD shortens a delay chain whose order * TIME STEP exceeds the delay time
        order_slot = entry_alloca(b, I64)
        b.store(i64(chain.order), order_slot)
        head = b.append_basic_block("order.head")
        body = b.append_basic_block("order.body")
        done = b.append_basic_block("order.done")
        b.branch(head)
        b.position_at_end(head)
        order = b.load(order_slot)
        longer = b.fcmp_ordered(">", b.fmul(b.sitofp(order, F64), dt), delay)
        b.cbranch(b.and_(b.icmp_signed(">", order, i64(1)), longer), body, done)
        b.position_at_end(body)
        b.store(b.sub(order, i64(1)), order_slot)
        b.branch(head)
        b.position_at_end(done)
        order = b.load(order_slot)
        view.put(b.sitofp(order, F64), "C", self.s.chain_order[chain.key])
        stock_value = b.fmul(initial, delay)
        for k in range(chain.order):
            inside = b.icmp_signed("<", i64(k), order)
            view.put(b.select(inside, stock_value, f64(0.0)), "Y", base + k)
        if chain.key in self.discrete_delayn:
            times = self.s.discrete[f"{chain.key}:times"]
            for k in range(chain.order):
                view.put(delay, "D", times + k)
        last = view.get("Y", b.add(i64(base), b.sub(order, i64(1))))
        return b.fdiv(last, delay)

    def _delay_fixed_init(self, view: View, key: str, values: dict[str, ir.Value], dt: ir.Value) -> ir.Value:
        """PySD: a pipeline of max(1, round(max(delay / dt, 1) + 1e-6)) values (round half to even)."""
        b = view.b
        fixed = self.fixed[key]
        ratio = b.fdiv(values[fixed.time], dt)
        ratio = b.select(b.fcmp_ordered(">=", ratio, f64(1.0)), ratio, f64(1.0))
        rounded = b.call(self.builtins.intrinsic("roundeven"), [b.fadd(ratio, f64(1e-6))])
        length = b.select(b.fcmp_ordered(">=", rounded, f64(1.0)), rounded, f64(1.0))
        initial = values[fixed.initial]
        view.put(length, "C", self.s.pipe_len[key])
        view.put(initial, "C", self.s.pipe_init[key])
        view.put(f64(0.0), "D", self.s.discrete[f"{key}:ptr"])
        view.put(initial, "D", self.s.discrete[f"{key}:out"])
        return initial

    def _emit_member_statics(self, view: View) -> None:
        """The values fixed at initialisation, from the current parameters (INITIAL values are kept)."""
        values: dict[str, ir.Value] = {}

        def resolve(key: str) -> ir.Value:
            return view.get("C", self.s.static[key])

        time = self._setting(view, "initial_time")
        expr = self._expr(view, "init", time, values, resolve, lambda name: self._setting(view, name))
        for key in self.a.init_order:
            if key not in self.s.static or key not in self.aux:
                continue
            aux = self.aux[key]
            if key in self.control_of:
                value = self._setting(view, self.control_of[key])
            else:
                value = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr))
            values[key] = value
            view.put(value, "C", self.s.static[key])
            if key in self.s.value:
                view.put(value, "V", self.s.value[key])

    # ------------------------------------------------------------------ evaluation
    def _member_eval(self) -> ir.Function:
        """eval(view, time, src states, dst derivatives, capture): values at ``time`` into V and the
        derivatives into ``dst``; with ``capture`` the inputs of discrete state are kept in D."""
        args = [t for _, t in _VIEW] + [F64, F64P, F64P, I1]
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), args), "member_eval")
        _internal(fn)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        n_view = len(_VIEW)
        view = View(b, dict(zip([n for n, _ in _VIEW], fn.args[:n_view], strict=True)))
        time, src, dst, capture = fn.args[n_view:]
        self._emit_eval_body(view, time, src, dst, capture)
        b.ret_void()
        return fn

    def _emit_eval_body(self, view: View, time, src, dst, capture) -> None:
        b = view.b
        values: dict[str, ir.Value] = {}

        def resolve(key: str) -> ir.Value:  # what the run order does not compute: stored values
            if key in self.s.static:
                value = view.get("C", self.s.static[key])
            elif key in self.fixed:
                value = view.get("D", self.s.discrete[f"{key}:out"])
            else:
                raise AssertionError(f"{key} has no value in eval")
            values[key] = value
            return value

        expr = self._expr(view, "run", time, values, resolve, lambda name: self._current(view, name))
        for stock in self.p.stocks:
            values[stock.key] = view.get_at(src, self.s.state[stock.key])
            if stock.key in self.s.value:
                view.put(values[stock.key], "V", self.s.value[stock.key])
        for key in self.a.run_order:
            if key in self.aux:
                aux = self.aux[key]
                value = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr))
            elif key in self.chains:
                value = self._chain_output(view, self.chains[key], src, values)
            elif key in self.samples:
                sample = self.samples[key]
                state = view.get("D", self.s.discrete[f"{key}:state"])
                value = b.select(is_true(b, values[sample.condition]), values[sample.input], state)
            else:
                continue
            values[key] = value
            if key in self.s.value:
                view.put(value, "V", self.s.value[key])
        for stock in self.p.stocks:
            view.put_at(expr.emit(stock.flow), dst, self.s.state[stock.key])
        for chain in self.p.chains:
            self._chain_derivatives(view, chain, src, dst, values, expr)
        if self.p.delay_fixed or self.p.samples or self.discrete_delayn:
            with b.if_then(capture):
                self._capture_inputs(view, values, expr, time)

    def _value(self, values: dict[str, ir.Value], expr: ExprEmitter, key: str) -> ir.Value:
        return values[key] if key in values else expr.resolve(key)

    def _chain_order(self, view: View, chain: Chain) -> ir.Value:
        return view.b.fptosi(view.get("C", self.s.chain_order[chain.key]), I64)

    def _chain_output(self, view: View, chain: Chain, src, values: dict[str, ir.Value]) -> ir.Value:
        b = view.b
        base = self.s.state[chain.key]
        if chain.kind == "smooth":
            return view.get_at(src, base + chain.order - 1)
        order = self._chain_order(view, chain)
        if chain.key in self.discrete_delayn:
            divisor = view.get("D", self.s.discrete[f"{chain.key}:times"])
        else:
            divisor = self._lookup_value(values, chain.time, view)
        if chain.order <= UNROLL_DELAY:
            last = view.get_at(src, base)
            for k in range(1, chain.order):
                last = b.select(b.icmp_signed("==", order, i64(k + 1)), view.get_at(src, base + k), last)
        else:
            last = view.get_at(src, b.add(i64(base), b.sub(order, i64(1))))
        return b.fdiv(last, divisor)

    def _lookup_value(self, values: dict[str, ir.Value], key: str, view: View) -> ir.Value:
        if key in values:
            return values[key]
        return view.get("C", self.s.static[key])

    def _chain_derivatives(self, view: View, chain: Chain, src, dst, values, expr: ExprEmitter) -> None:
        b = view.b
        base = self.s.state[chain.key]
        inflow = self._value(values, expr, chain.input)
        delay = self._value(values, expr, chain.time)
        if chain.kind == "smooth":  # PySD: (targets - state) * order / smooth_time
            for k in range(chain.order):
                prev = inflow if k == 0 else view.get_at(src, base + k - 1)
                change = b.fdiv(b.fmul(b.fsub(prev, view.get_at(src, base + k)), f64(chain.order)), delay)
                view.put_at(change, dst, base + k)
            return
        # PySD: outflows = state / delay_time; ddt = (inflows - outflows) * order, inflows = [input, outflows[:-1]]
        order = self._chain_order(view, chain)
        order_f = b.sitofp(order, F64)
        if chain.key in self.discrete_delayn:
            self._delayn_derivatives(view, chain, src, dst, inflow, delay, order, order_f)
            return
        if chain.order > UNROLL_DELAY:
            with for_range(b, i64(0), order, "dk") as k:
                out_k = b.fdiv(view.get_at(src, b.add(i64(base), k)), delay)
                before = b.fdiv(view.get_at(src, b.add(i64(base - 1), k)), delay)
                prev = b.select(b.icmp_signed("==", k, i64(0)), inflow, before)
                view.put_at(b.fmul(b.fsub(prev, out_k), order_f), dst, b.add(i64(base), k))
            return
        for k in range(chain.order):
            out_k = b.fdiv(view.get_at(src, base + k), delay)
            prev = inflow if k == 0 else b.fdiv(view.get_at(src, base + k - 1), delay)
            change = b.fmul(b.fsub(prev, out_k), order_f)
            view.put_at(b.select(b.icmp_signed("<", i64(k), order), change, f64(0.0)), dst, base + k)

    def _delayn_derivatives(self, view: View, chain: Chain, src, dst, inflow, delay, order, order_f) -> None:
        """DELAY N with a delay time that changes: each stage keeps the delay time it entered with."""
        b = view.b
        base = self.s.state[chain.key]
        times = self.s.discrete[f"{chain.key}:times"]
        with for_range(b, i64(0), order, "nk") as k:
            own = b.select(b.icmp_signed("==", k, i64(0)), delay, view.get("D", b.add(i64(times - 1), k)))
            out_k = b.fdiv(view.get_at(src, b.add(i64(base), k)), own)
            earlier = b.select(b.icmp_signed("==", k, i64(1)), delay, view.get("D", b.add(i64(times - 2), k)))
            before = b.fdiv(view.get_at(src, b.add(i64(base - 1), k)), earlier)
            prev = b.select(b.icmp_signed("==", k, i64(0)), inflow, before)
            view.put_at(b.fmul(b.fsub(prev, out_k), order_f), dst, b.add(i64(base), k))

    def _capture_inputs(self, view: View, values, expr: ExprEmitter, time) -> None:
        for fixed in self.p.delay_fixed:
            view.put(self._value(values, expr, fixed.input), "D", self.s.discrete[f"{fixed.key}:in"])
        for sample in self.p.samples:
            view.put(self._value(values, expr, sample.input), "D", self.s.discrete[f"{sample.key}:in"])
            view.put(self._value(values, expr, sample.condition), "D", self.s.discrete[f"{sample.key}:cond"])
        for key in self.discrete_delayn:
            chain = self.chains[key]
            view.put(self._value(values, expr, chain.time), "D", self.s.discrete[f"{key}:tnow"])

    def _discrete_update(self, view: View) -> None:
        """After a step: pipelines advance, samples take their input, DELAY N's stage times roll."""
        b = view.b
        for fixed in self.p.delay_fixed:
            key = fixed.key
            ptr_row, out_row = self.s.discrete[f"{key}:ptr"], self.s.discrete[f"{key}:out"]
            first = load(b, view["doff"], i64(self.s.pipe_index[key]))
            ptr = b.fptosi(view.get("D", ptr_row), I64)
            view.put(view.get("D", self.s.discrete[f"{key}:in"]), "D", b.add(first, ptr))
            length = b.fptosi(view.get("C", self.s.pipe_len[key]), I64)
            ptr = b.srem(b.add(ptr, i64(1)), length)
            view.put(b.sitofp(ptr, F64), "D", ptr_row)
            view.put(view.get("D", b.add(first, ptr)), "D", out_row)
        for sample in self.p.samples:
            key = sample.key
            state_row = self.s.discrete[f"{key}:state"]
            take = is_true(b, view.get("D", self.s.discrete[f"{key}:cond"]))
            new = b.select(take, view.get("D", self.s.discrete[f"{key}:in"]), view.get("D", state_row))
            view.put(new, "D", state_row)
        for key in sorted(self.discrete_delayn):
            chain = self.chains[key]
            times = self.s.discrete[f"{key}:times"]
            order = self._chain_order(view, chain)
            with for_range(b, i64(1), order, "roll") as j:  # k = order-1 .. 1: times[k] = times[k-1]
                k = b.sub(order, j)
                view.put(view.get("D", b.add(i64(times - 1), k)), "D", b.add(i64(times), k))
            view.put(view.get("D", self.s.discrete[f"{key}:tnow"]), "D", times)

    # ================================================================== entry points
    def _entry(self, name: str) -> tuple[ir.IRBuilder, dict[str, ir.Value], ir.Function]:
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [I64P]), name)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        frame = fn.args[0]
        fields = {}
        for field_name, kind in FRAME_FIELDS:
            slot = b.gep(frame, [i64(FIELD_INDEX[field_name])], inbounds=True)
            fields[field_name] = b.load(b.bitcast(slot, _KIND_TYPES[kind].as_pointer()), name=field_name)
        return b, fields, fn

    def _view_args(self, fields: dict[str, ir.Value], m: ir.Value, b: ir.IRBuilder) -> list[ir.Value]:
        """The member view for member ``m``: its lookup tables start ``m * lk_stride`` further on."""
        shift = b.mul(m, fields["lk_stride"])
        lkx = b.gep(fields["lkx"], [shift], inbounds=True)
        lky = b.gep(fields["lky"], [shift], inbounds=True)
        given = {**fields, "lkx": lkx, "lky": lky, "m": m}
        return [given[name] for name, _ in _VIEW]

    def _entry_controls(self) -> None:
        """fw_controls: the control variables' equations at time 0 for member 0, into ctl[0:4]."""
        b, fields, _ = self._entry("fw_controls")
        view = View(b, dict(zip([n for n, _ in _VIEW], self._view_args(fields, i64(0), b), strict=True)))
        values: dict[str, ir.Value] = {}

        def control(name: str) -> ir.Value:
            key = self.p.controls.get(name)
            return values[key] if key in values else f64(float("nan"))

        needed = self._control_closure()
        expr = self._expr(view, "init", f64(0.0), values, lambda key: values[key], control)
        for key in self.a.init_order:
            if key in needed:
                aux = self.aux[key]
                values[key] = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr))
        for i, name in enumerate(CONTROLS):
            key = self.p.controls.get(name)
            store(b, values.get(key, f64(float("nan"))), fields["ctl"], i64(i))
        b.ret_void()

    def _control_closure(self) -> set[str]:
        from .ordering import value_dependencies

        _, init = value_dependencies(self.p)
        needed, stack = set(), list(self.p.controls.values())
        while stack:
            key = stack.pop()
            if key in needed:
                continue
            if key not in self.aux:
                from ..errors import UnsupportedConstructError

                raise UnsupportedConstructError(
                    f"a control variable ({', '.join(self.p.controls)}) depends on the model's state; "
                    "allowed: constants and equations of Time"
                )
            needed.add(key)
            stack.extend(init.get(key, ()))
        return needed

    def _entry_over_members(self, name: str, member_fn: ir.Function) -> None:
        b, fields, _ = self._entry(name)
        with for_range(b, i64(0), fields["n"], "m") as m:
            b.call(member_fn, self._view_args(fields, m, b))
        b.ret_void()

    def _entry_eval(self, evaluate: ir.Function) -> None:
        b, fields, _ = self._entry("fw_eval")
        args = self._view_args(fields, i64(0), b)
        b.call(evaluate, args + [fields["time"], fields["Y"], fields["dydt"], ir.Constant(I1, 0)])
        b.ret_void()

    # ------------------------------------------------------------------ the stepping loop
    def _entry_run(self, init: ir.Function, evaluate: ir.Function) -> None:
        block_fn = self._run_block(init, evaluate)
        b, fields, _ = self._entry("fw_run")
        nsave = entry_alloca(b, I64)
        b.store(fields["nsave"], nsave)
        step = fields["block"]
        n_blocks = b.sdiv(b.add(fields["n"], b.sub(step, i64(1))), step)
        with for_range(b, i64(0), n_blocks, "blk") as blk:
            lo = b.mul(blk, step)
            rest = b.sub(fields["n"], lo)
            nb = b.select(b.icmp_signed("<", rest, step), rest, step)
            args = [fields[name] for name in _RUN_BLOCK_FIELDS] + [lo, nb]
            b.store(b.call(block_fn, args), nsave)
        b.store(b.load(nsave), b.bitcast(b.gep(b.function.args[0], [i64(FIELD_INDEX["nsave"])], inbounds=True), I64P))
        b.ret_void()

    def _run_block(self, init: ir.Function, evaluate: ir.Function) -> ir.Function:
        arg_types = [_KIND_TYPES[dict(FRAME_FIELDS)[name]] for name in _RUN_BLOCK_FIELDS] + [I64, I64]
        fn = ir.Function(self.module, ir.FunctionType(I64, arg_types), "run_block")
        fn.linkage = "internal"
        for arg, name in zip(fn.args, _RUN_BLOCK_FIELDS, strict=False):
            if dict(FRAME_FIELDS)[name].endswith("*"):
                arg.add_attribute("noalias")
        f = dict(zip(_RUN_BLOCK_FIELDS, fn.args, strict=False))
        lo, nb = fn.args[-2], fn.args[-1]
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        dynamic = self.s.layout.dynamic_time
        ny = self.s.layout.n_states

        def members(name: str = "b"):
            return for_range(b, i64(0), nb, name)

        def view_args(member: ir.Value, states=None) -> list[ir.Value]:
            shift = b.mul(member, f["lk_stride"])
            given = {
                **f, "m": member, "lkx": b.gep(f["lkx"], [shift], inbounds=True),
                "lky": b.gep(f["lky"], [shift], inbounds=True), "Y": states if states is not None else f["Y"],
            }  # fmt: skip
            return [given[name] for name, _ in _VIEW]

        def at(row, member):
            return b.add(b.mul(row, f["stride"]), member)

        with b.if_then(b.icmp_signed("!=", f["init_first"], i64(0))), members("init") as j:
            b.call(init, view_args(b.add(lo, j)))

        ctl = f["ctl"]
        t0 = load(b, ctl, i64(0))
        slots = {name: entry_alloca(b, I64 if name in ("k", "nsave") else F64, name) for name in ("k", "nsave", "t")}
        b.store(f["k0"], slots["k"])
        b.store(f["nsave"], slots["nsave"])
        b.store(load(b, f["times"], f["k0"]), slots["t"])

        head = fn.append_basic_block("step.head")
        stop = fn.append_basic_block("step.stop")
        b.branch(head)
        b.position_at_end(head)
        k = b.load(slots["k"])
        t = b.load(slots["t"])
        if not dynamic:
            with b.if_then(b.and_(b.icmp_signed("==", f["final"], i64(0)), b.icmp_signed("==", k, f["k1"]))):
                b.branch(stop)
        if dynamic:
            self._dynamic_controls(b, view_args(lo), t)
        dt = load(b, ctl, i64(N_CONTROL + 1))
        # ---- stages
        with for_range(b, i64(0), f["ns"], "s") as s:
            first = b.icmp_signed("==", s, i64(0))
            c_s = load(b, f["bt_c"], s)
            time = b.select(first, t, b.fadd(t, b.fmul(c_s, dt)))
            with b.if_then(b.icmp_signed(">", s, i64(0))), for_range(b, i64(0), i64(ny), "i") as i:
                # YS = Y + dt * sum_j a[s, j] K[j]   (accumulated in YS, as the reference loops do)
                with members("z") as j:
                    store(b, f64(0.0), f["YS"], at(i, b.add(lo, j)))
                with for_range(b, i64(0), s, "j") as jj:
                    a_sj = load(b, f["bt_a"], b.add(b.mul(s, f["ns"]), jj))
                    k_base = b.gep(f["K"], [b.mul(b.mul(jj, i64(ny)), f["stride"])], inbounds=True)
                    with members("acc") as j:
                        m = b.add(lo, j)
                        acc = b.fadd(load(b, f["YS"], at(i, m)), b.fmul(a_sj, load(b, k_base, at(i, m))))
                        store(b, acc, f["YS"], at(i, m))
                with members("ys") as j:
                    m = b.add(lo, j)
                    store(b, b.fadd(load(b, f["Y"], at(i, m)), b.fmul(dt, load(b, f["YS"], at(i, m)))), f["YS"], at(i, m))
            src = b.select(first, f["Y"], f["YS"])
            dst = b.gep(f["K"], [b.mul(b.mul(s, i64(ny)), f["stride"])], inbounds=True)
            with members("eval") as j:
                b.call(evaluate, view_args(b.add(lo, j), src) + [time, src, dst, first])
            with b.if_then(first):
                self._record(b, f, lo, nb, k, t, dt, t0, slots, at)
        # ---- last step?
        if dynamic:
            final = load(b, ctl, i64(N_CONTROL + 2))
            last = b.not_(b.fcmp_ordered("<", b.fadd(t, b.fmul(dt, f64(TIME_RPREC))), final))
        else:
            last = b.icmp_signed(">=", k, f["k1"])
        with b.if_then(last):
            b.branch(stop)
        # ---- update: Y += dt * sum_s b[s] K[s]
        new_time = b.fadd(t, dt)
        with for_range(b, i64(0), i64(ny), "u") as i:
            with members("uz") as j:
                store(b, f64(0.0), f["YS"], at(i, b.add(lo, j)))
            with for_range(b, i64(0), f["ns"], "us") as s:
                b_s = load(b, f["bt_b"], s)
                k_base = b.gep(f["K"], [b.mul(b.mul(s, i64(ny)), f["stride"])], inbounds=True)
                with members("uacc") as j:
                    m = b.add(lo, j)
                    acc = b.fadd(load(b, f["YS"], at(i, m)), b.fmul(b_s, load(b, k_base, at(i, m))))
                    store(b, acc, f["YS"], at(i, m))
            with members("upd") as j:
                m = b.add(lo, j)
                old = load(b, f["Y"], at(i, m))
                new = b.fadd(old, b.fmul(dt, load(b, f["YS"], at(i, m))))
                blew_up = b.and_(
                    b.and_(b.icmp_signed("<", load(b, f["bad_state"], m), i64(0)), b.not_(is_finite(b, new))),
                    is_finite(b, old),
                )
                store(b, b.select(blew_up, i, load(b, f["bad_state"], m)), f["bad_state"], m)
                store(b, b.select(blew_up, new_time, load(b, f["bad_state_time"], m)), f["bad_state_time"], m)
                store(b, new, f["Y"], at(i, m))
        for stock in self.p.stocks:
            if stock.non_negative:
                row = i64(self.s.state[stock.key])
                with members("clamp") as j:
                    m = b.add(lo, j)
                    value = load(b, f["Y"], at(row, m))
                    store(b, self.builtins.call(b, "max", value, f64(0.0)), f["Y"], at(row, m))
        if self.p.delay_fixed or self.p.samples or self.discrete_delayn:
            with members("disc") as j:
                view = View(b, dict(zip([n for n, _ in _VIEW], view_args(b.add(lo, j)), strict=True)))
                self._discrete_update(view)
        b.store(b.add(k, i64(1)), slots["k"])
        if dynamic:
            b.store(new_time, slots["t"])
        else:
            b.store(load(b, f["times"], b.add(k, i64(1))), slots["t"])
        b.branch(head)
        b.position_at_end(stop)
        b.ret(b.load(slots["nsave"]))
        return fn

    def _dynamic_controls(self, b: ir.IRBuilder, view_args: list[ir.Value], t: ir.Value) -> None:
        """TIME STEP, SAVEPER and FINAL TIME as equations of Time: re-read before every step (PySD),
        with the auxiliaries they need (``control_closure``), all from time and fixed values."""
        from . import control_closure

        view = View(b, dict(zip([n for n, _ in _VIEW], view_args, strict=True)))
        values: dict[str, ir.Value] = {}

        def resolve(key: str) -> ir.Value:
            return view.get("C", self.s.static[key])

        def control(name: str) -> ir.Value:
            key = self.p.controls[name]
            return values[key] if key in values else self._current(view, name)

        expr = self._expr(view, "run", t, values, resolve, control)
        needed: set[str] = set()
        for name, key in self.a.dynamic_controls.items():
            if name != "initial_time":
                needed |= control_closure(self.p, self.a, key) or set()
        for key in self.a.run_order:
            if key in needed:
                values[key] = expr.emit(self.aux[key].expr)
        for name, key in self.a.dynamic_controls.items():
            if name != "initial_time":
                store(b, values[key], view["ctl"], i64(N_CONTROL + CONTROLS.index(name)))

    def _record(self, b: ir.IRBuilder, f: dict, lo, nb, k, t, dt, t0, slots, at) -> None:
        """At an output time: copy the requested values into ``out`` and look for NaN/inf values."""
        if self.s.layout.dynamic_time:
            sp = load(b, f["ctl"], i64(N_CONTROL + 3))
            save = self._is_save_time(b, t, t0, dt, sp)
        else:
            save = b.icmp_unsigned("!=", load(b, f["schedule"], k), ir.Constant(ir.IntType(8), 0))
        with b.if_then(save):
            nsave = b.load(slots["nsave"])
            in_range = b.icmp_signed("<", nsave, f["n_row_map"])
            with b.if_then(in_range):
                row = load(b, f["row_map"], nsave)
                with b.if_then(b.icmp_signed(">=", row, i64(0))):
                    store(b, t, f["out_t"], row)
                    with for_range(b, i64(0), f["ncols"], "col") as col:
                        value_row = load(b, f["cols"], col)
                        target = b.gep(f["out"], [b.add(b.mul(col, f["out_col_stride"]), row)], inbounds=True)
                        with for_range(b, i64(0), nb, "rec") as j:
                            m = b.add(lo, j)
                            index = b.mul(b.add(f["member0"], m), f["out_member_stride"])
                            store(b, load(b, f["V"], at(value_row, m)), target, index)
            with for_range(b, i64(0), nb, "scan") as j:
                m = b.add(lo, j)
                with for_range(b, i64(0), i64(self.s.layout.n_values), "vals") as v:
                    fresh = b.icmp_signed("<", load(b, f["bad_value"], m), i64(0))
                    with b.if_then(b.and_(fresh, b.not_(is_finite(b, load(b, f["V"], at(v, m)))))):
                        store(b, v, f["bad_value"], m)
                        store(b, t, f["bad_value_time"], m)
            b.store(b.add(nsave, i64(1)), slots["nsave"])

    def _is_save_time(self, b: ir.IRBuilder, t, t0, dt, sp) -> ir.Value:
        """PySD: (t - t0) % saveper < dt * 1e-5 or (t0 - t) % saveper < dt * 1e-5 (Python's %)."""
        prec = b.fmul(dt, f64(TIME_RPREC))
        delay = b.fsub(t, t0)
        forward = b.call(self.builtins._pymod(), [delay, sp])
        backward = b.call(self.builtins._pymod(), [b.fneg(delay), sp])
        return b.or_(b.fcmp_ordered("<", forward, prec), b.fcmp_ordered("<", backward, prec))


_RUN_BLOCK_FIELDS = (
    "P", "ovm", "lkx", "lky", "lko", "lkn", "lk_stride", "ctl", "Y", "C", "D", "V", "doff", "stride", "times",
    "schedule", "k0", "k1", "final", "bt_a", "bt_b", "bt_c", "ns", "K", "YS", "row_map", "n_row_map", "nsave",
    "cols", "ncols", "out", "out_member_stride", "out_col_stride", "out_t", "bad_state", "bad_state_time",
    "bad_value", "bad_value_time", "member0", "init_first",
)  # fmt: skip


def _internal(fn: ir.Function) -> None:
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    for arg in fn.args:
        if isinstance(arg.type, ir.PointerType):
            arg.add_attribute("noalias")


def build_module(program: Program, analysis: Analysis, slots: Slots) -> ir.Module:
    return ModuleBuilder(program, analysis, slots).build()


__all__ = ["UNROLL_DELAY", "ModuleBuilder", "build_module", "as_float"]
