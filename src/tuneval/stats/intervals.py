"""Intervals that stay honest at small n: Wilson for proportions, expanded percentile bootstrap.

* `wilson_interval`: the score interval of a proportion (Wilson 1927). Unlike a percentile
  bootstrap it never collapses to a point at 0/n or n/n (30 of 30 correct gives [0.886, 1], not
  [1, 1]), and its coverage at n = 30 stays within about 0.93–0.97 across p (Brown, Cai &
  DasGupta 2001). With clusters, the number of trials is the *effective* sample size
  ``n / design effect``.
* `score_interval`: Wilson's interval for the mean of any score in [0, 1], with the observed
  variance in place of ``p(1 − p)`` (for right/wrong scores the two are equal). It is the
  exact score interval of a win rate ``(wins + ties/2)/n`` when the tie share is shrunk to
  ``ties/(n + z²)``, so it keeps a width of about ``z²/n`` where the data show no variation
  (4 ties of 4 gives [0.255, 0.745], not the bootstrap's [0.5, 0.5]).
* `unit_score_interval`: the same interval when items come in clusters: ``n`` becomes the
  effective sample size (item variance over the cluster-robust variance of the mean) and the
  critical value Student's t on ``clusters − 1`` degrees of freedom.
* `expanded_percentile_interval`: Hesterberg's (2015) expanded percentile bootstrap. The plain
  percentile interval is too narrow for small samples (its spread ignores the ``n - 1``); the
  expanded one reads the bootstrap quantiles at ``α'/2 = Φ(−√(n/(n−1))·t_{α/2, n−1})`` so that
  for a mean it is as wide as the t interval. ``n`` is the number of resampled *units* (items,
  or clusters under a cluster bootstrap), which is what matters with 20 clusters.
* `expanded_percentile_pvalue`: the inverse of that interval: the smallest level at which the
  interval excludes 0. Reporting this p-value with the interval makes them agree by
  construction (significant exactly when 0 is outside the interval).
"""

from __future__ import annotations

import math

import numpy as np

from tuneval.stats.resample import FloatArray
from tuneval.stats.units import Units, unit_sums


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Args:
        successes: Observed successes (may be fractional under a design-effect correction).
        n: Trials, or the effective sample size; must be positive.
        confidence: Coverage, e.g. 0.95.

    Returns:
        ``(low, high)`` within [0, 1]; NaN when ``n`` is not positive.
    """
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    low, high = score_interval(p, p * (1.0 - p), n, confidence)
    # At 0/n and n/n the bound is exactly 0 or 1; rounding would leave 0.9999999999999999.
    return (0.0 if successes <= 0 else low), (1.0 if successes >= n else high)


def score_interval(
    mean: float, variance: float, n: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson-type interval of the mean of ``n`` scores in [0, 1] (see the module docstring).

    ``centre ± half`` with ``centre = (m + z²/2n)/(1 + z²/n)`` and
    ``half = z·√(v/n + z²/4n²)/(1 + z²/n)``: Wilson's interval with ``p(1 − p)`` replaced by
    the observed (population) variance ``v``. For a win rate, ``v = m(1 − m) − ties/(4n)``.

    Args:
        mean: Observed mean, in [0, 1].
        variance: Observed population variance of the scores (``ddof=0``).
        n: Number of scores (or an effective sample size); must be positive.
        confidence: Coverage, e.g. 0.95.

    Returns:
        ``(low, high)`` within [0, 1]; NaN when ``n`` is not positive.
    """
    from scipy.stats import norm

    if n <= 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    denom = 1.0 + z * z / n
    centre = (mean + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(max(variance, 0.0) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def unit_score_interval(
    values: FloatArray, units: Units, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson-type interval of the mean of scores in [0, 1], items or clusters as units.

    Without clusters it is `score_interval`. With clusters the number of scores is replaced
    by the effective sample size ``v_item / v_mean`` (the items' variance over the
    cluster-robust variance of the mean, capped at the number of items) and the level is
    widened so that its z equals Student's t on ``clusters − 1`` degrees of freedom, the usual
    small-sample correction of a cluster-robust variance (20 clusters: 2.09, not 1.96). When
    every score is the same the clustering cannot be estimated and the number of clusters is
    used: the most cautious reading.

    Args:
        values: One score in [0, 1] per item.
        units: Items, or clusters of items (`tuneval.stats.units.make_units`).
        confidence: Coverage, e.g. 0.95.
    """
    from scipy.stats import norm, t

    n = values.size
    mean, variance = float(values.mean()), float(values.var())
    if units.codes is None or units.count < 2:
        return score_interval(mean, variance, n, confidence)
    sums, sizes = unit_sums(values, units)
    g = units.count
    resid = sums - mean * sizes
    robust = g / (g - 1) * float(np.sum(resid * resid)) / (n * n)
    if variance <= 0.0:
        effective = float(g)
    elif robust <= 0.0:
        effective = float(n)
    else:
        effective = min(float(n), variance / robust)
    t_crit = float(t.ppf(0.5 + confidence / 2.0, g - 1))
    widened = float(2.0 * norm.cdf(t_crit) - 1.0)  # the level whose z equals that t
    return score_interval(mean, variance, effective, widened)


def _expanded_tail(confidence: float, units: int) -> float:
    """The bootstrap tail probability ``α'/2`` that reproduces the t interval's width."""
    from scipy.stats import norm, t

    alpha = 1.0 - confidence
    if units < 2:
        return alpha / 2.0
    widened = float(t.ppf(1.0 - alpha / 2.0, units - 1)) * math.sqrt(units / (units - 1.0))
    return float(norm.sf(widened))


def expanded_percentile_interval(
    samples: FloatArray, confidence: float, units: int
) -> tuple[float, float]:
    """Expanded percentile interval of a bootstrap distribution, ignoring NaN resamples.

    Args:
        samples: The statistic over resamples, shape ``(b,)``.
        confidence: Coverage, e.g. 0.95.
        units: Independent units resampled (items, or clusters).

    Returns:
        ``(low, high)``; NaN when every resample is NaN.
    """
    finite = np.sort(samples[~np.isnan(samples)])
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = _expanded_tail(confidence, units)
    # "inverted_cdf" quantiles make the interval and `expanded_percentile_pvalue` agree exactly.
    low = np.quantile(finite, tail, method="inverted_cdf")
    high = np.quantile(finite, 1.0 - tail, method="inverted_cdf")
    return float(low), float(high)


def expanded_percentile_pvalue(samples: FloatArray, units: int) -> float:
    """Two-sided p-value whose rejections match `expanded_percentile_interval` excluding 0.

    The interval excludes 0 from below when fewer than a fraction ``α'/2`` of resamples are
    at most 0 (and from above likewise); solving ``α'/2 = fraction`` for the level gives the
    p-value. It is floored at ``1 / (b + 1)``: a finite bootstrap cannot show more.

    Args:
        samples: Bootstrap distribution of the difference, shape ``(b,)``.
        units: Independent units resampled.
    """
    from scipy.stats import norm, t

    finite = samples[~np.isnan(samples)]
    b = finite.size
    if b == 0:
        return float("nan")
    fraction = min(float(np.mean(finite <= 0.0)), float(np.mean(finite >= 0.0)))
    if fraction >= 0.5:
        return 1.0
    floor = 1.0 / (b + 1.0)
    if fraction <= 0.0:
        return floor
    z = float(norm.isf(fraction))
    if units < 2:
        return max(floor, min(1.0, 2.0 * fraction))
    p = 2.0 * float(t.sf(z * math.sqrt((units - 1.0) / units), units - 1))
    return max(floor, min(1.0, p))
