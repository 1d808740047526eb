"""The debrief of a played game: which feedback loops drove the player's own run, in words, and how the
player's prediction compares.

The loop scores come from ``loop_dominance(model, game)`` (Loops That Matter on the played run;
decisions the player held are inputs while held, so the loops through them are cut). A model has many
more loops than names (the flywheel: 166 elementary loops, 18 named): each unnamed loop is credited to
the named loop of the same polarity it shares most links with (its variant), single-stock loops are
"minor loops" (stocks settling), the rest "other reinforcing / balancing loops". Shares are each
family's part of the sum of absolute relative loop scores, averaged over the months in which any loop
was active; phases are the stretches in which one family led.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from .play import Session

VARIANT_OVERLAP = 0.35  # share of links (Jaccard) an unnamed loop needs with a named one to count as its variant
DROVE, PART = 0.10, 0.03  # family shares: "drove the run", "played a part"
_WORDS = {"R": "reinforcing", "B": "balancing", "?": "undetermined"}


@dataclass(frozen=True)
class Family:
    """A named loop and its variants (or a group of unnamed loops), with its share of the run."""

    key: str  # the named loop's id, or "minor" / "other R" / "other B"
    label: str
    polarity: str
    members: tuple[str, ...]
    share: float

    @property
    def title(self) -> str:
        variants = len(self.members) - 1 if self.key in self.members else 0
        extra = f" (and {variants} variant{'s' if variants > 1 else ''})" if variants else ""
        return f"{self.key} {self.label}{extra}" if self.key in self.members else self.label


@dataclass(frozen=True)
class Phase:
    start: float
    end: float
    family: Family
    share: float  # its mean share within the phase


@dataclass(frozen=True)
class LoopStory:
    """Which loops drove a run, when, and which loops ran through the decisions the player held."""

    families: tuple[Family, ...]  # by share, largest first
    phases: tuple[Phase, ...]
    reinforcing: float  # share of reinforcing loops over the run
    held: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)  # decision -> (turns held, named loops)
    named: tuple[tuple[str, str, str], ...] = ()  # (id, name, polarity) of every named loop

    def family_of(self, loop_id: str) -> Family | None:
        return next((f for f in self.families if loop_id in f.members), None)

    def words(self, time_unit: str = "month") -> list[str]:
        """The story in sentences for the player (and the transcript)."""
        lines = []
        top = [f for f in self.families if f.share >= PART][:4]
        if top:
            lines.append("What drove your run: " + "; ".join(f"{f.title}, {_pct(f.share)}" for f in top) + ".")
        lines.append(f"Reinforcing loops carried {_pct(self.reinforcing)} of the loop activity, balancing loops "
                     f"{_pct(1 - self.reinforcing)}: " + (
                         "once started, the changes fed on themselves (a vicious or a virtuous circle)."
                         if self.reinforcing >= 0.5 else "your organisation absorbed what happened and settled."))  # fmt: skip
        for phase in self.phases:
            word = _WORDS.get(phase.family.polarity, "")
            when = f"{time_unit.capitalize()} {phase.start:g}" if phase.start == phase.end else \
                f"{time_unit.capitalize()}s {phase.start:g}-{phase.end:g}"
            lines.append(f"{when}: {phase.family.title} led ({word}, {_pct(phase.share)} of the loop activity).")
        for decision, (turns, loops) in self.held.items():
            if loops:
                lines.append(f"You decided {decision} yourself in {turns} turns: the loops through it ({_ids(loops)}) "
                             "lost that link while you held it; your decision took the place of the organisation's reflex.")  # fmt: skip
        return lines


@dataclass(frozen=True)
class PredictionCheck:
    """The player's prediction against what happened."""

    confirmed: tuple[tuple[str, float], ...]  # picked loops that drove the run (id, family share)
    minor: tuple[tuple[str, float], ...]  # picked, played a part
    idle: tuple[tuple[str, float], ...]  # picked, hardly active
    missed: tuple[Family, ...]  # drove the run, not picked
    trajectory: tuple[tuple[float, float, float], ...]  # (time, predicted, actual) in the player's units
    yours: tuple[tuple[str, str], ...] = ()  # picked, hardly active because they run through a held decision

    def words(self, label: str, units: str) -> list[str]:
        lines = []
        if self.confirmed:
            lines.append("You saw it: " + ", ".join(f"{i} ({_pct(s)})" for i, s in self.confirmed) + " drove your run.")
        if self.minor:
            lines.append("Played a part: " + ", ".join(f"{i} ({_pct(s)})" for i, s in self.minor) + ".")
        if self.idle:
            lines.append("Hardly active in your run: " + ", ".join(f"{i} ({_pct(s)})" for i, s in self.idle) + ".")
        by_decision: dict[str, list[str]] = {}
        for loop_id, decision in self.yours:
            by_decision.setdefault(decision, []).append(loop_id)
        for decision, ids in by_decision.items():
            lines.append(f"{', '.join(ids)} run{'s' if len(ids) == 1 else ''} through {decision}, which you decided "
                         "yourself: in your run you were that link, not the organisation's reflex.")  # fmt: skip
        if self.missed:
            lines.append("You did not name: " + "; ".join(f"{f.title} ({_pct(f.share)})" for f in self.missed) + ".")
        if self.trajectory:
            parts = [f"month {t:g}: you expected {p:.0f}, it was {a:.0f}" for t, p, a in self.trajectory]
            lines.append(f"{label} ({units}): " + "; ".join(parts) + ".")
            error = float(np.mean([abs(p - a) for _, p, a in self.trajectory]))
            shown = f"{error:.0f}"
            word = ("point" if shown == "1" else "points") if units.startswith("%") else units
            lines.append(f"Your trajectory was off by {shown} {word} on average.")
        return lines


