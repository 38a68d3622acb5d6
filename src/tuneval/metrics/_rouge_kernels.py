"""Numba kernels behind the ``rouge`` metric: n-gram overlap, LCS and summary-level LCS.

Texts arrive as one flat ``int32`` array of token ids with per-text offsets, and a parallel
flag array that marks the first token of every newline-separated sentence. Every kernel
re-implements the arithmetic of Google's ``rouge-score`` 0.1.2 operation for operation (same
integer counts, same float divisions in the same order) so that the scores are bit-identical.

This module is imported only when a ROUGE metric computes: importing numba costs about half a
second, which ``import tuneval`` should not pay.
"""

# Numba infers the kernels' types from their arguments; annotating them would only restate
# the dtypes documented on `score_examples` and `tokenize`.
# mypy: disable-error-code="no-untyped-def"

from __future__ import annotations

import numba
import numpy as np

# Fibonacci hashing constant (2**64 / golden ratio) as a signed 64-bit integer.
_HASH_MULT = -7046029254386353131


@numba.njit(cache=True)
def _is_token_byte(c):
    return (97 <= c <= 122) or (48 <= c <= 57)  # [a-z0-9]


@numba.njit(cache=True)
def _count_tokens(data, text_offsets):
    count = 0
    for t in range(text_offsets.size - 1):
        inside = False  # a token never runs on into the next text
        for k in range(text_offsets[t], text_offsets[t + 1]):
            now = _is_token_byte(data[k])
            if now and not inside:
                count += 1
            inside = now
    return count


@numba.njit(cache=True)
def _span_hash(data, s, e):
    h = -3750763034362895579  # FNV-1a over the bytes, wrapping in 64 bits
    for k in range(s, e):
        h = (h ^ data[k]) * 1099511628211
    return h ^ (h >> 29)


@numba.njit(cache=True)
def _same_run(values, a, b, length):
    # values[a:a + length] == values[b:b + length], without building slices.
    for k in range(length):  # noqa: SIM110 - an explicit loop compiles to a tight scan
        if values[a + k] != values[b + k]:
            return False
    return True


@numba.njit(cache=True)
def _lookup_type(data, s, e, h, table, spans):
    # Slot holding the type of data[s:e], or the empty slot where it belongs.
    mask = table.size - 1
    slot = h & mask
    while table[slot] >= 0:
        a, b = spans[table[slot], 0], spans[table[slot], 1]
        if b - a == e - s and _same_run(data, a, s, e - s):
            break
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True)
def _add_type(s, e, h, n_types, table, spans, hashes):
    # Records a new type; doubles the arrays when full, keeping the table at most half full.
    if n_types == hashes.size:
        spans = np.concatenate((spans, np.empty_like(spans)))
        hashes = np.concatenate((hashes, np.empty_like(hashes)))
    spans[n_types, 0], spans[n_types, 1], hashes[n_types] = s, e, h
    if 2 * (n_types + 1) > table.size:
        table = np.full(2 * table.size, -1, np.int32)
        for t in range(n_types + 1):
            slot = hashes[t] & (table.size - 1)
            while table[slot] >= 0:
                slot = (slot + 1) & (table.size - 1)
            table[slot] = t
    return table, spans, hashes


