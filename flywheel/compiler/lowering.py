"""Lower PySD's abstract model into the flat IR of ``ir.py``.

The abstract model is read, never modified. Stateful builtins (SMOOTH, DELAY, TREND ...) become hidden
nodes; macros are expanded inline, one copy per call site; anything we cannot compile raises
``UnsupportedConstructError`` naming the construct, the variable and the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UnsupportedConstructError
from . import runtime as rt
from .ir import (
    CONTROL_ARGS,
    CONTROL_NAMES,
    Aux,
    Chain,
    DelayFixed,
    Expr,
    InitialValue,
    Program,
    SampleIfTrue,
    Stock,
    Table,
    literal,
)
from .names import clean_reference, loose_reference, make_key

_NUMBER = re.compile(r"-?\d+(\.\d*)?(e[-+]?\d+)?")
CONTROL_REFS = {clean_reference(v): k for k, v in CONTROL_NAMES.items()}

_LOOKUP_MODES = {
    "interpolate": rt.LOOKUP_INTERPOLATE,
    "extrapolate": rt.LOOKUP_EXTRAPOLATE,
    "hold_backward": rt.LOOKUP_BACKWARD,
    "look_forward": rt.LOOKUP_FORWARD,
}
_LOOKUP_CALLS = {
    "lookup_extrapolate": rt.LOOKUP_EXTRAPOLATE,
    "lookup_forward": rt.LOOKUP_FORWARD,
    "lookup_backward": rt.LOOKUP_BACKWARD,
}

# function name -> (number of arguments accepted, code template); arguments are substituted positionally
_FUNCTIONS: dict[str, tuple[tuple[int, ...], str]] = {
    "abs": ((1,), "abs({0})"),
    "exp": ((1,), "np.exp({0})"),
    "sqrt": ((1,), "np.sqrt({0})"),
    "ln": ((1,), "np.log({0})"),
    "log": ((2,), "(np.log({0})/np.log({1}))"),
    "sin": ((1,), "np.sin({0})"),
    "cos": ((1,), "np.cos({0})"),
    "tan": ((1,), "np.tan({0})"),
    "arcsin": ((1,), "np.arcsin({0})"),
    "arccos": ((1,), "np.arccos({0})"),
    "arctan": ((1,), "np.arctan({0})"),
    "sinh": ((1,), "np.sinh({0})"),
    "cosh": ((1,), "np.cosh({0})"),
    "tanh": ((1,), "np.tanh({0})"),
    "power": ((2,), "(({0}) ** ({1}))"),
    "min": ((2,), "rt.if_nan_min({0}, {1})"),
    "max": ((2,), "rt.if_nan_max({0}, {1})"),
    "integer": ((1,), "rt.integer({0})"),
    "modulo": ((2,), "rt.modulo({0}, {1})"),
    "quantum": ((2,), "rt.quantum({0}, {1})"),
    "zidz": ((2,), "rt.zidz({0}, {1})"),
    "xidz": ((3,), "rt.xidz({0}, {1}, {2})"),
    "pi": ((0,), "np.pi"),
}
_TIME_FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[[list[str]], str]]] = {
    "step": ((2,), lambda a: f"rt.step(time, dt, {a[0]}, {a[1]})"),
    "ramp": ((2, 3), lambda a: f"rt.ramp(time, {a[0]}, {a[1]}, {a[2] if len(a) > 2 else '0.0'}, {len(a) > 2})"),
    "Xramp": ((2,), lambda a: f"rt.ramp(time, {a[0]}, {a[1]}, 0.0, False)"),
    "pulse": ((2,), lambda a: f"rt.pulse(time, dt, {a[0]}, 0.0, {a[1]}, True, 0.0, False, 0.0, False)"),
    "pulse_train": (
        (4,),
        lambda a: f"rt.pulse(time, dt, {a[0]}, {a[1]}, {a[2]}, True, 0.0, False, {a[3]}, True)",
    ),
    "Xpulse": ((2,), lambda a: f"rt.pulse(time, dt, {a[0]}, 0.0, 0.0, False, {a[1]}, True, 0.0, False)"),
    "Xpulse_train": (
        (3,),
        lambda a: f"rt.pulse(time, dt, {a[0]}, {a[1]}, 0.0, False, {a[2]}, True, 0.0, False)",
    ),
}
_ARITHMETIC = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}
_COMPARISON = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_UNSUPPORTED_STRUCTURES = {
    ae.GameStructure: "GAME",
    ae.DataStructure: "data variables",
    ae.GetLookupsStructure: "GET LOOKUPS",
    ae.GetDataStructure: "GET DATA",
    ae.GetConstantsStructure: "GET CONSTANTS",
    ae.AllocateAvailableStructure: "ALLOCATE AVAILABLE",
    ae.AllocateByPriorityStructure: "ALLOCATE BY PRIORITY",
}


@dataclasses.dataclass
class ElementInfo:
    """Metadata of one model element, for ``Model.variables``."""

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

    # ----------------------------------------------------------------- helpers
    def _new_key(self, hint: str, prefix: str = "h") -> str:
        self._counter += 1
        return make_key(self._counter, hint, prefix)

    def unsupported(self, construct: str) -> UnsupportedConstructError:
        return UnsupportedConstructError(
            f"{self.path.name}: variable '{self._element_name}' uses {construct}, which flywheel does not "
            "support yet (supported: non-subscripted Vensim/XMILE with the builtins listed in docs/api.md)"
        )

    def _arg_key(self, expr: Expr, hint: str) -> str:
        """Give an argument expression its own hidden node, unless it already is a plain reference."""
        if expr.run == expr.init and len(expr.deps) == 1 and expr.run in expr.deps:
            return expr.run
        key = self._new_key(hint)
        self.program.auxes.append(Aux(key, expr))
        return key

    @staticmethod
    def _ref(key: str) -> Expr:
        return Expr(key, key, frozenset({key}), frozenset({key}))

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

    def _declare_section(self, section: am.AbstractSection, scope: _Scope, named: bool) -> dict:
        """Give every element a key before lowering, so forward references resolve."""
        keys = {}
        for element in section.elements:
            if not element.components:
                continue
            ref = clean_reference(element.name)
            key = self._new_key(element.name, "v")
            keys[element.name] = key
            scope.add(ref, key)
            ast = element.components[0].ast
            if isinstance(ast, ae.LookupsStructure) and len(element.components) == 1:
                self._element_name = element.name
                self.tables[key] = self._table(ast, key, element.name if named else None)
            if named and ref in CONTROL_REFS:
                self.program.controls[CONTROL_REFS[ref]] = key
        return keys

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
        expr = self.lower(ast, scope)
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
        mode = _LOOKUP_MODES.get(getattr(ast, "type", "interpolate") or "interpolate")
        if mode is None:
            raise self.unsupported(f"lookup type '{ast.type}'")
        table = Table(key, xs, ys, mode, name)
        self.program.tables.append(table)
        return table

    # ----------------------------------------------------------------- expressions
    def lower(self, node, scope: _Scope) -> Expr:
        if isinstance(node, bool):
            return Expr.const("1.0" if node else "0.0")
        if isinstance(node, (int, float, np.number)):
            return Expr.const(literal(node))
        for structure, construct in _UNSUPPORTED_STRUCTURES.items():
            if isinstance(node, structure):
                raise self.unsupported(construct)
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.unsupported(f"the expression {type(node).__name__}")
        return handler(self, node, scope)

    def _reference(self, node: ae.ReferenceStructure, scope: _Scope) -> Expr:
        if node.subscripts:
            raise self.unsupported("subscripts")
        ref = node.reference
        if ref == "time":
            return Expr("time", "time", frozenset(), frozenset(), uses_time=True)
        key = scope.resolve(ref)
        if key is None:
            raise ModelError(f"{self.path.name}: variable '{self._element_name}' refers to an undefined name")
        if key in self.tables:
            raise self.unsupported("a lookup used as a value (call it with an argument)")
        control = next((c for c, k in self.program.controls.items() if k == key), None)
        if control is not None:
            arg = CONTROL_ARGS[control]
            return Expr(arg, arg, frozenset(), frozenset())
        return self._ref(key)

    def _arithmetic(self, node: ae.ArithmeticStructure, scope: _Scope) -> Expr:
        args = [self.lower(a, scope) for a in node.arguments]
        ops = list(node.operators)
        if len(args) == 1:
            op = ops[0] if ops else "+"
            prefix = "-" if op in ("negative", "-") else ""
            return _combine(args, lambda a: f"({prefix}({a[0]}))")
        for op in ops:
            if op not in _ARITHMETIC:
                raise self.unsupported(f"the operator '{op}'")

        def join(a: list[str]) -> str:
            wrap = [x if _NUMBER.fullmatch(x) else f"({x})" for x in a]
            text = wrap[0]
            for op, arg in zip(ops, wrap[1:], strict=True):
                text += f" {_ARITHMETIC[op]} {arg}"
            return f"({text})"

        return _combine(args, join)

    def _logic(self, node: ae.LogicStructure, scope: _Scope) -> Expr:
        args = [self.lower(a, scope) for a in node.arguments]
        ops = list(node.operators)
        if len(args) == 1:
            if ops[0].lower() != ":not:":
                raise self.unsupported(f"the operator '{ops[0]}'")
            return _combine(args, lambda a: f"(1.0 if ({a[0]}) == 0.0 else 0.0)")
        lowered = [op.lower() for op in ops]
        if all(op in _COMPARISON for op in lowered) and len(ops) == 1:
            op = _COMPARISON[lowered[0]]
            return _combine(args, lambda a: f"(1.0 if ({a[0]}) {op} ({a[1]}) else 0.0)")
        if all(op in (":and:", ":or:") for op in lowered):

            def fold(a: list[str]) -> str:  # PySD nests these right to left
                text = f"(({a[-1]}) != 0.0)"
                for op, arg in zip(reversed(lowered), reversed(a[:-1]), strict=True):
                    joiner = "&" if op == ":and:" else "|"
                    text = f"((({arg}) != 0.0) {joiner} {text})"
                return f"(1.0 if {text} else 0.0)"

            return _combine(args, fold)
        raise self.unsupported(f"the operators {ops}")

    def _call(self, node: ae.CallStructure, scope: _Scope) -> Expr:
        name = node.function.reference
        raw_args = list(node.arguments)
        if name in self.macros:
            return self._macro(name, raw_args, scope)
        key = scope.resolve(name)
        if key is not None and key in self.tables:
            if len(raw_args) != 1:
                raise self.unsupported(f"a lookup call with {len(raw_args)} arguments")
            return self._lookup_call(self.tables[key], self.lower(raw_args[0], scope), None)
        if name in _LOOKUP_CALLS or name == "lookup_invert":
            table_key = (
                scope.resolve(raw_args[0].reference) if isinstance(raw_args[0], ae.ReferenceStructure) else None
            )
            if table_key not in self.tables or len(raw_args) != 2:
                raise self.unsupported(f"{name.upper()} without a named lookup")
            arg = self.lower(raw_args[1], scope)
            if name == "lookup_invert":
                table = self.tables[table_key]
                return _combine([arg], lambda a: f"rt.lookup_invert({a[0]}, lkx, lky, {table.key}_o, {table.key}_n)")
            return self._lookup_call(self.tables[table_key], arg, _LOOKUP_CALLS[name])
        if name == "if_then_else":
            args = self._lower_args(name, raw_args, (3,), scope)
            return _combine(args, lambda a: f"(({a[1]}) if ({a[0]}) else ({a[2]}))")
        if name == "active_initial":
            run, init = self._lower_args(name, raw_args, (2,), scope)
            return Expr(run.run, init.init, run.deps, init.init_deps, run.uses_time)
        if name in _FUNCTIONS:
            counts, template = _FUNCTIONS[name]
            args = self._lower_args(name, raw_args, counts, scope)
            return _combine(args, lambda a: template.format(*a))
        if name in _TIME_FUNCTIONS:
            counts, build = _TIME_FUNCTIONS[name]
            args = self._lower_args(name, raw_args, counts, scope)
            expr = _combine(args, build)
            return dataclasses.replace(expr, uses_time=True)
        label = "an equation with no formula (A FUNCTION OF)" if name == "a_function_of" else name.upper()
        raise self.unsupported(f"the function {label.replace('_', ' ')}")

    def _lower_args(self, name: str, raw_args: list, counts: tuple[int, ...], scope: _Scope) -> list[Expr]:
        if len(raw_args) not in counts:
            raise self.unsupported(f"{name.upper()} with {len(raw_args)} arguments")
        return [self.lower(a, scope) for a in raw_args]

    def _lookup_call(self, table: Table, arg: Expr, mode: int | None) -> Expr:
        mode = table.mode if mode is None else mode
        k = table.key
        return _combine([arg], lambda a: f"rt.lookup({a[0]}, lkx, lky, {k}_o, {k}_n, {mode})")

    def _inline_lookup(self, node: ae.InlineLookupsStructure, scope: _Scope) -> Expr:
        arg = self.lower(node.argument, scope)
        table = self._table(node.lookups, self._new_key("table", "t"), None)
        self.tables[table.key] = table
        return self._lookup_call(table, arg, None)

    # ----------------------------------------------------------------- stateful builtins
    def _integ(self, node: ae.IntegStructure, scope: _Scope) -> Expr:
        key = self._new_key("integ")
        flow = self.lower(node.flow, scope)
        initial = self.lower(node.initial, scope)
        self.program.stocks.append(Stock(key, flow, initial, None, bool(node.non_negative)))
        return self._ref(key)

    def _chain(self, kind: str, node, scope: _Scope, time_field: str) -> Expr:
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
        return self._ref(key)

    def _smooth(self, node, scope: _Scope) -> Expr:
        return self._chain("smooth", node, scope, "smooth_time")

    def _delay(self, node: ae.DelayStructure, scope: _Scope) -> Expr:
        return self._chain("delay", node, scope, "delay_time")

    def _delay_n(self, node: ae.DelayNStructure, scope: _Scope) -> Expr:
        return self._chain("delayn", node, scope, "delay_time")

    def _delay_fixed(self, node: ae.DelayFixedStructure, scope: _Scope) -> Expr:
        key = self._new_key("delay_fixed")
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        time_key = self._arg_key(self.lower(node.delay_time, scope), "time")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        self.program.delay_fixed.append(DelayFixed(key, input_key, time_key, init_key))
        return self._ref(key)

    def _sample_if_true(self, node: ae.SampleIfTrueStructure, scope: _Scope) -> Expr:
        key = self._new_key("sample")
        cond = self._arg_key(self.lower(node.condition, scope), "cond")
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        self.program.samples.append(SampleIfTrue(key, cond, input_key, init_key))
        return self._ref(key)

    def _initial(self, node: ae.InitialStructure, scope: _Scope) -> Expr:
        key = self._new_key("initial")
        self.program.initials.append(InitialValue(key, self.lower(node.initial, scope)))
        return self._ref(key)

    def _trend(self, node: ae.TrendStructure, scope: _Scope) -> Expr:
        inp = self._arg_key(self.lower(node.input, scope), "input")
        avg = self._arg_key(self.lower(node.average_time, scope), "average")
        trend0 = self._arg_key(self.lower(node.initial_trend, scope), "trend0")
        state = self._new_key("trend_state")
        flow = _combine([self._ref(inp), self._ref(state), self._ref(avg)], lambda a: f"(({a[0]} - {a[1]}) / {a[2]})")
        init = _combine([self._ref(inp), self._ref(trend0), self._ref(avg)], lambda a: f"({a[0]} / (1 + {a[1]} * {a[2]}))")
        self.program.stocks.append(Stock(state, flow, init))
        return _combine(
            [self._ref(inp), self._ref(state), self._ref(avg)],
            lambda a: f"rt.zidz({a[0]} - {a[1]}, {a[2]} * abs({a[1]}))",
        )

    def _forecast(self, node: ae.ForecastStructure, scope: _Scope) -> Expr:
        inp = self._arg_key(self.lower(node.input, scope), "input")
        avg = self._arg_key(self.lower(node.average_time, scope), "average")
        horizon = self._arg_key(self.lower(node.horizon, scope), "horizon")
        trend0 = self._arg_key(self.lower(node.initial_trend, scope), "trend0")
        state = self._new_key("forecast_state")
        flow = _combine([self._ref(inp), self._ref(state), self._ref(avg)], lambda a: f"(({a[0]} - {a[1]}) / {a[2]})")
        init = _combine([self._ref(inp), self._ref(trend0)], lambda a: f"({a[0]} / (1 + {a[1]}))")
        self.program.stocks.append(Stock(state, flow, init))
        return _combine(
            [self._ref(inp), self._ref(state), self._ref(avg), self._ref(horizon)],
            lambda a: f"({a[0]} * (1 + rt.zidz({a[0]} - {a[1]}, {a[2]} * {a[1]}) * {a[3]}))",
        )

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
    def _macro(self, name: str, raw_args: list, scope: _Scope) -> Expr:
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
        return self._ref(result)


def _combine(args: list[Expr], build: Callable[[list[str]], str]) -> Expr:
    """Apply a code template to both phases of the arguments, merging their dependencies."""
    return Expr(
        run=build([a.run for a in args]),
        init=build([a.init for a in args]),
        deps=frozenset().union(*(a.deps for a in args)),
        init_deps=frozenset().union(*(a.init_deps for a in args)),
        uses_time=any(a.uses_time for a in args),
    )


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
