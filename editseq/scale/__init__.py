"""Scale-out backends (optional extra ``ray``): the same work, spread over a Ray cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from editseq.config import ConfigError, option
from editseq.sandbox import Limits, SandboxPool

if TYPE_CHECKING:
    from editseq.scale.ray_backend import RaySandboxPool

BACKENDS = ("local", "ray")


@dataclass(kw_only=True)
class ScaleOptions:
    """Where a command's work runs: the same options for every command that spreads work
    (``lintseq``, ``evaluate``, ``mtpb evaluate``), which subclass this and call its check.

    Keyword-only, so a subclass's own fields keep their positions (``EvaluateOptions(path)``).
    """

    workers: int | None = option(0, help="worker processes on this machine (0 = all cores)")
    backend: Literal["local", "ray"] = option("local", help="where the work runs: local worker processes, or ray (a Ray cluster; needs the 'ray' extra)")
    address: str | None = option(None, help="Ray cluster address for --backend ray (e.g. auto, ray://head:10001; default: start a local cluster)")

    def __post_init__(self) -> None:
        self.workers = self.workers or 0  # null in a config file: all cores, as 0
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 (all cores) or a positive number, got {self.workers}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.address and self.backend != "ray":  # else a cluster the user meant to use sits idle
            raise ConfigError(f"--address {self.address} is a Ray cluster's: add --backend ray "
                              "(the work runs on this machine otherwise)")


def sandbox_pool(workers: int | None, limits: Limits, backend: str = "local",
                 address: str | None = None, preload: tuple[str, ...] = ()) -> SandboxPool | RaySandboxPool:
    """Where sandboxed programs run: local warm workers (``workers`` 0 or None: all cores), or
    the same sandbox inside Ray tasks; ``preload`` as ``SandboxPool`` takes it."""
    if backend == "ray":
        from editseq.scale.ray_backend import RaySandboxPool

        return RaySandboxPool(limits, address, preload=preload)
    if backend != "local":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return SandboxPool(workers or None, limits, preload)
