"""The benchmarks step: each configured standard benchmark on both models, compared per item.

Each benchmark runs once per model into ``RUN/benchmarks/NAME/{base,finetuned}`` (a normal
benchmark run directory, as ``tuneval bench`` writes), through the workflow's call cache,
call settings (``calls``) and judge (built with ``judge.options``). A directory is kept while
its settings are unchanged (benchmark options, the model, its system prompt, the judge): a
finished one is skipped, an unfinished one resumes item by item (no finished call is made
again); a directory made with other settings is removed and run again, so a config change
never mixes runs.

Both models get the benchmark's own prompts and few-shot examples. The model's system prompt
is applied (it is part of how that model is used); the workflow's few-shot demonstrations and
prompt template belong to the eval set and are not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneval.models.base import Completion, Message, ModelBackend, Request
from tuneval.records import Score
from tuneval.report.schema import BenchmarkMeasure, BenchmarkResult
from tuneval.rundir import RunDir, read_jsonl
from tuneval.stats import holm, paired_difference
from tuneval.workflow.analysis import BASE, FINETUNED
from tuneval.workflow.bench_config import BenchmarkConfig
from tuneval.workflow.config import ComparisonConfig, WorkflowConfig

if TYPE_CHECKING:
    from tuneval.workflow.context import RunContext

BENCH_DIR = "benchmarks"
"""Folder of the benchmark runs inside the run directory."""


class PromptedBackend(ModelBackend):
    """A model as the workflow uses it on benchmarks: its backend plus its system prompt.

    Args:
        inner: The model's backend.
        role: ``base`` or ``finetuned``; the name its records carry.
        system_prompt: Sent as the system turn when a request has none.
    """

    def __init__(self, inner: ModelBackend, role: str, system_prompt: str | None) -> None:
        super().__init__(inner.spec)
        self.inner = inner
        self.role = role
        self.system_prompt = system_prompt
        self.supports_logprobs = inner.supports_logprobs

    @property
    def name(self) -> str:
        """The role (``base`` or ``finetuned``)."""
        return self.role

    def identity(self) -> str:
        """The model's identity, plus its system prompt."""
        if self.system_prompt is None:
            return self.inner.identity()
        digest = hashlib.sha256(self.system_prompt.encode()).hexdigest()[:16]
        return f"{self.inner.identity()}|system={digest}"

    async def complete(self, request: Request) -> Completion:
        """Answer with the system prompt in place."""
        if self.system_prompt is not None and request.decoding.system_prompt is None:
            decoding = request.decoding.model_copy(update={"system_prompt": self.system_prompt})
            request = request.model_copy(update={"decoding": decoding})
        return await self.inner.complete(request)

    async def loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        """Log-likelihoods after the context, with the system prompt in front."""
        if self.system_prompt is not None and not (context and context[0].role == "system"):
            context = [Message(role="system", content=self.system_prompt), *context]
        return await self.inner.loglikelihood(context, continuations)

    async def loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Log-likelihoods after the plain prompt, with the system prompt in front.

        lm-eval puts a system instruction there too when it applies no chat template.
        """
        if self.system_prompt is not None:
            prompt = f"{self.system_prompt}\n\n{prompt}"
        return await self.inner.loglikelihood_text(prompt, continuations)


def bench_key(config: WorkflowConfig, bench: BenchmarkConfig, role: str) -> str:
    """Hash of everything one benchmark run of one model depends on."""
    from tuneval.workflow.keys import keyed_dump

    model = getattr(config.models, role)
    payload = {
        # allow_mismatch only changes how the runs are compared, not the runs themselves.
        # Options added later, at their defaults, leave the key (and finished runs) alone.
        "bench": {"name": bench.name, "options": keyed_dump(bench.options)},
        "model": {"spec": model.spec, "options": model.options, "system": model.system_prompt},
        "judge": config.judge.spec,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def bench_dir(run: RunDir, name: str, role: str) -> RunDir:
    """The run directory of benchmark ``name`` for one model."""
    return RunDir(run.path / BENCH_DIR / name / role)


def _finished(out: RunDir, key: str) -> bool:
    info = out.read_info()
    return info.get("workflow_key") == key and isinstance(info.get("benchmark"), dict)


def _start(out: RunDir, key: str) -> None:
    """Keep a directory made with these settings (it resumes); remove one made otherwise."""
    if out.path.exists() and out.read_info().get("workflow_key") != key:
        shutil.rmtree(out.path)
    # The key goes in first, so a killed run's directory is recognised and resumed.
    out.update_info(workflow_key=key)


def run_benchmarks(ctx: RunContext) -> tuple[int, int]:
    """Run every configured benchmark on both models; returns (runs made, runs kept).

    Model and judge calls go through the context's call cache and call settings; the judge
    is the workflow's (built by the context with its options, which closes it).
    """
    from tuneval.benchmarks import get_benchmark

    config = ctx.config
    made = kept = 0
    tick = ctx.progress("benchmarks", None)  # the call count is known only as runs go
    for index, bench in enumerate(config.benchmarks):
        for role in (BASE, FINETUNED):
            out = bench_dir(ctx.run, bench.name, role)
            key = bench_key(config, bench, role)
            if _finished(out, key):
                kept += 1
                continue
            _start(out, key)
            benchmark = get_benchmark(bench.name)
            model = getattr(config.models, role)
            backend = PromptedBackend(ctx.backend(role), role, model.system_prompt)
            judge = ctx.backend("judge") if benchmark.needs_judge and config.judge.spec else None
            benchmark.run(
                backend, out, bench.options, judge=judge, calls=ctx.call_options(),
                cache=ctx.cache, refresh=config.calls.refresh, on_call=tick,
            )  # fmt: skip
            made += 1
        check_protocols(ctx.run, config, index)
    return made, kept


def _run_summaries(
    run: RunDir, config: WorkflowConfig
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(benchmark name, role, summary)`` of each configured benchmark run of each model."""
    for bench in config.benchmarks:
        for role in (BASE, FINETUNED):
            info = bench_dir(run, bench.name, role).read_info().get("benchmark")
            yield bench.name, role, _summary(info)


