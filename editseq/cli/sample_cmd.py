"""``editseq sample``: benchmark prompts -> samples JSONL with a model (thin wrapper)."""

from __future__ import annotations

from pathlib import Path

import click

from editseq.cli import Resumable, keeps_work
from editseq.config import build, click_options, config_file_option
from editseq.models.sample import SampleOptions, sample
from editseq.text import counted


@click.command("sample", cls=Resumable)
@click_options(SampleOptions)
@config_file_option
def sample_command(config_file: Path | None, **values: object) -> int:
    """Sample N programs per benchmark task from a model; write SAMPLES.jsonl for `editseq evaluate`.

    \b
    Examples:
      editseq sample --model smollm2-135m --benchmark humaneval --limit 2 --n 2 --out runs/s.jsonl
      editseq sample --model ckpt/ --format editseq --n 50 --temperature 1 --out runs/e.jsonl
      editseq sample --model http://127.0.0.1:8000 --benchmark mbpp+ --out runs/m.jsonl
    Rerunning the same command (without --overwrite) after an interruption skips the tasks already written.
    """
    opts = build(SampleOptions, values, config_file)
    keeps_work(overwrite=opts.overwrite)
    summary = sample(opts)
    rate = summary["tokens_per_s"]
    click.echo(f"{counted(summary['tasks'], 'task')} ({summary['resumed']} from an earlier run): "
               f"{counted(summary['new_samples'], 'new sample')}, {counted(summary['tokens'], 'token')} in "
               f"{summary['seconds']:.1f} s" + (f" ({rate:.1f} tokens/s)" if rate else ""))
    click.echo(f"samples: {summary['out']}")
    return 0
