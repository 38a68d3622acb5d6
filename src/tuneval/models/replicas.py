"""Data-parallel replicas: one model served by several OpenAI-compatible endpoints.

``openai-compatible:http://h1:8000/v1,http://h2:8000/v1#MODEL`` (or the backend option
``base_urls: [...]``) is one backend, one cache identity and one set of records, whichever
replica answers a request; the URLs are N vLLM, TGI, SGLang or llama.cpp servers of the
same weights.

- **Routing**: each request goes to the healthy replica with the fewest requests in flight
  (ties rotate), never past ``replica_concurrency`` in flight on one replica; a request
  waits when every healthy replica is full.
- **Failover**: a connection error, timeout or 5xx takes the replica out (a circuit
  breaker) and the request is sent at once to another replica it has not tried. When every
  replica has failed it, the error goes to the runner, whose retries and backoff apply.
- **Probing back in**: a replica that is out is probed after a cool-down (1 s, doubling to
  30 s on each failed probe) with ``GET /models``; any HTTP answer below 500 brings it back.
  Probes start from the traffic itself, so an idle backend makes no calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneval.errors import BackendError, CallError
from tuneval.models.base import Completion, Request

if TYPE_CHECKING:
    from tuneval.models.openai_backend import OpenAICompatibleBackend

PROBE_TIMEOUT_S = 5.0


def split_base_urls(text: str | Sequence[str]) -> list[str]:
    """The replica URLs of a spec's URL part (comma-separated) or of a ``base_urls`` list.

    Raises:
        BackendError: For an empty list, a URL that is not http(s) or a repeated URL.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    urls = [u.strip().rstrip("/") for u in parts]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise BackendError(
                f"replica URL '{url}' is not an http(s) URL; write the base URLs "
                "comma-separated, e.g. openai-compatible:http://h1:8000/v1,http://h2:8000/v1#MODEL"
            )
    if len(set(urls)) != len(urls):
        raise BackendError(f"replica URLs repeat: {', '.join(urls)}; list each server once")
    return urls


def is_replica_failure(kind: str) -> bool:
    """True for the failures that say the replica (not the request) is broken."""
    return kind in ("connection", "timeout") or (kind.startswith("http_5") and len(kind) == 8)


@dataclass
class Replica:
    """One endpoint's state, as the pool sees it."""

    url: str
    in_flight: int = 0
    healthy: bool = True
    failures: int = 0
    """Consecutive failures (a success resets it); sets the probe cool-down."""
    probe_at: float = 0.0
    probing: bool = False
    answered: int = 0
    """Requests this replica answered."""
    taken_out: int = 0
    """Times this replica was taken out of the rotation."""


