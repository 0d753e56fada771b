"""A warm sandbox worker: isolated once, then forks one process per sample.

Started by ``SandboxPool`` as ``python -m editseq.sandbox.worker INDEX``; jobs and verdicts
travel as frames on its stdin/stdout (see ``protocol``). Common modules are imported here once
so each forked sample starts with them loaded; what the forked sample does is ``child``.

A sample passes only if the worker receives a per-sample random nonce that the child writes
after ``exec`` of the whole program returned: exits (``sys.exit``, ``os._exit``,
``SystemExit``), crashes and killed runners never produce it. Code that deliberately digs the
nonce out of the runner's own frames could forge it; the sandbox contains such code, but
judging it is not a goal.

Programs of up to ``COMPILE_HERE_CHARS`` characters are compiled by the worker before the fork.
Compiling runs none of the sample's code and takes milliseconds at that size; done in the sample
instead, every page the parser allocates is a page fault after the fork, and this costs about 15%
of the throughput (measured on HumanEval's canonical solutions). A program that does not compile
is judged without forking at all. Longer programs compile in the sample, under its limits. A
crash of the compiler would end only this worker; the pool replaces it and reports the sample
``crashed``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
import time
import warnings
from types import CodeType

from editseq.sandbox import protocol
from editseq.sandbox.child import (
    FULL_PATH,
    SAMPLE_FILENAME,
    Plan,
    compile_sample,
    describe,
    sample_main,
)
from editseq.sandbox.isolation import (
    SCRATCH,
    Isolation,
    drop_privileges,
    isolate_worker,
    scratch_folders,
    set_child_subreaper,
    set_nondumpable,
    set_parent_death_signal,
)
from editseq.sandbox.verdict import NOT_STARTED, Limits

# Imported once here so samples start with them loaded: what HumanEval, MBPP and their plus
# versions import. Anything more costs every sample: each extension module adds mappings that
# every fork copies, and ``random`` (also behind ``tempfile``, ``statistics``) and
# ``threading`` register after-fork hooks that would run in each sample (a reseed from
# /dev/urandom, lock re-creation). The rare sample that needs them imports them itself.
WARM_MODULES = ("math", "re", "collections", "itertools", "functools", "typing", "string",
                "heapq", "bisect", "copy", "operator")
COMPILE_HERE_CHARS = 200_000


class _Worker:
    """Runs samples one at a time inside this worker's isolation.

    Each fork write-protects every page of this process, so the code between two forks (here
    and in ``child.sample_main``) is kept to plain system calls on precomputed values: every page it
    writes costs a fault after each fork. Compiling the next program is the one exception, and
    it is cheaper here than in the sample (see the module docstring).
    """

    def __init__(self, iso: Isolation, in_fd: int, out_fd: int) -> None:
        self.iso, self.in_fd, self.out_fd = iso, in_fd, out_fd
        # inside the namespaces /tmp is the worker's own tmpfs; outside, a random name under the
        # caller's temporary folder (mkdir fails rather than follow anything planted there)
        base = SCRATCH if iso.namespaces else os.environ.get("TMPDIR", "/tmp")
        self.prefix = f"{base}/s-" if iso.namespaces else f"{base}/editseq-sample-"
        # the only writable places inside the namespaces, emptied after every sample; outside them
        # the caller's temporary folder is shared with the host and only the sample's folder goes
        self.scratch = scratch_folders() if iso.namespaces else []
        # what is there before any sample stays: read-only mount points of a checkout or venv
        # that lives under /tmp (see isolation._private_readonly_root)
        self.fixed = {f"{folder}/{name}" for folder in self.scratch for name in os.listdir(folder)}
        self.plans: dict[tuple, Plan] = {}
        self.guard = iso.samples_keep_root  # decided once: the code after a fork uses precomputed values

    def serve(self) -> None:
        protocol.send(self.out_fd, {"mode": self.iso.mode, "warning": self.iso.warning})
        while True:
            try:
                program, values = protocol.recv(self.in_fd)
            except EOFError:
                return
            plan = self.plans.get(values)
            if plan is None:
                if len(self.plans) >= 64:  # callers varying limits per job: keep the cache bounded
                    self.plans.clear()
                plan = self.plans[values] = Plan(Limits(*values))
            verdict = self.run(program, plan)
            try:
                protocol.send(self.out_fd, verdict)
            except BrokenPipeError:
                return  # the pool let this worker go (replaced it, or exited)

    def run(self, program: str, plan: Plan) -> tuple:
        """Fork, wait (CPU limit in the child, wall-clock backstop here), kill the tree, judge.

        Returns the fields of a ``Verdict``.
        """
        limits = plan.limits
        code: CodeType | str = program
        if len(program) <= COMPILE_HERE_CHARS:
            start = time.monotonic()
            try:
                code = compile_sample(program)
            except Exception as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
                return "error", describe(exc)[:500], round(time.monotonic() - start, 4), 0.0, 0, ""
        workdir = _fresh_folder(self.prefix)
        out_fd = _output_file(workdir)
        nonce = os.urandom(16).hex().encode()
        rfd, wfd = os.pipe()
        start = time.monotonic()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: this sample cannot run, the next may
            for fd in (out_fd, rfd, wfd):
                os.close(fd)
            self._clear(workdir)
            return "crashed", f"{NOT_STARTED} ({exc})", 0.0, 0.0, 0, ""
        if pid == 0:
            sample_main(code, plan, self.iso.namespaces, workdir, out_fd, wfd, nonce,
                        (self.in_fd, self.out_fd, rfd), guard=self.guard)
        os.close(wfd)
        pidfd = os.pidfd_open(pid)
        walled = not select.select((pidfd,), (), (), limits.wall)[0]
        if walled:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        duration = time.monotonic() - start
        os.close(pidfd)
        self._kill_rest(pid)
        message = _drain(rfd)
        output = os.pread(out_fd, limits.output_bytes, 0).decode("utf-8", "replace")
        os.close(out_fd)
        self._clear(workdir)
        cpu = usage.ru_utime + usage.ru_stime
        status_, reason = judge(message, nonce, status, walled, cpu, limits)
        return status_, reason, round(duration, 4), round(cpu, 4), usage.ru_maxrss, output

    def _clear(self, workdir: str) -> None:
        """Leave nothing for the next sample: its folder, and whatever it wrote to the scratch space."""
        try:
            os.rmdir(workdir)  # the common case: the sample left nothing behind
        except OSError:
            _remove(workdir)
        for folder in self.scratch:
            for name in os.listdir(folder):  # nothing new, unless the sample wrote /tmp/x or /dev/shm/x
                if f"{folder}/{name}" not in self.fixed:
                    _remove(f"{folder}/{name}")

    def _kill_rest(self, pid: int) -> None:
        """End every process the sample left behind (all of the PID namespace but us).

        Orphans are reparented to us (PID 1, or a child subreaper outside the namespaces), so
        "no children left" means nothing is left: the common case costs one ``waitid``. Outside
        the namespaces the sample's process group goes at once, and what left it (``setsid``) is
        killed as it comes back to us, level by level, until no child is left.
        """
        try:
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        try:
            if self.iso.namespaces:
                os.kill(-1, signal.SIGKILL)
            else:
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # nothing left to signal; zombies, if any, are reaped below
        while True:
            if not self.iso.namespaces:
                _kill_children()
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return


def _kill_children() -> None:
    """SIGKILL each child of this process (read from /proc: the orphans it adopted)."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = fh.read().rsplit(")", 1)[1].split()[1]
            if ppid == me:
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue  # not a process, or one already gone


