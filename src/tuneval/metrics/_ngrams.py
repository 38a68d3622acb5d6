"""Exact, vectorised n-gram counting over a whole corpus at once.

Corpus metrics spend their time counting clipped n-gram matches. Reference implementations do
it with a Python ``Counter`` per sentence and per order; here every text of the batch becomes a
*segment* of one flat integer array, and n-grams of each order get compact integer ids by
repeated ``np.unique`` over (id of the (n-1)-gram, next token) pairs. Counting and clipping are
then sorts and searches over integer keys. Nothing is hashed lossily, so the counts are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


def sacrebleu_signature(metric: Any, num_refs: int) -> dict[str, str]:
    """The fields of a sacreBLEU metric object's signature, e.g. ``{"nrefs": "1", ...}``.

    Args:
        metric: A sacreBLEU ``BLEU`` or ``CHRF`` object with the options in use.
        num_refs: References per segment (-1 when it varies), as sacreBLEU records it.
    """
    metric.num_refs = num_refs
    text = metric.get_signature().format()
    return dict(part.split(":", 1) for part in text.split("|"))


@dataclass(frozen=True)
class Segments:
    """A batch of token sequences flattened into one array.

    Attributes:
        ids: Token ids, all segments concatenated.
        seg: For each token, the index of its segment.
        lengths: Number of tokens of each segment.
    """

    ids: IntArray
    seg: IntArray
    lengths: IntArray

    @property
    def count(self) -> int:
        """Number of segments."""
        return int(self.lengths.size)


def from_tokens(token_lists: Sequence[Sequence[str]]) -> Segments:
    """Flatten token lists, mapping each distinct token to an integer id."""
    vocab: dict[str, int] = {}
    lengths = np.fromiter(map(len, token_lists), np.int64, len(token_lists))
    # setdefault on a dict is a C-level call per token: no Python frame per token.
    get = vocab.setdefault
    flat = chain.from_iterable(token_lists)
    ids = np.fromiter((get(t, len(vocab)) for t in flat), np.int64, int(lengths.sum()))
    return Segments(ids, np.repeat(np.arange(lengths.size), lengths), lengths)


def from_characters(texts: Sequence[str]) -> Segments:
    """Flatten texts into arrays of Unicode code points (one token per character)."""
    joined = "".join(texts)
    ids = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    return Segments(ids, np.repeat(np.arange(lengths.size), lengths), lengths)


@dataclass(frozen=True)
class NgramCounts:
    """Distinct (segment, n-gram) pairs of one order with their counts, sorted by segment.

    ``gram`` values are below ``2**shift``, so ``(seg << shift) | gram`` is a sort key.
    """

    seg: IntArray
    gram: IntArray
    count: IntArray
    shift: int


def _bits(n: int) -> int:
    """Bits needed to store the values 0..n-1."""
    return max(1, int(n - 1).bit_length())


def ngram_counts(segments: Segments, max_order: int) -> list[NgramCounts]:
    """Count every n-gram (1 <= n <= max_order) within each segment.

    An n-gram is identified by its tokens' dense ids packed into one integer; when the next
    order would no longer fit in 63 bits together with the segment index, the ids are first
    renumbered densely with ``np.unique``. Either way, equal ids mean equal n-grams.

    Returns:
        One `NgramCounts` per order.
    """
    ids, seg = segments.ids, segments.seg
    total = ids.size
    if total == 0:
        empty = np.zeros(0, np.int64)
        return [NgramCounts(empty, empty, empty, 1) for _ in range(max_order)]
    vocab = np.unique(ids)
    # Dense token ids through a lookup table when ids are small (code points), else a search.
    if vocab[-1] < 1 << 22:
        table = np.zeros(int(vocab[-1]) + 1, np.int64)
        table[vocab] = np.arange(vocab.size)
        dense = table[ids]
    else:
        dense = np.searchsorted(vocab, ids)
    token_bits, seg_bits = _bits(vocab.size), _bits(segments.count)
    gram, width = dense, token_bits  # n-gram ids of the current order and their bit width
    out: list[NgramCounts] = []
    for n in range(1, max_order + 1):
        if n > total:  # longer than all text together: no n-grams of this order or above
            empty = np.zeros(0, np.int64)
            out.append(NgramCounts(empty, empty, empty, width))
            continue
        if n > 1:
            # The id of an n-gram is the pair (id of its (n-1)-gram, its last token), packed.
            gram = (gram[:-1] << token_bits) | dense[n - 1 :]
            width += token_bits
            if width + seg_bits > 63 - token_bits:
                # Renumber densely before the ids outgrow 63 bits with the segment index.
                _, gram = np.unique(gram, return_inverse=True)
                width = _bits(int(gram.max()) + 1)
        valid = seg[: total - n + 1] == seg[n - 1 :]  # the n-gram does not cross segments
        out.append(_count_pairs(seg[: total - n + 1][valid], gram[valid], width, seg_bits))
    return out


def _count_pairs(seg: IntArray, gram: IntArray, shift: int, seg_bits: int) -> NgramCounts:
    if shift + seg_bits > 63:
        raise ValueError(
            "too many n-grams to count in one batch; score the data in smaller batches"
        )
    keys, counts = np.unique((seg << shift) | gram, return_counts=True)
    mask = (np.int64(1) << shift) - 1
    return NgramCounts(keys >> shift, keys & mask, counts.astype(np.int64), shift)


def lookup(table: NgramCounts, owner: IntArray, gram: IntArray) -> IntArray:
    """Counts of ``gram`` in segment ``owner`` (0 where absent), for many pairs at once."""
    if table.seg.size == 0:
        return np.zeros(owner.size, np.int64)
    keys = (table.seg << table.shift) | table.gram
    queries = (owner << table.shift) | gram
    pos = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return np.where(keys[pos] == queries, table.count[pos], 0)
