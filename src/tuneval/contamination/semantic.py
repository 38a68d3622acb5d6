"""Semantic contamination: training records that restate an eval item in other words.

Exact n-grams miss paraphrases (reordered clauses, synonyms, other numbers and names), which
still inflate scores (Yang et al. 2023, "Rethinking Benchmark and Contamination for Language
Models with Rephrased Samples"). This scan embeds the eval items once, streams the training
records through the same readers as the n-gram scan, embeds them in batches, and keeps, per
eval item, the `top_k` most similar training records whose cosine similarity reaches `floor`.
A brute-force product against the (small) eval matrix is exact and needs no ANN index while
the eval set is at most ~100k items. The candidates can then be confirmed by an LLM judge
(`tuneval.contamination.paraphrase_judge`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from tuneval.contamination.semantic_shard import (
    KEEP_CHARS,
    SHARD_BYTES,
    ShardOptions,
    ShardTop,
    TopK,
    embed_shard,
    merge_shards,
)
from tuneval.contamination.sources import Problem, Shard, plan
from tuneval.errors import DataError, setting_hint
from tuneval.records import Record

if TYPE_CHECKING:
    from tuneval.contamination.embedder import Encoder

__all__ = ["KEEP_CHARS", "TopK"]  # re-exported: the shard module holds them
DEFAULT_FLOOR = 0.45
"""Default lowest cosine similarity of a candidate. With all-MiniLM-L6-v2 the planted
paraphrases of bench/semantic.py score 0.47-0.98 with their eval item (edited copies >= 0.89)
while same-topic texts that ask something else mostly stay below 0.5: the floor is set for
recall, and the judge (or a reader) sorts out the candidates above it."""


class SemanticMatch(Record):
    """One training record that is semantically close to an eval item."""

    similarity: float
    """Cosine similarity of the two embeddings (1 = same meaning to the model)."""
    found_in: str
    """Where the training record is: ``file:line`` (or ``file record N``)."""
    text: str
    """The training text (first `KEEP_CHARS` characters)."""
    verdict: bool | None = None
    """The judge's verdict: True when it is a rephrasing of the eval item, False when not,
    None when not judged or unscored."""
    reason: str | None = None
    """The judge's reason, or why the reply could not be used (then `unscored`)."""
    unscored: bool = False
    """True when the judge was asked but its reply could not be parsed (or the call failed)."""


class SemanticExample(Record):
    """The closest training records of one eval item."""

    id: str
    """The eval example's id."""
    text: str
    """The eval text that was embedded (first `KEEP_CHARS` characters)."""
    matches: list[SemanticMatch] = Field(default_factory=list)
    """Up to ``top_k`` training records at or above the floor, most similar first."""

    @property
    def best(self) -> SemanticMatch | None:
        """The most similar training record, if any reached the floor."""
        return self.matches[0] if self.matches else None

    @property
    def confirmed(self) -> bool:
        """True when the judge called at least one match a rephrasing."""
        return any(m.verdict is True for m in self.matches)


class SemanticReport(Record):
    """Result of the semantic scan (``tuneval contamination --semantic``)."""

    model: str
    """The embedding model."""
    top_k: int
    """Matches kept per eval item."""
    floor: float
    """Matches below this cosine similarity are dropped."""
    records_embedded: int = 0
    """Training records embedded."""
    seconds: float = 0.0
    """Wall time of reading and embedding the training data."""
    candidates: int = 0
    """Eval items with at least one match."""
    judge: str | None = None
    """The judge model that verified the matches, if one did."""
    confirmed: int = 0
    """Eval items with a judge-confirmed rephrasing."""
    unscored: int = 0
    """Judge replies that could not be used (those matches have no verdict)."""
    examples: list[SemanticExample] = Field(default_factory=list)
    """Every eval item, in eval-set order."""


