"""Shared pipeline of the code benchmarks: sample, execute in the sandbox, pass@k."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
from pydantic import BaseModel

from tuneval.benchmarks.base import Benchmark, Item, Scored, protocol_signature
from tuneval.benchmarks.code_extract import extract_code, truncate_at_stops
from tuneval.benchmarks.options import CODE_MODES, CodeOptions, check_options, must_be
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.records import Example, Generation, Score
from tuneval.sandbox import Limits, run_many
from tuneval.stats import mean_ci, pass_at_k
from tuneval.stats.intervals import wilson_interval

if TYPE_CHECKING:
    from tuneval.benchmarks.framework import BenchRun

__all__ = ["CodeBenchmark", "CodeProblem", "CodeProtocol", "extract_code"]


CodeMode = Literal["completion", "chat"]

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


class CodeProblem(Item):
    """One programming problem (``id``: from the data, e.g. ``HumanEval/0`` or ``mbpp/11``)."""

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

    @property
    def task_id(self) -> str:
        """The identifier from the data (the item id)."""
        return self.id


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
    if mode not in CODE_MODES:
        raise UsageError(f"{name} --mode {must_be(CODE_MODES, mode)}")
    return "chat" if mode == "chat" else "completion"


def code_limits(options: BaseModel) -> Limits:
    """Sandbox limits: the reference timeout times the options' ``timeout_factor``."""
    factor = cast(CodeOptions, check_options("code", CodeOptions, options)).timeout_factor
    seconds = REFERENCE_TIMEOUT_S * factor
    return Limits(timeout_s=seconds + PROCESS_ALLOWANCE_S, cpu_s=math.ceil(seconds) + 1)


def build_program(problem: CodeProblem, completion: str) -> str:
    """The program executed for one answer: prefix, answer, tests."""
    return f"{problem.prefix}{completion}\n\n{problem.test}\n"


def ks_for(n: int) -> list[int]:
    """The k of pass@k reported for n samples per problem (1, 10, 100 where n allows)."""
    return [k for k in (1, 10, 100) if k <= n]


def code_signature(name: str, options: CodeOptions, protocol: CodeProtocol) -> str:
    """The protocol signature of a code benchmark run (mode, prompt, stops, sampling, timeout)."""
    prompt = {"mode": protocol.mode, "prompt": protocol.style, "stop": protocol.stop_name}
    sampling = {"n": options.samples, "temp": options.temperature, "max_tokens": options.max_tokens}
    timeout = f"{REFERENCE_TIMEOUT_S * options.timeout_factor:g}s"
    return protocol_signature(name, **prompt, **sampling, timeout=timeout)


class CodeBenchmark(Benchmark[CodeProblem, CodeOptions]):
    """A code benchmark: ``samples`` answers per problem, run in the sandbox, pass@k.

    Each sample is one `Generation` (``metadata.sample`` numbers the samples of a problem,
    ``status`` and ``stderr`` tell how its program ended); each problem gets one `Score`
    with ``passed`` (fraction of samples) and ``pass@k``. Subclasses give the problems and
    how a mode asks and reads them (`prepare`).
    """

    options_type = CodeOptions

    @abstractmethod
    def prepare(
        self, mode: CodeMode, options: CodeOptions
    ) -> tuple[CodeProtocol, list[CodeProblem]]:
        """How ``mode`` asks and reads, and the problems of this run."""

    def load(self, backend: ModelBackend, options: CodeOptions) -> list[CodeProblem]:
        """The problems; resolves the mode (``--mode``, else by the backend's chat template)."""
        self.options = options
        self.protocol, problems = self.prepare(
            resolve_mode(self.name, options.mode, backend), options
        )
        self.decoding = Decoding(
            temperature=options.temperature,
            max_tokens=options.max_tokens,
            seed=None,
            stop=self.protocol.stop,
        )
        return problems

    def requests(self, item: CodeProblem, answers: Sequence[Generation]) -> list[Request]:
        """``samples`` requests of the rendered prompt (a seed per sample when n > 1)."""
        n, prompt = self.options.samples, self.protocol.render(item)
        return [
            Request.from_prompt(
                prompt,
                self.decoding.model_copy(update={"seed": i}) if n > 1 else self.decoding,
                example_id=item.id,
            )
            for i in range(n)
        ]

    def score(self, item: CodeProblem, answers: Sequence[Generation]) -> Scored:
        """Run one problem's samples; see `score_all`."""
        return self.score_all([item], {item.id: answers})[0]

    def score_all(
        self, items: Sequence[CodeProblem], answers: Mapping[str, Sequence[Generation]]
    ) -> list[Scored]:
        """Run every sample's program in the sandbox (in parallel); pass@k per problem."""
        stops = self.protocol.stop
        programs = [
            build_program(p, self.protocol.postprocess(p, truncate_at_stops(a.output or "", stops)))
            for p in items
            for a in answers[p.id]
        ]
        execs = iter(run_many(programs, code_limits(self.options), workers=self.options.workers))
        self.isolation: str | None = None
        ks = ks_for(self.options.samples)
        out = []
        for p in items:
            gens = []
            for answer in answers[p.id]:
                ex = next(execs)
                self.isolation = self.isolation or ex.isolation
                meta = {"status": ex.status, "stderr": ex.stderr[-2000:]}
                gens.append(answer.model_copy(update={"metadata": answer.metadata | meta}))
            n = len(gens)
            passed = sum(g.metadata["status"] == "passed" for g in gens)
            values = {"passed": passed / n}
            values.update({f"pass@{k}": pass_at_k(n, passed, k) for k in ks})
            score = Score(example_id=p.id, model=gens[0].model, metric=self.name, values=values)
            example = Example(id=p.id, prompt=self.protocol.render(p), references=(p.canonical,))
            out.append(Scored(examples=[example], generations=gens, scores=[score]))
        return out

    def summarize(
        self, run: BenchRun, items: Sequence[CodeProblem], scored: list[Scored]
    ) -> dict[str, Any]:
        """Mean pass@k over the problems, with the protocol signature."""
        summary: dict[str, Any] = {
            "benchmark": self.name,
            "model": run.model,
            "problems": len(items),
            "samples": self.options.samples,
            "temperature": self.options.temperature,
            "isolation": self.isolation if items else None,
            "mode": self.protocol.mode,
            "signature": code_signature(self.name, self.options, self.protocol),
        }
        for k in ks_for(self.options.samples):
            vals = [one.scores[0].values[f"pass@{k}"] for one in scored]
            summary[f"pass@{k}"] = sum(vals) / len(vals) if vals else 0.0
            summary[f"pass@{k}_ci"] = pass_at_k_ci(vals, self.options.samples)
        summary["ci"] = PASS_CI_ONE if self.options.samples == 1 else PASS_CI_BOOT
        return summary


PASS_CI_ONE = "wilson:0.95 (one sample per problem)"
PASS_CI_BOOT = "bootstrap over problems:1000|seed:12345|expanded percentile:0.95"


def pass_at_k_ci(values: Sequence[float], samples: int) -> list[float] | None:
    """95% interval of mean pass@k over problems (None without problems).

    With one sample per problem each value is 0 or 1, so the mean is a proportion and gets
    a Wilson interval; otherwise the problems' unbiased per-problem estimates are
    bootstrapped (problems resampled, the expanded percentile interval).
    """
    if not values:
        return None
    if samples == 1:
        low, high = wilson_interval(sum(values), len(values))
    else:
        ci = mean_ci(np.asarray(values, dtype=np.float64), resamples=1000, seed=12345)
        low, high = ci.ci_low, ci.ci_high
    return [low, high]


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
