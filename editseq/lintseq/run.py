"""``editseq lintseq``: refactor an (instruction, program) dataset into (instruction, edit sequence) records.

Output: one record per sequence, every input field plus ``edit_path`` and ``sample``, in input
order. Every input record ends either in the output (``samples`` records) or in
``OUTPUT.errors.jsonl`` (with ``index``, ``key``, ``where`` and ``reason``), so converted + failed = input.

Runs resume: results are appended in input order, one record's sequences in a single write, and
on restart the existing output is replayed against the errors file to find where to continue
(a torn or partial last record is cut), each record checked against the input record it places
there. Workers receive bounded windows of records, so memory stays flat however large the input. What happens to one record is ``convert``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from editseq.config import ConfigError, option, run_settings
from editseq.data import EXAMPLES
from editseq.env import code_hash, versions
from editseq.io.identity import dataset_files, files_identity, hub_dataset
from editseq.io.lock import writing
from editseq.io.outputs import (
    JsonlAppender,
    check_writable,
    claim_output,
    dumps,
    truncate_torn_tail,
    write_json,
)
from editseq.io.records import (
    BadRecord,
    InputError,
    check_source,
    count_records,
    read_records,
    recorded,
)
from editseq.lintseq.convert import Item, convert_batch
from editseq.lintseq.linters import LINTER_NAMES
from editseq.lintseq.parquet_output import jsonl_to_parquet
from editseq.lintseq.sampler import SamplerConfig
from editseq.sandbox.isolation import set_parent_death_signal
from editseq.scale import ScaleOptions

EXAMPLES_OUTPUT = "runs/lintseq_examples.jsonl"  # where the shipped examples go (the quick start)


@dataclass
class LintseqConfig(ScaleOptions):
    """Options of ``editseq lintseq`` (one definition for flags, config files and the manifest)."""

    input: str = option(str(EXAMPLES), help="input: .jsonl, .parquet, or a Hugging Face dataset (path or hub name); default: the examples editseq ships", path=True, argument=True)
    output: str = option(EXAMPLES_OUTPUT, help="output file: .jsonl, or .parquet (written at the end); required with INPUT", argument=True)
    program_field: str = option("program", help="field holding the program text")
    instruction_field: str | None = option(None, help="field holding the instruction, checked to be text (default: none checked; --show prints 'instruction')")
    key_field: str | None = option(None, help="field whose value keys the per-record seed (default: the record's position)")
    samples: int = option(1, help="independent edit sequences per program (the paper samples 5)")
    seed: int = option(0, help="global seed; each sequence's seed derives from (seed, record key, sample)")
    linter: Literal["fast", "pylint", "none"] = option("fast", help=f"linter guiding deletions: {' | '.join(LINTER_NAMES)} (none = random-deletion ablation)")
    choice: Literal["indent", "uniform"] = option("indent", help="line choice: indent (reference: weight grows with indentation) | uniform")
    strict: bool = option(False, help="let errors already in the source program cause deletions, as the reference does")
    max_lines: int = option(5000, help="programs with more lines go to the error report")
    timeout: float = option(60.0, help="seconds allowed per record before it goes to the error report")
    split: str = option("train", help="split to read from a Hugging Face dataset")
    overwrite: bool = option(False, help="start over instead of resuming an existing output")
    progress: bool = option(True, help="show a progress bar")
    show: int = option(0, help="print the first N output records as training text")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.input is None or self.output is None:
            raise ConfigError("INPUT and OUTPUT are required")
        if self.output == EXAMPLES_OUTPUT and Path(self.input) != EXAMPLES:
            raise ConfigError(f"OUTPUT is required with INPUT {self.input!r}: {EXAMPLES_OUTPUT} is the "
                              "shipped examples' output (editseq lintseq INPUT OUTPUT ...)")
        source = Path(self.input)
        if source.exists() and any(source.resolve() == q.resolve() for q in paths(self.output).values()):
            raise ConfigError(f"OUTPUT {self.output} (or a file beside it) is INPUT {self.input}; "
                              "choose another OUTPUT")
        if self.samples < 1:
            raise ConfigError("--samples must be at least 1")
        if self.show < 0:
            raise ConfigError(f"--show must be 0 or more, got {self.show}")
        if self.linter not in LINTER_NAMES:
            raise ConfigError(f"--linter must be one of {', '.join(LINTER_NAMES)}, got {self.linter!r}")
        if self.choice not in ("indent", "uniform"):
            raise ConfigError(f"--choice must be indent or uniform, got {self.choice!r}")
        if self.max_lines < 1 or self.timeout <= 0:
            raise ConfigError("--max-lines and --timeout must be positive")
        if Path(self.output).suffix not in (".jsonl", ".parquet"):
            raise ConfigError(f"OUTPUT must end in .jsonl or .parquet, got {self.output!r}")

    @property
    def sampler(self) -> SamplerConfig:
        return SamplerConfig(linter=self.linter, choice=self.choice, strict=self.strict)


@dataclass
class Summary:
    """The counts a run writes to ``OUTPUT.summary.json`` (this run's records, resumed ones included)."""

    input: int = 0
    converted: int = 0
    failed: int = 0
    resumed: int = 0
    sequences: int = 0
    edits: int = 0
    seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["reasons"] = dict(self.reasons)
        d["edits_per_sequence"] = round(self.edits / self.sequences, 3) if self.sequences else 0.0
        return d


def paths(output: str | Path) -> dict[str, Path]:
    """The files of a run beside ``output``: the JSONL written as it goes (``output`` itself, or a
    ``.partial.jsonl`` for Parquet), errors, manifest and summary."""
    out = Path(output)
    base = out.with_suffix("")
    jsonl = out if out.suffix == ".jsonl" else base.with_suffix(".partial.jsonl")
    return {
        "output": out,
        "jsonl": jsonl,
        "errors": Path(f"{base}.errors.jsonl"),
        "manifest": Path(f"{base}.manifest.json"),
        "summary": Path(f"{base}.summary.json"),
    }


# where the output goes, and how the work is spread and shown, never change it: not part of the resume check
_NOT_SETTINGS = ("output", "workers", "overwrite", "backend", "address", "progress", "show")


def run_lintseq(cfg: LintseqConfig) -> Summary:
    """Convert ``cfg.input`` to ``cfg.output``, resuming a previous run with the same settings
    (one run at a time: ``x.jsonl`` and ``x.parquet`` share their manifest, so its lock is theirs;
    not ``x``'s, a folder's, which a training's ``--output-dir x`` or a report's ``--out x`` holds).
    The JSONL written as the run goes is locked too: a reader (``editseq report``) asks its lock
    whether it is finished."""
    p = paths(cfg.output)
    with writing(p["manifest"], p["jsonl"], flag="OUTPUT"):
        return _convert(cfg, p)


def _convert(cfg: LintseqConfig, p: dict[str, Path]) -> Summary:
    start = time.perf_counter()
    if not _ray_uri(cfg):
        check_source(cfg.input)  # a mistyped INPUT leaves no output files behind
    # a hub dataset is loaded once, for its cache files (the resume check) and its records
    loaded = None if _ray_uri(cfg) else hub_dataset(cfg.input, cfg.split)
    settings = run_settings(cfg, _NOT_SETTINGS, output_format=_format(p["output"]), sampler_version=sampler_version(cfg.linter),
                            **_input_identity(cfg, loaded))
    done, summary = _prepare(p, cfg, settings, loaded)
    # counting a JSONL's records reads it whole: only for a bar that shows the total
    total = count_records(cfg.input) if cfg.progress and Path(cfg.input).is_file() else None
    workers = cfg.workers or os.cpu_count() or 1
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, unit="rec", desc="lintseq", disable=not cfg.progress, dynamic_ncols=True)
    try:
        with JsonlAppender(p["jsonl"]) as out, JsonlAppender(p["errors"]) as errors:
            for index, key, where, result in _results(cfg, workers, done, loaded):
                summary.input += 1
                if isinstance(result, str):
                    summary.failed += 1
                    summary.reasons[_reason_kind(result)] += 1
                    errors.write({"index": index, "key": key, "where": where, "reason": result})
                else:
                    summary.converted += 1
                    summary.sequences += len(result)
                    summary.edits += sum(len(r["edit_path"]) for r in result)
                    out.write_many(result)
                bar.update(1)
    except Exception:  # an input that cannot be read: its error, not an empty bar, ends the output
        bar.leave = False
        if not done and not summary.input:  # and, when nothing was read, leaves no empty files behind
            for path in (p["jsonl"], p["errors"], p["manifest"]):
                path.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    if p["errors"].stat().st_size == 0:  # an empty JSONL file is no dataset (``datasets`` refuses it)
        p["errors"].unlink()
    if summary.input == 0:
        _refuse_empty_input(p, cfg.input)
    if not summary.converted:  # a failed run (a mistyped --program-field, say): no empty dataset is
        p["jsonl"].unlink(missing_ok=True)  # left, and the corrected command starts cleanly (_prepare)
    elif p["output"].suffix == ".parquet":
        jsonl_to_parquet(p["jsonl"], p["output"])
    summary.seconds = round(time.perf_counter() - start, 3)
    write_json(p["summary"], {**summary.as_dict(), "settings": settings, "versions": versions()})
    return summary


