"""``editseq mtpb``: CodeGen's Multi-Turn Programming Benchmark (sample, evaluate, perplexity)."""

from __future__ import annotations

from pathlib import Path

import click

from editseq.cli import Resumable, keeps_work
from editseq.config import build, click_options, config_file_option
from editseq.io.lock import writing
from editseq.io.outputs import write_json
from editseq.models.loading import BackendOptions, open_backend
from editseq.mtpb import perplexity as ppl_mod
from editseq.mtpb import run as run_mod
from editseq.mtpb import sample as sample_mod
from editseq.text import counted, listing


@click.group("mtpb")
def mtpb() -> None:
    """MTPB: 115 problems given turn by turn; sample, evaluate in the sandbox, perplexity.

    \b
    Example:
      editseq mtpb sample --model smollm2-135m --n 1 --out runs/x.jsonl
      editseq mtpb evaluate runs/x.jsonl [--fixed]
    writes runs/x_results.jsonl and runs/x_summary.json (with --fixed: x_fixed_results.jsonl
    and x_fixed_summary.json, beside them).
    """


@mtpb.command("evaluate", cls=Resumable)
@click_options(run_mod.MTPBEvaluateOptions)
@config_file_option
def evaluate(config_file: Path | None, **values: object) -> int:
    """Run MTPB runs (JSONL: problem_id, case, completions) in the sandbox; write results and summary.

    \b
    Examples:
      editseq mtpb evaluate runs/mtpb.jsonl            # the paper's reference mode
      editseq mtpb evaluate runs/mtpb.jsonl --fixed    # its known data quirks repaired (see --fixed)
    Each run's turns execute as one program, print intercepted and the last statement's value
    printed (through the AST), as in CodeGen's harness. Verdicts are kept in runs/mtpb_cache.sqlite:
    rerunning after an interruption executes only the runs not finished (see --no-cache).
    """
    opts = build(run_mod.MTPBEvaluateOptions, values, config_file)
    keeps_work(opts.cache)
    summary = run_mod.evaluate(opts)
    label = "fixed" if summary["fixed"] else "reference"
    for mode, block in summary["modes"].items():
        rate = "none" if block["pass_rate"] is None else f"{100 * block['pass_rate']:.2f}%"
        click.echo(f"{mode}-turn ({label} mode): pass rate {rate} over "
                   f"{counted(block['n_problems'], 'problem')}, {counted(block['n_runs'], 'run')}"
                   + (f" ({block['n_excluded']} more excluded)" if block["n_excluded"] else "") + "; statuses: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(block["statuses"].items())))
        if block["categories"]:
            click.echo("  " + ", ".join(f"{c} {100 * v:.2f}%" for c, v in block["categories"].items()))
        if block["unfinished"]:
            click.echo(f"  {counted(sum(block['unfinished'].values()), 'run')} unfinished when sampled (context overflow; "
                       "counted as failures, their 'error' in the results), by problem: "
                       + listing([f"{pid} ({n})" for pid, n in block["unfinished"].items()]))
    for pid, why in summary["excluded"].items():
        click.echo(f"excluded problem {pid}: {why}")
    click.echo(f"results: {summary['results']} ({summary['executed']} programs executed, "
               f"{summary['seconds']:.1f} s)")
    return 0


@mtpb.command("sample", cls=Resumable)
@click_options(sample_mod.MTPBSampleOptions)
@config_file_option
def sample(config_file: Path | None, **values: object) -> int:
    """Sample MTPB runs from a model turn by turn (resumable: reruns skip runs already written).

    \b
    Examples:
      editseq mtpb sample --model smollm2-135m --n 1 --out runs/mtpb.jsonl --problems 1,2,3
      editseq mtpb sample --model smollm2-135m --n 5 --single-turn --out runs/mtpb_single.jsonl
      editseq mtpb sample --model http://localhost:8000/v1 --n 5 --out runs/mtpb.jsonl
    """
    opts = build(sample_mod.MTPBSampleOptions, values, config_file)
    keeps_work(overwrite=opts.overwrite)
    with writing(opts.out):  # from the resume check on, while the model loads and samples
        bench = sample_mod.prepare(opts)  # bad ids, data or --out fail before the model loads
        if not sample_mod.missing_runs(opts, bench):  # a finished run's rerun: no model to load
            click.echo(f"0 runs written to {opts.out}: an earlier run wrote all of them")
            return 0
        backend = open_backend(opts.model, opts, progress=opts.progress)
        report = (lambda msg: click.echo(msg, err=True)) if opts.progress else (lambda _: None)
        n = sample_mod.sample(opts, backend, progress=report, bench=bench)
    click.echo(f"{counted(n, 'run')} written to {opts.out}")
    return 0


@mtpb.command("perplexity")
@click_options(ppl_mod.MTPBPerplexityOptions)
@config_file_option
def perplexity(config_file: Path | None, **values: object) -> int:
    """Average prompt perplexity, multi-turn vs single-turn (and solved vs unsolved with --results).

    \b
    Examples:
      editseq mtpb perplexity --model smollm2-135m --problems 1,2,3
      editseq mtpb perplexity --model smollm2-135m --results runs/mtpb_results.jsonl --json-out ppl.json
    """
    opts = build(ppl_mod.MTPBPerplexityOptions, values, config_file)
    inputs = ppl_mod.prepare(opts)  # bad ids or results fail before the model loads
    # token probabilities come from a transformers model, also where vLLM would sample
    backend = open_backend(opts.model, BackendOptions(backend="transformers", threads=opts.threads),
                           progress=opts.progress)
    out = ppl_mod.perplexity(opts, ppl_mod.backend_scorer(backend), inputs)
    if opts.json_out is not None:
        write_json(opts.json_out, out)
    click.echo(f"prompt perplexity ({out['history']}): multi-turn {out['multi']:.2f}, "
               f"single-turn {out['single']:.2f}")
    for label in ("solved", "unsolved"):
        if out.get(label, {}).get("problems"):
            g = out[label]
            click.echo(f"  {label} ({counted(g['problems'], 'problem')}): multi {g['multi']:.2f}, single {g['single']:.2f}")
    return 0
