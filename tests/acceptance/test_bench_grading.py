"""How ``tuneval bench`` grades and reports, as a user meets it on the command line.

MMLU generate mode reads only clear answer letters (an unclear reply is unscored, counted and
fails the run unless allowed); pass@k comes with its interval; AlpacaEval annotations give no
LC figure without the data that makes it the leaderboard's; ``tuneval bench`` writes
``usage.jsonl`` and prints the cost line; in the workflow, failed benchmark calls are
excluded, counted and fail the run unless ``calls.allow_failures``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from test_bench_runner import Gate, _mmlu, _server

import tuneval
from cli_helpers import run_cli
from stub_loader import stub_server_module
from tuneval.stats.intervals import wilson_interval

stub_server = stub_server_module()


def _info(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "run.json").read_text())["benchmark"])


def _mmlu_args(tmp_path: Path, model: str, n: int = 4) -> list[str]:
    """``bench mmlu`` in generate mode on ``n`` anatomy questions (answers A, B, C, D, ...)."""
    argv = _mmlu(tmp_path / "data", n)
    return ["bench", *argv, "--model", model, "--out", str(tmp_path / "r"), "--no-cache"]


@pytest.mark.parametrize(
    "reply",
    [
        "a good choice here is D",
        "The answer is a bit unclear, but I pick D",
        "A: the answer is D",
    ],
)
def test_mmlu_unclear_replies_are_unscored_not_graded(tmp_path, capsys, reply):
    # Every question's gold letter is A: reading these replies as A scored them all right.
    argv = ["bench", "mmlu", "--data", str(_mmlu_all_a(tmp_path)), "--subjects", "anatomy"]
    argv += ["--model", f"mock:constant={reply}", "--out", str(tmp_path / "r")]
    code, out, err = run_cli([*argv, "--mode", "generate"], capsys)
    assert code == 1
    [line] = err.strip().splitlines()  # one line, no traceback
    assert line.startswith("Error: 4 of 4 replies have no clear answer letter (")
    assert "unscored, not wrong" in line and "--allow-unscored" in line
    info = _info(tmp_path / "r")
    assert info["unscored"] == 4 and info["scored"] == 0 and info["accuracy"] is None
    assert info["accuracy_unscored_as_wrong"]["accuracy"] == 0.0
    assert "unscored     4" in out

    code, out, err = run_cli([*argv, "--mode", "generate", "--allow-unscored"], capsys)
    assert code == 0, err
    assert "accuracy is over the 0 scored items" in out and "4 unscored of 4 as wrong" in out


def _mmlu_all_a(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for split, count in (("dev", 5), ("test", 4)):
        (root / split).mkdir(parents=True)
        rows = [f"q{i} of {split}?,w,x,y,z,A\n" for i in range(count)]
        (root / split / f"anatomy_{split}.csv").write_text("".join(rows))
    return root


def test_mmlu_clear_replies_are_scored_and_both_accuracies_labelled(tmp_path, capsys):
    code, out, err = run_cli(
        [*_mmlu_args(tmp_path, "mock:constant=The answer is (B)"), "--max-tokens", "8"], capsys
    )
    assert code == 0, err
    info = _info(tmp_path / "r")
    assert info["unscored"] == 0 and info["scored"] == 4 and info["accuracy"] == 0.25
    assert info["accuracy_unscored_as_wrong"]["accuracy"] == 0.25
    assert "accuracy is over the 4 scored items" in out
    # How the letter was read is part of how the number was produced.
    assert "|mode:generate|template:chat|extract:strict|unscored:excluded|" in info["signature"]


def test_mmlu_reversed_prompt_stub_is_unscored_and_the_cost_is_printed(tmp_path, capsys):
    # The stub answers with the prompt reversed: no answer at all (it scored 0.40 before).
    config = stub_server.StubConfig()
    with stub_server.serve_in_thread(config) as (url, _state):
        argv = _mmlu_args(tmp_path, f"openai-compatible:{url}#gpt-4o-mini")
        code, out, err = run_cli(argv, capsys)
    assert code == 1 and "4 of 4 replies have no clear answer letter" in err
    assert _info(tmp_path / "r")["unscored_reasons"] == {"no answer letter": 4}
    # The calls' tokens are in usage.jsonl and priced as `tuneval run` prices them.
    assert (tmp_path / "r" / "usage.jsonl").exists()
    assert "Estimated cost of the calls this run made: $0.0" in out


def _code_problems(path: Path, n: int) -> Path:
    """HumanEval problems ``f0..`` whose even ones a + b passes and odd ones fails."""
    with gzip.open(path, "wt") as fh:
        for i in range(n):
            want = 3 if i % 2 == 0 else -1
            problem = {
                "task_id": f"Toy/{i}",
                "prompt": f'def f{i}(a, b):\n    """Add."""\n',
                "entry_point": f"f{i}",
                "canonical_solution": "    return a + b\n",
                "test": f"def check(f):\n    assert f(1, 2) == {want}\n",
            }
            fh.write(json.dumps(problem) + "\n")
    return path


def test_humaneval_pass_at_1_has_a_wilson_interval(tmp_path, capsys):
    data = _code_problems(tmp_path / "HumanEval.jsonl.gz", 4)
    argv = ["bench", "humaneval", "--model", "mock:constant=    return a + b\n", "--data"]
    argv += [str(data), "--mode", "completion", "--out", str(tmp_path / "h")]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    info = _info(tmp_path / "h")
    low, high = wilson_interval(2, 4)
    assert info["pass@1"] == 0.5 and info["pass@1_ci"] == pytest.approx([low, high])
    assert info["ci"].startswith("wilson")
    assert f"pass@1       0.5000 [{low:.4f}, {high:.4f}] (95% CI)" in out


def test_mbpp_pass_at_k_has_a_bootstrap_interval(tmp_path, capsys):
    rows = [
        {
            "task_id": 11 + i,
            "text": "Add two numbers.",
            "code": "def f(a, b):\n    return a + b",
            "test_setup_code": "",
            "test_list": [f"assert f(1, 2) == {3 if i % 2 == 0 else -1}"],
        }
        for i in range(6)
    ]
    data = tmp_path / "mbpp.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    reply = "```python\ndef f(a, b):\n    return a + b\n```"
    argv = ["bench", "mbpp", "--model", f"mock:constant={reply}", "--data", str(data)]
    argv += ["--mode", "chat", "--samples", "2", "--temperature", "0.8"]
    code, out, err = run_cli([*argv, "--out", str(tmp_path / "m")], capsys)
    assert code == 0, err
    info = _info(tmp_path / "m")
    low, high = info["pass@1_ci"]
    assert info["pass@1"] == 0.5 and 0.0 <= low < 0.5 < high <= 1.0
    assert info["ci"].startswith("bootstrap over problems")
    assert f"pass@1       0.5000 [{low:.4f}, {high:.4f}] (95% CI)" in out


def _workflow(tmp_path: Path, model: str) -> Path:
    rows = [{"id": f"e{i}", "prompt": f"Say {i}", "reference": str(i)} for i in range(4)]
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _mmlu(tmp_path / "mmlu", 4)
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: wf\neval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        f"models:\n  base: {{spec: '{model}'}}\n  finetuned: {{spec: '{model}'}}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100, trials: 200}\n"
        "calls: {cache: false, max_retries: 0}\n"
        f"benchmarks:\n  - {{name: mmlu, data: {tmp_path / 'mmlu'}, subjects: [anatomy], "
        "mode: generate, max_tokens: 8}\n"
    )
    return config


def test_workflow_failed_benchmark_calls_are_excluded_and_exit_1(tmp_path, capsys):
    gate = Gate()
    gate.refuse = True  # question 1 is refused (HTTP 400) for both models
    with _server(gate) as model:
        config = _workflow(tmp_path, model)
        code, out, err = run_cli(["run", str(config)], capsys)
        assert code == 1
        assert "benchmark calls failed (mmlu base: 1 calls; mmlu finetuned: 1 calls)" in err
        assert "excluded" in err and "--allow-failures" in err
        assert "mmlu base: 1 failed calls (1 problems excluded)" in out  # the step's line
        run = tmp_path / "runs" / "wf"
        base = run / "benchmarks" / "mmlu" / "base"
        assert _info(base)["items"] == 3 and _info(base)["failed_items"] == 1
        scored = {json.loads(x)["example_id"] for x in (base / "scores.jsonl").open()}
        assert scored == {"anatomy/0", "anatomy/2", "anatomy/3"}  # not graded as wrong
        code, out, err = run_cli(["run", str(config), "--allow-failures"], capsys)
        assert code == 0, err


def test_workflow_reports_benchmark_calls_to_the_progress_callback(tmp_path):
    with _server(Gate()) as model:
        seen: list[Any] = []
        tuneval.full_evaluation(_workflow(tmp_path, model), on_progress=seen.append)
    counts = [p.done for p in seen if p.step == "benchmarks"]
    assert counts == list(range(1, 9))  # 4 questions x 2 models, one tick per call
