"""Write benchmarks/large_model.mdl: a World3-like, multi-sector world model for compile-time and speed benchmarks.

The model is our own (no third-party model is copied): ten interacting sectors (population, capital, agriculture,
resources, pollution, technology, energy, climate, water, education and welfare) over 200 years (time 0 is 1900),
Euler with TIME STEP 0.5 and SAVEPER 1. It has about 250 named variables (stocks, flows, auxiliaries and
constants) and 55 named lookups used as effects ("Effect of X on Y"), SMOOTH/SMOOTH3/DELAY3/TREND delays,
IF THEN ELSE policy switches, MIN/MAX/XIDZ/ZIDZ limits and STEP/PULSE/RAMP test inputs. Quantities are scaled
(million persons, billion dollars, million hectares, ...) so that values stay between about 1e-3 and 1e6.

The output is deterministic: the same file every run (no randomness). Usage::

    python benchmarks/make_large_model.py            # writes benchmarks/large_model.mdl
    python benchmarks/make_large_model.py OUT.mdl    # writes OUT.mdl

The generator checks that every name an equation uses is defined and that every variable is used by another
one (except the indicators listed in ``OUTPUTS``), and prints the counts of each kind of variable.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "large_model.mdl"


@dataclass(frozen=True)
class Var:
    name: str
    kind: str  # stock, aux, const, lookup
    equation: str  # the right-hand side (a stock: its net flow; a lookup: its points)
    units: str
    doc: str
    init: str = ""  # a stock's initial value
    points: tuple[tuple[float, float], ...] = ()


def stock(name: str, net_flow: str, init: str, units: str, doc: str) -> Var:
    return Var(name, "stock", net_flow, units, doc, init=init)


def aux(name: str, equation: str, units: str, doc: str) -> Var:
    return Var(name, "aux", equation, units, doc)


def const(name: str, value: float, units: str, lo: float, hi: float, doc: str) -> Var:
    if not lo <= value <= hi:
        raise ValueError(f"{name}: default {value} outside its range [{lo}, {hi}]")
    return Var(name, "const", _num(value), f"{units} [{_num(lo)},{_num(hi)}]", doc)


def lookup(name: str, points: list[tuple[float, float]], doc: str, units: str = "Dmnl") -> Var:
    xs = [x for x, _ in points]
    if xs != sorted(xs) or len(set(xs)) != len(xs) or not 6 <= len(points) <= 12:
        raise ValueError(f"{name}: a lookup needs 6-12 points with increasing x")
    return Var(name, "lookup", "", units, doc, points=tuple(points))


@dataclass(frozen=True)
class Sector:
    title: str
    doc: str
    variables: list[Var]


def _num(value: float) -> str:
    return f"{value:.10g}"


# The sector tables below are laid out by hand, one variable per entry.
# fmt: off
# ----------------------------------------------------------------------------------------------------------
# Population: four age cohorts; mortality from life expectancy, fertility from income, health and norms.
# ----------------------------------------------------------------------------------------------------------
MP = "Million Person"
MPY = "Million Person/Year"
POPULATION = Sector(
    "Population",
    "Four age cohorts. Life expectancy depends on food, health services and pollution; births on "
    "the fertile cohort, desired family size (income norms, schooling) and fertility control.",
    [
        stock("Population 0 to 14", "Births - Deaths 0 to 14 - Maturation 14 to 15",
              "650", MP, "Children."),
        stock("Population 15 to 44", "Maturation 14 to 15 - Deaths 15 to 44 - Maturation 44 to 45",
              "700", MP, "Young adults, the fertile cohort."),
        stock("Population 45 to 64", "Maturation 44 to 45 - Deaths 45 to 64 - Maturation 64 to 65",
              "190", MP, "Older adults."),
        stock("Population 65 Plus", "Maturation 64 to 65 - Deaths 65 Plus",
              "60", MP, "The elderly."),
        aux("Population", "Population 0 to 14 + Population 15 to 44 + Population 45 to 64 + Population 65 Plus",
            MP, "Total population."),
        aux("Births", "Total Fertility * Population 15 to 44 * Reproductive Fraction / Reproductive Lifetime",
            MPY, "Births."),
        aux("Deaths 0 to 14", "Population 0 to 14 * Mortality 0 to 14", MPY, "Deaths of children."),
        aux("Deaths 15 to 44", "Population 15 to 44 * Mortality 15 to 44", MPY, "Deaths of young adults."),
        aux("Deaths 45 to 64", "Population 45 to 64 * Mortality 45 to 64", MPY, "Deaths of older adults."),
        aux("Deaths 65 Plus", "Population 65 Plus * Mortality 65 Plus", MPY, "Deaths of the elderly."),
        aux("Maturation 14 to 15", "Population 0 to 14 * (1 - Mortality 0 to 14) / 15", MPY,
            "Children turning 15."),
        aux("Maturation 44 to 45", "Population 15 to 44 * (1 - Mortality 15 to 44) / 30", MPY,
            "Young adults turning 45."),
        aux("Maturation 64 to 65", "Population 45 to 64 * (1 - Mortality 45 to 64) / 20", MPY,
            "Older adults turning 65."),
        aux("Mortality 0 to 14", "Effect of Life Expectancy on Mortality 0 to 14(Life Expectancy)", "1/Year",
            "Death rate of children."),
        aux("Mortality 15 to 44", "Effect of Life Expectancy on Mortality 15 to 44(Life Expectancy)", "1/Year",
            "Death rate of young adults."),
        aux("Mortality 45 to 64", "Effect of Life Expectancy on Mortality 45 to 64(Life Expectancy)", "1/Year",
            "Death rate of older adults."),
        aux("Mortality 65 Plus", "Effect of Life Expectancy on Mortality 65 Plus(Life Expectancy)", "1/Year",
            "Death rate of the elderly."),
        lookup("Effect of Life Expectancy on Mortality 0 to 14",
               [(20, 0.055), (30, 0.036), (40, 0.024), (50, 0.015), (60, 0.008), (70, 0.003), (80, 0.001)],
               "Child mortality as a function of life expectancy.", "1/Year"),
        lookup("Effect of Life Expectancy on Mortality 15 to 44",
               [(20, 0.026), (30, 0.017), (40, 0.011), (50, 0.0065), (60, 0.004), (70, 0.0017), (80, 0.0008)],
               "Young-adult mortality as a function of life expectancy.", "1/Year"),
        lookup("Effect of Life Expectancy on Mortality 45 to 64",
               [(20, 0.055), (30, 0.037), (40, 0.025), (50, 0.017), (60, 0.012), (70, 0.008), (80, 0.006)],
               "Older-adult mortality as a function of life expectancy.", "1/Year"),
        lookup("Effect of Life Expectancy on Mortality 65 Plus",
               [(20, 0.13), (30, 0.11), (40, 0.09), (50, 0.07), (60, 0.06), (70, 0.05), (80, 0.04)],
               "Elderly mortality as a function of life expectancy.", "1/Year"),
        aux("Life Expectancy", "Normal Life Expectancy * Lifetime Multiplier from Food * "
            "Lifetime Multiplier from Health Services * Lifetime Multiplier from Pollution",
            "Year", "Average life expectancy at birth."),
        const("Normal Life Expectancy", 28, "Year", 15, 50,
              "Life expectancy with subsistence food, no health services, no pollution."),
        aux("Lifetime Multiplier from Food", "Effect of Food on Lifetime(Food per Capita / Subsistence Food per "
            "Capita)", "Dmnl", "More food per person, longer lives."),
        lookup("Effect of Food on Lifetime", [(0, 0.05), (0.5, 0.6), (1, 1), (2, 1.43), (3, 1.5), (5, 1.5)],
               "Lifetime multiplier as a function of food relative to subsistence."),
        aux("Lifetime Multiplier from Health Services",
            "Effect of Health Services on Lifetime(Effective Health Services per Capita)", "Dmnl",
            "Health services lengthen lives."),
        lookup("Effect of Health Services on Lifetime",
               [(0, 1), (20, 1.1), (40, 1.4), (60, 1.6), (80, 1.7), (100, 1.8)],
               "Lifetime multiplier as a function of effective health services per person ($/person/year)."),
        aux("Health Services per Capita", "Effect of Services on Health Spending(Service Output per Capita)",
            "$/(Person*Year)", "Part of the service output that goes to health."),
        lookup("Effect of Services on Health Spending",
               [(0, 0), (250, 20), (500, 50), (750, 95), (1000, 140), (1250, 175), (1500, 200), (2000, 230)],
               "Health services per person as a function of service output per person.", "$/(Person*Year)"),
        aux("Effective Health Services per Capita",
            "SMOOTH(Health Services per Capita, Health Services Impact Delay)", "$/(Person*Year)",
            "Health services as they act on mortality, after the time it takes to build and staff them."),
        const("Health Services Impact Delay", 20, "Year", 1, 50, "Time for health spending to affect lifetimes."),
        aux("Lifetime Multiplier from Pollution", "Effect of Pollution on Lifetime(Persistent Pollution Index)",
            "Dmnl", "Persistent pollution shortens lives."),
        lookup("Effect of Pollution on Lifetime",
               [(0, 1), (10, 0.99), (20, 0.97), (30, 0.95), (40, 0.9), (50, 0.85), (60, 0.75), (70, 0.65),
                (80, 0.55), (90, 0.4), (100, 0.2)],
               "Lifetime multiplier as a function of the persistent pollution index."),
        const("Reproductive Fraction", 0.5, "Dmnl", 0.3, 0.7, "Share of the fertile cohort that are women."),
        const("Reproductive Lifetime", 30, "Year", 20, 40, "Length of the fertile period."),
        aux("Total Fertility", "MIN(Maximum Total Fertility, Maximum Total Fertility * (1 - Fertility Control "
            "Effectiveness) + Desired Total Fertility * Fertility Control Effectiveness)", "Dmnl",
            "Children per woman."),
        aux("Maximum Total Fertility", "Normal Maximum Total Fertility * Effect of Life Expectancy on Fecundity("
            "Life Expectancy)", "Dmnl", "Children per woman without any fertility control."),
        const("Normal Maximum Total Fertility", 12, "Dmnl", 6, 15, "Biological maximum of children per woman."),
        lookup("Effect of Life Expectancy on Fecundity",
               [(0, 0), (10, 0.2), (20, 0.4), (30, 0.6), (40, 0.7), (50, 0.75), (60, 0.79), (70, 0.84),
                (80, 0.87)],
               "Fecundity multiplier as a function of life expectancy (health)."),
        aux("Desired Total Fertility", "Desired Completed Family Size * Compensatory Multiplier from Perceived "
            "Life Expectancy", "Dmnl", "Children per woman that families want."),
        aux("Compensatory Multiplier from Perceived Life Expectancy",
            "Effect of Perceived Life Expectancy on Family Size(Perceived Life Expectancy)", "Dmnl",
            "Families have more children when they expect many to die young."),
        lookup("Effect of Perceived Life Expectancy on Family Size",
               [(0, 3), (10, 2.1), (20, 1.6), (30, 1.4), (40, 1.3), (50, 1.2), (60, 1.1), (70, 1.05), (80, 1)],
               "Compensation for expected child deaths as a function of perceived life expectancy."),
        aux("Perceived Life Expectancy", "DELAY3(Life Expectancy, Lifetime Perception Delay)", "Year",
            "Life expectancy as families perceive it."),
        const("Lifetime Perception Delay", 20, "Year", 1, 50, "Time for families to notice lifetime changes."),
        aux("Desired Completed Family Size", "IF THEN ELSE(Time >= Zero Population Growth Time, 2, "
            "Desired Completed Family Size Normal * Social Family Size Norm * Effect of Education on Family "
            "Size(Average Years of Schooling))", "Dmnl",
            "Children families want, from income, norms and schooling; 2 after the zero growth policy year."),
        const("Desired Completed Family Size Normal", 2.7, "Dmnl", 1.5, 6, "Desired family size at reference."),
        const("Zero Population Growth Time", 1000, "Year", 0, 1000,
              "Policy year from which families want two children (1000: never)."),
        aux("Social Family Size Norm", "Effect of Income on Family Size Norm(Delayed Industrial Output per "
            "Capita)", "Dmnl", "Family size norm of a society at the income it has become used to."),
        lookup("Effect of Income on Family Size Norm",
               [(0, 1.25), (100, 1.1), (200, 0.94), (300, 0.82), (400, 0.715), (600, 0.59), (800, 0.5)],
               "Family size norm as a function of delayed industrial output per person."),
        aux("Delayed Industrial Output per Capita",
            "DELAY3(Industrial Output per Capita, Social Adjustment Delay)", "$/(Person*Year)",
            "Income that social norms have adjusted to."),
        const("Social Adjustment Delay", 20, "Year", 5, 50, "Time for social norms to follow income."),
        aux("Fertility Control Effectiveness", "Effect of Fertility Control Spending on Effectiveness("
            "Fertility Control Facilities per Capita)", "Dmnl", "How well families reach the size they want."),
        lookup("Effect of Fertility Control Spending on Effectiveness",
               [(0, 0.75), (0.5, 0.85), (1, 0.9), (1.5, 0.95), (2, 0.98), (2.5, 0.99), (3, 1)],
               "Fertility control effectiveness as a function of spending per person ($/person/year)."),
        aux("Fertility Control Facilities per Capita", "DELAY3(Fraction of Services to Fertility Control * "
            "Service Output per Capita, Health Services Impact Delay)", "$/(Person*Year)",
            "Fertility control services in place."),
        aux("Fraction of Services to Fertility Control", "Effect of Need on Fertility Control Allocation("
            "Need for Fertility Control)", "Dmnl", "Share of services spent on fertility control."),
        lookup("Effect of Need on Fertility Control Allocation",
               [(0, 0), (2, 0.005), (4, 0.015), (6, 0.025), (8, 0.03), (10, 0.035)],
               "Share of services for fertility control as a function of the need for it."),
        aux("Need for Fertility Control", "MAX(0, XIDZ(Maximum Total Fertility, Desired Total Fertility, 10) - 1)",
            "Dmnl", "How far natural fertility exceeds the desired one."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Capital: industrial and service capital, output allocation, jobs and capacity utilisation.
# ----------------------------------------------------------------------------------------------------------
GD = "G$"
GDY = "G$/Year"
PC = "$/(Person*Year)"
CAPITAL = Sector(
    "Capital",
    "Industrial capital produces industrial output, which is allocated to consumption, services, "
    "agriculture, pollution abatement and reinvestment. Jobs and the labour force set capacity utilisation.",
    [
        stock("Industrial Capital", "Industrial Capital Investment - Industrial Capital Depreciation",
              "210", GD, "Factories and machines (billion dollars)."),
        aux("Industrial Capital Investment", "Industrial Output * Fraction of Industrial Output Allocated to "
            "Industry", GDY, "Reinvested industrial output."),
        aux("Industrial Capital Depreciation", "Industrial Capital / Average Lifetime of Industrial Capital * "
            "Effect of Temperature on Capital Depreciation(Temperature Anomaly)", GDY,
            "Wear and climate damage."),
        const("Average Lifetime of Industrial Capital", 14, "Year", 5, 30, "Lifetime of industrial capital."),
        const("Policy Year", 100, "Year", 0, 1000, "Year of the pollution and efficiency policies (2000)."),
        aux("Potential Industrial Output", "Industrial Capital * (1 - Fraction of Capital Allocated to "
            "Obtaining Resources) * Capacity Utilization Fraction / Industrial Capital Output Ratio * "
            "Effect of Education on Labor Productivity(Average Years of Schooling)", GDY,
            "Output the capital stock could make with enough energy and materials."),
        aux("Industrial Output", "Potential Industrial Output * Effect of Energy Supply on Industrial Output("
            "Energy Supply Ratio) * Effect of Resource Shortage on Industrial Output(Resource Supply Ratio)",
            GDY, "Industrial output (billion dollars per year)."),
        aux("Industrial Output per Capita", "Industrial Output * 1000 / Population", PC,
            "Industrial output per person."),
        aux("Potential Industrial Output per Capita", "Potential Industrial Output * 1000 / Population", PC,
            "Potential industrial output per person; drives energy and material demand."),
        aux("Industrial Capital Output Ratio", "Base Industrial Capital Output Ratio * Effect of Technology "
            "on Capital Cost(Average Technology Level)", "Year",
            "Capital needed per unit of output per year; new technologies make capital dearer."),
        const("Base Industrial Capital Output Ratio", 3, "Year", 1, 6, "Capital output ratio without new "
              "technologies."),
        stock("Service Capital", "Service Capital Investment - Service Capital Depreciation",
              "144", GD, "Schools, hospitals, offices (billion dollars)."),
        aux("Service Capital Investment", "Industrial Output * Fraction of Industrial Output Allocated to "
            "Services", GDY, "Investment in services."),
        aux("Service Capital Depreciation", "Service Capital / Average Lifetime of Service Capital", GDY,
            "Wear of service capital."),
        const("Average Lifetime of Service Capital", 20, "Year", 5, 40, "Lifetime of service capital."),
        aux("Service Output", "Service Capital * Capacity Utilization Fraction / Service Capital Output Ratio",
            GDY, "Services (billion dollars per year)."),
        const("Service Capital Output Ratio", 1, "Year", 0.5, 3, "Service capital per unit of service output."),
        aux("Service Output per Capita", "Service Output * 1000 / Population", PC, "Services per person."),
        aux("Indicated Service Output per Capita", "Effect of Income on Service Demand(Industrial Output per "
            "Capita)", PC, "Services per person that a society of this income wants."),
        lookup("Effect of Income on Service Demand",
               [(0, 40), (200, 300), (400, 640), (600, 1000), (800, 1220), (1000, 1450), (1200, 1650),
                (1600, 2000)],
               "Desired services per person as a function of industrial output per person.", PC),
        aux("Service Allocation Claim", "Effect of Service Adequacy on Allocation(Service Output per Capita / "
            "Indicated Service Output per Capita)", "Dmnl",
            "Share of industrial output asked for services."),
        lookup("Effect of Service Adequacy on Allocation",
               [(0, 0.3), (0.5, 0.2), (1, 0.1), (1.5, 0.05), (2, 0.02), (3, 0)],
               "Share of output for services as a function of services relative to the desired level."),
        const("Consumption Allocation Claim", 0.43, "Dmnl", 0.2, 0.8, "Share of industrial output consumed."),
        const("Minimum Reinvestment Fraction", 0.05, "Dmnl", 0, 0.3,
              "Share of industrial output always reinvested in industry."),
        aux("Total Allocation Claims", "Consumption Allocation Claim + Service Allocation Claim + "
            "Agriculture Allocation Claim + Abatement Allocation Claim + Minimum Reinvestment Fraction", "Dmnl",
            "Sum of all claims on industrial output."),
        aux("Allocation Scaling", "MAX(1, Total Allocation Claims)", "Dmnl",
            "Scales the claims down when they exceed the whole output."),
        aux("Fraction of Industrial Output Allocated to Services", "Service Allocation Claim / Allocation "
            "Scaling", "Dmnl", "Share of output invested in services."),
        aux("Fraction of Industrial Output Allocated to Agriculture", "Agriculture Allocation Claim / "
            "Allocation Scaling", "Dmnl", "Share of output invested in agriculture."),
        aux("Fraction of Industrial Output Allocated to Abatement", "Abatement Allocation Claim / Allocation "
            "Scaling", "Dmnl", "Share of output invested in pollution abatement."),
        aux("Fraction of Industrial Output Allocated to Industry", "1 - (Consumption Allocation Claim + "
            "Service Allocation Claim + Agriculture Allocation Claim + Abatement Allocation Claim) / "
            "Allocation Scaling", "Dmnl", "The rest, reinvested in industry."),
        aux("Jobs", "Industrial Capital * Effect of Income on Industrial Jobs(Industrial Output per Capita) + "
            "Service Capital * Effect of Services on Service Jobs(Service Output per Capita) + Arable Land * "
            "Effect of Inputs on Farm Jobs(Agricultural Inputs per Hectare)", MP, "Jobs in all sectors."),
        lookup("Effect of Income on Industrial Jobs",
               [(50, 0.37), (200, 0.18), (350, 0.12), (500, 0.09), (650, 0.07), (800, 0.06)],
               "Jobs per unit of industrial capital as a function of income (million jobs per G$).",
               "Million Person/G$"),
        lookup("Effect of Services on Service Jobs",
               [(50, 1.1), (200, 0.6), (350, 0.35), (500, 0.2), (650, 0.15), (800, 0.15)],
               "Jobs per unit of service capital as a function of services per person (million jobs per G$).",
               "Million Person/G$"),
        lookup("Effect of Inputs on Farm Jobs",
               [(0, 1.2), (4, 0.7), (8, 0.45), (12, 0.35), (16, 0.3), (20, 0.26), (25, 0.22), (30, 0.2)],
               "Farm jobs per hectare as a function of agricultural inputs per hectare.", "Person/ha"),
        aux("Labor Force", "(Population 15 to 44 + Population 45 to 64) * Labor Force Participation Fraction",
            MP, "People of working age who work or seek work."),
        const("Labor Force Participation Fraction", 0.75, "Dmnl", 0.4, 1, "Share of working age in the labour "
              "force."),
        aux("Labor Utilization Fraction", "Jobs / Labor Force", "Dmnl", "Jobs per worker; above 1: shortage."),
        stock("Labor Utilization Fraction Delayed", "Labor Utilization Adjustment", "1", "Dmnl",
              "Labour utilisation as firms perceive it."),
        aux("Labor Utilization Adjustment", "(Labor Utilization Fraction - Labor Utilization Fraction Delayed) "
            "/ Labor Utilization Delay Time", "1/Year", "First-order adjustment of perceived utilisation."),
        const("Labor Utilization Delay Time", 2, "Year", 0.5, 10, "Time to perceive labour utilisation."),
        aux("Capacity Utilization Fraction", "Effect of Labor Shortage on Capacity Utilization(Labor "
            "Utilization Fraction Delayed)", "Dmnl", "Share of capital that can be staffed."),
        lookup("Effect of Labor Shortage on Capacity Utilization",
               [(1, 1), (3, 0.9), (5, 0.7), (7, 0.3), (9, 0.1), (11, 0.1)],
               "Capacity utilisation as a function of perceived labour utilisation."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Agriculture: land development, fertility, inputs, yield and food.
# ----------------------------------------------------------------------------------------------------------
MHA = "Mha"
MHAY = "Mha/Year"
KGHA = "kg/(ha*Year)"
AGRICULTURE = Sector(
    "Agriculture",
    "Food from arable land, land fertility and agricultural inputs. Output is invested in inputs or in land "
    "development by comparing their marginal returns; cities take land, intensive farming erodes it, "
    "pollution degrades fertility.",
    [
        stock("Arable Land", "Land Development Rate - Land Erosion Rate - Land Removal for Urban Use",
              "900", MHA, "Cultivated land (million hectares)."),
        stock("Potentially Arable Land", "-Land Development Rate", "2300", MHA,
              "Land that could be developed for farming."),
        const("Potentially Arable Land Total", 3200, MHA, 1000, 8000, "All land that could ever be farmed."),
        stock("Urban Industrial Land", "Land Removal for Urban Use", "8.2", MHA,
              "Land under cities, roads and industry."),
        aux("Land Development Rate", "MIN(Total Agricultural Investment * Fraction of Agricultural Investment "
            "to Land Development * 1000 / Development Cost per Hectare, Potentially Arable Land / Minimum "
            "Land Development Time)", MHAY, "New farmland."),
        const("Minimum Land Development Time", 5, "Year", 1, 20,
              "Shortest time in which the remaining potentially arable land could be developed."),
        aux("Development Cost per Hectare", "Effect of Land Scarcity on Development Cost(Potentially Arable "
            "Land / Potentially Arable Land Total)", "$/ha", "Cost of developing a hectare."),
        lookup("Effect of Land Scarcity on Development Cost",
               [(0, 100000), (0.1, 7400), (0.2, 5200), (0.3, 3500), (0.4, 2400), (0.5, 1500), (0.6, 750),
                (0.7, 300), (0.8, 150), (0.9, 75), (1, 50)],
               "Development cost per hectare as a function of the fraction of land still undeveloped.", "$/ha"),
        aux("Land Erosion Rate", "Arable Land / Average Life of Land", MHAY, "Land lost to erosion."),
        aux("Average Life of Land", "Average Life of Land Normal * Effect of Yield on Land Life(Land Fertility * "
            "Land Yield Multiplier from Capital / Inconsequential Yield)", "Year",
            "Intensive farming (yield forced by inputs) shortens the life of land."),
        const("Average Life of Land Normal", 1000, "Year", 100, 5000, "Life of land farmed lightly."),
        const("Inconsequential Yield", 600, KGHA, 100, 2000, "Yield that does not harm the land."),
        lookup("Effect of Yield on Land Life",
               [(0, 1.2), (1, 1), (2, 0.63), (3, 0.36), (4, 0.16), (5, 0.055), (6, 0.04), (7, 0.025),
                (8, 0.015), (9, 0.01)],
               "Land life multiplier as a function of input-driven yield relative to the inconsequential yield."),
        aux("Land Removal for Urban Use", "MIN(MAX(0, Urban Industrial Land Required - Urban Industrial Land) / "
            "Urban Land Development Time, Arable Land / Urban Land Development Time)", MHAY,
            "Farmland taken by cities and industry."),
        const("Urban Land Development Time", 10, "Year", 1, 30, "Time to build on land."),
        aux("Urban Industrial Land Required", "Urban Industrial Land per Capita * Population", MHA,
            "Urban land the population needs."),
        aux("Urban Industrial Land per Capita", "Effect of Income on Urban Land(Industrial Output per Capita)",
            "ha/Person", "Urban land per person."),
        lookup("Effect of Income on Urban Land",
               [(0, 0.005), (200, 0.008), (400, 0.015), (600, 0.025), (800, 0.04), (1000, 0.055), (1200, 0.07),
                (1400, 0.08), (1600, 0.09)],
               "Urban land per person as a function of industrial output per person.", "ha/Person"),
        aux("Total Agricultural Investment", "Industrial Output * Fraction of Industrial Output Allocated to "
            "Agriculture", GDY, "Industrial output spent on agriculture."),
        aux("Agriculture Allocation Claim", "Effect of Food Adequacy on Agricultural Allocation(Food per Capita "
            "/ Indicated Food per Capita)", "Dmnl", "Share of output asked for agriculture."),
        lookup("Effect of Food Adequacy on Agricultural Allocation",
               [(0, 0.4), (0.5, 0.2), (1, 0.1), (1.5, 0.025), (2, 0), (2.5, 0)],
               "Share of output for agriculture as a function of food relative to the desired level."),
        aux("Indicated Food per Capita", "Effect of Income on Food Demand(Industrial Output per Capita)",
            "kg/(Person*Year)", "Food per person that a society of this income wants."),
        lookup("Effect of Income on Food Demand",
               [(0, 230), (200, 480), (400, 690), (600, 850), (800, 970), (1000, 1070), (1200, 1150),
                (1600, 1250)],
               "Desired food per person as a function of industrial output per person.", "kg/(Person*Year)"),
        aux("Fraction of Agricultural Investment to Land Development", "Effect of Relative Returns on Land "
            "Development(XIDZ(Marginal Productivity of Land Development, Marginal Productivity of "
            "Agricultural Inputs, 2))", "Dmnl", "Share of agricultural investment spent on new land."),
        lookup("Effect of Relative Returns on Land Development",
               [(0, 0), (0.25, 0.05), (0.5, 0.15), (0.75, 0.3), (1, 0.5), (1.25, 0.7), (1.5, 0.85),
                (1.75, 0.95), (2, 1)],
               "Share to land development as a function of its return relative to that of inputs."),
        aux("Marginal Productivity of Land Development", "Land Yield / (Development Cost per Hectare * Social "
            "Discount Rate)", "kg/$", "Food gained per dollar spent on new land."),
        const("Social Discount Rate", 0.07, "1/Year", 0.01, 0.2, "Discount rate for land investments."),
        aux("Marginal Productivity of Agricultural Inputs", "Average Lifetime of Agricultural Inputs * Land "
            "Yield * Effect of Inputs on Marginal Yield(Agricultural Inputs per Hectare) / Land Yield Multiplier "
            "from Capital", "kg/$", "Food gained per dollar spent on inputs."),
        lookup("Effect of Inputs on Marginal Yield",
               [(0, 0.05), (40, 0.045), (80, 0.025), (120, 0.01), (160, 0.0075), (200, 0.007), (400, 0.006),
                (600, 0.006), (1000, 0.005)],
               "Slope of the yield multiplier as a function of inputs per hectare.", "ha/$"),
        aux("Current Agricultural Inputs", "Total Agricultural Investment * (1 - Fraction of Agricultural "
            "Investment to Land Development)", GDY, "Spending on fertiliser, machines and seed."),
        stock("Agricultural Inputs", "Change in Agricultural Inputs", "Initial Agricultural Inputs", GDY,
              "Inputs in use (billion dollars per year)."),
        aux("Change in Agricultural Inputs", "(Current Agricultural Inputs - Agricultural Inputs) / Average "
            "Lifetime of Agricultural Inputs", "G$/(Year*Year)", "Inputs in use follow current spending."),
        const("Average Lifetime of Agricultural Inputs", 2, "Year", 0.5, 10, "Life of agricultural inputs."),
        const("Initial Agricultural Inputs", 4.5, GDY, 0.5, 50, "Inputs in use in 1900."),
        aux("Agricultural Inputs per Hectare", "Agricultural Inputs * (1 - Fraction of Inputs for Land "
            "Maintenance) * 1000 / Arable Land", "$/(ha*Year)", "Inputs that raise yields, per hectare."),
        aux("Land Yield Multiplier from Capital", "Effect of Inputs on Yield(Agricultural Inputs per Hectare)",
            "Dmnl", "Yield gain from inputs."),
        lookup("Effect of Inputs on Yield",
               [(0, 1), (40, 3), (80, 4.5), (120, 5), (160, 5.3), (200, 5.6), (300, 6.3), (400, 7), (600, 8.2),
                (1000, 10)],
               "Yield multiplier as a function of agricultural inputs per hectare."),
        aux("Land Yield", "Effective Yield Technology * Land Fertility * Land Yield Multiplier from Capital * "
            "Effect of Air Pollution on Yield(Industrial Output / Reference Industrial Output) * "
            "Effect of Temperature on Yield(Temperature Anomaly) * Effect of Water Scarcity on Yield(Water "
            "Supply Ratio)", KGHA, "Food per hectare (vegetable-equivalent kilograms)."),
        const("Reference Industrial Output", 790, GDY, 100, 5000, "Industrial output in 1970."),
        lookup("Effect of Air Pollution on Yield",
               [(0, 1), (5, 1), (10, 0.95), (15, 0.85), (20, 0.7), (25, 0.55), (30, 0.4)],
               "Yield multiplier as a function of industrial output relative to 1970 (air pollution)."),
        aux("Food", "Land Yield * Arable Land * Land Fraction Harvested * (1 - Processing Loss) * Harvest Shock "
            "Multiplier", "Mkg/Year", "Food produced (million kilograms per year)."),
        const("Land Fraction Harvested", 0.7, "Dmnl", 0.4, 1, "Share of arable land harvested."),
        const("Processing Loss", 0.1, "Dmnl", 0, 0.5, "Share of the harvest lost."),
        aux("Harvest Shock Multiplier", "1 - Harvest Shock Size * PULSE(Harvest Shock Time, Harvest Shock "
            "Duration)", "Dmnl", "Test input: a harvest failure."),
        const("Harvest Shock Size", 0.15, "Dmnl", 0, 0.9, "Share of the harvest lost in the shock."),
        const("Harvest Shock Time", 60, "Year", 0, 200, "Year of the harvest failure (1960)."),
        const("Harvest Shock Duration", 2, "Year", 0, 10, "Length of the harvest failure."),
        aux("Food per Capita", "Food / Population", "kg/(Person*Year)", "Food per person."),
        const("Subsistence Food per Capita", 230, "kg/(Person*Year)", 100, 500, "Food needed to survive."),
        aux("Food Ratio", "Food per Capita / Subsistence Food per Capita", "Dmnl",
            "Food relative to subsistence."),
        stock("Perceived Food Ratio", "Food Ratio Perception", "1", "Dmnl", "Food ratio as farmers perceive it."),
        aux("Food Ratio Perception", "(Food Ratio - Perceived Food Ratio) / Food Shortage Perception Delay",
            "1/Year", "First-order perception of the food ratio."),
        const("Food Shortage Perception Delay", 2, "Year", 0.5, 10, "Time to perceive food shortages."),
        stock("Land Fertility", "Land Fertility Regeneration - Land Fertility Degradation", "Inherent Land "
              "Fertility", KGHA, "Yield the land gives without inputs."),
        const("Inherent Land Fertility", 600, KGHA, 100, 1000, "Fertility in 1900, regained when land is left alone."),
        aux("Land Fertility Degradation", "Land Fertility * Effect of Pollution on Land Fertility(Persistent "
            "Pollution Index)", "kg/(ha*Year*Year)", "Loss of fertility to pollution."),
        lookup("Effect of Pollution on Land Fertility",
               [(0, 0), (5, 0.03), (10, 0.1), (15, 0.2), (20, 0.3), (25, 0.4), (30, 0.5)],
               "Fertility degradation rate as a function of the persistent pollution index.", "1/Year"),
        aux("Land Fertility Regeneration", "(Inherent Land Fertility - Land Fertility) / Effect of Maintenance "
            "on Regeneration Time(Fraction of Inputs for Land Maintenance)", "kg/(ha*Year*Year)",
            "Recovery of fertility."),
        lookup("Effect of Maintenance on Regeneration Time",
               [(0, 20), (0.02, 13), (0.04, 8), (0.06, 4), (0.08, 2), (0.1, 2)],
               "Fertility regeneration time as a function of the share of inputs for maintenance.", "Year"),
        aux("Fraction of Inputs for Land Maintenance", "Effect of Perceived Food Ratio on Maintenance("
            "Perceived Food Ratio)", "Dmnl", "Farmers maintain the land when food is not short."),
        lookup("Effect of Perceived Food Ratio on Maintenance",
               [(0, 0), (0.5, 0.02), (1, 0.04), (2, 0.07), (3, 0.09), (4, 0.1)],
               "Share of inputs for land maintenance as a function of the perceived food ratio."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Nonrenewable resources: discovery, reserves, extraction and its capital cost.
# ----------------------------------------------------------------------------------------------------------
GRU = "Gru"
GRUY = "Gru/Year"
RESOURCES = Sector(
    "Nonrenewable resources",
    "Undiscovered resources become known reserves by exploration, which speeds up when reserves are short. "
    "Demand grows with population and income and falls with resource efficiency; depletion raises the "
    "capital needed to obtain resources, and shortfalls cut industrial output.",
    [
        stock("Undiscovered Resources", "-Discovery Rate", "Initial Undiscovered Resources", GRU,
              "Resources not yet found (billion resource units)."),
        const("Initial Undiscovered Resources", 800, GRU, 100, 5000, "Undiscovered resources in 1900."),
        stock("Known Reserves", "Discovery Rate - Resource Extraction Rate", "Initial Known Reserves", GRU,
              "Resources found and ready to extract."),
        const("Initial Known Reserves", 200, GRU, 10, 1000, "Known reserves in 1900."),
        aux("Discovery Rate", "MIN(Undiscovered Resources / Normal Discovery Time * Effect of Reserve Coverage "
            "on Exploration(Reserve Coverage / Desired Reserve Coverage), Undiscovered Resources / Minimum "
            "Discovery Time)", GRUY, "Resources found per year."),
        const("Normal Discovery Time", 100, "Year", 10, 500, "Time to find the remaining resources normally."),
        const("Minimum Discovery Time", 10, "Year", 1, 50, "Fastest time to find the remaining resources."),
        const("Desired Reserve Coverage", 50, "Year", 5, 200, "Years of demand that known reserves should cover."),
        aux("Reserve Coverage", "XIDZ(Known Reserves, Resource Demand, 1000)", "Year",
            "Years of demand that known reserves cover."),
        lookup("Effect of Reserve Coverage on Exploration",
               [(0, 4), (0.25, 3), (0.5, 2), (1, 1), (2, 0.4), (4, 0.1)],
               "Exploration effort as a function of reserve coverage relative to the desired coverage."),
        aux("Resource Demand", "Population * Per Capita Resource Use Multiplier * Resource Use Factor / 1000",
            GRUY, "Resources that industry wants per year."),
        aux("Per Capita Resource Use Multiplier", "Effect of Income on Resource Use(Potential Industrial Output "
            "per Capita)", "Ru/(Person*Year)", "Resources used per person."),
        lookup("Effect of Income on Resource Use",
               [(0, 0), (200, 0.85), (400, 2.6), (600, 3.4), (800, 3.8), (1000, 4.1), (1200, 4.4),
                (1400, 4.7), (1600, 5)],
               "Resource use per person as a function of potential industrial output per person.",
               "Ru/(Person*Year)"),
        aux("Resource Use Factor", "1 / Effective Resource Efficiency Technology", "Dmnl",
            "Resource use relative to 1900 for the same output."),
        aux("Resource Extraction Rate", "MIN(Resource Demand, Known Reserves / Minimum Extraction Time)", GRUY,
            "Resources extracted per year."),
        const("Minimum Extraction Time", 5, "Year", 1, 20, "Fastest time to extract the known reserves."),
        aux("Resource Supply Ratio", "XIDZ(Resource Extraction Rate, Resource Demand, 1)", "Dmnl",
            "Share of resource demand met."),
        lookup("Effect of Resource Shortage on Industrial Output",
               [(0, 0.1), (0.25, 0.35), (0.5, 0.6), (0.75, 0.85), (0.9, 0.96), (1, 1)],
               "Industrial output multiplier as a function of the share of resource demand met."),
        aux("Resource Fraction Remaining", "(Undiscovered Resources + Known Reserves) / (Initial Undiscovered "
            "Resources + Initial Known Reserves)", "Dmnl", "Share of the 1900 resources left."),
        aux("Fraction of Capital Allocated to Obtaining Resources", "Effect of Depletion on Extraction Cost("
            "Resource Fraction Remaining)", "Dmnl", "Share of industrial capital busy obtaining resources."),
        lookup("Effect of Depletion on Extraction Cost",
               [(0, 0.95), (0.1, 0.9), (0.2, 0.7), (0.3, 0.5), (0.4, 0.2), (0.5, 0.1), (0.6, 0.05), (1, 0.05)],
               "Share of capital for obtaining resources as a function of the resources left."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Persistent pollution: generation, transmission delay, assimilation and abatement.
# ----------------------------------------------------------------------------------------------------------
MPU = "Mpu"
MPUY = "Mpu/Year"
POLLUTION = Sector(
    "Persistent pollution",
    "Industry and agriculture release persistent materials that appear in the environment after a delay; "
    "the environment assimilates them more slowly the more polluted it is. Abatement capital, built when "
    "pollution is high (more after a policy step), removes part of the pollution at the source.",
    [
        stock("Persistent Pollution", "Persistent Pollution Appearance Rate - Persistent Pollution "
              "Assimilation Rate", "25", MPU,
              "Persistent pollution in the environment (million pollution units)."),
        aux("Persistent Pollution Index", "Persistent Pollution / Persistent Pollution in 1970", "Dmnl",
            "Pollution relative to 1970."),
        const("Persistent Pollution in 1970", 136, MPU, 10, 1000, "Persistent pollution in 1970."),
        aux("Persistent Pollution Generation Rate", "(Pollution from Industry + Pollution from Agriculture) * "
            "(1 - Abatement Removal Fraction) * Pollution Generation Factor", MPUY,
            "Persistent materials released per year."),
        aux("Pollution from Industry", "Resource Extraction Rate * 1000 * Industrial Pollution Intensity", MPUY,
            "Persistent pollution from resource use."),
        const("Industrial Pollution Intensity", 0.002, "Pu/Ru", 0, 0.02,
              "Persistent pollution per resource unit used (persistent share times toxicity)."),
        aux("Pollution from Agriculture", "Agricultural Inputs per Hectare * Arable Land * Agricultural "
            "Pollution Intensity", MPUY, "Persistent pollution from pesticides and fertiliser."),
        const("Agricultural Pollution Intensity", 0.001, "Pu/$", 0, 0.01,
              "Persistent pollution per dollar of agricultural inputs."),
        aux("Persistent Pollution Appearance Rate", "DELAY3(Persistent Pollution Generation Rate, Pollution "
            "Transmission Delay)", MPUY, "Released pollution reaching the environment."),
        const("Pollution Transmission Delay", 20, "Year", 1, 50, "Time for released materials to appear."),
        aux("Persistent Pollution Assimilation Rate", "Persistent Pollution / (1.4 * Assimilation Half Life)",
            MPUY, "Pollution broken down per year."),
        aux("Assimilation Half Life", "Assimilation Half Life in 1970 * Effect of Pollution on Assimilation Half "
            "Life(Persistent Pollution Index)", "Year", "Half-life of persistent pollution."),
        const("Assimilation Half Life in 1970", 1.5, "Year", 0.5, 10, "Half-life of pollution in 1970."),
        lookup("Effect of Pollution on Assimilation Half Life",
               [(1, 1), (100, 2.5), (250, 5), (500, 11), (750, 21), (1000, 31)],
               "Half-life multiplier as a function of the pollution index (saturated sinks)."),
        stock("Pollution Abatement Capital", "Abatement Investment - Abatement Capital Depreciation",
              "0.1", GD, "Filters, scrubbers and treatment plants."),
        aux("Abatement Investment", "Industrial Output * Fraction of Industrial Output Allocated to Abatement",
            GDY, "Investment in pollution abatement."),
        aux("Abatement Capital Depreciation", "Pollution Abatement Capital / Abatement Capital Lifetime", GDY,
            "Wear of abatement capital."),
        const("Abatement Capital Lifetime", 15, "Year", 5, 40, "Lifetime of abatement capital."),
        aux("Abatement Allocation Claim", "Effect of Pollution on Abatement Spending(Persistent Pollution "
            "Index) * (1 + Pollution Policy Step)", "Dmnl", "Share of output asked for abatement."),
        lookup("Effect of Pollution on Abatement Spending",
               [(0, 0), (1, 0.002), (2, 0.01), (5, 0.03), (10, 0.05), (20, 0.07), (40, 0.08)],
               "Share of output for abatement as a function of the pollution index."),
        aux("Pollution Policy Step", "STEP(Pollution Policy Intensity, Policy Year)", "Dmnl",
            "Test input: stronger abatement from the policy year."),
        const("Pollution Policy Intensity", 0.5, "Dmnl", 0, 3, "Extra abatement effort after the policy year."),
        aux("Abatement Removal Fraction", "Effect of Abatement Capital on Removal(ZIDZ(Pollution Abatement "
            "Capital, Industrial Output))", "Dmnl", "Share of generated pollution removed at the source."),
        lookup("Effect of Abatement Capital on Removal",
               [(0, 0), (0.05, 0.2), (0.1, 0.35), (0.2, 0.55), (0.4, 0.75), (0.8, 0.85), (1.6, 0.9)],
               "Removal fraction as a function of abatement capital per unit of output (years)."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Technology: yield, resource efficiency and pollution control, developed after the policy year.
# ----------------------------------------------------------------------------------------------------------
TECHNOLOGY = Sector(
    "Technology",
    "From the technology policy year on, three technologies develop when their problem is felt (food "
    "shortage, resource depletion, pollution) and are adopted with a third-order delay; together they raise "
    "the capital cost of industrial output.",
    [
        stock("Agricultural Yield Technology", "Yield Technology Development", "1", "Dmnl",
              "Yield technology relative to 1900."),
        aux("Yield Technology Development", "IF THEN ELSE(Time >= Technology Policy Year, Agricultural Yield "
            "Technology * Effect of Food Gap on Yield Technology(Food Ratio / Desired Food Ratio), 0)",
            "1/Year", "Growth of yield technology."),
        const("Desired Food Ratio", 1.5, "Dmnl", 1, 4, "Food ratio that ends yield research."),
        lookup("Effect of Food Gap on Yield Technology",
               [(0, 0.025), (0.25, 0.02), (0.5, 0.014), (0.75, 0.007), (0.9, 0.002), (1, 0), (2, 0)],
               "Yield technology growth rate as a function of the food ratio relative to the desired one.",
               "1/Year"),
        aux("Effective Yield Technology", "SMOOTH3(Agricultural Yield Technology, Technology Adoption Delay)",
            "Dmnl", "Yield technology in use."),
        stock("Resource Efficiency Technology", "Resource Technology Development", "1", "Dmnl",
              "Output per unit of resources relative to 1900."),
        aux("Resource Technology Development", "IF THEN ELSE(Time >= Technology Policy Year, Resource "
            "Efficiency Technology * Effect of Depletion on Resource Technology(Resource Fraction Remaining), "
            "0)", "1/Year", "Growth of resource efficiency."),
        lookup("Effect of Depletion on Resource Technology",
               [(0, 0.04), (0.25, 0.03), (0.5, 0.015), (0.75, 0.005), (0.9, 0.001), (1, 0)],
               "Resource technology growth rate as a function of the resources left.", "1/Year"),
        aux("Effective Resource Efficiency Technology", "SMOOTH3(Resource Efficiency Technology, Technology "
            "Adoption Delay)", "Dmnl", "Resource efficiency in use."),
        stock("Pollution Control Technology", "Pollution Technology Development", "1", "Dmnl",
              "Cleanliness of production relative to 1900."),
        aux("Pollution Technology Development", "IF THEN ELSE(Time >= Technology Policy Year, Pollution "
            "Control Technology * Effect of Pollution on Control Technology(Persistent Pollution Index / "
            "Desired Pollution Index), 0)", "1/Year", "Growth of pollution control technology."),
        const("Desired Pollution Index", 1.2, "Dmnl", 0.5, 5, "Pollution index that ends control research."),
        lookup("Effect of Pollution on Control Technology",
               [(0, 0), (1, 0), (1.5, 0.01), (2, 0.02), (4, 0.03), (8, 0.04)],
               "Pollution technology growth rate as a function of pollution relative to the desired level.",
               "1/Year"),
        aux("Effective Pollution Control Technology", "SMOOTH3(Pollution Control Technology, Technology "
            "Adoption Delay)", "Dmnl", "Pollution control technology in use."),
        aux("Pollution Generation Factor", "1 / Effective Pollution Control Technology", "Dmnl",
            "Pollution per unit of activity relative to 1900."),
        const("Technology Policy Year", 100, "Year", 0, 1000, "Year technology development starts (2000)."),
        const("Technology Adoption Delay", 20, "Year", 1, 50, "Time from development to use."),
        aux("Average Technology Level", "(Effective Yield Technology + Effective Resource Efficiency "
            "Technology + Effective Pollution Control Technology) / 3", "Dmnl",
            "Mean level of the three technologies in use."),
        lookup("Effect of Technology on Capital Cost",
               [(1, 1), (1.5, 1.03), (2, 1.06), (4, 1.15), (8, 1.3), (16, 1.5), (32, 1.75)],
               "Capital output ratio multiplier as a function of the average technology level."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Energy: fossil and renewable capacity, cost, price and supply.
# ----------------------------------------------------------------------------------------------------------
EJY = "EJ/Year"
EJYY = "EJ/(Year*Year)"
ENERGY = Sector(
    "Energy",
    "Energy demand follows potential industrial output, energy intensity (falling with income) and price. "
    "Capacity is built to close the gap after a construction delay; the fossil share of new capacity "
    "depends on relative cost: fossil costs rise with depletion, renewable costs fall with experience. "
    "A renewable mandate (a step) and an efficiency ramp are policy tests.",
    [
        stock("Fossil Energy Capacity", "Fossil Capacity Completion - Fossil Capacity Retirement",
              "20", EJY, "Fossil energy supply capacity (exajoules per year)."),
        stock("Renewable Energy Capacity", "Renewable Capacity Completion - Renewable Capacity Retirement",
              "Initial Renewable Energy Capacity", EJY, "Renewable energy supply capacity (hydro, wind, "
              "solar)."),
        const("Initial Renewable Energy Capacity", 2, EJY, 0.1, 50, "Renewable capacity in 1900."),
        aux("Fossil Capacity Completion", "DELAY3(Fossil Capacity Starts, Energy Construction Time)", EJYY,
            "Fossil capacity coming on line."),
        aux("Renewable Capacity Completion", "DELAY3(Renewable Capacity Starts, Energy Construction Time)",
            EJYY, "Renewable capacity coming on line."),
        const("Energy Construction Time", 4, "Year", 0.5, 15, "Time to build energy capacity."),
        aux("Fossil Capacity Retirement", "Fossil Energy Capacity / Fossil Capacity Lifetime", EJYY,
            "Fossil capacity retired."),
        const("Fossil Capacity Lifetime", 30, "Year", 10, 60, "Lifetime of fossil capacity."),
        aux("Renewable Capacity Retirement", "Renewable Energy Capacity / Renewable Capacity Lifetime", EJYY,
            "Renewable capacity retired."),
        const("Renewable Capacity Lifetime", 25, "Year", 10, 60, "Lifetime of renewable capacity."),
        aux("Total Energy Capacity", "Fossil Energy Capacity + Renewable Energy Capacity", EJY,
            "All energy supply capacity."),
        aux("Desired Energy Capacity", "Energy Demand * (1 + Capacity Reserve Margin) * (1 + Expected Energy "
            "Demand Growth * (Energy Construction Time + Capacity Adjustment Time))", EJY,
            "Capacity needed to meet demand with a margin, allowing for demand growth during the build-up."),
        aux("Expected Energy Demand Growth", "MAX(0, TREND(Energy Demand, Demand Trend Time, 0.02))", "1/Year",
            "Growth rate of energy demand that planners extrapolate."),
        const("Demand Trend Time", 5, "Year", 1, 20, "Averaging time of the demand trend."),
        const("Capacity Reserve Margin", 0.1, "Dmnl", 0, 0.5, "Spare capacity wanted."),
        aux("Energy Capacity Starts", "MAX(0, Fossil Capacity Retirement + Renewable Capacity Retirement + "
            "(Desired Energy Capacity - Total Energy Capacity) / Capacity Adjustment Time)", EJYY,
            "New capacity started: replacement plus gap closing."),
        const("Capacity Adjustment Time", 8, "Year", 1, 30, "Time to close the capacity gap."),
        aux("Fossil Capacity Starts", "Energy Capacity Starts * Fossil Share of New Capacity", EJYY,
            "New fossil capacity started."),
        aux("Renewable Capacity Starts", "Energy Capacity Starts * (1 - Fossil Share of New Capacity)", EJYY,
            "New renewable capacity started."),
        aux("Fossil Share of New Capacity", "MAX(0, Effect of Relative Cost on Fossil Share(Renewable Energy "
            "Cost / Fossil Energy Cost) - Renewable Mandate)", "Dmnl",
            "Share of new capacity that is fossil."),
        lookup("Effect of Relative Cost on Fossil Share",
               [(0.25, 0.1), (0.5, 0.25), (0.75, 0.4), (1, 0.5), (1.5, 0.7), (2, 0.8), (3, 0.9), (5, 0.95)],
               "Fossil share of new capacity as a function of renewable cost relative to fossil cost."),
        aux("Renewable Mandate", "STEP(Renewable Mandate Size, Renewable Mandate Year)", "Dmnl",
            "Test input: a share of new capacity reserved for renewables."),
        const("Renewable Mandate Size", 0.1, "Dmnl", 0, 1, "Share reserved for renewables by the mandate."),
        const("Renewable Mandate Year", 120, "Year", 0, 1000, "Year of the renewable mandate (2020)."),
        aux("Fossil Energy Cost", "Base Fossil Energy Cost * Effect of Depletion on Fossil Energy Cost("
            "Resource Fraction Remaining)", "$/GJ", "Cost of fossil energy."),
        const("Base Fossil Energy Cost", 1, "$/GJ", 0.2, 10, "Fossil energy cost with plentiful resources."),
        lookup("Effect of Depletion on Fossil Energy Cost",
               [(0, 10), (0.1, 6), (0.2, 4), (0.3, 2.8), (0.4, 2), (0.5, 1.6), (0.6, 1.3), (0.8, 1.1), (1, 1)],
               "Fossil cost multiplier as a function of the resources left."),
        aux("Renewable Energy Cost", "Base Renewable Energy Cost * Effect of Experience on Renewable Cost("
            "Renewable Energy Capacity / Initial Renewable Energy Capacity)", "$/GJ",
            "Cost of renewable energy; falls as capacity grows (learning)."),
        const("Base Renewable Energy Cost", 8, "$/GJ", 1, 30, "Renewable energy cost in 1900."),
        lookup("Effect of Experience on Renewable Cost",
               [(1, 1), (2, 0.8), (4, 0.64), (8, 0.51), (16, 0.41), (32, 0.33), (64, 0.26), (128, 0.21)],
               "Renewable cost multiplier as a function of capacity relative to 1900 (80% learning curve)."),
        aux("Average Energy Cost", "ZIDZ(Fossil Energy Cost * Fossil Energy Capacity + Renewable Energy Cost * "
            "Renewable Energy Capacity, Total Energy Capacity)", "$/GJ", "Capacity-weighted cost of energy."),
        stock("Energy Price Index", "Energy Price Change", "1", "Dmnl", "Energy price relative to 1900."),
        aux("Energy Price Change", "(Indicated Energy Price Index - Energy Price Index) / Energy Price "
            "Adjustment Time", "1/Year", "Adjustment of the energy price."),
        const("Energy Price Adjustment Time", 3, "Year", 0.5, 10, "Time for prices to follow costs."),
        aux("Indicated Energy Price Index", "Average Energy Cost / Reference Energy Cost * MAX(1, 1 / MAX(0.2, "
            "Energy Supply Ratio)) ^ Price Scarcity Elasticity", "Dmnl", "Price that costs and scarcity "
            "indicate."),
        const("Reference Energy Cost", 1.6, "$/GJ", 0.5, 10, "Average energy cost in 1900."),
        const("Price Scarcity Elasticity", 1.5, "Dmnl", 0, 5, "Price response to capacity shortage."),
        aux("Energy Demand", "Potential Industrial Output * Energy Intensity * Effect of Energy Price on "
            "Demand(Energy Price Index)", EJY, "Energy that industry wants."),
        aux("Energy Intensity", "Base Energy Intensity * Effect of Income on Energy Intensity(Potential "
            "Industrial Output per Capita) * (1 - Efficiency Improvement)", "EJ/G$",
            "Energy per unit of output."),
        const("Base Energy Intensity", 0.3, "EJ/G$", 0.05, 1, "Energy per unit of output in 1900."),
        lookup("Effect of Income on Energy Intensity",
               [(0, 1), (200, 0.9), (400, 0.75), (600, 0.6), (800, 0.5), (1000, 0.45), (1600, 0.4)],
               "Energy intensity multiplier as a function of potential industrial output per person."),
        aux("Efficiency Improvement", "RAMP(Efficiency Improvement Rate, Policy Year, Final Efficiency Year)",
            "Dmnl", "Test input: an efficiency programme (a ramp)."),
        const("Efficiency Improvement Rate", 0.005, "1/Year", 0, 0.01, "Yearly gain of the programme."),
        const("Final Efficiency Year", 160, "Year", 0, 200, "End of the efficiency programme."),
        lookup("Effect of Energy Price on Demand",
               [(0, 1.3), (0.5, 1.15), (1, 1), (2, 0.8), (4, 0.6), (8, 0.45)],
               "Demand multiplier as a function of the energy price index."),
        aux("Energy Supply Ratio", "XIDZ(Total Energy Capacity, Energy Demand, 2)", "Dmnl",
            "Capacity relative to demand."),
        lookup("Effect of Energy Supply on Industrial Output",
               [(0, 0), (0.2, 0.3), (0.4, 0.55), (0.6, 0.75), (0.8, 0.9), (1, 1), (1.5, 1)],
               "Industrial output multiplier as a function of energy capacity relative to demand."),
        aux("Fossil Energy Production", "Fossil Energy Capacity * MIN(1, XIDZ(Energy Demand, Total Energy "
            "Capacity, 1))", EJY, "Fossil energy used."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Climate: atmospheric carbon and temperature.
# ----------------------------------------------------------------------------------------------------------
CLIMATE = Sector(
    "Climate",
    "Fossil energy and land clearing emit carbon; oceans and land take up the excess over pre-industrial "
    "levels. Temperature follows the logarithm of carbon; warming lowers yields and "
    "speeds up capital depreciation.",
    [
        stock("Atmospheric Carbon", "Carbon Emissions - Carbon Uptake", "600", "GtC",
              "Carbon in the atmosphere."),
        const("Preindustrial Atmospheric Carbon", 590, "GtC", 500, 700, "Atmospheric carbon before industry."),
        aux("Carbon Emissions", "Fossil Energy Production * Carbon Intensity of Fossil Energy + Land Development "
            "Rate * Carbon Released per Hectare Developed", "GtC/Year", "Carbon released per year."),
        const("Carbon Intensity of Fossil Energy", 0.02, "GtC/EJ", 0.005, 0.05, "Carbon per unit of fossil "
              "energy."),
        const("Carbon Released per Hectare Developed", 0.1, "GtC/Mha", 0, 0.5,
              "Carbon released by clearing land for farming."),
        aux("Carbon Uptake", "(Atmospheric Carbon - Preindustrial Atmospheric Carbon) / Carbon Uptake Time",
            "GtC/Year",
            "Excess carbon taken up by oceans and land."),
        const("Carbon Uptake Time", 40, "Year", 10, 200, "Time constant of carbon uptake."),
        stock("Temperature Anomaly", "Temperature Change", "0.1", "DegC",
              "Warming over pre-industrial."),
        aux("Temperature Change", "(Equilibrium Temperature Anomaly - Temperature Anomaly) / Temperature "
            "Response Time", "DegC/Year", "Adjustment of temperature."),
        aux("Equilibrium Temperature Anomaly", "Climate Sensitivity * LN(Atmospheric Carbon / Preindustrial "
            "Atmospheric Carbon) / LN(2)", "DegC", "Warming the current carbon level leads to."),
        const("Climate Sensitivity", 3, "DegC", 1, 6, "Warming for doubled carbon."),
        const("Temperature Response Time", 30, "Year", 5, 100, "Time for temperature to follow carbon."),
        lookup("Effect of Temperature on Yield",
               [(0, 1), (1, 0.98), (2, 0.93), (3, 0.85), (4, 0.75), (5, 0.62), (6, 0.5), (8, 0.3)],
               "Yield multiplier as a function of warming."),
        lookup("Effect of Temperature on Capital Depreciation",
               [(0, 1), (1, 1.02), (2, 1.06), (3, 1.12), (4, 1.2), (6, 1.4), (8, 1.7)],
               "Depreciation multiplier as a function of warming (climate damage)."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Water: surface supply and groundwater.
# ----------------------------------------------------------------------------------------------------------
KM3Y = "km3/Year"
WATER = Sector(
    "Water",
    "Irrigation, industry and households draw on accessible surface water first and on groundwater for the "
    "rest; groundwater is recharged slowly. Shortfalls lower yields.",
    [
        stock("Groundwater Reserve", "Groundwater Recharge - Groundwater Withdrawal", "10000", "km3", "Exploitable groundwater."),
        aux("Groundwater Recharge", "Natural Groundwater Recharge * MAX(0, 1 - Groundwater Reserve / Aquifer "
            "Capacity) * MAX(0, 1 - Temperature Anomaly * Recharge Loss per Degree)", KM3Y,
            "Recharge of groundwater; less when the aquifer is full or the climate warmer."),
        const("Aquifer Capacity", 12000, "km3", 10000, 100000, "Groundwater the aquifers can hold."),
        const("Natural Groundwater Recharge", 300, KM3Y, 0, 1000, "Recharge of an empty aquifer without "
              "warming."),
        const("Recharge Loss per Degree", 0.05, "1/DegC", 0, 0.3, "Loss of recharge per degree of warming."),
        aux("Groundwater Withdrawal", "MIN(MAX(0, Water Demand - Accessible Surface Water), Groundwater Reserve "
            "/ Minimum Groundwater Depletion Time)", KM3Y, "Groundwater pumped."),
        const("Minimum Groundwater Depletion Time", 20, "Year", 2, 100, "Fastest time to pump the reserve dry."),
        const("Accessible Surface Water", 2500, KM3Y, 500, 10000, "Surface water that can be used."),
        aux("Water Demand", "Irrigation Water Demand + Industrial Water Demand + Municipal Water Demand", KM3Y,
            "All water wanted."),
        aux("Irrigation Water Demand", "Arable Land * Irrigation Water per Hectare * Effect of Inputs on "
            "Irrigation(Agricultural Inputs per Hectare)", KM3Y, "Water for irrigation."),
        const("Irrigation Water per Hectare", 1.8, "km3/(Mha*Year)", 0.1, 10, "Water per hectare of fully "
              "irrigated farming."),
        lookup("Effect of Inputs on Irrigation",
               [(0, 0.2), (20, 0.4), (50, 0.6), (100, 0.8), (200, 1), (400, 1.1)],
               "Irrigated share as a function of agricultural inputs per hectare."),
        aux("Industrial Water Demand", "Industrial Output * Industrial Water Intensity", KM3Y,
            "Water for industry."),
        const("Industrial Water Intensity", 0.3, "km3/G$", 0.01, 2, "Water per unit of output."),
        aux("Municipal Water Demand", "Population * Municipal Water per Capita", KM3Y, "Water for households."),
        const("Municipal Water per Capita", 0.05, "km3/(Million Person*Year)", 0.01, 0.5,
              "Household water per person (50 cubic metres a year)."),
        aux("Water Supply Ratio", "XIDZ(MIN(Water Demand, Accessible Surface Water) + Groundwater Withdrawal, "
            "Water Demand, 1)", "Dmnl", "Share of water demand met."),
        lookup("Effect of Water Scarcity on Yield",
               [(0, 0.2), (0.2, 0.35), (0.4, 0.52), (0.6, 0.7), (0.8, 0.87), (1, 1)],
               "Yield multiplier as a function of the share of water demand met."),
    ],
)

# ----------------------------------------------------------------------------------------------------------
# Education and welfare indicators.
# ----------------------------------------------------------------------------------------------------------
EDUCATION = Sector(
    "Education and welfare",
    "Schooling follows service output; it raises labour productivity and lowers desired family size. "
    "A human welfare index summarises the state of the world.",
    [
        stock("Average Years of Schooling", "Schooling Change", "1.5", "Year",
              "Average schooling of adults."),
        aux("Schooling Change", "(Indicated Years of Schooling - Average Years of Schooling) / Schooling "
            "Adjustment Time", "Dmnl", "Change of average schooling."),
        const("Schooling Adjustment Time", 25, "Year", 5, 60, "Time for the adult population to turn over."),
        aux("Indicated Years of Schooling", "Effect of Services on Schooling(Service Output per Capita)",
            "Year", "Schooling that current services provide."),
        lookup("Effect of Services on Schooling",
               [(0, 0.5), (100, 2), (200, 3.5), (400, 6), (600, 8), (800, 9.5), (1200, 11), (1600, 12)],
               "Years of schooling as a function of service output per person.", "Year"),
        lookup("Effect of Education on Labor Productivity",
               [(0, 0.8), (2, 0.9), (4, 1), (6, 1.1), (8, 1.18), (10, 1.24), (12, 1.28)],
               "Output multiplier as a function of average years of schooling."),
        lookup("Effect of Education on Family Size",
               [(0, 1.15), (2, 1.1), (4, 1), (6, 0.9), (8, 0.8), (10, 0.75), (12, 0.72)],
               "Desired family size multiplier as a function of average years of schooling."),
        aux("Life Expectancy Index", "MIN(1, MAX(0, (Life Expectancy - 25) / 60))", "Dmnl",
            "Life expectancy scaled between 25 and 85 years."),
        aux("Education Index", "MIN(1, Average Years of Schooling / Maximum Years of Schooling)", "Dmnl",
            "Schooling relative to its maximum."),
        const("Maximum Years of Schooling", 15, "Year", 10, 20, "Schooling counted as complete."),
        aux("Income per Capita", "(Industrial Output + Service Output) * 1000 / Population", PC,
            "Industrial and service output per person."),
        aux("Income Index", "MIN(1, MAX(0, LN(MAX(Income per Capita, 100) / 100) / LN(Maximum Income per "
            "Capita / 100)))", "Dmnl", "Logarithmic income index between 100 and the maximum income."),
        const("Maximum Income per Capita", 40000, PC, 1000, 100000, "Income counted as the maximum."),
        aux("Human Welfare Index", "(Life Expectancy Index + Education Index + Income Index) / 3", "Dmnl",
            "Average of the three indices."),
    ],
)

SECTORS = [POPULATION, CAPITAL, AGRICULTURE, RESOURCES, POLLUTION, TECHNOLOGY, ENERGY, CLIMATE, WATER, EDUCATION]

CONTROL = [
    ("FINAL TIME", "200", "Year", "The final time for the simulation (2100)."),
    ("INITIAL TIME", "0", "Year", "The initial time for the simulation (1900)."),
    ("SAVEPER", "1", "Year [0,?]", "The frequency with which output is stored."),
    ("TIME STEP", "0.5", "Year [0,?]", "The time step for the simulation."),
]

# Indicators that no other variable uses: the model's outputs.
OUTPUTS = {"Human Welfare Index"}

FUNCTIONS = {
    "IF THEN ELSE", "MIN", "MAX", "XIDZ", "ZIDZ", "SMOOTH", "SMOOTH3", "DELAY3", "STEP", "PULSE",
    "RAMP", "TREND", "LN",
}
BUILTINS = {"Time"}
# fmt: on


# ----------------------------------------------------------------------------------------------------------
# Writing and checking
# ----------------------------------------------------------------------------------------------------------
def _references(expression: str) -> list[str]:
    """Names in an expression: the pieces between operators, parentheses and commas that are not numbers."""
    pieces = re.split(r"[()+\-*/^,<>=]", expression)
    return [p.strip() for p in pieces if p.strip() and not re.fullmatch(r"[0-9.]+", p.strip())]


def check(sectors: list[Sector]) -> dict[str, int]:
    """Fail on an undefined or unused name; return the count of each kind of variable."""
    variables = [v for s in sectors for v in s.variables]
    names = [v.name for v in variables]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"defined twice: {sorted(duplicates)}")
    defined = set(names) | BUILTINS
    used: set[str] = set()
    for v in variables:
        for ref in _references(v.equation) + _references(v.init):
            if ref in FUNCTIONS:
                continue
            if ref not in defined:
                raise ValueError(f"{v.name}: unknown name {ref!r}")
            used.add(ref)
    unused = sorted(set(names) - used - OUTPUTS)
    if unused:
        raise ValueError(f"defined but not used: {unused}")
    counts = {kind: sum(v.kind == kind for v in variables) for kind in ("stock", "aux", "const", "lookup")}
    counts["named variables (no lookups)"] = counts["stock"] + counts["aux"] + counts["const"]
    return counts


def _entry(v: Var) -> str:
    if v.kind == "stock":
        head = f"{v.name}= INTEG (\n\t{v.equation},\n\t\t{v.init})"
    elif v.kind == "lookup":
        xs = [x for x, _ in v.points]
        ys = [y for _, y in v.points]
        box = f"[({_num(min(xs))},{_num(min(ys))})-({_num(max(xs))},{_num(max(ys))})]"
        pts = ",".join(f"({_num(x)},{_num(y)})" for x, y in v.points)
        head = f"{v.name}(\n\t{box},{pts})"
    else:
        head = f"{v.name}=\n\t{v.equation}"
    return f"{head}\n\t~\t{v.units}\n\t~\t{v.doc}\n\t|\n"


def _group(title: str, doc: str) -> str:
    bar = "*" * 56
    return f"{bar}\n\t.{title}\n{bar}~\n\t\t{doc}\n\t|\n"


def render(sectors: list[Sector]) -> str:
    parts = [
        "{UTF-8}\n",
        _group(
            "World model benchmark",
            "A World3-like model in ten sectors over 1900-2100, generated by "
            "benchmarks/make_large_model.py for compile-time and speed benchmarks of flywheel.",
        ),
    ]
    for sector in sectors:
        parts.append(_group(sector.title, sector.doc))
        parts.extend(_entry(v) for v in sector.variables)
    parts.append(_group("Control", "Simulation Control Parameters"))
    for name, value, units, doc in CONTROL:
        parts.append(f"{name}  = {value}\n\t~\t{units}\n\t~\t{doc}\n\t|\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    counts = check(SECTORS)
    out.write_text(render(SECTORS), encoding="utf-8")
    print(f"wrote {out}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
