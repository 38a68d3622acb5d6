"""A registry by name, filled by decorators and by plugins' entry points.

Three registries exist: metrics (``tuneval.metrics.METRICS``, filled by ``@register_metric``),
model backends (``tuneval.models.BACKENDS``, ``@register_backend``) and benchmarks
(``tuneval.benchmarks.BENCHMARKS``, ``@register_benchmark``). A judge is a backend spec plus a
template and a parser, so judges need no registry of their own: any registered backend judges.

The CLI looks things up by name. A third-party package registers its entries by declaring an
entry point in the group ``tuneval.<kind>s`` (``tuneval.metrics``, ``tuneval.backends`` or
``tuneval.benchmarks``) whose value is a module; the first lookup in that registry imports
the module, and its decorators register the entries.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from tuneval.errors import TunevalError

T = TypeVar("T")


def keyword_options(cls: type[Any]) -> dict[str, tuple[Any, Any]]:
    """The options a registered class takes: its ``__init__``'s keyword-only parameters.

    Metrics and backends declare their options this way, and specs such as
    ``bleu:tokenize=intl`` are validated against them.

    Returns:
        Name -> (annotation, default); the default is ``inspect.Parameter.empty`` when none.
    """
    params = inspect.signature(cls.__init__).parameters
    hints = inspect.get_annotations(cls.__init__, eval_str=True)
    return {
        p.name: (hints.get(p.name, Any), p.default)
        for p in params.values()
        if p.kind is p.KEYWORD_ONLY
    }


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
            TunevalError: When ``name`` is already taken (two entries for one name is a bug),
                or the object is a class with abstract methods left to implement.
        """

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise self._error(f"{self.kind} '{name}' is registered twice")
            if inspect.isclass(obj) and inspect.isabstract(obj):
                # Caught here, not as a TypeError traceback when a command instantiates it.
                missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
                raise self._error(
                    f"{self.kind} '{name}' (class {obj.__qualname__}) does not implement the "
                    f"abstract method(s) {missing}; define them in the class"
                )
            self._entries[name] = obj
            return obj

        return decorator

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        group = f"tuneval.{self.kind}s"
        for ep in entry_points(group=group):
            # Loading the module runs its @register decorators.
            try:
                ep.load()
            except Exception as exc:  # a broken plugin must not be a traceback in every command
                package = ep.dist.name if ep.dist is not None else "the package that declares it"
                why = str(exc) if isinstance(exc, TunevalError) else f"{type(exc).__name__}: {exc}"
                raise self._error(
                    f"the {self.kind} plugin '{ep.name}' ({ep.value}, entry-point group "
                    f"{group}) failed to load: {why}; fix or uninstall {package}"
                ) from exc

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
