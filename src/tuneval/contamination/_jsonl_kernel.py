r"""Numba fast path for JSONL: parse flat records, pick fields, tokenise and probe in one pass.

Every hash hit is verified in the kernel, token by token, against the eval postings of its
slot (`_verify_hit`); only verified matches leave it.

A line takes the fast path when it is one flat JSON object (values are strings, numbers,
booleans or null) whose keys and string values are ASCII (``\\uXXXX`` escapes of ASCII
characters allowed) and whose keys are distinct. For such a line the text that
`tuneval.contamination.sources.record_text` would build is tokenised straight from the raw
bytes; every other line (nested values, non-ASCII text, malformed JSON) is returned as *slow*
and goes through ``json.loads`` in Python, so results never depend on which path a line took.
The line parser is `tuneval.contamination._jsonl_parse`. Windows as long as the short eval
examples (checked whole) are probed as in `tuneval.contamination._kernels.scan`.
"""

# Numba infers the kernels' types from their arguments.
# mypy: disable-error-code="no-untyped-def"

from __future__ import annotations

import numba
import numpy as np

from tuneval.contamination._jsonl_parse import MAX_KEYS, hex_value, parse, same, ws
from tuneval.contamination._kernels import (
    FNV_OFFSET,
    FNV_PRIME,
    ROLL,
    finish,
    home,
    lookup,
    may_end_short,
    push,
    roll_power,
    short_count,
    short_hash,
    short_powers,
)

# 1 for ASCII bytes that belong to tokens ([0-9A-Za-z]), else 0.
TOKEN_BYTE = np.zeros(256, np.uint8)
TOKEN_BYTE[ord("0") : ord("9") + 1] = 1
TOKEN_BYTE[ord("a") : ord("z") + 1] = 1
TOKEN_BYTE[ord("A") : ord("Z") + 1] = 1

# The lowercased byte for token bytes, 0 for separators: one table lookup per byte.
TOKEN_LOWER = np.zeros(256, np.int64)
for _c in range(256):
    if TOKEN_BYTE[_c]:
        TOKEN_LOWER[_c] = _c + 32 if 65 <= _c <= 90 else _c


@numba.njit(cache=True)
def _token_equals(buf, s, e, ev_bytes, a, b):
    r"""True when the raw token ``buf[s:e]`` decodes and lowercases to ``ev_bytes[a:b]``.

    The raw bytes are JSON string content; inside a token only ``\u`` escapes can occur.
    """
    k = s
    q = a
    while k < e:
        c = buf[k]
        if c == 92:  # inside a token only \uXXXX of a letter or digit can occur
            c = 0
            for j in range(k + 2, k + 6):
                c = c * 16 + hex_value(buf[j])
            k += 6
        else:
            k += 1
        if q >= b or TOKEN_LOWER[c] != ev_bytes[q]:
            return False
        q += 1
    return q == b


@numba.njit(cache=True)
def _verify_hit(buf, n, ring_s, ring_e, nxt, ntok, uid, offsets, post_ex, post_pos, ev_bytes,
                ev_off, ev_first, line, out_line, out_post, out_uid, nhits):  # fmt: skip
    """Compare the window ending at the newest token with every eval posting of `uid`.

    A posting is as long as its example up to n tokens (a short example is one whole
    posting), so it is compared with that many of the newest tokens in the ring (`nxt` is
    the ring slot the next token goes to; `ntok` tokens of this record are in it so far).
    The equal postings are emitted.
    """
    found = 0
    for p in range(offsets[uid], offsets[uid + 1]):
        ex = post_ex[p]
        t = ev_first[ex] + post_pos[p]
        length = min(n, ev_first[ex + 1] - ev_first[ex])
        if length > ntok:
            continue  # the ring does not hold that many tokens of this record
        oldest = nxt - length
        if oldest < 0:
            oldest += n
        equal = True
        for i in range(length):
            r = oldest + i
            if r >= n:
                r -= n
            if not _token_equals(buf, ring_s[r], ring_e[r], ev_bytes, ev_off[t + i],
                                 ev_off[t + i + 1]):  # fmt: skip
                equal = False
                break
        if equal:
            out_line[nhits + found] = line
            out_post[nhits + found] = p
            out_uid[nhits + found] = uid
            found += 1
    return found


