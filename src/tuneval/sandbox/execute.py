"""Run one untrusted Python program under limits and report what happened.

Each program gets a fresh temporary work dir (removed afterwards), an empty environment, its
own session (so the whole process group can be killed), rlimits on CPU time, address space,
processes and file size, and the OS isolation of `detect_isolation` (under which the work dir
lives on the sandbox's size-limited private /tmp, not on the host disk). Output is read with a
cap, so a program printing without end cannot fill memory.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Literal

from tuneval.records import Record
from tuneval.sandbox import cgroup
from tuneval.sandbox.isolation import PROGRAM, Isolation, chosen_isolation, launch

Status = Literal["passed", "failed", "timeout"]


class Limits(Record):
    """Resource limits of one sandboxed run."""

    timeout_s: float = 10.0
    """Wall-clock seconds before the whole process group is killed."""
    cpu_s: int = 10
    """CPU seconds (RLIMIT_CPU)."""
    memory_mb: int = 1024
    """Address space in MiB (RLIMIT_AS)."""
    max_processes: int = 64
    """Processes of the calling user (RLIMIT_NPROC; applied only when the caller is not root,
    since for root it would count every root process on the machine)."""
    max_file_mb: int = 16
    """Largest file the program may write, in MiB (RLIMIT_FSIZE)."""
    max_disk_mb: int = 64
    """Total MiB the program may write: the size of the sandbox's private /tmp, which holds
    its work dir and lives in RAM, so memory use is bounded by ``memory_mb + max_disk_mb``.
    Under ``rlimits-only`` isolation only ``max_file_mb`` per file applies."""
    max_output_bytes: int = 64_000
    """Bytes of stdout and of stderr kept; the rest is read and discarded."""


class ExecResult(Record):
    """The outcome of one sandboxed run."""

    status: Status
    """``passed`` (exit 0), ``failed`` (non-zero exit or signal) or ``timeout``."""
    returncode: int | None
    """Exit status; negative for a signal; None after a timeout kill."""
    stdout: str
    """Captured standard output, truncated to the cap."""
    stderr: str
    """Captured standard error, truncated to the cap."""
    duration_s: float
    """Wall-clock seconds of the run."""
    isolation: str
    """Isolation used: ``bwrap``, ``unshare`` or ``rlimits-only``."""
    truncated: bool = False
    """True when output beyond the cap was discarded."""


def _rlimits(limits: Limits, group: Path | None) -> Callable[[], None]:
    def apply() -> None:
        if group is not None:
            cgroup.enter(group)
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() != 0:
            # For root, RLIMIT_NPROC counts every root process on the machine: the exec
            # itself would fail with EAGAIN on a busy machine. There the PID namespace and
            # the group kill on timeout bound a fork bomb instead.
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes,) * 2)

    return apply


def _drain(stream: IO[bytes], cap: int, out: list[bytes], truncated: list[bool]) -> None:
    kept = 0
    while chunk := stream.read(65536):
        if kept < cap:
            out.append(chunk[: cap - kept])
            kept += len(out[-1])
        if kept >= cap and (len(chunk) > len(out[-1]) or out[-1] is not chunk):
            truncated[0] = True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()


def run_python(
    code: str, limits: Limits | None = None, isolation: Isolation | None = None
) -> ExecResult:
    """Run ``code`` as a Python program in the sandbox.

    Args:
        code: The whole program (e.g. prompt + completion + tests + check call).
        limits: Resource limits; defaults to `Limits()`.
        isolation: Force an isolation level; defaults to ``$TUNEVAL_SANDBOX``, else the
            strongest that works here.

    Returns:
        The status, exit code, capped output and duration.
    """
    limits = limits or Limits()
    isolation = isolation or chosen_isolation()
    workdir = tempfile.mkdtemp(prefix="tuneval-sbx-")
    group = cgroup.create(limits.max_processes)
    try:
        with open(os.path.join(workdir, PROGRAM), "w", encoding="utf-8") as fh:
            fh.write(code)
        how = launch(isolation, workdir, limits.max_disk_mb)
        start = time.perf_counter()
        proc = subprocess.Popen(
            how.argv,
            cwd=workdir,
            env=how.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_rlimits(limits, group),
        )
        outs: list[bytes] = []
        errs: list[bytes] = []
        trunc = [False]
        readers = [
            threading.Thread(
                target=_drain, args=(proc.stdout, limits.max_output_bytes, outs, trunc)
            ),
            threading.Thread(
                target=_drain, args=(proc.stderr, limits.max_output_bytes, errs, trunc)
            ),
        ]
        for t in readers:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        # Always kill the group: children the program left behind must not outlive it.
        _kill_group(proc)
        proc.wait()
        for t in readers:
            t.join(timeout=5)
        duration = time.perf_counter() - start
        rc = None if timed_out else proc.returncode
        status: Status = "timeout" if timed_out else ("passed" if rc == 0 else "failed")
        return ExecResult(
            status=status,
            returncode=rc,
            stdout=b"".join(outs).decode("utf-8", "replace"),
            stderr=b"".join(errs).decode("utf-8", "replace"),
            duration_s=duration,
            isolation=isolation,
            truncated=trunc[0],
        )
    finally:
        if group is not None:
            cgroup.remove(group)
        shutil.rmtree(workdir, ignore_errors=True)
