"""Layers of a workflow config and the messages that locate a problem in them.

A value may come from the file, an environment variable or a ``--set`` flag; a problem with
it is reported where the user wrote it (the flag, the variable or the file), one line each.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from tuneval.errors import ConfigError, UsageError


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def format_errors(
    exc: ValidationError, source: str, origins: Mapping[tuple[str, ...], str] | None = None
) -> str:
    """One line per problem, each naming the dotted key path and where its value came from.

    Args:
        exc: The validation error.
        source: The config file (or other origin of the whole mapping).
        origins: Where overridden key paths got their values (``--set decoding.top_k``, an
            environment variable): a problem inside one is blamed on it, not on the file.
    """
    lines = []
    for err in exc.errors():
        key = _location(err["loc"])
        where = origin_of(tuple(str(p) for p in err["loc"]), source, origins or {})
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key '{key}' (check its spelling)")
        elif err["type"] == "missing":
            lines.append(f"{where}: missing required key '{key}'")
        else:
            # A whole mapping echoed back would bury the message; its key path locates it.
            value = err.get("input")
            got = "" if isinstance(value, dict) else f" (got {value!r})"
            lines.append(f"{where}: key '{key}': {err['msg']}{got}")
    return "\n".join(lines)


def origin_of(loc: tuple[str, ...], source: str, origins: Mapping[tuple[str, ...], str]) -> str:
    """The override that set ``loc`` (or a mapping holding it), else the config file."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return source


def check_run_name(name: object, where: str) -> None:
    """Refuse a run name that would put the run directory outside ``output_dir``.

    Raises:
        UsageError: For an empty name, one with a path separator, or ``.``/``..``.
    """
    if not isinstance(name, str):
        return  # the schema reports the type
    if not name.strip() or "/" in name or "\\" in name or ".." in name or name == ".":
        raise UsageError(
            f"{where}: key 'name': {name!r} is not a plain folder name; the run directory is "
            "output_dir/name, so use letters, digits, '-', '_' or '.' without '/' or '..'"
        )


def _parse_scalar(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def set_path(data: dict[str, Any], path: Sequence[str], value: Any, origin: str) -> None:
    """Set ``data[path[0]][path[1]]... = value``, creating mappings on the way."""
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{origin}: '{'.'.join(path)}' goes through a non-mapping value")
        node = child
    node[path[-1]] = value


def env_overrides(
    environ: Mapping[str, str], top: Collection[str]
) -> list[tuple[list[str], Any, str]]:
    """``TUNEVAL_A__B=value`` variables whose first part names a top-level key (``top``)."""
    out = []
    for name, raw in sorted(environ.items()):
        if not name.startswith("TUNEVAL_"):
            continue
        path = [p.lower() for p in name[len("TUNEVAL_") :].split("__")]
        if path[0] in top and all(path):
            out.append((path, _parse_scalar(raw), f"environment variable {name}"))
    return out


def parse_overrides(items: Sequence[str]) -> list[tuple[list[str], Any, str]]:
    """``key.path=value`` strings from the command line."""
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            # A malformed flag is a usage error (exit 2), not a problem of the config file.
            raise UsageError(f"--set {item}: must look like key.path=value")
        out.append((key.strip().split("."), _parse_scalar(raw), f"--set {key.strip()}"))
    return out
