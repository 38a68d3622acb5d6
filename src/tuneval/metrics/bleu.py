"""Corpus BLEU identical to sacreBLEU, with statistics counted in vectorised numpy.

sacreBLEU's tokenizers are used as they are (so the tokens are identical); the n-gram counting
that sacreBLEU does with a Python ``Counter`` per sentence runs over the whole corpus at once
(`tuneval.metrics._ngrams`). Per-example statistics are sacreBLEU's:
``[hyp_len, ref_len, correct_1..N, total_1..N]``, so bootstrap and paired tests resample them.
`aggregate` re-implements ``BLEU.compute_bleu`` over rows of summed statistics, operation for
operation, so that it equals sacreBLEU for every smoothing method.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np

from tuneval.metrics import _ngrams
from tuneval.metrics.base import FloatArray, Metric, register_metric

Smoothing = Literal["none", "floor", "add-k", "exp"]
_SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1.0, "exp": None}
# sacreBLEU's log of a zero precision: a huge negative number instead of -inf.
_LOG_ZERO = -9999999999.0


def closest_ref_lengths(hyp_len: np.ndarray, ref_len: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """sacreBLEU's reference length per example: the closest, the shorter one on ties."""
    out = np.zeros(hyp_len.size, dtype=np.int64)
    if owner.size == 0:
        return out
    diff = np.abs(hyp_len[owner] - ref_len)
    order = np.lexsort((ref_len, diff, owner))  # by owner, then diff, then length
    first = np.ones(order.size, dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    out[owner[order][first]] = ref_len[order][first]
    return out


@register_metric
class Bleu(Metric):
    """Corpus BLEU, equal to sacreBLEU's ``BLEU(...).corpus_score`` with the same options.

    Args:
        tokenize: A sacreBLEU tokenizer: 13a (default), none, intl, char, zh, or ja-mecab /
            ko-mecab / spm / flores101 / flores200 when their dependencies are installed.
        lowercase: Lowercase hypotheses and references first.
        smooth_method: none, floor, add-k or exp (sacreBLEU's default).
        smooth_value: The value for floor (default 0.1) and add-k (default 1).
        max_ngram_order: Highest n-gram order (default 4).
        effective_order: Leave out orders with no n-grams (meant for sentence-level BLEU).
    """

    name = "bleu"
    description = "corpus BLEU, identical to sacreBLEU (0-100), with its signature"
    score_range = (0.0, 100.0)

    def __init__(
        self,
        *,
        tokenize: str = "13a",
        lowercase: bool = False,
        smooth_method: Smoothing = "exp",
        smooth_value: float | None = None,
        max_ngram_order: int = 4,
        effective_order: bool = False,
    ) -> None:
        from tuneval.errors import MetricError

        if not 1 <= max_ngram_order <= 9:
            raise MetricError(
                f"bleu: max_ngram_order must be between 1 and 9, got {max_ngram_order}"
            )
        self.tokenize = tokenize
        self.lowercase = lowercase
        self.smooth_method = smooth_method
        self.smooth_value = smooth_value
        self.max_ngram_order = max_ngram_order
        self.effective_order = effective_order
        self.num_refs = 1
        self._sacrebleu  # noqa: B018  (fail now on an unknown tokenizer, not mid-run)

    @cached_property
    def _sacrebleu(self) -> Any:
        """sacreBLEU's own BLEU object: its tokenizer, its signature."""
        from sacrebleu.metrics.bleu import BLEU

        from tuneval.errors import MetricError

        try:
            return BLEU(
                tokenize=self.tokenize,
                lowercase=self.lowercase,
                smooth_method=self.smooth_method,
                smooth_value=self.smooth_value,
                max_ngram_order=self.max_ngram_order,
                effective_order=self.effective_order,
                force=True,
            )
        except (KeyError, ImportError, RuntimeError) as exc:
            known = "13a, none, intl, char, zh, ja-mecab, ko-mecab, spm, flores101, flores200"
            raise MetricError(
                f"bleu: tokenizer {self.tokenize!r} is unavailable ({exc!s}); known: {known}"
            ) from None

    @property
    def score_names(self) -> list[str]:
        """The corpus BLEU score."""
        return ["bleu"]

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        preprocess = self._sacrebleu._preprocess_segment
        return [preprocess(t).split() for t in texts]

    def statistics(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """sacreBLEU's per-sentence statistics ``[hyp_len, ref_len, correct.., total..]``."""
        order = self.max_ngram_order
        n = len(predictions)
        counts = {len(r) for r in references}
        self.num_refs = counts.pop() if len(counts) == 1 else -1
        owner = np.repeat(np.arange(n), [len(r) for r in references])
        flat_refs = [r for refs in references for r in refs]
        # One vocabulary for hypotheses and references: segments 0..n-1 are the hypotheses.
        segments = _ngrams.from_tokens(self._tokens([*predictions, *flat_refs]))
        hyp_len, ref_len = segments.lengths[:n], segments.lengths[n:]
        tables = _ngrams.ngram_counts(segments, order)
        stats = np.zeros((n, 2 + 2 * order))
        stats[:, 0] = hyp_len
        stats[:, 1] = closest_ref_lengths(hyp_len, ref_len, owner)
        for k, table in enumerate(tables):
            is_hyp = table.seg < n
            ref_max = _ref_max(table, ~is_hyp, owner, n)
            clipped = np.minimum(
                table.count[is_hyp], _ngrams.lookup(ref_max, table.seg[is_hyp], table.gram[is_hyp])
            )
            stats[:, 2 + k] = np.bincount(table.seg[is_hyp], weights=clipped, minlength=n)
            stats[:, 2 + order + k] = np.maximum(hyp_len - k, 0)
        return stats

    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        """Vectorised ``BLEU.compute_bleu`` over rows of summed statistics."""
        return {
            "bleu": bleu_from_stats(
                totals,
                self.max_ngram_order,
                self.smooth_method,
                self.smooth_value,
                self.effective_order,
            )
        }

    def per_example(self, stats: FloatArray) -> dict[str, FloatArray]:
        """Sentence BLEU as sacreBLEU's ``sentence_score`` (effective order, same smoothing)."""
        return {
            "bleu": bleu_from_stats(
                stats, self.max_ngram_order, self.smooth_method, self.smooth_value, True
            )
        }

    def signature_fields(self) -> dict[str, str]:
        """sacreBLEU's own signature fields (nrefs, case, eff, tok, smooth, version)."""
        return _ngrams.sacrebleu_signature(self._sacrebleu, self.num_refs)


def _ref_max(
    table: _ngrams.NgramCounts, is_ref: np.ndarray, owner: np.ndarray, n_hyp: int
) -> _ngrams.NgramCounts:
    """Per (example, n-gram): the largest count over the example's references."""
    seg = owner[table.seg[is_ref] - n_hyp]
    key = (seg << table.shift) | table.gram[is_ref]
    order = np.argsort(key, kind="stable")
    key, count = key[order], table.count[is_ref][order]
    if key.size == 0:
        return _ngrams.NgramCounts(key, key, count, table.shift)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    unique = key[starts]
    mask = (np.int64(1) << table.shift) - 1
    return _ngrams.NgramCounts(
        unique >> table.shift, unique & mask, np.maximum.reduceat(count, starts), table.shift
    )


def bleu_from_stats(
    stats: FloatArray,
    order: int,
    smooth_method: str,
    smooth_value: float | None,
    effective_order: bool,
) -> FloatArray:
    """BLEU of each row of ``stats``, following sacreBLEU's ``compute_bleu`` step by step."""
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth_method]
    smooth = 0.0 if smooth_value is None else float(smooth_value)  # None only where unused
    sys_len, ref_len = stats[:, 0], stats[:, 1]
    correct = stats[:, 2 : 2 + order].copy()
    total = stats[:, 2 + order : 2 + 2 * order].copy()
    rows = stats.shape[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bp = np.where(
            sys_len < ref_len,
            np.where(sys_len > 0, np.exp(1 - ref_len / np.where(sys_len > 0, sys_len, 1)), 0.0),
            1.0,
        )
        precisions = np.zeros((rows, order))
        active = np.ones(rows, dtype=bool)  # False once an order with no n-grams is reached
        eff = np.full(rows, float(order))
        mteval = np.ones(rows)
        for k in range(order):
            if smooth_method == "add-k" and k > 0:
                correct[:, k] += smooth
                total[:, k] += smooth
            active &= total[:, k] != 0
            if effective_order:
                eff = np.where(active, k + 1.0, eff)
            zero = correct[:, k] == 0
            if smooth_method == "exp":
                mteval = np.where(active & zero, mteval * 2, mteval)
                smoothed = 100.0 / (mteval * total[:, k])
            elif smooth_method == "floor":
                smoothed = 100.0 * smooth / total[:, k]
            else:
                smoothed = np.zeros(rows)
            value = np.where(zero, smoothed, 100.0 * correct[:, k] / total[:, k])
            precisions[:, k] = np.where(active, value, 0.0)
        log_sum = np.zeros(rows)
        for k in range(order):
            p = precisions[:, k]
            logged = np.where(p == 0, _LOG_ZERO, np.log(np.where(p == 0, 1.0, p)))
            log_sum = np.where(k < eff, log_sum + logged, log_sum)
        score = bp * np.exp(log_sum / eff)
    # sacreBLEU stops early with 0 when no n-gram of any order matched.
    no_match = ~np.any(stats[:, 2 : 2 + order] != 0, axis=1)
    return np.where(no_match, 0.0, score)
