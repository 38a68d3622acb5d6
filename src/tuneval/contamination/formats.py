"""Turn a `Shard` into `Batch`es of record texts, whatever its format.

JSONL is parsed one line at a time with the standard library's C ``json`` decoder (faster than
parsing a joined array): the field extraction then touches only the parsed objects. Lines,
JSON documents and CSV rows are decoded and parsed by the eval-set readers
(`tuneval.data.readers`, `tuneval.data.delimited`): strict UTF-8, no repeated key, one wording
for every problem. A bad record becomes a `Problem` naming the file and line, or, with
``strict``, a `DataError`.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from tuneval.contamination.sources import BLOCK, Batch, Problem, Shard, line_blocks, record_text
from tuneval.data.delimited import delimited_rows
from tuneval.data.readers import UTF8_BOM, decode_line, json_document_items, parse_json
from tuneval.errors import DataError, require


class Sink:
    """Collects problems (raising at the first one when strict) and the fields records have."""

    def __init__(self, problems: list[Problem], strict: bool, seen: set[str] | None = None) -> None:
        self.problems = problems
        self.strict = strict
        self.seen = set() if seen is None else seen
        """Which of the requested fields some record had (to tell a typo from sparse data)."""

    def bad(self, path: str, line: int, message: str) -> None:
        """Record (or, when strict, raise) an unreadable record."""
        if self.strict:
            raise DataError(message, path=path, line=line)
        self.problems.append(Problem(path, line, message))

    def report(self, error: DataError, what: str = "unreadable record: ") -> None:
        """`bad` for an error of the shared readers (`tuneval.data.readers`), in their words."""
        self.bad(error.path or "", error.line or 1, what + error.detail)

    def check_io(self, before: int) -> None:
        """Raise for a read problem recorded by `line_blocks` since `before`, when strict."""
        if self.strict and len(self.problems) > before:
            p = self.problems[-1]
            raise DataError(p.message, path=p.path, line=p.line)

    def text(self, record: Any, fields: list[str] | None) -> str:
        """`record_text`, noting which of `fields` the record has (a plain string has all)."""
        if fields:
            if isinstance(record, dict):
                self.seen.update(f for f in fields if f in record)
            elif isinstance(record, str):
                self.seen.update(fields)
        return record_text(record, fields)


def batches(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    """Yield the record texts of `shard` in batches of about `BLOCK` bytes."""
    reader = {"jsonl": _jsonl, "text": _text, "json": _json, "csv": _csv, "tsv": _csv}
    reader |= {"parquet": _parquet, "hf": _hf}
    yield from reader[shard.fmt](shard, fields, sink)


def _jsonl(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    offset = shard.start
    for first, lines in line_blocks(shard, sink.problems):
        sink.check_io(0)
        batch = parse_lines(shard.path, first, lines, range(len(lines)), fields, sink, offset)
        batch.nbytes = sum(len(raw) + 1 for raw in lines)
        batch.end_line = first + len(lines) - 1
        offset += batch.nbytes
        yield batch
    sink.check_io(0)


def parse_lines(
    path: str,
    first: int,
    lines: list[bytes],
    which: Iterable[int],
    fields: list[str] | None,
    sink: Sink,
    offset: int = 0,
) -> Batch:
    """Parse the JSONL lines `which` (indices into `lines`; line ``i`` is file line first + i).

    Each line is read as `tuneval.data.read_records` reads it (strict UTF-8, no repeated
    key), with its wording; `offset` is the byte offset of ``lines[0]``, for messages.
    """
    text_of = sink.text
    where = _Offsets(lines, offset)
    batch = Batch()
    for i in which:
        raw = lines[i]
        if not raw.strip():
            continue
        line = first + i
        try:
            text = text_of(parse_json(_decoded(raw, line, path, where, i), path, line), fields)
        except DataError as exc:
            sink.report(exc)
            continue
        except ValueError as exc:  # record_text: not an object, or none of the fields
            sink.bad(path, line, f"unreadable record: {exc}")
            continue
        batch.texts.append(text)
        batch.lines.append(line)
    return batch


class _Offsets:
    """Byte offsets of a block's lines, worked out only when a message needs one."""

    def __init__(self, lines: list[bytes], offset: int) -> None:
        self.lines = lines
        self.offset = offset
        self.starts: list[int] | None = None

    def __getitem__(self, i: int) -> int:
        if self.starts is None:
            sizes = (len(raw) + 1 for raw in self.lines)
            self.starts = list(itertools.accumulate(sizes, initial=self.offset))
        return self.starts[i]


def _decoded(raw: bytes, line: int, path: str, offsets: _Offsets, i: int) -> str:
    """Line `i` of a block (`raw`) as text; a byte-order mark at the file's start is dropped."""
    skip = len(UTF8_BOM) if line == 1 and raw.startswith(UTF8_BOM) else 0
    try:
        return raw[skip:].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:  # the shared wording, with the line's byte offset
        return decode_line(raw[skip:], path, line, offsets[i] + skip)


