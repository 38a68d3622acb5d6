"""The benchmark interface and registry.

A benchmark says what to ask and how to grade; `tuneval.benchmarks.framework` does the rest
the same way for every benchmark. `Benchmark.load` reads the problems (from the Hugging Face
hub, or from local files in the original release format with ``data``),
`Benchmark.requests` gives the model calls of one problem, and `Benchmark.score` grades one
problem's answers. The framework makes the calls through `tuneval.models.runner` (the call
cache, timeouts, retries), appends each answer to ``generations.jsonl`` as it arrives (a
killed run resumes without repeating a call), and writes ``examples.jsonl``,
``scores.jsonl`` (per-example `Score` records, so two models' runs compare with the paired
machinery) and a summary with a protocol signature in ``run.json``. Benchmarks graded by a
judge model get it passed in as a `ModelBackend`, built and closed by the caller.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from tuneval import __version__
from tuneval.benchmarks.options import CommonOptions, check_options
from tuneval.errors import UsageError
from tuneval.models.base import ModelBackend, Request
from tuneval.records import Example, Generation, Record, Score
from tuneval.registry import Registry
from tuneval.rundir import RunDir

if TYPE_CHECKING:
    from tuneval.benchmarks.framework import BenchRun
    from tuneval.models.cache import CallCache
    from tuneval.models.runner import CallOptions


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


class Item(Record):
    """One problem of a benchmark (benchmarks subclass it with their own fields)."""

    id: str
    """The problem's identifier, unique within the benchmark run."""


ItemT = TypeVar("ItemT", bound=Item)
OptionsT = TypeVar("OptionsT", bound=CommonOptions)


@dataclass
class Scored:
    """The records of one graded problem, written by the framework in problem order."""

    examples: list[Example]
    """The problem as eval-set examples (MT-Bench: one per turn)."""
    generations: list[Generation]
    """Its answers as written in ``generations.jsonl`` (with grading facts in metadata)."""
    scores: list[Score] = field(default_factory=list)
    """Its per-example scores (none when it cannot be graded)."""


class Benchmark(ABC, Generic[ItemT, OptionsT]):
    """One standard benchmark: what to ask (`load`, `requests`) and how to grade (`score`).

    An instance holds one run's protocol once `load` has resolved it, so get a fresh one
    from `get_benchmark` per run.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options_type: ClassVar[type[CommonOptions]] = CommonOptions
    """The benchmark's typed options record."""
    needs_judge: ClassVar[bool] = False
    """True when grading calls a judge model (passed to `run`)."""

    def parse_options(self, options: BaseModel | Mapping[str, Any]) -> OptionsT:
        """``options`` checked against `options_type` (see `check_options`)."""
        return check_options(self.name, self.options_type, options)  # type: ignore[return-value]

    @abstractmethod
    def load(self, backend: ModelBackend, options: OptionsT) -> Sequence[ItemT]:
        """The problems of this run; resolves the protocol (mode, format) for ``backend``."""

    @abstractmethod
    def requests(self, item: ItemT, answers: Sequence[Generation]) -> list[Request]:
        """Every model call of ``item`` that can be made given its ``answers`` so far.

        The list is indexed by slot (sample or turn). A call that depends on an earlier
        answer (MT-Bench's second turn) appears once that answer is in ``answers``.
        """

    def record_id(self, item: ItemT, slot: int) -> str:
        """The ``example_id`` of the generation record of one slot (default: the item id)."""
        return item.id

    def slot_metadata(self, item: ItemT, slot: int) -> dict[str, Any]:
        """Metadata of one slot's generation record (besides its ``sample`` number)."""
        return {}

    def caller(self, backend: ModelBackend) -> ModelBackend:
        """The backend the requests go to (default: the model itself)."""
        return backend

    @abstractmethod
    def score(self, item: ItemT, answers: Sequence[Generation]) -> Scored:
        """Grade one problem from its answers (one per slot); no model call."""

    def score_all(
        self, items: Sequence[ItemT], answers: Mapping[str, Sequence[Generation]]
    ) -> list[Scored]:
        """`score` of every problem (code benchmarks run their programs in parallel)."""
        return [self.score(item, answers[item.id]) for item in items]

    @abstractmethod
    def summarize(
        self, run: BenchRun, items: Sequence[ItemT], scored: list[Scored]
    ) -> dict[str, Any]:
        """The summary in ``run.json`` (with its protocol signature under ``signature``)."""

    def judge(self, run: BenchRun, items: Sequence[ItemT], scored: list[Scored]) -> list[Scored]:
        """Grade with the judge model after the answers are written (judged benchmarks)."""
        return scored

    def run(
        self,
        backend: ModelBackend,
        out: RunDir,
        options: BaseModel | Mapping[str, Any] | None = None,
        *,
        judge: ModelBackend | None = None,
        calls: CallOptions | None = None,
        cache: CallCache | None = None,
        refresh: bool = False,
        on_call: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Run the benchmark on ``backend`` into ``out``; resumable. See `run_benchmark`."""
        from tuneval.benchmarks.framework import run_benchmark

        return run_benchmark(
            self, backend, out, options or {}, judge=judge, calls=calls, cache=cache,
            refresh=refresh, on_call=on_call,
        )  # fmt: skip


AnyBenchmark = Benchmark[Any, Any]

BENCHMARKS: Registry[type[AnyBenchmark]] = Registry("benchmark", UsageError)


def register_benchmark(cls: type[AnyBenchmark]) -> type[AnyBenchmark]:
    """Class decorator: register a benchmark under its `name`."""
    return BENCHMARKS.register(cls.name)(cls)


def get_benchmark(name: str) -> AnyBenchmark:
    """The benchmark registered under ``name``."""
    import tuneval.benchmarks  # noqa: F401  (registers the built-in benchmarks)

    return BENCHMARKS.get(name)()
