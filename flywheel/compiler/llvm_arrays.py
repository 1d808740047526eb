"""Arrays (subscripted variables) in the LLVM module: loop nests over their elements.

An array node lives in a contiguous block of rows (``Slots.home``: stocks in Y, values fixed at
initialisation in C, the rest in V, hidden ones in work rows after the named values). Each part of an
array is one loop nest over its own elements, whatever the number of elements, so the compile time
does not grow with the size of a dimension. Stateful builtins over arrays (SMOOTH, DELAY, SAMPLE IF
TRUE ...) run one loop over their elements; a chain of order ``n`` keeps stage ``k`` of element ``e``
in row ``base + k * size + e``.

``ArrayCode`` is the module builder's helper: it reads the builder's program, layout and builtins.
"""

from __future__ import annotations

import itertools
from contextlib import ExitStack
from typing import TYPE_CHECKING

from llvmlite import ir

from .ir import Chain, Over, Part, SampleIfTrue, Stock, size_of
from .llvm_support import F64, I64, entry_alloca, for_range, i64, is_true, load
from .llvm_view import View

if TYPE_CHECKING:
    from .llvm_expr import ExprEmitter
    from .llvm_kernels import ModuleBuilder


def strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


class ArrayCode:
    """The code of array nodes, for one module builder."""

    def __init__(self, builder: ModuleBuilder):
        self.mb = builder

    # ------------------------------------------------------------------ memory
    def load(self, view: View, key: str, row: ir.Value, src: ir.Value | None = None) -> ir.Value:
        """Element ``row`` of an array node (stocks from ``src`` while evaluating a stage)."""
        where, base = self.mb.s.home[key]
        index = view.b.add(i64(base), row)
        if where == "Y" and src is not None:
            return view.get_at(src, index)
        return view.get(where, index)

    def _put(self, view: View, key: str, row: ir.Value, value: ir.Value) -> None:
        """Store element ``row``: in its home, and in its output rows if it is named and lives elsewhere."""
        where, base = self.mb.s.home[key]
        b = view.b
        view.put(value, where, b.add(i64(base), row))
        named = self.mb.s.value.get(key)
        if named is not None and (where, base) != ("V", named):
            view.put(value, "V", b.add(i64(named), row))

    def _scalars(self, values: dict, expr: ExprEmitter, *keys: str) -> None:
        """Resolve scalar arguments before a loop over elements (a value loaded on first use inside the
        loop would not be visible after it)."""
        for key in keys:
            if not self.mb.shape(key):
                self.mb._value(values, expr, key)

    def _argument(self, view: View, key: str, element: ir.Value, values: dict, expr: ExprEmitter, src=None) -> ir.Value:
        """An argument of a stateful array builtin: its element, or the scalar itself."""
        if self.mb.shape(key):
            return self.load(view, key, element, src)
        return self.mb._value(values, expr, key)

    # ------------------------------------------------------------------ parts
    def parts(self, view: View, expr: ExprEmitter, shape: tuple[int, ...], parts: tuple[Part, ...], value_of,
              store, override=None) -> None:  # fmt: skip
        """Every part as its own loop nest: ``store(row, value)`` for each element it defines; elements
        that no part defines are NaN (as in PySD)."""
        covered: set[int] = set()
        for part in parts:
            covered |= self._emit_part(view, expr, shape, part, value_of(part), store, override)
        missing = [r for r in range(size_of(shape)) if r not in covered]
        nan = view.const(float("nan"))
        for row in missing[:64]:
            store(i64(row), nan)
        if len(missing) > 64:
            b = view.b
            with for_range(b, i64(0), i64(len(missing)), "nan") as i:
                store(self.mb.builtins.index_table(b, tuple(missing), i), nan)

    def _emit_part(self, view: View, expr: ExprEmitter, shape, part: Part, root, store, override) -> set[int]:
        b = view.b
        expr.prefetch(root)  # scalar values first, outside the loops
        steps = strides(shape)
        extents = tuple(len(loop.positions) for loop in part.loops)
        with ExitStack() as stack:
            row: ir.Value | None = None
            for loop, step, extent in zip(part.loops, steps, extents, strict=True):
                index = i64(0) if extent == 1 else stack.enter_context(for_range(b, i64(0), i64(extent), "e"))
                expr.loops[loop.var] = index
                identity = loop.positions == tuple(range(extent))
                position = expr.position(Over(loop.var, None if identity else loop.positions))
                term = position if step == 1 else b.mul(position, i64(step))
                row = term if row is None else b.add(row, term)
            row = row if row is not None else i64(0)
            if part.skip:
                flags = tuple(0 if point in part.skip else 1 for point in itertools.product(*(range(n) for n in extents)))
                local = expr.flat(extents, tuple(Over(loop.var) for loop in part.loops))
                stack.enter_context(b.if_then(self.mb.builtins.flag_table(b, flags, local)))
            value = override(row, lambda: expr.emit(root)) if override else expr.emit(root)
            store(row, value)
        covered = set()
        for point in itertools.product(*(range(n) for n in extents)):
            if point not in part.skip:
                covered.add(sum(loop.positions[i] * s for loop, i, s in zip(part.loops, point, steps, strict=True)))
        return covered

    def _override(self, view: View, key: str, lockstep: bool = False):
        """The parameter slots of an array: element ``row`` is slot ``first + row``."""
        mb = self.mb
        slot = mb.s.param.get(key)
        if slot is None or (lockstep and key not in mb.a.static):
            return None
        b = view.b

        def choose(row: ir.Value, compute) -> ir.Value:
            index = b.add(i64(slot), row)
            if key in mb.s.literal_params:
                return view.get("P", index)
            chosen = b.icmp_unsigned("!=", load(b, view["ovm"], index), ir.Constant(ir.IntType(8), 0))
            return b.select(chosen, view.get("P", index), compute())

        return choose

    def aux_parts(self, view: View, expr: ExprEmitter, aux, phase: str, lockstep: bool = False) -> None:
        self.parts(view, expr, aux.shape, aux.parts, lambda p: p.expr,
                   lambda row, value: self._put(view, aux.key, row, value), self._override(view, aux.key, lockstep))  # fmt: skip

    # ------------------------------------------------------------------ initialisation
    def init(self, view: View, key: str, expr: ExprEmitter, values: dict, dt: ir.Value) -> None:
        mb = self.mb
        if key in mb.aux:
            self.aux_parts(view, expr, mb.aux[key], "init")
        elif key in mb.stocks:
            self._stock_initial(view, expr, mb.stocks[key])
        elif key in mb.chains:
            self._chain_init(view, mb.chains[key], values, expr, dt)
        elif key in mb.initials:
            initial = mb.initials[key]
            self.parts(view, expr, initial.shape, initial.parts, lambda p: p.expr,
                       lambda row, value: self._put(view, key, row, value))  # fmt: skip
        elif key in mb.samples:
            self._sample(view, mb.samples[key], values, expr, None, init=True)
        elif key in mb.vector_ops:
            self.vector_op(view, mb.vector_ops[key], values, expr, None)
        elif key in mb.fixed:
            self._fixed_init(view, mb.fixed[key], values, expr, dt)

    def _stock_initial(self, view: View, expr: ExprEmitter, stock: Stock) -> None:
        mb = self.mb
        b = view.b
        base = mb.s.state[stock.key]
        slot = mb.s.stock_param.get(stock.key)

        def store(row, value):
            view.put(value, "Y", b.add(i64(base), row))
            if stock.key in mb.s.value:
                view.put(value, "V", b.add(i64(mb.s.value[stock.key]), row))

        override = None
        if slot is not None:
            def override(row, compute):
                index = b.add(i64(slot), row)
                chosen = b.icmp_unsigned("!=", load(b, view["ovm"], index), ir.Constant(ir.IntType(8), 0))
                return b.select(chosen, view.get("P", index), compute())

        self.parts(view, expr, stock.shape, stock.parts, lambda p: p.initial, store, override)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, view: View, key: str, expr: ExprEmitter, values: dict, src, lockstep: bool) -> None:
        mb = self.mb
        if key in mb.aux:
            self.aux_parts(view, expr, mb.aux[key], "run", lockstep)
        elif key in mb.chains:
            self._chain_outputs(view, mb.chains[key], values, expr, src)
        elif key in mb.samples:
            self._sample(view, mb.samples[key], values, expr, src, init=False)
        elif key in mb.vector_ops:
            self.vector_op(view, mb.vector_ops[key], values, expr, src)

    def copy_stock(self, view: View, stock: Stock, src) -> None:
        """A named array of stocks: its current values into its output rows."""
        row = self.mb.s.value.get(stock.key)
        if row is None:
            return
        b = view.b
        base = self.mb.s.state[stock.key]
        with for_range(b, i64(0), i64(size_of(stock.shape)), "copy") as e:
            view.put(view.get_at(src, b.add(i64(base), e)), "V", b.add(i64(row), e))

    def stock_flows(self, view: View, expr: ExprEmitter, stock: Stock, dst) -> None:
        b = view.b
        base = self.mb.s.state[stock.key]
        self.parts(view, expr, stock.shape, stock.parts, lambda p: p.expr,
                   lambda row, value: view.put_at(value, dst, b.add(i64(base), row)))  # fmt: skip

    # ------------------------------------------------------------------ chains (SMOOTH, DELAY)
    def _stage(self, view: View, chain: Chain, k, e: ir.Value) -> ir.Value:
        """Row of stage ``k`` of element ``e``."""
        b = view.b
        size = size_of(chain.shape)
        k = i64(k) if isinstance(k, int) else k
        return b.add(b.add(i64(self.mb.s.state[chain.key]), b.mul(k, i64(size))), e)

    def _chain_init(self, view: View, chain: Chain, values: dict, expr: ExprEmitter, dt) -> None:
        mb = self.mb
        self._scalars(values, expr, chain.input, chain.time, chain.initial)
        b = view.b
        size = size_of(chain.shape)
        if chain.kind == "smooth":
            with for_range(b, i64(0), i64(size), "ch") as e:
                initial = self._argument(view, chain.initial, e, values, expr)
                for k in range(chain.order):
                    view.put(initial, "Y", self._stage(view, chain, k, e))
            self._chain_outputs(view, chain, values, expr, None)
            return
        # PySD shortens the order of every element's delay with the smallest delay time
        smallest = entry_alloca(b, view.ty)
        b.store(view.const(float("inf")), smallest)
        with for_range(b, i64(0), i64(size), "dmin") as e:
            delay = self._argument(view, chain.time, e, values, expr)
            b.store(mb.builtins.call(b, "min", b.load(smallest), delay), smallest)
        delay_min = b.load(smallest)
        order_slot = entry_alloca(b, view.ty)
        b.store(view.const(float(chain.order)), order_slot)
        with for_range(b, i64(0), i64(chain.order - 1), "shorten"):
            order = b.load(order_slot)
            longer = b.fcmp_ordered(">", b.fmul(order, _splat(view, dt)), delay_min)
            b.store(b.select(longer, b.fsub(order, view.const(1.0)), order), order_slot)
        order = b.load(order_slot)
        view.put(order, "C", mb.s.chain_order[chain.key])
        with for_range(b, i64(0), i64(size), "ch") as e:
            initial = self._argument(view, chain.initial, e, values, expr)
            delay = self._argument(view, chain.time, e, values, expr)
            stock_value = b.fmul(initial, delay)
            for k in range(chain.order):
                inside = b.fcmp_ordered("<", view.const(float(k)), order)
                view.put(b.select(inside, stock_value, view.const(0.0)), "Y", self._stage(view, chain, k, e))
            if chain.key in mb.discrete_delayn:
                times = mb.s.discrete[f"{chain.key}:times"]
                for k in range(chain.order):
                    view.put(delay, "D", b.add(i64(times + k * size), e))
        self._chain_outputs(view, chain, values, expr, None)

    def _chain_outputs(self, view: View, chain: Chain, values: dict, expr: ExprEmitter, src) -> None:
        """Each element's output into the chain's rows: the last stage (over the delay time for delays)."""
        mb = self.mb
        self._scalars(values, expr, chain.time)
        b = view.b
        size = size_of(chain.shape)

        def state(k, e):
            row = self._stage(view, chain, k, e)
            return view.get_at(src, row) if src is not None else view.get("Y", row)

        with for_range(b, i64(0), i64(size), "out") as e:
            if chain.kind == "smooth":
                self._put(view, chain.key, e, state(chain.order - 1, e))
                return
            order = view.get("C", mb.s.chain_order[chain.key])
            if chain.key in mb.discrete_delayn:
                divisor = view.get("D", b.add(i64(mb.s.discrete[f"{chain.key}:times"]), e))
            else:
                divisor = self._argument(view, chain.time, e, values, expr, src)
            last = state(0, e)
            for k in range(1, chain.order):
                last = b.select(b.fcmp_ordered("==", order, view.const(float(k + 1))), state(k, e), last)
            self._put(view, chain.key, e, b.fdiv(last, divisor))

    def chain_derivatives(self, view: View, chain: Chain, src, dst, values: dict, expr: ExprEmitter) -> None:
        mb = self.mb
        self._scalars(values, expr, chain.input, chain.time)
        b = view.b
        size = size_of(chain.shape)
        with for_range(b, i64(0), i64(size), "dch") as e:
            inflow = self._argument(view, chain.input, e, values, expr, src)
            delay = self._argument(view, chain.time, e, values, expr, src)
            if chain.kind == "smooth":  # PySD: (targets - state) * order / smooth_time
                for k in range(chain.order):
                    prev = inflow if k == 0 else view.get_at(src, self._stage(view, chain, k - 1, e))
                    here = view.get_at(src, self._stage(view, chain, k, e))
                    change = b.fdiv(b.fmul(b.fsub(prev, here), view.const(chain.order)), delay)
                    view.put_at(change, dst, self._stage(view, chain, k, e))
                return
            order = view.get("C", mb.s.chain_order[chain.key])
            dynamic = chain.key in mb.discrete_delayn
            times = mb.s.discrete.get(f"{chain.key}:times")
            for k in range(chain.order):
                own = view.get("D", b.add(i64(times + (k - 1) * size), e)) if dynamic and k > 0 else delay
                out_k = b.fdiv(view.get_at(src, self._stage(view, chain, k, e)), own)
                if k == 0:
                    prev = inflow
                else:
                    earlier = view.get("D", b.add(i64(times + (k - 2) * size), e)) if dynamic and k > 1 else delay
                    prev = b.fdiv(view.get_at(src, self._stage(view, chain, k - 1, e)), earlier)
                change = b.fmul(b.fsub(prev, out_k), order)
                inside = b.fcmp_ordered("<", view.const(float(k)), order)
                view.put_at(b.select(inside, change, view.const(0.0)), dst, self._stage(view, chain, k, e))

    def capture_delayn(self, view: View, chain: Chain, values: dict, expr: ExprEmitter, src) -> None:
        b = view.b
        self._scalars(values, expr, chain.time)
        tnow = self.mb.s.discrete[f"{chain.key}:tnow"]
        with for_range(b, i64(0), i64(size_of(chain.shape)), "cap") as e:
            view.put(self._argument(view, chain.time, e, values, expr, src), "D", b.add(i64(tnow), e))

    def update_delayn(self, view: View, chain: Chain) -> None:
        """After a step: each element's stage times roll by one stage."""
        b = view.b
        size = size_of(chain.shape)
        times = self.mb.s.discrete[f"{chain.key}:times"]
        tnow = self.mb.s.discrete[f"{chain.key}:tnow"]
        with for_range(b, i64(0), i64(size), "roll") as e:
            for k in range(chain.order - 1, 0, -1):
                view.put(view.get("D", b.add(i64(times + (k - 1) * size), e)), "D", b.add(i64(times + k * size), e))
            view.put(view.get("D", b.add(i64(tnow), e)), "D", b.add(i64(times), e))

    # ------------------------------------------------------------------ SAMPLE IF TRUE
    def _sample(self, view: View, sample: SampleIfTrue, values: dict, expr: ExprEmitter, src, init: bool) -> None:
        b = view.b
        self._scalars(values, expr, sample.condition, sample.input, sample.initial if init else sample.input)
        state = self.mb.s.discrete[f"{sample.key}:state"]
        with for_range(b, i64(0), i64(size_of(sample.shape)), "smp") as e:
            if init:
                held = self._argument(view, sample.initial, e, values, expr, src)
                view.put(held, "D", b.add(i64(state), e))
            else:
                held = view.get("D", b.add(i64(state), e))
            condition = self._argument(view, sample.condition, e, values, expr, src)
            value = b.select(is_true(b, condition), self._argument(view, sample.input, e, values, expr, src), held)
            self._put(view, sample.key, e, value)

    def capture_sample(self, view: View, sample: SampleIfTrue, values: dict, expr: ExprEmitter, src) -> None:
        b = view.b
        self._scalars(values, expr, sample.condition, sample.input)
        rows = {part: self.mb.s.discrete[f"{sample.key}:{part}"] for part in ("in", "cond")}
        with for_range(b, i64(0), i64(size_of(sample.shape)), "cap") as e:
            view.put(self._argument(view, sample.input, e, values, expr, src), "D", b.add(i64(rows["in"]), e))
            view.put(self._argument(view, sample.condition, e, values, expr, src), "D", b.add(i64(rows["cond"]), e))

    def update_sample(self, view: View, sample: SampleIfTrue) -> None:
        b = view.b
        rows = {part: self.mb.s.discrete[f"{sample.key}:{part}"] for part in ("state", "in", "cond")}
        with for_range(b, i64(0), i64(size_of(sample.shape)), "upd") as e:
            take = is_true(b, view.get("D", b.add(i64(rows["cond"]), e)))
            new = b.select(take, view.get("D", b.add(i64(rows["in"]), e)), view.get("D", b.add(i64(rows["state"]), e)))
            view.put(new, "D", b.add(i64(rows["state"]), e))

    # ------------------------------------------------------------------ DELAY FIXED
    def _fixed_init(self, view: View, fixed, values: dict, expr: ExprEmitter, dt) -> None:
        """One pipeline per element (see ``ModuleBuilder._delay_fixed_init``)."""
        mb = self.mb
        self._scalars(values, expr, fixed.time, fixed.initial)
        b = view.b
        s = mb.s
        with for_range(b, i64(0), i64(size_of(fixed.shape)), "fix") as e:
            delay = self._argument(view, fixed.time, e, values, expr)
            ratio = b.fdiv(delay, _splat(view, dt))
            one = view.const(1.0)
            ratio = b.select(b.fcmp_ordered(">=", ratio, one), ratio, one)
            rounded = b.call(mb.builtins.intrinsic("roundeven", view.ty), [b.fadd(ratio, view.const(1e-6))])
            length = b.select(b.fcmp_ordered(">=", rounded, one), rounded, one)
            initial = self._argument(view, fixed.initial, e, values, expr)
            view.put(length, "C", b.add(i64(s.pipe_len[fixed.key]), e))
            view.put(initial, "C", b.add(i64(s.pipe_init[fixed.key]), e))
            view.put(view.const(0.0), "D", b.add(i64(s.discrete[f"{fixed.key}:ptr"]), e))
            view.put(initial, "D", b.add(i64(s.discrete[f"{fixed.key}:out"]), e))

    def capture_fixed(self, view: View, fixed, values: dict, expr: ExprEmitter, src) -> None:
        b = view.b
        self._scalars(values, expr, fixed.input)
        row = self.mb.s.discrete[f"{fixed.key}:in"]
        with for_range(b, i64(0), i64(size_of(fixed.shape)), "cap") as e:
            view.put(self._argument(view, fixed.input, e, values, expr, src), "D", b.add(i64(row), e))

    def update_fixed(self, view: View, fixed) -> None:
        """After a step: each element's pipeline takes its input and moves on by one."""
        mb = self.mb
        b = view.b
        s = mb.s
        key = fixed.key
        with for_range(b, i64(0), i64(size_of(fixed.shape)), "pipe") as e:
            ptr_row = b.add(i64(s.discrete[f"{key}:ptr"]), e)
            out_row = b.add(i64(s.discrete[f"{key}:out"]), e)
            first = load(b, view["doff"], b.add(i64(s.pipe_index[key]), e))
            ptr = b.fptosi(view.get("D", ptr_row), I64)
            view.put(view.get("D", b.add(i64(s.discrete[f"{key}:in"]), e)), "D", b.add(first, ptr))
            length = b.fptosi(view.get("C", b.add(i64(s.pipe_len[key]), e)), I64)
            ptr = b.srem(b.add(ptr, i64(1)), length)
            view.put(b.sitofp(ptr, F64), "D", ptr_row)
            view.put(view.get("D", b.add(first, ptr)), "D", out_row)

    # ------------------------------------------------------------------ whole-array builtins
    def vector_op(self, view: View, op, values: dict, expr: ExprEmitter, src) -> None:
        from .llvm_vector import emit_vector_op

        emit_vector_op(self, view, op, values, expr, src)

    # ------------------------------------------------------------------ random numbers
    def random(self, view: View, node, args, element: ir.Value, time: ir.Value) -> ir.Value:
        from .llvm_random import emit_random

        return emit_random(self.mb, view, node, args, element, time)


def _splat(view: View, value: ir.Value) -> ir.Value:
    from .llvm_support import splat

    return splat(view.b, value, view.ty)


__all__ = ["ArrayCode", "strides", "F64", "I64"]
