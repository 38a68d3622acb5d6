"""One shard of the semantic scan: embed its records, keep each eval item's top-k of them.

A shard (a file, or a byte range of a large JSONL/text file) is the unit of work both in
process and on Ray, so the two paths embed exactly the same batches of records: a sentence
encoder pads each batch to its longest text, and other batch boundaries would change the
similarities in their last bits. Per-shard top-k lists are then merged in shard order with
the same tie-break (higher similarity, then the earlier record), which gives exactly the top-k
of the whole training set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np

from tuneval.contamination.formats import Sink, batches
from tuneval.contamination.sources import Problem, Shard

if TYPE_CHECKING:
    from tuneval.contamination.embedder import Encoder
    from tuneval.contamination.semantic import SemanticMatch

SHARD_BYTES = 8 << 20
"""Byte range of a large file that one task embeds: about 30k records of 40 words, a few
minutes on one core, so a cluster's CPUs share even a single big file."""
KEEP_CHARS = 1000
"""Characters of a matched training text kept in the report (enough to judge and to show)."""


class TopK:
    """The `k` most similar training records per eval item, updated batch by batch.

    Scores below `floor` never enter. Among equal scores the lower record number wins, so
    the result does not depend on how the records were batched or sharded. Record texts are
    kept only while some eval item still holds them, so memory is bounded by ``items * k``
    texts whatever the training size. ``kept`` maps a record number to (where, text).
    """

    def __init__(self, n_eval: int, k: int, floor: float) -> None:
        self.k, self.floor = k, floor
        self.scores = np.full((n_eval, k), -np.inf, np.float32)
        self.ids = np.full((n_eval, k), -1, np.int64)
        self.kept: dict[int, tuple[object, str]] = {}

    def add(self, sims: np.ndarray, first: int, where: list[object], texts: list[str]) -> None:
        """Merge the similarities (eval x batch) of records numbered ``first, first + 1, ...``."""
        ids = np.broadcast_to(first + np.arange(sims.shape[1], dtype=np.int64), sims.shape)
        self._take(sims, ids, lambda r: (where[r - first], texts[r - first][:KEEP_CHARS]))

    def merge(self, other: TopK, first: int, place: Callable[[object], str]) -> None:
        """Merge `other`'s entries, its record numbers shifted by `first`, `place` naming them."""
        ids = np.where(other.ids >= 0, other.ids + first, -1)

        def keep(r: int) -> tuple[object, str]:
            where, text = other.kept[r - first]
            return place(where), text

        self._take(other.scores, ids, keep)

    def _take(
        self, sims: np.ndarray, ids: np.ndarray, keep: Callable[[int], tuple[object, str]]
    ) -> None:
        # Only rows where some record reaches both the floor and the row's current k-th best.
        bar = np.maximum(self.scores.min(axis=1), np.float32(self.floor))
        rows = np.flatnonzero((sims >= bar[:, None]).any(axis=1))
        if rows.size == 0:
            return
        sub = np.where(sims[rows] >= self.floor, sims[rows], -np.inf)
        all_s = np.concatenate([self.scores[rows], sub], axis=1)
        all_i = np.concatenate([self.ids[rows], ids[rows]], axis=1)
        # Ties go to the lower record number (empty slots, -inf, sort last).
        top = np.lexsort((np.where(all_i < 0, np.iinfo(np.int64).max, all_i), -all_s))
        top = top[:, : self.k]
        old = set(self.ids[rows].ravel().tolist())
        self.scores[rows] = np.take_along_axis(all_s, top, axis=1)
        self.ids[rows] = np.where(
            np.isfinite(self.scores[rows]), np.take_along_axis(all_i, top, axis=1), -1
        )
        for rid in set(self.ids[rows].ravel().tolist()) - old - {-1}:
            if rid not in self.kept:
                self.kept[rid] = keep(rid)
        if len(self.kept) > 2 * self.ids.size + 1024:
            live = set(self.ids[self.ids >= 0].tolist())
            self.kept = {r: v for r, v in self.kept.items() if r in live}

    def matches(self, row: int) -> list[SemanticMatch]:
        """The matches of eval item `row`, most similar first (ties: earlier record first)."""
        from tuneval.contamination.semantic import SemanticMatch

        pairs = [
            (float(s), int(r))
            for s, r in zip(self.scores[row], self.ids[row], strict=True)
            if r >= 0 and np.isfinite(s)
        ]
        pairs.sort(key=lambda p: (-p[0], p[1]))
        return [
            SemanticMatch(
                similarity=round(s, 4), found_in=str(self.kept[r][0]), text=self.kept[r][1]
            )
            for s, r in pairs
        ]


