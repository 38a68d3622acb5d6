"""Exact match: 1 when the normalised prediction equals any normalised reference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tuneval.metrics.base import FloatArray, MeanMetric, register_metric
from tuneval.metrics.normalize import Normalizer


@register_metric
class ExactMatch(MeanMetric):
    """Exact match with optional normalisation.

    Args:
        strip: Strip leading and trailing whitespace.
        lowercase: Compare case-insensitively.
        punctuation: Remove ASCII punctuation.
        articles: Remove English articles (a, an, the).
        whitespace: Collapse runs of whitespace to one space.
    """

    name = "exact_match"
    description = "1 if the prediction equals a reference after normalisation; mean over items"

    def __init__(
        self,
        *,
        strip: bool = True,
        lowercase: bool = False,
        punctuation: bool = False,
        articles: bool = False,
        whitespace: bool = False,
    ) -> None:
        self.normalizer = Normalizer(strip, lowercase, punctuation, articles, whitespace)

    @property
    def score_names(self) -> list[str]:
        """A single score, ``exact_match``."""
        return ["exact_match"]

    @property
    def binary_scores(self) -> frozenset[str]:
        """Exact match is right/wrong per item, so comparisons use McNemar's test."""
        return frozenset({"exact_match"})

    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """1.0 where the normalised prediction equals one of the normalised references."""
        norm = self.normalizer
        hits = [
            float(norm(pred) in {norm(ref) for ref in refs})
            for pred, refs in zip(predictions, references, strict=True)
        ]
        return np.asarray(hits, dtype=np.float64).reshape(-1, 1)

    def signature_fields(self) -> dict[str, str]:
        """The normalisation steps."""
        return {"norm": self.normalizer.describe()}