def sampler_version(linter: str) -> str:
    """What a record's sequences depend on besides the record, the seed and the options: the code
    that turns a program into edit sequences (LintSeq's modules, hashed so that no edit of them can
    be forgotten, and ``editseq.text``, which unwraps markdown), the Python whose ``ast`` and
    ``tokenize`` read programs (by minor version), and pylint's and astroid's versions when pylint
    guides the deletions. Part of the settings a run resumes under: a resume by other code would
    append sequences drawn another way to the earlier ones, in silence."""
    import sys

    here = Path(__file__).parent
    code = sorted(p for p in here.glob("*.py") if p.name not in _DRIVERS)
    found = f"lintseq {code_hash(*code, here.parent / 'text.py')}, python {sys.version_info[0]}.{sys.version_info[1]}"
    if linter == "pylint":
        stack = versions("pylint", "astroid")
        found += f", pylint {stack['pylint']}, astroid {stack['astroid']}"
    return found


# modules that drive a run and write its files, not what a record's sequences are
_DRIVERS = ("run.py", "parquet_output.py")


def _input_identity(cfg: LintseqConfig, loaded: Any) -> dict[str, str]:
    """``input_files``, the content of a folder INPUT's data files, or of the cache files of a hub
    dataset (``loaded``) (``io.identity.dataset_files``), which ``run_settings`` knows by path or
    name alone: a folder saved over or edited, or a newer revision of the dataset, between a run and
    its resume is refused; a folder moved elsewhere resumes. Nothing for a file (known by its
    content)."""
    files = dataset_files(cfg.input, cfg.split, loaded) if Path(cfg.input).is_dir() or loaded is not None else None
    return {"input_files": files_identity(cfg.input, files)} if files else {}


