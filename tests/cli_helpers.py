"""Running the `tuneval` command in-process, as the CLI tests do."""

from __future__ import annotations

import pytest

from tuneval.cli import main


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``tuneval ARGV``; return its exit code (0 when it returned) and what it printed."""
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
