"""Format readers: turn a file (or a Hugging Face dataset) into plain records with locations.

Every reader yields `SourceRecord`s that remember where they came from, so that any later
validation error can name the file and line. Readers never skip or repair data silently: the
only things dropped are whitespace-only lines (JSONL) and empty lines (CSV/TSV).
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tuneval.data.delimited import delimited_rows
from tuneval.data.hf import HF_PREFIX
from tuneval.errors import DataError, require

UTF8_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte-order mark, legal at the start of a file (editors on Windows write one)."""
_Report = Callable[[DataError], None]
"""Where a malformed record goes: raise it (the default) or collect it (validation)."""
_JSON_WHITESPACE = " \t\r\n"

SUPPORTED_EXTENSIONS = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
"""File extensions `read_records` understands; all but ``.parquet`` may also end in ``.gz``."""


@dataclass(frozen=True)
class SourceRecord:
    """One record of a source, with where it came from.

    Attributes:
        data: The record's fields, as parsed (CSV/TSV values are always strings).
        path: The source as the caller named it (a file path or an ``hf:`` spec).
        line: 1-based location of the record. For JSONL it is the line number; for CSV/TSV the
            physical line on which the row starts, counting the header as line 1; for JSON
            arrays, Parquet rows and Hugging Face datasets it is the record's 1-based index.
        unit: What `line` counts, ``"line"`` or ``"record"``, for messages.
    """

    data: dict[str, Any]
    path: str
    line: int
    unit: Literal["line", "record"] = "line"

    @property
    def where(self) -> str:
        """The location in words, e.g. ``line 3`` or ``record 3``."""
        return f"{self.unit} {self.line}"


def supported_formats() -> str:
    """Describe the accepted sources, for error messages and help texts."""
    gz = ", ".join(ext + ".gz" for ext in SUPPORTED_EXTENSIONS if ext != ".parquet")
    return f"{', '.join(SUPPORTED_EXTENSIONS)}, {gz}, or {HF_PREFIX}DATASET[#CONFIG][@SPLIT]"


class NoRecordsError(DataError):
    """The source holds no records at all (empty, blank lines only, or a header only)."""


def _raise(error: DataError) -> None:
    raise error


def read_records(
    source: str | Path, *, errors: list[DataError] | None = None
) -> Iterator[SourceRecord]:
    """Read the records of a file or Hugging Face dataset, choosing the format by extension.

    Accepted sources: ``.jsonl``/``.ndjson`` (one JSON object per line), ``.json`` (an array of
    objects, or an object with exactly one list value such as ``{"data": [...]}``),
    ``.csv``/``.tsv`` (a header row, then one row per record), ``.parquet`` (needs the
    ``parquet`` extra), gzip-compressed ``.gz`` versions of all but Parquet, and
    ``hf:DATASET[#CONFIG][@SPLIT]`` (needs the ``hf`` extra; see `parse_hf_source`).

    Args:
        source: A file path or an ``hf:`` spec.
        errors: When given, a malformed record (a JSONL line that is not a JSON object, a
            CSV/TSV row with the wrong number of columns, a line that is not UTF-8, a JSON array
            item that is not an object) is appended here and reading goes on with the next
            one, so that a validator can report every bad line; it is never yielded. Problems
            with the whole source still raise.

    Yields:
        The records in file order.

    Raises:
        DataError: While iterating, if the source does not exist, is a directory, has an
            unsupported extension, holds no records, or (without `errors`) holds a malformed
            record; the message names the file and line.
    """
    report: _Report = _raise if errors is None else errors.append
    name = str(source)
    if isinstance(source, str) and source.startswith(HF_PREFIX):
        from tuneval.data.hf import read_hf

        yield from _non_empty(read_hf(source), name)
        return
    path = Path(source)
    if path.is_dir():
        raise DataError(
            f"is a directory, not a file; to read a Hugging Face dataset saved there, "
            f"pass '{HF_PREFIX}{name}'",
            path=name,
        )
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    ext = (suffixes[-2] if len(suffixes) > 1 else "") if compressed else path.suffix.lower()
    reader = None if compressed and ext == ".parquet" else _READERS.get(ext)
    if reader is None:
        shown = "".join(suffixes[-2:]) if compressed else path.suffix or "no extension"
        raise DataError(
            f"unsupported file type ({shown}); supported: {supported_formats()}. "
            "Rename the file to match its content",
            path=name,
        )
    if not path.is_file():
        raise DataError("file not found; check the path and the working directory", path=name)
    yield from _non_empty(reader(path, name, compressed, report), name, errors)


def _non_empty(
    records: Iterator[SourceRecord], name: str, errors: list[DataError] | None = None
) -> Iterator[SourceRecord]:
    """Pass records through, raising if there were none (an empty file is always a mistake)."""
    count = 0
    for record in records:
        count += 1
        yield record
    if count == 0 and not errors:
        raise NoRecordsError(
            "no records found: the source is empty or holds only blank lines; check that it "
            "is the right file",
            path=name,
        )


