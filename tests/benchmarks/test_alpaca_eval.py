"""AlpacaEval: loader on the release files, pipeline with a mock model and a mock judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark
from tuneval.benchmarks.alpaca_eval import load_alpaca_eval
from tuneval.errors import DataError, UsageError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.records import Score
from tuneval.rundir import RunDir, read_jsonl

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alpaca_eval"


class _Judge(MockBackend):
    """Prefers the displayed answer that contains GOOD; a tie when neither does."""

    prefix = "aejudge"

    def __init__(self, spec: str) -> None:
        def respond(request: Request) -> str:
            text = request.messages[-1].content
            a_part, b_part = text.split("[Answer A]", 1)[1].split("[Answer B]", 1)
            first_good, second_good = "GOOD" in a_part, "GOOD" in b_part
            winner = "A" if first_good else ("B" if second_good else "tie")
            return json.dumps({"reasoning": "r", "winner": winner})

        super().__init__(spec, responder=respond)


def _fixture(path: Path) -> Path:
    rows = [
        {"dataset": "koala", "instruction": f"Task {i}", "output": f"ref-{i}", "generator": "g4"}
        for i in range(4)
    ]
    path.write_text(json.dumps(rows, indent=4))
    return path


def test_loader_shared() -> None:
    if not SHARED.exists():
        pytest.skip("shared AlpacaEval data (../shared/data) absent")
    items = load_alpaca_eval(SHARED)
    assert len(items) == 805 and items[0].generator == "gpt4_1106_preview"


def test_malformed(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('[{"instruction": "x", "generator": "g"}]')
    with pytest.raises(DataError) as err:
        load_alpaca_eval(tmp_path / "m.json")
    assert err.value.line == 1 and err.value.field == "output"


def test_pipeline_exact(tmp_path: Path) -> None:
    data = _fixture(tmp_path / "outputs.json")
    # Better than the reference on tasks 0-2; a tie (neither says GOOD) on task 3.
    backend = MockBackend(
        "mock:m", responder=lambda r: "bad" if "3" in r.messages[-1].content else "GOOD"
    )
    run = RunDir(tmp_path / "run")
    summary = get_benchmark("alpaca-eval").run(
        backend, run, BenchOptions(data=data), judge=_Judge("aejudge:j")
    )
    assert summary["wins"] == 3 and summary["ties"] == 1 and summary["losses"] == 0
    assert summary["win_rate"]["value"] == pytest.approx(3.5 / 4)
    scores = read_jsonl(run.record_file("scores"), Score)
    assert sorted(s.values["win"] for s in scores) == [0.5, 1.0, 1.0, 1.0]
    assert summary["lc_win_rate_minimal"]["note"].startswith("minimal length-controlled")


def test_alpaca_eval_protocol_one_random_order(tmp_path: Path) -> None:
    from tuneval.benchmarks.alpaca_eval import model_shown_first

    data = _fixture(tmp_path / "outputs.json")
    calls: list[str] = []
    backend = MockBackend(
        "mock:m", responder=lambda r: "bad" if "3" in r.messages[-1].content else "GOOD"
    )
    run = RunDir(tmp_path / "run")
    options = BenchOptions(data=data, protocol="alpaca_eval")
    summary = get_benchmark("alpaca-eval").run(backend, run, options, judge=_Judge("aejudge:j"))
    orders = [model_shown_first(f"Task {i}") for i in range(4)]
    assert set(orders) == {True, False}  # both orders occur among these four items
    judged = [p for p in run.path.glob("judge-*-first") if p.is_dir()]
    assert len(judged) == 2
    calls = [line for p in judged for line in (p / "judge_pairwise.jsonl").read_text().splitlines()]
    assert len(calls) == 4  # one judgment per item, not two
    # alpaca_eval's get_winrate on preferences 2, 2, 2, 1.5.
    assert summary["win_rate"] == pytest.approx(87.5) and summary["n_draws"] == 1
    assert summary["discrete_win_rate"] == pytest.approx(87.5)
    assert "|protocol:alpaca_eval|" in summary["signature"]
    with pytest.raises(UsageError, match="--protocol must be 'both-orders' or 'alpaca_eval'"):
        get_benchmark("alpaca-eval").run(
            backend,
            RunDir(tmp_path / "x"),
            BenchOptions(data=data, protocol="x"),
            judge=_Judge("aejudge:j"),
        )
