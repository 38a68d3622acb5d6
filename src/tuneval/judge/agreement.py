"""Agreement between raters: Cohen's kappa, judge panels, and judges against humans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tuneval.errors import DataError
from tuneval.judge.records import AgreementSummary, Judgment, Outcome
from tuneval.judge.summary import spearman
from tuneval.stats.agreement import cohen_kappa

LABELS: tuple[Outcome, ...] = ("a", "b", "tie")


def label_agreement(
    first: Mapping[str, Outcome | None],
    second: Mapping[str, Outcome | None],
    rater_1: str,
    rater_2: str,
) -> AgreementSummary:
    """Agreement rate and Cohen's kappa on the items both raters labelled."""
    common = [k for k in first if first[k] is not None and second.get(k) is not None]
    x = [str(first[k]) for k in common]
    y = [str(second[k]) for k in common]
    kappa = cohen_kappa(x, y) if common else None
    return AgreementSummary(
        rater_1=rater_1,
        rater_2=rater_2,
        n=len(common),
        agreement=sum(a == b for a, b in zip(x, y, strict=True)) / len(common) if common else None,
        kappa=None if kappa is None or np.isnan(kappa) else kappa,
    )


def score_agreement(
    first: list[Judgment], second: list[Judgment], rater_1: str, rater_2: str
) -> AgreementSummary:
    """Spearman correlation of two judges' scores on the items both scored."""
    a = {j.example_id: j.score for j in first if j.score is not None}
    b = {j.example_id: j.score for j in second if j.score is not None}
    common = [k for k in a if k in b]
    return AgreementSummary(
        rater_1=rater_1,
        rater_2=rater_2,
        n=len(common),
        agreement=None,
        kappa=None,
        spearman=spearman([float(a[k]) for k in common], [float(b[k]) for k in common]),
    )


def majority(labels: Sequence[Outcome | None]) -> Outcome | None:
    """The most common label (None ignored); a tie between labels counts as ``tie``."""
    counts = Counter(label for label in labels if label is not None).most_common()
    if not counts:
        return None
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return "tie"
    return counts[0][0]


def panel_majority(
    per_judge: Mapping[str, Mapping[str, Outcome | None]],
) -> dict[str, Outcome | None]:
    """Each item's majority verdict over the judges of a panel."""
    items = dict.fromkeys(k for outcomes in per_judge.values() for k in outcomes)
    return {k: majority([o.get(k) for o in per_judge.values()]) for k in items}


_PREFERENCES: dict[str, Outcome] = {"a": "a", "b": "b", "tie": "tie"}


def load_votes(path: str | Path) -> dict[str, list[Outcome]]:
    """Human votes: ``{"example_id": ..., "preference": "a" | "b" | "tie", ...}`` per record.

    ``a`` and ``b`` name the models of the comparison (``--a`` and ``--b``), i.e. unblinded
    votes; other fields (annotator, rubric scores) are ignored.

    Raises:
        DataError: A line that is not JSON or lacks a valid field (naming file and line).
    """
    from tuneval.data.readers import read_records

    votes: dict[str, list[Outcome]] = {}
    for rec in read_records(path):
        example_id = rec.data.get("example_id")
        if not isinstance(example_id, str):
            raise DataError(
                "missing string field", path=rec.path, line=rec.line, field="example_id"
            )
        pref = _PREFERENCES.get(str(rec.data.get("preference", "")).strip().lower())
        if pref is None:
            raise DataError(
                f"preference {rec.data.get('preference')!r} is not a, b or tie",
                path=rec.path,
                line=rec.line,
                field="preference",
            )
        votes.setdefault(example_id, []).append(pref)
    return votes


def human_majority(votes: Mapping[str, Sequence[Outcome]]) -> dict[str, Outcome | None]:
    """Each item's majority human preference (a split vote counts as ``tie``)."""
    return {k: majority(list(v)) for k, v in votes.items()}