def _open_binary(path: Path, name: str, compressed: bool) -> io.BufferedIOBase:
    try:
        return gzip.open(path, "rb") if compressed else path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot open the file: {exc.strerror or exc}", path=name) from exc


def decode_line(raw: bytes, name: str, line: int, offset: int) -> str:
    """Decode one line strictly, so that a wrong encoding is reported, never papered over.

    Args:
        raw: The line's bytes.
        name: The source, for the message.
        line: Its 1-based line number.
        offset: The byte offset of ``raw[0]`` in the (decompressed) file.

    Raises:
        DataError: The line is not UTF-8; the message names the byte, its offset and column.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _utf8_error(raw, exc.start, name, line, offset) from exc
    _refuse_wide_text(raw, text, name, line, offset)
    return text


def _refuse_wide_text(raw: bytes, text: str, name: str, line: int, offset: int) -> None:
    """Raise when valid UTF-8 is really UTF-16/32 text: ASCII letters between NUL bytes.

    Such bytes decode without error, and would otherwise be reported as malformed JSON or a
    short CSV row, which sends the user looking for the wrong problem.
    """
    if "\x00" in text and _likely_encoding(raw, offset) != "latin1":
        raise _utf8_error(raw, raw.index(0), name, line, offset)


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _likely_encoding(raw: bytes, offset: int) -> str:
    """The encoding to advise converting from (`raw` starts at byte `offset` of the file).

    A byte-order mark at the file's start names a UTF-16/32 encoding. Without one, text of
    mostly ASCII letters in UTF-16 has a NUL in every other byte (UTF-32: three of four),
    which no UTF-8 or Latin-1 text has; where the NULs fall gives the byte order, which
    iconv needs when there is no mark.
    """
    if offset == 0:
        for bom, encoding in _WIDE_BOMS:
            if raw.startswith(bom):
                return encoding
    nuls = raw.count(0)
    if not raw or nuls * 3 < len(raw):
        return "latin1"
    width = 4 if len(raw) >= 8 and nuls * 4 >= len(raw) * 3 - 4 else 2
    # In little-endian the ASCII byte comes first: non-NUL bytes at the unit's first offset.
    first = sum(1 for i, b in enumerate(raw) if b and (offset + i) % width == 0)
    return f"utf-{8 * width}{'le' if first * 2 >= len(raw) - nuls else 'be'}"


def _utf8_error(raw: bytes, bad: int, name: str, line: int, offset: int) -> DataError:
    """Describe the invalid byte at index `bad` of `raw`, whose first byte is at `offset`."""
    column = len(raw[raw.rfind(b"\n", 0, bad) + 1 : bad].decode("utf-8", errors="replace")) + 1
    encoding = _likely_encoding(raw, offset)
    looks = "" if encoding == "latin1" else f", it looks like {encoding.upper()[:6]}"
    return DataError(
        f"the file is not UTF-8 (byte 0x{raw[bad]:02x} at byte offset {offset + bad}) on this "
        f"line (column {column}){looks}; save it as UTF-8 (in a spreadsheet: 'CSV UTF-8'; on "
        f"the command line: 'iconv -f {encoding} -t utf-8 {name} > {_utf8_name(name)}')",
        path=name,
        line=line,
    )


def _utf8_name(name: str) -> str:
    path = Path(name)
    suffixes = [s for s in path.suffixes if s.lower() != ".gz"]  # iconv writes it plain
    return str(path.with_name(f"{path.name.split('.')[0]}.utf8{''.join(suffixes)}"))


def _lines(
    path: Path, name: str, compressed: bool, report: _Report
) -> Iterator[tuple[int, str | None]]:
    """Yield (1-based line number, decoded line with its ending); byte offsets are exact.

    A line that is not UTF-8 goes to `report`; when that returns, the line is yielded as None.
    """
    offset = 0
    line = 0
    with _open_binary(path, name, compressed) as handle:
        try:
            for line, raw in enumerate(handle, start=1):
                # A UTF-8 byte-order mark is legal at the start; editors on Windows write one.
                skip = len(UTF8_BOM) if line == 1 and raw.startswith(UTF8_BOM) else 0
                try:
                    text: str | None = decode_line(raw[skip:], name, line, offset + skip)
                except DataError as exc:
                    report(exc)
                    text = None
                yield line, text
                offset += len(raw)
        except (OSError, EOFError, zlib.error) as exc:
            hint = "; is it really gzip-compressed?" if compressed else ""
            raise DataError(f"cannot read the file: {exc}{hint}", path=name, line=line + 1) from exc


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; that would silently drop data.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def json_type(value: Any) -> str:
    """Name a parsed value's type the way JSON does (``object``, ``array``, ``null``...)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


_JSON_TYPES = {bool: "boolean", dict: "object", list: "array", tuple: "array", str: "string",
               int: "integer", float: "number", type(None): "null"}  # fmt: skip