def _refuse_empty_input(p: dict[str, Path], source: str) -> None:
    """An input of no records is a mistake (the wrong file, a failed export), not a finished run:
    its output would be an empty file that ``datasets`` cannot load. The run's files go, so a
    corrected input starts cleanly."""
    for path in (p["jsonl"], p["manifest"]):
        path.unlink(missing_ok=True)
    raise InputError(f"{source}: INPUT holds no records, so there is nothing to convert and no "
                     "dataset to write; give an input with at least one record")


def _prepare(p: dict[str, Path], cfg: LintseqConfig, settings: dict[str, Any], loaded: Any) -> tuple[int, Summary]:
    """Check the manifest, cut a partial tail, and count the records already done."""
    summary = Summary()
    companions = [p["jsonl"], p["errors"], p["summary"]]
    other = p["output"].with_suffix(".parquet" if p["output"].suffix == ".jsonl" else ".jsonl")
    holder = recorded(p["manifest"], "settings", "output_format")
    shared = holder == _format(other) or (holder is None and p["manifest"].exists() and other.exists()
                                          and not (p["output"].exists() or p["jsonl"].exists()))
    if _converted_nothing(p):  # its error report is all it left, and no setting of it is worth keeping
        for path in (p["errors"], p["summary"], p["manifest"]):
            path.unlink(missing_ok=True)
    check_writable(p["output"], p["jsonl"])  # a folder there: refused before its manifest is written
    try:
        # a manifest of an older editseq lacks input_files: the folder is taken as it is now
        # (and output_format: whichever output resumes, as then; sampler_version: the code is
        # taken to be the same, which before it was recorded could not be told)
        claim_output(p["output"], p["manifest"], settings, cfg.overwrite, flag="OUTPUT", companions=companions,
                     options=cfg, assumed={k: settings[k] for k in ("output_format", "sampler_version")},
                     located={"input": "input_files"})
    except ConfigError as exc:
        if not shared:
            raise
        raise ConfigError(f"{p['manifest']} belongs to {other}: OUTPUT {p['output'].name} would share it, "
                          f"{p['errors'].name} and {p['summary'].name} with that run, each taking the other's "
                          "records for its own; choose another OUTPUT name (or --overwrite to replace them)") from exc
    done = _replay(p, cfg.samples, summary, _items(cfg, loaded))
    summary.resumed = done
    return done, summary


