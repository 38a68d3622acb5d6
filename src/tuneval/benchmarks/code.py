"""Shared pipeline of the code benchmarks: sample, execute in the sandbox, pass@k."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from tuneval.benchmarks.base import BenchOptions
from tuneval.models.base import Decoding, ModelBackend, Request
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir
from tuneval.sandbox import Limits, run_many
from tuneval.stats import pass_at_k


class CodeProblem(Record):
    """One programming problem."""

    task_id: str
    """Identifier from the data, e.g. ``HumanEval/0`` or ``mbpp/11``."""
    prompt: str
    """What the model is asked."""
    prefix: str
    """Code placed before the model's answer in the executed program (HumanEval: the
    prompt, i.e. signature and docstring; MBPP: empty)."""
    test: str
    """Test code appended after the answer; the program passes when it exits with 0."""
    canonical: str
    """The reference solution shipped with the data (appended after ``prefix``)."""
    entry_point: str | None = None
    """Name of the function under test, when the data gives it."""


_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code(text: str) -> str:
    """The code in a model answer: the fenced blocks when there are any, else the text."""
    blocks = _FENCE.findall(text)
    return "\n".join(blocks) if blocks else text


def build_program(problem: CodeProblem, completion: str) -> str:
    """The program executed for one answer: prefix, answer, tests."""
    return f"{problem.prefix}{completion}\n\n{problem.test}\n"


def ks_for(n: int) -> list[int]:
    """The k of pass@k reported for n samples per problem (1, 10, 100 where n allows)."""
    return [k for k in (1, 10, 100) if k <= n]


def run_code_benchmark(
    name: str,
    problems: Sequence[CodeProblem],
    backend: ModelBackend,
    out: RunDir,
    options: BenchOptions,
    postprocess: Callable[[CodeProblem, str], str],
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Sample ``options.samples`` answers per problem, run them, write records, return pass@k.

    Each sample is one `Generation` (``metadata.sample`` numbers the samples of a problem);
    each problem gets one `Score` with ``passed`` (fraction of samples) and ``pass@k``.
    """
    n = options.samples
    decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens, seed=None)
    requests = [
        Request.from_prompt(
            p.prompt,
            decoding.model_copy(update={"seed": i}) if n > 1 else decoding,
            example_id=p.task_id,
        )
        for p in problems
        for i in range(n)
    ]
    results = run_calls(backend, requests, CallOptions(max_concurrency=options.max_concurrency))
    texts = [r.completion.text if r.completion else None for r in results]
    programs = [
        build_program(p, postprocess(p, texts[j * n + i] or ""))
        for j, p in enumerate(problems)
        for i in range(n)
    ]
    execs = run_many(programs, limits or Limits(), workers=options.workers)
    model = backend.name
    out.write_examples(
        Example(id=p.task_id, prompt=p.prompt, references=(p.canonical,)) for p in problems
    )
    ks = ks_for(n)
    per_k: dict[int, list[float]] = {k: [] for k in ks}
    with (
        JsonlAppender(out.generations_path) as gens,
        JsonlAppender(out.record_file("scores")) as scores,
    ):
        for j, p in enumerate(problems):
            passed = 0
            for i in range(n):
                idx = j * n + i
                ex = execs[idx]
                passed += ex.status == "passed"
                gens.write(
                    Generation(
                        example_id=p.task_id,
                        model=model,
                        output=texts[idx],
                        error=results[idx].error if texts[idx] is None else None,
                        metadata={
                            "sample": i,
                            "status": ex.status,
                            "stderr": ex.stderr[-2000:],
                        },
                    )
                )
            values = {"passed": passed / n}
            for k in ks:
                values[f"pass@{k}"] = pass_at_k(n, passed, k)
                per_k[k].append(values[f"pass@{k}"])
            scores.write(Score(example_id=p.task_id, model=model, metric=name, values=values))
    summary: dict[str, Any] = {
        "benchmark": name,
        "model": model,
        "problems": len(problems),
        "samples": n,
        "temperature": options.temperature,
        "isolation": execs[0].isolation if execs else None,
    }
    for k in ks:
        vals = per_k[k]
        summary[f"pass@{k}"] = sum(vals) / len(vals) if vals else 0.0
    out.update_info(benchmark=summary)
    return summary


def check_canonical(
    problems: Sequence[CodeProblem], limits: Limits | None = None, workers: int | None = None
) -> list[tuple[CodeProblem, str, str]]:
    """Run every reference solution; return (problem, status, stderr tail) of the failures."""
    execs = run_many(
        [build_program(p, p.canonical) for p in problems], limits or Limits(), workers=workers
    )
    return [
        (p, e.status, e.stderr[-500:])
        for p, e in zip(problems, execs, strict=True)
        if e.status != "passed"
    ]
