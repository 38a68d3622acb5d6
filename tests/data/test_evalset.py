import json
from pathlib import Path

import pytest

from tuneval.data import RecordList, load_examples, references_from
from tuneval.errors import DataError
from tuneval.records import Example


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def load_error(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        load_examples(path, **kwargs)
    return info.value


def assert_located(error: DataError, path: Path, line: int, field: str) -> None:
    """The message names the file, the line and the field."""
    message = str(error)
    assert message.startswith(f"{path}:{line}: "), message
    assert f"'{field}'" in message, message
    assert (error.path, error.line, error.field) == (str(path), line, field)


def test_loads_all_fields_and_keeps_the_rest_as_metadata(tmp_path):
    path = write_jsonl(
        tmp_path / "eval.jsonl",
        [
            {
                "id": "q1",
                "prompt": "2+2?",
                "reference": "4",
                "category": "math",
                "difficulty": "Easy",
                "adversarial": True,
                "source": "gsm",
                "tags": ["a"],
            },
            {
                "id": 7,
                "prompt": "Capital of France?",
                "references": ["Paris", "paris"],
                "difficulty": "HARD",
                "adversarial": 0,
            },
        ],
    )
    examples = load_examples(path)
    assert examples == [
        Example(
            id="q1",
            prompt="2+2?",
            references=("4",),
            category="math",
            difficulty="easy",
            adversarial=True,
            metadata={"source": "gsm", "tags": ["a"]},
        ),
        Example(
            id="7", prompt="Capital of France?", references=("Paris", "paris"), difficulty="hard"
        ),
    ]
    assert isinstance(examples, RecordList) and examples.path == str(path)
    assert not examples.synthetic_ids and examples[0].reference == "4"


def test_csv_values_and_empty_cells(tmp_path):
    path = tmp_path / "eval.csv"
    path.write_text(
        "id,prompt,reference,category,difficulty,adversarial\n"
        "1,p1,r1,,,\n"
        "2,p2,r2,cat,Medium,true\n"
        "3,p3,r3,cat,easy,0\n"
        "4,p4,r4,cat,hard,FALSE\n",
        encoding="utf-8",
    )
    examples = load_examples(path)
    assert [(e.category, e.difficulty, e.adversarial) for e in examples] == [
        (None, None, False),
        ("cat", "medium", True),
        ("cat", "easy", False),
        ("cat", "hard", False),
    ]


def test_parquet_with_list_references(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "eval.parquet"
    pd.DataFrame({"id": [1, 2], "references": [["a", "b"], ["c"]]}).to_parquet(path)
    assert [e.references for e in load_examples(path)] == [("a", "b"), ("c",)]


def test_ids_are_line_numbers_when_no_record_has_one(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"reference": "a"}\n\n{"reference": "b"}\n')
    examples = load_examples(path)
    assert [e.id for e in examples] == ["1", "3"]
    assert examples.synthetic_ids


def test_ids_are_record_numbers_for_json_arrays(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(json.dumps([{"reference": "a"}, {"reference": "b"}], indent=2))
    assert [e.id for e in load_examples(path)] == ["1", "2"]


def test_mapping_flags_rename_fields(tmp_path):
    path = write_jsonl(
        tmp_path / "e.jsonl",
        [
            {
                "qid": "x",
                "question": "q",
                "answer": "a",
                "answers": None,
                "topic": "t",
                "level": "easy",
                "trap": "true",
                "reference": "kept as metadata",
            },
        ],
    )
    (example,) = load_examples(
        path,
        id_field="qid",
        prompt_field="question",
        reference_field="answer",
        references_field="answers",
        category_field="topic",
        difficulty_field="level",
        adversarial_field="trap",
    )
    assert example == Example(
        id="x",
        prompt="q",
        references=("a",),
        category="t",
        difficulty="easy",
        adversarial=True,
        metadata={"reference": "kept as metadata"},
    )


def test_reference_field_may_hold_a_list(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "reference": ["a", "b"]}])
    assert load_examples(path)[0].references == ("a", "b")


def test_references_are_optional_unless_required(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "prompt": "p"}])
    assert load_examples(path)[0].references == ()
    error = load_error(path, require_reference=True)
    assert_located(error, path, 1, "reference")
    assert (
        "missing field 'reference' (expected a string: the reference output; "
        "use reference_field to map another field)"
    ) in str(error)
    assert "'id', 'prompt'" in str(error)


