"""Random draws as pure functions: (seed, member stream, call site, element, time, stream argument).

A counter-based generator: the 64-bit inputs are absorbed one by one through SplitMix64's finaliser
(Steele, Lea and Flood 2014), whose output is a well-mixed 64-bit word; 53 of its bits make a uniform
number in (0, 1). Nothing is carried from one draw to the next, so a member computed alone, in any
chunk, on any thread, in a vector of members or one at a time, draws exactly the same numbers, and a
run continued from a saved state draws what the uninterrupted run draws.

Distributions follow Vensim's arguments (PySD's conventions where PySD has the function): truncation to
[min, max] by drawing from the truncated distribution (inverse CDF on the restricted range of the
uniform), so no draw is ever rejected. The normal quantile is Wichura's AS241 (relative error ~1e-16).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from llvmlite import ir

from .llvm_support import F64, I64, const, entry_alloca, i64, splat

if TYPE_CHECKING:
    from .ir import Random
    from .llvm_kernels import ModuleBuilder
    from .llvm_view import View

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB

# AS241 (PPND16) coefficients, lowest power first
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
      45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727)
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
      39307.89580009271061, 28729.085735721942674, 5226.495278852545925)
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
      1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4)
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
      0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9)
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
      0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
      1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15)  # fmt: skip


class _Draw:
    """The arithmetic of one draw, on doubles or vectors of doubles (``ty``)."""

    def __init__(self, mb: ModuleBuilder, view: View):
        self.mb = mb
        self.b = view.b
        self.ty = view.ty
        self.lanes = view.lanes
        self.ity = I64 if self.lanes is None else ir.VectorType(I64, self.lanes)

    def const(self, value: float) -> ir.Value:
        return const(self.ty, value)

    def int_const(self, value: int) -> ir.Value:
        value &= 0xFFFFFFFFFFFFFFFF
        if value >= 1 << 63:
            value -= 1 << 64
        return ir.Constant(self.ity, [value] * self.lanes) if self.lanes else i64(value)

    def splat_int(self, value: ir.Value) -> ir.Value:
        if self.lanes is None or isinstance(value.type, ir.VectorType):
            return value
        first = self.b.insert_element(ir.Constant(self.ity, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), self.lanes), [0] * self.lanes)
        return self.b.shuffle_vector(first, ir.Constant(self.ity, ir.Undefined), mask)

    # ------------------------------------------------------------------ bits
    def mix(self, z: ir.Value) -> ir.Value:
        """SplitMix64's finaliser."""
        b = self.b
        z = b.mul(b.xor(z, b.lshr(z, self.int_const(30))), self.int_const(_MIX1))
        z = b.mul(b.xor(z, b.lshr(z, self.int_const(27))), self.int_const(_MIX2))
        return b.xor(z, b.lshr(z, self.int_const(31)))

    def absorb(self, h: ir.Value, word: ir.Value) -> ir.Value:
        return self.mix(self.b.add(h, self.b.mul(self.b.xor(word, self.int_const(_GOLDEN)), self.int_const(_GOLDEN))))

    def unit(self, h: ir.Value) -> ir.Value:
        """A uniform number strictly inside (0, 1) from the top 53 bits."""
        top = self.b.uitofp(self.b.lshr(h, self.int_const(11)), self.ty)
        return self.b.fmul(self.b.fadd(top, self.const(0.5)), self.const(2.0**-53))

    # ------------------------------------------------------------------ functions
    def intrinsic(self, name: str, *args: ir.Value) -> ir.Value:
        return self.b.call(self.mb.builtins.intrinsic(name, self.ty), list(args))

    def libm(self, name: str, value: ir.Value) -> ir.Value:
        return self.mb.builtins.call_libm(self.b, name, value)

    def poly(self, coefficients, x: ir.Value) -> ir.Value:
        result = self.const(coefficients[-1])
        for c in reversed(coefficients[:-1]):
            result = self.b.fadd(self.b.fmul(result, x), self.const(c))
        return result

    def select(self, flag, a, c):
        return self.b.select(flag, a, c)

    def lt(self, a, c):
        return self.b.fcmp_ordered("<", a, c)

    def normal_quantile(self, p: ir.Value) -> ir.Value:
        """Phi^-1(p), AS241, branch-free (all three regions computed, one selected)."""
        b = self.b
        q = b.fsub(p, self.const(0.5))
        r_central = b.fsub(self.const(0.180625), b.fmul(q, q))
        central = b.fdiv(b.fmul(q, self.poly(_A, r_central)), self.poly(_B, r_central))
        tail = self.select(self.lt(q, self.const(0.0)), p, b.fsub(self.const(1.0), p))
        r = self.intrinsic("sqrt", b.fneg(self.intrinsic("log", tail)))
        near = b.fsub(r, self.const(1.6))
        far = b.fsub(r, self.const(5.0))
        value = self.select(self.b.fcmp_ordered("<=", r, self.const(5.0)),
                            b.fdiv(self.poly(_C, near), self.poly(_D, near)),
                            b.fdiv(self.poly(_E, far), self.poly(_F, far)))  # fmt: skip
        value = self.select(self.lt(q, self.const(0.0)), b.fneg(value), value)
        small = b.fcmp_ordered("<=", self.intrinsic("fabs", q), self.const(0.425))
        return self.select(small, central, value)

    def normal_cdf(self, z: ir.Value) -> ir.Value:
        return self.b.fmul(self.const(0.5), self.libm("erfc", self.b.fmul(z, self.const(-1 / math.sqrt(2.0)))))

    def clamp(self, value, low, high):
        value = self.select(self.lt(value, low), low, value)
        return self.select(self.b.fcmp_ordered(">", value, high), high, value)

    def xidz(self, num, den, fallback: float):
        small = self.lt(self.intrinsic("fabs", den), self.const(1e-6))
        return self.select(small, self.const(fallback), self.b.fdiv(num, den))

    # ------------------------------------------------------------------ distributions
    def uniform(self, u, low, high):
        return self.b.fadd(low, self.b.fmul(self.b.fsub(high, low), u))

    def normal(self, u, low, high, mean, sd):
        """PySD: truncnorm between (min - mean)/sd and (max - mean)/sd (xidz: +-inf for sd 0)."""
        b = self.b
        alpha = self.xidz(b.fsub(low, mean), sd, float("-inf"))
        beta = self.xidz(b.fsub(high, mean), sd, float("inf"))
        flip = b.fcmp_ordered(">", alpha, self.const(0.0))  # both bounds above the mean: use the lower tail
        a = self.select(flip, b.fneg(beta), alpha)
        c = self.select(flip, b.fneg(alpha), beta)
        lo, hi = self.normal_cdf(a), self.normal_cdf(c)
        z = self.normal_quantile(b.fadd(lo, b.fmul(u, b.fsub(hi, lo))))
        z = self.select(flip, b.fneg(z), z)
        return self.clamp(b.fadd(mean, b.fmul(sd, z)), low, high)

    def exponential(self, u, low, high, shift, stretch):
        """PySD: truncexpon(b=(max - max(min, shift)) / stretch, loc=max(min, shift), scale=stretch)."""
        b = self.b
        loc = self.select(b.fcmp_ordered(">", low, shift), low, shift)
        limit = self.xidz(b.fsub(high, loc), stretch, float("inf"))
        kept = b.fsub(self.const(1.0), self.intrinsic("exp", b.fneg(limit)))
        draw = b.fneg(self.libm("log1p", b.fneg(b.fmul(u, kept))))
        return self.clamp(b.fadd(loc, b.fmul(stretch, draw)), low, high)

    def triangular(self, u, low, high, start, peak, end):
        """Triangular on [start, end] with its mode at peak, truncated to [low, high]."""
        b = self.b
        width = b.fsub(end, start)
        rise, fall = b.fsub(peak, start), b.fsub(end, peak)

        def cdf(v):
            v = self.clamp(v, start, end)
            left = b.fdiv(b.fmul(b.fsub(v, start), b.fsub(v, start)), b.fmul(width, rise))
            right = b.fsub(self.const(1.0), b.fdiv(b.fmul(b.fsub(end, v), b.fsub(end, v)), b.fmul(width, fall)))
            return self.select(b.fcmp_ordered("<=", v, peak), left, right)

        lo, hi = cdf(low), cdf(high)
        p = b.fadd(lo, b.fmul(u, b.fsub(hi, lo)))
        left = b.fadd(start, self.intrinsic("sqrt", b.fmul(p, b.fmul(width, rise))))
        right = b.fsub(end, self.intrinsic("sqrt", b.fmul(b.fsub(self.const(1.0), p), b.fmul(width, fall))))
        value = self.select(self.lt(p, b.fdiv(rise, width)), left, right)
        return self.clamp(value, low, high)

    def poisson(self, u, low, high, mean, shift, stretch):
        """Poisson(mean) * stretch + shift, truncated: the count is drawn from its truncated distribution
        by inverse CDF (summing terms; a normal approximation above a mean of 500)."""
        fn = _poisson_function(self.mb)
        b = self.b
        kmin = b.fdiv(b.fsub(low, shift), stretch)
        kmax = b.fdiv(b.fsub(high, shift), stretch)

        def one(bb, _, uu, mm, lo, hi):
            return bb.call(fn, [uu, mm, lo, hi])

        from .llvm_support import map_lanes

        count = map_lanes(b, self.ty, one, u, mean, kmin, kmax)
        return b.fadd(shift, b.fmul(stretch, count))


