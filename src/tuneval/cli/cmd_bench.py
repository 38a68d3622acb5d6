"""``tuneval bench``: run a standard benchmark (``tuneval bench list`` shows them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.errors import UsageError

console = Console(highlight=False)


@app.command("bench")
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark name, or 'list' to show them.")],
    model: Annotated[
        str | None, typer.Option("--model", help="Model spec, e.g. llamacpp:default.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run directory (runs/NAME).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N problems.")] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Local data file/folder in the release format (default: hub)."),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, help="Samples per problem.")] = 1,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.0,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 512,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Sandbox processes at once.")
    ] = None,
    subjects: Annotated[
        str | None, typer.Option("--subjects", help="MMLU: comma-separated subjects.")
    ] = None,
    judge: Annotated[
        str | None, typer.Option("--judge", help="MT-Bench/AlpacaEval: judge model spec.")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="MT-Bench: pairwise vs this earlier mt-bench run."),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="MMLU: loglikelihood or generate. HumanEval/MBPP: completion (base models) "
            "or chat (default when the model has a chat template).",
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            help="MT-Bench: fastchat (default) or tuneval. AlpacaEval: both-orders (default) "
            "or alpaca_eval (one random order per item).",
        ),
    ] = None,
    annotations: Annotated[
        Path | None,
        typer.Option(
            "--annotations",
            help="AlpacaEval: score an alpaca_eval annotations.json (no model or judge calls).",
        ),
    ] = None,
    lc_data: Annotated[
        Path | None,
        typer.Option(
            "--lc-data",
            help="AlpacaEval --annotations: alpaca_eval's df_gamed.csv, for the official "
            "length-controlled win rate (length_controlled_v1).",
        ),
    ] = None,
    timeout_factor: Annotated[
        float,
        typer.Option(
            "--timeout-factor", min=0.1, help="Code benchmarks: multiplies the reference 3 s."
        ),
    ] = 1.0,
    prompt_format: Annotated[
        str | None,
        typer.Option("--format", help="MMLU: prompt format lm-eval (default), original or chat."),
    ] = None,
) -> None:
    """Run benchmark NAME on a model and write the run directory (generations + scores)."""
    from tuneval.benchmarks import BENCHMARKS, BenchOptions, get_benchmark

    if name == "list":
        import tuneval.benchmarks  # noqa: F401

        for bench_name in BENCHMARKS.names():
            description = BENCHMARKS.get(bench_name).description
            console.print(f"{bench_name:16} {description}", soft_wrap=True)
        return
    if annotations is not None:
        _score_annotations(name, annotations, out, lc_data)
        return
    if model is None or out is None:
        raise UsageError("bench NAME needs --model SPEC and --out DIR")
    from tuneval.models.base import create_backend
    from tuneval.rundir import RunDir

    benchmark = get_benchmark(name)
    options = BenchOptions(
        limit=limit,
        data=data,
        samples=samples,
        temperature=temperature,
        max_tokens=max_tokens,
        workers=workers,
        subjects=tuple(s.strip() for s in subjects.split(",")) if subjects else None,
        mode=mode,
        format=prompt_format,
        timeout_factor=timeout_factor,
        protocol=protocol,
        judge=judge,
        against=against,
    )
    _print_summary(benchmark.run(create_backend(model), RunDir(out), options))


def _score_annotations(name: str, path: Path, out: Path | None, lc_data: Path | None) -> None:
    """``bench alpaca-eval --annotations FILE``: alpaca_eval's win rates of an annotations file."""
    if name != "alpaca-eval":
        raise UsageError(f"--annotations is for alpaca-eval, not {name}")
    from tuneval.benchmarks.alpaca_winrate import score_annotations
    from tuneval.rundir import RunDir

    summary = score_annotations(path, lc_data=lc_data)
    if out is not None:
        RunDir(out).update_info(benchmark=summary)
    _print_summary(summary)


def _print_summary(summary: dict[str, object]) -> None:
    """One line per summary field (per-subject figures stay in run.json)."""
    for key, value in summary.items():
        if key == "subjects":
            continue  # per-subject figures are in run.json
        if isinstance(value, dict):
            value = _compact(value)
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        console.print(f"{key:12} {shown}", soft_wrap=True)


def _compact(value: object) -> object:
    """Nested summary dicts with floats rounded, for one-line display."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value
