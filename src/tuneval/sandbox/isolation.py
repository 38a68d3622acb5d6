"""Which OS isolation this machine offers, and the command that runs a program under it.

Order of preference: bubblewrap, then ``unshare`` namespaces; both build the same file-system
view (`tuneval.sandbox.view`: only what Python needs, read-only; the caller's home, /run and
/var empty; a size-limited /tmp) with no network and their own PID namespace. Where neither
works, ``rlimits-only``: resource limits, an empty environment and a throwaway work dir on the
host, with a loud warning once per process. Each probe really runs Python under the full
command, because a binary can exist yet be unusable (no user namespaces in a container, a
``/proc`` that cannot be mounted).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from tuneval.errors import ConfigError
from tuneval.sandbox import bwrap, unshare

Isolation = Literal["bwrap", "unshare", "rlimits-only"]
LEVELS: tuple[Isolation, ...] = get_args(Isolation)
ENV = "TUNEVAL_SANDBOX"
"""Environment variable that forces an isolation level (e.g. to test the fallback)."""

log = logging.getLogger(__name__)

PROGRAM = "program.py"
_PROBE_DISK_MB = 1


@dataclass
class Launch:
    """How to start one sandboxed program."""

    argv: list[str]
    """The command."""
    env: dict[str, str] = field(default_factory=dict)
    """Its whole environment."""


def inner_workdir(workdir: str) -> str:
    """The work dir as the program sees it: a folder of the sandbox's private /tmp."""
    return "/tmp/" + os.path.basename(workdir.rstrip("/"))


def launch(isolation: Isolation, workdir: str, disk_mb: int) -> Launch:
    """The command running ``workdir/program.py`` under ``isolation``.

    Args:
        isolation: The isolation level.
        workdir: A fresh host folder holding `PROGRAM` (and nothing the program may keep:
            under bwrap and unshare the program never sees it).
        disk_mb: Total MiB the program may write (size of its private /tmp).

    Returns:
        The argv and environment for `subprocess.Popen` (with ``cwd=workdir``).
    """
    program = os.path.join(workdir, PROGRAM)
    work = inner_workdir(workdir)
    if isolation == "bwrap":
        return Launch(bwrap.bwrap_command(work, program, sys.executable, disk_mb))
    if isolation == "unshare":
        root = os.path.join(workdir, "root")
        os.makedirs(root, exist_ok=True)
        argv = unshare.unshare_command(root, work, program, sys.executable, disk_mb)
        return Launch(argv, {"PATH": unshare.PATH})
    env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir}
    return Launch([sys.executable, "-I", "-B", program], env)


def probe(isolation: Isolation) -> str:
    """Run a trivial Python program under ``isolation``; the error text, or "" if it works."""
    workdir = tempfile.mkdtemp(prefix="tuneval-sbx-")
    try:
        with open(os.path.join(workdir, PROGRAM), "w") as fh:
            fh.write("print('ok')\n")
        how = launch(isolation, workdir, _PROBE_DISK_MB)
        done = subprocess.run(
            how.argv, env=how.env, cwd=workdir, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if done.returncode == 0 and done.stdout.strip() == b"ok":
        return ""
    err = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return err[-1] if err else f"exit status {done.returncode}"


@functools.cache
def _probe_once(isolation: Isolation) -> str:
    return probe(isolation)


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest isolation that works here; warns once (per process) when there is none."""
    reasons = []
    tools: tuple[tuple[Isolation, Callable[[], str | None], str], ...] = (
        ("bwrap", bwrap.executable, "not installed"),
        ("unshare", unshare.executable, "not installed (util-linux)"),
    )
    for name, executable, missing in tools:
        if executable() is None:
            reasons.append(f"{name}: {missing}")
        elif not (why := _probe_once(name)):
            return name
        else:
            reasons.append(f"{name}: {why}")
    log.warning(
        "sandbox: NO ISOLATION — neither bubblewrap nor unshare namespaces work here (%s). "
        "Generated code runs with rlimits, an empty environment and a throwaway work dir "
        "only: it can read every file the caller can (~/.ssh, ~/.aws), reach the network and "
        "host Unix sockets, and write anywhere the caller can. Results record isolation "
        "'rlimits-only'. Install bubblewrap (apt-get install bubblewrap) and allow "
        "unprivileged user namespaces.",
        "; ".join(reasons),
    )
    return "rlimits-only"


def chosen_isolation() -> Isolation:
    """``$TUNEVAL_SANDBOX`` when set (bwrap, unshare or rlimits-only), else `detect_isolation`.

    Raises:
        ConfigError: When the variable names no isolation level.
    """
    forced = os.environ.get(ENV, "").strip()
    if not forced:
        return detect_isolation()
    for level in LEVELS:
        if forced == level:
            why = "" if level == "rlimits-only" else _probe_once(level)
            if why:
                raise ConfigError(
                    f"${ENV}={level} does not work on this machine ({why}); unset {ENV} to "
                    "use the strongest isolation that works here"
                )
            return level
    raise ConfigError(
        f"${ENV}={forced!r} is not an isolation level: use one of {', '.join(LEVELS)}, "
        "or unset it to use the strongest that works here"
    )
