"""``editseq lintseq``: programs -> LintSeq edit sequences."""

from __future__ import annotations

import json
from pathlib import Path

import click

from editseq.cli import Resumable, keeps_work
from editseq.config import build, click_options, config_file_option
from editseq.lintseq.run import LintseqConfig, paths, run_lintseq
from editseq.text import counted


@click.command(cls=Resumable, context_settings={"show_default": True})
@click_options(LintseqConfig)
@config_file_option
def lintseq(config_file: Path | None, **values: object) -> int:
    """Refactor an instruction+program dataset into instruction+edit-sequence records.

    Each program is taken apart by LintSeq backward sampling: delete a random line, then every
    line the deletion breaks (per the linter), until nothing is left; reversed, the states are
    insert-only diffs that write the program step by step. Output records are the input records
    plus `edit_path` (list of diffs, the reference's `@@` format, lossless) and `sample`.

    INPUT is JSONL (also .jsonl.gz), a .json file holding one array of records, Parquet, or a
    Hugging Face dataset (a save_to_disk folder, or a hub name such as org/name); OUTPUT is .jsonl
    or .parquet, by its name. Without either: the examples editseq ships.

    \b
    Examples:
      editseq lintseq data.jsonl out.jsonl --program-field code --samples 5
      editseq lintseq data.parquet out.parquet --linter pylint --workers 8
      editseq lintseq --show 1      # the examples editseq ships -> runs/lintseq_examples.jsonl
    Records that cannot be converted go to OUTPUT.errors.jsonl with their reason (the exit
    status is 1 when no record converts, 2 when INPUT holds none); rerunning the same command
    after an interruption resumes where it stopped.
    """
    cfg = build(LintseqConfig, values, config_file)
    keeps_work(overwrite=cfg.overwrite)
    summary = run_lintseq(cfg)
    p = paths(cfg.output)
    click.echo(
        f"{counted(summary.input, 'record')}: {summary.converted} converted, {summary.failed} failed"
        f" ({summary.resumed} from an earlier run); {counted(summary.sequences, 'sequence')},"
        f" {summary.as_dict()['edits_per_sequence']} edits each on average, {summary.seconds:.1f} s"
    )
    shown = [f"output: {p['output']}"] if summary.converted else []
    click.echo("\n".join(shown + ([f"errors: {p['errors']}"] if summary.failed else [])))
    reasons = summary.reasons.most_common()
    for reason, count in reasons[:5]:
        click.echo(f"  {count:6d}  {reason}")
    if len(reasons) > 5:  # the rest on one line, so the counts add up to the failed records
        others = len(reasons) - 5
        click.echo(f"  {sum(count for _, count in reasons[5:]):6d}  {others} other reason{'s' * (others > 1)}: "
                   f"see {p['errors']}")
    if cfg.show and p["jsonl"].exists():
        _show(p["jsonl"], cfg.show, cfg.instruction_field or "instruction")
    if not summary.converted:  # run_lintseq refuses an INPUT of no records
        with p["errors"].open(encoding="utf-8") as fh:
            first = json.loads(fh.readline())
        click.echo(f"error: no record could be converted ({first['where']}: {first['reason']}); "
                   f"every reason is in {p['errors']}", err=True)
        return 1
    return 0


def _show(path: Path, n: int, instruction_field: str) -> None:
    """Print the first ``n`` records in the reference's training-text format."""
    from editseq.io.outputs import read_jsonl_records
    from editseq.lintseq.diffs import render_training_text

    for i, record in enumerate(read_jsonl_records(path)):
        if i == n:
            break
        instruction = str(record.get(instruction_field, ""))
        click.echo(f"\n--- record {i} (sample {record['sample']}), training text:")
        click.echo(render_training_text(instruction, record["edit_path"]))
