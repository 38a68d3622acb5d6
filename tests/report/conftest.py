"""A finished workflow run with hostile model text, for the report tests."""

import json
from pathlib import Path

import pytest

from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.workflow import full_evaluation, load_config

HOSTILE = '<script>window.__pwned = 1</script><img src="http://127.0.0.1:9/x.png"> & "q"'


def _number(request: Request) -> int:
    last = [m for m in request.messages if m.role == "user"][-1].content
    return int(last.split("#", 1)[1].split(" ", 1)[0])


def _judge(request: Request) -> str:
    user = request.messages[1].content
    if "[Answer A]" in user:
        a = user.split("[Answer A]\n", 1)[1]
        return json.dumps({"reasoning": "r", "winner": "A" if a.startswith("ref") else "B"})
    answer = user.split("[Answer]\n", 1)[1]
    return json.dumps({"reasoning": "r", "score": 8 if answer.startswith("ref") else 3})


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    cats = ["classification", "extraction", "summary"]
    rows = [
        {
            "id": f"i{i}",
            "prompt": f"Item #{i} {HOSTILE if i == 0 else 'plain'}",
            "reference": f"ref {i}",
            "category": cats[i % 3],
        }
        for i in range(12)
    ]
    (folder / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "config.yaml").write_text(
        "name: rep\neval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models: {base: {spec: 'mock:b'}, finetuned: {spec: 'mock:f'}}\n"
        "metrics: {default: [exact_match, token_f1], per_category: {summary: [rouge]}}\n"
        "judge: {spec: 'mock:j'}\n"
        "comparison: {resamples: 100, trials: 200}\n"
    )
    backends = {
        "base": MockBackend(
            "mock:b", responder=lambda r: f"ref {_number(r)}" if _number(r) < 4 else HOSTILE
        ),
        "finetuned": MockBackend(
            "mock:f", responder=lambda r: f"ref {_number(r)}" if _number(r) < 9 else "nope"
        ),
        "judge": MockBackend("mock:j", responder=_judge),
    }
    cfg = load_config(folder / "config.yaml", environ={})
    result = full_evaluation(cfg, backends=backends)
    return Path(result.run_dir)


@pytest.fixture(autouse=True)
def _private_call_cache(tmp_path, monkeypatch):
    """Each test gets its own call cache, so call counts never depend on earlier runs."""
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "call-cache"))
