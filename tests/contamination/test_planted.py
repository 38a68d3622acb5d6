"""Planted contamination: copied, partly copied, case/punctuation-changed and clean items."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from contam_corpus import sentence, write_jsonl

from tuneval.contamination import check, duplicates, write_clean
from tuneval.contamination.normalize import tokens

N = 8


def _setup(tmp_path: Path, rng: random.Random) -> tuple[Path, Path, dict[str, str]]:
    train_rows = [
        {"id": i, "instruction": sentence(rng, 30), "output": sentence(rng, 40)} for i in range(300)
    ]
    src = train_rows[10]["output"]  # 40 tokens, 33 8-grams
    words = src.split()
    evals = {
        "copied": src,
        # 20 copied tokens (13 8-grams) + 30 fresh ones: 13 / 43 n-grams match
        "partial_low": " ".join(words[:20]) + " " + " ".join(f"fresh{i}" for i in range(30)),
        # 36 copied tokens + 4 fresh: 29 / 33 match
        "partial_high": " ".join(words[:36]) + " zz1 zz2 zz3 zz4",
        "case_punct": ", ".join(w.upper() + "!" for w in train_rows[20]["instruction"].split()),
        "clean": " ".join(f"clean{i}" for i in range(40)),
        "short": "too short",
    }
    train = write_jsonl(tmp_path / "train.jsonl", train_rows)
    ev = write_jsonl(
        tmp_path / "eval.jsonl",
        [{"id": k, "prompt": v, "category": k.split("_")[0]} for k, v in evals.items()],
    )
    return train, ev, evals


def test_planted(tmp_path: Path, rng: random.Random) -> None:
    train, ev, evals = _setup(tmp_path, rng)
    report = check([str(train)], str(ev), n=N, fields=["output", "instruction"], threshold=0.5)
    by = {e.id: e for e in report.examples}
    assert (by["copied"].matched, by["copied"].ngrams, by["copied"].flagged) == (33, 33, True)
    assert by["copied"].spans == [evals["copied"]]
    assert by["copied"].found_in == [f"{train}:11"]
    assert (by["partial_low"].matched, by["partial_low"].ngrams) == (13, 43)
    assert by["partial_low"].overlap == pytest.approx(13 / 43)
    assert not by["partial_low"].flagged  # below the threshold
    assert by["partial_low"].spans == [" ".join(evals["copied"].split()[:20])]
    assert (by["partial_high"].matched, by["partial_high"].ngrams) == (29, 33)
    assert by["partial_high"].flagged
    assert by["case_punct"].overlap == 1.0 and by["case_punct"].found_in == [f"{train}:21"]
    assert by["case_punct"].spans == [" ".join(tokens(evals["case_punct"]))]
    assert by["clean"].matched == 0 and not by["clean"].flagged and not by["clean"].spans
    assert by["short"].ngrams == 1 and by["short"].whole and not by["short"].flagged
    assert report.checked_whole == 1
    assert report.contaminated == 3 and report.total == 6
    assert report.by_category["partial"] == [1, 2]


def test_threshold_zero_flags_any_match(tmp_path: Path, rng: random.Random) -> None:
    train, ev, _ = _setup(tmp_path, rng)
    report = check([str(train)], str(ev), n=N)
    assert {e.id for e in report.examples if e.flagged} == {
        "copied",
        "partial_low",
        "partial_high",
        "case_punct",
    }


def test_fields_restrict_the_text(tmp_path: Path, rng: random.Random) -> None:
    train, ev, _ = _setup(tmp_path, rng)
    report = check([str(train)], str(ev), n=N, fields=["instruction"])
    by = {e.id: e for e in report.examples}
    assert by["copied"].matched == 0 and by["case_punct"].matched == by["case_punct"].ngrams


def test_write_clean(tmp_path: Path, rng: random.Random) -> None:
    train, ev, _ = _setup(tmp_path, rng)
    report = check([str(train)], str(ev), n=N, threshold=0.5)
    out = tmp_path / "clean.jsonl"
    report = write_clean(report, str(ev), out)
    kept = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert kept == ["partial_low", "clean", "short"]
    assert sorted(report.removed) == ["case_punct", "copied", "partial_high"]


def test_workers_and_shards_agree(tmp_path: Path, rng: random.Random) -> None:
    import tuneval.contamination.sources as sources

    train, ev, _ = _setup(tmp_path, rng)
    one = check([str(train)], str(ev), n=N)
    old = sources.SHARD_BYTES
    try:
        sources.SHARD_BYTES = 4096  # many byte-range shards of one file
        many = check([str(train)], str(ev), n=N, workers=2)
    finally:
        sources.SHARD_BYTES = old
    assert many.examples == one.examples


def test_duplicates_within_a_set(tmp_path: Path, rng: random.Random) -> None:
    a, b = sentence(rng, 20), sentence(rng, 20)
    ev = write_jsonl(
        tmp_path / "e.jsonl",
        [{"id": "1", "prompt": a}, {"id": "2", "prompt": b}, {"id": "3", "prompt": a.upper()}],
    )
    report = duplicates(str(ev), n=N)
    assert [e.flagged for e in report.examples] == [True, False, True]
    assert report.examples[0].found_in == [f"{ev}:3"]
