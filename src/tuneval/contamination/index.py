"""The eval-side n-gram index: small, built once, shared read-only by every shard scan.

Memory per distinct eval n-gram: 8 bytes of sorted hash, 12 bytes of open-addressing table
(load factor at most 1/2, so 24 bytes of slots at worst: 16 for the key, 8 for the value), 4
for the posting offset and 4 for the scan's per-n-gram stamp — about 32 bytes — plus 8 bytes
per occurrence (example, position) and the eval token lists used to verify hits.
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
        hashes: Sorted distinct n-gram hashes; the uid of an n-gram is its index here.
        offsets: Postings of uid ``u`` are ``post_ex/post_pos[offsets[u]:offsets[u + 1]]``.
        post_ex: Example index of each posting.
        post_pos: Token position of each posting within its example.
        keys: Hash table slots (0 = empty) over `hashes`.
        vals: Slot -> uid.
        bits: log2 of the table size.
    """

    n: int
    tokens: list[list[str]]
    hashes: np.ndarray
    offsets: np.ndarray
    post_ex: np.ndarray
    post_pos: np.ndarray
    keys: np.ndarray
    vals: np.ndarray
    bits: int

    @classmethod
    def build(cls, texts: list[str], n: int) -> EvalIndex:
        """Index the n-grams of `texts` (one string per eval example)."""
        if n < 1:
            raise UsageError(f"n must be at least 1, got {n}")
        buf, starts = pack(texts)
        rec, pos, hashes = _kernels.ngram_hashes(buf, starts, n)
        order = np.lexsort((pos, rec, hashes))
        sorted_hashes = hashes[order]
        distinct, first = np.unique(sorted_hashes, return_index=True)
        offsets = np.append(first, sorted_hashes.size).astype(np.int64)
        bits = max(4, int(2 * max(distinct.size, 1) - 1).bit_length())
        keys, vals = _kernels.build_table(distinct, bits)
        return cls(
            n=n,
            tokens=[tokens(t) for t in texts],
            hashes=distinct,
            offsets=offsets,
            post_ex=rec[order].astype(np.int32),
            post_pos=pos[order].astype(np.int32),
            keys=keys,
            vals=vals,
            bits=bits,
        )

    @property
    def n_postings(self) -> int:
        """Number of n-gram occurrences in the eval set."""
        return int(self.post_ex.size)

    def ngram_count(self, example: int) -> int:
        """Number of n-grams of one example (0 if it has fewer than n tokens)."""
        return max(0, len(self.tokens[example]) - self.n + 1)

    def nbytes(self) -> int:
        """Bytes held by the numeric arrays (the part that scales with distinct n-grams)."""
        arrays = (self.hashes, self.offsets, self.post_ex, self.post_pos, self.keys, self.vals)
        return sum(a.nbytes for a in arrays) + 4 * self.hashes.size  # + the scan's stamps

    def verify(self, uid: int, gram: list[str]) -> list[int]:
        """Postings of `uid` whose tokens equal `gram` exactly (a hash match alone never counts)."""
        found = []
        for p in range(int(self.offsets[uid]), int(self.offsets[uid + 1])):
            ex, pos = int(self.post_ex[p]), int(self.post_pos[p])
            if self.tokens[ex][pos : pos + self.n] == gram:
                found.append(p)
        return found
