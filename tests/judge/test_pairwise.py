import pytest
from judge_helpers import answers, reply

from tuneval.judge import PAIRWISE_FILE, PairConfig, judge_pairs, pairwise_summary
from tuneval.judge.records import PairJudgment
from tuneval.judge.summary import Bootstrap
from tuneval.models.mock import MockBackend
from tuneval.rundir import read_jsonl

BOOT = Bootstrap(resamples=200)


def quality_judge(request):
    """Prefers the answer that contains 'good'; tie when both or neither do."""
    a, b = answers(request)
    if ("good" in a) == ("good" in b):
        return reply(winner="tie")
    return reply(winner="A" if "good" in a else "B")


def longer_judge(request):
    a, b = answers(request)
    return reply(winner="A" if len(a) >= len(b) else "B")


def test_both_orders_are_judged_and_recorded(run_factory):
    run = run_factory({"base": ["bad", "good", "meh"], "ft": ["good", "bad", "meh"]})
    judge = MockBackend("mock:q", responder=quality_judge)
    records = judge_pairs(run, "base", "ft", judge)
    assert len(judge.calls) == 6 and len(records) == 6
    assert [(r.example_id, r.order) for r in records[:2]] == [("q0", "ab"), ("q0", "ba")]
    ab, ba = records[0], records[1]
    assert (ab.position, ab.outcome) == ("B", "b")  # ft shown second, wins
    assert (ba.position, ba.outcome) == ("A", "b")  # ft shown first, wins
    assert "[Answer A]\nbad" in ab.prompt and "[Answer A]\ngood" in ba.prompt
    assert read_jsonl(run.record_file(PAIRWISE_FILE), PairJudgment) == records
    s = pairwise_summary(records, BOOT)
    assert (s.wins, s.ties, s.losses, s.n) == (1, 1, 1, 3)
    assert s.win_rate is not None and s.win_rate.value == pytest.approx(0.5)
    assert s.position_consistency == 1.0 and s.first_position_rate == 0.5
    assert s.model_a == "base" and s.model_b == "ft" and s.judge == "mock:q"


def test_always_first_position_judge_has_zero_consistency(run_factory):
    run = run_factory({"base": ["x", "y", "z", "w"], "ft": ["xx", "yy", "zz", "ww"]})
    judge = MockBackend("mock:a", responder=lambda r: reply(winner="A"))
    records = judge_pairs(run, "base", "ft", judge)
    s = pairwise_summary(records, BOOT)
    assert s.position_consistency == 0.0
    assert s.first_position_rate == 1.0
    assert s.inconsistent == 4 and s.ties == 4 and s.wins == 0 and s.losses == 0
    assert s.win_rate is not None and s.win_rate.value == 0.5
    dropped = pairwise_summary(records, BOOT, inconsistent="drop")
    assert dropped.n == 0 and dropped.win_rate is None and dropped.inconsistent == 4


def test_tie_judge(run_factory):
    run = run_factory({"base": ["x", "y"], "ft": ["x", "y"]})
    records = judge_pairs(run, "base", "ft", MockBackend("mock:t", responder=lambda r: "[[C]]"))
    s = pairwise_summary(records, BOOT)
    assert s.ties == 2 and s.position_consistency == 1.0 and s.first_position_rate is None
    assert s.win_rate is not None and s.win_rate.value == 0.5


def test_win_and_tie_across_orders_is_inconsistent(run_factory):
    run = run_factory({"base": ["x"], "ft": ["y"]})
    verdicts = iter([reply(winner="B"), reply(winner="tie")])
    records = judge_pairs(
        run, "base", "ft", MockBackend("mock:s", responder=lambda r: next(verdicts))
    )
    s = pairwise_summary(records, BOOT)
    assert s.inconsistent == 1 and s.ties == 1 and s.position_consistency == 0.0


def test_length_biased_judge(run_factory):
    base = ["short"] * 5 + ["a much longer base answer"] * 5
    ft = ["a much longer fine-tuned answer"] * 5 + ["tiny"] * 5
    run = run_factory({"base": base, "ft": ft})
    records = judge_pairs(run, "base", "ft", MockBackend("mock:l", responder=longer_judge))
    s = pairwise_summary(records, BOOT)
    assert s.longer_preferred_rate == 1.0 and s.position_consistency == 1.0
    assert (s.wins, s.losses) == (5, 5)


def test_no_swap_judges_one_order(run_factory):
    run = run_factory({"base": ["x", "y"], "ft": ["good", "good"]})
    judge = MockBackend("mock:q", responder=quality_judge)
    records = judge_pairs(run, "base", "ft", judge, PairConfig(swap=False))
    assert len(judge.calls) == 2 and {r.order for r in records} == {"ab"}
    s = pairwise_summary(records, BOOT)
    assert s.wins == 2 and s.position_consistency is None


def test_rerun_makes_no_calls_and_unparsable_is_unscored(run_factory):
    run = run_factory({"base": ["x", "y"], "ft": ["good", "good"]})

    def flaky(request):
        a, b = answers(request)
        return "no idea" if a == "y" or b == "y" else quality_judge(request)

    first = MockBackend("mock:f", responder=flaky)
    records = judge_pairs(run, "base", "ft", first, PairConfig(max_attempts=2))
    assert len(first.calls) == 4 + 2  # 2 items x 2 orders, then q1 retried in each order
    s = pairwise_summary(records, BOOT)
    assert s.unscored == 1 and s.n == 1 and s.wins == 1
    bad = [r for r in records if r.example_id == "q1"]
    assert all(r.position is None and r.attempts == 2 and r.raw == "no idea" for r in bad)
    again = MockBackend("mock:f", responder=quality_judge)
    assert judge_pairs(run, "base", "ft", again, PairConfig(max_attempts=2)) == records
    assert again.calls == []


def test_items_missing_a_model_are_skipped(run_factory):
    run = run_factory({"base": ["x", "y"], "ft": ["good", None]})
    judge = MockBackend("mock:q", responder=quality_judge)
    records = judge_pairs(run, "base", "ft", judge)
    assert len(judge.calls) == 2
    s = pairwise_summary(records, BOOT)
    assert s.unscored == 1 and s.wins == 1


async def test_async_api_inside_an_event_loop(run_factory):
    from tuneval.judge import ajudge_pairs

    run = run_factory({"base": ["x"], "ft": ["good"]})
    records = await ajudge_pairs(run, "base", "ft", MockBackend("mock:q", responder=quality_judge))
    assert [r.outcome for r in records] == ["b", "b"]
