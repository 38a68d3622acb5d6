"""The typer application and the one place where errors become exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
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


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; map errors once: `TunevalError` exits 1, usage errors exit 2."""
    from tuneval.cli import commands  # noqa: F401  (registers the commands on `app`)

    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(1)
    except UsageError as exc:
        err_console.print(f"Error: {exc}", markup=False)
        sys.exit(2)
    except TunevalError as exc:
        err_console.print(f"Error: {exc}", markup=False)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