def semantic_scan(
    train: list[str],
    ids: list[str],
    texts: list[str],
    encoder: Encoder,
    *,
    top_k: int = 5,
    floor: float = DEFAULT_FLOOR,
    fields: list[str] | None = None,
    batch_records: int = 256,
    strict: bool = False,
    skip_bad: bool = False,
    progress: Callable[[int], None] | None = None,
    ray: str | None = None,
) -> SemanticReport:
    """Find the training records closest in meaning to each eval text.

    Args:
        train: Training files, directories, globs or ``hf:`` datasets (as for `check`).
        ids: Eval item ids.
        texts: Eval item texts (an empty text matches nothing).
        encoder: The embedding model (`SentenceEncoder` for sentence-transformers).
        top_k: Matches kept per eval item.
        floor: Lowest cosine similarity kept (0 < floor <= 1).
        fields: Training fields that form the text (default: all string fields).
        batch_records: Training records embedded and compared at a time.
        strict: Stop at the first unreadable record.
        skip_bad: Go on when records are unreadable instead of raising after the scan.
        progress: Called with the number of records embedded so far (after every batch; on
            Ray after every shard).
        ray: Embed each shard in a Ray task: ``local`` starts a local runtime, ``auto`` or an
            address joins a cluster (`tuneval.contamination.ray_scan.ray_session`; a runtime
            already started in this process is used as it is). The report is the same.

    Returns:
        The report, one entry per eval item, without judge verdicts.

    Raises:
        DataError: No training file or record, or (without `skip_bad`) unreadable records.
    """
    if top_k < 1 or not 0 < floor <= 1:
        raise ValueError("top_k must be >= 1 and floor in (0, 1]")
    shards = plan(train, SHARD_BYTES)
    if not shards:
        raise DataError("no training file found (an empty directory?)", path=", ".join(train))
    eval_vecs = encoder.encode(texts)
    eval_vecs[[i for i, t in enumerate(texts) if not t.strip()]] = 0.0
    start = time.perf_counter()
    options = ShardOptions(top_k, floor, fields, strict, batch_records)
    done = 0

    def embedded(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done)

    if ray is None:
        tops = [embed_shard(shard, eval_vecs, encoder, options, embedded) for shard in shards]
    else:
        tops = _on_ray(ray, shards, eval_vecs, encoder, options, embedded)
    total = merge_shards(tops, len(texts), top_k, floor)
    _require_readable(total.records, total.problems, train, skip_bad)
    examples = [
        SemanticExample(id=ex_id, text=text[:KEEP_CHARS], matches=total.best.matches(i))
        for i, (ex_id, text) in enumerate(zip(ids, texts, strict=True))
    ]
    return SemanticReport(
        model=encoder.name,
        top_k=top_k,
        floor=floor,
        records_embedded=total.records,
        seconds=round(time.perf_counter() - start, 3),
        candidates=sum(bool(e.matches) for e in examples),
        examples=examples,
    )


def _on_ray(
    address: str,
    shards: list[Shard],
    eval_vecs: np.ndarray,
    encoder: Encoder,
    options: ShardOptions,
    embedded: Callable[[int], None],
) -> list[ShardTop]:
    """Every shard embedded in a Ray task (the runtime is joined, or started and stopped)."""
    from tuneval.contamination.ray_scan import ray_session, semantic_ray

    with ray_session(address):
        return semantic_ray(eval_vecs, encoder, shards, options,
                            progress=lambda top: embedded(top.records))  # fmt: skip


def _require_readable(count: int, problems: list[Problem], train: list[str], skip: bool) -> None:
    """An unread training set is never reported as free of paraphrases."""
    first = "; ".join(str(p) for p in problems[:3])
    if count == 0:
        why = f" (first: {first})" if first else " (empty)"
        raise DataError(f"no training record could be read{why}", path=", ".join(train))
    if problems and not skip:
        raise DataError(
            f"{len(problems)} training record(s) could not be read, first: {first}; fix them"
            + setting_hint("skip_bad", ", or use {} to scan the rest")
        )


def semantic_summary(report: SemanticReport, limit: int = 100) -> dict[str, object]:
    """A compact summary for results.json and the reports: no per-item list of every match.

    ``pairs`` holds, per eval item with candidates, its judge-confirmed match (or else its
    best one) side by side with the item; confirmed items first, then by similarity, at most
    `limit` of them.
    """
    head = report.model_dump(exclude={"examples"})
    pairs = []
    for ex in report.examples:
        shown = next((m for m in ex.matches if m.verdict), ex.best)
        if shown is not None:
            pairs.append(
                {"id": ex.id, "eval_text": ex.text, **shown.model_dump(), "confirmed": ex.confirmed}
            )
    pairs.sort(key=lambda p: (not p["confirmed"], -float(p["similarity"])))
    return {**head, "pairs": pairs[:limit]}
