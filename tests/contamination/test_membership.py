"""Min-K% membership: the statistic, the AUC, the base-vs-fine-tune jump, and the CLI."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from cli_helpers import run_cli as run
from tuneval.contamination.membership import auc, membership, min_k, word_logprobs
from tuneval.models.loop import run_sync
from tuneval.models.mock import MockBackend


def test_min_k_averages_the_lowest_share() -> None:
    assert min_k([-1.0, -5.0, -2.0, -9.0, -0.5], 0.2) == -9.0
    assert min_k([-1.0, -5.0, -2.0, -9.0, -0.5], 0.4) == -7.0
    assert min_k([-3.0], 0.2) == -3.0 and min_k([], 0.2) is None


def test_auc_matches_scikit_learn() -> None:
    rng = random.Random(3)
    scores = [round(rng.gauss(0, 1), 1) for _ in range(60)]  # rounding makes ties
    labels = [rng.random() < 0.4 for _ in scores]
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert auc([1.0, 2.0], [True, True]) is None


def _lm(name: str, logprob) -> MockBackend:
    return MockBackend(f"mock:{name}", responder=lambda request: "", logprob=logprob)


def _noise(context: str, word: str) -> float:
    return -1.0 - (zlib.crc32(f"{context}|{word}".encode()) % 700) / 100.0


SEEN = [f"item {i} asks about topic {i * 7} with words alpha beta gamma" for i in range(6)]
UNSEEN = [f"item {i} asks about subject {i * 3} using words delta epsilon zeta" for i in range(6)]


def _tuned(context: str, word: str) -> float:
    # The fine-tune memorised SEEN: their words become likely in their context; others do not.
    text = f"{context}{word}"
    return _noise(context, word) + (4.0 if any(s.startswith(text) for s in SEEN) else 0.0)


def test_word_logprobs_score_each_word_after_its_prefix() -> None:
    calls: list[tuple[str, str]] = []

    def logprob(context: str, word: str) -> float:
        calls.append((context, word))
        return -1.0

    backend = _lm("lp", logprob)
    assert run_sync(word_logprobs(backend, "one two  three")) == [-1.0, -1.0]
    assert calls == [("one", " two"), ("one two", " three")]


def test_the_jump_over_the_base_separates_seen_items() -> None:
    texts = SEEN + UNSEEN
    labels: list[bool | None] = [True] * 6 + [False] * 6
    report = membership([f"x{i}" for i in range(12)], texts,
                        _lm("tuned", _tuned),
                        _lm("base", _noise), labels=labels)  # fmt: skip
    assert report.auc == 1.0
    assert set(report.most_likely_seen[:6]) == {f"x{i}" for i in range(6)}
    item = report.items[0]
    assert item.words == 10 and item.score == pytest.approx(item.finetuned - item.base, abs=1e-6)
    # Without the base the raw Min-K% of the fine-tune is also informative here, but the
    # score is the difference, so a base equal to the fine-tune gives no signal at all.
    same = membership(["a", "b"], texts[:1] + texts[6:7], _lm("b", _noise),
                      _lm("b2", _noise), labels=[True, False])  # fmt: skip
    assert [it.score for it in same.items] == [0.0, 0.0] and same.auc == 0.5


def test_cli_membership_needs_log_probabilities_and_both_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"id": "a", "prompt": "one two three", "seen": True}) + "\n")
    code, _, err = run(["contamination", "--eval", str(ev), "--model", "mock:echo",
                        "--base", "mock:echo"], capsys)  # fmt: skip
    assert code == 1 and "cannot give log-probabilities of plain text" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(["contamination", "--eval", str(ev), "--model", "mock:echo"], capsys)
    assert code == 2 and "takes --model SPEC and --base SPEC" in err
    code, _, err = run(["contamination", "--eval", str(ev), "--model", "mock:echo", "--base",
                        "mock:echo", "--train", str(ev)], capsys)  # fmt: skip
    assert code == 2


def test_cli_membership_report(tmp_path: Path, capsys, monkeypatch) -> None:
    import tuneval.models as models

    backends = {"mock:tuned": _lm("tuned", _tuned),
                "mock:base": _lm("base", _noise)}  # fmt: skip
    monkeypatch.setattr(models, "create_backend", lambda spec, **_: backends[spec])
    ev, out = tmp_path / "eval.jsonl", tmp_path / "m.json"
    rows = [{"id": f"s{i}", "prompt": t, "seen": True} for i, t in enumerate(SEEN)]
    rows += [{"id": f"u{i}", "prompt": t, "seen": False} for i, t in enumerate(UNSEEN)]
    ev.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout, err = run(["contamination", "--eval", str(ev), "--model", "mock:tuned",
                             "--base", "mock:base", "--label-field", "seen", "--out", str(out)],
                            capsys)  # fmt: skip
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["auc"] == 1.0 and data["model"] == "mock:tuned" and len(data["items"]) == 12
    assert "AUC 1.000 against the labels" in stdout and "(labelled seen)" in stdout
    rows[0]["seen"] = "yes"
    ev.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run(["contamination", "--eval", str(ev), "--model", "mock:tuned",
                        "--base", "mock:base", "--label-field", "seen"], capsys)  # fmt: skip
    assert code == 1 and "--label-field seen must be true, false or absent" in err
