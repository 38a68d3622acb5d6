"""Unblinded study results: win rates, rubric means, paired differences, agreement.

The unit of resampling is the item: an item's annotators are not independent of each other
(they read the same two responses), so each item contributes the mean of its votes and the
bootstrap resamples items, keeping every item's votes together. A rubric difference is
compared as metric differences are (`tuneval.stats.paired_difference`): the sign-flip test
over items with the interval that inverts it, and its minimum detectable effect.

With the LLM judge's files of the same run, the judge's verdicts and scores on every item are
combined with the human labels by prediction-powered inference (`tuneval.human.ppi`): the
human win rate, and each criterion's human mean scores and difference, over all items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator

from tuneval.errors import DataError
from tuneval.human.agreement import AgreementReport, Disagreement, agreement_report, disagreements
from tuneval.human.judge_file import is_score_file, load_judge_scores, load_judge_verdicts
from tuneval.human.ppi import PPIEstimate, PPIWinRate, RubricPPI, ppi_mean, ppi_win_rate
from tuneval.human.records import CRITERIA, SCORE_MAX, SCORE_MIN, StudyInfo
from tuneval.human.store import StudyStore
from tuneval.human.unblind import UnblindedVote, by_item, unblind
from tuneval.records import Outcome, Record, with_detectability
from tuneval.stats import FloatArray, Interval, mean_ci, paired_difference

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
    """model_b minus model_a over items, with the interval that inverts the sign-flip test
    (it excludes 0 exactly when `p_value` < 1 − confidence)."""
    p_value: float
    """Two-sided sign-flip (paired randomisation) p-value of the difference over items."""
    mde: float | None = None
    """Smallest difference detectable at 80% power with these items (None without variation;
    ``null`` with `detectable` false when none is)."""
    detectable: bool | None = None
    """False when no difference is detectable with this few items."""
    undetectable_reason: str | None = None
    """Why no difference is detectable, when `detectable` is False."""

    _detectability = model_validator(mode="before")(with_detectability)


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
    """Judge-vs-human agreement, when a judge verdict file was given."""
    judge_rubric: list[RubricPPI] | None = None
    """Per criterion, the human mean scores and difference prediction-powered by the judge's
    single-output scores, when a judge score file was given (None without one, or without
    ``ppi-python`` or 2 labelled items)."""
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
    judge_file: str | Path | Sequence[str | Path] | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> HumanResults:
    """Unblind a study and compute its results.

    Args:
        study: The study directory.
        judge_file: The LLM judge's pairwise verdicts (``judge_pairwise.jsonl``) and/or
            single-output scores (``judge_single.jsonl``) of the same items, one file or
            several; each file's kind is read from its first record.
        confidence: Level of every interval.
        resamples: Bootstrap resamples, and sign flips of the rubric differences.
        seed: Seed of both.

    Raises:
        DataError: When the study has no votes yet, or a judge file is unreadable.
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
    judge = rubric = None
    for path in _judge_files(judge_file):
        if is_score_file(path):
            scores = load_judge_scores(path, info.model_a, info.model_b)
            rubric = rubric_ppi(list(grouped.values()), scores, confidence)
        else:
            verdicts = load_judge_verdicts(path, info.model_a, info.model_b)
            judge = _judge_agreement(str(path), verdicts, grouped, confidence)
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
        judge_rubric=rubric,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


def _judge_files(judge_file: str | Path | Sequence[str | Path] | None) -> list[str | Path]:
    if judge_file is None:
        return []
    if isinstance(judge_file, str | Path):
        return [judge_file]
    return list(judge_file)


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
    ids = [g[0].example_id for g in groups]
    # The same machinery as metric differences: sign flips over items, the inverted interval.
    r = paired_difference(
        dict(zip(ids, a.tolist(), strict=True)),
        dict(zip(ids, b.tolist(), strict=True)),
        trials=resamples,
        seed=seed,
        confidence=confidence,
        span=(SCORE_MAX - SCORE_MIN,),
    )
    diff = float((b - a).mean())
    test = r.test
    det = r.detectable(1.0 - confidence, resamples)
    return CriterionResult(
        criterion=criterion,
        mean_a=_mean_interval(a, confidence, resamples, seed),
        mean_b=_mean_interval(b, confidence, resamples, seed),
        difference=Interval(value=diff, ci_low=diff, ci_high=diff)
        if test is None
        else Interval(value=test.difference, ci_low=test.ci_low, ci_high=test.ci_high),
        p_value=1.0 if test is None else test.p_value,
        mde=det.mde,
        detectable=det.detectable,
        undetectable_reason=det.reason,
    )


def rubric_ppi(
    groups: list[list[UnblindedVote]], judge: dict[str, dict[str, float]], confidence: float
) -> list[RubricPPI] | None:
    """Per criterion: human means of both models and their difference, powered by the judge.

    The labelled items are those with votes and a judge score of both outputs; every other
    item with both judge scores is unlabelled. None with fewer than 2 labelled items or
    without ``ppi-python``.
    """
    from tuneval.errors import MissingDependencyError

    both = {k: v for k, v in judge.items() if "a" in v and "b" in v}
    labelled = [g for g in groups if g[0].example_id in both]
    voted = {g[0].example_id for g in groups}
    rest = [v for k, v in both.items() if k not in voted]
    if len(labelled) < 2:
        return None
    jl = [both[g[0].example_id] for g in labelled]
    human_range = (float(SCORE_MIN), float(SCORE_MAX))
    span = human_range[1] - human_range[0]
    # The judge-only means stay on the judge's own scale (1-10 by default), unclipped.
    unbounded = (-math.inf, math.inf)
    out = []
    try:
        for c in CRITERIA:
            ha = [float(np.mean([v.scores_a.value(c) for v in g])) for g in labelled]
            hb = [float(np.mean([v.scores_b.value(c) for v in g])) for g in labelled]

            def est(h: list[float], side: str) -> PPIEstimate:
                lab, unl = [j[side] for j in jl], [j[side] for j in rest]
                return ppi_mean(h, lab, unl, confidence, bounds=human_range, judge_bounds=unbounded)

            diff = ppi_mean(
                [y - x for x, y in zip(ha, hb, strict=True)],
                [j["b"] - j["a"] for j in jl],
                [j["b"] - j["a"] for j in rest],
                confidence,
                bounds=(-span, span),
                judge_bounds=unbounded,
            )
            out.append(
                RubricPPI(criterion=c, mean_a=est(ha, "a"), mean_b=est(hb, "b"), difference=diff)
            )
    except MissingDependencyError:
        return None
    return out


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
