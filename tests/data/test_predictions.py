import json
from pathlib import Path

import pytest

from tuneval.data import align, load_examples, load_predictions
from tuneval.errors import DataError
from tuneval.records import Example, Generation


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def load_error(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        load_predictions(path, model="m", **kwargs)
    return info.value


def assert_located(error: DataError, path: Path, line: int, field: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}:{line}: "), message
    assert f"'{field}'" in message, message
    assert (error.path, error.line, error.field) == (str(path), line, field)


def gen(example_id: str, output: str = "x") -> Generation:
    return Generation(example_id=example_id, model="m", output=output)


# --- load_predictions ------------------------------------------------------------------------


def test_loads_predictions_with_metadata(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": "a", "prediction": "yes", "latency_ms": 12},
            {"id": 2, "prediction": "", "error": None},
        ],
    )
    generations = load_predictions(path, model="finetuned")
    assert generations == [
        Generation(example_id="a", model="finetuned", output="yes", metadata={"latency_ms": 12}),
        Generation(example_id="2", model="finetuned", output=""),
    ]
    assert generations.path == str(path) and not generations.synthetic_ids


def test_null_prediction_with_error_is_a_failed_generation(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "prediction": None, "error": "timeout"}])
    (generation,) = load_predictions(path, model="m")
    assert generation.output is None and generation.error == "timeout"


def test_null_prediction_without_error(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl", [{"id": 1, "prediction": "a"}, {"id": 2, "prediction": None}]
    )
    error = load_error(path)
    assert_located(error, path, 2, "prediction")
    assert "'error'" in str(error)


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("prediction", 42, "integer 42"),
        ("prediction", ["a"], "array"),
        ("error", 500, "integer 500"),
        ("id", [1], "array"),
    ],
)
def test_wrong_types_name_field_line_and_type(tmp_path, field, value, found):
    rows = [{"id": 1, "prediction": "a"}, {"id": 2, "prediction": None, "error": "e"}]
    rows[1][field] = value
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    error = load_error(path)
    assert_located(error, path, 2, field)
    assert f"found {found}" in str(error)


def test_missing_prediction_field_lists_fields_and_suggests_flag(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "output": "a", "reference": "a"}])
    error = load_error(path)
    assert_located(error, path, 1, "prediction")
    assert "'id', 'output', 'reference'" in str(error) and "prediction_field" in str(error)
    (generation,) = load_predictions(path, model="m", prediction_field="output")
    assert generation.output == "a" and generation.metadata == {"reference": "a"}


def test_duplicate_prediction_ids(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl", [{"id": 1, "prediction": "a"}, {"id": 1, "prediction": "b"}]
    )
    error = load_error(path)
    assert_located(error, path, 2, "id")
    assert "line 1" in str(error)


def test_csv_predictions_with_empty_error_cells(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,prediction,error\n1,a,\n2,,\n", encoding="utf-8")
    generations = load_predictions(path, model="m")
    assert [(g.example_id, g.output, g.error) for g in generations] == [
        ("1", "a", None),
        ("2", "", None),
    ]


# --- align -----------------------------------------------------------------------------------


def test_align_matches_by_id_in_eval_set_order(tmp_path):
    examples = load_examples(
        write_jsonl(
            tmp_path / "e.jsonl",
            [
                {"id": "a", "reference": "1"},
                {"id": "b", "reference": "2"},
                {"id": 3, "reference": "3"},
            ],
        )
    )
    generations = load_predictions(
        write_jsonl(
            tmp_path / "p.jsonl",
            [
                {"id": 3, "prediction": "z"},
                {"id": "a", "prediction": "x"},
                {"id": "b", "prediction": "y"},
            ],
        ),
        model="m",
    )
    pairs = align(examples, generations)
    assert [(e.id, g.output) for e, g in pairs] == [("a", "x"), ("b", "y"), ("3", "z")]


def test_align_by_position_when_neither_side_has_ids(tmp_path):
    examples = load_examples(
        write_jsonl(tmp_path / "e.jsonl", [{"reference": "1"}, {"reference": "2"}])
    )
    preds = tmp_path / "p.jsonl"
    preds.write_text('\n{"prediction": "x"}\n{"prediction": "y"}\n')  # ids "2" and "3"
    pairs = align(examples, load_predictions(preds, model="m"))
    assert [(e.id, g.output) for e, g in pairs] == [("1", "x"), ("2", "y")]


def test_align_by_position_requires_equal_lengths(tmp_path):
    examples = load_examples(write_jsonl(tmp_path / "e.jsonl", [{"reference": "1"}] * 3))
    preds = load_predictions(
        write_jsonl(tmp_path / "p.jsonl", [{"prediction": "x"}] * 2), model="m"
    )
    with pytest.raises(DataError) as info:
        align(examples, preds, what="base model predictions")
    message = str(info.value)
    assert message.startswith(
        f"{tmp_path / 'p.jsonl'}: the eval set has 3 examples but the base model predictions have 2"
    )
    assert "by position" in message


def test_align_reports_missing_and_extra_ids_with_counts(tmp_path):
    examples = [Example(id=f"e{i}") for i in range(10)]
    generations = [gen(f"e{i}") for i in range(3)] + [gen(f"zz{i}") for i in range(6)]
    with pytest.raises(DataError) as info:
        align(examples, generations)
    message = str(info.value)
    assert "the 9 predictions do not match the 10 examples" in message
    assert "7 eval-set ids have no prediction ('e3', 'e4', 'e5', 'e6', 'e7', ...)" in message
    assert "6 ids are not in the eval set ('zz0', 'zz1', 'zz2', 'zz3', 'zz4', ...)" in message
    assert "e8" not in message and "zz5" not in message


def test_align_extra_ids_only(tmp_path):
    examples = [Example(id="a")]
    with pytest.raises(DataError, match=r"1 ids are not in the eval set \('b'\)") as info:
        align(examples, [gen("a"), gen("b")])
    assert "have no prediction" not in str(info.value)


def test_align_rejects_duplicate_prediction_ids():
    with pytest.raises(DataError, match=r"1 ids occur more than once in the predictions \('a'\)"):
        align([Example(id="a"), Example(id="b")], [gen("a"), gen("a")])


def test_align_rejects_duplicate_eval_ids():
    with pytest.raises(DataError, match="more than once in the eval set"):
        align([Example(id="a"), Example(id="a")], [gen("a")])


def test_align_hints_when_only_one_side_lacks_ids(tmp_path):
    examples = load_examples(write_jsonl(tmp_path / "e.jsonl", [{"id": "q1"}, {"id": "q2"}]))
    preds = load_predictions(
        write_jsonl(tmp_path / "p.jsonl", [{"prediction": "x"}] * 2), model="m"
    )
    with pytest.raises(DataError) as info:
        align(examples, preds)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'p.jsonl'}: ")
    assert "no record of the predictions has an 'id' field" in message and "id_field" in message


def test_align_plain_lists_match_by_id():
    pairs = align([Example(id="2"), Example(id="1")], [gen("1", "one"), gen("2", "two")])
    assert [(e.id, g.output) for e, g in pairs] == [("2", "two"), ("1", "one")]
