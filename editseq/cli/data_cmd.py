"""``editseq data``: build training corpora from what is installed (thin wrappers)."""

from __future__ import annotations

from pathlib import Path

import click

from editseq.config import build, click_options, config_file_option
from editseq.corpus.docstrings import DocstringsOptions, run_docstrings, summary_path
from editseq.text import counted


@click.group("data")
def data() -> None:
    """Build (instruction, program) datasets offline."""


@data.command("docstrings")
@click_options(DocstringsOptions)
@config_file_option
def docstrings(config_file: Path | None, **values: object) -> int:
    """Documented top-level functions of installed sources -> (instruction, program) JSONL.

    The docstring becomes the instruction and the function without it the program; duplicates
    and pairs overlapping HumanEval(+)/MBPP(+) are dropped. Feed the output to `editseq lintseq`.

    \b
    Examples:
      editseq data docstrings --out runs/docstrings.jsonl                 # the standard library
      editseq data docstrings --package click --package tqdm --out runs/d.jsonl
    """
    opts = build(DocstringsOptions, values, config_file)
    counts = run_docstrings(opts)
    skipped = counts["unreadable"] + counts["unparsable"]
    where = f"; each named in {summary_path(opts.out).name}" if skipped else ""
    click.echo(f"{counted(counts['files'], 'file')} ({skipped} not read: not decoded or not parsed by this Python{where}), "
               f"{counted(counts['documented'], 'documented function')} ({counts['filtered']} filtered out: private, sizes, no code but the docstring), "
               f"of the other {counts['functions']}: "
               f"{counts['kept']} kept, {counts['duplicates']} duplicates, "
               + (f"{counts['not_self_contained']} not self-contained, " if opts.self_contained else "") +
               f"{counts['contaminated']} overlapping HumanEval(+)/MBPP(+)")
    click.echo(f"output: {opts.out}")
    return 0
