"""One record per option concept, as users meet it: config, CLI flags and library agree.

A workflow run judged with its defaults and ``tuneval judge score`` with its defaults make
the same judge calls, so the CLI resumes the workflow's verdicts instead of paying again
(the two once defaulted to 256 and 512 reply tokens). CLI flags are made from the records:
a value the record refuses is a usage error naming the flag, and the help shows the record's
default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tuneval
from cli_helpers import run_cli
from tuneval.judge.config import ScoreOptions
from tuneval.models.base import Decoding, DecodingOptions

JUDGE = 'mock:constant={"score": 7, "reasoning": "ok"}'


def _workflow(tmp_path: Path, judge: str = "") -> Path:
    rows = [{"id": f"q{i}", "prompt": f"Question {i}", "reference": f"a{i}"} for i in range(3)]
    (tmp_path / "eval.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        f"name: opts\neval_set: eval.jsonl\noutput_dir: {tmp_path / 'runs'}\n"
        "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:upper'}\n"
        f"judge: {{spec: '{JUDGE}', pairwise: false{judge}}}\n"
        "comparison: {resamples: 100, trials: 200}\n",
        encoding="utf-8",
    )
    return config


def test_cli_judge_resumes_the_workflow_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    config = _workflow(tmp_path)
    result = tuneval.full_evaluation(tuneval.load_config(config, environ={}))
    records = Path(result.run_dir) / "judge_single.jsonl"
    before = records.read_text(encoding="utf-8").splitlines()
    assert len(before) == 6
    argv = ["judge", "score", "--run", result.run_dir, "--model-name", "finetuned"]
    code, out, err = run_cli([*argv, "--judge", JUDGE, "--json"], capsys)
    assert code == 0, err
    # Same defaults, same judge key: every verdict is the workflow's, no record is added.
    assert records.read_text(encoding="utf-8").splitlines() == before
    assert json.loads(out)["judges"][0]["scored"] == 3


def test_config_judge_options_reach_the_judge(tmp_path, monkeypatch):
    """Options the config once lacked (scale, structured...) are the judge's own fields."""
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    config = _workflow(tmp_path, ", scale: [1, 7]")
    result = tuneval.full_evaluation(tuneval.load_config(config, environ={}))
    records = (Path(result.run_dir) / "judge_single.jsonl").read_text(encoding="utf-8")
    assert all(json.loads(line)["scale"] == [1, 7] for line in records.splitlines())


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["generate", "--temperature", "-1"], "--temperature"),
        (["generate", "--top-p", "0"], "--top-p"),
        (["generate", "--timeout", "0"], "--timeout"),
        (["judge", "score", "--max-tokens", "0"], "--max-tokens"),
        (["compare", "a", "b", "--trials", "10"], "--trials"),
        (["score", "p.jsonl", "-m", "exact_match", "--resamples", "5"], "--resamples"),
    ],
)
def test_a_value_the_record_refuses_names_the_flag(tmp_path, capsys, argv, flag):
    for name in ("a", "b", "p.jsonl", "e.jsonl"):
        (tmp_path / name).write_text('{"id": "1", "prediction": "x", "reference": "x"}\n')
    required = {
        "generate": ["--model", "mock:echo", "--data", str(tmp_path / "e.jsonl")],
        "judge": ["--run", str(tmp_path), "--model-name", "m", "--judge", "mock:echo"],
    }
    extra = required.get(argv[0], []) + (
        ["--out", str(tmp_path / "o")] if argv[0] == "generate" else []
    )
    args = [str(tmp_path / a) if a in ("a", "b", "p.jsonl") else a for a in argv]
    code, _, err = run_cli([*args, *extra], capsys)
    assert code == 2, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"Error: {flag}: "), err


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run_cli([*argv, "--help"], capsys)
    assert code == 0
    return " ".join(out.replace("│", " ").split())


def test_help_shows_the_record_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    text = _help(["generate"], capsys)
    for name in DecodingOptions.model_fields:
        assert "--" + name.replace("_", "-") in text
    assert f"[default: {Decoding().max_tokens}]" in text
    text = _help(["judge", "score"], capsys)
    assert f"[default: {ScoreOptions().max_tokens}]" in text and "--repeat-temperature" in text


def test_progress_comes_through_the_callback(tmp_path, monkeypatch, capsys):
    """The library draws nothing: each call is reported to ``on_progress``, per step."""
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    events = []
    config = _workflow(tmp_path)
    tuneval.full_evaluation(str(config), on_progress=events.append)
    assert capsys.readouterr().out == ""
    steps = {e.step: e for e in events}
    assert (steps["generate"].done, steps["generate"].total) == (6, 6)
    assert (steps["judge_single"].done, steps["judge_single"].total) == (6, 6)
    again = []
    tuneval.full_evaluation(str(config), on_progress=again.append)
    assert again == []  # a finished run makes no call
