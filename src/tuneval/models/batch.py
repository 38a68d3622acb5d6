"""Provider batch APIs behind `call_many`: submit once, record, poll, merge.

With ``CallOptions.batch`` on, the requests the call cache does not answer go to the
provider's batch API (OpenAI Batch, Anthropic Message Batches: half price, answered within
24 h) instead of live calls. Each request's ``custom_id`` is its call-cache key. Right after
a batch is created, its id and the custom ids it covers are written to ``RUN/batches.json``
(atomic replace), before any polling; a killed run that asks for the same calls again finds
them there and polls the same batch instead of submitting a second one. When a batch ends,
its results are handed back through the same path as live replies (call cache, records,
failed items as failed calls) and the batch is marked ``collected``; a collected batch is
never read again, so calls asked for again later (a failed item retried) are submitted anew.
A batch that cannot be submitted or polled (after retries) is not an item failure: it stops
the command with one `BackendError`, and the recorded batches are polled by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from pydantic import Field, ValidationError

from tuneval.errors import BackendError, CallError, ConfigError
from tuneval.models.base import Completion, ModelBackend, Request
from tuneval.models.cache import cache_key
from tuneval.models.retry import is_retryable
from tuneval.records import Record

if TYPE_CHECKING:
    from tuneval.models.runner import CallOptions

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCHES_FILE = "batches.json"
"""Where a run directory records the provider batches it submitted."""


@dataclass(frozen=True)
class BatchStatus:
    """A provider's answer to "how is batch X doing"."""

    state: str
    """The provider's status word (``in_progress``, ``completed``, ``ended``...)."""
    ended: bool
    """True once results can be fetched (or the batch failed as a whole)."""
    completed: int = 0
    """Requests answered so far."""
    failed: int = 0
    """Requests that failed so far."""
    total: int = 0
    """Requests in the batch."""
    error: str | None = None
    """Why the whole batch failed (validation, expiry), when it did."""


@dataclass(frozen=True)
class BatchProgress:
    """One poll of one batch, for progress displays."""

    batch_id: str
    provider: str
    model: str
    status: BatchStatus


class BatchAPI(Protocol):
    """A provider's batch endpoints, bound to one backend (see `batch_api`)."""

    provider: str
    max_requests: int

    async def submit(self, items: Sequence[tuple[str, Request]]) -> str:
        """Create a batch of (custom_id, request); returns the batch id."""
        ...

    async def status(self, batch_id: str) -> BatchStatus:
        """Poll the batch."""
        ...

    async def results(self, batch_id: str) -> dict[str, Completion | CallError]:
        """Each custom_id's completion, or the error that ended it."""
        ...


class StoredBatch(Record):
    """One submitted batch, as ``batches.json`` records it."""

    id: str
    """The provider's batch id."""
    provider: str
    """``openai`` or ``anthropic``."""
    identity: str
    """Identity of the backend that submitted it (base URL and model)."""
    custom_ids: list[str]
    """The requests it covers: each is the request's call-cache key."""
    submitted: str
    """UTC time of submission (ISO 8601)."""
    status: str = "submitted"
    """Last status seen."""
    collected: bool = False
    """True once its results were handed back (a collected batch is never read again)."""


class BatchFile(Record):
    """The content of ``RUN/batches.json``."""

    version: Literal[1] = 1
    """Schema version."""
    batches: list[StoredBatch] = Field(default_factory=list)
    """Every batch submitted from this run directory, oldest first."""


class BatchStore:
    """``RUN/batches.json``, rewritten atomically on every change.

    Args:
        run_dir: The run directory.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / BATCHES_FILE

    def read(self) -> BatchFile:
        """The recorded batches (none when the file does not exist).

        Raises:
            ConfigError: For a file that is not a batch record.
        """
        if not self.path.exists():
            return BatchFile()
        try:
            return BatchFile.model_validate_json(self.path.read_bytes())
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(
                f"{self.path} is not a tuneval batch record ({first['msg']} at "
                f"{'.'.join(map(str, first['loc'])) or 'top level'}); restore it, or move it "
                "aside to submit the batches again (paying again)"
            ) from None

    def open_batches(self, identity: str) -> list[StoredBatch]:
        """Batches of this backend whose results were not handed back yet."""
        return [b for b in self.read().batches if b.identity == identity and not b.collected]

    def add(self, batch: StoredBatch) -> None:
        """Record a new batch."""
        data = self.read()
        self._write(data.model_copy(update={"batches": [*data.batches, batch]}))

    def update(self, batch_id: str, **fields: object) -> None:
        """Change fields of a recorded batch."""
        data = self.read()
        batches = [b.model_copy(update=fields) if b.id == batch_id else b for b in data.batches]
        self._write(data.model_copy(update={"batches": batches}))

    def _write(self, data: BatchFile) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".batches-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data.model_dump_json(indent=2) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


ProgressHandler = Callable[[BatchProgress], None]
_handlers: list[ProgressHandler] = []


@contextlib.contextmanager
def watch_batches(handler: ProgressHandler) -> Iterator[None]:
    """Call ``handler`` after every poll of every batch while the block runs (progress bars).

    The CLI renders a progress bar with it; library users may log or ignore the polls.
    """
    _handlers.append(handler)
    try:
        yield
    finally:
        _handlers.remove(handler)


def _report(progress: BatchProgress) -> None:
    for handler in list(_handlers):
        handler(progress)


@contextlib.asynccontextmanager
async def sdk_errors(module: str, *, no_api: str | None = None) -> AsyncIterator[None]:
    """Turn an ``openai``/``anthropic`` SDK exception into the `CallError` the runner reads.

    Args:
        module: The SDK the calls go through.
        no_api: Who answered, for an HTTP 404 that means "no batch API here".
    """
    from tuneval.models.openai_backend import map_sdk_error

    try:
        yield
    except CallError:
        raise
    except Exception as exc:
        error = map_sdk_error(exc, importlib.import_module(module))
        if no_api is not None and error.kind == "http_404":
            error = CallError(
                f"{no_api} has no batch API ({error}); run without --batch (calls.batch: "
                "false) to make live calls",
                error.kind,
            )
        raise error from None


def batch_api(backend: ModelBackend) -> BatchAPI | None:
    """The backend's batch API, or None for a backend without one (it then runs live)."""
    factory = getattr(backend, "batch_api", None)
    return factory() if callable(factory) else None


