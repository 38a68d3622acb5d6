"""Library settings spelled as the flags of the command that ran (for error messages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from tuneval.errors import SettingNames


def flag_names(app: typer.Typer, argv: Sequence[str]) -> SettingNames:
    """How the command that `argv` invokes spells each library setting: its flag, else None.

    A library message names settings by their Python parameter (``skip_bad``); a command
    whose parameter has that name shows its flag (``--skip-bad``). A setting the command has
    no flag for is left out of the message rather than naming a flag that does not exist.
    """
    return _command_flags(app, argv).get


def _command_flags(app: typer.Typer, argv: Sequence[str]) -> dict[str, str]:
    """Parameter name -> longest flag of the (sub)command that `argv` reaches."""
    command: Any = typer.main.get_command(app)
    # The groups of this CLI take no options, so the first word that names a subcommand is it.
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None and word.startswith("-"):
            continue
        if sub is None:
            break
        command = sub
    return {
        param.name: max(param.opts, key=len)
        for param in command.params
        if param.param_type_name == "option" and param.name
    }
