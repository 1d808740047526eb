"""Uncertain inputs of the flywheel model for the uncertainty tests, found through the model's metadata.

The tests need a few constants with documented ranges; picking them through the profile (its
assumptions: the judgement numbers a leadership team is asked about) and the documentation ("judgement"),
with ranges read from the model, lets the tests survive a rework that renames constants or narrows
their documented ranges.
"""

from __future__ import annotations


def documented(model, name: str) -> tuple[float, float]:
    """The documented range of a constant, as floats."""
    low, high = model.variables[name].limits
    return float(low), float(high)


def _ranged(model, name: str) -> bool:
    info = model.variables.get(name)
    if info is None or info.kind != "constant" or None in info.limits:
        return False
    low, high = info.limits
    return 0 < low < high  # a positive lower end: lognormal ranges fit inside


def judgement_constants(model, k: int | None = None) -> list[str]:
    """``k`` (default: all) constants a leadership team is unsure of, each with a documented range of
    positive width and a positive lower end: the profile's assumptions (the shock excepted), then the
    constants the model documents as judgement, in model order (on the second model: Trust Erosion Time,
    Miss Tolerance, Overlay Budget, Market Assessment Time, ...)."""
    from flywheel import load_profile

    profile = load_profile(model)
    shock = {profile.shock_size, profile.shock_month}
    levers = {f"{lever} {side}" for lever in profile.lever_names for side in ("Before", "After")}
    names = [a.name for a in profile.assumptions if a.name not in shock]
    names += [n for n in model.constants if "judgement" in (model.variables[n].documentation or "")]
    names = [n for n in dict.fromkeys(names) if n not in levers and _ranged(model, n)]
    if k is None:
        return names
    assert len(names) >= k, f"the model documents only {len(names)} ranged judgement constants: {names}"
    return names[:k]


def documented_ranges(model, k: int) -> dict[str, tuple[float, float]]:
    """The first ``k`` judgement constants over their documented ranges."""
    return {name: documented(model, name) for name in judgement_constants(model, k)}


def misspelt(name: str) -> str:
    """The name with two letters of its last word swapped ("Trust Erosion Time" -> "Trust Erosion Tiem")."""
    return name[:-2] + name[-1] + name[-2]


def moving_ranges(model) -> dict[str, tuple[float, float]]:
    """The profile's first lever after its switch month and its first judgement constant, over their
    documented ranges. Judgement constants alone may leave the status quo untouched (it is an equilibrium
    for any of them), so every member would be the same run; the lever moves each run its own way."""
    from flywheel import load_profile

    lever = load_profile(model).levers[0].after
    name = judgement_constants(model, 1)[0]
    return {lever: documented(model, lever), name: documented(model, name)}
