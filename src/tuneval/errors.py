"""One exception hierarchy for everything tuneval reports to a user.

Every message says what went wrong *and* how to fix it; the CLI prints it once as
``Error: <message>`` and exits with status 1.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

# Private-use characters delimit a setting's clause in a message: they cannot come from user
# data in practice, and they never reach the user (every message is rendered on creation).
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_CLAUSE = re.compile(f"{_OPEN}([^{_SEP}]*){_SEP}([^{_CLOSE}]*){_CLOSE}")

SettingNames = Callable[[str], str | None]
"""How a caller spells a library setting (``prompt_field``): its flag, its config key, or
None when it has no such setting (the clause that names it is then left out)."""


_E = TypeVar("_E", bound="TunevalError")


def setting_hint(setting: str, clause: str) -> str:
    """A clause of an error message that names a setting, spelled in the caller's terms.

    Library code names a setting by its Python parameter (``skip_bad``); the CLI shows it as
    its flag (``--skip-bad``) and the workflow as its config key (``contamination.skip_bad``),
    through `TunevalError.name_settings`. Python callers see the parameter name.

    Args:
        setting: The library parameter, e.g. ``"prompt_field"``.
        clause: The words around it, with ``{}`` where its name goes, e.g.
            ``"; use {} to map another field"``.

    Returns:
        The marked clause, to be placed in a `TunevalError` message.
    """
    return f"{_OPEN}{setting}{_SEP}{clause}{_CLOSE}"


def _render(template: str, name: SettingNames) -> str:
    def clause(match: re.Match[str]) -> str:
        spelled = name(match.group(1))
        return "" if spelled is None else match.group(2).replace("{}", spelled)

    return _CLAUSE.sub(clause, template)


class TunevalError(Exception):
    """Base class of every error tuneval raises on purpose.

    A message may name settings with `setting_hint`; it reads in Python terms until a caller
    re-spells them with `name_settings`.
    """

    _template: str | None = None

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str) and _OPEN in args[0]:
            self._template = args[0]
            args = (_render(args[0], lambda setting: setting), *args[1:])
        super().__init__(*args)

    @property
    def settings(self) -> tuple[str, ...]:
        """The library settings the message names (empty once they were re-spelled)."""
        return tuple(match.group(1) for match in _CLAUSE.finditer(self._template or ""))

    def name_settings(self: _E, name: SettingNames) -> _E:
        """Re-spell the settings the message names in the caller's terms (once).

        Args:
            name: The caller's name of each setting; None leaves its clause out.

        Returns:
            This error, with its message re-rendered.
        """
        if self._template is not None:
            self.args = (_render(self._template, name), *self.args[1:])
            self._template = None
        return self


@contextlib.contextmanager
def settings_named(name: SettingNames) -> Iterator[None]:
    """Re-spell the settings named by a `TunevalError` raised inside, then let it propagate."""
    try:
        yield
    except TunevalError as exc:
        exc.name_settings(name)
        raise


class UsageError(TunevalError):
    """The command or call was given options that do not fit together (CLI exit code 2)."""


class ConfigError(TunevalError):
    """A configuration value is unknown, missing or of the wrong type."""


class DataError(TunevalError):
    """Input data is malformed; the message names the file, line and field.

    Attributes:
        path: The file that holds the bad record, if known.
        line: The 1-based line (or row/record number) of the bad record, if known.
        field: The field that is missing or malformed, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        self._where = where
        super().__init__(f"{where}{message}")

    @property
    def detail(self) -> str:
        """The message without its ``path:line:`` prefix (for a caller that shows the place)."""
        text = str(self)
        return text[len(self._where) :] if text.startswith(self._where) else text


class MetricError(TunevalError):
    """A metric was asked for by a name that does not exist or with invalid options."""


class MissingDependencyError(TunevalError):
    """An optional dependency is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed. "
            f"Install it with: pip install 'tuneval[{extra}]'"
        )


def require(module: str, *, package: str, extra: str, purpose: str) -> object:
    """Import an optional dependency or raise `MissingDependencyError`.

    Args:
        module: The module to import, e.g. ``"pyarrow.parquet"``.
        package: The distribution that provides it, e.g. ``"pyarrow"``.
        extra: The tuneval extra that installs it, e.g. ``"parquet"``.
        purpose: What the caller was trying to do, for the message.

    Returns:
        The imported module.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised via tests that hide modules
        raise MissingDependencyError(package, extra, purpose) from exc


class ProtocolMismatchError(TunevalError):
    """Two benchmark runs were made with different protocols, so their numbers do not compare.

    The message names the signature fields that differ and how to line them up.
    """


class BackendError(TunevalError):
    """A model backend cannot be created or cannot do what was asked (e.g. no log-probs)."""


class CallError(TunevalError):
    """One model call failed for good (after retries); recorded on its example, not fatal.

    Attributes:
        kind: A short machine-readable reason: ``http_429``, ``http_500``, ``timeout``,
            ``connection``, ``bad_response``, ``error``.
    """

    def __init__(
        self, message: str, kind: str = "error", *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        """Seconds the server asked us to wait (its ``Retry-After`` header), if it said."""
