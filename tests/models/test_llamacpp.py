"""The bundled SmolLM2 GGUF model, in-process and behind a real llama.cpp server."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from stub_server import free_port

from tuneval.errors import BackendError
from tuneval.models import Decoding, Message, Request, create_backend
from tuneval.models.cache import CallCache
from tuneval.models.runner import CallOptions, CallStats, call_many

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")


@pytest.fixture(scope="module")
def bundled():
    from tuneval.models.llamacpp import default_model_path

    try:
        return default_model_path()
    except BackendError as exc:
        pytest.skip(str(exc))


def test_missing_file_is_clear():
    with pytest.raises(BackendError, match="not found"):
        create_backend("llamacpp:/nonexistent/model.gguf")


async def test_in_process_generation_loglikelihood_and_cache(bundled: Path, tmp_path: Path):
    backend = create_backend("llamacpp:default", n_ctx=512)
    assert backend.identity().startswith("llamacpp:sha256=")
    copy = tmp_path / "same.gguf"
    copy.symlink_to(bundled)
    assert create_backend(f"llamacpp:{copy}").identity() == backend.identity()
    reqs = [
        Request.from_prompt("What is the capital of France?", Decoding(max_tokens=8)),
        Request(
            messages=(
                Message(role="user", content="Say hi."),
                Message(role="assistant", content="Hi!"),
                Message(role="user", content="Again?"),
            ),
            decoding=Decoding(max_tokens=6, system_prompt="Be brief."),
        ),
    ]
    stats = CallStats()
    with CallCache(tmp_path / "cache") as cache:
        results = await call_many(
            backend, reqs, CallOptions(max_concurrency=2), cache=cache, stats=stats
        )
        assert all(r.ok for r in results), results
        assert stats.completion_tokens > 0 and stats.prompt_tokens > 0
        for r in results:
            assert r.completion is not None and r.completion.usage.completion_tokens <= 8
        again = await call_many(backend, reqs, cache=cache)
        assert [r.completion.text for r in again if r.completion] == [
            r.completion.text for r in results if r.completion
        ]
        assert all(r.completion is not None and r.completion.cached for r in again)
    context = [Message(role="user", content="What is the capital of France?")]
    right, wrong = await backend.loglikelihood(
        context, ["The capital of France is Paris.", "The capital of France is Berlin."]
    )
    assert right < 0 and wrong < 0 and right > wrong
    await backend.aclose()


async def test_openai_compatible_against_real_llamacpp_server(bundled: Path):
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "512",
            "--model_alias",
            "smol",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, "llama.cpp server exited"
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama.cpp server did not start"
            time.sleep(0.25)
        backend = create_backend(f"openai-compatible:{url}#smol")
        reqs = [Request.from_prompt(q, Decoding(max_tokens=8)) for q in ["Hi!", "2+2=?", "Sky?"]]
        stats = CallStats()
        results = await call_many(backend, reqs, CallOptions(max_concurrency=2), stats=stats)
        await backend.aclose()
    finally:
        server.terminate()
        server.wait(20)
    assert all(r.ok for r in results), results
    assert all(r.completion is not None and r.completion.text for r in results)
    assert stats.completion_tokens > 0 and stats.completion_tokens <= 3 * 8
