"""The benchmark interface and registry.

A benchmark loads its problems (from the Hugging Face hub, or from local files in the
original release format with ``data``), asks a model through `tuneval.models`, scores the
answers and writes everything into a run directory: ``examples.jsonl``,
``generations.jsonl`` and ``scores.jsonl`` (per-example `Score` records, so two models'
runs compare with the paired machinery), plus a summary in ``run.json``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from tuneval.errors import UsageError
from tuneval.models.base import ModelBackend
from tuneval.records import Record
from tuneval.registry import Registry
from tuneval.rundir import RunDir


class BenchOptions(Record):
    """How a benchmark is run."""

    limit: int | None = None
    """Run only the first N problems (MMLU: per subject)."""
    data: Path | None = None
    """Local data file or folder in the original release format (default: the hub)."""
    samples: int = 1
    """Samples per problem (code benchmarks: n of pass@k)."""
    temperature: float = 0.0
    """Sampling temperature."""
    max_tokens: int = 512
    """Upper bound on generated tokens per answer."""
    max_concurrency: int = 8
    """Model calls in flight at once."""
    workers: int | None = None
    """Sandbox processes at once (default: the number of cores)."""
    subjects: tuple[str, ...] | None = None
    """MMLU: run only these subjects (default: all 57)."""
    judge: str | None = None
    """MT-Bench, AlpacaEval: the judge model spec (any backend)."""
    against: Path | None = None
    """MT-Bench: another model's MT-Bench run to compare with pairwise (instead of single
    grading)."""
    mode: str | None = None
    """MMLU: ``loglikelihood`` or ``generate`` (default: log-likelihood when the backend
    gives log-probabilities)."""


class Benchmark(ABC):
    """One standard benchmark."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Generate, score and write results into ``out``; return the summary."""


BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark", UsageError)


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator: register a benchmark under its `name`."""
    return BENCHMARKS.register(cls.name)(cls)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered under ``name``."""
    import tuneval.benchmarks  # noqa: F401  (registers the built-in benchmarks)

    return BENCHMARKS.get(name)()
