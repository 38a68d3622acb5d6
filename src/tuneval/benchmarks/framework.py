"""The common runner of every benchmark: calls, per-item resume, records.

`run_benchmark` loads a benchmark's problems, makes the model calls the benchmark asks for
through `tuneval.models.runner.call_many` (the call cache, the caller's timeouts, retries and
concurrency), appends each answer to ``generations.jsonl`` the moment it arrives, grades,
lets a judged benchmark call its judge, and writes the records and the summary. A run
killed at any point resumes from ``generations.jsonl``: a rerun makes only the calls whose
answer is not there (a failed call is tried again), so no finished call is paid twice even
without the cache. The final files are rewritten in problem order, so a run's files do not
depend on the order in which calls finished.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tuneval.benchmarks.base import AnyBenchmark, Item, Scored
from tuneval.benchmarks.options import CommonOptions
from tuneval.errors import DataError, UsageError
from tuneval.models.base import ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.loop import run_sync
from tuneval.models.runner import CallOptions, CallResult, call_many, run_calls
from tuneval.records import Generation
from tuneval.rundir import JsonlAppender, RunDir

KEY_FIELD = "bench_key"
"""``run.json`` field holding the fingerprint of the settings the answers were made with."""


@dataclass
class BenchRun:
    """One benchmark run's setting: where it writes, what it calls and how."""

    out: RunDir
    """The run directory."""
    backend: ModelBackend
    """The model evaluated."""
    options: Any
    """The benchmark's validated options record."""
    judge: ModelBackend | None
    """The judge model (judged benchmarks), owned by the caller."""
    calls: CallOptions
    """Concurrency, timeout and retries of every call."""
    cache: CallCache | None
    """The call cache (None: no cache)."""
    refresh: bool = False
    """Ignore cached answers (and store the fresh ones)."""
    on_call: Callable[[], None] | None = None
    """Called after every model or judge call finishes (progress display)."""

    @property
    def model(self) -> str:
        """The model name the records carry."""
        return self.backend.name

    def call(
        self,
        backend: ModelBackend,
        requests: Sequence[Request],
        on_done: Callable[[int, CallResult], None] | None = None,
    ) -> list[CallResult]:
        """Make ``requests`` with this run's call options and cache (judges use it too)."""

        def done(index: int, result: CallResult) -> None:
            if on_done is not None:
                on_done(index, result)
            if self.on_call is not None:
                self.on_call()

        return run_calls(
            backend, requests, self.calls, done, cache=self.cache, refresh=self.refresh
        )


