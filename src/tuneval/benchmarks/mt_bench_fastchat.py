"""MT-Bench judged with FastChat's protocol: single grading and pairwise against a run.

Every judge call and its parsed outcome is appended to ``judgments.jsonl`` as it finishes
(prompt and raw reply kept), so a rerun repeats only the calls it lacks; per-turn `Score`
records are returned for ``scores.jsonl`` (paired comparisons).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from tuneval.benchmarks.fastchat import (
    JudgePrompts,
    Winner,
    combine,
    judge_request,
    parse_rating,
    parse_winner,
    render_pair,
    render_single,
    template_name,
)
from tuneval.errors import DataError
from tuneval.models.base import Request
from tuneval.models.runner import CallResult
from tuneval.records import Generation, Record, Score
from tuneval.rundir import JsonlAppender, read_jsonl

if TYPE_CHECKING:
    from tuneval.benchmarks.framework import BenchRun


class FastChatCall(Record):
    """One judge call of the FastChat protocol."""

    example_id: str
    """``question_id/turn``."""
    template: str
    """The judge template's name."""
    order: Literal["single", "ab", "ba"]
    """``single`` grading, or the pairwise order (``ab``: the baseline shown as A)."""
    prompt: str
    """The user prompt the judge saw (its system message is the template's)."""
    raw: str | None
    """The judge's reply; None when the call failed."""
    score: float | None = None
    """Single grading: the rating, -1 when the reply has none (excluded, as in FastChat)."""
    winner: Winner | None = None
    """Pairwise: ``A``, ``B``, ``tie`` or ``error`` (excluded)."""
    error: str | None = None
    """Why the call gave nothing (call failure)."""
    judge: str | None = None
    """The judge's identity (a rerun reuses only the calls of the same judge)."""


def _questions_of(question: Any) -> tuple[str, str]:
    return (question.turns[0], question.turns[1])


def _refs(question: Any, name: str) -> tuple[str, ...] | None:
    """Both reference answers for a reference-guided template (FastChat passes turn 2's too)."""
    if "math" not in name:
        return None
    if len(question.references) < 2:
        raise DataError(
            f"question {question.question_id} ({question.category}) is judged against a "
            "reference answer, but reference_answer/gpt-4.jsonl has no two-turn reference "
            "for it; add it (FastChat's file) or use --protocol tuneval"
        )
    return tuple(question.references)


def _call_all(run: BenchRun, calls: list[tuple[FastChatCall, Request]]) -> list[FastChatCall]:
    """One call per item (no retries of unusable replies; transport errors aside).

    Calls already in ``judgments.jsonl`` with the same judge, template and prompt are not
    made again; every new one is appended as it finishes.
    """
    assert run.judge is not None  # the framework refuses a judged benchmark without one
    judge = run.judge.identity()
    path = run.out.record_file("judgments")

    def key(rec: FastChatCall) -> tuple[str, str, str, str]:
        return (rec.example_id, rec.order, rec.template, rec.prompt)

    done = {key(r): r for r in read_jsonl(path, FastChatCall) if r.judge == judge and not r.error}
    todo = [(rec, req) for rec, req in calls if key(rec) not in done]
    with JsonlAppender(path) as judged:

        def finished(index: int, res: CallResult) -> None:
            rec = _outcome(todo[index][0].model_copy(update={"judge": judge}), res)
            judged.write(rec)
            done[key(rec)] = rec

        run.call(run.judge, [r for _, r in todo], finished)
    return [done[key(rec)] for rec, _ in calls]


def _outcome(rec: FastChatCall, res: CallResult) -> FastChatCall:
    """The call record with the judge's reply parsed, or the call's error."""
    if res.completion is None:
        return rec.model_copy(update={"error": res.error or "call failed"})
    raw = res.completion.text
    update: dict[str, Any] = {"raw": raw}
    if rec.order == "single":
        update["score"] = parse_rating(raw)
    else:
        update["winner"] = parse_winner(raw)
    return rec.model_copy(update=update)


def mean(xs: list[float]) -> float | None:
    """The mean, None for no values."""
    return sum(xs) / len(xs) if xs else None


def single_summary(cats: dict[str, dict[int, list[float]]], expected: int) -> dict[str, Any]:
    """Turn and category means of single grades; ``expected`` turns were to be graded."""
    all1 = [x for c in cats.values() for x in c[1]]
    all2 = [x for c in cats.values() for x in c[2]]
    return {
        "mode": "single",
        "unscored": expected - len(all1) - len(all2),
        "categories": {
            c: {"turn1": mean(t[1]), "turn2": mean(t[2]), "average": mean(t[1] + t[2])}
            for c, t in sorted(cats.items())
        },
        "overall": {"turn1": mean(all1), "turn2": mean(all2), "average": mean(all1 + all2)},
    }


def _single_calls(
    questions: Sequence[Any], answers: Mapping[str, str | None], prompts: JudgePrompts
) -> list[tuple[FastChatCall, Request]]:
    """One grading call per answered turn, with the template FastChat picks for it."""
    calls: list[tuple[FastChatCall, Request]] = []
    for q in questions:
        qid = q.question_id
        own = (answers.get(f"{qid}/1"), answers.get(f"{qid}/2"))
        for turn in (1, 2):
            if own[0] is None or own[turn - 1] is None:
                continue  # no answer to judge: the generation failed (see generations.jsonl)
            name = template_name("single", q.category, multi_turn=turn == 2)
            template = prompts.get(name)
            user = render_single(
                template, _questions_of(q), (own[0], own[1] or ""), _refs(q, name), turn == 2
            )
            ex_id = f"{qid}/{turn}"
            rec = FastChatCall(
                example_id=ex_id, template=name, order="single", prompt=user, raw=None
            )
            calls.append((rec, judge_request(template, user, ex_id)))
    return calls


