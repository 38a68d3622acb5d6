import pytest
from judge_helpers import reply, single_answer

from tuneval.errors import CallError, ConfigError, DataError
from tuneval.judge import SINGLE_FILE, ScoreConfig, judge_scores, score_summary
from tuneval.judge.records import Judgment
from tuneval.judge.templates import load_template
from tuneval.models.mock import MockBackend
from tuneval.rundir import read_jsonl


def length_judge(request):
    """Scores by length: 1 point per 10 characters, capped at 10."""
    return reply(score=max(1, min(10, len(single_answer(request)) // 10)))


def test_scores_are_recorded_with_prompt_raw_and_identity(run_factory):
    run = run_factory({"ft": ["x" * 30, "y" * 70, "z" * 200]})
    judge = MockBackend("mock:len", responder=length_judge)
    out = judge_scores(run, "ft", judge)
    assert [j.score for j in out] == [3, 7, 10]
    stored = read_jsonl(run.record_file(SINGLE_FILE), Judgment)
    assert stored == out
    first = out[0]
    assert first.judge == "mock:len" and first.attempts == 1 and first.unscored_reason is None
    assert "Question number 0?" in first.prompt and "x" * 30 in first.prompt
    assert "[system]" in first.prompt and first.raw == reply(score=3)
    assert first.output_chars == 30 and first.scale == (1, 10)
    assert judge.calls[0].json_schema is not None  # structured output is asked for
    assert judge.calls[0].json_schema["properties"]["score"]["maximum"] == 10
    summary = score_summary(out)
    assert summary.mean is not None and summary.mean.value == pytest.approx(20 / 3)
    assert summary.length_spearman == pytest.approx(1.0)


def test_rerun_makes_no_calls(run_factory):
    run = run_factory({"ft": ["a", "b", "c"]})
    judge_scores(run, "ft", MockBackend("mock:j", responder=lambda r: reply(score=5)))
    again = MockBackend("mock:j", responder=lambda r: reply(score=1))
    out = judge_scores(run, "ft", again)
    assert again.calls == [] and [j.score for j in out] == [5, 5, 5]
    # different settings are a different judgment
    judge_scores(run, "ft", again, ScoreConfig(criteria="brevity"))
    assert len(again.calls) == 3


def test_killed_run_resumes_only_missing_items(run_factory):
    run = run_factory({"ft": ["a", "b", "c", "d"]})
    judge_scores(run, "ft", MockBackend("mock:j", responder=lambda r: reply(score=4)))
    path = run.record_file(SINGLE_FILE)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][:15])  # killed mid-write of the third
    again = MockBackend("mock:j", responder=lambda r: reply(score=4))
    out = judge_scores(run, "ft", again)
    assert len(again.calls) == 2 and len(out) == 4
    assert len(read_jsonl(path, Judgment)) == 4


def test_malformed_reply_is_retried_then_scored(run_factory):
    run = run_factory({"ft": ["a"]})
    replies = iter(["I think it is good", reply(score=6)])
    judge = MockBackend("mock:j", responder=lambda r: next(replies))
    (j,) = judge_scores(run, "ft", judge)
    assert j.score == 6 and j.attempts == 2
    retry = judge.calls[1]
    assert retry.messages[-2].content == "I think it is good"
    assert "could not be used" in retry.messages[-1].content


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("no verdict at all", "no JSON object"), (reply(score=11), "outside the scale 1-10")],
)
def test_persistently_bad_reply_is_unscored_never_low(run_factory, bad, reason):
    run = run_factory({"ft": ["a", "b"]})
    judge = MockBackend("mock:j", responder=lambda r: bad)
    out = judge_scores(run, "ft", judge, ScoreConfig(max_attempts=3))
    assert len(judge.calls) == 6
    for j in out:
        assert j.score is None and j.attempts == 3 and reason in (j.unscored_reason or "")
        assert j.raw == bad
    summary = score_summary(out)
    assert summary.scored == 0 and summary.unscored == 2 and summary.mean is None
    # parse failures are final: a rerun does not pay for them again
    again = MockBackend("mock:j", responder=lambda r: reply(score=5))
    judge_scores(run, "ft", again, ScoreConfig(max_attempts=3))
    assert again.calls == []


