import asyncio

import pytest

from tuneval.errors import BackendError, CallError
from tuneval.models import Decoding, Message, Request, create_backend
from tuneval.models.mock import MockBackend
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Generation
from tuneval.rundir import JsonlAppender, RunDir, read_jsonl


def test_mock_echo_and_stop():
    backend = create_backend("mock:echo")
    req = Request.from_prompt("hello world. more", Decoding(stop=(".",)))
    (result,) = run_calls(backend, [req])
    assert result.ok and result.completion is not None
    assert result.completion.text == "hello world"
    assert result.completion.usage.prompt_tokens == 3


def test_system_prompt_prepended_once():
    req = Request.from_prompt("q", Decoding(system_prompt="be brief"))
    assert [m.role for m in req.full_messages()] == ["system", "user"]
    req2 = Request(
        messages=(Message(role="system", content="s"), Message(role="user", content="q")),
        decoding=Decoding(system_prompt="ignored"),
    )
    assert [m.content for m in req2.full_messages()] == ["s", "q"]


def test_unknown_specs():
    with pytest.raises(BackendError, match="no backend prefix"):
        create_backend("nothing")
    with pytest.raises(BackendError, match="unknown backend 'zzz'"):
        create_backend("zzz:x")
    with pytest.raises(BackendError, match="unknown mock"):
        create_backend("mock:nope")


def test_failures_are_results_not_crashes():
    def responder(request: Request) -> str:
        if "bad" in request.messages[-1].content:
            raise CallError("server said no", "http_500")
        return "ok"

    backend = MockBackend("mock:scripted", responder=responder)
    reqs = [Request.from_prompt(p) for p in ["good", "bad", "good"]]
    results = run_calls(backend, reqs, CallOptions(max_concurrency=2, backoff_base_s=0.001))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error_kind == "http_500" and results[1].attempts == 6  # 1 + 5 retries


def test_timeout_is_recorded():
    class Slow(MockBackend):
        async def complete(self, request):
            await asyncio.sleep(5)
            return await super().complete(request)

    (result,) = run_calls(
        Slow("mock:echo"), [Request.from_prompt("x")], CallOptions(timeout_s=0.05, max_retries=1)
    )
    assert result.error_kind == "timeout" and result.attempts == 2


def test_loglikelihood_unsupported_is_clear():
    backend = create_backend("mock:echo")
    with pytest.raises(BackendError, match="cannot give log-probabilities"):
        asyncio.run(backend.loglikelihood([Message(role="user", content="q")], ["A"]))


def test_rundir_ignores_and_cuts_partial_line(tmp_path):
    run = RunDir(tmp_path / "run")
    with JsonlAppender(run.generations_path) as out:
        out.write(Generation(example_id="1", model="base", output="a"))
    with run.generations_path.open("a") as handle:
        handle.write('{"example_id": "2", "mod')  # killed mid-write
    assert [g.example_id for g in run.generations()] == ["1"]
    with JsonlAppender(run.generations_path) as out:
        out.write(Generation(example_id="2", model="base", output="b"))
    assert [g.example_id for g in read_jsonl(run.generations_path, Generation)] == ["1", "2"]
    assert run.model_names() == ["base"]
