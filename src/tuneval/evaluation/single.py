"""Score one system: every metric's value with a bootstrap CI and a signature."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from tuneval import __version__
from tuneval.errors import UsageError
from tuneval.evaluation.inputs import (
    as_ids,
    as_metrics,
    as_references,
    as_texts,
    check_lengths,
)
from tuneval.evaluation.paired_stats import binary_interval, check_units
from tuneval.metrics.base import Metric, create_metric
from tuneval.records import MetricResult, Record, Score
from tuneval.stats.estimates import BootstrapConfig as BootstrapConfig
from tuneval.stats.intervals import expanded_percentile_interval
from tuneval.stats.resample import FloatArray
from tuneval.stats.units import Units, make_units, resample


class ScoreReport(Record):
    """Aggregate results and per-example scores of one system."""

    results: list[MetricResult]
    """One entry per score of every metric, in the order the metrics were given."""
    scores: list[Score]
    """Per-example values, one record per (example, metric)."""


def resolve_metrics(metrics: Sequence[Metric | str]) -> list[Metric]:
    """Turn metric specs into metric objects, refusing an empty list and duplicates."""
    if not metrics:
        raise UsageError("no metric given; name at least one (see 'tuneval metrics')")
    resolved = [m if isinstance(m, Metric) else create_metric(m) for m in metrics]
    names = [m.name for m in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"metric(s) {', '.join(duplicates)} given twice; give each once")
    return resolved


def full_signature(metric: Metric, n: int, boot: BootstrapConfig) -> str:
    """Metric signature plus sample size, resampling settings and the tuneval version."""
    return f"{metric.signature()}|n:{n}|{boot.signature()}|tuneval:{__version__}"


def bootstrap_scores(
    metric: Metric, stats: FloatArray, boot: BootstrapConfig, units: Units | None = None
) -> dict[str, FloatArray]:
    """The bootstrap distribution of every score of ``metric``: ``{name: (resamples,)}``.

    With cluster ``units``, whole clusters are resampled.
    """
    parts: dict[str, list[FloatArray]] = {name: [] for name in metric.score_names}
    n = stats.shape[0]
    if n == 0:
        return {name: np.full(boot.resamples, np.nan) for name in parts}
    for counts in resample(n, units or make_units(n, None), boot.resamples, boot.seed):
        for name, values in metric.aggregate(counts @ stats).items():
            parts[name].append(values)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def summarize(
    metric: Metric,
    stats: FloatArray,
    boot: BootstrapConfig,
    *,
    model: str | None = None,
    units: Units | None = None,
) -> list[MetricResult]:
    """Point estimates from the full statistics, with CIs that stay honest at small n.

    Right/wrong scores get Wilson intervals (on the effective sample size under clusters):
    a bootstrap of 30 out of 30 correct would give the empty-looking [1, 1]. Other scores get
    Hesterberg's expanded percentile bootstrap (cluster bootstrap under clusters), as wide as
    the t interval for a mean.
    """
    n = stats.shape[0]
    units = units or make_units(n, None)
    point = metric.aggregate(stats.sum(0, keepdims=True))
    distribution = bootstrap_scores(metric, stats, boot, units)
    signature = full_signature(metric, n, boot)
    if units.codes is not None:
        signature += f"|clusters:{units.count}"
    details = metric.details(stats) if n else None
    per_example = metric.per_example(stats) if n and metric.binary_scores else {}
    results = []
    for i, name in enumerate(metric.score_names):
        # Only right/wrong scores get a proportion interval: per_example holds every score.
        if name in metric.binary_scores and name in per_example:
            low, high = binary_interval(
                (per_example[name] >= 0.5).astype(np.float64), units, boot.confidence
            )
        else:
            low, high = expanded_percentile_interval(
                distribution[name], boot.confidence, units.count
            )
        results.append(
            MetricResult(
                metric=metric.name,
                name=name,
                value=float(point[name][0]),
                ci_low=low,
                ci_high=high,
                confidence=boot.confidence,
                n=n,
                resamples=boot.resamples,
                seed=boot.seed,
                signature=signature,
                model=model,
                details=details if i == 0 else None,
            )
        )
    return results


def per_example_scores(
    metric: Metric, stats: FloatArray, ids: Sequence[str], model: str
) -> list[Score]:
    """One `Score` per example with every score of the metric."""
    values = metric.per_example(stats)
    return [
        Score(
            example_id=example_id,
            model=model,
            metric=metric.name,
            values={name: float(values[name][i]) for name in metric.score_names},
        )
        for i, example_id in enumerate(ids)
    ]


def score(
    predictions: Iterable[str],
    references: Iterable[str | Sequence[str]],
    metrics: str | Metric | Iterable[Metric | str],
    *,
    ids: Sequence[str] | None = None,
    model: str = "model",
    bootstrap: BootstrapConfig | None = None,
    clusters: Sequence[Hashable] | None = None,
    cluster_field: str | None = None,
) -> ScoreReport:
    """Score one system's predictions against references.

    Args:
        predictions: One output per example: a list, tuple, NumPy array or pandas Series
            of strings.
        references: The references of each example: a string (one reference) or a list of
            strings (several), one entry per example.
        metrics: A metric, or several: `Metric` objects or spec strings such as
            ``"bleu:tokenize=intl"``.
        ids: Example ids (default: ``"1"``, ``"2"``, ...).
        model: Name recorded with the results.
        bootstrap: CI settings (default: 1,000 resamples, seed 12345, 95%).
        clusters: One label per example; examples sharing a label are resampled together
            (cluster bootstrap), so correlated items do not narrow the CIs.
        cluster_field: Name of the field the labels come from (for messages).

    Returns:
        Aggregates with CIs and per-example scores.

    Raises:
        UsageError: For inputs that are empty, of different lengths, or not text (the message
            names the argument and the example index), and for an empty metric list.
    """
    preds = as_texts(predictions, "predictions")
    refs = as_references(references)
    n = check_lengths(predictions=preds, references=refs)
    units = check_units(n, clusters, cluster_field)
    resolved = resolve_metrics(as_metrics(metrics))
    boot = bootstrap or BootstrapConfig()
    example_ids = as_ids(ids, n)
    results: list[MetricResult] = []
    scores: list[Score] = []
    for metric in resolved:
        metric.fit([preds], refs)
        stats = metric.statistics(preds, refs)
        results.extend(summarize(metric, stats, boot, model=model, units=units))
        scores.extend(per_example_scores(metric, stats, example_ids, model))
    return ScoreReport(results=results, scores=scores)