def _format(output: Path) -> str:
    """The setting that makes a manifest one output's: ``x.jsonl`` and ``x.parquet`` share it, with
    the error report and summary, so under the same settings each took the other's records as its
    own (x.parquet after x.jsonl "resumed" x.jsonl's failures, and cut its error report); a run of
    one is now refused the other's files."""
    return output.suffix.lstrip(".")


def _converted_nothing(p: dict[str, Path]) -> bool:
    """Whether the run at ``p`` finished (its summary is written last) without converting a record."""
    if p["jsonl"].exists() or p["output"].exists() or not p["summary"].is_file():
        return False
    return recorded(p["summary"], "converted") == 0


def _replay(p: dict[str, Path], samples: int, summary: Summary, items: Iterator[Item]) -> int:
    """Records completed by an earlier run: errors by index, outputs as groups of ``samples``, each
    checked to hold the input record (of ``items``, INPUT's) where the errors place it. Unchecked,
    an error report deleted, or cut short by a crash (it is synced apart from the output), shifted
    every later group onto an earlier record, and the resume converted the records over again."""
    for path in (p["jsonl"], p["errors"]):
        truncate_torn_tail(path)
    failed: dict[int, str] = {}
    if p["errors"].exists():
        with p["errors"].open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                failed[rec["index"]] = rec["reason"]
    index = 0
    good_bytes = 0
    if p["jsonl"].exists():
        with p["jsonl"].open("rb") as fh:
            group, offset, edits = 0, 0, 0
            for line, raw in enumerate(fh, 1):
                offset += len(raw)
                if group == 0:
                    while index in failed:
                        index += 1
                record = json.loads(raw)
                if record.get("sample") != group:
                    break
                if group == 0:
                    _check_lined_up(p, line, raw, record, next((i for i in items if i[0] == index), None))
                group += 1
                edits += len(record.get("edit_path", ()))
                if group == samples:
                    summary.sequences += samples
                    summary.edits += edits
                    index, group, edits, good_bytes = index + 1, 0, 0, offset
        with p["jsonl"].open("rb+") as fh:
            fh.truncate(good_bytes)
    while index in failed:
        index += 1
    stale = [i for i in failed if i >= index]
    if stale:  # errors written after the last complete output group cannot exist; be safe anyway
        _rewrite_errors(p["errors"], {i: r for i, r in failed.items() if i < index})
    summary.failed = sum(1 for i in failed if i < index)
    summary.converted = index - summary.failed
    summary.input = index
    for i, reason in failed.items():
        if i < index:
            summary.reasons[_reason_kind(reason)] += 1
    return index


