"""A hostile "model" through `tuneval bench humaneval`: its secrets never reach the run.

The model's answers (replayed from a predictions file) read fake SSH and AWS keys from the
caller's home, the environment of a host process, and a Unix socket listening in the home,
then fail with what they found, so that a leak would land in the stderr that
``generations.jsonl`` keeps. The command runs under each namespace isolation (forced with
``$TUNEVAL_SANDBOX``) and, as the control proving the attack works, under ``rlimits-only``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuneval.sandbox.isolation import Isolation, probe

ATTACK = """    import os, socket
    found = []
    for p in {paths!r}:
        try:
            found.append(open(p).read())
        except OSError as e:
            found.append(type(e).__name__)
    for pid in [p for p in os.listdir('/proc') if p.isdigit()] + [{pid!r}]:
        try:
            env = open('/proc/' + pid + '/environ').read().split(chr(0))
            found += [v for v in env if 'CANARY-' in v]
        except OSError:
            pass
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect({sock!r})
        found.append(s.recv(100).decode())
    except OSError as e:
        found.append(type(e).__name__)
    raise AssertionError(' '.join(found))
"""


@pytest.fixture
def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def hostile(tmp_path: Path, canary: str) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """HumanEval data, the hostile predictions, and the environment to run the command in."""
    home = tmp_path / "home"
    paths = []
    for rel in (".ssh/id_rsa", ".aws/credentials"):
        f = home / rel
        f.parent.mkdir(parents=True)
        f.write_text(canary)
        f.chmod(0o600)
        paths.append(str(f))
    real = Path(os.path.expanduser("~")) / f".tuneval-test-{uuid.uuid4().hex[:8]}"
    if os.access(real.parent, os.W_OK):
        real.mkdir()
        (real / "id_rsa").write_text(canary)
        (real / "id_rsa").chmod(0o600)
        paths.append(str(real / "id_rsa"))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(home / "agent.sock"))
    server.listen(1)

    def answer() -> None:
        server.settimeout(60)
        try:
            conn, _ = server.accept()
            with conn:
                conn.sendall(canary.encode())
        except OSError:
            pass

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    keeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, "TUNEVAL_TEST_AWS_SECRET": canary},
    )
    data = tmp_path / "HumanEval.jsonl"
    problem = {
        "task_id": "HumanEval/0",
        "prompt": 'def leak():\n    """Return nothing."""\n',
        "entry_point": "leak",
        "canonical_solution": "    return None\n",
        "test": "def check(candidate):\n    candidate()\n",
    }
    data.write_text(json.dumps(problem) + "\n")
    body = ATTACK.format(paths=paths, pid=str(keeper.pid), sock=str(home / "agent.sock"))
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "HumanEval/0", "prediction": body}) + "\n")
    env = {**os.environ, "HOME": str(home), "TUNEVAL_CACHE_DIR": str(tmp_path / "cache")}
    try:
        yield data, preds, env
    finally:
        keeper.kill()
        keeper.wait()
        server.close()
        shutil.rmtree(real, ignore_errors=True)


def _bench(tmp_path: Path, hostile: tuple[Path, Path, dict[str, str]], level: str) -> Path:
    data, preds, env = hostile
    out = tmp_path / f"run-{level}"
    done = subprocess.run(
        [sys.executable, "-m", "tuneval", "bench", "humaneval", "--data", str(data),
         "--model", f"file:{preds}", "--mode", "completion", "--out", str(out)],
        env={**env, "TUNEVAL_SANDBOX": level},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"isolation    {level}" in done.stdout
    (out / "cli-output.txt").write_text(done.stdout + done.stderr)
    return out


def _leaked(out: Path, canary: str) -> list[str]:
    return [p.name for p in out.rglob("*") if p.is_file() and canary in p.read_text("utf-8")]


@pytest.mark.parametrize("level", ["bwrap", "unshare"])
def test_bench_humaneval_keeps_no_secret(
    tmp_path: Path, hostile: tuple[Path, Path, dict[str, str]], canary: str, level: Isolation
) -> None:
    why = probe(level)
    if why:
        pytest.skip(f"{level} does not work on this machine: {why}")
    out = _bench(tmp_path, hostile, level)
    generations = (out / "generations.jsonl").read_text()
    # The attack ran and reported what it found: nothing there.
    assert "AssertionError" in generations and "FileNotFoundError" in generations
    assert _leaked(out, canary) == []
    # The recorded isolation is the one used.
    assert json.loads((out / "run.json").read_text())["benchmark"]["isolation"] == level


def test_bench_humaneval_without_namespaces_leaks(
    tmp_path: Path, hostile: tuple[Path, Path, dict[str, str]], canary: str
) -> None:
    # Control: the same attack reaches every secret when only rlimits apply, and the run
    # says so in the isolation it records.
    out = _bench(tmp_path, hostile, "rlimits-only")
    assert "generations.jsonl" in _leaked(out, canary)
    assert (out / "generations.jsonl").read_text().count(canary) >= 4


def test_unknown_sandbox_level_is_one_clear_error(
    tmp_path: Path, hostile: tuple[Path, Path, dict[str, str]]
) -> None:
    data, preds, env = hostile
    done = subprocess.run(
        [sys.executable, "-m", "tuneval", "bench", "humaneval", "--data", str(data),
         "--model", f"file:{preds}", "--mode", "completion", "--out", str(tmp_path / "r")],
        env={**env, "TUNEVAL_SANDBOX": "chroot"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: $TUNEVAL_SANDBOX='chroot'")
    assert "Traceback" not in done.stderr
