"""Scale-out backends (optional extra ``ray``): the same work, spread over a Ray cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

from editseq.sandbox import Limits, SandboxPool

if TYPE_CHECKING:
    from editseq.scale.ray_backend import RaySandboxPool

BACKENDS = ("local", "ray")


def sandbox_pool(workers: int | None, limits: Limits, backend: str = "local",
                 address: str | None = None) -> SandboxPool | RaySandboxPool:
    """Where sandboxed programs run: local warm workers, or the same sandbox inside Ray tasks."""
    if backend == "ray":
        from editseq.scale.ray_backend import RaySandboxPool

        return RaySandboxPool(limits, address)
    if backend != "local":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return SandboxPool(workers, limits)
