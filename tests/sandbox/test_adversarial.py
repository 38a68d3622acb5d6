"""Adversarial programs: each is contained and reported as failed or timeout."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from tuneval.sandbox import Limits, detect_isolation, run_many, run_python
from tuneval.sandbox.isolation import probe

FAST = Limits(timeout_s=3, cpu_s=3, memory_mb=512, max_processes=32)


@pytest.fixture(autouse=True, params=["detected", "unshare"])
def level(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs at the level detected here, and again under the unshare fallback."""
    if request.param == "unshare":
        why = probe("unshare")
        if why:
            pytest.skip(f"unshare does not work on this machine: {why}")
        monkeypatch.setenv("TUNEVAL_SANDBOX", "unshare")
    return str(request.param)


def test_ok_program_passes_and_workdir_removed() -> None:
    r = run_python("import os; print(os.getcwd())", FAST)
    assert r.status == "passed"
    assert not Path(r.stdout.strip()).exists()


def test_failing_assert_is_failed() -> None:
    r = run_python("assert 1 == 2", FAST)
    assert r.status == "failed"
    assert "AssertionError" in r.stderr


def test_infinite_loop_times_out() -> None:
    r = run_python("while True:\n    pass\n", Limits(timeout_s=1.5, cpu_s=10))
    assert r.status == "timeout"


def test_fork_bomb_contained() -> None:
    code = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    r = run_python(code, Limits(timeout_s=1.5, cpu_s=3, memory_mb=256, max_processes=32))
    assert r.status in ("timeout", "failed")
    # The machine can still start processes afterwards.
    assert run_python("print('alive')", FAST).stdout.strip() == "alive"


def test_memory_bomb_fails() -> None:
    r = run_python("x = bytearray(4 * 1024 ** 3)\n", FAST)
    assert r.status == "failed"
    assert "MemoryError" in r.stderr


def test_write_outside_workdir_leaves_canary(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("intact")
    code = f"open({str(canary)!r}, 'w').write('pwned')\n"
    r = run_python(code, FAST)
    if detect_isolation() != "rlimits-only":
        assert r.status == "failed"
        assert canary.read_text() == "intact"


def test_socket_to_localhost_fails() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def accept() -> None:
        server.settimeout(3)
        try:
            conn, _ = server.accept()
            got.append(conn.recv(10))
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    code = (
        f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.send(b'hi')\n"
    )
    r = run_python(code, FAST)
    t.join()
    server.close()
    if detect_isolation() == "rlimits-only":
        pytest.skip("no network namespace available on this machine")
    assert r.status == "failed"
    assert got == []


def test_env_snooping_finds_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-canary")
    code = (
        "import os\nkeys = [k for k in os.environ if 'KEY' in k or 'TOKEN' in k]\n"
        "assert not keys, keys\nassert 'sk-secret' not in repr(os.environ)\n"
        "print(open('/proc/self/environ').read())\n"
    )
    r = run_python(code, FAST)
    assert r.status == "passed"
    assert "sk-secret" not in r.stdout


def test_kill_parent_is_contained() -> None:
    code = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\n"
    r = run_python(code, FAST)
    assert r.status in ("failed", "passed", "timeout")
    # We (the parent) are alive and the sandbox still works.
    assert os.getpid() > 0
    assert run_python("print(2)", FAST).status == "passed"


def test_huge_stdout_is_capped() -> None:
    code = (
        "import sys\nchunk = 'x' * 1_000_000\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    )
    r = run_python(code, Limits(timeout_s=10, max_output_bytes=10_000))
    assert len(r.stdout) == 10_000
    assert r.truncated


def test_workdir_removed_after_timeout() -> None:
    before = {p.name for p in Path(tempfile.gettempdir()).glob("tuneval-sbx-*")}
    run_python("while True: pass", Limits(timeout_s=1))
    after = {p.name for p in Path(tempfile.gettempdir()).glob("tuneval-sbx-*")}
    assert after <= before


def test_run_many_keeps_order() -> None:
    progs = [f"print({i})" for i in range(6)] + ["raise SystemExit(3)"]
    rs = run_many(progs, FAST, workers=2)
    assert [r.stdout.strip() for r in rs[:6]] == [str(i) for i in range(6)]
    assert rs[6].status == "failed" and rs[6].returncode == 3


def test_process_cap_enforced() -> None:
    from tuneval.sandbox import cgroup

    code = (
        "import os, time\nn = 0\nfor _ in range(100):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(2)\n"
        "        os._exit(0)\n    n += 1\nprint(n)\n"
    )
    r = run_python(code, Limits(timeout_s=8, max_processes=20))
    probe = cgroup.create(1)
    if probe is not None:
        cgroup.remove(probe)
    elif os.geteuid() == 0:
        pytest.skip("no writable pids cgroup and running as root: no hard process cap")
    assert r.status == "passed"
    assert int(r.stdout) < 20
