"""Every input format and compression, directories, globs, chat records, and bad input."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from contam_corpus import write_jsonl

from tuneval.contamination import check
from tuneval.errors import DataError

SECRET = "the quick brown fox jumps over the lazy dog near the river bank"
OTHER = "completely unrelated words that never show up in the eval set at all"
ROWS = [{"id": 1, "text": OTHER}, {"id": 2, "text": SECRET}, {"id": 3, "text": OTHER}]


@pytest.fixture
def ev(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "eval.jsonl", [{"id": "hit", "prompt": SECRET}, {"id": "miss", "prompt": "x"}]
    )


def _write(path: Path, fmt: str) -> None:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif fmt == "json":
        path.write_text(json.dumps({"data": ROWS}))
    elif fmt == "csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["id", "text"])
            writer.writeheader()
            writer.writerows(ROWS)
    elif fmt == "txt":
        path.write_text("\n\n".join(str(r["text"]) for r in ROWS) + "\n")
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(ROWS), path)


def _compress(path: Path, how: str) -> Path:
    if not how:
        return path
    data = path.read_bytes()
    out = path.with_name(path.name + "." + how)
    if how == "gz":
        out.write_bytes(gzip.compress(data))
    else:
        import zstandard

        out.write_bytes(zstandard.ZstdCompressor().compress(data))
    return out


_TEXT_FORMATS = [("jsonl", ":2"), ("json", " record 2"), ("csv", ":3"), ("txt", ":3")]


@pytest.mark.parametrize(
    ("fmt", "where", "how"),
    [(f, w, h) for f, w in _TEXT_FORMATS for h in ("", "gz", "zst")] + [("parquet", "", "")],
)
def test_formats(tmp_path: Path, ev: Path, fmt: str, where: str, how: str) -> None:
    path = tmp_path / f"train.{fmt}"
    _write(path, fmt)
    path = _compress(path, how)
    report = check([str(path)], str(ev), n=8, fields=None if fmt == "txt" else ["text"])
    hit, miss = report.examples
    assert hit.flagged and hit.overlap == 1.0 and not miss.flagged
    assert hit.found_in == [f"{path}{where or ' record 2'}"]
    assert report.records_scanned == 3


def test_directories_globs_and_chat(tmp_path: Path, ev: Path) -> None:
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    write_jsonl(tmp_path / "corpus" / "a.jsonl", [{"text": OTHER}])
    chat = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": SECRET}]
    }
    write_jsonl(tmp_path / "corpus" / "sub" / "b.jsonl", [chat])
    for source in (str(tmp_path / "corpus"), str(tmp_path / "corpus" / "**" / "*.jsonl")):
        report = check([source], str(ev), n=8)
        assert report.examples[0].found_in == [f"{tmp_path / 'corpus' / 'sub' / 'b.jsonl'}:1"]
        assert report.records_scanned == 2


def test_hf_streaming_local_file(tmp_path: Path, ev: Path) -> None:
    pytest.importorskip("datasets")
    path = write_jsonl(tmp_path / "train.jsonl", ROWS)
    report = check([f"hf:{path}@train"], str(ev), n=8, fields=["text"])
    assert report.examples[0].flagged and report.records_scanned == 3


def test_bad_json_line_is_counted_or_stops(tmp_path: Path, ev: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{broken\n" + json.dumps(ROWS[1]) + "\n[1, 2]\n")
    with pytest.raises(DataError, match=r"2 training record\(s\) could not be read.*use skip_bad"):
        check([str(path)], str(ev), n=8)
    report = check([str(path)], str(ev), n=8, skip_bad=True)
    assert report.examples[0].flagged and report.bad_records == 2
    assert report.problems[0].startswith(f"{path}:2: unreadable record")
    assert report.problems[1].startswith(f"{path}:4: unreadable record: expected a JSON object")
    with pytest.raises(DataError, match=r"train\.jsonl:2: unreadable record"):
        check([str(path)], str(ev), n=8, strict=True)


def test_corrupt_gzip(tmp_path: Path, ev: Path) -> None:
    lines = "".join(json.dumps(r) + "\n" for r in ROWS * 2000).encode()
    data = bytearray(gzip.compress(lines))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    bad = tmp_path / "train.jsonl.gz"
    bad.write_bytes(bytes(data))
    good = write_jsonl(tmp_path / "more.jsonl", [ROWS[1]])
    report = check([str(bad), str(good)], str(ev), n=8, skip_bad=True)
    # What deflate decoded up to the damage is read (the damaged part decodes to garbage
    # lines, each unreadable), then the CRC check fails: the rest of the file is lost.
    assert report.bad_records >= 1 and report.problems[0].startswith(f"{bad}:")
    assert report.records_scanned > 1
    assert f"{good}:1" in report.examples[0].found_in  # the scan went on to the next file
    with pytest.raises(DataError, match=r"train\.jsonl\.gz:\d+: (cannot read gzip|unreadable)"):
        check([str(bad), str(good)], str(ev), n=8, strict=True)


def test_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path: Path, ev: Path) -> None:
    lines = "".join(json.dumps(r) + "\n" for r in ROWS * 2000).encode()
    cut = tmp_path / "train.jsonl.gz"
    cut.write_bytes(gzip.compress(lines)[:-20])
    with pytest.raises(DataError, match=r"1 training record\(s\) could not be read"):
        check([str(cut)], str(ev), n=8)
    report = check([str(cut)], str(ev), n=8, skip_bad=True)
    assert 5900 < report.records_scanned < 6000 and report.examples[0].flagged
    assert "cannot read gzip data (EOFError" in report.problems[0]


def test_missing_and_unknown_sources(tmp_path: Path, ev: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        check([str(tmp_path / "nope.jsonl")], str(ev))
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(DataError, match="unknown training-data format"):
        check([str(tmp_path / "x.bin")], str(ev))
    with pytest.raises(DataError, match="matches no file"):
        check([str(tmp_path / "*.parquet")], str(ev))


def test_fast_and_slow_jsonl_lines_agree(tmp_path: Path) -> None:
    """Raw lines that exercise the compiled parser (escapes, literals) and the json fallback."""
    lines = [
        r'{"id": 1, "text": "\u0041lpha \"beta\"\tgamma\ndelta epsilon", "x": -1.5e+3, "y": true}',
        '{"id": 2, "text": "alpha beta gamma delta epsilon", "nested": {"k": "v"}}',
        '{"id": 3, "text": "ALPHA beta gamma delta épsilon"}',
        '{"id": 4, "text": "alpha beta gamma delta epsilon", "bad": 01}',
        '{"id": 5, "other": "alpha beta gamma delta epsilon"}',
    ]
    train = tmp_path / "t.jsonl"
    train.write_text("\n".join(lines) + "\n")
    ev = write_jsonl(
        tmp_path / "e.jsonl",
        [{"id": "ascii", "prompt": "alpha beta gamma delta epsilon"}, {"id": "u", "prompt": "é"}],
    )
    report = check([str(train)], str(ev), n=5, fields=["text"], skip_bad=True)
    assert report.examples[0].found_in == [f"{train}:1", f"{train}:2"]
    assert report.records_scanned == 3 and report.bad_records == 2
    assert report.problems[0].startswith(f"{train}:4:")
    assert report.problems[1].startswith(f"{train}:5: unreadable record: none of the fields")
    ev2 = write_jsonl(tmp_path / "e2.jsonl", [{"prompt": "alpha beta gamma delta épsilon"}])
    report = check([str(train)], str(ev2), n=5, fields=["text"], skip_bad=True)
    assert report.examples[0].found_in == [f"{train}:3"]
