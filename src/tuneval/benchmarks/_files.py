"""Reading benchmark data files with errors that name file, record and field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tuneval.errors import DataError


def iter_json_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(record number, object) of a benchmark data file, read by `tuneval.data.read_records`.

    JSONL and JSON arrays (optionally ``.gz``) are what the benchmarks ship; the shared reader
    gives every data file the same strictness (UTF-8, no duplicate keys) and error wording.
    """
    from tuneval.data.readers import read_records

    for record in read_records(path):
        yield record.line, record.data


def field(obj: Mapping[str, Any], name: str, kind: type, path: Path | str, line: int) -> Any:
    """``obj[name]`` checked to be of ``kind``; a `DataError` naming file/line/field if not."""
    if name not in obj:
        raise DataError(f"missing field '{name}'", path=path, line=line, field=name)
    value = obj[name]
    if not isinstance(value, kind):
        raise DataError(
            f"field '{name}' should be {kind.__name__}, got {type(value).__name__}",
            path=path,
            line=line,
            field=name,
        )
    return value


def load_hub(dataset: str, config: str | None, split: str) -> list[dict[str, Any]]:
    """Rows of a Hugging Face hub dataset (needs network or a local HF cache)."""
    from tuneval.errors import require

    mod: Any = require("datasets", package="datasets", extra="hf", purpose=f"loading {dataset}")
    try:
        return [dict(row) for row in mod.load_dataset(dataset, config, split=split)]
    except ConnectionError:
        # datasets raises ConnectionError once its retries of the hub are spent (offline).
        raise DataError(
            f"cannot reach the Hugging Face hub for {dataset}; pass --data DIR (the original "
            "release files)"
        ) from None
