"""``editseq report``: results files -> report.html with JSON/CSV numbers (thin wrapper)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from editseq.config import ConfigError, build, click_options, config_file_option
from editseq.report.build import ReportOptions, build_report
from editseq.report.html import points


@click.command("report")
@click_options(ReportOptions)
@config_file_option
def report(config_file: Path | None, **values: object) -> int:
    """Write OUT/report.html from evaluation results, MTPB results and LintSeq datasets.

    INPUTS are what `editseq evaluate` and `editseq mtpb evaluate` write (x_results.jsonl, or
    its x_summary.json; a run's benchmark is read from that summary), not the samples they ran,
    and `editseq lintseq` output. Runs are labelled by file name unless --labels names them.

    \b
    Example:
      editseq report runs/base_results.jsonl runs/lintseq_results.jsonl \\
          runs/lintseq_data.jsonl --out runs/report --labels base,lintseq,data
    Beside the HTML: report.json and CSVs with the same numbers, figures/ as PNG and SVG.
    """
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("editseq report draws with matplotlib, which is not installed; "
                          "pip install 'editseq[report]'")
    opts = build(ReportOptions, values, config_file)
    data = build_report(opts)
    for label, v in data["passk"].items():
        table = ", ".join(f"{k} {100 * c['value']:.1f}%" for k, c in v["table"].items())
        click.echo(f"{label}: {table or 'no pass@k of --k (too few samples; see the warning)'}")
    for d in data["differences"]:
        diffs = ", ".join(f"{k} {points(c['difference'])}"
                          + (f" [{points(c['ci95'][0])}, {points(c['ci95'][1])}]" if c["ci95"] else "")
                          for k, c in d["pass@k"].items())
        click.echo(f"{d['a']} - {d['b']} ({d['problems']} shared problems, points, paired 95% CI): {diffs}")
    click.echo(f"report: {opts.out / 'report.html'}")
    return 0
