"""Shared pipeline of the code benchmarks: sample, execute in the sandbox, pass@k."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tuneval.benchmarks.base import BenchOptions, protocol_signature
from tuneval.benchmarks.code_extract import extract_code, truncate_at_stops
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.runner import CallOptions, CallResult, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir
from tuneval.sandbox import Limits, run_many
from tuneval.stats import pass_at_k

__all__ = ["CodeProblem", "CodeProtocol", "extract_code", "run_code_benchmark"]


CodeMode = Literal["completion", "chat"]
MODES: tuple[CodeMode, ...] = ("completion", "chat")

REFERENCE_TIMEOUT_S = 3.0
"""Seconds per program in the reference harnesses (human-eval's ``timeout=3.0``; MBPP in
bigcode-evaluation-harness and EvalPlus' base tests alike)."""
PROCESS_ALLOWANCE_S = 1.0
"""Extra wall-clock seconds for starting the process, as human-eval's ``p.join(timeout + 1)``
allows; our sandbox times the whole interpreter, not only the ``exec`` of the program."""

EVALPLUS_INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem in a "
    "markdown code block:"
)
"""EvalPlus' instruction for chat models (``evalplus.codegen``, API providers)."""


class CodeProblem(Record):
    """One programming problem."""

    task_id: str
    """Identifier from the data, e.g. ``HumanEval/0`` or ``mbpp/11``."""
    prompt: str
    """The task as the data gives it (HumanEval: signature and docstring; MBPP: the text)."""
    prefix: str
    """Code placed before the model's answer in the executed program (HumanEval: the
    prompt, i.e. signature and docstring; MBPP: empty)."""
    test: str
    """Test code appended after the answer; the program passes when it exits with 0."""
    canonical: str
    """The reference solution shipped with the data (appended after ``prefix``)."""
    entry_point: str | None = None
    """Name of the function under test, when the data gives it (MBPP: from its asserts)."""
    test_list: tuple[str, ...] = ()
    """MBPP: the asserts shown to the model in the prompt."""


@dataclass(frozen=True)
class CodeProtocol:
    """How a code benchmark asks and reads one mode (completion or chat)."""

    mode: CodeMode
    """``completion`` (the original prompt continued; base models) or ``chat``."""
    style: str
    """Name of the prompt format, for the signature (e.g. ``human-eval``, ``evalplus``)."""
    render: Callable[[CodeProblem], str]
    """The prompt sent for a problem."""
    postprocess: Callable[[CodeProblem, str], str]
    """The code put after ``prefix``, from the model's answer."""
    stop: tuple[str, ...] = ()
    """Stop sequences sent with the request (and applied again to the answer)."""
    stop_name: str = "none"
    """Name of the stop sequences, for the signature."""


def default_mode(backend: ModelBackend) -> CodeMode:
    """``chat`` for a chat-capable backend, ``completion`` for a base model.

    Local backends (llama.cpp, Hugging Face) render conversations; a model without a chat
    template renders a one-turn conversation as its bare text, which marks a base model.
    API backends are chat models.
    """
    render = getattr(backend, "render", None)
    if render is None:
        return "chat"
    probe = "tuneval chat-template probe"
    try:
        rendered = str(render([Message(role="user", content=probe)]))
    except Exception:
        return "chat"
    return "completion" if rendered.strip() == probe else "chat"


def resolve_mode(name: str, mode: str | None, backend: ModelBackend) -> CodeMode:
    """The mode asked for (``--mode``), or the default for the backend."""
    if mode is None:
        return default_mode(backend)
    if mode not in MODES:
        raise UsageError(f"{name} --mode must be 'completion' or 'chat', got '{mode}'")
    return "chat" if mode == "chat" else "completion"


def code_limits(options: BenchOptions) -> Limits:
    """Sandbox limits: the reference timeout times ``options.timeout_factor``."""
    seconds = REFERENCE_TIMEOUT_S * options.timeout_factor
    return Limits(timeout_s=seconds + PROCESS_ALLOWANCE_S, cpu_s=math.ceil(seconds) + 1)


def build_program(problem: CodeProblem, completion: str) -> str:
    """The program executed for one answer: prefix, answer, tests."""
    return f"{problem.prefix}{completion}\n\n{problem.test}\n"


def ks_for(n: int) -> list[int]:
    """The k of pass@k reported for n samples per problem (1, 10, 100 where n allows)."""
    return [k for k in (1, 10, 100) if k <= n]


def code_signature(name: str, options: BenchOptions, protocol: CodeProtocol) -> str:
    """The protocol signature of a code benchmark run (mode, prompt, stops, sampling, timeout)."""
    return protocol_signature(
        name,
        mode=protocol.mode,
        prompt=protocol.style,
        stop=protocol.stop_name,
        n=options.samples,
        temp=options.temperature,
        max_tokens=options.max_tokens,
        timeout=f"{REFERENCE_TIMEOUT_S * options.timeout_factor:g}s",
    )


def _sample(
    problems: Sequence[CodeProblem],
    prompts: Sequence[str],
    backend: ModelBackend,
    options: BenchOptions,
    protocol: CodeProtocol,
) -> list[CallResult]:
    """``options.samples`` answers per problem, problem-major (a seed per sample when n > 1)."""
    n = options.samples
    decoding = Decoding(
        temperature=options.temperature,
        max_tokens=options.max_tokens,
        seed=None,
        stop=protocol.stop,
    )
    requests = [
        Request.from_prompt(
            prompt,
            decoding.model_copy(update={"seed": i}) if n > 1 else decoding,
            example_id=p.task_id,
        )
        for p, prompt in zip(problems, prompts, strict=True)
        for i in range(n)
    ]
    return run_calls(backend, requests, CallOptions(max_concurrency=options.max_concurrency))


def run_code_benchmark(
    name: str,
    problems: Sequence[CodeProblem],
    backend: ModelBackend,
    out: RunDir,
    options: BenchOptions,
    protocol: CodeProtocol,
) -> dict[str, Any]:
    """Sample ``options.samples`` answers per problem, run them, write records, return pass@k.

    Each sample is one `Generation` (``metadata.sample`` numbers the samples of a problem);
    each problem gets one `Score` with ``passed`` (fraction of samples) and ``pass@k``.
    """
    n = options.samples
    prompts = [protocol.render(p) for p in problems]
    results = _sample(problems, prompts, backend, options, protocol)
    texts = [r.completion.text if r.completion else None for r in results]
    programs = [
        build_program(
            p, protocol.postprocess(p, truncate_at_stops(texts[j * n + i] or "", protocol.stop))
        )
        for j, p in enumerate(problems)
        for i in range(n)
    ]
    limits = code_limits(options)
    execs = run_many(programs, limits, workers=options.workers)
    model = backend.name
    out.write_examples(
        Example(id=p.task_id, prompt=prompt, references=(p.canonical,))
        for p, prompt in zip(problems, prompts, strict=True)
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
        "mode": protocol.mode,
        "signature": code_signature(name, options, protocol),
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
