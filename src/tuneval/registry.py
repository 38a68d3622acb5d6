"""A registry by name, filled by decorators and by plugins' entry points.

Metrics, backends, benchmarks and judges each get one `Registry`; the CLI looks things up by
name, and a third-party package registers its own entries under the entry-point group
``tuneval.<kind>`` (for metrics: ``tuneval.metrics``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from tuneval.errors import TunevalError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to registered objects of one kind.

    Args:
        kind: What is registered, e.g. ``"metric"``; used in messages and the entry-point group.
        error: The exception class raised for an unknown name.
    """

    def __init__(self, kind: str, error: type[TunevalError] = TunevalError) -> None:
        self.kind = kind
        self._error = error
        self._entries: dict[str, T] = {}
        self._plugins_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers an object under ``name``.

        Raises:
            TunevalError: When ``name`` is already taken: two entries for one name is a bug.
        """

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise self._error(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=f"tuneval.{self.kind}s"):
            # Loading the module runs its @register decorators.
            ep.load()

    def get(self, name: str) -> T:
        """Return the entry registered under ``name``.

        Raises:
            TunevalError: With the list of known names when ``name`` is unknown.
        """
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise self._error(
                f"unknown {self.kind} '{name}'; known {self.kind}s: {known}"
            ) from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries
