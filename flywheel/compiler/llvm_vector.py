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
            "invert_matrix": _invert, "allocate_by_priority": _allocate}[op.op]  # fmt: skip
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
    _by_place(lane, op, rank=False)


def _rank(lane: _Lane, op: VectorOp) -> None:
    _by_place(lane, op, rank=True)


def _by_place(lane: _Lane, op: VectorOp, rank: bool) -> None:
    """Each element's place in sorted order: VECTOR RANK writes it (from 1) at the element, VECTOR SORT
    ORDER writes the element's index at its place."""
    b = lane.b
    blocks, n = _blocks(op, 1)
    descending = b.fcmp_ordered("<=", lane.get(op.args[1], i64(0)), f64(0.0))
    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(n))
        with for_range(b, i64(0), i64(n), "el") as i:
            place = _ordering(lane, op, base, n, descending, i)
            if rank:
                lane.put(op.key, b.add(base, i), b.sitofp(b.add(place, i64(1)), F64))
            else:
                lane.put(op.key, b.add(base, place), b.sitofp(i, F64))


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


def _allocate(lane: _Lane, op: VectorOp) -> None:
    """ALLOCATE BY PRIORITY along the last dimension, PySD's algorithm (``allocation._allocate_by_priority_1d``):
    the supply flows to the targets in order of priority, each target's share proportional to its
    request, the next target starting once the one before has received (priority gap / width) of its
    request; targets stop at their request."""
    b = lane.b
    blocks, n = _blocks(op, 1)
    request_key, priority_key, width_key, supply_key = op.args
    arrays = {name: entry_alloca(b, ir.ArrayType(F64, n)) for name in ("r", "p", "d", "o", "s")}
    flags = entry_alloca(b, ir.ArrayType(I64, n))
    order = entry_alloca(b, ir.ArrayType(I64, n))

    def cell(name, k):
        base = flags if name == "a" else order if name == "ord" else arrays[name]
        return b.gep(base, [i64(0), k], inbounds=True)

    fabs = lane.code.mb.builtins.intrinsic("fabs")
    zero = f64(0.0)
    with for_range(b, i64(0), i64(blocks), "blk") as block:
        base = b.mul(block, i64(n))
        width = lane.get(width_key, base)
        supply_slot = entry_alloca(b, F64)
        b.store(lane.get(supply_key, base), supply_slot)
        total = entry_alloca(b, F64)
        b.store(zero, total)
        with for_range(b, i64(0), i64(n), "sum") as i:
            b.store(b.fadd(b.load(total), lane.get(request_key, b.add(base, i))), total)
        everything = b.fcmp_ordered(">=", b.load(supply_slot), b.load(total))
        nothing = b.fcmp_ordered("==", b.load(supply_slot), zero)
        with b.if_else(b.or_(everything, nothing)) as (simple, general):
            with simple, for_range(b, i64(0), i64(n), "all") as i:
                request = lane.get(request_key, b.add(base, i))
                lane.put(op.key, b.add(base, i), b.select(everything, request, zero))
            with general:
                _allocate_general(lane, op, base, n, width, supply_slot, cell, fabs)


