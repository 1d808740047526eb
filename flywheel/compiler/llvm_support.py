"""LLVM building blocks: types, constants, counted loops, and Vensim's builtins with PySD's conventions.

Each builtin mirrors the PySD 3.14 function of the same name (``pysd.py_backend.functions``), so that
an Euler run here and in PySD agree to the last bit wherever the arithmetic allows. Most are written
branch-free with ``select``, so that loops over members stay vectorisable; only the lookups need loops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from llvmlite import ir

F64 = ir.DoubleType()
I64 = ir.IntType(64)
I8 = ir.IntType(8)
I1 = ir.IntType(1)
F64P = F64.as_pointer()
I64P = I64.as_pointer()
I8P = I8.as_pointer()

SMALL_VENSIM = 1e-6  # what Vensim treats as zero (PySD's SMALL_VENSIM)
TIME_RPREC = 1e-5  # relative precision PySD uses for the final time and the save times
LOOKUP_MODE_CODES = {"interpolate": 0, "extrapolate": 1, "backward": 2, "forward": 3}


def f64(value: float) -> ir.Constant:
    return ir.Constant(F64, float(value))


def i64(value: int) -> ir.Constant:
    return ir.Constant(I64, int(value))


NAN = f64(float("nan"))


@contextmanager
def for_range(builder: ir.IRBuilder, start, stop, name: str = "i") -> Iterator[ir.Value]:
    """``for i in range(start, stop)``; the body may add blocks of its own."""
    start = i64(start) if isinstance(start, int) else start
    stop = i64(stop) if isinstance(stop, int) else stop
    fn = builder.function
    before = builder.block
    head = fn.append_basic_block(f"{name}.head")
    body = fn.append_basic_block(f"{name}.body")
    end = fn.append_basic_block(f"{name}.end")
    builder.branch(head)
    builder.position_at_end(head)
    index = builder.phi(I64, name=name)
    index.add_incoming(start, before)
    builder.cbranch(builder.icmp_signed("<", index, stop), body, end)
    builder.position_at_end(body)
    yield index
    index.add_incoming(builder.add(index, i64(1)), builder.block)
    builder.branch(head)
    builder.position_at_end(end)


def entry_alloca(builder: ir.IRBuilder, type_: ir.Type, name: str = "") -> ir.Value:
    """A stack slot in the function's entry block, where LLVM promotes it to a register (an alloca in
    a loop would grow the stack on every iteration once inlined)."""
    entry = builder.function.entry_basic_block
    saved = builder.block
    if entry.instructions:
        builder.position_before(entry.instructions[0])
    else:
        builder.position_at_end(entry)
    slot = builder.alloca(type_, name=name)
    builder.position_at_end(saved)
    return slot


def is_true(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """Python's truth of a float: non-zero, NaN included."""
    return builder.fcmp_unordered("!=", value, f64(0.0))


def as_float(builder: ir.IRBuilder, flag: ir.Value) -> ir.Value:
    return builder.uitofp(flag, F64)


