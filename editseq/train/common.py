"""What SFT and pretraining share: Trainer arguments, resuming, and what a finished run writes.

A run's output folder holds ``checkpoint-N`` folders (model, tokenizer, optimizer, scheduler and
RNG state, so a rerun continues at step N) and, at the end, the final model and tokenizer at its
top level plus ``editseq_train.json`` (resolved options, versions, steps, losses).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import warnings
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from editseq.config import ConfigError, option, run_settings, to_dict
from editseq.env import versions
from editseq.io.identity import files_identity
from editseq.io.lock import check_finished
from editseq.io.outputs import claim_output, write_json
from editseq.io.records import InputError, recorded

PACKED = "packed"  # the folder under --output-dir that pretrain packs its corpus into (train.packing)
SETTINGS_FILE = "editseq_train_settings.json"  # what a run was started with (``sample`` reads its format)


@dataclass
class TrainOptions:
    """Options both commands share (their option dataclasses extend this one)."""

    command: ClassVar[str] = ""  # the `editseq train` subcommand, in a run's settings and record

    output_dir: Path | None = option(None, help="folder for checkpoints and the final model; a rerun resumes from its newest checkpoint", required=True)  # noqa: RUF009
    lr: float = option(5e-5, help="peak learning rate (decayed to 0 after warmup, see --lr-schedule)")
    epochs: float | None = option(None, help="passes over the data (default 1); ignored, with a warning, when --max-steps > 0")
    max_steps: int = option(0, help="optimizer steps to run in total; 0: use --epochs")
    warmup_ratio: float = option(0.05, help="fraction of the steps spent warming the learning rate up linearly")
    lr_schedule: Literal["linear", "cosine"] = option("linear", help="decay of the learning rate after warmup, to 0: linear (the LintSeq recipe) or cosine (nanoGPT's shape)")
    eval_fraction: float = option(0.0, help="share of the data held out of training, whose loss is measured every --eval-steps and at the end (editseq_train.json's eval_losses); whole instructions (sft) or documents (pretrain) are held out, never part of one; 0: none")
    eval_steps: int = option(0, help="measure the held-out loss every N steps (and at the end); 0: every --save-steps")
    weight_decay: float = option(0.01, help="AdamW weight decay (the LintSeq recipe: 0.01)")
    batch_size: int = option(8, help="sequences per device per step")
    grad_accum: int = option(1, help="gradient accumulation steps (effective batch = batch-size x this x devices)")
    save_steps: int = option(500, help="write a checkpoint every N steps (and at the end)")
    save_total_limit: int = option(2, help="checkpoints kept (older ones are deleted); 0 keeps all")
    logging_steps: int = option(10, help="log the training loss every N steps")
    seed: int = option(0, help="seed for initialisation, shuffling and dropout")
    bf16: bool = option(False, help="train in bfloat16 mixed precision (GPUs that support it)")
    ddp_timeout: int = option(1800, help="seconds a process of a distributed run waits for the others, also while the main one prepares the data alone (pretrain packs the whole corpus): raise it where that takes longer")

    def default_epochs(self) -> float:
        """Passes over the data where ``--epochs`` is not given."""
        return 1.0

    def __post_init__(self) -> None:
        if self.epochs is not None and self.max_steps > 0:  # a run of --max-steps steps that said otherwise
            warnings.warn(f"--epochs {self.epochs:g} is ignored: --max-steps {self.max_steps} sets the run's "
                          "length; leave one of them out", UserWarning, stacklevel=3)
        if self.epochs is None:
            self.epochs = self.default_epochs()
        if not self.output_dir:
            raise ConfigError("--output-dir is required: the folder for checkpoints and the model")
        self.output_dir = Path(self.output_dir)
        if not self.lr > 0:
            raise ConfigError(f"--lr must be positive, got {self.lr}")
        if self.max_steps <= 0 and not self.epochs > 0:
            raise ConfigError("give --epochs > 0 or --max-steps > 0")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.eval_fraction < 1:
            raise ConfigError(f"--eval-fraction must be in [0, 1), got {self.eval_fraction}")
        for name in ("batch_size", "grad_accum", "save_steps", "logging_steps", "ddp_timeout"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("max_steps", "weight_decay", "save_total_limit", "eval_steps"):  # 0 has a meaning; below, none
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.seed < 2**32:  # numpy's seed range; transformers' set_seed raised a traceback
            raise ConfigError(f"--seed must be in [0, 2**32 - 1], got {self.seed}")
        if self.bf16 and not _bf16_usable():  # transformers' own refusal comes as a traceback, after the model loads
            raise ConfigError("--bf16 needs a GPU with bfloat16 support and none is usable here; "
                              "leave --bf16 out to train in float32")


def _bf16_usable() -> bool:
    """Whether transformers' Trainer accepts bf16 here (what its TrainingArguments checks)."""
    try:
        from transformers.utils import is_torch_bf16_gpu_available, is_torch_xla_available
    except ImportError:  # no transformers: the command says so itself
        return True
    return bool(is_torch_bf16_gpu_available() or is_torch_xla_available())


