"""MT-Bench: loader on the FastChat files, two-turn pipeline with a mock model and mock judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark
from tuneval.benchmarks.mt_bench import load_mt_bench
from tuneval.errors import DataError, UsageError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.records import Score
from tuneval.rundir import RunDir, read_jsonl

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mt_bench"


def _fixture(root: Path) -> Path:
    qs = [
        {"question_id": 81, "category": "writing", "turns": ["Write A.", "Shorten it."]},
        {"question_id": 111, "category": "math", "turns": ["2+2?", "Times 3?"]},
    ]
    (root / "question.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs))
    (root / "reference_answer").mkdir()
    ref = {"question_id": 111, "choices": [{"index": 0, "turns": ["4", "12"]}]}
    (root / "reference_answer" / "gpt-4.jsonl").write_text(json.dumps(ref) + "\n")
    return root


class _Judge(MockBackend):
    """Scores 9 when the judged text holds the model's marker, else 3 (turn 2 of q81: 5)."""

    prefix = "mtjudge"

    def __init__(self, spec: str) -> None:
        def respond(request: Request) -> str:
            text = request.messages[-1].content
            if "Follow-up question from the user: Shorten it." in text:
                return '{"reasoning": "ok", "score": 5}'
            score = 9 if "REFERENCE-SEEN" in text else 3
            return f'{{"reasoning": "r", "score": {score}}}'

        super().__init__(spec, responder=respond)


def test_loader_shared() -> None:
    if not SHARED.exists():
        pytest.skip("shared MT-Bench data (../shared/data) absent")
    qs = load_mt_bench(SHARED)
    assert len(qs) == 80
    assert sum(1 for q in qs if q.references) == 30
    assert {q.category for q in qs} >= {"math", "coding", "reasoning", "writing"}


def test_malformed(tmp_path: Path) -> None:
    (tmp_path / "question.jsonl").write_text('{"question_id": 1, "category": "x"}\n')
    with pytest.raises(DataError) as err:
        load_mt_bench(tmp_path)
    assert err.value.line == 1 and err.value.field == "turns"


def test_pipeline_exact(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    data = _fixture(tmp_path / "d")

    def model(request: Request) -> str:
        # The reference of the math question is "4"; answering it shows the judge saw it.
        return (
            "REFERENCE-SEEN"
            if len(request.messages) == 1 and "2+2" in request.messages[0].content
            else "x"
        )

    backend = MockBackend("mock:m", responder=model)
    run = RunDir(tmp_path / "run")
    summary = get_benchmark("mt-bench").run(
        backend, run, BenchOptions(data=data, protocol="tuneval"), judge=_Judge("mtjudge:j")
    )
    # q81: turn1 3, turn2 5; q111: turn1 9, turn2 9 (its conversation shows turn 1).
    assert summary["categories"]["writing"] == {"turn1": 3.0, "turn2": 5.0, "average": 4.0}
    assert summary["categories"]["math"] == {"turn1": 9.0, "turn2": 9.0, "average": 9.0}
    assert summary["overall"] == {"turn1": 6.0, "turn2": 7.0, "average": 6.5}
    scores = read_jsonl(run.record_file("scores"), Score)
    assert [s.example_id for s in scores] == ["81/1", "81/2", "111/1", "111/2"]
    examples = {e.id: e for e in run.examples()}
    assert examples["111/2"].references == ("12",) and examples["81/1"].references == ()
    ref_run = RunDir(run.path / "judge-reference")
    assert [e.id for e in ref_run.examples()] == ["111/1", "111/2"]
    # Turn 2 is asked as a conversation containing turn 1's answer.
    assert any(len(r.messages) == 3 for r in backend.calls)


def test_needs_judge(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--judge"):
        get_benchmark("mt-bench").run(MockBackend("mock:echo"), RunDir(tmp_path), BenchOptions())


class _PairJudge(MockBackend):
    """Prefers the answer whose judged part holds GOOD; for turn 2 only the follow-up counts."""

    prefix = "mtpair"

    def __init__(self, spec: str) -> None:
        def respond(request: Request) -> str:
            text = request.messages[-1].content
            assert ("[Reference answer]" in text) == ("2+2?" in text)
            a = text.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]\n", 1)[0]
            b = text.split("[Answer B]\n", 1)[1].split("\n\nCompare the answers", 1)[0]

            def judged(answer: str) -> str:
                return answer.split("[Answer to the follow-up question]\n")[-1]

            good_a, good_b = "GOOD" in judged(a), "GOOD" in judged(b)
            winner = "tie" if good_a == good_b else ("A" if good_a else "B")
            return f'{{"reasoning": "r", "winner": "{winner}"}}'

        super().__init__(spec, responder=respond)


def test_pairwise_against_another_run(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    data = _fixture(tmp_path / "d")

    def answers(turn1: str, turn2: str):
        return lambda request: turn1 if len(request.messages) == 1 else turn2

    bench = get_benchmark("mt-bench")
    base = RunDir(tmp_path / "base")
    bench.run(
        MockBackend("mock:base", responder=answers("plain", "GOOD2")),
        base,
        BenchOptions(data=data, protocol="tuneval"),
        judge=_Judge("mtjudge:j"),
    )
    tuned = RunDir(tmp_path / "tuned")
    summary = bench.run(
        MockBackend("mock:tuned", responder=answers("GOOD1", "plain")),
        tuned,
        BenchOptions(data=data, against=base.path, protocol="tuneval"),
        judge=_PairJudge("mtpair:j"),
    )
    assert summary["mode"] == "pairwise" and summary["against"] == "mock:base"
    # The tuned model wins turn 1 of both questions and loses both turn 2s, although its
    # turn-2 conversation shows its (better) first answer: only the follow-up is judged.
    assert summary["turn1"]["wins"] == 2 and summary["turn1"]["losses"] == 0
    assert summary["turn2"]["wins"] == 0 and summary["turn2"]["losses"] == 2
    assert summary["overall"]["win_rate"]["value"] == pytest.approx(0.5)
    assert summary["overall"]["inconsistent"] == 0
    assert set(summary["categories"]) == {"writing", "math"}
    ref_pairs = RunDir(tuned.path / "pairwise-reference")
    assert [e.id for e in ref_pairs.examples()] == ["111/1", "111/2"]
    assert RunDir(tuned.path).read_info()["benchmark"]["mode"] == "pairwise"


def test_against_must_be_an_mt_bench_run(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an MT-Bench run"):
        get_benchmark("mt-bench").run(
            MockBackend("mock:echo"),
            RunDir(tmp_path / "x"),
            BenchOptions(against=tmp_path / "nothing"),
            judge=MockBackend("mock:echo"),
        )
