import importlib
import inspect
import json
from pathlib import Path

import pytest

from tuneval.errors import BackendError, DataError
from tuneval.models import Decoding, Message, Request, create_backend
from tuneval.models.generate import generate
from tuneval.models.runner import CallOptions, CallStats, call_many
from tuneval.records import Example
from tuneval.rundir import RunDir

anthropic = pytest.importorskip("anthropic")
# The SDK's own HTTP package (httpx, or its successor httpx2 in newer SDK versions).
httpx = importlib.import_module(anthropic.DefaultAsyncHttpxClient.__mro__[1].__module__)

FAST = CallOptions(backoff_base_s=0.01, backoff_max_s=0.02, max_retries=2)


def anthropic_transport(seen: list[dict], fail_first: int = 0):
    def handler(request):
        body = json.loads(request.content)
        seen.append({"body": body, "headers": dict(request.headers), "url": str(request.url)})
        if len(seen) <= fail_first:
            return httpx.Response(
                429,
                headers={"retry-after": "0"},
                json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            )
        text = body["messages"][-1]["content"].upper()
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 2},
            },
        )

    return httpx.MockTransport(handler)


async def test_anthropic_request_mapping_retry_and_usage(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    seen: list[dict] = []
    client = httpx.AsyncClient(transport=anthropic_transport(seen, fail_first=1))
    backend = create_backend("anthropic:claude-test", http_client=client)
    assert backend.identity() == "anthropic:https://api.anthropic.com#claude-test"
    assert "secret" not in backend.identity()
    req = Request(
        messages=(
            Message(role="user", content="hi"),
            Message(role="assistant", content="hello"),
            Message(role="user", content="more please"),
        ),
        decoding=Decoding(system_prompt="be nice", max_tokens=20, stop=("END",), top_p=0.9),
    )
    stats = CallStats()
    (result,) = await call_many(backend, [req], FAST, stats=stats)
    await backend.aclose()
    assert result.completion is not None and result.completion.text == "MORE PLEASE"
    assert result.attempts == 2 and stats.retries == 1
    assert stats.usage.prompt_tokens == 11 and stats.usage.completion_tokens == 2
    body = seen[-1]["body"]
    assert body["system"] == "be nice" and body["max_tokens"] == 20
    assert body["stop_sequences"] == ["END"]
    params = set(
        inspect.signature(anthropic.AsyncAnthropic(api_key="k").messages.create).parameters
    )
    assert ("top_p" in body) == ("top_p" in params)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    headers = {k.lower(): v for k, v in seen[-1]["headers"].items()}
    assert "sk-ant-secret" in (headers.get("x-api-key", "") + headers.get("authorization", ""))
    assert seen[-1]["url"].endswith("/v1/messages")


async def test_anthropic_errors(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(BackendError, match="ANTHROPIC_API_KEY"):
        create_backend("anthropic:claude-test")

    def handler(request):
        return httpx.Response(400, json={"type": "error", "error": {"type": "x", "message": "no"}})

    backend = create_backend(
        "anthropic:m",
        api_key="k",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    (result,) = await call_many(backend, [Request.from_prompt("q")], FAST)
    await backend.aclose()
    assert result.error_kind == "http_400" and result.attempts == 1


def test_file_replay(tmp_path: Path):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        json.dumps({"id": "a", "prediction": "answer a"})
        + "\n"
        + json.dumps({"id": "b", "prediction": None, "error": "model crashed"})
        + "\n"
        + json.dumps({"id": "z", "prediction": "by prompt", "prompt": "what is z"})
        + "\n"
    )
    backend = create_backend(f"file:{preds}")
    assert backend.identity().startswith("file:sha256=")
    examples = [
        Example(id="a", prompt="pa"),
        Example(id="b", prompt="pb"),
        Example(id="c", prompt="pc"),
        Example(id="other", prompt="what is z"),
    ]
    run = RunDir(tmp_path / "run")
    summary = generate(backend, examples, run, name="ft", progress=False)
    gens = {g.example_id: g for g in run.generations("ft")}
    assert gens["a"].output == "answer a"
    assert (
        gens["b"].error == "model crashed" and gens["b"].metadata["error_kind"] == "replayed_error"
    )
    assert gens["c"].output is None and gens["c"].metadata["error_kind"] == "missing"
    assert gens["other"].output == "by prompt"
    assert summary.failures == {"replayed_error": 1, "missing": 1}

    out_field = tmp_path / "out.jsonl"
    out_field.write_text(json.dumps({"id": "a", "output": "x"}) + "\n")
    assert create_backend(f"file:{out_field}#output")
    with pytest.raises(DataError, match=r"out.jsonl:1"):
        create_backend(f"file:{out_field}")
    with pytest.raises(BackendError, match="not found"):
        create_backend(f"file:{tmp_path / 'missing.jsonl'}")
