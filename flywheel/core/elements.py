"""Subscripted variables in the core: element names, whole arrays as inputs, coordinates of results.

An element is named as PySD names its output column, ``Name[a,b]`` (elements in the order of the
variable's subscript ranges, no spaces after the commas); a whole array is named by the variable's own
name. Inputs for a whole array are checked here once (a number for every element, a numpy array or
nested list of the array's shape, or an ``xarray.DataArray`` with the array's dimension names), so that
a run specification only ever holds element values.
"""

from __future__ import annotations

import difflib
import itertools
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:
    from .compiled import CompiledModel

_ELEMENT = re.compile(r"\s*(.*?)\s*\[(.*)\]\s*", re.S)


def split(name: str) -> tuple[str, list[str] | None]:
    """``"Stock[a, b]"`` -> ``("Stock", ["a", "b"])``; a name without subscripts -> ``(name, None)``."""
    match = _ELEMENT.fullmatch(name)
    if not match:
        return name, None
    parts, current, quoted = [], "", False
    for char in match.group(2):  # commas inside a quoted element ("a,b") do not separate
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return match.group(1), [*parts, current.strip()]


def element_name(base: str, elements: list[str] | tuple[str, ...]) -> str:
    return f"{base}[{','.join(elements)}]"


def base_name(name: str) -> str:
    return split(name)[0]


def array_info(model: CompiledModel, base: str) -> dict | None:
    """``{"dims": [...], "coords": [[...], ...]}`` of a subscripted variable, or None."""
    return model.layout.arrays.get(base)


def element_names(model: CompiledModel, base: str) -> list[str]:
    """Every element of an array, row-major (the order of its output columns)."""
    info = array_info(model, base)
    if info is None:
        return [base]
    return [element_name(base, combo) for combo in itertools.product(*info["coords"])]


def _loose(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower().strip('"'))


def resolve_element(model: CompiledModel, base: str, subs: list[str], where: str) -> str:
    """The model's spelling of element ``base[subs]``: each element matched exactly, or ignoring case,
    spaces and underscores; an unknown one names the range, what is allowed and the closest match."""
    info = array_info(model, base)
    if info is None:
        raise ParameterError(f"{where}: {base!r} has no subscripts; use {base!r} without [...]")
    dims, coords = info["dims"], info["coords"]
    if len(subs) != len(dims):
        raise ParameterError(
            f"{where}: {base!r} has {len(dims)} subscript{'s' if len(dims) != 1 else ''} ({', '.join(dims)}), "
            f"got [{', '.join(subs)}]"
        )
    chosen = []
    for sub, dim, elements in zip(subs, dims, coords, strict=True):
        if sub in elements:
            chosen.append(sub)
            continue
        loose = {_loose(e): e for e in elements}
        if _loose(sub) in loose:
            chosen.append(loose[_loose(sub)])
            continue
        close = difflib.get_close_matches(sub, elements, n=2, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(elements[:10]) + (" ..." if len(elements) > 10 else "")
        raise ParameterError(f"{where}: {sub!r} is not an element of {dim!r} in {base!r} (allowed: {shown}){hint}")
    return element_name(base, chosen)


def array_items(model: CompiledModel, base: str, value: Any, where: str) -> list[tuple[str, Any]]:
    """A value for a whole array as (element name, value) pairs: a number (every element), a numpy array
    or nested list of the array's shape, or an xarray.DataArray with the array's dimensions."""
    info = array_info(model, base)
    names = element_names(model, base)
    dims, coords = info["dims"], info["coords"]
    shape = tuple(len(c) for c in coords)
    described = ", ".join(f"{d}: {len(c)}" for d, c in zip(dims, coords, strict=True))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return [(name, value) for name in names]
    if hasattr(value, "dims") and hasattr(value, "transpose") and hasattr(value, "coords"):  # xarray
        if set(value.dims) != set(dims):
            raise ParameterError(
                f"{where}: {base!r} is an array over ({described}); the DataArray has dimensions {tuple(value.dims)}"
            )
        value = value.transpose(*dims)
        for dim, elements in zip(dims, coords, strict=True):
            given = [str(c) for c in value.coords[dim].values] if dim in value.coords else list(elements)
            if given != list(elements):
                if sorted(given) != sorted(elements):
                    raise ParameterError(f"{where}: {base!r}: the DataArray's {dim!r} must be {', '.join(elements)}")
                value = value.sel({dim: list(elements)})
        value = value.values
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{where}: {base!r} is an array over ({described}); give a number, an array of shape {shape} or an "
            f"xarray.DataArray, got {type(value).__name__}"
        ) from None
    if array.shape != shape:
        raise ParameterError(f"{where}: {base!r} is an array over ({described}), shape {shape}; got shape {array.shape}")
    return list(zip(names, (float(v) for v in array.ravel()), strict=True))


def coords_of(model: CompiledModel, base: str) -> tuple[list[str], list[list[str]]]:
    info = array_info(model, base)
    return list(info["dims"]), [list(c) for c in info["coords"]]
