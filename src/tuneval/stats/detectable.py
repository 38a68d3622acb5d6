"""Minimum detectable effects that the test behind them can honour, and why none may exist.

Every verdict reports the smallest true difference its test would find at 80% power, at its n,
observed variance and clustering: ``(t_{1−α/2} + t_{power}) · SE``. That formula alone
promises too much at small n, so each MDE here follows the test that made the verdict:

* no difference is detectable (``math.inf``, with a `Detectable.reason`) when the test's
  smallest attainable p-value exceeds α (4 units under sign flips cannot go below 2/2⁴ =
  0.125; McNemar on 3 items cannot reach 0.05) or when the effect reaches the largest
  possible difference (the score's range, or 0.5 for a win rate against 0.5);
* the sign-flip MDE is computed at the level the test really attains (6 units: 2/64);
* it is never below an observed difference the test just missed, nor below the smallest
  difference the test can reject at all (McNemar: ``z²/n``). A win rate against 0.5 is a
  sign test (`tuneval.stats.winrate`) and takes the sign-flip MDE with a span of 0.5.

In JSON an infinite MDE is written as ``null``; `Detectable.detectable` and its reason say
explicitly that no difference is detectable, so a reader never has to guess what null means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tuneval.stats.paired import PairedTest

POWER = 0.8
"""Power at which every minimum detectable effect is reported."""


@dataclass(frozen=True)
class Detectable:
    """A minimum detectable effect, and why none is detectable when it is infinite."""

    mde: float | None
    """The effect; ``math.inf`` when none is detectable; None without variation to use."""
    reason: str | None = None
    """Why no difference is detectable (only when `mde` is infinite)."""

    @property
    def detectable(self) -> bool | None:
        """False when no difference is detectable, True with a finite MDE, else None."""
        return None if self.mde is None else math.isfinite(self.mde)


def minimum_detectable(
    se: float,
    units: int,
    *,
    alpha: float = 0.05,
    power: float = POWER,
    level: float | None = None,
    smallest_p: float | None = None,
    span: float | None = None,
    floor: float = 0.0,
    unit: str = "units",
) -> Detectable:
    """Smallest true difference detected with probability ``power`` by a two-sided test.

    ``(t_{1−a/2} + t_{power}) · SE`` on ``units − 1`` degrees of freedom, with ``a`` the
    ``level`` the test attains (default ``alpha``), raised to ``floor``. Infinite, with a
    reason, when the test's smallest attainable p-value exceeds ``alpha`` or the effect
    reaches ``span``.

    Args:
        se: Standard error of the difference.
        units: Independent units (items or clusters).
        alpha: Two-sided significance level.
        power: Probability of detection.
        level: The level the test really attains at this n, when below ``alpha``.
        smallest_p: The smallest p-value the test can give at this number of units, if known.
        span: The largest possible absolute difference, if known.
        floor: A lower bound (the observed difference when it was not significant, or the
            smallest difference the test can reject at all).
        unit: What the units are, for the reason (``items``, ``clusters``).
    """
    from scipy.stats import t

    if smallest_p is not None and smallest_p > alpha:
        return Detectable(
            math.inf,
            f"the test cannot reach p < {alpha:g} with {units} {unit} "
            f"(smallest attainable p = {smallest_p:.3g})",
        )
    if not math.isfinite(se) or se <= 0.0 or units < 2:
        return Detectable(None)
    df = units - 1
    a = alpha if level is None else level
    mde = max(float((t.ppf(1.0 - a / 2.0, df) + t.ppf(power, df)) * se), floor)
    if span is not None and mde >= span:
        return Detectable(
            math.inf,
            f"the effect detectable at {power:.0%} power ({mde:.3g}) reaches the largest "
            f"possible difference ({span:g}) with {units} {unit}",
        )
    return Detectable(mde)


def detectable_effect(
    se: float,
    units: int,
    *,
    alpha: float = 0.05,
    power: float = POWER,
    smallest_p: float | None = None,
    span: float | None = None,
    floor: float = 0.0,
) -> float | None:
    """The MDE of `minimum_detectable` alone: a number, ``math.inf`` or None."""
    return minimum_detectable(
        se, units, alpha=alpha, power=power, smallest_p=smallest_p, span=span, floor=floor
    ).mde


def missed_effect(test: PairedTest, alpha: float) -> float:
    """The observed difference when the test did not find it significant, else 0.

    An MDE below an effect the test just missed would contradict it (4 items, all improved
    by 0.25: not significant, yet "effects below 0.13 could not be detected").
    """
    return abs(test.difference) if test.p_value > alpha else 0.0


def sign_flip_mde(
    test: PairedTest,
    units: int,
    *,
    alpha: float,
    trials: int | None,
    span: float,
    binary: bool = False,
    unit: str = "units",
) -> Detectable:
    """The MDE of a sign-flip comparison (`tuneval.stats.paired.sign_flip`) over ``units``.

    At the level the test attains on this many units, infinite when it cannot reach
    ``alpha`` or the effect reaches ``span`` (the widest possible difference), and never
    below an effect it missed. For right/wrong scores with no discordant unit, the rule of
    three stands in for the standard error (up to 3 units could still differ).
    """
    se = test.se
    if binary and se == 0.0:
        se = math.sqrt(3.0) / units
    return minimum_detectable(
        se,
        units,
        alpha=alpha,
        level=attained_sign_flip_alpha(units, alpha),
        smallest_p=smallest_sign_flip_p(units, None if test.exact else trials),
        span=span,
        floor=missed_effect(test, alpha),
        unit=unit,
    )


def smallest_sign_flip_p(units: int, trials: int | None = None) -> float:
    """The smallest two-sided p-value of a sign-flip test on ``units`` units.

    Only the observed signs and their mirror image are as extreme as the most extreme data,
    so the exact test cannot go below ``2 / 2^units``; with ``trials`` random flips the p-value
    ``(1 + hits) / (1 + trials)`` cannot go below ``1 / (1 + trials)`` either.
    """
    exact = 2.0 ** (1 - units) if units < 1075 else 0.0
    return max(exact, 0.0 if trials is None else 1.0 / (1.0 + trials))


def attained_sign_flip_alpha(units: int, alpha: float) -> float:
    """The level a sign-flip test at ``alpha`` really attains on ``units`` units.

    Exact sign-flip p-values are multiples of ``2 / 2^units``, so on 6 units a test at 0.05
    rejects only at p ≤ 2/64 = 0.031; an MDE computed at 0.05 would promise power the test
    does not have. 0 when no level up to ``alpha`` is attainable; ``alpha`` beyond 30 units.
    """
    if units > 30:
        return alpha
    step = 2.0 ** (1 - units)
    return math.floor(alpha / step + 1e-9) * step


def smallest_mcnemar_p(n: int) -> float:
    """The smallest p-value of McNemar's asymptotic test on ``n`` items (all discordant one way).

    ``z = (b − c)/√(b + c)`` is largest at ``b = n, c = 0``: ``√n``.
    """
    from scipy.stats import norm

    return float(2.0 * norm.sf(math.sqrt(n))) if n > 0 else 1.0


def mcnemar_floor(n: int, alpha: float) -> float:
    """The smallest difference McNemar's test at ``alpha`` can reject on ``n`` items.

    A difference δ needs at least δ·n discordant items; even all in one direction they give
    ``z = √(δ n)``, so δ must reach ``z²_{1−α/2} / n``.
    """
    from scipy.stats import norm

    return float(norm.ppf(1.0 - alpha / 2.0) ** 2 / n) if n > 0 else math.inf
