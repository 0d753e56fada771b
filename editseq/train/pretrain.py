"""Pretrain a tiny causal code LM from scratch on a text corpus (the LintSeq paper's TinyCodeLM).

TinyCodeLM (Piterbarg et al. 2024; the released model cards) "mimics the two smallest versions of
GPT-2 while integrating the transformer changes of the OLMo models": GPT-2 small/medium depth,
width and heads, with rotary positions, SwiGLU MLPs and no biases. The presets below express that
as LLaMA configs (transformers' closest architecture; RMSNorm stands in for OLMo's non-parametric
LayerNorm). Parameter counts depend on the tokenizer's vocabulary; with SmolLM2's 49,152 tokens:

| preset | layers | hidden | heads | MLP | context | params (untied embeddings) |
|---|---:|---:|---:|---:|---:|---:|
| ``tinycodelm-150m`` | 12 | 768 | 12 | 2048 | 2048 | ~160M |
| ``tinycodelm-400m`` | 24 | 1024 | 16 | 2816 | 2048 | ~410M |
| ``tiny-test`` | 2 | 128 | 4 | 256 | 256 | ~13M (2.4M with an 8,192-token BPE) |

Tokenizer: ``bpe`` trains a byte-level BPE on the corpus itself (no download; what the tests use),
or name a model (``smollm2-135m``, a checkpoint folder) to reuse its tokenizer. Text is packed: each
document plus end-of-sequence, concatenated and cut into ``block_size``-token blocks (the tokens
after the last full block are left out, with a warning where they are over 5% of the corpus),
written to ``--output-dir``'s ``packed/`` and read memory-mapped (``train.packing``).
``--eval-fraction`` holds whole documents out, packed apart, for a held-out loss (nanoGPT's
``val`` loss; there a slice of one token stream).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from editseq.config import ConfigError, defaults, option
from editseq.io.identity import dataset_files, hub_dataset, saved_dataset
from editseq.io.lock import main_process_writing
from editseq.io.records import (
    BadRecord,
    InputError,
    check_source,
    check_unicode,
    not_text,
    read_records,
    record_where,
)
from editseq.models.loading import EOS
from editseq.train.common import (
    PACKED,
    TrainOptions,
    check_run,
    claim_run,
    run_trainer,
    training_arguments,
)
from editseq.train.packing import (
    as_dataset,
    chosen,
    pack_corpus,
    packed_corpus,
    split_documents,
)

# preset -> (layers, hidden, heads, MLP width, context)
PRESETS: dict[str, tuple[int, int, int, int, int]] = {
    "tinycodelm-150m": (12, 768, 12, 2048, 2048),
    "tinycodelm-400m": (24, 1024, 16, 2816, 2048),
    "tiny-test": (2, 128, 4, 256, 256),
}
TEXT_SUFFIXES = (".py", ".txt", ".md")


@dataclass
class PretrainOptions(TrainOptions):
    """``editseq train pretrain`` options; a YAML/JSON ``--config`` holds the same names."""

    command: ClassVar[str] = "pretrain"

    data: str = option("", help="corpus: a JSONL/Parquet file or a Hugging Face dataset (save_to_disk folder; text in --text-field), a text file, or a folder of .py/.txt/.md files (hidden ones, such as .git and .venv, left out)", path=True, required=True)
    text_field: str = option("text", help="record field holding a document (JSONL/Parquet corpora)")
    split: str = option("train", help="split of a Hugging Face dataset")
    preset: Literal["tinycodelm-150m", "tinycodelm-400m", "tiny-test"] = option("tiny-test", help="model shape (see editseq.train.pretrain)")
    tokenizer: str = option("bpe", help="bpe: train a byte-level BPE on the corpus; else a model whose tokenizer to reuse (smollm2-135m, a folder)", path=True)
    vocab_size: int = option(8192, help="vocabulary of a trained BPE tokenizer (--tokenizer bpe)")
    block_size: int = option(0, help="tokens per training sequence, from 2 to the preset's context; 0: the context")
    lr: float = option(3e-4, help="peak learning rate (tiny models: 3e-4)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.data:
            raise ConfigError("--data is required: a JSONL/Parquet corpus, a text file or a folder")
        if self.vocab_size < 300:
            raise ConfigError(f"--vocab-size must be at least 300 (256 bytes + merges), got {self.vocab_size}")
        if self.block_size < 0:
            raise ConfigError(f"--block-size must be >= 0 (0: the preset's context), got {self.block_size}")
        if self.block_size == 1:  # trained "to" a loss of 0 on nothing
            raise ConfigError("--block-size 1 leaves nothing to learn: each token is predicted from those "
                              "before it in its block, and a block's first has none; pass 2 or more (0: the context)")
        # the model's config records the preset's context (max_position_embeddings), which vLLM
        # and others take as the longest sequence: training past it would go unrecorded
        context = PRESETS[self.preset][4]
        if self.block_size > context:
            raise ConfigError(f"--block-size {self.block_size} exceeds --preset {self.preset}'s context of "
                              f"{context} tokens; pass at most {context} (0: the context)")


def corpus_files(opts: PretrainOptions) -> list[Path] | None:
    """The files a folder ``--data`` holds as documents, sorted: its .py/.txt/.md files, hidden
    files and folders (``.git``, ``.venv``, ``.tox``) left out, so ``--data .`` means the
    project's code, and so is ``--output-dir`` where it lies inside (``--data . --output-dir
    runs/tiny``: a rerun would train on the run's own files, its model card among them). None where ``--data`` is no such folder (a file, a saved Hugging Face dataset);
    a folder with no such file raises, naming what it holds instead."""
    path = Path(opts.data)
    if not path.is_dir() or saved_dataset(path):
        return None
    files = sorted(p for p in _visible_files(path, opts.output_dir) if p.suffix in TEXT_SUFFIXES)
    if not files:  # "no documents found" left a folder of JSONL files (say) unexplained
        others = sorted(p.relative_to(path).as_posix() for p in _visible_files(path, opts.output_dir))
        held = f" (it holds {', '.join(others[:3])}" + (f" and {len(others) - 3} more)" if len(others) > 3 else ")")
        raise InputError(f"{path}: a folder with no .py, .txt or .md files, hidden ones left out"
                         f"{held if others else ''}; pass a JSONL/Parquet corpus file itself as --data, "
                         "or a folder of text files")
    return files


def _visible_files(folder: Path, skip: Path) -> Iterator[Path]:
    """The files under ``folder`` but hidden ones, those in hidden folders and those in ``skip``
    (a folder). Linked folders are walked, as linked files are read (``rglob`` left them out: a
    corpus of links to projects trained on none of their files, in silence); one whose real
    folder was walked already (a link to an ancestor, a loop) is not walked again."""
    walked = {os.path.realpath(skip)}
    for top, folders, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in walked:
            folders.clear()
            continue
        walked.add(real)
        folders[:] = sorted(name for name in folders if not name.startswith("."))  # walked in a stable order
        yield from (Path(top, name) for name in names if not name.startswith(".") and Path(top, name).is_file())


def documents(opts: PretrainOptions) -> Iterator[str]:
    """The corpus's documents, in a stable order (``corpus_files`` of a folder). A file that is
    not UTF-8 raises naming it, as a JSONL line does (``read_records``)."""
    check_source(Path(opts.data), also=TEXT_SUFFIXES)
    yield from _documents(opts, corpus_files(opts))


def _documents(opts: PretrainOptions, files: list[Path] | None, loaded: Any = None) -> Iterator[str]:
    """``documents`` of a checked ``--data`` whose ``corpus_files`` are ``files``: a run reads
    the very files its settings fingerprinted, found by one walk of the folder, or the records of
    the hub dataset ``loaded`` for its fingerprint (``hub_dataset``), loaded once."""
    path = Path(opts.data)
    if files is not None:
        _unused_record_options(opts, "a folder of text files, each read whole as a document")
        for file in files:
            yield _read_text(file)
        return
    if path.is_file() and path.suffix in TEXT_SUFFIXES:
        _unused_record_options(opts, "a text file, read whole as one document")
        yield _read_text(path)
        return
    for _, key, record in read_records(opts.data, opts.split, loaded):
        if isinstance(record, BadRecord):
            raise InputError(f"{record_where(opts.data, key)}: {record.reason}")
        text = record.get(opts.text_field)
        if not isinstance(text, str):
            raise InputError(f"{record_where(opts.data, key)}: {not_text(record, opts.text_field, '--text-field')}")
        check_unicode(record_where(opts.data, key), opts.text_field, text)
        yield text


def _unused_record_options(opts: PretrainOptions, what: str) -> None:
    """Warn of ``--text-field`` and ``--split`` given for text files, whose documents are whole
    files: they name a field and a split of records, and went unused in silence (as
    ``io.records.read_records`` warns of ``--split`` for a file)."""
    default = defaults(PretrainOptions)
    given = [f"--{name.replace('_', '-')} {getattr(opts, name)}" for name in ("text_field", "split")
             if getattr(opts, name) != default[name]]
    if given:
        warnings.warn(f"{' and '.join(given)} {'are' if len(given) > 1 else 'is'} for JSONL/Parquet corpora "
                      f"and Hugging Face datasets; {opts.data} is {what}",
                      UserWarning, stacklevel=3)


def _read_text(path: Path) -> str:
    """``path``'s text. Decoding with replacement would train on U+FFFD in place of the bytes (a
    Latin-1 file, a binary one named .txt) with no word of it. A byte-order mark that some
    Windows editors write says how the file is encoded, and is no part of its text (nor of its
    program, for Python; JSONL lines lose it too): left out, or each such document would teach
    the model a U+FEFF at its opening."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); re-encode the file "
                         "as UTF-8 or leave it out of --data") from exc