_warned: set[str] = set()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


Deliver = Callable[[int, Request, "CallOutcome"], None]


@dataclass(frozen=True)
class CallOutcome:
    """What a batch gave for one request: a completion or an error, and the batch id."""

    completion: Completion | None
    error: CallError | None
    batch_id: str | None


async def call_in_batches(
    backend: ModelBackend,
    pending: Sequence[tuple[int, Request]],
    options: CallOptions,
    deliver: Deliver,
) -> bool:
    """Answer ``pending`` (index, request) through the backend's batch API.

    Calls ``deliver(index, request, outcome)`` once per request as its batch is collected.

    Returns:
        False when the backend has no batch API (the caller then makes live calls).
    """
    api = batch_api(backend)
    if api is None:
        if backend.spec not in _warned:
            _warned.add(backend.spec)
            log.warning("warning: %s has no batch API; its calls are made live", backend.spec)
        return False
    identity = backend.identity()
    wanted: dict[str, list[tuple[int, Request]]] = {}
    for index, request in pending:
        wanted.setdefault(cache_key(identity, request), []).append((index, request))
    if options.run_dir is None:
        raise ConfigError(
            "batch mode records its batch ids in a run directory; give the calls one "
            "(CallOptions.run_dir), or run without batch"
        )
    store = BatchStore(options.run_dir)
    todo = [b for b in store.open_batches(identity) if any(k in wanted for k in b.custom_ids)]
    covered = {k for b in todo for k in b.custom_ids}
    new = [k for k in wanted if k not in covered]
    for start in range(0, len(new), api.max_requests):
        chunk = new[start : start + api.max_requests]
        items = [(k, wanted[k][0][1]) for k in chunk]
        try:
            # Only a rate limit is retried: after a timeout or a 5xx the batch may exist.
            batch_id = await _retrying(options, partial(api.submit, items), safe={"http_429"})
        except CallError as exc:
            # Not an item failure: nothing was submitted, so nothing is recorded either.
            raise BackendError(
                f"cannot submit a batch of {len(chunk)} requests for {backend.name}: {exc}"
            ) from None
        stored = StoredBatch(
            id=batch_id, provider=api.provider, identity=identity, custom_ids=chunk,
            submitted=_now(),
        )  # fmt: skip
        store.add(stored)  # before the first poll: a kill from here on resumes, never resubmits
        todo.append(stored)
    await asyncio.gather(*(_settle(api, b, backend, options, store, wanted, deliver) for b in todo))
    return True


async def _settle(
    api: BatchAPI,
    batch: StoredBatch,
    backend: ModelBackend,
    options: CallOptions,
    store: BatchStore,
    wanted: dict[str, list[tuple[int, Request]]],
    deliver: Deliver,
) -> None:
    """Poll one batch until it ends, then hand its results back and mark it collected."""
    mine = [k for k in batch.custom_ids if k in wanted]
    try:
        status = await _poll(api, batch, backend, options, store)
        results = await _retrying(options, lambda: api.results(batch.id))
    except CallError as exc:
        # Not an item failure: the batch stays uncollected, and a rerun polls it again.
        raise BackendError(
            f"cannot poll {api.provider} batch {batch.id} ({exc}); its id is kept in "
            f"{store.path}: run the same command again to resume polling it"
        ) from None
    for key in mine:
        got = results.get(key)
        if got is None:
            why = status.error or f"the batch ended ({status.state}) without this request"
            got = CallError(f"batch {batch.id}: {why}", "batch_missing")
        for n, (index, request) in enumerate(wanted[key]):
            if isinstance(got, CallError):
                deliver(index, request, CallOutcome(None, got, batch.id))
            else:
                # The same request asked twice was paid once: the copies count as cached.
                copy = got if n == 0 else got.model_copy(update={"cached": True})
                deliver(index, request, CallOutcome(copy, None, batch.id))
    store.update(batch.id, status=status.state, collected=True)


async def _poll(
    api: BatchAPI,
    batch: StoredBatch,
    backend: ModelBackend,
    options: CallOptions,
    store: BatchStore,
) -> BatchStatus:
    """Poll with a growing interval (x1.5 up to ``batch_poll_max_s``) until the batch ends."""
    delay = options.batch_poll_s
    last = batch.status
    while True:
        status = await _retrying(options, lambda: api.status(batch.id))
        _report(BatchProgress(batch.id, api.provider, backend.name, status))
        if status.state != last:
            store.update(batch.id, status=status.state)
            last = status.state
        if status.ended:
            return status
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, options.batch_poll_max_s)


async def _retrying(
    options: CallOptions, call: Callable[[], Awaitable[T]], safe: set[str] | None = None
) -> T:
    """One batch-API call, with the runner's retries of 429/5xx/timeouts/connection errors.

    Args:
        options: Retries and backoff.
        call: Makes the call.
        safe: Retry only these error kinds (calls that must not be repeated blindly).
    """
    rng = random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except CallError as exc:
            retryable = is_retryable(exc.kind) if safe is None else exc.kind in safe
            if attempt > options.max_retries or not retryable:
                raise
            await options.wait_before_retry(attempt, exc, rng)
