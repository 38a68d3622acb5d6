"""Token-level F1 between prediction and reference, as in SQuAD's evaluation script."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np

from tuneval.metrics.base import FloatArray, MeanMetric, register_metric
from tuneval.metrics.normalize import SQUAD, Normalizer


def token_f1(prediction_tokens: list[str], reference_tokens: list[str]) -> float:
    """Bag-of-tokens F1; when either side is empty, 1.0 only if both are (SQuAD v2 rule)."""
    if not prediction_tokens or not reference_tokens:
        return float(prediction_tokens == reference_tokens)
    common = sum((Counter(prediction_tokens) & Counter(reference_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction_tokens)
    recall = common / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


@register_metric
class TokenF1(MeanMetric):
    """SQuAD-style token F1 (maximum over references), averaged over items.

    Args:
        normalize: ``squad`` (lowercase, strip punctuation and articles, collapse whitespace)
            or ``none`` (whitespace tokens as they are).
    """

    name = "token_f1"
    description = "SQuAD-style bag-of-tokens F1 against the best reference; mean over items"

    def __init__(self, *, normalize: Literal["squad", "none"] = "squad") -> None:
        self.normalize = normalize
        self.normalizer = SQUAD if normalize == "squad" else Normalizer(strip=True)

    @property
    def score_names(self) -> list[str]:
        """A single score, ``token_f1``."""
        return ["token_f1"]

    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-item F1 against the best-matching reference."""
        norm = self.normalizer
        values = []
        for pred, refs in zip(predictions, references, strict=True):
            pred_tokens = norm(pred).split()
            values.append(max((token_f1(pred_tokens, norm(r).split()) for r in refs), default=0.0))
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    def signature_fields(self) -> dict[str, str]:
        """The normalisation."""
        return {"norm": self.normalize, "tok": "whitespace"}
