"""The ``results.json`` schema: everything a report shows, as versioned typed records.

A reader checks `Results.schema_version`; version 1 is the first. Every headline number has its
interval and a signature that says how it was computed.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from tuneval.evaluation import ComparisonReport
from tuneval.human.ppi import PPIWinRate, RubricPPI
from tuneval.judge.records import Interval, PairwiseSummary, ScoreSummary
from tuneval.models.pricing import CostEstimate
from tuneval.records import Record, with_detectability

RESULTS_SCHEMA_VERSION: Literal[1] = 1
"""Current version of `Results`."""


class GenerationStats(Record):
    """Facts about one model's generations."""

    model: str
    """Model name (``base`` or ``finetuned``)."""
    spec: str
    """Backend spec."""
    setup: str = ""
    """What else tells the model apart from its spec (backend options such as a LoRA adapter,
    a system prompt, few-shot turns), so two runs of one spec are distinguishable in reports."""
    n: int
    """Generations stored."""
    errors: int
    """Calls that failed (those items are left out of the metrics and the judge)."""
    first_error: str | None = None
    """The error of the first failed call, for messages; None when none failed."""
    mean_chars: float
    """Mean output length in characters."""
    mean_latency_s: float
    """Mean seconds per call."""


class JudgeScores(Record):
    """Single-output judge scores of both models and their paired difference."""

    signature: str
    """Judge identity, config key, scale and resampling settings."""
    base: ScoreSummary
    """The base model's scores."""
    finetuned: ScoreSummary
    """The fine-tuned model's scores."""
    n_paired: int
    """Items scored for both models."""
    difference: Interval | None
    """Mean fine-tuned minus base score over paired items, with the interval that inverts
    the sign-flip test (so it excludes 0 exactly when p < 1 − confidence)."""
    p_value: float | None
    """Sign-flip (approximate-randomisation) p-value of the difference."""
    mde: float | None = None
    """Minimum detectable difference at 80% power at this n, variance and clustering."""
    unit: str = "item"
    """What the test flipped: ``item`` or ``cluster``."""
    detectable: bool | None = None
    """False when no difference is detectable at all (`mde` is infinite, ``null`` in JSON);
    True with a finite `mde`; None when no MDE could be computed."""
    undetectable_reason: str | None = None
    """Why no difference is detectable, when `detectable` is False."""
    units: int | None = None
    """Independent units behind the test (items, or clusters)."""

    _detectability = model_validator(mode="before")(with_detectability)


class Pairwise(Record):
    """Pairwise judge results of the fine-tuned model against the base."""

    signature: str
    """Judge identity, config key and resampling settings."""
    summary: PairwiseSummary
    """Win rate with CI, LC win rate, position consistency and length bias."""


class CategoryResult(Record):
    """One category's breakdown."""

    category: str
    """Category name (``(none)`` for items without one)."""
    n: int
    """Items in the category."""
    metrics: ComparisonReport | None = None
    """Paired metric comparison on the category's items with references."""
    judge_scores: JudgeScores | None = None
    """Judge scores on the category."""
    pairwise: PairwiseSummary | None = None
    """Pairwise win rate on the category."""


class ItemView(Record):
    """One item as the report shows it."""

    id: str
    """Example id."""
    category: str | None
    """Category."""
    difficulty: str | None
    """Difficulty."""
    adversarial: bool
    """Adversarial flag."""
    prompt: str
    """The prompt."""
    reference: str | None
    """First reference."""
    base: str | None
    """Base output (None when the call failed)."""
    finetuned: str | None
    """Fine-tuned output."""
    base_score: int | None = None
    """Judge score of the base output."""
    finetuned_score: int | None = None
    """Judge score of the fine-tuned output."""
    pair_outcome: Literal["base", "finetuned", "tie"] | None = None
    """Pairwise verdict over both orders."""
    flipped: Literal["fixed", "broken"] | None = None
    """Outcome change on the first binary metric, when there is one."""
    contamination: float | None = None
    """Share of the item's n-grams found in training data, when checked."""


class Verdict(Record):
    """Whether the fine-tuned model is better, worse or not distinguishable on one measure."""

    measure: str
    """``metric.name``, ``judge_score`` or ``win_rate``."""
    difference: float
    """Fine-tuned minus base (win rate minus 0.5 for ``win_rate``)."""
    ci_low: float
    """Lower end of the difference's CI."""
    ci_high: float
    """Upper end of the difference's CI."""
    p_value: float | None
    """Holm-adjusted p-value where a test exists."""
    outcome: Literal["better", "worse", "no significant difference"]
    """The call at the configured significance level."""
    mde: float | None = None
    """Minimum detectable effect at 80% power at this n, variance and clustering (None when
    the data show no variation to base it on; ``inf`` when no difference is detectable)."""
    unit: str = "item"
    """What was resampled: ``item``, or ``cluster:FIELD`` (``cluster`` when unnamed)."""
    units: int | None = None
    """Independent units behind the test (items, or clusters)."""
    detectable: bool | None = None
    """False when no difference is detectable at all (`mde` is infinite, ``null`` in JSON);
    True with a finite `mde`; None when no MDE could be computed."""
    undetectable_reason: str | None = None
    """Why no difference is detectable, when `detectable` is False."""

    _detectability = model_validator(mode="before")(with_detectability)

    @property
    def mde_text(self) -> str:
        """The MDE for a table cell: a number, ``none`` when nothing is detectable, or a dash."""
        if self.detectable is False or (self.mde is not None and math.isinf(self.mde)):
            return "none"
        return "—" if self.mde is None else f"{self.mde:.3g}"

    @property
    def text(self) -> str:
        """The verdict in words, saying what a non-significant result could have missed."""
        if self.outcome != "no significant difference":
            return self.outcome
        # Read back from JSON an infinite MDE is null: `detectable` keeps what it meant.
        if self.detectable is False or (self.mde is not None and math.isinf(self.mde)):
            units = f"{self.units} {self.unit.split(':')[0]}s" if self.units else "these items"
            why = f" ({self.undetectable_reason})" if self.undetectable_reason else ""
            return f"no significant difference; no difference is detectable with {units}{why}"
        if self.mde is None:
            return self.outcome
        return (
            f"no significant difference; effects below {self.mde:.3g} could not be detected"
            " (80% power)"
        )


