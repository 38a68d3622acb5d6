"""The workflow's benchmarks step: both models on a benchmark, paired comparison, resume."""

import json
from pathlib import Path

import pytest
from wf_helpers import write_config

from tuneval.errors import ConfigError, ProtocolMismatchError
from tuneval.models.base import Request
from tuneval.models.mock import MockBackend, uniform_logprob
from tuneval.rundir import RunDir
from tuneval.workflow import full_evaluation, load_config
from tuneval.workflow.gate import worse_reasons
from tuneval.workflow.state import StepState

N_QUESTIONS = 12


def _mmlu(root: Path) -> Path:
    """A local MMLU subject in the release format; answer i % 4 for test question i."""
    for split, count in (("dev", 5), ("test", N_QUESTIONS)):
        (root / split).mkdir(parents=True)
        rows = [f"q{i} of {split}?,w,x,y,z,{'ABCD'[i % 4]}" for i in range(count)]
        (root / split / f"anatomy_{split}.csv").write_text("".join(r + "\n" for r in rows))
    return root


def _answers(right: set[int], calls: list[Request]):
    """An MMLU answerer: the right letter on questions in ``right``, a wrong one elsewhere."""

    def respond(request: Request) -> str:
        calls.append(request)
        if "Question" in request.messages[-1].content:  # the workflow's own eval set
            return "ans"
        last = request.messages[-1].content.rsplit("\n\nq", 1)[1]
        i = int(last.split(" of ", 1)[0])
        letter = "ABCD"[i % 4] if i in right else "ABCD"[(i + 1) % 4]
        return f"Answer: {letter}"

    return respond


def _config(tmp_path: Path, *overrides: str):
    path = write_config(tmp_path)
    data = _mmlu(tmp_path / "mmlu")
    bench = (
        f"benchmarks=[{{name: mmlu, data: {data}, subjects: [anatomy], mode: generate, "
        "max_tokens: 8}]"
    )
    return load_config(path, environ={}, overrides=[bench, *overrides])


def _backends(base_calls: list[Request], tuned_calls: list[Request]) -> dict[str, MockBackend]:
    return {
        "base": MockBackend("mock:base", responder=_answers({0, 1, 2}, base_calls)),
        "finetuned": MockBackend("mock:tuned", responder=_answers(set(range(12)), tuned_calls)),
        "judge": MockBackend("mock:echo"),
    }


def test_benchmark_on_both_models_with_paired_verdict(tmp_path):
    cfg = _config(tmp_path, "judge.spec=null", "models.finetuned.system_prompt=Be exact.")
    base_calls: list[Request] = []
    tuned_calls: list[Request] = []
    result = full_evaluation(cfg, backends=_backends(base_calls, tuned_calls))
    status = {s.step: s for s in result.steps}
    assert status["benchmarks"].status == "ran"
    assert "2 model runs made" in status["benchmarks"].detail
    [bench] = result.results.benchmarks
    assert bench.name == "mmlu"
    [measure] = bench.measures
    assert (measure.name, measure.n) == ("correct", N_QUESTIONS)
    assert measure.base == pytest.approx(3 / 12) and measure.finetuned == 1.0
    assert measure.difference.value == pytest.approx(9 / 12)
    assert measure.p_value < 0.05
    verdict = next(v for v in result.results.verdicts if v.measure == "mmlu.correct")
    assert verdict.outcome == "better"
    assert bench.base["overall"]["micro"]["accuracy"] == pytest.approx(0.25)
    # The fine-tuned model's system prompt reaches the benchmark; the base has none.
    mmlu_calls = [r for r in tuned_calls if "anatomy" in r.messages[-1].content]
    assert mmlu_calls and all(r.decoding.system_prompt == "Be exact." for r in mmlu_calls)
    assert all(
        r.decoding.system_prompt is None for r in base_calls if "anatomy" in r.messages[-1].content
    )
    run = Path(result.run_dir)
    assert (run / "benchmarks" / "mmlu" / "base" / "scores.jsonl").exists()
    assert "## Benchmarks" in (run / "report.md").read_text()
    assert 'id="benchmarks"' in (run / "report.html").read_text()
    saved = json.loads((run / "results.json").read_text())
    assert saved["benchmarks"][0]["measures"][0]["name"] == "correct"


