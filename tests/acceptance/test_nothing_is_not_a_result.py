"""Nothing is not a result: runs that read, scored or compared nothing say so and exit non-zero.

Every test goes through ``tuneval.cli.main`` in-process, as a shell user reaches the CLI.
"""

import json
from pathlib import Path

import pytest
import yaml

from cli_helpers import run_cli


@pytest.fixture(autouse=True)
def _cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))


def cli(argv, capsys):
    code, out, err = run_cli([str(a) for a in argv], capsys)
    return code, out, " ".join(err.split())


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _items(n: int = 6, *, references: bool = True) -> list[dict]:
    rows = []
    for i in range(n):
        row = {"id": f"q{i}", "prompt": f"Say the word number {i}"}
        if references:
            row["reference"] = f"Say the word number {i}"
        rows.append(row)
    return rows


def _config(tmp_path: Path, evalset: Path, base: str, tuned: str, **extra: object) -> Path:
    cfg = {
        "version": 1,
        "name": "r",
        "eval_set": str(evalset),
        "output_dir": str(tmp_path / "runs"),
        "models": {"base": {"spec": base}, "finetuned": {"spec": tuned}},
        "comparison": {"resamples": 50, "trials": 200},
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


# 1. failed generations -----------------------------------------------------------------------


def _partly_failing(tmp_path: Path) -> Path:
    evalset = _write(tmp_path / "eval.jsonl", _items())
    # The base file answers 4 of 6 items: 2 generations fail with "no prediction".
    preds = [{"id": f"q{i}", "prediction": f"Say the word number {i}"} for i in range(4)]
    base = _write(tmp_path / "base.jsonl", preds)
    return _config(tmp_path, evalset, f"file:{base}", "mock:echo")


def test_failed_generations_are_excluded_reported_and_fail_the_run(tmp_path, capsys):
    cfg = _partly_failing(tmp_path)
    code, out, err = cli(["run", cfg], capsys)
    assert code == 1
    assert "2 FAILED (excluded from scoring)" in out
    assert "2 of 12 generations failed" in err and "--allow-failures" in err
    results = json.loads((tmp_path / "runs/r/results.json").read_text())
    # Excluded, not scored as empty answers: the 4 answered items agree exactly on both sides.
    assert results["metrics"]["n"] == 4
    em = next(c for c in results["metrics"]["comparisons"] if c["metric"] == "exact_match")
    assert em["difference"] == 0.0
    assert any("2 base generations failed" in n for n in results["notes"])
    assert "2 base generations failed" in (tmp_path / "runs/r/report.md").read_text()


def test_allow_failures_accepts_the_rest_but_still_warns(tmp_path, capsys):
    cfg = _partly_failing(tmp_path)
    code, _, err = cli(["run", cfg, "--allow-failures"], capsys)
    assert code == 0
    assert "warning: 2 of 6 base generations failed" in err


# 2. a judge that scores nothing --------------------------------------------------------------


def test_run_with_a_judge_that_scores_nothing_exits_1(tmp_path, capsys):
    evalset = _write(tmp_path / "eval.jsonl", _items())
    judge = {"spec": "mock:echo", "single": True, "pairwise": True, "max_attempts": 1}
    cfg = _config(tmp_path, evalset, "mock:echo", "mock:upper", judge=judge)
    code, out, err = cli(["run", cfg, "--fail-if-worse", "win_rate"], capsys)
    assert code == 1
    assert "UNSCORED 12 of 12 outputs" in out
    assert "judge scored 0/12 outputs" in err
    assert "judge decided 0/6 pairwise comparisons" in err
    assert "no such measure" not in err  # the flag is not blamed


# 3. nothing to compare -----------------------------------------------------------------------


def test_run_without_references_or_judge_is_refused_before_generating(tmp_path, capsys):
    evalset = _write(tmp_path / "eval.jsonl", _items(references=False))
    cfg = _config(tmp_path, evalset, "mock:echo", "mock:upper")
    code, _, err = cli(["run", cfg], capsys)
    assert code == 1
    assert "nothing to compare" in err and "no judge" in err
    assert not (tmp_path / "runs/r/generations.jsonl").exists()


# 5. --fail-if-worse typo ---------------------------------------------------------------------


def test_fail_if_worse_typo_is_a_usage_error_before_any_step(tmp_path, capsys):
    evalset = _write(tmp_path / "eval.jsonl", _items())
    cfg = _config(tmp_path, evalset, "mock:echo", "mock:upper")
    code, out, err = cli(["run", cfg, "--fail-if-worse", "blue"], capsys)
    assert code == 2
    assert "--fail-if-worse blue" in err and "exact_match" in err and "token_f1" in err
    assert "generate" not in out
    assert not (tmp_path / "runs/r").exists()


def _generated(tmp_path: Path, capsys) -> Path:
    evalset = _write(tmp_path / "eval.jsonl", _items())
    out = tmp_path / "gen"
    for name, spec in (("base", "mock:echo"), ("finetuned", "mock:upper")):
        args = ["generate", "--model", spec, "--data", evalset, "--out", out, "--name", name]
        assert cli(args, capsys)[0] == 0
    return out


def test_judge_score_and_pairwise_that_score_nothing_exit_1(tmp_path, capsys):
    run = _generated(tmp_path, capsys)
    common = ["--run", run, "--judge", "mock:echo", "--max-attempts", "1"]
    code, _, err = cli(["judge", "score", *common, "--model-name", "base"], capsys)
    assert code == 1 and "scored 0/6 outputs" in err
    code, _, err = cli(["judge", "pairwise", *common], capsys)
    assert code == 1 and "scored 0/6 comparisons" in err


def test_judge_score_with_some_unscored_warns_and_succeeds(tmp_path, capsys):
    run = _generated(tmp_path, capsys)
    # A judge that scores every output (a constant JSON verdict); one output of the run failed,
    # so that item is unscored: a partial share is reported loudly, not fatal.
    rows = [json.loads(x) for x in (run / "generations.jsonl").read_text().splitlines()]
    rows = [r for r in rows if not (r["model"] == "base" and r["example_id"] == "q3")]
    rows.append(
        {"example_id": "q3", "model": "base", "output": None, "error": "boom", "metadata": {}}
    )
    (run / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["judge", "score", "--run", run, "--judge", 'mock:constant={"score": 7}']
    code, _, err = cli([*args, "--model-name", "base"], capsys)
    assert code == 0, err
    assert "left 1 of 6 outputs unscored" in err


# 4. tuneval generate with failed calls -------------------------------------------------------


def test_generate_with_failed_calls_exits_1_unless_allowed(tmp_path, capsys):
    evalset = _write(tmp_path / "eval.jsonl", _items())
    preds = _write(tmp_path / "p.jsonl", [{"id": "q0", "prediction": "x"}])
    args = ["generate", "--model", f"file:{preds}", "--data", evalset, "--out", tmp_path / "g"]
    code, _, err = cli(args, capsys)
    assert code == 1
    assert "5 of 6 model calls failed" in err and "--allow-failures" in err
    code, _, err = cli([*args, "--allow-failures"], capsys)
    assert code == 0 and "warning: 5 of 6 model calls failed" in err


# 6-7. one clear line for bad input ----------------------------------------------------------


def test_run_on_a_directory_names_the_config_it_probably_meant(tmp_path, capsys):
    code, _, err = cli(["run", tmp_path], capsys)
    assert code == 1
    assert f"{tmp_path} is a directory, not a config file" in err
    assert f"did you mean {tmp_path / 'config.yaml'}?" in err


def test_unknown_judge_backend_names_the_spec_not_the_options(tmp_path, capsys):
    cfg = _config(tmp_path, _write(tmp_path / "eval.jsonl", _items()), "mock:echo", "mock:upper")
    code, _, err = cli(["run", cfg, "--judge", "nosuch:x"], capsys)
    assert code == 1
    assert "key 'judge.spec' (or --judge): unknown backend 'nosuch'" in err
    assert "judge.options" not in err


def test_set_without_equals_is_a_usage_error(tmp_path, capsys):
    cfg = _config(tmp_path, _write(tmp_path / "eval.jsonl", _items()), "mock:echo", "mock:upper")
    code, _, err = cli(["run", cfg, "--set", "nokey"], capsys)
    assert code == 2 and "--set nokey: must look like key.path=value" in err


def test_compare_names_a_missing_directory_and_a_workflow_run(tmp_path, capsys):
    evalset = _write(tmp_path / "eval.jsonl", _items())
    cfg = _config(tmp_path, evalset, "mock:echo", "mock:upper")
    assert cli(["run", cfg], capsys)[0] == 0
    run = tmp_path / "runs/r"
    code, _, err = cli(["compare", run, tmp_path / "runs/nosuch"], capsys)
    assert code == 2 and "runs/nosuch does not exist" in err
    code, _, err = cli(["compare", run, run, "-m", "exact_match"], capsys)
    assert code == 2 and "is a workflow run directory" in err


# 8. contamination ---------------------------------------------------------------------------


def test_unclosed_csv_quote_is_an_unreadable_record_not_a_swallowed_file(tmp_path, capsys):
    train = tmp_path / "t.csv"
    train.write_text('text\n"oops unclosed\ncapital of france\nhello there friend\n')
    rows = [{"id": "a", "prompt": "what is the capital of france"}]
    evalset = _write(tmp_path / "se.jsonl", rows)
    args = ["contamination", "--train", train, "--eval", evalset, "-n", "3"]
    code, _, err = cli(args, capsys)
    assert code == 1
    assert "t.csv:2" in err and "quote opened on line 2 is never closed" in err


def test_unclosed_csv_quote_with_skip_bad_counts_it_and_reads_the_rest(tmp_path, capsys):
    train = tmp_path / "t.csv"
    train.write_text('text\ncapital of france is paris\n"oops unclosed\nhello there friend\n')
    evalset = _write(tmp_path / "se.jsonl", [{"id": "a", "prompt": "the capital of france is"}])
    args = ["contamination", "--train", train, "--eval", evalset, "-n", "3", "--skip-bad"]
    code, out, _ = cli(args, capsys)
    assert code == 0
    assert "1 training records" in out and "1 unreadable training records skipped" in out
    assert "never closed" in out


def test_contamination_with_no_eval_text_is_an_error_and_some_is_loud(tmp_path, capsys):
    train = tmp_path / "t.csv"
    train.write_text("text\ncapital of france is paris\n")
    empty = _write(tmp_path / "e.jsonl", [{"id": "a", "prompt": ""}, {"id": "b", "prompt": " "}])
    code, _, err = cli(["contamination", "--train", train, "--eval", empty, "-n", "3"], capsys)
    assert code == 1 and "none of the 2 eval examples has any text" in err
    rows = [{"id": "a", "prompt": ""}, {"id": "b", "prompt": "capital of france is"}]
    some = _write(tmp_path / "s.jsonl", rows)
    code, _, err = cli(["contamination", "--train", train, "--eval", some, "-n", "3"], capsys)
    assert code == 0 and "warning: 1 of 2 eval examples have no text" in err


# 9. benchmarks without the hub ---------------------------------------------------------------


def test_bench_without_the_hub_is_one_line_naming_data(tmp_path):
    import os
    import subprocess
    import sys

    # Offline mode fails the same way as no network, without the hub client's retries.
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    args = ["bench", "mmlu", "--model", "mock:echo", "--out", tmp_path / "mm", "--limit", "2"]
    proc = subprocess.run(
        [sys.executable, "-m", "tuneval", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "Error: cannot reach the Hugging Face hub for cais/mmlu; pass --data DIR" in proc.stderr


# 10. importing an untouched export -----------------------------------------------------------


def test_importing_an_untouched_export_exits_1(tmp_path, capsys):
    for name, answer in (("a", "four"), ("b", "4")):
        rows = [{"id": f"q{i}", "prompt": f"What is {i}?", "prediction": answer} for i in range(3)]
        _write(tmp_path / f"{name}.jsonl", rows)
    study = tmp_path / "study"
    create = ["human", "create", "--predictions-a", tmp_path / "a.jsonl"]
    create += ["--predictions-b", tmp_path / "b.jsonl", "--out", study]
    assert cli([*create, "--annotators", "ann1,ann2", "--per-item", "2"], capsys)[0] == 0
    assert cli(["human", "export", study, "--out", tmp_path / "sheets"], capsys)[0] == 0
    code, out, err = cli(["human", "import", study, tmp_path / "sheets/annotations.csv"], capsys)
    assert code == 1
    assert "no votes in the file (6 rows, all blank); fill it in first" in err
    assert "Imported" not in out
