"""The compiled kernels against a plain-Python reference, on random short and long texts.

Hypothesis draws texts from a vocabulary of one-letter words, long words and unicode words
(accents, curly quotes, CJK punctuation, ß), including many one-character records, for every n
in 1..20; the scan must find exactly what a Python set of n-grams (and, for examples shorter
than n, a contiguous-sublist search) finds, on each path: the compiled JSONL parser (ASCII
records), the JSONL fallback through ``json`` (non-ASCII records) and the generic text reader.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tuneval.contamination import _kernels, check, duplicates
from tuneval.contamination.index import pack
from tuneval.contamination.normalize import tokens
from tuneval.contamination.report import spans

WORDS = ["a", "b", "c", "1", "ab", "abc", "w0", "w1x", "longerword", "x-y", "Q!"]
UNICODE = [*WORDS, "é", "ß", "straße", "h’i", "“q”", "、", "naïve", "日本"]

_texts = st.lists(st.sampled_from(UNICODE), min_size=0, max_size=30).map(" ".join)
_ascii = st.lists(st.sampled_from(WORDS), min_size=0, max_size=30).map(" ".join)


def _contains(hay: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(hay[i : i + size] == needle for i in range(len(hay) - size + 1))


def reference(
    train: list[str], evals: list[str], n: int, within: bool = False
) -> list[tuple[int, int, list[str]]]:
    """(matched, n-grams, spans) per eval text; short texts are checked whole."""
    train_toks = [tokens(t) for t in train]
    out = []
    for i, text in enumerate(evals):
        toks = tokens(text)
        others = [t for j, t in enumerate(train_toks) if not (within and j == i)]
        if len(toks) >= n:
            seen = {tuple(t[k : k + n]) for t in others for k in range(len(t) - n + 1)}
            hits = [k for k in range(len(toks) - n + 1) if tuple(toks[k : k + n]) in seen]
            out.append((len(hits), len(toks) - n + 1, spans(toks, hits, n)))
        elif toks:
            found = any(_contains(t, toks) for t in others)
            out.append((int(found), 1, [" ".join(toks)] if found else []))
        else:
            out.append((0, 0, []))
    return out


def _hash_reference(texts: list[str], n: int) -> list[tuple[int, int]]:
    out = []
    for r, text in enumerate(texts):
        size = len(tokens(text))
        out += [(r, p) for p in range(size - n + 1)] if size >= n else [(r, 0)] * (size > 0)
    return out


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.one_of(_texts, st.sampled_from(["a", "é", " ", ""])), max_size=40),
       n=st.integers(1, 20))  # fmt: skip
def test_ngram_hashes_sizes_and_positions(texts: list[str], n: int) -> None:
    """One hash per n-gram, one per short record: never more than the buffer holds."""
    buf, starts = pack(texts)
    rec, pos, hashes, _ = _kernels.ngram_hashes(buf, starts, n)
    assert list(zip(rec.tolist(), pos.tolist(), strict=True)) == _hash_reference(texts, n)
    assert np.all(hashes != 0)


def test_one_character_records_with_n_1() -> None:
    """The case that overflowed the old buffer (bytes // 2 + 1) and corrupted memory."""
    texts = ["a"] * 1000 + ["é"] * 1000
    buf, starts = pack(texts)
    rec, pos, _, _ = _kernels.ngram_hashes(buf, starts, 1)
    assert rec.size == 2000 and pos.max() == 0


def _scan(train: list[str], evals: list[str], n: int, ext: str) -> list[tuple[int, int, list[str]]]:
    # An eval set with no text at all is refused before scanning (nothing could be checked).
    assume(any(tokens(e) for e in evals))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train_file = folder / f"train.{ext}"
        if ext == "jsonl":
            rows = (json.dumps({"id": i, "text": t}) for i, t in enumerate(train))
            train_file.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
        else:  # one paragraph per record: blank lines between them
            train_file.write_text("\n\n".join(t or "." for t in train) + "\n", encoding="utf-8")
        eval_file = folder / "eval.jsonl"
        rows = (json.dumps({"id": str(i), "prompt": t}) for i, t in enumerate(evals))
        eval_file.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
        report = check([str(train_file)], str(eval_file), n=n)
    return [(e.matched, e.ngrams, e.spans) for e in report.examples]


def _with_copies(train: list[str], evals: list[str]) -> list[str]:
    """Training texts plus verbatim copies of some eval texts inside longer records."""
    return [*train, *(f"pre {e} post" for e in evals[::3])]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(train=st.lists(_ascii, min_size=1, max_size=12),
       evals=st.lists(_ascii, min_size=1, max_size=8), n=st.integers(1, 20))  # fmt: skip
def test_compiled_jsonl_path_equals_reference(train: list[str], evals: list[str], n: int) -> None:
    train = _with_copies(train, evals)
    assert _scan(train, evals, n, "jsonl") == reference(train, evals, n)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(train=st.lists(_texts, min_size=1, max_size=12),
       evals=st.lists(_texts, min_size=1, max_size=8), n=st.integers(1, 20))  # fmt: skip
def test_unicode_paths_equal_reference(train: list[str], evals: list[str], n: int) -> None:
    """Non-ASCII JSONL lines go through json and the generic kernel; text files always do."""
    train = _with_copies(train, evals)
    expected = reference(train, evals, n)
    assert _scan(train, evals, n, "jsonl") == expected
    paragraphs = [t for t in train if tokens(t)]  # a text file cannot hold an empty record
    assert _scan(paragraphs, evals, n, "txt") == reference(paragraphs, evals, n)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evals=st.lists(_texts, min_size=1, max_size=10), n=st.integers(1, 20))
def test_within_equals_reference(evals: list[str], n: int) -> None:
    evals = [*evals, *(f"pre {e} post" for e in evals[::2])]
    with tempfile.TemporaryDirectory() as tmp:
        eval_file = Path(tmp) / "eval.jsonl"
        rows = (json.dumps({"id": str(i), "prompt": t}) for i, t in enumerate(evals))
        eval_file.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
        report = duplicates(str(eval_file), n=n)
    got = [(e.matched, e.ngrams, e.spans) for e in report.examples]
    assert got == reference(evals, evals, n, within=True)
