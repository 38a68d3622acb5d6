"""Paired comparison of a fine-tuned model against its base model on the same items.

For every score: the difference with a paired-bootstrap CI (the same resample weights applied
to both systems), a p-value from a paired test (exact McNemar for right/wrong scores,
approximate randomisation or the paired bootstrap otherwise), Holm's correction across all
scores compared together, and the items that flipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from tuneval.evaluation.single import BootstrapConfig, resolve_metrics, summarize
from tuneval.metrics.base import FloatArray, Metric
from tuneval.records import Comparison, FlippedItems, MetricResult, Record
from tuneval.stats.resample import percentile_interval, resample_counts
from tuneval.stats.tests import (
    approximate_randomization,
    holm,
    mcnemar_exact,
    paired_bootstrap_pvalue,
)

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


def _paired_differences(
    metric: Metric, base: FloatArray, tuned: FloatArray, boot: BootstrapConfig
) -> dict[str, FloatArray]:
    """Bootstrap distribution of (tuned - base) for each score, with shared resamples."""
    parts: dict[str, list[FloatArray]] = {name: [] for name in metric.score_names}
    for counts in resample_counts(base.shape[0], boot.resamples, boot.seed):
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


def _p_values(
    metric: Metric,
    base: FloatArray,
    tuned: FloatArray,
    diffs: dict[str, FloatArray],
    observed: dict[str, float],
    test: ContinuousTest,
    trials: int,
    seed: int,
) -> dict[str, tuple[str, float, int]]:
    """(test name, p-value, trials) for every score of the metric."""
    out: dict[str, tuple[str, float, int]] = {}
    continuous = [n for n in metric.score_names if n not in metric.binary_scores]
    if continuous and test == "approximate_randomization":
        ar = approximate_randomization(base, tuned, metric.aggregate, trials=trials, seed=seed)
        out.update({n: (test, ar[n], trials) for n in continuous})
    elif continuous:
        out.update(
            {
                n: (test, paired_bootstrap_pvalue(diffs[n], observed[n]), len(diffs[n]))
                for n in continuous
            }
        )
    if metric.binary_scores:
        per_a, per_b = metric.per_example(base), metric.per_example(tuned)
        for name in metric.binary_scores:
            p = mcnemar_exact(per_a[name] >= 0.5, per_b[name] >= 0.5)
            out[name] = ("mcnemar_exact", p, 0)
    return out


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
        test: Test for continuous scores (binary scores always use exact McNemar).
        trials: Shuffles for approximate randomisation.
        alpha: Significance level for the verdicts.
        top_flipped: How many largest per-example gains and losses to list for continuous scores.

    Returns:
        A `ComparisonReport` with Holm-adjusted p-values across every score compared.

    Raises:
        UsageError: For inputs that are empty, of different lengths, or not text (the message
            names the argument and the example index), and for an empty metric list.
    """
    if not 0.0 < alpha < 1.0:
        raise UsageError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha}")
    outputs_a, outputs_b = as_texts(base, "base"), as_texts(finetuned, "finetuned")
    refs = as_references(references)
    n = check_lengths(base=outputs_a, finetuned=outputs_b, references=refs)
    resolved = resolve_metrics(as_metrics(metrics))
    boot = bootstrap or BootstrapConfig()
    example_ids = as_ids(ids, n)
    rows: list[dict[str, object]] = []
    for metric in resolved:
        metric.fit([outputs_a, outputs_b], refs)
        stats_a = metric.statistics(outputs_a, refs)
        stats_b = metric.statistics(outputs_b, refs)
        res_a = {r.name: r for r in summarize(metric, stats_a, boot, model=base_model)}
        res_b = {r.name: r for r in summarize(metric, stats_b, boot, model=finetuned_model)}
        observed = {k: res_b[k].value - res_a[k].value for k in res_a}
        diffs = _paired_differences(metric, stats_a, stats_b, boot)
        pvals = _p_values(metric, stats_a, stats_b, diffs, observed, test, trials, boot.seed)
        per_a, per_b = metric.per_example(stats_a), metric.per_example(stats_b)
        for name in metric.score_names:
            rows.append(
                _row(metric, name, res_a[name], res_b[name], diffs[name], pvals[name], boot)
                | {
                    "flipped": _flipped(
                        example_ids,
                        per_a[name],
                        per_b[name],
                        name in metric.binary_scores,
                        top_flipped,
                    )
                }
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
    )


def _row(
    metric: Metric,
    name: str,
    a: MetricResult,
    b: MetricResult,
    diffs: FloatArray,
    pval: tuple[str, float, int],
    boot: BootstrapConfig,
) -> dict[str, object]:
    low, high = percentile_interval(diffs, boot.confidence)
    test, p, trials = pval
    return {
        "metric": metric.name,
        "name": name,
        "base": a,
        "finetuned": b,
        "difference": b.value - a.value,
        "ci_low": low,
        "ci_high": high,
        "test": test,
        "p_value": p,
        "n": a.n,
        "trials": trials,
    }
