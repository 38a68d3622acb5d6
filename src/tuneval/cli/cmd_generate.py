"""``tuneval generate``: one model answers an eval set into a run directory (resumable)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.options import NoCacheOpt, RefreshOpt
from tuneval.cli.record_flags import NO_FLAGS, Given, record_flags
from tuneval.errors import UsageError
from tuneval.models.base import Decoding
from tuneval.models.runner import CallOptions

err_console = Console(stderr=True, highlight=False, soft_wrap=True)

CALL_FIELDS = ("max_concurrency", "timeout_s", "max_retries")
"""The call settings ``tuneval generate`` takes as flags."""


@app.command("generate")
@record_flags(Decoding, "flags", help={"seed": "Sampling seed."})
@record_flags(CallOptions, "flags", fields=CALL_FIELDS, flags={"timeout_s": "--timeout"})
def generate_cmd(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="Model spec: llamacpp:default, llamacpp:PATH.gguf, hf:PATH[+ADAPTER], "
            "openai:MODEL, openai-compatible:BASE_URL#MODEL (replicas of one model: "
            "openai-compatible:URL1,URL2#MODEL), anthropic:MODEL, file:PREDICTIONS.jsonl, "
            "mock:echo.",
        ),
    ],
    data: Annotated[str, typer.Option("--data", help="Eval set (JSONL, JSON, CSV, Parquet).")],
    out: Annotated[str, typer.Option("--out", help="Run directory, e.g. runs/NAME.")],
    name: Annotated[
        str, typer.Option("--name", help="Model name of the records (e.g. base, finetuned).")
    ] = "model",
    adapter: Annotated[
        str | None, typer.Option("--adapter", help="LoRA adapter directory (hf: models).")
    ] = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    allow_failures: Annotated[
        bool,
        typer.Option("--allow-failures", help="Exit 0 although some calls failed."),
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Use the provider's batch API (openai:, openai-compatible:, anthropic:): half "
            "price, within 24 h; rerun the same command to resume polling after a kill.",
        ),
    ] = False,
    flags: Given = NO_FLAGS,
) -> None:
    """Generate outputs for every example; a rerun of the same command resumes."""
    from tuneval.cli.batch_view import batch_progress
    from tuneval.data import load_examples
    from tuneval.models.base import create_backend
    from tuneval.models.cache import CallCache
    from tuneval.models.generate import GenerateSummary, agenerate
    from tuneval.models.loop import run_sync
    from tuneval.rundir import RunDir

    examples = load_examples(data)
    run = RunDir(out)
    if not run.examples_path.exists():
        run.write_examples(examples)
    decoding = flags.build(Decoding)
    # Token usage (the cost estimate) and batch ids are recorded in the run directory.
    options = flags.build(CallOptions, batch=batch, run_dir=run.path)
    if adapter and not model.startswith("hf:"):
        raise UsageError("--adapter works only with hf: models (or write hf:BASE+ADAPTER)")
    backend = create_backend(model, **({"adapter": adapter} if adapter else {}))
    cache = None if no_cache else CallCache()

    async def go() -> GenerateSummary:
        try:
            return await agenerate(
                backend,
                examples,
                run,
                name=name,
                decoding=decoding,
                options=options,
                cache=cache,
                refresh=refresh,
                progress=not batch,  # the batch bars show the progress instead
            )
        finally:
            await backend.aclose()

    try:
        with batch_progress(err_console):
            summary = run_sync(go())
    finally:
        if cache is not None:
            cache.close()
    run.update_info(**{f"generate_{name}": {"backend": model, "decoding": decoding.model_dump()}})
    s = summary
    err_console.print(
        f"{s.model}: {s.done} done ({s.cached} cached), {s.failed} failed, {s.skipped} already "
        f"in the run, {s.retries} retries; tokens {s.usage.prompt_tokens} in / "
        f"{s.usage.completion_tokens} out; {s.elapsed_s:.1f} s -> {run.generations_path}"
    )
    if s.failures:
        reasons = ", ".join(f"{kind}: {n}" for kind, n in sorted(s.failures.items()))
        err_console.print(f"[yellow]failed by reason:[/] {reasons}")
    failed = [g for g in run.generations(name) if g.output is None]
    if not failed:
        return
    what = (
        f"{len(failed)} of {s.total} {name} calls failed and have no output (first: "
        f"{failed[0].error})"
    )
    if allow_failures:
        err_console.print(f"warning: {what}; they are left out of scoring", markup=False)
        return
    # A set of generations with holes scores as a different eval set: not a silent success.
    err_console.print(
        f"Error: {what}; fix the cause and generate into a new --out, or pass "
        "--allow-failures to keep the rest",
        markup=False,
    )
    raise typer.Exit(1)