def failed_calls(run: RunDir, config: WorkflowConfig) -> list[str]:
    """``NAME ROLE: N failed calls (M problems excluded)`` per benchmark run with failures.

    The framework leaves a problem with a failed call out of the run's numbers and scores,
    as the generate step leaves out a failed generation.
    """
    return [
        f"{name} {role}: {summary['failed_calls']} failed calls "
        f"({summary.get('failed_items')} problems excluded)"
        for name, role, summary in _run_summaries(run, config)
        if summary.get("failed_calls")
    ]


def unscored_replies(run: RunDir, config: WorkflowConfig) -> list[str]:
    """``NAME ROLE: N of M replies unscored`` per benchmark run that left replies unscored.

    MMLU's generate mode leaves a reply without a clear answer letter unscored.
    """
    return [
        f"{name} {role}: {summary['unscored']} of {summary.get('items')} replies unscored"
        for name, role, summary in _run_summaries(run, config)
        if summary.get("unscored")
    ]


def run_signature(run: RunDir) -> str | None:
    """The protocol signature in a benchmark run's ``run.json`` (None when it has none)."""
    summary = run.read_info().get("benchmark")
    signature = summary.get("signature") if isinstance(summary, dict) else None
    return signature if isinstance(signature, str) else None


def protocol_mismatch(base: RunDir, finetuned: RunDir) -> list[str]:
    """The fields on which two benchmark runs' protocol signatures differ.

    No signature field names the evaluated model (a signature describes how a number was
    produced, not of which model), so every differing field is a protocol difference: a
    code benchmark's ``mode`` defaults by model (chat template or not) yet changes the
    prompt. A run without a signature (made before tuneval recorded them) is not checked.
    """
    from tuneval.benchmarks import signature_mismatch

    first, second = run_signature(base), run_signature(finetuned)
    if first is None or second is None:
        return []
    return signature_mismatch(first, second)


def check_protocols(run: RunDir, config: WorkflowConfig, index: int) -> list[str]:
    """The protocol differences of benchmark ``index``'s two runs, refused unless allowed.

    Raises:
        ProtocolMismatchError: When the runs' signatures differ and the entry does not say
            ``allow_mismatch: true``; names the fields and the options that line them up.
    """
    from tuneval.errors import ProtocolMismatchError

    bench = config.benchmarks[index]
    diffs = protocol_mismatch(
        bench_dir(run, bench.name, BASE), bench_dir(run, bench.name, FINETUNED)
    )
    if diffs and not bench.allow_mismatch:
        # A differing mode/format/protocol is a default that depends on the model (e.g. log-
        # probabilities or a chat template); pinning it lines up the fields derived from it.
        fields = [d.split(":", 1)[0] for d in diffs]
        pin = [f for f in fields if f in ("mode", "format", "protocol")]
        fix = (
            f"set {', '.join(pin)} on this benchmarks entry so both models run the same protocol"
            if pin
            else "rerun both models' runs with --force benchmarks"
        )
        raise ProtocolMismatchError(
            f"benchmarks.{index} ({bench.name}): the base and fine-tuned runs used different "
            f"protocols ({'; '.join(diffs)}), so their difference would mix the protocol with "
            f"the fine-tuning; {fix}, or allow_mismatch: true to compare them anyway"
        )
    return diffs


