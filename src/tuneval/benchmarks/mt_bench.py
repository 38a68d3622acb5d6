"""MT-Bench (Zheng et al. 2023): 80 two-turn questions in 8 categories, judged 1-10.

Both turns are generated as one conversation. Two judging protocols: ``fastchat`` (default)
follows FastChat's ``llm_judge`` exactly (see `tuneval.benchmarks.fastchat`: its eight judge
templates from ``judge_prompts.jsonl``, one call per item, its parsing, unparseable replies
excluded), so scores compare with published MT-Bench numbers; ``tuneval`` scores each turn
with the JSON-rubric judge of `tuneval.judge` (scale 1-10, retries unusable replies), not
comparable with FastChat's numbers. Questions with a reference answer (math, reasoning,
coding) are graded reference-guided. Local data: a folder with ``question.jsonl``
and optionally ``reference_answer/gpt-4.jsonl`` (FastChat layout), with
``judge_prompts.jsonl`` beside it or one folder up. Hub:
``HuggingFaceH4/mt_bench_prompts``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import (
    Benchmark,
    BenchOptions,
    protocol_signature,
    register_benchmark,
)
from tuneval.benchmarks.fastchat import (
    JUDGE_MAX_TOKENS,
    find_judge_prompts,
    load_judge_prompts,
)
from tuneval.benchmarks.mt_bench_fastchat import judge_fastchat
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request, create_backend
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir

HUB_ID = "HuggingFaceH4/mt_bench_prompts"
PROTOCOLS = ("fastchat", "tuneval")


class MTQuestion(Record):
    """One MT-Bench question."""

    question_id: int
    """FastChat question id (81-160)."""
    category: str
    """One of writing, roleplay, reasoning, math, coding, extraction, stem, humanities."""
    turns: tuple[str, str]
    """The two user turns."""
    references: tuple[str, ...] = ()
    """Reference answers per turn (math, reasoning, coding), empty otherwise."""


def load_mt_bench(data: Path | None = None, limit: int | None = None) -> list[MTQuestion]:
    """MT-Bench questions (with reference answers where they exist)."""
    out: list[MTQuestion] = []
    if data is None:
        for row in load_hub(HUB_ID, None, "train"):
            out.append(
                MTQuestion(
                    question_id=int(row["prompt_id"]),
                    category=row["category"],
                    turns=tuple(row["prompt"]),
                    references=tuple(r for r in row.get("reference") or [] if r),
                )
            )
    else:
        path = data / "question.jsonl" if data.is_dir() else data
        refs: dict[int, tuple[str, ...]] = {}
        ref_path = path.parent / "reference_answer" / "gpt-4.jsonl"
        if ref_path.exists():
            for line, obj in iter_json_records(ref_path):
                choices = field(obj, "choices", list, ref_path, line)
                qid = field(obj, "question_id", int, ref_path, line)
                refs[qid] = tuple(choices[0]["turns"])
        for line, obj in iter_json_records(path):
            turns = field(obj, "turns", list, path, line)
            qid = field(obj, "question_id", int, path, line)
            out.append(
                MTQuestion(
                    question_id=qid,
                    category=field(obj, "category", str, path, line),
                    turns=(str(turns[0]), str(turns[1] if len(turns) > 1 else "")),
                    references=refs.get(qid, ()),
                )
            )
    return out[:limit] if limit is not None else out


def _turn2_prompt(q: MTQuestion, answer1: str) -> str:
    """What the judge sees for turn 2: the whole conversation, then the follow-up."""
    return (
        f"<|The Start of the Conversation|>\nUser: {q.turns[0]}\n\nAssistant: {answer1}\n"
        f"<|End of the Conversation|>\n\nFollow-up question from the user: {q.turns[1]}"
    )


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


@register_benchmark
class MTBench(Benchmark):
    """MT-Bench: single grading, or pairwise against another model's MT-Bench run."""

    name = "mt-bench"
    description = (
        "MT-Bench: 80 two-turn questions, judge score 1-10 per turn (needs --judge); "
        "--against RUN: pairwise vs another model's run"
    )

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Generate both turns, judge them, write records; return the summary.

        Single grading (default): category/turn mean scores. With ``options.against``, every
        turn is compared with the other run's answers by the pairwise judge in both orders.
        """
        if options.judge is None:
            raise UsageError("mt-bench needs a judge model: --judge SPEC")
        protocol = options.protocol or "fastchat"
        if protocol not in PROTOCOLS:
            raise UsageError(f"mt-bench --protocol must be fastchat or tuneval, got '{protocol}'")
        other = _load_other(options.against) if options.against is not None else None
        prompts = (
            load_judge_prompts(find_judge_prompts(options.data)) if protocol == "fastchat" else None
        )
        questions = load_mt_bench(options.data, options.limit)
        examples, generations = self._generate(backend, questions, options)
        _write_run(out, examples, generations)
        judge = create_backend(options.judge)
        if prompts is not None:
            theirs = (other.model, other.answers) if other is not None else None
            calls = CallOptions(max_concurrency=options.max_concurrency)
            summary = judge_fastchat(out, questions, generations, theirs, judge, prompts, calls)
        elif other is not None:
            summary = _pairwise(out, questions, generations, other, judge, options)
        else:
            summary = _single(out, examples, generations, judge)
        summary = {
            "benchmark": self.name,
            "model": backend.name,
            "judge": options.judge,
            "questions": len(questions),
            "protocol": protocol,
            **summary,
            "signature": protocol_signature(
                self.name,
                protocol=protocol,
                mode=summary["mode"],
                judge=options.judge,
                templates=f"fastchat-{prompts.digest}" if prompts else "tuneval-json",
                judge_tokens=JUDGE_MAX_TOKENS if prompts else "default",
                retries="no" if prompts else "yes",
                temp=options.temperature,
                max_tokens=options.max_tokens,
            ),
        }
        out.update_info(benchmark=summary)
        return summary

    @staticmethod
    def _generate(
        backend: ModelBackend, questions: list[MTQuestion], options: BenchOptions
    ) -> tuple[list[Example], list[Generation]]:
        decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
        calls = CallOptions(max_concurrency=options.max_concurrency)
        first = run_calls(
            backend,
            [
                Request.from_prompt(q.turns[0], decoding, example_id=f"{q.question_id}/1")
                for q in questions
            ],
            calls,
        )
        answers1 = [r.completion.text if r.completion else "" for r in first]
        second = run_calls(
            backend,
            [
                Request(
                    messages=(
                        Message(role="user", content=q.turns[0]),
                        Message(role="assistant", content=a1),
                        Message(role="user", content=q.turns[1]),
                    ),
                    decoding=decoding,
                    example_id=f"{q.question_id}/2",
                )
                for q, a1 in zip(questions, answers1, strict=True)
            ],
            calls,
        )
        examples: list[Example] = []
        generations: list[Generation] = []
        for q, a1, r1, r2 in zip(questions, answers1, first, second, strict=True):
            for turn, prompt, res in ((1, q.turns[0], r1), (2, _turn2_prompt(q, a1), r2)):
                ex_id = f"{q.question_id}/{turn}"
                ref = q.references[turn - 1 : turn] if len(q.references) >= turn else ()
                examples.append(
                    Example(id=ex_id, prompt=prompt, references=ref, category=q.category)
                )
                text = res.completion.text if res.completion else None
                generations.append(
                    Generation(
                        example_id=ex_id,
                        model=backend.name,
                        output=text,
                        error=None if text is not None else res.error,
                        metadata={"turn": turn},
                    )
                )
        return examples, generations


def _write_run(run: RunDir, examples: list[Example], generations: list[Generation]) -> RunDir:
    """Write a (sub-)run directory the judge reads: its examples and generations."""
    run.write_examples(examples)
    with JsonlAppender(run.generations_path) as gens:
        for gen in generations:
            gens.write(gen)
    return run


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _single(
    out: RunDir, examples: list[Example], generations: list[Generation], judge: ModelBackend
) -> dict[str, Any]:
    """Grade every turn 1-10 (reference-guided where a reference exists)."""
    from tuneval.judge import ScoreConfig, judge_scores

    model = generations[0].model if generations else ""
    judgments = []
    # The judge grades a whole run in one mode, so the reference-guided questions (math,
    # reasoning, coding) and the others are judged as two sub-runs of this run.
    for with_ref in (True, False):
        keep = {e.id for e in examples if (e.reference is not None) == with_ref}
        if not keep:
            continue
        sub = _write_run(
            RunDir(out.path / ("judge-reference" if with_ref else "judge-plain")),
            [e for e in examples if e.id in keep],
            [g for g in generations if g.example_id in keep],
        )
        config = ScoreConfig(reference=with_ref, scale=(1, 10))
        judgments += judge_scores(sub, model, judge, config)
    by_id = {j.example_id: j.score for j in judgments}
    cats: dict[str, dict[int, list[float]]] = defaultdict(lambda: {1: [], 2: []})
    with JsonlAppender(out.record_file("scores")) as scores:
        for ex in examples:
            score = by_id.get(ex.id)
            if score is None:
                continue
            turn = int(ex.id.rsplit("/", 1)[1])
            cats[ex.category or ""][turn].append(float(score))
            scores.write(
                Score(example_id=ex.id, model=model, metric="mt-bench", values={"score": score})
            )
    all1 = [x for c in cats.values() for x in c[1]]
    all2 = [x for c in cats.values() for x in c[2]]
    return {
        "mode": "single",
        "unscored": len(examples) - len(all1) - len(all2),
        "categories": {
            c: {"turn1": _mean(t[1]), "turn2": _mean(t[2]), "average": _mean(t[1] + t[2])}
            for c, t in sorted(cats.items())
        },
        "overall": {"turn1": _mean(all1), "turn2": _mean(all2), "average": _mean(all1 + all2)},
    }


class _OtherRun(Record):
    """The MT-Bench answers of the model compared against."""

    model: str
    """Its model name."""
    answers: dict[str, str | None]
    """Answer per ``question_id/turn``."""


def _load_other(path: Path) -> _OtherRun:
    """The answers of a finished MT-Bench run (``tuneval bench mt-bench --out PATH``)."""
    run = RunDir(path)
    info = run.read_info().get("benchmark")
    if not isinstance(info, dict) or info.get("benchmark") != "mt-bench":
        raise UsageError(f"--against {path} is not an MT-Bench run (run.json names no mt-bench)")
    model = str(info["model"])
    answers = {g.example_id: g.output for g in run.generations(model)}
    return _OtherRun(model=model, answers=answers)


def _pairwise(
    out: RunDir,
    questions: list[MTQuestion],
    generations: list[Generation],
    other: _OtherRun,
    judge: ModelBackend,
    options: BenchOptions,
) -> dict[str, Any]:
    """Compare every turn with the other run's answers, in both orders.

    Turn 2 is judged on each model's whole conversation (its own first answer, then its
    follow-up), as MT-Bench's multi-turn pairwise prompt does. Questions with reference
    answers are judged reference-guided.
    """
    from tuneval.judge import PairConfig, judge_pairs, pairwise_summary
    from tuneval.judge.records import PairJudgment

    model = generations[0].model if generations else ""
    baseline = other.model if other.model != model else f"{other.model} (against)"
    mine = {g.example_id: g.output for g in generations}
    records: list[PairJudgment] = []
    for with_ref in (True, False):
        chosen = [q for q in questions if bool(q.references) == with_ref]
        if not chosen:
            continue
        sub_examples: list[Example] = []
        sub_gens: list[Generation] = []
        for q in chosen:
            qid = str(q.question_id)
            for turn in (1, 2):
                ex_id = f"{qid}/{turn}"
                ref = q.references[turn - 1 : turn] if len(q.references) >= turn else ()
                sub_examples.append(
                    Example(
                        id=ex_id, prompt=_pair_prompt(q, turn), references=ref, category=q.category
                    )
                )
                for name, answers in ((baseline, other.answers), (model, mine)):
                    text = (
                        answers.get(ex_id)
                        if turn == 1
                        else _pair_answer(answers.get(f"{qid}/1"), answers.get(ex_id))
                    )
                    if text is not None:
                        sub_gens.append(Generation(example_id=ex_id, model=name, output=text))
        name = "pairwise-reference" if with_ref else "pairwise-plain"
        sub = _write_run(RunDir(out.path / name), sub_examples, sub_gens)
        config = PairConfig(swap=True, reference=with_ref, max_tokens=options.max_tokens)
        records += judge_pairs(sub, baseline, model, judge, config)

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
    }
