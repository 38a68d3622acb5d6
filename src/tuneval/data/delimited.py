"""CSV/TSV rows as records: one strict parser, one wording for every malformed row."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator

from tuneval.errors import DataError


def delimited_rows(
    lines: Iterable[tuple[int, str | None]],
    name: str,
    delimiter: str,
    report: Callable[[DataError], None],
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, record) of CSV/TSV text with a header row; `line` is where the row starts.

    Args:
        lines: (1-based line number, decoded line with its ending, or None for a line that
            was not UTF-8 and is already reported: its row is dropped).
        name: The source, for messages.
        delimiter: A comma or a tab.
        report: Where a malformed row goes (raise it, or collect it and go on).

    The parser is strict: a lenient one reads an unclosed quote as a field running to the end
    of the file, so one typo would silently swallow every later record.
    """
    undecodable: set[int] = set()

    def texts() -> Iterator[str]:
        for line, text in lines:
            if text is None:
                undecodable.add(line)
            yield text if text is not None else "\n"

    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    start = 1
    while True:
        line = start
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader goes on with the next line
            report(_csv_error(str(exc), name, line, reader.line_num))
            start = reader.line_num + 1
            continue
        start = reader.line_num + 1
        if undecodable.intersection(range(line, start)):
            if header is None:
                return  # no header, so no row can be read: the reported error says why
            continue
        if not row:
            continue
        if header is None:
            header = _check_header(row, name, line)
        elif len(row) != len(header):
            report(_cell_count_error(row, header, delimiter, name, line))
        else:
            yield line, dict(zip(header, row, strict=True))


def _csv_error(message: str, name: str, start: int, end: int) -> DataError:
    if "unexpected end of data" in message:
        return DataError(
            f"the quote opened on line {start} is never closed, so the rest of the file would "
            'read as one record; close it, or write a literal quote as ""',
            path=name,
            line=start,
        )
    return DataError(f"malformed row: {message}", path=name, line=end)


def _cell_count_error(
    row: list[str], header: list[str], delimiter: str, name: str, line: int
) -> DataError:
    """The error of a row with more or fewer cells than the header (what a spreadsheet does)."""
    found = f"has {len(row)} cells but the header has {len(header)}"
    if len(row) > len(header):
        sign = "comma" if delimiter == "," else "tab"
        hint = f"(a {sign} too many?); quote values that contain '{delimiter}' or line breaks"
    else:
        hint = f"(a truncated row?), missing {', '.join(header[len(row) :])}"
    return DataError(f"{found} {hint}", path=name, line=line)


def _check_header(row: list[str], name: str, line: int) -> list[str]:
    # Two columns of the same name would silently lose one column's values.
    repeated = next((column for i, column in enumerate(row) if column in row[:i]), None)
    if repeated is not None:
        raise DataError(
            f"the header names column '{repeated}' twice; rename one of them",
            path=name,
            line=line,
            field=repeated,
        )
    return row
