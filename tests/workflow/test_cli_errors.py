"""Hostile inputs to `tuneval run`: each is one clear line and an exit code, never a traceback."""

import logging
import os
import sqlite3
import subprocess
import sys

import pytest
from wf_helpers import write_config

from tuneval.cli import main
from tuneval.models import Decoding, Request
from tuneval.models.base import Completion
from tuneval.models.cache import CallCache

HEAD = "name: t\neval_set: eval.jsonl\noutput_dir: {out}\n"
MODELS = (
    "models:\n  base: {spec: 'mock:echo'}\n"
    "  finetuned: {spec: 'mock:echo', system_prompt: 'Be brief.'}\n"
)


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0, err
    return err.strip()


def config_with(tmp_path, body: str):
    return str(write_config(tmp_path, HEAD.format(out=tmp_path / "runs") + body))


def test_backend_option_typo_fails_before_any_step(tmp_path, capsys):
    body = (
        "models:\n  base: {spec: 'mock:echo', options: {temprature: 0}}\n"
        "  finetuned: {spec: 'mock:echo'}\n"
    )
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    line = one_line(err)
    assert code == 1
    assert "key 'models.base.options'" in line and "'temprature'" in line
    assert "valid options: responder, logprob" in line
    assert not (tmp_path / "runs").exists()


def test_judge_option_typo_fails_before_generation_is_paid(tmp_path, capsys):
    body = MODELS + (
        "judge: {spec: 'openai-compatible:http://127.0.0.1:9/v1#j', options: {temperature: 0}}\n"
    )
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    line = one_line(err)
    assert code == 1 and "key 'judge.options'" in line
    assert "valid options: api_key, base_url" in line and "set under 'decoding'" in line
    assert not (tmp_path / "runs" / "t" / "generations.jsonl").exists()


def test_backend_option_of_the_wrong_type(tmp_path, capsys):
    body = (
        "models:\n  base: {spec: 'llamacpp:default', options: {n_ctx: lots}}\n"
        "  finetuned: {spec: 'mock:echo'}\n"
    )
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    line = one_line(err)
    assert code == 1 and "invalid options for backend 'llamacpp': n_ctx" in line


def test_unknown_backend_and_metric_option_listed_together(tmp_path, capsys):
    body = (
        "models:\n  base: {spec: 'nosuch:thing'}\n  finetuned: {spec: 'mock:echo'}\n"
        "metrics: {default: ['exact_match:lowercse=true']}\n"
    )
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    assert code == 1 and "Traceback" not in err
    assert "key 'models.base.spec': unknown backend 'nosuch'" in err
    assert "key 'metrics.default.0': metric 'exact_match' has no option 'lowercse'" in err


def test_duplicate_yaml_key_names_key_and_line(tmp_path, capsys):
    body = MODELS + "decoding: {max_tokens: 5}\ndecoding: {max_tokens: 9}\n"
    path = config_with(tmp_path, body)
    code, _, err = run_cli(["run", path], capsys)
    line = one_line(err)
    assert code == 1
    assert f"{path}:8: key 'decoding' is given twice (first on line 7)" in line


def test_nested_duplicate_key(tmp_path, capsys):
    body = "models:\n  base: {spec: 'mock:echo'}\n  base: {spec: 'mock:x'}\n"
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    assert code == 1 and "key 'base' is given twice" in one_line(err)


def test_unwritable_output_dir(tmp_path, capsys):
    config = config_with(tmp_path, MODELS)
    (tmp_path / "afile").write_text("not a folder")
    bad = tmp_path / "afile" / "runs"
    code, _, err = run_cli(["run", config, "--set", f"output_dir={bad}"], capsys)
    line = one_line(err)
    assert code == 1 and f"cannot write the run directory {bad / 't'}" in line
    assert "output_dir" in line


def filled_cache(path, n: int = 400) -> None:
    with CallCache(path) as cache:
        for i in range(n):
            req = Request.from_prompt(f"prompt {i} " + "x" * 200, Decoding())
            cache.put("id", req, Completion(text="y" * 300))


def garbage(path):
    path.write_bytes(b"this is not a database at all\n" * 100)


def truncated(path):
    filled_cache(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def wrong_schema(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE calls (key TEXT, answer TEXT)")


@pytest.mark.parametrize("damage", [garbage, truncated, wrong_schema])
def test_corrupt_cache_is_moved_aside(tmp_path, capsys, caplog, monkeypatch, damage):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(cache_dir))
    damage(cache_dir / "calls.sqlite")
    config = config_with(tmp_path, MODELS)
    with caplog.at_level(logging.WARNING, logger="tuneval"):
        code, _, err = run_cli(["run", config], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    aside = list(cache_dir.glob("calls.sqlite.corrupt-*"))
    assert len(aside) == 1
    warnings = [r.getMessage() for r in caplog.records if "call cache" in r.getMessage()]
    assert len(warnings) == 1
    assert str(cache_dir / "calls.sqlite") in warnings[0] and str(aside[0]) in warnings[0]
    assert len(CallCache(cache_dir)) == 16  # the fresh cache holds this run's calls


@pytest.mark.slow  # a fresh interpreter imports tuneval (seconds on a busy machine)
def test_corrupt_cache_warning_reaches_the_terminal(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    garbage(cache_dir / "calls.sqlite")
    config = config_with(tmp_path, MODELS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEVAL_")}
    env["TUNEVAL_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run(
        [sys.executable, "-m", "tuneval", "run", config],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    warnings = [x for x in done.stderr.splitlines() if "call cache" in x]
    assert len(warnings) == 1 and warnings[0].startswith("warning: the call cache")
    assert "moved it to" in warnings[0] and "Traceback" not in done.stderr


def test_cache_that_is_a_directory(tmp_path, capsys, monkeypatch):
    cache_dir = tmp_path / "cache"
    (cache_dir / "calls.sqlite").mkdir(parents=True)
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(cache_dir))
    code, _, err = run_cli(["run", config_with(tmp_path, MODELS)], capsys)
    line = one_line(err)
    assert code == 1 and str(cache_dir / "calls.sqlite") in line
    assert "is a directory" in line and "--no-cache" in line
    code, _, err = run_cli(["run", config_with(tmp_path, MODELS), "--no-cache"], capsys)
    assert code == 0, err


def test_cache_damaged_inside_is_one_clear_line(tmp_path, capsys, monkeypatch):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(cache_dir))
    path = cache_dir / "calls.sqlite"
    filled_cache(path)
    data = path.read_bytes()
    page = 4096  # header and schema pages intact: the file opens, its tables do not read
    path.write_bytes(data[: 2 * page] + b"\xab" * (len(data) - 2 * page))
    code, _, err = run_cli(["run", config_with(tmp_path, MODELS)], capsys)
    line = one_line(err)
    assert code == 1 and f"cannot use the call cache {path}: it is damaged" in line
    assert "--no-cache" in line


def test_bad_judge_spec_fails_before_generation_is_paid(tmp_path, capsys):
    body = MODELS + "judge: {spec: 'openai-compatible:http://127.0.0.1:9/v1'}\n"
    code, _, err = run_cli(["run", config_with(tmp_path, body)], capsys)
    line = one_line(err)
    assert code == 1 and "must be openai-compatible:BASE_URL#MODEL" in line
    assert not (tmp_path / "runs" / "t" / "generations.jsonl").exists()
