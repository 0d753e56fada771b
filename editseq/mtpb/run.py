"""MTPB runs -> sandbox verdicts -> ``x_results.jsonl`` + ``x_summary.json``.

Each run's final history is wrapped by ``harness.program_for`` and executed once in the
project's sandbox pool (all cores by default). Verdicts go to ``editseq evaluate``'s result store
(``x_cache.sqlite`` beside the results), so identical programs run once and a rerun after an
interruption runs only what is missing; a run whose failure wall-clock time may have decided (the
harness's wall-clock stop, the sandbox's backstop) runs again alone before it counts. Metric (CodeGen): per problem, passing runs /
runs (cases x samples); the score is the mean over problems, also per category, separately for
multi-turn and single-turn runs found in the same file.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from editseq.config import ConfigError, option, to_dict
from editseq.env import versions
from editseq.evaluate.passk import macro_rates
from editseq.evaluate.run import (
    check_replacing,
    machine_dependent,
    output_paths,
    overwrite_option,
    recheck_option,
    run_and_store,
    verdict_bar,
    warn_if_results,
)
from editseq.evaluate.store import ResultStore, cache_option, result_key
from editseq.io.lock import check_finished, writing
from editseq.io.outputs import check_writable, write_json, write_jsonl
from editseq.io.records import recorded
from editseq.mtpb import data, harness, prompts
from editseq.mtpb.runs import Run, read_runs
from editseq.sandbox import Limits, Verdict
from editseq.scale import ScaleOptions, sandbox_pool
from editseq.text import listing

LIMITS = Limits(timeout=harness.TIMEOUT + 5, memory_mb=4096, site_packages=True)  # the harness's
# 20 CPU-s and 40 s wall-clock alarms fire first; these only catch code that swallows them


@dataclass
class MTPBEvaluateOptions(ScaleOptions):
    """Options of ``editseq mtpb evaluate``."""

    samples: Path = option(None, help="MTPB runs JSONL: problem_id, case, completions", argument=True)  # noqa: RUF009
    data: Path | None = option(None, help="folder holding mtpb/mtpb.jsonl, or the file (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    fixed: bool = option(False, help="repair the known data quirks (57, 38/46 excluded, 41/89 comparison, 20/23 seeded)")
    cache: bool = cache_option()
    recheck: bool = recheck_option()
    out_dir: Path | None = option(None, help="where results go (default: beside SAMPLES)")  # noqa: RUF009
    overwrite: bool = overwrite_option()
    progress: bool = option(True, help="show a progress bar")

    def __post_init__(self) -> None:
        if self.samples is None:
            raise ConfigError("SAMPLES is required: a JSONL file of MTPB runs")
        self.samples = Path(self.samples)
        super().__post_init__()

    def output_paths(self) -> tuple[Path, Path, Path]:
        """(results JSONL, summary JSON, cache SQLite), named as ``editseq evaluate`` names them;
        ``--fixed`` adds ``_fixed`` (``x_fixed_results.jsonl``), so both modes' files can sit side by side."""
        return output_paths(self.samples, self.out_dir, "fixed" if self.fixed else "")


@dataclass(frozen=True)
class Outcome:
    """A run's verdict in the results: sandbox statuses, plus ``excluded`` (--fixed only)."""

    status: str
    reason: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def evaluate(opts: MTPBEvaluateOptions) -> dict:
    """Evaluate every run; writes results and summary, returns the summary (one evaluation at a
    time per results file)."""
    with writing(opts.output_paths()[0], flag="--out-dir"):
        return _evaluate(opts)


def _evaluate(opts: MTPBEvaluateOptions) -> dict:
    check_finished(opts.samples, "SAMPLES")  # `editseq mtpb sample` still drawing it: half-written
    bench = data.load(opts.data, opts.fixed)
    runs = read_runs(opts.samples, bench)
    _check_sampled_data(opts.samples, bench)
    lacking = _check_imports(runs, bench)
    results_path, summary_path, cache_path = opts.output_paths()
    warn_if_results([r.record for r in runs], opts.samples, results_path, "mtpb evaluate", "runs", "the pass rate")
    check_replacing(summary_path, "mtpb", opts.samples, opts.overwrite)
    check_writable(results_path, summary_path)  # an unusable --out-dir fails before the runs
    start = time.monotonic()
    store = ResultStore(cache_path if opts.cache else None)
    try:  # closing commits what finished, also when interrupted
        outcomes, executed = execute(runs, bench, store, opts.workers, opts.backend, opts.address, opts.recheck,
                                     opts.progress)
    finally:
        store.close()
    seconds = time.monotonic() - start
    order = sorted(range(len(runs)), key=lambda i: runs[i].key)
    runs, outcomes = [runs[i] for i in order], [outcomes[i] for i in order]
    _write_results(results_path, runs, outcomes, bench)
    summary = summarize(runs, outcomes, bench)
    summary.update(lacking_modules=lacking, executed=executed, settings={**to_dict(opts), "benchmark": "mtpb"}, seconds=round(seconds, 2),
                   versions=versions("numpy", "pandas", *data.INSTALLS), data={"file": str(bench.source), "sha256": bench.sha256},
                   results=str(results_path), samples_file=str(opts.samples.resolve()))
    write_json(summary_path, summary)
    return summary


