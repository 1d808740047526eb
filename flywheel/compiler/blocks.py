"""The ensemble's block kernel: a block of members advancing in lockstep, one short loop per equation.

The loops' iterations are independent members, so the CPU overlaps them (and LLVM vectorises the simple
ones) instead of waiting on one member's chain of dependent operations. The statements are the single
member's, rewritten for member ``b`` of the block by ``_Vectoriser``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import runtime as rt

if TYPE_CHECKING:
    from .codegen import CodeGenerator

_INLINED = re.compile(rf"\brt\.({'|'.join(rt.INLINED)})\(")
_OVERRIDE = re.compile(r"(\w+) = p\[(\d+)\] if ovm\[\2\] else \((.*)\)")
BLOCK = 64  # members per block in ensembles: enough independent work to hide latency, small enough for L1


class _Vectoriser:
    """Rewrite one member's scalar statement for member ``b`` of a block: ``x`` -> ``x[b]``,
    ``y[i]`` -> ``y[i, b]``, ``K[s, i]`` -> ``K[s, i, b]``, ``p[k]`` -> ``P[b, k]``. Keys are whole identifiers
    made by ``names.make_key``, so the substitution cannot touch anything else."""

    def __init__(self, keys: list[str]):
        alternatives = "|".join(re.escape(k) for k in sorted(set(keys), key=len, reverse=True))
        self.keys = re.compile(rf"\b({alternatives})\b") if keys else None

    def __call__(self, line: str) -> str:
        line = re.sub(r"\b(ys|y)\[([^\]]+)\]", r"\1[\2, b]", line)
        line = re.sub(r"\bK\[s, ([^\]]+)\]", r"K[s, \1, b]", line)
        line = re.sub(r"\bp\[(\d+)\]", r"P[b, \1]", line)
        line = _INLINED.sub(r"rt.\1_inline(", line)
        if self.keys is not None:
            line = self.keys.sub(r"\1[b]", line)
        return line


def _statements(lines: list[str]) -> list[list[str]]:
    """Group emitted lines into top-level statements (a line at indent 0 starts a new one)."""
    groups: list[list[str]] = []
    for line in lines:
        if not line.startswith(" ") or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def emit_block_kernel(gen: CodeGenerator, emit) -> None:
    """Members of a block advance in lockstep, one short loop per equation: the loops' iterations are
    independent, so the CPU overlaps members instead of waiting on one member's chain of operations."""
    ny = max(gen.layout.n_states, 1)
    keys = [a.key for a in gen.p.auxes] + [s.key for s in gen.p.stocks] + [c.key for c in gen.p.chains]
    keys += [i.key for i in gen.p.initials] + gen.order_keys
    vectorise = _Vectoriser(keys)
    emit(0, "@njit(**_OPTS)")
    emit(0, "def simulate_block(P, ovm, lkx, lky, lko, lkn, t0, dt, tf, sp, n_steps, schedule, bt_a, bt_b, bt_c, row_map, cols, out, bad):")
    emit(1, '"""simulate_member for a block of members at once (models without discrete state)."""')
    gen._table_prologue(emit, 1)
    emit(1, "nb = P.shape[0]")
    emit(1, "ns = bt_b.shape[0]")
    emit(1, f"y = np.zeros(({ny}, nb))")
    emit(1, f"ys = np.zeros(({ny}, nb))")
    emit(1, f"K = np.zeros((ns, {ny}, nb))")
    emit(1, f"rec = np.empty({max(len(gen.record_keys), 1)})")
    for key in keys:
        emit(1, f"{key} = np.empty(nb, dtype=np.int64)" if key in gen.order_keys else f"{key} = np.empty(nb)")
    emit(1, "for b in range(nb):")
    emit(2, "bad[b] = -1")
    inner = type(emit)()
    gen._init_block(inner, 0, with_discrete=False)
    for line in inner.lines:
        emit(2, vectorise(line))
    emit(1, "t = t0")
    emit(1, "step = 0")
    emit(1, "nsave = 0")
    emit(1, "done = False")
    emit(1, "while True:")
    emit(2, "for s in range(ns):")
    emit(3, "time = t if s == 0 else t + bt_c[s] * dt")
    emit(3, f"for i in range({ny}):")
    emit(4, "for b in range(nb):")
    emit(5, "acc = 0.0")
    emit(5, "for j in range(s):")
    emit(6, "acc += bt_a[s, j] * K[j, i, b]")
    emit(5, "ys[i, b] = y[i, b] + dt * acc")
    inner = type(emit)()
    gen._eval_block(inner, 0, "ys", "K[s, {}]", with_discrete=False)
    for group in _statements(inner.lines):
        override = _OVERRIDE.fullmatch(group[0]) if len(group) == 1 else None
        if override:  # decide once per block, not per member, so the member loops stay branch-free
            key, slot, code = override.groups()
            emit(3, f"if ovm[{slot}]:")
            emit(4, "for b in range(nb):")
            emit(5, f"{key}[b] = P[b, {slot}]")
            emit(3, "else:")
            emit(4, "for b in range(nb):")
            emit(5, vectorise(f"{key} = {code}"))
            continue
        emit(3, "for b in range(nb):")
        for line in group:
            emit(4, vectorise(line))
    emit(3, "if s == 0:")
    emit(4, "done = step >= n_steps")
    emit(4, "if schedule[step] != 0:")
    emit(5, "if nsave < row_map.shape[0] and row_map[nsave] >= 0:")
    emit(6, "r = row_map[nsave]")
    emit(6, "for b in range(nb):")
    for j, (_, key) in enumerate(gen.record_keys):
        emit(7, vectorise(f"rec[{j}] = {key}"))
    emit(7, "for j in range(cols.shape[0]):")
    emit(8, "out[b, r, j] = rec[cols[j]]")
    emit(5, "nsave += 1")
    emit(4, "if done:")
    emit(5, "break")
    emit(2, "if done:")
    emit(3, "break")
    emit(2, f"for i in range({ny}):")
    emit(3, "for b in range(nb):")
    emit(4, "acc = 0.0")
    emit(4, "for s in range(ns):")
    emit(5, "acc += bt_b[s] * K[s, i, b]")
    emit(4, "new = y[i, b] + dt * acc")
    emit(4, "if bad[b] < 0 and not np.isfinite(new) and np.isfinite(y[i, b]):")
    emit(5, "bad[b] = i")
    emit(4, "y[i, b] = new")
    for stock in gen.p.stocks:
        if stock.non_negative:
            i = gen.stock_idx[stock.key]
            emit(2, "for b in range(nb):")
            emit(3, f"y[{i}, b] = rt.if_nan_max(y[{i}, b], 0.0)")
    emit(2, "t = t + dt")
    emit(2, "step += 1")
    emit(0, "")
