"""samples.jsonl -> x_results.jsonl + x_summary.json: the evaluation pipeline.

Steps: read and validate samples; for EvalPlus benchmarks record the references' outputs and
calibrate time limits (once per task, kept in the result store); build programs; look verdicts up
in the store; run each distinct missing program once in the sandbox pool; re-check wall-clock
timeouts one at a time (CPU-time limits do not depend on load, but the wall-clock backstop does:
a loaded machine must not turn slow-but-correct programs into failures); then sort by
(task_id, sample index) and score.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from editseq.benchmarks import Benchmark, load_benchmark
from editseq.benchmarks.plus import (
    MAX_RECORD_BYTES,
    MIN_TIME_LIMIT,
    TASK_SECONDS,
    TIME_LIMIT_FACTOR,
    read_recording,
)
from editseq.config import ConfigError, option, parse_ks, to_dict
from editseq.env import versions
from editseq.evaluate.passk import bootstrap_ci, mean_pass_at_k, tally
from editseq.evaluate.samples import Sample, build_programs, read_samples
from editseq.evaluate.store import ResultStore, cache_option, result_key
from editseq.io.lock import check_finished, writing
from editseq.io.outputs import check_writable, write_json, write_jsonl
from editseq.io.records import InputError
from editseq.sandbox import Limits, SandboxPool, Verdict
from editseq.scale import ScaleOptions, sandbox_pool
from editseq.text import listing

DEFAULT_KS = (1, 10, 100)


def recheck_option() -> bool:
    """The ``--recheck/--no-recheck`` option of each command that runs programs through
    ``run_and_store`` (documented once)."""
    return option(True, help="re-run what the machine's load may have decided (wall-clock timeouts, deaths by SIGKILL: the OOM killer's) one at a time, after the rest, before it counts")


def overwrite_option(refused: str = "another benchmark or samples file") -> bool:
    """The ``--overwrite`` option of each command that writes ``x_summary.json`` (see ``check_replacing``);
    ``refused``: whose results it refuses to replace, in the command's own options."""
    return option(False, help=f"replace results of {refused} at the same place (default: refuse; --out-dir keeps both)")


