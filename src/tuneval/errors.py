"""One exception hierarchy for everything tuneval reports to a user.

Every message says what went wrong *and* how to fix it; the CLI prints it once as
``Error: <message>`` and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path


class TunevalError(Exception):
    """Base class of every error tuneval raises on purpose."""


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
        super().__init__(f"{where}{message}")


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
