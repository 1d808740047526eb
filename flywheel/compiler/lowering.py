"""Lower PySD's abstract model into the IR of ``ir.py``: expression trees over flat nodes.

The abstract model is read, never modified. Stateful builtins (SMOOTH, DELAY, TREND ...) become hidden
nodes; macros are expanded inline, one copy per call site; anything we cannot compile raises
``UnsupportedConstructError`` naming the construct, the variable and the file. Dispatch is by table:
abstract-structure type -> lowering method (``_HANDLERS``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UnsupportedConstructError
from .external import ExternalData
from .ir import (
    BUILTINS,
    CONTROL_NAMES,
    DISTRIBUTIONS,
    TIME_BUILTINS,
    At,
    Aux,
    Binary,
    Call,
    Chain,
    Compare,
    Control,
    DelayFixed,
    Dims,
    Each,
    If,
    Incomplete,
    InitialValue,
    Logic,
    Lookup,
    LookupInvert,
    Loop,
    LoopValue,
    Neg,
    Node,
    Not,
    Num,
    Over,
    Part,
    Phase,
    Program,
    Random,
    Reduce,
    Ref,
    SampleIfTrue,
    Stock,
    Table,
    Time,
    TimeCall,
    VectorOp,
    size_of,
    walk,
)
from .names import clean_reference, loose_reference, make_key
from .subscripts import Context, Domain, SubscriptSpace

CONTROL_REFS = {clean_reference(v): k for k, v in CONTROL_NAMES.items()}

_LOOKUP_TYPES = {
    "interpolate": "interpolate",
    "extrapolate": "extrapolate",
    "hold_backward": "backward",
    "look_forward": "forward",
}
_DATA_MODES = {None: "interpolate", "interpolate": "interpolate", "raw": "raw", "hold_backward": "backward",
               "look_forward": "forward"}  # fmt: skip
_LOOKUP_CALLS = {"lookup_extrapolate": "extrapolate", "lookup_forward": "forward", "lookup_backward": "backward"}
_ARITHMETIC = {"+", "-", "*", "/", "^"}
_COMPARISON = {"=", "<>", "<", "<=", ">", ">="}
_UNSUPPORTED_STRUCTURES = {
    ae.DataStructure: "a data variable without a GET DATA source (PySD reads those from run-time data files)",
    ae.GetLookupsStructure: "GET LOOKUPS inside an expression",
    ae.GetDataStructure: "GET DATA inside an expression",
    ae.GetConstantsStructure: "GET CONSTANTS inside an expression",
    ae.AllocateAvailableStructure: "ALLOCATE AVAILABLE",
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

    def __init__(self, model: am.AbstractModel, path: Path, data_paths=None):
        self.path = path
        self.external = ExternalData(path, data_paths)
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
        self.subs = SubscriptSpace(self.main.subscripts, path, path.name, self.external)
        self.dims: dict[str, Dims] = {}  # named arrays: key -> subscript ranges
        self._names: dict[str, str] = {}  # key -> the model's name (for messages)
        # the loop variables of the equation being lowered: names bound, and (variable, extent) in order
        self.context: Context = {}
        self.bound: list[tuple[int, int]] = []
        self._next_var = 0
        self._sites = 0  # random call sites, numbered in model order (part of each draw's key)

    # ----------------------------------------------------------------- helpers
    def _new_key(self, hint: str, prefix: str = "h") -> str:
        self._counter += 1
        return make_key(self._counter, hint, prefix)

    def unsupported(self, construct: str) -> UnsupportedConstructError:
        return UnsupportedConstructError(
            f"{self.path.name}: variable '{self._element_name}' uses {construct}, which flywheel does not "
            "support yet (supported: the constructs listed in docs/api.md)"
        )

    def _arg_key(self, expr: Node, hint: str) -> str:
        """Give an argument expression its own hidden node, unless it already is a plain reference.

        Inside a subscripted equation, an argument that varies with the loop variables becomes a hidden
        array over all of them (the equation's domain); the caller reads it with ``self._domain_index()``."""
        if isinstance(expr, Ref) and not expr.index:
            return expr.key
        if not free_vars(expr):
            key = self._new_key(hint)
            self.program.auxes.append(Aux(key, expr))
            return key
        shape, index = self._domain_shape(), self._domain_index()
        if isinstance(expr, Ref) and expr.index == index and self.program.shape_of(expr.key) == shape:
            return expr.key
        key = self._new_key(hint)
        self.program.auxes.append(Aux(key, Each((expr,)), shape=shape, parts=self._domain_parts(expr)))
        return key

    # ----------------------------------------------------------------- loop variables
    @contextmanager
    def _inside(self, domain: Domain) -> Iterator[None]:
        """Lower one component's equation with its loop variables bound."""
        saved = (self.context, self.bound, self._next_var)
        self.context = dict(domain.context)
        self.bound = [(var, len(elements)) for var, elements, _ in domain.loops]
        self._next_var = len(domain.loops)
        try:
            yield
        finally:
            self.context, self.bound, self._next_var = saved

    @contextmanager
    def _binding(self, names: list[str]) -> Iterator[tuple[tuple[int, int], ...]]:
        """Bind ``range!`` names to fresh loop variables (a vector function's reduced dimensions)."""
        saved = (dict(self.context), list(self.bound))
        loops = []
        for name in names:
            elements = self.subs.range_elements(name)
            var = self._next_var
            self._next_var += 1
            self.context[name] = (var, elements)
            self.bound.append((var, len(elements)))
            loops.append((var, len(elements)))
        try:
            yield tuple(loops)
        finally:
            self.context, self.bound = saved

    def _domain_shape(self) -> tuple[int, ...]:
        return tuple(extent for _, extent in self.bound)

    def _domain_index(self) -> tuple[Over, ...]:
        return tuple(Over(var) for var, _ in self.bound)

    def _domain_parts(self, expr: Node, initial: Node | None = None) -> tuple[Part, ...]:
        loops = tuple(Loop(var, tuple(range(extent))) for var, extent in self.bound)
        return (Part(loops, expr, initial),)

    def _hidden_ref(self, key: str, shape: tuple[int, ...]) -> Ref:
        """A reference to a hidden node made in this equation: its value at the current loop position."""
        return Ref(key, self._domain_index()) if shape else Ref(key)

    def _hidden_shape(self, *keys: str) -> tuple[int, ...]:
        """A hidden stateful node is an array over the domain if any of its arguments is."""
        return self._domain_shape() if any(self.program.shape_of(k) for k in keys) else ()

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
            self._names[key] = element.name
            if named:
                self.program.names[key] = element.name
            self._element_name = element.name
            dims = self.subs.dims_of(element.components, element.name)
            if dims is not None:
                self.dims[key] = dims
                if named:
                    self.program.dims[key] = dims
            ast = element.components[0].ast
            lookups = all(isinstance(c.ast, _TABLE_STRUCTURES) for c in element.components)
            if lookups and dims is not None:
                self._table_array(element, key, dims, element.name if named else None)
            elif isinstance(ast, ae.LookupsStructure) and len(element.components) == 1:
                self.tables[key] = self._table(ast, key, element.name if named else None)
            elif isinstance(ast, ae.GetLookupsStructure) and len(element.components) == 1:
                xs, ys = self.external.lookups(ast, {}, element.name)
                self.tables[key] = self._make_table(key, xs, ys, "interpolate", element.name if named else None)
            if named and ref in CONTROL_REFS:
                self.program.controls[CONTROL_REFS[ref]] = key
                self._control_keys[key] = CONTROL_REFS[ref]

    def _lower_section(self, section: am.AbstractSection, scope: _Scope, named: bool) -> None:
        for element in section.elements:
            if not element.components:
                continue
            self._element_name = element.name
            key = scope.resolve(clean_reference(element.name))
            component = element.components[0]
            if key in self.dims:
                kind = self._lower_array(element, key, self.dims[key], element.name if named else None, scope)
            else:
                if len(element.components) > 1:
                    raise self.unsupported("several equations for one variable without subscripts")
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
        if isinstance(ast, _TABLE_STRUCTURES):
            return "lookup"  # the table was made when the section was declared
        if isinstance(ast, (ae.GetConstantsStructure, ae.GetDataStructure, ae.DataStructure)):
            expr = self._external_value(component, ast, None)
            self.program.auxes.append(Aux(key, expr, name, overridable=name is not None))
            return "auxiliary"
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

    def _lower_array(self, element, key: str, dims: Dims, name: str | None, scope: _Scope) -> str:
        """A subscripted variable: one part (loop nest) per component, in the order they are written."""
        asts = [c.ast for c in element.components]
        if key in self.program.table_arrays:
            return "lookup"
        integ = [isinstance(a, ae.IntegStructure) for a in asts]
        if any(integ) and not all(integ):
            raise self.unsupported("INTEG for some elements and other equations for others")
        parts = []
        for component in element.components:
            domain = self.subs.domain(component, dims, element.name)
            loops = tuple(Loop(var, positions) for var, _, positions in domain.loops)
            with self._inside(domain):
                ast = component.ast
                if isinstance(ast, ae.IntegStructure):
                    parts.append(Part(loops, self.lower(ast.flow, scope), self.lower(ast.initial, scope), domain.skip))
                    continue
                if isinstance(ast, ae.GameStructure):
                    ast = ast.expression
                parts.append(Part(loops, self._component_value(ast, domain, scope, component), None, domain.skip))
        shape = dims.shape
        if all(integ):
            non_negative = any(bool(a.non_negative) for a in asts)
            flows, initials = Each(tuple(p.expr for p in parts)), Each(tuple(p.initial for p in parts))
            self.program.stocks.append(Stock(key, flows, initials, name, non_negative, shape, tuple(parts)))
            return "stock"
        expr = Each(tuple(p.expr for p in parts))
        if name is not None and any(isinstance(p.expr, Incomplete) for p in parts):
            self.program.incomplete.append(key)
        unchangeable = all(isinstance(c, am.AbstractUnchangeableConstant) for c in element.components)
        overridable = name is not None and not unchangeable
        self.program.auxes.append(Aux(key, expr, name, overridable, shape, tuple(parts)))
        return "auxiliary"

    def _component_value(self, ast, domain: Domain, scope: _Scope, component=None) -> Node:
        """The expression of one component: an array of numbers is a table over its loop variables."""
        if isinstance(ast, (ae.GetConstantsStructure, ae.GetDataStructure, ae.DataStructure)):
            return self._external_value(component, ast, domain)
        if isinstance(ast, np.ndarray):
            extents = tuple(len(elements) for _, elements, _ in domain.loops)
            values = np.asarray(ast, dtype=float)
            if values.size != size_of(extents):
                raise ModelError(
                    f"{self.path.name}: variable '{self._element_name}' has {values.size} numbers for "
                    f"{size_of(extents)} elements"
                )
            numbers = tuple(float(v) for v in values.reshape(extents).ravel())
            return LoopValue(tuple(var for var, _, _ in domain.loops), extents, numbers)
        return self.lower(ast, scope)

    def _table_array(self, element, key: str, dims: Dims, name: str | None) -> None:
        """An array of lookups: one table per element (row-major), each component filling its elements."""
        import itertools

        tables: list[Table | None] = [None] * size_of(dims.shape)
        labels = dims.labels()
        strides = _strides(dims.shape)
        for component in element.components:
            domain = self.subs.domain(component, dims, element.name)
            if isinstance(component.ast, ae.GetLookupsStructure):
                coords = {name_: list(elements) for name_, (_, elements) in domain.context.items()}
                xs, ys = self.external.lookups(component.ast, coords, element.name)
                ys = ys.reshape(len(xs), -1)
            for k, point in enumerate(itertools.product(*(positions for _, _, positions in domain.loops))):
                flat = sum(p * s for p, s in zip(point, strides, strict=True))
                label = f"{name}[{labels[flat]}]" if name else None
                if isinstance(component.ast, ae.GetLookupsStructure):
                    tables[flat] = self._make_table(f"{key}_{flat}", xs, ys[:, k], "interpolate", label, register=False)
                else:
                    tables[flat] = self._table(component.ast, f"{key}_{flat}", label, register=False)
        for i, table in enumerate(tables):  # elements without a table (PySD: NaN)
            if table is None:
                tables[i] = Table(f"{key}_{i}", (0.0,), (float("nan"),), "interpolate",
                                  f"{name}[{labels[i]}]" if name else None)  # fmt: skip
        first = len(self.program.tables)
        self.program.tables.extend(tables)
        self.program.table_arrays[key] = (first, dims.shape)

    def _make_table(self, key: str, xs, ys, mode: str, name: str | None, register: bool = True) -> Table:
        """A table from numbers read from a file (NaN points kept: PySD interpolates through them too)."""
        xs = tuple(float(v) for v in np.asarray(xs, dtype=float).ravel())
        ys = tuple(float(v) for v in np.asarray(ys, dtype=float).ravel())
        if not xs or len(xs) != len(ys):
            raise ModelError(f"{self.path.name}: variable '{self._element_name}': its data has {len(xs)} x and {len(ys)} y values")
        table = Table(key, xs, ys, mode, name)
        if register:
            self.program.tables.append(table)
        return table

    def _external_value(self, component, ast, domain: Domain | None) -> Node:
        """GET CONSTANTS (numbers), GET DATA (a series over time, read like a lookup of Time)."""
        name = self._element_name
        if isinstance(ast, ae.DataStructure):
            raise self.unsupported("a data variable without a GET DATA source (PySD reads those from run-time data files)")
        coords = {} if domain is None else {range_: list(elements) for range_, (_, elements) in domain.context.items()}
        loop_vars = () if domain is None else tuple(var for var, _, _ in domain.loops)
        extents = tuple(len(c) for c in coords.values())
        if isinstance(ast, ae.GetConstantsStructure):
            values = self.external.constants(ast, coords, name)
            numbers = tuple(float(v) for v in values.ravel())
            return Num(numbers[0]) if not loop_vars else LoopValue(loop_vars, extents, numbers)
        keyword = getattr(component, "keyword", None)
        mode = _DATA_MODES.get(keyword.replace(" ", "_") if keyword else None)
        if mode is None:
            raise self.unsupported(f"the data keyword {keyword!r}")
        times, values = self.external.data(ast, keyword, coords, name)
        values = values.reshape(len(times), -1)
        key = self._new_key("data", "t")
        first = len(self.program.tables)
        for k in range(values.shape[1]):
            self._make_table(f"{key}_{k}", times, values[:, k], mode, None)
        self.program.table_arrays[key] = (first, extents if loop_vars else (1,))
        index = tuple(Over(var) for var in loop_vars) if loop_vars else (At(0),)
        return Lookup(key, Time(), mode, index)

    def _table(self, ast: ae.LookupsStructure, key: str, name: str | None, register: bool = True) -> Table:
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
        if register:
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
        ref = node.reference
        subs = list(node.subscripts.subscripts) if node.subscripts else []
        if ref == "time":
            return Time()
        key = scope.resolve(ref)
        if key is None:
            value = self.subs.as_value(ref, self.context, self._element_name)
            if value is None:
                raise ModelError(f"{self.path.name}: variable '{self._element_name}' refers to an undefined name")
            return Num(value) if isinstance(value, float) else value
        if key in self.tables or key in self.program.table_arrays:
            raise self.unsupported("a lookup used as a value (call it with an argument)")
        if key in self._control_keys:
            return Control(self._control_keys[key])
        index = self._index(key, subs)
        return Ref(key, index)

    def _index(self, key: str, subs: list[str]) -> tuple:
        """The positions a reference to ``key`` (with these subscripts) reads at each loop position."""
        dims = self.dims.get(key)
        if dims is None:
            if subs:
                raise ModelError(
                    f"{self.path.name}: variable '{self._element_name}' refers to "
                    f"'{self._names.get(key, '?')}[{', '.join(subs)}]', which has no subscripts"
                )
            return ()
        return self.subs.index(subs or self.subs.whole(dims), dims, self.context, self._names.get(key, "?"),
                               self._element_name)  # fmt: skip

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
            if node.function.subscripts:
                raise ModelError(f"{self.path.name}: variable '{self._element_name}' calls lookup "
                                 f"'{self._names.get(key, name)}' with subscripts; it has none")
            table = self.tables[key]
            return Lookup(table.key, self.lower(raw_args[0], scope), table.mode)
        if key is not None and key in self.program.table_arrays:
            if len(raw_args) != 1:
                raise self.unsupported(f"a lookup call with {len(raw_args)} arguments")
            subs = list(node.function.subscripts.subscripts) if node.function.subscripts else []
            first = self.program.tables[self.program.table_arrays[key][0]]
            return Lookup(key, self.lower(raw_args[0], scope), first.mode, self._index(key, subs))
        if name in _VECTOR_REDUCTIONS:
            return self._reduction(name, raw_args, scope)
        if name == "elmcount":
            return self._elmcount(raw_args)
        if name == "get_time_value":
            return self._get_time_value(raw_args, scope)
        if name in _RANDOM:
            return self._random(name, raw_args, scope)
        if name == "random_pink_noise":
            return self._pink_noise(raw_args, scope)
        if name == "vector_select":
            return self._vector_select(raw_args, scope)
        if name in _VECTOR_OPS:
            return self._vector_op(name, raw_args, scope)
        if name in _LOOKUP_CALLS or name == "lookup_invert":
            first = raw_args[0] if raw_args else None
            table_key = scope.resolve(first.reference) if isinstance(first, ae.ReferenceStructure) else None
            known = table_key in self.tables or table_key in self.program.table_arrays
            if not known or len(raw_args) != 2:
                raise self.unsupported(f"{name.upper().replace('_', ' ')} without a named lookup")
            subs = list(first.subscripts.subscripts) if first.subscripts else []
            index = self._index(table_key, subs)
            arg = self.lower(raw_args[1], scope)
            if name == "lookup_invert":
                return LookupInvert(table_key, arg, index)
            return Lookup(table_key, arg, _LOOKUP_CALLS[name], index)
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
        if free_vars(flow) or free_vars(initial):
            shape = self._domain_shape()
            parts = self._domain_parts(flow, initial)
            self.program.stocks.append(Stock(key, Each((flow,)), Each((initial,)), None, bool(node.non_negative), shape, parts))
            return self._hidden_ref(key, shape)
        self.program.stocks.append(Stock(key, flow, initial, None, bool(node.non_negative)))
        return Ref(key)

    def _ref_to(self, key: str) -> Ref:
        return self._hidden_ref(key, self.program.shape_of(key))

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
        shape = self._hidden_shape(input_key, time_key, init_key)
        self.program.chains.append(Chain(key, kind, input_key, time_key, init_key, int(order), shape))
        return self._hidden_ref(key, shape)

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
        shape = self._hidden_shape(input_key, time_key, init_key)
        self.program.delay_fixed.append(DelayFixed(key, input_key, time_key, init_key, shape))
        return self._hidden_ref(key, shape)

    def _sample_if_true(self, node: ae.SampleIfTrueStructure, scope: _Scope) -> Node:
        key = self._new_key("sample")
        cond = self._arg_key(self.lower(node.condition, scope), "cond")
        input_key = self._arg_key(self.lower(node.input, scope), "input")
        init_key = self._arg_key(self.lower(node.initial, scope), "init")
        shape = self._hidden_shape(cond, input_key, init_key)
        self.program.samples.append(SampleIfTrue(key, cond, input_key, init_key, shape))
        return self._hidden_ref(key, shape)

    def _initial(self, node: ae.InitialStructure, scope: _Scope) -> Node:
        key = self._new_key("initial")
        expr = self.lower(node.initial, scope)
        if free_vars(expr):
            shape = self._domain_shape()
            self.program.initials.append(InitialValue(key, Each((expr,)), shape, self._domain_parts(expr)))
            return self._hidden_ref(key, shape)
        self.program.initials.append(InitialValue(key, expr))
        return Ref(key)

    def _hidden_stock(self, hint: str, flow_of, init_of, *arg_keys: str) -> Ref:
        """A hidden state (TREND, FORECAST) over the domain if any argument is an array."""
        shape = self._hidden_shape(*arg_keys)
        state = self._hidden_ref(self._new_key(hint), shape)
        flow, init = flow_of(state), init_of(state)
        if shape:
            self.program.stocks.append(Stock(state.key, Each((flow,)), Each((init,)), None, False, shape,
                                             self._domain_parts(flow, init)))  # fmt: skip
        else:
            self.program.stocks.append(Stock(state.key, flow, init))
        return state

    def _trend(self, node: ae.TrendStructure, scope: _Scope) -> Node:
        keys = [self._arg_key(self.lower(a, scope), hint) for a, hint in
                ((node.input, "input"), (node.average_time, "average"), (node.initial_trend, "trend0"))]  # fmt: skip
        inp, avg, trend0 = (self._ref_to(k) for k in keys)
        state = self._hidden_stock(
            "trend_state", lambda s: Binary("/", Binary("-", inp, s), avg),
            lambda s: Binary("/", inp, Binary("+", Num(1.0), Binary("*", trend0, avg))), *keys,
        )  # fmt: skip
        return Call("zidz", (Binary("-", inp, state), Binary("*", avg, Call("abs", (state,)))))

    def _forecast(self, node: ae.ForecastStructure, scope: _Scope) -> Node:
        keys = [self._arg_key(self.lower(a, scope), hint) for a, hint in
                ((node.input, "input"), (node.average_time, "average"), (node.horizon, "horizon"),
                 (node.initial_trend, "trend0"))]  # fmt: skip
        inp, avg, horizon, trend0 = (self._ref_to(k) for k in keys)
        state = self._hidden_stock(
            "forecast_state", lambda s: Binary("/", Binary("-", inp, s), avg),
            lambda s: Binary("/", inp, Binary("+", Num(1.0), trend0)), *keys,
        )  # fmt: skip
        change = Call("zidz", (Binary("-", inp, state), Binary("*", avg, state)))
        return Binary("*", inp, Binary("+", Num(1.0), Binary("*", change, horizon)))

    # ----------------------------------------------------------------- vector functions
    def _bang_ranges(self, node, every_free_range: bool = False) -> list[str]:
        """The ``range!`` names an argument uses (outside nested vector functions), in order; with
        ``every_free_range`` (XMILE's one-argument MIN/MAX) every range the equation does not bind."""

        def wanted(sub: str) -> bool:
            if sub in found or sub in self.context:
                return False
            return sub.endswith("!") or (every_free_range and sub in self.subs.ranges)

        found: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ae.ReferenceStructure):
                for sub in (current.subscripts.subscripts if current.subscripts else []):
                    if wanted(sub):
                        found.append(sub)
                continue
            if isinstance(current, ae.CallStructure):
                function = current.function.reference
                if function in _VECTOR_REDUCTIONS or function in ("vector_select", "vmin_xmile", "vmax_xmile"):
                    continue
                for sub in (current.function.subscripts.subscripts if current.function.subscripts else []):
                    if wanted(sub):
                        found.append(sub)
                stack.extend(reversed(list(current.arguments)))
                continue
            if dataclasses.is_dataclass(current):
                for f in dataclasses.fields(current):
                    value = getattr(current, f.name)
                    if isinstance(value, (list, tuple)):
                        stack.extend(v for v in reversed(value) if dataclasses.is_dataclass(v))
                    elif dataclasses.is_dataclass(value):
                        stack.append(value)
        return found

    def _reduction(self, name: str, raw_args: list, scope: _Scope) -> Node:
        """SUM, PROD, VMIN, VMAX over the ``range!`` dimensions of the argument (XMILE's MIN and MAX of
        one array: over all of its dimensions)."""
        if len(raw_args) != 1:
            raise self.unsupported(f"{name.upper()} with {len(raw_args)} arguments")
        xmile = name.endswith("_xmile")
        name = name.removesuffix("_xmile")
        ranges = self._bang_ranges(raw_args[0], every_free_range=xmile)
        if not ranges:  # PySD: a vector function of a value without '!' ranges is that value
            return self.lower(raw_args[0], scope)
        with self._binding(ranges) as loops:
            arg = self.lower(raw_args[0], scope)
        return Reduce(name, (arg,), loops)

    def _draw(self, dist: str, args: tuple[Node, ...]) -> Random:
        """A random draw at this call site, one per element of the equation's domain."""
        self._sites += 1
        self.program.random = True
        return Random(dist, args, self._sites, tuple(v for v, _ in self.bound), self._domain_shape())

    def _random(self, name: str, raw_args: list, scope: _Scope) -> Node:
        dist = _RANDOM[name]
        count = DISTRIBUTIONS[dist]
        if len(raw_args) != count:
            raise self.unsupported(f"{name.upper().replace('_', ' ')} with {len(raw_args)} arguments (it takes {count})")
        return self._draw(dist, tuple(self.lower(a, scope) for a in raw_args))

    def _pink_noise(self, raw_args: list, scope: _Scope) -> Node:
        """RANDOM PINK NOISE(mean, std deviation, correlation time, stream): Vensim's (Ed Anderson's)
        first-order filtered normal white noise, scaled so that its standard deviation does not depend
        on TIME STEP or the correlation time; a hidden state starting at a normal draw."""
        if len(raw_args) != 4:
            raise self.unsupported(f"RANDOM PINK NOISE with {len(raw_args)} arguments (it takes 4)")
        keys = [self._arg_key(self.lower(a, scope), hint) for a, hint in
                zip(raw_args, ("mean", "sd", "tau", "stream"), strict=True)]  # fmt: skip
        mean, sd, tau, stream = (self._ref_to(k) for k in keys)
        standard = (Num(-6.0), Num(6.0), Num(0.0), Num(1.0), stream)
        ratio = Binary("/", Control("time_step"), tau)
        scale = Call("sqrt", (Binary("/", Binary("-", Num(2.0), ratio), ratio),))
        white = Binary("+", mean, Binary("*", Binary("*", self._draw("normal", standard), sd), scale))
        start = Binary("+", mean, Binary("*", sd, self._draw("normal", standard)))
        shape = self._domain_shape() if (free_vars(white) or free_vars(start)) else ()
        state = self._hidden_ref(self._new_key("pink_noise"), shape)
        flow = Binary("/", Binary("-", white, state), tau)
        if shape:
            self.program.stocks.append(Stock(state.key, Each((flow,)), Each((start,)), None, False, shape,
                                             self._domain_parts(flow, start)))  # fmt: skip
        else:
            self.program.stocks.append(Stock(state.key, flow, start))
        return state

    def _allocate_by_priority(self, node: ae.AllocateByPriorityStructure, scope: _Scope) -> Node:
        """ALLOCATE BY PRIORITY(request[..., last], priority[..., last], size, width, supply): along the
        equation's last subscript (the request's), as PySD."""
        if not self.bound:
            raise self.unsupported("ALLOCATE BY PRIORITY outside a subscripted equation")
        request = self.lower(node.request, scope)
        last_var = self.bound[-1][0]
        if not (isinstance(request, Ref) and request.index and isinstance(request.index[-1], Over)
                and request.index[-1].var == last_var):  # fmt: skip
            raise self.unsupported("ALLOCATE BY PRIORITY whose request is not subscripted by the equation's last subscript")
        keys = (self._arg_key(request, "request"), self._arg_key(self.lower(node.priority, scope), "priority"),
                self._arg_key(self.lower(node.width, scope), "width"), self._arg_key(self.lower(node.supply, scope), "supply"))
        key = self._new_key("allocate")
        self.program.vector_ops.append(VectorOp(key, "allocate_by_priority", keys, self._domain_shape()))
        return self._hidden_ref(key, self._domain_shape())

    def _get_time_value(self, raw_args: list, scope: _Scope) -> Node:
        """GET TIME VALUE(0, offset, 0): the current time plus the offset (PySD's one supported case;
        the others depend on the computer's clock or calendars)."""
        if len(raw_args) != 3:
            raise self.unsupported(f"GET TIME VALUE with {len(raw_args)} arguments")
        relative = self._static_number(raw_args[0], scope, "GET TIME VALUE's 'relative to'")
        measure = self._static_number(raw_args[2], scope, "GET TIME VALUE's measure")
        if relative != 0 or measure != 0:
            raise self.unsupported(
                f"GET TIME VALUE({relative:g}, offset, {measure:g}) (supported: GET TIME VALUE(0, offset, 0), the "
                "current time plus the offset)"
            )
        return Binary("+", Time(), self.lower(raw_args[1], scope))

    def _elmcount(self, raw_args: list) -> Node:
        arg = raw_args[0] if len(raw_args) == 1 else None
        if not isinstance(arg, ae.ReferenceStructure):
            raise self.unsupported("ELMCOUNT of something other than a subscript range")
        for range_name in self.subs.ranges:
            if clean_reference(range_name) == arg.reference:
                return Num(float(len(self.subs.ranges[range_name])))
        raise ModelError(f"{self.path.name}: variable '{self._element_name}': ELMCOUNT({arg.reference}) needs a subscript range")

    def _vector_select(self, raw_args: list, scope: _Scope) -> Node:
        """VECTOR SELECT(selection[r!], values[r!], missing, numerical action, error action); the action
        may change during the run (PySD evaluates it every time)."""
        if len(raw_args) != 5:
            raise self.unsupported(f"VECTOR SELECT with {len(raw_args)} arguments")
        ranges = self._bang_ranges(raw_args[0])
        for extra in self._bang_ranges(raw_args[1]):
            if extra not in ranges:
                ranges.append(extra)
        missing, action = self.lower(raw_args[2], scope), self.lower(raw_args[3], scope)
        with self._binding(ranges) as loops:
            selection, values = self.lower(raw_args[0], scope), self.lower(raw_args[1], scope)
        return Reduce("select", (selection, values, missing, action), loops)

    def _vector_op(self, name: str, raw_args: list, scope: _Scope) -> Node:
        """VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER, INVERT MATRIX: whole arrays along their last
        dimension(s), as hidden nodes over the equation's domain."""
        if len(raw_args) not in _VECTOR_OPS[name]:
            raise self.unsupported(f"{name.upper().replace('_', ' ')} with {len(raw_args)} arguments")
        if name == "invert_matrix":
            raw_args = raw_args[:1]  # the second argument (the matrix's size) follows from the subscripts
        if not self.bound:
            raise self.unsupported(f"{name.upper().replace('_', ' ')} outside a subscripted equation")
        keys = tuple(self._arg_key(self.lower(a, scope), "vector") for a in raw_args)
        shape = self._domain_shape()
        if not self.program.shape_of(keys[0]):
            raise self.unsupported(f"{name.upper().replace('_', ' ')} of a value without subscripts")
        if name == "invert_matrix" and (len(shape) < 2 or shape[-1] != shape[-2]):
            raise ModelError(f"{self.path.name}: variable '{self._element_name}': INVERT MATRIX needs a square matrix "
                             "in its last two subscripts")
        key = self._new_key(name)
        self.program.vector_ops.append(VectorOp(key, name, keys, shape))
        return self._hidden_ref(key, shape)

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
            lowered = self.lower(arg, scope)
            if free_vars(lowered) or (isinstance(lowered, Ref) and self.program.shape_of(lowered.key)):
                raise self.unsupported(f"macro {macro.name} called with a subscripted argument")
            bindings[clean_reference(param)] = self._arg_key(lowered, f"{macro.name}_{param}")
        inner = _Scope(bindings)
        # macros may call other macros and refer to the main model's control variables
        for control, key in self.program.controls.items():
            inner.add(clean_reference(CONTROL_NAMES[control]), key)
        outer_name = self._element_name
        outer = (self.context, self.bound, self._next_var)
        self.context, self.bound, self._next_var = {}, [], 0
        self._macro_depth += 1
        self._declare_section(macro, inner, named=False)
        self._lower_section(macro, inner, named=False)
        self._macro_depth -= 1
        self._element_name = outer_name
        self.context, self.bound, self._next_var = outer
        result = inner.resolve(clean_reference(macro.name))
        if result is None:
            raise self.unsupported(f"macro {macro.name} without an output named like the macro")
        return Ref(result)


