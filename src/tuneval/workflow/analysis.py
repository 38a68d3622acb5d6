"""From the run's records to numbers: paired metric comparisons and judge summaries.

Everything here reads records and computes; nothing calls a model, so it is cheap to redo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tuneval.evaluation import ComparisonReport, compare
from tuneval.judge.records import Interval, Judgment, PairJudgment, PairwiseSummary
from tuneval.judge.summary import combine, item_verdicts, pairwise_summary, score_summary
from tuneval.records import Example, Generation
from tuneval.report.schema import JudgeScores
from tuneval.stats import PairedDifference, paired_difference
from tuneval.stats.detectable import Detectable
from tuneval.stats.paired import PairedTest
from tuneval.workflow.config import ComparisonConfig

BASE, FINETUNED = "base", "finetuned"
"""The model names used in the run directory."""


def outputs(gens: Sequence[Generation]) -> dict[str, str]:
    """Output text per example id; a failed call counts as an empty answer."""
    return {g.example_id: g.output or "" for g in gens}


def clusters_of(examples: Sequence[Example], cfg: ComparisonConfig) -> list[str] | None:
    """Cluster labels of ``examples`` from ``comparison.cluster_field``.

    None without a cluster field, and when the examples all share one cluster (a category's
    own comparison clustered by category): within one cluster the items are the units.
    """
    if cfg.cluster_field is None:
        return None
    from tuneval.evaluation.paired_stats import example_clusters

    labels = example_clusters(examples, cfg.cluster_field)
    return labels if len(set(labels)) > 1 else None


def metric_comparison(
    examples: Sequence[Example],
    base: dict[str, str],
    tuned: dict[str, str],
    metric_specs: Sequence[str],
    cfg: ComparisonConfig,
) -> ComparisonReport | None:
    """Paired comparison on the examples that have references and both outputs."""
    items = [e for e in examples if e.references and e.id in base and e.id in tuned]
    if not items or not metric_specs:
        return None
    return compare(
        [base[e.id] for e in items],
        [tuned[e.id] for e in items],
        [list(e.references) for e in items],
        list(metric_specs),
        ids=[e.id for e in items],
        base_model=BASE,
        finetuned_model=FINETUNED,
        bootstrap=cfg.bootstrap,
        test=cfg.test,
        trials=cfg.trials,
        alpha=cfg.alpha,
        clusters=clusters_of(items, cfg),
        cluster_field=cfg.cluster_field,
    )


def paired_test(
    base: Mapping[str, float],
    tuned: Mapping[str, float],
    cfg: ComparisonConfig,
    clusters: Mapping[str, str] | None = None,
    span: tuple[float, ...] = (),
) -> tuple[PairedDifference, Detectable]:
    """Mean paired difference with the sign-flip test, its inverted interval and the MDE.

    With ``clusters`` (id -> label), whole clusters are flipped; that is also how several
    judgings or samples of one item are kept from counting as independent evidence.

    ``span`` is the width of the score scale when known (e.g. 9 for 1–10 judge scores): the
    interval never extends past it, even when too few units can reject any difference, and
    an MDE that reaches it means no difference is detectable.

    Returns:
        The comparison (its test is None under 2 items) and its minimum detectable effect,
        which follows the sign-flip test as metric MDEs do (the level it attains, the
        smallest p it can reach at this many units, the range, an effect it missed).
    """
    r = paired_difference(
        base,
        tuned,
        trials=cfg.trials,
        seed=cfg.seed,
        confidence=cfg.confidence,
        clusters=clusters,
        span=span,
    )
    return r, r.detectable(cfg.alpha, cfg.trials)


def judge_scores(
    records: Sequence[Judgment],
    ids: set[str],
    cfg: ComparisonConfig,
    signature: str,
    clusters: Mapping[str, str] | None = None,
) -> JudgeScores | None:
    """Both models' judge scores on ``ids`` and their paired difference.

    Several judgings of one item (``judge.repeats``) are averaged per item first, so the
    item stays the unit; ``clusters`` (id -> label) makes whole clusters the unit.
    """
    by_model: dict[str, list[Judgment]] = {BASE: [], FINETUNED: []}
    for r in records:
        if r.example_id in ids and r.model in by_model:
            by_model[r.model].append(r)
    if not by_model[BASE] or not by_model[FINETUNED]:
        return None
    boot = cfg.bootstrap
    scored = {m: _item_means(rs) for m, rs in by_model.items()}
    low, high = by_model[BASE][0].scale
    diff, det = paired_test(scored[BASE], scored[FINETUNED], cfg, clusters, (high - low,))
    test = diff.test
    return JudgeScores(
        signature=signature,
        base=score_summary(by_model[BASE], boot),
        finetuned=score_summary(by_model[FINETUNED], boot),
        n_paired=diff.n,
        difference=None if test is None else as_interval(test),
        p_value=None if test is None else test.p_value,
        mde=det.mde,
        unit="cluster" if diff.clustered else "item",
        units=diff.units,
        detectable=det.detectable,
        undetectable_reason=det.reason,
    )


def as_interval(test: PairedTest) -> Interval:
    """The difference of a paired test with its interval."""
    return Interval(value=test.difference, ci_low=test.ci_low, ci_high=test.ci_high)


def _item_means(records: Sequence[Judgment]) -> dict[str, float]:
    """Each item's mean score over its scored judgings."""
    sums: dict[str, list[float]] = {}
    for r in records:
        if r.score is not None:
            sums.setdefault(r.example_id, []).append(float(r.score))
    return {k: float(np.mean(v)) for k, v in sums.items()}


def pairwise(
    records: Sequence[PairJudgment],
    ids: set[str],
    cfg: ComparisonConfig,
    clusters: Mapping[str, str] | None = None,
) -> PairwiseSummary | None:
    """Win rate of the fine-tuned model over the base on ``ids``.

    ``clusters`` (id -> label from ``comparison.cluster_field``) makes whole clusters the
    unit of the win-rate interval; repeated judgings of an item count as one unit.
    """
    chosen = [r for r in records if r.example_id in ids]
    if not chosen:
        return None
    return pairwise_summary(
        chosen, cfg.bootstrap, clusters=clusters, cluster_field=cfg.cluster_field
    )


def pair_outcomes(records: Sequence[PairJudgment]) -> dict[str, str]:
    """Per item: ``base``, ``finetuned`` or ``tie`` over both orders (unscored items absent)."""
    names = {"a": BASE, "b": FINETUNED, "tie": "tie"}
    verdicts = item_verdicts(combine(list(records)))
    return {k: names[o] for k, o in verdicts.items() if o}
