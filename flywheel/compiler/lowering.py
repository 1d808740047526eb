"""Lower PySD's abstract model into the IR of ``ir.py``: expression trees over flat nodes.

The abstract model is read, never modified. Stateful builtins (SMOOTH, DELAY, TREND ...) become hidden
nodes; macros are expanded inline, one copy per call site; anything we cannot compile raises
``UnsupportedConstructError`` naming the construct, the variable and the file. Dispatch is by table:
abstract-structure type -> lowering method (``_HANDLERS``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UnsupportedConstructError
from .ir import (
    BUILTINS,
    CONTROL_NAMES,
    TIME_BUILTINS,
    Aux,
    Binary,
    Call,
    Chain,
    Compare,
    Control,
    DelayFixed,
    If,
    Incomplete,
    InitialValue,
    Logic,
    Lookup,
    LookupInvert,
    Neg,
    Node,
    Not,
    Num,
    Phase,
    Program,
    Ref,
    SampleIfTrue,
    Stock,
    Table,
    Time,
    TimeCall,
)
from .names import clean_reference, loose_reference, make_key

CONTROL_REFS = {clean_reference(v): k for k, v in CONTROL_NAMES.items()}

_LOOKUP_TYPES = {
    "interpolate": "interpolate",
    "extrapolate": "extrapolate",
    "hold_backward": "backward",
    "look_forward": "forward",
}
_LOOKUP_CALLS = {"lookup_extrapolate": "extrapolate", "lookup_forward": "forward", "lookup_backward": "backward"}
_ARITHMETIC = {"+", "-", "*", "/", "^"}
_COMPARISON = {"=", "<>", "<", "<=", ">", ">="}
_UNSUPPORTED_STRUCTURES = {
    ae.DataStructure: "data variables",
    ae.GetLookupsStructure: "GET LOOKUPS",
    ae.GetDataStructure: "GET DATA",
    ae.GetConstantsStructure: "GET CONSTANTS",
    ae.AllocateAvailableStructure: "ALLOCATE AVAILABLE",
    ae.AllocateByPriorityStructure: "ALLOCATE BY PRIORITY",
}


@dataclasses.dataclass
class ElementInfo:
    """Metadata of one model element, for the model's variable table."""

    name: str
    key: str
    kind: str
    units: str
    documentation: str
    limits: tuple[float | None, float | None]
    equation: str


class _Scope:
    """Names visible in one section (the main model, or one expansion of a macro)."""

    def __init__(self, parent_bindings: dict[str, str] | None = None):
        self.refs: dict[str, str] = dict(parent_bindings or {})
        self.loose: dict[str, str] = {loose_reference(k): v for k, v in self.refs.items()}

    def add(self, ref: str, key: str) -> None:
        self.refs[ref] = key
        self.loose.setdefault(loose_reference(ref), key)

    def resolve(self, ref: str) -> str | None:
        return self.refs.get(ref) or self.loose.get(loose_reference(ref))


