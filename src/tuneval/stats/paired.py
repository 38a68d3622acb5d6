"""Paired tests that come with their own interval, so the two can never disagree.

* `mcnemar_score`: right/wrong outcomes on independent items. The p-value is McNemar's
  asymptotic test ``z = (b − c)/√(b + c)`` and the interval is Tango's (1998) score interval for
  the difference of paired proportions, which is the set of differences that same score test
  does not reject (at a difference of 0 Tango's statistic *is* McNemar's). Fagerland, Lydersen &
  Laake (2013, 2014) recommend exactly this pair: the exact conditional McNemar test is
  needlessly conservative (false-positive rate 0.016–0.040 at α = 0.05 in our simulations),
  and a bootstrap interval next to it can exclude 0 while the test does not reject.
* `sign_flip`: the randomisation test of a mean difference over independent *units* (items,
  or clusters of items). Under "no difference" the two systems are exchangeable within a unit,
  so each unit's summed difference is equally likely to carry either sign. With items as units
  this is approximate randomisation for a mean; with clusters it is the cluster-level
  permutation test, valid when items within a cluster are correlated (same prompt, same
  category × fine-tune effect). For right/wrong scores the unit sums are the per-cluster
  (fixed − broken) counts, i.e. a clustered McNemar test. The interval inverts the same test
  under a shift (all Δ0 the test does not reject for differences ``d − Δ0``), using the same
  sign flips for every Δ0, so 0 lies outside it exactly when p ≤ α. Up to `EXACT_UNITS`
  units (2^16 = 65,536 sign patterns) every pattern is enumerated and the p-value is exact
  (4 clusters all improved: exactly 2/16 = 0.125); beyond, random flips with the
  ``(b + 1)/(B + 1)`` correction, so p is never below ``1/(B + 1)``. Items and clusters
  follow the same rule (one code path).

The minimum detectable effect of each test is in `tuneval.stats.detectable`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tuneval.stats.resample import FloatArray


@dataclass(frozen=True)
class PairedTest:
    """A paired difference with the p-value and interval of one test."""

    difference: float
    """Fine-tuned minus base."""
    ci_low: float
    """Lower end of the interval (the differences the test does not reject)."""
    ci_high: float
    """Upper end of the interval."""
    p_value: float
    """Two-sided p-value at a difference of 0."""
    se: float
    """Standard error of the difference (for the minimum detectable effect)."""
    exact: bool = False
    """Whether the p-value enumerates every sign pattern (no Monte Carlo error)."""


def _tango_z(b: int, c: int, n: int, delta: float) -> float:
    """Tango's score statistic for H0: p(fixed) − p(broken) = delta."""
    # Constrained MLE of p(broken) under the null (root of 2n q² + W q − c δ (1 − δ) = 0).
    w = -(b + c) + delta * (2 * n - b + c)
    q = (math.sqrt(max(w * w + 8.0 * n * c * delta * (1.0 - delta), 0.0)) - w) / (4.0 * n)
    var = n * (2.0 * q + delta - delta * delta)
    num = b - c - n * delta
    if var <= 0.0:
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / math.sqrt(var)


def _boundary(f: Callable[[float], float], inside: float, outside: float) -> float:
    """Bisection for where ``f`` changes sign between an accepted and a rejected point."""
    for _ in range(60):
        mid = (inside + outside) / 2.0
        if f(mid) > 0:
            inside = mid
        else:
            outside = mid
    return inside


def mcnemar_score(
    base_correct: NDArray[np.bool_], tuned_correct: NDArray[np.bool_], confidence: float = 0.95
) -> PairedTest:
    """McNemar's asymptotic test with Tango's score interval (see the module docstring).

    Args:
        base_correct: Per-item correctness of the base model.
        tuned_correct: Per-item correctness of the fine-tuned model, same items.
        confidence: Coverage of the interval; the test at ``1 − confidence`` agrees with it.
    """
    from scipy.stats import norm

    n = int(base_correct.size)
    b = int(np.sum(~base_correct & tuned_correct))
    c = int(np.sum(base_correct & ~tuned_correct))
    d = (b - c) / n
    z_crit = float(norm.ppf(0.5 + confidence / 2.0))
    p = 1.0 if b + c == 0 else float(2.0 * norm.sf(abs(b - c) / math.sqrt(b + c)))
    # Accepted: |z(Δ0)| < z_crit. z decreases in Δ0, so each bound is one sign change.
    low = -1.0
    if _tango_z(b, c, n, -1.0) >= z_crit:
        low = _boundary(lambda x: z_crit - _tango_z(b, c, n, x), d, -1.0)
    high = 1.0
    if _tango_z(b, c, n, 1.0) <= -z_crit:
        high = _boundary(lambda x: z_crit + _tango_z(b, c, n, x), d, 1.0)
    # The bisection stops within 1e-18 of the boundary; keep 0 on the side the test says.
    low, high = agree(low, high, p, 1.0 - confidence, d)
    se = math.sqrt(max((b + c) / n - d * d, 0.0) / n)
    return PairedTest(d, low, high, p, se)