@dataclass
class ShardTop:
    """What one shard contributes: its top-k (shard-local record and line numbers)."""

    shard: Shard
    best: TopK
    records: int = 0
    """Records embedded."""
    lines: int = 0
    """Lines read (line-based formats), to number the lines of the next range of the file."""
    problems: list[Problem] = field(default_factory=list)
    """Unreadable records, with shard-local line numbers."""


@dataclass(frozen=True)
class ShardOptions:
    """How every shard is embedded and which records are kept (the same for all shards)."""

    top_k: int
    """Records kept per eval item."""
    floor: float
    """Lowest cosine similarity kept."""
    fields: list[str] | None = None
    """Training fields that form the text (None: all string fields)."""
    strict: bool = False
    """Raise at the first unreadable record."""
    batch_records: int = 256
    """Records embedded at a time."""


def embed_shard(
    shard: Shard,
    eval_vecs: np.ndarray,
    encoder: Encoder,
    options: ShardOptions,
    progress: Callable[[int], None] | None = None,
) -> ShardTop:
    """Embed the records of `shard` in batches and keep each eval item's top-k of them.

    Args:
        shard: The piece of training data.
        eval_vecs: Unit-length eval embeddings (items x dimension).
        encoder: The embedding model.
        options: Top-k, floor, fields, strictness and batch size.
        progress: Called with the number of records of every embedded batch.
    """
    out = ShardTop(shard, TopK(eval_vecs.shape[0], options.top_k, options.floor))
    sink = Sink(out.problems, options.strict)
    texts: list[str] = []
    where: list[object] = []

    def flush() -> None:
        vecs = encoder.encode(texts)
        out.best.add(eval_vecs @ vecs.T, out.records, where, texts)
        out.records += len(texts)
        if progress:
            progress(len(texts))
        texts.clear()
        where.clear()

    for batch in batches(shard, options.fields, sink):
        out.lines = max(out.lines, batch.end_line, batch.lines[-1] if batch.lines else 0)
        for text, line in zip(batch.texts, batch.lines, strict=True):
            texts.append(text)
            where.append(line)
            if len(texts) >= options.batch_records:
                flush()
    if texts:
        flush()
    return out


def merge_shards(tops: list[ShardTop], n_eval: int, k: int, floor: float) -> ShardTop:
    """The top-k over all shards (in shard order), with ``file:line`` or ``file record N``.

    Returns:
        A `ShardTop` of the whole training set: global record numbers, every problem with
        its line in the file.
    """
    total = ShardTop(Shard("", ""), TopK(n_eval, k, floor))
    offsets: Counter[str] = Counter()
    for top in tops:
        path, offset = top.shard.path, offsets[top.shard.path]
        total.best.merge(top.best, total.records, _placer(top.shard.fmt, path, offset))
        total.problems += [Problem(p.path, p.line + offset, p.message) for p in top.problems]
        total.records += top.records
        offsets[path] += top.lines
    return total


def _placer(fmt: str, path: str, offset: int) -> Callable[[object], str]:
    """How a shard's record is named: its line in the file, or its number in a whole file."""
    if fmt in ("json", "parquet", "hf"):
        return lambda n: f"{path} record {n}"
    return lambda n: f"{path}:{cast(int, n) + offset}"
