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
    At,
    Binary,
    Call,
    Compare,
    Control,
    Each,
    If,
    Incomplete,
    Logic,
    Lookup,
    LookupInvert,
    LoopValue,
    Neg,
    Node,
    Not,
    Num,
    Over,
    Phase,
    Random,
    Reduce,
    Ref,
    Time,
    TimeCall,
    literal_value,
)
from .llvm_support import (
    F64,
    LOOKUP_MODE_CODES,
    Builtins,
    as_float,
    const,
    entry_alloca,
    for_range,
    i64,
    is_true,
    map_lanes,
    splat,
)

# intrinsics LLVM knows (lowered to the hardware or the C library), and plain C library functions
_INTRINSICS = {"abs": "fabs", "exp": "exp", "sqrt": "sqrt", "ln": "log", "sin": "sin", "cos": "cos"}
_LIBM = {"tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh"}
_HELPERS = {"min", "max", "integer", "modulo", "quantum", "zidz", "xidz"}
_FCMP = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ExprEmitter:
    """Emit expressions of one member (``ty`` double) or a vector of members (``ty`` <n x double>) at
    one time into one builder.

    ``resolve(key)`` gives the value of another scalar node (of type ``ty``); ``control(name)`` a control
    value; ``table(key, lane, offset)`` the lane's (xs pointer, ys pointer, number of points) of a lookup
    table (``offset``: the element of an array of lookups). Arrays: ``element(key, row)`` loads element
    ``row`` (an i64) of an array node, ``shape(key)`` gives its shape; ``loops`` holds the current values
    of the loop variables (set by the caller's loop nest and by vector functions).
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
        shared_tables: dict[str, int | None] | None = None,
        element: Callable[[str, ir.Value], ir.Value] | None = None,
        shape: Callable[[str], tuple[int, ...]] | None = None,
        random: Callable | None = None,
    ):
        self.b = builder
        self.builtins = builtins
        self.phase = phase
        self.time = time
        self.resolve = resolve
        self.control = control
        self.table = table
        self.ty = ty
        # vectors of members share every table, each of the compiled number of points (table key -> points;
        # None for an array of lookups whose tables differ in length)
        self.shared_tables = shared_tables
        self.element = element
        self.shape = shape
        self.random = random
        self.loops: dict[int, ir.Value] = {}

    def prefetch(self, root: Node) -> None:
        """Resolve every scalar node the expression reads, here: before a loop nest, so that values
        loaded on first use are defined where every later use can see them."""
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, Ref) and not node.index:
                self.resolve(node.key)
            elif isinstance(node, Control):
                self.control(node.name)
            stack.extend(self._children(node))

    def _children(self, node: Node) -> tuple[Node, ...]:
        if isinstance(node, Phase):
            return (node.run,) if self.phase == "run" else (node.init,)
        if isinstance(node, Incomplete):
            return ()
        return node.children()

    def emit(self, root: Node) -> ir.Value:
        self.prefetch(root)
        return self._emit(root)

    def _emit(self, root: Node) -> ir.Value:
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
        if isinstance(node, Reduce):
            return ()  # emitted inside the reduction's own loop
        return self._children(node)

    # ------------------------------------------------------------------ arrays
    def flat(self, shape: tuple[int, ...], index: tuple) -> ir.Value:
        """The row-major position of an element, from fixed positions and the current loop variables."""
        b = self.b
        constant = 0
        total: ir.Value | None = None
        stride = 1
        strides = []
        for n in reversed(shape):
            strides.append(stride)
            stride *= n
        strides.reverse()
        for axis, step in zip(index, strides, strict=True):
            if isinstance(axis, At):
                constant += axis.position * step
                continue
            position = self.position(axis)
            term = position if step == 1 else b.mul(position, i64(step))
            total = term if total is None else b.add(total, term)
        if total is None:
            return i64(constant)
        return total if constant == 0 else b.add(total, i64(constant))

    def position(self, axis: Over) -> ir.Value:
        """The position along a referenced dimension for the current value of a loop variable."""
        i = self.loops[axis.var]
        table = axis.table
        if table is None:
            return i
        first = table[0]
        if table == tuple(range(first, first + len(table))):
            return self.b.add(i, i64(first))
        return self.builtins.index_table(self.b, table, i)

    def _loop_value(self, node: LoopValue, _) -> ir.Value:
        if len(node.values) == 1:
            return const(self.ty, node.values[0])
        index = self.flat(node.extents, tuple(Over(v) for v in node.vars))
        return splat(self.b, self.builtins.number_table(self.b, node.values, index), self.ty)

    def _reduce(self, node: Reduce, _) -> ir.Value:
        """A vector function: a loop nest over its own variables, accumulating in the function's entry."""
        b = self.b
        op = node.op
        ty = self.ty
        inf = float("inf")
        start = {"sum": 0.0, "prod": 1.0, "vmin": inf, "vmax": -inf}
        if op == "select":
            return self._vector_select(node)
        acc = entry_alloca(b, ty)
        b.store(const(ty, start[op]), acc)
        opened = []
        for var, extent in node.loops:
            loop = for_range(b, i64(0), i64(extent), "v")
            self.loops[var] = loop.__enter__()
            opened.append(loop)
        value = self._emit(node.args[0])
        current = b.load(acc)
        if op == "sum":
            new = b.fadd(current, value)
        elif op == "prod":
            new = b.fmul(current, value)
        else:
            new = self.builtins.call(b, "min" if op == "vmin" else "max", current, value)
        b.store(new, acc)
        for loop in reversed(opened):
            loop.__exit__(None, None, None)
        return b.load(acc)

    def _vector_select(self, node: Reduce) -> ir.Value:
        """PySD's vector_select: the selected elements (selection non-zero) combined by the numerical
        action (0-4: selection * value; 5: value ^ selection; 6-10: value; then sum, product, minimum,
        maximum or mean, NaN skipped), ``missing`` when nothing is selected; NaN for an action outside
        0..10. All combinations are accumulated and the action picks one, so it may change in a run."""
        b = self.b
        ty = self.ty
        zero, one = const(ty, 0.0), const(ty, 1.0)
        nan = const(ty, float("nan"))
        missing = self._emit(node.args[2])
        fixed = literal_value(node.args[3])  # an action known when compiling: only what it needs
        action = self._emit(node.args[3])
        true, false = ir.Constant(ir.IntType(1), 1), ir.Constant(ir.IntType(1), 0)

        def is_action(*codes: int) -> ir.Value:
            if fixed is not None:
                return true if fixed in codes else false
            flag = None
            for code in codes:
                hit = b.fcmp_ordered("==", action, const(ty, float(code)))
                flag = hit if flag is None else b.or_(flag, hit)
            return flag

        def needed(*codes: int) -> bool:
            return fixed is None or fixed in codes

        slots = {name: entry_alloca(b, ty) for name in ("sum", "prod", "min", "max", "count", "chosen")}
        starts = {"sum": 0.0, "prod": 1.0, "min": float("inf"), "max": float("-inf"), "count": 0.0, "chosen": 0.0}
        for name, start in starts.items():
            b.store(const(ty, start), slots[name])
        opened = []
        for var, extent in node.loops:
            loop = for_range(b, i64(0), i64(extent), "v")
            self.loops[var] = loop.__enter__()
            opened.append(loop)
        selection = self._emit(node.args[0])
        values = self._emit(node.args[1])
        weighted = b.fmul(selection, values) if needed(0, 1, 2, 3, 4) else values
        powered = b.call(self.builtins.intrinsic("pow", ty), [values, selection]) if needed(5) else values
        item = b.select(is_action(0, 1, 2, 3, 4), weighted, b.select(is_action(5), powered, values))
        selected = b.fcmp_unordered("!=", selection, zero)
        usable = b.and_(selected, b.fcmp_ordered("ord", item, item))
        for name, combine, codes in (("sum", b.fadd, (0, 4, 6, 10)), ("prod", b.fmul, (1, 5, 7))):
            if needed(*codes):
                current = b.load(slots[name])
                b.store(b.select(usable, combine(current, item), current), slots[name])
        for name, order, codes in (("min", "<", (2, 8)), ("max", ">", (3, 9))):
            if needed(*codes):
                current = b.load(slots[name])
                b.store(b.select(b.and_(usable, b.fcmp_ordered(order, item, current)), item, current), slots[name])
        b.store(b.fadd(b.load(slots["count"]), b.select(usable, one, zero)), slots["count"])
        b.store(b.fadd(b.load(slots["chosen"]), b.select(selected, one, zero)), slots["chosen"])
        for loop in reversed(opened):
            loop.__exit__(None, None, None)
        count = b.load(slots["count"])
        total = b.load(slots["sum"])
        none = b.fcmp_ordered("==", count, zero)
        result = nan
        result = b.select(is_action(0, 6), total, result)
        result = b.select(is_action(1, 5, 7), b.load(slots["prod"]), result)
        result = b.select(is_action(2, 8), b.select(none, nan, b.load(slots["min"])), result)
        result = b.select(is_action(3, 9), b.select(none, nan, b.load(slots["max"])), result)
        result = b.select(is_action(4, 10), b.fdiv(total, count), result)
        return b.select(b.fcmp_ordered("==", b.load(slots["chosen"]), zero), missing, result)

    def _random(self, node: Random, args) -> ir.Value:
        if self.random is None:
            raise AssertionError("random draws need a random source")
        element = self.flat(node.extents, tuple(Over(v) for v in node.vars)) if node.vars else i64(0)
        return self.random(node, args, element)

    def _each(self, node: Each, _) -> ir.Value:
        raise AssertionError("the parts of an array are emitted by their loop nests")

    # ------------------------------------------------------------------ handlers
    def _num(self, node: Num, _) -> ir.Value:
        return const(self.ty, node.value)

    def _ref(self, node: Ref, _) -> ir.Value:
        if node.index:
            return self.element(node.key, self.flat(self.shape(node.key), node.index))
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

    def _table_offset(self, node: Lookup | LookupInvert) -> ir.Value | None:
        if not node.index:
            return None
        return self.flat(self.shape(node.table), node.index)

    def _lookup(self, node: Lookup, args) -> ir.Value:
        fn = self.builtins.lookup_function()
        mode = i64(LOOKUP_MODE_CODES[node.mode])
        offset = self._table_offset(node)

        def one(b, lane, x):
            xs, ys, n = self.table(node.table, lane, offset)
            return b.call(fn, [x, xs, ys, n, mode])

        points = None if self.shared_tables is None else self.shared_tables.get(node.table)
        if points is None:
            return map_lanes(self.b, self.ty, one, args[0])
        xs, ys, _ = self.table(node.table, 0, offset)
        return self.builtins.lookup_shared(self.b, args[0], xs, ys, points, node.mode)

    def _lookup_invert(self, node: LookupInvert, args) -> ir.Value:
        fn = self.builtins.lookup_invert_function()
        offset = self._table_offset(node)

        def one(b, lane, y):
            xs, ys, n = self.table(node.table, lane, offset)
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
    LoopValue: ExprEmitter._loop_value,
    Reduce: ExprEmitter._reduce,
    Random: ExprEmitter._random,
    Each: ExprEmitter._each,
}
