"""The scan on Ray gives the local scan's report, byte for byte (flags, spans, locations)."""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pytest
from contam_corpus import sentence, write_jsonl

from tuneval.contamination import check
from tuneval.errors import MissingDependencyError

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a Ray runtime takes about 30 s to start on two busy cores

N = 8


@pytest.fixture(scope="module")
def runtime():
    """One local Ray runtime of 2 CPUs for the module (starting one takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def planted_corpus(folder: Path, rng: random.Random) -> tuple[list[str], Path]:
    """Training data in several files, one big enough to be cut into byte ranges."""
    big = [{"id": i, "text": sentence(rng, 60)} for i in range(9000)]  # about 3 MB
    small = [{"id": i, "text": sentence(rng, 30)} for i in range(200)]
    evals = {
        "copied_big_end": big[-3]["text"],  # in the last byte range of the big file
        "copied_big_mid": big[4500]["text"],
        "partial": " ".join(big[100]["text"].split()[:20] + [f"new{i}" for i in range(20)]),
        "copied_small": small[50]["text"],
        "copied_gz": "gzipped record " + "alpha beta gamma delta epsilon zeta eta theta iota",
        "clean": " ".join(f"clean{i}" for i in range(30)),
        "short": "tiny item",
    }
    write_jsonl(folder / "big.jsonl", big)
    write_jsonl(folder / "small.jsonl", small)
    with gzip.open(folder / "more.jsonl.gz", "wt", encoding="utf-8") as handle:
        for i in range(50):
            text = evals["copied_gz"] if i == 7 else sentence(rng, 20)
            handle.write(json.dumps({"text": text}) + "\n")
    ev = write_jsonl(folder / "eval.jsonl", [{"id": k, "prompt": v} for k, v in evals.items()])
    return [str(folder / "big.jsonl"), str(folder / "small.jsonl"), str(folder / "*.gz")], ev


def test_ray_report_is_the_local_report(runtime, tmp_path, rng):
    train, ev = planted_corpus(tmp_path, rng)
    local = check(train, str(ev), n=N, threshold=0.1)
    plan: list = []
    done: list = []

    def progress(shards, result):
        if result is None:
            plan.extend(shards)
        else:
            done.append(result.shard)

    on_ray = check(train, str(ev), n=N, threshold=0.1, ray="local", progress=progress)
    assert on_ray.model_dump() == local.model_dump()
    # The big file really was cut into byte ranges, each scanned by exactly one task.
    assert sum(s.path.endswith("big.jsonl") for s in plan) >= 3
    assert sorted(done, key=plan.index) == plan
    by = {e.id: e for e in on_ray.examples}
    assert by["copied_big_end"].flagged and by["copied_big_end"].found_in == [f"{train[0]}:8998"]
    assert by["copied_gz"].flagged and by["partial"].flagged and not by["clean"].flagged
    assert on_ray.records_scanned == 9000 + 200 + 50


def test_ray_missing_says_which_extra(monkeypatch, tmp_path, rng):
    train, ev = planted_corpus(tmp_path, rng)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"tuneval\[ray\]"):
        check(train, str(ev), n=N, ray="local")
