"""Whole-array builtins: VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER, INVERT MATRIX.

Each works along the last dimension (the last two for INVERT MATRIX) of its array, for every position
of the other dimensions, member by member (lane by lane in a vector of members: members may sort
differently). PySD's conventions: VECTOR SORT ORDER gives 0-based positions (ascending for a direction
> 0, else the ascending order reversed), VECTOR RANK is 1 + the position of each element in that order,
VECTOR REORDER(v, order)[i] = v[order[i]]; ties keep their original order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llvmlite import ir

from .ir import VectorOp, size_of
from .llvm_support import F64, I64, entry_alloca, f64, for_range, i64, load, store

if TYPE_CHECKING:
    from .llvm_arrays import ArrayCode
    from .llvm_expr import ExprEmitter
    from .llvm_view import View


class _Lane:
    """Scalar access to one member (lane ``lane``) of the arrays of a view."""

    def __init__(self, code: ArrayCode, view: View, lane: int, src, values: dict, expr: ExprEmitter):
        self.code, self.view, self.lane, self.src = code, view, lane, src
        self.values, self.expr = values, expr
        self.b = view.b

    def _pointer(self, key: str, row: ir.Value) -> ir.Value:
        where, base = self.code.mb.s.home[key]
        array = self.src if where == "Y" and self.src is not None else self.view[where]
        b = self.b
        index = b.add(b.mul(b.add(i64(base), row), self.view["width"]), b.add(self.view["lane"], i64(self.lane)))
        return b.gep(array, [index], inbounds=True)

    def get(self, key: str, row: ir.Value) -> ir.Value:
        if not self.code.mb.shape(key):
            value = self.code.mb._value(self.values, self.expr, key)
            if isinstance(value.type, ir.VectorType):
                value = self.b.extract_element(value, ir.Constant(ir.IntType(32), self.lane))
            return value
        return self.b.load(self._pointer(key, row))

    def put(self, key: str, row: ir.Value, value: ir.Value) -> None:
        self.b.store(value, self._pointer(key, row))
        named = self.code.mb.s.value.get(key)
        where, base = self.code.mb.s.home[key]
        if named is not None and (where, base) != ("V", named):
            b = self.b
            index = b.add(b.mul(b.add(i64(named), row), self.view["width"]), b.add(self.view["lane"], i64(self.lane)))
            b.store(value, b.gep(self.view["V"], [index], inbounds=True))


def emit_vector_op(code: ArrayCode, view: View, op: VectorOp, values: dict, expr: ExprEmitter, src) -> None:
    emit = {"vector_sort_order": _sort_order, "vector_rank": _rank, "vector_reorder": _reorder,
            "invert_matrix": _invert}[op.op]  # fmt: skip
    for key in op.args:  # scalar arguments are resolved before the loops
        if not code.mb.shape(key):
            code.mb._value(values, expr, key)
    for lane in range(view.lanes or 1):
        emit(_Lane(code, view, lane, src, values, expr), op)


def _blocks(op: VectorOp, last: int):
    n = op.shape[-1] if last == 1 else op.shape[-1] * op.shape[-2]
    return size_of(op.shape) // n, n


def _ordering(lane: _Lane, op: VectorOp, base: ir.Value, n: int, descending: ir.Value, position: ir.Value) -> ir.Value:
    """The place of element ``position`` in the stable ascending order of ``v[base : base + n]`` (or in
    that order reversed)."""
    b = lane.b
    key = op.args[0]
    mine = lane.get(key, b.add(base, position))
    count = entry_alloca(b, I64)
    b.store(i64(0), count)
    with for_range(b, i64(0), i64(n), "cmp") as j:
        other = lane.get(key, b.add(base, j))
        before = b.or_(b.fcmp_ordered("<", other, mine),
                       b.and_(b.fcmp_ordered("==", other, mine), b.icmp_signed("<", j, position)))  # fmt: skip
        b.store(b.add(b.load(count), b.zext(before, I64)), count)
    place = b.load(count)
    return b.select(descending, b.sub(i64(n - 1), place), place)


def _sort_order(lane: _Lane, op: VectorOp) -> None:
    b = lane.b
    blocks, n = _blocks(op, 1)
    descending = b.fcmp_ordered("<=", lane.get(op.args[1], i64(0)), f64(0.0))
    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(n))
        with for_range(b, i64(0), i64(n), "el") as i:
            place = _ordering(lane, op, base, n, descending, i)
            lane.put(op.key, b.add(base, place), b.sitofp(i, F64))


def _rank(lane: _Lane, op: VectorOp) -> None:
    b = lane.b
    blocks, n = _blocks(op, 1)
    descending = b.fcmp_ordered("<=", lane.get(op.args[1], i64(0)), f64(0.0))
    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(n))
        with for_range(b, i64(0), i64(n), "el") as i:
            place = _ordering(lane, op, base, n, descending, i)
            lane.put(op.key, b.add(base, i), b.sitofp(b.add(place, i64(1)), F64))


def _reorder(lane: _Lane, op: VectorOp) -> None:
    b = lane.b
    blocks, n = _blocks(op, 1)
    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(n))
        with for_range(b, i64(0), i64(n), "el") as i:
            where = b.fptosi(lane.get(op.args[1], b.add(base, i)), I64)
            inside = b.and_(b.icmp_signed(">=", where, i64(0)), b.icmp_signed("<", where, i64(n)))
            where = b.select(inside, where, i64(0))
            value = lane.get(op.args[0], b.add(base, where))
            lane.put(op.key, b.add(base, i), b.select(inside, value, f64(float("nan"))))


def _invert(lane: _Lane, op: VectorOp) -> None:
    """Gauss-Jordan elimination with partial pivoting on each n x n matrix (a singular one gives NaN)."""
    b = lane.b
    blocks, nn = _blocks(op, 2)
    n = op.shape[-1]
    a = entry_alloca(b, ir.ArrayType(F64, nn))
    inv = entry_alloca(b, ir.ArrayType(F64, nn))
    first = b.gep(a, [i64(0), i64(0)], inbounds=True)
    ident = b.gep(inv, [i64(0), i64(0)], inbounds=True)

    def at(matrix, r, c):
        return b.gep(matrix, [b.add(b.mul(r, i64(n)), c)], inbounds=True)

    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(nn))
        with for_range(b, i64(0), i64(nn), "cp") as k:
            store(b, lane.get(op.args[0], b.add(base, k)), first, k)
            row, col = b.sdiv(k, i64(n)), b.srem(k, i64(n))
            store(b, b.uitofp(b.icmp_signed("==", row, col), F64), ident, k)
        with for_range(b, i64(0), i64(n), "piv") as c:
            best = entry_alloca(b, I64)
            b.store(c, best)
            with for_range(b, b.add(c, i64(1)), i64(n), "find") as r:
                fabs = lane.code.mb.builtins.intrinsic("fabs")
                larger = b.fcmp_ordered(">", b.call(fabs, [b.load(at(first, r, c))]),
                                        b.call(fabs, [b.load(at(first, b.load(best), c))]))  # fmt: skip
                b.store(b.select(larger, r, b.load(best)), best)
            p = b.load(best)
            with for_range(b, i64(0), i64(n), "swap") as j:
                for matrix in (first, ident):
                    x, y = b.load(at(matrix, c, j)), b.load(at(matrix, p, j))
                    b.store(y, at(matrix, c, j))
                    b.store(x, at(matrix, p, j))
            pivot = b.load(at(first, c, c))
            with for_range(b, i64(0), i64(n), "norm") as j:
                for matrix in (first, ident):
                    b.store(b.fdiv(b.load(at(matrix, c, j)), pivot), at(matrix, c, j))
            with for_range(b, i64(0), i64(n), "elim") as r, b.if_then(b.icmp_signed("!=", r, c)):
                factor = b.load(at(first, r, c))
                with for_range(b, i64(0), i64(n), "sub") as j:
                    for matrix in (first, ident):
                        b.store(b.fsub(b.load(at(matrix, r, j)), b.fmul(factor, b.load(at(matrix, c, j)))),
                                at(matrix, r, j))  # fmt: skip
        with for_range(b, i64(0), i64(nn), "out") as k:
            lane.put(op.key, b.add(base, k), load(b, ident, k))
