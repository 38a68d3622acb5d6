"""Run by Python inside the ``unshare`` namespaces: build the view, pivot into it, run the program.

Usage (by `tuneval.sandbox.unshare` only): ``python -I -S -B _nsinit.py ROOT WORK PROGRAM PYTHON
SHM_MB [KIND PATH SOURCE SIZE_MB]...`` (plain arguments: no json to import). The script
is root of a fresh user namespace (the caller mapped to root) with its own mount and PID
namespaces. It mounts a tmpfs root on ROOT, builds there the view's steps with
mount(2) (one system call each, so no process per mount), mounts its own ``/proc``, switches
root with pivot_root(2), detaches the host tree, makes the root read-only, drops every
capability from the bounding set, sets ``no_new_privs`` and execs Python on the program. The
program is then root of its namespace without any capability: it cannot remount or unmount.

Standard library only, and few modules (it runs with ``-S`` on every sandboxed program, so each
import costs every run).
"""

from __future__ import annotations

import ctypes
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_NOATIME, MS_NODIRATIME = 32, 4096, 1024, 2048
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
# statvfs f_flag bits (ST_*) of the flags a remount must keep (the kernel locks them).
_KEEP = ((8, MS_NOEXEC), (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME))
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "loongarch64": 41, "ppc64le": 203}
DEVICES = ("null", "zero", "full", "random", "urandom")

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong]
libc.mount.argtypes += [ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str, dst: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """Mount ``src`` on ``dst`` (the system call); raise OSError naming them on failure."""
    ret = libc.mount(
        src.encode(), dst.encode(), fstype.encode() if fstype else None, flags,
        data.encode() if data else None,
    )  # fmt: skip
    _check(ret, f"mount {src} on {dst}")


def remount_ro(path: str) -> None:
    """Make the mount at ``path`` read-only, keeping the flags the kernel locks."""
    have = os.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    for st_bit, ms_bit in _KEEP:
        if have & st_bit:
            flags |= ms_bit
    if not have & (1024 | 4096):
        flags |= MS_STRICTATIME  # else the kernel would default to relatime, a change
    mount("none", path, None, flags)


def tmpfs(path: str, options: str, flags: int = 0) -> None:
    """A fresh tmpfs on ``path`` (made if missing)."""
    os.makedirs(path, exist_ok=True)
    mount("tuneval", path, "tmpfs", MS_NOSUID | MS_NODEV | flags, options)


def _step(root: str, kind: str, path: str, source: str, size_mb: int, later: list[str]) -> None:
    dst = root + path
    if kind == "ro-bind":
        os.makedirs(dst, exist_ok=True)
        mount(source, dst, None, MS_BIND)
        remount_ro(dst)
    elif kind == "symlink":
        os.symlink(source, dst)
    elif kind == "mask-file":
        mount("/dev/null", dst, None, MS_BIND)
    elif kind == "mask-dir":
        tmpfs(dst, "size=4k", MS_RDONLY)
    elif kind == "tmpfs":
        tmpfs(dst, f"mode=1777,size={size_mb}m")
    else:  # empty: read-only once what lies below is mounted
        tmpfs(dst, "mode=755,size=4k")
        later.append(dst)


def _dev(root: str, shm_mb: int) -> None:
    dev = root + "/dev"
    tmpfs(dev, "mode=755,size=64k", 0)
    for name in DEVICES:
        open(f"{dev}/{name}", "w").close()
        mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{dev}/{name}")
    os.symlink("/proc/self/fd", f"{dev}/fd")
    tmpfs(f"{dev}/shm", f"mode=1777,size={shm_mb}m")
    remount_ro(dev)


def _pivot(root: str) -> None:
    os.chdir(root)
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is not None:
        _check(libc.syscall(number, b".", b"."), "pivot_root")
    else:  # no known system call number here: util-linux's pivot_root does the same
        import subprocess

        subprocess.run(["pivot_root", ".", "."], check=True)
    # The old root now sits on top of the new one at "/": detach it.
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    remount_ro("/")


def _drop_privileges() -> None:
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def main(args: list[str]) -> None:
    """Build the view the arguments describe and exec the program (never returns)."""
    root, work, program, python, shm_mb, *flat = args
    tmpfs(root, "mode=755,size=1m")
    later: list[str] = []
    for i in range(0, len(flat), 4):
        kind, path, source, size_mb = flat[i : i + 4]
        _step(root, kind, path, source, int(size_mb), later)
    for path in reversed(later):
        remount_ro(path)
    os.makedirs(root + work, exist_ok=True)
    with open(program, "rb") as src, open(f"{root}{work}/program.py", "wb") as dst:
        dst.write(src.read())
    _dev(root, int(shm_mb))
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _pivot(root)
    os.chdir(work)
    _drop_privileges()
    env = {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work}
    os.execve(python, [python, "-I", "-B", "program.py"], env)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        sys.stderr.write(f"tuneval sandbox (unshare): {exc}\n")
        sys.exit(125)
