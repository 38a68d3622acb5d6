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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import (
    Benchmark,
    Item,
    Scored,
    protocol_signature,
    register_benchmark,
)
from tuneval.benchmarks.fastchat import (
    JUDGE_MAX_TOKENS,
    JudgePrompts,
    find_judge_prompts,
    load_judge_prompts,
)
from tuneval.benchmarks.framework import BenchRun
from tuneval.benchmarks.options import MTBenchOptions
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.records import Example, Generation

HUB_ID = "HuggingFaceH4/mt_bench_prompts"


class MTQuestion(Item):
    """One MT-Bench question (``id``: its question id as text)."""

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
                    id=str(row["prompt_id"]),
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
                    id=str(qid),
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
class MTBench(Benchmark[MTQuestion, MTBenchOptions]):
    """MT-Bench: single grading, or pairwise against another model's MT-Bench run.

    Both turns are generated as one conversation (turn 2 is asked once turn 1's answer is
    in). Single grading (default): category/turn mean scores. With ``against``, every turn
    is compared with the other run's answers by the pairwise judge in both orders.
    """

    name = "mt-bench"
    description = (
        "MT-Bench: 80 two-turn questions, judge score 1-10 per turn (needs --judge); "
        "--against RUN: pairwise vs another model's run"
    )
    options_type = MTBenchOptions
    needs_judge = True

    def load(self, backend: ModelBackend, options: MTBenchOptions) -> list[MTQuestion]:
        """The questions; reads the other run and FastChat's judge templates first."""
        from tuneval.benchmarks.mt_bench_tuneval import load_other

        self.options = options
        self.protocol = options.protocol or "fastchat"
        self.other = load_other(options.against) if options.against is not None else None
        self.prompts: JudgePrompts | None = (
            load_judge_prompts(find_judge_prompts(options.data))
            if self.protocol == "fastchat"
            else None
        )
        self.decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
        return load_mt_bench(options.data, options.limit)

    def requests(self, item: MTQuestion, answers: Sequence[Generation]) -> list[Request]:
        """Turn 1; with its answer, turn 2 continuing the conversation."""
        first = Request.from_prompt(item.turns[0], self.decoding, example_id=f"{item.id}/1")
        if not answers:
            return [first]
        second = Request(
            messages=(
                Message(role="user", content=item.turns[0]),
                Message(role="assistant", content=answers[0].output or ""),
                Message(role="user", content=item.turns[1]),
            ),
            decoding=self.decoding,
            example_id=f"{item.id}/2",
        )
        return [first, second]

    def record_id(self, item: MTQuestion, slot: int) -> str:
        """``question_id/turn``."""
        return f"{item.id}/{slot + 1}"

    def slot_metadata(self, item: MTQuestion, slot: int) -> dict[str, Any]:
        """The turn number."""
        return {"turn": slot + 1}

    def score(self, item: MTQuestion, answers: Sequence[Generation]) -> Scored:
        """Both turns as examples (turn 2's prompt shows the conversation); the judge grades."""
        examples = []
        for turn, prompt in ((1, item.turns[0]), (2, _turn2_prompt(item, answers[0].output or ""))):
            ref = item.references[turn - 1 : turn] if len(item.references) >= turn else ()
            examples.append(
                Example(
                    id=f"{item.id}/{turn}", prompt=prompt, references=ref, category=item.category
                )
            )
        return Scored(examples=examples, generations=list(answers))

    def judge(
        self, run: BenchRun, items: Sequence[MTQuestion], scored: list[Scored]
    ) -> list[Scored]:
        """Judge with the chosen protocol; each item gets its turns' scores."""
        from tuneval.benchmarks.mt_bench_fastchat import judge_fastchat
        from tuneval.benchmarks.mt_bench_tuneval import pairwise, single

        generations = [g for one in scored for g in one.generations]
        if self.prompts is not None:
            theirs = (self.other.model, self.other.answers) if self.other is not None else None
            self.result, scores = judge_fastchat(run, items, generations, theirs, self.prompts)
        elif self.other is not None:
            self.result, scores = pairwise(run, items, generations, self.other)
        else:
            examples = [e for one in scored for e in one.examples]
            self.result, scores = single(run, examples, generations)
        by_item: dict[str, list[Any]] = {item.id: [] for item in items}
        for score in scores:
            by_item[score.example_id.split("/")[0]].append(score)
        return [
            Scored(one.examples, one.generations, by_item[item.id])
            for item, one in zip(items, scored, strict=True)
        ]

    def summarize(
        self, run: BenchRun, items: Sequence[MTQuestion], scored: list[Scored]
    ) -> dict[str, Any]:
        """The judging summary with the run's facts and protocol signature."""
        judge = run.judge.spec if run.judge is not None else None
        prompts = self.prompts
        return {
            "benchmark": self.name,
            "model": run.model,
            "judge": judge,
            "questions": len(items),
            "protocol": self.protocol,
            **self.result,
            "signature": protocol_signature(
                self.name,
                protocol=self.protocol,
                mode=self.result["mode"],
                judge=judge,
                templates=f"fastchat-{prompts.digest}" if prompts else "tuneval-json",
                judge_tokens=JUDGE_MAX_TOKENS if prompts else "default",
                retries="no" if prompts else "yes",
                temp=self.options.temperature,
                max_tokens=self.options.max_tokens,
            ),
        }
