"""The ``--semantic`` part of ``tuneval contamination``: run the scan, print its lines.

Kept apart from the command so that the command stays a thin parser; nothing heavy is
imported until the scan runs (``tuneval --help`` stays instant).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tuneval.errors import settings_named

if TYPE_CHECKING:
    from tuneval.contamination.semantic import SemanticReport

SEMANTIC_FLOOR = 0.45
"""Default lowest cosine similarity of a candidate (`tuneval.contamination.semantic.
DEFAULT_FLOOR`, repeated here so that the CLI imports nothing heavy)."""


def _embedding_flags(setting: str) -> str | None:
    """The ``tuneval contamination`` flag of a setting `semantic_check` names."""
    from tuneval.cli.app import app
    from tuneval.cli.flags import flag_names

    return (
        "--embedding-model" if setting == "model" else flag_names(app, ["contamination"])(setting)
    )


def run_semantic(
    train: list[str],
    eval_path: str,
    *,
    model: str | None,
    top_k: int,
    floor: float,
    fields: list[str] | None,
    eval_fields: list[str] | None,
    skip_bad: bool,
    judge: str | None,
    no_cache: bool,
    ray: str | None = None,
) -> SemanticReport:
    """Run `semantic_check` with a progress line on a terminal, and the judge when named."""
    from tuneval.contamination.semantic_check import semantic_check

    backend = cache = None
    if judge:
        from tuneval.models import create_backend
        from tuneval.models.cache import CallCache

        backend = create_backend(judge)
        cache = None if no_cache else CallCache()
    tty = sys.stderr.isatty()

    def progress(count: int) -> None:
        if tty:
            sys.stderr.write(f"\rembedding training records: {count}")
            sys.stderr.flush()

    try:
        # semantic_check's `model` is the embedding model, but this command's --model is the
        # membership check's fine-tune: name the flag here, before the CLI names the rest.
        with settings_named(_embedding_flags):
            return semantic_check(
                train, eval_path, model=model, top_k=top_k, floor=floor, fields=fields,
                eval_fields=eval_fields, skip_bad=skip_bad, judge=backend, cache=cache,
                progress=progress, ray=ray,
            )  # fmt: skip
    finally:
        if tty:
            sys.stderr.write("\n")
        if cache is not None:
            cache.close()


@contextlib.contextmanager
def shared_ray(address: str | None, workers: int) -> Iterator[None]:
    """One Ray runtime for both scans of ``--semantic --ray`` (starting one takes seconds).

    Nothing happens without an address; a local runtime gets `workers` CPUs (all when 1)
    and is stopped on exit, as the n-gram scan alone would do.
    """
    if address is None:
        yield
        return
    from tuneval.contamination.ray_scan import ray_session

    with ray_session(address, workers if workers > 1 else None):
        yield


def semantic_lines(report: SemanticReport) -> Iterator[str]:
    """Console lines: a summary, then each item with candidates and its best match."""
    rate = report.records_embedded / report.seconds if report.seconds else 0.0
    judged = f"; judge {report.judge}: {report.confirmed} confirmed" if report.judge else ""
    unscored = f", {report.unscored} unscored" if report.unscored else ""
    yield (
        f"semantic ({report.model}, top-{report.top_k}, similarity >= {report.floor:g}): "
        f"{report.candidates}/{len(report.examples)} eval examples have candidates"
        f"{judged}{unscored}; {report.records_embedded} training records embedded "
        f"({rate:.0f}/s)"
    )
    for ex in report.examples:
        best = ex.best
        if best is None:
            continue
        mark = ""
        if report.judge:
            verdicts = [m.verdict for m in ex.matches]
            mark = " CONFIRMED" if ex.confirmed else (
                " unscored" if None in verdicts else " not a rephrasing"
            )  # fmt: skip
        yield f"  {ex.id}: {best.similarity:.2f} in {best.found_in}{mark}"
