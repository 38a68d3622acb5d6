"""The shared state of one workflow invocation: config, run directory, backends, call cache."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuneval.models.base import ModelBackend, create_backend
from tuneval.models.cache import CallCache
from tuneval.models.loop import run_sync
from tuneval.models.runner import CallOptions
from tuneval.records import Example
from tuneval.rundir import RunDir
from tuneval.workflow.analysis import BASE, FINETUNED
from tuneval.workflow.config import WorkflowConfig
from tuneval.workflow.state import StepState
from tuneval.workflow.steps import OnProgress, StepProgress


class CallTick:
    """Counts a step's model calls and reports its progress to the progress callback.

    Progress is counted in calls (``tick()``) where each call is one unit of work, and in
    items (``tick.item()``, with calls counted by ``tick.call()``) where an item may take
    several calls (a judge retrying unusable replies): "180/60" would read as a bug.
    """

    def __init__(self, step: str, total: int | None, sink: OnProgress | None) -> None:
        self.step, self.total, self.sink = step, total, sink
        self.calls = 0
        """Calls counted so far."""
        self.items = 0
        """Items finished so far (steps that count items)."""

    def __call__(self) -> None:
        """One more call finished, and with it one unit of progress."""
        self.calls += 1
        self._report(self.calls)

    def call(self) -> None:
        """One more call finished (progress is counted by `item`)."""
        self.calls += 1

    def item(self) -> None:
        """One more item has its final outcome, whatever number of calls it took."""
        self.items += 1
        self._report(self.items)

    def _report(self, done: int) -> None:
        if self.sink is not None:
            self.sink(StepProgress(step=self.step, done=done, total=self.total))


class RunContext:
    """Config, run directory and state of one invocation; backends and cache built on demand.

    Args:
        config: The validated config.
        backends: Ready-made backends by role; the context closes only those it builds.
        on_progress: Called after every model call a step makes (progress display).
    """

    def __init__(
        self,
        config: WorkflowConfig,
        backends: Mapping[str, ModelBackend],
        on_progress: OnProgress | None = None,
    ) -> None:
        self.config = config
        self.on_progress = on_progress
        self.run = RunDir(config.run_dir)
        self.state = StepState(self.run)
        self._given = dict(backends)
        self._built: dict[str, ModelBackend] = {}
        self._examples: list[Example] | None = None
        self._cache: CallCache | None = None
        self.previous_info: dict[str, Any] = {}
        """``run.json`` as this invocation found it (what an earlier run recorded)."""

    @property
    def cache(self) -> CallCache | None:
        """The call cache, opened on first use (None when ``calls.cache`` is off)."""
        if self._cache is None and self.config.calls.cache:
            self._cache = CallCache()
        return self._cache

    def backend(self, role: str) -> ModelBackend:
        """The backend of ``role`` (``base``, ``finetuned``, ``judge``), built once."""
        if role in self._given:
            return self._given[role]
        if role not in self._built:
            if role == "judge":
                spec, options = self.config.judge.spec or "", self.config.judge.options
            else:
                model = getattr(self.config.models, role)
                spec, options = model.spec, model.options
            self._built[role] = create_backend(spec, **options)
        return self._built[role]

    def build_backends(self) -> None:
        """Build every configured backend now, before any step pays for a model call.

        Building checks what the config alone cannot (API keys, a spec's address and model,
        files) and loads no weights, so a bad judge spec fails before generation, not after.
        """
        roles = [BASE, FINETUNED] + (["judge"] if self.config.judge.spec else [])
        for role in roles:
            self.backend(role)

    def call_options(self) -> CallOptions:
        """Concurrency, timeout and retries from the config's ``calls`` section."""
        # Token usage (the cost estimate) and batch ids are recorded in the run.
        return self.config.calls.options.model_copy(update={"run_dir": self.run.path})

    def progress(self, step: str, total: int | None) -> CallTick:
        """A counter of ``step``'s calls that reports each one to the progress callback."""
        return CallTick(step, total, self.on_progress)

    def examples(self) -> list[Example]:
        """The eval set (the first ``limit`` items when a limit is set), loaded once."""
        if self._examples is None:
            from tuneval.data import load_examples
            from tuneval.errors import settings_named

            # The config has no field-mapping keys: a hint to set ``prompt_field`` (a Python
            # parameter the config user cannot reach) is left out of the message.
            with settings_named(lambda _setting: None):
                loaded = list(load_examples(str(self.config.eval_set), require_prompt=True))
            self._examples = loaded[: self.config.limit] if self.config.limit else loaded
        return self._examples

    def close(self) -> None:
        """Close the backends this context built and the call cache."""
        built, self._built = list(self._built.values()), {}

        async def close_all() -> None:
            for backend in built:
                await backend.aclose()

        try:
            if built:
                # Each HTTP backend closes its client on its own private loop (see
                # tuneval.models.loop), so any loop may ask it to.
                run_sync(close_all())
        finally:
            if self._cache is not None:
                self._cache.close()
                self._cache = None
