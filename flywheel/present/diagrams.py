"""Causal loop diagrams and stock-and-flow views drawn with Graphviz, from a model's loop table.

The causal loop diagram shows the variables of the chosen loops: stocks as boxes, the other variables
as text, + and - at the arrow heads, a delay mark (||) on links through SMOOTH/DELAY/TREND, and an R/B
marker with the loop's name placed inside each marked loop. Flows are folded into the stocks they
change (x -> inflow -> stock becomes x -> stock), as on a classroom diagram. Layout is two passes:
``dot`` places the variables, then the markers go where the loop's variables surround the most free
space, and ``neato -n2`` routes the arrows with every position fixed.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import OutputError

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis.structure import Structure

FONT = "Helvetica"
LAYOUT_ENGINE = "neato"
COLOURS = {"R": "#b2182b", "B": "#2166ac", "?": "#6a3d9a"}
PLUS, MINUS = "#1b4f8a", "#b2182b"


def require_graphviz() -> None:
    """Graphviz's ``dot`` must be installed (Debian package ``graphviz``)."""
    if shutil.which("dot") is None:
        raise OutputError("graphviz is not installed (the 'dot' program is missing); install the Debian package "
                          "'graphviz' (apt-get install graphviz)")  # fmt: skip


@dataclass
class Diagram:
    """A drawn diagram: SVG text and PNG bytes."""

    svg: bytes
    png: bytes


def _label(name: str, width: int = 14) -> str:
    """Wrap a variable name on spaces for a compact node."""
    words, lines, line = name.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def folded_links(structure: Structure, polarity: dict[tuple[str, str], str],
                 keep: set[str] | frozenset[str] = frozenset()) -> dict[tuple[str, str], dict]:  # fmt: skip
    """Links between non-flow variables, flows folded into their stocks: (source, target) -> polarity, delay.
    The flows in ``keep`` stay nodes (a loop of a stock and its own flow would fold into nothing)."""
    flows = {n for n in structure.nodes if structure.kind(n) == "flow" and n not in keep and any(
        structure.kind(t) == "stock" for t in structure.graph.successors(n))}  # fmt: skip
    out: dict[tuple[str, str], dict] = {}

    def add(s, t, sign, delay):
        if s == t:
            return
        key = (s, t)
        old = out.get(key)
        if old is None:
            out[key] = {"polarity": sign, "delay": delay}
        elif old["polarity"] != sign:
            old["polarity"] = "±"

    for s, t in structure.graph.edges:
        if s in flows or t in flows:
            continue
        add(s, t, polarity.get((s, t), "?"), structure.via(s, t) in ("smooth", "delay", "trend"))
    for f in flows:
        for stock in structure.graph.successors(f):
            if structure.kind(stock) != "stock":
                continue
            into = polarity.get((f, stock), "?")
            for s in structure.graph.predecessors(f):
                sign = _times(polarity.get((s, f), "?"), into)
                add(s if s not in flows else s, stock, sign, False)
    return out


def _times(a: str, b: str) -> str:
    if a in "+-" and b in "+-" and a and b:
        return "+" if a == b else "-"
    return "±" if "±" in (a, b) else "?"


def fold_loop(structure: Structure, variables: tuple[str, ...], whole: bool = True) -> list[str]:
    """A loop's variables without its flows (the folded diagram's nodes, in order). A loop that would
    fold into one variable (a stock and the flow that drains or fills it) keeps its flows when ``whole``
    (a loop the diagram marks), else it shows as its stock alone."""
    folded = [v for v in variables if structure.kind(v) != "flow"]
    if whole and len(folded) < 2:
        return list(variables)
    return folded or list(variables)


@dataclass
class Layout:
    """Where a causal loop diagram puts things (points, y up): nodes, the links shown, loop markers."""

    nodes: dict[str, tuple[float, float]]
    links: dict[tuple[str, str], dict]
    markers: list[tuple[str, object, tuple[float, float]]]


def cld_layout(structure: Structure, table: pd.DataFrame, polarity: dict[tuple[str, str], str],
               marked: list[str]) -> Layout:  # fmt: skip
    """Lay out the loops of ``table``: variables by Graphviz, a marker inside each loop in ``marked``."""
    require_graphviz()
    nodes: list[str] = []
    for loop_id, variables in zip(table["id"], table["variables"], strict=True):
        for v in fold_loop(structure, variables, whole=loop_id in marked):
            if v not in nodes:
                nodes.append(v)
    links = folded_links(structure, polarity, {v for v in nodes if structure.kind(v) == "flow"})
    keep = set(nodes)
    shown = {k: v for k, v in links.items() if k[0] in keep and k[1] in keep}
    first = _graph(structure, nodes, shown, "")
    layout = _positions(first.pipe(format="json", engine=LAYOUT_ENGINE, quiet=True))
    markers: list = []
    rows = table.set_index("id")
    for loop_id in marked:
        if loop_id not in rows.index:
            continue
        row = rows.loc[loop_id]
        members = [layout[v] for v in fold_loop(structure, row["variables"]) if v in layout]
        if len(members) < 2:
            continue
        markers.append((loop_id, row, _free_spot(members, layout, markers)))
    return Layout(layout, shown, markers)


