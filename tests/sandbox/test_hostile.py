"""Programs that attack as a hostile model would: secrets, sockets, host processes, disk.

Every test runs under both namespace isolations (bubblewrap and the ``unshare`` fallback) and,
as a control that proves the attack itself works, under ``rlimits-only`` where the same secret
must be reachable. Secrets are canaries made by the test; nothing outside the test's own
files is read or changed, and what is made in the real home is removed afterwards.
"""

from __future__ import annotations

import contextlib
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

from tuneval.sandbox import ExecResult, Limits, run_python
from tuneval.sandbox.isolation import Isolation, probe

FAST = Limits(timeout_s=10, cpu_s=5, memory_mb=512, max_processes=32)
ISOLATIONS = ["bwrap", "unshare"]


@pytest.fixture(params=ISOLATIONS)
def isolation(request: pytest.FixtureRequest) -> Isolation:
    iso: Isolation = request.param
    why = probe(iso)
    if why:
        pytest.skip(f"{iso} does not work on this machine: {why}")
    return iso


def _seen(result: ExecResult, canary: str) -> bool:
    return canary in result.stdout or canary in result.stderr


def _plant(home: Path, canary: str) -> list[Path]:
    """Fake ~/.ssh/id_rsa, ~/.aws/credentials and a dotfile, mode 0600 like the real ones."""
    files = [home / ".ssh" / "id_rsa", home / ".aws" / "credentials", home / ".netrc"]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"-----BEGIN KEY----- {canary}\n")
        f.chmod(0o600)
    return files


@pytest.fixture
def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def homes(tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Secrets in a fake $HOME the caller runs with and, when writable, in the real home."""
    real_home = Path(os.path.expanduser("~"))
    fake_home = tmp_path / "home"
    planted = _plant(fake_home, canary)
    own = real_home / f".tuneval-test-{uuid.uuid4().hex[:8]}"
    if os.access(real_home, os.W_OK):
        planted += _plant(own, canary)
    monkeypatch.setenv("HOME", str(fake_home))
    try:
        yield planted
    finally:
        shutil.rmtree(own, ignore_errors=True)


READ_AND_WALK = """
import os, sys
for p in {paths!r}:
    try:
        print(p, open(p).read())
    except Exception as e:
        print(p, type(e).__name__)
for top in {tops!r}:
    for d, _, names in os.walk(top):
        for n in names:
            try:
                print(os.path.join(d, n), open(os.path.join(d, n)).read(200))
            except Exception as e:
                pass
"""


def test_home_secrets_unreadable(isolation: Isolation, homes: list[Path], canary: str) -> None:
    tops = sorted(str(p.parent.parent) for p in homes if p.name == "id_rsa")
    code = READ_AND_WALK.format(paths=[str(p) for p in homes], tops=tops)
    assert not _seen(run_python(code, FAST, isolation), canary)
    # Control: without namespaces the same program finds the secrets.
    assert _seen(run_python(code, FAST, "rlimits-only"), canary)


def test_etc_secrets_masked(isolation: Isolation) -> None:
    code = (
        "import os\nfor p in ['/etc/shadow', '/etc/gshadow', '/etc/sudoers']:\n"
        "    try:\n        print(p, repr(open(p).read()))\n"
        "    except Exception as e:\n        print(p, type(e).__name__)\n"
    )
    r = run_python(code, FAST, isolation)
    assert r.status == "passed", r.stderr
    shadow = Path("/etc/shadow")
    if os.access(shadow, os.R_OK):
        first = shadow.read_text().splitlines()[0]
        assert first not in r.stdout
        assert first in run_python(code, FAST, "rlimits-only").stdout


@pytest.fixture
def host_process(canary: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A host process with a secret in its environment (as an API key would be)."""
    monkeypatch.setenv("TUNEVAL_TEST_SECRET", canary)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={**os.environ, "TUNEVAL_TEST_API_KEY": canary},
    )
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_host_proc_environ_unreachable(
    isolation: Isolation, host_process: int, canary: str
) -> None:
    code = (
        "import os\n"
        f"for pid in [{host_process}, {os.getpid()}] + [p for p in os.listdir('/proc') "
        "if p.isdigit()]:\n"
        "    try:\n        env = open(f'/proc/{pid}/environ').read().split(chr(0))\n"
        "        print(pid, [v for v in env if 'CANARY-' in v])\n"
        "    except Exception as e:\n        print(pid, type(e).__name__)\n"
    )
    assert not _seen(run_python(code, FAST, isolation), canary)
    assert _seen(run_python(code, FAST, "rlimits-only"), canary)


class Listener:
    """A Unix socket server on the host that replies with a canary to whatever it receives."""

    def __init__(self, address: str, reply: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.got: list[bytes] = []
        self.reply = reply.encode()
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.got.append(conn.recv(100))
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


CONNECT = """
import socket
for a in {addresses!r}:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(a)
        s.sendall(b'hello from the sandbox')
        print(a, s.recv(100))
    except Exception as e:
        print(repr(a), type(e).__name__)
"""


@pytest.fixture
def sockets(tmp_path: Path, homes: list[Path], canary: str) -> Iterator[list[Listener]]:
    """Listeners in the fake home, in the real home, under a /run-like folder and in /run."""
    places = [str(Path(os.environ["HOME"]) / "agent.sock")]
    places += [str(p.parent / "agent.sock") for p in homes if p.name == "id_rsa"]
    run_like = tmp_path / "run" / "user" / str(os.getuid())
    run_like.mkdir(parents=True)
    places.append(str(run_like / "bus"))
    if os.access("/run", os.W_OK):
        places.append(f"/run/tuneval-test-{uuid.uuid4().hex[:8]}.sock")
    places.append(f"\0tuneval-test-{uuid.uuid4().hex}")  # abstract namespace
    listeners = [Listener(p, canary) for p in dict.fromkeys(places)]
    try:
        yield listeners
    finally:
        for listener in listeners:
            listener.stop = True  # all at once: each thread notices within its 0.2 s poll
        for listener in listeners:
            listener.close()
            if not listener.address.startswith("\0"):
                with contextlib.suppress(OSError):
                    os.unlink(listener.address)


def test_host_unix_sockets_unreachable(
    isolation: Isolation, sockets: list[Listener], canary: str
) -> None:
    addresses = [listener.address for listener in sockets]
    code = CONNECT.format(addresses=addresses)
    r = run_python(code, FAST, isolation)
    assert not _seen(r, canary)
    assert all(listener.got == [] for listener in sockets)
    # Control: every listener answers a program that is not isolated.
    assert run_python(code, FAST, "rlimits-only").stdout.count(canary) == len(sockets)


def test_host_shared_memory_unreachable(isolation: Isolation, canary: str) -> None:
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=len(canary))
    try:
        buf = shm.buf
        assert buf is not None
        buf[: len(canary)] = canary.encode()
        code = (
            f"try:\n    print(open('/dev/shm/{shm.name}').read())\n"
            "except OSError as e:\n    print(type(e).__name__)\n"
        )
        assert not _seen(run_python(code, FAST, isolation), canary)
        assert _seen(run_python(code, FAST, "rlimits-only"), canary)
    finally:
        shm.close()
        shm.unlink()
