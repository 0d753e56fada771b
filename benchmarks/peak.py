"""Peak memory and wall time of one ``editseq`` command run from a given checkout (the memory
benchmarks compare this checkout with another one, a git worktree)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def editseq_peak(tree: Path, args: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``python -m editseq ARGS`` with ``tree`` on
    ``PYTHONPATH``, run in ``cwd`` (``-m`` puts the working folder ahead of ``PYTHONPATH``, so it
    must hold no other ``editseq``). The peak is the process's own, from ``wait4``; a failed run
    ends the benchmark with its stderr."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "editseq", *args], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{tree}: editseq {args[0]} failed:\n{proc.stderr.read() if proc.stderr else ''}")
    return usage.ru_maxrss / 1024, wall
