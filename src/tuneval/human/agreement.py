"""Inter-annotator agreement of a study and the items annotators disagree on.

Preferences are compared in model terms (``a``, ``b``, ``tie``): per-item A/B placement is
random, so positional labels would mix "prefers model b" with "prefers the right-hand
response" and distort the chance-agreement term of every kappa.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
from pydantic import Field

from tuneval.human.records import CRITERIA, SCORE_MAX, SCORE_MIN
from tuneval.human.unblind import OUTCOMES, UnblindedVote, by_item
from tuneval.records import Record
from tuneval.stats.agreement import (
    category_table,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)


class PairKappa(Record):
    """Agreement of two annotators on the preference, over the items both voted on."""

    annotator_1: str
    """First annotator."""
    annotator_2: str
    """Second annotator."""
    n: int
    """Items both voted on."""
    agreement: float | None
    """Share of those items with the same preference."""
    kappa: float | None
    """Cohen's kappa on the preference (None when undefined or n is 0)."""


class AgreementReport(Record):
    """Inter-annotator agreement figures."""

    fleiss_kappa: float | None
    """Fleiss' kappa on the preference, over items with the most common number of votes."""
    fleiss_items: int
    """Items behind Fleiss' kappa."""
    fleiss_raters: int
    """Votes per item behind Fleiss' kappa."""
    preference_alpha: float | None
    """Krippendorff's alpha (nominal) on the preference, over every item voted on twice or more."""
    criteria_alpha: dict[str, float | None] = Field(default_factory=dict)
    """Krippendorff's alpha (ordinal) per rubric criterion; units are (item, model) scores."""
    pairwise: list[PairKappa] = Field(default_factory=list)
    """Cohen's kappa for every pair of annotators."""


class Disagreement(Record):
    """An item the annotators disagree on; the rubric may need clarifying for items like it."""

    item_id: str
    """The study item."""
    example_id: str
    """The eval example."""
    preferences: dict[str, int]
    """Votes per outcome in model terms (``a``, ``b``, ``tie``)."""
    reasons: list[str]
    """What the disagreement is: opposite preferences, or a wide spread of a criterion."""
    severity: float
    """Share of annotator pairs that disagree on the preference plus the widest score spread
    over the scale width; items are listed by it, highest first."""


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def agreement_report(votes: list[UnblindedVote], annotators: list[str]) -> AgreementReport:
    """All agreement figures for a set of (unblinded) votes."""
    grouped = by_item(votes)
    multi = {k: v for k, v in grouped.items() if len(v) >= 2}
    kappa, items, raters = None, 0, 0
    if multi:
        raters = Counter(len(v) for v in multi.values()).most_common(1)[0][0]
        full = [[u.outcome for u in v] for v in multi.values() if len(v) == raters]
        items = len(full)
        kappa = _clean(fleiss_kappa(category_table(full, OUTCOMES)))
    item_ids = list(grouped)
    index = {a: i for i, a in enumerate(annotators)}
    pref = np.full((len(annotators), len(item_ids)), np.nan)
    crit = {c: np.full((len(annotators), 2 * len(item_ids)), np.nan) for c in CRITERIA}
    for j, item_id in enumerate(item_ids):
        for vote in grouped[item_id]:
            row = index[vote.annotator]
            pref[row, j] = OUTCOMES.index(vote.outcome)
            for c in CRITERIA:
                crit[c][row, 2 * j] = vote.scores_a.value(c)
                crit[c][row, 2 * j + 1] = vote.scores_b.value(c)
    domain = list(range(SCORE_MIN, SCORE_MAX + 1))
    return AgreementReport(
        fleiss_kappa=kappa,
        fleiss_items=items,
        fleiss_raters=raters,
        preference_alpha=_clean(krippendorff_alpha(pref, "nominal")) if multi else None,
        criteria_alpha={
            c: _clean(krippendorff_alpha(crit[c], "ordinal", domain)) if multi else None
            for c in CRITERIA
        },
        pairwise=_pairwise(votes, annotators),
    )


def _pairwise(votes: list[UnblindedVote], annotators: list[str]) -> list[PairKappa]:
    labels: dict[str, dict[str, str]] = {a: {} for a in annotators}
    for vote in votes:
        labels[vote.annotator][vote.item_id] = vote.outcome
    out = []
    for first, second in itertools.combinations(annotators, 2):
        common = [k for k in labels[first] if k in labels[second]]
        x = [labels[first][k] for k in common]
        y = [labels[second][k] for k in common]
        same = sum(p == q for p, q in zip(x, y, strict=True))
        out.append(
            PairKappa(
                annotator_1=first,
                annotator_2=second,
                n=len(common),
                agreement=same / len(common) if common else None,
                kappa=_clean(cohen_kappa(x, y)) if common else None,
            )
        )
    return out


def disagreements(
    votes: list[UnblindedVote], names: tuple[str, str] = ("a", "b"), min_spread: int = 3
) -> list[Disagreement]:
    """Items whose annotators chose opposite models, or spread a criterion by ``min_spread``+.

    Args:
        votes: Unblinded votes.
        names: The two models' names, for the reasons.
        min_spread: Smallest max-minus-min score of one criterion that counts as disagreement.

    Returns:
        The items, most severe first.
    """
    out = []
    for item_id, group in by_item(votes).items():
        if len(group) < 2:
            continue
        counts = Counter(v.outcome for v in group)
        reasons = []
        if counts["a"] and counts["b"]:
            reasons.append(
                f"opposite preferences ({names[0]}: {counts['a']}, {names[1]}: {counts['b']})"
            )
        widest = 0
        for c in CRITERIA:
            for side, model in zip(("a", "b"), names, strict=True):
                values = [getattr(v, f"scores_{side}").value(c) for v in group]
                spread = max(values) - min(values)
                widest = max(widest, spread)
                if spread >= min_spread:
                    reasons.append(f"{c} of {model} scored {min(values)} to {max(values)}")
        if not reasons:
            continue
        n = len(group)
        pairs_same = sum(k * (k - 1) for k in counts.values()) / (n * (n - 1))
        severity = (1.0 - pairs_same) + widest / (SCORE_MAX - SCORE_MIN)
        out.append(
            Disagreement(
                item_id=item_id,
                example_id=group[0].example_id,
                preferences={o: counts[o] for o in OUTCOMES},
                reasons=reasons,
                severity=round(severity, 4),
            )
        )
    return sorted(out, key=lambda d: (-d.severity, d.item_id))