def prepare(model: Any) -> None:
    """Find the model's loops and their polarities ahead of the debrief (seconds on a large model; the
    game calls it in the background while the player plays)."""
    from .dominance import _plan
    from .loops import MAX_LOOPS

    _plan(model, None, MAX_LOOPS)


def loop_story(session: Session, ds: xr.Dataset | None = None) -> LoopStory:
    """The loops that drove a played game (``ds``: its ``loop_dominance``, computed when not given)."""
    from .dominance import loop_dominance

    if ds is None:
        ds = loop_dominance(session.model, session.game)
    ids = [str(v) for v in ds["loop"].values]
    names = [str(v) for v in ds["name"].values]
    polarity = [str(v) for v in ds["polarity"].values]
    stocks = [str(v) for v in ds["stocks"].values]
    links = [_links(str(v)) for v in ds["variables"].values]
    named = [i for i, n in enumerate(names) if n]
    family_of = []
    for i in range(len(ids)):
        family_of.append(_family_key(i, ids, names, polarity, stocks, links, named))
    keys = list(dict.fromkeys(family_of))
    relative = np.abs(np.nan_to_num(ds["relative_score"].values))
    by_family = np.zeros((len(keys), relative.shape[1]))
    for i, key in enumerate(family_of):
        by_family[keys.index(key)] += relative[i]
    total = by_family.sum(axis=0)
    active = total > 1e-12
    shares = np.where(active, by_family / np.where(active, total, 1), 0)
    mean = shares[:, active].mean(axis=1) if active.any() else np.zeros(len(keys))
    index = {ids[i]: i for i in range(len(ids))}
    families = []
    for k, key in enumerate(keys):
        members = tuple(ids[i] for i, f in enumerate(family_of) if f == key)
        if key in index:
            label, pol = names[index[key]], polarity[index[key]]
        else:
            pol = "B" if key == "minor" else key[-1]
            label = "minor loops: stocks settling towards their goals" if key == "minor" else f"other {_WORDS[pol]} loops"
        families.append(Family(key, label, pol, members, float(mean[k])))
    reinforcing = float(sum(f.share for f in families if f.polarity == "R"))
    phases = _phases(ds["time"].values, shares, active, families, session.settings.interval)
    order = sorted(range(len(families)), key=lambda k: -families[k].share)
    return LoopStory(tuple(families[k] for k in order), phases, reinforcing, _held(session, ds, names),
                     tuple((ids[i], names[i], polarity[i]) for i in named))  # fmt: skip