def _check_lined_up(p: dict[str, Path], line: int, raw: bytes, written: dict[str, Any], item: Item | None) -> None:
    """Refuse to resume when OUTPUT's ``line`` (``raw``, read as ``written``) is not a sequence of
    input ``item``: every input field, then ``edit_path`` and ``sample``, as the run wrote it."""
    if item is not None and not isinstance(item[3], BadRecord):
        expected = {**item[3], "edit_path": written.get("edit_path"), "sample": written.get("sample")}
        if (dumps(expected) + "\n").encode("utf-8") == raw:
            return
    where = f"record {item[0]} ({item[2]})" if item is not None else "a record: INPUT has fewer"
    raise ConfigError(f"{p['jsonl']} line {line} is not a sequence of INPUT {where}, where the error report "
                      f"{p['errors'].name} places it: the report is missing or lost its last records (deleted, "
                      "or cut short by a crash), and resuming would convert records twice; rerun with "
                      "--overwrite to start over")


def _rewrite_errors(path: Path, keep: dict[int, str]) -> None:
    # JSONL lines end at "\n" only: a reason may hold U+2028, which splitlines() would break at
    rows = path.read_text(encoding="utf-8").split("\n")
    lines = [line for line in rows if line and json.loads(line)["index"] in keep]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _results(cfg: LintseqConfig, workers: int, skip: int, loaded: Any) -> Iterator[Item]:
    """Converted records in input order; at most a few batches per worker in flight (``loaded``:
    the hub dataset INPUT names, loaded already)."""
    if cfg.backend == "ray":  # bigger batches: a Ray task costs milliseconds to schedule
        from editseq.scale.ray_backend import map_ordered

        def record_by_record(batch: list[Item], _: Exception) -> list[Item]:  # as _outcome, on Ray
            singles = map_ordered(convert_batch, ([item] for item in batch), cfg, address=cfg.address,
                                  lost=_lost_on_ray)
            return [item for results in singles for item in results]

        for results in map_ordered(convert_batch, _batches(cfg, skip, loaded, size=256), cfg, address=cfg.address,
                                   lost=record_by_record):
            yield from results
        return
    batches = _batches(cfg, skip, loaded)
    # one worker is a process too: converting in this one, a record that killed it (a segfault,
    # the OOM killer) ended the run, and every rerun, at that record
    pool = _pool(workers)
    try:
        pending: deque[tuple[list[Item], Future]] = deque()
        for batch in batches:
            try:
                future = pool.submit(convert_batch, batch, cfg)
            except BrokenProcessPool:  # a worker died (the OOM killer, say): the pool ended the others
                pool.shutdown()
                pool = _pool(workers)
                future = pool.submit(convert_batch, batch, cfg)
            pending.append((batch, future))
            if len(pending) >= 4 * workers:
                yield from _outcome(*pending.popleft(), cfg)
        while pending:
            yield from _outcome(*pending.popleft(), cfg)
    except BaseException:  # interrupted, or the caller stopped reading: the batches under way are unwanted
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(cancel_futures=True)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(os.getpid(),))


def _outcome(batch: list[Item], future: Future, cfg: LintseqConfig) -> list[Item]:
    """The results of ``batch``. One whose pool broke, a worker having died under some record of
    the batches in flight, converts again record by record, each in a process of its own: a record
    that kills its process (the OOM killer on a huge program, a segfault) fails alone, with the
    reason, and the run goes on; before, it ended the run, and every rerun, at the same record."""
    try:
        return future.result()
    except BrokenProcessPool:
        return [_alone(item, cfg) for item in batch]


