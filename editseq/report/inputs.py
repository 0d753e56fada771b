"""Report inputs: read results files and tell their kind from their fields.

Three kinds arrive at ``editseq report``: evaluation results (``task_id`` + ``passed``, from
``editseq evaluate``), MTPB results (``problem_id`` + ``case`` + ``mode`` + ``passed``) and
LintSeq datasets (``edit_path``). Kinds are detected from the records, not the file name, so
renamed files still work; a summary JSON given by mistake is mapped to its results file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from editseq.evaluate.run import VERDICT_SETTINGS
from editseq.io.lock import check_finished
from editseq.io.records import InputError, read_valid_records, recorded
from editseq.text import counted

Kind = Literal["results", "mtpb", "lintseq"]
TOKEN_FIELDS = ("tokens", "n_tokens", "num_tokens", "completion_tokens", "output_tokens")


@dataclass
class Attempt:
    """One scored sample of a run: what the metrics need, whatever the benchmark."""

    task: str  # HumanEval/MBPP task_id, or MTPB problem_id
    passed: bool
    status: str
    program: str | None = None  # the code evaluate ran, else the sample's text, for diversity
    program_field: str | None = None  # the record field ``program`` came from
    tokens: int | None = None  # sampled tokens, when the sampler recorded them
    case: str | None = None  # MTPB test case
    mode: str | None = None  # MTPB "multi" | "single"
    category: str | None = None  # MTPB problem category

    @property
    def unit(self) -> str:
        """The pass@k unit: a task, or for MTPB one test case of a problem (a pass@k series holds
        one mode, so the multi-turn run of a case pairs with the single-turn run of that case)."""
        return self.task if self.case is None else f"{self.task}#{self.case}"


@dataclass
class Run:
    """One input file: a labelled run of attempts, or a LintSeq dataset."""

    label: str
    path: Path
    kind: Kind
    attempts: list[Attempt] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # LintSeq records only
    benchmark: str | None = None  # from the summary beside the results; None where unknown
    unanswered: list[str] = field(default_factory=list)  # benchmark problems it has no samples of (summary)
    # what its samples were judged under (summary): evaluate's --stop, --timeout, ... and the data's sha256
    judged: dict[str, Any] = field(default_factory=dict)


def load_run(path: Path, label: str | None = None) -> Run:
    """Read one input; raises InputError naming the file, line and missing field."""
    path = _results_path(Path(path))
    check_finished(path, "that input")  # a live run's output (LintSeq's grows as it goes): half-written
    rows = list(read_valid_records(path))
    if not rows:
        raise InputError(f"{path}: no records; expected evaluation results, MTPB results or LintSeq output")
    kind = detect_kind(rows[0][1], rows[0][0])
    run = Run(label or _default_label(path), path, kind)
    if kind == "lintseq":
        for where, rec in rows:
            edits = rec.get("edit_path")
            if not isinstance(edits, list) or not all(isinstance(e, str) for e in edits):
                raise InputError(f"{where}: 'edit_path' must be a list of diff strings (as `editseq lintseq` writes it)")
        run.records = [rec for _, rec in rows]
    else:
        # ``mtpb evaluate --fixed`` keeps the problems it leaves out (status ``excluded``) in its
        # results, so that no run is lost; they are no attempts and count in no pass rate
        attempts = [_attempt(rec, where, kind) for where, rec in rows]
        _check_unique(rows, kind)
        run.attempts = [a for a in attempts if a.status != "excluded"]
        if not run.attempts:
            raise InputError(f"{path}: every run is excluded (mtpb evaluate --fixed leaves these problems "
                             "out); nothing to report")
        summary = _summary(path)
        run.judged = _judged_under(summary)
        if kind == "mtpb":
            # --fixed repairs some problems' tests and drops two: a benchmark of its own, as
            # HumanEval+ is HumanEval's, so a reference and a fixed run are not paired as two models
            run.benchmark = "mtpb (fixed)" if summary and recorded(summary, "fixed") is True else "mtpb"
            run.unanswered = _mtpb_unanswered(summary)
        elif summary is not None:
            benchmark, unanswered = recorded(summary, "settings", "benchmark"), recorded(summary, "tasks_without_samples")
            run.benchmark = benchmark if isinstance(benchmark, str) else None
            run.unanswered = [str(t) for t in unanswered] if isinstance(unanswered, list) else []
    return run


def _judged_under(summary: Path | None) -> dict[str, Any]:
    """The settings a summary says its samples were judged under (``evaluate``'s verdict settings;
    ``mtpb evaluate`` has none to choose) and the benchmark data's sha256: runs of one benchmark
    judged under a 3 s and a 10 s timeout, or with and without ``--stop``, differ by that too."""
    if summary is None:
        return {}
    settings = recorded(summary, "settings")
    judged = {name: settings[name] for name in VERDICT_SETTINGS if name in settings} if isinstance(settings, dict) else {}
    data = recorded(summary, "data", "sha256")
    return {**judged, "data_sha256": data} if isinstance(data, str) else judged


def judged_value(name: str, value: Any) -> str:
    """A judged-under setting as the report shows it, in its notes and its runs table alike: the
    data's sha256 by its first 12 digits."""
    return value[:12] if name == "data_sha256" else str(value)