_TABLE_STRUCTURES = (ae.LookupsStructure, ae.GetLookupsStructure)
_RANDOM = {"random_0_1": "uniform01", "random_uniform": "uniform", "random_normal": "normal",
           "random_exponential": "exponential", "random_poisson": "poisson", "random_triangular": "triangular"}
_VECTOR_REDUCTIONS = {"sum", "prod", "vmin", "vmax", "vmin_xmile", "vmax_xmile"}
_VECTOR_OPS = {"vector_sort_order": (2,), "vector_rank": (2,), "vector_reorder": (2,), "invert_matrix": (1, 2)}


def free_vars(node: Node) -> set[int]:
    """Loop variables an expression reads that no vector function inside it binds."""
    used: set[int] = set()
    bound: set[int] = set()
    for current in walk(node):
        if isinstance(current, (Ref, Lookup, LookupInvert)):
            used |= {a.var for a in current.index if isinstance(a, Over)}
        elif isinstance(current, LoopValue):
            used |= set(current.vars)
        elif isinstance(current, Reduce):
            bound |= {var for var, _ in current.loops}
        elif hasattr(current, "vars") and isinstance(current.vars, tuple):
            used |= set(current.vars)
    return used - bound


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


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
    ae.AllocateByPriorityStructure: Lowerer._allocate_by_priority,
}
