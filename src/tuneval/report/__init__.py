"""Reports of a workflow run: ``results.json``, ``report.md`` and a self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from tuneval.report.schema import RESULTS_SCHEMA_VERSION, Results

RESULTS_FILE = "results.json"
"""The run's results, as `Results` JSON."""
MARKDOWN_FILE = "report.md"
"""The short Markdown report."""
HTML_FILE = "report.html"
"""The self-contained HTML report."""
REPORT_FILES = (RESULTS_FILE, MARKDOWN_FILE, HTML_FILE)
"""Every file `write_reports` writes, in order."""


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_reports(run_dir: str | Path, results: Results) -> list[Path]:
    """Write ``results.json``, ``report.md`` and ``report.html`` into ``run_dir``.

    Returns:
        The three paths.
    """
    from tuneval.report.html import render_html
    from tuneval.report.markdown import render_markdown

    folder = Path(run_dir)
    return [
        _write(folder / RESULTS_FILE, results.model_dump_json(indent=1)),
        _write(folder / MARKDOWN_FILE, render_markdown(results)),
        _write(folder / HTML_FILE, render_html(results)),
    ]


__all__ = [
    "HTML_FILE",
    "MARKDOWN_FILE",
    "REPORT_FILES",
    "RESULTS_FILE",
    "RESULTS_SCHEMA_VERSION",
    "Results",
    "write_reports",
]
