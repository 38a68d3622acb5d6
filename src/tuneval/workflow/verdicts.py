"""The run's verdicts: one per tested measure, each with its interval, unit and MDE.

A non-significant verdict says what it could have missed: the minimum detectable effect at
80% power, computed the way the measure's own test decides (`tuneval.stats.detectable`), or
an explicit "no difference is detectable" with the reason (too few units to reach α, or an
effect beyond the measure's range). Metric verdicts take the MDE of their comparison, the
judge-score verdict and the benchmark measures that of their sign-flip tests, the win rate
that of its sign test against 0.5.
"""

from __future__ import annotations

from typing import Literal, Protocol

from tuneval.judge.records import Interval, PairwiseSummary
from tuneval.report.schema import BenchmarkMeasure, BenchmarkResult, JudgeScores, Verdict
from tuneval.workflow.config import ComparisonConfig
from tuneval.workflow.metrics_step import MetricComparisons

Direction = Literal["better", "worse", "no significant difference"]
"""Which way a tested difference points (distinct from a pairwise `tuneval.records.Outcome`)."""


def verdicts(
    metrics: MetricComparisons,
    judge_scores: JudgeScores | None,
    pairwise: PairwiseSummary | None,
    alpha: float,
    confidence: float = 0.95,
) -> list[Verdict]:
    """Verdicts of the metric comparisons, the judge scores and the win rate."""
    out: list[Verdict] = []
    if metrics.overall is not None:
        for c in metrics.overall.comparisons:
            d = Interval(value=c.difference, ci_low=c.ci_low, ci_high=c.ci_high)
            unit = unit_label(c.unit, c.cluster_field)
            name = f"{c.metric}.{c.name}"
            out.append(_verdict(name, d, c.p_adjusted, c.p_adjusted < alpha, c, unit, c.units))
    js = judge_scores
    if js is not None and js.difference is not None and js.p_value is not None:
        units = js.units if js.units is not None else js.n_paired
        d, p = js.difference, js.p_value
        out.append(_verdict("judge_score", d, p, p < alpha, js, js.unit, units))
    if pairwise is not None and pairwise.win_rate is not None:
        out.append(win_rate_verdict(pairwise, alpha, confidence))
    return out


def win_rate_verdict(s: PairwiseSummary, alpha: float, confidence: float) -> Verdict:
    """The win rate against 0.5, called by its sign test (`tuneval.stats.winrate`).

    The p-value is the exact sign test on decisive items (clusters or repeats: the
    cluster-level sign flip), and the interval contains 0.5 exactly when that test does not
    reject at ``1 − confidence``; the MDE is that test's. A summary written before the test
    existed (no `PairwiseSummary.p_value`) is called by its interval, as it was then.
    """
    w = s.win_rate
    assert w is not None
    units = s.units if s.units is not None else s.n
    significant = s.p_value <= alpha if s.p_value is not None else w.ci_low > 0.5 or w.ci_high < 0.5
    d = Interval(value=w.value - 0.5, ci_low=w.ci_low - 0.5, ci_high=w.ci_high - 0.5)
    return _verdict("win_rate", d, s.p_value, significant, s, s.unit, units)


def unit_label(unit: str, field: str | None) -> str:
    """``item``, or ``cluster:FIELD`` naming what was resampled."""
    return unit if unit == "item" or field is None else f"{unit}:{field}"


def bench_verdicts(results: list[BenchmarkResult], cmp: ComparisonConfig) -> list[Verdict]:
    """One verdict per benchmark measure with a difference and a test, with its MDE.

    The MDE is the one the measure's paired sign-flip comparison carries
    (`tuneval.stats.PairedDifference.detectable`, stored on the `BenchmarkMeasure`).
    """
    return [
        tested_verdict(f"{r.name}.{m.name}", m.difference, m.p_value, cmp.alpha, m)
        for r in results
        for m in r.measures
        if m.difference is not None and m.p_value is not None
    ]


def tested_verdict(
    measure: str,
    d: Interval,
    p_value: float,
    alpha: float,
    power: BenchmarkMeasure | None = None,
) -> Verdict:
    """The verdict on a difference with its CI and a (Holm-adjusted) p-value.

    ``power`` (a benchmark measure) adds the MDE, the unit and why nothing is detectable.
    """
    if power is None:
        return _verdict(measure, d, p_value, p_value < alpha, None, "item", None)
    return _verdict(measure, d, p_value, p_value < alpha, power, power.unit, power.units)


class _Power(Protocol):
    """What a tested measure says about its power."""

    @property
    def mde(self) -> float | None: ...
    @property
    def detectable(self) -> bool | None: ...
    @property
    def undetectable_reason(self) -> str | None: ...


def _verdict(
    measure: str,
    d: Interval,
    p_value: float | None,
    significant: bool,
    power: _Power | None,
    unit: str,
    units: int | None,
) -> Verdict:
    return Verdict(
        measure=measure,
        difference=d.value,
        ci_low=d.ci_low,
        ci_high=d.ci_high,
        p_value=p_value,
        outcome=outcome(d.value, significant),
        mde=None if power is None else power.mde,
        unit=unit,
        units=units,
        detectable=None if power is None else power.detectable,
        undetectable_reason=None if power is None else power.undetectable_reason,
    )


def outcome(difference: float, significant: bool) -> Direction:
    """The verdict on a difference: better or worse when significant and not zero."""
    if not significant or difference == 0:
        return "no significant difference"
    return "better" if difference > 0 else "worse"
