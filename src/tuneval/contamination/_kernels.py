"""Numba kernels of the contamination scan: tokenise UTF-8 bytes, hash n-grams, probe the index.

A token's hash is FNV-1a over its bytes; an n-gram's hash is a polynomial rolling hash over its
token hashes, so each token costs O(1) whatever n is. Records are given as byte offsets into
one buffer, and n-grams never span two records. The separator rule mirrors
`tuneval.contamination.normalize.tokens` byte for byte (the input is already lowercased).

An eval example with fewer than n tokens (but at least one) is checked *whole*: its hash is
the rolling hash of all its tokens, and the scanner also probes, at every training token, the
windows ending there whose lengths are those of the short eval examples (``short``, from
prefix hashes kept in a ring of n entries, so each costs one multiply and one probe), but
only after a token that ends some short example (a bitmap of those tokens' hashes,
`LAST_BITS`), so text that cannot end a short example pays one bit test per token.

Hashes only find candidates: every hit is verified on the tokens by the caller.
"""

# Numba infers the kernels' types from their arguments.
# mypy: disable-error-code="no-untyped-def"

from __future__ import annotations

import numba
import numpy as np

FNV_OFFSET = -3750763034362895579
FNV_PRIME = 1099511628211
ROLL = 0x100000001B3 * 31 + 7  # odd multiplier of the rolling n-gram hash
_MIX = -7046029254386353131  # 2**64 / golden ratio, as a signed 64-bit integer
LAST_BITS = 1 << 14
"""Bits of the filter of the last tokens of short examples (2 KiB: stays in L1 cache)."""


@numba.njit(cache=True, inline="always")
def last_bit(h):
    """The filter bit of token hash `h` (bits 20-33: FNV-1a mixes them well)."""
    return (h >> 20) & (LAST_BITS - 1)


@numba.njit(cache=True, inline="always")
def may_end_short(last, h):
    """False when no short example ends with the token of hash `h` (no false negatives)."""
    b = last_bit(h)
    return (last[b >> 6] >> (b & 63)) & 1


@numba.njit(cache=True, inline="always")
def _separator_len(buf, k, end):
    """Length of the separator character starting at `k`, or 0 if it starts a token byte."""
    c = buf[k]
    if c < 128:
        if (97 <= c <= 122) or (48 <= c <= 57) or (65 <= c <= 90):
            return 0
        return 1
    if c == 0xC2 and k + 1 < end and 0x80 <= buf[k + 1] <= 0xBF:
        return 2  # U+0080-U+00BF
    if k + 2 < end:
        c1 = buf[k + 1]
        if c == 0xE2 and (c1 == 0x80 or c1 == 0x81) and (c1 == 0x80 or buf[k + 2] <= 0xAF):
            return 3  # U+2000-U+206F
        if c == 0xE3 and c1 == 0x80:
            return 3  # U+3000-U+303F
    return 0


@numba.njit(cache=True, inline="always")
def finish(h):
    h = h ^ (h >> 29)
    h = h * _MIX
    h = h ^ (h >> 32)
    if h == 0:
        h = 1  # 0 marks an empty slot of the table
    return h


@numba.njit(cache=True, inline="always")
def _skip_separators(buf, k, end):
    """The position of the next token byte at or after `k`, or `end` (or past) when none."""
    while k < end:
        s = _separator_len(buf, k, end)
        if s == 0:
            break
        k += s
    return k


@numba.njit(cache=True, inline="always")
def _token_hash(buf, k, end):
    """FNV-1a of the lowercased token starting at `k`, and the position just after it."""
    h = FNV_OFFSET
    while k < end and _separator_len(buf, k, end) == 0:
        c = buf[k]
        if 65 <= c <= 90:
            c += 32
        h = (h ^ c) * FNV_PRIME
        k += 1
    return h, k


@numba.njit(cache=True, inline="always")
def _next_token(buf, k, end, roll, ring, ntok, n, top):
    """Read the token at or after `k` and roll it into the n-gram hash.

    Returns:
        (position after the token, its hash, the rolled hash, tokens read); the position is
        past `end` when no token is left.
    """
    k = _skip_separators(buf, k, end)
    if k >= end:
        return end + 1, 0, roll, ntok
    h, k = _token_hash(buf, k, end)
    return k, h, push(roll, ring, ntok % n, top, h, ntok >= n), ntok + 1


@numba.njit(cache=True, inline="always")
def push(roll, ring, slot, top, h, full):
    """Roll token hash `h` into the n-gram hash (dropping the oldest when `full`); ring it."""
    roll = (roll - ring[slot] * top) * ROLL + h if full else roll * ROLL + h
    ring[slot] = h
    return roll


@numba.njit(cache=True, inline="always")
def short_count(short, ntok):
    """How many of the ascending short lengths fit in the `ntok` tokens read so far."""
    i = 0
    while i < short.size and short[i] <= ntok:
        i += 1
    return i


@numba.njit(cache=True, inline="always")
def short_hash(pfx, pre, power, nxt, length, n):
    """The hash of the last `length` tokens, from the prefix hashes (`pre`, at ``t % n``)."""
    at = nxt - length if nxt >= length else nxt - length + n
    return finish(pfx - pre[at] * power)


@numba.njit(cache=True)
def roll_power(n):
    p = 1
    for _ in range(n - 1):
        p = p * ROLL
    return p


