"""What an analysis runs on: a model (its defaults) or a scenario (its levers and settings as the base).

Every uncertainty analysis takes ``model_or_scenario`` as a ``Model``, a ``Scenario``, or a path to a
model file (.mdl, .xmile, .stmx) or a scenario file (.toml); this module turns any of them into the
model, the base run specification, a name and a title, and picks the default ranges (the scenario's
``[ranges]`` table, else the model's documented ranges).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .ranges import Ranges, load_ranges

_MODEL_SUFFIXES = (".mdl", ".xmile", ".stmx", ".xml")


@dataclass(frozen=True)
class Subject:
    """A model or scenario ready to analyse: ``spec`` is the base every member starts from."""

    model: Any  # flywheel.Model
    spec: Any  # flywheel.RunSpec
    name: str
    title: str
    scenario: Any = None  # flywheel.Scenario, or None for the model's defaults


def subject(source: Any, model: Any = None) -> Subject:
    """A ``Subject`` from a Model, a Scenario, or a path to either (one clear line for anything else)."""
    from ..core import Model, load_model
    from ..scenarios import Scenario, get_model, load_scenario

    if isinstance(source, Subject):
        return source
    if isinstance(source, Model):
        return Subject(source, source.spec(), source.name, source.name)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix.lower() == ".toml":
            source = load_scenario(path, model=model)
        elif path.suffix.lower() in _MODEL_SUFFIXES:
            loaded = load_model(path)
            return Subject(loaded, loaded.spec(), loaded.name, loaded.name)
        else:
            raise ParameterError(
                f"{path}: expected a model file (.mdl, .xmile, .stmx) or a scenario file (.toml)"
            )
    if isinstance(source, Scenario):
        loaded = model if model is not None else get_model(source.model_path)
        return Subject(loaded, source.spec(loaded), source.name, source.title or source.name, source)
    raise ParameterError(
        f"expected a flywheel Model, a Scenario or the path of a model or scenario file, got {type(source).__name__}"
    )


def subjects(sources: Any) -> list[Subject]:
    """Several subjects (one or a list); they must share one model (one sample, one set of ranges)."""
    items = list(sources) if isinstance(sources, (list, tuple)) else [sources]
    if not items:
        raise ParameterError("name at least one model or scenario")
    first = subject(items[0])
    result = [first] + [subject(item) for item in items[1:]]
    for other in result[1:]:
        if other.model.compiled.key != first.model.compiled.key:
            raise ParameterError(
                f"{other.name}: runs on {other.model.path.name}, but {first.name} on {first.model.path.name}; "
                "compare scenarios of one model"
            )
    names = [s.name for s in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ParameterError(f"scenario {duplicates[0]!r} is given twice; each needs its own name")
    return result


def ranges_for(source: Any, the_subject: Subject) -> Ranges:
    """The ranges asked for, or the scenario's ``[ranges]``, or the model's documented ranges."""
    if source is None and the_subject.scenario is not None and the_subject.scenario.ranges:
        source = the_subject.scenario
    ranges = load_ranges(source, the_subject.model)
    if len(ranges) == 0:
        raise ParameterError(
            f"{the_subject.model.path.name}: no ranges given and no constant documents a range; "
            "pass ranges as a TOML file or a dict {name: (low, high)}"
        )
    return ranges


def time_unit(model: Any) -> str:
    """The time unit for labels: the profile's, else the units of the model's TIME STEP, else "Time"."""
    from ..scenarios import load_profile

    unit = load_profile(model).time_unit
    if not unit:
        info = model.variables.get("TIME STEP")
        unit = (info.units if info is not None else "") or ""
    return unit.strip() or "Time"