def _poisson_function(mb: ModuleBuilder) -> ir.Function:
    """fw_poisson(u, mean, kmin, kmax): the smallest k with F(k) >= F(kmin - 1) + u (F(kmax) - F(kmin - 1))."""
    module = mb.module
    existing = module.globals.get("fw_poisson")
    if existing is not None:
        return existing
    fn = ir.Function(module, ir.FunctionType(F64, [F64, F64, F64, F64]), "fw_poisson")
    fn.linkage = "internal"
    u, mean, kmin, kmax = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    with b.if_then(b.fcmp_unordered("ule", mean, ir.Constant(F64, 0.0))):
        b.ret(ir.Constant(F64, 0.0))
    floor = mb.builtins.intrinsic("floor")
    ceil = mb.builtins.intrinsic("ceil")
    lo_k = b.call(ceil, [kmin])
    lo_k = b.select(b.fcmp_ordered("<", lo_k, ir.Constant(F64, 0.0)), ir.Constant(F64, 0.0), lo_k)
    hi_k = b.call(floor, [kmax])
    limit = b.fadd(mean, b.fadd(b.fmul(ir.Constant(F64, 40.0), b.call(mb.builtins.intrinsic("sqrt"), [mean])),
                                ir.Constant(F64, 40.0)))  # fmt: skip
    hi_k = b.select(b.fcmp_ordered(">", hi_k, limit), limit, hi_k)
    with b.if_then(b.fcmp_ordered(">", mean, ir.Constant(F64, 500.0))):  # normal approximation
        draw = _Draw.__new__(_Draw)
        draw.mb, draw.b, draw.ty, draw.lanes, draw.ity = mb, b, F64, None, I64
        sd = b.call(mb.builtins.intrinsic("sqrt"), [mean])
        value = draw.normal(u, b.fsub(lo_k, ir.Constant(F64, 0.5)), b.fadd(hi_k, ir.Constant(F64, 0.5)), mean, sd)
        b.ret(b.call(floor, [b.fadd(value, ir.Constant(F64, 0.5))]))
    # pass 1: F(lo_k - 1) and F(hi_k); pass 2: the first k whose F reaches the target
    term, total, k = (entry_alloca(b, t) for t in (F64, F64, F64))
    below, upto = entry_alloca(b, F64), entry_alloca(b, F64)

    def run(until, on_each) -> None:
        b.store(b.call(mb.builtins.intrinsic("exp"), [b.fneg(mean)]), term)
        b.store(b.load(term), total)
        b.store(ir.Constant(F64, 0.0), k)
        head, body, done = (fn.append_basic_block(n) for n in ("p.head", "p.body", "p.done"))
        b.branch(head)
        b.position_at_end(head)
        on_each()
        b.cbranch(until(), done, body)
        b.position_at_end(body)
        step = b.fadd(b.load(k), ir.Constant(F64, 1.0))
        b.store(step, k)
        b.store(b.fmul(b.load(term), b.fdiv(mean, step)), term)
        b.store(b.fadd(b.load(total), b.load(term)), total)
        b.branch(head)
        b.position_at_end(done)

    b.store(ir.Constant(F64, 0.0), below)

    def note() -> None:
        is_before = b.fcmp_ordered("==", b.load(k), b.fsub(lo_k, ir.Constant(F64, 1.0)))
        b.store(b.select(is_before, b.load(total), b.load(below)), below)

    run(lambda: b.fcmp_ordered(">=", b.load(k), hi_k), note)
    b.store(b.load(total), upto)
    target = b.fadd(b.load(below), b.fmul(u, b.fsub(b.load(upto), b.load(below))))
    run(lambda: b.or_(b.fcmp_ordered(">=", b.load(total), target), b.fcmp_ordered(">=", b.load(k), hi_k)), lambda: None)
    found = b.load(k)
    b.ret(b.select(b.fcmp_ordered("<", found, lo_k), lo_k, found))
    return fn


