"""Reference side of ``lintseq_vs_reference.py``: runs PyPI ``pylintseq`` 0.0.2 on programs.

Runs inside the reference's own virtual environment (it imports ``pylintseq``, never editseq).
Reads one JSON object on stdin: ``{"programs": [{"name", "code"}], "seed": int,
"budget_s": float | null}`` and writes one JSON line per program as soon as it is done, so a
parent that stops early still has every finished figure.

The call is the one in ``pylintseq.generate`` (the published data generator): backward sampling
with one child per round, then ``inflate_edit_path`` on the single sampled path. ``file_linter``
is wrapped to count pylint calls, to measure how much of the program was already deleted, and to
stop a sequence whose CPU time passes ``budget_s`` (the figure is then a lower bound).
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time

import numpy as np
from pylintseq import utils

_ORIGINAL_LINTER = utils.file_linter


class BudgetExceeded(Exception):
    """Raised between two pylint calls once a sequence has used its CPU budget."""


class _Probe:
    """Counts pylint calls and tracks the smallest program state linted so far."""

    def __init__(self, budget_s: float | None, total_lines: int) -> None:
        self.budget_s = budget_s
        self.total_lines = max(total_lines, 1)
        self.start = _cpu_seconds()
        self.calls = 0
        self.min_lines = total_lines

    def __call__(self, file: str, expected_error_traces: object = None) -> list:
        if self.budget_s is not None and _cpu_seconds() - self.start > self.budget_s:
            raise BudgetExceeded
        self.calls += 1
        with open(file, encoding="utf-8") as handle:
            self.min_lines = min(self.min_lines, len(handle.read().splitlines()))
        return _ORIGINAL_LINTER(file, expected_error_traces=expected_error_traces)

    @property
    def progress(self) -> float:
        """Fraction of the program's lines deleted at the deepest state linted."""
        return 1.0 - self.min_lines / self.total_lines


def _cpu_seconds() -> float:
    """CPU of this process plus any children (the reference runs pylint in process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _one_sequence(code: str) -> list[str] | None:
    """Exactly the published generator's per-sequence call."""
    edit_path = utils.lintseq_backward_sampling_pythonic(
        code,
        children_per_round=1,
        top_k=1,
        max_population_size=1,
        max_depth=512,
        indent_bias_sampling_factor=1,
        ignore_imports=False,
        ignore_comments=True,
        ignore_global_defs=True,
        ignore_init_errors=False,
    )
    if edit_path is None:
        return None
    _, diffs = utils.inflate_edit_path(code, edit_path[0][0])
    return diffs


def main() -> None:
    job = json.load(sys.stdin)
    np.random.seed(job["seed"])
    random.seed(job["seed"])
    _one_sequence("def f(x):\n    return x\n")  # warm-up: pylint's lazy imports are not timed
    for program in job["programs"]:
        code = program["code"]
        probe = _Probe(job.get("budget_s"), len(code.split("\n")))
        utils.file_linter = probe
        complete = True
        diffs: list[str] | None = None
        try:
            diffs = _one_sequence(code)
        except BudgetExceeded:
            complete = False
        finally:
            utils.file_linter = _ORIGINAL_LINTER
        record = {
            "name": program["name"],
            "cpu_s": _cpu_seconds() - probe.start,
            "lint_calls": probe.calls,
            "complete": complete,
            "progress": 1.0 if complete else probe.progress,
            "n_diffs": None if diffs is None else len(diffs),
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
