"""One estimate type and the two estimates every package reports: a mean, a paired difference.

`mean_ci` is the bootstrap-mean interval of the judge summaries, the judge panels and the human
study results; `paired_difference` is the sign-flip comparison of per-item scores used by the
workflow's judge and benchmark comparisons. Both return an `Interval`-shaped answer so that
every report spells a value with its interval the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from tuneval.records import Record
from tuneval.stats.detectable import Detectable, sign_flip_mde
from tuneval.stats.intervals import expanded_percentile_interval
from tuneval.stats.paired import PairedTest, sign_flip
from tuneval.stats.resample import FloatArray, percentile_interval, resample_counts
from tuneval.stats.units import Units, make_units, resample, unit_sums

IntervalMethod = Literal["expanded", "percentile"]


class BootstrapConfig(Record):
    """How confidence intervals are computed."""

    resamples: int = Field(default=1000, ge=10)
    """Number of bootstrap resamples (at least 10: fewer give no interval worth the name)."""
    seed: int = 12345
    """Seed of the resampling generator; the same seed reproduces the same interval."""
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0)
    """Coverage of the percentile interval."""

    def signature(self) -> str:
        """The resampling part of a signature."""
        return f"boot:{self.resamples}|seed:{self.seed}|ci:{self.confidence:g}"


class Interval(Record):
    """A value with its confidence interval."""

    value: float
    """The estimate on the full set."""
    ci_low: float
    """Lower end of the interval."""
    ci_high: float
    """Upper end of the interval."""


def bootstrap_means(
    values: FloatArray, resamples: int, seed: int, units: Units | None = None
) -> FloatArray:
    """The mean of ``values`` over ``resamples`` bootstrap resamples, shape ``(b,)``.

    Items are resampled, or whole clusters when ``units`` has them (each resample's mean is
    then its summed values over its item count). The same ``seed`` draws the same resamples
    for every array of the same length, so means of two paired arrays (and of their
    difference) come from the same resamples.
    """
    n = values.size
    if units is not None and units.codes is not None:
        counts = resample(n, units, resamples, seed)
        return np.concatenate([(c @ values) / np.maximum(c.sum(axis=1), 1.0) for c in counts])
    return np.concatenate([c @ values / n for c in resample_counts(n, resamples, seed)])


def mean_ci(
    values: FloatArray,
    *,
    resamples: int = 1000,
    seed: int = 12345,
    confidence: float = 0.95,
    method: IntervalMethod = "expanded",
    units: Units | None = None,
) -> Interval:
    """Mean of ``values`` with a bootstrap interval (items, or clusters, resampled).

    Args:
        values: One value per independent item.
        resamples: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Coverage of the interval.
        method: ``expanded`` (Hesterberg's expanded percentile, as wide as the t interval, so
            20 items do not give a too-narrow CI) or ``percentile`` (the plain percentile
            interval, kept where published numbers were computed with it).
        units: Clusters of the items (`tuneval.stats.units.make_units`): whole clusters are
            resampled and the expanded interval counts clusters, not items.
    """
    values = np.asarray(values, dtype=np.float64)
    means = bootstrap_means(values, resamples, seed, units)
    if method == "expanded":
        count = values.size if units is None else units.count
        low, high = expanded_percentile_interval(means, confidence, count)
    else:
        low, high = percentile_interval(means, confidence)
    return Interval(value=float(values.mean()), ci_low=low, ci_high=high)


@dataclass(frozen=True)
class PairedDifference:
    """A paired comparison of per-item scores: how many items, units, and the test."""

    n: int
    """Items scored on both sides."""
    units: int
    """Independent units (items, or clusters of items)."""
    test: PairedTest | None
    """Difference (tuned − base), interval and p-value; None under 2 paired items."""
    span: float = 1.0
    """The widest possible difference (the score scale's width, or what the data show)."""
    clustered: bool = False
    """Whether the units are clusters of items."""

    def detectable(self, alpha: float, trials: int | None) -> Detectable:
        """The minimum detectable effect of this sign-flip comparison at 80% power.

        Follows the test (`tuneval.stats.detectable.sign_flip_mde`): infinite, with the
        reason, when the units are too few to reach ``alpha`` or the effect reaches `span`.
        """
        if self.test is None:
            return Detectable(None)
        unit = "clusters" if self.clustered else "items"
        return sign_flip_mde(
            self.test, self.units, alpha=alpha, trials=trials, span=self.span, unit=unit
        )

    @property
    def interval(self) -> Interval | None:
        """The difference with its interval, None without a test."""
        t = self.test
        return (
            None if t is None else Interval(value=t.difference, ci_low=t.ci_low, ci_high=t.ci_high)
        )

    @property
    def p_value(self) -> float | None:
        """The two-sided p-value, None without a test."""
        return None if self.test is None else self.test.p_value


def paired_difference(
    base: Mapping[str, float],
    tuned: Mapping[str, float],
    *,
    trials: int,
    seed: int,
    confidence: float = 0.95,
    clusters: Mapping[str, str] | None = None,
    span: tuple[float, ...] = (),
) -> PairedDifference:
    """Mean paired difference (tuned − base) with the sign-flip test and its inverted interval.

    With ``clusters`` (id -> label), whole clusters are flipped; that is also how several
    judgings or samples of one item are kept from counting as independent evidence.

    Args:
        base: Per-item score of the base model.
        tuned: Per-item score of the fine-tuned model; items missing on either side are skipped.
        trials: Random sign flips.
        seed: Seed of the sign flips.
        confidence: Coverage of the interval (the test at ``1 − confidence`` agrees with it).
        clusters: Optional cluster label per item id.
        span: Width of the score scale when known (e.g. 9 for 1–10 judge scores): the interval
            never extends past it, even when too few units can reject any difference.
    """
    ids = [i for i in base if i in tuned]
    n = len(ids)
    if n < 2:
        return PairedDifference(n, n, None)
    diffs = np.array([tuned[i] - base[i] for i in ids], dtype=np.float64)
    labels = [clusters.get(i, i) for i in ids] if clusters is not None else None
    units = make_units(n, labels if labels and len(set(labels)) > 1 else None)
    sums, sizes = unit_sums(diffs, units)
    values = [*base.values(), *tuned.values()]
    spread = max(1.0, max(values) - min(values), *(abs(x) for x in span))
    test = sign_flip(
        sums, sizes, trials=trials, seed=seed, confidence=confidence, bounds=(-spread, spread)
    )
    return PairedDifference(n, units.count, test, spread, units.codes is not None)
