"""Scenario files out of settings, and scenarios out of uploaded bytes: the page's way in and out.

``scenario_text`` writes a scenario TOML that ``load_scenario`` (and so ``flywheel run``) reads back to
exactly the same constant overrides: the profile's levers go to ``[policy.before]``, ``[policy.after]``
and ``[policy.switch]`` (every lever spelled out, so a manager reads the whole plan), every other
constant to ``[parameters]``. ``scenario_from_bytes`` checks an uploaded file against the model that is
already loaded (the file's own ``model`` path means nothing on the uploader's machine) and names the
uploaded file, not a temporary copy, in every message.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ..errors import ScenarioError
from .profile import load_profile
from .scenario import Scenario, SimulationSettings, load_scenario

if TYPE_CHECKING:
    from ..core import Model

__all__ = ["scenario_from_bytes", "scenario_text"]


def scenario_text(
    title: str,
    model: Model,
    params: Mapping[str, float],
    *,
    description: str = "",
    simulation: SimulationSettings | None = None,
    model_reference: str | None = None,
) -> str:
    """A scenario file setting ``params`` (constant -> value) on ``model``, readable by ``load_scenario``.

    ``model_reference`` is the ``model = ...`` line (default: the model file's absolute path, so the file
    runs wherever it is saved on this machine)."""
    profile = load_profile(model)
    remaining = {name: float(value) for name, value in params.items()}
    for name, value in remaining.items():
        if not math.isfinite(value):
            raise ScenarioError(f"{name} = {value}: a scenario value must be a finite number")
    before, after, switch = {}, {}, {}
    for lever in profile.levers:
        if lever.before in remaining and lever.after in remaining:
            before[lever.name] = remaining.pop(lever.before)
            after[lever.name] = remaining.pop(lever.after)
        if lever.switch is not None and lever.switch in remaining and lever.name in after:
            switch[lever.name] = remaining.pop(lever.switch)
    lines = [
        f"title = {_string(title)}",
        *([f"description = {_string(description)}"] if description else []),
        "# The model file; edit this path if you move the model or send this file to someone else.",
        f"model = {_string(model_reference or str(Path(model.path).resolve()))}",
    ]
    if remaining:
        lines += ["", "[parameters]", *(f"{_string(k)} = {_number(v)}" for k, v in remaining.items())]
    for table, values, note in (
        ("policy.before", before, "today's practice: each lever's value before its switch month"),
        ("policy.after", after, "the plan: each lever's value from its switch month on"),
        ("policy.switch", switch, "the month each lever switches"),
    ):
        if values:
            lines += ["", f"# {note}", f"[{table}]", *(f"{_string(k)} = {_number(v)}" for k, v in values.items())]
    settings = simulation or SimulationSettings()
    sim = [(key, getattr(settings, key)) for key in ("final_time", "time_step", "saveper", "method")]
    sim = [(key, value) for key, value in sim if value is not None]
    if sim:
        lines += ["", "[simulation]"]
        lines += [f"{key} = {_string(value) if isinstance(value, str) else _number(value)}" for key, value in sim]
    return "\n".join(lines) + "\n"


def scenario_from_bytes(data: bytes, filename: str, model: Model) -> Scenario:
    """Check an uploaded scenario file against ``model``; one line naming ``filename`` for any mistake.

    The file must name a model file of the same name as ``model``'s (its folder may differ)."""
    name = PurePath(filename or "upload.toml").name or "upload.toml"
    if not name.lower().endswith(".toml"):
        raise ScenarioError(f"{name}: expected a scenario file ending in .toml")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: invalid TOML: {exc}") from None
    named = raw.get("model")
    if isinstance(named, str) and PurePath(named.replace("\\", "/")).name != Path(model.path).name:
        raise ScenarioError(
            f"{name}: model = {json.dumps(named)}: this page runs {Path(model.path).name}; "
            "upload a scenario of that model"
        )
    with tempfile.TemporaryDirectory(prefix="flywheel-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return load_scenario(path, model=model)
        except ScenarioError as exc:
            message = str(exc).replace(str(path), name).replace(folder + os.sep, "")
            raise ScenarioError(message) from None


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def _number(value: float) -> str:
    """The shortest text that reads back as the same float (integers without a fraction)."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
