"""Paired comparison of a fine-tuned model against its base model on the same items.

For every score: the difference with an interval and a p-value from one paired test, so the
two always agree (see `tuneval.evaluation.paired_stats` for which test each kind of score
gets), the minimum detectable effect at 80% power, Holm's correction across all scores
compared together, and the items that flipped. With cluster labels (items sharing a prompt, a
category or a source), whole clusters are the resampled unit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from tuneval.errors import UsageError
from tuneval.evaluation.inputs import (
    as_ids,
    as_metrics,
    as_references,
    as_texts,
    check_lengths,
)
from tuneval.evaluation.paired_stats import PairedOutcome, check_units, paired_outcome
from tuneval.evaluation.single import BootstrapConfig, resolve_metrics, summarize
from tuneval.metrics.base import Metric
from tuneval.records import Comparison, FlippedItems, MetricResult, Record
from tuneval.stats.resample import FloatArray
from tuneval.stats.tests import holm
from tuneval.stats.units import Units, resample

ContinuousTest = Literal["approximate_randomization", "paired_bootstrap"]


class ComparisonReport(Record):
    """Every score's paired comparison, Holm-corrected together."""

    base_model: str
    """Name of the base model."""
    finetuned_model: str
    """Name of the fine-tuned model."""
    n: int
    """Number of paired examples."""
    comparisons: list[Comparison]
    """One entry per score of every metric."""
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    """Significance level used for the verdicts."""
    unit: Literal["item", "cluster"] = "item"
    """What was resampled: items, or whole clusters of items."""
    units: int | None = None
    """Independent units behind every interval and test (items, or clusters)."""
    cluster_field: str | None = None
    """The field the clusters come from, when known."""


def _paired_differences(
    metric: Metric, base: FloatArray, tuned: FloatArray, boot: BootstrapConfig, units: Units
) -> dict[str, FloatArray]:
    """Bootstrap distribution of (tuned - base) for each score, with shared resamples."""
    parts: dict[str, list[FloatArray]] = {name: [] for name in metric.score_names}
    for counts in resample(base.shape[0], units, boot.resamples, boot.seed):
        a = metric.aggregate(counts @ base)
        b = metric.aggregate(counts @ tuned)
        for name in parts:
            parts[name].append(b[name] - a[name])
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _flipped(
    ids: Sequence[str], base: FloatArray, tuned: FloatArray, binary: bool, top: int
) -> FlippedItems:
    if binary:
        b, t = base >= 0.5, tuned >= 0.5
        return FlippedItems(
            fixed=[ids[i] for i in np.flatnonzero(~b & t).tolist()],
            broken=[ids[i] for i in np.flatnonzero(b & ~t).tolist()],
        )
    delta = tuned - base
    order: list[int] = np.argsort(-delta, kind="stable").tolist()
    improved = [(ids[i], float(delta[i])) for i in order[:top] if delta[i] > 0]
    regressed = [(ids[i], float(delta[i])) for i in order[::-1][:top] if delta[i] < 0]
    return FlippedItems(improved=improved, regressed=regressed)


