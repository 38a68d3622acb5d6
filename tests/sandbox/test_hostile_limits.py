"""Hostile programs against the sandbox's bounds: disk and RAM fills, escapes from the view.

Run under both namespace isolations; the fills write far more (1 GiB) than the limit (64 MiB)
and must fail fast without the host paying for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tuneval.sandbox import Limits, run_python
from tuneval.sandbox.isolation import Isolation, probe

ISOLATIONS = ["bwrap", "unshare"]
# Files may be large (RLIMIT_FSIZE is not what stops the fill); the disk budget is 64 MiB.
FILL = Limits(timeout_s=20, cpu_s=15, memory_mb=256, max_file_mb=2048, max_disk_mb=64)


@pytest.fixture(params=ISOLATIONS)
def isolation(request: pytest.FixtureRequest) -> Isolation:
    iso: Isolation = request.param
    why = probe(iso)
    if why:
        pytest.skip(f"{iso} does not work on this machine: {why}")
    return iso


WRITE_GIB = """
import os, sys
target = {target!r}
chunk = b'x' * (1 << 20)
written = 0
try:
    with open(target, 'wb') as fh:
        for _ in range(1024):
            fh.write(chunk)
            fh.flush()
            written += len(chunk)
finally:
    print('written', written >> 20, flush=True)
"""


@pytest.mark.parametrize("target", ["/tmp/fill.bin", "fill.bin", "/dev/shm/fill.bin", "HOME"])
def test_disk_fill_is_bounded(isolation: Isolation, target: str) -> None:
    path = os.path.join(os.environ["HOME"], "fill.bin") if target == "HOME" else target
    before = shutil.disk_usage(tempfile.gettempdir()).used
    start = time.perf_counter()
    r = run_python(WRITE_GIB.format(target=path), FILL, isolation)
    elapsed = time.perf_counter() - start
    assert r.status == "failed", r.stderr
    # ENOSPC at the tmpfs size, or EROFS where nothing may be written at all.
    assert "No space left" in r.stderr or "Read-only file system" in r.stderr, r.stderr
    assert int(r.stdout.split()[-1]) <= FILL.max_disk_mb
    assert elapsed < 10
    # Nothing reached the host's disk (other processes may write meanwhile: allow 256 MiB).
    assert shutil.disk_usage(tempfile.gettempdir()).used - before < 256 << 20
    assert not Path(path).exists() or target == "fill.bin"


def test_unsized_tmpfs_fill_bounded_per_file_in_rlimits_only(tmp_path: Path) -> None:
    # Control for the fill test: without namespaces, only the per-file limit applies.
    r = run_python(WRITE_GIB.format(target="fill.bin"), Limits(max_file_mb=8), "rlimits-only")
    assert r.status == "failed"
    assert int(r.stdout.split()[-1]) == 8


def test_read_only_everywhere_else(isolation: Isolation) -> None:
    code = (
        "import os\nbad = []\n"
        f"for d in ['/', '/usr', '/etc', '/var', '/run', '/dev', {str(Path.home())!r}, "
        f"'/usr/lib', {sys.prefix!r}]:\n"
        "    try:\n        open(os.path.join(d, 'pwned'), 'w').write('x')\n        bad.append(d)\n"
        "    except OSError:\n        pass\n"
        "print(bad)\nassert not bad\n"
    )
    r = run_python(code, Limits(timeout_s=10), isolation)
    assert r.status == "passed", r.stdout + r.stderr


def test_no_remount_or_unmask_from_a_nested_namespace(isolation: Isolation) -> None:
    # A program that makes its own user namespace regains every capability there: it must
    # still be unable to make the bound system writable or lift the mask on /etc/shadow.
    marker = f"/usr/tuneval-pwned-{uuid.uuid4().hex[:8]}"
    code = (
        "import subprocess\n"
        "script = 'mount -o remount,rw /usr; touch " + marker + "; umount /etc/shadow; "
        "cat /etc/shadow'\n"
        "r = subprocess.run(['unshare', '-rm', 'sh', '-c', script], capture_output=True, "
        "text=True)\n"
        "print(r.returncode, r.stdout, r.stderr)\n"
    )
    r = run_python(code, Limits(timeout_s=10), isolation)
    assert not Path(marker).exists()
    shadow = Path("/etc/shadow")
    if os.access(shadow, os.R_OK):
        assert shadow.read_text().splitlines()[0] not in r.stdout


def test_output_stays_capped(isolation: Isolation) -> None:
    code = "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\n"
    r = run_python(code, Limits(timeout_s=10, max_output_bytes=10_000), isolation)
    assert len(r.stdout) == 10_000 and r.truncated


def test_python_prefix_and_site_packages_work(isolation: Isolation) -> None:
    # The interpreter and the venv's site-packages are bound (read-only) wherever they live.
    code = "import sys, json, sqlite3, pytest\nprint(sys.prefix)\n"
    r = run_python(code, Limits(timeout_s=10), isolation)
    assert r.status == "passed", r.stderr
    assert r.stdout.splitlines()[0] == sys.prefix


def test_interpreter_in_a_venv_under_tmp_works(isolation: Isolation, tmp_path: Path) -> None:
    # CI may clone (and make its venv) under /tmp, which the sandbox replaces by its own tmpfs:
    # the venv must be bound back, read-only, with the interpreter it was made from.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    here = Path(__file__).resolve().parents[2] / "src"
    paths = os.pathsep.join([str(here), *sys.path])  # tuneval and its dependencies, from here
    caller = (
        "from tuneval.sandbox import Limits, run_python\n"
        f"r = run_python('import sys; print(sys.prefix)', Limits(timeout_s=10), {isolation!r})\n"
        "print(r.status, r.stdout.strip(), r.stderr[-300:])\n"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", caller],
        env={**os.environ, "PYTHONPATH": paths},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split()[:2] == ["passed", str(venv)], done.stdout + done.stderr
