"""``contamination.semantic`` in the workflow: candidates, judge verification, report section.

The sentence-transformers model is replaced by the bag-of-words encoder of
tests/contamination/test_semantic.py (through the loader), so the run takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from wf_helpers import judge_responder, write_config

from tuneval.errors import ConfigError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.workflow import full_evaluation, load_config

_REAL_LOAD = __import__("tuneval.contamination.embedder", fromlist=["_load"])._load


class _BagModel:
    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        out = np.zeros((len(texts), 64), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(":", " ").replace("?", " ").split():
                out[i, sum(word.encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(autouse=True)
def _bag_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import tuneval.contamination.embedder as embedder

    monkeypatch.setattr(embedder, "_load", lambda location: _BagModel())


def _judge(request: Request) -> str:
    if "TRAINING TEXT:" in request.messages[0].content:
        return json.dumps({"verdict": "rephrasing", "reason": "same question reordered"})
    return judge_responder(request)


def _config(tmp_path: Path, *overrides: str):
    path = write_config(tmp_path)
    train = tmp_path / "train.jsonl"
    rows = [{"text": "the answer is ans2 ... what is question 2"}, {"text": "pasta and salt"}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return load_config(path, environ={}, overrides=[f"contamination.training_data=[{train}]",
                                                    *overrides])  # fmt: skip


def test_semantic_step_reports_confirmed_paraphrases(tmp_path: Path, mocks) -> None:
    cfg = _config(tmp_path, "contamination.semantic={floor: 0.9, verify: true}")
    mocks["judge"] = MockBackend("mock:judge", responder=_judge)
    result = full_evaluation(cfg, backends=mocks)
    detail = {s.step: s for s in result.steps}["contamination"].detail
    assert detail == (
        "0 of 8 items overlap the training data; 1 have semantic candidates, 1 confirmed by "
        "the judge"
    )
    sem = result.results.contamination["semantic"]
    assert (sem["candidates"], sem["confirmed"], sem["judge"]) == (1, 1, "mock:judge")
    pair = sem["pairs"][0]
    assert (pair["id"], pair["verdict"], pair["found_in"]) == (
        "q2",
        True,
        f"{tmp_path}/train.jsonl:1",
    )
    assert any("1 of 8 items have a judge-confirmed rephrasing" in n for n in result.results.notes)
    run = tmp_path / "runs" / "t"
    md = (run / "report.md").read_text()
    row = "| q2 | 0.92 | rephrasing: same question reordered | Question 2: what is the answer? ans2"
    assert f"{row} | the answer is" in md
    html = (run / "report.html").read_text()
    assert 'id="paraphrases"' in html and "the judge (mock:judge) confirmed 1" in html
    # Every verdict is in the run directory, per pair; a rerun of the step reuses them.
    (logged,) = [
        json.loads(x) for x in (run / "paraphrase_verdicts.jsonl").read_text().splitlines()
    ]
    assert (logged["id"], logged["found_in"], logged["verdict"], logged["unscored"]) == (
        "q2", f"{tmp_path}/train.jsonl:1", True, False,
    )  # fmt: skip
    assert logged["reason"] == "same question reordered"
    assert logged["similarity"] == pair["similarity"]
    mocks["judge"] = MockBackend("mock:judge", responder=_judge)
    again = full_evaluation(cfg, backends=mocks, force=["contamination"])
    asked = [r for r in mocks["judge"].calls if "TRAINING TEXT:" in r.messages[0].content]
    assert asked == []  # the call cache is off in these tests: only the log spared the judge
    assert again.results.contamination["semantic"]["pairs"][0]["verdict"] is True
    assert row in (run / "report.md").read_text()


def test_semantic_true_runs_without_judge(tmp_path: Path, mocks) -> None:
    cfg = _config(tmp_path, "contamination.semantic=true")
    assert cfg.contamination.semantic is not None and cfg.contamination.semantic.floor == 0.45
    result = full_evaluation(cfg, backends=mocks)
    sem = result.results.contamination["semantic"]
    assert sem["judge"] is None and sem["candidates"] >= 1
    assert "no judge verified them" in (tmp_path / "runs" / "t" / "report.md").read_text()


def test_semantic_false_and_typos(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "contamination.semantic=false")
    assert cfg.contamination.semantic is not None and not cfg.contamination.semantic.enabled
    with pytest.raises(ConfigError, match=r"contamination\.semantic\.top"):
        _config(tmp_path, "contamination.semantic={top: 3}")


def test_verify_without_judge_is_a_config_error(tmp_path: Path, mocks) -> None:
    cfg = _config(tmp_path, "contamination.semantic={verify: true}", "judge.spec=null")
    with pytest.raises(ConfigError, match=r"contamination\.semantic\.verify needs a judge"):
        full_evaluation(cfg, backends={k: v for k, v in mocks.items() if k != "judge"})


@pytest.mark.slow  # starts a local Ray runtime
def test_both_scans_share_one_ray_runtime(
    tmp_path: Path, mocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    starts: list[dict[str, object]] = []
    real_init = ray.init

    def init(**kwargs: object) -> object:
        starts.append(kwargs)
        return real_init(**kwargs)

    monkeypatch.setattr(ray, "init", init)
    # Ray workers load the real encoder, so the driver must embed the eval set with it too.
    import tuneval.contamination.embedder as embedder

    monkeypatch.setattr(embedder, "_load", _REAL_LOAD)
    cfg = _config(tmp_path, "contamination.semantic=true", "contamination.ray=local")
    result = full_evaluation(cfg, backends=mocks)
    detail = {s.step: s for s in result.steps}["contamination"].detail
    assert "semantic candidates" in detail
    assert len(starts) == 1  # the n-gram scan and the semantic scan ran on one runtime
    assert not ray.is_initialized()  # and it is stopped when the step ends
