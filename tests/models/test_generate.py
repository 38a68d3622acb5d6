import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stub_server import free_port

from cli_helpers import run_cli
from tuneval.errors import CallError, DataError
from tuneval.models import Decoding, Request
from tuneval.models.cache import CallCache
from tuneval.models.generate import build_request, generate
from tuneval.models.mock import MockBackend
from tuneval.records import Example, Generation
from tuneval.rundir import RunDir, read_jsonl

HERE = Path(__file__).parent


def examples(n: int) -> list[Example]:
    return [Example(id=f"e{i}", prompt=f"prompt number {i}") for i in range(n)]


def test_build_request_multi_turn_and_errors():
    ex = Example(
        id="m",
        metadata={
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "and now?"},
            ]
        },
    )
    req = build_request(ex, Decoding(system_prompt="sys"))
    assert [m.role for m in req.full_messages()] == ["system", "user", "assistant", "user"]
    with pytest.raises(DataError, match="no prompt"):
        build_request(Example(id="x"), Decoding())
    with pytest.raises(DataError, match="messages"):
        build_request(Example(id="y", metadata={"messages": [{"who": "me"}]}), Decoding())


def test_generate_records_resume_and_failures(tmp_path: Path):
    def responder(request: Request) -> str:
        if "7" in request.messages[-1].content:
            raise CallError("bad request", "http_400")
        return "answer " + request.messages[-1].content

    backend = MockBackend("mock:scripted", responder=responder)
    run = RunDir(tmp_path / "run")
    decoding = Decoding(max_tokens=9, temperature=0.5, seed=4)
    with CallCache(tmp_path / "cache") as cache:
        s = generate(
            backend, examples(10), run, name="base", decoding=decoding, cache=cache, progress=False
        )
        assert (s.done, s.failed, s.skipped, s.cached) == (9, 1, 0, 0)
        assert s.failures == {"http_400": 1}
        assert s.usage.prompt_tokens == 9 * 3 and s.usage.completion_tokens == 9 * 4
        gens = run.generations("base")
        assert len(gens) == 10
        bad = next(g for g in gens if g.example_id == "e7")
        assert bad.output is None and bad.error == "bad request"
        assert bad.metadata["error_kind"] == "http_400"
        good = next(g for g in gens if g.example_id == "e3")
        assert good.output == "answer prompt number 3"
        assert good.metadata["backend"] == "mock:scripted"
        assert good.metadata["decoding"]["max_tokens"] == 9
        assert good.metadata["usage"] == {"prompt_tokens": 3, "completion_tokens": 4}
        assert good.metadata["cached"] is False and good.metadata["latency_s"] >= 0
        # Rerun: nothing to do (failed items are recorded, not retried silently).
        s2 = generate(backend, examples(12), run, name="base", cache=cache, progress=False)
        assert s2.skipped == 10 and s2.done == 2
        # Another model name in the same run reuses the cache for the same requests.
        calls = len(backend.calls)
        s3 = generate(
            backend,
            examples(10),
            run,
            name="other",
            decoding=decoding,
            cache=cache,
            progress=False,
        )
        assert s3.cached == 9 and len(backend.calls) == calls + 1
        assert len(run.generations()) == 22


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tuneval", "generate", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_cli_kill_and_resume(tmp_path: Path):
    data = tmp_path / "eval.jsonl"
    n = 60
    data.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(n))
    )
    port = free_port()
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "stub_server.py"),
            "--port",
            str(port),
            "--latency",
            "0.15",
            "--log",
            str(log),
        ],
    )
    env = {**os.environ, "TUNEVAL_CACHE_DIR": str(tmp_path / "cache"), "TUNEVAL_API_KEY": "k"}
    out = tmp_path / "runs" / "r"
    args = [
        "--model",
        f"openai-compatible:http://127.0.0.1:{port}/v1#stub",
        "--data",
        str(data),
        "--out",
        str(out),
        "--name",
        "base",
        "--max-concurrency",
        "4",
        "--max-tokens",
        "8",
    ]
    try:
        deadline = time.monotonic() + 30
        while not log.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        first = cli(*args, env=env)
        gens_path = out / "generations.jsonl"
        deadline = time.monotonic() + 60
        while not gens_path.exists() or gens_path.read_text().count("\n") < 12:
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        written = {g.example_id for g in read_jsonl(gens_path, Generation)}
        assert 12 <= len(written) < n
        served_before = [json.loads(x)["prompt"] for x in log.read_text().splitlines()]
        second = cli(*args, env=env)
        output = second.communicate(timeout=120)[0].decode()
        assert second.returncode == 0, output
        assert "already in the run" in output
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    gens = read_jsonl(gens_path, Generation)
    ids = [g.example_id for g in gens]
    assert sorted(ids) == sorted(f"q{i}" for i in range(n))  # complete, no duplicates
    assert all(g.output == f"question {g.example_id[1:]}"[::-1] for g in gens)
    served = [json.loads(x)["prompt"] for x in log.read_text().splitlines()]
    repeated = {p for p in served if served.count(p) > 1}
    # No call whose result the first run had received was made again; the only repeats are
    # calls still in flight at the kill (the server answered a client that was gone).
    assert not repeated & {f"question {i[1:]}" for i in written}
    assert len(repeated) <= 4 and all(served.count(p) == 2 for p in repeated)
    assert set(served) == {f"question {i}" for i in range(n)}
    assert len(served_before) >= len(written)
    info = json.loads((out / "run.json").read_text())
    assert "TUNEVAL_API_KEY" not in json.dumps(info) and '"k"' not in json.dumps(info)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = run_cli(args, capsys)
    return code, out + err


def test_cli_bad_data_is_clear_error(tmp_path: Path, capsys):
    data = tmp_path / "eval.jsonl"
    data.write_text('{"id": "a", "prompt": "x"}\n{"prompt": "no id"}\n')
    code, output = run_main(
        [
            "generate",
            "--model",
            "mock:echo",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "r"),
            "--no-cache",
        ],
        capsys,
    )
    assert code == 1
    assert "eval.jsonl:2" in output


def test_cli_mock_writes_records_and_summary(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "eval.jsonl"
    data.write_text(
        "".join(json.dumps({"id": f"a{i}", "prompt": f"p {i}"}) + "\n" for i in range(5))
    )
    args = [
        "generate",
        "--model",
        "mock:upper",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "r"),
        "--name",
        "ft",
        "--system-prompt",
        "be kind",
        "--stop",
        "Z",
        "--temperature",
        "0.3",
        "--seed",
        "9",
    ]
    code, output = run_main(args, capsys)
    assert code == 0, output
    assert "5 done (0 cached)" in output
    gens = RunDir(tmp_path / "r").generations("ft")
    assert [g.output for g in gens] == [f"P {i}" for i in range(5)]
    d = gens[0].metadata["decoding"]
    assert d["system_prompt"] == "be kind" and d["stop"] == ["Z"] and d["seed"] == 9
    (tmp_path / "r" / "generations.jsonl").unlink()
    assert "5 done (5 cached)" in run_main(args, capsys)[1]
    (tmp_path / "r" / "generations.jsonl").unlink()
    assert "5 done (0 cached)" in run_main([*args, "--refresh"], capsys)[1]
