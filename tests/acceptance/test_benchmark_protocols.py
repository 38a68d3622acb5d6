"""Benchmark protocols as a user reaches them: ``tuneval bench ...`` on the command line.

Each run's summary carries a protocol signature saying how its number was produced; the
checks here go through the CLI entry point (errors mapped to exit codes as for a user) with
scripted models and the shared data.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tuneval.cli import main

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
Bench = Callable[..., tuple[int, str]]


@pytest.fixture
def bench(capsys: pytest.CaptureFixture[str]) -> Bench:
    """``tuneval bench ARGS`` as the console script runs it: (exit code, stdout + stderr)."""

    def run(*argv: str) -> tuple[int, str]:
        code = 0
        try:
            main(["bench", *argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def _info(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())["benchmark"]


@pytest.mark.skipif(not (SHARED / "alpaca_eval").exists(), reason="shared data absent")
def test_alpaca_eval_annotations_give_the_published_win_rate(tmp_path: Path, bench: Bench) -> None:
    path = (
        SHARED
        / "alpaca_eval"
        / "alpaca-7b"
        / "weighted_alpaca_eval_gpt4_turbo"
        / "annotations.json"
    )
    code, output = bench("alpaca-eval", "--annotations", str(path), "--out", str(tmp_path / "ae"))
    assert code == 0, output
    assert "win_rate     2.5915" in output and "discrete_win_rate 2.2981" in output
    info = _info(tmp_path / "ae")
    assert info["n_total"] == 805 and info["signature"].startswith(
        "alpaca-eval|source:annotations|"
    )
    # No LC figure without --lc-data: one line says why, no number that reads as the LC.
    assert "lc:none" in info["signature"] and "lc_win_rate_minimal" not in info
    [line] = [x for x in output.splitlines() if x.startswith("lc_omitted")]
    assert "--lc-data" in line and "19.83" not in output


def test_annotations_errors_are_one_line(tmp_path: Path, bench: Bench) -> None:
    bad = tmp_path / "annotations.json"
    bad.write_text('[{"instruction": "i"}]')
    code, output = bench("alpaca-eval", "--annotations", str(bad))
    assert code == 1 and output.startswith("Error: ") and "output_1" in output
    assert "Traceback" not in output
    code, output = bench("mmlu", "--annotations", str(bad))
    assert code == 2 and "--annotations is for alpaca-eval" in output


def _toy_humaneval(tmp_path: Path) -> Path:
    path = tmp_path / "HumanEval.jsonl.gz"
    problem = {
        "task_id": "Toy/0",
        "prompt": 'def add(a, b):\n    """Add."""\n',
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(f):\n    assert f(1, 2) == 3\n",
    }
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps(problem) + "\n")
    return path


def test_humaneval_modes_in_the_signature(tmp_path: Path, bench: Bench) -> None:
    data = _toy_humaneval(tmp_path)
    # A chat answer with the solution in a ```python3 block, then a usage block.
    reply = (
        "Sure!\n```python3\ndef add(a, b):\n    return a + b\n```\n```python\nprint(add(1, 2))\n```"
    )
    out = tmp_path / "chat"
    code, output = bench(
        "humaneval", "--model", f"mock:constant={reply}", "--data", str(data), "--out", str(out)
    )
    assert code == 0, output
    info = _info(out)
    assert info["pass@1"] == 1.0 and info["signature"].startswith(
        "humaneval|mode:chat|prompt:evalplus|"
    )
    out = tmp_path / "completion"
    argv = ["--model", "mock:constant=    return a + b\n\ndef unused(", "--data", str(data)]
    code, output = bench("humaneval", *argv, "--out", str(out), "--mode", "completion")
    assert code == 0, output
    info = _info(out)
    assert (
        info["pass@1"] == 1.0
        and "|mode:completion|prompt:human-eval|stop:codex|" in info["signature"]
    )
    assert "timeout:3s" in info["signature"]
    code, output = bench("humaneval", *argv, "--out", str(tmp_path / "x"), "--mode", "fewshot")
    assert code == 2 and "--mode must be 'completion' or 'chat'" in output


@pytest.mark.skipif(not (SHARED / "mt_bench").exists(), reason="shared data absent")
def test_mt_bench_fastchat_protocol_by_default(tmp_path: Path, bench: Bench) -> None:
    out = tmp_path / "mtb"
    argv = ["--model", "mock:echo", "--data", str(SHARED / "mt_bench"), "--limit", "2"]
    code, output = bench(
        "mt-bench", *argv, "--judge", "mock:constant=Rating: [[7.5]]", "--out", str(out)
    )
    assert code == 0, output
    info = _info(out)
    assert info["protocol"] == "fastchat" and info["overall"]["average"] == 7.5
    assert "|protocol:fastchat|mode:single|" in info["signature"]
    # The JSON-rubric judge cannot read FastChat's [[7.5]]: its protocol is named differently.
    code, output = bench(
        "mt-bench",
        *argv,
        "--judge",
        "mock:constant=Rating: [[7.5]]",
        "--out",
        str(tmp_path / "t"),
        "--protocol",
        "tuneval",
    )
    assert code == 0, output
    assert "|protocol:tuneval|" in _info(tmp_path / "t")["signature"]


def test_mt_bench_without_judge_prompts_says_how_to_fix(tmp_path: Path, bench: Bench) -> None:
    question = {"question_id": 81, "category": "writing", "turns": ["a", "b"]}
    (tmp_path / "question.jsonl").write_text(json.dumps(question) + "\n")
    code, output = bench(
        "mt-bench",
        "--model",
        "mock:echo",
        "--judge",
        "mock:echo",
        "--data",
        str(tmp_path),
        "--out",
        str(tmp_path / "r"),
    )
    assert code == 1 and output.startswith("Error: ") and "--protocol tuneval" in output
    assert "Traceback" not in output
