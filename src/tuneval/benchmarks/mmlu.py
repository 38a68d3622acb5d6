"""MMLU (Hendrycks et al. 2021): 57 subjects, 5-shot, accuracy with confidence intervals.

Two modes: ``loglikelihood`` compares the model's log-probability of `` A``..`` D`` after
the prompt (llama.cpp, HF); ``generate`` asks for an answer and extracts the letter (API
models). Local data: ``DIR/dev/<subject>_dev.csv`` and ``DIR/test/<subject>_test.csv``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import defaultdict
from typing import Any

from tuneval.benchmarks.base import Benchmark, BenchOptions, register_benchmark
from tuneval.benchmarks.mmlu_data import CATEGORY, LETTERS, SUBJECTS, format_prompt, load_split
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Score
from tuneval.rundir import JsonlAppender, RunDir

Z95 = 1.959963984540054
_LETTER = re.compile(
    r"(?:answer\s*(?:is|:)?\s*\(?|^\s*\(?)([ABCD])\b", re.IGNORECASE | re.MULTILINE
)


def extract_letter(text: str) -> str | None:
    """The chosen letter in a generated answer: ``Answer: C``, ``(C)``, ``C.`` or a lone C."""
    m = _LETTER.search(text)
    if m:
        return m.group(1).upper()
    letters = re.findall(r"\b([ABCD])\b", text)
    return letters[0] if letters else None


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


async def _loglik_all(
    backend: ModelBackend, prompts: list[str], concurrency: int
) -> list[list[float] | str]:
    gate = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> list[float] | str:
        async with gate:
            try:
                ctx = [Message(role="user", content=prompt)]
                return await backend.loglikelihood(ctx, [f" {x}" for x in LETTERS])
            except Exception as exc:  # recorded per item, like runner failures
                return f"{type(exc).__name__}: {exc}"

    return list(await asyncio.gather(*(one(p) for p in prompts)))


@register_benchmark
class MMLU(Benchmark):
    """MMLU 5-shot accuracy."""

    name = "mmlu"
    description = "MMLU: 57 subjects, 5-shot, log-likelihood or generation, accuracy with CIs"

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Ask every question, score, write records; return the accuracy summary."""
        subjects = list(options.subjects or SUBJECTS)
        unknown = [s for s in subjects if s not in CATEGORY]
        if unknown:
            raise UsageError(f"unknown MMLU subject(s): {', '.join(unknown)}")
        mode = options.mode or ("loglikelihood" if backend.supports_logprobs else "generate")
        if mode not in ("loglikelihood", "generate"):
            raise UsageError(f"MMLU mode must be loglikelihood or generate, not '{mode}'")
        items = []
        for subject in subjects:
            shots = load_split(options.data, subject, "dev")[:5]
            test = load_split(options.data, subject, "test")
            for i, q in enumerate(test[: options.limit] if options.limit else test):
                items.append((f"{subject}/{i}", q, format_prompt(q, shots)))
        prompts = [p for _, _, p in items]
        answers: list[tuple[str | None, str | None]]
        if mode == "loglikelihood":
            lls = asyncio.run(_loglik_all(backend, prompts, options.max_concurrency))
            answers = [
                (LETTERS[max(range(4), key=ll.__getitem__)], None)
                if isinstance(ll, list)
                else (None, ll)
                for ll in lls
            ]
        else:
            decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
            reqs = [Request.from_prompt(p, decoding, example_id=i) for i, _, p in items]
            res = run_calls(backend, reqs, CallOptions(max_concurrency=options.max_concurrency))
            answers = [(r.completion.text, None) if r.completion else (None, r.error) for r in res]
        model = backend.name
        out.write_examples(
            Example(id=i, prompt=p, references=(LETTERS[q.answer],), category=q.subject)
            for i, q, p in items
        )
        correct: dict[str, list[int]] = defaultdict(list)
        with (
            JsonlAppender(out.generations_path) as gens,
            JsonlAppender(out.record_file("scores")) as scores,
        ):
            for (item_id, q, _), (text, error) in zip(items, answers, strict=True):
                letter = (
                    None
                    if text is None
                    else (text if mode == "loglikelihood" else extract_letter(text))
                )
                ok = int(letter == LETTERS[q.answer])
                correct[q.subject].append(ok)
                gens.write(
                    Generation(
                        example_id=item_id,
                        model=model,
                        output=text,
                        error=error,
                        metadata={"mode": mode, "letter": letter},
                    )
                )
                scores.write(
                    Score(example_id=item_id, model=model, metric="mmlu", values={"correct": ok})
                )
        summary = {"benchmark": self.name, "model": model, "mode": mode, "items": len(items)}
        summary.update(summarize(correct))
        out.update_info(benchmark=summary)
        return summary
