"""``editseq train``: instruction fine-tuning (``sft``) and tiny-LM pretraining (``pretrain``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from editseq.cli import Resumable, abort_says
from editseq.config import build, click_options, config_file_option
from editseq.train.pretrain import PretrainOptions
from editseq.train.sft import SFTOptions


@click.group("train")
def train() -> None:
    """Train models: finetune on programs or LintSeq edit sequences, or pretrain a tiny code LM.

    Both write checkpoints to --output-dir and the final model at its top level, which
    `editseq sample --model DIR` loads; rerunning a command resumes from the newest checkpoint.
    Data parallel over several GPUs (or CPU processes): start the same command under
    `accelerate launch -m editseq train ...` or `torchrun --nproc_per_node N -m editseq train ...`.
    """


@train.command("sft", cls=Resumable)
@click_options(SFTOptions)
@config_file_option
def sft_command(config_file: Path | None, **values: object) -> int:
    """Instruction-finetune a model on (instruction, program) or (instruction, edit sequence) data.

    \b
    Examples:
      editseq train sft --model smollm2-135m --data runs/lintseq_examples.jsonl \\
          --format editseq --epochs 2 --lr 3e-4 --output-dir runs/sft-editseq
      editseq train sft --model ckpt/ --data pairs.jsonl --format program --config sft.yaml
    The loss covers the response only; the recipe (AdamW, linear schedule with warmup, weight
    decay 0.01) is the same for both formats, as in the LintSeq paper.
    """
    from editseq.train.sft import train_sft

    return _run(SFTOptions, values, config_file, train_sft)


@train.command("pretrain", cls=Resumable)
@click_options(PretrainOptions)
@config_file_option
def pretrain_command(config_file: Path | None, **values: object) -> int:
    """Pretrain a tiny causal code LM from scratch (TinyCodeLM-like 150M/400M, or tiny-test).

    The corpus is packed into OUTPUT-DIR/packed/ (token ids, 2 bytes each for vocabularies of up
    to 65,536) and read from there, so it need not fit in memory; a rerun resumes from the same
    blocks. Delete packed/ once the run is done.

    \b
    Examples:
      editseq train pretrain --data src/ --preset tiny-test --max-steps 200 --output-dir runs/tiny
      editseq train pretrain --data corpus.jsonl --text-field content --preset tinycodelm-150m \\
          --tokenizer smollm2-135m --output-dir runs/tcl150
    """
    from editseq.train.pretrain import train_pretrain

    return _run(PretrainOptions, values, config_file, train_pretrain)


def _run(cls: type, values: dict[str, Any], config_file: Path | None, fn: Any) -> int:
    """Build the options, train, report (once, by the main process of a distributed run, as its
    warnings are: ``warnings_once``)."""
    from accelerate import PartialState

    from editseq.train.common import interrupts_land, warnings_once

    with warnings_once():
        opts = build(cls, values, config_file)
        try:
            with interrupts_land():
                record = fn(opts)
        except KeyboardInterrupt:
            _say_where_a_rerun_resumes(opts.output_dir)
            raise
    main = PartialState().is_main_process
    _leave_process_group()
    if not main:
        return 0
    resumed = f" (resumed from {record['resumed_from']})" if record["resumed_from"] else ""
    if record["run_loss"] is None:
        click.echo(f"already trained to step {record['global_step']}{resumed}; nothing left to do")
    else:
        click.echo(f"trained to step {record['global_step']}{resumed}; "
                   f"mean loss of this run {record['run_loss']:.4f}, {record['examples_per_step']} examples per step")
    click.echo(f"model: {opts.output_dir}")
    return 0


def _say_where_a_rerun_resumes(output_dir: Path) -> None:
    """On Ctrl-C: a rerun continues from the newest checkpoint, training the steps after it (up
    to --save-steps of them) again, or, with none written yet, starts over."""
    from editseq.train.common import last_checkpoint

    newest = last_checkpoint(output_dir)
    abort_says(f"Rerun the same command to resume: it continues from {Path(newest[0]).name} (the steps "
               "after it are trained again)." if newest else "No checkpoint was written yet: a rerun starts over.")


def _leave_process_group() -> None:
    """Leave a distributed run's process group once training has ended well (after an error a
    rank could wait on the others for good). Left to the interpreter's exit, gloo's threads can
    abort a finished process ("terminate called without an active exception", SIGABRT; see
    pytorch/pytorch#179291), and torchrun then reports the whole run failed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
