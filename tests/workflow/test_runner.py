import json

import pytest
from wf_helpers import write_config

from tuneval.errors import ConfigError, UsageError
from tuneval.records import Example
from tuneval.rundir import RunDir
from tuneval.workflow import full_evaluation, load_config
from tuneval.workflow.config import DecodingConfig, FewShot, ModelConfig
from tuneval.workflow.generate import decoding_for, prompted_examples


def run_eval(tmp_path, mocks, **kw):
    cfg = load_config(write_config(tmp_path), environ={})
    return cfg, full_evaluation(cfg, backends=mocks, **kw)


def test_end_to_end_exact_numbers(tmp_path, mocks):
    _, result = run_eval(tmp_path, mocks)
    assert [s.status for s in result.steps] == ["ran"] * 4 + ["off"] * 3 + ["ran"]
    res = result.results
    assert res.n_examples == 8 and res.categories == ["qa", "cls"]
    em = next(c for c in res.metrics.comparisons if c.name == "exact_match")
    assert em.base.value == pytest.approx(3 / 8)
    assert em.finetuned.value == pytest.approx(7 / 8)
    assert em.difference == pytest.approx(0.5)
    assert em.test == "mcnemar_score"
    assert em.p_value == pytest.approx(0.0455, abs=1e-4)  # 4 fixed, 0 broken: z = 4/√4 = 2
    assert em.ci_low > 0 and em.mde is not None  # Tango's interval agrees with the test
    assert sorted(em.flipped.fixed) == ["q2", "q3", "q5", "q6"] and em.flipped.broken == []
    by_cat = {c.category: c for c in res.per_category}
    qa_em = next(c for c in by_cat["qa"].metrics.comparisons if c.name == "exact_match")
    assert (qa_em.base.value, qa_em.finetuned.value) == (0.5, 1.0)
    js = res.judge_scores
    assert js.base.mean.value == pytest.approx(37 / 8)
    assert js.finetuned.mean.value == pytest.approx(65 / 8)
    assert js.difference.value == pytest.approx(3.5) and js.n_paired == 8
    pw = res.pairwise.summary
    assert (pw.wins, pw.ties, pw.losses) == (4, 4, 0)
    assert pw.win_rate.value == pytest.approx(0.75)
    assert pw.position_consistency == pytest.approx(1.0)
    assert by_cat["cls"].pairwise.wins == 2
    # Every model saw every item exactly once; the judge once per output and twice per pair.
    assert len(mocks["base"].calls) == 8 and len(mocks["finetuned"].calls) == 8
    assert len(mocks["judge"].calls) == 16 + 16
    verdicts = {v.measure: v for v in res.verdicts}
    # Only 4 items differ (all by +7): a sign-flip test cannot go below 2/16 = 0.125.
    assert verdicts["judge_score"].outcome == "no significant difference"
    assert verdicts["judge_score"].p_value == pytest.approx(0.125, abs=0.05)
    assert verdicts["win_rate"].difference == pytest.approx(0.25)
    run = RunDir(result.run_dir)
    for name in ("results.json", "report.md", "report.html", "comparison.json"):
        assert (run.path / name).exists()
    saved = json.loads((run.path / "results.json").read_text())
    assert saved["schema_version"] == 1
    # Same spec on both sides: the reports say what tells the models apart.
    assert [g["setup"] for g in saved["generation"]] == ["", "system prompt"]
    assert "finetuned = `mock:echo` (system prompt)" in (run.path / "report.md").read_text()
    assert "<code>mock:echo</code> (system prompt)" in (run.path / "report.html").read_text()
    assert json.loads(run.info_path.read_text())["config"]["name"] == "t"


def test_rerun_skips_everything_and_force_redoes_step(tmp_path, mocks):
    cfg, _ = run_eval(tmp_path, mocks)
    before = {k: len(m.calls) for k, m in mocks.items()}
    again = full_evaluation(cfg, backends=mocks)
    assert {s.status for s in again.steps} <= {"skipped", "off"}
    assert {k: len(m.calls) for k, m in mocks.items()} == before
    forced = full_evaluation(cfg, backends=mocks, force=["judge_pairwise"])
    status = {s.step: s.status for s in forced.steps}
    assert status["generate"] == "skipped" and status["judge_single"] == "skipped"
    assert status["judge_pairwise"] == "ran" and status["report"] == "ran"
    assert len(mocks["judge"].calls) == before["judge"] + 16
    assert len(mocks["base"].calls) == before["base"]


