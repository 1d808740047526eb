"""Scenarios (TOML files of what-ifs) and model profiles (what a view needs to know about a model)."""

from .profile import Assumption, Lever, Measure, Panel, Profile, load_profile, profile_path
from .scenario import (
    Scenario,
    ScenarioListing,
    SimulationSettings,
    get_model,
    list_scenarios,
    load_scenario,
    run_scenario,
)

__all__ = [
    "Assumption",
    "Lever",
    "Measure",
    "Panel",
    "Profile",
    "Scenario",
    "ScenarioListing",
    "SimulationSettings",
    "get_model",
    "list_scenarios",
    "load_profile",
    "load_scenario",
    "profile_path",
    "run_scenario",
]
