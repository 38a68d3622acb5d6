"""Benchmark protocol signatures as users meet them: reports, ``tuneval compare``, the config.

Everything goes through ``tuneval.cli.main`` in-process (exit codes, stdout and stderr as a
shell sees them) with scripted mock models and a small MMLU subject written by the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneval.cli import main

N_QUESTIONS = 8


def cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``tuneval ARGV``: (exit code, stdout, stderr)."""
    code = 0
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _mmlu(root: Path) -> Path:
    """One MMLU subject in the release format; test question i's answer is letter i % 4."""
    for split, count in (("dev", 5), ("test", N_QUESTIONS)):
        (root / split).mkdir(parents=True)
        rows = [f"q{i} of {split}?,w,x,y,z,{'ABCD'[i % 4]}\n" for i in range(count)]
        (root / split / f"anatomy_{split}.csv").write_text("".join(rows))
    return root


def _bench(tmp_path: Path, name: str, answer: str, *extra: str) -> list[object]:
    """``tuneval bench mmlu`` argv for a model that always answers ``answer``."""
    return [
        "bench", "mmlu", "--model", f"mock:constant=Answer: {answer}",
        "--data", _mmlu(tmp_path / f"data-{name}"), "--subjects", "anatomy",
        "--max-tokens", "8", "--out", tmp_path / name, *extra,
    ]  # fmt: skip


def _signature(run: Path) -> str:
    return str(json.loads((run / "run.json").read_text())["benchmark"]["signature"])


def test_compare_refuses_benchmark_runs_of_different_protocols(tmp_path, capsys):
    assert cli(_bench(tmp_path, "a", "A", "--format", "lm-eval"), capsys)[0] == 0
    assert cli(_bench(tmp_path, "b", "B", "--format", "original"), capsys)[0] == 0

    code, out, err = cli(["compare", tmp_path / "a", tmp_path / "b"], capsys)
    assert code == 1
    [line] = err.strip().splitlines()  # one line, no traceback
    assert line.startswith("Error: ") and "format: lm-eval != original" in line
    assert "--allow-mismatch" in line and out == ""

    code, out, err = cli(["compare", tmp_path / "a", tmp_path / "b", "--allow-mismatch"], capsys)
    assert code == 0, err
    assert "Warning: the runs used different protocols (format: lm-eval != original)" in err
    assert "correct" in out  # the comparison table
    flat = " ".join(out.split())
    assert f"signature (base): {_signature(tmp_path / 'a')}" in flat
    assert f"signature (fine-tuned): {_signature(tmp_path / 'b')}" in flat


def test_compare_of_one_protocol_prints_its_signature(tmp_path, capsys):
    assert cli(_bench(tmp_path, "a", "A"), capsys)[0] == 0
    assert cli(_bench(tmp_path, "b", "B"), capsys)[0] == 0
    code, out, err = cli(["compare", tmp_path / "a", tmp_path / "b"], capsys)
    assert code == 0, err
    signature = _signature(tmp_path / "a")
    assert signature.startswith("mmlu|shots:5|format:lm-eval|")
    assert f"signature: {signature}" in " ".join(out.split())
    assert "Warning" not in err


def _workflow(tmp_path: Path, bench: str) -> Path:
    """A workflow config with one benchmarks entry (``bench`` is its YAML flow mapping)."""
    rows = [{"id": f"e{i}", "prompt": f"Say {i}", "reference": str(i)} for i in range(4)]
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = _mmlu(tmp_path / "mmlu")
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: sig\n"
        "eval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        "models:\n"
        "  base: {spec: 'mock:constant=Answer: A'}\n"
        "  finetuned: {spec: 'mock:constant=Answer: B'}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100, trials: 200}\n"
        "calls: {cache: false}\n"
        f"benchmarks:\n  - {{name: mmlu, data: {data}, subjects: [anatomy], {bench}}}\n"
    )
    return config


def test_workflow_passes_benchmark_options_and_reports_show_the_signature(tmp_path, capsys):
    config = _workflow(tmp_path, "format: original, mode: generate, max_tokens: 8")
    code, _out, err = cli(["run", config], capsys)
    assert code == 0, err
    run = tmp_path / "runs" / "sig"
    signature = _signature(run / "benchmarks" / "mmlu" / "base")
    # The option reached the runner: the run used the original (Hendrycks) prompt format.
    assert signature.startswith("mmlu|shots:5|format:original|mode:generate|")
    assert signature == _signature(run / "benchmarks" / "mmlu" / "finetuned")
    assert f"- mmlu: `{signature}`" in (run / "report.md").read_text()
    html = (run / "report.html").read_text()
    assert f"mmlu: <code>{signature}</code>" in html
    results = json.loads((run / "results.json").read_text())
    assert results["benchmarks"][0]["mismatch"] == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("mdoe: generate", "unknown option 'mdoe' for benchmark 'mmlu'; valid: name, data,"),
        ("format: lm_eval", "benchmarks.0.format': Value error, mmlu format must be one of "),
        ("protocol: fastchat", "mmlu takes no option 'protocol' (its own options: subjects,"),
        ("annotations: a.json", "'annotations' is for tuneval bench only"),
    ],
)
def test_a_bad_benchmark_entry_fails_before_anything_runs(tmp_path, capsys, entry, expected):
    code, _out, err = cli(["run", _workflow(tmp_path, entry)], capsys)
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("Error: ") and expected in line
    assert not (tmp_path / "runs").exists()  # no model was called, no run directory made


def test_workflow_refuses_benchmark_runs_of_different_protocols_unless_allowed(tmp_path, capsys):
    config = _workflow(tmp_path, "mode: generate, max_tokens: 8")
    assert cli(["run", config], capsys)[0] == 0
    run = tmp_path / "runs" / "sig"
    # As if the base model's run were kept from an older tuneval: the signatures now differ.
    info_path = run / "benchmarks" / "mmlu" / "base" / "run.json"
    info = json.loads(info_path.read_text())
    signature = info["benchmark"]["signature"]
    version = signature.rsplit("tuneval:", 1)[1]
    info["benchmark"]["signature"] = signature.replace(f"tuneval:{version}", "tuneval:0.0.1")
    info_path.write_text(json.dumps(info))

    code, out, err = cli(["report", run], capsys)
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("Error: benchmarks.0 (mmlu): the base and fine-tuned runs used ")
    assert (
        f"(tuneval: 0.0.1 != {version})" in line and "--force benchmarks, or allow_mismatch" in line
    )

    allow = f"benchmarks=[{{name: mmlu, data: {tmp_path / 'mmlu'}, subjects: [anatomy], "
    allow += "mode: generate, max_tokens: 8, allow_mismatch: true}]"
    code, out, err = cli(["run", config, "--set", allow], capsys)
    assert code == 0, err
    assert "0 model runs made, 2 already done" in out  # allowing it reruns nothing
    results = json.loads((run / "results.json").read_text())
    assert results["benchmarks"][0]["mismatch"] == [f"tuneval: 0.0.1 != {version}"]
    report = (run / "report.md").read_text()
    assert f"**mmlu: the models ran different protocols (tuneval: 0.0.1 != {version})" in report
    assert "- mmlu (fine-tuned): `" in report
    assert "mmlu: the models ran different protocols" in (run / "report.html").read_text()
