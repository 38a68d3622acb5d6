"""Unblinded study results: win rates, rubric means, paired differences, agreement.

The unit of resampling is the item: an item's annotators are not independent of each other
(they read the same two responses), so each item contributes the mean of its votes and the
bootstrap resamples items, keeping every item's votes together.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import Field

from tuneval.errors import DataError
from tuneval.human.agreement import AgreementReport, Disagreement, agreement_report, disagreements
from tuneval.human.judge_file import load_judge_verdicts
from tuneval.human.ppi import PPIWinRate, ppi_win_rate
from tuneval.human.records import CRITERIA, StudyInfo
from tuneval.human.store import StudyStore
from tuneval.human.unblind import UnblindedVote, by_item, unblind
from tuneval.records import Outcome, Record
from tuneval.stats import (
    FloatArray,
    Interval,
    bootstrap_means,
    mean_ci,
    paired_bootstrap_pvalue,
    percentile_interval,
)

_PREF = {"b": 1.0, "tie": 0.5, "a": 0.0}


class WinRate(Record):
    """One model's record against the other, over all votes."""

    model: str
    """The model."""
    win_rate: Interval
    """(wins + ties/2) / votes, averaged per item first, with a bootstrap CI over items."""
    wins: int
    """Votes preferring this model."""
    ties: int
    """Tie votes."""
    losses: int
    """Votes preferring the other model."""


class CriterionResult(Record):
    """One rubric criterion: each model's mean score and the paired difference."""

    criterion: str
    """The criterion."""
    mean_a: Interval
    """Mean score of model_a (per-item means averaged), with CI."""
    mean_b: Interval
    """Mean score of model_b, with CI."""
    difference: Interval
    """model_b minus model_a, with a paired bootstrap CI."""
    p_value: float
    """Two-sided paired bootstrap p-value of the difference."""


class JudgeAgreement(Record):
    """How often the LLM judge agrees with the human majority on the same items."""

    source: str
    """The judge file."""
    n: int
    """Items with both a judge verdict and human votes."""
    agreement: float | None
    """Share of those items where the judge's verdict equals the human majority."""
    kappa: float | None
    """Cohen's kappa between the judge and the human majority (a, b, tie)."""
    judge_win_rate_b: float | None
    """model_b's win rate by the judge on the same items (ties count half)."""
    human_win_rate_b: float | None
    """model_b's win rate by the human majority on the same items."""
    ppi: PPIWinRate | None = None
    """model_b's win rate judge-only (all judged items), human-only (labelled items) and the
    prediction-powered estimate of the human win rate over all judged items; None when
    ``ppi-python`` is missing or fewer than 2 items have both."""


class HumanResults(Record):
    """Everything `tuneval human results` reports."""

    study: StudyInfo
    """The study's settings."""
    items_voted: int
    """Items with at least one vote."""
    votes: int
    """Votes in total."""
    progress: dict[str, tuple[int, int]]
    """Per annotator: (items voted, items assigned)."""
    win_rates: list[WinRate]
    """model_a's and model_b's win rates."""
    criteria: list[CriterionResult]
    """Per-criterion scores."""
    agreement: AgreementReport
    """Inter-annotator agreement."""
    disagreements: list[Disagreement] = Field(default_factory=list)
    """Items with high disagreement, most severe first."""
    judge: JudgeAgreement | None = None
    """Judge-vs-human agreement, when a judge file was given."""
    confidence: float
    """Level of every interval."""
    resamples: int
    """Bootstrap resamples."""
    seed: int
    """Bootstrap seed."""


def load_unblinded(store: StudyStore) -> list[UnblindedVote]:
    """The study's votes in model terms."""
    info = store.info()
    example_ids = {i.item_id: i.example_id for i in store.items()}
    return unblind(store.votes(), store.placements(), example_ids, info.model_a)


