"""The generate step: both models answer every example; finished items are never redone.

Each finished call is appended to ``generations.jsonl`` at once, so a run killed mid-way
resumes with only the missing (model, example) pairs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.runner import CallOptions, CallResult, call_many
from tuneval.records import Example, Generation
from tuneval.rundir import JsonlAppender, RunDir
from tuneval.workflow.config import DecodingConfig, ModelConfig


def build_request(example: Example, model: ModelConfig, decoding: DecodingConfig) -> Request:
    """The chat request one model gets for one example (system prompt, few-shot, prompt)."""
    messages: list[Message] = []
    if model.system_prompt:
        messages.append(Message(role="system", content=model.system_prompt))
    for shot in model.few_shot:
        messages.append(
            Message(role="user", content=model.prompt_template.replace("{prompt}", shot.prompt))
        )
        messages.append(Message(role="assistant", content=shot.response))
    user = model.prompt_template.replace("{prompt}", example.prompt or "")
    messages.append(Message(role="user", content=user))
    return Request(
        messages=tuple(messages),
        decoding=Decoding(
            temperature=decoding.temperature,
            top_p=decoding.top_p,
            max_tokens=decoding.max_tokens,
            stop=tuple(decoding.stop),
            seed=decoding.seed,
        ),
    )


def _generation(
    example: Example, name: str, backend: ModelBackend, result: CallResult
) -> Generation:
    meta: dict[str, object] = {"backend": backend.identity()}
    if result.completion is not None:
        c = result.completion
        meta |= {
            "latency_s": c.latency_s,
            "finish_reason": c.finish_reason,
            "prompt_tokens": c.usage.prompt_tokens,
            "completion_tokens": c.usage.completion_tokens,
            "cached": c.cached,
        }
        return Generation(example_id=example.id, model=name, output=c.text, metadata=meta)
    meta["error_kind"] = result.error_kind
    return Generation(
        example_id=example.id, model=name, output=None, error=result.error or "error", metadata=meta
    )


def generate_missing(
    run: RunDir,
    examples: Sequence[Example],
    name: str,
    backend: ModelBackend,
    model: ModelConfig,
    decoding: DecodingConfig,
    options: CallOptions,
    *,
    cache: CallCache | None = None,
    refresh: bool = False,
) -> int:
    """Generate the outputs of model ``name`` that the run does not have yet.

    Calls go through the call cache when one is given (``refresh`` ignores cached answers).

    Returns:
        The number of calls made.
    """
    from rich.progress import Progress

    done = {g.example_id for g in run.generations(name)}
    todo = [e for e in examples if e.id not in done]
    if not todo:
        return 0
    requests = [build_request(e, model, decoding) for e in todo]
    with JsonlAppender(run.generations_path) as appender, Progress(transient=True) as progress:
        task = progress.add_task(f"generate {name}", total=len(todo))

        def on_done(index: int, result: CallResult) -> None:
            appender.write(_generation(todo[index], name, backend, result))
            progress.advance(task)

        asyncio.run(call_many(backend, requests, options, on_done, cache=cache, refresh=refresh))
    return len(todo)