class Lowerer:
    """Walks the abstract model once and fills a Program."""

    def __init__(self, model: am.AbstractModel, path: Path):
        self.path = path
        self.program = Program()
        self.elements: list[ElementInfo] = []
        self.tables: dict[str, Table] = {}
        self._counter = 0
        self._element_name = "?"
        sections = list(model.sections)
        mains = [s for s in sections if s.type == "main"]
        if len(mains) != 1:
            raise ModelError(f"{path}: expected one main model section, found {len(mains)}")
        self.main = mains[0]
        self.macros = {clean_reference(s.name): s for s in sections if s.type == "macro"}
        self._macro_depth = 0
        self._control_keys: dict[str, str] = {}  # key -> control name

    # ----------------------------------------------------------------- helpers
    def _new_key(self, hint: str, prefix: str = "h") -> str:
        self._counter += 1
        return make_key(self._counter, hint, prefix)

    def unsupported(self, construct: str) -> UnsupportedConstructError:
        return UnsupportedConstructError(
            f"{self.path.name}: variable '{self._element_name}' uses {construct}, which flywheel does not "
            "support yet (supported: non-subscripted Vensim/XMILE with the builtins listed in docs/api.md)"
        )

    def _arg_key(self, expr: Node, hint: str) -> str:
        """Give an argument expression its own hidden node, unless it already is a plain reference."""
        if isinstance(expr, Ref):
            return expr.key
        key = self._new_key(hint)
        self.program.auxes.append(Aux(key, expr))
        return key

    # ----------------------------------------------------------------- entry
    def run(self) -> Program:
        scope = _Scope()
        self._declare_section(self.main, scope, named=True)
        self._lower_section(self.main, scope, named=True)
        missing = [n for n in ("initial_time", "final_time", "time_step") if n not in self.program.controls]
        if missing:
            names = ", ".join(CONTROL_NAMES[m] for m in missing)
            raise ModelError(f"{self.path.name}: the model does not define {names}")
        return self.program

    def _declare_section(self, section: am.AbstractSection, scope: _Scope, named: bool) -> None:
        """Give every element a key before lowering, so forward references resolve."""
        for element in section.elements:
            if not element.components:
                continue
            ref = clean_reference(element.name)
            key = self._new_key(element.name, "v")
            scope.add(ref, key)
            ast = element.components[0].ast
            if isinstance(ast, ae.LookupsStructure) and len(element.components) == 1:
                self._element_name = element.name
                self.tables[key] = self._table(ast, key, element.name if named else None)
            if named and ref in CONTROL_REFS:
                self.program.controls[CONTROL_REFS[ref]] = key
                self._control_keys[key] = CONTROL_REFS[ref]

    def _lower_section(self, section: am.AbstractSection, scope: _Scope, named: bool) -> None:
        for element in section.elements:
            if not element.components:
                continue
            self._element_name = element.name
            key = scope.resolve(clean_reference(element.name))
            if len(element.components) > 1 or any(
                c.subscripts and (c.subscripts[0] or c.subscripts[1]) for c in element.components
            ):
                raise self.unsupported("subscripts")
            component = element.components[0]
            kind = self._lower_element(component, key, element.name if named else None, scope)
            if named:
                self.elements.append(
                    ElementInfo(
                        name=element.name,
                        key=key,
                        kind=kind,
                        units=element.units or "",
                        documentation=(element.documentation or "").strip(),
                        limits=_limits(element.limits),
                        equation=render(component.ast),
                    )
                )

    def _lower_element(self, component, key: str, name: str | None, scope: _Scope) -> str:
        ast = component.ast
        if isinstance(component, am.AbstractData) or component.type == "Data":
            raise self.unsupported("data variables")
        if isinstance(ast, ae.LookupsStructure):
            return "lookup"  # the table was made when the section was declared
        if isinstance(ast, ae.IntegStructure):
            flow = self.lower(ast.flow, scope)
            initial = self.lower(ast.initial, scope)
            self.program.stocks.append(Stock(key, flow, initial, name, bool(ast.non_negative)))
            return "stock"
        if isinstance(ast, ae.GameStructure) and name is not None:
            # GAME(x): x outside gaming mode (as Vensim); the variable is a decision a player may hold
            self.program.decisions.append(key)
            expr = self.lower(ast.expression, scope)
        else:
            expr = self.lower(ast, scope)
        if isinstance(expr, Incomplete) and name is not None:
            self.program.incomplete.append(key)
        unchangeable = isinstance(component, am.AbstractUnchangeableConstant)
        self.program.auxes.append(Aux(key, expr, name, overridable=name is not None and not unchangeable))
        ref = clean_reference(name) if name else ""
        return "control" if ref in CONTROL_REFS else "auxiliary"

    def _table(self, ast: ae.LookupsStructure, key: str, name: str | None) -> Table:
        xs = tuple(float(v) for v in np.asarray(ast.x, dtype=float).ravel())
        ys = tuple(float(v) for v in np.asarray(ast.y, dtype=float).ravel())
        if len(xs) != len(ys) or not xs:
            raise ModelError(f"{self.path.name}: lookup '{self._element_name}' has {len(xs)} x and {len(ys)} y")
        if any(b < a for a, b in zip(xs, xs[1:], strict=False)):
            raise ModelError(f"{self.path.name}: lookup '{self._element_name}' has x values that decrease")
        mode = _LOOKUP_TYPES.get(getattr(ast, "type", "interpolate") or "interpolate")
        if mode is None:
            raise self.unsupported(f"lookup type '{ast.type}'")
        table = Table(key, xs, ys, mode, name)
        self.program.tables.append(table)
        return table

    # ----------------------------------------------------------------- expressions
    def lower(self, node, scope: _Scope) -> Node:
        if isinstance(node, bool):
            return Num(1.0 if node else 0.0)
        if isinstance(node, (int, float, np.number)):
            return Num(float(node))
        for structure, construct in _UNSUPPORTED_STRUCTURES.items():
            if isinstance(node, structure):
                raise self.unsupported(construct)
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.unsupported(f"the expression {type(node).__name__}")
        return handler(self, node, scope)

    def _reference(self, node: ae.ReferenceStructure, scope: _Scope) -> Node:
        if node.subscripts:
            raise self.unsupported("subscripts")
        ref = node.reference
        if ref == "time":
            return Time()
        key = scope.resolve(ref)
        if key is None:
            raise ModelError(f"{self.path.name}: variable '{self._element_name}' refers to an undefined name")
        if key in self.tables:
            raise self.unsupported("a lookup used as a value (call it with an argument)")
        if key in self._control_keys:
            return Control(self._control_keys[key])
        return Ref(key)

    def _arithmetic(self, node: ae.ArithmeticStructure, scope: _Scope) -> Node:
        ops = list(node.operators)
        if len(node.arguments) == 1:
            arg = self.lower(node.arguments[0], scope)
            return Neg(arg) if ops and ops[0] in ("negative", "-") else arg
        for op in ops:
            if op not in _ARITHMETIC:
                raise self.unsupported(f"the operator '{op}'")
        args = [self.lower(a, scope) for a in node.arguments]
        if all(op == "^" for op in ops):
            return _power_chain(args)
        if "^" in ops:
            raise self.unsupported("'^' mixed with other operators at one level")
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):  # PySD's Python: left to right
            result = Binary(op, result, arg)
        return result

    def _logic(self, node: ae.LogicStructure, scope: _Scope) -> Node:
        args = [self.lower(a, scope) for a in node.arguments]
        ops = [op.lower() for op in node.operators]
        if len(args) == 1:
            if ops[0] != ":not:":
                raise self.unsupported(f"the operator '{node.operators[0]}'")
            return Not(args[0])
        if len(ops) == 1 and ops[0] in _COMPARISON:
            return Compare(ops[0], args[0], args[1])
        if all(op in (":and:", ":or:") for op in ops):
            result = args[-1]  # PySD nests these right to left
            for op, arg in zip(reversed(ops), reversed(args[:-1]), strict=True):
                result = Logic("and" if op == ":and:" else "or", arg, result)
            return result
        raise self.unsupported(f"the operators {node.operators}")

    def _call(self, node: ae.CallStructure, scope: _Scope) -> Node:
        name = node.function.reference
        raw_args = list(node.arguments)
        if name in self.macros:
            return self._macro(name, raw_args, scope)
        key = scope.resolve(name)
        if key is not None and key in self.tables:
            if len(raw_args) != 1:
                raise self.unsupported(f"a lookup call with {len(raw_args)} arguments")
            table = self.tables[key]
            return Lookup(table.key, self.lower(raw_args[0], scope), table.mode)
        if name in _LOOKUP_CALLS or name == "lookup_invert":
            first = raw_args[0] if raw_args else None
            table_key = scope.resolve(first.reference) if isinstance(first, ae.ReferenceStructure) else None
            if table_key not in self.tables or len(raw_args) != 2:
                raise self.unsupported(f"{name.upper().replace('_', ' ')} without a named lookup")
            arg = self.lower(raw_args[1], scope)
            if name == "lookup_invert":
                return LookupInvert(table_key, arg)
            return Lookup(table_key, arg, _LOOKUP_CALLS[name])
        if name == "if_then_else":
            cond, then, other = self._lower_args(name, raw_args, (3,), scope)
            return If(cond, then, other)
        if name == "active_initial":
            run, init = self._lower_args(name, raw_args, (2,), scope)
            return Phase(run, init)
        if name == "a_function_of":
            return Incomplete(tuple(self.lower(a, scope) for a in raw_args))
        if name in BUILTINS:
            return Call(name, tuple(self._lower_args(name, raw_args, BUILTINS[name], scope)))
        if name in TIME_BUILTINS:
            return TimeCall(name, tuple(self._lower_args(name, raw_args, TIME_BUILTINS[name], scope)))
        raise self.unsupported(f"the function {name.upper().replace('_', ' ')}")

    def _lower_args(self, name: str, raw_args: list, counts: tuple[int, ...], scope: _Scope) -> list[Node]:
        if len(raw_args) not in counts:
            raise self.unsupported(f"{name.upper()} with {len(raw_args)} arguments")
        return [self.lower(a, scope) for a in raw_args]

    def _game(self, node: ae.GameStructure, scope: _Scope) -> Node:
        raise self.unsupported("GAME inside a larger expression (write the decision as its own variable: "
                               "Decision = GAME(x))")

    def _inline_lookup(self, node: ae.InlineLookupsStructure, scope: _Scope) -> Node:
        arg = self.lower(node.argument, scope)
        table = self._table(node.lookups, self._new_key("table", "t"), None)
        self.tables[table.key] = table
        return Lookup(table.key, arg, table.mode)

    # ----------------------------------------------------------------- stateful builtins
    def _integ(self, node: ae.IntegStructure, scope: _Scope) -> Node:
        key = self._new_key("integ")
        flow = self.lower(node.flow, scope)
        initial = self.lower(node.initial, scope)
        self.program.stocks.append(Stock(key, flow, initial, None, bool(node.non_negative)))
        return Ref(key)

    def _chain(self, kind: str, node, scope: _Scope, time_field: str) -> Node:
        order = node.order
        if not isinstance(order, (int, float, np.number)):
            order = self._static_number(order, scope, f"the order of {kind.upper()} N")
        if order != int(order) or order < 1:
            raise ModelError(f"{self.path.name}: variable '{self._element_name}': order {order} must be a whole number >= 1")
        key = self._new_key(kind)
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        time_key = self._arg_key(self.lower(getattr(node, time_field), scope), "time")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        self.program.chains.append(Chain(key, kind, input_key, time_key, init_key, int(order)))
        return Ref(key)

    def _smooth(self, node, scope: _Scope) -> Node:
        return self._chain("smooth", node, scope, "smooth_time")

    def _delay(self, node: ae.DelayStructure, scope: _Scope) -> Node:
        return self._chain("delay", node, scope, "delay_time")

    def _delay_n(self, node: ae.DelayNStructure, scope: _Scope) -> Node:
        return self._chain("delayn", node, scope, "delay_time")

    def _delay_fixed(self, node: ae.DelayFixedStructure, scope: _Scope) -> Node:
        key = self._new_key("delay_fixed")
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        time_key = self._arg_key(self.lower(node.delay_time, scope), "time")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        self.program.delay_fixed.append(DelayFixed(key, input_key, time_key, init_key))
        return Ref(key)

    def _sample_if_true(self, node: ae.SampleIfTrueStructure, scope: _Scope) -> Node:
        key = self._new_key("sample")
        cond = self._arg_key(self.lower(node.condition, scope), "cond")
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        self.program.samples.append(SampleIfTrue(key, cond, input_key, init_key))
        return Ref(key)

    def _initial(self, node: ae.InitialStructure, scope: _Scope) -> Node:
        key = self._new_key("initial")
        self.program.initials.append(InitialValue(key, self.lower(node.initial, scope)))
        return Ref(key)

    def _trend(self, node: ae.TrendStructure, scope: _Scope) -> Node:
        inp = Ref(self._arg_key(self.lower(node.input, scope), "input"))
        avg = Ref(self._arg_key(self.lower(node.average_time, scope), "average"))
        trend0 = Ref(self._arg_key(self.lower(node.initial_trend, scope), "trend0"))
        state = Ref(self._new_key("trend_state"))
        flow = Binary("/", Binary("-", inp, state), avg)
        init = Binary("/", inp, Binary("+", Num(1.0), Binary("*", trend0, avg)))
        self.program.stocks.append(Stock(state.key, flow, init))
        return Call("zidz", (Binary("-", inp, state), Binary("*", avg, Call("abs", (state,)))))

    def _forecast(self, node: ae.ForecastStructure, scope: _Scope) -> Node:
        inp = Ref(self._arg_key(self.lower(node.input, scope), "input"))
        avg = Ref(self._arg_key(self.lower(node.average_time, scope), "average"))
        horizon = Ref(self._arg_key(self.lower(node.horizon, scope), "horizon"))
        trend0 = Ref(self._arg_key(self.lower(node.initial_trend, scope), "trend0"))
        state = Ref(self._new_key("forecast_state"))
        flow = Binary("/", Binary("-", inp, state), avg)
        init = Binary("/", inp, Binary("+", Num(1.0), trend0))
        self.program.stocks.append(Stock(state.key, flow, init))
        change = Call("zidz", (Binary("-", inp, state), Binary("*", avg, state)))
        return Binary("*", inp, Binary("+", Num(1.0), Binary("*", change, horizon)))

    def _static_number(self, node, scope: _Scope, what: str, depth: int = 0) -> float:
        """Evaluate a structural argument (an order) that must be known when compiling."""
        if isinstance(node, (int, float, np.number)):
            return float(node)
        if depth < 20 and isinstance(node, ae.ReferenceStructure) and not node.subscripts:
            for element in self.main.elements:
                if clean_reference(element.name) == node.reference and len(element.components) == 1 \
                        and node.reference != "time":
                    return self._static_number(element.components[0].ast, scope, what, depth + 1)
        if isinstance(node, ae.ReferenceStructure) and node.reference == "time":
            return self._static_control("initial_time", scope, what, depth)
        if depth < 20 and isinstance(node, ae.CallStructure) and node.function.reference == "step":
            # PySD fixes a chain's order at initialisation: evaluate STEP at the initial time
            value, start = (self._static_number(x, scope, what, depth + 1) for x in node.arguments)
            t0 = self._static_control("initial_time", scope, what, depth)
            dt = self._static_control("time_step", scope, what, depth)
            return value if t0 + dt / 2 > start else 0.0
        if depth < 20 and isinstance(node, ae.ArithmeticStructure) and len(node.arguments) == 2:
            a, b = (self._static_number(x, scope, what, depth + 1) for x in node.arguments)
            ops = {"+": a + b, "-": a - b, "*": a * b}
            if node.operators[0] in ops:
                return ops[node.operators[0]]
        raise self.unsupported(f"{what} given by an expression that is not a constant")

    def _static_control(self, control: str, scope: _Scope, what: str, depth: int) -> float:
        ref = clean_reference(CONTROL_NAMES[control])
        node = ae.ReferenceStructure(ref, None)
        return self._static_number(node, scope, what, depth + 1)

    # ----------------------------------------------------------------- macros
    def _macro(self, name: str, raw_args: list, scope: _Scope) -> Node:
        macro = self.macros[name]
        if len(raw_args) != len(macro.params):
            raise self.unsupported(f"macro {macro.name} called with {len(raw_args)} arguments")
        if self._macro_depth > 20:
            raise self.unsupported(f"macro {macro.name} calling itself")
        bindings = {}
        for param, arg in zip(macro.params, raw_args, strict=True):
            bindings[clean_reference(param)] = self._arg_key(self.lower(arg, scope), f"{macro.name}_{param}")
        inner = _Scope(bindings)
        # macros may call other macros and refer to the main model's control variables
        for control, key in self.program.controls.items():
            inner.add(clean_reference(CONTROL_NAMES[control]), key)
        outer_name = self._element_name
        self._macro_depth += 1
        self._declare_section(macro, inner, named=False)
        self._lower_section(macro, inner, named=False)
        self._macro_depth -= 1
        self._element_name = outer_name
        result = inner.resolve(clean_reference(macro.name))
        if result is None:
            raise self.unsupported(f"macro {macro.name} without an output named like the macro")
        return Ref(result)


def _power_chain(args: list[Node]) -> Node:
    """``a ^ b ^ c`` as PySD writes it in Python (``a**b**c``): right to left, and a negative literal
    operand ``-k`` binds like Python's unary minus, ``-(k ** rest)``."""
    result = args[-1]
    for base in reversed(args[:-1]):
        if isinstance(base, Num) and base.value < 0:
            result = Neg(Binary("^", Num(-base.value), result))
        else:
            result = Binary("^", base, result)
    return result


def _limits(limits) -> tuple[float | None, float | None]:
    out = []
    for value in (tuple(limits) + (None, None))[:2]:
        out.append(None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value))
    return out[0], out[1]


def render(node) -> str:
    """A readable one-line rendering of an abstract expression, for display (never executed)."""
    if isinstance(node, (int, float, np.number)):
        return repr(float(node))
    if isinstance(node, ae.ReferenceStructure):
        return node.reference
    if isinstance(node, ae.ArithmeticStructure):
        args = [render(a) for a in node.arguments]
        if len(args) == 1:
            return f"-{args[0]}" if node.operators and node.operators[0] in ("negative", "-") else args[0]
        text = args[0]
        for op, arg in zip(node.operators, args[1:], strict=False):
            text += f" {op} {arg}"
        return f"({text})"
    if isinstance(node, ae.LogicStructure):
        args = [render(a) for a in node.arguments]
        if len(args) == 1:
            return f"{node.operators[0]} {args[0]}"
        text = args[0]
        for op, arg in zip(node.operators, args[1:], strict=False):
            text += f" {op} {arg}"
        return f"({text})"
    if isinstance(node, ae.CallStructure):
        return f"{node.function.reference.upper()}({', '.join(render(a) for a in node.arguments)})"
    if isinstance(node, ae.LookupsStructure):
        return "lookup(" + ", ".join(f"({x:g},{y:g})" for x, y in zip(node.x, node.y, strict=False)) + ")"
    if dataclasses.is_dataclass(node):
        label = type(node).__name__.replace("Structure", "").upper()
        fields = [render(getattr(node, f.name)) for f in dataclasses.fields(node)]
        return f"{label}({', '.join(fields)})"
    return str(node)


_HANDLERS: dict[type, Callable] = {
    ae.ReferenceStructure: Lowerer._reference,
    ae.ArithmeticStructure: Lowerer._arithmetic,
    ae.LogicStructure: Lowerer._logic,
    ae.CallStructure: Lowerer._call,
    ae.InlineLookupsStructure: Lowerer._inline_lookup,
    ae.GameStructure: Lowerer._game,
    ae.IntegStructure: Lowerer._integ,
    ae.SmoothStructure: Lowerer._smooth,
    ae.SmoothNStructure: Lowerer._smooth,
    ae.DelayStructure: Lowerer._delay,
    ae.DelayNStructure: Lowerer._delay_n,
    ae.DelayFixedStructure: Lowerer._delay_fixed,
    ae.SampleIfTrueStructure: Lowerer._sample_if_true,
    ae.InitialStructure: Lowerer._initial,
    ae.TrendStructure: Lowerer._trend,
    ae.ForecastStructure: Lowerer._forecast,
}
