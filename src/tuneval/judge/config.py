"""Settings of a judging run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tuneval.judge.templates import DEFAULT_CRITERIA
from tuneval.models.runner import CallOptions
from tuneval.records import Record


class JudgeConfig(Record):
    """How a judge is prompted and called (shared by single and pairwise judging)."""

    criteria: str = DEFAULT_CRITERIA
    """What the judge weighs; shown in the prompt."""
    reference: bool = False
    """Show each example's reference answer to the judge (MT-Bench reference-guided mode)."""
    template: str | None = None
    """A user template text replacing the default (see `tuneval.judge.templates`)."""
    max_attempts: int = Field(default=3, ge=1)
    """Calls per item at most; an unusable reply is retried, then recorded as unscored."""
    max_tokens: int = Field(default=512, ge=1)
    """Token budget of a judge reply."""
    structured: bool = True
    """Ask for structured output with a JSON schema (backends without it ignore it)."""
    calls: CallOptions = Field(default_factory=CallOptions)
    """Concurrency and timeouts of the judge calls."""


class ScoreConfig(JudgeConfig):
    """Single-output scoring settings."""

    scale: tuple[int, int] = (1, 10)
    """Lowest and highest score."""
    repeats: int = Field(default=1, ge=1)
    """Independent judgings of each output. Above 1, every judging samples at
    `repeat_temperature` with its own seed, and the summary reports the judge's own noise
    (flip rate, score SD); an item's repeats count as one unit in every interval and test."""
    repeat_temperature: float = Field(default=0.7, ge=0.0)
    """Sampling temperature of repeated judgings (0 measures only backend nondeterminism)."""

    @model_validator(mode="after")
    def _check_scale(self) -> ScoreConfig:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale {self.scale} must go from low to high")
        return self


class PairConfig(JudgeConfig):
    """Pairwise comparison settings."""

    swap: bool = True
    """Judge both orders (A vs B and B vs A) to cancel position bias."""
    inconsistent: Literal["tie", "drop"] = "tie"
    """Count items whose two orders disagree as ties, or drop them from the win rate."""
