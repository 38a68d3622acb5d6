"""``tuneval contamination`` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contam_corpus import write_jsonl

from cli_helpers import run_cli


class _Result:
    def __init__(self, exit_code: int, output: str) -> None:
        self.exit_code, self.output = exit_code, output


def _invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> _Result:
    code, out, err = run_cli(argv, capsys)
    return _Result(code, out + err)


SECRET = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"


def test_cli_report_and_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_jsonl(tmp_path / "t.jsonl", [{"text": "x " + SECRET}, {"text": "nothing"}])
    ev = write_jsonl(
        tmp_path / "e.jsonl",
        [{"id": "a", "prompt": SECRET.upper()}, {"id": "b", "prompt": "unrelated " * 20}],
    )
    out, clean = tmp_path / "r.json", tmp_path / "clean.jsonl"
    args = ["contamination", "--train", str(train), "--eval", str(ev), "--out", str(out)]
    result = _invoke(capsys, [*args, "--write-clean", str(clean), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "1/2 eval examples flagged (13-grams" in result.output
    report = json.loads(out.read_text())
    assert report["removed"] == ["a"] and report["examples"][0]["found_in"] == [f"{train}:1"]
    assert [json.loads(x)["id"] for x in clean.read_text().splitlines()] == ["b"]


def test_cli_within_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ev = write_jsonl(tmp_path / "e.jsonl", [{"prompt": SECRET}, {"prompt": SECRET + "!"}])
    result = _invoke(capsys, ["contamination", "--eval", str(ev), "--within"])
    assert result.exit_code == 0 and "2/2 eval examples flagged" in result.output
    result = _invoke(capsys, ["contamination", "--eval", str(ev)])
    assert result.exit_code == 2 and "--train" in result.output


def test_cli_strict_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "t.jsonl"
    train.write_text('{"text": "a"}\nnot json\n')
    ev = write_jsonl(tmp_path / "e.jsonl", [{"prompt": SECRET}])
    base = ["contamination", "--train", str(train), "--eval", str(ev)]
    result = _invoke(capsys, base)
    assert result.exit_code == 1 and f"{train}:2: unreadable record" in result.output
    assert "--skip-bad" in result.output
    result = _invoke(capsys, [*base, "--skip-bad"])
    assert result.exit_code == 0 and f"{train}:2: unreadable record" in result.output
    assert "1 unreadable training records skipped (--skip-bad)" in result.output
    result = _invoke(capsys, [*base, "--strict"])
    assert result.exit_code == 1 and f"{train}:2: unreadable record" in result.output
