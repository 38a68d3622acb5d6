"""What makes a finished run no result: checks before the first paid step and after the last.

A verdict computed from nothing (every judge reply unusable, no reference and no judge) or
from part of the eval set (failed generations) must not look like a success. `check_inputs`
refuses a run that cannot compare anything before a model is called; `unusable_reasons` lists
what makes a finished run's results unfit to act on, so the command line can exit 1 on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tuneval.errors import ConfigError, UsageError
from tuneval.records import Example
from tuneval.report.schema import Results
from tuneval.workflow.config import WorkflowConfig


def judge_on(config: WorkflowConfig) -> bool:
    """Whether the config has the judge score or compare anything."""
    return bool(config.judge.spec) and (config.judge.single or config.judge.pairwise)


def check_inputs(config: WorkflowConfig, examples: Sequence[Example]) -> None:
    """Refuse a run that could compare nothing, before any model call is paid for.

    Raises:
        ConfigError: When no item has a reference and no judge is configured (and no
            benchmark or human study gives the run something else to report).
    """
    if judge_on(config) or config.benchmarks or config.human.export:
        return
    if any(e.references for e in examples):
        return
    raise ConfigError(
        f"nothing to compare: no item of {config.eval_set} has a reference and no judge is "
        "configured; add 'reference' fields to the eval set or set judge.spec (--judge SPEC)"
    )


def known_measures(config: WorkflowConfig) -> set[str] | None:
    """Every name ``--fail-if-worse`` can match for this config; None when it cannot be known.

    Benchmark measure names come from the benchmark modules at run time, so a config with
    benchmarks is checked after the run only.
    """
    if config.benchmarks:
        return None
    from tuneval.metrics import create_metric

    names: set[str] = set()
    for spec in config.metrics.default:
        metric = create_metric(spec)
        names.add(metric.name)
        names.update(metric.score_names)
        names.update(f"{metric.name}.{s}" for s in metric.score_names)
    if config.judge.spec and config.judge.single:
        names.add("judge_score")
    if config.judge.spec and config.judge.pairwise:
        names.add("win_rate")
    return names


def check_gates(config: WorkflowConfig, measures: Sequence[str]) -> None:
    """Refuse a ``--fail-if-worse`` name that no verdict of this config can have.

    Raises:
        UsageError: Naming the unknown measure and the valid ones.
    """
    known = known_measures(config)
    if known is None:
        return
    for measure in measures:
        if measure not in known:
            valid = ", ".join(sorted(known)) or "none (no metric and no judge configured)"
            raise UsageError(f"--fail-if-worse {measure}: no such measure; valid: {valid}")


def unusable_reasons(results: Results, config: WorkflowConfig) -> list[str]:
    """One line per reason the finished run's verdicts are not a result; empty when fine."""
    reasons = []
    failing = [s for s in results.generation if s.errors]
    if failing and not config.calls.allow_failures:
        per_model = ", ".join(f"{s.model} {s.errors}/{s.n}" for s in failing)
        failed = sum(s.errors for s in failing)
        total = sum(s.n for s in results.generation)
        reasons.append(
            f"{failed} of {total} generations failed ({per_model}; first: "
            f"{failing[0].first_error}); they are excluded from scoring. Fix the cause and "
            "rerun with --force generate, or pass --allow-failures to accept results on the rest"
        )
    failed_bench = _benchmark_failures(results)
    if failed_bench and not config.calls.allow_failures:
        reasons.append(
            f"benchmark calls failed ({'; '.join(failed_bench)}); those problems are excluded "
            "from the benchmark numbers. Fix the cause and rerun with --force benchmarks, or "
            "pass --allow-failures to accept results on the rest"
        )
    unscored = _benchmark_unscored(results, config)
    if unscored:
        reasons.append(
            f"benchmark replies could not be scored ({'; '.join(unscored)}); accuracy is over "
            "the scored items only. Set allow_unscored: true in the benchmark's entry to "
            "accept that, or change its mode (e.g. mode: loglikelihood)"
        )
    js = results.judge_scores
    if config.judge.spec and config.judge.single and js is not None:
        total = js.base.n + js.finetuned.n
        if total and js.base.scored + js.finetuned.scored == 0:
            why = _first_reason(
                Counter(js.base.unscored_reasons) + Counter(js.finetuned.unscored_reasons)
            )
            reasons.append(f"judge scored 0/{total} outputs{why}; check the judge spec")
    if config.judge.spec and config.judge.pairwise:
        pw = results.pairwise.summary if results.pairwise is not None else None
        if pw is not None and pw.n == 0:
            reasons.append(
                f"judge decided 0/{pw.unscored} pairwise comparisons (every reply unusable); "
                "check the judge spec"
            )
    if not results.verdicts and not config.benchmarks and not config.human.export and not reasons:
        reasons.append("the run compared nothing: no metric and no judge produced a verdict")
    return reasons


def _first_reason(counts: Counter[str]) -> str:
    if not counts:
        return ""
    reason, n = max(counts.items(), key=lambda kv: kv[1])
    return f" (most common reason, {n}x: {reason})"


def _benchmark_failures(results: Results) -> list[str]:
    """``NAME ROLE: N calls`` per benchmark run whose summary counts failed calls."""
    out = []
    for bench in results.benchmarks:
        for role, summary in (("base", bench.base), ("finetuned", bench.finetuned)):
            if summary.get("failed_calls"):
                out.append(f"{bench.name} {role}: {summary['failed_calls']} calls")
    return out


def _benchmark_unscored(results: Results, config: WorkflowConfig) -> list[str]:
    """``NAME ROLE: N of M replies`` per benchmark run with unscored replies not allowed."""
    allowed = {b.name for b in config.benchmarks if b.allow_unscored}
    out = []
    for bench in results.benchmarks:
        if bench.name in allowed:
            continue
        for role, summary in (("base", bench.base), ("finetuned", bench.finetuned)):
            if summary.get("unscored"):
                out.append(f"{bench.name} {role}: {summary['unscored']} of {summary.get('items')}")
    return out
