"""MMLU (Hendrycks et al. 2021): 57 subjects, 5-shot, accuracy with confidence intervals.

Two modes: ``loglikelihood`` compares the model's log-probability of `` A``..`` D`` after
the prompt (llama.cpp, HF); ``generate`` asks for an answer and extracts the letter (API
models). Three prompt formats (`FORMATS`): ``lm-eval`` (default) reproduces
lm-evaluation-harness's ``mmlu`` task byte for byte and scores the letters right after
``Answer:`` in the plain text, with no chat template, so numbers compare with published
ones; ``original`` is the Hendrycks ``evaluate.py`` prompt; ``chat`` sends the prompt as a
chat turn (scored after the model's chat template in log-likelihood mode). The format, mode
and aggregation are in the run's protocol signature. Local data:
``DIR/dev/<subject>_dev.csv`` and ``DIR/test/<subject>_test.csv``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import defaultdict
from typing import Any

from tuneval.benchmarks.base import (
    Benchmark,
    BenchOptions,
    protocol_signature,
    register_benchmark,
)
from tuneval.benchmarks.mmlu_data import (
    CATEGORY,
    FORMATS,
    LETTERS,
    SUBJECTS,
    MCQuestion,
    format_prompt,
    load_split,
)
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.loop import run_sync
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
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


LetterScores = list[float] | str
"""The four letters' log-likelihoods of one item, or the error that prevented them."""


async def _loglik_all(
    backend: ModelBackend, prompts: list[str], templated: bool, concurrency: int
) -> list[LetterScores]:
    gate = asyncio.Semaphore(concurrency)
    letters = [f" {x}" for x in LETTERS]

    async def one(prompt: str) -> LetterScores:
        async with gate:
            try:
                if templated:
                    ctx = [Message(role="user", content=prompt)]
                    return await backend.loglikelihood(ctx, letters)
                return await backend.loglikelihood_text(prompt, letters)
            except Exception as exc:  # recorded per item, like runner failures
                return f"{type(exc).__name__}: {exc}"

    return list(await asyncio.gather(*(one(p) for p in prompts)))


def letter_mass(lls: list[float]) -> float:
    """Probability the model puts on the four answer letters together (1.0 = all of it).

    A low mass means the prompt does not lead the model to answer with a letter (e.g. the
    letters scored after a chat template's assistant header instead of after ``Answer:``).
    """
    return sum(math.exp(x) for x in lls)


def mmlu_signature(fmt: str, mode: str) -> str:
    """The protocol signature of an MMLU run (the headline is micro accuracy)."""
    templated = fmt == "chat" or mode == "generate"
    return protocol_signature(
        "mmlu",
        shots=5,
        format=fmt,
        mode=mode,
        template="chat" if templated else None,
        agg="micro",
    )


class _Item(Record):
    id: str
    question: MCQuestion
    prompt: str


@register_benchmark
class MMLU(Benchmark):
    """MMLU 5-shot accuracy."""

    name = "mmlu"
    description = "MMLU: 57 subjects, 5-shot, log-likelihood or generation, accuracy with CIs"

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Ask every question, score, write records; return the accuracy summary.

        The headline ``accuracy`` is micro (every question counts once), as lm-eval and the
        original script report it; macro (mean of subjects) is in ``overall`` too.
        """
        fmt, mode = _protocol(backend, options)
        items = _items(options, fmt)
        prompts = [it.prompt for it in items]
        answers: list[tuple[str | None, str | None, dict[str, Any]]]
        if mode == "loglikelihood":
            templated = fmt == "chat"
            # run_sync: also callable from a notebook's running event loop.
            lls = run_sync(_loglik_all(backend, prompts, templated, options.max_concurrency))
            answers = [_from_scores(ll) for ll in lls]
        else:
            decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
            reqs = [Request.from_prompt(it.prompt, decoding, example_id=it.id) for it in items]
            res = run_calls(backend, reqs, CallOptions(max_concurrency=options.max_concurrency))
            answers = [
                (r.completion.text, None, {"letter": extract_letter(r.completion.text)})
                if r.completion
                else (None, r.error, {"letter": None})
                for r in res
            ]
        correct = _write(out, backend.name, items, answers, {"mode": mode, "format": fmt})
        summary: dict[str, Any] = {
            "benchmark": self.name,
            "model": backend.name,
            "mode": mode,
            "format": fmt,
            "items": len(items),
            "signature": mmlu_signature(fmt, mode),
        }
        summary.update(summarize(correct))
        summary["accuracy"] = summary["overall"]["micro"]["accuracy"]
        masses = [m["letter_mass"] for _, _, m in answers if "letter_mass" in m]
        if masses:
            summary["letter_mass"] = sum(masses) / len(masses)
        out.update_info(benchmark=summary)
        return summary


def _protocol(backend: ModelBackend, options: BenchOptions) -> tuple[str, str]:
    """The validated (format, mode) of a run."""
    fmt = options.format or "lm-eval"
    if fmt not in FORMATS:
        raise UsageError(f"MMLU format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    mode = options.mode or ("loglikelihood" if backend.supports_logprobs else "generate")
    if mode not in ("loglikelihood", "generate"):
        raise UsageError(f"MMLU mode must be loglikelihood or generate, not '{mode}'")
    return fmt, mode


def _items(options: BenchOptions, fmt: str) -> list[_Item]:
    """Every question asked, with its 5-shot prompt (the first five dev questions)."""
    subjects = list(options.subjects or SUBJECTS)
    unknown = [s for s in subjects if s not in CATEGORY]
    if unknown:
        raise UsageError(f"unknown MMLU subject(s): {', '.join(unknown)}")
    items = []
    for subject in subjects:
        shots = load_split(options.data, subject, "dev")[:5]
        test = load_split(options.data, subject, "test")
        for i, q in enumerate(test[: options.limit] if options.limit else test):
            items.append(
                _Item(id=f"{subject}/{i}", question=q, prompt=format_prompt(q, shots, fmt))
            )
    return items


def _from_scores(ll: LetterScores) -> tuple[str | None, str | None, dict[str, Any]]:
    """(output, error, metadata) of one log-likelihood item; ties go to the first letter."""
    if isinstance(ll, str):
        return None, ll, {"letter": None}
    letter = LETTERS[max(range(4), key=ll.__getitem__)]
    meta = {"letter": letter, "loglikelihoods": dict(zip(LETTERS, ll, strict=True))}
    return letter, None, meta | {"letter_mass": letter_mass(ll)}


def _write(
    out: RunDir,
    model: str,
    items: list[_Item],
    answers: list[tuple[str | None, str | None, dict[str, Any]]],
    protocol: dict[str, str],
) -> dict[str, list[int]]:
    """Write examples, generations and scores; return right/wrong per subject."""
    out.write_examples(
        Example(
            id=it.id,
            prompt=it.prompt,
            references=(LETTERS[it.question.answer],),
            category=it.question.subject,
        )
        for it in items
    )
    correct: dict[str, list[int]] = defaultdict(list)
    with (
        JsonlAppender(out.generations_path) as gens,
        JsonlAppender(out.record_file("scores")) as scores,
    ):
        for it, (text, error, meta) in zip(items, answers, strict=True):
            ok = int(meta["letter"] == LETTERS[it.question.answer])
            correct[it.question.subject].append(ok)
            gens.write(
                Generation(
                    example_id=it.id,
                    model=model,
                    output=text,
                    error=error,
                    metadata=protocol | meta,
                )
            )
            scores.write(
                Score(example_id=it.id, model=model, metric="mmlu", values={"correct": ok})
            )
    return correct
