import json

from wf_helpers import write_evalset

from tuneval.data.validate import find_duplicates, validate_evalset
from tuneval.records import Example


def test_clean_set_coverage_and_warnings(tmp_path):
    report = validate_evalset(write_evalset(tmp_path / "e.jsonl"))
    assert report.ok and report.n == 8 and report.with_reference == 8
    assert report.coverage == {
        "qa": {"easy": 2, "medium": 1, "hard": 1},
        "cls": {"medium": 2, "hard": 1, "easy": 1},
    }
    assert report.adversarial == {"qa": 0, "cls": 1}
    assert "category 'qa' has no adversarial items" in report.warnings
    assert not any("cls' has no" in w for w in report.warnings)
    assert sum("< 10" in w for w in report.warnings) == 2


def test_every_bad_record_reported(tmp_path):
    rows = [
        {"id": "a", "prompt": "p1"},
        {"id": "b"},
        {"id": "c", "prompt": "p3", "adversarial": "maybe"},
        {"prompt": "no id"},
        {"id": "a", "prompt": "p5"},
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = validate_evalset(path)
    got = [(p.line, p.field) for p in report.errors]
    assert got == [(2, "prompt"), (3, "adversarial"), (4, "id"), (5, "id")]
    assert str(report.errors[0]).startswith(f"{path}:2 [prompt]: missing field 'prompt'")
    assert report.n == 1


def test_unreadable_json_line(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"id": "a", "prompt": "x"}\n{not json\n')
    report = validate_evalset(path)
    assert not report.ok and report.errors[0].line == 2


def test_duplicates_and_near_duplicates():
    ex = [
        Example(id="1", prompt="What is the capital of France?"),
        Example(id="2", prompt="what is the capital of france"),
        Example(id="3", prompt="Please tell me the capital city of the country France today"),
        Example(id="4", prompt="Please tell me the capital city of the country France now"),
        Example(id="5", prompt="Something else entirely"),
    ]
    exact, near = find_duplicates(ex)
    assert exact == [["1", "2"]]
    assert [(a, b) for a, b, _ in near] == [("3", "4")]
    assert near[0][2] >= 0.8
