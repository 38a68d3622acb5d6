import asyncio
import multiprocessing
import time
from pathlib import Path

from tuneval.errors import CallError
from tuneval.models import Decoding, Request
from tuneval.models.cache import CallCache, cache_key, default_cache_dir
from tuneval.models.mock import MockBackend
from tuneval.models.retry import AdaptiveLimiter, backoff_delay, is_retryable
from tuneval.models.runner import CallOptions, CallStats, call_many, run_calls, sum_usage

FAST = CallOptions(max_concurrency=4, backoff_base_s=0.01, backoff_max_s=0.05)


def flaky(failures: dict[str, list[CallError]]):
    def responder(request: Request) -> str:
        prompt = request.messages[-1].content
        queue = failures.get(prompt, [])
        if queue:
            raise queue.pop(0)
        return prompt.upper()

    return responder


def test_retryable_kinds():
    for kind in ["http_429", "http_500", "http_503", "timeout", "connection"]:
        assert is_retryable(kind)
    for kind in ["http_400", "http_404", "bad_response", "error", "http_5000"]:
        assert not is_retryable(kind)


def test_backoff_grows_with_jitter_and_honours_retry_after():
    import random

    rng = random.Random(1)
    waits = [backoff_delay(a, base_s=1.0, max_s=8.0, rng=rng) for a in range(1, 7)]
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(8.0, 2.0 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered
    assert backoff_delay(3, base_s=1.0, max_s=8.0, retry_after=0.25) == 0.25


def test_retries_then_success_and_permanent_failures():
    failures = {
        "a": [CallError("busy", "http_503"), CallError("slow down", "http_429")],
        "b": [CallError("bad request", "http_400")],
        "c": [CallError("down", "connection")] * 10,
    }
    backend = MockBackend("mock:flaky", responder=flaky(failures))
    stats = CallStats()
    results = run_calls(
        backend,
        [Request.from_prompt(p) for p in ["a", "b", "c", "d"]],
        FAST.model_copy(update={"max_retries": 3}),
        stats=stats,
    )
    assert results[0].ok and results[0].attempts == 3
    assert results[0].completion is not None and results[0].completion.text == "A"
    assert not results[1].ok and results[1].error_kind == "http_400" and results[1].attempts == 1
    assert not results[2].ok and results[2].error_kind == "connection"
    assert results[2].attempts == 4  # 1 call + 3 retries
    assert results[3].ok
    assert stats.done == 2 and stats.failed == 2
    assert stats.failures == {"http_400": 1, "connection": 1}
    assert stats.retries == 2 + 3


def test_retry_after_is_waited():
    failures = {"x": [CallError("limited", "http_429", retry_after=0.3)]}
    backend = MockBackend("mock:flaky", responder=flaky(failures))
    start = time.perf_counter()
    (result,) = run_calls(backend, [Request.from_prompt("x")], FAST)
    assert result.ok and time.perf_counter() - start >= 0.3


def test_timeout_is_retried_then_recorded():
    class Slow(MockBackend):
        async def complete(self, request: Request):  # type: ignore[override]
            await asyncio.sleep(1.0)
            return await super().complete(request)

    backend = Slow("mock:echo")
    opts = FAST.model_copy(update={"timeout_s": 0.05, "max_retries": 1})
    (result,) = run_calls(backend, [Request.from_prompt("x")], opts)
    assert result.error_kind == "timeout" and result.attempts == 2


async def test_adaptive_limiter_halves_on_429_and_recovers():
    limiter = AdaptiveLimiter(16, cooldown_s=0.0)
    for _ in range(3):
        await limiter.acquire()
        await limiter.release(rate_limited=True)
    assert limiter.current == 2 and limiter.min_seen == 2
    for _ in range(200):
        await limiter.acquire()
        await limiter.release(success=True)
    assert limiter.current == 16
    plain = AdaptiveLimiter(4, adaptive=False)
    await plain.acquire()
    await plain.release(rate_limited=True)
    assert plain.current == 4


async def test_concurrency_bounded_and_backs_off_on_429():
    in_flight = 0
    peak_after_429 = 0
    seen_429 = False
    peak = 0

    class Counting(MockBackend):
        async def complete(self, request: Request):  # type: ignore[override]
            nonlocal in_flight, peak, seen_429, peak_after_429
            in_flight += 1
            peak = max(peak, in_flight)
            if seen_429:
                peak_after_429 = max(peak_after_429, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            n = len(self.calls)
            if n in (20, 21, 22, 23):
                seen_429 = True
                self.calls.append(request)
                raise CallError("rate limited", "http_429", retry_after=0.05)
            return await super().complete(request)

    backend = Counting("mock:echo")
    stats = CallStats()
    opts = CallOptions(max_concurrency=8, backoff_base_s=0.01)
    results = await call_many(
        backend, [Request.from_prompt(str(i)) for i in range(60)], opts, stats=stats
    )
    assert all(r.ok for r in results)
    assert peak == 8
    assert stats.min_concurrency < 8


def test_cache_hits_refresh_no_cache_and_usage(tmp_path: Path):
    backend = MockBackend("mock:echo")
    reqs = [Request.from_prompt(f"word {i} more") for i in range(5)]
    with CallCache(tmp_path) as cache:
        first = run_calls(backend, reqs, cache=cache)
        assert len(backend.calls) == 5 and len(cache) == 5
        assert sum_usage(first).completion_tokens == 15
        stats = CallStats()
        again = run_calls(backend, reqs, cache=cache, stats=stats)
        assert len(backend.calls) == 5
        assert all(r.completion is not None and r.completion.cached for r in again)
        assert [r.attempts for r in again] == [0] * 5
        assert stats.cached == 5 and stats.usage.completion_tokens == 0
        run_calls(backend, reqs, cache=cache, refresh=True)
        assert len(backend.calls) == 10
        # Another decoding is another key; so is another backend identity.
        other = Request.from_prompt("word 0 more", Decoding(temperature=0.7))
        run_calls(backend, [other], cache=cache)
        run_calls(MockBackend("mock:upper"), reqs[:1], cache=cache)
        assert len(cache) == 7
    run_calls(backend, reqs)  # no cache given: always calls
    assert len(backend.calls) == 16


def test_cache_key_covers_every_input():
    base = Request.from_prompt("q")
    keys = {
        cache_key("m", base),
        cache_key("m2", base),
        cache_key("m", Request.from_prompt("q2")),
        cache_key("m", Request.from_prompt("q", Decoding(max_tokens=5))),
        cache_key("m", Request.from_prompt("q", Decoding(system_prompt="s"))),
        cache_key("m", Request.from_prompt("q", json_schema={"type": "object"})),
    }
    assert len(keys) == 6
    assert cache_key("m", base) == cache_key("m", Request.from_prompt("q"))


def test_cache_dir_env(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    with CallCache() as cache:
        assert cache.path == tmp_path / "c" / "calls.sqlite"
        mode = cache._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def _writer(path: str, worker: int, n: int) -> None:
    from tuneval.models.base import Completion

    with CallCache(path) as cache:
        for i in range(n):
            req = Request.from_prompt(f"w{worker}-{i}")
            cache.put("id", req, Completion(text=f"{worker}:{i}"))
            shared = Request.from_prompt(f"shared-{i}")
            cache.put("id", shared, Completion(text="shared"))
            assert cache.get("id", shared) is not None


def test_cache_concurrent_processes(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with CallCache(tmp_path) as cache:
        assert len(cache) == 4 * 60 + 60
        hit = cache.get("id", Request.from_prompt("w3-59"))
        assert hit is not None and hit.text == "3:59" and hit.cached
