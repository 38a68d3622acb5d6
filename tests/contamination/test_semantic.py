"""The semantic scan with a small deterministic encoder: top-k, floor, locations, errors.

The encoder here is a hashed bag of words (same words -> same vector), so the expected
neighbours are known exactly; the real model is exercised in tests/acceptance.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from tuneval.contamination.semantic import TopK, semantic_scan
from tuneval.errors import DataError


class BagEncoder:
    """Unit vectors of hashed word counts: texts sharing words are similar."""

    name = "bag"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def test_topk_equals_brute_force_over_many_batches() -> None:
    rng = np.random.default_rng(0)
    sims = rng.uniform(-1, 1, (7, 1000)).astype(np.float32)
    best = TopK(7, 5, 0.3)
    for start in range(0, 1000, 64):
        part = sims[:, start : start + 64]
        best.add(part, start, [f"f:{start + j + 1}" for j in range(part.shape[1])],
                 [f"t{start + j}" for j in range(part.shape[1])])  # fmt: skip
    for row in range(7):
        order = np.argsort(-sims[row], kind="stable")[:5]
        want = [(round(float(sims[row, j]), 4), f"f:{j + 1}", f"t{j}") for j in order
                if sims[row, j] >= 0.3]  # fmt: skip
        got = [(m.similarity, m.found_in, m.text) for m in best.matches(row)]
        assert got == want
    # Texts no item holds any more were dropped (memory stays bounded by items x k).
    assert len(best.kept) <= 2 * 7 * 5 + 1024


def test_per_shard_topk_merged_is_the_topk_of_all_records_ties_included() -> None:
    """How --ray merges shard results: equal scores (duplicate records) go to the earlier one."""
    rng = np.random.default_rng(1)
    sims = rng.choice(np.float32([0.2, 0.5, 0.7, 0.9]), (6, 300))  # many exact ties
    whole = TopK(6, 4, 0.4)
    whole.add(sims, 0, [f"r{j}" for j in range(300)], [f"t{j}" for j in range(300)])
    merged = TopK(6, 4, 0.4)
    for start in (0, 70, 190):  # three shards of unequal size, local record numbers
        end = {0: 70, 70: 190, 190: 300}[start]
        shard = TopK(6, 4, 0.4)
        for b in range(start, end, 32):  # batches inside the shard
            e = min(b + 32, end)
            shard.add(sims[:, b:e], b - start, list(range(b - start, e - start)),
                      [f"t{j}" for j in range(b, e)])  # fmt: skip
        merged.merge(shard, start, lambda n, s=start: f"r{int(n) + s}")
    for row in range(6):
        order = np.lexsort((np.arange(300), -sims[row]))[:4]
        want = [(round(float(sims[row, j]), 4), f"r{j}", f"t{j}") for j in order
                if sims[row, j] >= 0.4]  # fmt: skip
        for best in (whole, merged):
            assert [(m.similarity, m.found_in, m.text) for m in best.matches(row)] == want


def test_floor_keeps_nothing_below_it() -> None:
    best = TopK(2, 3, 0.9)
    best.add(np.array([[0.5, 0.95], [0.89, 0.1]], np.float32), 0, ["a", "b"], ["x", "y"])
    assert [m.found_in for m in best.matches(0)] == ["b"]
    assert best.matches(1) == []


def _write(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_scan_reports_the_file_and_line_of_each_match(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [{"text": "cooking pasta in salted water"}] * 3
               + [{"text": "the red fox jumps over a lazy dog"}])  # fmt: skip
    b = tmp_path / "b.json"
    b.write_text(json.dumps([{"text": "unrelated words here"}, {"text": "lazy dog jumps fox red"}]))
    enc = BagEncoder()
    rep = semantic_scan([str(a), str(b)], ["q1", "q2", "q3"],
                        ["a red fox jumps over the lazy dog", "", "quantum chromodynamics"],
                        enc, top_k=2, floor=0.5, batch_records=2)  # fmt: skip
    first = rep.examples[0]
    assert [m.found_in for m in first.matches] == [f"{a}:4", f"{b} record 2"]
    assert first.matches[0].similarity > first.matches[1].similarity >= 0.5
    assert first.matches[0].text == "the red fox jumps over a lazy dog"
    assert rep.examples[1].matches == []  # an empty eval text matches nothing
    assert rep.examples[2].matches == []
    assert (rep.records_embedded, rep.candidates) == (6, 1)
    assert enc.calls[1:] == [2, 2, 2]  # eval once, then training in batches (across files)


def test_lines_continue_across_byte_range_shards(tmp_path: Path, monkeypatch) -> None:
    import tuneval.contamination.semantic as semantic
    from tuneval.contamination.sources import plan

    filler = [{"text": f"filler record number {i}"} for i in range(400)]
    path = _write(tmp_path / "big.jsonl", [*filler, {"text": "needle sentence about green owls"}])
    monkeypatch.setattr(semantic, "SHARD_BYTES", 2000)
    assert len(plan([str(path)], 2000)) > 3
    rep = semantic_scan([str(path)], ["x"], ["green owls needle sentence"], BagEncoder(),
                        top_k=1, floor=0.8)  # fmt: skip
    assert rep.examples[0].matches[0].found_in == f"{path}:401"


def test_unreadable_training_records_fail_unless_skip_bad(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a red fox"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"could not be read.*t\.jsonl:2.*use skip_bad to scan"):
        semantic_scan([str(path)], ["q"], ["a red fox"], BagEncoder())
    rep = semantic_scan([str(path)], ["q"], ["a red fox"], BagEncoder(), skip_bad=True)
    assert rep.examples[0].matches[0].found_in == f"{path}:1"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="no training record could be read"):
        semantic_scan([str(path)], ["q"], ["a red fox"], BagEncoder(), skip_bad=True)


def test_bundled_model_unpacks_once_into_the_cache(tmp_path: Path) -> None:
    from tuneval.contamination.embedder import bundled_model_dir, resolve_model

    first = bundled_model_dir(tmp_path)
    assert (first / "modules.json").exists() and (first / "model.safetensors").exists()
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert bundled_model_dir(tmp_path) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "models").iterdir()] == [first.name]  # no leftovers
    assert resolve_model(str(tmp_path)) == str(tmp_path)  # a folder is used as given


def test_missing_model_package_names_the_extra(monkeypatch) -> None:
    from importlib import metadata

    import tuneval.contamination.embedder as embedder
    from tuneval.errors import MissingDependencyError

    def absent(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embedder.metadata, "distribution", absent)
    with pytest.raises(MissingDependencyError, match=r"pip install 'tuneval\[semantic\]'"):
        embedder.SentenceEncoder()