def causal_loop_diagram(structure: Structure, table: pd.DataFrame, polarity: dict[tuple[str, str], str],
                        marked: list[str], title: str = "") -> Diagram:  # fmt: skip
    """Draw the loops of ``table`` (its rows are the loops to show) with markers for the ids in ``marked``."""
    layout = cld_layout(structure, table, polarity, marked)
    final = _graph(structure, list(layout.nodes), layout.links, title, layout.nodes, layout.markers)
    svg = final.pipe(format="svg", engine="neato", neato_no_op=2, quiet=True)
    png = final.pipe(format="png", engine="neato", neato_no_op=2, quiet=True)
    return Diagram(svg, png)


def _graph(structure, nodes, links, title, layout=None, markers=()):
    import graphviz

    g = graphviz.Digraph("cld")
    g.attr(nodesep="0.45", splines="true", fontname=FONT, dpi="110", pad="0.3", outputorder="edgesfirst",
           overlap="prism", overlap_scaling="-6", sep="+14", esep="+6", mode="major", model="subset", start="7",
           bgcolor="white")  # fmt: skip
    if title:
        g.attr(label=title, labelloc="t", fontsize="22", fontname=f"{FONT} Bold")
    g.attr("node", fontname=FONT, fontsize="15", margin="0.06,0.03")
    g.attr("edge", fontname=f"{FONT} Bold", fontsize="18", color="#555555", arrowsize="0.8", penwidth="1.4")
    for name in nodes:
        attrs = {"label": _label(name)}
        if structure.kind(name) == "stock":
            attrs.update(shape="box", style="rounded,filled", fillcolor="#f2f2f2", color="#333333", penwidth="1.6")
        else:
            attrs.update(shape="plaintext")
        if layout is not None:
            x, y = layout[name]
            attrs["pos"] = f"{x:.1f},{y:.1f}!"
        g.node(_id(name), **attrs)
    for (s, t), info in links.items():
        sign = info["polarity"]
        colour = PLUS if sign == "+" else MINUS if sign == "-" else "#6a3d9a"
        label = {"+": "+", "-": "−"}.get(sign, sign)
        angle = "-25" if sum(map(ord, s + t)) % 2 else "25"
        attrs = {"headlabel": label, "labelfontcolor": colour, "labeldistance": "1.8", "labelangle": angle}
        if info["delay"]:
            attrs.update(label="||", fontsize="16", fontcolor="#222222")
        g.edge(_id(s), _id(t), **attrs)
    for loop_id, row, (x, y) in markers:
        polarity = row["polarity"]
        colour = COLOURS.get(polarity, "#444444")
        name = row["name"] or ""
        symbol = "↻" if polarity != "B" else "↺"
        title_text = f"{symbol} {polarity if polarity != '?' else '?'}"
        text = f'<<FONT POINT-SIZE="22"><B>{title_text}</B></FONT>'
        if name:
            text += f'<BR/><FONT POINT-SIZE="13"><I>{_html(name)}</I></FONT>'
        text += f'<BR/><FONT POINT-SIZE="10">{loop_id}</FONT>>'
        g.node(f"marker_{loop_id}", label=text, shape="plaintext", fontcolor=colour, pos=f"{x:.1f},{y:.1f}!")
    return g


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _id(name: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in name)


def _positions(json_bytes: bytes) -> dict[str, tuple[float, float]]:
    import json

    data = json.loads(json_bytes)
    out = {}
    for obj in data.get("objects", []):
        if "pos" in obj and obj.get("name", "").startswith("n_"):
            x, y = (float(v) for v in obj["pos"].split(","))
            out[obj["label"].replace("\\n", " ").replace("\n", " ")] = (x, y)
    return out


