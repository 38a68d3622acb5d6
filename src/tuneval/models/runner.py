"""Run many model calls concurrently; a failed call becomes a recorded error, not a crash.

`call_many` is the one entry point that generation, the judge and the benchmarks use. It
bounds concurrency (shrinking it when the server rate-limits), applies a per-request
timeout, retries transient failures with exponential backoff and jitter (honouring
``Retry-After``), and serves and fills the call cache when one is given.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from tuneval.errors import CallError
from tuneval.models.base import Completion, ModelBackend, Request, Usage
from tuneval.models.cache import CallCache
from tuneval.models.loop import synchronous
from tuneval.models.pricing import Mode, UsageLedger
from tuneval.models.retry import AdaptiveLimiter, backoff_delay, is_retryable
from tuneval.records import Record

if TYPE_CHECKING:
    from tuneval.models.batch import CallOutcome


class CallOptions(Record):
    """How calls are made."""

    max_concurrency: int = Field(default=8, ge=1)
    """Calls in flight at once."""
    timeout_s: float = Field(default=300.0, gt=0.0)
    """Per-request timeout in seconds (generous: a local model on a CPU is slow, and a call
    cut short is paid for and retried)."""
    max_retries: int = Field(default=5, ge=0)
    """Retries of a retryable failure (429, 5xx, timeout, connection) before giving up."""
    backoff_base_s: float = Field(default=0.5, ge=0.0)
    """Wait before the first retry (doubles each retry, with jitter)."""
    backoff_max_s: float = Field(default=30.0, ge=0.0)
    """Longest computed wait between retries (a server's Retry-After may ask for more)."""
    adaptive_concurrency: bool = True
    """Halve the calls in flight on HTTP 429 and grow back on success."""
    batch: bool = False
    """Send the calls that the cache does not answer through the provider's batch API
    (OpenAI Batch, Anthropic Message Batches: half price, answered within 24 h); backends
    without one call live. Batch ids are recorded in ``run_dir/batches.json``."""
    batch_poll_s: float = Field(default=10.0, gt=0.0)
    """First wait between two polls of a batch (it grows 1.5x per poll)."""
    batch_poll_max_s: float = Field(default=300.0, gt=0.0)
    """Longest wait between two polls of a batch."""
    run_dir: Path | None = None
    """The run directory the calls belong to: each call's tokens go to ``usage.jsonl`` (the
    cost estimate) and batch ids to ``batches.json``. None records neither (no batch mode)."""

    async def wait_before_retry(
        self, attempt: int, error: CallError, rng: random.Random | None = None
    ) -> None:
        """Sleep the backoff before retry ``attempt`` of a call that failed with ``error``."""
        delay = backoff_delay(
            attempt,
            base_s=self.backoff_base_s,
            max_s=self.backoff_max_s,
            retry_after=error.retry_after,
            rng=rng,
        )
        await asyncio.sleep(delay)


@dataclass(frozen=True)
class CallResult:
    """The outcome of one request: a completion, or the error that ended it."""

    completion: Completion | None
    error: str | None = None
    error_kind: str | None = None
    attempts: int = 1
    """Calls made for this request (0 when served from the cache)."""
    batch_id: str | None = None
    """The provider batch that answered it (None for a live call)."""

    @property
    def ok(self) -> bool:
        """True when a completion exists."""
        return self.completion is not None


@dataclass
class CallStats:
    """Counters of a `call_many` run, filled in as calls finish."""

    done: int = 0
    failed: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    """Failed requests by error kind."""
    min_concurrency: int = 0
    """The lowest concurrency the adaptive limiter reached."""

    def add(self, result: CallResult) -> None:
        """Count one finished request."""
        if result.completion is None:
            self.failed += 1
            kind = result.error_kind or "error"
            self.failures[kind] = self.failures.get(kind, 0) + 1
            return
        self.done += 1
        self.cached += int(result.completion.cached)
        if not result.completion.cached:
            self.prompt_tokens += result.completion.usage.prompt_tokens
            self.completion_tokens += result.completion.usage.completion_tokens

    @property
    def usage(self) -> Usage:
        """Tokens of the calls actually made (cached replies cost nothing)."""
        return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


def sum_usage(results: Sequence[CallResult]) -> Usage:
    """Total token usage of the results that came from the model (not the cache)."""
    stats = CallStats()
    for result in results:
        stats.add(result)
    return stats.usage


async def _attempt(backend: ModelBackend, request: Request, timeout_s: float) -> Completion:
    started = time.perf_counter()
    try:
        completion = await asyncio.wait_for(backend.complete(request), timeout_s)
    except asyncio.TimeoutError:
        raise CallError(f"timed out after {timeout_s:g} s", "timeout") from None
    if completion.latency_s == 0.0:
        completion = completion.model_copy(update={"latency_s": time.perf_counter() - started})
    return completion


async def _one(
    backend: ModelBackend,
    request: Request,
    options: CallOptions,
    limiter: AdaptiveLimiter,
    stats: CallStats,
    rng: random.Random,
) -> CallResult:
    attempt = 0
    while True:
        attempt += 1
        await limiter.acquire()
        try:
            completion = await _attempt(backend, request, options.timeout_s)
        except CallError as exc:
            await limiter.release(rate_limited=exc.kind == "http_429")
            if attempt > options.max_retries or not is_retryable(exc.kind):
                return CallResult(None, str(exc), exc.kind, attempt)
            stats.retries += 1
            await options.wait_before_retry(attempt, exc, rng)
            continue
        except Exception as exc:  # a backend bug must not sink the whole run
            await limiter.release()
            return CallResult(None, f"{type(exc).__name__}: {exc}", "error", attempt)
        await limiter.release(success=True)
        return CallResult(completion, attempts=attempt)


async def call_many(
    backend: ModelBackend,
    requests: Sequence[Request],
    options: CallOptions | None = None,
    on_done: Callable[[int, CallResult], None] | None = None,
    *,
    cache: CallCache | None = None,
    refresh: bool = False,
    stats: CallStats | None = None,
) -> list[CallResult]:
    """Answer every request, at most ``options.max_concurrency`` at a time.

    Args:
        backend: The model.
        requests: The calls to make; results come back in the same order.
        options: Concurrency, timeout and retries.
        on_done: Called with (index, result) as each call finishes (progress, incremental
            writes).
        cache: The call cache: hits are answered from it, new completions are stored.
        refresh: Ignore cached answers (but store the fresh ones).
        stats: Counters to update as calls finish (progress bars, summaries).

    Returns:
        One `CallResult` per request.
    """
    options = options or CallOptions()
    stats = stats if stats is not None else CallStats()
    rng = random.Random()
    limiter = AdaptiveLimiter(options.max_concurrency, adaptive=options.adaptive_concurrency)
    identity = backend.identity() if cache is not None else ""
    ledger = UsageLedger(options.run_dir) if options.run_dir is not None else None

    def finish(index: int, result: CallResult) -> CallResult:
        stats.add(result)
        stats.min_concurrency = limiter.min_seen
        c = result.completion
        if ledger is not None and c is not None and not c.cached:
            mode: Mode = "live" if result.batch_id is None else "batch"
            tokens = (c.usage.prompt_tokens, c.usage.completion_tokens)
            ledger.add(backend.spec, backend.name, mode, *tokens)
        if on_done is not None:
            on_done(index, result)
        return result

    async def run(index: int, request: Request) -> CallResult:
        result = await _one(backend, request, options, limiter, stats, rng)
        if cache is not None and result.completion is not None:
            # Stored before on_done writes the record: a kill in between costs no new call.
            cache.put(identity, request, result.completion)
        return finish(index, result)

    results: list[CallResult | None] = [None] * len(requests)

    def deliver(index: int, request: Request, outcome: CallOutcome) -> None:
        if outcome.completion is None:
            err = outcome.error or CallError("no result", "error")
            result = CallResult(None, str(err), err.kind, 1, outcome.batch_id)
        else:
            result = CallResult(outcome.completion, batch_id=outcome.batch_id)
            if cache is not None:
                cache.put(identity, request, outcome.completion)
        results[index] = finish(index, result)

    pending: list[tuple[int, Request]] = []
    for index, request in enumerate(requests):
        hit = cache.get(identity, request) if cache is not None and not refresh else None
        if hit is not None:
            results[index] = finish(index, CallResult(hit, attempts=0))
        else:
            pending.append((index, request))
    try:
        batched = False
        if options.batch and pending:
            from tuneval.models.batch import call_in_batches

            batched = await call_in_batches(backend, pending, options, deliver)
        if not batched:
            fresh = await asyncio.gather(*(run(i, r) for i, r in pending))
            for (index, _), result in zip(pending, fresh, strict=True):
                results[index] = result
    finally:
        if ledger is not None:
            ledger.close()
    return [r for r in results if r is not None]


run_calls = synchronous(
    call_many,
    "run_calls",
    "Synchronous `call_many`; safe inside a running event loop (runs in a worker thread).",
)
