"""HumanEval/MBPP protocols: completion vs chat mode, fence extraction, reference timeouts."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark, mbpp
from tuneval.benchmarks.code import code_limits, default_mode, resolve_mode
from tuneval.benchmarks.code_extract import CODEX_STOPS, extract_code, truncate_at_stops
from tuneval.errors import DataError, UsageError
from tuneval.models.base import Message
from tuneval.models.mock import MockBackend
from tuneval.rundir import RunDir

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

PROMPT = 'def add(a, b):\n    """Add."""\n'
TOY = {
    "task_id": "Toy/0",
    "prompt": PROMPT,
    "entry_point": "add",
    "canonical_solution": "    return a + b\n",
    "test": "def check(f):\n    assert f(1, 2) == 3\n",
}
SOLUTION = "def add(a, b):\n    return a + b\n"


def _toy(tmp_path: Path) -> Path:
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps(TOY) + "\n")
    return path


@pytest.mark.parametrize(
    "answer",
    [
        f"Here:\n```python3\n{SOLUTION}```\n",
        f"Here:\n``` python\n{SOLUTION}```",
        f"Here:\r\n```python\r\n{SOLUTION.replace(chr(10), chr(13) + chr(10))}```\r\n",
        f"```python\n{SOLUTION}```\nUsage:\n```python\nprint(add(1, 2))\n```",
        f"```python\nimport math\nx = add\n```\nThe function:\n```py\n{SOLUTION}```",
        f"```bash\npip install nothing\n```\n```\n{SOLUTION}```",
        f"Cut off:\n```Python\n{SOLUTION}",
    ],
    ids=["python3", "space", "crlf", "usage-after", "defining-block-second", "other-lang", "open"],
)
def test_extract_code_takes_the_defining_block(answer: str) -> None:
    assert extract_code(answer, "add") == SOLUTION


def test_extract_code_without_fences_and_without_entry() -> None:
    assert extract_code("x = 2\r\ny = 3") == "x = 2\ny = 3"
    assert extract_code("```\na = 1\n```\n```\nb = 2\n```") == "a = 1\n"


def test_truncate_at_earliest_stop() -> None:
    text = "    return a + b\n\nif __name__:\n    pass\n\ndef other():\n"
    assert truncate_at_stops(text, CODEX_STOPS) == "    return a + b\n"


class _Rendering(MockBackend):
    """A mock whose model has (or lacks) a chat template, as local backends report."""

    def __init__(self, spec: str, template: bool, reply: str) -> None:
        super().__init__(spec, responder=lambda r: reply)
        self.template = template

    def render(self, messages: Sequence[Message]) -> str:
        text = "\n".join(m.content for m in messages)
        return f"<|user|>{text}<|assistant|>" if self.template else text


def test_default_mode_follows_the_chat_template() -> None:
    assert default_mode(_Rendering("mock:t", True, "")) == "chat"
    assert default_mode(_Rendering("mock:b", False, "")) == "completion"
    assert default_mode(MockBackend("mock:echo")) == "chat"  # API-style backend
    assert resolve_mode("humaneval", "completion", MockBackend("mock:echo")) == "completion"
    with pytest.raises(UsageError, match="--mode must be 'completion' or 'chat'"):
        resolve_mode("humaneval", "generate", MockBackend("mock:echo"))


def test_completion_mode_sends_the_original_prompt_with_codex_stops(tmp_path: Path) -> None:
    # A base model continues the body and then rambles into a new function.
    backend = _Rendering("mock:base", False, "    return a + b\n\ndef junk(:\n")
    run = RunDir(tmp_path / "run")
    summary = get_benchmark("humaneval").run(backend, run, BenchOptions(data=_toy(tmp_path)))
    (call,) = backend.calls
    assert [m.content for m in call.messages] == [PROMPT]
    assert call.decoding.stop == CODEX_STOPS
    assert summary["mode"] == "completion" and summary["pass@1"] == 1.0
    assert "|mode:completion|prompt:human-eval|stop:codex|" in summary["signature"]
    assert run.read_info()["benchmark"]["signature"] == summary["signature"]


def test_chat_mode_uses_the_evalplus_instruction(tmp_path: Path) -> None:
    reply = f"```python\n{SOLUTION}```\nExample:\n```python\nassert add(1, 1) == 3\n```"
    backend = _Rendering("mock:chat", True, reply)
    summary = get_benchmark("humaneval").run(
        backend, RunDir(tmp_path / "r"), BenchOptions(data=_toy(tmp_path))
    )
    (call,) = backend.calls
    assert call.messages[0].content == (
        "Please provide a self-contained Python script that solves the following problem in "
        f"a markdown code block:\n```python\n{PROMPT.strip()}\n```"
    )
    assert call.decoding.stop == ()
    assert summary["mode"] == "chat" and summary["pass@1"] == 1.0
    assert "|mode:chat|prompt:evalplus|stop:none|" in summary["signature"]


def test_reference_timeout_and_factor(tmp_path: Path) -> None:
    assert code_limits(BenchOptions()).timeout_s == pytest.approx(4.0)  # 3 s + process start
    assert code_limits(BenchOptions(timeout_factor=2)).timeout_s == pytest.approx(7.0)
    slow = "```python\ndef add(a, b):\n    import time\n    time.sleep(2.5)\n    return a + b\n```"
    run = RunDir(tmp_path / "r")
    options = BenchOptions(data=_toy(tmp_path), timeout_factor=0.2, mode="chat")
    summary = get_benchmark("humaneval").run(
        MockBackend("mock:x", responder=lambda r: slow), run, options
    )
    assert summary["pass@1"] == 0.0 and "timeout:0.6s" in summary["signature"]
    assert run.generations()[0].metadata["status"] == "timeout"


def test_mbpp_entry_point_and_bad_first_test(tmp_path: Path) -> None:
    rows = [{"task_id": 11, "text": "T", "code": "def g(): return 1", "test_list": ["g() == 1"]}]
    path = tmp_path / "mbpp.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n")
    with pytest.raises(DataError) as err:
        mbpp.load_mbpp(path)
    assert err.value.field == "test_list" and err.value.line == 1


@pytest.mark.skipif(not (SHARED / "mbpp").exists(), reason="shared benchmark data absent")
def test_mbpp_entry_points_match_the_reference_code() -> None:
    for sanitized in (False, True):
        for p in mbpp.load_mbpp(SHARED / "mbpp", sanitized=sanitized):
            defines = (
                rf"(def\s+{p.entry_point}\s*\(|\b{p.entry_point}\s*=|class\s+{p.entry_point}\b)"
            )
            assert re.search(defines, p.canonical), p.task_id


@pytest.mark.skipif(not (SHARED / "mbpp").exists(), reason="shared benchmark data absent")
def test_mbpp_completion_mode_three_shot(tmp_path: Path) -> None:
    backend = _Rendering("mock:base", False, "def f():\n    return 1\n[DONE]\nmore text")
    summary = get_benchmark("mbpp").run(
        backend, RunDir(tmp_path / "r"), BenchOptions(data=SHARED / "mbpp", limit=1)
    )
    prompt = backend.calls[0].messages[0].content
    assert prompt.count("[DONE]") == 3 and prompt.endswith("[BEGIN]\n")
    assert backend.calls[0].decoding.stop == ("[DONE]",)
    assert summary["mode"] == "completion" and "prompt:mbpp-3shot" in summary["signature"]


@pytest.mark.skipif(not (SHARED / "mbpp").exists(), reason="shared benchmark data absent")
def test_mbpp_three_shot_prompt_equals_lm_eval() -> None:
    # lm-evaluation-harness's mbpp task: doc_to_text, target "{code}\n[DONE]" with an empty
    # target delimiter, shots (tasks 2-4) joined by "\n\n", then the task.
    rows = {r["task_id"]: r for r in map(json.loads, (SHARED / "mbpp" / "mbpp.jsonl").open())}

    def doc_to_text(doc: dict) -> str:
        tests = doc["test_list"]
        return (
            f"You are an expert Python programmer, and here is your task: {doc['text']} Your "
            f"code should pass these tests:\n\n{tests[0]}\n{tests[1]}\n{tests[2]}\n[BEGIN]\n"
        )

    shots = [doc_to_text(rows[i]) + rows[i]["code"] + "\n[DONE]" for i in (2, 3, 4)]
    expected = "\n\n".join([*shots, doc_to_text(rows[11])])
    problems = mbpp.load_mbpp(SHARED / "mbpp", limit=1)
    prompt = mbpp.fewshot_prompt(problems[0], mbpp.load_mbpp(SHARED / "mbpp", split="prompt"))
    assert prompt == expected
