"""The compiled model as one LLVM module: six entry points over a frame (``frame.py``).

- ``fw_controls``: the model's own control values (INITIAL TIME ...) from its equations.
- ``fw_init``: initialise members: states, values fixed at initialisation, discrete state, all values.
- ``fw_statics``: recompute the values fixed at initialisation after constants changed mid-run.
- ``fw_eval``: derivatives and all values of one member at one time (for scipy's ``solve_ivp``).
- ``fw_probe``: the same for many members, each at its own time (for analyses such as Loops That Matter).
- ``fw_run``: the stepping loop. One loop serves every explicit Runge-Kutta table and every use: single
  runs and steppers (blocks of one member) and ensembles (blocks of members in lockstep, so the loops
  over members vectorise).

Member-level code (``_MemberCode``) is emitted once per use into small internal functions marked
``alwaysinline``; LLVM inlines them into the loops over members.
"""

from __future__ import annotations

from llvmlite import ir

from .frame import BLOCK, FIELD_INDEX, FRAME_FIELDS, N_CONTROL
from .ir import CONTROLS, Aux, Chain, Program, Stock, size_of
from .layout import UNROLL_DELAY, Slots
from .llvm_arrays import ArrayCode
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
    const,
    entry_alloca,
    f64,
    for_range,
    i64,
    is_finite,
    is_true,
    load,
    load_lanes,
    splat,
    store,
    store_lanes,
    vector_type,
)
from .llvm_view import _ROWS, _VIEW, View
from .ordering import Analysis

