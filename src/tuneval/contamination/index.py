"""The eval-side n-gram index: small, built once, shared read-only by every shard scan.

The table has ``ceil(1.6 x distinct n-grams)`` slots (load factor 0.625, linear probing) and
an n-gram's id is its slot. Per slot: an 8-byte hash, a 4-byte posting offset and the scan's
4-byte stamp, so 16 x 1.6 = 25.6 bytes per distinct eval n-gram; plus 8 bytes per occurrence
(example, position), and the eval tokens used to verify hits: as Python lists (reports, the
generic path) and packed as UTF-8 bytes with 8-byte offsets (the compiled JSONL path).

An example with fewer than n tokens (but at least one) is checked *whole*: it has one posting,
the hash of all its tokens at position 0, and it matches where all its tokens occur
contiguously in one training record. Without this rule such an example has no n-gram and could
never be flagged, whatever the training data holds. (GPT-3, appendix C, avoided the problem by
choosing n per benchmark from the length of its short examples; lm-evaluation-harness's
decontamination makes no n-gram from a shorter document and so never flags it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuneval.contamination import _kernels
from tuneval.contamination.normalize import normalize, tokens
from tuneval.errors import UsageError


def pack(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalise and concatenate `texts` into one UTF-8 byte buffer plus record offsets."""
    parts = [normalize(t).encode("utf-8") for t in texts]
    starts = np.zeros(len(parts) + 1, np.int64)
    np.cumsum([len(p) for p in parts], out=starts[1:])
    buf = np.frombuffer(b"".join(parts), np.uint8) if parts else np.zeros(0, np.uint8)
    return buf, starts


@dataclass
class EvalIndex:
    """N-grams of an eval set, hashed for the scanner and tokenised for verification.

    Attributes:
        n: The n-gram length.
        tokens: Normalised tokens of every eval example.
        keys: Hash table slots (0 = empty); the slot of an n-gram is its uid.
        offsets: Postings of uid ``u`` are ``post_ex/post_pos[offsets[u]:offsets[u + 1]]``.
        post_ex: Example index of each posting.
        post_pos: Token position of each posting within its example.
        distinct: Number of distinct n-gram hashes.
        tok_bytes: Every eval token, normalised, concatenated as UTF-8 (for verification in
            the compiled scanner).
        tok_off: Byte offset of each token in `tok_bytes`, then the end.
        ex_first: Index of each example's first token in `tok_off`.
        short: Token counts (ascending, each below n) of the examples checked whole.
        last: Filter of the hashes of their last tokens (`_kernels.may_end_short`).
    """

    n: int
    tokens: list[list[str]]
    keys: np.ndarray
    offsets: np.ndarray
    post_ex: np.ndarray
    post_pos: np.ndarray
    distinct: int
    tok_bytes: np.ndarray
    tok_off: np.ndarray
    ex_first: np.ndarray
    short: np.ndarray
    last: np.ndarray

    @classmethod
    def build(cls, texts: list[str], n: int) -> EvalIndex:
        """Index the n-grams of `texts` (one string per eval example)."""
        if n < 1:
            raise UsageError(f"n must be at least 1, got {n}")
        buf, starts = pack(texts)
        rec, pos, hashes, last = _kernels.ngram_hashes(buf, starts, n)
        distinct, inverse = np.unique(hashes, return_inverse=True)
        size = max(8, -(-distinct.size * 8 // 5))
        keys, slot_of = _kernels.build_table(distinct, size)
        slots = slot_of[inverse.reshape(-1)]
        order = np.lexsort((pos, rec, slots))
        offsets = np.searchsorted(slots[order], np.arange(size + 1)).astype(np.int32)
        toks = [tokens(t) for t in texts]
        flat = [t for ex in toks for t in ex]
        joined = "".join(flat)
        # Byte lengths: character lengths for ASCII text (no per-token encoding needed).
        ascii_only = joined.isascii()
        lengths = [len(t) if ascii_only else len(t.encode("utf-8")) for t in flat]
        tok_off = np.zeros(len(flat) + 1, np.int64)
        np.cumsum(lengths, out=tok_off[1:])
        ex_first = np.zeros(len(toks) + 1, np.int64)
        np.cumsum([len(ex) for ex in toks], out=ex_first[1:])
        short = sorted({len(ex) for ex in toks if 0 < len(ex) < n})
        return cls(
            n=n,
            tokens=toks,
            keys=keys,
            offsets=offsets,
            post_ex=rec[order].astype(np.int32),
            post_pos=pos[order].astype(np.int32),
            distinct=int(distinct.size),
            tok_bytes=np.frombuffer(joined.encode("utf-8") or b"\0", np.uint8),
            tok_off=tok_off,
            ex_first=ex_first,
            short=np.array(short, np.int64),
            last=last,
        )

    @property
    def n_postings(self) -> int:
        """Number of n-gram occurrences in the eval set."""
        return int(self.post_ex.size)

    def ngram_count(self, example: int) -> int:
        """Number of n-grams of one example (1 if it is checked whole, 0 if it has no token)."""
        return max(min(1, len(self.tokens[example])), len(self.tokens[example]) - self.n + 1)

    def whole(self, example: int) -> bool:
        """True when the example has fewer than n tokens and is checked as a whole."""
        return 0 < len(self.tokens[example]) < self.n

    def nbytes(self) -> int:
        """Bytes of the numeric arrays, including the scan's stamps (4 bytes per slot)."""
        arrays = (self.keys, self.offsets, self.post_ex, self.post_pos)
        return sum(a.nbytes for a in arrays) + 4 * self.keys.size

    def verify(self, uid: int, toks: list[str], end: int) -> list[int]:
        """Postings of `uid` equal to the tokens of `toks` that end at `end` (exactly).

        A posting is compared with as many tokens as it has (n, or the whole of a short
        example); a hash match alone never counts.
        """
        found = []
        for p in range(int(self.offsets[uid]), int(self.offsets[uid + 1])):
            ex, pos = int(self.post_ex[p]), int(self.post_pos[p])
            size = min(self.n, len(self.tokens[ex]))
            if size <= end and self.tokens[ex][pos : pos + size] == toks[end - size : end]:
                found.append(p)
        return found
