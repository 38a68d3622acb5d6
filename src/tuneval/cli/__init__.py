"""Command-line interface: thin typer commands over the library."""

from tuneval.cli.app import app, main

__all__ = ["app", "main"]
