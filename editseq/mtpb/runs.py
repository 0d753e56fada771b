"""MTPB run records (the samples format): reading with file/line errors, and writing them.

One JSONL record per multi-turn run: ``problem_id``, ``case`` (0-4), optional ``sample``,
``completions`` (per-turn code, already truncated; one string for single-turn), optional
``mode`` ("multi" default, or "single") and optional ``error`` (set by the sampler when a run
could not be completed, e.g. the history outgrew the model's context; such a run counts as a
failure and is not executed). Any other field is carried through to the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editseq.io.records import InputError, check_all
from editseq.mtpb.data import Benchmark

MODES = ("multi", "single")


@dataclass
class Run:
    """One validated run record and where it came from."""

    record: dict[str, Any]
    problem_id: str
    case: int
    sample: int
    mode: str
    completions: list[str]
    where: str  # "file.jsonl line N"
    error: str = ""

    @property
    def key(self) -> tuple[str, str, int, int]:
        """Sort key: (mode, numeric problem id, case, sample)."""
        return (self.mode, f"{int(self.problem_id):04d}", self.case, self.sample)


def read_runs(path: Path, bench: Benchmark) -> list[Run]:
    """Validated runs, in file order; raises InputError naming file, line, field and fix of every bad run."""
    seen: dict[tuple, int] = {}
    first: dict[tuple, str] = {}  # where each (mode, problem, case, sample) was first given

    def check(where: str, rec: dict) -> Run:
        run = _validate(rec, where, bench)
        group = (run.mode, run.problem_id, run.case)
        if "sample" not in rec:
            run.sample = seen.get(group, 0)
        seen[group] = seen.get(group, 0) + 1
        key = (*group, run.sample)
        if key in first:  # counted twice, it would weigh twice in the pass rate
            implicit = "" if "sample" in rec else (f" (it has no 'sample' field: numbered {run.sample} "
                                                   "by its place among the case's runs)")
            fix = "remove the duplicate" if not implicit else "give every run of the case its own 'sample'"
            raise InputError(f"{where}: problem {run.problem_id}, case {run.case}, sample {run.sample}{implicit} "
                             f"({run.mode}-turn) is already in {first[key]}; {fix}")
        first[key] = where
        return run

    runs = check_all(path, check)
    if not runs:
        raise InputError(f"{path}: no runs (the file is empty); expected JSONL lines with "
                         "problem_id, case and completions")
    return runs


def _validate(rec: dict, where: str, bench: Benchmark) -> Run:
    pid = rec.get("problem_id")
    if pid is None:
        benchmark = ("; this record has task_id: a sample (or result) of HumanEval or MBPP, which "
                     "`editseq evaluate` reads, not an MTPB run" if "task_id" in rec else "")
        raise InputError(f"{where}: missing field 'problem_id' (an MTPB id such as \"1\"){benchmark}")
    pid = str(pid)
    if pid not in bench.problems and pid not in bench.excluded:
        raise InputError(f"{where}: unknown problem_id {pid!r}; MTPB ids are \"1\" to \"115\"")
    mode = rec.get("mode", "multi")
    if mode not in MODES:
        raise InputError(f"{where}, problem {pid}: mode must be 'multi' or 'single', got {mode!r}")
    case = rec.get("case")
    n_cases = len(bench.problems[pid].cases) if pid in bench.problems else 5
    if type(case) is not int or not 0 <= case < n_cases:
        raise InputError(f"{where}, problem {pid}: 'case' must be an integer 0-{n_cases - 1}, got {case!r}")
    sample = rec.get("sample", 0)
    if type(sample) is not int or sample < 0:
        raise InputError(f"{where}, problem {pid}: 'sample' must be a non-negative integer, got {sample!r}")
    comps = rec.get("completions")
    if not isinstance(comps, list) or not all(isinstance(c, str) for c in comps):
        raise InputError(f"{where}, problem {pid}: 'completions' must be a list of strings "
                         "(the truncated code of each turn)")
    error = rec.get("error") or ""
    if not isinstance(error, str):  # true or 5 would become the reason "True" or "5"
        raise InputError(f"{where}, problem {pid}: 'error' must be a string saying why the run could not be "
                         f"completed, got {error!r}; leave it out for a completed run")
    if not error and pid in bench.problems:
        turns = 1 if mode == "single" else len(bench.problems[pid].prompts)
        if len(comps) != turns:
            raise InputError(f"{where}, problem {pid}: {len(comps)} completions for a {mode}-turn run "
                             f"of {turns} turn(s); give one string per turn")
    return Run(rec, pid, case, sample, mode, comps, where, error)
