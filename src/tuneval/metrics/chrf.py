"""chrF and chrF++ identical to sacreBLEU's ``CHRF``, counted in vectorised numpy.

Per example the statistics are sacreBLEU's: for each character order and then each word order,
``[hypothesis n-grams, reference n-grams, matches]`` against the reference with the best
sentence-level chrF (the first one on ties). Characters become Unicode code points in one flat
array, so character n-grams of the whole corpus are counted at once (`tuneval.metrics._ngrams`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tuneval.metrics import _ngrams
from tuneval.metrics.base import FloatArray, Metric, register_metric

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def split_punctuation(sentence: str) -> list[str]:
    """chrF++ words: one leading or trailing punctuation mark split off each word."""
    words: list[str] = []
    for word in sentence.split():
        if len(word) > 1 and word[-1] in _PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def _order_stats(
    segments: _ngrams.Segments, max_order: int, n_hyp: int, owner: np.ndarray
) -> list[np.ndarray]:
    """For each order, a ``(n_refs, 3)`` array of [hyp, ref, match] counts per reference."""
    out = []
    n_refs = owner.size
    for table in _ngrams.ngram_counts(segments, max_order):
        is_hyp = table.seg < n_hyp
        hyp_table = _ngrams.NgramCounts(
            table.seg[is_hyp], table.gram[is_hyp], table.count[is_hyp], table.shift
        )
        ref_seg = table.seg[~is_hyp] - n_hyp
        ref_count = table.count[~is_hyp]
        in_hyp = _ngrams.lookup(hyp_table, owner[ref_seg], table.gram[~is_hyp])
        hyp_total = np.bincount(hyp_table.seg, weights=hyp_table.count, minlength=n_hyp)
        ref_total = np.bincount(ref_seg, weights=ref_count, minlength=n_refs)
        match = np.bincount(ref_seg, weights=np.minimum(ref_count, in_hyp), minlength=n_refs)
        # sacreBLEU counts the hypothesis n-grams as 0 when the reference has none.
        hyp_seen = np.where(ref_total > 0, hyp_total[owner], 0.0)
        out.append(np.column_stack([hyp_seen, ref_total, match]))
    return out


@register_metric
class Chrf(Metric):
    """chrF / chrF++, equal to sacreBLEU's ``CHRF(...).corpus_score`` with the same options.

    Args:
        char_order: Character n-gram order (default 6).
        word_order: Word n-gram order; 2 gives chrF++ (default 0).
        beta: Weight of recall relative to precision (default 2).
        lowercase: Compare case-insensitively.
        whitespace: Keep whitespace inside character n-grams.
        eps_smoothing: Epsilon smoothing as in chrF++.py, NLTK and Moses (default: off, as in
            sacreBLEU >= 2).
    """

    name = "chrf"
    description = "chrF / chrF++ (word_order=2), identical to sacreBLEU (0-100)"
    score_range = (0.0, 100.0)

    def __init__(
        self,
        *,
        char_order: int = 6,
        word_order: int = 0,
        beta: int = 2,
        lowercase: bool = False,
        whitespace: bool = False,
        eps_smoothing: bool = False,
    ) -> None:
        from tuneval.errors import MetricError

        if char_order < 1 or word_order < 0 or beta < 0:
            raise MetricError("chrf: char_order must be >= 1, word_order >= 0 and beta >= 0")
        self.char_order = char_order
        self.word_order = word_order
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.eps_smoothing = eps_smoothing
        self.num_refs = 1

    @property
    def score_names(self) -> list[str]:
        """The chrF score."""
        return ["chrf"]

    def statistics(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """sacreBLEU's chrF statistics against each example's best reference."""
        n = len(predictions)
        counts = {len(r) for r in references}
        self.num_refs = counts.pop() if len(counts) == 1 else -1
        owner = np.repeat(np.arange(n), [len(r) for r in references])
        texts = [*predictions, *(r for refs in references for r in refs)]
        if self.lowercase:
            texts = [t.lower() for t in texts]
        chars = texts if self.whitespace else ["".join(t.split()) for t in texts]
        per_order = _order_stats(_ngrams.from_characters(chars), self.char_order, n, owner)
        if self.word_order:
            words = _ngrams.from_tokens([split_punctuation(t) for t in texts])
            per_order += _order_stats(words, self.word_order, n, owner)
        per_ref = np.hstack(per_order) if owner.size else np.zeros((0, 3 * self._orders))
        return _best_reference(per_ref, self._f_scores(per_ref), owner, n)

    @property
    def _orders(self) -> int:
        return self.char_order + self.word_order

    def _f_scores(self, stats: FloatArray) -> FloatArray:
        """sacreBLEU's ``_compute_f_score`` for each row, operation for operation."""
        eps = 1e-16
        factor = self.beta**2
        rows = stats.shape[0]
        score, avg_prec, avg_rec, effective = (np.zeros(rows) for _ in range(4))
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(self._orders):
                n_hyp, n_ref, n_match = stats[:, 3 * i], stats[:, 3 * i + 1], stats[:, 3 * i + 2]
                prec = np.where(n_hyp > 0, n_match / n_hyp, eps)
                rec = np.where(n_ref > 0, n_match / n_ref, eps)
                denom = factor * prec + rec
                score = score + np.where(denom > 0, (1 + factor) * prec * rec / denom, eps)
                both = (n_hyp > 0) & (n_ref > 0)
                avg_prec = np.where(both, avg_prec + prec, avg_prec)
                avg_rec = np.where(both, avg_rec + rec, avg_rec)
                effective += both
            if self.eps_smoothing:
                return 100 * score / self._orders
            avg_prec = np.where(effective > 0, avg_prec / effective, 0.0)
            avg_rec = np.where(effective > 0, avg_rec / effective, 0.0)
            total = avg_prec + avg_rec
            f = (1 + factor) * avg_prec * avg_rec / ((factor * avg_prec) + avg_rec)
            return np.where(total != 0, 100 * f, 0.0)

    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        """chrF from summed statistics, as sacreBLEU's corpus score."""
        return {"chrf": self._f_scores(totals)}

    def signature_fields(self) -> dict[str, str]:
        """sacreBLEU's chrF signature fields."""
        from sacrebleu.metrics.chrf import CHRF

        options = ("char_order", "word_order", "beta", "lowercase", "whitespace", "eps_smoothing")
        sig = CHRF(**{name: getattr(self, name) for name in options})
        return _ngrams.sacrebleu_signature(sig, self.num_refs)


def _best_reference(
    per_ref: FloatArray, f_scores: FloatArray, owner: np.ndarray, n: int
) -> FloatArray:
    """Each example's statistics against its best-scoring reference (first on ties)."""
    stats = np.zeros((n, per_ref.shape[1]))
    if owner.size == 0:
        return stats
    # Sort by example, then by descending score, then by position: the first row of each
    # example is sacreBLEU's choice (a later reference replaces it only if strictly better).
    order = np.lexsort((np.arange(owner.size), -f_scores, owner))
    first = np.ones(order.size, dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    stats[owner[order][first]] = per_ref[order][first]
    return stats
