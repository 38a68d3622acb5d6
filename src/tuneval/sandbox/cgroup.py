"""A per-run pids cgroup: a hard cap on the processes a sandboxed program may create.

RLIMIT_NPROC does not bind a program that runs as root (even mapped to ``nobody`` in a user
namespace), so where the cgroup v1 ``pids`` controller (or cgroup v2) is writable each run
gets its own cgroup with ``pids.max``. Where it is not, the PID namespace and the group kill
on timeout remain the bound.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


def _root() -> Path | None:
    for root in _ROOTS:
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            return root
    return None


def create(max_pids: int) -> Path | None:
    """A fresh cgroup limited to ``max_pids`` processes, or None when none can be made."""
    root = _root()
    if root is None:
        return None
    path = root / f"tuneval-sbx-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_pids))
    except OSError:
        remove(path)
        return None
    return path


def enter(path: Path) -> None:
    """Move the calling process into ``path`` (run in the child before exec)."""
    with open(path / "cgroup.procs", "w") as fh:
        fh.write(str(os.getpid()))


def remove(path: Path) -> None:
    """Kill what is left in the cgroup and remove it."""
    with contextlib.suppress(OSError):
        for pid in (path / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                os.kill(int(pid), 9)
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            import time

            time.sleep(0.02)