@numba.njit(cache=True)
def ngram_hashes(buf, starts, n):
    """All n-gram hashes of every record: (record, token position, hash) arrays, and a filter.

    A record with fewer than n tokens (at least one) gives one hash of all its tokens, at
    position 0, and sets the bit of its last token in the filter (`LAST_BITS` bits as
    uint64 words; see `may_end_short`).

    Every token takes at least one byte and is followed by a separator byte or the record's
    end, so a record of ``b`` bytes has at most ``(b + 1) // 2`` tokens, and no record gives
    more hashes than tokens: the buffers hold ``(bytes + records) // 2 + 1``.
    """
    nrec = starts.size - 1
    cap = (buf.size + nrec) // 2 + 1
    out_rec = np.empty(cap, np.int32)
    out_pos = np.empty(cap, np.int32)
    out_hash = np.empty(cap, np.int64)
    last = np.zeros(LAST_BITS // 64, np.uint64)
    ring = np.zeros(n, np.int64)
    top = roll_power(n)
    count = 0
    for r in range(nrec):
        end = starts[r + 1]
        k = starts[r]
        ntok = 0
        roll = 0
        while True:
            k, _, roll, ntok = _next_token(buf, k, end, roll, ring, ntok, n, top)
            if k > end:
                break
            if ntok >= n:
                out_rec[count] = r
                out_pos[count] = ntok - n
                out_hash[count] = finish(roll)
                count += 1
        if 0 < ntok < n:  # a short record: the hash of all its tokens
            out_rec[count] = r
            out_pos[count] = 0
            out_hash[count] = finish(roll)
            count += 1
            b = last_bit(ring[(ntok - 1) % n])  # the hash of its last token
            last[b >> 6] |= np.uint64(1) << np.uint64(b & 63)
    return out_rec[:count], out_pos[:count], out_hash[:count], last


@numba.njit(cache=True)
def short_powers(short):
    """``ROLL ** L`` for every short length ``L``: removes a prefix from a prefix hash."""
    out = np.empty(short.size, np.int64)
    for i in range(short.size):
        out[i] = roll_power(short[i] + 1)
    return out


@numba.njit(cache=True, inline="always")
def lookup(keys, g):
    """The slot holding hash `g` in the table `keys`, or -1."""
    size = keys.size
    j = home(g, size)
    while keys[j] != 0:
        if keys[j] == g:
            return j
        j += 1
        if j == size:
            j = 0
    return -1


@numba.njit(cache=True, inline="always")
def home(g, size):
    """The home slot of hash `g` in a table of `size` slots (multiply-shift, any size).

    Uses bits 31-62: `finish` leaves the sign bit always 0.
    """
    return ((g >> 31) & 0xFFFFFFFF) * size >> 32


@numba.njit(cache=True)
def build_table(hashes, size):
    """Linear-probing table of the distinct `hashes`; returns (keys, slot of each hash)."""
    keys = np.zeros(size, np.int64)
    slot_of = np.empty(hashes.size, np.int64)
    for i in range(hashes.size):
        h = hashes[i]
        j = home(h, size)
        while keys[j] != 0:
            j += 1
            if j == size:
                j = 0
        keys[j] = h
        slot_of[i] = j
    return keys, slot_of


@numba.njit(cache=True)
def scan(buf, starts, n, short, last, keys, stamp, chunk_id, out_rec, out_end, out_uid):
    """Probe every n-gram of every record in the table, and every window of a short length.

    `short` holds the lengths (ascending, each below n) of the eval examples checked whole,
    `last` the filter of their last tokens (see `may_end_short`).
    The uid of an n-gram is its slot. Reports the first hit of each distinct eval n-gram per
    chunk (``stamp[uid] == chunk_id`` marks it seen; ``stamp[uid] == -1`` marks an n-gram that
    needs no more hits), so the output never exceeds the number of distinct eval n-grams.

    Returns:
        The number of hits written to `out_rec`, `out_end` (the token index just after the
        matched window) and `out_uid`.
    """
    ring = np.zeros(n, np.int64)
    pre = np.zeros(n, np.int64)  # prefix hash after t tokens, at t % n
    spow = short_powers(short)
    nshort = short.size
    top = roll_power(n)
    count = 0
    for r in range(starts.size - 1):
        end = starts[r + 1]
        k = starts[r]
        ntok = 0
        roll = 0
        pfx = 0
        pre[0] = 0
        while True:
            k, h, roll, ntok = _next_token(buf, k, end, roll, ring, ntok, n, top)
            if k > end:
                break
            if ntok >= n:
                count = _hit(keys, finish(roll), stamp, chunk_id, r, ntok,
                             out_rec, out_end, out_uid, count)  # fmt: skip
            if nshort:
                pfx = pfx * ROLL + h
                nxt = ntok % n
                if may_end_short(last, h):
                    for i in range(short_count(short, ntok)):
                        g = short_hash(pfx, pre, spow[i], nxt, short[i], n)
                        count = _hit(keys, g, stamp, chunk_id, r, ntok,
                                     out_rec, out_end, out_uid, count)  # fmt: skip
                pre[nxt] = pfx
    return count


@numba.njit(cache=True, inline="always")
def _hit(keys, g, stamp, chunk_id, r, ntok, out_rec, out_end, out_uid, count):
    """Probe `g`; note the first hit of its slot in this chunk. Returns the new count."""
    uid = lookup(keys, g)
    if uid >= 0 and stamp[uid] != chunk_id and stamp[uid] != -1:
        stamp[uid] = chunk_id
        out_rec[count] = r
        out_end[count] = ntok
        out_uid[count] = uid
        count += 1
    return count
