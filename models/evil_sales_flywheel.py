"""
Python model 'evil_sales_flywheel.py'
Translated using PySD
"""

from pathlib import Path
import numpy as np

from pysd.py_backend.functions import if_then_else, pulse, xidz, zidz, step
from pysd.py_backend.statefuls import Integ, Smooth
from pysd import Component

__pysd_version__ = "3.14.3"

__data = {"scope": None, "time": lambda: 0}

_root = Path(__file__).parent


component = Component()

#######################################################################
#                          CONTROL VARIABLES                          #
#######################################################################

_control_vars = {
    "initial_time": lambda: 0,
    "final_time": lambda: 120,
    "time_step": lambda: 0.25,
    "saveper": lambda: 1,
}


def _init_outer_references(data):
    for key in data:
        __data[key] = data[key]


@component.add(name="Time")
def time():
    """
    Current time of the model.
    """
    return __data["time"]()


@component.add(
    name="FINAL TIME",
    units="Month",
    limits=(1.0, 600.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def final_time():
    """
    The final time for the simulation.
    """
    return __data["time"].final_time()


@component.add(
    name="INITIAL TIME",
    units="Month",
    limits=(0.0, 0.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def initial_time():
    """
    The initial time for the simulation.
    """
    return __data["time"].initial_time()


@component.add(
    name="SAVEPER",
    units="Month",
    limits=(0.0078125, 12.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def saveper():
    """
    The frequency with which output is stored.
    """
    return __data["time"].saveper()


@component.add(
    name="TIME STEP",
    units="Month",
    limits=(0.0078125, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def time_step():
    """
    The time step for the simulation (Euler).
    """
    return __data["time"].time_step()


#######################################################################
#                           MODEL VARIABLES                           #
#######################################################################


@component.add(
    name="Policy Switch Month",
    units="Month",
    limits=(0.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def policy_switch_month():
    """
    Month at which every lever switches from its Before to its After value. Irrelevant while Before = After. Default 12 (judgement).
    """
    return 12


@component.add(
    name="Overlay Response Before",
    units="Overlays/Month",
    limits=(0.0, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def overlay_response_before():
    """
    Overlay reflex before the policy switch: overlay headcount (per 10 sellers) that management creates per month at full prescriptiveness. Status quo 0.15 (judgement, calibrated so that the status quo carries about 1.4 overlay FTE per 10 sellers).
    """
    return 0.15


@component.add(
    name="Overlay Response After",
    units="Overlays/Month",
    limits=(0.0, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def overlay_response_after():
    """
    Overlay reflex from Policy Switch Month on. 0 = management resists adding overlays. Default = status quo 0.15 (judgement).
    """
    return 0.15


@component.add(
    name="Overlay Response",
    units="Overlays/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "time": 1,
        "policy_switch_month": 1,
        "overlay_response_after": 1,
        "overlay_response_before": 1,
    },
)
def overlay_response():
    """
    Effective overlay reflex: how strongly management adds overlay functions per unit of prescriptiveness (distrust times perceived shortfall).
    """
    return if_then_else(
        time() >= policy_switch_month(),
        lambda: overlay_response_after(),
        lambda: overlay_response_before(),
    )


@component.add(
    name="Deep Dive Share Before",
    units="Dmnl",
    limits=(0.0, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def deep_dive_share_before():
    """
    Share of management time spent in deep dives into customers and deals and in root-cause analysis of misses, before the policy switch. Status quo 0.02: dashboard management, managers rarely join the field (judgement).
    """
    return 0.02


@component.add(
    name="Deep Dive Share After",
    units="Dmnl",
    limits=(0.0, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def deep_dive_share_after():
    """
    Share of management time in deep dives and root-cause analysis from Policy Switch Month on. Default = status quo 0.02; the deep-dive remedy uses 0.3 (judgement).
    """
    return 0.02


@component.add(
    name="Deep Dive Share",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "time": 1,
        "policy_switch_month": 1,
        "deep_dive_share_after": 1,
        "deep_dive_share_before": 1,
    },
)
def deep_dive_share():
    """
    Effective share of management time in deep dives and root-cause work.
    """
    return if_then_else(
        time() >= policy_switch_month(),
        lambda: deep_dive_share_after(),
        lambda: deep_dive_share_before(),
    )


@component.add(
    name="Overlay Lifetime Before",
    units="Month",
    limits=(6.0, 240.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def overlay_lifetime_before():
    """
    Average life of an overlay function before the policy switch. Status quo 60 months: overlays are institutionalised and rarely retired (judgement).
    """
    return 60


@component.add(
    name="Overlay Lifetime After",
    units="Month",
    limits=(6.0, 240.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def overlay_lifetime_after():
    """
    Average life of an overlay function from Policy Switch Month on. Default = status quo 60; a management that resists institutionalising overlays retires them within about 12 months (judgement).
    """
    return 60


@component.add(
    name="Overlay Lifetime",
    units="Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "time": 1,
        "policy_switch_month": 1,
        "overlay_lifetime_after": 1,
        "overlay_lifetime_before": 1,
    },
)
def overlay_lifetime():
    """
    Effective average life of an overlay function.
    """
    return if_then_else(
        time() >= policy_switch_month(),
        lambda: overlay_lifetime_after(),
        lambda: overlay_lifetime_before(),
    )


@component.add(
    name="Review Period Before",
    units="Month",
    limits=(1.0, 12.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def review_period_before():
    """
    Period over which management averages attainment before it reacts, before the policy switch. Status quo 3 months: quarterly business reviews (judgement, common practice).
    """
    return 3


@component.add(
    name="Review Period After",
    units="Month",
    limits=(1.0, 12.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def review_period_after():
    """
    Attainment averaging period from Policy Switch Month on. Default = status quo 3 months.
    """
    return 3


@component.add(
    name="Review Period",
    units="Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "time": 1,
        "policy_switch_month": 1,
        "review_period_after": 1,
        "review_period_before": 1,
    },
)
def review_period():
    """
    Effective period over which management averages attainment.
    """
    return if_then_else(
        time() >= policy_switch_month(),
        lambda: review_period_after(),
        lambda: review_period_before(),
    )


@component.add(
    name="Reference Market Potential",
    units="Revenue/Month",
    limits=(0.0, 1000.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def reference_market_potential():
    """
    Monthly revenue the served market could buy from the firm before any shock (revenue units, e.g. million EUR). Scale only: results are reported as ratios (judgement).
    """
    return 10


@component.add(
    name="Market Shock Size",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def market_shock_size():
    """
    Permanent fractional drop of market potential from Market Shock Month on (0.1 = 10 % drop). Default 0: no shock.
    """
    return 0


@component.add(
    name="Market Shock Month",
    units="Month",
    limits=(0.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def market_shock_month():
    """
    Month in which the market shock happens. Default 12.
    """
    return 12


@component.add(
    name="Market Shock",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"market_shock_size": 1, "time": 1, "market_shock_month": 1},
)
def market_shock():
    """
    Fraction of the reference market potential lost to the shock (a step input).
    """
    return market_shock_size() * step(__data["time"], 1, market_shock_month())


@component.add(
    name="Market Potential",
    units="Revenue/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"reference_market_potential": 1, "market_shock": 1},
)
def market_potential():
    """
    Monthly revenue the served market could buy from the firm.
    """
    return reference_market_potential() * (1 - market_shock())


@component.add(
    name="Status Quo Attainment",
    units="Dmnl",
    limits=(0.5, 0.99),
    comp_type="Constant",
    comp_subtype="Normal",
)
def status_quo_attainment():
    """
    Attainment of plan in the status quo: firms reach about 94 % of plan while about 55 % of reps make quota (CSO Insights 2018). It calibrates the Target Error Scale so that the status quo is an equilibrium at this attainment.
    """
    return 0.94


@component.add(
    name="Target Revision Time",
    units="Month",
    limits=(1.0, 24.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def target_revision_time():
    """
    Time for management's view of what the sales force can actually sell to follow actual sales (half-yearly quota revisions; judgement).
    """
    return 6


@component.add(
    name="Perceived Sales Capacity",
    units="Revenue/Month",
    comp_type="Stateful",
    comp_subtype="Smooth",
    depends_on={"_smooth_perceived_sales_capacity": 1},
    other_deps={
        "_smooth_perceived_sales_capacity": {
            "initial": {"sales": 1},
            "step": {"sales": 1, "target_revision_time": 1},
        }
    },
)
def perceived_sales_capacity():
    """
    Management's view of what the sales force actually sells in the present market, from recent sales (first-order smoothing over Target Revision Time).
    """
    return _smooth_perceived_sales_capacity()


_smooth_perceived_sales_capacity = Smooth(
    lambda: sales(),
    lambda: target_revision_time(),
    lambda: sales(),
    lambda: 1,
    "_smooth_perceived_sales_capacity",
)


@component.add(
    name="Legacy Sales Plan",
    units="Revenue/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"reference_market_potential": 1, "status_quo_sales_efficiency": 1},
)
def legacy_sales_plan():
    """
    The plan management is anchored on when it does not understand the market: the status-quo sales volume at the pre-shock market potential.
    """
    return reference_market_potential() * status_quo_sales_efficiency()


@component.add(
    name="Target Basis",
    units="Revenue/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "management_understanding": 2,
        "perceived_sales_capacity": 1,
        "legacy_sales_plan": 1,
    },
)
def target_basis():
    """
    Sales volume management plans from. With understanding it plans from what the sales force actually sells in today's market; without it, it keeps planning from the legacy plan ("quotas without proper analysis of business potential").
    """
    return (
        management_understanding() * perceived_sales_capacity()
        + (1 - management_understanding()) * legacy_sales_plan()
    )


@component.add(
    name="Target Error Scale",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"status_quo_attainment": 1, "status_quo_understanding": 1},
)
def target_error_scale():
    """
    Target error at zero understanding. Derived so that the status quo reaches Status Quo Attainment: (1/attainment - 1) / (1 - status-quo understanding).
    """
    return zidz(1 / status_quo_attainment() - 1, 1 - status_quo_understanding())


@component.add(
    name="Target Error",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"target_error_scale": 1, "management_understanding": 1},
)
def target_error():
    """
    Fraction by which targets exceed what the market and the sales force can deliver because management misreads the buying decision: quotas above true potential, products the customer is not ready for, underestimated sales-cycle complexity. Falls linearly with understanding.
    """
    return target_error_scale() * (1 - management_understanding())


@component.add(
    name="Sales Target",
    units="Revenue/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"target_basis": 1, "target_error": 1},
)
def sales_target():
    """
    Monthly sales target (quota) set by management.
    """
    return target_basis() * (1 + target_error())


@component.add(
    name="Target Attainment",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"sales": 1, "sales_target": 1},
)
def target_attainment():
    """
    Sales divided by target. Defined as 1 when the target is 0 (nothing is expected, nothing is missed).
    """
    return xidz(sales(), sales_target(), 1)


@component.add(
    name="Perceived Attainment",
    units="Dmnl",
    limits=(0.0, np.nan),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_perceived_attainment": 1},
    other_deps={
        "_integ_perceived_attainment": {
            "initial": {"status_quo_attainment": 1},
            "step": {"attainment_perception_change": 1},
        }
    },
)
def perceived_attainment():
    """
    Management's view of attainment: first-order smoothing of Target Attainment over the Review Period (quarterly reviews by default). Starts at the status-quo attainment.
    """
    return _integ_perceived_attainment()


_integ_perceived_attainment = Integ(
    lambda: attainment_perception_change(),
    lambda: status_quo_attainment(),
    "_integ_perceived_attainment",
)


@component.add(
    name="Attainment Perception Change",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"target_attainment": 1, "perceived_attainment": 1, "review_period": 1},
)
def attainment_perception_change():
    """
    Adjustment of perceived attainment towards actual attainment.
    """
    return (target_attainment() - perceived_attainment()) / review_period()


@component.add(
    name="Perceived Shortfall",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"perceived_attainment": 1},
)
def perceived_shortfall():
    """
    Perceived gap to target (0 when targets are met or exceeded).
    """
    return float(np.maximum(0, 1 - perceived_attainment()))


@component.add(
    name="Shortfall Half Pressure",
    units="Dmnl",
    limits=(0.01, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def shortfall_half_pressure():
    """
    Perceived shortfall at which the shortfall pressure is half its maximum (judgement).
    """
    return 0.15


@component.add(
    name="Shortfall Pressure",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"perceived_shortfall": 2, "shortfall_half_pressure": 1},
)
def shortfall_pressure():
    """
    How much the perceived shortfall weighs on management (0 = targets met, approaches 1 for large misses); saturating.
    """
    return perceived_shortfall() / (perceived_shortfall() + shortfall_half_pressure())


@component.add(
    name="Trust",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_trust": 1},
    other_deps={
        "_integ_trust": {
            "initial": {"status_quo_trust": 1},
            "step": {"trust_building": 1, "trust_erosion": 1},
        }
    },
)
def trust():
    """
    Trust between management and sales (0 = none, 1 = full). Inflow proportional to (1 - Trust), outflow proportional to Trust: stays in [0,1].
    """
    return _integ_trust()


_integ_trust = Integ(
    lambda: trust_building() - trust_erosion(),
    lambda: status_quo_trust(),
    "_integ_trust",
)


@component.add(
    name="Trust Building Time",
    units="Month",
    limits=(3.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def trust_building_time():
    """
    Time to build trust when targets are met (judgement; trust builds about three times more slowly than it erodes, Slovic 1993, "Perceived risk, trust and democracy").
    """
    return 24


@component.add(
    name="Trust Erosion Time",
    units="Month",
    limits=(1.0, 60.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def trust_erosion_time():
    """
    Time for missed targets to erode trust (judgement: a third of Trust Building Time, after Slovic 1993).
    """
    return 8


@component.add(
    name="Joint Work Trust Weight",
    units="Dmnl",
    limits=(0.0, 4.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def joint_work_trust_weight():
    """
    Trust built by managers working alongside sales in deep dives, per unit of Deep Dive Share, relative to the credit from met targets (judgement).
    """
    return 2


@component.add(
    name="Delivery Credit",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"shortfall_pressure": 1},
)
def delivery_credit():
    """
    Credit sales earns from management by meeting targets (1 = targets met).
    """
    return 1 - shortfall_pressure()


@component.add(
    name="Joint Work Credit",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"deep_dive_share": 1, "joint_work_trust_weight": 1},
)
def joint_work_credit():
    """
    Credit from managers joining the field, meeting decision makers and working deals alongside sales.
    """
    return deep_dive_share() * joint_work_trust_weight()


@component.add(
    name="Trust Building",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "trust": 1,
        "delivery_credit": 1,
        "joint_work_credit": 1,
        "trust_building_time": 1,
    },
)
def trust_building():
    """
    Trust gained from met targets and from joint work in deep dives.
    """
    return (
        (1 - trust())
        * (delivery_credit() + joint_work_credit())
        / trust_building_time()
    )


@component.add(
    name="Trust Erosion",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"trust": 1, "shortfall_pressure": 1, "trust_erosion_time": 1},
)
def trust_erosion():
    """
    Trust lost to missed targets.
    """
    return trust() * shortfall_pressure() / trust_erosion_time()


@component.add(
    name="Candour",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"minimum_candour": 2, "trust": 1},
)
def candour():
    """
    Share of honest explanations sales gives for misses; the rest is blame on the market ("It's the competition!", "Our prices are too high!"). Falls with trust.
    """
    return minimum_candour() + (1 - minimum_candour()) * trust()


@component.add(
    name="Minimum Candour",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def minimum_candour():
    """
    Candour of sales even with no trust in management (judgement).
    """
    return 0.1


@component.add(
    name="Prescriptiveness",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"trust": 1, "shortfall_pressure": 1},
)
def prescriptiveness():
    """
    Urge of management to prescribe how sales cycles are run: it distrusts sales' explanations (1 - Trust) and sees targets missed (Shortfall Pressure), so it concludes that sales lacks capability.
    """
    return (1 - trust()) * shortfall_pressure()


@component.add(
    name="Overlay Functions",
    units="Overlays",
    limits=(0.0, np.nan),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_overlay_functions": 1},
    other_deps={
        "_integ_overlay_functions": {
            "initial": {"status_quo_overlay_functions": 1},
            "step": {
                "overlay_creation": 1,
                "extra_overlay_addition": 1,
                "overlay_retirement": 1,
            },
        }
    },
)
def overlay_functions():
    """
    Overlay headcount (product, industry, installed-base specialists, telesales) per 10 sellers. Outflow proportional to the stock: never negative.
    """
    return _integ_overlay_functions()


_integ_overlay_functions = Integ(
    lambda: overlay_creation() + extra_overlay_addition() - overlay_retirement(),
    lambda: status_quo_overlay_functions(),
    "_integ_overlay_functions",
)


@component.add(
    name="Overlay Creation",
    units="Overlays/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"overlay_response": 1, "prescriptiveness": 1},
)
def overlay_creation():
    """
    New overlay functions created by prescriptive management.
    """
    return overlay_response() * prescriptiveness()


@component.add(
    name="Overlay Retirement",
    units="Overlays/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"overlay_functions": 1, "overlay_lifetime": 1},
)
def overlay_retirement():
    """
    Overlay functions dissolved; slow when overlays are institutionalised (long Overlay Lifetime).
    """
    return overlay_functions() / overlay_lifetime()


@component.add(
    name="Extra Overlays",
    units="Overlays",
    limits=(0.0, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def extra_overlays():
    """
    Test input: overlay FTE per 10 sellers added once at Extra Overlay Month (the "quick fix"). Default 0.
    """
    return 0


@component.add(
    name="Extra Overlay Month",
    units="Month",
    limits=(0.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def extra_overlay_month():
    """
    Month of the one-off Extra Overlays addition. Default 12.
    """
    return 12


@component.add(
    name="Extra Overlay Addition",
    units="Overlays/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "extra_overlays": 1,
        "extra_overlay_month": 1,
        "time_step": 2,
        "time": 1,
    },
)
def extra_overlay_addition():
    """
    One-off inflow that adds Extra Overlays within one time step at Extra Overlay Month (works at any TIME STEP).
    """
    return (
        extra_overlays()
        * pulse(__data["time"], extra_overlay_month(), width=time_step())
        / time_step()
    )


@component.add(
    name="Communication Paths",
    units="Paths",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"overlay_functions": 2},
)
def communication_paths():
    """
    Communication paths n(n-1)/2 in a deal team of n = 1 + Overlay Functions people (the seller plus the overlay specialists who cover that seller). 0 when there are no overlays.
    """
    return overlay_functions() * (overlay_functions() + 1) / 2


@component.add(
    name="Handoff Load per Overlay",
    units="Dmnl/Overlays",
    limits=(0.0, 0.1),
    comp_type="Constant",
    comp_subtype="Normal",
)
def handoff_load_per_overlay():
    """
    Share of seller time spent on per-deal hand-offs, briefings and approvals per overlay FTE per 10 sellers (about one hour a week per overlay; judgement).
    """
    return 0.025


@component.add(
    name="Load per Communication Path",
    units="Dmnl/Paths",
    limits=(0.0, 0.05),
    comp_type="Constant",
    comp_subtype="Normal",
)
def load_per_communication_path():
    """
    Share of seller time spent keeping one communication path in the deal team aligned (meetings, account plans, forecasts; judgement).
    """
    return 0.01


@component.add(
    name="Handoff Load",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"handoff_load_per_overlay": 1, "overlay_functions": 1},
)
def handoff_load():
    """
    Seller time share for per-deal hand-offs with overlays; grows linearly with overlays.
    """
    return handoff_load_per_overlay() * overlay_functions()


@component.add(
    name="Path Load",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"load_per_communication_path": 1, "communication_paths": 1},
)
def path_load():
    """
    Seller time share for keeping the deal team aligned; grows with the square of the team size.
    """
    return load_per_communication_path() * communication_paths()


@component.add(
    name="Indicated Coordination Load",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"handoff_load": 1, "path_load": 1},
)
def indicated_coordination_load():
    """
    Seller time share that the current overlay structure will eventually demand for internal coordination (at most all of it).
    """
    return float(np.minimum(1, handoff_load() + path_load()))


@component.add(
    name="Coordination Buildup Time",
    units="Month",
    limits=(1.0, 36.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def coordination_buildup_time():
    """
    Average time for the coordination routines around overlays (hand-off protocols, alignment meetings, joint account plans, approval steps) to build up or fade (third-order; judgement).
    """
    return 9


@component.add(
    name="Communication Overhead",
    units="Dmnl",
    comp_type="Stateful",
    comp_subtype="Smooth",
    depends_on={"_smooth_communication_overhead": 1},
    other_deps={
        "_smooth_communication_overhead": {
            "initial": {"indicated_coordination_load": 1},
            "step": {"indicated_coordination_load": 1, "coordination_buildup_time": 1},
        }
    },
)
def communication_overhead():
    """
    Share of seller time spent on internal coordination caused by overlays. Follows the indicated load with a third-order delay: a new overlay's coordination cost builds up over months. Exactly 0 when there are no overlays.
    """
    return _smooth_communication_overhead()


_smooth_communication_overhead = Smooth(
    lambda: indicated_coordination_load(),
    lambda: coordination_buildup_time(),
    lambda: indicated_coordination_load(),
    lambda: 3,
    "_smooth_communication_overhead",
)


@component.add(
    name="Selling Time Share",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def selling_time_share():
    """
    Share of seller time available for selling before overlay coordination (CSO Insights 2011: 41 % of time spent selling; studies put it at 0.3-0.4).
    """
    return 0.41


@component.add(
    name="Customer Time",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"selling_time_share": 1, "communication_overhead": 1},
)
def customer_time():
    """
    Share of seller time spent with customers: selling time minus internal coordination overhead, never negative.
    """
    return float(np.maximum(0, selling_time_share() - communication_overhead()))


@component.add(
    name="Customer Intimacy",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_customer_intimacy": 1},
    other_deps={
        "_integ_customer_intimacy": {
            "initial": {"status_quo_intimacy": 1},
            "step": {"intimacy_building": 1, "intimacy_loss": 1},
        }
    },
)
def customer_intimacy():
    """
    Customer intimacy of the sales force: knowledge of and relationships with the customers' decision makers and influencers (0..1). Inflow proportional to (1 - intimacy), outflow proportional to intimacy: stays in [0,1].
    """
    return _integ_customer_intimacy()


_integ_customer_intimacy = Integ(
    lambda: intimacy_building() - intimacy_loss(),
    lambda: status_quo_intimacy(),
    "_integ_customer_intimacy",
)


@component.add(
    name="Relationship Building Time",
    units="Month",
    limits=(1.0, 36.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def relationship_building_time():
    """
    Time to build full intimacy if sellers spent all their time with customers; at about a third of the time it takes about three times as long (judgement).
    """
    return 6


@component.add(
    name="Annual Seller Turnover",
    units="1/Year",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def annual_seller_turnover():
    """
    Share of sellers leaving per year, taking their relationships with them (about 35 % a year in B2B sales; Bridge Group and CSO Insights surveys put it at 25-35 %).
    """
    return 0.35


@component.add(
    name="Months per Year",
    units="Month/Year",
    limits=(12.0, 12.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def months_per_year():
    """
    Unit conversion.
    """
    return 12


@component.add(
    name="Seller Turnover Rate",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"annual_seller_turnover": 1, "months_per_year": 1},
)
def seller_turnover_rate():
    """
    Monthly seller turnover.
    """
    return annual_seller_turnover() / months_per_year()


@component.add(
    name="Relationship Drift Time",
    units="Month",
    limits=(6.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def relationship_drift_time():
    """
    Average life of a relationship with the buying centre if not renewed: decision makers change roles, needs change (judgement).
    """
    return 36


@component.add(
    name="Intimacy Building",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "customer_intimacy": 1,
        "customer_time": 1,
        "relationship_building_time": 1,
    },
)
def intimacy_building():
    """
    Intimacy gained through time with customers.
    """
    return (1 - customer_intimacy()) * customer_time() / relationship_building_time()


@component.add(
    name="Intimacy Loss",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "customer_intimacy": 1,
        "relationship_drift_time": 1,
        "seller_turnover_rate": 1,
    },
)
def intimacy_loss():
    """
    Intimacy lost to seller turnover and relationship drift.
    """
    return customer_intimacy() * (
        seller_turnover_rate() + 1 / relationship_drift_time()
    )


@component.add(
    name="Intimacy Weight",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def intimacy_weight():
    """
    Share of selling effectiveness that depends on customer intimacy (judgement).
    """
    return 0.5


@component.add(
    name="Intimacy Effect",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"intimacy_weight": 1, "customer_intimacy": 1},
)
def intimacy_effect():
    """
    Multiplier of selling effectiveness from customer intimacy (1 at full intimacy).
    """
    return 1 - intimacy_weight() * (1 - customer_intimacy())


@component.add(
    name="Max Specialist Benefit",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def max_specialist_benefit():
    """
    Largest relative gain in selling effectiveness that overlay specialists can bring (expert knowledge in the deal; judgement).
    """
    return 0.3


@component.add(
    name="Specialist Half Saturation",
    units="Overlays",
    limits=(0.1, 10.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def specialist_half_saturation():
    """
    Overlay FTE per 10 sellers at which half of the maximum specialist benefit is reached (judgement).
    """
    return 1


@component.add(
    name="Specialist Benefit",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "max_specialist_benefit": 1,
        "overlay_functions": 2,
        "specialist_half_saturation": 1,
    },
)
def specialist_benefit():
    """
    Relative gain in selling effectiveness from overlay specialists; immediate and saturating (the first specialists help most).
    """
    return (
        max_specialist_benefit()
        * overlay_functions()
        / (overlay_functions() + specialist_half_saturation())
    )


@component.add(
    name="Selling Effectiveness",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"customer_time": 1, "intimacy_effect": 1, "specialist_benefit": 1},
)
def selling_effectiveness():
    """
    Effective customer-facing selling effort: customer time, weighted by intimacy and specialist support.
    """
    return customer_time() * intimacy_effect() * (1 + specialist_benefit())


@component.add(
    name="Conversion Power",
    units="Dmnl",
    limits=(0.5, 10.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def conversion_power():
    """
    How strongly effective selling effort converts market potential into sales (judgement, sets status-quo efficiency near 0.45).
    """
    return 2


@component.add(
    name="Sales Efficiency",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"conversion_power": 1, "selling_effectiveness": 1},
)
def sales_efficiency():
    """
    Share of market potential won; saturating in selling effectiveness, 0 without customer time.
    """
    return 1 - float(np.exp(-conversion_power() * selling_effectiveness()))


@component.add(
    name="Sales",
    units="Revenue/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"market_potential": 1, "sales_efficiency": 1},
)
def sales():
    """
    Monthly sales.
    """
    return market_potential() * sales_efficiency()


@component.add(
    name="Management Understanding",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_management_understanding": 1},
    other_deps={
        "_integ_management_understanding": {
            "initial": {"status_quo_understanding": 1},
            "step": {"understanding_building": 1, "understanding_erosion": 1},
        }
    },
)
def management_understanding():
    """
    Management's understanding of why customers buy (0..1). Inflow proportional to (1 - understanding), outflow proportional to understanding: stays in [0,1].
    """
    return _integ_management_understanding()


_integ_management_understanding = Integ(
    lambda: understanding_building() - understanding_erosion(),
    lambda: status_quo_understanding(),
    "_integ_management_understanding",
)


@component.add(
    name="Root Cause Response",
    units="Dmnl",
    limits=(0.0, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def root_cause_response():
    """
    Extra root-cause work per unit of shortfall pressure by managers who practise deep dives: misses trigger analysis of what sales did and why it did not work (judgement).
    """
    return 2


@component.add(
    name="Root Cause Work",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "deep_dive_share": 1,
        "shortfall_pressure": 1,
        "root_cause_response": 1,
    },
)
def root_cause_work():
    """
    Management effort in deep dives and root-cause analysis of misses; grows with shortfall when managers practise deep dives.
    """
    return deep_dive_share() * (1 + root_cause_response() * shortfall_pressure())


@component.add(
    name="Deep Dive Learning Time",
    units="Month",
    limits=(1.0, 24.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def deep_dive_learning_time():
    """
    Time to learn the buying decision influences if all management time went into deep dives (judgement).
    """
    return 2


@component.add(
    name="Feedback Learning Time",
    units="Month",
    limits=(3.0, 60.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def feedback_learning_time():
    """
    Time to learn the buying decision influences from fully candid sales feedback alone (judgement).
    """
    return 12


@component.add(
    name="Field Learning",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"root_cause_work": 1, "deep_dive_learning_time": 1},
)
def field_learning():
    """
    Learning rate from deep dives: joining the field, meeting decision makers, root-cause analysis of misses.
    """
    return root_cause_work() / deep_dive_learning_time()


@component.add(
    name="Feedback Learning",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"candour": 1, "feedback_learning_time": 1},
)
def feedback_learning():
    """
    Learning rate from candid feedback of sales.
    """
    return candour() / feedback_learning_time()


@component.add(
    name="Understanding Building",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "management_understanding": 1,
        "feedback_learning": 1,
        "field_learning": 1,
    },
)
def understanding_building():
    """
    Understanding gained from deep dives and candid sales feedback.
    """
    return (1 - management_understanding()) * (field_learning() + feedback_learning())


@component.add(
    name="Dashboard Reliance",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"deep_dive_share": 1},
)
def dashboard_reliance():
    """
    Share of management attention that relies on CRM dashboards, which do not capture why deals are won or lost.
    """
    return 1 - deep_dive_share()


@component.add(
    name="Dashboard Erosion Time",
    units="Month",
    limits=(6.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def dashboard_erosion_time():
    """
    Time for dashboard-only management to lose its understanding of the buying decision (judgement).
    """
    return 36


@component.add(
    name="Dilution Half Overlays",
    units="Overlays",
    limits=(0.1, 10.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def dilution_half_overlays():
    """
    Overlay FTE per 10 sellers at which ownership dilution is half its maximum (judgement).
    """
    return 2


@component.add(
    name="Ownership Dilution",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"overlay_functions": 2, "dilution_half_overlays": 1},
)
def ownership_dilution():
    """
    Dilution of deal ownership by overlays: with many hands in a deal nobody knows why it was won or lost (0..1).
    """
    return overlay_functions() / (overlay_functions() + dilution_half_overlays())


@component.add(
    name="Complexity Erosion Time",
    units="Month",
    limits=(3.0, 120.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def complexity_erosion_time():
    """
    Time for fully diluted ownership to erase management's understanding (judgement).
    """
    return 24


@component.add(
    name="Market Drift Time",
    units="Month",
    limits=(6.0, 240.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def market_drift_time():
    """
    Average time for buying decision influences to change in the market (judgement).
    """
    return 48


@component.add(
    name="Understanding Erosion",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "management_understanding": 1,
        "dashboard_reliance": 1,
        "dashboard_erosion_time": 1,
        "complexity_erosion_time": 1,
        "market_drift_time": 1,
        "ownership_dilution": 1,
    },
)
def understanding_erosion():
    """
    Understanding lost to dashboard-only management, overlay complexity and market drift.
    """
    return management_understanding() * (
        dashboard_reliance() / dashboard_erosion_time()
        + ownership_dilution() / complexity_erosion_time()
        + 1 / market_drift_time()
    )


@component.add(
    name="Status Quo Shortfall",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"status_quo_attainment": 1},
)
def status_quo_shortfall():
    """
    Perceived shortfall in the status quo.
    """
    return float(np.maximum(0, 1 - status_quo_attainment()))


@component.add(
    name="Status Quo Shortfall Pressure",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"status_quo_shortfall": 2, "shortfall_half_pressure": 1},
)
def status_quo_shortfall_pressure():
    """
    Shortfall pressure in the status quo.
    """
    return status_quo_shortfall() / (status_quo_shortfall() + shortfall_half_pressure())


@component.add(
    name="Status Quo Trust Building Rate",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "status_quo_shortfall_pressure": 1,
        "deep_dive_share_before": 1,
        "joint_work_trust_weight": 1,
        "trust_building_time": 1,
    },
)
def status_quo_trust_building_rate():
    """
    Fractional trust building rate in the status quo.
    """
    return (
        1
        - status_quo_shortfall_pressure()
        + deep_dive_share_before() * joint_work_trust_weight()
    ) / trust_building_time()


@component.add(
    name="Status Quo Trust Erosion Rate",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"status_quo_shortfall_pressure": 1, "trust_erosion_time": 1},
)
def status_quo_trust_erosion_rate():
    """
    Fractional trust erosion rate in the status quo.
    """
    return status_quo_shortfall_pressure() / trust_erosion_time()


@component.add(
    name="Status Quo Trust",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "status_quo_trust_building_rate": 2,
        "status_quo_trust_erosion_rate": 1,
    },
)
def status_quo_trust():
    """
    Equilibrium trust: building (1 - T) b equals erosion T e.
    """
    return status_quo_trust_building_rate() / (
        status_quo_trust_building_rate() + status_quo_trust_erosion_rate()
    )


@component.add(
    name="Status Quo Overlay Functions",
    units="Overlays",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "overlay_response_before": 1,
        "status_quo_trust": 1,
        "status_quo_shortfall_pressure": 1,
        "overlay_lifetime_before": 1,
    },
)
def status_quo_overlay_functions():
    """
    Equilibrium overlays: creation times lifetime.
    """
    return (
        overlay_response_before()
        * (1 - status_quo_trust())
        * status_quo_shortfall_pressure()
        * overlay_lifetime_before()
    )


@component.add(
    name="Status Quo Coordination Load",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "handoff_load_per_overlay": 1,
        "status_quo_overlay_functions": 3,
        "load_per_communication_path": 1,
    },
)
def status_quo_coordination_load():
    """
    Equilibrium communication overhead.
    """
    return float(
        np.minimum(
            1,
            handoff_load_per_overlay() * status_quo_overlay_functions()
            + load_per_communication_path()
            * status_quo_overlay_functions()
            * (status_quo_overlay_functions() + 1)
            / 2,
        )
    )


@component.add(
    name="Status Quo Customer Time",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"selling_time_share": 1, "status_quo_coordination_load": 1},
)
def status_quo_customer_time():
    """
    Equilibrium customer time.
    """
    return float(np.maximum(0, selling_time_share() - status_quo_coordination_load()))


@component.add(
    name="Status Quo Intimacy",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "status_quo_customer_time": 2,
        "relationship_building_time": 2,
        "relationship_drift_time": 1,
        "seller_turnover_rate": 1,
    },
)
def status_quo_intimacy():
    """
    Equilibrium customer intimacy.
    """
    return (status_quo_customer_time() / relationship_building_time()) / (
        status_quo_customer_time() / relationship_building_time()
        + seller_turnover_rate()
        + 1 / relationship_drift_time()
    )


@component.add(
    name="Status Quo Sales Efficiency",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "conversion_power": 1,
        "status_quo_customer_time": 1,
        "intimacy_weight": 1,
        "status_quo_intimacy": 1,
        "max_specialist_benefit": 1,
        "specialist_half_saturation": 1,
        "status_quo_overlay_functions": 2,
    },
)
def status_quo_sales_efficiency():
    """
    Equilibrium sales efficiency.
    """
    return 1 - float(
        np.exp(
            -conversion_power()
            * status_quo_customer_time()
            * (1 - intimacy_weight() * (1 - status_quo_intimacy()))
            * (
                1
                + max_specialist_benefit()
                * status_quo_overlay_functions()
                / (status_quo_overlay_functions() + specialist_half_saturation())
            )
        )
    )


@component.add(
    name="Status Quo Understanding Building Rate",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "deep_dive_share_before": 1,
        "root_cause_response": 1,
        "status_quo_shortfall_pressure": 1,
        "deep_dive_learning_time": 1,
        "minimum_candour": 2,
        "status_quo_trust": 1,
        "feedback_learning_time": 1,
    },
)
def status_quo_understanding_building_rate():
    """
    Fractional understanding building rate in the status quo.
    """
    return (
        deep_dive_share_before()
        * (1 + root_cause_response() * status_quo_shortfall_pressure())
        / deep_dive_learning_time()
        + (minimum_candour() + (1 - minimum_candour()) * status_quo_trust())
        / feedback_learning_time()
    )


@component.add(
    name="Status Quo Understanding Erosion Rate",
    units="1/Month",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "deep_dive_share_before": 1,
        "dashboard_erosion_time": 1,
        "dilution_half_overlays": 1,
        "status_quo_overlay_functions": 2,
        "complexity_erosion_time": 1,
        "market_drift_time": 1,
    },
)
def status_quo_understanding_erosion_rate():
    """
    Fractional understanding erosion rate in the status quo.
    """
    return (
        (1 - deep_dive_share_before()) / dashboard_erosion_time()
        + status_quo_overlay_functions()
        / (status_quo_overlay_functions() + dilution_half_overlays())
        / complexity_erosion_time()
        + 1 / market_drift_time()
    )


@component.add(
    name="Status Quo Understanding",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "status_quo_understanding_building_rate": 2,
        "status_quo_understanding_erosion_rate": 1,
    },
)
def status_quo_understanding():
    """
    Equilibrium management understanding.
    """
    return status_quo_understanding_building_rate() / (
        status_quo_understanding_building_rate()
        + status_quo_understanding_erosion_rate()
    )
