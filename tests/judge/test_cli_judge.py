import json

import pytest

from tuneval.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_judge_score_json_and_rerun(run_factory, capsys):
    rundir = run_factory({"base": ["x", "y"], "finetuned": ["xx", "yy"]})
    argv = [
        "judge", "score", "--run", str(rundir.path), "--model-name", "finetuned",
        "--judge", 'mock:constant={"score": 7, "reasoning": "ok"}', "--resamples", "100",
        "--json",
    ]  # fmt: skip
    code, out, _ = run(argv, capsys)
    assert code == 0
    report = json.loads(out)
    (summary,) = report["judges"]
    assert summary["scored"] == 2 and summary["mean"]["value"] == 7.0
    lines = (rundir.path / "judge_single.jsonl").read_text().splitlines()
    assert len(lines) == 2
    code, out, _ = run(argv, capsys)
    assert code == 0 and len((rundir.path / "judge_single.jsonl").read_text().splitlines()) == 2


def test_judge_pairwise_table_reports_consistency(run_factory, capsys):
    rundir = run_factory({"base": ["x", "y"], "finetuned": ["xx", "yy"]})
    code, out, _ = run(
        [
            "judge",
            "pairwise",
            "--run",
            str(rundir.path),
            "--a",
            "base",
            "--b",
            "finetuned",
            "--judge",
            'mock:constant={"winner": "A"}',
            "--resamples",
            "100",
        ],
        capsys,
    )
    assert code == 0
    assert "consistency" in out and "0.000" in out and "follow position" in out
    # Two items cannot reach p < 0.05: the table says so instead of a bare CI.
    assert "no win-rate difference is detectable" in out


def test_judge_pairwise_json_with_unscored(run_factory, capsys):
    rundir = run_factory({"base": ["x"], "finetuned": ["xx"]})
    code, out, _ = run(
        [
            "judge",
            "pairwise",
            "--run",
            str(rundir.path),
            "--judge",
            "mock:constant=dunno",
            "--max-attempts",
            "2",
            "--json",
            "--resamples",
            "50",
        ],
        capsys,
    )
    assert code == 1  # a judge that decided nothing is no result; the JSON still says why
    (summary,) = json.loads(out)["judges"]
    assert summary["unscored"] == 1 and summary["win_rate"] is None


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        (["--scale", "10-1"], 2, "--scale"),
        (["--model-name", "nope"], 1, "no generations of model 'nope'"),
    ],
)
def test_judge_score_errors(run_factory, capsys, extra, code, needle):
    rundir = run_factory({"finetuned": ["x"]})
    argv = ["judge", "score", "--run", str(rundir.path), "--judge", "mock:echo"]
    if "--model-name" not in extra:
        argv += ["--model-name", "finetuned"]
    got, _, err = run(argv + extra, capsys)
    assert got == code and needle in err


@pytest.mark.parametrize(
    "command", [["score", "--model-name", "nope"], ["pairwise", "--a", "nope"]]
)
def test_judge_missing_model_names_the_models_the_run_has(run_factory, capsys, command):
    rundir = run_factory({"finetuned": ["x"]})
    argv = ["judge", *command, "--run", str(rundir.path), "--judge", "mock:echo"]
    code, out, err = run(argv, capsys)
    assert code == 1 and not out
    assert f"run {rundir.path} has no generations of model 'nope' (models: finetuned)" in err
    assert "Traceback" not in err
