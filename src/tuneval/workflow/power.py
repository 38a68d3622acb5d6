"""Sample-size helper: is the eval set big enough to see the difference you care about?

Both questions use the normal approximation with Cohen's effect size for proportions,
``h = 2·asin(√p1) − 2·asin(√p0)``, solved with statsmodels' `NormalIndPower` (two-sided):

* **win rate** against 50% (one sample of pairwise verdicts, ties counted as half): the
  smallest win rate above 0.5 detectable with ``n`` items, or the items needed for a target;
* **accuracy** of two models at baseline accuracy ``p0``: treated as two independent samples
  of ``n`` items, which is conservative for a paired design (McNemar needs at most as many
  items when the models' errors are positively correlated, as they usually are).
"""

from __future__ import annotations

import math
from typing import Literal

from tuneval.errors import UsageError
from tuneval.records import Record

Kind = Literal["win_rate", "accuracy"]


class PowerResult(Record):
    """The answer of `minimal_detectable_difference` or `required_items`."""

    kind: Kind
    """What is compared: a win rate against 0.5, or two accuracies."""
    n: int
    """Items (per model for accuracy)."""
    difference: float
    """Detectable difference: win rate − 0.5, or fine-tuned − base accuracy."""
    baseline: float
    """0.5 for win rate; the base model's accuracy otherwise."""
    alpha: float
    """Two-sided significance level."""
    power: float
    """Probability of detecting the difference when it is real."""


def _check(alpha: float, power: float, baseline: float) -> None:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise UsageError("alpha and power must be between 0 and 1")
    if not 0 < baseline < 1:
        raise UsageError(f"baseline accuracy {baseline} must be strictly between 0 and 1")


def _h(p: float) -> float:
    return 2 * math.asin(math.sqrt(p))


def _ratio(kind: Kind) -> float:
    # ratio=0 makes NormalIndPower a one-sample test (the win rate against a fixed 0.5).
    return 0.0 if kind == "win_rate" else 1.0


def minimal_detectable_difference(
    n: int,
    kind: Kind = "win_rate",
    *,
    baseline: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerResult:
    """The smallest improvement ``n`` items detect with the given power.

    Args:
        n: Items in the eval set.
        kind: ``win_rate`` (against 0.5) or ``accuracy`` (two models).
        baseline: Base accuracy (ignored for win rate, which is always against 0.5).
        alpha: Two-sided significance level.
        power: Desired power.
    """
    from statsmodels.stats.power import NormalIndPower

    p0 = 0.5 if kind == "win_rate" else baseline
    _check(alpha, power, p0)
    if n < 2:
        raise UsageError("need at least 2 items")
    h = float(
        NormalIndPower().solve_power(
            effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=_ratio(kind)
        )
    )
    target = _h(p0) + h
    p1 = 1.0 if target >= math.pi else math.sin(target / 2) ** 2
    return PowerResult(kind=kind, n=n, difference=p1 - p0, baseline=p0, alpha=alpha, power=power)


def required_items(
    difference: float,
    kind: Kind = "win_rate",
    *,
    baseline: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerResult:
    """The items needed to detect ``difference`` with the given power.

    Args:
        difference: Win rate − 0.5, or fine-tuned − base accuracy.
        kind: ``win_rate`` or ``accuracy``.
        baseline: Base accuracy (accuracy only).
        alpha: Two-sided significance level.
        power: Desired power.
    """
    from statsmodels.stats.power import NormalIndPower

    p0 = 0.5 if kind == "win_rate" else baseline
    _check(alpha, power, p0)
    p1 = p0 + difference
    if difference == 0 or not 0 < p1 <= 1:
        raise UsageError(
            f"difference {difference} must be non-zero and keep {p0} + it within (0, 1]"
        )
    h = abs(_h(p1) - _h(p0))
    n = float(
        NormalIndPower().solve_power(
            effect_size=h, nobs1=None, alpha=alpha, power=power, ratio=_ratio(kind)
        )
    )
    return PowerResult(
        kind=kind, n=math.ceil(n), difference=difference, baseline=p0, alpha=alpha, power=power
    )
