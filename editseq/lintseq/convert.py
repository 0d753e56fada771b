"""One record -> its edit sequences, or the reason it has none (``editseq lintseq``'s unit of work).

A record is checked (program text, markers ``resolve`` would cut at, fields the output would
take or could not hold), its program sampled ``samples`` times under a per-record time limit,
and each sequence of states written as ``edit_path`` diffs. Workers (processes or Ray tasks) run
``convert_batch``; ``run`` reads the input, spreads batches and writes the output.
"""

from __future__ import annotations

import functools
import json
import random
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from editseq.io.records import BadRecord, not_text
from editseq.lintseq.analysis import ProgramError
from editseq.lintseq.diffs import DIFF_TOKEN, EOS_TEXTS, edit_path_from_steps, split_lines
from editseq.lintseq.linters import Linter, get_linter
from editseq.lintseq.sampler import EditSampler, SamplingError, derive_seed
from editseq.text import is_python, one_line, unwrap_markdown

if TYPE_CHECKING:
    from editseq.lintseq.run import LintseqConfig

OUTPUT_FIELDS = ("edit_path", "sample")  # what each output record adds to its input record

# texts that ``diffs.resolve`` splits or stops at, so that the training text of a record holding
# one would not resolve to its program: such records are refused, never converted and cut later
_MARKERS = {
    DIFF_TOKEN: "the separator of edits in the training text: its edit sequence could not be told apart from it",
    **{eos: "an end-of-sequence text, where resolving the training text (or a model's output) stops: "
            "its program would be cut there" for eos in EOS_TEXTS},
}

_LINTER: Linter | None = None
_LINTER_NAME: str | None = None


def _worker_init(linter: str) -> None:
    """Build the linter once per process (pylint's is expensive to construct), and run it once on
    a trivial program: its first run loads plugins and caches, which is no record's time."""
    global _LINTER, _LINTER_NAME
    if linter != _LINTER_NAME:
        _LINTER = get_linter(linter) if linter != "fast" else None
        _LINTER_NAME = linter
        if _LINTER is not None:
            _LINTER.lint("x = 1\n")


class _Timeout(BaseException):
    """The record's time is up. Not an ``Exception``: libraries' ``except Exception`` handlers
    (pylint's walker prints a traceback in one) would catch it on its way out."""


_alarm_fired = False  # a library that still turns our _Timeout into its own error: the flag survives


def _on_alarm(signum: int, frame: object) -> None:
    global _alarm_fired
    _alarm_fired = True
    raise _Timeout


def _quiet_timeouts(previous: Callable[[Any], None], unraisable: Any) -> None:
    """An alarm that lands in a finalizer or a gc callback is swallowed there and reported as
    unraisable (a traceback on the console); the repeating alarm ends the record anyway."""
    if not isinstance(unraisable.exc_value, _Timeout):
        previous(unraisable)


def _refusal(record: dict[str, Any], cfg: LintseqConfig) -> str | None:
    """Why ``record``'s fields cannot be converted (not text, holding a marker, an output field
    taken, a value JSON cannot hold), or None: checked before any sampling, so a refused record costs no time."""
    if not isinstance(record.get(cfg.program_field), str):
        return not_text(record, cfg.program_field, "--program-field")
    if cfg.instruction_field is not None and not isinstance(record.get(cfg.instruction_field), str):
        return not_text(record, cfg.instruction_field, "--instruction-field")
    for name in (cfg.program_field, cfg.instruction_field):
        marker = next((m for m in _MARKERS if m in record[name]), None) if name is not None else None
        if marker is not None:
            return f"field {name!r} contains {marker}, {_MARKERS[marker]}"
    taken = [name for name in OUTPUT_FIELDS if name in record]
    if taken:  # replacing them would lose the input's values
        return (f"field {taken[0]!r} is taken: lintseq writes its own {' and '.join(map(repr, OUTPUT_FIELDS))}; "
                "rename or drop it in the input")
    return _unwritable(record)


_JSON_SCALARS = (str, int, float, bool, type(None))


def _unwritable(record: dict[str, Any]) -> str | None:
    """Why a field of ``record`` cannot go into the output (JSONL, also on the way to Parquet), or
    None. Parquet and hub datasets hold values JSON has no type for (timestamps, decimals, bytes):
    written as they are, the first one stopped the whole run with a traceback."""
    for name, value in record.items():
        if isinstance(value, _JSON_SCALARS):  # the program's text is not serialised twice
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            return (f"field {name!r} cannot be written to the JSONL output ({one_line(exc)}); "
                    "drop it from the input or make it text")
    return None


def convert_record(record: dict[str, Any] | BadRecord, key: str, cfg: LintseqConfig) -> list[dict[str, Any]] | str:
    """The output records of one input record, or the reason it cannot be converted."""
    if isinstance(record, BadRecord):
        return record.reason
    refusal = _refusal(record, cfg)
    if refusal is not None:
        return refusal
    program = record[cfg.program_field]
    if "```" in program and not is_python(program):  # a fence inside valid code (a docstring's example) stays
        program = unwrap_markdown(program)
    n_lines = len(split_lines(program))  # a final newline ends the last line, it starts none
    if n_lines > cfg.max_lines:
        return f"over --max-lines: the program has {n_lines} lines, the limit is {cfg.max_lines}"
    global _alarm_fired
    _alarm_fired = False
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_quiet_timeouts, previous_hook)
    # repeating: an alarm whose exception lands where it is swallowed (a finalizer, a gc callback)
    # is followed by another one 0.1 s later
    signal.setitimer(signal.ITIMER_REAL, cfg.timeout, 0.1)
    try:
        try:
            sampler = EditSampler(program, cfg.sampler, _LINTER)
            out = []
            for k in range(cfg.samples):
                steps = sampler.sample(random.Random(derive_seed(cfg.seed, key, k)))
                out.append({**record, "edit_path": edit_path_from_steps(sampler.lines, steps), "sample": k})
            return out
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        return f"time limit of {cfg.timeout:g} s exceeded (--timeout)"
    except (ProgramError, SamplingError) as exc:
        return str(exc)
    except RecursionError:
        return "program too deeply nested to analyse"
    except Exception as exc:  # a linter's own failure is this record's error, not the run's
        if _alarm_fired:
            return f"time limit of {cfg.timeout:g} s exceeded (--timeout)"
        return f"linter failed: {type(exc).__name__}: {one_line(exc)}"
    finally:
        # again: an alarm landing just before the stop above skips it, and the timer would run on
        # under the previous handler (a worker's default one ends the process)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = previous_hook
        if _alarm_fired and _LINTER is not None:
            # a linter the alarm interrupted repairs itself on its next call (pylint clears astroid's
            # caches, ~0.2 s and more to rebuild them): done here, untimed, not on the next record's clock
            _LINTER.lint("x = 1\n")


Item = tuple[int, str, str, Any]  # (index, seed key, where in the input, record or result)


def convert_batch(batch: list[Item], cfg: LintseqConfig) -> list[Item]:
    """A worker's (process or Ray task's) unit of work: records travel in batches so the per-task
    overhead and the linter's setup (built once per process) are not paid per record."""
    _worker_init(cfg.linter)
    return [(index, key, where, convert_record(rec, key, cfg)) for index, key, where, rec in batch]
