"""The contamination check end to end: read the eval set, index it, stream the training data."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneval.contamination.formats import sample_keys
from tuneval.contamination.index import EvalIndex
from tuneval.contamination.report import ContaminationReport, build_report
from tuneval.contamination.scan import ShardResult, scan_all, scan_within
from tuneval.contamination.sources import SHARD_BYTES, Shard, plan, record_text
from tuneval.errors import DataError, setting_hint

ScanFn = Callable[..., list[ShardResult]]


@dataclass
class EvalSet:
    """The eval records with their ids, categories, lines and texts."""

    path: str
    records: list[dict[str, Any]]
    ids: list[str]
    categories: list[str | None]
    lines: list[int]
    texts: list[str]


def load_eval(path: str, fields: list[str] | None = None) -> EvalSet:
    """Read an eval set (any format `tuneval.data.read_records` reads); ids default to lines."""
    from tuneval.data import read_records

    records, ids, cats, lines, texts = [], [], [], [], []
    for rec in read_records(path):
        try:
            texts.append(record_text(rec.data, fields))
        except ValueError as exc:
            raise DataError(str(exc), path=rec.path, line=rec.line) from exc
        records.append(rec.data)
        ids.append(str(rec.data.get("id", rec.line)))
        cat = rec.data.get("category")
        cats.append(None if cat is None else str(cat))
        lines.append(rec.line)
    return EvalSet(path, records, ids, cats, lines, texts)


def check(
    train: list[str],
    eval_path: str,
    *,
    n: int = 13,
    fields: list[str] | None = None,
    eval_fields: list[str] | None = None,
    threshold: float = 0.0,
    workers: int = 1,
    strict: bool = False,
    skip_bad: bool = False,
    progress: Callable[[list[Shard], ShardResult | None], None] | None = None,
    ray: str | None = None,
) -> ContaminationReport:
    """Find the n-grams of an eval set that occur in training data.

    An example with fewer than n tokens is checked whole: it is flagged when all its tokens
    occur contiguously in one training record (`ContaminationReport.checked_whole` counts them).

    Unreadable training data never passes as clean: reading no record at all, or a field of
    `fields` that no record has, is an error; so is any unreadable record unless `skip_bad`,
    and then the report counts them and lists the first (``problems``).

    Args:
        train: Training files, directories, globs or ``hf:`` datasets.
        eval_path: The eval set.
        n: N-gram length (13 as in GPT-3; 8 is also common).
        fields: Training fields that form the text (default: all string fields).
        eval_fields: Eval fields that form the text (default: all string fields).
        threshold: Flag examples whose overlap fraction is above this.
        workers: Processes scanning shards in parallel.
        strict: Stop at the first unreadable record instead of counting it.
        skip_bad: Scan the rest when some records are unreadable (they are listed in the
            report) instead of raising `DataError` after the scan.
        progress: Called with the plan once, then with each finished shard.
        ray: Scan on Ray instead (`tuneval.contamination.ray_scan`): ``local`` starts a
            local runtime (of `workers` CPUs when above 1), ``auto`` or an address joins a
            cluster. The report is the same.

    Returns:
        The report, one entry per eval example.

    Raises:
        DataError: No training file or record, a field no record has, no eval example with
            any text, or (without `skip_bad`) unreadable records.
    """
    evalset = load_eval(eval_path, eval_fields)
    index = EvalIndex.build(evalset.texts, n)
    if index.tokens and not any(index.tokens):
        # Nothing to look for: a scan would read all the training data and flag nothing.
        raise DataError(
            f"none of the {len(index.tokens)} eval examples has any text to check; nothing "
            "could be checked"
            + setting_hint("eval_fields", " (use {} to name the fields that hold the text)"),
            path=eval_path,
        )
    with _scanner(workers, ray) as (scan, cpus):
        shards = plan_for_workers(train, cpus)
        if not shards:
            raise DataError(
                "no training file found (an empty directory?); give the files that hold the "
                "training records",
                path=", ".join(train),
            )
        if progress:
            progress(shards, None)
        results = scan(
            index, shards, fields, strict=strict,
            progress=(lambda r: progress(shards, r)) if progress else None,
        )  # fmt: skip
    report = build_report(
        index, evalset.ids, evalset.categories, results,
        threshold=threshold, train=train, eval_path=eval_path,
    )  # fmt: skip
    _require_readable(report, results, shards, fields, skip_bad)
    return report


def _scanner(workers: int, ray: str | None) -> ContextManager[tuple[ScanFn, int]]:
    """The scan function and the number of CPUs it scans with: Ray's, or local processes."""
    if ray is not None:
        from tuneval.contamination.ray_scan import ray_session

        return ray_session(ray, workers if workers > 1 else None)
    return contextlib.nullcontext((functools.partial(scan_all, workers=workers), workers))


