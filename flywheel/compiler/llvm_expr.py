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
from .llvm_support import LOOKUP_MODE_CODES, NAN, Builtins, as_float, f64, i64, is_true

# intrinsics LLVM knows (lowered to the hardware or the C library), and plain C library functions
_INTRINSICS = {"abs": "fabs", "exp": "exp", "sqrt": "sqrt", "ln": "log", "sin": "sin", "cos": "cos"}
_LIBM = {"tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh"}
_HELPERS = {"min", "max", "integer", "modulo", "quantum", "zidz", "xidz"}
_FCMP = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ExprEmitter:
    """Emit expressions of one member at one time into one builder.

    ``resolve(key)`` gives the value of another node; ``control(name)`` a control value; ``table(key)``
    the member's (xs pointer, ys pointer, number of points) of a lookup table.
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
        table: Callable[[str], tuple[ir.Value, ir.Value, ir.Value]],
    ):
        self.b = builder
        self.builtins = builtins
        self.phase = phase
        self.time = time
        self.resolve = resolve
        self.control = control
        self.table = table

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
        return f64(node.value)

    def _ref(self, node: Ref, _) -> ir.Value:
        return self.resolve(node.key)

    def _time(self, node: Time, _) -> ir.Value:
        return self.time

    def _control(self, node: Control, _) -> ir.Value:
        return self.control(node.name)

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
        return self.b.call(self.builtins.intrinsic("pow"), [a, b])

    def _compare(self, node: Compare, args) -> ir.Value:
        a, b = args
        if node.op == "<>":  # Python's != is true for NaN
            return as_float(self.b, self.b.fcmp_unordered("!=", a, b))
        return as_float(self.b, self.b.fcmp_ordered(_FCMP[node.op], a, b))

    def _not(self, node: Not, args) -> ir.Value:
        return as_float(self.b, self.b.fcmp_ordered("==", args[0], f64(0.0)))

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
            return self.b.call(self.builtins.intrinsic(_INTRINSICS[name]), args)
        if name in _LIBM:
            return self.b.call(self.builtins.libm(_LIBM[name]), args)
        if name in _HELPERS:
            return self.builtins.call(self.b, name, *args)
        if name == "power":
            return self.b.call(self.builtins.intrinsic("pow"), args)
        if name == "log":  # LOG(x, base) = ln(x) / ln(base)
            ln = self.builtins.intrinsic("log")
            return self.b.fdiv(self.b.call(ln, [args[0]]), self.b.call(ln, [args[1]]))
        if name == "pi":
            return f64(math.pi)
        raise AssertionError(f"builtin {name} has no emitter")  # the lowering accepts only BUILTINS

    def _time_call(self, node: TimeCall, args) -> ir.Value:
        b, time, dt = self.b, self.time, self.control("time_step")
        builtins = self.builtins
        zero = f64(0.0)
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
        xs, ys, n = self.table(node.table)
        fn = self.builtins._lookup()
        return self.b.call(fn, [args[0], xs, ys, n, i64(LOOKUP_MODE_CODES[node.mode])])

    def _lookup_invert(self, node: LookupInvert, args) -> ir.Value:
        xs, ys, n = self.table(node.table)
        return self.b.call(self.builtins._lookup_invert(), [args[0], xs, ys, n])

    def _phase(self, node: Phase, args) -> ir.Value:
        return args[0]

    def _incomplete(self, node: Incomplete, _) -> ir.Value:
        return NAN


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
