"""The one place untrusted code runs: isolation, limits, a warm worker pool, closed-set verdicts.

The sandbox knows no dataset: it runs a complete Python program and says whether the program
reached its end (``passed``), hit an assertion (``failed``), raised (``error``), ran out of
time (``timeout``) or died by a signal (``crashed``).

The pool is imported lazily: the sample forker (``worker``) imports this package too, and every
module it holds (``threading`` above all, whose after-fork hook runs in each sample) makes each
fork dearer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from editseq.sandbox.verdict import STATUSES, Limits, Status, Verdict

if TYPE_CHECKING:
    from editseq.sandbox.pool import SandboxPool, SandboxWarning

__all__ = ["STATUSES", "Limits", "SandboxPool", "SandboxWarning", "Status", "Verdict", "version"]


def version() -> str:
    """What a verdict depends on besides the program and its limits: this package's code (hashed,
    so an edit cannot be forgotten), the Python that runs samples, and whether namespaces may be
    used (``$EDITSEQ_SANDBOX_NAMESPACES``). Part of the result store's key."""
    import sys
    from pathlib import Path

    from editseq.env import code_hash, sandbox_namespaces

    code = code_hash(*sorted(Path(__file__).parent.glob("*.py")))
    return f"sandbox {code}, python {sys.version.split()[0]}, namespaces {int(sandbox_namespaces())}"


def __getattr__(name: str) -> object:
    if name in ("SandboxPool", "SandboxWarning"):
        from editseq.sandbox import pool

        return getattr(pool, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
