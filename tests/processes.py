"""What tests of processes wait for."""

from __future__ import annotations

import time
from pathlib import Path


def ends(pid: int) -> bool:
    """Whether ``pid`` is gone or dead (a zombie) within 2 s: SIGKILL, and a parent's death
    signal, land asynchronously."""
    for _ in range(20):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False
