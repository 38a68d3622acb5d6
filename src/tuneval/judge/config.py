"""Settings of a judging run: one record per concept, shared by the library, config and CLI.

`JudgeOptions` says how a judge is prompted and how its replies are read; `ScoreOptions` and
`PairOptions` add what single scoring and pairwise comparison need. The workflow config's
``judge`` section is made of these same records (plus its spec and on/off switches), and the
``tuneval judge`` flags override their fields, so each default is written once, here.
`ScoreConfig` and `PairConfig` add the call settings a judging run is made with.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from tuneval.judge.templates import DEFAULT_CRITERIA
from tuneval.models.runner import CallOptions
from tuneval.records import Record


class JudgeOptions(Record):
    """How a judge is prompted and its replies read (shared by single and pairwise judging)."""

    criteria: str = DEFAULT_CRITERIA
    """What the judge weighs; shown in the prompt (null: the default criteria)."""
    reference: bool = False
    """Show each example's reference answer to the judge (MT-Bench reference-guided mode)."""
    template: str | None = None
    """A user template text replacing the default (see `tuneval.judge.templates`)."""
    max_attempts: int = Field(default=3, ge=1)
    """Calls per item at most; an unusable reply is retried, then recorded as unscored."""
    max_tokens: int = Field(default=512, ge=1)
    """Token budget of a judge reply (room for a short reasoning before the verdict)."""
    structured: bool = True
    """Ask for structured output with a JSON schema (backends without it ignore it)."""
    repeats: int = Field(default=1, ge=1)
    """Independent judgings of each output (single) or pair, in each order (pairwise). Above
    1, every judging samples at `repeat_temperature` with its own seed, and the summary
    reports the judge's own noise (flip rate, score or verdict SD); an item's repeats count as
    one unit in every interval and test."""
    repeat_temperature: float = Field(default=0.7, ge=0.0)
    """Sampling temperature of repeated judgings (0 measures only backend nondeterminism)."""

    @field_validator("criteria", mode="before")
    @classmethod
    def _default_criteria(cls, value: object) -> object:
        # Configs written before the default was spelled out say ``criteria: null``.
        return DEFAULT_CRITERIA if value is None else value


class ScoreOptions(JudgeOptions):
    """Single-output scoring options."""

    scale: tuple[int, int] = (1, 10)
    """Lowest and highest score."""

    @model_validator(mode="after")
    def _check_scale(self) -> ScoreOptions:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale {self.scale} must go from low to high")
        return self


class PairOptions(JudgeOptions):
    """Pairwise comparison options."""

    swap: bool = True
    """Judge both orders (A vs B and B vs A) to cancel position bias."""
    inconsistent: Literal["tie", "drop"] = "tie"
    """Count items whose two orders disagree as ties, or drop them from the win rate."""


class JudgeConfig(JudgeOptions):
    """Judge options with the call settings of a judging run."""

    calls: CallOptions = Field(default_factory=CallOptions)
    """Concurrency and timeouts of the judge calls."""


class ScoreConfig(ScoreOptions, JudgeConfig):
    """Single-output scoring settings of a judging run."""


class PairConfig(PairOptions, JudgeConfig):
    """Pairwise comparison settings of a judging run."""
