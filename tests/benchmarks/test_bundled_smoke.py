"""Smoke test of the benchmark pipelines with the bundled SmolLM2 model (few items)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark
from tuneval.models.base import create_backend
from tuneval.rundir import RunDir

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="no llama_cpp"),
    pytest.mark.skipif(not SHARED.exists(), reason="shared benchmark data absent"),
]


def test_mmlu_and_humaneval_with_bundled_model(tmp_path: Path) -> None:
    backend = create_backend("llamacpp:default")
    mmlu = get_benchmark("mmlu").run(
        backend,
        RunDir(tmp_path / "mmlu"),
        BenchOptions(data=SHARED / "mmlu", subjects=("anatomy",), limit=2),
    )
    assert mmlu["mode"] == "loglikelihood" and mmlu["items"] == 2
    assert 0.0 <= mmlu["overall"]["micro"]["accuracy"] <= 1.0
    he = get_benchmark("humaneval").run(
        backend,
        RunDir(tmp_path / "he"),
        BenchOptions(data=SHARED / "humaneval", limit=1, max_tokens=48),
    )
    assert he["problems"] == 1 and he["isolation"] in ("bwrap", "unshare", "rlimits-only")
    assert len(RunDir(tmp_path / "he").generations()) == 1
