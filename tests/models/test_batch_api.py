"""Provider batch mode through `run_calls`, against the stub's OpenAI and Anthropic endpoints."""

import asyncio
import json
import logging
from pathlib import Path

import pytest
from stub_server import StubConfig, serve_in_thread

from tuneval.errors import BackendError, ConfigError
from tuneval.models.base import Request, create_backend
from tuneval.models.batch import BatchStore, watch_batches
from tuneval.models.cache import CallCache
from tuneval.models.loop import run_sync
from tuneval.models.pricing import read_usage
from tuneval.models.runner import CallOptions, call_many, run_calls

PROMPTS = ["hello world", "abc [batch-fail]", "hello world", "x y z"]


def backend_for(provider: str, url: str):
    if provider == "openai":
        return create_backend(f"openai-compatible:{url}#gpt-4o-mini")
    return create_backend(
        "anthropic:claude-3-5-haiku-20241022", api_key="k", base_url=url.removesuffix("/v1")
    )


def close(backend) -> None:
    run_sync(backend.aclose())


def options(run: Path, **kw) -> CallOptions:
    return CallOptions(batch=True, run_dir=run, batch_poll_s=0.02, batch_poll_max_s=0.05, **kw)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_batch_answers_every_request_once(tmp_path, provider):
    with serve_in_thread(StubConfig(batch_pending_polls=2)) as (url, state):
        backend = backend_for(provider, url)
        polls = []
        try:
            with watch_batches(polls.append):
                results = run_calls(
                    backend,
                    [Request.from_prompt(p) for p in PROMPTS],
                    options(tmp_path),
                    cache=CallCache(tmp_path / "cache"),
                )
        finally:
            close(backend)
        assert state.batches_created == {provider: 1}
        assert state.requests == 0  # no live call
    texts = [r.completion.text if r.completion else None for r in results]
    assert texts == ["dlrow olleh", None, "dlrow olleh", "z y x"]
    failed = results[1]
    assert failed.error_kind in ("http_400", "invalid_request_error")
    assert "refuses" in (failed.error or "")
    assert {r.batch_id for r in results} == {f"{provider[:3]}batch_1"}
    # The duplicate request was paid once.
    assert [r.completion.cached for r in results if r.completion] == [False, True, False]
    stored = BatchStore(tmp_path).read().batches
    assert len(stored) == 1 and stored[0].collected and len(stored[0].custom_ids) == 3
    assert [p.status.state for p in polls][-1] in ("completed", "ended")
    assert len(polls) == 3  # pending for two polls, then done
    usage = read_usage(tmp_path)
    assert [u.mode for u in usage] == ["batch", "batch"]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_interrupted_batch_is_polled_again_not_resubmitted(tmp_path, provider):
    requests = [Request.from_prompt(f"item {i}") for i in range(5)]
    with serve_in_thread(StubConfig()) as (url, state):
        state.hold = True
        backend = backend_for(provider, url)
        try:

            async def interrupted() -> None:
                # Stopped once the batch is pending (as a killed run would be).
                task = asyncio.ensure_future(call_many(backend, requests, options(tmp_path)))
                while state.batch_polls < 2:
                    await asyncio.sleep(0.01)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task

            run_sync(interrupted())
            (pending,) = BatchStore(tmp_path).read().batches
            assert not pending.collected and len(pending.custom_ids) == 5
            state.hold = False
            results = run_calls(backend, requests, options(tmp_path))
        finally:
            close(backend)
        assert state.batches_created == {provider: 1}
    assert [r.completion.text for r in results if r.completion] == [f"{i} meti" for i in range(5)]
    assert BatchStore(tmp_path).read().batches[0].collected


def test_a_collected_failure_is_submitted_anew(tmp_path):
    requests = [Request.from_prompt(p) for p in PROMPTS]
    with serve_in_thread(StubConfig()) as (url, state):
        backend = backend_for("openai", url)
        try:
            cache = CallCache(tmp_path / "cache")
            run_calls(backend, requests, options(tmp_path), cache=cache)
            again = run_calls(backend, requests, options(tmp_path), cache=cache)
        finally:
            close(backend)
        assert state.batches_created == {"openai": 2}
    (second,) = BatchStore(tmp_path).read().batches[1:]
    assert len(second.custom_ids) == 1  # only the failed request; the rest came from the cache
    assert [r.attempts for r in again] == [0, 1, 0, 0]


def test_a_server_without_batch_api_is_one_clear_error(tmp_path):
    with serve_in_thread(StubConfig(batch_api=False)) as (url, _):
        backend = backend_for("openai", url)
        try:
            with pytest.raises(BackendError, match="has no batch API") as info:
                run_calls(backend, [Request.from_prompt("a")], options(tmp_path))
        finally:
            close(backend)
    assert "HTTP 404" in str(info.value) and "without --batch" in str(info.value)
    assert "\n" not in str(info.value)
    assert BatchStore(tmp_path).read().batches == []


def test_lost_server_while_polling_keeps_the_batch_for_a_rerun(tmp_path):
    requests = [Request.from_prompt("a"), Request.from_prompt("b")]
    with serve_in_thread(StubConfig()) as (url, state):
        state.hold = True
        backend = backend_for("anthropic", url)
        try:

            async def poll_then_lose() -> None:
                task = asyncio.ensure_future(call_many(backend, requests, options(tmp_path)))
                while state.batch_polls < 1:
                    await asyncio.sleep(0.01)
                state.batches.clear()  # the server forgets the batch: polls answer 404
                await task

            with pytest.raises(BackendError, match="resume polling") as info:
                run_sync(poll_then_lose())
        finally:
            close(backend)
    assert "antbatch_1" in str(info.value) and "batches.json" in str(info.value)
    (kept,) = BatchStore(tmp_path).read().batches
    assert not kept.collected  # a rerun polls it again


def test_backend_without_batch_api_calls_live(tmp_path, caplog, monkeypatch):
    import tuneval.models.batch as batch_module

    monkeypatch.setattr(batch_module, "_warned", set())  # warned once per process
    backend = create_backend("mock:echo")
    with caplog.at_level(logging.WARNING):
        results = run_calls(backend, [Request.from_prompt("hi")], options(tmp_path))
    assert results[0].completion is not None and results[0].batch_id is None
    assert "has no batch API" in caplog.text
    assert [u.mode for u in read_usage(tmp_path)] == ["live"]


def test_batch_needs_a_run_directory():
    backend = create_backend("openai-compatible:http://127.0.0.1:9/v1#m")
    try:
        with pytest.raises(ConfigError, match="run directory"):
            run_calls(backend, [Request.from_prompt("a")], CallOptions(batch=True))
    finally:
        close(backend)


def test_a_damaged_batch_record_is_one_clear_error(tmp_path):
    (tmp_path / "batches.json").write_text(json.dumps({"version": 1, "batches": [{"id": 3}]}))
    with pytest.raises(ConfigError, match=r"batches.json is not a tuneval batch record"):
        BatchStore(tmp_path).read()