def test_changed_models_need_force(tmp_path, mocks):
    cfg, _ = run_eval(tmp_path, mocks)
    changed = cfg.model_copy(update={"decoding": cfg.decoding.model_copy(update={"max_tokens": 7})})
    with pytest.raises(ConfigError, match="--force generate"):
        full_evaluation(changed, backends=mocks)
    redone = full_evaluation(changed, backends=mocks, force=["generate"])
    assert redone.steps[0].detail == "16 model calls, 0 cached, 0 failed"
    assert len(RunDir(redone.run_dir).generations()) == 16


def test_unknown_force_step(tmp_path, mocks):
    cfg = load_config(write_config(tmp_path), environ={})
    with pytest.raises(UsageError, match="unknown step"):
        full_evaluation(cfg, backends=mocks, force=["gen"])


def test_judge_off_and_failed_calls(tmp_path):
    path = write_config(tmp_path)
    cfg = load_config(path, environ={}, overrides=["judge.spec=null", "calls.max_retries=1"])
    from tuneval.errors import CallError
    from tuneval.models.mock import MockBackend

    def flaky(request):
        flaky.calls += 1
        raise CallError("server down", "http_500")

    flaky.calls = 0

    result = full_evaluation(
        cfg,
        backends={
            "base": MockBackend("mock:b", responder=lambda r: "ans0"),
            "finetuned": MockBackend("mock:f", responder=flaky),
        },
    )
    status = {s.step: s.status for s in result.steps}
    assert status["judge_single"] == "off" and status["judge_pairwise"] == "off"
    res = result.results
    assert res.generation[1].errors == 8
    assert flaky.calls == 16  # one retry each
    assert any("8 finetuned generations failed" in n for n in res.notes)
    assert res.judge_scores is None and res.pairwise is None
    # Failed calls are left out, never scored as empty answers: nothing is left to compare.
    assert res.metrics is None and res.verdicts == []


def test_request_has_system_prompt_and_few_shot():
    from tuneval.models.generate import build_request

    model = ModelConfig(
        spec="mock:echo",
        system_prompt="Answer briefly.",
        few_shot=[FewShot(prompt="2+2?", response="4")],
        prompt_template="Q: {prompt}",
    )
    (example,) = prompted_examples([Example(id="1", prompt="3+3?")], model)
    req = build_request(example, decoding_for(model, DecodingConfig(max_tokens=5)))
    assert [(m.role, m.content) for m in req.full_messages()] == [
        ("system", "Answer briefly."),
        ("user", "Q: 2+2?"),
        ("assistant", "4"),
        ("user", "Q: 3+3?"),
    ]
    assert req.decoding.max_tokens == 5
    plain = ModelConfig(spec="mock:echo")
    assert prompted_examples([Example(id="1", prompt="x")], plain)[0].metadata == {}


def test_full_evaluation_accepts_a_path(tmp_path, mocks, monkeypatch):
    monkeypatch.delenv("TUNEVAL_NAME", raising=False)
    result = full_evaluation(write_config(tmp_path), backends=mocks)
    assert result.results.name == "t" and result.steps[-1].status == "ran"


def test_position_biased_judge_is_flagged(tmp_path, mocks):
    from tuneval.models.mock import MockBackend

    mocks["judge"] = MockBackend(
        "mock:first", responder=lambda r: '{"reasoning": "r", "winner": "A", "score": 5}'
    )
    _, result = run_eval(tmp_path, mocks)
    pw = result.results.pairwise.summary
    assert pw.position_consistency == 0.0 and pw.first_position_rate == 1.0
    assert any("both answer orders on only 0%" in n for n in result.results.notes)


def test_call_cache_serves_a_new_run(tmp_path, mocks):
    cfg = load_config(write_config(tmp_path), environ={}, overrides=["calls.cache=true"])
    full_evaluation(cfg, backends=mocks)
    before = {k: len(m.calls) for k, m in mocks.items()}
    renamed = cfg.model_copy(update={"name": "t2"})
    result = full_evaluation(renamed, backends=mocks)
    assert {k: len(m.calls) for k, m in mocks.items()} == before  # all from the cache
    assert result.results.pairwise.summary.wins == 4
    gens = RunDir(result.run_dir).generations()
    assert len(gens) == 16 and all(g.metadata["cached"] for g in gens)
    no_cache = renamed.model_copy(
        update={"name": "t3", "calls": renamed.calls.model_copy(update={"cache": False})}
    )
    full_evaluation(no_cache, backends=mocks)
    assert len(mocks["base"].calls) == before["base"] + 8
