"""Retry policy and adaptive concurrency for model calls.

Retryable failures are rate limits (HTTP 429), server errors (5xx), timeouts and
connection errors. Waits grow exponentially with "equal jitter" (half fixed, half random)
so that many clients that failed together do not retry together; a server's
``Retry-After`` wins over the computed wait. On 429 the number of calls in flight is halved
(at most once per cool-down) and grows back by one per window of successes (AIMD, as TCP).
"""

from __future__ import annotations

import asyncio
import random
import time

RETRYABLE_KINDS = frozenset({"http_429", "timeout", "connection"})


def is_retryable(kind: str) -> bool:
    """True for 429, any 5xx, timeouts and connection errors."""
    return kind in RETRYABLE_KINDS or (kind.startswith("http_5") and len(kind) == 8)


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    Args:
        attempt: Which retry this is (1 for the first).
        base_s: Wait before the first retry, before jitter.
        max_s: Upper bound of the exponential part.
        retry_after: The server's ``Retry-After`` in seconds; honoured when given.
        rng: Random source for the jitter.
    """
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    ceiling = min(max_s, base_s * (2 ** (attempt - 1)))
    jitter: float = (rng or random).uniform(0, ceiling / 2)
    return float(ceiling / 2 + jitter)


class AdaptiveLimiter:
    """A semaphore whose size shrinks on rate limits and grows back on success.

    Args:
        limit: The largest number of calls in flight (``--max-concurrency``).
        adaptive: When False it is a plain semaphore of size ``limit``.
        cooldown_s: Minimum time between two halvings, so that one burst of 429s (all the
            calls that were in flight together) counts as one signal.
    """

    def __init__(
        self,
        limit: int,
        *,
        adaptive: bool = True,
        cooldown_s: float = 1.0,
    ) -> None:
        self.max_limit = max(1, limit)
        self.limit = float(self.max_limit)
        self.adaptive = adaptive
        self.cooldown_s = cooldown_s
        self.in_flight = 0
        self.min_seen = self.max_limit
        """The smallest limit reached (for reports and tests)."""
        self._last_cut = -1e9
        self._cond = asyncio.Condition()

    @property
    def current(self) -> int:
        """Calls allowed in flight now."""
        return max(1, int(self.limit))

    async def acquire(self) -> None:
        """Wait for a free slot."""
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.current)
            self.in_flight += 1

    async def release(self, *, rate_limited: bool = False, success: bool = False) -> None:
        """Give a slot back, reporting whether the call was rate-limited or succeeded."""
        async with self._cond:
            self.in_flight -= 1
            if self.adaptive:
                now = time.monotonic()
                if rate_limited and now - self._last_cut >= self.cooldown_s:
                    self.limit = max(1.0, self.limit / 2)
                    self._last_cut = now
                    self.min_seen = min(self.min_seen, self.current)
                elif success and self.limit < self.max_limit:
                    self.limit = min(float(self.max_limit), self.limit + 1.0 / self.limit)
            # Wake only as many waiters as there are free slots (no thundering herd).
            self._cond.notify(max(0, self.current - self.in_flight))
