"""Records of judge calls and their summaries.

A `Judgment` is one single-output scoring call, a `PairJudgment` one pairwise call in one
order; both keep the prompt, the raw reply, the parsed verdict and the judge's identity, so
every number in a summary can be traced back to the text the judge saw and wrote.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tuneval.records import Outcome as Outcome
from tuneval.records import Record
from tuneval.stats.estimates import Interval as Interval

Position = Literal["A", "B", "tie"]


class Judgment(Record):
    """One single-output scoring by a judge (the last attempt of its retries)."""

    example_id: str
    """The `Example.id` whose output was judged."""
    model: str
    """Name of the model whose output was judged."""
    judge: str
    """The judge's identity (backend identity, never a secret)."""
    repeat: int = 0
    """Which of the ``ScoreConfig.repeats`` independent judgings this is (0 without repeats)."""
    config_key: str
    """Hash of everything besides the item that shapes the verdict (judge, template, criteria,
    scale, reference mode); a rerun with the same key skips the item."""
    prompt: str
    """The rendered prompt the judge saw (system and user turns)."""
    raw: str | None
    """The judge's raw reply on the last attempt; None when the call itself failed."""
    score: int | None
    """The parsed score; None when unscored."""
    reasoning: str | None = None
    """The judge's stated reasoning, when it gave one."""
    scale: tuple[int, int]
    """The (lowest, highest) score allowed."""
    attempts: int
    """Calls made for this item (1 plus retries)."""
    unscored_reason: str | None = None
    """Why no score exists (unparseable reply, out-of-range score, call error)."""
    call_error: bool = False
    """True when the item is unscored because the call failed (retried on a rerun)."""
    output_chars: int = 0
    """Length of the judged output in characters (for length-bias diagnostics)."""


class PairJudgment(Record):
    """One pairwise comparison in one order: which of two outputs the judge preferred."""

    example_id: str
    """The `Example.id` compared."""
    model_a: str
    """The model called ``a`` in the comparison (usually the base)."""
    model_b: str
    """The model called ``b`` (usually the fine-tuned model)."""
    order: Literal["ab", "ba"]
    """``ab``: a's output shown first (position A); ``ba``: b's output shown first."""
    repeat: int = 0
    """Which of the ``PairConfig.repeats`` independent judgings this is (0 without repeats)."""
    judge: str
    """The judge's identity."""
    config_key: str
    """Hash of judge, template, criteria and reference mode; a rerun with it skips the call."""
    prompt: str
    """The rendered prompt the judge saw."""
    raw: str | None
    """The judge's raw reply on the last attempt; None when the call failed."""
    position: Position | None
    """The verdict by position: A (first shown), B (second shown) or tie; None if unscored."""
    reasoning: str | None = None
    """The judge's stated reasoning, when it gave one."""
    attempts: int
    """Calls made for this comparison (1 plus retries)."""
    unscored_reason: str | None = None
    """Why no verdict exists."""
    call_error: bool = False
    """True when unscored because the call failed (retried on a rerun)."""
    chars_a: int = 0
    """Length of model a's output in characters."""
    chars_b: int = 0
    """Length of model b's output in characters."""

    @property
    def outcome(self) -> Outcome | None:
        """The verdict in model terms: ``a``, ``b`` or ``tie`` (None when unscored)."""
        if self.position is None:
            return None
        if self.position == "tie":
            return "tie"
        first_is_a = self.order == "ab"
        return "a" if (self.position == "A") == first_is_a else "b"


class ScoreSummary(Record):
    """Single-output scores of one model by one judge."""

    model: str
    """The judged model."""
    judge: str
    """The judge's identity."""
    n: int
    """Items judged (scored or not)."""
    scored: int
    """Items with a valid score."""
    unscored: int
    """Items without a score (see the records for reasons)."""
    mean: Interval | None
    """Mean score with its bootstrap CI (None when nothing was scored)."""
    scale: tuple[int, int]
    """The score scale."""
    length_spearman: float | None
    """Spearman correlation of score with output length (None when undefined)."""
    unscored_reasons: dict[str, int] = Field(default_factory=dict)
    """Count of each kind of unscored reason."""
    repeats: int = 1
    """Judgings per output (``ScoreConfig.repeats``)."""
    flip_rate: float | None = None
    """With repeats: share of items whose repeated judgings gave different scores."""
    score_sd: float | None = None
    """With repeats: pooled within-item standard deviation of the score (the judge's noise)."""


class PairwiseSummary(Record):
    """Pairwise results of model b against model a by one judge (or a panel majority)."""

    model_a: str
    """The reference model (usually the base)."""
    model_b: str
    """The challenger (usually the fine-tuned model); win rate is b's."""
    judge: str
    """The judge's identity, or ``panel majority (N judges)`` for a panel."""
    n: int
    """Items counted in the win rate."""
    wins: int
    """Items b won (with repeats: judgings, each over both orders)."""
    ties: int
    """Items judged equal (including inconsistent verdicts when counted as ties)."""
    losses: int
    """Items a won."""
    inconsistent: int
    """Items (with repeats: judgings) whose two orders disagreed."""
    unscored: int
    """Items (with repeats: judgings) with no usable verdict in at least one order."""
    win_rate: Interval | None
    """(wins + 0.5 ties) / n with a CI (each item's repeats averaged first) that contains 0.5
    exactly when `p_value` > 1 − confidence (`tuneval.stats.winrate`)."""
    p_value: float | None = None
    """Two-sided test of a win rate of 0.5: the exact sign test on decisive items (ties left
    out), or with clusters or repeats the cluster-level sign flip."""
    mde: float | None = None
    """Smallest win-rate effect (above 0.5) that test finds 80% of the time at this n
    (``inf``, ``null`` in JSON, when none is detectable)."""
    detectable: bool | None = None
    """False when no win-rate effect is detectable at all; True with a finite `mde`."""
    undetectable_reason: str | None = None
    """Why no effect is detectable, when `detectable` is False."""
    lc_win_rate: Interval | None
    """AlpacaEval-2-style length-controlled win rate with a bootstrap CI."""
    position_consistency: float | None
    """Share of items judged in both orders whose verdicts agree (same winner or both tie)."""
    first_position_rate: float | None
    """Share of decisive single-order verdicts that picked the output shown first."""
    longer_preferred_rate: float | None
    """Share of decided items (unequal lengths) where the winner is the longer output."""
    inconsistent_policy: Literal["tie", "drop"] = "tie"
    """How inconsistent items were counted."""
    unit: str = "item"
    """What the win-rate interval resampled: ``item``, or ``cluster:FIELD`` (whole clusters
    of items; ``cluster`` when the field is unnamed)."""
    units: int | None = None
    """Independent units behind the win-rate interval (items, or clusters)."""
    repeats: int = 1
    """Judgings of each pair in each order (``PairConfig.repeats``); an item's repeats are
    averaged into one preference, so they never count as independent evidence."""
    flip_rate: float | None = None
    """With repeats: share of items whose repeated judgings gave different verdicts."""
    verdict_sd: float | None = None
    """With repeats: pooled within-item SD of the preference (1 win, 0.5 tie, 0 loss)."""


class AgreementSummary(Record):
    """Agreement of two raters (two judges, or a judge and the human majority)."""

    rater_1: str
    """First rater."""
    rater_2: str
    """Second rater."""
    n: int
    """Items both rated."""
    agreement: float | None
    """Share of items with the same label (pairwise) — None for scores."""
    kappa: float | None
    """Cohen's kappa on pairwise labels (a, b, tie)."""
    spearman: float | None = None
    """Spearman correlation of single scores."""
