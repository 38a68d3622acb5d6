"""The typer application and the one place where errors become exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer
from rich.console import Console

from tuneval.errors import TunevalError, UsageError

app = typer.Typer(
    name="tuneval",
    help="Is the fine-tuned model really better than its base model, and how sure can you be?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _load_commands() -> None:
    """Import the command modules: ``commands`` and every ``cmd_*`` module of this package.

    Each module registers its commands (or a sub-app) on `app` when imported; discovery by
    name keeps features from editing one shared list.
    """
    import importlib
    import pkgutil

    import tuneval.cli as package

    importlib.import_module("tuneval.cli.commands")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"tuneval.cli.{info.name}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; map errors once: `TunevalError` exits 1, usage errors exit 2.

    typer itself reports malformed command lines (unknown options, missing arguments) with
    exit code 2; errors raised by the library surface here.
    """
    _load_commands()

    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        app(args=args, prog_name="tuneval")
    except TunevalError as exc:
        from tuneval.cli.flags import flag_names

        # Library messages name settings in Python terms; show this command's flags.
        exc.name_settings(flag_names(app, args))
        err_console.print(f"Error: {exc}", markup=False)
        sys.exit(2 if isinstance(exc, UsageError) else 1)
