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

from pydantic import Field

from tuneval import __version__
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
    gives log-probabilities). HumanEval/MBPP: ``completion`` (the original prompt continued,
    for base models) or ``chat`` (EvalPlus-style instruction; the default for a backend
    with a chat template)."""
    protocol: str | None = None
    """Judging protocol. MT-Bench: ``fastchat`` (default; FastChat's judge templates,
    parsing and budget, needs ``judge_prompts.jsonl`` in the data) or ``tuneval`` (the JSON
    rubric judge with retries). AlpacaEval: ``both-orders`` (default) or ``alpaca_eval``
    (one randomised order per item, as alpaca_eval annotates)."""
    timeout_factor: float = Field(default=1.0, gt=0)
    """Code benchmarks: multiplies the reference harness's 3 s per program. Raise it on a
    slow or busy CPU (e.g. 2-3), where correct but slower solutions would otherwise time
    out; the factor is part of the signature since it can change results."""
    format: str | None = None
    """MMLU: prompt format, ``lm-eval`` (default), ``original`` (the Hendrycks script) or
    ``chat`` (the prompt as a chat turn, scored after the chat template)."""


def protocol_signature(benchmark: str, **fields: object) -> str:
    """A sacreBLEU-style signature of how a benchmark number was produced.

    Two benchmark numbers are comparable only when their signatures are equal: the same
    benchmark, prompt format, templates, judge protocol, aggregation and tuneval version.
    Field order is kept as given; ``None`` reads ``none``, booleans ``yes``/``no``, and
    sequences are joined with ``+``.

    Args:
        benchmark: The benchmark name, the signature's first part (e.g. ``mmlu``).
        **fields: Protocol settings in display order (e.g. ``shots=5, format="lm-eval"``).

    Returns:
        For example ``mmlu|shots:5|format:lm-eval|template:none|agg:micro|tuneval:0.1.0``.
    """
    parts = [benchmark, *(f"{key}:{_sig_value(value)}" for key, value in fields.items())]
    return "|".join([*parts, f"tuneval:{__version__}"])


def _sig_value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "+".join(_sig_value(v) for v in value) or "none"
    # A "|" or ":" inside a value would make the signature ambiguous to read back.
    return str(value).replace("|", "/").replace(":", "=")


def parse_signature(signature: str) -> tuple[str, dict[str, str]]:
    """The benchmark name and the fields of a `protocol_signature` string."""
    name, *rest = signature.split("|")
    return name, dict(part.split(":", 1) for part in rest if ":" in part)


def signature_mismatch(first: str, second: str) -> list[str]:
    """Fields on which two protocol signatures differ (empty: the numbers are comparable).

    Each entry reads ``field: value-a != value-b``; a field missing on one side reads
    ``missing``.
    """
    name_a, a = parse_signature(first)
    name_b, b = parse_signature(second)
    diffs = [f"benchmark: {name_a} != {name_b}"] if name_a != name_b else []
    for key in dict.fromkeys([*a, *b]):
        if a.get(key) != b.get(key):
            diffs.append(f"{key}: {a.get(key, 'missing')} != {b.get(key, 'missing')}")
    return diffs


class Benchmark(ABC):
    """One standard benchmark."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Generate, score and write results into ``out``; return the summary.

        The summary (also written into ``run.json`` under ``benchmark``) carries the run's
        `protocol_signature` under ``signature``.
        """


BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark", UsageError)


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator: register a benchmark under its `name`."""
    return BENCHMARKS.register(cls.name)(cls)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered under ``name``."""
    import tuneval.benchmarks  # noqa: F401  (registers the built-in benchmarks)

    return BENCHMARKS.get(name)()
