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

    Drawn on a terminal only, so that no refresh thread outlives a failed run; piped output
    (CI logs) gets a plain line now and then instead (`PlainProgress`), so that a long judge
    step does not look hung.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    if not console.is_terminal:
        yield PlainProgress(console)
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


class PlainProgress:
    """Plain progress lines for output that is not a terminal (CI logs, files).

    A step's line is printed when it starts, every ``every_s`` seconds, at each tenth of its
    total, and when it completes; a log gets a handful of lines per step, never one per call.

    Args:
        console: Where the lines go.
        every_s: Most seconds between two lines of a step that is making calls.
    """

    def __init__(self, console: Console, every_s: float = 30.0) -> None:
        self.console, self.every_s = console, every_s
        self._last: dict[str, tuple[float, int]] = {}

    def __call__(self, event: StepProgress) -> None:
        """Print ``STEP: DONE/TOTAL (PCT%)`` when the step is due a line."""
        import time

        now = time.monotonic()
        tenth = event.done * 10 // event.total if event.total else -1
        last = self._last.get(event.step)
        due = last is None or now - last[0] >= self.every_s or tenth > last[1]
        if not due:
            return
        self._last[event.step] = (now, tenth)
        total = f"/{event.total} ({100 * event.done // event.total}%)" if event.total else ""
        self.console.print(f"{event.step}: {event.done}{total}", markup=False, highlight=False)
