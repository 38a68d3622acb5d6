"""MT-Bench (Zheng et al. 2023): 80 two-turn questions in 8 categories, judged 1-10.

Both turns are generated as one conversation. Each turn is scored by the judge of
`tuneval.judge` (single grading, scale 1-10); questions with a reference answer (math,
reasoning, coding) are graded reference-guided. Local data: a folder with ``question.jsonl``
and optionally ``reference_answer/gpt-4.jsonl`` (FastChat layout). Hub:
``HuggingFaceH4/mt_bench_prompts``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import Benchmark, BenchOptions, register_benchmark
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request, create_backend
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir

HUB_ID = "HuggingFaceH4/mt_bench_prompts"


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


@register_benchmark
class MTBench(Benchmark):
    """MT-Bench single grading."""

    name = "mt-bench"
    description = "MT-Bench: 80 two-turn questions, judge score 1-10 per turn (needs --judge)"

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Generate both turns, judge each, write records; return category/turn means."""
        from tuneval.judge import ScoreConfig, judge_scores

        if options.judge is None:
            raise UsageError("mt-bench needs a judge model: --judge SPEC")
        questions = load_mt_bench(options.data, options.limit)
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
        model = backend.name
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
                        model=model,
                        output=text,
                        error=None if text is not None else res.error,
                        metadata={"turn": turn},
                    )
                )
        out.write_examples(examples)
        with JsonlAppender(out.generations_path) as gens:
            for gen in generations:
                gens.write(gen)
        judge = create_backend(options.judge)
        judgments = []
        # The judge grades a whole run in one mode, so the reference-guided questions (math,
        # reasoning, coding) and the others are judged as two sub-runs of this run.
        for with_ref in (True, False):
            sub = RunDir(out.path / ("judge-reference" if with_ref else "judge-plain"))
            keep = {e.id for e in examples if (e.reference is not None) == with_ref}
            if not keep:
                continue
            sub.write_examples(e for e in examples if e.id in keep)
            with JsonlAppender(sub.generations_path) as gens:
                for gen in generations:
                    if gen.example_id in keep:
                        gens.write(gen)
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
                    Score(
                        example_id=ex.id,
                        model=model,
                        metric="mt-bench",
                        values={"score": float(score)},
                    )
                )

        def mean(xs: list[float]) -> float | None:
            return sum(xs) / len(xs) if xs else None

        all1 = [x for c in cats.values() for x in c[1]]
        all2 = [x for c in cats.values() for x in c[2]]
        summary: dict[str, Any] = {
            "benchmark": self.name,
            "model": model,
            "judge": options.judge,
            "questions": len(questions),
            "unscored": len(examples) - len(all1) - len(all2),
            "categories": {
                c: {"turn1": mean(t[1]), "turn2": mean(t[2]), "average": mean(t[1] + t[2])}
                for c, t in sorted(cats.items())
            },
            "overall": {"turn1": mean(all1), "turn2": mean(all2), "average": mean(all1 + all2)},
        }
        out.update_info(benchmark=summary)
        return summary
