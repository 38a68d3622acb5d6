"""The win rate against 0.5: one test, and the interval that inverts it.

A pairwise verdict is a preference per item: 1 (fine-tuned won), 0.5 (tie), 0 (base won), or
the mean over an item's repeated judgings. The win rate is the mean preference and the
question is whether it differs from 0.5.

* **Test.** Ties carry no sign: centred at 0.5 a tie is 0, so it drops out of the test and
  counts half in the win rate (the documented tie rule). On independent items judged once the
  test is the exact two-sided sign test on the decisive items, ``P(|W − L| ≥ |w − l|)`` for
  ``W ~ Binomial(w + l, 1/2)``: 4 wins of 4 give p = 0.125, never "significant". With
  clusters or repeats the unit is the cluster (an item's repeats are averaged first) and the
  test is the cluster-level sign flip of `tuneval.stats.paired.sign_flip` (exact up to
  `tuneval.stats.paired.EXACT_UNITS` units, Monte Carlo beyond).
* **Interval.** With too few units for the test to reach α at all (4 items: p ≥ 0.125) no
  win rate can be rejected, and the interval is [0, 1]. Otherwise it is the union of the
  Wilson-type score interval of the mean on the effective sample size
  (`tuneval.stats.intervals.unit_score_interval`) and the expanded percentile bootstrap (whole
  clusters resampled), settled on the test's side of 0.5: it contains 0.5 exactly when
  p > α. The shifted sign flip was tried as the interval and rejected: around a clean sweep
  every shifted value is equal, so it collapses (10 of 10 wins: [1, 1], coverage 0.64 at a
  true win rate of 0.95), and next to 0 or 1 it cannot reject (7 wins, 3 losses: up to 1.0).

4 wins of 4: p = 0.125 and [0, 1], where the Wilson-type interval said [0.51, 1], i.e.
"significant". Calibration (coverage, size, agreement): ``bench/calibration_judge.py``.
"""

from __future__ import annotations

import math

import numpy as np

from tuneval.stats.detectable import smallest_sign_flip_p
from tuneval.stats.estimates import Interval, mean_ci
from tuneval.stats.intervals import unit_score_interval
from tuneval.stats.paired import PairedTest, agree, sign_flip
from tuneval.stats.resample import FloatArray
from tuneval.stats.units import Units, unit_sums


def sign_test_p(wins: int, losses: int) -> float:
    """Exact two-sided sign test of ``wins`` against ``losses`` (ties left out), p ≤ 1."""
    from scipy.stats import binomtest

    decisive = wins + losses
    if decisive == 0:
        return 1.0
    return float(binomtest(wins, decisive, 0.5).pvalue)


def win_rate_test(
    pref: FloatArray, units: Units, *, trials: int, seed: int, confidence: float = 0.95
) -> PairedTest:
    """The win rate minus 0.5 with the p-value and inverted interval of one sign test.

    Args:
        pref: One preference in [0, 1] per item (1 win, 0.5 tie, 0 loss; repeats averaged).
        units: Items, or clusters of items (`tuneval.stats.units.make_units`).
        trials: Random sign flips when the units are too many to enumerate.
        seed: Seed of those flips.
        confidence: Coverage of the interval; the test at ``1 − confidence`` agrees with it.

    Returns:
        A `PairedTest` whose difference and interval are on the win-rate scale minus 0.5
        (add 0.5 for the win rate itself).
    """
    pref = np.asarray(pref, dtype=np.float64)
    sums, sizes = unit_sums(pref - 0.5, units)
    test = sign_flip(
        sums, sizes, trials=trials, seed=seed, confidence=confidence, bounds=(-0.5, 0.5)
    )
    single = units.codes is None and bool(np.all(np.isin(pref, (0.0, 0.5, 1.0))))
    if test.exact or not single:
        return test
    # Items judged once: the sign-flip distribution is the binomial one, so compute it exactly
    # instead of by random flips (and keep the interval on the exact test's side of 0).
    p = sign_test_p(int(np.sum(pref == 1.0)), int(np.sum(pref == 0.0)))
    low, high = agree(test.ci_low, test.ci_high, p, 1.0 - confidence, test.difference)
    return PairedTest(test.difference, low, high, p, test.se, exact=True)


def win_rate(
    pref: FloatArray,
    units: Units,
    *,
    resamples: int,
    seed: int,
    confidence: float = 0.95,
) -> tuple[Interval, PairedTest]:
    """The win rate with its interval, and the sign test it agrees with (module docstring).

    Args:
        pref: One preference in [0, 1] per item.
        units: Items, or clusters of items.
        resamples: Bootstrap resamples, and random sign flips when units are too many to
            enumerate.
        seed: Seed of both.
        confidence: Coverage; the test runs at ``1 − confidence``.
    """
    pref = np.asarray(pref, dtype=np.float64)
    test = win_rate_test(pref, units, trials=resamples, seed=seed, confidence=confidence)
    value = float(pref.mean())
    alpha = 1.0 - confidence
    if smallest_sign_flip_p(units.count) > alpha:
        return Interval(value=value, ci_low=0.0, ci_high=1.0), test
    boot = mean_ci(
        pref,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
        units=units if units.codes is not None else None,
    )
    score_low, score_high = unit_score_interval(pref, units, confidence)
    low, high = min(score_low, boot.ci_low), max(score_high, boot.ci_high)
    low, high = settle(low, high, test.p_value, alpha, value)
    return Interval(value=value, ci_low=low, ci_high=high), test


def settle(low: float, high: float, p: float, alpha: float, value: float) -> tuple[float, float]:
    """Put 0.5 inside the win-rate interval exactly when the test does not reject it."""
    if p > alpha:
        return min(low, 0.5), max(high, 0.5)
    if low <= 0.5 <= high:
        # Only the side of 0.5 the data are on is kept (the test rejected 0.5 itself).
        return (math.nextafter(0.5, 1.0), high) if value > 0.5 else (low, math.nextafter(0.5, 0.0))
    return low, high
