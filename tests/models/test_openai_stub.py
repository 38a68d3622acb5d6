import pytest
from stub_server import StubConfig, serve_in_thread

from tuneval.errors import BackendError
from tuneval.models import Decoding, Request, create_backend
from tuneval.models.openai_backend import parse_retry_after
from tuneval.models.runner import CallOptions, CallStats, call_many

FAST = CallOptions(max_concurrency=8, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5)


def test_spec_parsing_and_identity(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="OPENAI_API_KEY"):
        create_backend("openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    b = create_backend("openai:gpt-4o-mini")
    assert b.identity() == "openai-compatible:https://api.openai.com/v1#gpt-4o-mini"
    d = create_backend("openai-compatible:http://127.0.0.1:9/v1#tiny")
    assert d.identity() == "openai-compatible:http://127.0.0.1:9/v1#tiny"
    assert "secret" not in d.identity() + b.identity() + repr(vars(d).get("spec"))
    with pytest.raises(BackendError, match="BASE_URL#MODEL"):
        create_backend("openai-compatible:http://x/v1")


def test_retry_after_parsing():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


async def test_clean_calls_multi_turn_and_usage(monkeypatch):
    monkeypatch.setenv("TUNEVAL_API_KEY", "local-key")
    with serve_in_thread(StubConfig()) as (url, state):
        backend = create_backend(f"openai-compatible:{url}#stub")
        req = Request.from_prompt("hello there", Decoding(max_tokens=8, stop=("x",), seed=3))
        stats = CallStats()
        (result,) = await call_many(backend, [req], FAST, stats=stats)
        await backend.aclose()
    assert result.completion is not None
    assert result.completion.text == "ereht olleh"
    assert result.completion.usage.prompt_tokens == 2
    assert result.completion.finish_reason == "stop"
    assert stats.usage.completion_tokens == 2 and state.ok == 1
    assert state.authorization == "Bearer local-key"


async def test_faults_are_retried_and_recorded():
    config = StubConfig(rate_500=0.2, rate_malformed=0.1, fail_first=1, retry_after=0.02)
    with serve_in_thread(config) as (url, state):
        backend = create_backend(f"openai-compatible:{url}#stub")
        reqs = [Request.from_prompt(f"item {i}") for i in range(40)]
        stats = CallStats()
        results = await call_many(backend, reqs, FAST, stats=stats)
        await backend.aclose()
    # Every prompt got one 429 first (Retry-After honoured), then succeeded or failed.
    assert state.faults["429"] >= 40 and state.faults["500"] > 0 and state.faults["malformed"] > 0
    kinds = {r.error_kind for r in results if not r.ok}
    assert kinds <= {"bad_response", "http_500"} and "bad_response" in kinds
    assert stats.failed == stats.failures.get("bad_response", 0) + stats.failures.get("http_500", 0)
    assert stats.done + stats.failed == 40 and stats.done > 25
    assert stats.retries >= 40
    for r, q in zip(results, reqs, strict=True):
        if r.completion is not None:
            assert r.completion.text == q.messages[-1].content[::-1]


async def test_slow_replies_time_out_and_429_backs_off():
    config = StubConfig(rate_slow=1.0, slow_s=3.0)
    with serve_in_thread(config) as (url, _state):
        backend = create_backend(f"openai-compatible:{url}#stub")
        opts = FAST.model_copy(update={"timeout_s": 0.2, "max_retries": 1})
        (result,) = await call_many(backend, [Request.from_prompt("slow")], opts)
        await backend.aclose()
    assert result.error_kind == "timeout" and result.attempts == 2
    config = StubConfig(rate_429=0.5, retry_after=0.01, latency_s=0.01)
    with serve_in_thread(config) as (url, _state):
        backend = create_backend(f"openai-compatible:{url}#stub")
        stats = CallStats()
        opts = FAST.model_copy(update={"max_concurrency": 16, "max_retries": 20})
        results = await call_many(
            backend, [Request.from_prompt(f"q{i}") for i in range(60)], opts, stats=stats
        )
        await backend.aclose()
    assert all(r.ok for r in results)
    assert stats.min_concurrency < 16


async def test_connection_refused_is_connection_error():
    from stub_server import free_port

    backend = create_backend(f"openai-compatible:http://127.0.0.1:{free_port()}/v1#x")
    opts = FAST.model_copy(update={"max_retries": 1})
    (result,) = await call_many(backend, [Request.from_prompt("q")], opts)
    await backend.aclose()
    assert result.error_kind == "connection" and result.attempts == 2
