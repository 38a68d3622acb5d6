"""Issue 18's small items as users meet them: messages in the caller's terms, plain-string
references, a broken metric plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import run_cli

BROKEN = b'{"text": "broken'


def _contamination_inputs(tmp_path: Path) -> tuple[Path, Path]:
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"id": "a", "prompt": "what is the answer to it"}) + "\n")
    train = tmp_path / "train.jsonl"
    train.write_bytes(b'{"text": "what is the answer to it"}\n' + BROKEN + b"\n")
    return ev, train


def test_skip_bad_is_named_as_the_python_parameter(tmp_path: Path) -> None:
    from tuneval.contamination import check
    from tuneval.errors import DataError

    ev, train = _contamination_inputs(tmp_path)
    with pytest.raises(DataError) as caught:
        check([str(train)], str(ev), n=3)
    message = str(caught.value)
    assert "or use skip_bad to scan the rest" in message
    assert "--skip-bad" not in message and "contamination.skip_bad" not in message


def test_skip_bad_is_named_as_the_cli_flag(tmp_path: Path, capsys) -> None:
    ev, train = _contamination_inputs(tmp_path)
    code, _, err = run_cli(["contamination", "--eval", str(ev), "--train", str(train), "-n", "3"],
                           capsys)  # fmt: skip
    assert code == 1 and err.count("\n") == 1
    assert "or use --skip-bad to scan the rest" in err and "contamination.skip_bad" not in err


def test_skip_bad_is_named_as_the_config_key(tmp_path: Path, capsys) -> None:
    ev, train = _contamination_inputs(tmp_path)
    (tmp_path / "config.yaml").write_text(
        f"name: t\neval_set: {ev}\noutput_dir: {tmp_path / 'runs'}\n"
        "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:echo'}\n"
        "judge: {spec: 'mock:echo'}\ncalls: {cache: false}\n"
        f"contamination: {{training_data: [{train}], ngram: 3}}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(["run", str(tmp_path / "config.yaml")], capsys)
    assert code == 1 and "or use contamination.skip_bad to scan the rest" in err
    assert "--skip-bad" not in err


def test_field_settings_follow_the_caller(tmp_path: Path, capsys) -> None:
    """`tuneval score` has --reference-field; `dataset validate` maps no field."""
    from tuneval.data import load_examples
    from tuneval.errors import DataError

    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "1", "prediction": "a", "reference": 3}) + "\n")
    code, _, err = run_cli(["score", str(preds), "-m", "exact_match"], capsys)
    assert code == 1 and "or use --reference-field to map another field" in err
    with pytest.raises(DataError, match="or use reference_field to map another field"):
        load_examples(preds)
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"id": "1", "question": "q"}) + "\n")
    with pytest.raises(DataError, match=r"expected a string: the input shown to the model; "
                       "use prompt_field to map another field"):  # fmt: skip
        load_examples(ev, require_prompt=True)
    # `tuneval dataset validate` maps no field: the message suggests no setting at all.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "prompt": "q", "difficulty": "extreme"}) + "\n")
    code, out, err = run_cli(["dataset", "validate", str(bad)], capsys)
    assert code == 1 and "found string 'extreme'; fix the value\n" in out + err
    assert "difficulty_field" not in out + err and "--difficulty-field" not in out + err


@pytest.mark.parametrize("spec", ["exact_match", "token_f1", "bleu", "chrf", "rouge",
                                  "classification"])  # fmt: skip
def test_statistics_take_a_plain_string_as_one_reference(spec: str) -> None:
    from tuneval.metrics import create_metric

    predictions = ["Paris is the capital", "a cat sat on the mat"]
    one_each = [["Paris is the capital"], ["the cat sat on a mat"]]
    metric = create_metric(spec)
    metric.fit([predictions], ["Paris is the capital", "the cat sat on a mat"])
    plain = metric.statistics(predictions, ["Paris is the capital", "the cat sat on a mat"])
    listed = create_metric(spec)
    listed.fit([predictions], one_each)
    assert (plain == listed.statistics(predictions, one_each)).all()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("train.jsonl", b'{"text": "what is the answer to it"}\n{"text": "caf\xe9 au lait"}\n'),
        ("train.jsonl", b'{"text": "what is the answer to it"}\n{"text": "a", "text": "b"}\n'),
        ("train.jsonl", b'{"text": "what is the answer to it"}\n{"text": "cut\n'),
        ("train.csv", b"text,n\nwhat is the answer to it,1\ncaf\xe9,2\n"),
        ("train.csv", b"text,n\nwhat is the answer to it,1\nx,2,3\n"),
        ("train.csv", b'text,n\nwhat is the answer to it,1\n"open,2\n'),
    ],
)
def test_training_data_problems_read_as_eval_set_problems(tmp_path: Path, name: str,
                                                           body: bytes) -> None:  # fmt: skip
    """The contamination scan reads training records with the eval-set reader's words."""
    from tuneval.contamination import check
    from tuneval.data import read_records
    from tuneval.errors import DataError

    ev, _ = _contamination_inputs(tmp_path)
    train = tmp_path / name
    train.write_bytes(body)
    errors: list[DataError] = []
    assert len(list(read_records(train, errors=errors))) == 1 and len(errors) == 1
    report = check([str(train)], str(ev), n=3, skip_bad=True)
    assert report.examples[0].flagged and report.bad_records == 1
    where = f"{train}:{errors[0].line}: "
    assert report.problems == [f"{where}unreadable record: {errors[0].detail}"]
