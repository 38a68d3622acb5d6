"""``tuneval bench`` as a user runs it: killed mid-run and rerun, one benchmark's ``--help``.

A real OpenAI-compatible HTTP server (FastAPI on 127.0.0.1, in this process) answers the
model calls and counts them. To kill the command at a moment where no answered call can be
lost, the server holds every request after the first K unanswered; the test kills the
``tuneval bench`` process once its run directory holds those K answers, lets the server
answer again, and reruns the same command: the rerun must ask exactly the questions it
lacked (no call is repeated), and the run's results must equal an uninterrupted run's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tuneval.cli import main


class Gate:
    """What the server answered, and after how many answers it holds requests."""

    def __init__(self) -> None:
        self.answered: list[str] = []
        self.hold_after: int | None = None
        self.held = 0
        self.refuse = False


def _reply(prompt: str) -> str:
    """A deterministic answer: a correct function for a code prompt, else a letter."""
    code = re.search(r"def (\w+)\(a, b\)", prompt)
    if code:
        return f"```python\ndef {code.group(1)}(a, b):\n    return a + b\n```"
    return f"Answer: {'ABCD'[len(prompt) % 4]}"


def _app(gate: Gate) -> Any:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        prompt = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        if gate.refuse and "q1 of test" in prompt:
            return JSONResponse({"error": {"message": "bad request"}}, status_code=400)
        if gate.hold_after is not None and len(gate.answered) >= gate.hold_after:
            gate.held += 1
            await asyncio.sleep(3600)  # never answered: the client is killed meanwhile
        # The seed tells a code problem's samples apart (one seed per sample).
        gate.answered.append(f"{prompt}|seed={body.get('seed')}")
        text = _reply(prompt)
        return {
            "id": f"c{len(gate.answered)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "m"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    return app


@contextlib.contextmanager
def _server(gate: Gate) -> Iterator[str]:
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        _app(gate), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"openai-compatible:http://127.0.0.1:{port}/v1#m"
    finally:
        server.should_exit = True
        thread.join(10)


def _mmlu(root: Path, n: int) -> list[str]:
    for split, count in (("dev", 5), ("test", n)):
        (root / split).mkdir(parents=True)
        rows = [f"q{i} of {split}?,w,x,y,z,{'ABCD'[i % 4]}\n" for i in range(count)]
        (root / split / f"anatomy_{split}.csv").write_text("".join(rows))
    return ["mmlu", "--data", str(root), "--subjects", "anatomy", "--mode", "generate"]


def _humaneval(root: Path, n: int) -> list[str]:
    root.mkdir()
    path = root / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for i in range(n):
            problem = {
                "task_id": f"Toy/{i}",
                "prompt": f'def f{i}(a, b):\n    """Add."""\n',
                "entry_point": f"f{i}",
                "canonical_solution": "    return a + b\n",
                "test": "def check(f):\n    assert f(1, 2) == 3\n",
            }
            fh.write(json.dumps(problem) + "\n")
    return ["humaneval", "--data", str(path), "--samples", "2", "--temperature", "0.8"]


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tuneval", "bench", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    return path.read_bytes().count(b"\n")


def _results(out: Path) -> tuple[str, dict[str, Any]]:
    summary = json.loads((out / "run.json").read_text())["benchmark"]
    return (out / "scores.jsonl").read_text(), summary


@pytest.mark.slow  # three `tuneval bench` processes (a killed one, its rerun, a whole run)
@pytest.mark.parametrize(("make", "calls"), [(_mmlu, 10), (_humaneval, 10)])
def test_a_killed_bench_resumes_without_repeating_a_call(tmp_path, make, calls):
    """10 calls: 10 MMLU questions, or 5 HumanEval problems x 2 samples."""
    argv = make(tmp_path / "data", 10 if make is _mmlu else 5)
    env = {**os.environ, "TUNEVAL_CACHE_DIR": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    # Without the call cache: the run directory alone must carry the resume.
    common = ["--no-cache", "--max-concurrency", "2"]

    gate = Gate()
    with _server(gate) as model:
        out = tmp_path / "killed"
        gate.hold_after = 4
        child = _spawn([*argv, *common, "--model", model, "--out", str(out)], env)
        deadline = time.monotonic() + 120
        while _lines(out / "generations.jsonl") < 4 and time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()[1].decode()
            time.sleep(0.05)
        while gate.held == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the next call reached the server and hangs there
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        first = list(gate.answered)
        assert len(first) == 4 and not (out / "scores.jsonl").exists()

        gate.hold_after = None
        rerun = _spawn([*argv, *common, "--model", model, "--out", str(out)], env)
        _, err = rerun.communicate(timeout=180)
        assert rerun.returncode == 0, err.decode()
        again = gate.answered[len(first) :]
        # Every call made once: the rerun asked exactly what the killed run had not.
        assert len(first) + len(again) == calls
        assert len(set(gate.answered)) == len(gate.answered)
        assert _lines(out / "generations.jsonl") == calls

        whole = tmp_path / "whole"
        before = len(gate.answered)
        done = _spawn([*argv, *common, "--model", model, "--out", str(whole)], env)
        _, err = done.communicate(timeout=180)
        assert done.returncode == 0, err.decode()
        assert len(gate.answered) - before == calls
    assert _results(out) == _results(whole)


def test_rerun_of_a_finished_bench_makes_no_call(tmp_path, capsys):
    argv = _mmlu(tmp_path / "data", 4)
    gate = Gate()
    with _server(gate) as model:
        out = ["--model", model, "--out", str(tmp_path / "r"), "--no-cache"]
        for _ in range(2):
            with pytest.raises(SystemExit) as done:
                main(["bench", *argv, *out])
            assert done.value.code == 0
    assert len(gate.answered) == 4
    assert "accuracy" in capsys.readouterr().out


def test_failed_calls_exit_1_and_a_rerun_retries_only_them(tmp_path, capsys):
    argv = _mmlu(tmp_path / "data", 4)
    gate = Gate()
    with _server(gate) as model:
        out = ["--model", model, "--out", str(tmp_path / "r"), "--no-cache", "--max-retries", "0"]
        gate.refuse = True  # question 1 is refused (HTTP 400, not retried)
        with pytest.raises(SystemExit) as done:
            main(["bench", *argv, *out])
        assert done.value.code == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("Error: 1 model calls failed") and "rerun the same command" in line
        assert len(gate.answered) == 3
        gate.refuse = False
        with pytest.raises(SystemExit) as done:
            main(["bench", *argv, *out])
        assert done.value.code == 0
    assert len(gate.answered) == 4 and "q1 of test" in gate.answered[-1]
    summary = json.loads((tmp_path / "r" / "run.json").read_text())["benchmark"]
    assert "failed_calls" not in summary and summary["items"] == 4


def test_other_settings_in_the_same_directory_are_refused(tmp_path, capsys):
    argv = _mmlu(tmp_path / "data", 2)
    gate = Gate()
    with _server(gate) as model:
        out = ["--model", model, "--out", str(tmp_path / "r"), "--no-cache"]
        with pytest.raises(SystemExit) as done:
            main(["bench", *argv, *out])
        assert done.value.code == 0
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(["bench", *argv, *out, "--format", "original"])
    assert done.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("Error: ") and "other settings" in line and "output directory" in line


def test_bench_help_lists_only_that_benchmarks_options(capsys):
    def help_of(name: str) -> str:
        with pytest.raises(SystemExit):
            main(["bench", name, "--help"])
        return " ".join(capsys.readouterr().out.split())

    mmlu = help_of("mmlu")
    assert "--subjects" in mmlu and "--format" in mmlu and "--mode" in mmlu
    assert "--samples" not in mmlu and "--judge" not in mmlu and "--protocol" not in mmlu
    assert "--annotations" not in mmlu  # hidden: only there to say where it belongs
    code = help_of("humaneval")
    assert "--samples" in code and "--timeout-factor" in code and "--subjects" not in code
    judged = help_of("mt-bench")
    assert "--judge" in judged and "--against" in judged and "--samples" not in judged
    alpaca = help_of("alpaca-eval")
    assert "--annotations" in alpaca and "--protocol" in alpaca and "--against" not in alpaca


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["mmlu", "--format", "helm"], "mmlu --format must be one of lm-eval, original, chat"),
        (["humaneval", "--samples", "0"], "humaneval --samples input should be greater than"),
        (["mt-bench", "--protocol", "x"], "mt-bench --protocol must be 'fastchat' or 'tuneval'"),
        (["mmlu", "--subjects", "nope"], "unknown MMLU subject(s): nope"),
        (["mmlu", "--samples", "2"], "No such option: --samples"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(tmp_path, capsys, argv, expected):
    with pytest.raises(SystemExit) as done:
        main(["bench", *argv, "--model", "mock:echo", "--out", str(tmp_path / "r")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert expected in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # refused before any call or file