def _allocate_general(lane: _Lane, op: VectorOp, base, n: int, width, supply_slot, cell, fabs) -> None:
    b = lane.b
    request_key, priority_key = op.args[:2]
    zero, one, nan = f64(0.0), f64(1.0), f64(float("nan"))
    count = entry_alloca(b, I64)  # targets with a request, sorted by priority (highest first, ties in order)
    b.store(i64(0), count)
    with for_range(b, i64(0), i64(n), "cnt") as i:
        positive = b.fcmp_unordered("!=", lane.get(request_key, b.add(base, i)), zero)
        b.store(b.add(b.load(count), b.zext(positive, I64)), count)
    m = b.load(count)
    with for_range(b, i64(0), i64(n), "rank") as i:
        mine_request = lane.get(request_key, b.add(base, i))
        with b.if_then(b.fcmp_unordered("!=", mine_request, zero)):
            mine = lane.get(priority_key, b.add(base, i))
            place = entry_alloca(b, I64)
            b.store(i64(0), place)
            with for_range(b, i64(0), i64(n), "cmp") as j:
                other = lane.get(priority_key, b.add(base, j))
                counts = b.fcmp_unordered("!=", lane.get(request_key, b.add(base, j)), zero)
                before = b.or_(b.fcmp_ordered(">", other, mine),
                               b.and_(b.fcmp_ordered("==", other, mine), b.icmp_signed("<", j, i)))  # fmt: skip
                b.store(b.add(b.load(place), b.zext(b.and_(counts, before), I64)), place)
            k = b.load(place)
            b.store(i, cell("ord", k))
            b.store(mine_request, cell("r", k))
            b.store(mine, cell("p", k))
            b.store(zero, cell("o", k))
            b.store(i64(0), cell("a", k))
    b.store(i64(1), cell("a", i64(0)))
    with for_range(b, i64(0), m, "dist") as k:  # distances: min((p[k] - p[k+1]) / width, 1) * r[k]
        nxt = b.add(k, i64(1))
        last = b.icmp_signed("==", nxt, m)
        gap = b.fdiv(b.fsub(b.load(cell("p", k)), b.load(cell("p", b.select(last, k, nxt)))), width)
        gap = b.select(b.fcmp_ordered("<", gap, one), gap, one)
        b.store(b.select(last, nan, b.fmul(gap, b.load(cell("r", k)))), cell("d", k))
    current = entry_alloca(b, I64)
    b.store(i64(0), current)
    rounds = entry_alloca(b, I64)
    b.store(i64(0), rounds)
    fn = b.function
    head, body, done = (fn.append_basic_block(name) for name in ("alloc.head", "alloc.body", "alloc.done"))
    b.branch(head)
    b.position_at_end(head)
    going = b.and_(b.fcmp_ordered(">", b.load(supply_slot), zero), b.icmp_signed("<", b.load(rounds), b.mul(m, i64(4))))
    b.cbranch(going, body, done)
    b.position_at_end(body)
    b.store(b.add(b.load(rounds), i64(1)), rounds)
    share = entry_alloca(b, F64)
    b.store(zero, share)
    with for_range(b, i64(0), m, "act") as k:
        active = b.sitofp(b.load(cell("a", k)), F64)
        b.store(b.fadd(b.load(share), b.fmul(b.load(cell("r", k)), active)), share)
    top = entry_alloca(b, F64)
    b.store(nan, top)
    with for_range(b, i64(0), m, "top") as k:
        slope = b.fdiv(b.fmul(b.load(cell("r", k)), b.sitofp(b.load(cell("a", k)), F64)), b.load(share))
        b.store(slope, cell("s", k))
        reach = b.fdiv(b.fsub(b.load(cell("r", k)), b.load(cell("o", k))), slope)
        is_active = b.icmp_signed("!=", b.load(cell("a", k)), i64(0))
        smaller = b.or_(b.fcmp_unordered("uno", b.load(top), b.load(top)), b.fcmp_ordered("<", reach, b.load(top)))
        b.store(b.select(b.and_(is_active, smaller), reach, b.load(top)), top)
    c = b.load(current)
    start = b.fdiv(b.fsub(b.load(cell("d", c)), b.load(cell("o", c))), b.load(cell("s", c)))
    dx = b.load(top)

    def nanmin(a, x):
        return b.select(b.fcmp_unordered("uno", a, a), x, b.select(b.fcmp_ordered("<", x, a), x, a))

    dx = nanmin(dx, start)
    dx = nanmin(dx, b.load(supply_slot))
    with for_range(b, i64(0), m, "give") as k:
        b.store(b.fadd(b.load(cell("o", k)), b.fmul(b.load(cell("s", k)), dx)), cell("o", k))
    close = b.fcmp_ordered("<=", b.call(fabs, [b.fsub(dx, start)]),
                           b.fadd(f64(1e-16), b.fmul(f64(1e-10), b.call(fabs, [start]))))  # fmt: skip
    with b.if_then(b.and_(close, b.icmp_signed("<", b.add(c, i64(1)), m))):
        b.store(b.add(c, i64(1)), current)
        b.store(i64(1), cell("a", b.add(c, i64(1))))
    with b.if_then(b.fcmp_ordered("==", dx, b.load(top))), for_range(b, i64(0), m, "full") as k:
        reached = b.fcmp_ordered("==", b.load(cell("o", k)), b.load(cell("r", k)))
        b.store(b.select(reached, i64(0), b.load(cell("a", k))), cell("a", k))
    b.store(b.fsub(b.load(supply_slot), dx), supply_slot)
    b.branch(head)
    b.position_at_end(done)
    with for_range(b, i64(0), i64(n), "zero") as i:
        lane.put(op.key, b.add(base, i), zero)
    with for_range(b, i64(0), m, "back") as k:
        lane.put(op.key, b.add(base, b.load(cell("ord", k))), b.load(cell("o", k)))
