r"""Numba fast path for JSONL: parse flat records, pick fields, tokenise and probe in one pass.

Every hash hit is verified in the kernel, token by token, against the eval postings of its
slot (`_verify_hit`); only verified matches leave it.

A line takes the fast path when it is one flat JSON object (values are strings, numbers,
booleans or null) whose keys and string values are ASCII (``\\uXXXX`` escapes of ASCII
characters allowed) and whose keys are distinct. For such a line the text that
`tuneval.contamination.sources.record_text` would build is tokenised straight from the raw
bytes; every other line (nested values, non-ASCII text, malformed JSON) is returned as *slow*
and goes through ``json.loads`` in Python, so results never depend on which path a line took.
"""

# Numba infers the kernels' types from their arguments.
# mypy: disable-error-code="no-untyped-def"

from __future__ import annotations

import numba
import numpy as np

from tuneval.contamination._kernels import (
    _FNV_OFFSET,
    _FNV_PRIME,
    _ROLL,
    _finish,
    _roll_power,
    home,
)

_MAX_KEYS = 64

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


@numba.njit(cache=True, inline="always")
def _ws(c):
    return c == 32 or c == 9 or c == 13 or c == 10


@numba.njit(cache=True)
def _hex(c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


@numba.njit(cache=True)
def _string_end(buf, k, end):
    """Index of the closing quote of the string whose first byte is at `k`, or -1.

    -1 also when the string holds anything but ASCII and escapes of ASCII characters.
    """
    while k < end:
        c = buf[k]
        if c == 34:
            return k
        if c >= 128 or c < 32:
            return -1
        if c == 92:
            if k + 1 >= end:
                return -1
            e = buf[k + 1]
            if e == 117:
                if k + 5 >= end:
                    return -1
                cp = 0
                for j in range(k + 2, k + 6):
                    h = _hex(buf[j])
                    if h < 0:
                        return -1
                    cp = cp * 16 + h
                if cp >= 128:
                    return -1
                k += 6
                continue
            if e not in (34, 92, 47, 98, 102, 110, 114, 116):
                return -1
            k += 2
            continue
        k += 1
    return -1


@numba.njit(cache=True)
def _literal(buf, s, e):
    """True for ``true``, ``false``, ``null`` and JSON numbers (RFC 8259 grammar)."""
    w = e - s
    if w == 4 and buf[s] == 116 and buf[s + 1] == 114 and buf[s + 2] == 117 and buf[s + 3] == 101:
        return True
    if w == 4 and buf[s] == 110 and buf[s + 1] == 117 and buf[s + 2] == 108 and buf[s + 3] == 108:
        return True
    if w == 5 and buf[s] == 102 and buf[s + 1] == 97 and buf[s + 2] == 108:
        return buf[s + 3] == 115 and buf[s + 4] == 101
    k = s
    if k < e and buf[k] == 45:
        k += 1
    if k >= e or not (48 <= buf[k] <= 57):
        return False
    if buf[k] == 48:
        k += 1
    else:
        while k < e and 48 <= buf[k] <= 57:
            k += 1
    if k < e and buf[k] == 46:
        k += 1
        if k >= e or not (48 <= buf[k] <= 57):
            return False
        while k < e and 48 <= buf[k] <= 57:
            k += 1
    if k < e and (buf[k] == 101 or buf[k] == 69):
        k += 1
        if k < e and (buf[k] == 43 or buf[k] == 45):
            k += 1
        if k >= e or not (48 <= buf[k] <= 57):
            return False
        while k < e and 48 <= buf[k] <= 57:
            k += 1
    return k == e


@numba.njit(cache=True)
def _same(buf, a, b, names, s, e):
    if b - a != e - s:
        return False
    for j in range(b - a):  # noqa: SIM110 - an explicit loop compiles to a tight scan
        if buf[a + j] != names[s + j]:
            return False
    return True


@numba.njit(cache=True)
def _parse(buf, k, end, ks, ke, vs, ve):
    """Parse one flat object at `k`; fill key/value spans (value span -1 if not a string).

    Returns the number of keys, or -1 if the line needs the slow path.
    """
    while k < end and _ws(buf[k]):
        k += 1
    if k >= end or buf[k] != 123:
        return -1
    k += 1
    count = 0
    while True:
        while k < end and _ws(buf[k]):
            k += 1
        if k >= end:
            return -1
        if buf[k] == 125 and count == 0:
            k += 1
            break
        if buf[k] != 34 or count >= _MAX_KEYS:
            return -1
        q = _string_end(buf, k + 1, end)
        if q < 0:
            return -1
        for j in range(k + 1, q):
            if buf[j] == 92:
                return -1  # escaped keys are rare: let json decide
        ks[count] = k + 1
        ke[count] = q
        k = q + 1
        while k < end and _ws(buf[k]):
            k += 1
        if k >= end or buf[k] != 58:
            return -1
        k += 1
        while k < end and _ws(buf[k]):
            k += 1
        if k >= end:
            return -1
        c = buf[k]
        if c == 34:
            q = _string_end(buf, k + 1, end)
            if q < 0:
                return -1
            vs[count] = k + 1
            ve[count] = q
            k = q + 1
        elif c == 91 or c == 123:
            return -1
        else:
            s = k
            while k < end and buf[k] != 44 and buf[k] != 125 and not _ws(buf[k]):
                k += 1
            if not _literal(buf, s, k):
                return -1
            vs[count] = -1
            ve[count] = -1
        count += 1
        while k < end and _ws(buf[k]):
            k += 1
        if k >= end:
            return -1
        if buf[k] == 44:
            k += 1
            continue
        if buf[k] == 125:
            k += 1
            break
        return -1
    while k < end:
        if not _ws(buf[k]):
            return -1
        k += 1
    for a in range(count):
        for b in range(a):
            if _same(buf, ks[a], ke[a], buf, ks[b], ke[b]):
                return -1
    return count


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
                c = c * 16 + _hex(buf[j])
            k += 6
        else:
            k += 1
        if q >= b or TOKEN_LOWER[c] != ev_bytes[q]:
            return False
        q += 1
    return q == b


@numba.njit(cache=True)
def _verify_hit(buf, n, ring_s, ring_e, oldest, uid, offsets, post_ex, post_pos, ev_bytes,
                ev_off, ev_first, line, out_line, out_post, out_uid, nhits):  # fmt: skip
    """Compare the n-gram in the ring with every eval posting of `uid`; emit the equal ones."""
    found = 0
    for p in range(offsets[uid], offsets[uid + 1]):
        t = ev_first[post_ex[p]] + post_pos[p]
        equal = True
        for i in range(n):
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


@numba.njit(cache=True)
def scan_jsonl(
    buf, n, names, name_starts, select, keys, stamp, chunk_id,
    offsets, post_ex, post_pos, ev_bytes, ev_off, ev_first,
    out_line, out_post, out_uid, slow,
):  # fmt: skip
    """Scan a block of complete JSONL lines.

    Args:
        buf: The block (uint8), whole lines.
        n: N-gram length.
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

    Returns:
        (matches, slow lines, records, lines): matches are in `out_*`, each verified on the
        tokens themselves (a hash match alone is never reported); slow line indices in `slow`.
    """
    slots = keys.size
    top = _roll_power(n)
    ring = np.zeros(n, np.int64)
    ring_s = np.zeros(n, np.int64)  # raw byte span of each token in the ring
    ring_e = np.zeros(n, np.int64)
    nnames = name_starts.size - 1
    ks = np.empty(_MAX_KEYS, np.int64)
    ke = np.empty(_MAX_KEYS, np.int64)
    vs = np.empty(_MAX_KEYS, np.int64)
    ve = np.empty(_MAX_KEYS, np.int64)
    order = np.empty(_MAX_KEYS, np.int64)
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
        count = _parse(buf, start, end, ks, ke, vs, ve)
        blank = False
        if count < 0:
            blank = True
            for j in range(start, end):
                if not _ws(buf[j]):
                    blank = False
                    break
        if not blank:
            chosen = 0
            if count >= 0:
                if select:
                    present = False
                    for f in range(nnames):
                        for a in range(count):
                            if _same(buf, ks[a], ke[a], names, name_starts[f], name_starts[f + 1]):
                                present = True
                                if vs[a] >= 0:
                                    order[chosen] = a
                                    chosen += 1
                    if not present:
                        count = -1  # record_text raises: report it from the slow path
                else:
                    for a in range(count):
                        skip = False
                        for f in range(nnames):
                            if _same(buf, ks[a], ke[a], names, name_starts[f], name_starts[f + 1]):
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
                for o in range(chosen):
                    a = order[o]
                    k = vs[a]
                    stop = ve[a]
                    h = _FNV_OFFSET
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
                                        c = c * 16 + _hex(buf[j])
                                    k += 5
                                else:
                                    c = 32
                                    k += 1
                        low = TOKEN_LOWER[c]
                        if low:
                            if not intoken:
                                tstart = kc
                                intoken = True
                            h = (h ^ low) * _FNV_PRIME
                        elif intoken:
                            if ntok >= n:
                                roll = (roll - ring[slot] * top) * _ROLL + h
                            else:
                                roll = roll * _ROLL + h
                            ring[slot] = h
                            ring_s[slot] = tstart
                            ring_e[slot] = kc
                            slot += 1
                            if slot == n:
                                slot = 0
                            ntok += 1
                            h = _FNV_OFFSET
                            intoken = False
                            if ntok >= n:
                                g = _finish(roll)
                                j = home(g, slots)
                                while keys[j] != 0:
                                    if keys[j] == g:
                                        if stamp[j] != chunk_id and stamp[j] != -1:
                                            found = _verify_hit(
                                                buf, n, ring_s, ring_e, slot, j, offsets,
                                                post_ex, post_pos, ev_bytes, ev_off, ev_first,
                                                line, out_line, out_post, out_uid, nhits,
                                            )  # fmt: skip
                                            if found:
                                                stamp[j] = chunk_id
                                                nhits += found
                                        break
                                    j += 1
                                    if j == slots:
                                        j = 0
        line += 1
        start = end + 1
    return nhits, nslow, records, line
