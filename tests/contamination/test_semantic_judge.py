"""Judge verification of semantic candidates, the cleaned eval set, and the CLI wiring.

The CLI tests swap the sentence-transformers model for the bag-of-words encoder of
test_semantic (through the one function that loads models), so they run in seconds; the
real bundled model runs in tests/acceptance/test_paraphrase.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_semantic import BagEncoder

from cli_helpers import run_cli as run
from tuneval.contamination.paraphrase_judge import judge_matches, parse_verdict
from tuneval.contamination.semantic import DEFAULT_FLOOR, semantic_scan
from tuneval.judge.parse import ParseFailure
from tuneval.models.base import Request
from tuneval.models.cache import CallCache
from tuneval.models.mock import MockBackend

EVAL = [
    {"id": "q1", "prompt": "the red fox jumps over the lazy dog"},
    {"id": "q2", "prompt": "how many apples does maria buy at the market"},
    {"id": "q3", "prompt": "name the largest ocean on earth"},
]
TRAIN = [
    {"text": "over the lazy dog the red fox jumps"},  # a rephrasing of q1
    {"text": "how many apples does maria sell at the market"},  # close to q2, but different
    {"text": "cooking pasta in salted water"},
]


@pytest.mark.parametrize(
    ("reply", "want"),
    [
        (
            '{"verdict": "rephrasing", "reason": "same question, other names"}',
            (True, "same question, other names"),
        ),
        ('Thinking... {"verdict": "different", "reason": "other topic"}', (False, "other topic")),
        ('{"Verdict": true}', (True, None)),
        ('{"verdict": "Paraphrase", "reason": 3}', (True, "3")),
    ],
)
def test_parse_verdict(reply: str, want: tuple[bool, str | None]) -> None:
    assert parse_verdict(reply) == want


@pytest.mark.parametrize("reply", ["yes it is", '{"answer": "rephrasing"}', '{"verdict": "maybe"}'])
def test_unusable_replies_do_not_parse(reply: str) -> None:
    with pytest.raises(ParseFailure):
        parse_verdict(reply)


def _responder(request: Request) -> str:
    prompt = request.messages[0].content
    if "TRAINING TEXT:\nover the lazy dog" in prompt:
        return '{"verdict": "rephrasing", "reason": "same sentence reordered"}'
    if "TRAINING TEXT:\nhow many apples" in prompt:
        return "I am not sure."  # never parses: unscored after the retries
    return '{"verdict": "different", "reason": "unrelated"}'


def _files(tmp_path: Path) -> tuple[Path, Path]:
    ev, tr = tmp_path / "eval.jsonl", tmp_path / "train.jsonl"
    ev.write_text("".join(json.dumps(r) + "\n" for r in EVAL), encoding="utf-8")
    tr.write_text("".join(json.dumps(r) + "\n" for r in TRAIN), encoding="utf-8")
    return ev, tr


def test_judge_confirms_flags_unscored_and_reruns_from_the_cache(tmp_path: Path) -> None:
    _, tr = _files(tmp_path)
    report = semantic_scan([str(tr)], [e["id"] for e in EVAL], [e["prompt"] for e in EVAL],
                           BagEncoder(), top_k=2, floor=0.5)  # fmt: skip
    pairs = sum(len(e.matches) for e in report.examples)
    assert pairs >= 2
    judge = MockBackend("mock:paraphrase-judge", responder=_responder)
    with CallCache(tmp_path / "cache.sqlite") as cache:
        judged = judge_matches(report, judge, cache=cache, max_attempts=2)
        calls = len(judge.calls)
        again = judge_matches(report, judge, cache=cache, max_attempts=2)
    assert again == judged and len(judge.calls) == calls  # the rerun paid for nothing
    q1, q2 = judged.examples[0], judged.examples[1]
    assert q1.confirmed and q1.matches[0].verdict is True
    assert q1.matches[0].reason == "same sentence reordered"
    apples = next(m for m in q2.matches if m.text.startswith("how many apples"))
    assert apples.verdict is None and apples.unscored and "verdict" in (apples.reason or "")
    assert not q2.confirmed
    assert (judged.confirmed, judged.judge) == (1, "mock:paraphrase-judge")
    assert judged.unscored == sum(m.unscored for e in judged.examples for m in e.matches) >= 1
    # The judge saw both texts in full.
    assert any("EVAL ITEM:\nthe red fox" in r.messages[0].content for r in judge.calls)


def test_verdict_log_is_written_per_pair_and_spares_the_judge_on_a_rerun(tmp_path: Path) -> None:
    _, tr = _files(tmp_path)
    report = semantic_scan([str(tr)], [e["id"] for e in EVAL], [e["prompt"] for e in EVAL],
                           BagEncoder(), top_k=2, floor=0.5)  # fmt: skip
    pairs = sum(len(e.matches) for e in report.examples)
    log = tmp_path / "verdicts.jsonl"
    judge = MockBackend("mock:paraphrase-judge", responder=_responder)
    judged = judge_matches(report, judge, max_attempts=1, verdicts=log)  # no call cache
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == pairs
    fox = next(r for r in rows if r["verdict"] is True)
    assert (fox["id"], fox["found_in"], fox["reason"]) == (
        "q1",
        f"{tr}:1",
        "same sentence reordered",
    )
    assert fox["similarity"] == judged.examples[0].matches[0].similarity and not fox["unscored"]
    assert fox["judge"] == "mock:paraphrase-judge" and "rephrasing" in fox["raw"]
    assert sum(r["unscored"] for r in rows) == judged.unscored >= 1
    # A run killed while writing its last line: that pair and the unscored ones are asked again.
    with log.open("a") as handle:
        handle.write('{"id": "q1", "found_in"')
    again = MockBackend("mock:paraphrase-judge", responder=_responder)
    assert judge_matches(report, again, max_attempts=1, verdicts=log) == judged
    assert len(again.calls) == judged.unscored  # only the unscored pairs went to the judge
    # Another judge is another question: nothing is reused.
    other = MockBackend("mock:other-judge", responder=_responder)
    judge_matches(report, other, max_attempts=1, verdicts=log)
    assert len(other.calls) == pairs


class _FakeModel:
    """Stands in for a SentenceTransformer: the CLI path without torch."""

    def __init__(self) -> None:
        self.bag = BagEncoder()

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        return self.bag.encode(texts)

    def get_embedding_dimension(self) -> int:
        return self.bag.dim


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import tuneval.contamination.embedder as embedder

    loaded: list[str] = []

    def load(location: str) -> _FakeModel:
        loaded.append(location)
        return _FakeModel()

    monkeypatch.setattr(embedder, "_load", load)
    return loaded


def test_cli_semantic_with_judge_writes_json_and_a_clean_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: list[str], monkeypatch
) -> None:
    from tuneval.cli.semantic_view import SEMANTIC_FLOOR

    assert SEMANTIC_FLOOR == DEFAULT_FLOOR
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    reply = '{"verdict": "rephrasing", "reason": "same"}'
    ev, tr = _files(tmp_path)
    out, clean = tmp_path / "report.json", tmp_path / "clean.jsonl"
    code, stdout, err = run(["contamination", "--eval", str(ev), "--train", str(tr), "--semantic",
                             "--embedding-model", str(tmp_path), "--similarity-floor", "0.8",
                             "--judge", f"mock:constant={reply}", "--out", str(out),
                             "--write-clean", str(clean)], capsys)  # fmt: skip
    assert code == 0, err
    assert fake_model == [str(tmp_path)]  # --embedding-model reached the loader as given
    data = json.loads(out.read_text())
    sem = data["semantic"]
    assert (sem["candidates"], sem["confirmed"], sem["top_k"], sem["floor"]) == (2, 2, 5, 0.8)
    best = sem["examples"][0]["matches"][0]
    assert best["found_in"] == f"{tr}:1" and best["verdict"] is True
    # Each pair's verdict is in the JSON with its reason: re-reading it needs no judge.
    assert (best["reason"], best["unscored"], best["similarity"]) == ("same", False, 1.0)
    assert sem["examples"][0]["id"] == "q1" and sem["judge"].startswith("mock:constant")
    assert data["examples"][0]["matched"] == 0  # the n-gram scan missed the reordering
    assert [json.loads(x)["id"] for x in clean.read_text().splitlines()] == ["q3"]
    assert data["removed"] == ["q1", "q2"]
    assert f"q1: 1.00 in {tr}:1 CONFIRMED" in stdout
    assert "2/3 eval examples have candidates; judge mock:constant" in " ".join(stdout.split())


def test_cli_semantic_without_judge_cleans_only_ngram_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: list[str]
) -> None:
    ev, tr = _files(tmp_path)
    clean = tmp_path / "clean.jsonl"
    code, stdout, err = run(["contamination", "--eval", str(ev), "--train", str(tr), "--semantic",
                             "--write-clean", str(clean)], capsys)  # fmt: skip
    assert code == 0, err
    assert len(clean.read_text().splitlines()) == 3
    assert "q1: 1.00 in" in stdout and "CONFIRMED" not in stdout


def test_cli_semantic_needs_training_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ev, _ = _files(tmp_path)
    code, _, err = run(["contamination", "--eval", str(ev), "--within", "--semantic"], capsys)
    assert code == 2 and "--semantic compares with training data" in err


@pytest.mark.parametrize(
    "extra",
    [
        ["--within", "--judge", "mock:echo"],
        ["--train", "x", "--judge", "mock:echo"],
        ["--train", "x", "--embedding-model", "m"],
    ],
)
def test_cli_judge_and_model_need_semantic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    ev, _ = _files(tmp_path)
    code, _, err = run(["contamination", "--eval", str(ev), *extra], capsys)
    assert code == 2
    assert "--judge and --embedding-model go with --semantic and --train" in err
