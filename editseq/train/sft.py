"""Instruction fine-tuning on (instruction, program) or (instruction, LintSeq edit sequence) data.

The LintSeq paper trains both formats with one recipe so that only the data differs: AdamW, linear
schedule with warmup, weight decay 0.01, loss on the response only (the instruction's tokens get
label -100). Its learning rates: 5e-5 for 2-4B models, 1e-5 for 8B and larger, 3e-4 for tiny
(150M-400M) models; 10 epochs on programs vs 2 on the edit-sequence data (5 sequences per program,
so about the same number of steps). The defaults are its tiny-model recipe (``--lr`` 3e-4; the
models this project ships and pretrains are that size) and each format's epochs; the learning
rate is not guessed per model: pass ``--lr`` for a larger one.

Training text, so that ``editseq sample`` prompts match it:
- ``editseq``: ``render_training_text(instruction, edit_path)``, i.e. the instruction then
  ``"\\n<|diff|>" + diff`` per edit; the prompt (no loss) is the instruction + ``"\\n<|diff|>"``,
  exactly what ``editseq sample`` feeds, so it is tokenized as sampling tokenizes it; ``<|diff|>``
  becomes one special token and the embeddings grow to hold it.
- ``program``: the instruction, a newline, the program.
Each text ends with the tokenizer's end-of-sequence token so the model learns to stop. For the
program baseline pass the original (instruction, program) data, not ``editseq lintseq``'s output,
which repeats each program once per sampled edit sequence.

Trained with TRL's ``SFTTrainer`` (a transformers ``Trainer``, so accelerate and ``accelerate
launch`` apply). The examples reach it already tokenized with their labels, the mask boundary
exact (``tokenize_pair``), and TRL passes such data through unchanged
(checked in tests/train/test_sft.py, since its own prompt/completion handling has changed shape
across releases).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from editseq.config import ConfigError, option
from editseq.io.identity import dataset_files, hub_dataset
from editseq.io.lock import main_process_writing
from editseq.io.records import (
    BadRecord,
    InputError,
    check_unicode,
    not_text,
    read_records,
    record_where,
)
from editseq.lintseq.diffs import DIFF_TOKEN, render_training_text
from editseq.train.common import (
    TrainOptions,
    check_run,
    claim_run,
    held_out,
    run_trainer,
    training_arguments,
)

IGNORE = -100  # label of tokens the loss skips
EPOCHS = {"program": 10.0, "editseq": 2.0}  # the paper's passes over each format's data


@dataclass
class SFTOptions(TrainOptions):
    """``editseq train sft`` options; a YAML/JSON ``--config`` holds the same names."""

    command: ClassVar[str] = "sft"

    model: str = option("", help="base model: a local checkpoint folder, a .gguf file, an alias (smollm2-135m) or a cached hub name", path=True, required=True)
    data: str = option("", help="training data: JSONL, Parquet, or a Hugging Face dataset (save_to_disk folder or cached name)", path=True, required=True)
    format: Literal["program", "editseq"] = option("program", help="train on programs (field --program-field) or LintSeq edit sequences (field edit_path, as `editseq lintseq` writes)")
    instruction_field: str = option("instruction", help="record field holding the instruction")
    program_field: str = option("program", help="record field holding the program (--format program)")
    edit_path_field: str = option("edit_path", help="record field holding the list of diffs (--format editseq)")
    split: str = option("train", help="split of a Hugging Face dataset")
    max_length: int = option(2048, help="tokens per example; longer examples are cut at the end (with a warning: they lose their end-of-sequence token)")
    lr: float = option(3e-4, help="peak learning rate; default: the paper's for tiny (150M-400M) models such as smollm2-135m; it used 5e-5 for 2-4B models, 1e-5 for >=8B")
    gradient_checkpointing: bool = option(False, help="recompute activations in the backward pass: less GPU memory (large models), ~30% slower (TRL's own default is on)")
    epochs: float | None = option(None, help="passes over the data (ignored, with a warning, when --max-steps > 0); default: the paper's, 10 with --format program, 2 with --format editseq")

    def default_epochs(self) -> float:
        return EPOCHS[self.format]  # LintSeq data holds ~5 edit sequences per program: ~as many steps

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.model:
            raise ConfigError("--model is required: a local checkpoint folder, a .gguf file or an alias")
        if not self.data:
            raise ConfigError("--data is required: JSONL/Parquet with instruction and program/edit_path")
        if self.max_length < 8:
            raise ConfigError(f"--max-length must be at least 8 tokens, got {self.max_length}")
        data, out = Path(self.data).resolve(), Path(self.output_dir).resolve()
        if data.is_dir() and (out == data or data in out.parents):
            # datasets reads the data files anywhere under a folder: a rerun read the run's own
            # JSON files (settings, state) as its data
            raise ConfigError(f"--output-dir {self.output_dir} lies inside --data {self.data}, whose data files "
                              "a rerun would read with the run's own JSON files among them; pass an "
                              "--output-dir outside --data")


@dataclass
class Accounting:
    """What became of ``--data``'s records, for the run record (``editseq_train.json``'s
    ``data``): each is trained on (``cut_at_max_length`` of them without their end, and with it
    their end-of-sequence token), held out for the held-out loss (``--eval-fraction``) or
    dropped for a reason, as the warnings say, so a run's examples can be told from its data
    afterwards, not from its stderr alone."""

    records: int = 0
    cut_at_max_length: int = 0
    held_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count


def _prompt_and_text(opts: SFTOptions, field: str, where: str, record: dict[str, Any],
                     instruction: str) -> tuple[str, str] | None:
    """The prompt and whole training text of one record in ``opts.format``, or None when its
    program or edit sequence is empty (nothing to learn to write)."""
    body = record.get(field)
    if opts.format == "editseq":
        if not (isinstance(body, list) and all(isinstance(d, str) for d in body)):
            raise InputError(f"{where}: field {field!r} must be a list of diffs; "
                             "make the data with `editseq lintseq` or pass --edit-path-field")
        if not "".join(body).strip():  # nothing to write: it would teach stopping at the prompt
            return None
        # the prompt is what `editseq sample` feeds (instruction + "\n<|diff|>"), tokenized as
        # one text: tokenizers whose pre-tokenizer joins punctuation and line ends (Llama 3,
        # Qwen) make "." + "\n" one token there, so training on the instruction alone would
        # show the model a first <|diff|> after a different token than it gets when sampled
        return instruction + f"\n{DIFF_TOKEN}", render_training_text(instruction, body)
    if not isinstance(body, str):
        raise InputError(f"{where}: {not_text(record, field, '--program-field')}")
    if not body.strip():
        return None
    # `editseq sample --prompt instruction` feeds the instruction alone
    return instruction, instruction + "\n" + body


def training_pairs(opts: SFTOptions, loaded: Any = None, account: Accounting | None = None) -> list[tuple[str, str]]:
    """(prompt, response) texts of every record; a bad record raises naming where it is.
    ``loaded``: ``--data``'s hub dataset where the run loaded it already (``hub_dataset``);
    ``account``: where the records read and dropped are counted."""
    account = account or Accounting()
    pairs, empty, unasked = [], 0, 0
    field = opts.edit_path_field if opts.format == "editseq" else opts.program_field
    for _, key, record in read_records(opts.data, opts.split, loaded):
        where = record_where(opts.data, key)
        if isinstance(record, BadRecord):
            raise InputError(f"{where}: {record.reason}")
        instruction = record.get(opts.instruction_field)
        if not isinstance(instruction, str):
            raise InputError(f"{where}: {not_text(record, opts.instruction_field, '--instruction-field')}")
        # `editseq sample` strips a prompt's final newlines before adding its own "\n": trained so,
        # an instruction ending in "\n" is followed by one newline here too, not two
        instruction = instruction.rstrip("\n")
        if not instruction.strip():  # no prompt to condition on: it would teach writing unasked
            unasked += 1
            continue
        texts = _prompt_and_text(opts, field, where, record, instruction)
        if texts is None:
            empty += 1
            continue
        prompt, text = texts
        check_unicode(where, opts.instruction_field, instruction)
        check_unicode(where, field, text[len(instruction):])
        pairs.append((prompt, text[len(prompt):]))
    dropped = [(count, what, why) for count, what, why in (
        (empty, f"an empty {field}", "nothing to learn to write"),
        (unasked, f"an empty {opts.instruction_field}", "nothing to write it for")) if count]
    if not pairs:
        raise InputError(f"{opts.data}: no records to train on"
                         + "".join(f" ({count} with {what})" for count, what, _ in dropped))
    account.records += len(pairs) + empty + unasked
    account.drop(f"empty {field}", empty)
    account.drop(f"empty {opts.instruction_field}", unasked)
    for count, what, why in dropped:
        warnings.warn(f"{count} of {len(pairs) + empty + unasked} records dropped: {what}, {why}", stacklevel=2)
    repeats = len(pairs) - len(set(pairs))
    if opts.format == "program" and repeats:
        warnings.warn(f"{repeats} of {len(pairs)} examples repeat an earlier (instruction, program) pair, "
                      "so they weigh more in training than the rest (`editseq lintseq`'s output holds each "
                      "program once per edit sequence); for the program baseline pass the data given to "
                      "`editseq lintseq`", stacklevel=2)
    return pairs


def without_special_text(opts: SFTOptions, tokenizer: Any, pairs: list[tuple[str, str]],
                         account: Accounting | None = None) -> list[tuple[str, str]]:
    """The pairs whose text holds no special token's text but the edit sequences' separators.

    The tokenizer reads ``"<|endoftext|>"`` in a program (code that handles tokenizers) as the
    token itself, so the model would learn to end there, and ``editseq sample`` stops at it. Such
    examples are dropped, naming the tokens, in both formats alike (the same programs go), and
    counted in ``account``.
    """
    separator = f"\n{DIFF_TOKEN}" if opts.format == "editseq" else None
    # special added tokens only: CodeGen, phi-2 and GPT-NeoX tokenizers add runs of spaces as
    # plain (non-special) added tokens, which are text and decode as such
    specials = [t.content for t in tokenizer.added_tokens_decoder.values() if t.special and t.content]
    kept, found = [], {}
    for prompt, response in pairs:
        # the separators are the prompt's last one and those of the response: one elsewhere in
        # the instruction is text that would train as a <|diff|> token inside the prompt
        texts = (prompt.removesuffix(separator), response.replace(separator, "\n")) if separator else (prompt, response)
        hits = [token for token in specials if any(token in text for text in texts)]
        for token in hits:
            found[token] = found.get(token, 0) + 1
        if not hits:
            kept.append((prompt, response))
    (account or Accounting()).drop("special token text", len(pairs) - len(kept))
    if len(kept) < len(pairs):
        named = ", ".join(f"{token} in {n}" for token, n in sorted(found.items(), key=lambda kv: -kv[1]))
        message = (f"{len(pairs) - len(kept)} of {len(pairs)} examples hold the text of special tokens "
                   f"({named}), which the tokenizer reads as those tokens")
        if not kept:
            raise InputError(f"{opts.data}: {message}; no example is left to train on")
        warnings.warn(f"{message}: dropped, as a model trained on them learns to stop or switch turns "
                      "in mid-program", stacklevel=2)
    return kept


def tokenize_pair(tokenizer: Any, prompt: str, response: str) -> dict[str, list[int]]:
    """Token ids and labels of one whole example (``fit`` cuts it at ``--max-length``); the
    prompt's labels are ``IGNORE``.

    The prompt is tokenized alone, as sampling feeds it. The response's tokens are those that
    follow the prompt's in the whole text, as the text tokenizes when nothing spans the boundary
    (always so after an edit sequence's ``<|diff|>``): tokenized alone, a response gets what
    starts a text, such as the leading "▁" of SentencePiece-style tokenizers, which no later edit
    has. Where a token does span it (``".\n"``), the response is tokenized alone, so that no
    instruction token enters the loss and no response token leaves it.
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    alone = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    whole = tokenizer(prompt + response, add_special_tokens=False)["input_ids"]
    if whole[:len(alone)] == alone:
        response_ids = whole[len(alone):]
    else:
        response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        response_ids = [*response_ids, tokenizer.eos_token_id]
    return {"input_ids": prompt_ids + response_ids, "labels": [IGNORE] * len(prompt_ids) + response_ids}


def fit(opts: SFTOptions, examples: list[dict[str, list[int]]],
        account: Accounting | None = None) -> list[dict[str, list[int]]]:
    """The examples cut at ``--max-length``, warning how many lost their end (and counting them
    in ``account``): a cut response loses its end-of-sequence token too, and a model trained on
    many such never learns to stop."""
    long = sum(len(e["input_ids"]) > opts.max_length for e in examples)
    (account or Accounting()).cut_at_max_length += long
    if long:
        warnings.warn(f"{long} of {len(examples)} examples are longer than --max-length {opts.max_length} "
                      "tokens and are cut at the end (their end-of-sequence token with it); raise "
                      "--max-length to train on them whole", stacklevel=2)
    return [{key: ids[:opts.max_length] for key, ids in e.items()} for e in examples]


def within_context(opts: SFTOptions, model: Any, examples: list[dict[str, list[int]]]) -> None:
    """Warn about examples longer than the model's context (``max_position_embeddings``): they
    train positions its pretraining never reached, and the saved config, at which vLLM caps
    sequences, still names the shorter context. A model whose positions are a learned table
    (GPT-2's ``wpe``) has none past it: refused, where training failed at the first long batch
    with "IndexError: index out of range in self"."""
    context = getattr(model.config, "max_position_embeddings", None)
    long = sum(len(e["input_ids"]) > context for e in examples) if context else 0
    if long and _learned_positions(model, context):
        raise InputError(f"{long} of {len(examples)} examples are longer than the {context} positions --model "
                         f"{opts.model} has learned (max_position_embeddings), and it has none past them; "
                         f"pass --max-length {context} to cut them there")
    if long:
        warnings.warn(f"{long} of {len(examples)} examples are longer than the model's context of "
                      f"{context} tokens (max_position_embeddings); pass --max-length {context} to cut "
                      "them there", stacklevel=2)


def _learned_positions(model: Any, context: int) -> bool:
    """Whether ``model`` holds a table of ``context`` position embeddings (GPT-2, GPT-Neo,
    StarCoder's GPTBigCode; OPT's has 2 rows more), not rotary or ALiBi positions, which extend."""
    import torch

    tokens = model.get_input_embeddings()
    return any(isinstance(m, torch.nn.Embedding) and m is not tokens and context <= m.num_embeddings <= context + 2
               for m in model.modules())


def learnable(opts: SFTOptions, examples: list[dict[str, list[int]]],
              account: Accounting | None = None, held_out: bool = False) -> list[dict[str, list[int]]]:
    """The examples with at least one labelled token: an instruction that fills ``--max-length``
    leaves nothing to learn (a loss of 0 that would pass for training). The rest are dropped
    with a warning (and counted in ``account``); none left is an error, which names the
    ``held_out`` examples (``--eval-fraction``) where those are what none is left of."""
    kept = [e for e in examples if any(label != IGNORE for label in e["labels"])]
    account = account or Accounting()
    account.drop("instruction fills --max-length", len(examples) - len(kept))
    account.cut_at_max_length -= len(examples) - len(kept)  # each was cut (``fit``), and is not trained on
    if not kept:
        which = (f"the instruction of each of the {len(examples)} held-out examples (--eval-fraction "
                 f"{opts.eval_fraction:g})" if held_out else "every instruction")
        raise InputError(f"{opts.data}: {which} fills --max-length {opts.max_length} tokens, leaving no "
                         f"response token to {'score' if held_out else 'learn'}; raise --max-length")
    if len(kept) < len(examples):
        warnings.warn(f"{len(examples) - len(kept)} of {len(examples)} examples dropped: their "
                      f"instruction fills --max-length {opts.max_length} tokens", stacklevel=2)
    return kept


def _additional_special(tokenizer: Any) -> list[str]:
    """The tokenizer's additional special tokens (``extra_special_tokens`` in transformers 5,
    ``additional_special_tokens`` before; a dict of named tokens under that name in late 4.x)."""
    for name in ("extra_special_tokens", "additional_special_tokens"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, list):
            return [str(token) for token in value]
    return []


def load_base(opts: SFTOptions) -> tuple[Any, Any]:
    """Trainable (model, tokenizer) from ``--model``; ``<|diff|>`` added for edit sequences, and
    ``EOS`` where the tokenizer has no end-of-sequence token (as pretrain adds it).

    The weights are float32 whatever dtype the checkpoint stores: transformers 5 (and TRL) load
    a bfloat16 checkpoint (most released models) as bfloat16, and AdamW steps on bfloat16 weights
    round a large share of the updates at fine-tuning rates (5e-5, 1e-5) away. ``--bf16`` is mixed
    precision: bfloat16 compute over these float32 weights.
    """
    import torch

    from editseq.models.loading import load_tokenizer, load_weights, with_eos

    tokenizer, model = load_tokenizer(opts.model), load_weights(opts.model, dtype=torch.float32)
    if with_eos(tokenizer):  # else no response ended, and the model never learned to stop
        model.config.eos_token_id = model.generation_config.eos_token_id = tokenizer.eos_token_id
        warnings.warn(f"--model {opts.model}'s tokenizer has no end-of-sequence token: {tokenizer.eos_token} is added "
                      "as one and ends each response, a new token the fine-tuning learns", stacklevel=2)
    if opts.format == "editseq" and DIFF_TOKEN not in tokenizer.get_vocab():
        # the list given replaces the base's own (a chat model's <|im_start|>, <|im_end|>)
        tokenizer.add_special_tokens({"additional_special_tokens": [*_additional_special(tokenizer), DIFF_TOKEN]})
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer


def build_trainer(opts: SFTOptions, loaded: Any = None, account: Accounting | None = None) -> tuple[Any, Any]:
    """(TRL ``SFTTrainer``, tokenizer) ready to train ``opts.model`` on ``opts.data`` (``loaded``:
    its hub dataset where the run loaded it already; ``account``: where what became of its
    records is counted)."""
    import datasets
    import transformers
    import trl

    transformers.set_seed(opts.seed)
    account = account or Accounting()
    pairs = training_pairs(opts, loaded, account)  # bad data fails before the model loads
    model, tokenizer = load_base(opts)
    pairs = without_special_text(opts, tokenizer, pairs, account)
    # by instruction: the loss of an edit sequence whose instruction trained with its other ones
    # (LintSeq data holds five a program) would measure what they taught, not generalisation
    pairs, evaluated = held_out(pairs, [prompt for prompt, _ in pairs], opts.eval_fraction, opts.seed,
                                "instructions")
    account.held_out = len(evaluated)
    examples = learnable(opts, fit(opts, [tokenize_pair(tokenizer, p, r) for p, r in pairs], account), account)
    with warnings.catch_warnings():  # scored as trained examples are cut, which their warnings told
        warnings.simplefilter("ignore")
        evaluation = [] if not evaluated else \
            learnable(opts, fit(opts, [tokenize_pair(tokenizer, p, r) for p, r in evaluated]), held_out=True)
    within_context(opts, model, examples + evaluation)  # the held-out ones are run through the model too
    # the examples arrive tokenized with their labels, so TRL neither re-tokenizes nor re-masks them
    args = training_arguments(opts, trl.SFTConfig, max_length=None, packing=False,
                              gradient_checkpointing=opts.gradient_checkpointing)
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(examples),
                             eval_dataset=datasets.Dataset.from_list(evaluation) if evaluation else None,
                             processing_class=tokenizer)
    return trainer, tokenizer


def train_sft(opts: SFTOptions) -> dict[str, Any]:
    """Fine-tune ``opts.model`` on ``opts.data``; returns the run record (see ``common``)."""
    with main_process_writing(opts.output_dir, flag="--output-dir"):
        return _train_sft(opts)


def _train_sft(opts: SFTOptions) -> dict[str, Any]:
    # a rerun under other settings (a folder's or hub dataset's files included) fails now, not once
    # the model has loaded; a hub dataset is loaded once, for its cache files and its records
    loaded = hub_dataset(opts.data, opts.split)
    settings = check_run(opts, dataset_files(opts.data, opts.split, loaded))
    account = Accounting()
    trainer, tokenizer = build_trainer(opts, loaded, account)
    # here, after the data and model loaded: a failed start claims nothing
    with trainer.args.main_process_first(local=False, desc="claiming --output-dir"):
        claim_run(opts, trainer.args, settings)
    extra = {"examples": len(trainer.train_dataset), "data": asdict(account),
             "eval_examples": len(trainer.eval_dataset) if trainer.eval_dataset is not None else 0}
    return run_trainer(trainer, opts, tokenizer, extra)

