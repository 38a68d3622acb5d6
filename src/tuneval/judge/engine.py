"""Make judge calls with bounded retries of unusable replies.

All calls go through `tuneval.models.runner.call_many` (concurrency, timeouts, transport
retries, and the call cache where the runner has one). A reply that does not parse is
retried up to ``max_attempts`` calls in total; the retry continues the conversation with the
bad reply and a short correction, so it is a *different* request (a greedy judge would
repeat itself, and a cache would replay the same bad reply). Each item's final outcome is
handed to ``on_final`` as soon as it is known, so records are written call by call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tuneval.judge.parse import ParseFailure
from tuneval.models.base import Message, ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.runner import CallOptions, CallResult, call_many

V = TypeVar("V")

CORRECTION = (
    "Your reply could not be used: {reason}. Reply again with only the JSON object in the "
    "requested format."
)


@dataclass(frozen=True)
class Final(Generic[V]):
    """The outcome of one judge item after its retries."""

    verdict: V | None
    raw: str | None
    attempts: int
    reason: str | None
    call_error: bool


def render_prompt(request: Request) -> str:
    """The conversation of a request as text, for the record."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in request.full_messages())


def _retry(request: Request, raw: str, reason: str) -> Request:
    messages = (
        *request.messages,
        Message(role="assistant", content=raw),
        Message(role="user", content=CORRECTION.format(reason=reason)),
    )
    return request.model_copy(update={"messages": messages})


async def judge_all(
    backend: ModelBackend,
    requests: Sequence[Request],
    parse: Callable[[str], V],
    on_final: Callable[[int, Final[V]], None],
    *,
    max_attempts: int = 3,
    options: CallOptions | None = None,
    cache: CallCache | object | None = None,
    on_call: Callable[[], None] | None = None,
    on_item: Callable[[], None] | None = None,
) -> None:
    """Judge every request; call ``on_final(index, outcome)`` once per request.

    Args:
        backend: The judge model.
        requests: One first-attempt request per item.
        parse: Turns a reply into a verdict or raises `ParseFailure`.
        on_final: Receives each item's outcome as soon as it is final.
        max_attempts: Calls per item at most (1 = no retries of unusable replies).
        options: Concurrency and timeouts of the calls.
        cache: The call cache (none: every call goes to the judge).
        on_call: Called after every call, retries of unusable replies included.
        on_item: Called once per request when its outcome is final (progress bars count
            items with it: with retries there are more calls than items).
    """

    def finish(index: int, outcome: Final[V]) -> None:
        on_final(index, outcome)
        if on_item is not None:
            on_item()

    pending: list[tuple[int, Request, int]] = [(i, r, 1) for i, r in enumerate(requests)]
    if cache is not None and not isinstance(cache, CallCache):
        # Callers outside the judge package still type the cache loosely; fail, never skip it.
        raise TypeError(f"cache must be a CallCache, not {type(cache).__name__}")
    while pending:
        retries: list[tuple[int, Request, int]] = []
        batch = pending

        def done(
            pos: int,
            result: CallResult,
            batch: list[tuple[int, Request, int]] = batch,
            retries: list[tuple[int, Request, int]] = retries,
        ) -> None:
            index, request, attempt = batch[pos]
            if on_call is not None:
                on_call()
            if result.completion is None:
                reason = f"call failed ({result.error_kind}): {result.error}"
                finish(index, Final(None, None, attempt, reason, True))
                return
            raw = result.completion.text
            try:
                verdict = parse(raw)
            except ParseFailure as exc:
                if attempt < max_attempts:
                    retries.append((index, _retry(request, raw, str(exc)), attempt + 1))
                else:
                    finish(index, Final(None, raw, attempt, str(exc), False))
                return
            finish(index, Final(verdict, raw, attempt, None, False))

        await call_many(backend, [r for _, r, _ in batch], options, done, cache=cache)
        pending = retries
