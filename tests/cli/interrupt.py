"""Ctrl-C in a real ``editseq`` process, as the resume tests need it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def interrupted(argv: list[str], ready: Callable[[], bool], poll: float = 0.05,
                exit_within: float = 120) -> tuple[int, str]:
    """Run ``python -m editseq ARGV`` (this checkout's) until ``ready()`` holds, then send it the
    SIGINT of Ctrl-C; (its exit status, its stderr). A run that ends, or is not ready within two
    minutes, fails the test with its output; one still running ``exit_within`` seconds after the
    SIGINT fails it too (``subprocess.TimeoutExpired``)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "editseq", *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ready():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(poll)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=exit_within)
    return proc.returncode, err
