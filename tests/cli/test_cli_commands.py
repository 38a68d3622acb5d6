import json
import subprocess
import sys
from pathlib import Path

from cli_helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def write_jsonl(path: Path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_score_json_has_metric_results(capsys):
    code, out, _ = run(
        [
            "score",
            str(EXAMPLES / "finetuned.jsonl"),
            "--references",
            str(EXAMPLES / "eval.jsonl"),
            "-m",
            "exact_match:lowercase=true",
            "-m",
            "token_f1",
            "--json",
            "--resamples",
            "200",
        ],
        capsys,
    )
    assert code == 0
    results = json.loads(out)
    assert [r["name"] for r in results] == ["exact_match", "token_f1"]
    for r in results:
        assert r["ci_low"] <= r["value"] <= r["ci_high"]
        assert r["n"] == 120 and r["resamples"] == 200
        assert "boot:200" in r["signature"]


def test_score_table(capsys):
    code, out, _ = run(
        ["score", str(EXAMPLES / "intent.jsonl"), "-m", "classification:lowercase=true"], capsys
    )
    assert code == 0
    assert "macro_f1" in out and "signature: classification|case:lc" in out


def test_compare_json_and_table(capsys):
    args = [
        "compare",
        str(EXAMPLES / "base.jsonl"),
        str(EXAMPLES / "finetuned.jsonl"),
        "--references",
        str(EXAMPLES / "eval.jsonl"),
        "-m",
        "exact_match:lowercase=true,punctuation=true",
        "-m",
        "token_f1",
        "--trials",
        "500",
        "--resamples",
        "200",
    ]
    code, out, _ = run([*args, "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    em = report["comparisons"][0]
    assert em["test"] == "mcnemar_score" and em["difference"] > 0
    assert em["flipped"]["fixed"] and em["flipped"]["broken"]
    code, out, _ = run(args, capsys)
    assert code == 0
    assert "McNemar" in out and "fixed by the fine-tune" in out


def test_metrics_lists_registry(capsys):
    code, out, _ = run(["metrics", "--json"], capsys)
    assert code == 0
    names = {m["name"] for m in json.loads(out)}
    assert {"exact_match", "token_f1", "classification"} <= names


def test_bad_data_exits_1_naming_file_and_line(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        '{"id": "1", "prediction": "a", "reference": "a"}\n{"id": "2", "prediction": \n'
    )
    code, _, err = run(["score", str(preds), "-m", "exact_match"], capsys)
    assert code == 1
    assert err.startswith("Error: ") and "preds.jsonl:2" in err


def test_missing_field_exits_1_naming_field(tmp_path, capsys):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "output": "a", "reference": "a"}])
    code, _, err = run(["score", preds, "-m", "exact_match"], capsys)
    assert code == 1
    assert "prediction" in err and "--prediction-field" in err
    code, out, _ = run(
        ["score", preds, "-m", "exact_match", "--prediction-field", "output", "--json"], capsys
    )
    assert code == 0 and json.loads(out)[0]["value"] == 1.0


def test_mismatched_ids_exit_1(tmp_path, capsys):
    refs = write_jsonl(
        tmp_path / "r.jsonl", [{"id": "1", "reference": "a"}, {"id": "2", "reference": "b"}]
    )
    preds = write_jsonl(
        tmp_path / "p.jsonl", [{"id": "1", "prediction": "a"}, {"id": "3", "prediction": "b"}]
    )
    code, _, err = run(["score", preds, "--references", refs, "-m", "exact_match"], capsys)
    assert code == 1 and "3" in err


def test_unknown_metric_exits_1_listing_known(capsys):
    code, _, err = run(["score", str(EXAMPLES / "intent.jsonl"), "-m", "bleurt"], capsys)
    assert code == 1 and "unknown metric 'bleurt'" in err and "exact_match" in err


def test_usage_errors_exit_2(capsys):
    code, _, _ = run(["score", str(EXAMPLES / "intent.jsonl"), "--no-such-flag"], capsys)
    assert code == 2
    code, _, err = run(
        [
            "compare",
            str(EXAMPLES / "base.jsonl"),
            str(EXAMPLES / "finetuned.jsonl"),
            "-r",
            str(EXAMPLES / "eval.jsonl"),
            "-m",
            "token_f1",
            "--test",
            "t",
        ],
        capsys,
    )
    assert code == 2 and "--test" in err


def test_console_script_help_is_fast_and_lists_commands():
    proc = subprocess.run(
        [sys.executable, "-m", "tuneval", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    for command in ("score", "compare", "metrics"):
        assert command in proc.stdout
