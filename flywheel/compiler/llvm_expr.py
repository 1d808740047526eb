"""Expression trees -> LLVM values, by a table of node handlers.

The walk is iterative (post-order with an explicit stack), so a sum of ten thousand terms compiles
without Python's recursion limit. Every handler reproduces the arithmetic of PySD's generated Python
(operand order, NaN and division rules), so results agree bit for bit where the math library allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from llvmlite import ir

from .ir import (
    Binary,
    Call,
    Compare,
    Control,
    If,
    Incomplete,
    Logic,
    Lookup,
    LookupInvert,
    Neg,
    Node,
    Not,
    Num,
    Phase,
    Ref,
    Time,
    TimeCall,
)
from .llvm_support import F64, LOOKUP_MODE_CODES, Builtins, as_float, const, i64, is_true, map_lanes, splat

# intrinsics LLVM knows (lowered to the hardware or the C library), and plain C library functions
_INTRINSICS = {"abs": "fabs", "exp": "exp", "sqrt": "sqrt", "ln": "log", "sin": "sin", "cos": "cos"}
_LIBM = {"tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh"}
_HELPERS = {"min", "max", "integer", "modulo", "quantum", "zidz", "xidz"}
_FCMP = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ExprEmitter:
    """Emit expressions of one member (``ty`` double) or a vector of members (``ty`` <n x double>) at
    one time into one builder.

    ``resolve(key)`` gives the value of another node (of type ``ty``); ``control(name)`` a control value;
    ``table(key, lane)`` the lane's (xs pointer, ys pointer, number of points) of a lookup table.
    """

    def __init__(
        self,
        builder: ir.IRBuilder,
        builtins: Builtins,
        *,
        phase: str,
        time: ir.Value,
        resolve: Callable[[str], ir.Value],
        control: Callable[[str], ir.Value],
        table: Callable[[str, int], tuple[ir.Value, ir.Value, ir.Value]],
        ty: ir.Type = F64,
        shared_tables: dict[str, int] | None = None,
    ):
        self.b = builder
        self.builtins = builtins
        self.phase = phase
        self.time = time
        self.resolve = resolve
        self.control = control
        self.table = table
        self.ty = ty
        # vectors of members share every table, each of the compiled number of points (table key -> points)
        self.shared_tables = shared_tables

    def emit(self, root: Node) -> ir.Value:
        values: dict[int, ir.Value] = {}
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in values:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(self._operands(node)))
                continue
            handler = _HANDLERS[type(node)]
            values[id(node)] = handler(self, node, [values[id(c)] for c in self._operands(node)])
        return values[id(root)]

    def _operands(self, node: Node) -> tuple[Node, ...]:
        if isinstance(node, Phase):
            return (node.run,) if self.phase == "run" else (node.init,)
        if isinstance(node, Incomplete):
            return ()
        return node.children()

    # ------------------------------------------------------------------ handlers
    def _num(self, node: Num, _) -> ir.Value:
        return const(self.ty, node.value)

    def _ref(self, node: Ref, _) -> ir.Value:
        return self.resolve(node.key)

    def _time(self, node: Time, _) -> ir.Value:
        return splat(self.b, self.time, self.ty)

    def _control(self, node: Control, _) -> ir.Value:
        return splat(self.b, self.control(node.name), self.ty)

    def _neg(self, node: Neg, args) -> ir.Value:
        return self.b.fneg(args[0])

    def _binary(self, node: Binary, args) -> ir.Value:
        a, b = args
        if node.op == "+":
            return self.b.fadd(a, b)
        if node.op == "-":
            return self.b.fsub(a, b)
        if node.op == "*":
            return self.b.fmul(a, b)
        if node.op == "/":
            return self.b.fdiv(a, b)
        return self.b.call(self.builtins.intrinsic("pow", self.ty), [a, b])

    def _compare(self, node: Compare, args) -> ir.Value:
        a, b = args
        if node.op == "<>":  # Python's != is true for NaN
            return as_float(self.b, self.b.fcmp_unordered("!=", a, b))
        return as_float(self.b, self.b.fcmp_ordered(_FCMP[node.op], a, b))

    def _not(self, node: Not, args) -> ir.Value:
        return as_float(self.b, self.b.fcmp_ordered("==", args[0], const(self.ty, 0.0)))

    def _logic(self, node: Logic, args) -> ir.Value:
        left, right = (is_true(self.b, a) for a in args)
        joined = self.b.and_(left, right) if node.op == "and" else self.b.or_(left, right)
        return as_float(self.b, joined)

    def _if(self, node: If, args) -> ir.Value:
        cond, then, other = args
        return self.b.select(is_true(self.b, cond), then, other)

    def _call(self, node: Call, args) -> ir.Value:
        name = node.name
        if name in _INTRINSICS:
            return self.b.call(self.builtins.intrinsic(_INTRINSICS[name], self.ty), args)
        if name in _LIBM:
            return self.builtins.call_libm(self.b, _LIBM[name], args[0])
        if name in _HELPERS:
            return self.builtins.call(self.b, name, *args)
        if name == "power":
            return self.b.call(self.builtins.intrinsic("pow", self.ty), args)
        if name == "log":  # LOG(x, base) = ln(x) / ln(base)
            ln = self.builtins.intrinsic("log", self.ty)
            return self.b.fdiv(self.b.call(ln, [args[0]]), self.b.call(ln, [args[1]]))
        if name == "pi":
            return const(self.ty, math.pi)
        raise AssertionError(f"builtin {name} has no emitter")  # the lowering accepts only BUILTINS

    def _time_call(self, node: TimeCall, args) -> ir.Value:
        b = self.b
        time, dt = splat(b, self.time, self.ty), splat(b, self.control("time_step"), self.ty)
        builtins = self.builtins
        zero = const(self.ty, 0.0)
        name = node.name
        if name == "step":
            return builtins.call(b, "step", time, dt, args[0], args[1])
        if name == "ramp":
            return builtins.ramp(b, time, args[0], args[1], args[2] if len(args) > 2 else None)
        if name == "Xramp":
            return builtins.ramp(b, time, args[0], args[1])
        if name == "pulse":  # PULSE(start, width)
            return builtins.pulse(b, time, dt, args[0], zero, width=args[1])
        if name == "pulse_train":  # PULSE TRAIN(start, repeat, width, end) as PySD orders them
            return builtins.pulse(b, time, dt, args[0], args[1], width=args[2], end=args[3])
        if name == "Xpulse":  # XMILE PULSE(magnitude at start)
            return builtins.pulse(b, time, dt, args[0], zero, magnitude=args[1])
        if name == "Xpulse_train":
            return builtins.pulse(b, time, dt, args[0], args[1], magnitude=args[2])
        raise AssertionError(f"time builtin {name} has no emitter")

    def _lookup(self, node: Lookup, args) -> ir.Value:
        fn = self.builtins.lookup_function()
        mode = i64(LOOKUP_MODE_CODES[node.mode])

        def one(b, lane, x):
            xs, ys, n = self.table(node.table, lane)
            return b.call(fn, [x, xs, ys, n, mode])

        if self.shared_tables is None:
            return map_lanes(self.b, self.ty, one, args[0])
        xs, ys, _ = self.table(node.table, 0)
        return self.builtins.lookup_shared(self.b, args[0], xs, ys, self.shared_tables[node.table], node.mode)

    def _lookup_invert(self, node: LookupInvert, args) -> ir.Value:
        fn = self.builtins.lookup_invert_function()

        def one(b, lane, y):
            xs, ys, n = self.table(node.table, lane)
            return b.call(fn, [y, xs, ys, n])

        return map_lanes(self.b, self.ty, one, args[0])

    def _phase(self, node: Phase, args) -> ir.Value:
        return args[0]

    def _incomplete(self, node: Incomplete, _) -> ir.Value:
        return const(self.ty, float("nan"))


_HANDLERS: dict[type, Callable] = {
    Num: ExprEmitter._num,
    Ref: ExprEmitter._ref,
    Time: ExprEmitter._time,
    Control: ExprEmitter._control,
    Neg: ExprEmitter._neg,
    Binary: ExprEmitter._binary,
    Compare: ExprEmitter._compare,
    Not: ExprEmitter._not,
    Logic: ExprEmitter._logic,
    If: ExprEmitter._if,
    Call: ExprEmitter._call,
    TimeCall: ExprEmitter._time_call,
    Lookup: ExprEmitter._lookup,
    LookupInvert: ExprEmitter._lookup_invert,
    Phase: ExprEmitter._phase,
    Incomplete: ExprEmitter._incomplete,
}
