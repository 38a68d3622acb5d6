"""MT-Bench judged with tuneval's own judge (``--protocol tuneval``): single or pairwise.

Each turn is scored by the JSON-rubric judge of `tuneval.judge` (scale 1-10, unusable replies
retried), or compared with another run's answers in both orders; questions with reference
answers are judged reference-guided. The judge runs on sub-run directories of the run, so a
rerun resumes from their judgment files and repeats no call. Not comparable with FastChat's
numbers (see `tuneval.benchmarks.mt_bench_fastchat`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.benchmarks.framework import BenchRun, replace_records
from tuneval.benchmarks.mt_bench import MTQuestion
from tuneval.benchmarks.mt_bench_fastchat import single_summary
from tuneval.errors import UsageError
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import RunDir


def _pair_prompt(q: MTQuestion, turn: int) -> str:
    """What the pairwise judge sees as the question of one turn."""
    if turn == 1:
        return q.turns[0]
    return (
        f"First question: {q.turns[0]}\n\nFollow-up question: {q.turns[1]}\n\n"
        "Judge the answers to the follow-up question; each assistant's answer to the first "
        "question is shown for context."
    )


def _pair_answer(answer1: str | None, answer2: str | None) -> str | None:
    """One model's side of a turn-2 comparison: its whole conversation."""
    if answer1 is None or answer2 is None:
        return None
    return (
        f"[Answer to the first question]\n{answer1}\n\n"
        f"[Answer to the follow-up question]\n{answer2}"
    )


def _write_run(run: RunDir, examples: list[Example], generations: list[Generation]) -> RunDir:
    """Write a (sub-)run directory the judge reads: its examples and generations.

    Both files are replaced, so a rerun finds the same inputs and the judge's own records
    (``judge_single.jsonl``, ``judge_pairwise.jsonl``) resume.
    """
    run.write_examples(examples)
    replace_records(run.generations_path, generations)
    return run


def single(
    run: BenchRun, examples: list[Example], generations: list[Generation]
) -> tuple[dict[str, Any], list[Score]]:
    """Grade every turn 1-10 (reference-guided where a reference exists)."""
    from tuneval.judge import ScoreConfig, judge_scores

    assert run.judge is not None  # the framework refuses a judged benchmark without one
    model = generations[0].model if generations else ""
    judgments = []
    # The judge grades a whole run in one mode, so the reference-guided questions (math,
    # reasoning, coding) and the others are judged as two sub-runs of this run.
    for with_ref in (True, False):
        keep = {e.id for e in examples if (e.reference is not None) == with_ref}
        if not keep:
            continue
        sub = _write_run(
            RunDir(run.out.path / ("judge-reference" if with_ref else "judge-plain")),
            [e for e in examples if e.id in keep],
            [g for g in generations if g.example_id in keep],
        )
        config = ScoreConfig(reference=with_ref, scale=(1, 10), calls=run.calls)
        judgments += judge_scores(sub, model, run.judge, config, cache=run.cache)
    by_id = {j.example_id: j.score for j in judgments}
    cats: dict[str, dict[int, list[float]]] = defaultdict(lambda: {1: [], 2: []})
    scores = []
    for ex in examples:
        score = by_id.get(ex.id)
        if score is None:
            continue
        turn = int(ex.id.rsplit("/", 1)[1])
        cats[ex.category or ""][turn].append(float(score))
        scores.append(
            Score(example_id=ex.id, model=model, metric="mt-bench", values={"score": score})
        )
    return single_summary(cats, len(examples)), scores


class OtherRun(Record):
    """The MT-Bench answers of the model compared against."""

    model: str
    """Its model name."""
    answers: dict[str, str | None]
    """Answer per ``question_id/turn``."""


def load_other(path: Path) -> OtherRun:
    """The answers of a finished MT-Bench run (``tuneval bench mt-bench --out PATH``)."""
    run = RunDir(path)
    info = run.read_info().get("benchmark")
    if not isinstance(info, dict) or info.get("benchmark") != "mt-bench":
        raise UsageError(f"--against {path} is not an MT-Bench run (run.json names no mt-bench)")
    model = str(info["model"])
    answers = {g.example_id: g.output for g in run.generations(model)}
    return OtherRun(model=model, answers=answers)


def pairwise(
    run: BenchRun,
    questions: Sequence[MTQuestion],
    generations: list[Generation],
    other: OtherRun,
) -> tuple[dict[str, Any], list[Score]]:
    """Compare every turn with the other run's answers, in both orders.

    Turn 2 is judged on each model's whole conversation (its own first answer, then its
    follow-up), as MT-Bench's multi-turn pairwise prompt does. Questions with reference
    answers are judged reference-guided.
    """
    from tuneval.judge import PairConfig, judge_pairs, pairwise_summary
    from tuneval.judge.records import PairJudgment

    assert run.judge is not None  # the framework refuses a judged benchmark without one

    model = generations[0].model if generations else ""
    baseline = other.model if other.model != model else f"{other.model} (against)"
    mine = {g.example_id: g.output for g in generations}
    records: list[PairJudgment] = []
    for with_ref in (True, False):
        chosen = [q for q in questions if bool(q.references) == with_ref]
        if not chosen:
            continue
        sub_examples, sub_gens = _pair_run(chosen, (baseline, other.answers), (model, mine))
        name = "pairwise-reference" if with_ref else "pairwise-plain"
        sub = _write_run(RunDir(run.out.path / name), sub_examples, sub_gens)
        config = PairConfig(
            swap=True, reference=with_ref, max_tokens=run.options.max_tokens, calls=run.calls
        )
        records += judge_pairs(sub, baseline, model, run.judge, config, cache=run.cache)

    def summary_of(recs: list[PairJudgment]) -> dict[str, Any]:
        s = pairwise_summary(recs)
        return {
            **s.model_dump(include={"n", "wins", "ties", "losses", "inconsistent", "unscored"}),
            "win_rate": s.win_rate.model_dump() if s.win_rate else None,
        }

    categories = {q.category for q in questions}
    by_turn = {t: [r for r in records if r.example_id.endswith(f"/{t}")] for t in (1, 2)}
    category_of = {str(q.question_id): q.category for q in questions}
    return {
        "mode": "pairwise",
        "against": baseline,
        "turn1": summary_of(by_turn[1]),
        "turn2": summary_of(by_turn[2]),
        "overall": summary_of(records),
        "categories": {
            c: summary_of([r for r in records if category_of[r.example_id.split("/")[0]] == c])
            for c in sorted(categories)
        },
    }, []  # a comparison with another run has no per-item score of this model alone


def _pair_run(
    questions: Sequence[MTQuestion],
    baseline: tuple[str, dict[str, str | None]],
    model: tuple[str, dict[str, str | None]],
) -> tuple[list[Example], list[Generation]]:
    """The examples and both sides' answers the pairwise judge reads for ``questions``."""
    examples: list[Example] = []
    gens: list[Generation] = []
    for q in questions:
        qid = str(q.question_id)
        for turn in (1, 2):
            ex_id = f"{qid}/{turn}"
            ref = q.references[turn - 1 : turn] if len(q.references) >= turn else ()
            examples.append(
                Example(id=ex_id, prompt=_pair_prompt(q, turn), references=ref, category=q.category)
            )
            for name, answers in (baseline, model):
                text = (
                    answers.get(ex_id)
                    if turn == 1
                    else _pair_answer(answers.get(f"{qid}/1"), answers.get(ex_id))
                )
                if text is not None:
                    gens.append(Generation(example_id=ex_id, model=name, output=text))
    return examples, gens
