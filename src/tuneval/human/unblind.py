"""Unblinding: turning positional votes (A, B) into votes about the two models.

A study compares ``model_a`` against ``model_b`` (``--a`` and ``--b``); outcomes are spelled
``a``, ``b`` and ``tie`` in those terms, as the judge's pairwise records spell them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuneval.human.records import Placement, RubricScores, Vote
from tuneval.records import Outcome

OUTCOMES: tuple[Outcome, ...] = ("a", "b", "tie")


@dataclass(frozen=True)
class UnblindedVote:
    """One vote in model terms."""

    item_id: str
    example_id: str
    annotator: str
    outcome: Outcome
    """Which model the annotator preferred: ``a`` (model_a), ``b`` (model_b) or ``tie``."""
    scores_a: RubricScores
    """Rubric scores of model_a's response."""
    scores_b: RubricScores
    """Rubric scores of model_b's response."""
    comment: str


def unblind(
    votes: list[Vote], placements: dict[str, Placement], example_ids: dict[str, str], model_a: str
) -> list[UnblindedVote]:
    """Translate votes by position into votes by model.

    Args:
        votes: Stored votes.
        placements: The A/B -> model mapping per item.
        example_ids: Example id per item id.
        model_a: Name of the study's first model.
    """
    out: list[UnblindedVote] = []
    for vote in votes:
        a_first = placements[vote.item_id].model_at_a == model_a
        if vote.preference == "tie":
            outcome: Outcome = "tie"
        else:
            outcome = "a" if (vote.preference == "A") == a_first else "b"
        out.append(
            UnblindedVote(
                item_id=vote.item_id,
                example_id=example_ids[vote.item_id],
                annotator=vote.annotator,
                outcome=outcome,
                scores_a=vote.a if a_first else vote.b,
                scores_b=vote.b if a_first else vote.a,
                comment=vote.comment,
            )
        )
    return out


def by_item(votes: list[UnblindedVote]) -> dict[str, list[UnblindedVote]]:
    """Votes grouped by item id, items in first-seen order."""
    grouped: dict[str, list[UnblindedVote]] = {}
    for vote in votes:
        grouped.setdefault(vote.item_id, []).append(vote)
    return grouped
