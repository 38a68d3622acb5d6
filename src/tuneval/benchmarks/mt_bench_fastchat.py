"""MT-Bench judged with FastChat's protocol: single grading and pairwise against a run.

Every judge call and its parsed outcome is written to ``judgments.jsonl`` (prompt and raw
reply kept); per-turn `Score` records go to ``scores.jsonl`` for paired comparisons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

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
from tuneval.models.base import ModelBackend, Request
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir


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


def _call_all(
    judge: ModelBackend, calls: list[tuple[FastChatCall, Request]], options: CallOptions
) -> list[FastChatCall]:
    """One call per item (no retries of unusable replies; transport errors aside)."""
    results = run_calls(judge, [r for _, r in calls], options)
    done: list[FastChatCall] = []
    for (rec, _), res in zip(calls, results, strict=True):
        if res.completion is None:
            done.append(rec.model_copy(update={"error": res.error or "call failed"}))
            continue
        raw = res.completion.text
        update: dict[str, Any] = {"raw": raw}
        if rec.order == "single":
            update["score"] = parse_rating(raw)
        else:
            update["winner"] = parse_winner(raw)
        done.append(rec.model_copy(update=update))
    return done


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


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
    out: RunDir,
    questions: Sequence[Any],
    answers: Mapping[str, str | None],
    model: str,
    judge: ModelBackend,
    prompts: JudgePrompts,
    options: CallOptions,
) -> dict[str, Any]:
    """Grade both turns of every question; category and turn means of the valid ratings."""
    calls = _single_calls(questions, answers, prompts)
    records = _call_all(judge, calls, options)
    category = {str(q.question_id): q.category for q in questions}
    cats: dict[str, dict[int, list[float]]] = defaultdict(lambda: {1: [], 2: []})
    with (
        JsonlAppender(out.record_file("judgments")) as judged,
        JsonlAppender(out.record_file("scores")) as scores,
    ):
        for rec in records:
            judged.write(rec)
            if rec.score is None or rec.score == -1:
                continue
            question_key, turn_text = rec.example_id.split("/")
            cats[category[question_key]][int(turn_text)].append(rec.score)
            values = {"score": rec.score}
            scores.write(
                Score(example_id=rec.example_id, model=model, metric="mt-bench", values=values)
            )
    all1 = [x for c in cats.values() for x in c[1]]
    all2 = [x for c in cats.values() for x in c[2]]
    return {
        "mode": "single",
        "unscored": 2 * len(questions) - len(all1) - len(all2),
        "categories": {
            c: {"turn1": _mean(t[1]), "turn2": _mean(t[2]), "average": _mean(t[1] + t[2])}
            for c, t in sorted(cats.items())
        },
        "overall": {"turn1": _mean(all1), "turn2": _mean(all2), "average": _mean(all1 + all2)},
    }


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
    out: RunDir,
    questions: Sequence[Any],
    mine: Mapping[str, str | None],
    theirs: Mapping[str, str | None],
    model: str,
    judge: ModelBackend,
    prompts: JudgePrompts,
    options: CallOptions,
) -> dict[str, Any]:
    """Compare every turn with the other run in both orders; FastChat's win/tie/loss counts."""
    records = _call_all(judge, _pair_calls(questions, mine, theirs, prompts), options)
    by_item: dict[str, dict[str, Winner]] = defaultdict(dict)
    with JsonlAppender(out.record_file("judgments")) as judged:
        for rec in records:
            judged.write(rec)
            by_item[rec.example_id][rec.order] = rec.winner or "error"
    outcome: dict[str, str] = {}
    for ex_id, orders in by_item.items():
        combined = combine(orders.get("ab", "error"), orders.get("ba", "error"))
        if combined is not None:
            outcome[ex_id] = combined
    win = {"b": 1.0, "tie": 0.5, "a": 0.0}
    with JsonlAppender(out.record_file("scores")) as scores:
        for ex_id, result in outcome.items():
            scores.write(
                Score(example_id=ex_id, model=model, metric="mt-bench", values={"win": win[result]})
            )
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
    }


def judge_fastchat(
    out: RunDir,
    questions: Sequence[Any],
    generations: Sequence[Generation],
    other: tuple[str, Mapping[str, str | None]] | None,
    judge: ModelBackend,
    prompts: JudgePrompts,
    options: CallOptions,
) -> dict[str, Any]:
    """Single grading, or pairwise against ``other`` (its model name and answers)."""
    model = generations[0].model if generations else ""
    mine = {g.example_id: g.output for g in generations}
    if other is None:
        return judge_single(out, questions, mine, model, judge, prompts, options)
    name, theirs = other
    against = name if name != model else f"{name} (against)"
    summary = judge_pairwise(out, questions, mine, theirs, model, judge, prompts, options)
    return {"against": against, **summary}
