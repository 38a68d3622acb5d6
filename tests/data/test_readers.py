import csv
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Hugging Face must never reach the network from tests; set before `datasets` is imported.
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tuneval.data import SUPPORTED_EXTENSIONS, parse_hf_source, read_records
from tuneval.errors import DataError, MissingDependencyError

ROWS = [
    {"id": "a", "prompt": 'héllo, "world"', "reference": "ünïcode ✓"},
    {"id": "b", "prompt": "line one\nline two", "reference": "tab\there"},
    {"id": "c", "prompt": "", "reference": "last"},
]


def jsonl_text(rows):
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_csv(path: Path, rows, delimiter=",", opener=open):
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def write_parquet(path: Path, rows):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame(rows).to_parquet(path, index=False)


WRITERS = {
    "data.jsonl": lambda p: p.write_text(jsonl_text(ROWS), encoding="utf-8"),
    "data.ndjson": lambda p: p.write_text(jsonl_text(ROWS), encoding="utf-8"),
    "data.jsonl.gz": lambda p: p.write_bytes(gzip.compress(jsonl_text(ROWS).encode())),
    "array.json": lambda p: p.write_text(json.dumps(ROWS), encoding="utf-8"),
    "wrapped.json": lambda p: p.write_text(json.dumps({"version": 2, "data": ROWS})),
    "array.json.gz": lambda p: p.write_bytes(gzip.compress(json.dumps(ROWS).encode())),
    "data.csv": lambda p: write_csv(p, ROWS),
    "data.tsv": lambda p: write_csv(p, ROWS, delimiter="\t"),
    "data.csv.gz": lambda p: write_csv(p, ROWS, opener=gzip.open),
    "data.TSV.GZ": lambda p: write_csv(p, ROWS, delimiter="\t", opener=gzip.open),
    "data.parquet": lambda p: write_parquet(p, ROWS),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_format_round_trips(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](path)
    records = list(read_records(path))
    assert [r.data for r in records] == ROWS
    assert {r.path for r in records} == {str(path)}


def test_supported_extensions_all_have_a_round_trip_test():
    covered = {Path(name.lower()).suffixes[0] for name in WRITERS}
    assert covered == set(SUPPORTED_EXTENSIONS)


def test_accepts_str_and_path(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(jsonl_text(ROWS))
    assert list(read_records(str(path))) == list(read_records(path))


def test_jsonl_lines_are_physical_and_whitespace_lines_are_skipped(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1}\n\n   \t\n{"id": 2}\r\n{"id": 3}\n\n')
    records = list(read_records(path))
    assert [(r.data["id"], r.line, r.unit) for r in records] == [
        (1, 1, "line"),
        (2, 4, "line"),
        (3, 5, "line"),
    ]


def test_jsonl_without_final_newline_and_with_bom(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 1}\n{"id": 2}')
    assert [r.data["id"] for r in read_records(path)] == [1, 2]


def test_unicode_line_separators_inside_strings_do_not_split_records(tmp_path):
    row = {"text": "a\u2028b\u2029c\x85d\x0be\x0cf"}
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [r.data for r in read_records(path)] == [row]


def test_csv_lines_are_physical_lines_counting_the_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('id,text\n1,"two\nlines"\n\n2,b\n', encoding="utf-8")
    records = list(read_records(path))
    assert [(r.data, r.line) for r in records] == [
        ({"id": "1", "text": "two\nlines"}, 2),
        ({"id": "2", "text": "b"}, 5),
    ]


def test_json_and_parquet_lines_are_record_numbers(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(ROWS, indent=2))
    assert [(r.line, r.unit, r.where) for r in read_records(path)] == [
        (1, "record", "record 1"),
        (2, "record", "record 2"),
        (3, "record", "record 3"),
    ]


# --- bad input -------------------------------------------------------------------------------


def read_error(path) -> str:
    with pytest.raises(DataError) as info:
        list(read_records(path))
    return str(info.value)


def test_file_not_found(tmp_path):
    message = read_error(tmp_path / "missing.jsonl")
    assert "missing.jsonl" in message and "file not found" in message


def test_directory_suggests_hf_prefix(tmp_path):
    message = read_error(tmp_path)
    assert "is a directory" in message and f"hf:{tmp_path}" in message


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.json"])
def test_empty_file(tmp_path, name, content):
    if name.endswith(".json") and content:
        content = "[]"
    path = tmp_path / name
    path.write_text(content)
    message = read_error(path)
    assert name in message and "no records" in message


def test_csv_with_only_a_header_is_empty(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,prediction\n")
    assert "no records" in read_error(path)


def test_malformed_json_line_names_line_and_column(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "prediction": \n{"id": 3}\n')
    message = read_error(path)
    assert message.startswith(f"{path}:2: malformed JSON: Expecting value")
    assert "(column 25)" in message


@pytest.mark.parametrize(
    ("line", "found"),
    [("[1, 2]", "array"), ('"text"', "string"), ("42", "integer"), ("null", "null")],
)
def test_json_line_that_is_not_an_object(tmp_path, line, found):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1}\n' + line + "\n")
    message = read_error(path)
    assert f"{path}:2:" in message and f"found a JSON {found}" in message


def test_duplicate_json_key_is_not_dropped_silently(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "id": 3}\n')
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert f"{path}:2:" in str(info.value) and "duplicate key 'id'" in str(info.value)
    assert info.value.field == "id" and info.value.line == 2


@pytest.mark.parametrize("name", ["d.jsonl", "d.csv", "d.jsonl.gz"])
def test_non_utf8_reports_line_and_byte_offset(tmp_path, name):
    content = (
        "id,text\n1,ok\n2,caf\xe9 au lait\n"
        if name.endswith(".csv")
        else ('{"id": 1}\n{"id": 2, "text": "caf\xe9"}\n')
    )
    raw = content.encode("latin-1")
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    message = read_error(path)
    offset = raw.index(b"\xe9")
    assert f"{path}:3:" in message or f"{path}:2:" in message
    assert f"byte 0xe9 at byte offset {offset}" in message and "UTF-8" in message


def test_non_utf8_in_json_document_reports_line_and_offset(tmp_path):
    raw = b'[\n  {"id": 1},\n  {"id": "caf\xe9"}\n]\n'
    path = tmp_path / "d.json"
    path.write_bytes(raw)
    message = read_error(path)
    offset = raw.index(b"\xe9")
    assert f"{path}:3:" in message and f"byte offset {offset}" in message
    assert "(column 14)" in message


def test_unknown_extension_lists_supported_ones(tmp_path):
    for name in ("data.txt", "data", "data.parquet.gz"):
        path = tmp_path / name
        path.write_text("x")
        message = read_error(path)
        assert name in message and "unsupported file type" in message
        assert ".jsonl" in message and ".parquet" in message and "hf:" in message


def test_csv_row_with_wrong_number_of_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,prediction\n1,a\n2,b,c\n")
    message = read_error(path)
    assert f"{path}:3:" in message and "3 cells but the header has 2" in message


def test_tsv_row_with_too_few_columns(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("id\tprediction\nonly-one\n")
    assert f"{path}:2:" in read_error(path)


def test_csv_duplicate_header_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,text,text\n1,a,b\n")
    message = read_error(path)
    assert f"{path}:1:" in message and "'text' twice" in message


def test_csv_bad_quoting(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('id,text\n1,"a"b\n')
    assert f"{path}:2: malformed row" in read_error(path)


def test_json_document_errors(tmp_path):
    cases = {
        "jsonl.json": ('{"id": 1}\n{"id": 2}\n', ":2: malformed JSON: Extra data", "rename it"),
        "syntax.json": ('[{"id": 1},\n {"id": 2,}]', ":2: malformed JSON", "column"),
        "nolist.json": ('{"id": 1}', "no list field", '{"data": [...]}'),
        "twolists.json": ('{"a": [], "b": []}', "several list fields (a, b)", "exactly one"),
        "scalar.json": ("3", "found a JSON integer", "array of objects"),
        "mixed.json": ('[{"id": 1}, [2]]', ":2: expected a JSON object", "only objects"),
    }
    for name, (content, *expected) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        message = read_error(path)
        assert name in message and all(part in message for part in expected), message


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(b"not gzip at all\n")
    message = read_error(path)
    assert "d.jsonl.gz" in message and "gzip" in message


def test_corrupt_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1 nonsense")
    assert "not a readable Parquet file" in read_error(path)


def test_missing_pyarrow_gives_install_hint(tmp_path, monkeypatch):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"irrelevant")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'tuneval\[parquet\]'"):
        list(read_records(path))


def test_missing_datasets_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'tuneval\[hf\]'"):
        list(read_records("hf:some/dataset"))


# --- Hugging Face ----------------------------------------------------------------------------


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    datasets.disable_progress_bars()
    return datasets


def make_dataset_dir(root: Path, splits: dict[str, list[dict]]) -> Path:
    root.mkdir()
    for split, rows in splits.items():
        (root / f"{split}.jsonl").write_text(jsonl_text(rows), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("splits", "chosen"),
    [
        ({"train": ROWS[:1], "test": ROWS}, "test"),
        ({"train": ROWS[:1], "validation": ROWS}, "validation"),
        ({"data": ROWS}, "train"),
    ],  # one file, not named after a split: datasets calls it train
)
def test_hf_local_directory_picks_default_split(hf_offline, tmp_path, splits, chosen):
    root = make_dataset_dir(tmp_path / "ds", splits)
    records = list(read_records(f"hf:{root}"))
    assert [r.data for r in records] == ROWS
    assert records[0].path == f"hf:{root}@{chosen}" and records[2].line == 3
    assert records[0].unit == "record"


def test_hf_explicit_split_and_data_file(hf_offline, tmp_path):
    root = make_dataset_dir(tmp_path / "ds", {"train": ROWS[:1], "test": ROWS})
    assert [r.data for r in read_records(f"hf:{root}@train")] == ROWS[:1]
    records = list(read_records(f"hf:{root / 'test.jsonl'}"))
    assert [r.data for r in records] == ROWS
    assert records[0].path.endswith("test.jsonl@train")


def test_hf_builder_with_config_name(hf_offline, tmp_path):
    root = make_dataset_dir(tmp_path / "ds", {"test": ROWS})
    # "default" is the config name datasets gives a plain data directory.
    assert [r.data for r in read_records(f"hf:{root}#default@test")] == ROWS


def test_hf_errors_name_the_dataset(hf_offline, tmp_path, monkeypatch):
    root = make_dataset_dir(tmp_path / "ds", {"train": ROWS})
    message = read_error(f"hf:{root}@nosuchsplit")
    assert f"hf:{root}@nosuchsplit" in message and "nosuchsplit" in message
    message = read_error("hf:nobody/no-such-dataset-xyz")
    assert "cannot load Hugging Face dataset 'nobody/no-such-dataset-xyz'" in message
    monkeypatch.setattr(hf_offline, "get_dataset_split_names", lambda *a, **k: ["a", "b"])
    message = read_error(f"hf:{root}")
    assert "splits a, b" in message and f"hf:{root}@a" in message


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("hf:squad", ("squad", None, None)),
        ("hf:glue#mrpc@validation", ("glue", "mrpc", "validation")),
        ("hf:user/name@test[:10]", ("user/name", None, "test[:10]")),
        ("hf:/data/v1@2/set#x", ("/data/v1@2/set", "x", None)),
    ],
)
def test_parse_hf_source(source, parts):
    assert parse_hf_source(source) == parts


def test_parse_hf_source_needs_a_name():
    with pytest.raises(DataError, match="no dataset named"):
        parse_hf_source("hf:@test")


# --- property --------------------------------------------------------------------------------

values = st.one_of(
    st.text(),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(), max_size=3),
)
records = st.lists(st.dictionaries(st.text(), values, max_size=5), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(rows=records, ensure_ascii=st.booleans(), crlf=st.booleans())
def test_any_records_written_as_jsonl_read_back_identically(rows, ensure_ascii, crlf):
    end = "\r\n" if crlf else "\n"
    text = "".join(json.dumps(row, ensure_ascii=ensure_ascii) + end for row in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_bytes(text.encode("utf-8"))
        read = list(read_records(path))
    assert [r.data for r in read] == rows
    assert [r.line for r in read] == list(range(1, len(rows) + 1))
