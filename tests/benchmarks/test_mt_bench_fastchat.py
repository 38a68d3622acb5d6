"""MT-Bench with FastChat's judging protocol: prompts byte for byte, parsing, one call per item.

The expected prompts and verdicts come from a restatement of FastChat's
``fastchat/llm_judge/common.py`` (``run_judge_single``/``run_judge_pair`` and its patterns),
written here from its source rather than imported (FastChat is not a dependency).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from tuneval.benchmarks import BenchOptions, get_benchmark
from tuneval.benchmarks.fastchat import combine, parse_rating, parse_winner
from tuneval.errors import DataError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.rundir import RunDir

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mt_bench"
needs_prompts = pytest.mark.skipif(
    not (SHARED / "judge_prompts.jsonl").exists(), reason="shared MT-Bench data absent"
)

# -- FastChat, restated ------------------------------------------------------------------
one_score_pattern = re.compile(r"\[\[(\d+\.?\d*)\]\]")
one_score_pattern_backup = re.compile(r"\[(\d+\.?\d*)\]")


def fastchat_rating(judgment: str) -> float:
    match = re.search(one_score_pattern, judgment)
    if not match:
        match = re.search(one_score_pattern_backup, judgment)
    return ast.literal_eval(match.groups()[0]) if match else -1


def fastchat_winner(judgment: str) -> str:
    if "[[A]]" in judgment:
        return "A"
    if "[[B]]" in judgment:
        return "B"
    if "[[C]]" in judgment:
        return "tie"
    return "error"


def fastchat_single_prompt(
    tpl: dict, question: dict, answer: dict, ref: dict | None, mt: bool
) -> str:
    kwargs = {}
    if ref is not None:
        kwargs["ref_answer_1"] = ref["choices"][0]["turns"][0]
        if mt:
            kwargs["ref_answer_2"] = ref["choices"][0]["turns"][1]
    if mt:
        return tpl["prompt_template"].format(
            question_1=question["turns"][0],
            question_2=question["turns"][1],
            answer_1=answer["choices"][0]["turns"][0],
            answer_2=answer["choices"][0]["turns"][1],
            **kwargs,
        )
    return tpl["prompt_template"].format(
        question=question["turns"][0], answer=answer["choices"][0]["turns"][0], **kwargs
    )


def fastchat_pair_prompt(
    tpl: dict, question: dict, a: dict, b: dict, ref: dict | None, mt: bool
) -> str:
    kwargs = {}
    if ref is not None:
        kwargs["ref_answer_1"] = ref["choices"][0]["turns"][0]
        if mt:
            kwargs["ref_answer_2"] = ref["choices"][0]["turns"][1]
    if mt:
        return tpl["prompt_template"].format(
            question_1=question["turns"][0],
            question_2=question["turns"][1],
            answer_a_1=a["choices"][0]["turns"][0],
            answer_b_1=b["choices"][0]["turns"][0],
            answer_a_2=a["choices"][0]["turns"][1],
            answer_b_2=b["choices"][0]["turns"][1],
            **kwargs,
        )
    return tpl["prompt_template"].format(
        question=question["turns"][0],
        answer_a=a["choices"][0]["turns"][0],
        answer_b=b["choices"][0]["turns"][0],
        **kwargs,
    )


# -- parsing -------------------------------------------------------------------------------
RATINGS = [
    ("Rating: [[7.5]]", 7.5),
    ("Rating: [7]", 7),
    ("First [[3]] then, on reflection, [[9]]", 3),
    ("[[10]]", 10),
    ("I'd give it 8/10.", -1),
    ('{"score": 6}', -1),
    ("[[8]] but the backup [5] is later", 8),
]
VERDICTS = [
    "Not [[A]]; final verdict: [[B]]",
    "[[B]]",
    "It is a tie: [[C]]",
    "Assistant A is better",
    "[[B]] and then [[A]]",
]


@pytest.mark.parametrize(("reply", "expected"), RATINGS)
def test_rating_parse_equals_fastchat(reply: str, expected: float) -> None:
    assert parse_rating(reply) == fastchat_rating(reply) == expected


@pytest.mark.parametrize("reply", VERDICTS)
def test_pair_parse_equals_fastchat(reply: str) -> None:
    assert parse_winner(reply) == fastchat_winner(reply)


def test_pair_combination_is_fastchats() -> None:
    assert combine("A", "B") == "a"  # a first and preferred, then b first and a preferred
    assert combine("B", "A") == "b"
    assert combine("A", "A") == "tie"  # position-inconsistent counts as a tie
    assert combine("tie", "tie") == "tie"
    assert combine("error", "A") is None  # excluded


# -- prompts through the benchmark ------------------------------------------------------------
QUESTIONS = [
    {
        "question_id": 81,
        "category": "writing",
        "turns": ["Write a haiku {about} cats.", "Now in French."],
    },
    {"question_id": 111, "category": "math", "turns": ["What is 2+2?", "And times 3?"]},
]
REFS = {111: {"question_id": 111, "choices": [{"index": 0, "turns": ["4", "12"]}]}}


def _data(root: Path) -> Path:
    root.mkdir()
    (root / "question.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    (root / "reference_answer").mkdir()
    (root / "reference_answer" / "gpt-4.jsonl").write_text(json.dumps(REFS[111]) + "\n")
    shutil.copy(SHARED / "judge_prompts.jsonl", root / "judge_prompts.jsonl")
    return root


class _Judge(MockBackend):
    """Records every request; replies from ``REPLY`` (keyed by a substring of the prompt)."""

    prefix = "fcjudge"
    seen: ClassVar[list[Request]] = []
    reply = "Rating: [[7.5]]"

    def __init__(self, spec: str) -> None:
        super().__init__(spec, responder=self._respond)

    def _respond(self, request: Request) -> str:
        _Judge.seen.append(request)
        return _Judge.reply


def _answer(text: str) -> MockBackend:
    return MockBackend(f"mock:{text}", responder=lambda r: f"{text} answer {len(r.messages)}")


def _answers(text: str) -> dict:
    return {"choices": [{"turns": [f"{text} answer 1", f"{text} answer 3"]}]}


@pytest.fixture
def judge() -> type[_Judge]:
    _Judge.seen = []
    _Judge.reply = "Rating: [[7.5]]"
    return _Judge


@needs_prompts
def test_single_prompts_byte_identical(tmp_path: Path, judge: type[_Judge]) -> None:
    data = _data(tmp_path / "d")
    tpls = {t["name"]: t for t in map(json.loads, (data / "judge_prompts.jsonl").open())}
    run = RunDir(tmp_path / "run")
    summary = get_benchmark("mt-bench").run(
        _answer("m"), run, BenchOptions(data=data), judge=_Judge("fcjudge:j")
    )
    expected = []
    for q in QUESTIONS:
        ref = REFS.get(q["question_id"])
        for mt in (False, True):
            name = ("single-math-v1" if ref else "single-v1") + ("-multi-turn" if mt else "")
            user = fastchat_single_prompt(tpls[name], q, _answers("m"), ref, mt)
            expected.append((tpls[name]["system_prompt"], user))
    got = [(r.messages[0].content, r.messages[1].content) for r in judge.seen]
    assert sorted(got) == sorted(expected) and len(got) == 4
    assert all(r.decoding.max_tokens == 2048 and r.decoding.temperature == 0 for r in judge.seen)
    assert summary["overall"] == {"turn1": 7.5, "turn2": 7.5, "average": 7.5}
    assert "|protocol:fastchat|mode:single|" in summary["signature"]
    assert "judge_tokens:2048|retries:no" in summary["signature"]
    calls = [json.loads(x) for x in run.record_file("judgments").read_text().splitlines()]
    assert {c["template"] for c in calls} == {
        "single-v1",
        "single-v1-multi-turn",
        "single-math-v1",
        "single-math-v1-multi-turn",
    }


@needs_prompts
def test_pairwise_prompts_byte_identical(tmp_path: Path, judge: type[_Judge]) -> None:
    data = _data(tmp_path / "d")
    tpls = {t["name"]: t for t in map(json.loads, (data / "judge_prompts.jsonl").open())}
    base = RunDir(tmp_path / "base")
    judge.reply = "[[A]]"
    get_benchmark("mt-bench").run(
        _answer("base"), base, BenchOptions(data=data), judge=_Judge("fcjudge:j")
    )
    judge.seen = []
    judge.reply = "Not [[A]]; final verdict: [[B]]"  # FastChat reads A: always position A
    summary = get_benchmark("mt-bench").run(
        _answer("ft"),
        RunDir(tmp_path / "ft"),
        BenchOptions(data=data, against=base.path),
        judge=_Judge("fcjudge:j"),
    )
    expected = []
    for q in QUESTIONS:
        ref = REFS.get(q["question_id"])
        for mt in (False, True):
            name = ("pair-math-v1" if ref else "pair-v2") + ("-multi-turn" if mt else "")
            for a, b in (("base", "ft"), ("ft", "base")):
                user = fastchat_pair_prompt(tpls[name], q, _answers(a), _answers(b), ref, mt)
                expected.append((tpls[name]["system_prompt"], user))
    got = [(r.messages[0].content, r.messages[1].content) for r in judge.seen]
    assert sorted(got) == sorted(expected) and len(got) == 8
    # Position A in both orders: inconsistent, so every item is a tie (FastChat's rule).
    assert summary["overall"]["ties"] == 4 and summary["overall"]["wins"] == 0
    assert summary["mode"] == "pairwise"


@needs_prompts
def test_unparseable_reply_excluded_without_retry(tmp_path: Path, judge: type[_Judge]) -> None:
    data = _data(tmp_path / "d")
    judge.reply = "I would rate this a solid eight."
    summary = get_benchmark("mt-bench").run(
        _answer("m"), RunDir(tmp_path / "r"), BenchOptions(data=data), judge=_Judge("fcjudge:j")
    )
    assert len(judge.seen) == 4  # one call per item, no retries
    assert summary["unscored"] == 4 and summary["overall"]["average"] is None


def test_missing_judge_prompts_is_one_clear_error(tmp_path: Path, judge: type[_Judge]) -> None:
    (tmp_path / "question.jsonl").write_text(json.dumps(QUESTIONS[0]) + "\n")
    with pytest.raises(DataError, match=r"judge_prompts\.jsonl.*--protocol tuneval"):
        get_benchmark("mt-bench").run(
            _answer("m"),
            RunDir(tmp_path / "r"),
            BenchOptions(data=tmp_path),
            judge=_Judge("fcjudge:j"),
        )
