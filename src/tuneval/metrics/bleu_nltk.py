"""Sentence BLEU exactly as NLTK's ``sentence_bleu`` computes it, averaged over examples.

Many papers and fine-tuning scripts report NLTK's sentence BLEU; its numbers differ from
sacreBLEU's (different tokenisation and smoothing), so it is a metric of its own. NLTK itself
computes each sentence's value: it is a core dependency, and calling it is exact by definition.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from tuneval.metrics.base import FloatArray, MeanMetric, register_metric

# method6 is left out: NLTK's own implementation fails on hypotheses shorter than 3 tokens.
Smoothing = Literal["method0", "method1", "method2", "method3", "method4", "method5", "method7"]


@register_metric
class BleuNltk(MeanMetric):
    """NLTK sentence BLEU (0-1 scale), mean over examples.

    Args:
        smoothing: NLTK's ``SmoothingFunction`` method: method0 (none) to method5, method7.
        max_order: Highest n-gram order; the weights are uniform, 1/max_order each.
        tokenize: ``whitespace`` (``str.split``, what most scripts do) or ``13a`` (sacreBLEU's
            mteval tokenizer).
        lowercase: Lowercase before tokenising.
    """

    name = "bleu_nltk"
    description = "sentence BLEU exactly as NLTK's sentence_bleu (0-1), mean over items"

    def __init__(
        self,
        *,
        smoothing: Smoothing = "method1",
        max_order: int = 4,
        tokenize: Literal["whitespace", "13a"] = "whitespace",
        lowercase: bool = False,
    ) -> None:
        from tuneval.errors import MetricError

        if not 1 <= max_order <= 9:
            raise MetricError(f"bleu_nltk: max_order must be between 1 and 9, got {max_order}")
        self.smoothing = smoothing
        self.max_order = max_order
        self.tokenize = tokenize
        self.lowercase = lowercase

    @property
    def score_names(self) -> list[str]:
        """The mean sentence BLEU."""
        return ["bleu_nltk"]

    def _tokenizer(self) -> Any:
        if self.tokenize == "13a":
            from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

            tok13a = Tokenizer13a()  # type: ignore[no-untyped-call]
            return lambda text: tok13a(text).split()
        return str.split

    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """NLTK's sentence BLEU of each prediction against all its references."""
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        smooth = getattr(SmoothingFunction(), self.smoothing)
        weights = tuple([1.0 / self.max_order] * self.max_order)
        split = self._tokenizer()
        prep = str.lower if self.lowercase else str
        values = []
        with warnings.catch_warnings():
            # NLTK warns on every sentence with a zero n-gram count; the value is still right.
            warnings.simplefilter("ignore")
            for pred, refs in zip(predictions, references, strict=True):
                ref_tokens = [split(prep(r)) for r in refs]
                values.append(float(sentence_bleu(ref_tokens, split(prep(pred)), weights, smooth)))
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    def signature_fields(self) -> dict[str, str]:
        """Smoothing, order, tokenisation and the NLTK version."""
        from importlib.metadata import version

        return {
            "smooth": self.smoothing,
            "order": str(self.max_order),
            "tok": self.tokenize,
            "case": "lc" if self.lowercase else "mixed",
            "nltk": version("nltk"),
        }
