"""The quickstart example: its data and config are valid, and the workflow runs on it."""

from pathlib import Path

import pytest

from tuneval.data.validate import validate_evalset
from tuneval.models.mock import MockBackend
from tuneval.workflow import full_evaluation, load_config

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_quickstart_eval_set_is_valid_and_covered():
    report = validate_evalset(QUICKSTART / "eval.jsonl")
    assert report.ok and report.n >= 40 and report.with_reference == report.n
    assert len(report.coverage) >= 4
    for category, counts in report.coverage.items():
        assert sum(counts.values()) >= 10, category
        assert counts.get("hard") and report.adversarial[category], category
    assert not report.duplicates and not report.near_duplicates


def test_quickstart_fine_tune_is_the_lora_of_the_base_without_prompt_tricks():
    cfg = load_config(QUICKSTART / "config.yaml", environ={})
    tuned, base = cfg.models.finetuned, cfg.models.base
    lora = QUICKSTART.parent / "finetune" / "adapter" / "lora.gguf"
    assert Path(tuned.options["lora"]).resolve() == lora.resolve()
    assert not (tuned.system_prompt or tuned.few_shot or base.system_prompt or base.few_shot)
    assert base.spec == tuned.spec == cfg.judge.spec == "llamacpp:default"


def _rows():
    import json

    return [json.loads(x) for x in (QUICKSTART / "eval.jsonl").read_text().splitlines()]


def test_quickstart_workflow_with_mock_models(tmp_path):
    cfg = load_config(
        QUICKSTART / "config.yaml",
        environ={},
        overrides=[f"output_dir={tmp_path}", "comparison.resamples=100", "comparison.trials=200"],
    )
    refs = {e["prompt"]: e["reference"] for e in _rows()}

    def tuned(request):
        # The fine-tune (a LoRA) sees the item alone, as the base does.
        assert [m.role for m in request.full_messages()] == ["user"]
        return refs[request.messages[-1].content]

    judge = MockBackend(
        "mock:j", responder=lambda r: '{"reasoning": "r", "score": 5, "winner": "tie"}'
    )
    result = full_evaluation(
        cfg,
        backends={
            "base": MockBackend("mock:b", responder=lambda r: "I think the answer is unclear."),
            "finetuned": MockBackend("mock:f", responder=tuned),
            "judge": judge,
        },
    )
    res = result.results
    em = next(c for c in res.metrics.comparisons if c.name == "exact_match")
    assert em.finetuned.value == 1.0 and em.base.value == 0.0 and em.n == 30
    summary = next(c for c in res.per_category if c.category == "summarisation")
    assert {c.metric for c in summary.metrics.comparisons} == {"rouge", "token_f1"}
    assert res.pairwise.summary.ties == 40


@pytest.mark.slow
def test_quickstart_with_bundled_model(tmp_path):
    """Three items through the real bundled model, judge included."""
    cfg = load_config(
        QUICKSTART / "config.yaml",
        environ={},
        overrides=[
            f"output_dir={tmp_path}",
            "limit=3",
            "decoding.max_tokens=8",
            "judge.max_tokens=48",
            "comparison.resamples=100",
            "comparison.trials=200",
        ],
    )
    result = full_evaluation(cfg)
    res = result.results
    assert res.n_examples == 3
    assert [g.errors for g in res.generation] == [0, 0]
    assert all(i.base is not None and i.finetuned is not None for i in res.items)
    assert (Path(result.run_dir) / "report.html").exists()
    again = full_evaluation(cfg)
    assert {s.status for s in again.steps} <= {"skipped", "off"}
