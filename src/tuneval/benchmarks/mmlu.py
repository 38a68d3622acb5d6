"""MMLU (Hendrycks et al. 2021): 57 subjects, 5-shot, accuracy with confidence intervals.

Two modes: ``loglikelihood`` compares the model's log-probability of `` A``..`` D`` after
the prompt (llama.cpp, HF); ``generate`` asks for an answer and extracts the letter (API
models). Three prompt formats (`MMLU_FORMATS`): ``lm-eval`` (default) reproduces
lm-evaluation-harness's ``mmlu`` task byte for byte and scores the letters right after
``Answer:`` in the plain text, with no chat template, so numbers compare with published
ones; ``original`` is the Hendrycks ``evaluate.py`` prompt; ``chat`` sends the prompt as a
chat turn (scored after the model's chat template in log-likelihood mode). The format, mode
and aggregation are in the run's protocol signature. Local data:
``DIR/dev/<subject>_dev.csv`` and ``DIR/test/<subject>_test.csv``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuneval.benchmarks.base import (
    Benchmark,
    Item,
    Scored,
    protocol_signature,
    register_benchmark,
)
from tuneval.benchmarks.mmlu_data import (
    CATEGORY,
    LETTERS,
    SUBJECTS,
    MCQuestion,
    format_prompt,
    load_split,
)
from tuneval.benchmarks.mmlu_letters import extract_letter, read_letter
from tuneval.benchmarks.options import MMLUOptions
from tuneval.models.base import Completion, Decoding, Message, ModelBackend, Request
from tuneval.records import Example, Generation, Score

if TYPE_CHECKING:
    from tuneval.benchmarks.framework import BenchRun

Z95 = 1.959963984540054
__all__ = ["MMLU", "extract_letter", "read_letter", "summarize", "wilson"]


def wilson(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(correct: dict[str, list[int]]) -> dict[str, Any]:
    """Accuracy per subject, per category and overall (micro and macro), each with a 95% CI.

    Proportions get Wilson intervals; a macro average (mean of subject accuracies) gets a
    normal interval from the subjects' binomial variances, ``sum p(1-p)/n / S^2``.
    """

    def prop(xs: list[int]) -> dict[str, float]:
        low, high = wilson(sum(xs), len(xs))
        return {
            "accuracy": sum(xs) / len(xs) if xs else 0.0,
            "ci_low": low,
            "ci_high": high,
            "n": len(xs),
        }

    def macro(subjects: list[str]) -> dict[str, float]:
        accs = [sum(correct[s]) / len(correct[s]) for s in subjects]
        var = sum(a * (1 - a) / len(correct[s]) for a, s in zip(accs, subjects, strict=True))
        mean = sum(accs) / len(accs)
        half = Z95 * math.sqrt(var) / len(accs)
        return {
            "accuracy": mean,
            "ci_low": max(0.0, mean - half),
            "ci_high": min(1.0, mean + half),
            "subjects": len(accs),
        }

    present = [s for s in sorted(correct) if correct[s]]
    by_cat: dict[str, list[str]] = defaultdict(list)
    for s in present:
        by_cat[CATEGORY[s]].append(s)
    return {
        "subjects": {s: prop(correct[s]) for s in present},
        "categories": {
            c: {"micro": prop([x for s in ss for x in correct[s]]), "macro": macro(ss)}
            for c, ss in sorted(by_cat.items())
        },
        "overall": {
            "micro": prop([x for s in present for x in correct[s]]),
            "macro": macro(present),
        },
    }


def unscored_fields(right: int, scored: int, items: int, reasons: dict[str, int]) -> dict[str, Any]:
    """The generate mode's scored/unscored counts and its accuracy with unscored as wrong.

    The headline ``accuracy`` covers the scored items only (an unclear reply is neither
    right nor wrong); ``accuracy_unscored_as_wrong`` is the lower reading over every item.
    """
    low, high = wilson(right, items)
    return {
        "scored": scored,
        "unscored": items - scored,
        "unscored_reasons": reasons,
        "accuracy_unscored_as_wrong": {
            "accuracy": right / items if items else 0.0,
            "ci_low": low,
            "ci_high": high,
            "n": items,
        },
    }


def letter_mass(lls: list[float]) -> float:
    """Probability the model puts on the four answer letters together (1.0 = all of it).

    A low mass means the prompt does not lead the model to answer with a letter (e.g. the
    letters scored after a chat template's assistant header instead of after ``Answer:``).
    """
    return sum(math.exp(x) for x in lls)


def mmlu_signature(fmt: str, mode: str) -> str:
    """The protocol signature of an MMLU run (the headline is micro accuracy).

    Generate mode adds how the letter was read (``extract:strict``, see `read_letter`) and
    that unscored replies are left out of the headline (``unscored:excluded``).
    """
    templated = fmt == "chat" or mode == "generate"
    reading: dict[str, str] = (
        {"extract": "strict", "unscored": "excluded"} if mode == "generate" else {}
    )
    return protocol_signature(
        "mmlu",
        shots=5,
        format=fmt,
        mode=mode,
        template="chat" if templated else None,
        **reading,
        agg="micro",
    )


class MMLUItem(Item):
    """One question asked, with its 5-shot prompt."""

    question: MCQuestion
    """The question."""
    prompt: str
    """The 5-shot prompt (the subject's first five dev questions, then this one)."""


class LetterScorer(ModelBackend):
    """MMLU's log-likelihood query as a model call, so it runs on the common call machinery.

    The reply is the log-likelihoods of `` A``..`` D`` after the prompt, as a JSON list (exact:
    JSON keeps every float); the cache keys it apart from the model's generations.

    Args:
        inner: The model (it must give log-probabilities).
        templated: Score after the chat template (format ``chat``), not after the plain text.
    """

    def __init__(self, inner: ModelBackend, templated: bool) -> None:
        super().__init__(inner.spec)
        self.inner = inner
        self.templated = templated

    @property
    def name(self) -> str:
        """The model's name."""
        return self.inner.name

    def identity(self) -> str:
        """The model's identity and what is scored."""
        return f"{self.inner.identity()}|mmlu-letters:{'chat' if self.templated else 'text'}"

    async def complete(self, request: Request) -> Completion:
        """The four letters' log-likelihoods after the request's (last) user turn."""
        prompt = request.messages[-1].content
        letters = [f" {x}" for x in LETTERS]
        if self.templated:
            context = [Message(role="user", content=prompt)]
            lls = await self.inner.loglikelihood(context, letters)
        else:
            lls = await self.inner.loglikelihood_text(prompt, letters)
        return Completion(text=json.dumps(lls))


@register_benchmark
class MMLU(Benchmark[MMLUItem, MMLUOptions]):
    """MMLU 5-shot accuracy.

    The headline ``accuracy`` is micro (every question counts once), as lm-eval and the
    original script report it; macro (mean of subjects) is in ``overall`` too.
    """

    name = "mmlu"
    description = "MMLU: 57 subjects, 5-shot, log-likelihood or generation, accuracy with CIs"
    options_type = MMLUOptions
    fmt = "lm-eval"
    mode = "generate"

    def load(self, backend: ModelBackend, options: MMLUOptions) -> list[MMLUItem]:
        """Every question asked (the first ``limit`` per subject); resolves format and mode."""
        self.fmt = options.format or "lm-eval"
        self.mode = options.mode or ("loglikelihood" if backend.supports_logprobs else "generate")
        self.decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
        items = []
        for subject in options.subjects or SUBJECTS:
            shots = load_split(options.data, subject, "dev")[:5]
            test = load_split(options.data, subject, "test")
            for i, q in enumerate(test[: options.limit] if options.limit else test):
                prompt = format_prompt(q, shots, self.fmt)
                items.append(MMLUItem(id=f"{subject}/{i}", question=q, prompt=prompt))
        return items

    def caller(self, backend: ModelBackend) -> ModelBackend:
        """The model, or its letter scorer in log-likelihood mode."""
        if self.mode == "loglikelihood":
            return LetterScorer(backend, templated=self.fmt == "chat")
        return backend

    def requests(self, item: MMLUItem, answers: Sequence[Generation]) -> list[Request]:
        """The question's prompt (decoding matters only when generating)."""
        decoding = self.decoding if self.mode == "generate" else Decoding()
        return [Request.from_prompt(item.prompt, decoding, example_id=item.id)]

    def score(self, item: MMLUItem, answers: Sequence[Generation]) -> Scored:
        """Right or wrong: the top letter (ties go to A..D order) or the extracted one.

        A generated reply without a clear letter (`read_letter`) is unscored: it gets no
        `Score` (neither right nor wrong) and its reason in the record's ``unscored``.
        """
        [answer] = answers
        meta = self._letter(answer)
        protocol = {"mode": self.mode, "format": self.fmt}
        output = meta["letter"] if self.mode == "loglikelihood" else answer.output
        gold = LETTERS[item.question.answer]
        ok = int(meta["letter"] == gold)
        scores = [] if meta["letter"] is None else [
            Score(example_id=item.id, model=answer.model, metric="mmlu", values={"correct": ok})
        ]  # fmt: skip
        return Scored(
            examples=[
                Example(
                    id=item.id,
                    prompt=item.prompt,
                    references=(gold,),
                    category=item.question.subject,
                )
            ],
            generations=[
                answer.model_copy(
                    update={"output": output, "metadata": answer.metadata | protocol | meta}
                )
            ],
            scores=scores,
        )

    def _letter(self, answer: Generation) -> dict[str, Any]:
        """The chosen letter, and in log-likelihood mode the scores behind it."""
        if answer.output is None:
            return {"letter": None, "unscored": "call failed"}
        if self.mode == "generate":
            reading = read_letter(answer.output)
            if reading.letter is None:
                return {"letter": None, "unscored": reading.reason}
            return {"letter": reading.letter}
        # A rewritten record keeps the letter as output and the scores in its metadata.
        stored = answer.metadata.get("loglikelihoods")
        lls = list(stored.values()) if stored else json.loads(answer.output)
        letter = LETTERS[max(range(4), key=lls.__getitem__)]
        return {
            "letter": letter,
            "loglikelihoods": dict(zip(LETTERS, lls, strict=True)),
            "letter_mass": letter_mass(lls),
        }

    def summarize(
        self, run: BenchRun, items: Sequence[MMLUItem], scored: list[Scored]
    ) -> dict[str, Any]:
        """Accuracy per subject, category and overall, with the protocol signature."""
        correct: dict[str, list[int]] = defaultdict(list)
        reasons: dict[str, int] = defaultdict(int)
        for item, one in zip(items, scored, strict=True):
            if one.scores:
                correct[item.question.subject].append(int(one.scores[0].values["correct"]))
            else:
                reasons[str(one.generations[0].metadata.get("unscored"))] += 1
        summary: dict[str, Any] = {
            "benchmark": self.name,
            "model": run.model,
            "mode": self.mode,
            "format": self.fmt,
            "items": len(items),
            "signature": mmlu_signature(self.fmt, self.mode),
        }
        right = sum(sum(xs) for xs in correct.values())
        scored_n = sum(len(xs) for xs in correct.values())
        if scored_n:
            summary.update(summarize(correct))
            summary["accuracy"] = summary["overall"]["micro"]["accuracy"]
        else:
            summary["accuracy"] = None  # nothing scored: no number, not 0
        if self.mode == "generate":
            summary.update(unscored_fields(right, scored_n, len(items), dict(reasons)))
        masses = [
            g.metadata["letter_mass"] for one in scored for g in one.generations
            if "letter_mass" in g.metadata
        ]  # fmt: skip
        if masses:
            summary["letter_mass"] = sum(masses) / len(masses)
        return summary
