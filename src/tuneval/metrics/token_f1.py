"""Token-level F1 between prediction and reference, as in SQuAD's evaluation scripts.

SQuAD v1.1 and v2.0 agree on normalisation and on F1 when both sides have tokens; they differ
where a side normalises to nothing. v1.1's ``f1_score`` returns 0 whenever no token is shared,
so an empty prediction scores 0 even against an empty reference. v2.0's ``compute_f1`` treats
an empty side as "no answer" and scores 1 when both are empty; it also drops references that
normalise to nothing, and uses the single reference ``""`` when none is left (an unanswerable
question). Both rules are offered; the signature's ``empty`` field says which one was used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np

from tuneval.metrics.base import FloatArray, MeanMetric, register_metric
from tuneval.metrics.normalize import SQUAD, Normalizer

EmptyRule = Literal["zero", "match"]
"""What a side without tokens scores: ``zero`` (SQuAD v1.1) or ``match`` (SQuAD v2.0)."""


def token_f1(
    prediction_tokens: list[str], reference_tokens: list[str], empty: EmptyRule = "zero"
) -> float:
    """Bag-of-tokens F1 of two token lists.

    Args:
        prediction_tokens: The prediction's tokens.
        reference_tokens: The reference's tokens.
        empty: ``zero``: no shared token scores 0, even when both are empty (SQuAD v1.1);
            ``match``: when either side is empty, 1.0 only if both are (SQuAD v2.0).
    """
    if empty == "match" and (not prediction_tokens or not reference_tokens):
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
        normalize: ``squad`` (SQuAD v1.1: lowercase, strip punctuation and articles, collapse
            whitespace; an empty side scores 0), ``squad_v2`` (the same normalisation with
            SQuAD v2.0's no-answer rule: empty against empty scores 1, and references that
            normalise to nothing are dropped) or ``none`` (whitespace tokens as they are, with
            the v1.1 rule).
    """

    name = "token_f1"
    description = "SQuAD-style bag-of-tokens F1 against the best reference; mean over items"

    def __init__(self, *, normalize: Literal["squad", "squad_v2", "none"] = "squad") -> None:
        self.normalize = normalize
        self.normalizer = Normalizer(strip=True) if normalize == "none" else SQUAD
        self.empty: EmptyRule = "match" if normalize == "squad_v2" else "zero"

    @property
    def score_names(self) -> list[str]:
        """A single score, ``token_f1``."""
        return ["token_f1"]

    def _reference_tokens(self, refs: Sequence[str]) -> list[list[str]]:
        tokens = [self.normalizer(r).split() for r in refs]
        if self.empty == "match":
            # SQuAD v2.0 keeps only answers that survive normalisation; with none left, the
            # question counts as unanswerable and its one reference is the empty answer.
            tokens = [t for t in tokens if t] or [[]]
        return tokens

    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-item F1 against the best-matching reference."""
        values = []
        for pred, refs in zip(predictions, references, strict=True):
            pred_tokens = self.normalizer(pred).split()
            values.append(
                max(
                    (token_f1(pred_tokens, r, self.empty) for r in self._reference_tokens(refs)),
                    default=0.0,
                )
            )
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    def signature_fields(self) -> dict[str, str]:
        """The normalisation, the empty-answer rule and the tokenisation."""
        norm = "none" if self.normalize == "none" else "squad"
        return {"norm": norm, "empty": self.empty, "tok": "whitespace"}