@dataclass
class EvaluateOptions(ScaleOptions):
    """Options of ``editseq evaluate``."""

    samples: Path = option(None, help="samples JSONL (or Parquet): task_id + completion or solution (or EvalPlus's folder of task folders of N.py programs, or bigcode-evaluation-harness's generations .json)", argument=True)  # noqa: RUF009
    benchmark: Literal["humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+"] = option(
        "humaneval", help="benchmark the samples answer")
    data: Path | None = option(None, help="benchmark data folder (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    k: str = option("", help="comma-separated k for pass@k (default: 1,10,100 where k <= samples per task)", comma=True)
    timeout: float = option(3.0, help="CPU seconds per program; wall-clock backstop is 2x + 1 s")
    memory_mb: int = option(2048, help="address-space limit per sample process, MiB (HumanEval+ and MBPP+ samples get at least EvalPlus's 4096; the summary's sample_memory_mb says what was used)")
    site_packages: bool = option(False, help="let samples import installed third-party packages (default: stdlib only, so verdicts do not depend on this environment)")
    cache: bool = cache_option()
    out_dir: Path | None = option(None, help="where results go (default: beside SAMPLES)")  # noqa: RUF009
    strip_fences: bool = option(True, help="use the first ```-fenced block of a sample when present")
    stop: bool = option(False, help="cut completions at the benchmark's stop sequences: HumanEval(+) at \\nclass, \\ndef, \\n#, \\nif, \\nprint (CodeGen/CodeT); MBPP(+), whose completions are whole programs, at \\n\"\"\", \\nassert, \\nif __name__, \\ndef main(, \\nprint( (EvalPlus); programs resolved by --resolve-edits are left whole")
    sanitize: bool = option(False, help="keep of each program only its imports and what the task's entry point and test need (functions, classes, constants), as EvalPlus's sanitizer does: a whole program's example asserts, prints, input() reads and `if __name__ == \"__main__\":` block then cannot fail a right function; a program that does not compile, or defines no entry point, runs as written")
    resolve_edits: bool = option(False, help="samples are LintSeq edit sequences: resolve them to programs first (records from 'editseq sample --format editseq' are resolved already and left as they are)")
    overwrite: bool = overwrite_option("another benchmark or samples file, or judged under other settings (--stop, --timeout, ...),")
    recheck: bool = recheck_option()
    progress: bool = option(True, help="show a progress bar")

    def __post_init__(self) -> None:
        if self.samples is None:
            raise ConfigError("SAMPLES is required: a JSONL file of task_id + completion/solution")
        self.samples = Path(self.samples)
        super().__post_init__()
        try:  # the sandbox's own checks (positive, finite), named as flags
            Limits(timeout=self.timeout, memory_mb=self.memory_mb)
        except ValueError as exc:
            raise ConfigError("--" + str(exc).replace("_", "-", 1)) from exc
        self.ks = parse_ks(self.k)

    def output_paths(self) -> tuple[Path, Path, Path]:
        """(results JSONL, summary JSON, cache SQLite) for this samples file."""
        return output_paths(self.samples, self.out_dir)


def output_paths(samples: Path, out_dir: Path | None, tag: str = "") -> tuple[Path, Path, Path]:
    """(results JSONL, summary JSON, cache SQLite) for ``runs/x.jsonl`` (or a folder ``runs/x``):
    ``runs/x_results.jsonl`` and so on, or the same names in ``out_dir``; ``tag`` names a variant
    (``x_fixed_results.jsonl``)."""
    folder = out_dir or samples.parent
    stem = samples.name if samples.is_dir() else samples.name.removesuffix(".gz").rsplit(".", 1)[0]
    stem += f"_{tag}" if tag else ""
    return folder / f"{stem}_results.jsonl", folder / f"{stem}_summary.json", folder / f"{stem}_cache.sqlite"


def evaluate(opts: EvaluateOptions) -> dict:
    """Run the whole evaluation; returns the summary (also written to disk). One evaluation at a
    time writes a results file (its summary and cache share its name)."""
    with writing(opts.output_paths()[0], flag="--out-dir"):
        return _evaluate(opts)


def _evaluate(opts: EvaluateOptions) -> dict:
    check_finished(opts.samples, "SAMPLES")  # `editseq sample` still drawing it: half-written
    bench = load_benchmark(opts.benchmark, opts.data)
    samples = read_samples(opts.samples, bench)
    ks = _choose_ks(samples, opts.ks)
    results_path, summary_path, cache_path = opts.output_paths()
    warn_if_results([s.record for s in samples], opts.samples, results_path, "evaluate", "samples", "pass@k")
    check_replacing(summary_path, opts.benchmark, opts.samples, opts.overwrite,
                    {name: getattr(opts, name) for name in VERDICT_SETTINGS})
    check_writable(results_path, summary_path)  # before the samples run
    store = ResultStore(cache_path if opts.cache else None)
    limits = Limits(timeout=opts.timeout, memory_mb=opts.memory_mb, site_packages=opts.site_packages)
    tasks = {s.task_id for s in samples}
    try:
        with sandbox_pool(opts.workers, limits, opts.backend, opts.address) as pool:
            unrecorded = record_references(bench, pool, store, limits, tasks, opts.progress)
            build_programs(samples, bench, opts.strip_fences, opts.stop, opts.resolve_edits, opts.sanitize)
            task_limits = _task_limits(bench, pool, store, limits, tasks, opts.progress)
            verdicts = _run_all(samples, bench, pool, store, task_limits, opts)
            isolation = pool.isolation
    finally:
        store.close()
    position = {task_id: i for i, task_id in enumerate(bench.problems)}  # HumanEval/2 before /10
    order = sorted(range(len(samples)), key=lambda i: (position[samples[i].task_id], samples[i].index))
    samples, verdicts = [samples[i] for i in order], [verdicts[i] for i in order]
    _write_results(results_path, samples, verdicts)
    summary = summarize(samples, verdicts, ks, bench)
    if bench.scaled_timeouts:
        summary["reference_run_per_sample"] = unrecorded
    # the plus benchmarks' task limits raise --memory-mb to what their tests need: the summary
    # says what the samples ran under, read from those limits rather than worked out again
    sample_memory_mb = next(iter(task_limits.values()), limits).memory_mb
    summary.update(settings=to_dict(opts), sample_memory_mb=sample_memory_mb, isolation=isolation,
                   versions={**versions(), "benchmark": f"{bench.name} {bench.version}"},
                   data={"file": str(bench.source), "sha256": bench.fingerprint, "url": bench.url,
                         "license": bench.license},
                   results=str(results_path), samples_file=str(opts.samples.resolve()))
    write_json(summary_path, summary)
    return summary


def warn_if_results(records: list[dict], source: Path, results: Path, command: str, items: str,
                    metric: str) -> None:
    """Warn when every record of ``source`` is a result of ``editseq COMMAND`` (passed, status):
    given as input by mistake, it is evaluated again as new ``items``, into another results file."""
    if all("passed" in r and "status" in r for r in records):
        warnings.warn(f"{source} holds the results of an earlier `editseq {command}` (passed, status): "
                      f"they are evaluated again as new {items}, into {results.name}; to recompute "
                      f"{metric} from the stored verdicts, evaluate the {items} file they came from",
                      UserWarning, stacklevel=3)


# the options that change what a sample is judged as: results under others are other results
VERDICT_SETTINGS = ("stop", "strip_fences", "resolve_edits", "sanitize", "timeout", "memory_mb", "site_packages")


def check_replacing(summary_path: Path, benchmark: str, samples: Path, overwrite: bool,
                    judged_under: dict[str, Any] | None = None) -> None:
    """Refuse to replace another benchmark's results (``humaneval`` then ``humaneval+`` on one
    samples file, or ``mtpb``), another samples file's (``base/s.jsonl`` then ``sft/s.jsonl``
    into one ``--out-dir``), or results judged under other settings than ``judged_under`` (the samples at two
    truncations, ``--stop`` then ``--no-stop``, whose first results were replaced without a
    word): rerunning the same evaluation recomputes them (verdicts come from the cache)."""
    if overwrite or not summary_path.is_file():
        return
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        settings = summary["settings"]
        # MTPB summaries written before they named their benchmark are known by their modes
        before = settings.get("benchmark", "mtpb" if "modes" in summary else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        summary, before = {}, None  # not a summary this command wrote
    if before != benchmark:
        what = f"{before} results" if before else "a file that is not an editseq summary"
        raise ConfigError(f"{summary_path} holds {what}; pass another --out-dir to keep both, "
                          f"or --overwrite to replace it with {benchmark}'s")
    source = summary.get("samples_file")  # absent in summaries of older versions
    if isinstance(source, str) and source != str(samples.resolve()):
        raise ConfigError(f"{summary_path} holds the results of {source}; pass another --out-dir to "
                          f"keep both, or --overwrite to replace them with {samples}'s")
    before_settings = summary.get("settings") if isinstance(summary.get("settings"), dict) else {}
    changed = [f"--{name.replace('_', '-')}: {before_settings[name]!r} there, {value!r} now"
               for name, value in (judged_under or {}).items() if name in before_settings and before_settings[name] != value]
    if changed:
        raise ConfigError(f"{summary_path} holds results of these samples judged under other settings "
                          f"({'; '.join(changed)}); pass another --out-dir to keep both, or --overwrite "
                          "to replace them")


def _choose_ks(samples: list[Sample], requested: list[int]) -> list[int]:
    counts = Counter(s.task_id for s in samples)
    n_min = min(counts.values())
    short = sorted(t for t, n in counts.items() if n == n_min)
    fewest = (f"task {short[0]} has" if len(short) == 1 else f"tasks {listing(short, 5)} have") + f" only {n_min}"
    if not requested:
        chosen = [k for k in DEFAULT_KS if k <= n_min] or [1]
        if n_min < max(counts.values()) and n_min < DEFAULT_KS[-1]:
            dropped = [f"pass@{k}" for k in DEFAULT_KS if n_min < k <= max(counts.values())]
            if dropped:
                warnings.warn(f"{', '.join(dropped)} not computed: {fewest} samples "
                              "(pass@k needs k per task; pass --k to choose)", stacklevel=2)
        return chosen
    too_big = [k for k in requested if k > n_min]
    if too_big:
        raise InputError(f"pass@{too_big[0]} needs at least {too_big[0]} samples per task, but "
                         f"{fewest}; lower --k or draw more samples")
    return requested


# CPU seconds a canonical solution may take while its task's limit is calibrated. MBPP+'s Mbpp/599
# sums ranges of 10^8 on 16 inputs (about 30 s here, twice that when its reference ran beside it),
# so a 60 s cap called it a timeout on a slower day.
CALIBRATION_TIMEOUT = 300.0


def _calibration_limits(bench: Benchmark, limits: Limits) -> Limits:
    return replace(limits, memory_mb=max(limits.memory_mb, bench.memory_mb),
                   timeout=max(limits.timeout, CALIBRATION_TIMEOUT))


def recording_limits(bench: Benchmark, limits: Limits) -> Limits:
    """What a recording program runs under: the calibration limits, with room for its output."""
    return replace(_calibration_limits(bench, limits), output_bytes=MAX_RECORD_BYTES * 4 // 3 + 65536)


def record_references(bench: Benchmark, pool: SandboxPool, store: ResultStore, limits: Limits,
                       tasks: set[str], progress: bool) -> list[str]:
    """Record each EvalPlus task's reference outputs once and build its test from them.

    The recording runs in the sandbox like any program (references are code too) and is kept in
    the result store. Returns the tasks whose samples still run the reference themselves: the
    outputs were too large to carry (``plus.MAX_RECORD_BYTES``), would not pickle, or the
    reference failed.
    """
    specs = {tid: p.plus for tid, p in bench.problems.items() if tid in tasks and p.plus is not None}
    lim = recording_limits(bench, limits)
    programs = {tid: spec.recording_program() for tid, spec in specs.items()}
    keys = {tid: result_key(bench, tid, program, lim) for tid, program in programs.items()}
    known = store.get_recordings(list(keys.values()))
    todo = [(tid, programs[tid]) for tid in specs if keys[tid] not in known]
    for tid, v in _with_bar(pool.run(todo, limits=lim), len(todo), progress, "record references"):
        known[keys[tid]] = (read_recording(v.output) if v.passed else None) or ""
        if v.status not in ("timeout", "crashed"):  # those may go another way next time: retried
            store.put_recording(keys[tid], tid, known[keys[tid]])
    for tid, spec in specs.items():
        if known[keys[tid]]:
            bench.problems[tid] = replace(bench.problems[tid], test=spec.test(known[keys[tid]]))
    return sorted(tid for tid in specs if not known[keys[tid]])


def _task_limits(bench: Benchmark, pool: SandboxPool, store: ResultStore,
                 limits: Limits, tasks: set[str], progress: bool) -> dict[str, Limits]:
    """Per-task limits of EvalPlus-style benchmarks: EvalPlus's budget for the whole test
    (``plus_timeout``), from the canonical solution's own time under the same test.

    Their tests run the candidate (and, where no outputs were recorded, the reference) on
    hundreds of inputs, each under its own limit inside the test (``benchmarks.plus``).
    """
    if not bench.scaled_timeouts:
        return {}
    calib = _calibration_limits(bench, limits)
    limits = replace(limits, memory_mb=calib.memory_mb)
    jobs = [(tid, bench.canonical_program(p)) for tid, p in bench.problems.items() if tid in tasks]
    keys = {tid: result_key(bench, tid, prog, calib) for tid, prog in jobs}
    known = store.get(list(keys.values()))
    todo = [(tid, prog) for tid, prog in jobs if keys[tid] not in known]
    for tid, v in _with_bar(pool.run(todo, limits=calib), len(todo), progress, "calibrate limits"):
        known[keys[tid]] = v
        store.put(keys[tid], bench.name, tid, v)
    broken = [f"{tid} ({known[keys[tid]].status}: {known[keys[tid]].reason[:120]})"
              for tid in keys if not known[keys[tid]].passed]
    if broken:  # the sandbox, not the samples, is at fault: their verdicts on these tasks mean little
        warnings.warn(f"the canonical solution fails in this sandbox on {len(broken)} task(s): "
                      f"{listing(broken)}; verdicts on them are unreliable", stacklevel=2)
    return {tid: replace(limits, timeout=plus_timeout(len(bench.problems[tid].plus.inputs),
                                                      known[keys[tid]].cpu_time, limits.timeout))
            for tid in keys}


def plus_timeout(inputs: int, canonical: float, floor: float) -> float:
    """CPU seconds for a whole EvalPlus test: EvalPlus's budget, the sum of the per-input limits
    capped at ``TASK_SECONDS`` (each input gets at least ``MIN_TIME_LIMIT``, and the limits add up
    to at most ``inputs`` x that + ``TIME_LIMIT_FACTOR`` x the reference's time, which the
    canonical solution's time under the same test bounds), plus the canonical run's own time and
    1 s for the test around the calls; at least ``floor`` (``--timeout``)."""
    budget = min(TASK_SECONDS, inputs * MIN_TIME_LIMIT + TIME_LIMIT_FACTOR * canonical)
    return max(floor, round(budget + canonical + 1, 1))


def _with_bar(results: Iterator[tuple], total: int, progress: bool, what: str) -> Iterator[tuple]:
    from tqdm import tqdm

    with tqdm(total=total, disable=not progress or not total, unit="task", desc=what, leave=False) as bar:
        for item in results:
            bar.update()
            yield item


def _run_all(samples: list[Sample], bench: Benchmark, pool: SandboxPool, store: ResultStore,
             task_limits: dict[str, Limits], opts: EvaluateOptions) -> list[Verdict]:
    """Verdict per sample (same order): cached, else run once per distinct program.

    Programs (code + test) are put together as the pool takes them, never all at once.
    """
    tests = {s.task_id: "\n" + bench.problems[s.task_id].test for s in samples}
    lims = [task_limits.get(s.task_id, pool.limits) for s in samples]
    keys = [result_key(bench, s.task_id, (s.code, tests[s.task_id]), lim)
            for s, lim in zip(samples, lims, strict=True)]
    known, todo = store.lookup(keys)  # todo: key -> the first sample with that program

    def jobs(pending: list[str]) -> Iterator[tuple]:
        for key in pending:
            s = samples[todo[key]]
            yield key, s.code + tests[s.task_id], lims[todo[key]]

    tasks = {key: samples[i].task_id for key, i in todo.items()}
    with verdict_bar(keys, todo, opts.progress, "sample", f"evaluate {bench.name}") as done:
        known.update(run_and_store(pool, store, bench.name, tasks, jobs, opts.recheck, done=done))
    return [known[k] for k in keys]


@contextlib.contextmanager
def verdict_bar(keys: list[str], todo: dict[str, int], progress: bool, unit: str,
                desc: str) -> Iterator[Callable[[str], None]]:
    """A progress bar over ``keys`` (one per sample or run; those holding one program share its key
    and its one verdict), the stored ones done from the start (``todo``: the keys still to run);
    yields ``run_and_store``'s ``done``, which moves it by every sample or run of the key."""
    from tqdm import tqdm

    weights = Counter(keys)
    with tqdm(total=len(keys), initial=sum(n for key, n in weights.items() if key not in todo),
              disable=not progress, unit=unit, desc=desc) as bar:
        yield lambda key: bar.update(weights[key])


def machine_dependent(v: Verdict) -> bool:
    """What the machine's load may have decided: a wall-clock timeout (a CPU-time one is the
    program's own and final), or a death by SIGKILL, which no limit of the sandbox sends a
    sample (its memory limit raises MemoryError, its CPU limit SIGXCPU; its wall clock is a
    timeout) and the kernel's out-of-memory killer does, to whichever process is largest when
    the machine runs short, the other samples' memory included."""
    return (v.status == "timeout" and v.reason.startswith("wall-clock")) or \
        (v.status == "crashed" and v.reason == "killed by SIGKILL")


def run_and_store(pool: SandboxPool, store: ResultStore, bench_name: str, tasks: dict[str, str],
                  jobs: Callable[[list[str]], Iterable[tuple]], recheck: bool,
                  done: Callable[[str], None] = lambda key: None,
                  load_dependent: Callable[[Verdict], bool] = machine_dependent) -> dict[str, Verdict]:
    """Run the programs of ``tasks`` (store key -> task id; ``jobs(keys)`` yields their pool jobs)
    and store each verdict as it finishes, so an interrupted run keeps what finished.

    With ``recheck``, a load-dependent verdict (``load_dependent``, by default a wall-clock
    timeout or an OOM kill: ``machine_dependent``) is held back and its program runs again alone after all others (a loaded machine
    must not turn slow-but-correct programs into failures); the second verdict is final. A
    failure of the sandbox itself (``Verdict.transient``: a lost worker, a refused fork) says
    nothing about the program, so its program runs again alone in any case; one that fails so
    twice is warned about (it counts as not passed, and the store keeps nothing: the next run
    retries it). ``done(key)`` follows each first verdict (a progress bar).
    """
    def again(v: Verdict) -> bool:
        return v.transient or (recheck and load_dependent(v))

    verdicts: dict[str, Verdict] = {}
    for key, v in pool.run(jobs(list(tasks))):
        if not again(v):
            store.put(key, bench_name, tasks[key], v)
        verdicts[key] = v
        done(key)
    rerun = [k for k in tasks if again(verdicts[k])]
    for key, v in pool.run(jobs(rerun), concurrency=1) if rerun else ():
        verdicts[key] = v
        store.put(key, bench_name, tasks[key], v)
    lost = [k for k in tasks if verdicts[k].transient]
    if lost:
        warnings.warn(f"the sandbox failed on {len(lost)} program(s) twice ({verdicts[lost[0]].reason[:120]}), "
                      f"tasks {listing(sorted({tasks[k] for k in lost}))}: they count as not passed "
                      "here; rerun to retry them (such verdicts are not kept)", stacklevel=2)
    return verdicts


def _write_results(path: Path, samples: list[Sample], verdicts: list[Verdict]) -> None:
    """Each sample's record with its verdict, and ``executed_program``: the code that ran before
    the task's test (the prompt + the completion, or the solution, after --strip-fences, --stop,
    --resolve-edits and --sanitize), so that what is read later (a report's diversity) is what was judged."""
    write_jsonl(path, ({**s.record, "executed_program": s.code, "passed": v.passed, "status": v.status,
                        "reason": v.reason, "duration": v.duration}
                       for s, v in zip(samples, verdicts, strict=True)))


def summarize(samples: list[Sample], verdicts: list[Verdict], ks: list[int],
              bench: Benchmark) -> dict:
    """pass@k (fractions) with 95% bootstrap intervals, per-task counts and verdict counts."""
    per_task = {task: {"n": n, "c": c}
                for task, (n, c) in tally((s.task_id, v.passed) for s, v in zip(samples, verdicts, strict=True)).items()}
    counts = [(t["n"], t["c"]) for t in per_task.values()]
    summary: dict = {f"pass@{k}": mean_pass_at_k(counts, k) for k in ks}
    summary["ci95"] = {f"pass@{k}": bootstrap_ci(counts, k) for k in ks}
    summary["n_samples"] = len(samples)
    summary["n_tasks"] = len(per_task)
    summary["statuses"] = dict(Counter(v.status for v in verdicts))
    missing = [task for task in bench.problems if task not in per_task]  # the benchmark's order, 2 before 10
    summary["tasks_without_samples"] = missing
    if missing:
        warnings.warn(f"{len(missing)} of {len(bench.problems)} {bench.name} tasks have no samples "
                      f"and are not scored: {listing(missing)}",
                      stacklevel=2)
    summary["tasks"] = per_task
    return summary
