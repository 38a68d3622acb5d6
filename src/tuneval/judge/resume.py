"""The resumable judging loop shared by single-output scoring and pairwise comparison.

Both append one record per judging to a JSONL file, skip judgings already final with the same
prompt, record "no output" judgings without a call, and judge the rest with `judge_all`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from tuneval.judge.engine import Final, judge_all, render_prompt
from tuneval.models.base import ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.runner import CallOptions
from tuneval.rundir import JsonlAppender

I = TypeVar("I")  # noqa: E741 - the item a judging is about
V = TypeVar("V")


class _Record(Protocol):
    prompt: str
    call_error: bool


R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Judging(Generic[I]):
    """One judging to make: its slot in the record file, its item, and its request.

    ``request`` is None when there is nothing to judge; ``reason`` then says why.
    """

    slot: Hashable
    item: I
    repeat: int
    request: Request | None
    reason: str = ""


@dataclass(frozen=True)
class Calls:
    """How the judge is called: attempts per item, call options, cache and progress hooks."""

    max_attempts: int
    options: CallOptions | None
    cache: CallCache | None = None
    on_call: Callable[[], None] | None = None
    on_item: Callable[[], None] | None = None


async def judge_resumable(
    judge: ModelBackend,
    path: Path,
    done: dict[Hashable, R],
    slot_of: Callable[[R], Hashable],
    judgings: Iterable[Judging[I]],
    make_record: Callable[[Judging[I], str, Final[V]], R],
    parse: Callable[[str], V],
    calls: Calls,
) -> None:
    """Judge every judging not already final in ``done``; append each record to ``path``.

    ``done`` is updated in place with every record written. A previous record is kept when it
    is not a call error and (for judgings with a request) its prompt is the same: the stored
    prompt holds the outputs, so a regenerated output is judged again.
    """
    with JsonlAppender(path) as appender:

        def write(record: R) -> None:
            appender.write(record)
            done[slot_of(record)] = record

        todo: list[tuple[Judging[I], Request]] = []
        for judging in judgings:
            previous: _Record | None = done.get(judging.slot)  # type: ignore[assignment]
            fresh = previous is not None and not previous.call_error
            if judging.request is None:
                if not fresh:
                    outcome: Final[V] = Final(None, None, 0, judging.reason, False)
                    write(make_record(judging, "", outcome))
                continue
            if fresh and previous is not None and previous.prompt == render_prompt(judging.request):
                continue
            todo.append((judging, judging.request))

        def final(index: int, outcome: Final[V]) -> None:
            judging, request = todo[index]
            write(make_record(judging, render_prompt(request), outcome))

        await judge_all(
            judge,
            [request for _, request in todo],
            parse,
            final,
            max_attempts=calls.max_attempts,
            options=calls.options,
            cache=calls.cache,
            on_call=calls.on_call,
            on_item=calls.on_item,
        )
