"""The bubblewrap command line that builds the sandbox's view (see `tuneval.sandbox.view`).

The program runs as ``nobody`` in new user, mount, PID, network, IPC and UTS namespaces, with
the process's own ``/proc``, a minimal ``/dev``, no further user namespaces (where bubblewrap
offers ``--disable-userns``) and an empty environment.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import stat
import subprocess

from tuneval.sandbox.view import SHM_MB, build_view

log = logging.getLogger(__name__)

# The program runs as ``nobody`` in its own user namespace: RLIMIT_NPROC is then counted per
# namespace and enforced even when the caller is root.
NOBODY = 65534
MIB = 1024 * 1024


def executable() -> str | None:
    """Path of ``bwrap``, or None."""
    return shutil.which("bwrap")


@functools.cache
def _help() -> str:
    try:
        done = subprocess.run(
            [executable() or "bwrap", "--help"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


@functools.cache
def supports_size() -> bool:
    """Whether this bubblewrap can size a tmpfs (``--size``); warns if not.

    ``--size`` came with bubblewrap 0.7, and a setuid-root bubblewrap refuses it.
    """
    path = executable()
    setuid = bool(path and os.path.exists(path) and os.stat(path).st_mode & stat.S_ISUID)
    if "--size" in _help() and not setuid:
        return True
    log.warning(
        "sandbox: this bubblewrap has no --size option (needs bubblewrap >= 0.7, not setuid): the "
        "sandbox's /tmp and work dir are an unbounded tmpfs in RAM, bounded only per file "
        "by Limits.max_file_mb (RLIMIT_FSIZE), and /dev/shm is read-only. Upgrade bubblewrap "
        "to bound the total."
    )
    return False


def _view_args(work: str, disk_mb: int) -> tuple[list[str], list[str]]:
    """The mount arguments of the view, and the paths to make read-only at the end."""
    args: list[str] = []
    later: list[str] = []
    sized = supports_size()
    for step in build_view(work, disk_mb):
        if step.kind == "ro-bind":
            args += ["--ro-bind", step.source, step.path]
        elif step.kind == "symlink":
            args += ["--symlink", step.source, step.path]
        elif step.kind == "mask-file":
            args += ["--ro-bind", "/dev/null", step.path]
        elif step.kind == "tmpfs":
            args += [*(["--size", str(step.size_mb * MIB)] if sized else []), "--tmpfs", step.path]
        else:  # empty, mask-dir: stay empty, read-only once what lies below is mounted
            args += [*(["--size", str(MIB)] if sized else []), "--tmpfs", step.path]
            later.append(step.path)
    return args, later


def bwrap_command(work: str, program: str, python: str, disk_mb: int) -> list[str]:
    """The full command running ``python program`` confined to the view.

    Args:
        work: The work dir inside the sandbox (under /tmp; becomes the current dir).
        program: Host path of the program file, bound read-only as ``work/program.py``.
        python: The interpreter to run (inside one of the bound prefixes or /usr).
        disk_mb: Size of the writable /tmp tmpfs that holds ``work``.

    Returns:
        The argv for `subprocess.Popen`.
    """
    view, later = _view_args(work, disk_mb)
    shm = ["--size", str(SHM_MB * MIB), "--tmpfs", "/dev/shm"] if supports_size() else []
    no_userns = ["--disable-userns"] if "--disable-userns" in _help() else []
    remounts = [arg for path in reversed(later) for arg in ("--remount-ro", path)]
    return [
        executable() or "bwrap",
        *view,
        "--dir", work,
        "--ro-bind", program, f"{work}/program.py",
        "--dev", "/dev",
        *shm,
        "--proc", "/proc",
        *remounts,
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--chdir", work,
        "--unshare-all",
        "--unshare-user",
        *no_userns,
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "HOME", work,
        "--setenv", "TMPDIR", work,
        "--",
        python, "-I", "-B", "program.py",
    ]  # fmt: skip