def training_arguments(opts: Any, cls: Any = None, **extra: Any) -> Any:
    """``cls`` (default ``transformers.TrainingArguments``; TRL's ``SFTConfig`` extends it) for
    ``opts``: its schedule after warmup, held-out loss every ``--eval-steps`` where
    ``--eval-fraction`` holds data out, no external loggers; ``extra`` adds ``cls``'s own."""
    import inspect

    import torch
    import transformers

    # transformers 5 folded warmup_ratio into warmup_steps (a float in [0, 1) is a ratio)
    cls = cls or transformers.TrainingArguments
    names = inspect.signature(cls.__init__).parameters
    warmup = "warmup_ratio" if "warmup_ratio" in names else "warmup_steps"
    # and later renamed gradient_checkpointing (TRL's configs still set it, to True by default)
    if "gradient_checkpointing" in extra and "activation_checkpointing" in names:
        extra["activation_checkpointing"] = extra.pop("gradient_checkpointing")
    if opts.eval_fraction > 0:  # transformers evaluates at the last step too
        extra.update(eval_strategy="steps", eval_steps=opts.eval_steps or opts.save_steps,
                     per_device_eval_batch_size=opts.batch_size)
    return cls(
        output_dir=str(opts.output_dir),
        learning_rate=opts.lr,
        num_train_epochs=opts.epochs if opts.max_steps <= 0 else 1,
        max_steps=opts.max_steps if opts.max_steps > 0 else -1,
        lr_scheduler_type=opts.lr_schedule,
        **{warmup: opts.warmup_ratio},
        weight_decay=opts.weight_decay,
        per_device_train_batch_size=opts.batch_size,
        gradient_accumulation_steps=opts.grad_accum,
        save_strategy="steps",
        save_steps=opts.save_steps,
        save_total_limit=opts.save_total_limit or None,
        logging_steps=opts.logging_steps,
        seed=opts.seed,
        bf16=opts.bf16,
        report_to=[],
        # the loss as it was: filtered, a nan step counted as the window's mean so far (0.0 after
        # a log), and a diverged run logged losses of 0 (``_finite_callback`` stops it)
        logging_nan_inf_filter=False,
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
        # several processes and no GPU (``torchrun --nproc_per_node N`` on CPUs): data parallel over
        # gloo; without this, each process would train alone on all the data
        use_cpu=int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available(),
        # every parameter takes part in each step; DDP's search for unused ones costs a pass per step
        ddp_find_unused_parameters=False,
        # the process group's timeout: the others wait this long at main_process_first's barrier
        ddp_timeout=opts.ddp_timeout,
        **extra,
    )


# what a rerun may change: how long and how often, not what is trained; gradient checkpointing
# (sft) trades time for memory and computes the same gradients, so a run that ran out of GPU
# memory resumes with it; a distributed run that timed out resumes with a longer wait
RESUMABLE = ("output_dir", "max_steps", "epochs", "save_steps", "save_total_limit", "logging_steps",
             "eval_steps", "gradient_checkpointing", "ddp_timeout")


T = TypeVar("T")


def held_out(items: Sequence[T], groups: Sequence[Hashable], fraction: float, seed: int,
             what: str) -> tuple[list[T], list[T]]:
    """``items`` split into (trained on, held out): ``round(fraction x`` the distinct ``groups``)
    groups, drawn by ``seed``, are held out whole. Grouped, a held-out loss measures text the
    model never trained on: the LintSeq data holds each instruction once per sampled edit
    sequence, and a corpus may hold a file twice; one of each held out would be scored on what
    its twins taught. A ``fraction`` that holds out no group, or every one, raises (``what``
    names the groups)."""
    if fraction <= 0:
        return list(items), []
    distinct = list(dict.fromkeys(groups))  # in first-seen order: the draw depends on the seed alone
    count = round(fraction * len(distinct))
    if not 0 < count < len(distinct):
        raise InputError(f"--eval-fraction {fraction:g} of {len(distinct)} {what} holds out "
                         f"{'none' if count == 0 else 'all'} of them; pass a fraction that holds out "
                         "at least one and leaves one to train on, or 0 for no held-out loss")
    chosen = set(random.Random(seed).sample(range(len(distinct)), count))
    out = {group for i, group in enumerate(distinct) if i in chosen}
    return ([item for item, group in zip(items, groups, strict=True) if group not in out],
            [item for item, group in zip(items, groups, strict=True) if group in out])