@numba.njit(cache=True)
def tokenize(data, text_offsets):
    """Splits lowercased ASCII bytes into rouge-score tokens, numbering distinct types.

    Tokens are the maximal ``[a-z0-9]`` runs (rouge-score's ``[^a-z0-9]+`` -> space, then
    split); a newline starts a new ROUGE-Lsum sentence.

    Args:
        data: The texts, lowercased, non-ASCII replaced by ``?``, concatenated (``uint8``).
        text_offsets: Text ``t`` is ``data[text_offsets[t]:text_offsets[t + 1]]``.

    Returns:
        ``(types, starts, offsets, spans)``: the type number of every token, ``True`` at
        each sentence's first token, per-text token offsets, and for each type the
        ``(start, end)`` byte span of its first occurrence.
    """
    types = np.empty(_count_tokens(data, text_offsets), np.int32)
    starts = np.zeros(types.size, np.bool_)
    offsets = np.zeros(text_offsets.size, np.int64)
    table = np.full(1024, -1, np.int32)
    spans, hashes = np.empty((256, 2), np.int64), np.empty(256, np.int64)
    n_tok = n_types = 0
    for t in range(text_offsets.size - 1):
        k, end, new_sentence = text_offsets[t], text_offsets[t + 1], True
        while k < end:
            if not _is_token_byte(data[k]):
                new_sentence |= data[k] == 10  # "\n"
                k += 1
                continue
            s = k
            while k < end and _is_token_byte(data[k]):
                k += 1
            h = _span_hash(data, s, k)
            slot = _lookup_type(data, s, k, h, table, spans)
            tid = table[slot]
            if tid < 0:
                tid = table[slot] = n_types
                table, spans, hashes = _add_type(s, k, h, n_types, table, spans, hashes)
                n_types += 1
            types[n_tok], starts[n_tok], new_sentence = tid, new_sentence, False
            n_tok += 1
        offsets[t + 1] = n_tok
    return types, starts, offsets, spans[:n_types]


@numba.njit(cache=True)
def _fmeasure(precision: float, recall: float) -> float:
    # Same expression and evaluation order as rouge_score.scoring.fmeasure.
    if precision + recall > 0:
        return 2.0 * precision * recall / (precision + recall)
    return 0.0


@numba.njit(cache=True)
def _set_score(out, row, hits, n_pred, n_ref):
    precision = hits / max(n_pred, 1)
    recall = hits / max(n_ref, 1)
    out[row, 0] = precision
    out[row, 1] = recall
    out[row, 2] = _fmeasure(precision, recall)


@numba.njit(cache=True)
def _clipped_hits(tokens, p0, p1, r0, r1, counts, marks):
    # sum_t min(count_pred(t), count_marked_ref(t)) over a zeroed id-indexed count array
    # (left zeroed again); marks[k - r0] says whether ref token k takes part.
    for k in range(p0, p1):
        counts[tokens[k]] += 1
    hits = 0
    for k in range(r0, r1):
        tok = tokens[k]
        if marks[k - r0] and counts[tok] > 0:
            hits += 1
            counts[tok] -= 1
    for k in range(p0, p1):
        counts[tokens[k]] = 0
    return hits


@numba.njit(cache=True)
def _find_slot(tokens, start, n, slots, mask):
    # Open addressing keyed by the n-gram's start position; equality compares the n ids, so
    # hash collisions cost time but never correctness.
    h = 0
    for k in range(n):
        h = (h ^ tokens[start + k]) * _HASH_MULT
    slot = (h ^ (h >> 29)) & mask
    while slots[slot] >= 0 and not _same_run(tokens, slots[slot], start, n):
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True)
def _ngram_hits(tokens, n, p0, p1, r0, r1, slots, slot_counts):
    n_ref = r1 - r0 - n + 1
    n_pred = p1 - p0 - n + 1
    if n_ref <= 0 or n_pred <= 0:
        return 0
    size = 2
    while size < 2 * n_ref:
        size *= 2
    mask = size - 1
    for s in range(r0, r0 + n_ref):
        slot = _find_slot(tokens, s, n, slots, mask)
        slots[slot] = s
        slot_counts[slot] += 1
    hits = 0
    for s in range(p0, p0 + n_pred):
        slot = _find_slot(tokens, s, n, slots, mask)
        if slots[slot] >= 0 and slot_counts[slot] > 0:
            hits += 1
            slot_counts[slot] -= 1
    slots[:size] = -1
    slot_counts[:size] = 0
    return hits


@numba.njit(cache=True)
def _lcs_length(tokens, a0, a1, b0, b1, row):
    # One-row LCS dynamic programme; only the length is needed for ROUGE-L.
    width = b1 - b0
    row[: width + 1] = 0
    for i in range(a0, a1):
        tok = tokens[i]
        diag = 0
        for j in range(1, width + 1):
            up = row[j]
            if tok == tokens[b0 + j - 1]:
                row[j] = diag + 1
            elif row[j - 1] > up:
                row[j] = row[j - 1]
            diag = up
    return row[width]


