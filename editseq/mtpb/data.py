"""MTPB problems: loading, validation, and the repairs of ``--fixed`` mode.

Default mode keeps the data exactly as the reference pipeline sees it: cases are
``zip(inputs, outputs)``, so problem 57's sixth output (which belongs to an unused key ``B``
of its fifth input) is dropped silently. ``--fixed`` makes each repair explicit and reports it
(see ``FIXES``); the benchmark's score in fixed mode is reported separately.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editseq import benchmarks
from editseq.config import ConfigError
from editseq.io.records import InputError
from editseq.mtpb import harness

RELATIVE = "mtpb/mtpb.jsonl"
# the canonical release, pinned (see ../shared/data/mtpb/SOURCE.md): fetched once where no local copy is
URL = ("https://raw.githubusercontent.com/salesforce/CodeGen/6f09e495f41e006375055239e4bcb18539f3a38b/"
       "codegen1/benchmark/mtpb.jsonl")
DEFAULT_MAX_GEN_LENGTH = 256  # the reference's default when a problem has no max_gen_length
EXCLUDED_IN_FIXED = {"38": "reads ./datasets/mlbootcamp5_train.csv, never released",
                     "46": "reads ./datasets/melb_data.csv, never released"}
SEEDED_IN_FIXED = ("20", "23")  # unseeded randomness: fixed mode seeds random and numpy.random
# modules a problem's prompts ask to import beyond numpy and pandas (which the harness preloads), as
# (import name, what pip installs): without them a problem fails whatever the model writes
IMPORTS = {"14": ("sklearn", "scikit-learn"), "46": ("sklearn", "scikit-learn")}
INSTALLS = tuple(sorted({pip for _, pip in IMPORTS.values()}))  # their distributions
FIXES = {
    "57": "6 outputs for 5 inputs: the 6th output and the 5th input's unused key 'B' are dropped",
    "41": "expects None (the prompt says print 'None'): fixed comparison accepts None and 'None'",
    "89": "expects dicts: fixed comparison compares dicts with ==",
    "20": "unseeded randomness: random and numpy.random are seeded with 0",
    "23": "unseeded randomness: seeded with 0 (its expected percentiles stay unattainable except by chance)",
    **{pid: f"excluded: {why}" for pid, why in EXCLUDED_IN_FIXED.items()},
}


@dataclass(frozen=True)
class Case:
    """One test case: the values the prompt templates are filled with and the expected output."""

    inputs: dict[str, Any]
    output: Any


@dataclass(frozen=True)
class Problem:
    """One MTPB problem: turn prompt templates (``str.format`` with a case's inputs) and cases."""

    id: str
    name: str
    category: str
    prompts: tuple[str, ...]
    cases: tuple[Case, ...]
    max_gen_length: int  # new tokens per turn

    def turn_prompts(self, case: int) -> list[str]:
        """The turn prompts filled with case ``case``'s inputs, as the reference fills them."""
        return [p.format(**self.cases[case].inputs) for p in self.prompts]


@dataclass
class Benchmark:
    """The loaded problems (by id, in numeric order) and what identifies the data file."""

    source: Path
    sha256: str
    fixed: bool
    problems: dict[str, Problem] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # id -> why (fixed mode only)

    # name, version and fingerprint: what the result store keys a verdict by (``store.Keyed``)
    @property
    def name(self) -> str:
        return "mtpb-fixed" if self.fixed else "mtpb"

    @property
    def version(self) -> str:
        return harness.version()

    @property
    def fingerprint(self) -> str:
        return self.sha256


def locate(data: Path | None) -> Path:
    """``data`` as the jsonl file itself, or a folder holding ``mtpb/mtpb.jsonl``; without
    ``data``, the shared data folder's copy, else the canonical release (``URL``), downloaded
    once into ~/.cache/editseq as the other benchmarks are."""
    if data is None:
        return benchmarks.locate(RELATIVE, URL, None)
    if Path(data).is_file():
        return Path(data)
    path = Path(data) / RELATIVE
    if not path.is_file():
        raise InputError(f"MTPB data not found ({path}); pass --data with the folder that "
                         "holds mtpb/mtpb.jsonl (or the file itself), or leave --data out")
    return path


_HINT = "check the file against its SOURCE.md, or leave --data out"


def problem_ids(text: str) -> list[str]:
    """``--problems`` ("3, 41,3" or "1-3,41") as ids in order, each once; a range ``a-b`` of
    integers stands for a through b (a subset as "1-20" is how one is usually asked for)."""
    ids: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        if dash and low.strip().isdigit() and high.strip().isdigit():
            if int(low) > int(high):  # empty, it would leave no ids: all 115 problems
                raise ConfigError(f"--problems: range {part!r} is empty; write it low to high")
            ids += [str(i) for i in range(int(low), int(high) + 1)]
        elif part:
            ids.append(part)
    return list(dict.fromkeys(ids))


def check_ids(bench: Benchmark, ids: list[str]) -> None:
    """ConfigError naming the ``--problems`` ids this benchmark does not have."""
    unknown = [i for i in ids if i not in bench.problems]
    if unknown:
        raise ConfigError(f"--problems: unknown ids {unknown}; MTPB ids are 1 to 115, given as a "
                          "comma-separated list of ids or ranges (3,41 or 1-20)")


def load(data: Path | None = None, fixed: bool = False) -> Benchmark:
    """All problems; ``fixed`` applies ``FIXES`` and excludes the problems without their data files."""
    path = locate(data)
    raw = path.read_bytes()
    bench = Benchmark(path, hashlib.sha256(raw).hexdigest(), fixed)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); {_HINT}") from exc
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {lineno}: not valid JSON ({exc.msg}); {_HINT}") from exc
        problem = _parse(row, f"{path} line {lineno}", fixed)
        if fixed and problem.id in EXCLUDED_IN_FIXED:
            bench.excluded[problem.id] = EXCLUDED_IN_FIXED[problem.id]
            continue
        bench.problems[problem.id] = problem
    if not bench.problems:
        raise InputError(f"{path}: no problems; {_HINT}")
    bench.problems = dict(sorted(bench.problems.items(), key=lambda kv: int(kv[0])))
    return bench


def _parse(row: dict, where: str, fixed: bool) -> Problem:
    try:
        inputs, outputs = row["inputs"], row["outputs"]
        if fixed and row["id"] == "57":
            inputs = [{k: v for k, v in inp.items() if k != "B"} for inp in inputs]
            outputs = outputs[:len(inputs)]
        cases = tuple(Case(i, o) for i, o in zip(inputs, outputs, strict=False))  # the reference pairs by zip
        problem = Problem(str(row["id"]), row["name"], row["category"], tuple(row["prompts"]), cases,
                          int(row.get("max_gen_length") or DEFAULT_MAX_GEN_LENGTH))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: not an MTPB problem ({type(exc).__name__}: {exc}); expected "
                         "id, name, category, prompts, inputs, outputs") from exc
    _check_filling(problem, where)
    return problem


def _check_filling(problem: Problem, where: str) -> None:
    """Fill every case's prompts now: a template its inputs cannot fill (a key they lack, a stray
    brace) would otherwise stop `mtpb sample`, its model loaded, or `mtpb evaluate` with a traceback."""
    for case in range(len(problem.cases)):
        try:
            problem.turn_prompts(case)
        except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: problem {problem.id}, case {case}: its turn prompts cannot be filled with "
                             f"its inputs ({type(exc).__name__}: {exc}); {_HINT}") from exc