def claim_run(opts: Any, args: Any, settings: dict[str, Any] | None = None) -> None:
    """Refuse to resume ``opts.output_dir`` under other settings (data, model, recipe), which
    would continue one run's checkpoints as if they were another's; ``settings``: what
    ``check_run`` returned (the data file is hashed once).

    In a distributed run only the main process claims; callers run this inside
    ``args.main_process_first()`` so the others wait and none trains on a refused folder.
    """
    if args.should_save:
        _check_folder(opts.output_dir)
        _claim(opts, write=True, settings=settings)


def check_run(opts: Any, files: list[Path] | None = None) -> dict[str, Any]:
    """``claim_run``'s refusal before anything loads (nothing is written): a rerun under other
    settings fails at once, not after the model has loaded. Returns the run's settings.

    ``files``: those the run reads where ``--data`` is a folder or a hub dataset's name
    (``run_settings`` knows either by its path or name alone; a hub dataset's are its cache
    files), recorded as ``data_files``, their ``io.identity.files_sha256``: a file edited, added or
    removed, or a newer revision of the dataset, between a run and its resume is refused, not
    trained on in silence. A file ``--data`` is known by its content already; one that a live run
    still writes (``editseq lintseq``'s output grows as it goes) is refused: its records so far are
    no dataset. A base ``--model`` folder counts by its model files' content
    (``models.loading.model_identity``, ``model_files``): a resume after its weights were saved
    over would continue one model's fine-tuning from another's, and ``sample`` refuses the same.
    The main process alone asks, as it alone claims: processes asking at one moment
    would each find the lock held by another's asking."""
    _check_folder(opts.output_dir)  # before a mistyped --model is named, as the rerun would fail on this next
    if Path(opts.data).is_file() and os.environ.get("RANK", "0") == "0":
        check_finished(Path(opts.data), "--data")
    identity = {} if files is None else {"data_files": files_identity(opts.data, files)}
    if isinstance(getattr(opts, "model", None), str):  # sft's base model, a folder by its files' content
        from editseq.models.loading import model_identity

        identity.update(model_identity(opts.model))
    return _claim(opts, write=False, identity=identity)


def _check_folder(folder: Path) -> None:
    """Refuse an ``--output-dir`` that is a file or lies under one, which was found at the first
    write, after the model (sft) loaded or the tokenizer (pretrain) trained."""
    file = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if file is not None:
        where = f"--output-dir {folder}" + (f": {file}" if file != folder else "")
        raise ConfigError(f"{where} is a file, not a folder; pass a folder")


def _claim(opts: Any, write: bool, settings: dict[str, Any] | None = None,
           identity: dict[str, str] | None = None) -> dict[str, Any]:
    folder, manifest = opts.output_dir, opts.output_dir / SETTINGS_FILE  # callers ran _check_folder
    if folder.is_dir() and not manifest.exists():
        # no run of ours started here: the final model's config.json, README.md (the model card)
        # and tokenizer files would replace whatever the folder holds
        # (pretrain packs its corpus there before it claims the folder: the packed blocks of a run
        # whose packing failed or was stopped are no one else's)
        held = sorted(p.name for p in folder.iterdir() if p.name != PACKED)
        if held:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            raise ConfigError(f"--output-dir {folder} holds files no `editseq train` run wrote ({shown}), "
                              "which the model's files would replace; pass a new or empty folder")
    theirs = recorded(manifest, "settings", "command")
    if theirs not in (None, opts.command):  # else refused as "started with other settings", the other's defaults named
        raise ConfigError(f"--output-dir {folder} holds an `editseq train {theirs}` run; pass another --output-dir")
    settings = settings or run_settings(opts, RESUMABLE, data_parallel=data_parallel(), command=opts.command,
                                        **(identity or {}))
    # settings that manifests of older editseq versions lack: their run had one process (and was
    # of this command: only the other's defaults would tell, as they did before), and a
    # folder's (or hub dataset's) files and a base model folder's went unrecorded, so they are
    # taken as they are now (the manifest is then rewritten with them, and checked from this resume on)
    # a folder --data or --model moved elsewhere is the same where its files are
    claim_output(folder, manifest, settings, overwrite=False,
                 flag="--output-dir", can_overwrite=False, options=opts, write=write,
                 assumed={"data_parallel": 1, "command": opts.command},
                 located={"data": "data_files", "model": "model_files"})
    return settings


