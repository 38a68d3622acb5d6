r"""Numba parser of one flat JSONL object, for the compiled JSONL scanner.

A line is parsed here when every value is a string, number, boolean or null, and its keys and
strings are ASCII (``\uXXXX`` escapes of ASCII characters allowed); anything else makes
`parse` return -1 and the line goes through ``json.loads`` instead.
"""

# Numba infers the kernels' types from their arguments.
# mypy: disable-error-code="no-untyped-def"

from __future__ import annotations

import numba

MAX_KEYS = 64
"""Keys of a line the compiled parser takes; a line with more goes through ``json``."""


@numba.njit(cache=True, inline="always")
def ws(c):
    return c == 32 or c == 9 or c == 13 or c == 10


@numba.njit(cache=True)
def hex_value(c):
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
                    h = hex_value(buf[j])
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
def same(buf, a, b, names, s, e):
    if b - a != e - s:
        return False
    for j in range(b - a):  # noqa: SIM110 - an explicit loop compiles to a tight scan
        if buf[a + j] != names[s + j]:
            return False
    return True


@numba.njit(cache=True)
def parse(buf, k, end, ks, ke, vs, ve):
    """Parse one flat object at `k`; fill key/value spans (value span -1 if not a string).

    Returns the number of keys, or -1 if the line needs the slow path.
    """
    while k < end and ws(buf[k]):
        k += 1
    if k >= end or buf[k] != 123:
        return -1
    k += 1
    count = 0
    while True:
        while k < end and ws(buf[k]):
            k += 1
        if k >= end:
            return -1
        if buf[k] == 125 and count == 0:
            k += 1
            break
        if buf[k] != 34 or count >= MAX_KEYS:
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
        while k < end and ws(buf[k]):
            k += 1
        if k >= end or buf[k] != 58:
            return -1
        k += 1
        while k < end and ws(buf[k]):
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
            while k < end and buf[k] != 44 and buf[k] != 125 and not ws(buf[k]):
                k += 1
            if not _literal(buf, s, k):
                return -1
            vs[count] = -1
            ve[count] = -1
        count += 1
        while k < end and ws(buf[k]):
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
        if not ws(buf[k]):
            return -1
        k += 1
    for a in range(count):
        for b in range(a):
            if same(buf, ks[a], ke[a], buf, ks[b], ke[b]):
                return -1
    return count
