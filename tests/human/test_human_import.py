"""`tuneval human import`: every malformed row is an error naming file:line, and nothing is stored
from a file with any error (issue 12)."""

import csv
import json

import pytest
from human_helpers import create_cli, fill, run, vote

from tuneval.human import StudyStore
from tuneval.human.store import NotAssignedError


@pytest.fixture
def exported(tmp_path, capsys):
    """A study and its CSV export with the first 8 of 12 rows filled in (not yet written)."""
    study, _ = create_cli(tmp_path, capsys)
    code, _, err = run(["human", "export", str(study), "--out", str(tmp_path / "x")], capsys)
    assert code in (0, None), err
    table = tmp_path / "x" / "annotations.csv"
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    for i, row in enumerate(rows[:8]):
        fill(row, i)
    return study, table, rows


def write_csv(path, rows, header=None):
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or list(rows[0]))
        for row in rows:
            writer.writerow(row.values() if isinstance(row, dict) else row)


def import_error(study, path, capsys):
    """Run the import, expect exit 1 and one line; return the message. Nothing is stored."""
    code, out, err = run(["human", "import", str(study), str(path)], capsys)
    assert code == 1, out + err
    assert err.startswith("Error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert StudyStore(study).votes() == []
    return " ".join(err.split())  # rich may wrap the line on a narrow terminal


def test_a_repeated_row_is_an_error_naming_both_lines(exported, capsys):
    study, table, rows = exported
    # Line 2 is the header's next line; the repeat (another vote for the same item) is line 14.
    changed = dict(rows[0], preference="B")
    write_csv(table, [*rows, changed])
    err = import_error(study, table, capsys)
    assert "annotations.csv:14: repeats the row of annotator" in err
    assert f"'{rows[0]['annotator']}' and item '{rows[0]['item_id']}' at line 2" in err
    assert "nothing was imported" in err


def test_the_count_is_of_votes_stored(exported, capsys):
    study, table, rows = exported
    write_csv(table, rows)
    code, out, _ = run(["human", "import", str(study), str(table)], capsys)
    assert code in (0, None)
    assert "Imported 8 votes; 4 blank rows skipped" in out
    assert len(StudyStore(study).votes()) == 8


def test_extra_and_missing_cells_are_errors_listing_every_row(exported, capsys):
    study, table, rows = exported
    cells = [list(r.values()) for r in rows]
    cells[1] = [*cells[1], "surplus"]  # line 3: one cell too many
    cells[9] = cells[9][:4]  # line 11: a blank row cut short (was skipped as blank, exit 0)
    cells[10] = cells[10][:4]  # line 12
    write_csv(table, cells, header=list(rows[0]))
    err = import_error(study, table, capsys)
    assert err.count("annotations.csv:") == 3
    assert "3 rows have problems, nothing was imported" in err
    assert "annotations.csv:3: has 16 cells but the header has 15 (a comma too many?)" in err
    truncated = "has 4 cells but the header has 15 (a truncated row?), missing response_b"
    assert f"annotations.csv:11: {truncated}" in err
    assert "annotations.csv:12: has 4 cells" in err


def test_unknown_columns_and_fields_are_errors(exported, capsys):
    study, table, rows = exported
    write_csv(table, [{**r, "notes": ""} for r in rows])
    err = import_error(study, table, capsys)
    assert "annotations.csv:1: unknown columns: notes" in err
    jsonl = table.with_suffix(".jsonl")
    records = [dict(r) for r in rows]
    records[2]["prefernce"] = records[2].pop("preference")
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    err = import_error(study, jsonl, capsys)
    assert "annotations.jsonl:3: missing fields: preference and unknown fields: prefernce" in err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("annotations.csv", ""),
        ("annotations.jsonl", ""),
        ("annotations.jsonl", "\n\n"),
        (
            "annotations.csv",
            "annotator,item_id,a_accuracy,a_relevance,a_format,a_fluency,"
            "b_accuracy,b_relevance,b_format,b_fluency,preference\n,,,,,,,,,,\n",
        ),
    ],
)
def test_an_empty_file_is_an_error(exported, capsys, name, content):
    study, table, _ = exported
    path = table.with_name(name)
    path.write_text(content, encoding="utf-8")
    err = import_error(study, path, capsys)
    assert f"{name}: the file has no rows" in err


def test_a_latin1_file_is_one_clear_line(exported, capsys):
    study, table, rows = exported
    rows[3]["comment"] = "très bien"
    write_csv(table, rows)
    data = table.read_text(encoding="utf-8")
    table.write_bytes(data.encode("latin-1"))  # what a spreadsheet's plain "CSV" may save
    offset = data.encode("latin-1").index("è".encode("latin-1"))
    err = import_error(study, table, capsys)
    assert f"annotations.csv:5: the file is not UTF-8 (byte 0xe8 at byte offset {offset})" in err
    assert "save it as UTF-8" in err


def test_one_bad_row_stores_none_of_the_good_ones(exported, capsys):
    study, table, rows = exported
    rows[7]["b_format"] = "7"
    write_csv(table, rows)
    err = import_error(study, table, capsys)  # asserts nothing was stored
    assert "annotations.csv:9: b_format" in err and "1 to 5" in err
    assert "rows have problems" not in err


def test_put_votes_is_one_transaction(study):
    name = "ann1"
    mine = study.assignments()[name]
    other = next(i.item_id for i in study.items() if i.item_id not in mine)
    batch = [(name, mine[0], vote()), (name, mine[1], vote()), (name, other, vote())]
    with pytest.raises(NotAssignedError):
        study.put_votes(batch)
    assert study.votes() == []  # the two good votes before the bad one were rolled back
    stored = study.put_votes(batch[:2])
    assert [v.item_id for v in stored] == mine[:2] and len(study.votes()) == 2


def test_jsonl_is_read_as_strictly_as_every_data_file(exported, capsys):
    """The import reads with `tuneval.data.read_records`: a key given twice is an error, not
    silently the last value (issue 18: one reader, one wording)."""
    study, table, rows = exported
    jsonl = table.with_suffix(".jsonl")
    lines = [json.dumps(r) for r in rows]
    lines[4] = lines[4][:-1] + ', "preference": "A"}'  # line 5 names preference twice
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = import_error(study, jsonl, capsys)
    assert "annotations.jsonl:5: duplicate key 'preference' in one object" in err
    assert "nothing was imported" in err
