"""From the run's records to numbers: paired metric comparisons and judge summaries.

Everything here reads records and computes; nothing calls a model, so it is cheap to redo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tuneval.evaluation import BootstrapConfig, ComparisonReport, compare
from tuneval.judge.records import Interval, Judgment, PairJudgment, PairwiseSummary
from tuneval.judge.summary import Bootstrap, combine, pairwise_summary, score_summary
from tuneval.records import Example, Generation
from tuneval.report.schema import JudgeScores
from tuneval.stats import approximate_randomization, percentile_interval, resample_counts
from tuneval.workflow.config import ComparisonConfig

BASE, FINETUNED = "base", "finetuned"
"""The model names used in the run directory."""


def bootstrap_config(cfg: ComparisonConfig) -> BootstrapConfig:
    """The evaluation package's bootstrap settings from the config."""
    return BootstrapConfig(resamples=cfg.resamples, seed=cfg.seed, confidence=cfg.confidence)


def judge_bootstrap(cfg: ComparisonConfig) -> Bootstrap:
    """The judge package's bootstrap settings from the config."""
    return Bootstrap(resamples=cfg.resamples, seed=cfg.seed, confidence=cfg.confidence)


def outputs(gens: Sequence[Generation]) -> dict[str, str]:
    """Output text per example id; a failed call counts as an empty answer."""
    return {g.example_id: g.output or "" for g in gens}


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
        bootstrap=bootstrap_config(cfg),
        test=cfg.test,
        trials=cfg.trials,
        alpha=cfg.alpha,
    )


def _paired_difference(
    base: Mapping[str, float], tuned: Mapping[str, float], cfg: ComparisonConfig
) -> tuple[int, Interval | None, float | None]:
    ids = [i for i in base if i in tuned]
    n = len(ids)
    if n < 2:
        return n, None, None
    a = np.array([[base[i]] for i in ids], dtype=np.float64)
    b = np.array([[tuned[i]] for i in ids], dtype=np.float64)
    diffs = (b - a)[:, 0]
    means = np.concatenate([c @ diffs / n for c in resample_counts(n, cfg.resamples, cfg.seed)])
    low, high = percentile_interval(means, cfg.confidence)
    p = approximate_randomization(
        a, b, lambda s: {"mean": s[:, 0] / n}, trials=cfg.trials, seed=cfg.seed
    )["mean"]
    return n, Interval(value=float(diffs.mean()), ci_low=low, ci_high=high), float(p)


def judge_scores(
    records: Sequence[Judgment], ids: set[str], cfg: ComparisonConfig, signature: str
) -> JudgeScores | None:
    """Both models' judge scores on ``ids`` and their paired difference."""
    by_model: dict[str, list[Judgment]] = {BASE: [], FINETUNED: []}
    for r in records:
        if r.example_id in ids and r.model in by_model:
            by_model[r.model].append(r)
    if not by_model[BASE] or not by_model[FINETUNED]:
        return None
    boot = judge_bootstrap(cfg)
    scored = {
        m: {r.example_id: r.score for r in rs if r.score is not None} for m, rs in by_model.items()
    }
    n, diff, p = _paired_difference(scored[BASE], scored[FINETUNED], cfg)
    return JudgeScores(
        signature=signature,
        base=score_summary(by_model[BASE], boot),
        finetuned=score_summary(by_model[FINETUNED], boot),
        n_paired=n,
        difference=diff,
        p_value=p,
    )


def pairwise(
    records: Sequence[PairJudgment], ids: set[str], cfg: ComparisonConfig
) -> PairwiseSummary | None:
    """Win rate of the fine-tuned model over the base on ``ids``."""
    chosen = [r for r in records if r.example_id in ids]
    if not chosen:
        return None
    return pairwise_summary(chosen, judge_bootstrap(cfg))


def pair_outcomes(records: Sequence[PairJudgment]) -> dict[str, str]:
    """Per item: ``base``, ``finetuned`` or ``tie`` over both orders (unscored items absent)."""
    names = {"a": BASE, "b": FINETUNED, "tie": "tie"}
    return {o.example_id: names[o.outcome] for o in combine(list(records)) if o.outcome}
