"""The public API inside a running event loop (Jupyter, async apps), against an HTTP model.

The sync functions must work when a loop is already running in the caller's thread; the
async twins must be awaitable there. One HTTP backend is reused across every call, as a
notebook does, so its client must survive many caller loops.
"""

import asyncio
import json
from pathlib import Path

import pytest

import tuneval
from stub_loader import stub_server_module
from tuneval.rundir import RunDir

stub_server = stub_server_module()

EXAMPLES = [
    tuneval.Example(id=f"q{i}", prompt=f"say {i}", references=(f"{i} yas",)) for i in range(4)
]


@pytest.fixture(scope="module")
def urls():
    with (
        stub_server.serve_in_thread(stub_server.StubConfig()) as (model_url, _),
        stub_server.serve_in_thread(stub_server.StubConfig(reply="verdict")) as (judge_url, _),
    ):
        yield model_url, judge_url


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))


def write_config(folder: Path, model_url: str, judge_url: str) -> Path:
    rows = [{"id": e.id, "prompt": e.prompt, "reference": e.references[0]} for e in EXAMPLES]
    (folder / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = folder / "config.yaml"
    path.write_text(
        "eval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models:\n"
        f"  base: {{spec: 'openai-compatible:{model_url}#m', prompt_template: 'Q: {{prompt}}'}}\n"
        f"  finetuned: {{spec: 'openai-compatible:{model_url}#m'}}\n"
        f"judge: {{spec: 'openai-compatible:{judge_url}#j', single: false}}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100, trials: 200}\n"
    )
    return path


def test_sync_api_inside_a_running_loop(tmp_path, urls):
    model_url, judge_url = urls
    config = write_config(tmp_path, model_url, judge_url)
    model = tuneval.create_backend(f"openai-compatible:{model_url}#m")
    judge = tuneval.create_backend(f"openai-compatible:{judge_url}#j")
    run = RunDir(tmp_path / "manual")
    run.write_examples(EXAMPLES)

    async def main():
        # Three separate sync calls reuse one HTTP backend, as a notebook does.
        a = tuneval.generate(model, EXAMPLES, run, name="a", progress=False)
        b = tuneval.generate(
            model, EXAMPLES, run, name="b", progress=False,
            decoding=tuneval.Decoding(system_prompt="x"),
        )  # fmt: skip
        pairs = tuneval.judge_pairs(run, "a", "b", judge)
        scores = tuneval.judge_scores(run, "a", judge)
        result = tuneval.full_evaluation(config)
        await model.aclose()
        await judge.aclose()
        return a, b, pairs, scores, result

    a, b, pairs, scores, result = asyncio.run(main())
    assert (a.done, a.failed, b.done, b.failed) == (4, 0, 4, 0)
    assert len(pairs) == 8 and all(p.position is not None for p in pairs)  # both orders
    assert len(scores) == 4  # unscored (the stub gives verdicts, not scores) but recorded
    outcomes = {v.measure: v.outcome for v in result.results.verdicts}
    assert outcomes["exact_match.exact_match"] == "better"


async def test_async_twins_awaited(tmp_path, urls):
    model_url, judge_url = urls
    config = write_config(tmp_path, model_url, judge_url)
    model = tuneval.create_backend(f"openai-compatible:{model_url}#m")
    judge = tuneval.create_backend(f"openai-compatible:{judge_url}#j")
    run = RunDir(tmp_path / "manual")
    run.write_examples(EXAMPLES)
    a = await tuneval.agenerate(model, EXAMPLES, run, name="a", progress=False)
    b = await tuneval.agenerate(
        model, EXAMPLES, run, name="b", progress=False, decoding=tuneval.Decoding(seed=1)
    )
    pairs = await tuneval.ajudge_pairs(run, "a", "b", judge)
    scores = await tuneval.ajudge_scores(run, "b", judge)
    result = await tuneval.afull_evaluation(config)
    await model.aclose()
    await judge.aclose()
    assert a.done == b.done == 4
    assert len(pairs) == 8 and len(scores) == 4
    assert {v.measure for v in result.results.verdicts} >= {"exact_match.exact_match"}
