import json

import pytest
from wf_helpers import write_evalset

from tuneval.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def gate_config(tmp_path, finetuned_spec: str) -> str:
    # References equal the prompts, so mock:echo is always right.
    rows = [{"id": f"q{i}", "prompt": f"say {i}", "reference": f"say {i}"} for i in range(10)]
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "config.yaml"
    path.write_text(
        "name: gate\neval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        "models:\n"
        "  base: {spec: 'mock:echo'}\n"
        f"  finetuned: {{spec: '{finetuned_spec}'}}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 100}\n"
    )
    return str(path)


def test_fail_if_worse_exits_1_with_reason(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:constant=nothing")
    code, out, err = run(["run", config, "--fail-if-worse", "exact_match"], capsys)
    assert code == 1
    assert "significantly worse on exact_match.exact_match" in err
    # McNemar's score test (stats.paired.mcnemar_score): 10 broken, 0 fixed -> z = 10 / sqrt(10)
    assert "p = 0.001565" in err
    assert "worse" in out


def test_fail_if_worse_passes_when_not_worse(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:echo")
    code, out, _ = run(["run", config, "--fail-if-worse", "exact_match"], capsys)
    assert code == 0
    assert "report:" in out


def test_fail_if_worse_unknown_measure(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:echo")
    code, _, err = run(["run", config, "--fail-if-worse", "bleu"], capsys)
    assert code == 2 and "no such measure" in err


def test_run_config_error_exit_1(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:echo")
    code, _, err = run(["run", config, "--set", "decoding.max_tokenz=3"], capsys)
    assert code == 1 and "unknown key 'decoding.max_tokenz'" in err


def test_report_regenerates(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:echo")
    assert run(["run", config], capsys)[0] == 0
    run_dir = tmp_path / "runs" / "gate"
    (run_dir / "report.html").unlink()
    (tmp_path / "eval.jsonl").unlink()  # the run keeps its own copy of the items
    code, out, _ = run(["report", str(run_dir)], capsys)
    assert code == 0 and (run_dir / "report.html").exists() and "report.md" in out
    code, _, err = run(["report", str(tmp_path)], capsys)
    assert code == 1 and "workflow run" in err


def test_init_scaffold_validates(tmp_path, capsys):
    folder = tmp_path / "proj"
    code, out, _ = run(["init", str(folder)], capsys)
    assert code == 0 and (folder / "config.yaml").exists()
    code, out, _ = run(["dataset", "validate", str(folder / "eval.jsonl")], capsys)
    assert code == 0 and "4 items, all valid" in out
    code, _, err = run(["init", str(folder)], capsys)
    assert code == 2 and "already has" in err
    from tuneval.workflow import load_config

    cfg = load_config(folder / "config.yaml", environ={})
    assert cfg.models.base.spec == "llamacpp:default"


def test_dataset_validate_and_stats(tmp_path, capsys):
    path = write_evalset(tmp_path / "eval.jsonl")
    with path.open("a") as f:
        f.write('{"id": "q0", "prompt": "dup id"}\n')
        f.write('{"id": "x", "difficulty": "extreme", "prompt": "p"}\n')
    code, out, _ = run(["dataset", "validate", str(path)], capsys)
    assert code == 1
    assert f"{path}:9 [id]: duplicate id 'q0'" in out
    assert f"{path}:10 [difficulty]" in out
    code, out, _ = run(["dataset", "stats", str(path)], capsys)
    assert code == 1 and "category" in out and "has 4 items (< 10)" in out  # coverage still shown


def test_power_both_directions(capsys):
    code, out, _ = run(["power", "--items", "40"], capsys)
    assert code == 0 and "+0.214" in out
    code, out, _ = run(
        ["power", "--difference", "0.1", "--kind", "accuracy", "--baseline", "0.6"], capsys
    )
    assert code == 0 and "356 items" in out
    code, _, err = run(["power"], capsys)
    assert code == 2 and "exactly one" in err


def test_judge_and_name_flags(tmp_path, capsys):
    config = gate_config(tmp_path, "mock:echo")
    judge = 'mock:constant={"reasoning": "r", "score": 4, "winner": "tie"}'
    code, out, _ = run(["run", config, "--judge", judge, "--name", "g2"], capsys)
    assert code == 0
    assert "judge_single    ran      20 judge calls" in out
    results = json.loads((tmp_path / "runs" / "g2" / "results.json").read_text())
    assert results["judge_scores"]["base"]["mean"]["value"] == 4.0
    assert results["pairwise"]["summary"]["ties"] == 10


def test_dataset_stats_with_training_data(tmp_path, capsys):
    path = write_evalset(tmp_path / "eval.jsonl")
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"text": "Question 5: what is the answer? ans5"}) + "\n")
    code, out, _ = run(
        ["dataset", "stats", str(path), "--training", str(train), "--ngram", "5"], capsys
    )
    assert code == 0
    assert "contamination: 1 of 8 items share 5-grams" in out and "q5: overlap" in out
