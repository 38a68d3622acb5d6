"""Generation: one model answers every example of an eval set, into a run directory.

Each finished call is appended to ``generations.jsonl`` at once (and stored in the call
cache just before), so a run killed at any moment resumes with only the (model, example)
pairs it lacks, repeats no finished call and writes no duplicate record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneval.data import load_examples
from tuneval.data.evalset import ExampleFields, RecordList, record_ids, to_example
from tuneval.data.readers import SourceRecord
from tuneval.errors import DataError, UsageError, settings_named
from tuneval.evaluation.inputs import as_list, check_lengths, shown
from tuneval.models.base import Decoding, Message, ModelBackend, Request, Usage, create_backend
from tuneval.models.cache import CallCache
from tuneval.models.loop import run_sync
from tuneval.models.runner import CallOptions, CallResult, CallStats, call_many
from tuneval.records import Example, Generation
from tuneval.rundir import JsonlAppender, RunDir


@dataclass
class GenerateSummary:
    """What a generation run did."""

    model: str
    """The model name the generations were written under."""
    backend: str
    """The backend spec."""
    total: int
    """Examples in the eval set."""
    skipped: int
    """Examples that already had a generation of this model (resume)."""
    done: int = 0
    failed: int = 0
    cached: int = 0
    retries: int = 0
    usage: Usage = field(default_factory=Usage)
    """Tokens of the calls made in this run (cached replies cost none)."""
    failures: dict[str, int] = field(default_factory=dict)
    """Failed examples by error kind (``http_429``, ``timeout``, ``bad_response``...)."""
    elapsed_s: float = 0.0


def build_request(example: Example, decoding: Decoding) -> Request:
    """The request for one example: its ``messages`` (multi-turn) when given, else its prompt.

    A multi-turn example keeps the conversation in ``metadata["messages"]`` as a list of
    ``{"role", "content"}`` objects; the model answers its last user turn.

    Raises:
        DataError: When the example has neither a prompt nor valid messages.
    """
    raw = example.metadata.get("messages")
    if raw is not None:
        try:
            messages = tuple(Message.model_validate(m) for m in raw)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"example '{example.id}': 'messages' must be a list of {{role, content}}: {exc}",
                field="messages",
            ) from None
        if messages:
            return Request(messages=messages, decoding=decoding, example_id=example.id)
    if example.prompt is None:
        raise DataError(f"example '{example.id}' has no prompt to generate from", field="prompt")
    return Request.from_prompt(example.prompt, decoding, example_id=example.id)


def generation_record(
    example: Example, name: str, backend: ModelBackend, decoding: Decoding, result: CallResult
) -> Generation:
    """The `Generation` record of one finished call (output or error, with its facts)."""
    meta: dict[str, Any] = {
        "backend": backend.spec,
        "decoding": decoding.model_dump(mode="json"),
        "attempts": result.attempts,
    }
    c = result.completion
    if c is None:
        meta["error_kind"] = result.error_kind
        return Generation(
            example_id=example.id,
            model=name,
            output=None,
            error=result.error or "error",
            metadata=meta,
        )
    meta |= {
        "latency_s": round(c.latency_s, 6),
        "finish_reason": c.finish_reason,
        "usage": c.usage.model_dump(),
        "cached": c.cached,
    }
    return Generation(example_id=example.id, model=name, output=c.text, metadata=meta)


def _as_backend(backend: Any) -> tuple[ModelBackend, bool]:
    """The backend, and whether it was built here from a spec (then this call closes it)."""
    if isinstance(backend, ModelBackend):
        return backend, False
    if isinstance(backend, str):
        return create_backend(backend), True
    raise UsageError(
        f"backend must be a model spec such as 'openai:gpt-4o-mini' or 'mock:echo', or a "
        f"ModelBackend; got {type(backend).__name__}"
    )


def _as_run(run: Any) -> RunDir:
    if isinstance(run, RunDir):
        return run
    if isinstance(run, (str, Path)):
        return RunDir(run)
    raise UsageError(
        f"run must be a run directory (a path such as 'runs/my-eval', or a RunDir); got "
        f"{type(run).__name__}"
    )


def _as_examples(examples: Any) -> Sequence[Example]:
    """`Example`s from what a user holds: Examples, dicts, a file path or an ``hf:`` spec.

    Dict rows take the fields of an eval-set file (``prompt``, ``reference``, ``id``,
    ``category``...), checked the same way, so one eval set gives the same examples whether
    it is passed as a file or as its records.
    """
    if isinstance(examples, (str, Path)):
        return load_examples(examples)
    if hasattr(examples, "columns") and hasattr(examples, "to_dict"):
        examples = examples.to_dict("records")  # a pandas DataFrame iterates over its columns
    items = as_list(examples, "examples")
    check_lengths(examples=items)
    if all(isinstance(item, Example) for item in items):
        return items
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise UsageError(
                f"examples[{i}] must be an Example or a dict with a 'prompt', got "
                f"{type(item).__name__} {shown(item)}; for plain prompts pass "
                "[{'prompt': p} for p in prompts]"
            )
    records = [SourceRecord(dict(r), "examples", i, "record") for i, r in enumerate(items, 1)]
    fields = ExampleFields(
        "id", "prompt", "reference", "references", "category", "difficulty", "adversarial",
        require_prompt=False, require_reference=False,
    )  # fmt: skip
    try:
        ids, synthetic = record_ids(records, "id")
        loaded = [to_example(r, key, fields) for r, key in zip(records, ids, strict=True)]
    except DataError as exc:
        # Name the row as the caller indexes it (examples[0]), not as a file line.
        exc.name_settings(lambda _setting: None)
        where = f"examples[{exc.line - 1}]: " if exc.line else ""
        raise DataError(where + exc.detail, field=exc.field) from None
    return RecordList(loaded, path=None, id_field="id", synthetic_ids=synthetic)


async def agenerate(
    backend: ModelBackend | str,
    examples: Sequence[Example] | Sequence[Mapping[str, Any]] | str | Path,
    run: RunDir | str | Path,
    *,
    name: str = "model",
    decoding: Decoding | None = None,
    options: CallOptions | None = None,
    cache: CallCache | None = None,
    refresh: bool = False,
    progress: bool = True,
    on_result: Callable[[CallResult], None] | None = None,
) -> GenerateSummary:
    """Generate the outputs of model ``name`` that ``run`` does not have yet.

    Args:
        backend: The model: a `ModelBackend`, or a spec such as ``"openai:gpt-4o-mini"``
            (the backend is then built for this call and closed at its end).
        examples: The eval set: `Example`s, a list of dicts (``prompt``, ``reference``,
            ``id``...), a pandas DataFrame, a file path or an ``hf:`` spec.
        run: The run directory (a path or a `RunDir`); records go to
            `RunDir.generations_path`.
        name: Model name of the records (e.g. ``base`` or ``finetuned``).
        decoding: Decoding parameters of every request.
        options: Concurrency, timeout and retries.
        cache: The call cache (None: no cache).
        refresh: Ignore cached answers, store fresh ones.
        progress: Show a rich progress bar.
        on_result: Called after each finished call is recorded (progress of a caller that
            draws its own display, e.g. the workflow).

    Raises:
        UsageError: For arguments of a type it cannot use; the message names the argument.
        DataError: For a malformed eval set; the message names the record and field.
    """
    # generate() takes no field mappings, so a hint to use one (prompt_field...) is left out.
    with settings_named(lambda _setting: None):
        examples = _as_examples(examples)
    run = _as_run(run)
    backend, owned = _as_backend(backend)
    try:
        return await _generate(
            backend, examples, run, name=name, decoding=decoding, options=options,
            cache=cache, refresh=refresh, progress=progress, on_result=on_result,
        )  # fmt: skip
    finally:
        if owned:
            await backend.aclose()


async def _generate(
    backend: ModelBackend,
    examples: Sequence[Example],
    run: RunDir,
    *,
    name: str,
    decoding: Decoding | None,
    options: CallOptions | None,
    cache: CallCache | None,
    refresh: bool,
    progress: bool,
    on_result: Callable[[CallResult], None] | None,
) -> GenerateSummary:
    decoding = decoding or Decoding()
    started = time.perf_counter()
    have = {g.example_id for g in run.generations(name)}
    todo = [e for e in examples if e.id not in have]
    summary = GenerateSummary(
        model=name, backend=backend.spec, total=len(examples), skipped=len(examples) - len(todo)
    )
    if not todo:
        return summary
    requests = [build_request(e, decoding) for e in todo]
    stats = CallStats()
    with JsonlAppender(run.generations_path) as appender, _progress(progress) as bar:
        task = bar.add_task(f"generate {name}", total=len(todo), failed=0, cached=0)

        def on_done(index: int, result: CallResult) -> None:
            appender.write(generation_record(todo[index], name, backend, decoding, result))
            bar.update(task, advance=1, failed=stats.failed, cached=stats.cached)
            if on_result is not None:
                on_result(result)

        await call_many(
            backend, requests, options, on_done, cache=cache, refresh=refresh, stats=stats
        )
    summary.done = stats.done
    summary.failed = stats.failed
    summary.cached = stats.cached
    summary.retries = stats.retries
    summary.usage = stats.usage
    summary.failures = dict(stats.failures)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def generate(
    backend: ModelBackend | str,
    examples: Sequence[Example] | Sequence[Mapping[str, Any]] | str | Path,
    run: RunDir | str | Path,
    **kwargs: Any,
) -> GenerateSummary:
    """Synchronous `agenerate` (same arguments); a backend passed as an object stays open.

    Safe inside a running event loop (Jupyter): the work then runs in a worker thread.
    """
    return run_sync(agenerate(backend, examples, run, **kwargs))


def _progress(enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed or 0.0:.1f}/s")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TextColumn("cached {task.fields[cached]}"),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )
