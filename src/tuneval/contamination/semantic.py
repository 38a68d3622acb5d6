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
from collections import Counter
from collections.abc import Callable

import numpy as np
from pydantic import Field

from tuneval.contamination.embedder import Encoder
from tuneval.contamination.formats import Sink, batches
from tuneval.contamination.sources import Problem, plan
from tuneval.errors import DataError
from tuneval.records import Record

KEEP_CHARS = 1000
"""Characters of a matched training text kept in the report (enough to judge and to show)."""
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


class TopK:
    """The `k` most similar training records per eval item, updated batch by batch.

    Scores below `floor` never enter. Record texts are kept only while some eval item still
    holds them, so memory is bounded by ``items * k`` texts whatever the training size.
    """

    def __init__(self, n_eval: int, k: int, floor: float) -> None:
        self.k, self.floor = k, floor
        self.scores = np.full((n_eval, k), -np.inf, np.float32)
        self.ids = np.full((n_eval, k), -1, np.int64)
        self.kept: dict[int, tuple[str, str]] = {}

    def add(self, sims: np.ndarray, first: int, where: list[str], texts: list[str]) -> None:
        """Merge the similarities (eval x batch) of records numbered ``first, first + 1, ...``."""
        # Only rows where some record beats both the floor and the row's current k-th best.
        bar = np.maximum(self.scores.min(axis=1), np.float32(self.floor))
        rows = np.flatnonzero((sims >= bar[:, None]).any(axis=1))
        if rows.size == 0:
            return
        sub = np.where(sims[rows] >= self.floor, sims[rows], -np.inf)
        ids = np.broadcast_to(first + np.arange(sims.shape[1]), sub.shape)
        all_s = np.concatenate([self.scores[rows], sub], axis=1)
        all_i = np.concatenate([self.ids[rows], ids], axis=1)
        top = np.argpartition(-all_s, self.k - 1, axis=1)[:, : self.k]
        self.scores[rows] = np.take_along_axis(all_s, top, axis=1)
        self.ids[rows] = np.take_along_axis(all_i, top, axis=1)
        for rid in np.unique(self.ids[rows][self.ids[rows] >= first]).tolist():
            self.kept[rid] = (where[rid - first], texts[rid - first][:KEEP_CHARS])
        if len(self.kept) > 2 * self.ids.size + 1024:
            live = set(self.ids[self.ids >= 0].tolist())
            self.kept = {r: v for r, v in self.kept.items() if r in live}

    def matches(self, row: int) -> list[SemanticMatch]:
        """The matches of eval item `row`, most similar first (ties: earlier record first)."""
        pairs = [
            (float(s), int(r))
            for s, r in zip(self.scores[row], self.ids[row], strict=True)
            if r >= 0 and np.isfinite(s)
        ]
        pairs.sort(key=lambda p: (-p[0], p[1]))
        return [
            SemanticMatch(similarity=round(s, 4), found_in=self.kept[r][0], text=self.kept[r][1])
            for s, r in pairs
        ]


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
        progress: Called with the number of records embedded after every batch.

    Returns:
        The report, one entry per eval item, without judge verdicts.

    Raises:
        DataError: No training file or record, or (without `skip_bad`) unreadable records.
    """
    if top_k < 1 or not 0 < floor <= 1:
        raise ValueError("top_k must be >= 1 and floor in (0, 1]")
    shards = plan(train)
    if not shards:
        raise DataError("no training file found (an empty directory?)", path=", ".join(train))
    eval_vecs = encoder.encode(texts)
    eval_vecs[[i for i, t in enumerate(texts) if not t.strip()]] = 0.0
    best = TopK(len(texts), top_k, floor)
    problems: list[Problem] = []
    sink = Sink(problems, strict)
    offsets: Counter[str] = Counter()
    count, start = 0, time.perf_counter()
    pending_t: list[str] = []
    pending_w: list[str] = []

    def flush() -> None:
        nonlocal count
        vecs = encoder.encode(pending_t)
        best.add(eval_vecs @ vecs.T, count, pending_w, pending_t)
        count += len(pending_t)
        pending_t.clear()
        pending_w.clear()
        if progress:
            progress(count)

    for shard in shards:
        unit_line = shard.fmt not in ("json", "parquet", "hf")
        offset = offsets[shard.path]
        lines = 0
        for batch in batches(shard, fields, sink):
            lines = max(lines, batch.end_line, batch.lines[-1] if batch.lines else 0)
            for text, line in zip(batch.texts, batch.lines, strict=True):
                pending_t.append(text)
                pending_w.append(
                    f"{shard.path}:{line + offset}" if unit_line else f"{shard.path} record {line}"
                )
                if len(pending_t) >= batch_records:
                    flush()
        offsets[shard.path] += lines
    if pending_t:
        flush()
    _require_readable(count, problems, train, skip_bad)
    examples = [
        SemanticExample(id=ex_id, text=text[:KEEP_CHARS], matches=best.matches(i))
        for i, (ex_id, text) in enumerate(zip(ids, texts, strict=True))
    ]
    return SemanticReport(
        model=encoder.name,
        top_k=top_k,
        floor=floor,
        records_embedded=count,
        seconds=round(time.perf_counter() - start, 3),
        candidates=sum(bool(e.matches) for e in examples),
        examples=examples,
    )


def _require_readable(count: int, problems: list[Problem], train: list[str], skip: bool) -> None:
    """An unread training set is never reported as free of paraphrases."""
    first = "; ".join(str(p) for p in problems[:3])
    if count == 0:
        why = f" (first: {first})" if first else " (empty)"
        raise DataError(f"no training record could be read{why}", path=", ".join(train))
    if problems and not skip:
        raise DataError(
            f"{len(problems)} training record(s) could not be read, first: {first}; fix them, "
            "or pass --skip-bad (contamination.skip_bad in a config) to scan the rest"
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