def data_parallel() -> int:
    """How many model replicas share each step: the launcher's processes (``WORLD_SIZE``, set by
    ``torchrun`` and ``accelerate launch``), else the GPUs one process drives (the Trainer's
    DataParallel), else 1. A step consumes this x ``--batch-size`` x ``--grad-accum`` examples, so
    a resume under another count would change the batch, and which examples the resumed epoch
    skips as already seen: it is part of a run's settings."""
    if "WORLD_SIZE" in os.environ:
        return int(os.environ["WORLD_SIZE"])
    import torch

    return max(torch.cuda.device_count(), 1) if torch.cuda.is_available() else 1


def last_checkpoint(output_dir: Path) -> tuple[str, Any] | None:
    """The newest complete ``checkpoint-N`` in ``output_dir``, which a rerun continues from, with
    its ``TrainerState``.

    The Trainer writes a checkpoint's ``trainer_state.json`` last, so a run killed while saving
    leaves a newer folder without it (or with it cut short): skipped with a warning, as resuming
    from it fails (and transformers' own ``get_last_checkpoint`` would pick it).
    """
    import re

    from transformers import TrainerState

    if not output_dir.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in output_dir.iterdir()
             if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name))]
    for _, folder in sorted(found, reverse=True):
        try:
            return str(folder), TrainerState.load_from_json(str(folder / "trainer_state.json"))
        except (OSError, ValueError, TypeError):  # missing, cut short, or not a state
            warnings.warn(f"{folder} is incomplete (no readable trainer_state.json: the run was stopped "
                          "while saving it); resuming from an earlier checkpoint, and the next save "
                          "of that step replaces it", stacklevel=3)
    return None