def compare_runs(base: RunDir, finetuned: RunDir, cfg: ComparisonConfig) -> list[BenchmarkMeasure]:
    """Paired comparison of two runs' per-item scores (``scores.jsonl``), one per measure.

    A measure is a per-item value of the scores (MMLU ``correct``, code ``pass@1``, MT-Bench
    ``score``, AlpacaEval ``win``), compared on the items both runs have: the means, the
    difference (fine-tuned minus base) with the sign-flip test's own interval and p-value
    (not yet adjusted for multiple comparisons); the turns of an MT-Bench question
    (``QUESTION/TURN`` ids) are flipped together, as one cluster.
    """
    values = [_values(r.record_file("scores")) for r in (base, finetuned)]
    measures = []
    for name in [m for m in values[0] if m in values[1]]:
        a, b = values[0][name], values[1][name]
        r = paired_difference(
            a,
            b,
            trials=cfg.trials,
            seed=cfg.seed,
            confidence=cfg.confidence,
            clusters=_turn_clusters(a),
        )
        common = [i for i in a if i in b]
        det = r.detectable(cfg.alpha, cfg.trials)
        measures.append(
            BenchmarkMeasure(
                name=name,
                n=r.n,
                base=float(np.mean([a[i] for i in common])) if common else float("nan"),
                finetuned=float(np.mean([b[i] for i in common])) if common else float("nan"),
                difference=r.interval,
                p_value=r.p_value,
                mde=det.mde,
                unit="cluster" if r.clustered else "item",
                units=r.units,
                detectable=det.detectable,
                undetectable_reason=det.reason,
            )
        )
    return measures


def _turn_clusters(values: dict[str, float]) -> dict[str, str] | None:
    """MT-Bench-style ids ``QUESTION/TURN``: the turns of one question form a cluster."""
    if not values or not all("/" in i for i in values):
        return None
    return {i: i.rsplit("/", 1)[0] for i in values}


def compare_benchmarks(
    run: RunDir, config: WorkflowConfig, cfg: ComparisonConfig
) -> list[BenchmarkResult]:
    """Each benchmark's summaries for both models and `compare_runs` of the two.

    The p-values are Holm-adjusted across all benchmark measures of the run.

    Raises:
        ProtocolMismatchError: When a benchmark's two runs used different protocols and its
            entry does not allow it (see `check_protocols`).
    """
    out: list[BenchmarkResult] = []
    for index, bench in enumerate(config.benchmarks):
        runs = {role: bench_dir(run, bench.name, role) for role in (BASE, FINETUNED)}
        if not all(r.info_path.exists() for r in runs.values()):
            continue
        out.append(
            BenchmarkResult(
                name=bench.name,
                base=_summary(runs[BASE].read_info().get("benchmark")),
                finetuned=_summary(runs[FINETUNED].read_info().get("benchmark")),
                measures=compare_runs(runs[BASE], runs[FINETUNED], cfg),
                mismatch=check_protocols(run, config, index),
            )
        )
    return holm_benchmarks(out)


def _values(path: Path) -> dict[str, dict[str, float]]:
    """Per measure, the value of each item (the last record of an item wins)."""
    out: dict[str, dict[str, float]] = {}
    if not path.exists():
        return out
    for score in read_jsonl(path, Score):
        for name, value in score.values.items():
            out.setdefault(name, {})[score.example_id] = float(value)
    return out


def _summary(info: object) -> dict[str, Any]:
    return dict(info) if isinstance(info, dict) else {}


def adjust_holm(measures: list[BenchmarkMeasure]) -> list[BenchmarkMeasure]:
    """The measures with their p-values Holm-adjusted together (untested ones unchanged)."""
    adjusted = iter(holm([m.p_value for m in measures if m.p_value is not None]))
    return [
        m if m.p_value is None else m.model_copy(update={"p_value": next(adjusted)})
        for m in measures
    ]


def holm_benchmarks(results: list[BenchmarkResult]) -> list[BenchmarkResult]:
    """Holm-adjust the p-values of every benchmark measure together."""
    flat = iter(adjust_holm([m for r in results for m in r.measures]))
    return [r.model_copy(update={"measures": [next(flat) for _ in r.measures]}) for r in results]