def _text(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    """Plain text: each paragraph (lines up to a blank line) is one record (all its text)."""
    sink.seen.update(fields or ())
    para: list[str] = []
    start = 0
    offset = shard.start
    for first, lines in line_blocks(shard, sink.problems):
        sink.check_io(0)
        batch = Batch()
        where = _Offsets(lines, offset)
        for i, raw in enumerate(lines):
            batch.nbytes += len(raw) + 1
            try:
                line = _decoded(raw, first + i, shard.path, where, i)
            except DataError as exc:  # reported, and left out of its paragraph
                sink.report(exc)
                continue
            if line.strip():
                if not para:
                    start = first + i
                para.append(line)
            elif para:
                batch.texts.append("\n".join(para))
                batch.lines.append(start)
                para = []
        batch.end_line = first + len(lines) - 1
        offset += batch.nbytes
        yield batch
    sink.check_io(0)
    if para:
        yield Batch(["\n".join(para)], [start], 0)


def _whole(shard: Shard, sink: Sink) -> bytes:
    chunks = []
    for _, lines in line_blocks(shard, sink.problems):
        chunks.append(b"\n".join(lines))
    sink.check_io(0)
    return b"\n".join(chunks)


def _json(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    """A JSON array of records, or an object with one list value (read whole: not streamed)."""
    try:
        rows = json_document_items(_whole(shard, sink), shard.path)
    except DataError as exc:
        sink.report(exc, "")
        return
    yield from _records(shard, iter(rows), fields, sink)


def _records(
    shard: Shard, rows: Iterator[Any], fields: list[str] | None, sink: Sink
) -> Iterator[Batch]:
    """Batch already parsed records; `line` counts records (1-based)."""
    batch = Batch()
    for index, row in enumerate(rows, start=1):
        try:
            text = sink.text(row, fields)
        except ValueError as exc:
            sink.bad(shard.path, index, f"unreadable record: {exc}")
            continue
        batch.texts.append(text)
        batch.lines.append(index)
        batch.nbytes += len(text)
        if batch.nbytes >= BLOCK:
            yield batch
            batch = Batch()
    yield batch


def _csv(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    """CSV/TSV with a header row (`tuneval.data.delimited`); `line`: where a row starts."""
    raw = _whole(shard, sink)
    lines = raw.split(b"\n")
    where = _Offsets(lines, 0)

    def decoded() -> Iterator[tuple[int, str | None]]:
        for i, line in enumerate(lines):
            try:
                yield i + 1, _decoded(line, i + 1, shard.path, where, i) + "\n"
            except DataError as exc:
                sink.report(exc)
                yield i + 1, None

    batch = Batch()
    delimiter = "\t" if shard.fmt == "tsv" else ","
    for line, record in delimited_rows(decoded(), shard.path, delimiter, sink.report):
        try:
            batch.texts.append(sink.text(record, fields))
        except ValueError as exc:
            sink.bad(shard.path, line, f"unreadable record: {exc}")
            continue
        batch.lines.append(line)
    batch.nbytes = len(raw.decode("utf-8", errors="replace"))
    yield batch


def _parquet(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    pq: Any = require("pyarrow.parquet", package="pyarrow", extra="parquet", purpose="Parquet")
    try:
        handle = pq.ParquetFile(shard.path)
        rows = (r for b in handle.iter_batches(batch_size=4096) for r in b.to_pylist())
        yield from _records(shard, rows, fields, sink)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        sink.bad(shard.path, 1, f"cannot read the Parquet file: {exc}")


def _hf(shard: Shard, fields: list[str] | None, sink: Sink) -> Iterator[Batch]:
    """A Hugging Face dataset, streamed (``hf:NAME[#CONFIG][@SPLIT]``, default split train)."""
    datasets: Any = require("datasets", package="datasets", extra="hf", purpose="HF datasets")
    from tuneval.data.hf import hf_load_args, parse_hf_source

    name, config, split = parse_hf_source(shard.path)
    args, kwargs = hf_load_args(name, config)
    try:
        rows = datasets.load_dataset(*args, split=split or "train", streaming=True, **kwargs)
        yield from _records(shard, iter(rows), fields, sink)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot stream the dataset: {exc}", path=shard.path) from exc


def sample_keys(shards: list[Shard], limit: int = 1000) -> list[str]:
    """The field names of the first `limit` records (to say which fields a source has)."""
    keys: dict[str, None] = {}
    count = 0
    for shard in shards:
        for row in _rows(shard):
            if isinstance(row, dict):
                keys.update(dict.fromkeys(str(k) for k in row))
            count += 1
            if count >= limit:
                return list(keys)
    return list(keys)


def _rows(shard: Shard) -> Iterator[Any]:
    """Parsed records of a shard, skipping what cannot be read (the scan reports that)."""
    sink = Sink([], strict=False)
    if shard.fmt == "jsonl":
        for _, lines in line_blocks(shard, sink.problems):
            for raw in lines:
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue
    elif shard.fmt in ("csv", "tsv"):
        for _, lines in line_blocks(shard, sink.problems):
            first = lines[0].decode("utf-8", errors="replace") if lines else ""
            header = next(csv.reader([first], delimiter="\t" if shard.fmt == "tsv" else ","), [])
            yield dict.fromkeys(header)
            return
    elif shard.fmt == "json":
        try:
            yield from json_document_items(_whole(shard, sink), shard.path)
        except DataError:
            return
    elif shard.fmt == "parquet":
        pq: Any = require("pyarrow.parquet", package="pyarrow", extra="parquet", purpose="Parquet")
        try:
            yield dict.fromkeys(pq.ParquetFile(shard.path).schema_arrow.names)
        except (OSError, ValueError):
            return