@numba.njit(cache=True)
def _mark_lcs(tokens, a0, a1, b0, b1, table, marks, base):
    # Full LCS table of ref sentence [a0, a1) x candidate sentence [b0, b1), then the
    # backtrack of rouge-score's _backtrack_norec: take a match whenever the tokens are
    # equal, else move left only when the left cell is strictly larger than the upper one.
    rows = a1 - a0
    width = b1 - b0 + 1
    table[:width] = 0
    for i in range(1, rows + 1):
        cur = i * width
        prev = cur - width
        table[cur] = 0
        tok = tokens[a0 + i - 1]
        for j in range(1, width):
            if tok == tokens[b0 + j - 1]:
                table[cur + j] = table[prev + j - 1] + 1
            else:
                up = table[prev + j]
                left = table[cur + j - 1]
                table[cur + j] = up if up >= left else left
    i = rows
    j = width - 1
    while i > 0 and j > 0:
        if tokens[a0 + i - 1] == tokens[b0 + j - 1]:
            marks[a0 + i - 1 - base] = True
            i -= 1
            j -= 1
        elif table[i * width + j - 1] > table[(i - 1) * width + j]:
            j -= 1
        else:
            i -= 1


@numba.njit(cache=True)
def _sentences(starts, t0, t1, bounds):
    # Sentence boundaries of text [t0, t1) into bounds; returns the number of sentences.
    count = 0
    for k in range(t0, t1):
        if starts[k]:
            bounds[count] = k
            count += 1
    bounds[count] = t1
    return count


@numba.njit(cache=True)
def _summary_hits(tokens, starts, p0, p1, r0, r1, lcs, scratch):
    # Union-LCS hits of rouge-score's _summary_level_lcs. Its Counter clipping reduces to
    # sum_t min(U_t, count_pred(t)), where U_t counts type-t ref positions in any union
    # (U_t never exceeds the ref count, since union positions are distinct), so the marked
    # positions can be clipped against the prediction's counts in any order.
    counts, marks, ref_bounds, pred_bounds, table, row = scratch[:6]
    n_ref_sents = _sentences(starts, r0, r1, ref_bounds)
    n_pred_sents = _sentences(starts, p0, p1, pred_bounds)
    if n_ref_sents == 1 and n_pred_sents == 1:
        # One sentence each: the union is one LCS, every token of which matched a distinct
        # prediction token and so is a hit; the hits are the LCS length (``lcs`` if known).
        return lcs if lcs >= 0 else _lcs_length(tokens, r0, r1, p0, p1, row)
    marks[: r1 - r0] = False
    for a in range(n_ref_sents):
        a0, a1 = ref_bounds[a], ref_bounds[a + 1]
        for b in range(n_pred_sents):
            b0, b1 = pred_bounds[b], pred_bounds[b + 1]
            _mark_lcs(tokens, a0, a1, b0, b1, table, marks, r0)
    return _clipped_hits(tokens, p0, p1, r0, r1, counts, marks)


@numba.njit(cache=True)
def _score_pair(tokens, starts, offsets, p, r, orders, with_l, with_lsum, out, scratch):
    # Scores of prediction text p against reference text r into out (types x 3).
    counts, marks, slots, slot_counts = scratch[0], scratch[1], scratch[6], scratch[7]
    p0, p1, r0, r1 = offsets[p], offsets[p + 1], offsets[r], offsets[r + 1]
    len_p, len_r = p1 - p0, r1 - r0
    for k in range(orders.size):
        n = orders[k]
        if n == 1:
            marks[:len_r] = True
            hits = _clipped_hits(tokens, p0, p1, r0, r1, counts, marks)
        else:
            hits = _ngram_hits(tokens, n, p0, p1, r0, r1, slots, slot_counts)
        _set_score(out, k, hits, max(len_p - n + 1, 0), max(len_r - n + 1, 0))
    k = orders.size
    lcs = -1  # not computed
    if with_l:
        lcs = _lcs_length(tokens, r0, r1, p0, p1, scratch[5]) if len_p and len_r else 0
        _set_score(out, k, lcs, len_p, len_r)
        k += 1
    if with_lsum:
        hits = 0
        if len_p and len_r:
            hits = _summary_hits(tokens, starts, p0, p1, r0, r1, lcs, scratch)
        _set_score(out, k, hits, len_p, len_r)