def judge_single(
    run: BenchRun,
    questions: Sequence[Any],
    answers: Mapping[str, str | None],
    model: str,
    prompts: JudgePrompts,
) -> tuple[dict[str, Any], list[Score]]:
    """Grade both turns of every question; category and turn means of the valid ratings."""
    records = _call_all(run, _single_calls(questions, answers, prompts))
    category = {str(q.question_id): q.category for q in questions}
    cats: dict[str, dict[int, list[float]]] = defaultdict(lambda: {1: [], 2: []})
    scores = []
    for rec in records:
        if rec.score is None or rec.score == -1:
            continue
        question_key, turn_text = rec.example_id.split("/")
        cats[category[question_key]][int(turn_text)].append(rec.score)
        values = {"score": rec.score}
        scores.append(
            Score(example_id=rec.example_id, model=model, metric="mt-bench", values=values)
        )
    return single_summary(cats, 2 * len(questions)), scores


def _pair_calls(
    questions: Sequence[Any],
    mine: Mapping[str, str | None],
    theirs: Mapping[str, str | None],
    prompts: JudgePrompts,
) -> list[tuple[FastChatCall, Request]]:
    calls: list[tuple[FastChatCall, Request]] = []
    for q in questions:
        qid = q.question_id
        a = (theirs.get(f"{qid}/1"), theirs.get(f"{qid}/2"))
        b = (mine.get(f"{qid}/1"), mine.get(f"{qid}/2"))
        for turn in (1, 2):
            if None in a[:turn] or None in b[:turn]:
                continue
            name = template_name("pairwise", q.category, multi_turn=turn == 2)
            template = prompts.get(name)
            side_a, side_b = (a[0] or "", a[1] or ""), (b[0] or "", b[1] or "")
            ex_id = f"{qid}/{turn}"
            orders: tuple[tuple[Literal["ab", "ba"], tuple[str, str], tuple[str, str]], ...] = (
                ("ab", side_a, side_b),
                ("ba", side_b, side_a),
            )
            for order, first, second in orders:
                user = render_pair(
                    template, _questions_of(q), first, second, _refs(q, name), turn == 2
                )
                rec = FastChatCall(
                    example_id=ex_id, template=name, order=order, prompt=user, raw=None
                )
                calls.append((rec, judge_request(template, user, ex_id)))
    return calls


def _tally(outcomes: list[str]) -> dict[str, Any]:
    n = len(outcomes)
    wins, losses, ties = outcomes.count("b"), outcomes.count("a"), outcomes.count("tie")
    return {
        "n": n,
        "wins": wins,
        "ties": ties,
        "losses": losses,
        "win_rate": wins / n if n else None,
        "win_rate_adjusted": (wins + 0.5 * ties) / n if n else None,
    }


def judge_pairwise(
    run: BenchRun,
    questions: Sequence[Any],
    mine: Mapping[str, str | None],
    theirs: Mapping[str, str | None],
    model: str,
    prompts: JudgePrompts,
) -> tuple[dict[str, Any], list[Score]]:
    """Compare every turn with the other run in both orders; FastChat's win/tie/loss counts."""
    records = _call_all(run, _pair_calls(questions, mine, theirs, prompts))
    by_item: dict[str, dict[str, Winner]] = defaultdict(dict)
    for rec in records:
        by_item[rec.example_id][rec.order] = rec.winner or "error"
    outcome: dict[str, str] = {}
    for ex_id, orders in by_item.items():
        combined = combine(orders.get("ab", "error"), orders.get("ba", "error"))
        if combined is not None:
            outcome[ex_id] = combined
    win = {"b": 1.0, "tie": 0.5, "a": 0.0}
    scores = [
        Score(example_id=ex_id, model=model, metric="mt-bench", values={"win": win[result]})
        for ex_id, result in outcome.items()
    ]
    category = {str(q.question_id): q.category for q in questions}
    pick: Callable[[Callable[[str], bool]], list[str]] = lambda keep: [  # noqa: E731
        r for e, r in outcome.items() if keep(e)
    ]
    return {
        "mode": "pairwise",
        "excluded": 2 * len(questions) - len(outcome),
        "turn1": _tally(pick(lambda e: e.endswith("/1"))),
        "turn2": _tally(pick(lambda e: e.endswith("/2"))),
        "overall": _tally(pick(lambda e: True)),
        "categories": {
            c: _tally(pick(lambda e, c=c: category[e.split("/")[0]] == c))  # type: ignore[misc]
            for c in sorted(set(category.values()))
        },
    }, scores


def judge_fastchat(
    run: BenchRun,
    questions: Sequence[Any],
    generations: Sequence[Generation],
    other: tuple[str, Mapping[str, str | None]] | None,
    prompts: JudgePrompts,
) -> tuple[dict[str, Any], list[Score]]:
    """Single grading, or pairwise against ``other`` (its model name and answers)."""
    model = generations[0].model if generations else ""
    mine = {g.example_id: g.output for g in generations}
    if other is None:
        return judge_single(run, questions, mine, model, prompts)
    name, theirs = other
    against = name if name != model else f"{name} (against)"
    summary, scores = judge_pairwise(run, questions, mine, theirs, model, prompts)
    return {"against": against, **summary}, scores
