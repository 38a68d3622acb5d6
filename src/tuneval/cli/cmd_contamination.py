"""``tuneval contamination``: n-gram overlap (and paraphrases) of an eval set with training data."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.membership_view import membership_lines, run_membership
from tuneval.cli.options import NoCacheOpt
from tuneval.cli.semantic_view import SEMANTIC_FLOOR, run_semantic, semantic_lines, shared_ray
from tuneval.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tuneval.contamination import ContaminationReport
    from tuneval.contamination.scan import ShardResult
    from tuneval.contamination.sources import Shard

console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, highlight=False)


def _fields(value: str | None) -> list[str] | None:
    return [f.strip() for f in value.split(",") if f.strip()] if value else None


@app.command("contamination")
def contamination_cmd(
    eval_path: Annotated[str, typer.Option("--eval", help="The eval set (JSONL, JSON, CSV...).")],
    train: Annotated[
        list[str] | None,
        typer.Option(
            "--train",
            help="Training data: files (.jsonl/.json/.csv/.tsv/.parquet/.txt, optionally .gz or "
            ".zst), directories, globs or hf:DATASET[#CONFIG][@SPLIT]; repeatable. Another eval "
            "set or a benchmark file works too.",
        ),
    ] = None,
    within: Annotated[
        bool, typer.Option("--within", help="Find overlap between examples of the eval set.")
    ] = False,
    n: Annotated[int, typer.Option("-n", min=1, help="N-gram length (13 as GPT-3; 8).")] = 13,
    fields: Annotated[
        str | None, typer.Option("--fields", help="Training fields forming the text, comma-sep.")
    ] = None,
    eval_fields: Annotated[
        str | None, typer.Option("--eval-fields", help="Eval fields forming the text, comma-sep.")
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", min=0.0, max=1.0, help="Flag overlap above this.")
    ] = 0.0,
    out: Annotated[str | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    write_clean: Annotated[
        str | None, typer.Option("--write-clean", help="Write the unflagged eval set (JSONL).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Scanning processes.")] = 1,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Scan on Ray (both scans with --semantic). 'local': a local runtime of "
            "--workers CPUs (all CPUs when 1); 'auto', HOST:PORT or ray://HOST:PORT: join "
            "that cluster. Same report.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first unreadable record.")
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Scan the rest when some training records are unreadable (they are counted "
            "and listed); without it they are an error.",
        ),
    ] = False,
    semantic: Annotated[
        bool,
        typer.Option(
            "--semantic",
            help="Also find paraphrases: the training records closest in meaning to each item "
            "(sentence embeddings).",
        ),
    ] = False,
    embedding_model: Annotated[
        str | None,
        typer.Option(
            "--embedding-model",
            help="sentence-transformers model folder or name (default: the bundled "
            "all-MiniLM-L6-v2).",
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option("--top-k", min=1, help="Semantic candidates kept per item.")
    ] = 5,
    floor: Annotated[
        float,
        typer.Option("--similarity-floor", min=0.01, max=1.0, help="Lowest cosine similarity."),
    ] = SEMANTIC_FLOOR,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Judge model spec that confirms each semantic candidate."),
    ] = None,
    no_cache: NoCacheOpt = False,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Membership check: the fine-tuned model (llamacpp:/hf:)."),
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Membership check: its base model.")
    ] = None,
    min_k: Annotated[
        float, typer.Option("--min-k", min=0.01, max=1.0, help="Min-K% share of words.")
    ] = 0.2,
    label_field: Annotated[
        str | None,
        typer.Option("--label-field", help="Eval field saying true/false whether it was seen."),
    ] = None,
) -> None:
    """Exact n-gram overlap (lowercased, punctuation stripped) of each eval example.

    An example shorter than n tokens is checked whole: flagged when all its tokens occur
    contiguously in one training record.

    --semantic also lists, per example, the training records closest in meaning (paraphrases
    with other words, numbers or names), which --judge SPEC can confirm; --write-clean then
    drops confirmed ones too. --model SPEC --base SPEC instead runs the model-side membership
    check (Min-K% likelihood jump of the fine-tune over its base) on the eval set alone.
    """
    from tuneval import contamination

    if model or base:
        _membership(eval_path, model, base, min_k, label_field, eval_fields, out,
                    others=bool(train or within or semantic or write_clean))  # fmt: skip
        return
    if within == bool(train):
        raise UsageError("give --train PATH (repeatable) or --within, not both or neither")
    if within and ray is not None:
        raise UsageError("--ray scans training data; --within checks the eval set alone")
    if within and semantic:
        raise UsageError("--semantic compares with training data: give --train, not --within")
    if (within or not semantic) and (judge or embedding_model):
        raise UsageError("--judge and --embedding-model go with --semantic and --train")
    inputs = [("--eval", eval_path), *(("--train", t) for t in train or [])]
    for option, path in (("--out", out), ("--write-clean", write_clean)):
        if path:
            _check_writable(option, path, inputs)
    if out and write_clean and _same_file(out, write_clean):
        raise UsageError(f"--out and --write-clean are both {out}; give two different files")
    if within:
        report = contamination.duplicates(
            eval_path, n=n, eval_fields=_fields(eval_fields), threshold=threshold
        )
    else:
        # With --semantic both scans share one Ray runtime (starting one takes seconds).
        with shared_ray(ray if semantic else None, workers):
            with _progress() as progress:
                report = contamination.check(
                    train or [], eval_path, n=n, fields=_fields(fields),
                    eval_fields=_fields(eval_fields), threshold=threshold, workers=workers,
                    strict=strict, skip_bad=skip_bad, progress=progress, ray=ray,
                )  # fmt: skip
            if semantic:
                sem = run_semantic(
                    train or [], eval_path, model=embedding_model, top_k=top_k, floor=floor,
                    fields=_fields(fields), eval_fields=_fields(eval_fields),
                    skip_bad=skip_bad, judge=judge, no_cache=no_cache, ray=ray,
                )  # fmt: skip
                report = report.model_copy(update={"semantic": sem})
    if write_clean:
        from tuneval.contamination.semantic_check import write_clean_semantic

        report = write_clean_semantic(report, eval_path, write_clean, _fields(eval_fields))
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(report.model_dump_json(indent=2) + "\n")
    _render(report, write_clean, out)


def _membership(
    eval_path: str,
    model: str | None,
    base: str | None,
    k: float,
    label_field: str | None,
    eval_fields: str | None,
    out: str | None,
    others: bool,
) -> None:
    """The model-side check: its own report, so it is not mixed with the data-side scans."""
    if not (model and base) or others:
        raise UsageError(
            "the membership check takes --model SPEC and --base SPEC (with --eval, and "
            "optionally --label-field and --out); run the training-data scans separately"
        )
    if out:
        _check_writable("--out", out, [("--eval", eval_path)])
    report = run_membership(eval_path, model, base, k=k, label_field=label_field,
                            eval_fields=_fields(eval_fields))  # fmt: skip
    if out:
        Path(out).write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    for line in membership_lines(report):
        console.print(line, markup=False)
    if out:
        console.print(f"wrote {out}", markup=False)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (also through links, or before it exists)."""
    pa, pb = Path(a), Path(b)
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()


