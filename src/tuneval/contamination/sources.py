"""Streaming readers for training data: files, directories, globs and Hugging Face datasets.

A source is cut into `Shard`s that are scanned independently (an uncompressed JSONL or text
file is cut at line boundaries into byte ranges, so even one big file keeps every worker busy).
Each shard yields `Batch`es of record texts with their line numbers; unreadable records become
`Problem`s that name the file and line, and reading goes on unless `strict` is set.

Which text a record contributes (`record_text`): the named fields, or by default every string
value except ``id``/``category``/``difficulty``; chat ``messages``/``conversations`` lists
contribute the ``content``/``value`` of each turn. Fields of one record are joined with a
newline, so an n-gram may run from one field into the next, as in a training document.
"""

from __future__ import annotations

import glob
import io
import itertools
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneval.errors import DataError, require

BLOCK = 8 << 20
"""Bytes read at a time; also the target size of a batch."""
SHARD_BYTES = 32 << 20
"""Uncompressed JSONL files are cut into byte ranges of about this size."""
SKIP_KEYS = frozenset({"id", "category", "difficulty", "role"})
_CHAT_KEYS = ("messages", "conversations")
_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
_FORMATS |= {".tsv": "tsv", ".parquet": "parquet", ".txt": "text", ".md": "text"}


@dataclass(frozen=True)
class Shard:
    """A piece of a source that one worker scans on its own.

    Attributes:
        path: File path, or an ``hf:`` spec.
        fmt: ``jsonl``, ``json``, ``csv``, ``tsv``, ``parquet``, ``text`` or ``hf``.
        compression: ``""``, ``gz`` or ``zst``.
        start: First byte of the range (uncompressed JSONL/text only; else 0).
        end: End of the byte range, or -1 for the whole file.
        size: Bytes on disk this shard covers, for progress.
    """

    path: str
    fmt: str
    compression: str = ""
    start: int = 0
    end: int = -1
    size: int = 0


