"""The planted paraphrase set is what its build script writes, and big enough to measure.

bench/semantic.py and tests/acceptance/test_paraphrase.py read the committed files; a change
to items.py without a rebuild would silently measure an older set.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "paraphrase"


def test_committed_files_are_the_build_output(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FIX))
    for name in ("build", "items"):
        sys.modules.pop(name, None)
    import build

    build.build(tmp_path)
    for name in ("eval.jsonl", "train.jsonl", "labels.json"):
        assert (tmp_path / name).read_text() == (FIX / name).read_text(), f"rebuild {name}"


def test_at_least_100_paraphrases_each_planted_once() -> None:
    labels: dict[str, int | None] = json.loads((FIX / "labels.json").read_text())
    kinds = {k: sum(i.startswith(k) for i in labels) for k in ("para", "edit", "clean")}
    assert kinds["para"] >= 100 and kinds["edit"] >= 25 and kinds["clean"] >= 40
    planted = [line for line in labels.values() if line is not None]
    assert len(planted) == kinds["para"] + kinds["edit"] == len(set(planted))
    assert all(labels[i] is None for i in labels if i.startswith("clean"))
    train = (FIX / "train.jsonl").read_text().splitlines()
    assert max(planted) <= len(train)
    evals = [json.loads(x)["prompt"] for x in (FIX / "eval.jsonl").read_text().splitlines()]
    assert len(set(evals)) == len(evals) == len(labels)
