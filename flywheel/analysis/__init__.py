"""Analyses on top of the core: loops and loop dominance, verification, uncertain inputs.

The loop functions are imported on first use so that ``import flywheel.analysis.ranges`` stays light."""

from __future__ import annotations

from typing import Any

__all__ = ["links", "loop_dominance", "loops"]

_LAZY = {"links": ".links", "loops": ".loops", "loop_dominance": ".dominance"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flywheel.analysis' has no attribute {name!r}")