@dataclass
class Problem:
    """A record or file that could not be read."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Batch:
    """Texts of consecutive records with their (shard-local, 1-based) line numbers."""

    texts: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    nbytes: int = 0
    end_line: int = 0
    """The last line read so far (line-based formats), to place later byte-range shards."""


def _format(path: str) -> tuple[str, str]:
    lower = path.lower()
    compression = ""
    for ext, name in ((".gz", "gz"), (".zst", "zst"), (".zstd", "zst")):
        if lower.endswith(ext):
            compression, lower = name, lower[: -len(ext)]
    fmt = _FORMATS.get(os.path.splitext(lower)[1])
    if fmt is None:
        raise DataError(
            "unknown training-data format; use .jsonl, .json, .csv, .tsv, .parquet or .txt "
            "(optionally .gz or .zst), a directory, a glob or hf:DATASET",
            path=path,
        )
    return fmt, compression


def expand(sources: list[str]) -> list[str]:
    """Expand directories (recursively) and globs into a sorted list of files."""
    files: list[str] = []
    for src in sources:
        if src.startswith("hf:"):
            files.append(src)
        elif os.path.isdir(src):
            found = sorted(str(p) for p in Path(src).rglob("*") if p.is_file())
            files.extend(f for f in found if not Path(f).name.startswith("."))
        elif any(ch in src for ch in "*?["):
            matched = sorted(f for f in glob.glob(src, recursive=True) if os.path.isfile(f))
            if not matched:
                raise DataError("the glob matches no file", path=src)
            files.extend(matched)
        elif os.path.isfile(src):
            files.append(src)
        else:
            raise DataError("no such file or directory", path=src)
    return files


def plan(sources: list[str], shard_bytes: int = SHARD_BYTES) -> list[Shard]:
    """Cut the sources into shards; files in a directory with unknown extensions are errors."""
    shards: list[Shard] = []
    for path in expand(sources):
        if path.startswith("hf:"):
            shards.append(Shard(path, "hf"))
            continue
        fmt, compression = _format(path)
        size = os.path.getsize(path)
        if fmt in ("jsonl", "text") and not compression and size > shard_bytes:
            cuts = _cuts(path, size, shard_bytes)
            shards.extend(Shard(path, fmt, "", a, b, b - a) for a, b in itertools.pairwise(cuts))
        else:
            shards.append(Shard(path, fmt, compression, 0, -1, size))
    return shards


def _cuts(path: str, size: int, step: int) -> list[int]:
    """Byte offsets just after a newline, about `step` apart; a text file cuts at blank lines."""
    cuts = [0]
    with open(path, "rb") as handle:
        for guess in range(step, size, step):
            if guess <= cuts[-1]:
                continue
            handle.seek(guess)
            handle.readline()
            where = handle.tell()
            if where < size:
                cuts.append(where)
    cuts.append(size)
    return cuts


def _open(shard: Shard) -> io.BufferedIOBase:
    raw = open(shard.path, "rb")  # noqa: SIM115 - handed to the caller's with-block
    if shard.compression == "gz":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    if shard.compression == "zst":
        zstd: Any = require(
            "zstandard", package="zstandard", extra="zstd", purpose="Reading .zst files"
        )
        return io.BufferedReader(zstd.ZstdDecompressor().stream_reader(raw, closefd=True))
    raw.seek(shard.start)
    return raw


def _read_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)
    try:
        import zstandard

        errors += (zstandard.ZstdError,)
    except ImportError:  # pragma: no cover - the zstd extra is not installed
        pass
    return errors


def line_blocks(shard: Shard, problems: list[Problem]) -> Iterator[tuple[int, list[bytes]]]:
    """Yield (line number of the first line, complete lines) in blocks of about `BLOCK` bytes."""
    for first, data, _ in raw_blocks(shard, problems):
        lines = data.split(b"\n")
        yield first, lines[:-1] if data.endswith(b"\n") else lines


def raw_blocks(shard: Shard, problems: list[Problem]) -> Iterator[tuple[int, bytes, int]]:
    """Yield (first line number, whole lines as bytes, newline count) in blocks of ~`BLOCK`.

    The newline count spares callers a second pass over the block.

    A read error (corrupt or truncated gzip/zstd) ends the shard with one `Problem` at the
    next line; the lines decompressed before it are still yielded.
    """
    line = 1
    tail = b""
    with _open(shard) as handle:
        chunks = _chunks(handle, shard)
        while True:
            try:
                data = next(chunks, b"")
            except _read_errors() as exc:
                problems.append(Problem(shard.path, line + tail.count(b"\n"), _why(exc, shard)))
                data = tail = b""  # a partial last line is lost with the rest
            if not data:
                if tail:
                    yield line, tail, tail.count(b"\n")
                return
            data = tail + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                tail = data
                continue
            tail = data[cut:]
            block = data[:cut]
            newlines = block.count(b"\n")
            yield line, block, newlines
            line += newlines


def _chunks(handle: io.BufferedIOBase, shard: Shard) -> Iterator[bytes]:
    """The shard's bytes in pieces of about `BLOCK`; a read error comes after the data before it.

    Compressed input is read with ``read1``, so a truncated stream keeps everything that was
    decompressed up to the damage (``read`` would drop the whole piece with the error). No
    piece stays referenced here while the caller works on it (memory: one block less).
    """
    todo = shard.end - shard.start if shard.end >= 0 else -1
    read = handle.read1 if shard.compression else handle.read
    while todo != 0:
        want = BLOCK if todo < 0 else min(BLOCK, todo)
        parts: list[bytes] = []
        got = 0
        try:
            while got < want:
                parts.append(read(want - got))
                if not parts[-1]:
                    break
                got += len(parts[-1])
        except _read_errors():
            if got:
                yield _take(parts)
            raise
        if not got:
            return
        if todo > 0:
            todo -= got
        yield _take(parts)
        if got < want:
            return


def _take(parts: list[bytes]) -> bytes:
    """The pieces joined, and the list emptied (so it no longer holds them)."""
    out = b"".join(parts)
    parts.clear()
    return out


def _why(exc: BaseException, shard: Shard) -> str:
    kind = {"gz": "gzip", "zst": "zstd"}.get(shard.compression, "the file")
    return f"cannot read {kind} data ({type(exc).__name__}: {exc}); the rest of the file is lost"


def record_text(record: Any, fields: list[str] | None) -> str:
    """The text a record contributes: see the module docstring."""
    if isinstance(record, str):
        return record
    if not isinstance(record, dict):
        from tuneval.data.readers import json_type

        raise ValueError(f"expected a JSON object or a string, found a JSON {json_type(record)}")
    parts: list[str] = []
    keys = fields if fields else [k for k in record if k not in SKIP_KEYS]
    for key in keys:
        _collect(record.get(key), parts, chat=key in _CHAT_KEYS)
    if fields and not parts and not any(k in record for k in fields):
        raise ValueError(f"none of the fields {', '.join(fields)} is present")
    return "\n".join(parts)


def _collect(value: Any, parts: list[str], chat: bool = False) -> None:
    if isinstance(value, str):
        parts.append(value)
    elif isinstance(value, list):
        for item in value:
            _collect(item, parts, chat)
    elif isinstance(value, dict):
        if chat or "content" in value or "value" in value:
            _collect(value.get("content", value.get("value")), parts)
        else:
            for key, item in value.items():
                if key not in SKIP_KEYS:
                    _collect(item, parts)