def run_benchmark(
    benchmark: AnyBenchmark,
    backend: ModelBackend,
    out: RunDir,
    options: BaseModel | Mapping[str, Any],
    *,
    judge: ModelBackend | None = None,
    calls: CallOptions | None = None,
    cache: CallCache | None = None,
    refresh: bool = False,
    on_call: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run ``benchmark`` on ``backend`` into ``out``, resuming what ``out`` already holds.

    Args:
        benchmark: A fresh instance (`get_benchmark`).
        backend: The model; the caller closes it.
        out: The run directory.
        options: The benchmark's options (its record, or the options by name).
        judge: The judge model of a judged benchmark (MT-Bench, AlpacaEval); the caller
            builds it (with its options) and closes it.
        calls: Concurrency, timeout and retries (default `CallOptions()`).
        cache: The call cache (None: none; a killed run still resumes from its records).
        refresh: Ignore cached answers.
        on_call: Called after every model or judge call finishes (progress display).

    Returns:
        The summary, also written into ``run.json`` under ``benchmark``. A problem with a
        failed call is left out of it and of ``scores.jsonl``; ``failed_calls`` and
        ``failed_items`` count them.

    Raises:
        UsageError: For an invalid option, a judged benchmark without a judge, or a run
            directory holding answers made with other settings.
        DataError: When every problem has a failed call (there is no number to give).
    """
    opts = benchmark.parse_options(options)
    if benchmark.needs_judge and judge is None:
        raise UsageError(f"{benchmark.name} needs a judge model: --judge SPEC")
    run = BenchRun(out, backend, opts, judge, calls or CallOptions(), cache, refresh, on_call)
    items = list(benchmark.load(backend, opts))
    caller = benchmark.caller(backend)
    _claim(out, _settings_key(benchmark, caller, opts))
    answers = _generate(benchmark, run, caller, items)
    scored = benchmark.score_all(items, answers)
    write_run(out, scored)
    scored = benchmark.judge(run, items, scored)
    kept = _answered(benchmark.name, items, scored, answers)
    replace_records(out.record_file("scores"), (s for _, one in kept for s in one.scores))
    summary = benchmark.summarize(run, [i for i, _ in kept], [one for _, one in kept])
    if len(kept) < len(items):
        summary["failed_calls"] = sum(g.output is None for gs in answers.values() for g in gs)
        summary["failed_items"] = len(items) - len(kept)
    out.update_info(benchmark=summary)
    return summary


def _answered(
    name: str,
    items: Sequence[Item],
    scored: Sequence[Scored],
    answers: Mapping[str, Sequence[Generation]],
) -> list[tuple[Item, Scored]]:
    """The problems whose calls all succeeded, with their grades.

    A problem with a failed call is excluded (no scores, not in the summary), as the
    workflow's generate step excludes a failed generation; a rerun retries only its calls.

    Raises:
        DataError: When every problem has a failed call (there is no number to give).
    """
    kept = [
        (item, one)
        for item, one in zip(items, scored, strict=True)
        if all(g.output is not None for g in answers[item.id])
    ]
    if not kept:
        first = next(g.error for gs in answers.values() for g in gs if g.output is None)
        raise DataError(
            f"every {name} problem has a failed model call (first: {first}); fix the cause "
            "and rerun the same command (only the failed calls are made again)"
        )
    return kept


def _settings_key(benchmark: AnyBenchmark, caller: ModelBackend, opts: CommonOptions) -> str:
    """Fingerprint of what the answers depend on: benchmark, options and model identity."""
    payload = {
        "benchmark": benchmark.name,
        # Sandbox workers change how fast programs run, not what the model is asked.
        "options": opts.model_dump(mode="json", exclude={"workers"}),
        "model": caller.identity(),
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _claim(out: RunDir, key: str) -> None:
    """Record ``key`` in ``run.json``; refuse a directory whose answers used other settings."""
    previous = out.read_info().get(KEY_FIELD)
    if previous not in (None, key) and out.generations_path.exists():
        raise UsageError(
            f"{out.path} holds a benchmark run made with other settings (benchmark, options "
            "or model); give this run another output directory, or delete that one"
        )
    out.update_info(**{KEY_FIELD: key})


def _generate(
    benchmark: AnyBenchmark, run: BenchRun, caller: ModelBackend, items: Sequence[Item]
) -> dict[str, list[Generation]]:
    """Every slot's answer of every item: from ``generations.jsonl``, else a call made now.

    Rounds repeat while answers unlock further calls (MT-Bench's second turn needs the
    first); each answer is appended and flushed as its call finishes.
    """
    model = run.model
    kept = {
        (g.example_id, int(g.metadata.get("sample", 0))): g
        for g in run.out.generations(model)
        if g.output is not None  # a failed call is tried again
    }
    answers: dict[str, dict[int, Generation]] = {item.id: {} for item in items}
    with JsonlAppender(run.out.generations_path) as appender:
        while True:
            pending: list[tuple[Item, int, Request]] = []
            for item in items:
                have = answers[item.id]
                for slot, request in enumerate(benchmark.requests(item, _prefix(have))):
                    if slot in have:
                        continue
                    found = kept.get((benchmark.record_id(item, slot), slot))
                    if found is not None:
                        have[slot] = found
                    else:
                        pending.append((item, slot, request))
            if not pending:
                break

            def done(index: int, result: CallResult, todo: list[Any] = pending) -> None:
                item, slot, _ = todo[index]
                record = _record(benchmark, model, item, slot, result)
                appender.write(record)
                answers[item.id][slot] = record
                if run.on_call is not None:
                    run.on_call()

            run_sync(
                call_many(
                    caller, [p[2] for p in pending], run.calls, done, cache=run.cache,
                    refresh=run.refresh,
                )
            )  # fmt: skip
    return {i: [have[s] for s in sorted(have)] for i, have in answers.items()}


def _prefix(have: Mapping[int, Generation]) -> list[Generation]:
    """The answers of slots 0, 1, ... up to the first slot not answered yet."""
    out: list[Generation] = []
    while len(out) in have:
        out.append(have[len(out)])
    return out


def _record(
    benchmark: AnyBenchmark, model: str, item: Item, slot: int, result: CallResult
) -> Generation:
    text = result.completion.text if result.completion is not None else None
    return Generation(
        example_id=benchmark.record_id(item, slot),
        model=model,
        output=text,
        error=None if text is not None else (result.error or "call failed"),
        metadata={"sample": slot, **benchmark.slot_metadata(item, slot)},
    )


def replace_records(path: Path, records: Iterable[BaseModel]) -> None:
    """Write ``records`` as the whole JSONL file at ``path`` (atomically replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.model_dump_json() + "\n")
    tmp.replace(path)


def write_run(out: RunDir, scored: Sequence[Any]) -> None:
    """Write the examples and generations of graded problems, in problem order."""
    out.write_examples(e for one in scored for e in one.examples)
    replace_records(out.generations_path, (g for one in scored for g in one.generations))
