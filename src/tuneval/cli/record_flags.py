"""Command-line flags made from the fields of the library's option records.

A command decorated with `record_flags(Record, "param")` gets one ``--flag`` per field of
the record, with the field's docstring as help and the record's default shown (never
repeated here: the flags default to None, and only the flags given override the record).
The command receives what was given as a `Given` mapping and builds the record from it, so
a field added to a record is a flag of every command that takes that record.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from tuneval.errors import UsageError

R = TypeVar("R", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


class Given(dict[str, Any]):
    """The record fields given on the command line (field name -> value), with their flags."""

    def __init__(self, values: Mapping[str, Any], flags: Mapping[str, str]) -> None:
        super().__init__(values)
        self.flags = dict(flags)

    def build(self, record: type[R], **extra: Any) -> R:
        """``record`` with its defaults, overridden by ``extra`` and then its given flags.

        Raises:
            UsageError: Naming the flag of each value the record rejects.
        """
        own = {k: v for k, v in self.items() if k in record.model_fields}
        try:
            return record.model_validate({**extra, **own})
        except ValidationError as exc:
            raise UsageError(_problems(exc, self.flags)) from None


def _problems(exc: ValidationError, flags: Mapping[str, str]) -> str:
    parts = []
    for err in exc.errors():
        if not err["loc"]:  # a check across fields names them itself: spell them as flags
            msg = str(err["msg"]).removeprefix("Value error, ")
            for field, flag in flags.items():
                msg = re.sub(rf"\b{re.escape(field)}\b", flag, msg)
            parts.append(msg)
            continue
        field = str(err["loc"][0])
        parts.append(f"{flags.get(field, field)}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def _help(field: Any) -> str:
    """The first sentence of the field's docstring (the rest is for the library's reader)."""
    text = " ".join((field.description or "").split())
    return text.replace("``", "").replace("`", "").split(". ")[0].rstrip(".") + "."


def _shown(default: Any) -> str:
    """The record's default as the help shows it."""
    if isinstance(default, tuple | list):
        sep = "-" if all(isinstance(v, int) for v in default) else ", "
        default = sep.join(map(str, default)) if default else "none"
    if isinstance(default, bool):
        default = str(default).lower()
    shown = "none" if default is None else str(default)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _flag(
    name: str,
    field: Any,
    decl: str,
    help: str | None,
    parser: tuple[Callable[[str], Any], str] | None,
) -> inspect.Parameter:
    """The typer option of one record field: None unless given, the record's default shown."""
    kind, extra = _option_type(field.annotation)
    if kind is bool:
        decl = f"{decl}/--no-{decl[2:]}"
    if parser is not None:
        kind, extra = str, {"parser": parser[0], "metavar": parser[1]}
    default = _shown(field.get_default(call_default_factory=True))
    # Shown as typer shows its own defaults; the flag itself defaults to None (not given).
    text = f"{help or _help(field)} \\[default: {default}]"
    option = typer.Option(decl, help=text, show_default=False, **extra)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[kind | None, option],
    )


def _option_type(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """The typer type of a field's annotation, and extra `typer.Option` arguments."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _option_type(args[0])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[args[0]], {}  # type: ignore[valid-type]
    return annotation, {}


def record_flags(
    record: type[BaseModel],
    param: str,
    *,
    fields: Sequence[str] | None = None,
    flags: Mapping[str, str] | None = None,
    help: Mapping[str, str] | None = None,
    parsers: Mapping[str, tuple[Callable[[str], Any], str]] | None = None,
) -> Callable[[F], F]:
    """Add a flag per field of ``record`` to a typer command; it gets them as ``param``.

    Several decorators may name the same ``param``: it then holds every record's flags, and
    `Given.build` takes the fields of the record it builds.

    Args:
        record: The option record whose fields become flags.
        param: The command's parameter that receives the given values (a `Given`).
        fields: Only these fields (default: all, in declaration order).
        flags: A flag name other than ``--field-name`` (existing spellings, e.g. ``--timeout``).
        help: Help text other than the field's docstring's first sentence.
        parsers: Fields read from a string by a function: field -> (parser, metavar).
    """
    flags, help, parsers = dict(flags or {}), dict(help or {}), dict(parsers or {})
    chosen = list(fields or record.model_fields)

    def decorate(func: F) -> F:
        sig = inspect.signature(func, eval_str=True)
        names = {f: flags.get(f, "--" + f.replace("_", "-")) for f in chosen}
        added = [
            _flag(f, record.model_fields[f], names[f], help.get(f), parsers.get(f)) for f in chosen
        ]
        kept = [p for p in sig.parameters.values() if p.name != param]

        def command(*args: Any, **kwargs: Any) -> Any:
            given = {f: kwargs.pop(f) for f in chosen if kwargs.get(f) is not None}
            for f in chosen:
                kwargs.pop(f, None)
            # Several records may feed one parameter: their flags are gathered in one Given.
            earlier = kwargs.get(param)
            if isinstance(earlier, Given):
                given, names_ = {**earlier, **given}, {**earlier.flags, **names}
            else:
                names_ = names
            kwargs[param] = Given(given, names_)
            return func(*args, **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in kept] + added
        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__name__, command.__doc__ = func.__name__, func.__doc__
        command.__module__, command.__qualname__ = func.__module__, func.__qualname__
        return command  # type: ignore[return-value]

    return decorate


NO_FLAGS = Given({}, {})
"""The default of a command's `Given` parameter (filled in by `record_flags`)."""