def emit_random(mb: ModuleBuilder, view: View, node: Random, args: list[ir.Value], element: ir.Value, time: ir.Value) -> ir.Value:
    """One draw of ``node`` for the view's member(s) at ``time``."""
    draw = _Draw(mb, view)
    b = view.b
    streams = view["streams"]
    stream = b.load(b.bitcast(streams, draw.ity.as_pointer()), align=8) if view.lanes else b.load(streams)
    h = draw.mix(b.add(draw.splat_int(view["seed"]), draw.int_const(_GOLDEN)))
    h = draw.absorb(h, stream)
    h = draw.absorb(h, draw.int_const(node.site))
    h = draw.absorb(h, draw.splat_int(element))
    h = draw.absorb(h, draw.splat_int(b.bitcast(time, I64)))
    if node.args:  # Vensim's stream ID (the last argument)
        h = draw.absorb(h, b.bitcast(args[-1], draw.ity))
    u = draw.unit(h)
    a = list(args)
    if node.dist == "uniform01":
        return u
    if node.dist == "uniform":
        return draw.uniform(u, a[0], a[1])
    if node.dist == "normal":
        return draw.normal(u, a[0], a[1], a[2], a[3])
    if node.dist == "exponential":
        return draw.exponential(u, a[0], a[1], a[2], a[3])
    if node.dist == "triangular":
        return draw.triangular(u, a[0], a[1], a[2], a[3], a[4])
    if node.dist == "poisson":
        return draw.poisson(u, a[0], a[1], a[2], a[3], a[4])
    raise AssertionError(f"no emitter for the {node.dist} distribution")


__all__ = ["emit_random", "splat"]
