"""Run many sandboxed programs in parallel, one per core, with a progress bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from tuneval.sandbox.execute import ExecResult, Limits, run_python
from tuneval.sandbox.isolation import Isolation, chosen_isolation


def run_many(
    programs: Sequence[str],
    limits: Limits | None = None,
    *,
    workers: int | None = None,
    isolation: Isolation | None = None,
    on_done: Callable[[int, ExecResult], None] | None = None,
) -> list[ExecResult]:
    """Run every program in its own sandbox, ``workers`` at a time.

    Threads suffice: each one only waits on its child process.

    Args:
        programs: Complete Python programs.
        limits: Limits applied to each program.
        workers: Programs at once; defaults to the number of usable cores.
        isolation: Force an isolation level (default: ``$TUNEVAL_SANDBOX``, else the
            strongest available).
        on_done: Called with (index, result) as each program finishes.

    Returns:
        One result per program, in order.
    """
    isolation = isolation or chosen_isolation()
    workers = workers or len(os.sched_getaffinity(0)) or 1
    results: list[ExecResult | None] = [None] * len(programs)

    def one(index: int) -> None:
        result = run_python(programs[index], limits, isolation)
        results[index] = result
        if on_done is not None:
            on_done(index, result)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(len(programs))))
    return [r for r in results if r is not None]