_KIND_TYPES = {"f64*": F64P, "u8*": I8P, "i64*": I64P, "i64": I64, "f64": F64}

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
        self.vector_ops = {o.key: o for o in program.vector_ops}
        self.shape = program.shape_of
        self.arrays = ArrayCode(self)

    def build(self, part: str) -> ir.Module:
        """``part`` "base": what single runs, steppers and member-by-member ensembles use; "lockstep":
        ensembles in vectors of members (compiled only when an ensemble asks for it)."""
        init = self._member_function("init", self._emit_member_init)
        if part == "base":
            statics = self._member_function("statics", self._emit_member_statics)
            evaluate = self._member_eval(lockstep=False)
            self._entry_controls()
            self._entry_over_members("fw_init", init)
            self._entry_over_members("fw_statics", statics)
            self._entry_eval(evaluate)
            self._entry_probe(evaluate)
            self._entry_run("fw_run", self._run_block(init, evaluate, 1), 1)
        else:
            evaluate = self._member_eval(lockstep=True)
            self._entry_run("fw_run_lockstep", self._run_block(init, evaluate, BLOCK), BLOCK)
        return self.module

    # ================================================================== member functions
    def _member_function(self, name: str, emit_body) -> ir.Function:
        """A member function run once per member (init, statics): kept out of line, so its code is
        compiled once however many loops call it."""
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [t for _, t in _VIEW]), f"member_{name}")
        _internal(fn, inline=False)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        view = View(b, dict(zip([n for n, _ in _VIEW], fn.args, strict=True)))
        emit_body(view)
        b.ret_void()
        return fn

    def _expr(self, view: View, phase: str, time: ir.Value, values: dict[str, ir.Value], resolve, control,
              src: ir.Value | None = None) -> ExprEmitter:  # fmt: skip
        def lookup_resolve(key: str) -> ir.Value:
            return values[key] if key in values else resolve(key)

        shared = None
        if view.lanes is not None:  # lockstep: the members share tables of the compiled sizes
            shared = {t.key: len(t.x) for t in self.p.tables}
            for key, (first, shape) in self.p.table_arrays.items():
                lengths = {len(t.x) for t in self.p.tables[first : first + size_of(shape)]}
                shared[key] = lengths.pop() if len(lengths) == 1 else None
        return ExprEmitter(
            view.b, self.builtins, phase=phase, time=time, resolve=lookup_resolve, control=control,
            table=lambda key, lane, offset=None: view.table(self._table_index(view, key, offset), lane), ty=view.ty,
            shared_tables=shared, element=lambda key, row: self.arrays.load(view, key, row, src),
            shape=self._shape_any, random=lambda node, args, element: self.arrays.random(view, node, args, element, time),
        )  # fmt: skip

    def _table_index(self, view: View, key: str, offset: ir.Value | None) -> int | ir.Value:
        if key in self.table_index:
            return self.table_index[key]
        first = self.p.table_arrays[key][0]
        return i64(first) if offset is None else view.b.add(i64(first), offset)

    def _shape_any(self, key: str) -> tuple[int, ...]:
        if key in self.p.table_arrays:
            return self.p.table_arrays[key][1]
        return self.shape(key)

    def _with_override(self, view: View, aux: Aux, compute, lockstep: bool = False) -> ir.Value:
        """A parameter slot overrides the equation: a literal constant is just its slot. In lockstep
        evaluation, auxiliaries that change during the run take no overrides (the caller checks)."""
        slot = self.s.param.get(aux.key)
        if slot is None or (lockstep and aux.key not in self.a.static):
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
            if self.shape(key):
                self.arrays.init(view, key, expr, values, dt)
                continue
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
            if aux.shape:
                self.arrays.aux_parts(view, expr, aux, phase="init")
                continue
            if key in self.control_of:
                value = self._setting(view, self.control_of[key])
            else:
                value = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr))
            values[key] = value
            view.put(value, "C", self.s.static[key])
            if key in self.s.value:
                view.put(value, "V", self.s.value[key])

    # ------------------------------------------------------------------ evaluation
    def _member_eval(self, lockstep: bool) -> ir.Function:
        """eval(view, time, src states, dst derivatives, capture): values at ``time`` into V and the
        derivatives into ``dst``; with ``capture`` the inputs of discrete state are kept in D.

        The ``lockstep`` variant, for blocks of members, is branch-free so that the loop over members
        vectorises: lookups have the compiled number of points and auxiliaries that change during the
        run cannot be overridden (``Layout.lockstep_ok`` tells the caller when it applies)."""
        args = [t for _, t in _VIEW] + [F64, F64P, F64P, I1]
        name = "member_eval_lockstep" if lockstep else "member_eval"
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), args), name)
        # One copy of a member's evaluation, called by the run loop, fw_eval and fw_probe: inlined into
        # each, it tripled the code LLVM compiles (first load of a 263-variable model -0.5 s) for no
        # measurable speed; the lockstep evaluation stays inlined into its one block loop.
        _internal(fn, inline=lockstep)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        n_view = len(_VIEW)
        view = View(b, dict(zip([n for n, _ in _VIEW], fn.args[:n_view], strict=True)), BLOCK if lockstep else None)
        time, src, dst, capture = fn.args[n_view:]
        self._emit_eval_body(view, time, src, dst, capture, lockstep)
        b.ret_void()
        return fn

    def _emit_eval_body(self, view: View, time, src, dst, capture, lockstep: bool) -> None:
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

        expr = self._expr(view, "run", time, values, resolve, lambda name: self._current(view, name), src)
        for stock in self.p.stocks:
            if stock.shape:
                self.arrays.copy_stock(view, stock, src)
                continue
            values[stock.key] = view.get_at(src, self.s.state[stock.key])
            if stock.key in self.s.value:
                view.put(values[stock.key], "V", self.s.value[stock.key])
        for key in self.a.run_order:
            if self.shape(key):
                self.arrays.evaluate(view, key, expr, values, src, lockstep)
                continue
            if key in self.aux:
                aux = self.aux[key]
                value = self._with_override(view, aux, lambda aux=aux: expr.emit(aux.expr), lockstep)
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
            if stock.shape:
                self.arrays.stock_flows(view, expr, stock, dst)
                continue
            view.put_at(expr.emit(stock.flow), dst, self.s.state[stock.key])
        for chain in self.p.chains:
            if chain.shape:
                self.arrays.chain_derivatives(view, chain, src, dst, values, expr)
                continue
            self._chain_derivatives(view, chain, src, dst, values, expr)
        if (self.p.delay_fixed or self.p.samples or self.discrete_delayn) and not lockstep:
            with b.if_then(capture):
                self._capture_inputs(view, values, expr, time, src)

    def _value(self, values: dict[str, ir.Value], expr: ExprEmitter, key: str) -> ir.Value:
        return values[key] if key in values else expr.resolve(key)

    def _chain_order(self, view: View, chain: Chain) -> ir.Value:
        return view.to_int(view.get("C", self.s.chain_order[chain.key]))

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
                last = b.select(b.icmp_signed("==", order, view.int_const(k + 1)), view.get_at(src, base + k), last)
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
                change = b.fdiv(b.fmul(b.fsub(prev, view.get_at(src, base + k)), view.const(chain.order)), delay)
                view.put_at(change, dst, base + k)
            return
        # PySD: outflows = state / delay_time; ddt = (inflows - outflows) * order, inflows = [input, outflows[:-1]]
        order = self._chain_order(view, chain)
        order_f = view.to_float(order)
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
            view.put_at(b.select(b.icmp_signed("<", view.int_const(k), order), change, view.const(0.0)), dst, base + k)

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

    def _capture_inputs(self, view: View, values, expr: ExprEmitter, time, src) -> None:
        for fixed in self.p.delay_fixed:
            if fixed.shape:
                self.arrays.capture_fixed(view, fixed, values, expr, src)
                continue
            view.put(self._value(values, expr, fixed.input), "D", self.s.discrete[f"{fixed.key}:in"])
        for sample in self.p.samples:
            if sample.shape:
                self.arrays.capture_sample(view, sample, values, expr, src)
                continue
            view.put(self._value(values, expr, sample.input), "D", self.s.discrete[f"{sample.key}:in"])
            view.put(self._value(values, expr, sample.condition), "D", self.s.discrete[f"{sample.key}:cond"])
        for key in self.discrete_delayn:
            chain = self.chains[key]
            if chain.shape:
                self.arrays.capture_delayn(view, chain, values, expr, src)
                continue
            view.put(self._value(values, expr, chain.time), "D", self.s.discrete[f"{key}:tnow"])

    def _discrete_update(self, view: View) -> None:
        """After a step: pipelines advance, samples take their input, DELAY N's stage times roll."""
        b = view.b
        for fixed in self.p.delay_fixed:
            key = fixed.key
            if fixed.shape:
                self.arrays.update_fixed(view, fixed)
                continue
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
            if sample.shape:
                self.arrays.update_sample(view, sample)
                continue
            state_row = self.s.discrete[f"{key}:state"]
            take = is_true(b, view.get("D", self.s.discrete[f"{key}:cond"]))
            new = b.select(take, view.get("D", self.s.discrete[f"{key}:in"]), view.get("D", state_row))
            view.put(new, "D", state_row)
        for key in sorted(self.discrete_delayn):
            chain = self.chains[key]
            if chain.shape:
                self.arrays.update_delayn(view, chain)
                continue
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

    def _bases(self, b: ir.IRBuilder, fields: dict[str, ir.Value], block: ir.Value, width: int) -> dict[str, ir.Value]:
        """The frame's per-member arrays at the start of block ``block`` of ``width`` members."""
        layout = self.s.layout
        rows = {
            "P": i64(max(layout.n_params, 1)), "Y": i64(max(layout.n_states, 1)), "YS": i64(max(layout.n_states, 1)),
            "K": b.mul(fields["ns"], i64(max(layout.n_states, 1))), "C": i64(max(layout.n_static, 1)),
            "D": fields["d_rows"], "V": i64(max(layout.n_values + layout.n_work, 1)), "dydt": i64(max(layout.n_states, 1)),
        }  # fmt: skip
        return {
            name: b.gep(fields[name], [b.mul(b.mul(block, rows[name]), i64(width))], inbounds=True) for name in _ROWS
        }

    def _view_args(self, b: ir.IRBuilder, fields: dict[str, ir.Value], bases: dict[str, ir.Value],
                   member: ir.Value, lane: ir.Value, width: int, states: ir.Value | None = None) -> list[ir.Value]:  # fmt: skip
        """The member view of ``lane`` in a block: its lookup tables start ``member * lk_stride`` on."""
        shift = b.mul(member, fields["lk_stride"])
        given = {
            **fields, **bases, "lkx": b.gep(fields["lkx"], [shift], inbounds=True),
            "lky": b.gep(fields["lky"], [shift], inbounds=True), "width": i64(width), "lane": lane,
            "lk_stride": fields["lk_stride"], "streams": b.gep(fields["streams"], [member], inbounds=True),
            "seed": fields["seed"],
        }  # fmt: skip
        if states is not None:
            given["Y"] = states
        return [given[name] for name, _ in _VIEW]

    def _member_zero(self, b: ir.IRBuilder, fields: dict[str, ir.Value]) -> list[ir.Value]:
        bases = self._bases(b, fields, i64(0), 1)
        return self._view_args(b, fields, bases, i64(0), i64(0), 1)

    def _entry_controls(self) -> None:
        """fw_controls: the control variables' equations at time 0 for member 0, into ctl[0:4]."""
        b, fields, _ = self._entry("fw_controls")
        view = View(b, dict(zip([n for n, _ in _VIEW], self._member_zero(b, fields), strict=True)))
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
        """Every allocated member (``stride``, one-member blocks), padding included."""
        b, fields, _ = self._entry(name)
        with for_range(b, i64(0), fields["stride"], "m") as member:
            bases = self._bases(b, fields, member, 1)
            b.call(member_fn, self._view_args(b, fields, bases, member, i64(0), 1))
        b.ret_void()

    def _entry_eval(self, evaluate: ir.Function) -> None:
        b, fields, _ = self._entry("fw_eval")
        args = self._member_zero(b, fields)
        b.call(evaluate, args + [fields["time"], fields["Y"], fields["dydt"], ir.Constant(I1, 0)])
        b.ret_void()

    def _entry_probe(self, evaluate: ir.Function) -> None:
        """fw_probe: the values (V) and derivatives (dydt) of each of the ``n`` members at its own time
        ``times[m]``, from its states in Y: analyses evaluate many instants of a run in one call."""
        b, fields, _ = self._entry("fw_probe")
        with for_range(b, i64(0), fields["n"], "m") as member:
            bases = self._bases(b, fields, member, 1)
            args = self._view_args(b, fields, bases, member, i64(0), 1)
            time = load(b, fields["times"], member)
            b.call(evaluate, args + [time, bases["Y"], bases["dydt"], ir.Constant(I1, 0)])
        b.ret_void()

    # ------------------------------------------------------------------ the stepping loop
    def _entry_run(self, name: str, block_fn: ir.Function, width: int) -> None:
        """Step every block of ``width`` members (``stride`` of them; only the first ``n`` are recorded)."""
        b, fields, _ = self._entry(name)
        nsave = entry_alloca(b, I64)
        b.store(fields["nsave"], nsave)
        with for_range(b, i64(0), b.sdiv(fields["stride"], i64(width)), "blk") as blk:
            b.store(b.call(block_fn, [fields[n] for n in _RUN_BLOCK_FIELDS] + [blk]), nsave)
        b.store(b.load(nsave), b.gep(b.function.args[0], [i64(FIELD_INDEX["nsave"])], inbounds=True))
        b.ret_void()

    def _run_block(self, init: ir.Function, evaluate: ir.Function, width: int) -> ir.Function:
        """The stepping loop for block ``blk`` of ``width`` members (a compile-time constant). The
        arithmetic of the step works on all the block's members at once: a scalar for one member, a
        vector of ``width`` lanes otherwise."""
        arg_types = [_KIND_TYPES[dict(FRAME_FIELDS)[name]] for name in _RUN_BLOCK_FIELDS] + [I64]
        fn = ir.Function(self.module, ir.FunctionType(I64, arg_types), f"run_block_{width}")
        fn.linkage = "internal"
        for arg, name in zip(fn.args, _RUN_BLOCK_FIELDS, strict=False):
            if dict(FRAME_FIELDS)[name].endswith("*"):
                arg.add_attribute("noalias")
        f = dict(zip(_RUN_BLOCK_FIELDS, fn.args, strict=False))
        blk = fn.args[-1]
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        dynamic = self.s.layout.dynamic_time
        ny = max(self.s.layout.n_states, 1)
        base = self._bases(b, f, blk, width)
        first_member = b.mul(blk, i64(width))
        lanes = None if width == 1 else width
        vty = vector_type(lanes)
        ity = I64 if lanes is None else ir.VectorType(I64, lanes)

        def view_args(lane: ir.Value, states=None) -> list[ir.Value]:
            return self._view_args(b, f, base, b.add(first_member, lane), lane, width, states)

        def row(array: ir.Value, i) -> ir.Value:  # the block's members' value i
            return load_lanes(b, array, b.mul(i64(i) if isinstance(i, int) else i, i64(width)), vty)

        def put_row(value: ir.Value, array: ir.Value, i) -> None:
            store_lanes(b, value, array, b.mul(i64(i) if isinstance(i, int) else i, i64(width)))

        def members(array: ir.Value, ty: ir.Type) -> ir.Value:  # per-member arrays (bad flags)
            pointer = b.gep(array, [first_member], inbounds=True)
            return b.load(b.bitcast(pointer, ty.as_pointer()), align=8) if lanes else b.load(pointer)

        def put_members(value: ir.Value, array: ir.Value) -> None:
            pointer = b.gep(array, [first_member], inbounds=True)
            b.store(value, b.bitcast(pointer, value.type.as_pointer()) if lanes else pointer, align=8)

        def stage(s) -> ir.Value:  # K of stage s in this block
            return b.gep(base["K"], [b.mul(b.mul(s, i64(ny)), i64(width))], inbounds=True)

        def weighted_sum(weight_of, i, stages) -> ir.Value:
            """0.0 + w_0 K[0][i] + w_1 K[1][i] + ... over ``stages`` (the reference loops' rounding)."""
            acc = entry_alloca(b, vty)
            b.store(b.fadd(const(vty, 0.0), b.fmul(splat(b, weight_of(i64(0)), vty), row(base["K"], i))), acc)
            with for_range(b, i64(1), stages, "st") as st:
                term = b.fmul(splat(b, weight_of(st), vty), row(stage(st), i))
                b.store(b.fadd(b.load(acc), term), acc)
            return b.load(acc)

        with b.if_then(b.icmp_signed("!=", f["init_first"], i64(0))), for_range(b, i64(0), i64(width), "init") as j:
            b.call(init, view_args(j))

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
            self._dynamic_controls(b, view_args(i64(0)), t)
        dt = load(b, ctl, i64(N_CONTROL + 1))
        dts = splat(b, dt, vty)
        # ---- stages: YS = Y + dt * (0.0 + a[s,0] K[0] + ... + a[s,s-1] K[s-1]); K[s] = f(YS)
        with for_range(b, i64(0), f["ns"], "s") as s:
            first = b.icmp_signed("==", s, i64(0))
            c_s = load(b, f["bt_c"], s)
            time = b.select(first, t, b.fadd(t, b.fmul(c_s, dt)))
            with b.if_then(b.icmp_signed(">", s, i64(0))), for_range(b, i64(0), i64(ny), "i") as i:
                acc = weighted_sum(lambda jj, s=s: load(b, f["bt_a"], b.add(b.mul(s, f["ns"]), jj)), i, s)
                put_row(b.fadd(row(base["Y"], i), b.fmul(dts, acc)), base["YS"], i)
            src = b.select(first, base["Y"], base["YS"])
            # one call for the block: the lockstep evaluation works on a vector of its members
            b.call(evaluate, view_args(i64(0), src) + [time, src, stage(s), first])
            with b.if_then(first):
                self._record(b, f, base, width, first_member, k, t, dt, t0, slots)
        # ---- last step?
        if dynamic:
            final = load(b, ctl, i64(N_CONTROL + 2))
            last = b.not_(b.fcmp_ordered("<", b.fadd(t, b.fmul(dt, f64(TIME_RPREC))), final))
        else:
            last = b.icmp_signed(">=", k, f["k1"])
        with b.if_then(last):
            b.branch(stop)
        # ---- update: Y += dt * (0.0 + b[0] K[0] + ... + b[ns-1] K[ns-1]); note each member's first blow-up
        new_time = b.fadd(t, dt)
        bad_slot, when_slot = entry_alloca(b, ity), entry_alloca(b, vty)
        b.store(members(f["bad_state"], ity), bad_slot)
        b.store(members(f["bad_state_time"], vty), when_slot)
        with for_range(b, i64(0), i64(ny), "u") as i:
            old = row(base["Y"], i)
            new = b.fadd(old, b.fmul(dts, weighted_sum(lambda st: load(b, f["bt_b"], st), i, f["ns"])))
            bad = b.load(bad_slot)
            fresh = b.icmp_signed("<", bad, ir.Constant(ity, [0] * lanes) if lanes else i64(0))
            blew_up = b.and_(b.and_(fresh, b.not_(is_finite(b, new))), is_finite(b, old))
            index = splat_int(b, i, ity)
            b.store(b.select(blew_up, index, bad), bad_slot)
            b.store(b.select(blew_up, splat(b, new_time, vty), b.load(when_slot)), when_slot)
            put_row(new, base["Y"], i)
        put_members(b.load(bad_slot), f["bad_state"])
        put_members(b.load(when_slot), f["bad_state_time"])
        for stock in self.p.stocks:
            if stock.non_negative:
                first = self.s.state[stock.key]
                with for_range(b, i64(first), i64(first + size_of(stock.shape)), "nn") as i:
                    put_row(self.builtins.call(b, "max", row(base["Y"], i), const(vty, 0.0)), base["Y"], i)
        if self.p.delay_fixed or self.p.samples or self.discrete_delayn:
            with for_range(b, i64(0), i64(width), "disc") as j:
                view = View(b, dict(zip([n for n, _ in _VIEW], view_args(j), strict=True)))
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

    def _record(self, b: ir.IRBuilder, f: dict, base: dict, width: int, first_member, k, t, dt, t0, slots) -> None:
        """At an output time: copy the requested values of the block's real members into ``out``, and
        flag each member's first NaN/inf value (a cheap check of all values first: x * 0 is 0 for every
        finite x and NaN otherwise, so one sum tells whether any lane needs a closer look)."""
        if self.s.layout.dynamic_time:
            sp = load(b, f["ctl"], i64(N_CONTROL + 3))
            save = self._is_save_time(b, t, t0, dt, sp)
        else:
            save = b.icmp_unsigned("!=", load(b, f["schedule"], k), ir.Constant(ir.IntType(8), 0))
        real = b.sub(f["n"], first_member)
        real = b.select(b.icmp_signed("<", real, i64(width)), real, i64(width))
        vty = vector_type(None if width == 1 else width)
        n_values = max(self.s.layout.n_values, 1)
        with b.if_then(save):
            nsave = b.load(slots["nsave"])
            with b.if_then(b.icmp_signed("<", nsave, f["n_row_map"])):
                row = load(b, f["row_map"], nsave)
                with b.if_then(b.icmp_signed(">=", row, i64(0))):
                    store(b, t, f["out_t"], row)
                    with for_range(b, i64(0), f["ncols"], "col") as col:
                        value_row = load(b, f["cols"], col)
                        target = b.gep(f["out"], [b.add(b.mul(col, f["out_col_stride"]), row)], inbounds=True)
                        source = b.gep(base["V"], [b.mul(value_row, i64(width))], inbounds=True)
                        with for_range(b, i64(0), real, "rec") as j:
                            index = b.mul(b.add(f["member0"], b.add(first_member, j)), f["out_member_stride"])
                            store(b, load(b, source, j), target, index)
            check = entry_alloca(b, vty)
            b.store(const(vty, 0.0), check)
            with for_range(b, i64(0), i64(n_values), "chk") as v:
                value = load_lanes(b, base["V"], b.mul(v, i64(width)), vty)
                b.store(b.fadd(b.load(check), b.fmul(value, const(vty, 0.0))), check)
            flag = b.load(check)
            if width > 1:
                flag = _lane_sum(b, flag)
            scan = (for_range(b, i64(0), i64(n_values), "vals"), for_range(b, i64(0), i64(width), "scan"))
            with b.if_then(b.fcmp_unordered("uno", flag, flag)), scan[0] as v, scan[1] as j:
                    m = b.add(first_member, j)
                    marked = load(b, f["bad_value"], m)
                    value = load(b, base["V"], b.add(b.mul(v, i64(width)), j))
                    found = b.and_(b.icmp_signed("<", marked, i64(0)), b.not_(is_finite(b, value)))
                    store(b, b.select(found, v, marked), f["bad_value"], m)
                    store(b, b.select(found, t, load(b, f["bad_value_time"], m)), f["bad_value_time"], m)
            b.store(b.add(nsave, i64(1)), slots["nsave"])

    def _is_save_time(self, b: ir.IRBuilder, t, t0, dt, sp) -> ir.Value:
        """PySD: (t - t0) % saveper < dt * 1e-5 or (t0 - t) % saveper < dt * 1e-5 (Python's %)."""
        prec = b.fmul(dt, f64(TIME_RPREC))
        delay = b.fsub(t, t0)
        forward = self.builtins.call(b, "pymod", delay, sp)
        backward = self.builtins.call(b, "pymod", b.fneg(delay), sp)
        return b.or_(b.fcmp_ordered("<", forward, prec), b.fcmp_ordered("<", backward, prec))


