"""Report records of a contamination check, and how shard results become them."""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import Field

from tuneval.contamination.index import EvalIndex
from tuneval.contamination.scan import MAX_LOCATIONS, ShardResult
from tuneval.contamination.semantic import SemanticReport
from tuneval.records import Record


class ExampleOverlap(Record):
    """Overlap of one eval example with the training data."""

    id: str
    """The eval example's id."""
    category: str | None = None
    """Its category, if the eval set has them."""
    ngrams: int
    """Number of n-grams of the example (1 if it is checked whole, 0 if it has no token)."""
    matched: int
    """How many of them occur in the training data (verified on the tokens)."""
    overlap: float
    """``matched / ngrams`` (0 when the example has no n-gram)."""
    flagged: bool
    """True when ``overlap > threshold`` (with threshold 0: any match)."""
    whole: bool = False
    """True when the example has fewer than n tokens and was checked as a whole: it matches
    where all its tokens occur contiguously in one training record."""
    spans: list[str] = Field(default_factory=list)
    """Maximal runs of matched n-grams, as normalised text."""
    found_in: list[str] = Field(default_factory=list)
    """Where matches were found (``file:line``, first few)."""


class ContaminationReport(Record):
    """Result of ``tuneval contamination``."""

    n: int
    """N-gram length."""
    threshold: float
    """Examples with an overlap above this are flagged."""
    train: list[str]
    """Training sources as given."""
    eval: str
    """The eval set."""
    total: int
    """Number of eval examples."""
    contaminated: int
    """Number of flagged examples."""
    checked_whole: int = 0
    """Examples with fewer than n tokens, checked as a whole (see `ExampleOverlap.whole`)."""
    no_text: int = 0
    """Examples without a single token (nothing to check; never flagged)."""
    by_category: dict[str, list[int]] = Field(default_factory=dict)
    """Category -> [flagged, total], when the eval set has categories."""
    records_scanned: int = 0
    """Training records read."""
    bytes_scanned: int = 0
    """Training bytes read (uncompressed)."""
    bad_records: int = 0
    """Records or files that could not be read (skipped, which only ``skip_bad`` allows)."""
    problems: list[str] = Field(default_factory=list)
    """The first unreadable records, as ``file:line: reason``."""
    examples: list[ExampleOverlap] = Field(default_factory=list)
    """Every eval example, in eval-set order."""
    removed: list[str] = Field(default_factory=list)
    """Ids left out of the cleaned eval set (``--write-clean``): n-gram overlap, or a
    judge-confirmed rephrasing found by the semantic scan."""
    semantic: SemanticReport | None = None
    """The semantic (paraphrase) scan, when it ran (``--semantic``)."""


def spans(toks: list[str], positions: list[int], n: int) -> list[str]:
    """Join overlapping matched n-grams at `positions` (sorted) into maximal token runs."""
    out: list[str] = []
    start = end = -1
    for p in positions:
        if p > end:
            if end >= 0:
                out.append(" ".join(toks[start:end]))
            start = p
        end = max(end, p + n)
    if end >= 0:
        out.append(" ".join(toks[start:end]))
    return out


def file_lines(results: list[ShardResult]) -> list[int]:
    """Line offset of every shard within its file (byte-range shards of one file follow on)."""
    offsets, seen = [], Counter[str]()
    for res in results:
        offsets.append(seen[res.shard.path])
        seen[res.shard.path] += res.lines
    return offsets


def build_report(
    index: EvalIndex,
    ids: list[str],
    categories: list[str | None],
    results: list[ShardResult],
    *,
    threshold: float,
    train: list[str],
    eval_path: str,
) -> ContaminationReport:
    """Merge shard results (OR of matches, first locations in shard order) into a report."""
    matched = np.zeros(index.n_postings, bool)
    where: dict[int, list[str]] = {}
    for res, offset in zip(results, file_lines(results), strict=False):
        matched[res.matched] = True
        unit = "record" if res.shard.fmt in ("json", "parquet", "hf") else "line"
        for ex, lines in res.locations.items():
            keep = where.setdefault(ex, [])
            for line in lines:
                loc = (
                    f"{res.shard.path}:{line + offset}"
                    if unit == "line"
                    else (f"{res.shard.path} record {line}")
                )
                if len(keep) < MAX_LOCATIONS and loc not in keep:
                    keep.append(loc)
    per_ex: dict[int, list[int]] = {}
    for post in np.flatnonzero(matched).tolist():
        per_ex.setdefault(int(index.post_ex[post]), []).append(int(index.post_pos[post]))
    examples = []
    for i, ex_id in enumerate(ids):
        total = index.ngram_count(i)
        pos = sorted(per_ex.get(i, []))
        overlap = len(pos) / total if total else 0.0
        examples.append(
            ExampleOverlap(
                id=ex_id,
                category=categories[i],
                ngrams=total,
                matched=len(pos),
                overlap=overlap,
                flagged=bool(pos) and overlap > threshold,
                whole=index.whole(i),
                spans=spans(index.tokens[i], pos, index.n),
                found_in=where.get(i, []),
            )
        )
    by_cat: dict[str, list[int]] = {}
    if any(c is not None for c in categories):
        for e in examples:
            counts = by_cat.setdefault(e.category or "(none)", [0, 0])
            counts[0] += e.flagged
            counts[1] += 1
    problems = [p for r in results for p in r.problems]
    return ContaminationReport(
        n=index.n,
        threshold=threshold,
        train=train,
        eval=eval_path,
        total=len(examples),
        contaminated=sum(e.flagged for e in examples),
        checked_whole=sum(e.whole for e in examples),
        no_text=sum(not t for t in index.tokens),
        by_category=by_cat,
        records_scanned=sum(r.records for r in results),
        bytes_scanned=sum(r.nbytes for r in results),
        bad_records=len(problems),
        problems=[str(p) for p in problems[:50]],
        examples=examples,
    )