@numba.njit(cache=True)
def _sentence_stats(starts, t0, t1):
    # (number of sentences, length of the longest) of text [t0, t1).
    longest, begin, count = 0, t0, 0
    for k in range(t0 + 1, t1 + 1):
        if k == t1 or starts[k]:
            longest, begin, count = max(longest, k - begin), k, count + 1
    return count, longest


@numba.njit(cache=True)
def _make_scratch(starts, offsets, pred_text, ref_text, ref_offsets, vocab_size):
    # Scratch arrays sized once for the batch, so the per-pair kernels never allocate.
    longest = 1
    for t in range(offsets.size - 1):
        longest = max(longest, offsets[t + 1] - offsets[t])
    stats = np.empty((offsets.size - 1, 2), np.int64)
    for t in range(offsets.size - 1):
        stats[t] = _sentence_stats(starts, offsets[t], offsets[t + 1])
    table_size = 1
    for e in range(pred_text.size):
        for q in range(ref_offsets[e], ref_offsets[e + 1]):
            (count_p, longest_p), (count_r, longest_r) = stats[pred_text[e]], stats[ref_text[q]]
            # ROUGE-Lsum builds LCS tables only when a side has several sentences.
            if count_p > 1 or count_r > 1:
                table_size = max(table_size, (longest_p + 1) * (longest_r + 1))
    slot_size = 2
    while slot_size < 2 * longest:
        slot_size *= 2
    return (
        np.zeros(vocab_size, np.int32),
        np.zeros(longest, np.bool_),
        np.empty(longest + 1, np.int64),
        np.empty(longest + 1, np.int64),
        np.empty(table_size, np.int32),
        np.empty(longest + 1, np.int32),
        np.full(slot_size, -1, np.int64),
        np.zeros(slot_size, np.int32),
    )


@numba.njit(cache=True)
def score_examples(
    tokens, starts, offsets, pred_text, ref_text, ref_offsets, orders, with_l, with_lsum, vocab_size
):
    """Scores every example against its best reference, like ``RougeScorer.score_multi``.

    Args:
        tokens: Token ids of all texts, concatenated (``int32``).
        starts: ``True`` at the first token of every sentence (and so of every text).
        offsets: Text ``t`` owns ``tokens[offsets[t]:offsets[t + 1]]``.
        pred_text: Text index of each example's prediction.
        ref_text: Text indices of the references, example by example.
        ref_offsets: Example ``e`` owns ``ref_text[ref_offsets[e]:ref_offsets[e + 1]]``.
        orders: The n of each ROUGE-N type, in output order.
        with_l: Whether to score ROUGE-L (after the ROUGE-N types).
        with_lsum: Whether to score ROUGE-Lsum (last).
        vocab_size: One more than the largest token id.

    Returns:
        ``(examples, types, 3)`` float64: precision, recall and F-measure per type, each
        from the reference with the highest F-measure for that type (the first on ties).
        An example without references scores 0.
    """
    scratch = _make_scratch(starts, offsets, pred_text, ref_text, ref_offsets, vocab_size)
    n_types = orders.size + int(with_l) + int(with_lsum)
    result = np.zeros((pred_text.size, n_types, 3))
    current = np.empty((n_types, 3))
    for e in range(pred_text.size):
        for q in range(ref_offsets[e], ref_offsets[e + 1]):
            args = (orders, with_l, with_lsum, current, scratch)
            _score_pair(tokens, starts, offsets, pred_text[e], ref_text[q], *args)
            for k in range(n_types):
                # np.argmax semantics: a later reference wins only when strictly better.
                if q == ref_offsets[e] or current[k, 2] > result[e, k, 2]:
                    result[e, k, :] = current[k, :]
    return result