def check_prediction(story: LoopStory, picked: Sequence[str], trajectory: Sequence[tuple[float, float, float]]
                     ) -> PredictionCheck:  # fmt: skip
    """Sort the player's picked loop ids by what they did in the run; list the drivers left out."""
    confirmed, minor, idle, yours = [], [], [], []
    through = {loop_id: decision for decision, (_, loops) in story.held.items() for loop_id in loops}
    for loop_id in picked:
        family = story.family_of(loop_id)
        share = family.share if family is not None else 0.0
        (confirmed if share >= DROVE else minor if share >= PART else idle).append((loop_id, share))
        if share < PART and loop_id in through:
            yours.append((loop_id, through[loop_id]))
    chosen = {story.family_of(i).key for i in picked if story.family_of(i) is not None}
    missed = tuple(f for f in story.families if f.share >= DROVE and f.key not in chosen and f.key in f.members)
    return PredictionCheck(tuple(confirmed), tuple(minor), tuple(idle), missed, tuple(trajectory), tuple(yours))


# ---------------------------------------------------------------------------------------------- helpers


def _links(path: str) -> set[tuple[str, str]]:
    nodes = path.split(" -> ")
    return set(zip(nodes, nodes[1:] + nodes[:1], strict=True))


def _family_key(i: int, ids: list[str], names: list[str], polarity: list[str], stocks: list[str],
                links: list[set], named: list[int]) -> str:  # fmt: skip
    if names[i]:
        return ids[i]
    if len([s for s in stocks[i].split(", ") if s]) <= 1:
        return "minor"
    best, overlap = None, 0.0
    for j in named:
        if polarity[j] != polarity[i]:
            continue
        share = len(links[i] & links[j]) / len(links[i] | links[j])
        if share > overlap:
            best, overlap = j, share
    return ids[best] if best is not None and overlap >= VARIANT_OVERLAP else f"other {polarity[i]}"


def _phases(times: np.ndarray, shares: np.ndarray, active: np.ndarray, families: list[Family], interval: float
            ) -> tuple[Phase, ...]:  # fmt: skip
    """Stretches in which one family led; a lead shorter than one turn joins the stretch before it."""
    leaders = [(float(times[t]), int(np.argmax(shares[:, t]))) for t in range(len(times)) if active[t]]
    runs: list[list[Any]] = []  # [start, end, family index, time indices]
    for t, (time, lead) in enumerate(leaders):
        if runs and runs[-1][2] == lead:
            runs[-1][1] = time
            runs[-1][3].append(t)
        else:
            runs.append([time, time, lead, [t]])
    merged: list[list[Any]] = []
    for run in runs:
        if merged and (run[1] - run[0] < interval or merged[-1][2] == run[2]):
            merged[-1][1] = run[1]
            merged[-1][3].extend(run[3])
        elif len(merged) == 1 and merged[0][1] - merged[0][0] < interval:  # a short first lead joins the next
            run[0] = merged[0][0]
            run[3] = merged[0][3] + run[3]
            merged[0] = run
        else:
            merged.append(run)
    columns = [t for t in range(len(times)) if active[t]]
    out = []
    for start, end, lead, members in merged:
        picked = shares[lead][[columns[m] for m in members]]
        out.append(Phase(start, end, families[lead], float(picked.mean())))
    return tuple(out)


def _held(session: Session, ds: xr.Dataset, names: list[str]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """For every decision the player held: in how many turns, and the named loops that run through it."""
    counts: dict[str, int] = {}
    for move in session.game.moves:
        for name in move:
            counts[name] = counts.get(name, 0) + 1
    paths = [str(v).split(" -> ") for v in ds["variables"].values]
    ids = [str(v) for v in ds["loop"].values]
    held = {}
    for decision, turns in counts.items():
        through = tuple(ids[i] for i, path in enumerate(paths) if names[i] and decision in path)
        held[decision] = (turns, through)
    return held


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(ids) if len(ids) <= 8 else ", ".join(ids[:8]) + f" and {len(ids) - 8} more"