def test_rerun_keeps_finished_benchmarks_and_force_redoes_them(tmp_path):
    cfg = _config(tmp_path, "judge.spec=null")
    calls: list[Request] = []
    full_evaluation(cfg, backends=_backends(calls, calls))
    first = len(calls)
    again = full_evaluation(cfg, backends=_backends(calls, calls))
    assert {s.step: s.status for s in again.steps}["benchmarks"] == "skipped"
    assert len(calls) == first
    forced = full_evaluation(cfg, backends=_backends(calls, calls), force=["benchmarks"])
    assert "2 model runs made" in {s.step: s for s in forced.steps}["benchmarks"].detail
    assert len(calls) == first + 2 * N_QUESTIONS


def test_a_half_written_benchmark_run_is_redone(tmp_path):
    cfg = _config(tmp_path, "judge.spec=null")
    calls: list[Request] = []
    result = full_evaluation(cfg, backends=_backends(calls, calls))
    run = RunDir(result.run_dir)
    base_dir = run.path / "benchmarks" / "mmlu" / "base"
    # As if killed while the base model's benchmark ran: not marked finished, step not done.
    info = json.loads((base_dir / "run.json").read_text())
    del info["workflow_key"]
    (base_dir / "run.json").write_text(json.dumps(info))
    StepState(run).clear("benchmarks")
    first = len(calls)
    again = full_evaluation(cfg, backends=_backends(calls, calls))
    detail = {s.step: s for s in again.steps}["benchmarks"].detail
    assert "1 model runs made, 1 already done" in detail
    assert len(calls) == first + N_QUESTIONS
    scores = (base_dir / "scores.jsonl").read_text().splitlines()
    assert len(scores) == N_QUESTIONS  # the half-written run was replaced, not appended to


def test_fail_if_worse_names_a_benchmark(tmp_path):
    cfg = _config(tmp_path, "judge.spec=null")
    calls: list[Request] = []
    backends = _backends(calls, calls)
    backends["base"], backends["finetuned"] = backends["finetuned"], backends["base"]
    result = full_evaluation(cfg, backends=backends)
    reasons = worse_reasons(result.results, ["mmlu"])
    assert reasons and "mmlu.correct" in reasons[0]


def test_unknown_benchmark_and_missing_data_are_config_errors(tmp_path):
    path = write_config(tmp_path)
    with pytest.raises(ConfigError, match="unknown benchmark 'mmmlu'"):
        load_config(path, environ={}, overrides=["benchmarks=[{name: mmmlu}]"])
    with pytest.raises(ConfigError, match=r"benchmarks\.0\.data"):
        load_config(path, environ={}, overrides=["benchmarks=[{name: mmlu, data: nowhere}]"])


def _mixed_backends() -> dict[str, MockBackend]:
    """A base model that gives log-probabilities and a fine-tuned one that does not: MMLU's
    default mode differs (log-likelihood vs generation), so the protocols do."""
    return {
        "base": MockBackend("mock:base", responder=lambda r: "ans", logprob=uniform_logprob),
        "finetuned": MockBackend("mock:tuned", responder=_answers(set(range(12)), [])),
        "judge": MockBackend("mock:echo"),
    }


def _bench_entry(tmp_path: Path, extra: str = "") -> str:
    data = _mmlu(tmp_path / "mmlu")
    return f"benchmarks=[{{name: mmlu, data: {data}, subjects: [anatomy], max_tokens: 8{extra}}}]"


def test_runs_of_different_protocols_are_refused_naming_the_fields(tmp_path):
    path = write_config(tmp_path)
    cfg = load_config(path, environ={}, overrides=[_bench_entry(tmp_path), "judge.spec=null"])
    with pytest.raises(ProtocolMismatchError) as exc:
        full_evaluation(cfg, backends=_mixed_backends())
    message = str(exc.value)
    assert "benchmarks.0 (mmlu)" in message
    assert "mode: loglikelihood != generate" in message and "template: none != chat" in message
    assert "set mode on this benchmarks entry" in message


def test_allowed_mismatch_is_compared_and_flagged(tmp_path):
    path = write_config(tmp_path)
    entry = _bench_entry(tmp_path, ", allow_mismatch: true")
    cfg = load_config(path, environ={}, overrides=[entry, "judge.spec=null"])
    result = full_evaluation(cfg, backends=_mixed_backends())
    [bench] = result.results.benchmarks
    assert bench.mismatch == [
        "mode: loglikelihood != generate",
        "template: none != chat",
        "extract: missing != strict",  # how generate mode reads a letter
        "unscored: missing != excluded",
    ]
    assert bench.measures  # still compared, as asked
    assert [role for role, _ in bench.signatures] == ["base", "fine-tuned"]
    report = (Path(result.run_dir) / "report.md").read_text()
    assert "**mmlu: the models ran different protocols (mode: loglikelihood != generate;" in report


