"""The text report of a calibration, in the spirit of lmfit's ``fit_report``: what was fitted to what,
whether it converged, the estimates with their intervals, the fit per series, the strong correlations,
and which parameters these data cannot pin down."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .calibration import Calibration

_CORRELATION_SHOWN = 0.3


def calibration_report(c: Calibration, correlation_limit: float) -> str:
    problem = c.problem
    if problem.scenario is not None:
        base = f"scenario {problem.scenario.name!r}"
    elif problem.spec.params:
        base = "the model with " + ", ".join(f"{k} = {v:g}" for k, v in problem.spec.params.items())
    else:
        base = "the model's defaults"
    best_cost = c.starts["cost"].min()
    agreeing = int(np.sum(c.starts["cost"] <= best_cost * (1 + 1e-6) + 1e-12))
    weighting = "given weights" if problem.weights_given else "1 / estimated noise level of each series"
    lines = [
        f"[[Calibration]] {problem.model.name} to {problem.data.source}",
        f"    base run:          {base} ({problem.spec.method.name}, dt {problem.spec.time.time_step:g})",
        "    method:            weighted least squares (scipy least_squares, trust-region reflective, bounded)",
        f"    weights:           {weighting}",
        f"    starts:            {len(c.starts)} (Latin hypercube); {agreeing} reached the best cost",
        f"    converged:         {'yes' if c.converged else 'NO: ' + c.message}",
        f"    model runs:        {c.n_evaluations:,} in {c.n_ensembles:,} ensemble calls",
        f"    data points:       {c.n_points} in {len(c.rmse)} series; {_plural(len(c.estimates), 'parameter')}; "
        f"{_plural(c.dof, 'degree')} of freedom",
        f"    chi-square:        {c.chisqr:.6g}",
        f"    reduced chi-square:{c.redchi:>10.6g}",
    ]
    if problem.diverged:
        lines.append(f"    blown-up runs:     {problem.diverged:,} (treated as no fit)")
    width = max(len(n) for n in c.names)
    lines.append("[[Estimates]]  (95% intervals from the Jacobian)")
    for name in c.names:
        est, se = c.estimates[name], c.stderr[name]
        low, high = c.ci.loc[name, "low"], c.ci.loc[name, "high"]
        rel = f"({abs(se / est) * 100:.2f}%)" if np.isfinite(se) and est != 0 else ""
        se_text = f"{se:.4g}" if np.isfinite(se) else "inf"
        notes = []
        if c.at_bound[name]:
            notes.append("at a bound")
        if not c.identifiable[name]:
            notes.append("NOT identifiable")
        note = f"  <- {', '.join(notes)}" if notes else ""
        lines.append(
            f"    {name:<{width}} = {est:.6g} +/- {se_text} {rel:<10} [{low:.5g}, {high:.5g}]"
            f"  bounds [{c.bounds.loc[name, 'low']:g}, {c.bounds.loc[name, 'high']:g}]{note}"
        )
    lines.append("[[Fit per series]]  (rmse and noise in the series' units)")
    swidth = max(len(s) for s in c.rmse.index)
    counts = problem.data.counts()
    for s, name in enumerate(c.rmse.index):
        lines.append(
            f"    {name:<{swidth}}  points {counts[s]:>4}  rmse {c.rmse[name]:.4g}  noise {c.noise[name]:.4g}"
            f"  weight {c.weights[name]:.4g}"
        )
    pairs = []
    for i, a in enumerate(c.names):
        for b in c.names[i + 1 :]:
            r = c.correlation.loc[a, b]
            if np.isnan(r) or abs(r) >= _CORRELATION_SHOWN:
                pairs.append((a, b, r))
    pairs.sort(key=lambda t: -abs(np.nan_to_num(t[2], nan=2.0)))
    lines.append(f"[[Correlations]]  (|r| >= {_CORRELATION_SHOWN})")
    if pairs:
        for a, b, r in pairs:
            lines.append(f"    C({a}, {b}) = {r:+.4f}")
    else:
        lines.append("    none")
    lines.append("[[Identifiability]]")
    unidentified = [n for n in c.names if not c.identifiable[n]]
    if not unidentified:
        lines.append("    every parameter is identifiable from these data")
    for name in unidentified:
        reasons = []
        partners = [b for b in c.names if b != name and abs(np.nan_to_num(c.correlation.loc[name, b], nan=1.0)) > correlation_limit]
        if partners:
            reasons.append(
                "strongly correlated with "
                + ", ".join(f"{b} (r = {c.correlation.loc[name, b]:+.3f})" for b in partners)
            )
        if c.ci.loc[name, "low"] <= c.bounds.loc[name, "low"] and c.ci.loc[name, "high"] >= c.bounds.loc[name, "high"]:
            reasons.append("its interval spans the whole bound")
        if not np.isfinite(c.stderr[name]):
            reasons.append("the data do not constrain it")
        lines.append(f"    NOT identifiable from these data: {name}: {'; '.join(reasons)}")
    if unidentified:
        lines.append("    (fix some of these at known values, or observe other series, to separate them)")
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