def run_trainer(trainer: Any, opts: Any, tokenizer: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """Train (resuming when a checkpoint exists), save the final model, write the run record.

    The caller has claimed ``opts.output_dir`` (``claim_run``) once its data and model loaded.
    Every process of a distributed run trains and returns the record; only the main one writes.
    """
    from transformers import AutoModelForCausalLM

    main = trainer.args.should_save
    resume, state = last_checkpoint(opts.output_dir) or (None, None)
    if state is not None and _reached(state, trainer):
        # transformers (5.x) still takes one more step when resumed at the last step; a rerun of a
        # finished run only rewrites the final model from its newest checkpoint
        if main:
            AutoModelForCausalLM.from_pretrained(resume).save_pretrained(str(opts.output_dir))
        run_loss, schedule = None, None
    else:
        trainer.add_callback(_intervals_callback())
        trainer.add_callback(_interrupt_callback())
        trainer.add_callback(_finite_callback())
        run_loss = trainer.train(resume_from_checkpoint=resume).training_loss
        trainer.save_model(str(opts.output_dir))  # by the main process only
        schedule = _schedule_change(state, trainer.state)
        state = trainer.state
    if schedule is None and resume:  # an earlier run on these checkpoints changed it: still so
        schedule = _recorded_change(opts.output_dir)
    record = {
        "command": opts.command,
        "options": to_dict(opts),
        "resumed_from": resume,
        "processes": trainer.args.world_size,
        # what one optimizer step consumes: "processes" alone misses the GPUs one process drives
        # (DataParallel: its train_batch_size is --batch-size x the GPUs)
        "examples_per_step": trainer.args.train_batch_size * trainer.args.gradient_accumulation_steps
        * trainer.args.world_size,
        "global_step": state.global_step,
        "losses": [(h["step"], h["loss"]) for h in state.log_history if "loss" in h],
        # the held-out loss (--eval-fraction), every --eval-steps and at the last step
        "eval_losses": [(h["step"], h["eval_loss"]) for h in state.log_history if "eval_loss" in h],
        "run_loss": run_loss,  # mean over this run's steps; None when nothing was left to do
        "lr_schedule_changed": schedule,  # where a resumed run's length changed, else None
        "versions": versions("torch", "transformers", "trl", "accelerate", "peft"),
        **extra,
    }
    if main:
        tokenizer.save_pretrained(str(opts.output_dir))
        write_json(opts.output_dir / "editseq_train.json", record)  # last: its presence means "finished"
    return record


@contextmanager
def warnings_once() -> Iterator[None]:
    """editseq's own warnings (records dropped, an option ignored, a resumed run's length changed)
    from the main process alone (``RANK`` 0, as ``io.lock.main_process_writing`` decides): every
    process of a distributed run reads the same options and data, so each printed them, once per
    process. Libraries' warnings, which may differ by process, and errors are shown as they were."""
    with warnings.catch_warnings():
        if os.environ.get("RANK", "0") != "0":
            warnings.filterwarnings("ignore", category=UserWarning, module=r"editseq\.")
        yield


_INTERRUPTED = threading.Event()  # a Ctrl-C arrived during interrupts_land (see there)


@contextmanager
def interrupts_land() -> Iterator[None]:
    """Make a Ctrl-C stop the run even where Python loses it. Python raises KeyboardInterrupt
    wherever the main thread runs next, which can be a finalizer (a ``__del__`` or a collector
    callback that garbage collection calls inside torch or a tokenizer); there it is printed as
    "Exception ignored" and dropped, and training went on for good (seen in the full test
    suite: a 1,000,000-step run interrupted at its start trained on). The handler also records
    the interruption, and the Trainer's callback (``_interrupt_callback``) raises it again at
    the next step. Only in the main thread, whose Ctrl-C handler is Python's own."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _INTERRUPTED.clear()


def _interrupt_callback() -> Any:
    """Raises, at the start of training and after each step, a Ctrl-C that a finalizer dropped."""
    from transformers import TrainerCallback

    def check(*args: Any, **kwargs: Any) -> None:
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt

    class Interrupts(TrainerCallback):
        on_train_begin = on_step_end = check

    return Interrupts()


def _finite_callback() -> Any:
    """A callback that stops a run whose loss, as logged, or weights, before each save, are no
    longer finite numbers (a learning rate too high, a bfloat16 overflow): it trained on to its
    end and saved the nan weights as its model and checkpoints. The error comes before the save,
    so the newest checkpoint is from before the divergence; a rerun would resume from it into
    the same divergence, hence a new --output-dir. Every process of a distributed run sees the
    same loss (gathered) and weights, so all stop."""
    import math

    from transformers import TrainerCallback

    def diverged(what: str, step: int) -> ConfigError:
        return ConfigError(f"training diverged: {what} at step {step}, so the run was stopped before saving its weights; "
                           "train again in a new --output-dir with a lower --lr (or without --bf16)")

    class Finite(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(loss):
                raise diverged(f"the loss is {loss}", state.global_step)

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if control.should_save and model is not None and \
                    not all(p.isfinite().all() for p in model.parameters()):
                raise diverged("the weights are not finite", state.global_step)

    return Finite()


def _intervals_callback() -> Any:
    """A callback that sets this run's ``--save-steps``, ``--logging-steps`` and ``--eval-steps`` on the Trainer's
    state when training begins: a resumed Trainer takes its state, intervals included, from the
    checkpoint, so the new ones would go unused (transformers only logs that they differ)."""
    from transformers import TrainerCallback

    class Intervals(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            state.save_steps, state.logging_steps = args.save_steps, args.logging_steps
            if args.eval_strategy == "steps":
                state.eval_steps = args.eval_steps

    return Intervals()


def _schedule_change(before: Any, after: Any) -> dict[str, int] | None:
    """Where a resumed run's length (``--max-steps``/``--epochs``) changed, and a warning: the
    checkpoint's optimizer and scheduler state carry the old schedule's learning rate into the
    first resumed step, and the new schedule's (a jump) follows, so the run followed neither
    linear schedule, which its options alone would not show."""
    if before is None or after.max_steps == before.max_steps:
        return None
    warnings.warn(f"resumed checkpoint-{before.global_step} of a {before.max_steps}-step run as a "
                  f"{after.max_steps}-step run: the learning rate followed the {before.max_steps}-step "
                  f"schedule to step {before.global_step + 1} and the {after.max_steps}-step one after it, "
                  "not one linear schedule (recorded as lr_schedule_changed in editseq_train.json); "
                  "for one schedule, train the new length in a new --output-dir", stacklevel=3)
    return {"at_step": before.global_step, "from_steps": before.max_steps, "to_steps": after.max_steps}


def _recorded_change(output_dir: Path) -> dict[str, int] | None:
    """``lr_schedule_changed`` of the run record already in ``output_dir`` (None without one)."""
    return recorded(output_dir / "editseq_train.json", "lr_schedule_changed")


def _reached(state: Any, trainer: Any) -> bool:
    """Whether a checkpoint's state is already at this run's end: ``--max-steps``, else the
    steps ``--epochs`` makes of the data (as the Trainer counts them; not the checkpoint's own
    length, which a rerun with more ``--epochs`` extends)."""
    args = trainer.args
    target = args.max_steps if args.max_steps > 0 else \
        trainer.set_initial_training_values(args, trainer.get_train_dataloader())[-1]
    return state.global_step >= target


