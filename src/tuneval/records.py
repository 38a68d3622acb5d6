"""Typed records that cross module and process boundaries.

Every record is a pydantic model with ``extra="forbid"`` so that a typo in a field name fails
loudly instead of being dropped, and every field carries a docstring that says what it means.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Difficulty = Literal["easy", "medium", "hard"]
Outcome = Literal["a", "b", "tie"]
"""A pairwise verdict in model terms: model ``a`` won, model ``b`` won, or a tie."""


class Record(BaseModel):
    """Base of all records: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


UNDETECTABLE = "too few units to reach significance, or the effect would exceed the score's range"
"""The reason given when a record says no difference is detectable but its maker gave none."""


def with_detectability(data: Any) -> Any:
    """Fill ``detectable`` (and a reason) from ``mde`` when a record's maker left them out.

    JSON has no infinity, so an ``mde`` of ``inf`` is written as ``null``, which would read
    like "not computed"; the explicit ``detectable: false`` and its reason say what it means.
    Used as a ``model_validator(mode="before")`` of records with an ``mde``.
    """
    if not isinstance(data, dict) or data.get("detectable") is not None:
        return data
    mde = data.get("mde")
    if mde is None:
        return data
    detectable = math.isfinite(mde)
    reason = None if detectable else data.get("undetectable_reason") or UNDETECTABLE
    return {**data, "detectable": detectable, "undetectable_reason": reason}


class Example(Record):
    """One item of an eval set."""

    id: str
    """Stable identifier, unique within the eval set; predictions are matched to it."""
    prompt: str | None = None
    """The input shown to the model; absent in files that carry only references."""
    references: tuple[str, ...] = ()
    """Reference outputs; several are allowed (BLEU and ROUGE use all of them)."""
    category: str | None = None
    """Free-form category, used for per-category breakdowns."""
    difficulty: Difficulty | None = None
    """Difficulty label: easy, medium or hard."""
    adversarial: bool = False
    """True for items written to trip the model up (prompt injection, traps, edge cases)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Any other fields of the source record, kept verbatim."""

    @property
    def reference(self) -> str | None:
        """The first reference, or None when the example has none."""
        return self.references[0] if self.references else None


class Generation(Record):
    """One model output for one example."""

    example_id: str
    """The `Example.id` this output answers."""
    model: str
    """Name of the model that produced it (e.g. ``base`` or ``finetuned``)."""
    output: str | None
    """The generated text; None when the call failed (see `error`)."""
    error: str | None = None
    """Why no output exists, when the call failed."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Backend, decoding parameters, latency, token usage and other facts about the call."""

    @model_validator(mode="after")
    def _output_or_error(self) -> Generation:
        if self.output is None and self.error is None:
            raise ValueError("a Generation needs either an output or an error")
        return self


class Score(Record):
    """Per-example values of one metric for one model."""

    example_id: str
    """The `Example.id` that was scored."""
    model: str
    """Name of the model whose output was scored."""
    metric: str
    """Registered metric name, e.g. ``rouge``."""
    values: dict[str, float]
    """Per-example value of each of the metric's scores, e.g. ``{"rouge1_f": 0.42}``."""


class MetricResult(Record):
    """An aggregate score with its bootstrap confidence interval and reproducibility signature."""

    metric: str
    """Registered metric name, e.g. ``bleu``."""
    name: str
    """Name of this score within the metric, e.g. ``bleu`` or ``rougeL_f``."""
    value: float
    """The score on the full set (corpus-level for corpus metrics)."""
    ci_low: float
    """Lower end of the bootstrap percentile confidence interval."""
    ci_high: float
    """Upper end of the bootstrap percentile confidence interval."""
    confidence: float
    """Confidence level of the interval, e.g. 0.95."""
    n: int
    """Number of examples scored."""
    resamples: int
    """Number of bootstrap resamples behind the interval."""
    seed: int
    """Seed of the bootstrap random generator."""
    signature: str
    """Everything needed to reproduce the value: metric options, library versions, resampling."""
    model: str | None = None
    """Name of the model the score belongs to, when known."""
    details: dict[str, Any] | None = None
    """Extra metric-specific output, e.g. the per-class report and confusion matrix."""


class FlippedItems(Record):
    """Items whose outcome changed between the base and the fine-tuned model."""

    fixed: list[str] = Field(default_factory=list)
    """Ids wrong for the base and right for the fine-tuned model (binary scores)."""
    broken: list[str] = Field(default_factory=list)
    """Ids right for the base and wrong for the fine-tuned model (binary scores)."""
    improved: list[tuple[str, float]] = Field(default_factory=list)
    """Largest per-example gains as (id, fine-tuned minus base), for continuous scores."""
    regressed: list[tuple[str, float]] = Field(default_factory=list)
    """Largest per-example losses as (id, fine-tuned minus base), for continuous scores."""


class Comparison(Record):
    """Paired comparison of the fine-tuned model against the base on the same items."""

    metric: str
    """Registered metric name."""
    name: str
    """Name of the score within the metric."""
    base: MetricResult
    """The base model's score with its CI."""
    finetuned: MetricResult
    """The fine-tuned model's score with its CI."""
    difference: float
    """Fine-tuned minus base."""
    ci_low: float
    """Lower end of the CI of the difference (the test's own interval, see `interval`)."""
    ci_high: float
    """Upper end of the CI of the difference."""
    test: Literal["mcnemar_exact", "mcnemar_score", "approximate_randomization", "paired_bootstrap"]
    """The paired significance test used for `p_value` (sign flips of `unit` for
    ``approximate_randomization``)."""
    p_value: float
    """Two-sided p-value of the paired test (null: no difference)."""
    p_adjusted: float
    """The p-value after Holm's correction across all scores compared together."""
    n: int
    """Number of paired examples."""
    trials: int
    """Resamples (bootstrap) or shuffles (randomisation) behind the test; 0 for exact tests."""
    flipped: FlippedItems
    """Items whose outcome changed."""
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    """Significance level the comparison was made at (`significant` uses it)."""
    interval: str = "percentile"
    """How the CI of the difference was made: ``tango_score`` (inverts McNemar's score test),
    ``inverted_sign_flip`` (inverts the randomisation test) or ``expanded_percentile``
    (bootstrap; the p-value inverts it). Each agrees with `p_value` at 1 − confidence."""
    unit: Literal["item", "cluster"] = "item"
    """What the test and interval resampled: items, or whole clusters of items."""
    units: int | None = None
    """Independent units (items, or clusters) behind the test."""
    cluster_field: str | None = None
    """The field the clusters come from, when known."""
    mde: float | None = None
    """Minimum detectable effect: the smallest true difference this comparison would find
    significant 80% of the time at its n, observed variance and clustering (unadjusted α).
    ``inf`` (``null`` in JSON) when no difference is detectable: the test cannot reach α with
    this many units, or the effect would exceed the score's range."""
    detectable: bool | None = None
    """False when no difference is detectable at all (`mde` is infinite, ``null`` in JSON);
    True with a finite `mde`; None when no MDE could be computed (no variation)."""
    undetectable_reason: str | None = None
    """Why no difference is detectable, when `detectable` is False."""

    _detectability = model_validator(mode="before")(with_detectability)

    @property
    def significant(self) -> bool:
        """True when the Holm-adjusted p-value is below the comparison's `alpha`."""
        return self.p_adjusted < self.alpha