def _check_sampled_data(samples: Path, bench: data.Benchmark) -> None:
    """Warn when ``mtpb sample`` recorded other MTPB data for these runs (its settings file beside
    them): their prompts came from that data, the tests from this one."""
    sampled = recorded(samples.with_name(samples.name + ".settings.json"), "settings", "data")
    if isinstance(sampled, str) and sampled != f"sha256:{bench.sha256}":  # None: runs from elsewhere
        warnings.warn(f"{samples} was sampled from other MTPB data ({sampled[:19]}...) than {bench.source} "
                      f"(sha256:{bench.sha256[:12]}...): the runs answer that data's prompts, and are "
                      "checked against this one's; pass the data they were sampled from with --data",
                      stacklevel=2)


def _check_imports(runs: list[Run], bench: data.Benchmark) -> dict[str, str]:
    """{problem id: module} of the runs' problems whose prompts import a module this Python (whose
    packages the sandbox runs with) lacks: they fail whatever the model wrote, so the pass rate falls
    short of the reference's; warned, and named in the summary."""
    ids = sorted({r.problem_id for r in runs} & set(data.IMPORTS) - set(bench.excluded), key=int)
    lacking = {pid: data.IMPORTS[pid] for pid in ids if importlib.util.find_spec(data.IMPORTS[pid][0]) is None}
    if lacking:
        installs = sorted({pip for _, pip in lacking.values()})
        warnings.warn(f"MTPB problems {listing(list(lacking))} import {', '.join(sorted({m for m, _ in lacking.values()}))}, "
                      f"which this Python lacks: their runs fail whatever the model wrote, so the pass rate falls "
                      f"short of the reference's; pip install {' '.join(installs)}", stacklevel=3)
    return {pid: module for pid, (module, _) in lacking.items()}


def execute(runs: list[Run], bench: data.Benchmark, store: ResultStore, workers: int | None = None,
            backend: str = "local", address: str | None = None,
            recheck: bool = True, progress: bool = False) -> tuple[list[Outcome], int]:
    """(one outcome per run, same order; how many programs ran in the sandbox).

    A verdict already in ``store`` is reused; each missing distinct program runs once and is
    stored as it finishes (``evaluate.run.run_and_store``, which also does the ``recheck``).
    ``progress``: a bar over the runs (those with a stored verdict count as done at the start).
    """
    runnable = [i for i, run in enumerate(runs) if run.problem_id not in bench.excluded and not run.error]
    programs = {i: job_program(runs[i], bench) for i in runnable}
    task_ids = {i: f"{runs[i].problem_id}/{runs[i].case}" for i in runnable}  # the store's task: problem/case
    keys = [result_key(bench, task_ids[i], programs[i], LIMITS) for i in runnable]
    known, todo = store.lookup(keys)
    if todo:
        with sandbox_pool(workers, LIMITS, backend, address, harness.PRELOAD) as pool, \
                verdict_bar(keys, todo, progress, "run", f"evaluate {bench.name}") as done:
            known.update(run_and_store(
                pool, store, bench.name, {key: task_ids[runnable[j]] for key, j in todo.items()},
                lambda pending: ((key, programs[runnable[todo[key]]]) for key in pending), recheck,
                done=done, load_dependent=load_dependent))
    verdicts = dict(zip(runnable, (known[k] for k in keys), strict=True))
    return [_outcome_of(run, verdicts.get(i), bench) for i, run in enumerate(runs)], len(todo)


def load_dependent(v: Verdict) -> bool:
    """What the machine's load may have decided: the sandbox's wall-clock backstop or an OOM kill
    (``machine_dependent``), or a run the harness stopped after its wall-clock time that did not
    pass (it may not have printed yet)."""
    return machine_dependent(v) or (not v.passed and harness.WALL_STOP in v.reason)


