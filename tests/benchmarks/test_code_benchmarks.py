"""HumanEval and MBPP: loaders, canonical solutions in the sandbox, pipelines with the mock."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark, mbpp
from tuneval.benchmarks import humaneval as he
from tuneval.benchmarks.code import check_canonical, extract_code
from tuneval.errors import DataError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.records import Score
from tuneval.rundir import RunDir, read_jsonl
from tuneval.stats import pass_at_k

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "humaneval").exists(), reason="shared benchmark data (../shared/data) absent"
)

TOY = [
    {
        "task_id": "Toy/0",
        "prompt": 'def add(a, b):\n    """Add."""\n',
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(f):\n    assert f(1, 2) == 3\n",
    },
    {
        "task_id": "Toy/1",
        "prompt": 'def neg(a):\n    """Negate."""\n',
        "entry_point": "neg",
        "canonical_solution": "    return -a\n",
        "test": "def check(f):\n    assert f(4) == -4\n",
    },
]


def _write_toy(tmp_path: Path) -> Path:
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in TOY)
    return path


def test_pass_at_k_values() -> None:
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(10, 0, 10) == 0.0  # n = k, c = 0
    assert pass_at_k(10, 1, 10) == 1.0  # n = k, c > 0
    assert pass_at_k(200, 200, 100) == 1.0  # c = n
    assert pass_at_k(200, 0, 100) == 0.0
    exact = 1 - math.comb(190, 100) / math.comb(200, 100)
    assert pass_at_k(200, 10, 100) == pytest.approx(exact, rel=1e-12)


def test_extract_code() -> None:
    assert extract_code("Sure:\n```python\nx = 1\n```\nbye") == "x = 1\n"
    assert extract_code("x = 2") == "x = 2"


def test_toy_pipeline_exact(tmp_path: Path) -> None:
    data = _write_toy(tmp_path)
    replies = {"add": "```python\ndef add(a, b):\n    return a + b\n```", "neg": "    return a\n"}

    def responder(request: Request) -> str:
        text = request.messages[-1].content
        return next(v for k, v in replies.items() if f"def {k}(" in text)

    backend = MockBackend("mock:toy", responder=responder)
    run = RunDir(tmp_path / "run")
    summary = get_benchmark("humaneval").run(backend, run, BenchOptions(data=data, samples=2))
    assert summary["pass@1"] == 0.5
    scores = read_jsonl(run.record_file("scores"), Score)
    assert [(s.example_id, s.values["pass@1"]) for s in scores] == [("Toy/0", 1.0), ("Toy/1", 0.0)]
    gens = run.generations()
    assert len(gens) == 4 and gens[2].metadata["status"] == "failed"


def _cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    from tuneval.cli import main

    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_bench(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write_toy(tmp_path)
    code, output = _cli(capsys, ["bench", "list"])
    assert code == 0 and "humaneval" in output and "mbpp-sanitized" in output
    argv = ["bench", "humaneval", "--model", "mock:echo", "--out", str(tmp_path / "r")]
    code, output = _cli(capsys, [*argv, "--data", str(data), "--limit", "1"])
    assert code == 0, output
    assert "pass@1" in output
    assert len(RunDir(tmp_path / "r").generations()) == 1
    code, output = _cli(capsys, ["bench", "humaneval"])
    assert code == 2 and "--model" in output


def test_malformed_humaneval(tmp_path: Path) -> None:
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(TOY[0]) + "\n" + json.dumps({"task_id": "x", "prompt": "p"}) + "\n")
    with pytest.raises(DataError) as err:
        he.load_humaneval(path)
    assert err.value.line == 2 and err.value.field == "entry_point"
    assert str(path) in str(err.value)
    path.write_text("{not json\n")
    with pytest.raises(DataError, match=":1: malformed JSON"):  # the shared reader's wording
        he.load_humaneval(path)


def test_hub_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(he, "load_hub", lambda ds, cfg, split: TOY)
    problems = he.load_humaneval(None)
    assert [p.task_id for p in problems] == ["Toy/0", "Toy/1"]
    rows = [
        {"task_id": 11, "prompt": "Do x.", "code": "def f():\n    return 1\n",
         "test_imports": [], "test_list": ["assert f() == 1"]},
    ]  # fmt: skip
    monkeypatch.setattr(mbpp, "load_hub", lambda ds, cfg, split: rows)
    (p,) = mbpp.load_mbpp(None, sanitized=True)
    assert p.task_id == "mbpp/11" and p.test_list == ("assert f() == 1",)
    assert p.entry_point == "f" and "assert f() == 1" in mbpp.chat_prompt(p)
    assert check_canonical([p]) == []


@needs_shared
def test_humaneval_canonical_all_pass() -> None:
    problems = he.load_humaneval(SHARED / "humaneval")
    assert len(problems) == 164
    assert check_canonical(problems) == []


@needs_shared
def test_mbpp_loaders_and_canonical() -> None:
    full = mbpp.load_mbpp(SHARED / "mbpp")
    sanitized = mbpp.load_mbpp(SHARED / "mbpp", sanitized=True)
    assert len(full) == 500 and len(sanitized) == 257
    assert full[0].task_id == "mbpp/11"
    shots = mbpp.load_mbpp(SHARED / "mbpp", split="prompt")
    prompt = mbpp.fewshot_prompt(full[0], shots)
    assert prompt.startswith("You are an expert Python programmer, and here is your task:")
    assert prompt.count("[BEGIN]\n") == 4 and prompt.count("\n[DONE]") == 3
    # The whole sets pass (measured); a sample keeps the test quick.
    assert check_canonical(full[::10] + sanitized[::10]) == []