def _free_spot(members, layout, markers) -> tuple[float, float]:
    """A point inside the loop's outline, as far as possible from every node and marker; beside a
    loop of two variables (its outline is a line), on the side with more room."""
    others = list(layout.values()) + [m[2] for m in markers]
    if len(members) == 2:
        (x0, y0), (x1, y1) = members
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        sides = [(mx + k * 60 * nx, my + k * 60 * ny) for k in (1, -1)]
        return max(sides, key=lambda p: min(math.hypot(p[0] - ox, p[1] - oy) for ox, oy in others))
    cx = sum(p[0] for p in members) / len(members)
    cy = sum(p[1] for p in members) / len(members)
    xs = [p[0] for p in members]
    ys = [p[1] for p in members]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    best, best_score = (cx, cy), -1.0
    steps = 9
    for i in range(steps):
        for j in range(steps):
            x = min(xs) + w * (0.15 + 0.7 * i / (steps - 1))
            y = min(ys) + h * (0.15 + 0.7 * j / (steps - 1))
            clearance = min(math.hypot((x - ox) / 1.6, y - oy) for ox, oy in others)
            score = clearance - 0.15 * math.hypot(x - cx, y - cy)
            if score > best_score:
                best, best_score = (x, y), score
    return best


def stock_flow_diagram(structure: Structure, polarity: dict[tuple[str, str], str], title: str = "") -> Diagram:
    """Stocks as boxes, flows as valves on thick pipes (clouds where a flow comes from or goes to
    outside the model), the variables that set each flow as thin information links."""
    import graphviz

    require_graphviz()
    g = graphviz.Digraph("sfd")
    g.attr(rankdir="LR", nodesep="0.35", ranksep="0.7", splines="true", fontname=FONT, dpi="110", pad="0.3",
           newrank="true")  # fmt: skip
    if title:
        g.attr(label=title, labelloc="t", fontsize="22", fontname=f"{FONT} Bold")
    g.attr("node", fontname=FONT, fontsize="13")
    stocks = structure.stocks
    flows = {n for n in structure.nodes if structure.kind(n) == "flow"}
    for s in stocks:
        g.node(_id(s), label=_label(s), shape="box", style="filled", fillcolor="#e8eef7", color="#1f3b63",
               penwidth="2", fontsize="15", width="1.5", height="0.8")  # fmt: skip
    shown_aux = set()
    clouds = 0
    for f in sorted(flows):
        into = [t for t in structure.graph.successors(f) if structure.kind(t) == "stock" and polarity.get((f, t)) == "+"]
        out_of = [t for t in structure.graph.successors(f) if structure.kind(t) == "stock" and polarity.get((f, t)) == "-"]
        valve = _id(f)
        text = "<BR/>".join(_html(line) for line in _label(f, 16).split("\n"))
        g.node(valve, label=f'<<FONT POINT-SIZE="22" COLOR="#1f3b63">⊗</FONT><BR/><FONT POINT-SIZE="11">{text}</FONT>>',
               shape="plaintext", margin="0")  # fmt: skip
        source = _id(out_of[0]) if out_of else None
        target = _id(into[0]) if into else None
        if source is None:
            clouds += 1
            source = f"cloud{clouds}"
            g.node(source, label="☁", shape="plaintext", fontsize="26", fontcolor="#8899aa")
        if target is None:
            clouds += 1
            target = f"cloud{clouds}"
            g.node(target, label="☁", shape="plaintext", fontsize="26", fontcolor="#8899aa")
        g.edge(source, valve, arrowhead="none", penwidth="5", color="#1f3b63")
        g.edge(valve, target, penwidth="5", color="#1f3b63", arrowsize="0.7")
        for s in structure.graph.predecessors(f):
            if s not in stocks and s not in shown_aux:
                g.node(_id(s), label=_label(s), shape="plaintext", fontcolor="#333333")
                shown_aux.add(s)
            g.edge(_id(s), valve, style="solid", color="#999999", penwidth="0.9", arrowsize="0.5",
                   constraint="false")  # fmt: skip
    return Diagram(g.pipe(format="svg", engine="dot"), g.pipe(format="png", engine="dot"))


def loops_for(table: pd.DataFrame, focus: str | None = None, ids: list[str] | None = None) -> pd.DataFrame:
    """The loops to draw: those through ``focus``, or those with the given ids, or all."""
    chosen = table
    if focus:
        chosen = chosen[[focus in v for v in chosen["variables"]]]
    if ids:
        chosen = chosen[chosen["id"].isin(ids) | chosen["name"].isin(ids)]
    return chosen


def default_markers(table: pd.DataFrame, most: int = 8) -> list[str]:
    """Named loops if any; else every loop of a small model (up to ``most``), and in a larger one the
    shortest loops through more than one stock-and-flow pair first."""
    named = list(table.loc[table["name"] != "", "id"])
    if named:
        return named
    if len(table) <= most:
        return list(table["id"])
    longer = table[table["length"] > 2]
    return (list(longer["id"]) + list(table.loc[table["length"] <= 2, "id"]))[:most]

