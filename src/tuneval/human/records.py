"""Records of a human-evaluation study: items, votes, the rubric, and the study's settings.

Annotator-facing records (`StudyItem`, `VoteInput`, `Vote`) carry positions A and B only; which
model sits in which position is the `Placement`, kept on the server side and read only when
results are unblinded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tuneval.records import Record

Preference = Literal["A", "B", "tie"]
Side = Literal["a", "b"]

CRITERIA: tuple[str, ...] = ("accuracy", "relevance", "format", "fluency")
"""The rubric's criteria, each scored 1-5 for each response (the order the app shows them)."""

CRITERION_HELP: dict[str, tuple[str, str]] = {
    "accuracy": ("Accuracy", "Is the content correct and free of made-up facts?"),
    "relevance": ("Relevance", "Does it answer what the prompt asked, without padding?"),
    "format": ("Format compliance", "Does it follow the format, length and style asked for?"),
    "fluency": ("Fluency", "Is it clear, grammatical and easy to read?"),
}
"""Label and one-line guidance per criterion, shown next to the scores."""

SCORE_MIN = 1
SCORE_MAX = 5


class RubricScores(Record):
    """One response's scores on the rubric, each 1 (poor) to 5 (excellent)."""

    accuracy: int = Field(ge=SCORE_MIN, le=SCORE_MAX, strict=True)
    """Is the content correct and free of made-up facts?"""
    relevance: int = Field(ge=SCORE_MIN, le=SCORE_MAX, strict=True)
    """Does it answer what the prompt asked?"""
    format: int = Field(ge=SCORE_MIN, le=SCORE_MAX, strict=True)
    """Does it follow the requested format, length and style?"""
    fluency: int = Field(ge=SCORE_MIN, le=SCORE_MAX, strict=True)
    """Is it clear, grammatical and easy to read?"""

    def value(self, criterion: str) -> int:
        """The score of one criterion by name."""
        return int(getattr(self, criterion))


class VoteInput(Record):
    """What an annotator submits for one item."""

    a: RubricScores
    """Scores of the response shown as A."""
    b: RubricScores
    """Scores of the response shown as B."""
    preference: Preference
    """Overall preference: A, B or tie."""
    comment: str = Field(default="", max_length=4000)
    """Optional free-text comment."""


class Vote(Record):
    """A stored vote (the latest version of one annotator's vote on one item)."""

    item_id: str
    """The study item voted on."""
    annotator: str
    """The annotator's name."""
    a: RubricScores
    """Scores of the response shown as A."""
    b: RubricScores
    """Scores of the response shown as B."""
    preference: Preference
    """Overall preference by position: A, B or tie."""
    comment: str = ""
    """Free-text comment."""
    revision: int = 1
    """1 for the first vote; each change adds 1."""
    updated_at: str = ""
    """UTC time of the last change (ISO 8601)."""


class StudyItem(Record):
    """One item as annotators see it: the prompt and two anonymous responses."""

    item_id: str
    """Opaque item id (says nothing about which model is where)."""
    example_id: str
    """The `Example.id` of the eval item."""
    prompt: str
    """The prompt both models answered."""
    response_a: str
    """The response shown in position A."""
    response_b: str
    """The response shown in position B."""


class Placement(Record):
    """Which model is shown in which position for one item (server side only)."""

    item_id: str
    """The study item."""
    model_at_a: str
    """Name of the model whose response is shown as A."""
    model_at_b: str
    """Name of the model whose response is shown as B."""


class StudyInfo(Record):
    """The settings a study was created with."""

    name: str
    """Human-readable study name."""
    model_a: str
    """The first model of the comparison (``--a``, usually the base)."""
    model_b: str
    """The second model (``--b``, usually the fine-tuned one); win rates are reported for both."""
    annotators: tuple[str, ...]
    """Annotator names, in the order given."""
    per_item: int
    """Annotators assigned to each item."""
    seed: int
    """Seed of the A/B placement, the assignment and each annotator's item order."""
    items: int
    """Number of items in the study."""
    source: str
    """Where the generations came from (run directory or prediction files)."""
    created_at: str
    """UTC creation time (ISO 8601)."""
    skipped: tuple[str, ...] = ()
    """Example ids left out because a model had no output for them."""
