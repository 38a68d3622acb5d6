"""Progress displays: the library reports calls through callbacks, the CLI draws them here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from tuneval.workflow.steps import StepProgress


@contextmanager
def call_counter(label: str, console: Console) -> Iterator[Callable[[], None]]:
    """A transient spinner counting calls of unknown total; yields the function to count one."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}: {task.completed} calls"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)
        yield lambda: progress.advance(task)


@contextmanager
def step_bars(console: Console) -> Iterator[Callable[[StepProgress], None]]:
    """Transient bars, one per workflow step making calls; yields the ``on_progress`` callback.

    Drawn on a terminal only: piped output (CI logs, tests) gets the step lines alone, and no
    refresh thread outlives a failed run.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    if not console.is_terminal:
        yield lambda _event: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def show(event: StepProgress) -> None:
            if event.step not in tasks:
                tasks[event.step] = progress.add_task(event.step, total=event.total)
            progress.update(tasks[event.step], completed=event.done)

        yield show