class ReplicaPool:
    """Least-outstanding-requests routing with failover over several endpoints.

    All its methods run on one event loop (the owning backend's private loop).

    Args:
        urls: The endpoints.
        call: ``call(index, request)`` makes the request on replica ``index``.
        probe: ``probe(index)`` is True when replica ``index`` answers again.
        per_replica: Requests in flight on one replica at most (None: no bound).
        cooldown_s: Wait before the first probe of a replica taken out.
        max_cooldown_s: Longest wait between probes.
    """

    def __init__(
        self,
        urls: Sequence[str],
        call: Callable[[int, Request], Awaitable[Completion]],
        probe: Callable[[int], Awaitable[bool]],
        *,
        per_replica: int | None = None,
        cooldown_s: float = 1.0,
        max_cooldown_s: float = 30.0,
    ) -> None:
        self.replicas = [Replica(url) for url in urls]
        self._call = call
        self._probe = probe
        self.per_replica = per_replica
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._turn = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def complete(self, request: Request) -> Completion:
        """Answer ``request`` on some healthy replica, failing over on replica failures.

        Raises:
            CallError: A failure of the request itself (4xx, a malformed body), or the last
                replica failure when every replica failed it or none is up.
        """
        tried: set[int] = set()
        last: CallError | None = None
        while True:
            index = await self._acquire(tried)
            if index is None:
                raise last or CallError(
                    f"all {len(self.replicas)} replicas are out of rotation "
                    f"({', '.join(r.url for r in self.replicas)}); they are probed again "
                    "after a cool-down",
                    "connection",
                )
            replica = self.replicas[index]
            try:
                completion = await self._call(index, request)
            except CallError as exc:
                if not is_replica_failure(exc.kind):
                    raise
                self._take_out(replica)
                tried.add(index)
                last = CallError(f"{replica.url}: {exc}", exc.kind, retry_after=exc.retry_after)
                continue
            finally:
                replica.in_flight -= 1
                self._wake()
            replica.answered += 1
            replica.failures = 0
            return completion

    def _pick(self, tried: set[int]) -> tuple[int | None, bool]:
        """The replica to use now, and whether waiting could give one."""
        up = [i for i, r in enumerate(self.replicas) if r.healthy and i not in tried]
        cap = self.per_replica
        free = [i for i in up if cap is None or self.replicas[i].in_flight < cap]
        if free:
            n = len(self.replicas)
            # Fewest in flight first; among equals, the next one after the last pick.
            best = min(free, key=lambda i: (self.replicas[i].in_flight, (i - self._turn) % n))
            self._turn = (best + 1) % n
            return best, True
        probing = any(r.probing for i, r in enumerate(self.replicas) if i not in tried)
        return None, bool(up) or probing

    async def _acquire(self, tried: set[int]) -> int | None:
        while True:
            self._start_due_probes()
            index, can_wait = self._pick(tried)
            if index is not None:
                self.replicas[index].in_flight += 1
                return index
            if not can_wait:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _take_out(self, replica: Replica) -> None:
        # Requests already in flight on a dead replica fail one by one: only the first
        # failure counts, or the cool-down would grow with the concurrency.
        if not replica.healthy:
            return
        replica.healthy = False
        replica.taken_out += 1
        self._schedule_probe(replica)

    def _schedule_probe(self, replica: Replica) -> None:
        replica.failures += 1
        wait = min(self.max_cooldown_s, self.cooldown_s * 2 ** (replica.failures - 1))
        replica.probe_at = time.monotonic() + wait

    def _start_due_probes(self) -> None:
        now = time.monotonic()
        for index, replica in enumerate(self.replicas):
            if not replica.healthy and not replica.probing and now >= replica.probe_at:
                replica.probing = True
                task = asyncio.get_running_loop().create_task(self._run_probe(index))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run_probe(self, index: int) -> None:
        replica = self.replicas[index]
        try:
            alive = await asyncio.wait_for(self._probe(index), PROBE_TIMEOUT_S)
        except Exception:  # a probe that fails in any way says "not yet"
            alive = False
        replica.probing = False
        if alive:
            replica.healthy = True
        else:
            self._schedule_probe(replica)
        self._wake()

    async def aclose(self) -> None:
        """Cancel probes in flight."""
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def describe(self) -> list[dict[str, Any]]:
        """Per-replica counters (answered, taken out, in flight, healthy), for summaries."""
        return [
            {
                "url": r.url,
                "answered": r.answered,
                "taken_out": r.taken_out,
                "in_flight": r.in_flight,
                "healthy": r.healthy,
            }
            for r in self.replicas
        ]


def serve_replicas(
    owner: OpenAICompatibleBackend, urls: Sequence[str], per_replica: int | None, api_key: str
) -> tuple[ReplicaPool, list[OpenAICompatibleBackend]]:
    """A pool over one single-URL backend per replica, for ``owner``'s model.

    The replicas' HTTP clients are opened on whatever loop runs the pool's calls (the
    owner's private loop), and closed there by the owner.
    """
    cls = type(owner)
    members = [cls(f"openai-compatible:{url}#{owner.model}", api_key=api_key) for url in urls]

    async def call(index: int, request: Request) -> Completion:
        return await members[index]._complete(request)

    async def probe(index: int) -> bool:
        import openai

        member = members[index]
        client = member._get_client()
        options = {**member._request_options, "timeout": PROBE_TIMEOUT_S}
        try:
            await client.get("/models", cast_to=object, options=options)
        except openai.APIStatusError as exc:
            return exc.status_code < 500  # the server answers: it is up
        except Exception:
            return False
        return True

    return ReplicaPool(urls, call, probe, per_replica=per_replica), members