def _check_writable(option: str, path: str, inputs: list[tuple[str, str]]) -> None:
    """Fail before the scan when `path` cannot be written (no need to wait for the error).

    Writing over an input is refused: the eval set would be truncated before it is read
    again, silently losing the items the scan flagged (and the original file with them).
    """
    for input_option, source in inputs:
        if Path(source).is_file() and _same_file(path, source):
            raise UsageError(
                f"{option} {path} is the {input_option} file; writing there would overwrite "
                f"it: give a new file (e.g. {_clean_name(source)}) and rename it afterwards "
                "if you want to replace the original"
            )
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file path inside it")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path}: the folder {parent} is not writable")


def _clean_name(source: str) -> str:
    path = Path(source)
    stem = path.name.split(".")[0] or "eval"
    return str(path.with_name(f"{stem}.clean.jsonl"))


def _progress() -> _Bar:
    return _Bar()


class _Bar:
    """A rich progress bar over shard bytes, with MB/s and ETA."""

    def __enter__(self) -> Callable[[list[Shard], ShardResult | None], None]:
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.bar = Progress(
            TextColumn("scanning"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
            console=err_console, transient=True,
            disable=not err_console.is_terminal,  # a log gets no bar (nor its blank line)
        )  # fmt: skip
        self.bar.start()
        self.task = self.bar.add_task("scan", total=None)
        return self.update

    def update(self, shards: list[Shard], result: ShardResult | None) -> None:
        if result is None:
            self.bar.update(self.task, total=sum(s.size for s in shards) or None)
        else:
            self.bar.advance(self.task, result.shard.size)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _lines(report: ContaminationReport) -> Iterator[str]:
    empty = f", {report.no_text} without text" if report.no_text else ""
    yield (
        f"{report.contaminated}/{report.total} eval examples flagged "
        f"({report.n}-grams, overlap > {report.threshold:g}); "
        f"{report.checked_whole} shorter than {report.n} tokens checked whole{empty}; "
        f"{report.records_scanned} training records, {report.bytes_scanned / 1e6:.1f} MB"
    )
    for cat, (flagged, total) in sorted(report.by_category.items()):
        yield f"  {cat}: {flagged}/{total}"
    for ex in report.examples:
        if ex.flagged:
            where = ", ".join(ex.found_in[:2])
            yield f"  {ex.id}: {ex.matched}/{ex.ngrams} n-grams ({ex.overlap:.0%}) in {where}"
    if report.bad_records:
        yield f"{report.bad_records} unreadable training records skipped (--skip-bad), first:"
        yield from (f"  {p}" for p in report.problems[:5])


def _render(report: ContaminationReport, clean: str | None, out: str | None) -> None:
    for line in _lines(report):
        console.print(line, markup=False)
    if report.no_text:
        err_console.print(
            f"warning: {report.no_text} of {report.total} eval examples have no text and were "
            "not checked (--eval-fields names the fields that hold it)",
            markup=False,
            soft_wrap=True,
        )
    if report.semantic is not None:
        for line in semantic_lines(report.semantic):
            console.print(line, markup=False)
    if clean:
        console.print(f"wrote {clean} ({len(report.removed)} examples removed)", markup=False)
    if out:
        console.print(f"wrote {out}", markup=False)
