"""Run many model calls concurrently; a failed call becomes a recorded error, not a crash.

`call_many` is the one entry point that generation, the judge and the benchmarks use. It
bounds concurrency and applies a per-request timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tuneval.errors import CallError
from tuneval.models.base import Completion, ModelBackend, Request
from tuneval.records import Record


class CallOptions(Record):
    """How calls are made."""

    max_concurrency: int = 8
    """Calls in flight at once."""
    timeout_s: float = 120.0
    """Per-request timeout in seconds."""
    max_retries: int = 5
    """Retries of a retryable failure (429, 5xx, timeout, connection) before giving up."""


@dataclass(frozen=True)
class CallResult:
    """The outcome of one request: a completion, or the error that ended it."""

    completion: Completion | None
    error: str | None = None
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        """True when a completion exists."""
        return self.completion is not None


async def _one(backend: ModelBackend, request: Request, options: CallOptions) -> CallResult:
    try:
        completion = await asyncio.wait_for(backend.complete(request), options.timeout_s)
    except asyncio.TimeoutError:
        return CallResult(None, f"timed out after {options.timeout_s:g} s", "timeout")
    except CallError as exc:
        return CallResult(None, str(exc), exc.kind)
    return CallResult(completion)


async def call_many(
    backend: ModelBackend,
    requests: Sequence[Request],
    options: CallOptions | None = None,
    on_done: Callable[[int, CallResult], None] | None = None,
) -> list[CallResult]:
    """Answer every request, at most ``options.max_concurrency`` at a time.

    Args:
        backend: The model.
        requests: The calls to make; results come back in the same order.
        options: Concurrency, timeout and retries.
        on_done: Called with (index, result) as each call finishes (progress, incremental
            writes).

    Returns:
        One `CallResult` per request.
    """
    options = options or CallOptions()
    semaphore = asyncio.Semaphore(options.max_concurrency)

    async def run(index: int, request: Request) -> CallResult:
        async with semaphore:
            result = await _one(backend, request, options)
        if on_done is not None:
            on_done(index, result)
        return result

    return list(await asyncio.gather(*(run(i, r) for i, r in enumerate(requests))))


def run_calls(
    backend: ModelBackend,
    requests: Sequence[Request],
    options: CallOptions | None = None,
    on_done: Callable[[int, CallResult], None] | None = None,
) -> list[CallResult]:
    """Synchronous wrapper of `call_many` for code that is not async."""
    return asyncio.run(call_many(backend, requests, options, on_done))
