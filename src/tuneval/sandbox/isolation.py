"""Which OS isolation this machine offers, and the command prefix that applies it.

Order of preference: bubblewrap (read-only root, private /tmp, no network, own PID
namespace), then ``unshare`` namespaces (no network, own PID namespace; the file system stays
writable, so rlimits and the throwaway work dir are the remaining guard), then rlimits alone.
Each probe really runs a trivial program, because a binary can exist yet be unusable (no user
namespaces in a container).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Literal

Isolation = Literal["bwrap", "unshare", "none"]

log = logging.getLogger(__name__)

# The program runs as ``nobody`` in its own user namespace: RLIMIT_NPROC is then counted per
# namespace and enforced even when the caller is root.
NOBODY = 65534


def _works(cmd: list[str]) -> bool:
    try:
        done = subprocess.run(
            [*cmd, "true"],
            capture_output=True,
            timeout=10,
            env={},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _python_under_tmp() -> list[str]:
    """Folders of this Python (a venv, the interpreter) that the private /tmp would hide."""
    places = {sys.prefix, sys.exec_prefix, sys.base_prefix, os.path.dirname(sys.executable)}
    places |= {os.path.realpath(p) for p in places}
    tmp = os.path.realpath("/tmp")
    found = [p for p in places if p == "/tmp" or p.startswith("/tmp/") or p.startswith(tmp + "/")]
    # Outermost first, and nothing inside a folder already bound.
    found.sort(key=len)
    kept: list[str] = []
    for p in found:
        if not any(p == k or p.startswith(k + "/") for k in kept):
            kept.append(p)
    return kept


def bwrap_prefix(workdir: str) -> list[str]:
    """The bubblewrap command line that confines a program to ``workdir``.

    ``/tmp`` is a fresh tmpfs; a Python installed below /tmp (a checkout's venv there) is
    bound back read-only so that the interpreter still starts.
    """
    rebind = [arg for p in _python_under_tmp() for arg in ("--ro-bind", p, p)]
    return [
        shutil.which("bwrap") or "bwrap",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        *rebind,
        "--bind", workdir, workdir,
        "--chdir", workdir,
        "--unshare-all",
        "--unshare-user",
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]  # fmt: skip


def unshare_prefix() -> list[str]:
    """The ``unshare`` command line: new user, network, PID and mount namespaces."""
    return [
        shutil.which("unshare") or "unshare",
        "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
    ]  # fmt: skip


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest isolation that works here; warns once when there is none."""
    if shutil.which("bwrap") and _works([*bwrap_prefix(tempfile.gettempdir()), "--"]):
        return "bwrap"
    if shutil.which("unshare") and _works(unshare_prefix()):
        return "unshare"
    log.warning(
        "sandbox: neither bubblewrap nor unshare namespaces work here; generated code runs "
        "with rlimits, an empty environment and a throwaway work dir only (no network or "
        "file-system isolation). Install bubblewrap (apt-get install bubblewrap)."
    )
    return "none"


def prefix_for(isolation: Isolation, workdir: str) -> list[str]:
    """The command prefix for ``isolation`` (empty for ``none``)."""
    if isolation == "bwrap":
        return [*bwrap_prefix(workdir), "--"]
    if isolation == "unshare":
        return unshare_prefix()
    return []
