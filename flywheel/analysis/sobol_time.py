"""Sobol' indices at every output time at once, with SALib's own estimators.

SALib's ``sobol.analyze`` takes one output and bootstraps its confidence intervals with a (N x resamples)
index matrix; called once per month it would spend most of a sensitivity run re-drawing the same
resamples. Here SALib's estimator functions (``first_order``, ``total_order``, ``second_order``, which
broadcast over trailing axes) get every time column at once, and each bootstrap mean over resampled rows
is a product with the matrix of how often each row was drawn (the same draws SALib makes for the same
seed). ``tests/test_sensitivity.py`` checks the result equals ``sobol.analyze`` time by time.
"""

from __future__ import annotations

import warnings

import numpy as np

#: An output whose spread across runs is below this fraction of its size does not vary (rounding noise,
#: e.g. a model in equilibrium before a policy switch): its indices are NaN, not noise.
NO_VARIATION = 1e-9


def sobol_through_time(
    Y: np.ndarray,
    n_params: int,
    *,
    second_order: bool = True,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Indices of ``Y`` (runs, times) in SALib's Saltelli order: S1, S1_conf, ST, ST_conf (params, times)
    and, with ``second_order``, S2 and S2_conf (params, params, times; NaN on and below the diagonal).
    Times where the output does not vary (``NO_VARIATION``) or is not finite get NaN."""
    from SALib.analyze.sobol import first_order, total_order
    from SALib.analyze.sobol import second_order as second_order_estimate
    from scipy.stats import norm

    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    D = n_params
    step = 2 * D + 2 if second_order else D + 2
    if Y.shape[0] % step:
        raise ValueError(f"{Y.shape[0]} runs is not a Saltelli sample of {D} parameters")
    N = Y.shape[0] // step
    T = Y.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = Y.std(axis=0)
        usable = np.isfinite(spread) & (spread > NO_VARIATION * np.abs(Y).max(axis=0)) & np.all(np.isfinite(Y), axis=0)
        Y = (Y - Y.mean(axis=0)) / np.where(usable, spread, 1.0)
    Y[:, ~usable] = 0.0

    blocks = np.ascontiguousarray(Y.reshape(N, step, T).transpose(1, 0, 2))  # (step, N, T): A, AB.., BA.., B
    A, B = blocks[0], blocks[step - 1]
    AB = blocks[1 : D + 1]
    BA = blocks[D + 1 : 2 * D + 1] if second_order else None

    draws = np.random.default_rng(seed).integers(N, size=(N, num_resamples))  # as SALib draws them
    W = np.stack([np.bincount(draws[:, r], minlength=N) for r in range(num_resamples)]).astype(float) / N
    z = norm.ppf(0.5 + conf_level / 2)
    pairs = [(j, k) for j in range(D) for k in range(j + 1, D)] if second_order else []
    # Every per-row product whose resampled mean an estimator needs, in one matrix: one BLAS call.
    products = np.empty((N, 4 + 2 * D + len(pairs), T))
    products[:, 0], products[:, 1], products[:, 2], products[:, 3] = A, B, A * A, B * B
    for j in range(D):
        products[:, 4 + j] = B * (AB[j] - A)
        products[:, 4 + D + j] = (A - AB[j]) ** 2
    for p, (j, k) in enumerate(pairs):
        products[:, 4 + 2 * D + p] = BA[j] * AB[k] - A * B
    means = (W @ products.reshape(N, -1)).reshape(num_resamples, -1, T)
    boot_var = (means[:, 2] + means[:, 3]) / 2 - ((means[:, 0] + means[:, 1]) / 2) ** 2  # var of r_[A[r], B[r]]

    out = {key: np.full((D, T), np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")  # SALib's "constant values" warning: those times become NaN below
        boot_s1 = means[:, 4 : 4 + D] / boot_var[:, None]
        boot_st = 0.5 * means[:, 4 + D : 4 + 2 * D] / boot_var[:, None]
        out["S1_conf"] = z * boot_s1.std(axis=0, ddof=1)
        out["ST_conf"] = z * boot_st.std(axis=0, ddof=1)
        for j in range(D):
            out["S1"][j] = first_order(A, AB[j], B)
            out["ST"][j] = total_order(A, AB[j], B)
        if second_order:
            out["S2"] = np.full((D, D, T), np.nan)
            out["S2_conf"] = np.full((D, D, T), np.nan)
            for p, (j, k) in enumerate(pairs):
                out["S2"][j, k] = second_order_estimate(A, AB[j], AB[k], BA[j], B)
                v_jk = means[:, 4 + 2 * D + p] / boot_var
                out["S2_conf"][j, k] = z * (v_jk - boot_s1[:, j] - boot_s1[:, k]).std(axis=0, ddof=1)
    for value in out.values():
        value[..., ~usable] = np.nan
    return out