def _fresh_folder(prefix: str) -> str:
    """A new private folder under an unguessable name, so no sample can plant the next one."""
    while True:
        path = prefix + os.urandom(8).hex()
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _remove(path: str) -> None:
    """Remove what a sample left, best effort: also folders it made unreadable (same uid as us).

    Iterative, since a sample can nest folders deeper than the recursion limit.
    """
    todo = [(path, False)]
    while todo:
        item, emptied = todo.pop()
        try:
            if emptied:
                os.rmdir(item)
            elif os.path.isdir(item) and not os.path.islink(item):
                os.chmod(item, 0o700)
                todo.append((item, True))
                todo.extend((f"{item}/{name}", False) for name in os.listdir(item))
            else:
                os.unlink(item)
        except OSError:
            continue  # best effort: only files a sample deliberately made unremovable survive it


def _output_file(workdir: str) -> int:
    """An unnamed file for the sample's stdout/stderr (RLIMIT_FSIZE caps it; no pipe to fill).

    Unnamed (O_TMPFILE) where the filesystem allows, so the sample cannot reach it by path and
    nothing is left to unlink.
    """
    try:
        return os.open(os.path.dirname(workdir), os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError:
        path = workdir + ".out"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
        return fd


def _drain(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    try:
        while len(chunk := os.read(fd, 65536)) and sum(map(len, chunks)) < 65536:
            chunks.append(chunk)
    except BlockingIOError:
        pass
    os.close(fd)
    return b"".join(chunks)


def judge(message: bytes, nonce: bytes, status: int, walled: bool, cpu: float,
          limits: Limits) -> tuple[str, str]:
    """Turn the child's report and exit status into (status, reason).

    Only the nonce, written after the program's last statement returned, means passed. A
    MemoryError names the memory limit: its own text is empty, and a correct program that needs
    more than its limit allows must not read as a bug of its own. RLIMIT_CPU counts whole
    seconds, so a program that ran past a fractional limit (0.5 s, a calibrated 4.3 s) without
    being stopped is a timeout here.
    """
    over_cpu = cpu >= limits.timeout
    if message.startswith(b"P" + nonce) and not over_cpu:
        return "passed", ""
    if walled:
        return "timeout", f"wall-clock limit of {limits.wall:g} s exceeded"
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if over_cpu or sig == signal.SIGXCPU:
        return "timeout", f"CPU time limit of {limits.timeout:g} s exceeded"
    if sig is not None:
        return "crashed", f"killed by {signal.Signals(sig).name}"
    if message[:1] in (b"F", b"E"):
        status_ = "failed" if message[:1] == b"F" else "error"
        first = message[1:].split(b"\0", 1)[0].decode("utf-8", "replace")  # forked children may have reported too
        if first.startswith("MemoryError"):  # bare ("MemoryError: "): say which limit it met
            first = f"{first.removesuffix(': ')} (under a memory limit of {limits.memory_mb} MiB)"
        return status_, first[:500]
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return "error", f"exited with code {code} before its tests finished"


def _confine_self(iso: Isolation) -> None:
    """Once per worker: become what samples will be, minus the per-sample limits.

    The forker drops privileges itself (samples inherit that for free) and turns non-dumpable,
    so samples running as the same uid can neither ptrace it nor open its /proc files; being
    PID 1 of the namespace, it ignores their signals. Third-party packages leave sys.path
    (``Limits.site_packages`` puts them back for one sample) and a frozen GC keeps the
    collector from touching, and so copying, every inherited object in each sample.
    """
    os.environ["HOME"] = os.environ["TMPDIR"] = SCRATCH if iso.namespaces else os.environ.get("TMPDIR", "/tmp")
    drop_privileges(iso)
    if iso.namespaces:  # a change of uid cleared it; PID 1 must die with the worker's outer process
        set_parent_death_signal()
    else:  # no PID namespace to empty: what samples leave comes back here instead
        set_child_subreaper()
    set_nondumpable()
    FULL_PATH[:] = sys.path
    sys.path[:] = [p for p in sys.path if not p.endswith(("site-packages", "dist-packages"))]
    sys.path_importer_cache.clear()
    # compile-time warnings (invalid escapes, ``is`` with a literal) of programs compiled here
    # would print on the caller's terminal; samples' own runtime warnings are untouched
    warnings.filterwarnings("ignore", module=SAMPLE_FILENAME)
    gc.collect()
    gc.freeze()


def main(index: int, preload: list[str]) -> None:
    """Isolate, become (or start) the PID-1 sample forker, serve jobs until stdin closes."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # samples inherit it as their stdin
    os.close(devnull)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # PID 1 must not die from a sample's SIGINT
    for name in WARM_MODULES:
        __import__(name)
    if preload:  # BLAS thread pools started here would not survive the forks
        os.environ.update(dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"))
        for name in preload:
            # not installed, or broken (a pandas built for another numpy raises ValueError): samples
            # importing it fail as they would unpreloaded, rather than every worker dying at start
            with contextlib.suppress(Exception):
                __import__(name)
    iso = isolate_worker(index, in_fd, out_fd)
    _confine_self(iso)
    _Worker(iso, in_fd, out_fd).serve()
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
