"""Which steps a run has finished, and with which inputs (kept in ``run.json``).

A step is skipped when ``run.json`` says it finished with the same input key; a step whose
inputs changed, or that was forced, runs again, and so does every step after one that ran.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tuneval.rundir import RunDir

RECORDS_KEY = "judge_key"
"""Where a step's `StepReport.records_key` is kept in its ``run.json`` entry (the name
predates non-judge uses; kept so that existing run directories resume)."""


def now() -> str:
    """The current UTC time, ISO 8601, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class StepState:
    """Reads and writes the ``steps`` entry of ``run.json``."""

    def __init__(self, run: RunDir) -> None:
        self.run = run

    def all(self) -> dict[str, dict[str, Any]]:
        """Every step's saved state."""
        steps = self.run.read_info().get("steps", {})
        return dict(steps) if isinstance(steps, dict) else {}

    def get(self, step: str) -> dict[str, Any]:
        """One step's saved state (empty when it never started)."""
        return dict(self.all().get(step, {}))

    def is_done(self, step: str, key: str) -> bool:
        """True when ``step`` finished with inputs ``key``."""
        state = self.get(step)
        return bool(state.get("done")) and state.get("key") == key

    def start(self, step: str, key: str, **extra: Any) -> None:
        """Mark ``step`` as started with inputs ``key`` (not done)."""
        self._put(step, {"key": key, "done": False, "started": now(), **extra})

    def finish(self, step: str, **extra: Any) -> None:
        """Mark ``step`` as finished."""
        self._put(step, self.get(step) | {"done": True, "finished": now(), **extra})

    def records_key(self, step: str) -> str | None:
        """The fingerprint of the settings ``step``'s records were made with, if it saved one."""
        key = self.get(step).get(RECORDS_KEY)
        return None if key is None else str(key)

    def clear(self, step: str) -> None:
        """Forget ``step`` (it will run again)."""
        steps = self.all()
        steps.pop(step, None)
        self.run.update_info(steps=steps)

    def _put(self, step: str, value: dict[str, Any]) -> None:
        steps = self.all()
        steps[step] = value
        self.run.update_info(steps=steps)