_RUN_BLOCK_FIELDS = (
    "P", "ovm", "lkx", "lky", "lko", "lkn", "lk_stride", "ctl", "Y", "YS", "K", "C", "D", "V", "dydt", "doff", "stride",
    "n", "d_rows", "ns", "times",
    "schedule", "k0", "k1", "final", "bt_a", "bt_b", "bt_c", "row_map", "n_row_map", "nsave",
    "cols", "ncols", "out", "out_member_stride", "out_col_stride", "out_t", "bad_state", "bad_state_time",
    "bad_value", "bad_value_time", "member0", "init_first", "seed", "streams",
)  # fmt: skip


def splat_int(builder: ir.IRBuilder, value: ir.Value, ty: ir.Type) -> ir.Value:
    """An i64 broadcast to ``ty`` (i64 or a vector of i64)."""
    if not isinstance(ty, ir.VectorType):
        return value
    first = builder.insert_element(ir.Constant(ty, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(first, ir.Constant(ty, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), ty.count), [0] * ty.count))


def _lane_sum(builder: ir.IRBuilder, vector: ir.Value) -> ir.Value:
    """The sum of a vector's lanes (any NaN lane makes it NaN)."""
    total = builder.extract_element(vector, ir.Constant(ir.IntType(32), 0))
    for lane in range(1, vector.type.count):
        total = builder.fadd(total, builder.extract_element(vector, ir.Constant(ir.IntType(32), lane)))
    return total


def _internal(fn: ir.Function, inline: bool = True) -> None:
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline" if inline else "noinline")
    for arg in fn.args:
        if isinstance(arg.type, ir.PointerType):
            arg.add_attribute("noalias")


def build_module(program: Program, analysis: Analysis, slots: Slots, part: str = "base") -> ir.Module:
    return ModuleBuilder(program, analysis, slots).build(part)



__all__ = ["UNROLL_DELAY", "ModuleBuilder", "build_module", "as_float"]