@numba.njit(cache=True, inline="always")
def _probe(g, buf, n, ring_s, ring_e, nxt, ntok, keys, stamp, chunk_id, offsets, post_ex,
           post_pos, ev_bytes, ev_off, ev_first, line, out_line, out_post, out_uid,
           nhits):  # fmt: skip
    """Probe hash `g`; verify and emit a slot not yet settled in this block. Returns nhits."""
    j = lookup(keys, g)
    if j >= 0 and stamp[j] != chunk_id and stamp[j] != -1:
        found = _verify_hit(
            buf, n, ring_s, ring_e, nxt, ntok, j, offsets, post_ex, post_pos, ev_bytes,
            ev_off, ev_first, line, out_line, out_post, out_uid, nhits,
        )  # fmt: skip
        if found:
            stamp[j] = chunk_id
            nhits += found
    return nhits


@numba.njit(cache=True)
def scan_jsonl(
    buf, n, short, last, names, name_starts, select, keys, stamp, chunk_id,
    offsets, post_ex, post_pos, ev_bytes, ev_off, ev_first,
    out_line, out_post, out_uid, slow, seen,
):  # fmt: skip
    """Scan a block of complete JSONL lines.

    Args:
        buf: The block (uint8), whole lines.
        n: N-gram length.
        short: Lengths (ascending, below n) of the eval examples checked whole; windows of
            these lengths are probed too (see `tuneval.contamination._kernels.scan`).
        last: The filter of the short examples' last tokens (``may_end_short``).
        names: Concatenated key names; with ``select`` they are the fields to read, in order;
            without, the keys to skip (all other keys are read in file order).
        name_starts: Offsets of the names in `names`.
        select: See `names`.
        keys: The index's hash table.
        stamp: Per-slot stamps (see `tuneval.contamination._kernels.scan`); a slot is stamped
            with `chunk_id` once one of its postings is verified in this block.
        chunk_id: This block's stamp.
        offsets: Postings of slot ``u`` are ``offsets[u]:offsets[u + 1]``.
        post_ex: Example of each posting.
        post_pos: Token position of each posting in its example.
        ev_bytes: The eval examples' normalised tokens, concatenated (UTF-8).
        ev_off: Byte offset of every eval token in `ev_bytes`, then the end.
        ev_first: Index of each example's first token in `ev_off`.
        out_line: Receives the line index (in the block) of each verified match.
        out_post: Receives the eval posting of each verified match.
        out_uid: Receives the slot of each verified match.
        slow: Receives the indices of lines for the slow path.
        seen: With ``select``, ``seen[f]`` is set to 1 once a record has field ``f``.

    Returns:
        (matches, slow lines, records, lines): matches are in `out_*`, each verified on the
        tokens themselves (a hash match alone is never reported); slow line indices in `slow`.
    """
    top = roll_power(n)
    spow = short_powers(short)
    nshort = short.size
    pre = np.zeros(n, np.int64)  # prefix hash after t tokens of the record, at t % n
    ring = np.zeros(n, np.int64)
    ring_s = np.zeros(n, np.int64)  # raw byte span of each token in the ring
    ring_e = np.zeros(n, np.int64)
    nnames = name_starts.size - 1
    ks = np.empty(MAX_KEYS, np.int64)
    ke = np.empty(MAX_KEYS, np.int64)
    vs = np.empty(MAX_KEYS, np.int64)
    ve = np.empty(MAX_KEYS, np.int64)
    # Each field name picks at most one key (keys are distinct), and names may repeat.
    order = np.empty(MAX_KEYS + nnames, np.int64)
    nhits = 0
    nslow = 0
    records = 0
    line = 0
    start = 0
    size = buf.size
    while start < size:
        end = start
        while end < size and buf[end] != 10:
            end += 1
        count = parse(buf, start, end, ks, ke, vs, ve)
        blank = False
        if count < 0:
            blank = True
            for j in range(start, end):
                if not ws(buf[j]):
                    blank = False
                    break
        if not blank:
            chosen = 0
            if count >= 0:
                if select:
                    present = False
                    for f in range(nnames):
                        for a in range(count):
                            if same(buf, ks[a], ke[a], names, name_starts[f], name_starts[f + 1]):
                                present = True
                                seen[f] = 1
                                if vs[a] >= 0:
                                    order[chosen] = a
                                    chosen += 1
                    if not present:
                        count = -1  # record_text raises: report it from the slow path
                else:
                    for a in range(count):
                        skip = False
                        for f in range(nnames):
                            if same(buf, ks[a], ke[a], names, name_starts[f], name_starts[f + 1]):
                                skip = True
                        if not skip and vs[a] >= 0:
                            order[chosen] = a
                            chosen += 1
            if count < 0:
                slow[nslow] = line
                nslow += 1
            else:
                records += 1
                ntok = 0
                slot = 0
                roll = 0
                pfx = 0
                pre[0] = 0
                for o in range(chosen):
                    a = order[o]
                    k = vs[a]
                    stop = ve[a]
                    h = FNV_OFFSET
                    intoken = False
                    tstart = k
                    while k <= stop:
                        kc = k
                        if k == stop:
                            c = 32  # the newline between fields ends a token
                            k += 1
                        else:
                            c = buf[k]
                            k += 1
                            if c == 92:
                                e = buf[k]
                                if e == 117:
                                    c = 0
                                    for j in range(k + 1, k + 5):
                                        c = c * 16 + hex_value(buf[j])
                                    k += 5
                                else:
                                    c = 32
                                    k += 1
                        low = TOKEN_LOWER[c]
                        if low:
                            if not intoken:
                                tstart = kc
                                intoken = True
                            h = (h ^ low) * FNV_PRIME
                        elif intoken:
                            roll = push(roll, ring, slot, top, h, ntok >= n)
                            if nshort:
                                pfx = pfx * ROLL + h
                            ring_s[slot] = tstart
                            ring_e[slot] = kc
                            slot += 1
                            if slot == n:
                                slot = 0
                            ntok += 1
                            h = FNV_OFFSET
                            intoken = False
                            if ntok >= n:
                                # The probe of `_probe`, written out: calling it here made the
                                # whole scan 1.4x slower (measured), as every token probes.
                                g = finish(roll)
                                j = home(g, keys.size)
                                while keys[j] != 0:
                                    if keys[j] == g:
                                        if stamp[j] != chunk_id and stamp[j] != -1:
                                            found = _verify_hit(
                                                buf, n, ring_s, ring_e, slot, ntok, j, offsets,
                                                post_ex, post_pos, ev_bytes, ev_off, ev_first,
                                                line, out_line, out_post, out_uid, nhits,
                                            )  # fmt: skip
                                            if found:
                                                stamp[j] = chunk_id
                                                nhits += found
                                        break
                                    j += 1
                                    if j == keys.size:
                                        j = 0
                            if nshort and may_end_short(last, ring[slot - 1 if slot else n - 1]):
                                for i in range(short_count(short, ntok)):
                                    g = short_hash(pfx, pre, spow[i], slot, short[i], n)
                                    nhits = _probe(
                                        g, buf, n, ring_s, ring_e, slot, ntok, keys, stamp,
                                        chunk_id, offsets, post_ex, post_pos, ev_bytes,
                                        ev_off, ev_first, line, out_line, out_post, out_uid,
                                        nhits,
                                    )  # fmt: skip
                            if nshort:
                                pre[slot] = pfx  # slot == ntok % n
        line += 1
        start = end + 1
    return nhits, nslow, records, line
