"""Kill a run with SIGKILL mid-way, rerun it, and check that no call is made twice."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from wf_helpers import write_config

from tuneval.rundir import RunDir

# The child registers a backend that logs every call to a file before answering slowly, so
# the parent can kill it while calls are in flight and count calls across processes.
SCRIPT = r"""
import json, sys, time
from tuneval.models.base import Completion, ModelBackend, register_backend
from tuneval.workflow import full_evaluation, load_config

LOG = sys.argv[2]

@register_backend
class SlowLog(ModelBackend):
    prefix = "slowlog"

    async def complete(self, request):
        import asyncio
        user = [m for m in request.messages if m.role == "user"][-1].content
        kind = "judge" if self.spec.endswith("judge") else "gen"
        with open(LOG, "a") as f:
            f.write(json.dumps([self.spec, kind, request.messages[0].content[:40], user]) + "\n")
        await asyncio.sleep(float(sys.argv[3]))
        if kind == "judge":
            return Completion(text='{"reasoning": "r", "score": 5, "winner": "tie"}')
        return Completion(text="answer to " + user[:20])

cfg = load_config(sys.argv[1], environ={})
full_evaluation(cfg)
"""


def config_text(folder: Path) -> str:
    return (
        "name: r\n"
        "eval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models:\n"
        "  base: {spec: 'slowlog:base'}\n"
        "  finetuned: {spec: 'slowlog:tuned', system_prompt: 'Be brief.'}\n"
        "judge: {spec: 'slowlog:judge', pairwise: false}\n"
        "calls: {max_concurrency: 1, cache: false}\n"  # test the run directory's own resume
        "comparison: {resamples: 100, trials: 200}\n"
    )


def log_lines(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(x) for x in log.read_text().splitlines() if x.endswith("]")]


def spawn(script: Path, config: Path, log: Path, delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), str(config), str(log), str(delay)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_kill_mid_generation_then_resume(tmp_path):
    config = write_config(tmp_path, config_text(tmp_path))
    script = tmp_path / "child.py"
    script.write_text(SCRIPT)
    log = tmp_path / "calls.log"
    child = spawn(script, config, log, 0.15)
    deadline = time.monotonic() + 60
    while len(log_lines(log)) < 5 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    run = RunDir(tmp_path / "runs" / "r")
    kept = len(run.generations())
    assert 0 < kept < 16  # killed while generating
    calls_before = len(log_lines(log))

    rerun = spawn(script, config, log, 0.0)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()
    calls = log_lines(log)[calls_before:]
    gen_calls = [c for c in calls if c[1] == "gen"]
    # Exactly the generations missing at the kill were made, and each only once.
    assert len(gen_calls) == 16 - kept
    assert len({(c[0], c[3]) for c in gen_calls}) == len(gen_calls)
    gens = run.generations()
    assert len(gens) == 16
    assert len({(g.model, g.example_id) for g in gens}) == 16
    assert sum(c[1] == "judge" for c in calls) == 16
    assert (run.path / "report.html").exists()

    third = spawn(script, config, log, 0.0)
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0, err.decode()
    assert len(log_lines(log)) == calls_before + len(calls)  # nothing repeated
