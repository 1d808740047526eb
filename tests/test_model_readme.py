"""models/README.md stays true to the model: every equation, every default and range, and every loop it lists
(each arrow a direct dependency, each polarity pysimlin's runtime polarity)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import flywheel
from flywheel.analysis.peers import simlin_name, simlin_path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "evil_sales_flywheel.mdl"
README = (ROOT / "models" / "README.md").read_text(encoding="utf-8")


def _elements() -> list[dict[str, str]]:
    """Name, equation and units field of every element of the .mdl file (sketch and control excluded)."""
    text = MODEL.read_text(encoding="utf-8").split("\\\\\\---///")[0].replace("{UTF-8}", "")
    out = []
    for block in text.split("|"):
        block = block.strip()
        if not block or re.match(r"\*+\s*\n\s*\.", block):
            continue
        head, units = block.split("~")[:2]
        name, equation = head.split("=", 1)
        out.append(
            {
                "name": " ".join(name.split()),
                "equation": " ".join(re.sub(r"\\\s*\n", " ", equation).split()),
                "units": " ".join(units.split()),
            }
        )
    return out


ELEMENTS = [e for e in _elements() if e["name"] not in ("FINAL TIME", "INITIAL TIME", "SAVEPER", "TIME STEP")]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_readme_lists_every_equation() -> None:
    readme = _one_line(README)
    missing = [e["name"] for e in ELEMENTS if not _is_number(e["equation"]) and f"{e['name']} = {e['equation']}" not in readme]
    assert not missing, missing


def test_readme_gives_every_default_and_range() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| ")]
    missing = []
    for e in ELEMENTS:
        if not _is_number(e["equation"]):
            continue
        name = re.sub(r" (Before|After)$", "", e["name"])
        rng = re.search(r"\[(.*)\]", e["units"]).group(1)
        row = [r for r in rows if re.match(rf"\| (\*\*)?{re.escape(name)}( Before / After)?(\*\*)? \|", r)]
        if not row or f"| {e['equation']} |" not in row[0] or f"[{rng}]" not in row[0]:
            missing.append(e["name"])
    assert not missing, missing


LOOP_ROWS = re.findall(r"^\| ([RB]\d+) \| ([^|]+) \| ([RB]) \| ([^|]+) \|$", README, re.M)


def test_readme_lists_the_story_loops() -> None:
    ids = [row[0] for row in LOOP_ROWS]
    assert len(ids) >= 15 and len(set(ids)) == len(ids)
    model = flywheel.load_model(MODEL)
    deps = model.dependencies
    for loop_id, _, _, path in LOOP_ROWS:
        nodes = [n.strip() for n in path.split("→")]
        assert nodes[0] == nodes[-1], loop_id
        broken = [(a, b) for a, b in zip(nodes, nodes[1:], strict=False) if a not in deps[b]]
        assert not broken, (loop_id, broken)


def test_readme_loop_polarities_agree_with_pysimlin() -> None:
    simlin = pytest.importorskip("simlin")
    sim = simlin.load(str(simlin_path(MODEL)))
    key = simlin_name
    polarity = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for overrides in ({"market_shock_size": 0.1}, {"market_shock_size": 0.1, "deep_dive_share_after": 0.3, "overlay_response_after": 0}):
            loops = sim.run(overrides=overrides).loops
            polarity.append({frozenset(v for v in lp.variables if not v.startswith("$")): str(lp.polarity) for lp in loops})
    for loop_id, _, expected, path in LOOP_ROWS:
        nodes = frozenset(key(n.strip()) for n in path.split("→")[:-1])
        found = [p[nodes] for p in polarity if nodes in p]
        assert found, f"{loop_id} is not a loop pysimlin finds"
        decided = [p for p in found if p in ("R", "B", "Rux", "Bux")]
        assert decided and all(p[0] == expected for p in decided), (loop_id, found)