def test_call_errors_are_unscored_and_retried_on_rerun(run_factory):
    run = run_factory({"ft": ["a", "b"]})

    def failing(request):
        raise CallError("server down", "connection")

    (j1, _j2) = judge_scores(run, "ft", MockBackend("mock:j", responder=failing))
    assert j1.call_error and j1.score is None and "connection" in (j1.unscored_reason or "")
    healed = MockBackend("mock:j", responder=lambda r: reply(score=9))
    out = judge_scores(run, "ft", healed)
    assert len(healed.calls) == 2 and [j.score for j in out] == [9, 9]


def test_missing_output_is_unscored_without_a_call(run_factory):
    run = run_factory({"ft": ["a", None]})
    judge = MockBackend("mock:j", responder=lambda r: reply(score=5))
    out = judge_scores(run, "ft", judge)
    assert len(judge.calls) == 1
    assert out[1].score is None and "no output" in (out[1].unscored_reason or "")


def test_reference_guided(run_factory):
    run = run_factory({"ft": ["a"]})
    judge = MockBackend("mock:j", responder=lambda r: reply(score=5))
    judge_scores(run, "ft", judge, ScoreConfig(reference=True))
    assert "[Reference answer]\nreference 0" in judge.calls[0].messages[1].content
    plain = MockBackend("mock:j", responder=lambda r: reply(score=5))
    judge_scores(run, "ft", plain, ScoreConfig())
    assert "Reference" not in plain.calls[0].messages[1].content


def test_reference_guided_needs_references(run_factory):
    run = run_factory({"ft": ["a"]}, references=False)
    with pytest.raises(DataError, match="no reference") as err:
        judge_scores(
            run, "ft", MockBackend("mock:j", responder=lambda r: "x"), ScoreConfig(reference=True)
        )
    # Library callers have no flags: the message names the setting, not "--reference".
    assert "reference setting off" in str(err.value) and "--" not in str(err.value)


def test_unknown_model_is_a_clear_error(run_factory):
    run = run_factory({"ft": ["a"]})
    with pytest.raises(DataError, match=r"no generations of model 'base'.*ft"):
        judge_scores(run, "base", MockBackend("mock:echo"))


def test_custom_scale_and_template(tmp_path, run_factory):
    template = tmp_path / "t.txt"
    template.write_text("Grade {answer} for {question} from {low} to {high}. {{json}}")
    text = load_template(template, "single")
    run = run_factory({"ft": ["a"]})
    judge = MockBackend("mock:j", responder=lambda r: "[[5]]")
    (j,) = judge_scores(run, "ft", judge, ScoreConfig(scale=(1, 5), template=text))
    assert j.score == 5 and j.scale == (1, 5)
    assert (
        judge.calls[0].messages[1].content == "Grade a for Question number 0? from 1 to 5. {json}"
    )


def test_bad_templates(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("{answer} {nope}")
    with pytest.raises(ConfigError, match="nope"):
        load_template(bad, "single")
    bad.write_text("{question}")
    with pytest.raises(ConfigError, match="answer"):
        load_template(bad, "single")
    with pytest.raises(ConfigError, match="does not exist"):
        load_template(tmp_path / "missing.txt", "pairwise")


def test_scale_must_increase():
    with pytest.raises(ValueError):
        ScoreConfig(scale=(5, 1))


def test_regenerated_output_is_judged_again(run_factory):
    from tuneval.records import Generation
    from tuneval.rundir import JsonlAppender

    run = run_factory({"ft": ["old answer", "same"]})
    judge_scores(run, "ft", MockBackend("mock:j", responder=lambda r: reply(score=2)))
    with JsonlAppender(run.generations_path) as app:
        app.write(Generation(example_id="q0", model="ft", output="new answer"))
    again = MockBackend("mock:j", responder=lambda r: reply(score=9))
    out = judge_scores(run, "ft", again)
    assert len(again.calls) == 1 and [j.score for j in out] == [9, 2]
    assert "new answer" in out[0].prompt
