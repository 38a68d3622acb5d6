"""The run directory: where a workflow's records live, appended as they are produced.

Layout of ``runs/NAME/``::

    examples.jsonl        the eval set the run used (`Example` records)
    generations.jsonl     one `Generation` per (model name, example), all models together
    <step>.jsonl          further append-only record files (judgments, ...)
    run.json              facts about the run (config, backends, versions)
    run.lock              held (flock) by the process running the workflow; holds its PID

Record files are JSON Lines, appended and flushed record by record, so a run killed at any
moment leaves every finished record on disk. A kill can leave a partial last line; readers
ignore a final line without its newline and the next append first cuts it off, so resuming
never produces a duplicate or a corrupt record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tuneval.errors import DataError, UsageError, setting_hint
from tuneval.records import Example, Generation

R = TypeVar("R", bound=BaseModel)


def _complete_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return  # a partial record written when the run was killed
            text = raw.decode("utf-8").strip()
            if text:
                yield number, text


def read_jsonl(path: Path, record: type[R]) -> list[R]:
    """All complete records of an append-only file (none when it does not exist).

    Raises:
        DataError: When a complete line is not a valid record (naming file and line).
    """
    if not path.exists():
        return []
    out: list[R] = []
    for number, text in _complete_lines(path):
        try:
            out.append(record.model_validate_json(text))
        except ValidationError as exc:
            raise DataError(
                f"not a valid {record.__name__} record: {exc.errors()[0]['msg']}",
                path=str(path),
                line=number,
            ) from None
    return out


class JsonlAppender:
    """Appends records to a JSONL file, one flushed line each; safe to resume after a kill."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _truncate_partial_line(path)
        self._handle = path.open("a", encoding="utf-8")

    def write(self, record: BaseModel) -> None:
        """Append one record and flush it to the OS (survives the process being killed)."""
        self._handle.write(record.model_dump_json() + "\n")
        self._handle.flush()

    def sync(self) -> None:
        """fsync the file (survives a machine crash); call at checkpoints, not per record."""
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Flush, fsync and close."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _truncate_partial_line(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return
        handle.truncate(data.rfind(b"\n") + 1)


class RunDir:
    """A run directory (created on first write).

    Args:
        path: The directory, e.g. ``runs/my-eval``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def generations_path(self) -> Path:
        """``generations.jsonl``."""
        return self.path / "generations.jsonl"

    @property
    def examples_path(self) -> Path:
        """``examples.jsonl``."""
        return self.path / "examples.jsonl"

    @property
    def info_path(self) -> Path:
        """``run.json``."""
        return self.path / "run.json"

    @property
    def lock_path(self) -> Path:
        """``run.lock``: locked by the process that runs the workflow in this directory."""
        return self.path / "run.lock"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run directory exclusively for the block (creates the directory).

        An exclusive ``flock`` on `lock_path`: a second run on the same directory would
        repeat every call and write every record twice. The kernel drops the lock when the
        holder dies, so a killed run never blocks the next one.

        Raises:
            UsageError: When another process holds the lock; the message names its PID.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on Windows: run unguarded
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        # "a+": a process that fails to lock must not erase the holder's PID.
        with self.lock_path.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise UsageError(
                    f"run directory {self.path} is in use by another tuneval run (PID "
                    f"{holder}); wait for it to finish, or give this run another name"
                    + setting_hint("name", " ({})")
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def record_file(self, name: str) -> Path:
        """Path of a step's record file, ``<name>.jsonl``."""
        return self.path / f"{name}.jsonl"

    def generations(self, model: str | None = None) -> list[Generation]:
        """The generations of one model name (or all), in file order."""
        gens = read_jsonl(self.generations_path, Generation)
        return [g for g in gens if model is None or g.model == model]

    def model_names(self) -> list[str]:
        """Names of the models with generations in this run, in order of appearance."""
        return list(dict.fromkeys(g.model for g in self.generations()))

    def no_generations(self, model: str) -> DataError:
        """The error for a model with no generations here; it names the models that have some."""
        known = ", ".join(self.model_names()) or "none"
        return DataError(
            f"run {self.path} has no generations of model '{model}' (models: {known})",
            path=self.generations_path,
        )

    def examples(self) -> list[Example]:
        """The eval set stored in the run.

        Raises:
            DataError: When the run has no ``examples.jsonl``.
        """
        if not self.examples_path.exists():
            raise DataError(f"run directory {self.path} has no examples.jsonl; is it a run?")
        return read_jsonl(self.examples_path, Example)

    def write_examples(self, examples: Iterable[Example]) -> None:
        """Store the eval set (atomically replaced)."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.examples_path.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for example in examples:
                handle.write(example.model_dump_json() + "\n")
        tmp.replace(self.examples_path)

    def read_info(self) -> dict[str, object]:
        """``run.json`` as a dict (empty when absent)."""
        if not self.info_path.exists():
            return {}
        data = json.loads(self.info_path.read_text(encoding="utf-8"))
        return dict(data)

    def update_info(self, **fields: object) -> None:
        """Merge ``fields`` into ``run.json`` (atomic replace)."""
        self.path.mkdir(parents=True, exist_ok=True)
        info = self.read_info()
        info.update(fields)
        tmp = self.info_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.info_path)