def study_results(
    study: str | Path,
    *,
    judge_file: str | Path | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> HumanResults:
    """Unblind a study and compute its results.

    Raises:
        DataError: When the study has no votes yet, or the judge file is unreadable.
    """
    store = StudyStore(study)
    info = store.info()
    votes = load_unblinded(store)
    if not votes:
        raise DataError("the study has no votes yet; nothing to report", path=store.path)
    grouped = by_item(votes)
    boot = (confidence, resamples, seed)
    pref_b = np.array([np.mean([_PREF[v.outcome] for v in g]) for g in grouped.values()])
    rate_b = _mean_interval(pref_b, *boot)
    rate_a = Interval(value=1 - rate_b.value, ci_low=1 - rate_b.ci_high, ci_high=1 - rate_b.ci_low)
    counts: Counter[str] = Counter(v.outcome for v in votes)
    sides = ((info.model_a, rate_a, "a", "b"), (info.model_b, rate_b, "b", "a"))
    win_rates = [
        WinRate(model=m, win_rate=r, wins=counts[w], ties=counts["tie"], losses=counts[lost])
        for m, r, w, lost in sides
    ]
    criteria = [_criterion(c, list(grouped.values()), *boot) for c in CRITERIA]
    judge = None
    if judge_file is not None:
        verdicts = load_judge_verdicts(judge_file, info.model_a, info.model_b)
        judge = _judge_agreement(str(judge_file), verdicts, grouped, confidence)
    return HumanResults(
        study=info,
        items_voted=len(grouped),
        votes=len(votes),
        progress=store.progress(),
        win_rates=win_rates,
        criteria=criteria,
        agreement=agreement_report(votes, list(info.annotators)),
        disagreements=disagreements(votes, (info.model_a, info.model_b)),
        judge=judge,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


def _mean_interval(values: FloatArray, confidence: float, resamples: int, seed: int) -> Interval:
    # The plain percentile interval (not the judge's expanded one) keeps published numbers.
    return mean_ci(
        values, resamples=resamples, seed=seed, confidence=confidence, method="percentile"
    )


def _criterion(
    criterion: str,
    groups: list[list[UnblindedVote]],
    confidence: float,
    resamples: int,
    seed: int,
) -> CriterionResult:
    a = np.array([np.mean([v.scores_a.value(criterion) for v in g]) for g in groups])
    b = np.array([np.mean([v.scores_b.value(criterion) for v in g]) for g in groups])
    diff = b - a
    # The same seed draws the same item resamples for a, b and their difference (paired).
    boot_diff = bootstrap_means(diff, resamples, seed)
    low, high = percentile_interval(boot_diff, confidence)
    observed = float(diff.mean())
    return CriterionResult(
        criterion=criterion,
        mean_a=_mean_interval(a, confidence, resamples, seed),
        mean_b=_mean_interval(b, confidence, resamples, seed),
        difference=Interval(value=observed, ci_low=low, ci_high=high),
        p_value=1.0 if observed == 0.0 else paired_bootstrap_pvalue(boot_diff, observed),
    )


def _judge_agreement(
    source: str,
    verdicts: dict[str, Outcome],
    grouped: dict[str, list[UnblindedVote]],
    confidence: float = 0.95,
) -> JudgeAgreement:
    from tuneval.judge.agreement import label_agreement, majority

    # Every item in ``grouped`` has at least one vote, so its majority is never None.
    human = {g[0].example_id: majority([v.outcome for v in g]) or "tie" for g in grouped.values()}
    common = [k for k in human if k in verdicts]
    if not common:
        return JudgeAgreement(
            source=source,
            n=0,
            agreement=None,
            kappa=None,
            judge_win_rate_b=None,
            human_win_rate_b=None,
        )
    x = [human[k] for k in common]
    y = [verdicts[k] for k in common]
    labels = label_agreement(dict(zip(common, x, strict=True)), verdicts, "humans", source)
    unlabelled = [_PREF[o] for k, o in verdicts.items() if k not in human]
    return JudgeAgreement(
        source=source,
        n=labels.n,
        agreement=labels.agreement,
        kappa=labels.kappa,
        judge_win_rate_b=float(np.mean([_PREF[o] for o in y])),
        human_win_rate_b=float(np.mean([_PREF[o] for o in x])),
        ppi=_ppi([_PREF[o] for o in x], [_PREF[o] for o in y], unlabelled, confidence),
    )


def _ppi(
    human: list[float], judged: list[float], unlabelled: list[float], confidence: float
) -> PPIWinRate | None:
    """The PPI win rates, or None without ppi-python or with under 2 labelled items."""
    from tuneval.errors import MissingDependencyError

    if len(human) < 2:
        return None
    try:
        return ppi_win_rate(human, judged, unlabelled, confidence)
    except MissingDependencyError:
        return None


def unblinded_rows(store: StudyStore) -> list[dict[str, object]]:
    """Every vote in model terms, one flat row each (for ``--votes-out``).

    The rows carry ``example_id`` and ``preference`` (``a``/``b``/``tie`` for ``--a``/``--b``),
    the format `tuneval.judge`'s human-vote reader takes, plus the rubric scores per model.
    """
    info = store.info()
    rows: list[dict[str, object]] = []
    for v in load_unblinded(store):
        row: dict[str, object] = {
            "example_id": v.example_id,
            "item_id": v.item_id,
            "annotator": v.annotator,
            "preference": v.outcome,
            "model_a": info.model_a,
            "model_b": info.model_b,
        }
        for c in CRITERIA:
            row[f"a_{c}"] = v.scores_a.value(c)
            row[f"b_{c}"] = v.scores_b.value(c)
        row["comment"] = v.comment
        rows.append(row)
    return rows