def _alone(item: Item, cfg: LintseqConfig) -> Item:
    """``item`` converted in a fresh process, or the reason that process died."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_convert_alone, args=(item, cfg, sending, os.getpid()))
    process.start()
    sending.close()
    try:
        return receiving.recv()
    except EOFError:  # it died before sending its result
        process.join()
        return (*item[:3], _death(process.exitcode))
    except BaseException:  # interrupted: it is ended, as the pool's workers are
        process.kill()
        raise
    finally:
        receiving.close()
        process.join()


def _convert_alone(item: Item, cfg: LintseqConfig, sending: Connection, parent: int) -> None:
    _start_worker(parent)
    sending.send(convert_batch([item], cfg)[0])


_DIED = "the worker converting this record died"  # the reason of a record that kills its process, alone too


def _death(exitcode: int | None) -> str:
    """The error report's reason for a record whose process died (its ``exitcode``, as
    ``multiprocessing`` gives it: minus the signal that killed it)."""
    if exitcode is not None and exitcode < 0:
        memory = ", out of memory?" if -exitcode == signal.SIGKILL else ""
        how = f"signal {-exitcode}: {signal.strsignal(-exitcode)}{memory}"
    else:
        how = f"exit status {exitcode}"
    return f"{_DIED} ({how})"


def _lost_on_ray(single: list[Item], exc: Exception) -> list[Item]:
    """The result of a one-record Ray task whose workers died each time Ray retried it."""
    index, key, where, _ = single[0]
    return [(index, key, where, f"{_DIED} ({type(exc).__name__}, each time Ray retried it)")]


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers at once. Waiting for their batches under way (up to --timeout per record)
    left a second Ctrl-C to land inside the pool's shutdown, after which the process hung at exit,
    its workers never told to stop; ended, they need no telling, and Ctrl-C stops the run at once.
    (Python 3.14 has ``terminate_workers`` for this; before it, the pool's own table of processes.)"""
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _start_worker(parent: int) -> None:
    """A terminal's Ctrl-C reaches every process of the group: a worker waiting for work died of
    it with a traceback, so workers ignore it; the parent stops the run, keeping what was written,
    and ends its workers (``_stop_workers``). A parent that cannot do so (``kill -9``) left them
    waiting for work for good: they die with it (``parent``, checked once the signal is set, in
    case it died first)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_parent_death_signal()
    if os.getppid() != parent:
        os._exit(1)


def _ray_uri(cfg: LintseqConfig) -> bool:
    """Whether INPUT is a URI (``s3://``, ``local://``) that Ray Data reads, not editseq.io."""
    return cfg.backend == "ray" and "://" in cfg.input


def _items(cfg: LintseqConfig, loaded: Any) -> Iterator[Item]:
    """INPUT's records, each with its seed key (``loaded``: the hub dataset INPUT names, if any)."""
    if _ray_uri(cfg):
        from editseq.scale.ray_backend import read_records_ray

        records = read_records_ray(cfg.input, cfg.address)
    else:
        records = read_records(cfg.input, cfg.split, loaded)
    for index, where, record in records:
        key, record = _seed_key(index, record, cfg.key_field)
        yield index, key, where, record


def _batches(cfg: LintseqConfig, skip: int, loaded: Any, size: int = 16) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in _items(cfg, loaded):
        if item[0] < skip:
            continue
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_UNKEYABLE = {type(None): "null", list: "a list", dict: "an object"}  # key values --key-field refuses


def _seed_key(index: int, record: dict[str, Any] | BadRecord,
              key_field: str | None) -> tuple[str, dict[str, Any] | BadRecord]:
    """The key of ``record``'s seeds, and the record, or in its place the reason ``key_field``
    cannot key it. Such a record fails alone, into the error report: its seeds are unknown, but no
    other record's seed depends on it, so the rest of the output is what it would be without it.
    Null and lists or objects are refused: nulls would all share one seed, and containers are no
    stable name of a record."""
    if key_field is None or isinstance(record, BadRecord):
        return str(index), record
    if key_field not in record:
        fields = ", ".join(sorted(record)) or "none"
        return str(index), BadRecord(f"missing key field {key_field!r} (--key-field; fields: {fields})")
    refused = _UNKEYABLE.get(type(record[key_field]))
    if refused is not None:
        return str(index), BadRecord(f"key field {key_field!r} is {refused}, expected text or a number (--key-field)")
    return str(record[key_field]), record


def _reason_kind(reason: str) -> str:
    """What groups reasons in the summary: the text before any detail (``:`` or ``(``)."""
    return reason.split(":")[0].split("(")[0].strip()[:80]
