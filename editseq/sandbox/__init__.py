"""The one place untrusted code runs: isolation, limits, a warm worker pool, closed-set verdicts.

The sandbox knows no dataset: it runs a complete Python program and says whether the program
reached its end (``passed``), hit an assertion (``failed``), raised (``error``), ran out of
time (``timeout``) or died by a signal (``crashed``).
"""

from editseq.sandbox.pool import SandboxPool, SandboxWarning
from editseq.sandbox.verdict import STATUSES, Limits, Status, Verdict

__all__ = ["STATUSES", "Limits", "SandboxPool", "SandboxWarning", "Status", "Verdict"]