def test_required_reference_names_the_mapped_field(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "answer": "x"}, {"id": 2}])
    assert_located(
        load_error(path, reference_field="answer", require_reference=True), path, 2, "answer"
    )


def test_required_prompt(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "prompt": "p"}, {"id": 2, "prompt": None}])
    error = load_error(path, require_prompt=True)
    assert_located(error, path, 2, "prompt")
    assert "prompt_field" in str(error)


def test_empty_reference_list_is_an_error_when_required(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "references": []}])
    assert load_examples(path)[0].references == ()
    assert_located(load_error(path, require_reference=True), path, 1, "references")


def test_reference_and_references_together(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "reference": "a", "references": ["b"]}])
    error = load_error(path)
    assert_located(error, path, 1, "reference")
    assert "'references'" in str(error) and "keep one" in str(error)


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("prompt", 3, "integer 3"),
        ("reference", {"text": "a"}, "object"),
        ("references", ["a", 2.5], "number 2.5"),
        ("references", "x", None),
        ("category", ["a"], "array"),
        ("difficulty", 1, "integer"),
        ("adversarial", "maybe", "string 'maybe'"),
        ("adversarial", 2, "integer 2"),
        ("id", None, "null"),
        ("id", True, "boolean"),
        ("id", 1.5, "number"),
        ("id", "  ", "string"),
    ],
)
def test_wrong_types_name_field_line_and_type(tmp_path, field, value, found):
    rows = [{"id": "ok", "reference": "fine"}, {"id": "bad", "reference": "r", field: value}]
    if field == "references":
        del rows[1]["reference"]
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    if found is None:  # a single string in the list field is accepted
        assert load_examples(path)[1].references == ("x",)
        return
    error = load_error(path)
    assert_located(error, path, 2, field)
    assert f"found {found}" in str(error) and "must be" in str(error)


def test_difficulty_error_lists_allowed_values(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "difficulty": "trivial"}])
    error = load_error(path)
    assert_located(error, path, 1, "difficulty")
    assert "easy, medium, hard" in str(error) and "'trivial'" in str(error)


def test_ids_missing_in_some_records(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1}, {"id": 2}, {"prompt": "no id"}])
    error = load_error(path)
    assert_located(error, path, 3, "id")
    assert "line 1" in str(error) and "id_field" in str(error)


def test_duplicate_ids_name_both_lines(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": "a"}, {"id": "b"}, {"id": "a"}])
    error = load_error(path)
    assert_located(error, path, 3, "id")
    assert "duplicate id 'a'" in str(error) and "line 1" in str(error)


def test_int_and_str_ids_that_collide_are_duplicates(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": 1}, {"id": "1"}])
    assert "duplicate id '1'" in str(load_error(path))


def test_csv_errors_name_the_physical_line(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('id,prompt,difficulty\n1,"two\nlines",easy\n2,p,extreme\n', encoding="utf-8")
    assert_located(load_error(path), path, 4, "difficulty")


def test_references_from(tmp_path):
    path = write_jsonl(
        tmp_path / "e.jsonl", [{"id": 1, "reference": "a"}, {"id": 2, "references": ["b", "c"]}]
    )
    assert references_from(load_examples(path)) == [["a"], ["b", "c"]]


def test_references_from_names_ids_without_reference(tmp_path):
    rows = [{"id": f"q{i}", "reference": "r"} for i in range(3)]
    rows += [{"id": f"x{i}"} for i in range(7)]
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    with pytest.raises(DataError) as info:
        references_from(load_examples(path))
    message = str(info.value)
    assert message.startswith(f"{path}: 7 of 10 examples have no reference")
    assert "x0, x1, x2, x3, x4, ..." in message and "x5" not in message
    assert "reference_field" in message


def test_references_from_plain_list():
    assert references_from([Example(id="a", references=("r",))]) == [["r"]]
    with pytest.raises(DataError, match="ids: b"):
        references_from([Example(id="b")])
