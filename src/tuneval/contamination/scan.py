"""Scan training shards against an `EvalIndex`, in worker processes, and merge the results.

Each shard is scanned on its own and returns a `ShardResult` (which eval n-gram occurrences it
verified, where, and what it could not read); results merge by OR and concatenation, so shards
could as well be scanned on different machines. Every hash hit is re-checked on the tokens of
the training record (`EvalIndex.verify`) before it counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tuneval.contamination import _kernels
from tuneval.contamination.formats import Sink, batches, parse_lines
from tuneval.contamination.index import EvalIndex, pack
from tuneval.contamination.normalize import tokens
from tuneval.contamination.sources import SKIP_KEYS, Batch, Problem, Shard, raw_blocks

MAX_LOCATIONS = 5
"""Locations kept per eval example (the first ones found)."""


@dataclass
class ShardResult:
    """What one shard contributed.

    Attributes:
        shard: The shard scanned.
        matched: Indices of eval postings verified in this shard.
        locations: Example index -> (shard-local line, ...) of the first matches.
        records: Records read.
        nbytes: Bytes of input consumed.
        lines: Lines in the shard (to turn shard-local lines into file lines).
        problems: Unreadable records and files.
        fields_seen: Which of the requested fields some record of the shard has.
    """

    shard: Shard
    matched: np.ndarray
    locations: dict[int, list[int]] = field(default_factory=dict)
    records: int = 0
    nbytes: int = 0
    lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    fields_seen: set[str] = field(default_factory=set)


class _State:
    """Per-process scan state: the index and the stamps of n-grams already settled."""

    def __init__(self, index: EvalIndex) -> None:
        self.index = index
        self.stamp = np.zeros(index.keys.size, np.int32)
        self.chunk = 0
        # A slot is reported at most once per block, with each of its postings at most once.
        cap = max(1, index.distinct, index.n_postings)
        self.out = (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64))


_STATE: _State | None = None


def scan_shard(
    index: EvalIndex, shard: Shard, fields: list[str] | None, strict: bool = False
) -> ShardResult:
    """Scan one shard in this process (see the module docstring)."""
    global _STATE
    if _STATE is None or _STATE.index is not index:
        _STATE = _State(index)
    state = _STATE
    problems: list[Problem] = []
    matched: set[int] = set()
    locations: dict[int, list[int]] = {}
    result = ShardResult(shard, np.zeros(0, np.int64), locations, problems=problems)
    sink = Sink(problems, strict, result.fields_seen)
    if shard.fmt == "jsonl":
        _scan_jsonl(state, shard, fields, sink, result, matched)
    else:
        for batch in batches(shard, fields, sink):
            result.nbytes += batch.nbytes
            result.lines = max(result.lines, batch.end_line)
            _scan_batch(state, batch, result, matched)
    result.matched = np.fromiter(sorted(matched), np.int64, len(matched))
    return result


def _scan_batch(state: _State, batch: Batch, result: ShardResult, matched: set[int]) -> None:
    """Scan record texts with the generic kernel and verify its hits."""
    result.records += len(batch.texts)
    if not batch.texts:
        return
    index = state.index
    state.chunk = state.chunk % 2_000_000_000 + 1
    buf, starts = pack(batch.texts)
    out_rec, out_end, out_uid = state.out
    hits = _kernels.scan(
        buf, starts, index.n, index.short, index.last, index.keys,
        state.stamp, state.chunk, out_rec, out_end, out_uid,
    )  # fmt: skip
    if hits:
        _verify(index, state, batch.texts, batch.lines, out_rec[:hits], out_end[:hits],
                out_uid[:hits], matched, result.locations)  # fmt: skip


def _names(fields: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
    names = [f.encode("utf-8") for f in (fields or sorted(SKIP_KEYS))]
    starts = np.zeros(len(names) + 1, np.int64)
    np.cumsum([len(x) for x in names], out=starts[1:])
    return np.frombuffer(b"".join(names) or b"\0", np.uint8), starts


def _scan_jsonl(
    state: _State,
    shard: Shard,
    fields: list[str] | None,
    sink: Sink,
    result: ShardResult,
    matched: set[int],
) -> None:
    """JSONL: flat ASCII records in the compiled parser, all others through ``json.loads``."""
    from tuneval.contamination._jsonl_kernel import scan_jsonl

    index = state.index
    names, name_starts = _names(fields)
    seen = np.zeros(max(1, len(fields or ())), np.uint8)
    out_line, out_post, out_uid = state.out
    offset = shard.start  # of the block, for the messages of lines that are not UTF-8
    for first, data, newlines in raw_blocks(shard, sink.problems):
        sink.check_io(0)
        result.nbytes += len(data)
        result.lines = first - 1 + newlines + (not data.endswith(b"\n"))
        state.chunk = state.chunk % 2_000_000_000 + 1
        slow = np.empty(newlines + 1, np.int64)
        hits, nslow, records, _ = scan_jsonl(
            np.frombuffer(data, np.uint8), index.n, index.short, index.last, names, name_starts,
            bool(fields), index.keys, state.stamp, state.chunk,
            index.offsets, index.post_ex, index.post_pos,
            index.tok_bytes, index.tok_off, index.ex_first,
            out_line, out_post, out_uid, slow, seen,
        )  # fmt: skip
        result.records += records
        if hits:  # already verified on the tokens by the kernel
            _record(index, state, (out_line[:hits] + first).tolist(), out_post[:hits].tolist(),
                    out_uid[:hits].tolist(), matched, result.locations)  # fmt: skip
        if nslow:  # lines the compiled parser left to json (nested, non-ASCII, malformed)
            lines = data.split(b"\n")
            which = slow[:nslow].tolist()
            batch = parse_lines(shard.path, first, lines, which, fields, sink, offset)
            _scan_batch(state, batch, result, matched)
        offset += len(data)
    sink.check_io(0)
    hits = seen.tolist()  # one flag per requested field
    result.fields_seen.update(f for i, f in enumerate(fields or ()) if hits[i])


def _record(
    index: EvalIndex,
    state: _State,
    lines: list[int],
    posts: list[int],
    uids: list[int],
    matched: set[int],
    locations: dict[int, list[int]],
) -> None:
    """Note verified matches (file line, eval posting, slot); retire slots that are settled."""
    exs = index.post_ex[posts].tolist() if posts else []
    for line, post, ex in zip(lines, posts, exs, strict=True):
        matched.add(post)
        where = locations.setdefault(ex, [])
        if len(where) < MAX_LOCATIONS and line not in where:
            where.append(line)
    for u in set(uids):
        posts_u = range(int(index.offsets[u]), int(index.offsets[u + 1]))
        if all(q in matched for q in posts_u) and all(
            len(locations.get(int(index.post_ex[q]), ())) >= MAX_LOCATIONS for q in posts_u
        ):
            state.stamp[u] = -1  # every occurrence verified and located: stop reporting it


def _verify(
    index: EvalIndex,
    state: _State,
    texts: list[str],
    lines: list[int],
    recs: np.ndarray,
    ends: np.ndarray,
    uids: np.ndarray,
    matched: set[int],
    locations: dict[int, list[int]],
    own: int = -1,
) -> None:
    """Check hash hits of the generic kernel on the tokens, then `_record` the real ones.

    Postings of example `own` are left out (an eval example does not overlap itself).
    """
    cache: dict[int, list[str]] = {}
    found_lines: list[int] = []
    found_posts: list[int] = []
    found_uids: list[int] = []
    for r, end, u in zip(recs.tolist(), ends.tolist(), uids.tolist(), strict=False):
        toks = cache.get(r)
        if toks is None:
            toks = cache[r] = tokens(texts[r])
        for post in index.verify(u, toks, end):
            if own < 0 or int(index.post_ex[post]) != own:
                found_lines.append(lines[r])
                found_posts.append(post)
                found_uids.append(u)
    _record(index, state, found_lines, found_posts, found_uids, matched, locations)


def scan_within(index: EvalIndex, texts: list[str], lines: list[int], path: str) -> ShardResult:
    """Scan the eval texts themselves, each against the postings of the *other* examples.

    Each text is its own chunk, so an n-gram found in it first (its own occurrence) does not
    hide the same n-gram from the next text. `lines` are the examples' lines in `path` (the
    locations reported); no training record is counted.
    """
    state = _State(index)
    matched: set[int] = set()
    result = ShardResult(Shard(path, "jsonl"), np.zeros(0, np.int64))
    buf, starts = pack(texts)
    out_rec, out_end, out_uid = state.out
    for r in range(len(texts)):
        state.chunk += 1
        hits = _kernels.scan(
            buf, starts[r : r + 2], index.n, index.short, index.last, index.keys,
            state.stamp, state.chunk, out_rec, out_end, out_uid,
        )  # fmt: skip
        if hits:
            _verify(index, state, texts[r : r + 1], lines[r : r + 1], out_rec[:hits],
                    out_end[:hits], out_uid[:hits], matched, result.locations, own=r)  # fmt: skip
    result.matched = np.fromiter(sorted(matched), np.int64, len(matched))
    return result


def _init(index: EvalIndex, fields: list[str] | None, strict: bool) -> None:
    global _WORKER
    _WORKER = (index, fields, strict)


_WORKER: tuple[EvalIndex, list[str] | None, bool] | None = None


def _work(shard: Shard) -> ShardResult:
    assert _WORKER is not None
    index, fields, strict = _WORKER
    return scan_shard(index, shard, fields, strict)


def scan_all(
    index: EvalIndex,
    shards: list[Shard],
    fields: list[str] | None = None,
    *,
    workers: int = 1,
    strict: bool = False,
    progress: Callable[[ShardResult], None] | None = None,
) -> list[ShardResult]:
    """Scan every shard, with `workers` processes (1 = in this process), in shard order."""
    results: list[ShardResult] = []
    if workers <= 1 or len(shards) <= 1:
        for shard in shards:
            results.append(scan_shard(index, shard, fields, strict))
            if progress:
                progress(results[-1])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the index copy-on-write; elsewhere it is pickled once per worker.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(workers, len(shards), os.cpu_count() or workers),
        mp_context=multiprocessing.get_context(method),
        initializer=_init,
        initargs=(index, fields, strict),
    ) as pool:
        for res in pool.map(_work, shards):
            results.append(res)
            if progress:
                progress(res)
    return results