def _outcome_of(run: Run, verdict: Verdict | None, bench: data.Benchmark) -> Outcome:
    """A run's outcome: excluded (--fixed), the sampler's error, or its sandbox verdict."""
    if run.problem_id in bench.excluded:
        return Outcome("excluded", bench.excluded[run.problem_id])
    if verdict is None:
        return Outcome("error", run.error)
    return outcome(verdict)


def job_program(run: Run, bench: data.Benchmark) -> str:
    """The sandbox program of one run: history + harness + expected output."""
    problem = bench.problems[run.problem_id]
    source = prompts.program(problem, run.case, run.completions, run.mode)
    seed = bench.fixed and run.problem_id in data.SEEDED_IN_FIXED
    return harness.program_for(source, problem.cases[run.case].output, bench.fixed, seed)


def outcome(v: Verdict) -> Outcome:
    """Sandbox verdict -> outcome; the harness's own timeout becomes status ``timeout``."""
    reason = v.reason.removeprefix("AssertionError: ")
    if v.status == "error" and reason.startswith("MTPBTimeout"):
        return Outcome("timeout", reason.split(": ", 1)[-1], v.duration)
    return Outcome(v.status, reason, v.duration)


def _write_results(path: Path, runs: list[Run], outcomes: list[Outcome], bench: data.Benchmark) -> None:
    categories = {pid: p.category for pid, p in bench.problems.items()}
    write_jsonl(path, ({**run.record, "passed": o.passed, "status": o.status, "reason": o.reason,
                        "duration": o.duration, "category": categories.get(run.problem_id)}
                       for run, o in zip(runs, outcomes, strict=True)))


def _score(runs: list[Run], outcomes: list[Outcome], bench: data.Benchmark) -> dict:
    """pass rate (fractions) overall, per category and per problem for one mode; ``pass_rate`` is
    None when no run was scored. ``n_runs`` counts the scored runs, ``n_excluded`` those of problems
    ``--fixed`` excludes (also in ``statuses``); ``unfinished`` names, by problem, the runs the
    sampler could not finish (their ``error``: the history outgrew the context), counted as failures
    among the ``error`` statuses, where a count alone would not say which problems the context cost."""
    per_problem: dict[str, dict] = defaultdict(lambda: {"runs": 0, "passed": 0})
    unfinished: Counter[str] = Counter()
    for run, o in zip(runs, outcomes, strict=True):
        if o.status != "excluded":
            per_problem[run.problem_id]["runs"] += 1
            per_problem[run.problem_id]["passed"] += o.passed
            unfinished[run.problem_id] += bool(run.error)
    problems = {pid: {**c, "pass_rate": c["passed"] / c["runs"]}
                for pid, c in sorted(per_problem.items(), key=lambda kv: int(kv[0]))}
    categories = macro_rates({(bench.problems[pid].category, pid): (p["runs"], p["passed"])
                              for pid, p in problems.items()})
    rates = [p["pass_rate"] for p in problems.values()]
    missing = sorted(set(bench.problems) - set(problems), key=int)
    if missing:
        mode = runs[0].mode  # one mode's runs; a file with both warns once per mode, so name it
        warnings.warn(f"{len(missing)} of {len(bench.problems)} MTPB problems have no runs "
                      f"({mode}-turn) and are not scored: {listing(missing)}",
                      stacklevel=3)
    # no problem scored (every run excluded by --fixed): no pass rate, rather than a 0 for nothing
    n_scored = sum(p["runs"] for p in problems.values())
    return {"pass_rate": sum(rates) / len(rates) if rates else None, "n_runs": n_scored,
            "n_excluded": len(runs) - n_scored,
            "n_problems": len(problems), "problems_without_runs": missing,
            "unfinished": {pid: n for pid, n in sorted(unfinished.items(), key=lambda kv: int(kv[0])) if n},
            "categories": {c: rate for c, (rate, _) in categories.items()},
            "statuses": dict(Counter(o.status for o in outcomes)), "problems": problems}


def summarize(runs: list[Run], outcomes: list[Outcome], bench: data.Benchmark) -> dict:
    """Per-mode scores; ``pass_rate`` at the top is multi-turn's (or the only mode's)."""
    modes = {}
    for mode in sorted({r.mode for r in runs}):
        idx = [i for i, r in enumerate(runs) if r.mode == mode]
        modes[mode] = _score([runs[i] for i in idx], [outcomes[i] for i in idx], bench)
    main = modes.get("multi") or next(iter(modes.values()))
    return {"pass_rate": main["pass_rate"], "fixed": bench.fixed,
            "fixes": {pid: why for pid, why in data.FIXES.items()} if bench.fixed else {},
            "excluded": bench.excluded, "modes": modes}
