"""One run directory, one `tuneval run` at a time: the second exits 2 naming the holder's PID."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wf_helpers import write_config

from tuneval.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from stub_server import StubConfig, serve_in_thread


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def wait_for_pid(lock: Path, proc: subprocess.Popen, timeout: float = 180.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip():
            return lock.read_text().strip()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the first run never took the lock")


@pytest.mark.slow  # a second interpreter runs a whole workflow against a slow server
def test_second_run_on_a_busy_directory_exits_2_and_nothing_is_done_twice(
    tmp_path, capsys, monkeypatch
):
    # The server holds every call until the second run has been refused: the first run
    # cannot finish (and let go of the lock) first, however slow this machine is.
    with serve_in_thread(StubConfig()) as (url, state):
        state.hold_calls = True
        config = write_config(
            tmp_path,
            "name: t\neval_set: eval.jsonl\n"
            f"output_dir: {tmp_path / 'runs'}\n"
            "models:\n"
            f"  base: {{spec: 'openai-compatible:{url}#a'}}\n"
            f"  finetuned: {{spec: 'openai-compatible:{url}#b'}}\n"
            "comparison: {resamples: 100, trials: 200}\n"
            "calls: {max_concurrency: 1}\n",
        )
        env = os.environ | {"TUNEVAL_CACHE_DIR": str(tmp_path / "cache")}
        first = subprocess.Popen(
            [sys.executable, "-m", "tuneval", "run", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        pid = wait_for_pid(tmp_path / "runs" / "t" / "run.lock", first)
        assert pid == str(first.pid)
        monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
        code, _, err = run_cli(["run", str(config)], capsys)
        assert code == 2, err
        assert err.strip().count("\n") == 0 and f"(PID {first.pid})" in err
        state.hold_calls = False
        _, first_err = first.communicate(timeout=120)
        assert first.returncode == 0, first_err
        assert state.requests == 16  # 8 items x 2 models, each asked once
    lines = (tmp_path / "runs" / "t" / "generations.jsonl").read_text().splitlines()
    assert len(lines) == 16
    assert len({(json.loads(x)["model"], json.loads(x)["example_id"]) for x in lines}) == 16


def test_lock_of_a_killed_process_does_not_block(tmp_path, capsys):
    config = write_config(tmp_path)
    # No judge: mock:echo as a judge scores nothing (exit 1); this test is about the lock.
    args = ["run", str(config), "--set", "judge.spec=null"]
    run_dir = tmp_path / "runs" / "t"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom tuneval.rundir import RunDir\n"
            "with RunDir(sys.argv[1]).lock():\n    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
            str(run_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, _, err = run_cli(args, capsys)
        assert code == 2 and f"PID {holder.pid}" in err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    assert holder.returncode == -signal.SIGKILL
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "report:" in out
