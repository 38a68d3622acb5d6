"""Reading benchmark data files with errors that name file, record and field."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tuneval.errors import DataError


def iter_json_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(record number, object) of a JSONL file (optionally ``.gz``) or a JSON array file."""
    if not path.exists():
        raise DataError("file not found", path=path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
        if not isinstance(data, list):
            raise DataError("expected a JSON array of records", path=path)
        for i, obj in enumerate(data, 1):
            if not isinstance(obj, dict):
                raise DataError("record is not an object", path=path, line=i)
            yield i, obj
        return
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=i) from None
        if not isinstance(obj, dict):
            raise DataError("record is not an object", path=path, line=i)
        yield i, obj


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
    return [dict(row) for row in mod.load_dataset(dataset, config, split=split)]
