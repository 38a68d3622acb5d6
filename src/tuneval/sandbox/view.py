"""What a sandboxed program sees of the host file system: what Python needs, read-only.

Both namespace isolations (bubblewrap and ``unshare``) build the same view from the steps of
`build_view`, each with its own tool:

* read-only: ``/usr``, ``/etc`` and the top-level ``/bin``, ``/sbin``, ``/lib*`` (real folders,
  or the symlinks of a merged-/usr system), and the interpreter's prefixes (the venv and the
  Python it was made from, symlinks resolved, wherever they live: under ``/root``, ``$HOME``,
  ``/tmp`` or a checkout);
* masked: the entries of ``/etc`` that other users may not read (``shadow``, ``sudoers``,
  private keys). The sandbox's user maps to the caller's, so without the mask the owner's
  permission bits would let the program read the caller's own 0600 files;
* empty and read-only: the caller's home, ``/run`` and ``/var``, so no secret and no Unix socket
  of the host (ssh-agent, D-Bus, Docker) is reachable;
* writable: one size-limited tmpfs on ``/tmp`` holding the work dir, and a small one on
  ``/dev/shm``; everything else, the root included, is read-only.

Nothing else of the host exists inside.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import stat
import sys
from dataclasses import dataclass
from typing import Literal

SYSTEM_DIRS = ("/usr", "/etc")
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
EMPTY_DIRS = ("/run", "/var")
# Where secrets of other programs live; walked for entries other users may not read.
MASKED_TREE = "/etc"
SHM_MB = 4
"""Size of the private /dev/shm (POSIX semaphores of multiprocessing live there)."""

Kind = Literal["ro-bind", "symlink", "tmpfs", "empty", "mask-file", "mask-dir"]


@dataclass(frozen=True)
class Step:
    """One mount (or symlink) of the view, applied in order."""

    kind: Kind
    """``ro-bind`` (host path, read-only), ``symlink`` (``source`` is the link target),
    ``tmpfs`` (writable, ``size_mb``), ``empty`` (an empty tmpfs made read-only once the
    steps below it are done), ``mask-file`` (/dev/null over a file), ``mask-dir`` (an empty
    read-only tmpfs over a folder)."""
    path: str
    """Where it appears inside the sandbox."""
    source: str = ""
    """The host path bound (``ro-bind``) or the link target (``symlink``)."""
    size_mb: int = 0
    """Size of a ``tmpfs``."""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@functools.cache
def _unreadable_in(tree: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Files and folders under ``tree`` that other users may not read (cached per process)."""
    files: list[str] = []
    dirs: list[str] = []
    for top, subdirs, names in os.walk(tree):
        kept = []
        for name in subdirs:
            path = os.path.join(top, name)
            if (_mode(path) & 0o005) != 0o005:
                dirs.append(path)  # masked whole; nothing below it needs a look
            else:
                kept.append(name)
        subdirs[:] = kept
        files += [
            os.path.join(top, n)
            for n in names
            if stat.S_ISREG(mode := _mode(os.path.join(top, n))) and not mode & stat.S_IROTH
        ]
    return tuple(files), tuple(dirs)


def _mode(path: str) -> int:
    """The mode of ``path`` itself (links not followed); world-readable if it just vanished."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return 0o755


@functools.cache
def python_prefixes() -> tuple[str, ...]:
    """The folders this interpreter needs (venv, base install), outermost first, no nesting.

    Both the path Python reports and its resolved form are kept, so that symlinks (a venv's
    ``bin/python`` pointing into pyenv) work inside. Folders the system dirs already expose are
    dropped, and ``/`` never counts: binding it would expose everything.
    """
    exe = os.path.realpath(sys.executable)
    places = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    places.add(os.path.dirname(os.path.dirname(exe)))
    places |= {os.path.realpath(p) for p in places}
    found = sorted(
        p
        for p in places
        if os.path.isdir(p)
        and p != "/"
        and not any(_inside(p, d) or _inside(d, p) for d in SYSTEM_DIRS)
    )
    kept: list[str] = []
    for p in sorted(found, key=len):
        if not any(_inside(p, k) for k in kept):
            kept.append(p)
    return tuple(kept)


def home_dirs() -> tuple[str, ...]:
    """The caller's home folders ($HOME and the account's), hidden behind empty tmpfs."""
    homes = {os.environ.get("HOME", "")}
    with contextlib.suppress(KeyError):  # a uid without an account (some containers)
        homes.add(pwd.getpwuid(os.getuid()).pw_dir)
    blocked = (*SYSTEM_DIRS, *TOP_LEVEL, *EMPTY_DIRS, "/tmp", "/proc", "/dev")
    return tuple(
        sorted(
            os.path.realpath(h)
            for h in homes
            if h.startswith("/") and os.path.realpath(h) not in (*blocked, "/")
        )
    )


def _top_level() -> list[Step]:
    steps = []
    for path in TOP_LEVEL:
        if os.path.islink(path):
            steps.append(Step("symlink", path, source=os.readlink(path)))
        elif os.path.isdir(path):
            steps.append(Step("ro-bind", path, source=path))
    return steps


def build_view(work: str, disk_mb: int) -> list[Step]:
    """The ordered steps that build the sandbox's file system.

    Steps are ordered by depth so a folder is mounted before anything inside it (a prefix
    under the home or /tmp is bound into the tmpfs hiding the rest).

    Args:
        work: The work dir inside the sandbox; must lie directly under ``/tmp``.
        disk_mb: Size of the writable /tmp (which holds ``work``).

    Returns:
        Steps without /dev and /proc, which each tool sets up its own way.
    """
    prefixes = python_prefixes()
    steps: list[Step] = [Step("ro-bind", d, source=d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    steps += _top_level()
    steps.append(Step("tmpfs", "/tmp", size_mb=disk_mb))
    steps += [Step("empty", d) for d in EMPTY_DIRS]
    # A home that is itself the Python prefix stays bound; any other home is hidden.
    steps += [Step("empty", h) for h in home_dirs() if h not in prefixes]
    steps += [Step("ro-bind", p, source=p) for p in prefixes]
    files, dirs = _unreadable_in(MASKED_TREE)
    steps += [Step("mask-file", f) for f in files]
    steps += [Step("mask-dir", d) for d in dirs]
    # Stable sort: same depth keeps the order above (a home tmpfs before a prefix in it).
    steps.sort(key=lambda s: s.path.rstrip("/").count("/"))
    return steps