def test_pinning_the_mode_makes_the_protocols_equal(tmp_path):
    path = write_config(tmp_path)
    entry = _bench_entry(tmp_path, ", mode: generate")
    cfg = load_config(path, environ={}, overrides=[entry, "judge.spec=null"])
    result = full_evaluation(cfg, backends=_mixed_backends())
    [bench] = result.results.benchmarks
    assert bench.mismatch == []
    [(role, signature)] = bench.signatures
    assert role == "" and "|mode:generate|" in signature


def test_every_builtin_benchmark_has_its_own_options_record():
    from tuneval.benchmarks import BENCHMARKS, CommonOptions
    from tuneval.workflow.bench_config import BenchmarkConfig

    for name in BENCHMARKS.names():
        record = BENCHMARKS.get(name).options_type
        assert record is not CommonOptions, name  # else its options would go unchecked
        entry = BenchmarkConfig.model_validate({"name": name})
        assert type(entry.options) is record
        # The entry is written back flat and reloads as the same record.
        assert BenchmarkConfig.model_validate(entry.model_dump(mode="json")) == entry


def test_a_killed_benchmark_run_resumes_without_repeating_calls(tmp_path):
    # Without the call cache: the run directory's own records must carry the resume.
    cfg = _config(tmp_path, "judge.spec=null", "calls.cache=false")
    calls: list[Request] = []
    result = full_evaluation(cfg, backends=_backends(calls, calls))
    run = RunDir(result.run_dir)
    base_dir = RunDir(run.path / "benchmarks" / "mmlu" / "base")
    scores_before = (base_dir.path / "scores.jsonl").read_text()
    # As if killed after 5 answers: same settings (workflow_key kept), no summary yet.
    info = json.loads(base_dir.info_path.read_text())
    del info["benchmark"]
    base_dir.info_path.write_text(json.dumps(info))
    lines = base_dir.generations_path.read_text().splitlines(keepends=True)
    base_dir.generations_path.write_text("".join(lines[:5]) + lines[5][:20])  # a torn line
    StepState(run).clear("benchmarks")
    first = len(calls)
    again = full_evaluation(cfg, backends=_backends(calls, calls))
    detail = {s.step: s for s in again.steps}["benchmarks"].detail
    assert "1 model runs made, 1 already done" in detail
    assert len(calls) == first + N_QUESTIONS - 5  # only the missing answers were asked
    assert (base_dir.path / "scores.jsonl").read_text() == scores_before


def test_entry_options_reach_the_benchmark_runner(tmp_path, monkeypatch):
    import tuneval.benchmarks
    from tuneval.workflow.benchmarks_step import run_benchmarks
    from tuneval.workflow.context import RunContext

    seen: dict[str, object] = {}
    judges: dict[str, object] = {}

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name
            self.needs_judge = tuneval.benchmarks.BENCHMARKS.get(name).needs_judge

        def run(self, backend, out, options, **kw):
            seen[f"{self.name}/{backend.name}"] = options
            judges[self.name] = kw["judge"]
            summary = {"signature": f"{self.name}|x:1"}
            out.update_info(benchmark=summary)
            return summary

    monkeypatch.setattr(tuneval.benchmarks, "get_benchmark", Recorder)
    entries = (
        "benchmarks=[{name: humaneval, mode: completion, timeout_factor: 2.5}, "
        "{name: alpaca-eval, protocol: alpaca_eval}, {name: mmlu, format: original}]"
    )
    cfg = load_config(write_config(tmp_path), environ={}, overrides=[entries])
    judge = MockBackend("mock:echo")
    backends = {"base": MockBackend("mock:echo"), "finetuned": MockBackend("mock:echo")}
    ctx = RunContext(cfg, {**backends, "judge": judge})
    assert run_benchmarks(ctx) == (6, 0)
    code = seen["humaneval/finetuned"]
    assert (code.mode, code.timeout_factor) == ("completion", 2.5)
    assert seen["alpaca-eval/base"].protocol == "alpaca_eval"
    assert judges["alpaca-eval"] is judge and judges["humaneval"] is None
    assert seen["mmlu/base"].format == "original"
