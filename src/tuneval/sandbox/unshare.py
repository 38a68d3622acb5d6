"""The ``unshare`` fallback: the same view as bubblewrap, built by `tuneval.sandbox._nsinit`.

``unshare`` (util-linux) gives new user (caller mapped to root), mount, network, IPC (no host
System V shared memory or semaphores), UTS and PID namespaces; inside, ``_nsinit`` builds the
view of `tuneval.sandbox.view` with mount(2), pivots into it, drops every capability and execs
Python on the program.
"""

from __future__ import annotations

import os
import shutil

from tuneval.sandbox.view import SHM_MB, build_view

PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Run as a script, not imported: the host process has no use for its libc handle.
INIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_nsinit.py")


def executable() -> str | None:
    """Path of ``unshare``, or None."""
    return shutil.which("unshare", path=PATH)


def unshare_command(root: str, work: str, program: str, python: str, disk_mb: int) -> list[str]:
    """The full command running ``python program`` confined to the view.

    Args:
        root: An empty host folder on which the namespace mounts its new root (the mount
            exists only inside the namespace).
        work: The work dir inside the sandbox (under /tmp; becomes the current dir).
        program: Host path of the program file, copied to ``work/program.py``.
        python: The interpreter to run (inside one of the bound prefixes or /usr).
        disk_mb: Size of the writable /tmp tmpfs that holds ``work``.

    Returns:
        The argv for `subprocess.Popen`.
    """
    steps = [
        str(x) for s in build_view(work, disk_mb) for x in (s.kind, s.path, s.source, s.size_mb)
    ]
    return [
        executable() or "unshare",
        "--user", "--map-root-user", "--mount", "--net", "--ipc", "--uts", "--pid", "--fork",
        "--kill-child",
        # -S: the set-up needs only the standard library, and skips site's imports.
        python, "-I", "-S", "-B", INIT, root, work, program, python, str(SHM_MB), *steps,
    ]  # fmt: skip