class BenchmarkMeasure(Record):
    """One per-item value of a benchmark, both models on the same items."""

    name: str
    """The value, e.g. ``correct`` (MMLU), ``pass@1`` (code), ``score`` (MT-Bench)."""
    n: int
    """Items both models have."""
    base: float
    """Base model's mean on those items."""
    finetuned: float
    """Fine-tuned model's mean on those items."""
    difference: Interval | None
    """Fine-tuned minus base, with a paired-bootstrap CI (None under 2 items)."""
    p_value: float | None
    """Approximate-randomisation p-value, Holm-adjusted across all benchmark measures."""
    mde: float | None = None
    """Minimum detectable effect of the paired sign-flip test at 80% power (``inf``,
    ``null`` in JSON, when none is detectable; None without variation to base it on)."""
    unit: str = "item"
    """What was flipped: ``item``, or ``cluster`` (the turns of one MT-Bench question)."""
    units: int | None = None
    """Independent units behind the test (items, or clusters)."""
    detectable: bool | None = None
    """False when no difference is detectable at all; True with a finite `mde`."""
    undetectable_reason: str | None = None
    """Why no difference is detectable, when `detectable` is False."""

    _detectability = model_validator(mode="before")(with_detectability)


class BenchmarkResult(Record):
    """One standard benchmark run on both models."""

    name: str
    """Registered benchmark name."""
    base: dict[str, Any]
    """The benchmark's own summary for the base model (as ``tuneval bench`` prints it)."""
    finetuned: dict[str, Any]
    """The same for the fine-tuned model."""
    measures: list[BenchmarkMeasure] = Field(default_factory=list)
    """Paired comparison of each per-item value."""
    mismatch: list[str] = Field(default_factory=list)
    """Protocol-signature fields on which the two runs differ (``field: base != fine-tuned``);
    empty when the runs are comparable, else present only under ``allow_mismatch``."""

    @property
    def signatures(self) -> list[tuple[str, str]]:
        """(label, protocol signature) to show: one shared signature, or one per model."""
        base, tuned = self.base.get("signature"), self.finetuned.get("signature")
        if base == tuned:
            return [("", str(base))] if base else []
        return [(role, str(s)) for role, s in (("base", base), ("fine-tuned", tuned)) if s]


class Results(Record):
    """Everything the workflow concluded (``results.json``)."""

    schema_version: Literal[1] = RESULTS_SCHEMA_VERSION
    """Version of this schema."""
    tuneval_version: str
    """Version of tuneval that wrote the file."""
    name: str
    """Run name."""
    created: str
    """UTC time the results were computed (ISO 8601)."""
    n_examples: int
    """Items in the eval set."""
    categories: list[str]
    """Categories in eval-set order."""
    generation: list[GenerationStats]
    """Per-model generation facts."""
    metrics: ComparisonReport | None = None
    """Paired comparison on every item with references."""
    judge_scores: JudgeScores | None = None
    """Single-output judge scores."""
    pairwise: Pairwise | None = None
    """Pairwise judge results."""
    per_category: list[CategoryResult] = Field(default_factory=list)
    """Breakdown by category."""
    verdicts: list[Verdict] = Field(default_factory=list)
    """One line per measure: better, worse or no significant difference."""
    contamination: dict[str, Any] | None = None
    """Contamination summary, when checked."""
    benchmarks: list[BenchmarkResult] = Field(default_factory=list)
    """Standard benchmarks on both models, when configured."""
    cost: CostEstimate | None = None
    """Tokens and estimated USD cost of the model and judge calls the run made (live and
    batch, per model); None for runs that did not record their usage."""
    human_study: str | None = None
    """Path of the exported human-evaluation study, when created."""
    human_win_rate: PPIWinRate | None = None
    """The fine-tuned model's win rate from the human study and the judge: judge only, humans
    only (labelled items) and the prediction-powered estimate of the human win rate."""
    human_rubric: list[RubricPPI] | None = None
    """Per rubric criterion, the human mean scores of both models and their difference,
    prediction-powered by the judge's single-output scores (judge only, humans only, PPI)."""
    notes: list[str] = Field(default_factory=list)
    """Things the reader should know (skipped steps, failed calls)."""
    items: list[ItemView] = Field(default_factory=list)
    """Every item with both outputs, for the report."""