def agree(low: float, high: float, p: float, alpha: float, d: float) -> tuple[float, float]:
    """Guard the agreement of interval and test against floating-point edge cases."""
    if p > alpha and not low <= 0.0 <= high:
        return min(low, 0.0), max(high, 0.0)
    if p <= alpha and low <= 0.0 <= high:
        return (math.nextafter(0.0, 1.0), high) if d > 0 else (low, -math.nextafter(0.0, 1.0))
    return low, high


EXACT_UNITS = 16
"""Up to this many units every one of the 2^units sign patterns is enumerated."""


def _all_flips(units: int) -> FloatArray:
    """Every sign pattern over ``units`` units, shape ``(2^units, units)``, identity first."""
    bits = (np.arange(1 << units)[:, None] >> np.arange(units)[None, :]) & 1
    return 1.0 - 2.0 * bits.astype(np.float64)


def _flip_chunks(units: int, trials: int, seed: int) -> list[FloatArray]:
    rng = np.random.default_rng(seed)
    chunk = max(1, min(trials, (1 << 22) // max(units, 1)))
    out, done = [], 0
    while done < trials:
        b = min(chunk, trials - done)
        out.append(1.0 - 2.0 * rng.integers(0, 2, size=(b, units)).astype(np.float64))
        done += b
    return out


def sign_flip(
    unit_sums: FloatArray,
    unit_sizes: FloatArray,
    *,
    trials: int,
    seed: int,
    confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> PairedTest:
    """Sign-flip randomisation test of a mean difference, with its inverted interval.

    Args:
        unit_sums: Per unit (item or cluster), the sum of per-item differences tuned − base.
        unit_sizes: Items in each unit.
        trials: Random sign assignments; the p-value is ``(1 + #{|T*| ≥ |T|}) / (1 + trials)``.
            Ignored up to `EXACT_UNITS` units, where every pattern is enumerated and the
            p-value is ``#{|T*| ≥ |T|} / 2^units`` (the observed signs among them).
        seed: Seed of the random generator (the same flips serve every shifted null).
        confidence: Coverage of the interval; the test at ``1 − confidence`` agrees with it.
        bounds: The smallest and largest possible difference (e.g. -1 and 1 for right/wrong);
            the interval stops there, so it is finite even when too few units can reject
            anything. Default: ±max(1, the largest per-unit mean difference seen), for scores
            on a 0–1 scale.
    """
    sums = np.asarray(unit_sums, dtype=np.float64)
    sizes = np.asarray(unit_sizes, dtype=np.float64)
    total_n = float(sizes.sum())
    d = float(sums.sum() / total_n)
    if bounds is None:
        widest = float(np.max(np.abs(sums / np.maximum(sizes, 1.0)))) if sums.size else 0.0
        widest = max(widest, 1.0)
        bounds = (-widest, widest)
    exact = sums.size <= EXACT_UNITS
    chunks = [_all_flips(sums.size)] if exact else _flip_chunks(sums.size, trials, seed)
    flip_sums = np.concatenate([flips @ sums for flips in chunks])
    flip_sizes = np.concatenate([flips @ sizes for flips in chunks])
    # Exact: the identity pattern is among the enumerated ones, so it is not added again.
    extra = 0 if exact else 1
    draws = flip_sums.size + extra
    scale = float(np.sum(np.abs(sums))) + total_n

    def p_at(delta: float) -> float:
        observed = abs(float(sums.sum()) - delta * total_n)
        tol = 1e-9 * max(1.0, scale * (1.0 + abs(delta)))
        hits = np.sum(np.abs(flip_sums - delta * flip_sizes) >= observed - tol)
        return float((hits + extra) / draws)

    alpha = 1.0 - confidence
    units = sums.size
    resid = sums - d * sizes
    se = math.sqrt(units / max(units - 1, 1) * float(np.sum(resid * resid))) / total_n
    p0 = p_at(0.0)
    lo_lim, hi_lim = bounds
    low = _shift_bound(p_at, alpha, d, lo_lim, se, 0.0 if p0 <= alpha and d > 0 else None)
    high = _shift_bound(p_at, alpha, d, hi_lim, se, 0.0 if p0 <= alpha and d < 0 else None)
    low, high = agree(low, high, p0, alpha, d)
    return PairedTest(d, low, high, p0, se, exact)


def _shift_bound(
    p_at: Callable[[float], float],
    alpha: float,
    d: float,
    limit: float,
    se: float,
    rejected: float | None,
) -> float:
    """The last shift from ``d`` towards ``limit`` that the test does not reject.

    ``limit`` is the end of the possible differences: with too few units no shift is ever
    rejected (4 clusters cannot reach p < 0.125), and the honest interval is the whole range.
    """
    if p_at(d) <= alpha:  # degenerate: no shift is accepted
        return d
    if rejected is None:
        direction = math.copysign(1.0, limit - d) if limit != d else 1.0
        step = max(se, 1e-12 * max(1.0, abs(d)), 1e-12)
        while True:
            outside = d + direction * step
            if (outside - limit) * direction >= 0 or not math.isfinite(outside):
                if p_at(limit) > alpha:
                    return limit
                outside = limit
                break
            if p_at(outside) <= alpha:
                break
            step *= 2.0
        rejected = outside
    return _boundary(lambda x: p_at(x) - alpha, d, rejected)
