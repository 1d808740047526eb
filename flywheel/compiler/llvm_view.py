"""One member's view of the frame inside an LLVM function (scalar, or a vector of members)."""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from .llvm_support import F64P, I8P, I64, I64P, const, i64, load, load_lanes, store_lanes, vector_type

# the member view: the frame's arrays as arguments of the internal member functions (all noalias)
_VIEW = (
    ("P", F64P), ("ovm", I8P), ("lkx", F64P), ("lky", F64P), ("lko", I64P), ("lkn", I64P), ("ctl", F64P),
    ("Y", F64P), ("C", F64P), ("D", F64P), ("V", F64P), ("doff", I64P), ("width", I64), ("lane", I64),
    ("lk_stride", I64), ("streams", I64P), ("seed", I64),
)  # fmt: skip
_ROWS = ("P", "Y", "YS", "K", "C", "D", "V", "dydt")  # per-member arrays, based per block


@dataclass
class View:
    """One member's access to the frame arrays inside an LLVM function; with ``lanes`` a vector of
    that many consecutive members (lane 0 is the view's ``lane``)."""

    b: ir.IRBuilder
    args: dict[str, ir.Value]
    lanes: int | None = None
    first_member: ir.Value | None = None  # the member of lane 0 (for per-member lookup tables)

    @property
    def ty(self) -> ir.Type:
        return vector_type(self.lanes)

    def __getitem__(self, name: str) -> ir.Value:
        return self.args[name]

    def const(self, value: float) -> ir.Constant:
        return const(self.ty, value)

    def int_const(self, value: int) -> ir.Constant:
        if self.lanes is None:
            return i64(value)
        return ir.Constant(ir.VectorType(I64, self.lanes), [int(value)] * self.lanes)

    def to_int(self, value: ir.Value) -> ir.Value:
        return self.b.fptosi(value, I64 if self.lanes is None else ir.VectorType(I64, self.lanes))

    def to_float(self, value: ir.Value) -> ir.Value:
        return self.b.sitofp(value, self.ty)

    def index(self, row) -> ir.Value:
        row = i64(row) if isinstance(row, int) else row
        return self.b.add(self.b.mul(row, self.args["width"]), self.args["lane"])

    def get(self, array: str, row) -> ir.Value:
        return load_lanes(self.b, self.args[array], self.index(row), self.ty)

    def put(self, value: ir.Value, array: str, row) -> None:
        store_lanes(self.b, value, self.args[array], self.index(row))

    def get_at(self, base: ir.Value, row) -> ir.Value:
        return load_lanes(self.b, base, self.index(row), self.ty)

    def put_at(self, value: ir.Value, base: ir.Value, row) -> None:
        store_lanes(self.b, value, base, self.index(row))

    def control(self, i: int) -> ir.Value:
        return load(self.b, self.args["ctl"], i64(i))

    def table(self, index: int | ir.Value, lane: int = 0) -> tuple[ir.Value, ir.Value, ir.Value]:
        """The (xs, ys, n) of a table for one lane (its member's own rows when tables vary)."""
        b = self.b
        index = i64(index) if isinstance(index, int) else index
        offset = load(b, self.args["lko"], index)
        n = load(b, self.args["lkn"], index)
        lkx, lky = self.args["lkx"], self.args["lky"]
        if self.lanes is not None:  # lkx/lky point at lane 0's member; lane l is l members on
            shift = b.mul(i64(lane), self.args["lk_stride"])
            lkx, lky = b.gep(lkx, [shift], inbounds=True), b.gep(lky, [shift], inbounds=True)
        return b.gep(lkx, [offset], inbounds=True), b.gep(lky, [offset], inbounds=True), n
