"""Robust parsing of judge replies; a reply that does not parse raises `ParseFailure`.

Order of attempts, for both kinds of verdict: the last JSON object in the reply that has the
verdict field (structured output gives exactly one), then the MT-Bench rating markers
(``[[8]]`` for scores, ``[[A]]``/``[[B]]``/``[[C]]`` for pairs, C meaning tie). Nothing is
guessed beyond that: an unparseable verdict becomes *unscored*, never a default value.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from tuneval.judge.records import Position


class ParseFailure(Exception):
    """The reply holds no valid verdict; ``str(exc)`` is the reason that gets recorded."""


@dataclass(frozen=True)
class ScoreVerdict:
    """A parsed single score."""

    score: int
    reasoning: str | None


@dataclass(frozen=True)
class PairVerdict:
    """A parsed pairwise preference by position."""

    position: Position
    reasoning: str | None


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object embedded in ``text`` (outermost ones), in order of appearance."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    index = text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index = text.find("{", index + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        index = text.find("{", end)
    return found


def _last_with(text: str, keys: tuple[str, ...]) -> tuple[Any, str | None] | None:
    for obj in reversed(json_objects(text)):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        for key in keys:
            if key in lowered:
                reason = lowered.get("reasoning", lowered.get("explanation"))
                return lowered[key], reason if isinstance(reason, str) else None
    return None


_RATING = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]")
_CHOICE = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE)


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ParseFailure(f"score is a boolean ({value!r}), not an integer")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ParseFailure(f"score {value!r} is not a number") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseFailure(f"score {value!r} is not a number")
    if float(value) != int(value):
        raise ParseFailure(f"score {value!r} is not an integer")
    return int(value)


def parse_score(text: str, low: int, high: int) -> ScoreVerdict:
    """The score in a judge reply.

    Args:
        text: The raw reply.
        low: Lowest allowed score.
        high: Highest allowed score.

    Raises:
        ParseFailure: No score found, not an integer, or outside ``[low, high]``.
    """
    found = _last_with(text, ("score", "rating"))
    if found is not None:
        raw_score, reasoning = found
    else:
        ratings = _RATING.findall(text)
        if not ratings:
            raise ParseFailure("no JSON object with a 'score' and no [[rating]] in the reply")
        raw_score, reasoning = ratings[-1], None
    score = _as_int(raw_score)
    if not low <= score <= high:
        raise ParseFailure(f"score {score} is outside the scale {low}-{high}")
    return ScoreVerdict(score, reasoning)


_POSITIONS: dict[str, Position] = {
    "a": "A",
    "answer a": "A",
    "[[a]]": "A",
    "b": "B",
    "answer b": "B",
    "[[b]]": "B",
    "tie": "tie",
    "c": "tie",
    "[[c]]": "tie",
    "equal": "tie",
    "none": "tie",
}


def parse_preference(text: str) -> PairVerdict:
    """The preferred position in a pairwise judge reply.

    Raises:
        ParseFailure: No verdict found, or a value other than A, B or tie.
    """
    found = _last_with(text, ("winner", "preference", "verdict", "better"))
    if found is not None:
        value, reasoning = found
        position = _POSITIONS.get(str(value).strip().lower())
        if position is None:
            raise ParseFailure(f"verdict {value!r} is not one of A, B, tie")
        return PairVerdict(position, reasoning)
    choices = _CHOICE.findall(text)
    if not choices:
        raise ParseFailure("no JSON object with a 'winner' and no [[A]]/[[B]]/[[C]] in the reply")
    return PairVerdict(_POSITIONS[choices[-1].lower()], None)


SCORE_SCHEMA_KEYS = ("reasoning", "score")


def score_schema(low: int, high: int) -> dict[str, Any]:
    """JSON schema of a single-score reply, for backends with structured output."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "score": {"type": "integer", "minimum": low, "maximum": high},
        },
        "required": list(SCORE_SCHEMA_KEYS),
        "additionalProperties": False,
    }


def pair_schema() -> dict[str, Any]:
    """JSON schema of a pairwise reply."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "winner": {"type": "string", "enum": ["A", "B", "tie"]},
        },
        "required": ["reasoning", "winner"],
        "additionalProperties": False,
    }
