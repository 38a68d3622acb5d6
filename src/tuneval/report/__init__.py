"""Reports of a workflow run: ``results.json``, ``report.md`` and a self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from tuneval.report.schema import RESULTS_SCHEMA_VERSION, Results


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
        _write(folder / "results.json", results.model_dump_json(indent=1)),
        _write(folder / "report.md", render_markdown(results)),
        _write(folder / "report.html", render_html(results)),
    ]


__all__ = ["RESULTS_SCHEMA_VERSION", "Results", "write_reports"]