def _mtpb_unanswered(summary: Path | None) -> list[str]:
    """The MTPB problems a run has no runs of in any mode (its summary lists each mode's)."""
    modes = recorded(summary, "modes") if summary else None
    if not isinstance(modes, dict):
        return []
    missing = [set(map(str, m["problems_without_runs"])) for m in modes.values()
               if isinstance(m, dict) and isinstance(m.get("problems_without_runs"), list)]
    return sorted(set.intersection(*missing)) if missing else []


def _summary(results: Path) -> Path | None:
    """``x_summary.json`` that ``editseq evaluate`` (or ``mtpb evaluate``) wrote beside
    ``x_results.jsonl`` for these results: what names their benchmark (the results records do not:
    HumanEval and HumanEval+ share their task ids; MTPB's say nothing of --fixed) and the
    benchmark's tasks they have no samples of; None without one."""
    if not results.name.endswith("_results.jsonl"):
        return None
    summary = results.with_name(results.name.removesuffix("_results.jsonl") + "_summary.json")
    named = recorded(summary, "results")
    return summary if isinstance(named, str) and Path(named).name == results.name else None


def _check_unique(rows: list[tuple[str, dict[str, Any]]], kind: Kind) -> None:
    """Refuse a numbered sample given twice (results files concatenated, one run's subset and the
    whole): it counted as more samples, so its task's n and pass@k were wrong without a word.
    ``editseq evaluate`` refuses the same in its samples."""
    fields = ("mode", "problem_id", "case", "sample") if kind == "mtpb" else ("task_id", "sample")
    first: dict[tuple[str, ...], str] = {}
    again = []
    for where, rec in rows:
        if "sample" in rec:
            key = tuple(json.dumps(rec.get(name), sort_keys=True) for name in fields)
            seen = first.setdefault(key, where)
            if seen != where:
                named = ", ".join(f"{name} {rec.get(name)!r}" for name in fields if name in rec)
                again.append(f"{where}: {named} is already at {seen}")
    if again:
        more = f"\n  ... and {len(again) - 5} more" if len(again) > 5 else ""
        raise InputError(f"{counted(len(again), 'sample')} given twice (files concatenated?); each would count as "
                         "one more sample of its task. Remove the duplicates:\n  " + "\n  ".join(again[:5]) + more)


def detect_kind(record: dict[str, Any], where: str) -> Kind:
    """The input kind from one record's fields."""
    if "edit_path" in record:
        return "lintseq"
    if "passed" in record and "problem_id" in record:
        return "mtpb"
    if "passed" in record and "task_id" in record:
        return "results"
    if "task_id" in record or "problem_id" in record:  # samples, not yet run
        command = "mtpb evaluate" if "problem_id" in record else "evaluate"
        raise InputError(f"{where}: samples (fields {sorted(record)[:8]}), not yet evaluated: the report reads "
                         f"what `editseq {command}` writes; run `editseq {command}` on this file and pass "
                         "the x_results.jsonl it writes")
    raise InputError(f"{where}: cannot tell what this file is (fields {sorted(record)[:8]}); expected "
                     "evaluation results (task_id + passed, from `editseq evaluate`), MTPB results "
                     "(problem_id + case + mode + passed) or LintSeq output (edit_path)")


