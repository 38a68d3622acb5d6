"""Judging with one or several judges (a panel): every judge's results and their agreement."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from pydantic import Field

from tuneval.judge.agreement import (
    human_majority,
    label_agreement,
    load_votes,
    panel_majority,
    score_agreement,
)
from tuneval.judge.config import PairConfig, ScoreConfig
from tuneval.judge.pairwise import judge_pairs
from tuneval.judge.records import (
    AgreementSummary,
    Interval,
    Judgment,
    Outcome,
    PairwiseSummary,
    ScoreSummary,
)
from tuneval.judge.single import judge_scores
from tuneval.judge.summary import (
    Bootstrap,
    ItemOutcome,
    combine,
    item_verdicts,
    score_summary,
    summarize_outcomes,
)
from tuneval.models.base import ModelBackend
from tuneval.models.cache import CallCache
from tuneval.records import Record
from tuneval.rundir import RunDir
from tuneval.stats import mean_ci


class JudgeScoreReport(Record):
    """Single-output scoring of one model by one or more judges."""

    judges: list[ScoreSummary]
    """Each judge's summary."""
    panel_mean: Interval | None = None
    """Mean over items of the judges' mean score per item (panels only)."""
    agreement: list[AgreementSummary] = Field(default_factory=list)
    """Spearman correlation of scores for each pair of judges."""


class PairwiseReport(Record):
    """Pairwise comparison of two models by one or more judges."""

    judges: list[PairwiseSummary]
    """Each judge's summary."""
    panel: PairwiseSummary | None = None
    """The panel's majority verdicts summarised (panels only)."""
    agreement: list[AgreementSummary] = Field(default_factory=list)
    """Cohen's kappa for each pair of judges, and judges (or panel) against humans."""


def score_with_panel(
    run: RunDir,
    model: str,
    judges: Sequence[ModelBackend],
    config: ScoreConfig | None = None,
    boot: Bootstrap | None = None,
    *,
    cache: CallCache | None = None,
    on_call: Callable[[], None] | None = None,
) -> JudgeScoreReport:
    """Score ``model``'s outputs with each judge; report agreement and the panel mean."""
    boot = boot or Bootstrap()
    results: list[list[Judgment]] = [
        judge_scores(run, model, judge, config, cache=cache, on_call=on_call) for judge in judges
    ]
    agreement = [
        score_agreement(results[i], results[j], judges[i].identity(), judges[j].identity())
        for i, j in itertools.combinations(range(len(judges)), 2)
    ]
    panel_mean = None
    if len(judges) > 1:
        per_item: dict[str, list[int]] = {}
        for judgments in results:
            for j in judgments:
                if j.score is not None:
                    per_item.setdefault(j.example_id, []).append(j.score)
        if per_item:
            values = np.array([np.mean(v) for v in per_item.values()], dtype=np.float64)
            panel_mean = mean_ci(
                values, resamples=boot.resamples, seed=boot.seed, confidence=boot.confidence
            )
    return JudgeScoreReport(
        judges=[score_summary(r, boot) for r in results],
        panel_mean=panel_mean,
        agreement=agreement,
    )


def compare_with_panel(
    run: RunDir,
    model_a: str,
    model_b: str,
    judges: Sequence[ModelBackend],
    config: PairConfig | None = None,
    boot: Bootstrap | None = None,
    *,
    human_votes: str | Path | None = None,
    clusters: Mapping[str, str] | None = None,
    cluster_field: str | None = None,
    cache: CallCache | None = None,
    on_call: Callable[[], None] | None = None,
) -> PairwiseReport:
    """Compare ``model_b`` with ``model_a`` by each judge, the panel majority and humans.

    ``clusters`` (example id -> label, from ``cluster_field``) makes whole clusters the unit
    of every win-rate interval; repeated judgings (``config.repeats``) are averaged per item.
    """
    config = config or PairConfig()
    boot = boot or Bootstrap()
    summaries: list[PairwiseSummary] = []
    outcomes: dict[str, dict[str, Outcome | None]] = {}
    items: list[ItemOutcome] = []
    for judge in judges:
        records = judge_pairs(run, model_a, model_b, judge, config, cache=cache, on_call=on_call)
        items = combine(records, config.inconsistent)
        name = judge.identity()
        outcomes[name] = item_verdicts(items)
        summaries.append(
            summarize_outcomes(
                items,
                model_a,
                model_b,
                name,
                boot,
                inconsistent=config.inconsistent,
                records=records,
                clusters=clusters,
                cluster_field=cluster_field,
            )
        )
    names = list(outcomes)
    agreement = [
        label_agreement(outcomes[x], outcomes[y], x, y) for x, y in itertools.combinations(names, 2)
    ]
    panel = None
    verdicts = outcomes[names[0]] if names else {}
    if len(names) > 1:
        verdicts = panel_majority(outcomes)
        lengths = {i.example_id: (i.chars_a, i.chars_b) for i in items}
        panel_items = [
            ItemOutcome(k, v, None, v is None, *lengths.get(k, (0, 0))) for k, v in verdicts.items()
        ]
        panel = summarize_outcomes(
            panel_items,
            model_a,
            model_b,
            f"panel majority ({len(names)} judges)",
            boot,
            inconsistent=config.inconsistent,
            clusters=clusters,
            cluster_field=cluster_field,
        )
    if human_votes is not None:
        humans = human_majority(load_votes(human_votes))
        for name in names:
            agreement.append(label_agreement(outcomes[name], humans, name, "human majority"))
        if panel is not None:
            agreement.append(label_agreement(verdicts, humans, panel.judge, "human majority"))
    return PairwiseReport(judges=summaries, panel=panel, agreement=agreement)
