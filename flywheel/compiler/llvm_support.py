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
SELECT_POINTS = 24  # lookups of up to this many points pick their segment by selects in vectors of members
LOOKUP_MODE_CODES = {"interpolate": 0, "extrapolate": 1, "backward": 2, "forward": 3, "raw": 4}


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


def vector_type(width: int | None) -> ir.Type:
    """double for one member, <width x double> for a vector of members."""
    return F64 if width is None else ir.VectorType(F64, width)


def const(ty: ir.Type, value: float) -> ir.Constant:
    """A float constant of ``ty`` (every lane the same)."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [float(value)] * ty.count)
    return ir.Constant(ty, float(value))


def splat(builder: ir.IRBuilder, value: ir.Value, ty: ir.Type) -> ir.Value:
    """A scalar broadcast to every lane of ``ty`` (unchanged when ``ty`` is a scalar)."""
    if not isinstance(ty, ir.VectorType) or value.type == ty:
        return value
    if isinstance(value, ir.Constant):
        return ir.Constant(ty, [value.constant] * ty.count)
    first = builder.insert_element(ir.Constant(ty, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), ty.count), [0] * ty.count)
    return builder.shuffle_vector(first, ir.Constant(ty, ir.Undefined), mask)


def is_true(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """Python's truth of a float: non-zero, NaN included."""
    return builder.fcmp_unordered("!=", value, const(value.type, 0.0))


def as_float(builder: ir.IRBuilder, flag: ir.Value) -> ir.Value:
    ty = F64 if not isinstance(flag.type, ir.VectorType) else ir.VectorType(F64, flag.type.count)
    return builder.uitofp(flag, ty)


def intrinsic(module: ir.Module, name: str, ty: ir.Type, arity: int = 1) -> ir.Function:
    """``llvm.<name>`` for doubles or vectors of doubles."""
    suffix = f"v{ty.count}f64" if isinstance(ty, ir.VectorType) else "f64"
    full = f"llvm.{name}.{suffix}"
    existing = module.globals.get(full)
    if existing is not None:
        return existing
    return ir.Function(module, ir.FunctionType(ty, [ty] * arity), full)