def _unchanged(files: list[Path]) -> Callable[[], None]:
    """A check that raises where one of ``files`` (the corpus's) was written, moved or deleted
    since this call, by size and modification time: the corpus is read in several passes, and
    one edited between them packs other documents than the held-out split chose."""
    def stamp(path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    stamps = [stamp(path) for path in files]

    def check() -> None:
        changed = next((path for path, was in zip(files, stamps, strict=True) if stamp(path) != was), None)
        if changed is not None:
            raise InputError(f"{changed}: changed while the corpus was read (it is read in several passes); "
                             "rerun once nothing writes to it")
    return check


def train_bpe(texts: Iterable[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer trained on ``texts`` (any text encodes; nothing downloaded)."""
    import tokenizers
    import transformers

    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, bos_token=EOS,
                                                pad_token=EOS, unk_token=EOS)


def reused_tokenizer(opts: PretrainOptions) -> Any | None:
    """``--tokenizer``'s model's tokenizer (None for ``bpe``, trained once the corpus is read), less
    its chat template: a model pretrained here never saw that chat format, and ``editseq sample
    --prompt auto`` would prompt it in chat form where a tokenizer has one. One with no
    end-of-sequence token (BERT's) gets ``EOS`` (``loading.with_eos``): ``pack`` ends each document
    with it (a missing one packed as None, and the batch holding it failed with a traceback)."""
    if opts.tokenizer == "bpe":
        return None
    from editseq.models.loading import load_tokenizer, with_eos

    tokenizer = load_tokenizer(opts.tokenizer, "--tokenizer", "use bpe, smollm2-135m or a model folder")
    tokenizer.chat_template = None
    with_eos(tokenizer)
    return tokenizer


def model_config(preset: str, vocab_size: int, tokenizer: Any = None) -> Any:
    """A LLaMA config of ``preset``'s shape (untied embeddings), with ``tokenizer``'s special ids."""
    import transformers

    layers, hidden, heads, mlp, context = PRESETS[preset]
    ids = {} if tokenizer is None else {"bos_token_id": tokenizer.bos_token_id,
                                        "eos_token_id": tokenizer.eos_token_id,
                                        "pad_token_id": tokenizer.pad_token_id}
    return transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=mlp,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=context, tie_word_embeddings=False, **ids)


def train_pretrain(opts: PretrainOptions) -> dict[str, Any]:
    """Pretrain a ``preset`` model from scratch on ``opts.data``; returns the run record.

    A rerun reuses the tokenizer saved in the output folder, so resumed token ids stay the same.
    In a distributed run the main process makes and saves it first and the others load that one.
    """
    with main_process_writing(opts.output_dir, flag="--output-dir"):
        return _pretrain(opts)


def _pretrain(opts: PretrainOptions) -> dict[str, Any]:
    import transformers

    check_source(opts.data, also=TEXT_SUFFIXES)  # a mistyped text file is no hub dataset to look up
    files = corpus_files(opts)
    loaded = hub_dataset(opts.data, opts.split)  # loaded once, for its cache files and its records
    read = dataset_files(opts.data, opts.split, loaded) if files is None else files
    unchanged = _unchanged(read or ([Path(opts.data)] if Path(opts.data).is_file() else []))
    # a rerun under other settings (a folder's or hub dataset's files included) fails now
    settings = check_run(opts, read)
    transformers.set_seed(opts.seed)
    args = training_arguments(opts)
    saved = opts.output_dir / "tokenizer.json"
    # a --tokenizer that does not load fails now, not once the whole corpus has been read
    reused = None if saved.is_file() else reused_tokenizer(opts)
    block = opts.block_size or PRESETS[opts.preset][4]

    def corpus() -> Iterator[str]:
        return _documents(opts, files, loaded)

    with args.main_process_first(local=False, desc="packing the corpus"):  # all nodes wait
        tokenizer, packed = None, None
        if saved.is_file():  # a resume, or a process after the main one: the blocks packed with it
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(opts.output_dir))
            packed = packed_corpus(opts.output_dir / PACKED)
        if packed is None:
            split = split_documents(corpus(), opts.eval_fraction, opts.seed, opts.data)
            if tokenizer is None:  # a trained BPE tokenizer learns from the trained documents alone
                tokenizer = reused if reused is not None else train_bpe(chosen(corpus(), split.trained), opts.vocab_size)
            packed = pack_corpus(tokenizer, corpus, split, block, opts.output_dir / PACKED, opts.data,
                                 opts.eval_fraction, unchanged)
        claim_run(opts, args, settings)  # before the tokenizer lands there: a rerun reuses it only under these settings
        if args.should_save:
            tokenizer.save_pretrained(str(opts.output_dir))
    model = transformers.AutoModelForCausalLM.from_config(model_config(opts.preset, len(tokenizer), tokenizer))
    # labels are the inputs (the model shifts them); blocks are full, so nothing is padded, and the
    # end-of-sequence tokens between documents stay in the loss (a pad-masking collator would drop
    # them when pad = eos)
    evaluation = packed.held_out_blocks
    trainer = transformers.Trainer(model=model, args=args, train_dataset=as_dataset(packed.blocks),
                                   eval_dataset=None if evaluation is None else as_dataset(evaluation),
                                   data_collator=transformers.default_data_collator,
                                   processing_class=tokenizer)
    params = sum(p.numel() for p in model.parameters())
    dropped = packed.records - packed.documents - packed.held_out
    return run_trainer(trainer, opts, tokenizer,
                       {"parameters": params, "blocks": len(packed.blocks),
                        "block_size": block, "documents": packed.documents,
                        "eval_blocks": 0 if evaluation is None else len(evaluation),
                        # every document read is trained on, held out or dropped (as sft's data says of records)
                        "data": {"records": packed.records, "held_out": packed.held_out,
                                 "dropped": {"empty": dropped} if dropped else {}}})


def count_parameters(preset: str, vocab_size: int) -> int:
    """Parameters of ``preset`` at ``vocab_size`` without allocating weights (meta device)."""
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(model_config(preset, vocab_size))
    return sum(p.numel() for p in model.parameters())
