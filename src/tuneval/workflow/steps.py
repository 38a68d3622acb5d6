"""The workflow's steps as objects: one ordered list says everything about each step.

A `Step` names itself, the config sections its output depends on, the files and folders it
writes in the run directory, and the function that does its work. The runner walks `WORKFLOW`
in order; nothing else keeps a table keyed by step name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tuneval.records import Record

if TYPE_CHECKING:
    from tuneval.rundir import RunDir
    from tuneval.workflow.context import RunContext

StepStatus = Literal["ran", "skipped", "off"]


class StepReport(Record):
    """What one step did in this invocation."""

    step: str
    """Step name."""
    status: StepStatus
    """``ran``, ``skipped`` (already done with the same inputs) or ``off`` (not configured)."""
    detail: str = ""
    """A short note (calls made, why off)."""
    records_key: str | None = None
    """Fingerprint of the settings the step's records were made with (judge steps); the
    results keep only the records that carry it."""


class StepProgress(Record):
    """One model call of a step finished (progress callbacks get this)."""

    step: str
    """The step making the calls."""
    done: int
    """Calls finished so far in this step."""
    total: int | None = None
    """Calls the step expects to make, when known."""


OnProgress = Callable[[StepProgress], None]


@dataclass(frozen=True)
class Step:
    """One step of the workflow."""

    name: str
    """The step's name (``--force NAME``, ``run.json``'s ``steps`` entry)."""
    sections: tuple[str, ...]
    """Config sections whose values key the step's output (with every earlier step's)."""
    outputs: Callable[[RunDir], tuple[Path, ...]]
    """Files and folders the step writes in the run directory (removed when it is forced)."""
    run: Callable[[RunContext], StepReport]
    """Does the work (resuming what a killed run left) and says what it did."""

    def forget(self, run: RunDir) -> None:
        """Remove the step's outputs so that it starts from nothing."""
        import shutil

        for path in self.outputs(run):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _generate_outputs(run: RunDir) -> tuple[Path, ...]:
    return (run.generations_path,)


def _metrics_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.workflow.metrics_step import COMPARISON_FILE

    return (run.path / COMPARISON_FILE,)


def _single_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.judge.single import SINGLE_FILE

    return (run.record_file(SINGLE_FILE),)


def _pairwise_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.judge.pairwise import PAIRWISE_FILE

    return (run.record_file(PAIRWISE_FILE),)


def _bench_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.workflow.benchmarks_step import BENCH_DIR

    return (run.path / BENCH_DIR,)


def _contamination_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.workflow.optional_steps import CONTAMINATION_FILE

    return (run.path / CONTAMINATION_FILE,)


def _no_outputs(run: RunDir) -> tuple[Path, ...]:
    # The human study is never removed: it may already hold annotators' votes.
    return ()


def _report_outputs(run: RunDir) -> tuple[Path, ...]:
    from tuneval.report import REPORT_FILES

    return tuple(run.path / name for name in REPORT_FILES)


GENERATE_SECTIONS = ("eval_set", "limit", "models", "decoding")
"""What the generations depend on (a change refuses to resume a run made with others)."""


def _steps() -> tuple[Step, ...]:
    from tuneval.workflow import step_runs as r

    return (
        Step("generate", GENERATE_SECTIONS, _generate_outputs, r.generate),
        Step("metrics", ("metrics", "comparison"), _metrics_outputs, r.metrics),
        Step("judge_single", ("judge",), _single_outputs, r.judge_single),
        Step("judge_pairwise", ("judge",), _pairwise_outputs, r.judge_pairwise),
        Step("benchmarks", ("benchmarks",), _bench_outputs, r.benchmarks),
        Step("contamination", ("contamination",), _contamination_outputs, r.contamination),
        Step("human", ("human",), _no_outputs, r.human),
        Step("report", ("comparison",), _report_outputs, r.report),
    )


WORKFLOW: tuple[Step, ...] = _steps()
"""The workflow's steps, in order."""

STEPS: tuple[str, ...] = tuple(step.name for step in WORKFLOW)
"""The workflow's step names, in order."""

GENERATE, METRICS, JUDGE_SINGLE, JUDGE_PAIRWISE, BENCHMARKS, CONTAMINATION, HUMAN, REPORT = WORKFLOW
