"""Write a subscripted regional supply-chain model (Vensim) with N regions and 3 products.

Used by ``bench_subscripts.py``: ``python benchmarks/make_subscripted_model.py 1000 out.mdl``. Every
construct a regional model typically uses: arrays of 1 and 2 dimensions, array constants, subscripts
as numbers, SUM over a dimension, lookups evaluated per element, SMOOTH and DELAY1 over arrays, MIN,
MODULO, an INTEG of two dimensions, and scalar aggregates."""

from __future__ import annotations

import sys
from pathlib import Path


def equation(name: str, expr: str, units: str = "") -> str:
    return f"{name} = {expr}\n\t~\t{units}\n\t~\t\n\t|\n\n"


def model_text(n_regions: int) -> str:
    regions = ", ".join(f"R{i}" for i in range(1, n_regions + 1))
    body = f"Region: {regions}\n\t~\t~\t|\n\nProduct: Basic, Standard, Premium\n\t~\t~\t|\n\n"
    body += equation("Product Share[Product]", "0.5, 0.3, 0.2", "dmnl")
    body += equation("Capacity[Region]", "100 + 50 * MODULO(Region, 7)", "units/month")
    body += ("Seasonality Table(\n\t[(0,0)-(12,2)],(0,1),(3,1.2),(6,1),(9,0.8),(12,1))\n\t~\tdmnl\n\t~\t\n\t|\n\n")
    body += equation("Seasonality[Region]", "Seasonality Table(MODULO(Time + Region / 10, 12))", "dmnl")
    body += equation("Demand[Region, Product]", "Capacity[Region] * Product Share[Product] * Seasonality[Region] * "
                     "Price Effect[Region]", "units/month")  # fmt: skip
    body += equation("Production[Region, Product]", "MIN(Demand[Region, Product], Capacity[Region] * "
                     "Product Share[Product] * Utilisation)", "units/month")  # fmt: skip
    body += equation("Utilisation", "0.9", "dmnl")
    body += equation("Inventory[Region, Product]", "INTEG(Production[Region, Product] - Shipments[Region, Product], "
                     "Capacity[Region] * Product Share[Product])", "units")  # fmt: skip
    body += equation("Shipments[Region, Product]", "Inventory[Region, Product] / Shipping Time", "units/month")
    body += equation("Shipping Time", "2", "months")
    body += equation("Regional Inventory[Region]", "SUM(Inventory[Region, Product!])", "units")
    body += equation("Coverage[Region]", "Regional Inventory[Region] / Capacity[Region]", "months")
    body += "Price Effect Table(\n\t[(0,0)-(4,2)],(0,1.3),(0.5,1.2),(1,1),(2,0.8),(4,0.6))\n\t~\tdmnl\n\t~\t\n\t|\n\n"
    body += equation("Price Effect[Region]", "Price Effect Table(Perceived Coverage[Region])", "dmnl")
    body += equation("Perceived Coverage[Region]", "SMOOTH(Coverage[Region], Perception Time)", "months")
    body += equation("Perception Time", "3", "months")
    body += equation("Delivered[Region]", "DELAY1(SUM(Shipments[Region, Product!]), Shipping Time)", "units/month")
    body += equation("Total Inventory", "SUM(Regional Inventory[Region!])", "units")
    body += equation("Total Delivered", "SUM(Delivered[Region!])", "units/month")
    body += equation("Average Price Effect", "SUM(Price Effect[Region!]) / ELMCOUNT(Region)", "dmnl")
    control = (
        "FINAL TIME  = 60\n\t~\tmonth\n\t~\t\n\t|\n\nINITIAL TIME  = 0\n\t~\tmonth\n\t~\t\n\t|\n\n"
        "SAVEPER  = 1\n\t~\tmonth\n\t~\t\n\t|\n\nTIME STEP  = 0.25\n\t~\tmonth\n\t~\t\n\t|\n\n"
    )
    return "{UTF-8}\n" + body + control


def write(n_regions: int, path: Path) -> Path:
    path.write_text(model_text(n_regions), encoding="utf-8")
    return path


if __name__ == "__main__":
    write(int(sys.argv[1]), Path(sys.argv[2]))
