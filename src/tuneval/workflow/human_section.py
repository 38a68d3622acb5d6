"""The human study's part of the results: its votes so far, and the judge calibrated on them.

When the run's blind study has votes, the LLM judge's verdicts and scores on every item are
combined with the human labels by prediction-powered inference (`tuneval.human.ppi`): the
fine-tuned model's human win rate, and each rubric criterion's human mean scores and
difference, over all items, with intervals valid however wrong the judge is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tuneval.human.ppi import PPIWinRate, RateInterval, RubricPPI
from tuneval.judge.pairwise import PAIRWISE_FILE
from tuneval.judge.records import Judgment
from tuneval.rundir import RunDir

if TYPE_CHECKING:
    from tuneval.human.store import StudyStore


@dataclass(frozen=True)
class HumanSection:
    """What `build_results` takes from the run's human study."""

    study: str
    """The study's path relative to the run."""
    notes: list[str]
    """Lines for the report's notes."""
    win_rate: PPIWinRate | None = None
    """The PPI human win rate (needs judge verdicts and 2+ labelled items)."""
    rubric: list[RubricPPI] | None = field(default=None)
    """The PPI human rubric means (needs judge scores and 2+ labelled items)."""


def human_section(run: RunDir, singles: Sequence[Judgment]) -> HumanSection | None:
    """The run's human study, what its votes say so far, and the PPI estimates.

    Args:
        run: The run directory.
        singles: The run's current single-output judgments (both models), whose scores
            power the rubric means.

    Returns:
        None without a study.
    """
    from tuneval.human.store import DB_NAME
    from tuneval.workflow.optional_steps import HUMAN_STUDY_DIR

    study = run.path / HUMAN_STUDY_DIR
    if not (study / DB_NAME).exists():
        return None
    from tuneval.human import StudyStore, study_results

    store = StudyStore(study)
    info = store.info()
    if not store.votes():
        return HumanSection(
            HUMAN_STUDY_DIR,
            [
                f"Blind human study of {info.items} items for {len(info.annotators)} annotators: "
                f"no votes yet; serve it with `tuneval human serve {study}`"
            ],
        )
    judge_file = run.record_file(PAIRWISE_FILE)
    res = study_results(study, judge_file=judge_file if judge_file.exists() else None)
    ft = next(w for w in res.win_rates if w.model == info.model_b)
    wr = ft.win_rate
    lines = [
        f"Human study ({res.votes} votes on {res.items_voted} of {info.items} items): "
        f"{info.model_b} win rate {wr.value:.3f} [{wr.ci_low:.3f}, {wr.ci_high:.3f}] "
        f"({ft.wins} wins, {ft.ties} ties, {ft.losses} losses); details: "
        f"`tuneval human results {study}`"
    ]
    j = res.judge
    if j is not None and j.n and j.agreement is not None:
        kappa = "n/a" if j.kappa is None else f"{j.kappa:.2f}"
        lines.append(
            f"The LLM judge agrees with the human majority on {j.agreement:.0%} of {j.n} items "
            f"(Cohen's kappa {kappa})"
        )
    ppi = j.ppi if j is not None else None
    if ppi is not None:
        lines.append(
            f"{info.model_b} win rate: judge only {ppi.judge_only.value:.3f} on "
            f"{ppi.judge_only.n} items; humans only {_iv(ppi.human_only)} on {ppi.labelled}; "
            f"PPI estimate of the human win rate {_iv(ppi.ppi)} (judge on all items, "
            "corrected by the human labels)"
        )
    rubric = _rubric(store, singles, info.model_a, info.model_b, res.confidence)
    if rubric:
        d = rubric[0].difference
        parts = "; ".join(
            f"{c.criterion} {_iv(c.difference.ppi)} (humans only {_iv(c.difference.human_only)})"
            for c in rubric
        )
        lines.append(
            f"Rubric difference {info.model_b} - {info.model_a} (1-5), PPI estimate from the "
            f"judge's scores on {d.labelled} labelled + {d.unlabelled} judge-only items: {parts}"
        )
    return HumanSection(HUMAN_STUDY_DIR, lines, ppi, rubric)


def _rubric(
    store: StudyStore, singles: Sequence[Judgment], model_a: str, model_b: str, confidence: float
) -> list[RubricPPI] | None:
    """The PPI rubric means from the run's judge scores (mean of each output's repeats)."""
    from tuneval.human.results import load_unblinded, rubric_ppi
    from tuneval.human.unblind import by_item

    sides = {model_a: "a", model_b: "b"}
    sums: dict[str, dict[str, list[float]]] = {}
    for r in singles:
        side = sides.get(r.model)
        if side is not None and r.score is not None:
            sums.setdefault(r.example_id, {}).setdefault(side, []).append(float(r.score))
    if not sums:
        return None
    scores = {k: {s: sum(v) / len(v) for s, v in d.items()} for k, d in sums.items()}
    groups = list(by_item(load_unblinded(store)).values())
    return rubric_ppi(groups, scores, confidence)


def _iv(e: RateInterval) -> str:
    return f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"