def _require_readable(
    report: ContaminationReport,
    results: list[ShardResult],
    shards: list[Shard],
    fields: list[str] | None,
    skip_bad: bool,
) -> None:
    """Raise when the training data could not be read well enough to call anything clean."""
    where = ", ".join(report.train)
    seen = set().union(*(r.fields_seen for r in results))
    missing = [f for f in fields or () if f not in seen]
    if missing:
        found = ", ".join(sample_keys(shards)) or "none that could be read"
        raise DataError(
            f"no training record has the field {', '.join(missing)}; the records have: "
            f"{found}; fix the field names" + setting_hint("fields", " ({})"),
            path=where,
            field=missing[0],
        )
    first = "; ".join(report.problems[:3])
    if report.records_scanned == 0:
        why = f" ({report.bad_records} unreadable, first: {first})" if first else " (empty)"
        raise DataError(
            f"no training record could be read{why}; give files that hold training records",
            path=where,
        )
    if report.bad_records and not skip_bad:
        raise DataError(
            f"{report.bad_records} training record(s) could not be read, first: {first}; "
            "fix them"
            + setting_hint("skip_bad", ", or use {} to scan the rest and list them in the report")
        )


def plan_for_workers(train: list[str], workers: int) -> list[Shard]:
    """Shards of the training data, small enough that `workers` processes finish together.

    With 32 MB shards a 200 MB file makes 7 shards, and two workers share them 4:3; cutting
    splittable files into at least four shards per worker keeps the last one's tail short.
    """
    shards = plan(train)
    if workers <= 1:
        return shards
    total = sum(s.size for s in shards if s.size > 0)
    target = max(1 << 20, -(-total // (4 * workers)))
    return plan(train, target) if target < SHARD_BYTES else shards


def duplicates(
    eval_path: str,
    *,
    n: int = 13,
    eval_fields: list[str] | None = None,
    threshold: float = 0.0,
) -> ContaminationReport:
    """Overlap of each example with the *other* examples of the same set (near-duplicates).

    Short examples are checked whole here too: one is flagged when all its tokens occur
    contiguously in another example.
    """
    evalset = load_eval(eval_path, eval_fields)
    index = EvalIndex.build(evalset.texts, n)
    res = scan_within(index, evalset.texts, evalset.lines, eval_path)
    return build_report(
        index, evalset.ids, evalset.categories, [res],
        threshold=threshold, train=[eval_path], eval_path=eval_path,
    )  # fmt: skip


def write_clean(
    report: ContaminationReport, eval_path: str, out: str | Path, fields: list[str] | None = None
) -> ContaminationReport:
    """Write the eval records that were not flagged to JSONL; return the report with `removed`."""
    evalset = load_eval(eval_path, fields)
    removed = []
    with open(out, "w", encoding="utf-8") as handle:
        for rec, ex in zip(evalset.records, report.examples, strict=False):
            if ex.flagged:
                removed.append(ex.id)
            else:
                handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return report.model_copy(update={"removed": removed})
