"""The audit's short plain-text summary: the scores, the position, the projection, seed 001's answer and
the path, each number labelled, the judgement statement on top."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .audit import AuditResult, ShiftRanking

__all__ = ["audit_summary", "formatter", "ranking_lines"]


def formatter(model) -> tuple[callable, callable]:
    """(value, change) formatters per variable: the profile's percent panels as % and points."""
    from ..scenarios import load_profile

    percent = {p.variable for p in load_profile(model).panels if p.percent}

    def value(name: str, x: float) -> str:
        return f"{100 * x:.1f} %" if name in percent else f"{x:.3g}"

    def change(name: str, x: float) -> str:
        return f"{100 * x:+.2f} pts" if name in percent else f"{x:+.3f}"

    return value, change


def ranking_lines(ranking: ShiftRanking, model) -> list[str]:
    """The ranking as aligned lines: rank, dimension, step, each outcome's change after each horizon."""
    _, change = formatter(model)
    columns = [c for c in ranking.table.columns if " after " in c]
    split = [c.split(" after ") for c in columns]
    width = max([15] + [len(o) for o, _ in split])
    top = f"  {'':3}{'':<30}{'':>6}  " + "  ".join(f"{o:>{width}}" for o, _ in split)
    head = f"  {'':3}{'dimension':<30}{'step':>6}  " + "  ".join(f"{'after ' + m:>{width}}" for _, m in split)
    lines = [top.rstrip(), head]
    for _, row in ranking.table.iterrows():
        cells = "  ".join(f"{change(o, row[c]):>{width}}" for (o, _), c in zip(split, columns, strict=True))
        lines.append(f"  {int(row['rank']):<3}{row['label'][:29]:<30}{row['step']:>+6.2f}  {cells}")
    return lines


def audit_summary(result: AuditResult) -> str:
    mapping, pos, ranking = result.mapping, result.position, result.ranking
    model = mapping.model
    value, change = formatter(model)
    answers = pos.answers
    who = answers.team or "your team"
    when = answers.date.isoformat() if answers.date else "undated"
    out = [f"{mapping.title}: {who} ({when}; answers {answers.source})",
           f"NOTE: {mapping.statement}", ""]  # fmt: skip
    out.append("Your answers (mean per dimension, 1-5; 3 = what a typical sales organisation does today):")
    for dim in mapping.dimensions:
        out.append(f"  {dim.label:<34}{pos.dimension_scores[dim.id]:>5.2f}")
    out += ["", "Your answers put you here (the model at month 0; the model's status quo, a team answering 3 "
            "everywhere, in brackets):"]  # fmt: skip
    for name, x in pos.start.items():
        out.append(f"  {name:<34}{value(name, x):>10}   ({value(name, pos.status_quo[name])})")
    out += ["", "The model inputs your answers set (mapping: " + str(mapping.path.name) + "):"]
    for item in mapping.inputs:
        units = f" {item.units}" if item.units and item.units.lower() != "dmnl" else ""
        out.append(f"  {item.target:<34}{pos.inputs[item.target]:>10.4g}{units}")

    proj = result.projection
    labels = {k: s.title for k, s in proj.scenarios.items()}
    final = float(proj.results["current"].index[-1])
    months = sorted({*mapping.shift.months, final})
    out += ["", f"Projection under {proj.conditions}:",
            f"  {'':<34}{labels['current'][:32]:>34}{labels['alternative'][:32]:>34}"]  # fmt: skip
    for outcome in mapping.shift.outcomes:
        for m in months:
            a = proj.results["current"].loc[m, outcome]
            b = proj.results["alternative"].loc[m, outcome]
            out.append(f"  {f'{outcome} at month {m:g}':<34}{value(outcome, a):>34}{value(outcome, b):>34}")

    out += ["", "Which part of your sales management ecosystem would create the biggest shift if it were "
            "strengthened today? (seed 001)",
            f"Each dimension raised by {ranking.points:g} point{'s' if ranking.points != 1 else ''} (answers at "
            f"most 5), one at a time (seed 000), from month {ranking.month:g}, under {ranking.conditions}; "
            "change against your current way:"]  # fmt: skip
    out += ranking_lines(ranking, model)
    best = ranking.table.iloc[0]
    column = ranking.column(ranking.rank_by, ranking.rank_month)
    out.append(f"Answer: {best['label']} ({ranking.rank_by} {change(ranking.rank_by, best[column])} after "
               f"{ranking.rank_month:g} months; it moves {best['inputs'] or 'nothing'}).")  # fmt: skip
    runner = ranking.close_call()
    if runner is not None:
        other = ranking.table.loc[runner]
        out.append(f"Close call: {other['label']} comes within 10 % ({change(ranking.rank_by, other[column])}); the "
                   "order of the two rests on the mapping's judgement more than on the model.")  # fmt: skip

    if len(result.answers) > 1:
        out += ["", f"Your path over {len(result.answers)} audits (mean answer per dimension; below, the model's stocks "
                "at month 0 that moved):"]
        positions = result.path.positions
        out.append(f"  {'':<34}" + "".join(f"{p.answers.label:>12}" for p in positions))
        for d in mapping.dimensions:
            out.append(f"  {d.label:<34}" + "".join(f"{p.dimension_scores[d.id]:>12.2f}" for p in positions))
        moving = [n for n in model.stocks if n in positions[0].start
                  and len({round(p.start[n], 12) for p in positions}) > 1]  # fmt: skip
        for name in moving:
            out.append(f"  {name[:33]:<34}" + "".join(f"{p.start[name]:>12.3f}" for p in positions))
    out += ["", f"NOTE: {mapping.statement} Read the numbers as an illustration of the mechanism, not a forecast."]
    return "\n".join(out) + "\n"