def parse_json(text: str, name: str, line: int | None) -> Any:
    """Parse one JSONL line (`line` given) or a whole JSON document (`line` None).

    Raises:
        DataError: Malformed JSON or a key repeated in one object (``json`` would keep the
            last value silently); the message names the line and column.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        if line is not None:
            hint = "each line must hold one complete JSON object (a record split over lines?)"
        elif exc.msg == "Extra data":
            hint = "if the file holds one JSON object per line, rename it to .jsonl"
        else:
            hint = "fix the JSON syntax"
        raise DataError(
            f"malformed JSON: {exc.msg} (column {exc.colno}); {hint}",
            path=name,
            line=exc.lineno if line is None else line,
        ) from exc
    except _DuplicateKeyError as exc:
        raise DataError(
            f"duplicate key '{exc}' in one object; keep one of them",
            path=name,
            line=line,
            field=str(exc),
        ) from exc


def _read_jsonl(path: Path, name: str, compressed: bool, report: _Report) -> Iterator[SourceRecord]:
    for line, text in _lines(path, name, compressed, report):
        if text is None or not text.strip(_JSON_WHITESPACE):
            continue
        try:
            # Without the line ending, an incomplete object is reported at its real last column.
            data = parse_json(text.rstrip("\r\n"), name, line)
        except DataError as exc:
            report(exc)
            continue
        if not isinstance(data, dict):
            report(
                DataError(
                    f'expected a JSON object like {{"id": ...}}, found a JSON {json_type(data)}; '
                    "each line must hold one object",
                    path=name,
                    line=line,
                )
            )
            continue
        yield SourceRecord(data, name, line)


def _read_json(path: Path, name: str, compressed: bool, report: _Report) -> Iterator[SourceRecord]:
    with _open_binary(path, name, compressed) as handle:
        try:
            raw = handle.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"cannot read the file: {exc}", path=name) from exc
    for index, item in enumerate(json_document_items(raw, name), start=1):
        if not isinstance(item, dict):
            report(
                DataError(
                    f"expected a JSON object, found a JSON {json_type(item)}; the array must "
                    "hold only objects",
                    path=name,
                    line=index,
                )
            )
            continue
        yield SourceRecord(item, name, index, "record")


def json_document_items(raw: bytes, name: str) -> list[Any]:
    """The records of a whole JSON file: an array, or an object's one list (empty: none).

    Raises:
        DataError: The bytes are not UTF-8, the JSON is malformed, or it holds no list of
            records; the message names the line.
    """
    skip = len(UTF8_BOM) if raw.startswith(UTF8_BOM) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, skip + exc.start) + 1
        raise _utf8_error(raw[skip:], exc.start, name, line, skip) from exc
    if "\x00" in text:  # UTF-16/32 without a byte-order mark: one error for the whole file
        bad = text.index("\x00")
        _refuse_wide_text(raw[skip:], text, name, text.count("\n", 0, bad) + 1, skip)
    if not text.strip(_JSON_WHITESPACE):
        return []  # an empty file; read_records reports that it has no records
    return _json_items(parse_json(text, name, None), name)


def _json_items(data: Any, name: str) -> list[Any]:
    """The list of records in a JSON document: the array itself, or the object's one list."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        lists = [key for key, value in data.items() if isinstance(value, list)]
        if len(lists) == 1:
            items: list[Any] = data[lists[0]]
            return items
        found = f"several list fields ({', '.join(lists)})" if lists else "no list field"
        raise DataError(
            f"the top-level object has {found}; expected an array of records or an object with "
            'exactly one list of records, such as {"data": [...]}',
            path=name,
        )
    raise DataError(
        f"expected an array of objects, found a JSON {json_type(data)}", path=name, line=1
    )


def _read_delimited(
    path: Path, name: str, compressed: bool, report: _Report, delimiter: str
) -> Iterator[SourceRecord]:
    rows = delimited_rows(_lines(path, name, compressed, report), name, delimiter, report)
    for line, data in rows:
        yield SourceRecord(data, name, line)


def _read_parquet(
    path: Path, name: str, compressed: bool, report: _Report
) -> Iterator[SourceRecord]:
    pq: Any = require(
        "pyarrow.parquet", package="pyarrow", extra="parquet", purpose="Reading Parquet files"
    )
    try:
        table = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"not a readable Parquet file: {exc}", path=name) from exc
    index = 0
    for batch in table.iter_batches():
        for row in batch.to_pylist():
            index += 1
            yield SourceRecord(row, name, index, "record")


_Reader = Callable[[Path, str, bool, _Report], Iterator[SourceRecord]]
_READERS: dict[str, _Reader] = {
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".json": _read_json,
    ".csv": lambda path, name, gz, report: _read_delimited(path, name, gz, report, ","),
    ".tsv": lambda path, name, gz, report: _read_delimited(path, name, gz, report, "\t"),
    ".parquet": _read_parquet,
}
