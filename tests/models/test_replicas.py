"""Data-parallel replicas: balancing, per-replica bounds, failover and probing back in."""

import contextlib
import threading
import time

import pytest
from stub_server import StubConfig, free_port, make_app, serve_in_thread

from tuneval.errors import BackendError
from tuneval.models import Request, create_backend
from tuneval.models.cache import CallCache
from tuneval.models.replicas import ReplicaPool
from tuneval.models.runner import CallOptions, call_many

FAST = CallOptions(max_concurrency=12, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=10)


@contextlib.contextmanager
def serve_on(port: int, config: StubConfig):
    """The stub on a chosen port (serve_in_thread picks its own)."""
    import uvicorn

    app = make_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield app.state.stub
    finally:
        server.should_exit = True
        thread.join(10)


def test_spec_forms_share_one_identity():
    a = create_backend("openai-compatible:http://h2:1/v1/,http://h1:1/v1#m")
    b = create_backend("openai-compatible:#m", base_urls=["http://h1:1/v1", "http://h2:1/v1"])
    assert a.identity() == b.identity() == "openai-compatible:http://h1:1/v1,http://h2:1/v1#m"
    single = create_backend("openai-compatible:http://h1:1/v1#m")
    assert single.identity() == "openai-compatible:http://h1:1/v1#m"
    with pytest.raises(BackendError, match="not an http"):
        create_backend("openai-compatible:http://h1:1/v1,h2:1#m")
    with pytest.raises(BackendError, match="repeat"):
        create_backend("openai-compatible:http://h1:1/v1,http://h1:1/v1#m")
    with pytest.raises(BackendError, match="replica_concurrency"):
        create_backend("openai-compatible:http://h1:1/v1,http://h2:1/v1#m", replica_concurrency=0)


async def test_least_outstanding_with_a_bound_per_replica():
    config = StubConfig(latency_s=0.05)
    with (
        serve_in_thread(config) as (u1, s1),
        serve_in_thread(config) as (u2, s2),
        serve_in_thread(config) as (u3, s3),
    ):
        backend = create_backend(f"openai-compatible:{u1},{u2},{u3}#stub", replica_concurrency=2)
        reqs = [Request.from_prompt(f"item {i}") for i in range(60)]
        results = await call_many(backend, reqs, FAST)
        await backend.aclose()
    assert all(r.ok for r in results)
    assert [r.completion.text for r in results if r.completion] == [
        f"item {i}"[::-1] for i in range(60)
    ]
    # 12 allowed in flight overall, 2 per replica: the bound holds and the load is even.
    assert max(s.peak_in_flight for s in (s1, s2, s3)) == 2
    assert sum(s.ok for s in (s1, s2, s3)) == 60
    assert all(15 <= s.ok <= 25 for s in (s1, s2, s3)), [s.ok for s in (s1, s2, s3)]


async def test_dead_replica_fails_over_and_is_probed_back_in(tmp_path):
    dead_port = free_port()
    dead_url = f"http://127.0.0.1:{dead_port}/v1"
    with serve_in_thread(StubConfig(latency_s=0.01)) as (live_url, live):
        backend = create_backend(f"openai-compatible:{dead_url},{live_url}#stub")
        pool = backend._replicas
        assert isinstance(pool, ReplicaPool)
        pool.cooldown_s = 0.2
        cache = CallCache(tmp_path / "cache.sqlite")
        reqs = [Request.from_prompt(f"a {i}") for i in range(20)]
        first = await call_many(backend, reqs, FAST, cache=cache)
        # Every request answered, none lost to the dead replica, no runner retry needed.
        assert all(r.ok and r.attempts == 1 for r in first)
        assert live.ok == 20 and pool.replicas[0].taken_out == 1
        assert not pool.replicas[0].healthy
        # The dead replica comes up on its port: after the cool-down a probe brings it back.
        with serve_on(dead_port, StubConfig(latency_s=0.01)) as revived:
            time.sleep(0.3)
            more = [Request.from_prompt(f"b {i}") for i in range(40)]
            second = await call_many(backend, more, FAST, cache=cache)
            assert all(r.ok for r in second)
            assert revived.ok > 5 and pool.replicas[0].healthy
        # One cache identity: a backend naming the replicas in another order hits the cache.
        again = create_backend(f"openai-compatible:{live_url},{dead_url}#stub")
        hits = await call_many(again, reqs, FAST, cache=cache)
        assert all(r.ok and r.completion and r.completion.cached for r in hits)
        await backend.aclose()
        await again.aclose()
        cache.close()


async def test_request_errors_are_not_replica_failures():
    # A malformed body is the request's problem: no failover, no replica taken out.
    with (
        serve_in_thread(StubConfig(rate_malformed=1.0)) as (u1, _),
        serve_in_thread(StubConfig(rate_malformed=1.0)) as (u2, _),
    ):
        backend = create_backend(f"openai-compatible:{u1},{u2}#stub")
        opts = FAST.model_copy(update={"max_retries": 0})
        (result,) = await call_many(backend, [Request.from_prompt("x")], opts)
        pool = backend._replicas
        await backend.aclose()
    assert result.error_kind == "bad_response"
    assert pool is not None and all(r.healthy and r.taken_out == 0 for r in pool.replicas)


async def test_all_replicas_down_is_a_connection_error():
    urls = ",".join(f"http://127.0.0.1:{free_port()}/v1" for _ in range(2))
    backend = create_backend(f"openai-compatible:{urls}#stub")
    opts = FAST.model_copy(update={"max_retries": 1})
    (result,) = await call_many(backend, [Request.from_prompt("x")], opts)
    await backend.aclose()
    assert result.error_kind == "connection" and "127.0.0.1" in (result.error or "")
