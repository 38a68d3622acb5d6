"""The statistics of one paired comparison: which test, its interval, the unit, the MDE.

One rule per kind of score, chosen so that the interval of the difference and the test always
agree (significant exactly when 0 is outside the interval):

* right/wrong scores on independent items: McNemar's asymptotic test with Tango's score
  interval (`tuneval.stats.paired.mcnemar_score`);
* right/wrong scores with clusters, and means of per-item values (token F1, ROUGE, judge
  scores) under approximate randomisation: the sign-flip test over units (items, or clusters)
  and its inverted interval (`tuneval.stats.paired.sign_flip`);
* corpus scores (BLEU, chrF, macro F1), and everything under ``test="paired_bootstrap"``: the
  paired (cluster) bootstrap, whose p-value is the inverse of its expanded percentile interval.
  Approximate randomisation has no interval of its own for a corpus statistic, so corpus
  scores always use the bootstrap.

When clusters are given, the cluster, not the item, is the resampled unit everywhere: items
that share a prompt or a category are not independent evidence, and treating them as such
made false positives 2–6 times more frequent than α in our simulations (bench/calibration.py).

The minimum detectable effect follows the test used: infinite (no difference is detectable)
when the test cannot reach α at this many units (sign flips on 5 units or fewer; McNemar on 3
items or fewer) or when it reaches the score's range; never below the smallest difference
McNemar can reject at n, nor below an observed difference the test did not find significant.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from tuneval.errors import DataError, UsageError
from tuneval.metrics.base import MeanMetric, Metric
from tuneval.records import Example
from tuneval.stats.detectable import (
    POWER,
    Detectable,
    mcnemar_floor,
    minimum_detectable,
    missed_effect,
    sign_flip_mde,
    smallest_mcnemar_p,
)
from tuneval.stats.intervals import (
    expanded_percentile_interval,
    expanded_percentile_pvalue,
    unit_score_interval,
    wilson_interval,
)
from tuneval.stats.paired import PairedTest, agree, mcnemar_score, sign_flip
from tuneval.stats.resample import FloatArray
from tuneval.stats.units import Units, make_units, unit_sums


def check_units(n: int, clusters: Sequence[Hashable] | None, field: str | None) -> Units:
    """Units from optional cluster labels, checked against the number of examples."""
    if clusters is None:
        return make_units(n, None)
    labels = list(clusters.tolist() if hasattr(clusters, "tolist") else clusters)
    if len(labels) != n:
        raise UsageError(
            f"clusters has {len(labels)} labels for {n} examples; give one label per example"
        )
    missing = [i for i, x in enumerate(labels) if x is None or x == ""]
    if missing:
        raise UsageError(
            f"clusters: example {missing[0]} has no cluster label ({len(missing)} in all); "
            "give every example a label (its own id if it stands alone)"
        )
    return make_units(n, labels, field)


def duplicate_warning(prompts: Sequence[str | None]) -> str | None:
    """A warning when prompts repeat and no cluster field was given, else None."""
    counts = Counter(p for p in prompts if p)
    repeated = {p: k for p, k in counts.items() if k > 1}
    if not repeated:
        return None
    items = sum(repeated.values())
    return (
        f"{items} items share {len(repeated)} repeated prompts but no cluster field was given: "
        "they are not independent, so CIs are too narrow and p-values too small; name the "
        "field that groups them (--cluster-field FIELD, or comparison.cluster_field)"
    )


def binary_interval(values: FloatArray, units: Units, confidence: float) -> tuple[float, float]:
    """Wilson interval of a proportion; with clusters, on the effective sample size.

    See `tuneval.stats.intervals.unit_score_interval` (for right/wrong scores the item
    variance is ``p(1 − p)``, so it is Wilson's interval on ``n / design effect`` items).
    """
    n = values.size
    p = float(values.mean())
    if units.codes is None:
        return wilson_interval(p * n, n, confidence)
    low, high = unit_score_interval(values, units, confidence)
    # At 0/n and n/n the bound is exactly 0 or 1; rounding would leave 0.9999999999999999.
    return (0.0 if p <= 0.0 else low), (1.0 if p >= 1.0 else high)


@dataclass(frozen=True)
class PairedOutcome:
    """The numbers one `Comparison` row needs."""

    test: str
    result: PairedTest
    trials: int
    interval: str
    detectable: Detectable

    @property
    def mde(self) -> float | None:
        """The minimum detectable effect (``math.inf`` when none is detectable)."""
        return self.detectable.mde


def paired_outcome(
    metric: Metric,
    name: str,
    stats: tuple[FloatArray, FloatArray],
    diffs: FloatArray,
    units: Units,
    *,
    test: str,
    trials: int,
    seed: int,
    confidence: float,
) -> PairedOutcome:
    """Test, interval and minimum detectable effect of one score (see the module docstring).

    Args:
        metric: The metric.
        name: The score within the metric.
        stats: ``(base, tuned)`` per-example statistics.
        diffs: Paired (cluster) bootstrap distribution of the difference of this score.
        units: The resampling unit.
        test: ``approximate_randomization`` or ``paired_bootstrap`` for continuous scores.
        trials: Random sign flips.
        seed: Seed of the sign flips.
        confidence: Coverage of the interval (the test runs at ``1 − confidence``).
    """
    alpha = 1.0 - confidence
    per_a = metric.per_example(stats[0])[name]
    per_b = metric.per_example(stats[1])[name]
    binary = name in metric.binary_scores
    mean_like = binary or isinstance(metric, MeanMetric)
    low_high = metric.score_range
    span = float(low_high[1] - low_high[0])
    unit = "items" if units.codes is None else "clusters"
    if binary and units.codes is None:
        res = mcnemar_score(per_a >= 0.5, per_b >= 0.5, confidence)
        se = res.se
        if se == 0.0:
            # No discordant item: up to 3/n of items could still differ (rule of three).
            se = math.sqrt(3.0) / per_a.size
        n = per_a.size
        mde = minimum_detectable(
            se,
            n,
            alpha=alpha,
            power=POWER,
            smallest_p=smallest_mcnemar_p(n),
            span=1.0,
            floor=max(mcnemar_floor(n, alpha), missed_effect(res, alpha)),
            unit=unit,
        )
        return PairedOutcome("mcnemar_score", res, 0, "tango_score", mde)
    if mean_like and (binary or test == "approximate_randomization"):
        d_sums, sizes = unit_sums(per_b - per_a, units)
        # Differences lie within the metric's declared range, or wider if the data say so.
        both = np.concatenate([per_a, per_b])
        spread = max(span, float(both.max() - both.min())) if both.size else span
        res = sign_flip(
            d_sums, sizes, trials=trials, seed=seed, confidence=confidence, bounds=(-spread, spread)
        )
        mde = sign_flip_mde(
            res, units.count, alpha=alpha, trials=trials, span=spread, binary=binary, unit=unit
        )
        # An enumerated test has no random shuffles behind it (``trials`` 0, as for McNemar).
        shuffles = 0 if res.exact else trials
        return PairedOutcome("approximate_randomization", res, shuffles, "inverted_sign_flip", mde)
    totals = metric.aggregate(np.vstack([stats[0].sum(0), stats[1].sum(0)]))[name]
    low, high = expanded_percentile_interval(diffs, confidence, units.count)
    p = expanded_percentile_pvalue(diffs, units.count)
    low, high = agree(low, high, p, alpha, float(totals[1] - totals[0]))
    se = float(np.nanstd(diffs, ddof=1)) if diffs.size > 1 else float("nan")
    res = PairedTest(float(totals[1] - totals[0]), low, high, p, se)
    # A corpus score (BLEU, chrF: 0-100) cannot move by more than its declared range.
    mde = minimum_detectable(
        se,
        units.count,
        alpha=alpha,
        power=POWER,
        span=span,
        floor=missed_effect(res, alpha),
        unit=unit,
    )
    return PairedOutcome("paired_bootstrap", res, int(diffs.size), "expanded_percentile", mde)


def example_clusters(
    examples: Sequence[Example], field: str, source: str | None = None
) -> list[str]:
    """Each example's cluster label from ``field``: an attribute or a field of the record.

    ``category``, ``difficulty``, ``prompt`` and ``id`` are read from the example; any other
    name from the fields kept verbatim in `Example.metadata`.

    Args:
        examples: The eval set.
        field: The cluster field.
        source: The eval set's file, named in the error.

    Raises:
        DataError: When an example lacks the field (naming the file, example and field).
    """
    labels = []
    for e in examples:
        value = getattr(e, field, None) if field in _ATTRIBUTES else e.metadata.get(field)
        if value is None or value == "":
            raise DataError(
                f"cluster field {field!r} is missing on example {e.id!r}; give every example a "
                f"{field!r} value, or choose another cluster field",
                path=source,
                field=field,
            )
        labels.append(value if isinstance(value, str) else repr(value))
    return labels


_ATTRIBUTES = frozenset({"category", "difficulty", "prompt", "id"})
