"""Progress bars of provider batches while they are polled (``--batch``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console


@contextmanager
def batch_progress(console: Console | None = None) -> Iterator[None]:
    """Show one bar per provider batch (requests done of total, status) while the block runs.

    The bars start at the first poll, so commands that submit no batch show nothing.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tuneval.models.batch import BatchProgress, watch_batches

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True, highlight=False),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def show(poll: BatchProgress) -> None:
        s = poll.status
        if not tasks:
            progress.start()
        if poll.batch_id not in tasks:
            label = f"{poll.provider} batch {poll.batch_id} ({poll.model})"
            tasks[poll.batch_id] = progress.add_task(label, total=s.total or None, state="")
        state = f"{s.state}, {s.failed} failed" if s.failed else s.state
        progress.update(
            tasks[poll.batch_id], completed=s.completed, total=s.total or None, state=state
        )

    try:
        with watch_batches(show):
            yield
    finally:
        if tasks:
            progress.stop()
