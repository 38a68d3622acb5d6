"""Equality with a straightforward reference (a Python set of all training n-grams)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from contam_corpus import write_jsonl

from tuneval.contamination import check
from tuneval.contamination.normalize import tokens
from tuneval.contamination.report import spans

ALPHABET = [f"w{i}" for i in range(8)]
UNICODE = [*ALPHABET, "a", "B", "ç", "dé", "e-f", "G!", "h’i", "straße", "x“y”", "1", "2,3"]
# ASCII only: these lines take the compiled JSONL parser (escapes: quotes, tabs, \u0041).
ASCII = [*ALPHABET, "a", "B", "e-f", "G!", 'say "hi"', "tab\there", "\u0041b", "1", "2,3"]


def _text(rng: random.Random, k: int, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(k))


def _reference(train: list[str], evals: list[str], n: int) -> list[tuple[int, int, list[str]]]:
    """A Python set of training n-grams; an example shorter than n is searched for whole."""
    seen: set[tuple[str, ...]] = set()
    train_toks = [tokens(text) for text in train]
    for toks in train_toks:
        seen.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    out = []
    for text in evals:
        toks = tokens(text)
        if 0 < len(toks) < n:
            size = len(toks)
            found = any(t[i : i + size] == toks for t in train_toks for i in range(len(t)))
            out.append((int(found), 1, [" ".join(toks)] if found else []))
            continue
        hits = [i for i in range(len(toks) - n + 1) if tuple(toks[i : i + n]) in seen]
        out.append((len(hits), max(0, len(toks) - n + 1), spans(toks, hits, n)))
    return out


@pytest.mark.parametrize("words", [UNICODE, ASCII], ids=["unicode", "ascii"])
@pytest.mark.parametrize(("seed", "n"), [(1, 3), (2, 4), (3, 5), (4, 6)])
def test_equals_reference(tmp_path: Path, seed: int, n: int, words: list[str]) -> None:
    rng = random.Random(seed)
    train = [_text(rng, rng.randint(0, 30), words) for _ in range(200)]
    evals = [_text(rng, rng.randint(0, 15), words) for _ in range(60)]
    # Two fields, a number and a null: the text is "a\nb" as record_text joins them.
    rows = [{"id": i, "a": t[: len(t) // 2], "n": 1.5e3, "z": None, "b": t[len(t) // 2 :]}
            for i, t in enumerate(train)]  # fmt: skip
    train = [f"{r['a']}\n{r['b']}" for r in rows]
    write_jsonl(tmp_path / "t.jsonl", rows)
    write_jsonl(tmp_path / "e.jsonl", [{"id": str(i), "prompt": e} for i, e in enumerate(evals)])
    report = check([str(tmp_path / "t.jsonl")], str(tmp_path / "e.jsonl"), n=n)
    got = [(e.matched, e.ngrams, e.spans) for e in report.examples]
    assert got == _reference(train, evals, n)
    assert any(m for m, _, _ in got) and not all(m == t for m, t, _ in got)


def test_hash_collision_is_never_reported(tmp_path: Path) -> None:
    """Make the table map the hash of "x y z" to the eval n-gram "a b c": a forced collision."""
    import numpy as np

    from tuneval.contamination import _kernels
    from tuneval.contamination.index import EvalIndex, pack
    from tuneval.contamination.scan import scan_shard
    from tuneval.contamination.sources import Shard

    index = EvalIndex.build(["a b c"], 3)
    buf, starts = pack(["x y z"])
    other = int(_kernels.ngram_hashes(buf, starts, 3)[2][0])
    index.keys[index.keys != 0] = other
    write_jsonl(tmp_path / "t.jsonl", [{"text": "x y z"}, {"text": "a b c"}])
    shard = Shard(str(tmp_path / "t.jsonl"), "jsonl")
    result = scan_shard(index, shard, None)
    assert result.matched.size == 0  # the hit on "x y z" was a candidate, not a match
    index = EvalIndex.build(["a b c"], 3)
    assert np.array_equal(scan_shard(index, shard, None).matched, [0])


def test_escaped_letters_are_verified_like_plain_ones(tmp_path: Path) -> None:
    """The compiled path verifies tokens written with \\u escapes exactly like plain ones."""
    eval_path = tmp_path / "eval.jsonl"
    write_jsonl(eval_path, [{"id": "e", "prompt": "Abc d e"}, {"id": "f", "prompt": "abd d e"}])
    train = tmp_path / "t.jsonl"
    # Line 1: "abc d e" with escaped letters and an escaped space; line 2: a near miss whose
    # escaped letter differs ("abX"), so only its hash could ever match by accident.
    train.write_bytes(b'{"text": "zz \\u0041b\\u0063\\u0020D e"}\n{"text": "ab\\u0058 d e"}\n')
    report = check([str(train)], str(eval_path), n=3)
    by_id = {e.id: e for e in report.examples}
    assert by_id["e"].flagged and by_id["e"].overlap == 1.0
    assert by_id["e"].found_in == [f"{train}:1"]
    assert not by_id["f"].flagged
