"""`tuneval contamination` as a user meets it: short items, hostile training data, bad paths.

Each hostile training input below hides a verbatim copy of the eval item; the scan must never
call it clean: an unreadable record fails the command (one ``Error:`` line naming file:line)
unless ``--skip-bad`` is given, and then the summary and the JSON report list what was skipped.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART_EVAL = ROOT / "examples" / "eval.jsonl"
COPY = "the quick brown fox jumps over the lazy dog near the river bank at dawn"


def tuneval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuneval", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def ev(tmp_path: Path) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text(json.dumps({"id": "leak", "prompt": COPY.upper() + "!"}) + "\n")
    return path


@pytest.mark.parametrize("n", ["13", "8"])
def test_quickstart_eval_set_against_itself_flags_every_item(n: str) -> None:
    """120 short items (7-12 tokens): each is checked whole and found in its own copy."""
    result = tuneval("contamination", "--train", str(QUICKSTART_EVAL), "--eval",
                     str(QUICKSTART_EVAL), "-n", n)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"120/120 eval examples flagged ({n}-grams")
    whole = 120 if n == "13" else 28  # items shorter than n tokens
    assert f"{whole} shorter than {n} tokens checked whole" in result.stdout


def test_within_flags_a_short_item_contained_in_another(tmp_path: Path, capsys) -> None:
    path = tmp_path / "e.jsonl"
    rows = [{"id": "short", "prompt": "Capital of France?"},
            {"id": "long", "prompt": "Question: what is the capital of France? Answer briefly."},
            {"id": "other", "prompt": "Capital of Spain?"}]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run(["contamination", "--within", "--eval", str(path), "--out",
                        str(tmp_path / "r.json")], capsys)  # fmt: skip
    assert code == 0 and out.startswith("1/3 eval examples flagged")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["checked_whole"] == 3
    assert [e["flagged"] for e in report["examples"]] == [True, False, False]
    assert report["examples"][0]["found_in"] == [f"{path}:2"] and report["examples"][0]["whole"]


def _jsonl(*lines: str | bytes) -> bytes:
    return b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)


GOOD = json.dumps({"text": f"before {COPY} after"})
HOSTILE = {
    "malformed_line": ("t.jsonl", _jsonl(GOOD, '{"text": "broken'), 2),
    "latin1_byte": ("t.jsonl", _jsonl(GOOD, b'{"text": "caf\xe9 au lait"}'), 2),
    "ragged_csv": ("t.csv", f"id,text\n1,{COPY}\n2,a,b\n".encode(), 3),
    "truncated_gz": ("t.jsonl.gz", gzip.compress(_jsonl(GOOD) * 3000)[:-40], None),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_unreadable_records_fail_unless_skip_bad(tmp_path: Path, ev: Path, case: str,
                                                 capsys) -> None:  # fmt: skip
    name, data, line = HOSTILE[case]
    train = tmp_path / name
    train.write_bytes(data)
    base = ["contamination", "--train", str(train), "--eval", str(ev)]
    code, out, err = run(base, capsys)
    assert code == 1 and out == "", out
    assert err.startswith("Error: ") and err.count("\n") == 1 and "--skip-bad" in err
    assert f"{train}:{line or ''}" in err
    report_path = tmp_path / "r.json"
    code, out, err = run([*base, "--skip-bad", "--out", str(report_path)], capsys)
    assert code == 0, err
    assert out.startswith("1/1 eval examples flagged")  # the copy in the readable records
    assert "unreadable training records skipped (--skip-bad), first:" in out
    assert f"  {train}:{line or ''}" in out
    report = json.loads(report_path.read_text())
    assert report["bad_records"] >= 1 and report["problems"][0].startswith(f"{train}:")


def test_field_typo_names_the_fields_that_exist(tmp_path: Path, ev: Path, capsys) -> None:
    train = tmp_path / "t.jsonl"
    train.write_bytes(_jsonl(json.dumps({"id": 1, "text": COPY, "source": "web"})))
    code, out, err = run(["contamination", "--train", str(train), "--eval", str(ev),
                          "--fields", "txt", "--skip-bad"], capsys)  # fmt: skip
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "no training record has the field txt; the records have: id, text, source" in err


@pytest.mark.parametrize("kind", ["empty_file", "empty_dir", "not_gzip"])
@pytest.mark.parametrize("flag", [[], ["--strict"], ["--skip-bad"]])
def test_nothing_read_is_an_error(tmp_path: Path, ev: Path, kind: str, flag: list[str],
                                  capsys) -> None:  # fmt: skip
    train = tmp_path / {"empty_file": "t.jsonl", "empty_dir": "d", "not_gzip": "t.jsonl.gz"}[kind]
    if kind == "empty_dir":
        train.mkdir()
    else:
        train.write_bytes(b"" if kind == "empty_file" else _jsonl(GOOD))
    code, out, err = run(["contamination", "--train", str(train), "--eval", str(ev), *flag],
                         capsys)  # fmt: skip
    assert code == 1 and out == "" and err.startswith("Error: ") and err.count("\n") == 1
    assert str(train) in err


@pytest.mark.parametrize("option", ["--out", "--write-clean"])
def test_output_paths_are_checked_before_the_scan(tmp_path: Path, ev: Path, option: str,
                                                  capsys) -> None:  # fmt: skip
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")  # scanning it would fail: the path error must come first
    base = ["contamination", "--train", str(empty), "--eval", str(ev), option]
    for target, why in ((tmp_path / "nope" / "r.json", "does not exist"), (tmp_path, "directory")):
        code, out, err = run([*base, str(target)], capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"Error: {option} {target}") and why in err


def test_n_1_on_one_character_records(tmp_path: Path) -> None:
    """Used to overflow the hash buffer (malloc errors or SIGSEGV): run it in a subprocess."""
    train = tmp_path / "t.txt"
    train.write_text("\n\n".join(["a", "b", "é", "z"] * 500) + "\n")
    ev = tmp_path / "e.jsonl"
    ev.write_text("".join(json.dumps({"prompt": c}) + "\n" for c in ["a", "b", "q"] * 400))
    result = tuneval("contamination", "--train", str(train), "--eval", str(ev), "-n", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("800/1200 eval examples flagged (1-grams")