def is_finite(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """|x| < inf (false for NaN and infinities)."""
    fabs = intrinsic(builder.module, "fabs", value.type)
    return builder.fcmp_ordered("<", builder.call(fabs, [value]), const(value.type, float("inf")))


def element(builder: ir.IRBuilder, base: ir.Value, index: ir.Value) -> ir.Value:
    return builder.gep(base, [index], inbounds=True)


def load(builder: ir.IRBuilder, base: ir.Value, index: ir.Value) -> ir.Value:
    return builder.load(element(builder, base, index))


def store(builder: ir.IRBuilder, value: ir.Value, base: ir.Value, index: ir.Value) -> None:
    builder.store(value, element(builder, base, index))


def load_lanes(builder: ir.IRBuilder, base: ir.Value, index: ir.Value, ty: ir.Type) -> ir.Value:
    """``ty``'s worth of consecutive doubles from ``base[index]`` (one, or a vector)."""
    pointer = element(builder, base, index)
    if isinstance(ty, ir.VectorType):
        return builder.load(builder.bitcast(pointer, ty.as_pointer()), align=8)
    return builder.load(pointer)


def store_lanes(builder: ir.IRBuilder, value: ir.Value, base: ir.Value, index: ir.Value) -> None:
    pointer = element(builder, base, index)
    if isinstance(value.type, ir.VectorType):
        builder.store(value, builder.bitcast(pointer, value.type.as_pointer()), align=8)
    else:
        builder.store(value, pointer)


def map_lanes(builder: ir.IRBuilder, ty: ir.Type, scalar, *args: ir.Value) -> ir.Value:
    """Apply ``scalar(builder, lane, *lane_args)`` to each lane of vector arguments (or once)."""
    if not isinstance(ty, ir.VectorType):
        return scalar(builder, 0, *args)
    result = ir.Constant(ty, ir.Undefined)
    for lane in range(ty.count):
        index = ir.Constant(ir.IntType(32), lane)
        values = [builder.extract_element(a, index) if isinstance(a.type, ir.VectorType) else a for a in args]
        result = builder.insert_element(result, scalar(builder, lane, *values), index)
    return result


# ------------------------------------------------------------------------------------------- builtins


class Builtins:
    """The builtins of one LLVM module, for doubles or vectors of doubles: pure functions emitted on
    first use (one per type) and inlined by LLVM."""

    def __init__(self, module: ir.Module):
        self.module = module
        self._functions: dict[tuple[str, str], ir.Function] = {}

    def _constant_array(self, kind: str, element: ir.Type, values: tuple) -> ir.GlobalVariable:
        """A read-only global array (deduplicated), for index maps and tables of numbers."""
        key = (kind, values)
        found = self._functions.get(key)
        if found is None:
            array_type = ir.ArrayType(element, len(values))
            found = ir.GlobalVariable(self.module, array_type, f"fw_{kind}_{len(self._functions)}")
            found.global_constant = True
            found.linkage = "internal"
            found.initializer = ir.Constant(array_type, [ir.Constant(element, v) for v in values])
            self._functions[key] = found
        return found

    def index_table(self, builder: ir.IRBuilder, table: tuple[int, ...], i: ir.Value) -> ir.Value:
        """``table[i]`` for a constant table of positions."""
        array = self._constant_array("map", I64, tuple(int(v) for v in table))
        return builder.load(builder.gep(array, [i64(0), i], inbounds=True))

    def number_table(self, builder: ir.IRBuilder, values: tuple[float, ...], i: ir.Value) -> ir.Value:
        """``values[i]`` for a constant table of numbers."""
        array = self._constant_array("num", F64, tuple(float(v) for v in values))
        return builder.load(builder.gep(array, [i64(0), i], inbounds=True))

    def flag_table(self, builder: ir.IRBuilder, flags: tuple[int, ...], i: ir.Value) -> ir.Value:
        """``flags[i] != 0`` for a constant table of 0/1 flags."""
        array = self._constant_array("flag", I8, tuple(int(v) for v in flags))
        return builder.icmp_unsigned("!=", builder.load(builder.gep(array, [i64(0), i], inbounds=True)), ir.Constant(I8, 0))

    def intrinsic(self, name: str, ty: ir.Type = F64) -> ir.Function:
        return intrinsic(self.module, name, ty, 2 if name in ("pow", "copysign") else 1)

    def libm(self, name: str) -> ir.Function:
        existing = self.module.globals.get(name)
        if existing is not None:
            return existing
        return ir.Function(self.module, ir.FunctionType(F64, [F64]), name)

    def call_libm(self, builder: ir.IRBuilder, name: str, value: ir.Value) -> ir.Value:
        fn = self.libm(name)
        return map_lanes(builder, value.type, lambda b, _, x: b.call(fn, [x]), value)

    def _define(self, name: str, ty: ir.Type, arity: int, build) -> ir.Function:
        key = (name, str(ty))
        if key not in self._functions:
            suffix = f"_v{ty.count}" if isinstance(ty, ir.VectorType) else ""
            fn = ir.Function(self.module, ir.FunctionType(ty, [ty] * arity), f"fw_{name}{suffix}")
            fn.linkage = "internal"
            fn.attributes.add("alwaysinline")
            builder = ir.IRBuilder(fn.append_basic_block("entry"))
            build(builder, ty, *fn.args)
            self._functions[key] = fn
        return self._functions[key]

    def call(self, builder: ir.IRBuilder, name: str, *args: ir.Value) -> ir.Value:
        ty = args[0].type
        arity, build = _BUILDERS[name]
        return builder.call(self._define(name, ty, arity, lambda b, t, *a: build(self, b, t, *a)), list(args))

    # -------------------------------------------------------------- arithmetic helpers (ty: the type)
    def _min(self, b, ty, x, y):  # np.minimum's NaN propagation
        either_nan = b.fcmp_unordered("uno", x, y)
        b.ret(b.select(either_nan, const(ty, float("nan")), b.select(b.fcmp_ordered("<=", x, y), x, y)))

    def _max(self, b, ty, x, y):
        either_nan = b.fcmp_unordered("uno", x, y)
        b.ret(b.select(either_nan, const(ty, float("nan")), b.select(b.fcmp_ordered(">=", x, y), x, y)))

    def _integer(self, b, ty, x):
        b.ret(b.call(self.intrinsic("trunc", ty), [x]))

    def _quantum(self, b, ty, a, q):  # QUANTUM(a, q) = q * INTEGER(a / q), or a when q < SMALL_VENSIM
        whole = b.fmul(q, b.call(self.intrinsic("trunc", ty), [b.fdiv(a, q)]))
        b.ret(b.select(b.fcmp_ordered("<", q, const(ty, SMALL_VENSIM)), a, whole))

    def _modulo(self, b, ty, x, m):  # PySD: x - QUANTUM(x, m)
        b.ret(b.fsub(x, self.call(b, "quantum", x, m)))

    def _zidz(self, b, ty, num, den):
        small = b.fcmp_ordered("<", b.call(self.intrinsic("fabs", ty), [den]), const(ty, SMALL_VENSIM))
        b.ret(b.select(small, const(ty, 0.0), b.fdiv(num, den)))

    def _xidz(self, b, ty, num, den, x):
        small = b.fcmp_ordered("<", b.call(self.intrinsic("fabs", ty), [den]), const(ty, SMALL_VENSIM))
        b.ret(b.select(small, x, b.fdiv(num, den)))

    def _pymod(self, b, ty, x, y):  # Python's float %: the result takes the divisor's sign
        zero = const(ty, 0.0)
        r = b.frem(x, y)
        r_negative = b.fcmp_ordered("<", r, zero)
        y_negative = b.fcmp_ordered("<", y, zero)
        adjust = b.and_(b.fcmp_unordered("!=", r, zero), b.icmp_unsigned("!=", r_negative, y_negative))
        adjusted = b.select(adjust, b.fadd(r, y), r)
        signed_zero = b.call(self.intrinsic("copysign", ty), [zero, y])
        b.ret(b.select(b.fcmp_ordered("==", r, zero), signed_zero, adjusted))

    def _step(self, b, ty, time, dt, value, start):  # PySD counts the step from half a step before
        on = b.fcmp_ordered(">", b.fadd(time, b.fmul(dt, const(ty, 0.5))), start)
        b.ret(b.fmul(value, b.select(on, const(ty, 1.0), const(ty, 0.0))))

    # -------------------------------------------------------------- time builtins
    def ramp(self, builder: ir.IRBuilder, time, slope, start, finish=None) -> ir.Value:
        """RAMP(slope, start[, finish]): (time + SMALL > start) * slope * (min(finish, time) - start)."""
        b = builder
        ty = time.type
        final = time if finish is None else b.select(b.fcmp_ordered("<", time, finish), time, finish)
        on = b.select(b.fcmp_ordered(">", b.fadd(time, const(ty, SMALL_VENSIM)), start), const(ty, 1.0), const(ty, 0.0))
        return b.fmul(b.fmul(on, slope), b.fsub(final, start))

    def pulse(self, builder: ir.IRBuilder, time, dt, start, repeat, width=None, magnitude=None, end=None) -> ir.Value:
        """PULSE, PULSE TRAIN and XMILE PULSE with PySD's conventions (``functions.pulse``)."""
        b = builder
        ty = time.type
        zero = const(ty, 0.0)
        w = b.fmul(const(ty, 0.5), dt) if width is None else width
        out = const(ty, 1.0) if magnitude is None else b.fdiv(magnitude, dt)
        single_on = b.and_(
            b.fcmp_ordered("<=", b.fsub(start, const(ty, SMALL_VENSIM)), time), b.fcmp_ordered("<", time, b.fadd(start, w))
        )
        single = b.select(single_on, out, zero)
        running = b.fcmp_ordered("<=", start, time)
        if end is not None:
            running = b.and_(running, b.fcmp_ordered("<", time, end))
        phase = self.call(b, "pymod", b.fadd(b.fsub(time, start), const(ty, SMALL_VENSIM)), repeat)
        train = b.select(running, b.select(b.fcmp_ordered("<", phase, w), out, zero), zero)
        return b.select(b.fcmp_ordered("==", repeat, zero), single, train)

    # -------------------------------------------------------------- lookups
    def lookup_function(self) -> ir.Function:
        """lookup(x, xs, ys, n, mode): interpolate, extrapolate, hold backward or look forward."""
        if ("lookup", "") in self._functions:
            return self._functions[("lookup", "")]
        fn = ir.Function(self.module, ir.FunctionType(F64, [F64, F64P, F64P, I64, I64]), "fw_lookup")
        fn.linkage = "internal"
        x, xs, ys, n, mode = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        last = b.sub(n, i64(1))
        x_first, y_first = load(b, xs, i64(0)), load(b, ys, i64(0))
        x_last, y_last = load(b, xs, last), load(b, ys, last)
        extrapolate = b.and_(b.icmp_signed("==", mode, i64(1)), b.icmp_signed(">", n, i64(1)))
        raw = b.icmp_signed("==", mode, i64(4))  # data without interpolation: a value only at its own times
        with b.if_then(b.fcmp_unordered("uno", x, x)):
            b.ret(NAN)
        with b.if_then(b.fcmp_ordered("<=", x, x_first)):
            with b.if_then(b.and_(extrapolate, b.fcmp_ordered("<", x, x_first))):
                x1, y1 = load(b, xs, i64(1)), load(b, ys, i64(1))
                k = b.fdiv(b.fsub(y1, y_first), b.fsub(x1, x_first))
                b.ret(b.fadd(y_first, b.fmul(k, b.fsub(x, x_first))))
            b.ret(b.select(b.and_(raw, b.fcmp_ordered("<", x, x_first)), NAN, y_first))
        with b.if_then(b.fcmp_ordered(">=", x, x_last)):
            before = b.sub(last, i64(1))
            with b.if_then(b.and_(extrapolate, b.fcmp_ordered(">", x, x_last))):
                x0, y0 = load(b, xs, before), load(b, ys, before)
                k = b.fdiv(b.fsub(y_last, y0), b.fsub(x_last, x0))
                b.ret(b.fadd(y_last, b.fmul(k, b.fsub(x, x_last))))
            b.ret(b.select(b.and_(raw, b.fcmp_ordered(">", x, x_last)), NAN, y_last))
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
        value = b.select(raw, NAN, value)
        b.ret(b.select(b.fcmp_ordered("==", x_lo, x), y_lo, value))
        self._functions[("lookup", "")] = fn
        return fn

    def lookup_shared(self, builder: ir.IRBuilder, x: ir.Value, xs, ys, n: int, mode: str) -> ir.Value:
        """``fw_lookup`` for a vector of members sharing one table of ``n`` points (known when compiling),
        branch-free: the segment is the count of points at or below ``x`` (the bisection's answer for
        sorted points), the four values around it are gathered lane by lane."""
        b = builder
        ty = x.type
        lanes = ty.count
        ity = ir.VectorType(I64, lanes)
        code = LOOKUP_MODE_CODES[mode]

        def point(array, k: int) -> ir.Value:
            return splat(b, load(b, array, i64(k)), ty)

        x_first, y_first = point(xs, 0), point(ys, 0)
        nan = const(ty, float("nan"))
        if n == 1:
            return b.select(b.fcmp_unordered("uno", x, x), nan, y_first)
        last = n - 1
        x_last, y_last = point(xs, last), point(ys, last)
        count = ir.Constant(ity, [0] * lanes)
        for k in range(1, last):
            count = b.add(count, b.zext(b.fcmp_ordered("<=", point(xs, k), x), ity))

        def gather(array, index: ir.Value) -> ir.Value:
            out = ir.Constant(ty, ir.Undefined)
            for lane in range(lanes):
                i = ir.Constant(ir.IntType(32), lane)
                out = b.insert_element(out, load(b, array, b.extract_element(index, i)), i)
            return out

        hi = b.add(count, ir.Constant(ity, [1] * lanes))
        if n <= SELECT_POINTS:  # small tables: pick each segment's points with selects, no gathers
            x_lo, y_lo, x_hi, y_hi = point(xs, 0), point(ys, 0), point(xs, 1), point(ys, 1)
            for k in range(1, last):
                here = b.icmp_signed("==", count, ir.Constant(ity, [k] * lanes))
                x_lo, y_lo = b.select(here, point(xs, k), x_lo), b.select(here, point(ys, k), y_lo)
                x_hi, y_hi = b.select(here, point(xs, k + 1), x_hi), b.select(here, point(ys, k + 1), y_hi)
        else:
            x_lo, y_lo, x_hi, y_hi = gather(xs, count), gather(ys, count), gather(xs, hi), gather(ys, hi)
        if code == LOOKUP_MODE_CODES["backward"]:
            inner = y_lo
        elif code == LOOKUP_MODE_CODES["forward"]:
            inner = y_hi
        elif code == LOOKUP_MODE_CODES["raw"]:
            inner = nan
        else:
            inner = b.fadd(y_lo, b.fdiv(b.fmul(b.fsub(x, x_lo), b.fsub(y_hi, y_lo)), b.fsub(x_hi, x_lo)))
        inner = b.select(b.fcmp_ordered("==", x_lo, x), y_lo, inner)
        low_value, high_value = y_first, y_last
        if code == LOOKUP_MODE_CODES["extrapolate"]:
            x1, y1 = point(xs, 1), point(ys, 1)
            slope = b.fdiv(b.fsub(y1, y_first), b.fsub(x1, x_first))
            below = b.fadd(y_first, b.fmul(slope, b.fsub(x, x_first)))
            low_value = b.select(b.fcmp_ordered("<", x, x_first), below, y_first)
            x0, y0 = point(xs, last - 1), point(ys, last - 1)
            slope = b.fdiv(b.fsub(y_last, y0), b.fsub(x_last, x0))
            above = b.fadd(y_last, b.fmul(slope, b.fsub(x, x_last)))
            high_value = b.select(b.fcmp_ordered(">", x, x_last), above, y_last)
        if code == LOOKUP_MODE_CODES["raw"]:
            low_value = b.select(b.fcmp_ordered("<", x, x_first), nan, y_first)
            high_value = b.select(b.fcmp_ordered(">", x, x_last), nan, y_last)
        value = b.select(b.fcmp_ordered(">=", x, x_last), high_value, inner)
        value = b.select(b.fcmp_ordered("<=", x, x_first), low_value, value)
        return b.select(b.fcmp_unordered("uno", x, x), nan, value)

    def lookup_invert_function(self) -> ir.Function:
        """LOOKUP INVERT: the x at which a monotonic table reaches ``y``."""
        if ("lookup_invert", "") in self._functions:
            return self._functions[("lookup_invert", "")]
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
        self._functions[("lookup_invert", "")] = fn
        return fn


_BUILDERS = {
    "min": (2, Builtins._min), "max": (2, Builtins._max), "integer": (1, Builtins._integer),
    "quantum": (2, Builtins._quantum), "modulo": (2, Builtins._modulo), "zidz": (2, Builtins._zidz),
    "xidz": (3, Builtins._xidz), "pymod": (2, Builtins._pymod), "step": (4, Builtins._step),
}  # fmt: skip
