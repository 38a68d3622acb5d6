"""`tuneval.full_evaluation(model, tokenizer, test_set, base_model)` on objects in memory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import tuneval
from tuneval.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "integrations"))
from tiny import tiny_eval_set, tiny_lora, tiny_model, tiny_tokenizer

FAST = {"comparison": {"resamples": 50, "trials": 100}, "decoding": {"max_tokens": 4}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # default run directories land here


def _gens(run_dir: str, model: str) -> dict[str, str]:
    rows = [json.loads(x) for x in Path(run_dir, "generations.jsonl").read_text().splitlines()]
    return {r["example_id"]: r["output"] for r in rows if r["model"] == model}


def _value(result, metric: str, side: str) -> float:
    comp = next(c for c in result.results.metrics.comparisons if c.name == metric)
    return float(getattr(comp, side).value)


def test_callables_and_a_list_of_dicts_give_the_cli_run(tmp_path: Path):
    rows = [{"id": f"q{i}", "prompt": f"say {i}", "reference": str(i)} for i in range(8)]
    result = tuneval.full_evaluation(
        lambda p: p.split()[-1], None, rows, base_model=lambda p: "no idea",
        metrics=["exact_match"], run_dir=tmp_path / "run", **FAST,
    )  # fmt: skip
    assert Path(result.run_dir) == tmp_path / "run"
    assert _value(result, "exact_match", "finetuned") == 1.0
    assert _value(result, "exact_match", "base") == 0.0
    for name in ("run.json", "generations.jsonl", "results.json", "report.md", "report.html"):
        assert (tmp_path / "run" / name).is_file()
    # The run's config names live objects: another process gets a one-line error, no traceback.
    config = json.loads((tmp_path / "run" / "run.json").read_text())["config"]
    assert config["models"]["finetuned"]["spec"].startswith("inmemory:finetuned@")


def test_config_path_form_still_works_and_mixing_forms_is_refused(tmp_path: Path):
    (tmp_path / "e.jsonl").write_text('{"id": "a", "prompt": "x", "reference": "x"}\n')
    (tmp_path / "c.yaml").write_text(
        f"eval_set: e.jsonl\noutput_dir: {tmp_path / 'runs'}\n"
        "models: {base: {spec: 'mock:upper'}, finetuned: {spec: 'mock:echo'}}\n"
        "comparison: {resamples: 20, trials: 100}\n"
    )
    result = tuneval.full_evaluation(str(tmp_path / "c.yaml"))
    assert _value(result, "exact_match", "finetuned") == 1.0
    with pytest.raises(tuneval.UsageError, match="takes its models"):
        tuneval.full_evaluation(str(tmp_path / "c.yaml"), metrics=["bleu"])
    with pytest.raises(tuneval.UsageError, match="no test_set"):
        tuneval.full_evaluation(lambda p: p)
    with pytest.raises(tuneval.TunevalError, match="unknown key 'limt'"):
        tuneval.full_evaluation(lambda p: p, None, [{"prompt": "x"}], "mock:echo", limt=3)


@pytest.fixture(scope="module")
def peft_model():
    pytest.importorskip("peft")
    import torch

    torch.set_num_threads(1)  # tiny models; spinning worker threads only slow a busy machine
    return tiny_lora(tiny_model(0)), tiny_tokenizer()


def test_peft_adapter_disabled_is_the_base_and_the_model_is_left_as_it_was(peft_model, tmp_path):
    import torch

    model, tok = peft_model
    model.train()
    side = tok.padding_side
    ids = torch.tensor([[5, 7, 8]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
    result = tuneval.full_evaluation(model, tok, tiny_eval_set(), run_dir=tmp_path / "a", **FAST)
    base, tuned = _gens(result.run_dir, "base"), _gens(result.run_dir, "finetuned")
    # The same weights loaded without an adapter answer exactly as the adapter-disabled run.
    plain = tuneval.full_evaluation(
        tiny_model(0), tok, tiny_eval_set(), base_model=lambda p: "", run_dir=tmp_path / "b",
        **FAST,
    )  # fmt: skip
    assert _gens(plain.run_dir, "finetuned") == base
    assert base != tuned  # the random adapter changes the outputs
    assert model.training and tok.padding_side == side  # training can go on unchanged
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, before)  # the adapter is on again


def test_changed_lora_weight_is_a_cache_miss(peft_model, tmp_path):
    import torch

    model, tok = peft_model
    first = tuneval.full_evaluation(model, tok, tiny_eval_set(), run_dir=tmp_path / "1", **FAST)
    again = tuneval.full_evaluation(model, tok, tiny_eval_set(), run_dir=tmp_path / "2", **FAST)
    assert "0 model calls, 12 cached" in again.steps[0].detail
    lora = next(p for n, p in model.named_parameters() if "lora_B" in n)
    with torch.no_grad():
        lora[0, 0] += 0.5  # one number of the adapter
    changed = tuneval.full_evaluation(model, tok, tiny_eval_set(), run_dir=tmp_path / "3", **FAST)
    # The base (adapter disabled) is served from the cache; the fine-tuned model is called.
    assert "6 model calls, 6 cached" in changed.steps[0].detail, changed.steps[0].detail
    assert first.steps[0].detail.startswith("12 model calls")


def test_hf_dataset_test_set_and_spec_base(peft_model, tmp_path):
    datasets = pytest.importorskip("datasets")
    model, tok = peft_model
    data = datasets.Dataset.from_list(tiny_eval_set(3))
    result = tuneval.full_evaluation(
        model, tok, data, base_model="mock:echo", run_dir=tmp_path / "r", **FAST
    )
    assert _gens(result.run_dir, "base") == {r["id"]: r["prompt"] for r in tiny_eval_set(3)}


def test_model_without_tokenizer_and_stale_config_are_one_line_errors(peft_model, tmp_path, capsys):
    model, _ = peft_model
    with pytest.raises(tuneval.TunevalError, match="needs its tokenizer") as err:
        tuneval.full_evaluation(model, None, tiny_eval_set(2), run_dir=tmp_path / "x")
    assert "\n" not in str(err.value)
    result = tuneval.full_evaluation(
        lambda p: p, None, [{"prompt": "x", "reference": "x"}], "mock:echo", **FAST
    )
    # The run's config read by the CLI (another process) names an object it cannot have.
    config = json.loads((Path(result.run_dir) / "run.json").read_text())["config"]
    config["name"] = "again"
    (tmp_path / "again.yaml").write_text(json.dumps(config))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "again.yaml")])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1 and "Traceback" not in out + err
    assert "lived in the Python process that evaluated it" in err


def test_inside_a_running_event_loop_and_async(tmp_path: Path):
    import asyncio

    rows = [{"prompt": f"say {i}", "reference": str(i)} for i in range(4)]

    async def main_() -> tuple[float, float]:
        # A notebook cell runs inside the kernel's loop: the sync call must still work.
        sync = tuneval.full_evaluation(
            lambda p: p[-1], None, rows, "mock:echo", run_dir=tmp_path / "s", **FAST
        )
        awaited = await tuneval.afull_evaluation(
            lambda p: p[-1], None, rows, "mock:echo", run_dir=tmp_path / "a", **FAST
        )
        return (
            _value(sync, "exact_match", "finetuned"),
            _value(awaited, "exact_match", "finetuned"),
        )

    assert asyncio.run(main_()) == (1.0, 1.0)
