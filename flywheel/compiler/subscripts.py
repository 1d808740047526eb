"""Subscripts: ranges, the shape of each array variable, and how a reference maps loop positions.

The rules are PySD's (its ``SubscriptManager`` builds the ranges, subranges, copies and mappings, and
gives each variable its final dimensions), so that a model computes here what it computes in PySD:

- a component of a variable defines the elements its left-hand side names, one loop variable per
  position (``domain``); ``:EXCEPT:`` removes points from that loop nest;
- a reference maps every loop position to a position along the referenced variable's dimensions
  (``index``): an element is a fixed position; a range follows the loop variable bound to the same
  name (a subrange selects its elements by name, a range of equal length is positional, as in
  PySD); a range mapped (``->``) or copied (``<->``) onto a range of the equation follows that one,
  position by position; ``range!`` follows the loop variable of the vector function around it.

Names never reach generated code: this module turns them into integer tables.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError, UnsupportedConstructError
from .ir import At, Dims, LoopValue, Over
from .names import clean_reference

# what binds a name inside an equation: name -> (loop variable, the elements it runs over)
Context = dict[str, tuple[int, tuple[str, ...]]]


@dataclass(frozen=True)
class Domain:
    """The loop nest of one component: per position of the variable, (loop variable, elements, positions
    along the variable's dimension), the names bound in its equation, and the excluded points."""

    context: Context
    loops: tuple[tuple[int, tuple[str, ...], tuple[int, ...]], ...]
    skip: frozenset[tuple[int, ...]]


class SubscriptSpace:
    """The subscript ranges of one model section (PySD's ``SubscriptManager``) and the lowering rules."""

    def __init__(self, abstract_subscripts, model_path: Path, where: str, external=None):
        from pysd.builders.python.subscripts import SubscriptManager

        self.where = where
        for sub in abstract_subscripts:  # GET XLS SUBSCRIPT: only from files the model may read
            if isinstance(sub.subscripts, dict) and external is not None:
                external.resolve(sub.subscripts["file"], sub.name, "subscript range")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.manager = SubscriptManager(list(abstract_subscripts), model_path.parent)
        except (ValueError, KeyError, OSError) as exc:
            raise ModelError(f"{where}: cannot read the subscript ranges ({str(exc).strip().splitlines()[0][:200]})") from None
        self.ranges: dict[str, list[str]] = self.manager.subscripts
        self.mapping: dict[str, list[str]] = self.manager.mapping
        self.elements = {e for elements in self.ranges.values() for e in elements}
        self._values = self._subscript_values()

    # ------------------------------------------------------------------ variables
    def dims_of(self, components, name: str) -> Dims | None:
        """The final dimensions of a variable from its components' left-hand sides (None: a scalar)."""
        lists = [list(c.subscripts[0]) for c in components]
        if not any(lists):
            return None
        if not all(lists) or len({len(s) for s in lists}) != 1:
            raise UnsupportedConstructError(
                f"{self.where}: variable '{name}' mixes definitions with different numbers of subscripts"
            )
        for subs in lists:
            self._check_known(subs, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            merged = self.manager.make_merge_list(lists, name)
        if any(m is None for m in merged):
            raise ModelError(f"{self.where}: variable '{name}': cannot find subscript ranges for {lists}")
        return Dims(tuple(merged), tuple(tuple(self.ranges[m]) for m in merged))

    def domain(self, component, dims: Dims, name: str) -> Domain:
        """The loop nest a component defines, positions along the variable's dimensions."""
        subs = list(component.subscripts[0])
        coords = self.manager.make_coord_dict(subs)
        if len(coords) != len(subs) or len(subs) != len(dims.names):
            raise UnsupportedConstructError(f"{self.where}: variable '{name}' repeats a subscript range on its left side")
        context: Context = {}
        loops = []
        for var, ((range_name, elements), final) in enumerate(zip(coords.items(), dims.elements, strict=True)):
            where = _positions(final)
            missing = [e for e in elements if e not in where]
            if missing:
                raise ModelError(f"{self.where}: variable '{name}': element {missing[0]!r} is not in its range")
            context[range_name] = (var, tuple(elements))
            loops.append((var, tuple(elements), tuple(where[e] for e in elements)))
        skip: set[tuple[int, ...]] = set()
        for excepted in component.subscripts[1]:
            self._check_known(excepted, name)
            removed = list(self.manager.make_coord_dict(list(excepted)).values())
            if len(removed) != len(loops):
                raise UnsupportedConstructError(
                    f"{self.where}: variable '{name}': an :EXCEPT: list must name one element or range per subscript"
                )
            axes = [[i for i, e in enumerate(loop[1]) if e in set(r)] for loop, r in zip(loops, removed, strict=True)]
            skip |= set(_product(axes))
        return Domain(context, tuple(loops), frozenset(skip))

    # ------------------------------------------------------------------ references
    def index(self, subs: list[str], dims: Dims, context: Context, variable: str, name: str) -> tuple[At | Over, ...]:
        """The positions a reference ``variable[subs]`` reads, for every loop position of ``context``."""
        self._check_known(subs, name)
        if len(subs) != len(dims.names):
            raise ModelError(
                f"{self.where}: variable '{name}' refers to '{variable}' with {len(subs)} subscripts; it has "
                f"{len(dims.names)} ({', '.join(dims.names)})"
            )
        coords = self.manager.make_coord_dict(list(subs))
        if len(coords) != len(subs):
            raise UnsupportedConstructError(
                f"{self.where}: variable '{name}' refers to '{variable}' with a repeated subscript range"
            )
        axes: list[At | Over] = []
        for (range_name, elements), original in zip(coords.items(), dims.elements, strict=True):
            if len(elements) == 1:  # an element (or a range of one): that position, the dimension dropped
                element = elements[0]
                if element not in original:
                    raise ModelError(
                        f"{self.where}: variable '{name}' refers to '{variable}[{element}]', but '{element}' is not "
                        f"one of its elements (allowed: {', '.join(original[:12])}{' ...' if len(original) > 12 else ''})"
                    )
                axes.append(At(original.index(element)))
                continue
            if len(elements) == len(original):
                to_original = list(range(len(elements)))  # equal length: positional, as PySD
            else:
                where = _positions(original)
                absent = [e for e in elements if e not in where]
                if absent:
                    raise ModelError(
                        f"{self.where}: variable '{name}' refers to '{variable}[{range_name}]', but '{absent[0]}' is not "
                        f"one of its elements (allowed: {', '.join(original[:12])})"
                    )
                to_original = [where[e] for e in elements]
            bound = range_name
            if bound not in context and not bound.endswith("!"):
                for mapped in self.mapping.get(range_name, []):
                    if mapped in context and mapped not in coords:
                        bound = mapped
                        break
            if bound not in context:
                raise UnsupportedConstructError(
                    f"{self.where}: variable '{name}' refers to '{variable}[{range_name}]', but '{range_name}' is "
                    "not a subscript of its own equation (nor mapped to one, nor summed over with '!')"
                )
            var, loop_elements = context[bound]
            if bound == range_name:
                where = _positions(elements)
                absent = [e for e in loop_elements if e not in where]
                if absent:
                    raise ModelError(
                        f"{self.where}: variable '{name}': element '{absent[0]}' of '{range_name}' is not in "
                        f"'{variable}[{range_name}]'"
                    )
                along = [where[e] for e in loop_elements]
            else:  # a mapping: position by position
                if len(loop_elements) != len(elements):
                    raise ModelError(
                        f"{self.where}: variable '{name}': range '{range_name}' is mapped to '{bound}', which has "
                        f"{len(loop_elements)} elements, not {len(elements)}"
                    )
                along = list(range(len(loop_elements)))
            table = tuple(to_original[p] for p in along)
            axes.append(Over(var, None if table == tuple(range(len(table))) else table))
        return tuple(axes)

    def whole(self, dims: Dims) -> list[str]:
        """The subscripts of an unsubscripted reference to an array: its own ranges, aligned by name."""
        return list(dims.names)

    def bang_ranges(self, subs) -> list[str]:
        return [s for s in subs if s.endswith("!")]

    def range_elements(self, range_name: str) -> tuple[str, ...]:
        return tuple(self.ranges[range_name.rstrip("!")])

    # ------------------------------------------------------------------ subscripts used as numbers
    def _subscript_values(self) -> dict[str, tuple[str | None, tuple[float, ...]]]:
        """PySD's ``subscript2num``: a range is the 1-based positions of its elements in its main
        range, over that range; an element is its own position."""
        values: dict[str, tuple[str | None, tuple[float, ...]]] = {}
        for main, subranges in self.manager.subranges.items():
            elements = self.ranges[main]
            values[clean_reference(main)] = (main, tuple(float(i) for i in range(1, len(elements) + 1)))
            for i, element in enumerate(elements, start=1):
                values[clean_reference(element)] = (None, (float(i),))
            for sub in subranges:
                where = _positions(elements)
                values[clean_reference(sub)] = (sub, tuple(float(where[e] + 1) for e in self.ranges[sub]))
        return values

    def as_value(self, reference: str, context: Context, name: str):
        """A subscript range or element used as a number in an equation (None: not a subscript)."""
        found = self._values.get(reference)
        if found is None:
            return None
        range_name, numbers = found
        if range_name is None:
            return numbers[0]
        if range_name not in context:
            raise UnsupportedConstructError(
                f"{self.where}: variable '{name}' uses the range '{range_name}' as a number outside an equation "
                "subscripted by it"
            )
        var, loop_elements = context[range_name]
        elements = self.ranges[range_name]
        where = _positions(elements)
        table = tuple(numbers[where[e]] for e in loop_elements)
        return LoopValue((var,), (len(table),), table)

    # ------------------------------------------------------------------ checks
    def _check_known(self, subs, name: str) -> None:
        for sub in subs:
            bare = sub[:-1] if sub.endswith("!") else sub
            if bare in self.ranges or bare in self.elements:
                continue
            close = difflib.get_close_matches(bare, list(self.ranges) + sorted(self.elements), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ModelError(f"{self.where}: variable '{name}' uses the subscript {bare!r}, which is not defined{hint}")


def _positions(elements) -> dict[str, int]:
    """Element -> its position (the first, as list.index gives)."""
    where: dict[str, int] = {}
    for i, element in enumerate(elements):
        where.setdefault(element, i)
    return where


def _product(axes: list[list[int]]) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(*axes))