def compare(
    base: Iterable[str],
    finetuned: Iterable[str],
    references: Iterable[str | Sequence[str]],
    metrics: str | Metric | Iterable[Metric | str],
    *,
    ids: Sequence[str] | None = None,
    base_model: str = "base",
    finetuned_model: str = "finetuned",
    bootstrap: BootstrapConfig | None = None,
    test: ContinuousTest = "approximate_randomization",
    trials: int = 10_000,
    alpha: float = 0.05,
    top_flipped: int = 10,
    clusters: Sequence[Hashable] | None = None,
    cluster_field: str | None = None,
) -> ComparisonReport:
    """Compare two systems' predictions on the same examples.

    Args:
        base: The base model's outputs: a list, tuple, NumPy array or pandas Series of strings.
        finetuned: The fine-tuned model's outputs, same examples in the same order.
        references: References of each example: a string (one reference) or a list of
            strings (several).
        metrics: A metric, or several: `Metric` objects or spec strings.
        ids: Example ids (default ``"1"``, ``"2"``, ...).
        base_model: Name of the base model in the report.
        finetuned_model: Name of the fine-tuned model in the report.
        bootstrap: CI settings; the paired bootstrap of the difference uses them too.
        test: Test for continuous mean scores: sign-flip randomisation (``approximate_
            randomization``) or ``paired_bootstrap``. Right/wrong scores use McNemar (sign
            flips of clusters when clustered); corpus scores use the paired bootstrap.
        trials: Random sign flips of the randomisation test.
        alpha: Significance level for the verdicts.
        top_flipped: How many largest per-example gains and losses to list for continuous scores.
        clusters: One label per example (e.g. the prompt, category or source it came from).
            Examples with the same label are resampled together, so correlated items do not
            count as independent evidence.
        cluster_field: Name of the field the labels come from, recorded in the report.

    Returns:
        A `ComparisonReport` with Holm-adjusted p-values across every score compared.

    Raises:
        UsageError: For inputs that are empty, of different lengths, or not text (the message
            names the argument and the example index), for an empty metric list, and for
            cluster labels that do not match the examples.
    """
    if not 0.0 < alpha < 1.0:
        raise UsageError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha}")
    outputs_a, outputs_b = as_texts(base, "base"), as_texts(finetuned, "finetuned")
    refs = as_references(references)
    n = check_lengths(base=outputs_a, finetuned=outputs_b, references=refs)
    units = check_units(n, clusters, cluster_field)
    resolved = resolve_metrics(as_metrics(metrics))
    boot = bootstrap or BootstrapConfig()
    example_ids = as_ids(ids, n)
    rows: list[dict[str, object]] = []
    for metric in resolved:
        metric.fit([outputs_a, outputs_b], refs)
        stats = (metric.statistics(outputs_a, refs), metric.statistics(outputs_b, refs))
        res_a = {
            r.name: r for r in summarize(metric, stats[0], boot, model=base_model, units=units)
        }
        res_b = {
            r.name: r for r in summarize(metric, stats[1], boot, model=finetuned_model, units=units)
        }
        diffs = _paired_differences(metric, stats[0], stats[1], boot, units)
        per_a, per_b = metric.per_example(stats[0]), metric.per_example(stats[1])
        for name in metric.score_names:
            outcome = paired_outcome(
                metric,
                name,
                stats,
                diffs[name],
                units,
                test=test,
                trials=trials,
                seed=boot.seed,
                confidence=boot.confidence,
            )
            flipped = _flipped(
                example_ids, per_a[name], per_b[name], name in metric.binary_scores, top_flipped
            )
            rows.append(
                _row(metric, name, res_a[name], res_b[name], outcome, units) | {"flipped": flipped}
            )
    adjusted = holm([float(r["p_value"]) for r in rows])  # type: ignore[arg-type]
    comparisons = [
        Comparison(**r, p_adjusted=p, alpha=alpha)  # type: ignore[arg-type]
        for r, p in zip(rows, adjusted, strict=True)
    ]
    return ComparisonReport(
        base_model=base_model,
        finetuned_model=finetuned_model,
        n=n,
        comparisons=comparisons,
        alpha=alpha,
        unit=units.kind,  # type: ignore[arg-type]
        units=units.count,
        cluster_field=units.field,
    )


def _row(
    metric: Metric,
    name: str,
    a: MetricResult,
    b: MetricResult,
    outcome: PairedOutcome,
    units: Units,
) -> dict[str, object]:
    r = outcome.result
    return {
        "metric": metric.name,
        "name": name,
        "base": a,
        "finetuned": b,
        "difference": r.difference,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "test": outcome.test,
        "p_value": r.p_value,
        "n": a.n,
        "trials": outcome.trials,
        "interval": outcome.interval,
        "unit": units.kind,
        "units": units.count,
        "cluster_field": units.field,
        "mde": outcome.mde,
        "undetectable_reason": outcome.detectable.reason,
    }