def _attempt(rec: dict[str, Any], where: str, kind: Kind) -> Attempt:
    """One scored record, checked: a wrong type here would silently change the figures
    (``"false"`` is truthy; ``null`` would become a task named "None")."""
    id_field = "problem_id" if kind == "mtpb" else "task_id"
    for name in (id_field, "passed"):
        if name not in rec:
            raise InputError(f"{where}: missing field {name!r}; every record of this file needs it")
    task = rec[id_field]
    if isinstance(task, bool) or not isinstance(task, (str, int)) or not str(task).strip():
        raise InputError(f"{where}: {id_field!r} must be a non-empty string or integer, got {task!r}")
    if not isinstance(rec["passed"], bool):
        raise InputError(f"{where}: 'passed' must be true or false, got {rec['passed']!r}")
    program_field = _program_field(rec)
    attempt = Attempt(task=str(task), passed=rec["passed"],
                      status=str(rec.get("status", "passed" if rec["passed"] else "failed")),
                      program=_program_text(rec, program_field), program_field=program_field,
                      tokens=_tokens(rec))
    if kind == "mtpb":
        case, mode = rec.get("case", 0), rec.get("mode", "multi")
        if type(case) is not int or case < 0:
            raise InputError(f"{where}: 'case' must be a non-negative integer, got {case!r}")
        if mode not in ("multi", "single"):
            raise InputError(f"{where}: 'mode' must be 'multi' or 'single', got {mode!r}")
        attempt.case, attempt.mode = str(case), mode
        attempt.category = str(rec.get("category") or "uncategorized")
    return attempt


def _program_field(rec: dict[str, Any]) -> str | None:
    """The field holding the sampled code, best first: ``executed_program``, what ``editseq
    evaluate`` ran (after --stop, fence stripping and --resolve-edits: text after a stop sequence
    is no part of the program); else, in results written before evaluate recorded it, the
    sample's text: a completion, a whole solution, or MTPB's per-turn completions.

    There an edit sequence that ``evaluate --resolve-edits`` resolved counts as its ``program``
    (its completion or solution is the sequence: two orders of writing one program are one
    program); ``editseq sample --format editseq`` records (with ``raw``) hold the program as their
    solution.
    """
    if isinstance(rec.get("executed_program"), str):
        return "executed_program"
    if "resolve_problems" in rec and "raw" not in rec and isinstance(rec.get("program"), str):
        return "program"
    for name in ("completion", "solution"):
        if isinstance(rec.get(name), str):
            return name
    turns = rec.get("completions")
    if isinstance(turns, list) and all(isinstance(t, str) for t in turns):
        return "completions"
    return None


def _program_text(rec: dict[str, Any], name: str | None) -> str | None:
    """The code in field ``name`` (``_program_field``); MTPB's turns joined."""
    if name is None:
        return None
    return "\n".join(rec[name]) if name == "completions" else rec[name]


def _tokens(rec: dict[str, Any]) -> int | None:
    for name in TOKEN_FIELDS:
        value = rec.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, list):  # per-turn counts
            return int(sum(v for v in value if isinstance(v, (int, float))))
    return None


def _results_path(path: Path) -> Path:
    """Map ``x_summary.json`` to the results file it names (people pass either).

    Both are written to one folder; the summary names the results as the evaluating command saw
    them (perhaps relative to another working folder), so the name is looked up beside it.
    """
    if path.suffix == ".json" and path.name.endswith("_summary.json") and path.is_file():
        summary = json.loads(path.read_text(encoding="utf-8"))
        named = path.with_name(Path(summary.get("results") or path.name.replace("_summary.json", "_results.jsonl")).name)
        if not named.is_file():
            raise InputError(f"{path}: a summary, and its results file {named} is missing; "
                             "pass the x_results.jsonl file instead")
        return named
    if not path.exists():
        raise InputError(f"{path}: no such file; pass x_results.jsonl files or LintSeq output")
    return path


def _default_label(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0].removesuffix("_results")