def is_finite(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """|x| < inf (false for NaN and infinities)."""
    fabs = builder.module.declare_intrinsic("llvm.fabs", [F64])
    return builder.fcmp_ordered("<", builder.call(fabs, [value]), f64(float("inf")))


def element(builder: ir.IRBuilder, base: ir.Value, index: ir.Value) -> ir.Value:
    return builder.gep(base, [index], inbounds=True)


def load(builder: ir.IRBuilder, base: ir.Value, index: ir.Value) -> ir.Value:
    return builder.load(element(builder, base, index))


def store(builder: ir.IRBuilder, value: ir.Value, base: ir.Value, index: ir.Value) -> None:
    builder.store(value, element(builder, base, index))


# ------------------------------------------------------------------------------------------- builtins


class Builtins:
    """The builtins of one LLVM module: pure functions emitted on first use, inlined by LLVM."""

    def __init__(self, module: ir.Module):
        self.module = module
        self._functions: dict[str, ir.Function] = {}

    def intrinsic(self, name: str) -> ir.Function:
        arity = 2 if name in ("pow", "copysign") else 1
        return self.module.declare_intrinsic(f"llvm.{name}", [F64], ir.FunctionType(F64, [F64] * arity))

    def libm(self, name: str, n_args: int = 1) -> ir.Function:
        existing = self.module.globals.get(name)
        if existing is not None:
            return existing
        return ir.Function(self.module, ir.FunctionType(F64, [F64] * n_args), name)

    def _define(self, name: str, args: list[ir.Type], build) -> ir.Function:
        if name not in self._functions:
            fn = ir.Function(self.module, ir.FunctionType(F64, args), f"fw_{name}")
            fn.linkage = "internal"
            fn.attributes.add("alwaysinline")
            builder = ir.IRBuilder(fn.append_basic_block("entry"))
            build(builder, *fn.args)
            self._functions[name] = fn
        return self._functions[name]

    def call(self, builder: ir.IRBuilder, name: str, *args: ir.Value) -> ir.Value:
        maker = getattr(self, f"_{name}")
        return builder.call(maker(), list(args))

    # -------------------------------------------------------------- arithmetic helpers
    def _min(self) -> ir.Function:
        def build(b, x, y):  # np.minimum's NaN propagation
            either_nan = b.fcmp_unordered("uno", x, y)
            b.ret(b.select(either_nan, NAN, b.select(b.fcmp_ordered("<=", x, y), x, y)))

        return self._define("min", [F64, F64], build)

    def _max(self) -> ir.Function:
        def build(b, x, y):
            either_nan = b.fcmp_unordered("uno", x, y)
            b.ret(b.select(either_nan, NAN, b.select(b.fcmp_ordered(">=", x, y), x, y)))

        return self._define("max", [F64, F64], build)

    def _integer(self) -> ir.Function:
        return self._define("integer", [F64], lambda b, x: b.ret(b.call(self.intrinsic("trunc"), [x])))

    def _quantum(self) -> ir.Function:
        def build(b, a, q):  # QUANTUM(a, q) = q * INTEGER(a / q), or a when q < SMALL_VENSIM
            whole = b.fmul(q, b.call(self.intrinsic("trunc"), [b.fdiv(a, q)]))
            b.ret(b.select(b.fcmp_ordered("<", q, f64(SMALL_VENSIM)), a, whole))

        return self._define("quantum", [F64, F64], build)

    def _modulo(self) -> ir.Function:
        def build(b, x, m):  # PySD: x - QUANTUM(x, m)
            b.ret(b.fsub(x, b.call(self._quantum(), [x, m])))

        return self._define("modulo", [F64, F64], build)

    def _zidz(self) -> ir.Function:
        def build(b, num, den):
            small = b.fcmp_ordered("<", b.call(self.intrinsic("fabs"), [den]), f64(SMALL_VENSIM))
            b.ret(b.select(small, f64(0.0), b.fdiv(num, den)))

        return self._define("zidz", [F64, F64], build)

    def _xidz(self) -> ir.Function:
        def build(b, num, den, x):
            small = b.fcmp_ordered("<", b.call(self.intrinsic("fabs"), [den]), f64(SMALL_VENSIM))
            b.ret(b.select(small, x, b.fdiv(num, den)))

        return self._define("xidz", [F64, F64, F64], build)

    def _pymod(self) -> ir.Function:
        def build(b, x, y):  # Python's float %: the result takes the divisor's sign
            r = b.frem(x, y)
            r_negative = b.fcmp_ordered("<", r, f64(0.0))
            y_negative = b.fcmp_ordered("<", y, f64(0.0))
            adjust = b.and_(b.fcmp_unordered("!=", r, f64(0.0)), b.icmp_unsigned("!=", r_negative, y_negative))
            adjusted = b.select(adjust, b.fadd(r, y), r)
            zero = b.call(self.intrinsic("copysign"), [f64(0.0), y])
            b.ret(b.select(b.fcmp_ordered("==", r, f64(0.0)), zero, adjusted))

        return self._define("pymod", [F64, F64], build)

    # -------------------------------------------------------------- time builtins
    def _step(self) -> ir.Function:
        def build(b, time, dt, value, start):  # PySD counts the step from half a time step before
            on = b.fcmp_ordered(">", b.fadd(time, b.fmul(dt, f64(0.5))), start)
            b.ret(b.fmul(value, b.select(on, f64(1.0), f64(0.0))))

        return self._define("step", [F64] * 4, build)

    def ramp(self, builder: ir.IRBuilder, time, slope, start, finish=None) -> ir.Value:
        """RAMP(slope, start[, finish]): (time + SMALL > start) * slope * (min(finish, time) - start)."""
        b = builder
        final = time if finish is None else b.select(b.fcmp_ordered("<", time, finish), time, finish)
        on = b.select(b.fcmp_ordered(">", b.fadd(time, f64(SMALL_VENSIM)), start), f64(1.0), f64(0.0))
        return b.fmul(b.fmul(on, slope), b.fsub(final, start))

    def pulse(self, builder: ir.IRBuilder, time, dt, start, repeat, width=None, magnitude=None, end=None) -> ir.Value:
        """PULSE, PULSE TRAIN and XMILE PULSE with PySD's conventions (``functions.pulse``)."""
        b = builder
        w = b.fmul(f64(0.5), dt) if width is None else width
        out = f64(1.0) if magnitude is None else b.fdiv(magnitude, dt)
        zero = f64(0.0)
        single_on = b.and_(
            b.fcmp_ordered("<=", b.fsub(start, f64(SMALL_VENSIM)), time), b.fcmp_ordered("<", time, b.fadd(start, w))
        )
        single = b.select(single_on, out, zero)
        running = b.fcmp_ordered("<=", start, time)
        if end is not None:
            running = b.and_(running, b.fcmp_ordered("<", time, end))
        phase = b.call(self._pymod(), [b.fadd(b.fsub(time, start), f64(SMALL_VENSIM)), repeat])
        train = b.select(running, b.select(b.fcmp_ordered("<", phase, w), out, zero), zero)
        return b.select(b.fcmp_ordered("==", repeat, zero), single, train)

    # -------------------------------------------------------------- lookups
    def _lookup(self) -> ir.Function:
        """lookup(x, xs, ys, n, mode): interpolate, extrapolate, hold backward or look forward."""
        if "lookup" in self._functions:
            return self._functions["lookup"]
        fn = ir.Function(self.module, ir.FunctionType(F64, [F64, F64P, F64P, I64, I64]), "fw_lookup")
        fn.linkage = "internal"
        x, xs, ys, n, mode = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        last = b.sub(n, i64(1))
        x_first, y_first = load(b, xs, i64(0)), load(b, ys, i64(0))
        x_last, y_last = load(b, xs, last), load(b, ys, last)
        extrapolate = b.and_(b.icmp_signed("==", mode, i64(1)), b.icmp_signed(">", n, i64(1)))
        with b.if_then(b.fcmp_unordered("uno", x, x)):
            b.ret(NAN)
        with b.if_then(b.fcmp_ordered("<=", x, x_first)):
            with b.if_then(b.and_(extrapolate, b.fcmp_ordered("<", x, x_first))):
                x1, y1 = load(b, xs, i64(1)), load(b, ys, i64(1))
                k = b.fdiv(b.fsub(y1, y_first), b.fsub(x1, x_first))
                b.ret(b.fadd(y_first, b.fmul(k, b.fsub(x, x_first))))
            b.ret(y_first)
        with b.if_then(b.fcmp_ordered(">=", x, x_last)):
            before = b.sub(last, i64(1))
            with b.if_then(b.and_(extrapolate, b.fcmp_ordered(">", x, x_last))):
                x0, y0 = load(b, xs, before), load(b, ys, before)
                k = b.fdiv(b.fsub(y_last, y0), b.fsub(x_last, x0))
                b.ret(b.fadd(y_last, b.fmul(k, b.fsub(x, x_last))))
            b.ret(y_last)
        # bisection: xs[lo] < x < xs[hi] holds throughout
        lo_slot, hi_slot = entry_alloca(b, I64), entry_alloca(b, I64)
        b.store(i64(0), lo_slot)
        b.store(last, hi_slot)
        head = fn.append_basic_block("bisect.head")
        body = fn.append_basic_block("bisect.body")
        done = fn.append_basic_block("bisect.done")
        b.branch(head)
        b.position_at_end(head)
        lo, hi = b.load(lo_slot), b.load(hi_slot)
        b.cbranch(b.icmp_signed(">", b.sub(hi, lo), i64(1)), body, done)
        b.position_at_end(body)
        mid = b.ashr(b.add(lo, hi), i64(1))
        go_right = b.fcmp_ordered("<=", load(b, xs, mid), x)
        b.store(b.select(go_right, mid, lo), lo_slot)
        b.store(b.select(go_right, hi, mid), hi_slot)
        b.branch(head)
        b.position_at_end(done)
        lo, hi = b.load(lo_slot), b.load(hi_slot)
        x_lo, y_lo, x_hi, y_hi = load(b, xs, lo), load(b, ys, lo), load(b, xs, hi), load(b, ys, hi)
        slope_part = b.fdiv(b.fmul(b.fsub(x, x_lo), b.fsub(y_hi, y_lo)), b.fsub(x_hi, x_lo))
        value = b.fadd(y_lo, slope_part)
        value = b.select(b.icmp_signed("==", mode, i64(2)), y_lo, value)
        value = b.select(b.icmp_signed("==", mode, i64(3)), y_hi, value)
        b.ret(b.select(b.fcmp_ordered("==", x_lo, x), y_lo, value))
        self._functions["lookup"] = fn
        return fn

    def _lookup_invert(self) -> ir.Function:
        """LOOKUP INVERT: the x at which a monotonic table reaches ``y``."""
        if "lookup_invert" in self._functions:
            return self._functions["lookup_invert"]
        fn = ir.Function(self.module, ir.FunctionType(F64, [F64, F64P, F64P, I64]), "fw_lookup_invert")
        fn.linkage = "internal"
        y, xs, ys, n = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        last = b.sub(n, i64(1))
        y_first, y_last = load(b, ys, i64(0)), load(b, ys, last)
        increasing = b.fcmp_ordered(">=", y_last, y_first)
        below = b.select(increasing, b.fcmp_ordered("<=", y, y_first), b.fcmp_ordered(">=", y, y_first))
        with b.if_then(below):
            b.ret(load(b, xs, i64(0)))
        above = b.select(increasing, b.fcmp_ordered(">=", y, y_last), b.fcmp_ordered("<=", y, y_last))
        with b.if_then(above):
            b.ret(load(b, xs, last))
        with for_range(b, i64(0), last, "seg") as i:
            nxt = b.add(i, i64(1))
            y0, y1 = load(b, ys, i), load(b, ys, nxt)
            inside_up = b.and_(b.fcmp_ordered("<=", y0, y), b.fcmp_ordered("<=", y, y1))
            inside_down = b.and_(b.fcmp_ordered("<=", y1, y), b.fcmp_ordered("<=", y, y0))
            with b.if_then(b.or_(inside_up, inside_down)):
                x0, x1 = load(b, xs, i), load(b, xs, nxt)
                with b.if_then(b.fcmp_ordered("==", y1, y0)):
                    b.ret(x0)
                b.ret(b.fadd(x0, b.fdiv(b.fmul(b.fsub(y, y0), b.fsub(x1, x0)), b.fsub(y1, y0))))
        b.ret(NAN)
        self._functions["lookup_invert"] = fn
        return fn
