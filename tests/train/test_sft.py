"""SFT on a tiny random model: masking, loss going down, loading for sampling, resuming."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import pytest

from editseq.config import ConfigError
from editseq.io.records import InputError
from editseq.lintseq.diffs import DIFF_TOKEN
from editseq.train.sft import (
    IGNORE,
    SFTOptions,
    build_trainer,
    fit,
    load_base,
    tokenize_pair,
    train_sft,
    training_pairs,
)

RECIPE = {"lr": 3e-3, "warmup_ratio": 0.0, "batch_size": 8, "logging_steps": 1, "save_steps": 4}


def options(model: Path | str, data: Path, out: Path, **over: object) -> SFTOptions:
    return SFTOptions(**{"model": str(model), "data": str(data), "output_dir": out,
                         "format": "editseq", "max_steps": 8, **RECIPE, **over})


def test_diff_joins_the_base_tokenizers_special_tokens(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                     tmp_path: Path) -> None:
    """Was: adding <|diff|> replaced the base's additional special tokens (a chat model's
    <|im_start|>, <|im_end|>), so the fine-tuned tokenizer no longer listed them as special."""
    import shutil

    import transformers

    base = tmp_path / "chat-base"
    shutil.copytree(tiny_model_dir, base)
    chat = transformers.AutoTokenizer.from_pretrained(str(base))
    chat.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    chat.save_pretrained(str(base))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(base))
    model.resize_token_embeddings(len(chat))
    model.save_pretrained(str(base))
    _, tokenizer = load_base(options(base, lintseq_jsonl, tmp_path / "run"))
    assert {"<|im_start|>", "<|im_end|>", DIFF_TOKEN} <= set(tokenizer.all_special_tokens)
    tokenizer.save_pretrained(str(tmp_path / "saved"))  # as the checkpoint keeps it
    saved = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "saved"))
    assert {"<|im_start|>", "<|im_end|>", DIFF_TOKEN} <= set(saved.all_special_tokens)


def test_instruction_tokens_are_masked(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    opts = options(tiny_model_dir, lintseq_jsonl, tmp_path)
    _, tokenizer = load_base(opts)
    diff_ids = tokenizer(DIFF_TOKEN, add_special_tokens=False)["input_ids"]
    assert len(diff_ids) == 1  # one special token, not pieces of text
    prompt, response = training_pairs(opts)[0]
    assert prompt.endswith("\n" + DIFF_TOKEN) and not response.startswith(DIFF_TOKEN)
    example = tokenize_pair(tokenizer, prompt, response)
    n_prompt = len(tokenizer(prompt)["input_ids"])
    assert example["labels"][:n_prompt] == [IGNORE] * n_prompt
    assert example["labels"][n_prompt:] == example["input_ids"][n_prompt:]
    assert example["input_ids"][-1] == tokenizer.eos_token_id
    assert diff_ids[0] in example["labels"]


def llama3_style_tokenizer(texts: list[str]) -> object:
    """A byte-level BPE with Llama 3's pre-tokenizer pattern, which keeps line ends with the
    punctuation before them (".\n" can be one token), plus <|diff|>."""
    from tokenizers import Regex, decoders, pre_tokenizers

    pattern = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
    return bpe_tokenizer(texts, pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), decoders.ByteLevel())


def bpe_tokenizer(texts: list[str], pre_tokenizer: object, decoder: object = None) -> object:
    """A BPE trained on ``texts`` with ``pre_tokenizer`` (and ``decoder``), plus <|diff|>."""
    import tokenizers
    import transformers
    from tokenizers import pre_tokenizers

    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    if decoder is not None:
        tok.decoder = decoder
    tok.train_from_iterator(texts, tokenizers.trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|eot|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|eot|>",
                                                     pad_token="<|eot|>")
    tokenizer.add_special_tokens({"additional_special_tokens": [DIFF_TOKEN]})
    return tokenizer


@pytest.mark.parametrize("ending", ["", "\n"])
@pytest.mark.parametrize(("fmt", "style"), [("editseq", "lintseq"), ("program", "instruction")])
def test_masked_tokens_are_the_prompt_sample_feeds(tmp_path: Path, fmt: str, style: str, ending: str) -> None:
    """The tokens without loss are `editseq sample`'s prompt, tokenized as sampling tokenizes it:
    the instruction alone was, and with Llama 3's pre-tokenizer "." + "\n" then differs from ".\n".
    An instruction ending in a newline trains as sampling feeds it, with one newline, not two."""
    from editseq.benchmarks import Problem
    from editseq.models.prompts import build_prompt

    instruction = "Return the sum of a list."
    record = {"instruction": instruction + ending, "program": "def f(xs):\n    return sum(xs)\n",
              "edit_path": ["@@ -0,0 +1 @@\n+def f(xs):\n", "@@ -1 +1,2 @@\n def f(xs):\n+    return sum(xs)\n"]}
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    tokenizer = llama3_style_tokenizer([f"Do this.\n{record['program']}"] * 20)
    assert tokenizer.decode(tokenizer("Do this.\n")["input_ids"][-1:]) == ".\n"  # one token
    [(prompt, response)] = training_pairs(options(tmp_path, data, tmp_path / "run", format=fmt))
    example = tokenize_pair(tokenizer, prompt, response)
    fed = build_prompt(Problem("t/0", instruction + "\n", "f", "", ""), style)  # type: ignore[arg-type]
    masked = example["labels"].count(IGNORE)
    assert example["input_ids"][:masked] == tokenizer(fed)["input_ids"]
    assert example["labels"][masked:] == example["input_ids"][masked:]


@pytest.mark.parametrize("fmt", ["program", "editseq"])
def test_data_may_be_jsonl_parquet_or_a_hf_dataset(lintseq_jsonl: Path, tmp_path: Path, fmt: str) -> None:
    """The same records train the same pairs from each form --data takes (edit_path, a list
    column in Parquet and Arrow, included)."""
    import datasets

    records = [json.loads(line) for line in lintseq_jsonl.read_text(encoding="utf-8").splitlines()]
    dataset = datasets.Dataset.from_list(records)
    dataset.to_parquet(str(tmp_path / "d.parquet"))
    dataset.save_to_disk(str(tmp_path / "saved"))
    datasets.DatasetDict({"train": dataset}).save_to_disk(str(tmp_path / "splits"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # lintseq data as programs repeats them
        expected = training_pairs(options("m", lintseq_jsonl, tmp_path / "o", format=fmt))
        for data in ("d.parquet", "saved", "splits"):
            assert training_pairs(options("m", tmp_path / data, tmp_path / "o", format=fmt)) == expected, data
    assert len(expected) == len(records)


def test_a_response_tokenizes_as_in_the_whole_text(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                   tmp_path: Path) -> None:
    """With a SentencePiece-style "▁" before the first word of a text, a response tokenized alone
    began its first edit with "▁@@" where every later edit (and the whole text) has "@@"."""
    from tokenizers import pre_tokenizers

    records = [json.loads(line) for line in lintseq_jsonl.read_text(encoding="utf-8").splitlines()]
    tokenizer = bpe_tokenizer([r["instruction"] + "\n" + "\n".join(r["edit_path"]) for r in records],
                              pre_tokenizers.Metaspace(prepend_scheme="first"))
    prompt, response = training_pairs(options(tiny_model_dir, lintseq_jsonl, tmp_path))[0]
    example = tokenize_pair(tokenizer, prompt, response)
    assert example["input_ids"] == [*tokenizer(prompt + response)["input_ids"], tokenizer.eos_token_id]
    assert example["labels"].count(IGNORE) == len(tokenizer(prompt)["input_ids"])
    first = example["labels"].count(IGNORE)
    assert tokenizer.convert_ids_to_tokens(example["input_ids"][first]) == "@@"


def test_a_bfloat16_checkpoint_trains_in_float32(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    """Loaded as stored (bfloat16), about half the weights did not move in two AdamW steps at 5e-5."""
    import shutil

    import torch
    import transformers

    bf16 = tmp_path / "bf16-model"
    transformers.AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.bfloat16).save_pretrained(str(bf16))
    for file in tiny_model_dir.glob("tokenizer*"):
        shutil.copy(file, bf16)
    trainer, _ = build_trainer(options(bf16, lintseq_jsonl, tmp_path / "run", lr=5e-5, max_steps=2))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    assert all(p.dtype == torch.float32 for p in before)
    trainer.train()
    moved = sum(int((p.detach() != old).sum()) for p, old in zip(trainer.model.parameters(), before, strict=True))
    assert moved / sum(p.numel() for p in before) > 0.95


def test_trainer_keeps_the_mask(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    opts = options(tiny_model_dir, lintseq_jsonl, tmp_path)
    trainer, tokenizer = build_trainer(opts)
    [expected] = fit(opts, [tokenize_pair(tokenizer, *training_pairs(opts)[0])])
    batch = trainer.data_collator([trainer.train_dataset[0]])
    assert batch["input_ids"][0].tolist() == expected["input_ids"]
    assert batch["labels"][0].tolist() == expected["labels"]
    assert batch["labels"][0].tolist().count(IGNORE) == len(tokenizer(training_pairs(opts)[0][0])["input_ids"])


def test_both_formats_train_with_the_papers_recipe(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    """AdamW with weight decay 0.01 (biases and norms exempt), the learning rate warmed up
    linearly over the first 5% of the steps to 3e-4 and then decayed linearly to 0: the same in
    both formats, on the options' defaults (the lr was 5e-5, the paper's for 2-4B models)."""
    import torch

    optimizers = {}
    for fmt in ("program", "editseq"):
        opts = SFTOptions(model=str(tiny_model_dir), data=str(lintseq_jsonl), output_dir=tmp_path / fmt,
                          format=fmt, max_steps=40)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # lintseq data as programs repeats them
            trainer, _ = build_trainer(opts)
        trainer.create_optimizer_and_scheduler(num_training_steps=40)
        optimizer, scheduler = trainer.optimizer, trainer.lr_scheduler
        assert isinstance(optimizer, torch.optim.AdamW)
        decays = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
        for name, p in trainer.model.named_parameters():
            assert decays[id(p)] == (0.0 if "norm" in name or name.endswith("bias") else 0.01), name
        lrs = []
        for _ in range(40):
            lrs.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
        peak = opts.lr
        assert peak == 3e-4  # the paper's rate for tiny models (smollm2-135m, the pretrain presets)
        assert lrs[:3] == pytest.approx([0.0, peak / 2, peak])  # warmup: ceil(5% of 40) = 2 steps
        assert lrs[2:] == pytest.approx([peak * (40 - s) / 38 for s in range(2, 40)])
        optimizers[fmt] = (peak, optimizer.defaults["betas"], optimizer.defaults["eps"])
    assert optimizers["program"] == optimizers["editseq"]


@pytest.mark.parametrize(("fmt", "epochs"), [("program", 10), ("editseq", 2)])
def test_epochs_default_to_the_papers_for_each_format(tmp_path: Path, fmt: str, epochs: int) -> None:
    """Was 10 for both: edit-sequence data, ~5 sequences per program, trained ~5x the steps the
    paper's recipe gives it (its 2 epochs match the programs' 10 in steps)."""
    from editseq.train.common import training_arguments

    opts = SFTOptions(model="m", data="d.jsonl", output_dir=tmp_path, format=fmt)
    assert training_arguments(opts).num_train_epochs == epochs
    assert SFTOptions(model="m", data="d.jsonl", output_dir=tmp_path, format=fmt, epochs=3.0).epochs == 3.0


@pytest.mark.parametrize("checkpointing", [False, True])
def test_checkpointing_choice_reaches_the_trainer(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path,
                                                  checkpointing: bool) -> None:
    """Ours, not TRL's default (on), under either name transformers uses for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated argument on the way
        trainer, _ = build_trainer(options(tiny_model_dir, lintseq_jsonl, tmp_path,
                                           gradient_checkpointing=checkpointing))
    assert trainer.args.gradient_checkpointing is checkpointing
    assert getattr(trainer.args, "activation_checkpointing", checkpointing) is checkpointing


def test_editseq_sft_learns_loads_samples_and_resumes(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    record = train_sft(options(tiny_model_dir, lintseq_jsonl, out))
    losses = [loss for _, loss in record["losses"]]
    assert record["global_step"] == 8 and len(losses) == 8
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-2:]) / 2 < losses[0] - 0.5, losses  # random init starts near ln(vocab)

    from editseq.models.backend import GenerationConfig
    from editseq.models.loading import load_backend

    prompt = "Return the sum of the squares of the even numbers in a list.\n" + DIFF_TOKEN
    for folder in (out, out / "checkpoint-4"):  # the final model, and a checkpoint as saved
        backend = load_backend(str(folder), device="cpu")
        assert len(backend.tokenizer(DIFF_TOKEN, add_special_tokens=False)["input_ids"]) == 1
        [[generation]] = backend.generate([prompt], GenerationConfig(n=1, max_new_tokens=16, temperature=1.0))
        assert generation.tokens > 0 and isinstance(generation.text, str)

    saved = json.loads((out / "editseq_train.json").read_text())
    assert saved["options"]["format"] == "editseq" and "transformers" in saved["versions"]
    assert saved["lr_schedule_changed"] is None
    # a longer run on its checkpoints follows neither linear schedule: said and recorded
    with pytest.warns(UserWarning, match=r"resumed checkpoint-8 of a 8-step run as a 12-step run: the learning rate"):
        again = train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=12))
    assert again["lr_schedule_changed"] == {"at_step": 8, "from_steps": 8, "to_steps": 12}
    assert again["resumed_from"].endswith("checkpoint-8")
    assert again["global_step"] == 12
    assert [step for step, _ in again["losses"]][-4:] == [9, 10, 11, 12]
    # other training settings on the same folder would mix two runs: refused, nothing changed
    with pytest.raises(ConfigError, match=r"other settings \(lr: 0.003 then, 0.0001 now.*use another --output-dir"):
        train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=14, lr=1e-4))
    assert json.loads((out / "editseq_train.json").read_text())["global_step"] == 12
    # refused before the model loads: a model whose weights cannot load is not what the error names
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    for weights in broken.glob("*.safetensors"):
        weights.write_bytes(b"not weights")
    with pytest.raises(ConfigError, match=r"other settings \(lr: 0.003 then, 0.0001 now; model: "):
        train_sft(options(broken, lintseq_jsonl, out, lr=1e-4))
    # was resumed: another number of processes changes what a step consumes and what the epoch skips
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match=r"other settings \(data_parallel: 1 then, 2 now"):
        train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=14))


def test_a_data_folder_changed_before_a_resume_is_refused(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                         tmp_path: Path) -> None:
    """Was: a folder --data (of data files, read through datasets) counted by its path alone, so
    a resume trained on its edited files in silence."""
    lines = lintseq_jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "part.jsonl").write_text("".join(lines), encoding="utf-8")
    opts = options(tiny_model_dir, tmp_path / "data", tmp_path / "run", max_steps=1)
    train_sft(opts)
    assert train_sft(opts)["run_loss"] is None  # unchanged: finished already
    (tmp_path / "data" / "part.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"was started with other settings \(data_files: content sha256 "):
        train_sft(opts)


def test_a_hub_dataset_is_loaded_once_and_known_by_its_cache_files(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                                   tmp_path: Path, hub_cache: Path,
                                                                   dataset_loads: list[str]) -> None:
    """Was: loaded twice per run, once for the cache files its settings fingerprint and again for
    its records (a large dataset's whole load paid twice). The fingerprint is still its cache
    files', so the run resumes."""
    from editseq.io.identity import files_sha256
    from editseq.train.common import SETTINGS_FILE
    from tests.hub import hub_cached

    records = [json.loads(line) for line in lintseq_jsonl.read_text(encoding="utf-8").splitlines()]
    hub_cached(hub_cache, "editseq-test/edits", "rev1", records)
    opts = options(tiny_model_dir, Path("editseq-test/edits"), tmp_path / "run", max_steps=1)
    assert train_sft(opts)["examples"] == len(records)
    assert dataset_loads == ["editseq-test/edits"]
    revision = hub_cache / "editseq-test___edits" / "default" / "0.0.0" / "rev1"
    settings = json.loads((tmp_path / "run" / SETTINGS_FILE).read_text(encoding="utf-8"))["settings"]
    assert settings["data_files"] == "sha256:" + files_sha256(revision, revision.glob("*.arrow"))
    assert train_sft(opts)["run_loss"] is None  # unchanged: finished already
    assert dataset_loads == ["editseq-test/edits"] * 2


def test_an_output_dir_inside_a_data_folder_is_refused(lintseq_jsonl: Path, tmp_path: Path) -> None:
    """Was: a rerun read the run's own JSON files under the folder as its data (datasets finds data
    files anywhere in it), not the records it started on."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "part.jsonl").write_text(lintseq_jsonl.read_text(encoding="utf-8"), encoding="utf-8")
    for out in ("data/run", "data"):
        with pytest.raises(ConfigError, match=rf"--output-dir {tmp_path / out} lies inside --data {tmp_path / 'data'}, "
                                              r"whose data files a rerun would read"):
            options("m", tmp_path / "data", tmp_path / out)


def test_data_still_being_written_is_refused_before_the_model_loads(lintseq_jsonl: Path, tmp_path: Path) -> None:
    """Was: `editseq train` on the output of a live `editseq lintseq` trained on its records so far,
    in silence."""
    from tests.io.test_lock import held_elsewhere

    data = tmp_path / "edits.jsonl"
    data.write_text(lintseq_jsonl.read_text(encoding="utf-8"), encoding="utf-8")
    with held_elsewhere(data) as writer, pytest.raises(
            ConfigError, match=rf"being written by another run \(pid {writer.pid}, .*; --data is not finished"):
        train_sft(options("no-model-is-loaded", data, tmp_path / "run"))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("fmt", "field", "record"), [
    ("program", "instruction", {"instruction": "w \ud800", "program": "x = 1"}),
    ("editseq", "edit_path", {"instruction": "w", "edit_path": ["@@ -0,0 +1 @@\n+s = '\udfff'"]}),
])
def test_a_lone_surrogate_in_a_record_is_named(tmp_path: Path, fmt: str, field: str, record: dict) -> None:
    """Was: "TextEncodeInput must be Union[...]" (a tokenizer's TypeError) as a traceback."""
    from editseq.io.outputs import dumps

    (tmp_path / "d.jsonl").write_text(dumps({"instruction": "w", "program": "x", "edit_path": ["@@ -0,0 +1 @@\n+x"]})
                                      + "\n" + dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"d\.jsonl line 2: field '{field}' holds a lone surrogate \(U\+D"):
        training_pairs(options("m", tmp_path / "d.jsonl", tmp_path / "o", format=fmt))


def test_program_format_trains(tiny_model_dir: Path, tmp_path: Path) -> None:
    from editseq.data import EXAMPLES

    opts = options(tiny_model_dir, EXAMPLES, tmp_path / "p", format="program", max_steps=6,
                   save_steps=3)
    assert training_pairs(opts)[0][1].startswith("\ndef ")
    record = train_sft(opts)
    losses = [loss for _, loss in record["losses"]]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]

    # `sample` prompts the checkpoint (and its checkpoint-N folders) as it was trained
    from editseq.models.loading import load_tokenizer
    from editseq.models.sample import SampleOptions

    tokenizer = load_tokenizer(str(opts.output_dir))
    for folder in (opts.output_dir, opts.output_dir / "checkpoint-3"):
        sampling = SampleOptions(model=str(folder), format="program", out=tmp_path / "s.jsonl")
        assert sampling.style(tokenizer) == "instruction"
    with pytest.raises(ConfigError, match=r"fine-tuned on --format program data.*sample it with --format program"):
        SampleOptions(model=str(opts.output_dir), format="editseq", out=tmp_path / "s.jsonl")


def test_held_out_examples_with_nothing_to_score_are_named_as_such(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Was: where the held-out instructions alone filled --max-length, the run failed saying
    "every instruction fills --max-length", with the trained ones fitting."""
    records = [{"instruction": "word " * 80, "program": "x = 1\n"}, {"instruction": "Set y.", "program": "y = 2\n"},
               {"instruction": "Set z.", "program": "z = 3\n"}]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    opts = options(tiny_model_dir, data, tmp_path / "o", format="program", max_length=20, eval_fraction=0.34, seed=1)
    with pytest.raises(InputError, match=r"the instruction of each of the 1 held-out examples \(--eval-fraction 0.34\) "
                                         r"fills --max-length 20 tokens, leaving no response token to score"):
        build_trainer(opts)


def test_examples_with_nothing_to_learn_are_dropped(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                    tmp_path: Path) -> None:
    """An instruction that fills --max-length leaves every label masked: a loss of 0, not training."""
    from editseq.train.sft import learnable

    opts = options(tiny_model_dir, lintseq_jsonl, tmp_path, max_length=8)
    examples = [{"input_ids": [1] * 8, "labels": [IGNORE] * 8},
                {"input_ids": [1] * 8, "labels": [IGNORE] * 7 + [1]}]
    with pytest.warns(UserWarning, match="1 of 2 examples dropped: their instruction fills --max-length 8"):
        assert learnable(opts, examples) == examples[1:]
    with pytest.raises(InputError, match=r"every instruction fills --max-length 8 tokens.*raise --max-length"), \
            pytest.warns(UserWarning, match="24 of 24 examples are longer than --max-length 8"):
        build_trainer(options(tiny_model_dir, lintseq_jsonl, tmp_path, max_length=8))


@pytest.mark.parametrize("fmt", ["program", "editseq"])
def test_examples_holding_special_token_text_are_dropped(tiny_model_dir: Path, tmp_path: Path, fmt: str) -> None:
    """Was: a program holding the text "<|endoftext|>" trained an end-of-sequence token in its
    middle. The same record goes in both formats; the separators of edit sequences stay."""
    records = [{"instruction": "Name the end.", "program": 'END = "<|endoftext|>"\n'},
               {"instruction": "Set x.", "program": "x = 1\n"}]
    for record in records:
        line = record["program"].rstrip("\n")
        record["edit_path"] = [f"@@ -0,0 +1 @@\n+{line}\n", "@@ -1,0 +2 @@\n+y = 2\n"]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"1 of 2 examples hold the text of special tokens "
                                         r"\(<\|endoftext\|> in 1\).*dropped"):
        trainer, tokenizer = build_trainer(options(tiny_model_dir, data, tmp_path / "o", format=fmt))
    (kept,) = trainer.train_dataset["input_ids"]
    assert tokenizer.decode(kept).startswith("Set x.\n")
    assert kept.count(tokenizer.eos_token_id) == 1 and kept[-1] == tokenizer.eos_token_id
    if fmt == "editseq":
        assert kept.count(tokenizer.convert_tokens_to_ids(DIFF_TOKEN)) == 2
    data.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="no example is left to train on"):
        build_trainer(options(tiny_model_dir, data, tmp_path / "o", format=fmt))


def test_an_instruction_holding_the_separators_text_is_dropped(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Was: "\n<|diff|>" was taken for a separator wherever it stood, so an instruction quoting
    one (after a newline) trained with a <|diff|> token inside its prompt, which no sampled
    prompt has."""
    edits = ["@@ -0,0 +1 @@\n+x = 1", "@@ -1,0 +2 @@\n+y = 2"]
    records = [{"instruction": "Write edits such as\n<|diff|>@@ -0,0 +1 @@", "edit_path": edits},
               {"instruction": "Set x and y.", "edit_path": edits}]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"1 of 2 examples hold the text of special tokens \(<\|diff\|> in 1\)"):
        trainer, tokenizer = build_trainer(options(tiny_model_dir, data, tmp_path / "o"))
    (kept,) = trainer.train_dataset["input_ids"]
    assert tokenizer.decode(kept).startswith("Set x and y.\n")
    assert kept.count(tokenizer.convert_tokens_to_ids(DIFF_TOKEN)) == 2


@pytest.mark.parametrize(("fmt", "empty"), [("program", "  \n"), ("editseq", [])])
def test_records_with_nothing_to_write_are_dropped(tmp_path: Path, fmt: str, empty: object) -> None:
    """Was: an empty edit_path trained the instruction straight into end-of-sequence, with no
    <|diff|> (sampling always feeds one), and no word of it."""
    good = {"instruction": "Set x.", "program": "x = 1\n", "edit_path": ["@@ -0,0 +1 @@\n+x = 1\n"]}
    bad = {**good, "program" if fmt == "program" else "edit_path": empty}
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    opts = options("unused", data, tmp_path / "o", format=fmt)
    field = "program" if fmt == "program" else "edit_path"
    with pytest.warns(UserWarning, match=f"1 of 2 records dropped: an empty {field}, nothing to learn to write"):
        assert [prompt for prompt, _ in training_pairs(opts)] == ["Set x." + (f"\n{DIFF_TOKEN}" if fmt == "editseq" else "")]
    data.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"no records to train on \\(1 with an empty {field}\\)"):
        training_pairs(opts)
    # was trained in silence: an example with no prompt teaches writing unasked
    data.write_text(json.dumps({**good, "instruction": "\n"}) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="1 of 2 records dropped: an empty instruction, nothing to write it for"):
        assert len(training_pairs(opts)) == 1


def test_examples_cut_at_max_length_are_warned_about(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                     tmp_path: Path) -> None:
    """A cut response loses its end-of-sequence token: the model would not learn to stop, silently."""
    opts = options(tiny_model_dir, lintseq_jsonl, tmp_path, max_length=40)
    with pytest.warns(UserWarning, match=r"24 of 24 examples are longer than --max-length 40 tokens and are cut"), \
            pytest.warns(UserWarning, match="14 of 24 examples dropped: their instruction fills --max-length 40"):
        trainer, _ = build_trainer(opts)
    assert all(len(ids) == 40 for ids in trainer.train_dataset["input_ids"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        build_trainer(options(tiny_model_dir, lintseq_jsonl, tmp_path))  # 2048: none cut, no warning


def test_the_run_record_accounts_for_every_record(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Records dropped (and examples cut at --max-length, which lose their end-of-sequence token)
    were only warned about on stderr: editseq_train.json said "examples": 3 of 7 records with no
    word of where the other 4 went or that one was trained cut short."""
    edit = ["@@ -0,0 +1 @@\n+x = 1"]
    records = [{"instruction": "Set x.", "edit_path": edit},
               {"instruction": "Set y.", "edit_path": ["@@ -0,0 +1 @@\n+y = 2"]},
               {"instruction": "Set many.", "edit_path": ["@@ -0,0 +40 @@\n" + "\n".join(f"+v{i} = {i}" for i in range(40))]},
               {"instruction": "Set z.", "edit_path": []},
               {"instruction": " \n", "edit_path": edit},
               {"instruction": "Name the end.", "edit_path": ['@@ -0,0 +1 @@\n+END = "<|endoftext|>"']},
               {"instruction": "Set x. " * 40, "edit_path": edit}]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # each drop and the cut are warned of, as tested above
        train_sft(options(tiny_model_dir, data, tmp_path / "run", max_length=40, max_steps=1))
    recorded = json.loads((tmp_path / "run" / "editseq_train.json").read_text(encoding="utf-8"))
    assert recorded["examples"] == 3
    assert recorded["data"] == {"records": 7, "cut_at_max_length": 1, "held_out": 0,
                                "dropped": {"empty edit_path": 1, "empty instruction": 1, "special token text": 1,
                                            "instruction fills --max-length": 1}}


def test_examples_past_the_models_context_are_warned_about(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                           tmp_path: Path) -> None:
    """--max-length 2048 on a model of 64 positions trained past them, silently."""
    import shutil

    import transformers

    short = tmp_path / "short-model"
    model = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    model.config.max_position_embeddings = 64
    model.save_pretrained(str(short))
    for file in tiny_model_dir.glob("tokenizer*"):
        shutil.copy(file, short)
    with pytest.warns(UserWarning, match=r"of 24 examples are longer than the model's context of 64 tokens.*--max-length 64"):
        build_trainer(options(short, lintseq_jsonl, tmp_path / "run"))


def test_examples_past_a_models_learned_positions_are_refused(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                              tmp_path: Path) -> None:
    """Was a warning, then "IndexError: index out of range in self" at the first long batch: a
    model with a table of positions (GPT-2's) has none past its context, as rotary ones do."""
    import shutil

    import transformers

    gpt2 = tmp_path / "gpt2"
    config = transformers.GPT2Config(vocab_size=400, n_positions=64, n_embd=32, n_layer=1, n_head=2)
    transformers.GPT2LMHeadModel(config).save_pretrained(str(gpt2))
    for file in tiny_model_dir.glob("tokenizer*"):
        shutil.copy(file, gpt2)
    with pytest.raises(InputError, match=r"24 of 24 examples are longer than the 64 positions --model \S+gpt2 "
                                         r"has learned \(max_position_embeddings\).*pass --max-length 64"):
        build_trainer(options(gpt2, lintseq_jsonl, tmp_path / "run"))
    with pytest.warns(UserWarning, match="longer than --max-length 64 tokens and are cut"), \
            pytest.warns(UserWarning, match="2 of 24 examples dropped: their instruction fills --max-length 64"):
        trainer, _ = build_trainer(options(gpt2, lintseq_jsonl, tmp_path / "run", max_length=64))
    assert max(len(ids) for ids in trainer.train_dataset["input_ids"]) == 64


def test_bad_field_names_the_record_and_fix(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    """Was: "field 'code' must be text" for a field the records lack, without naming those they have."""
    with pytest.raises(InputError, match=r"lintseq.jsonl line 1: missing field 'code' \(fields: .*instruction"
                                         r".*program.*\); name the right one with --program-field"):
        training_pairs(options(tiny_model_dir, lintseq_jsonl, tmp_path, format="program",
                               program_field="code"))
    with pytest.raises(InputError, match=r"line 1: field 'sample' must be text, got int; .*--instruction-field"):
        training_pairs(options(tiny_model_dir, lintseq_jsonl, tmp_path, instruction_field="sample"))


@pytest.mark.parametrize(("over", "message"), [
    ({"model": ""}, "--model is required"),
    ({"lr": 0.0}, "--lr must be positive"),
    ({"max_steps": 0, "epochs": 0.0}, "--epochs"),
    ({"eval_fraction": 1.0}, r"--eval-fraction must be in \[0, 1\)"),
    ({"eval_steps": -1}, "--eval-steps must be >= 0"),
])
def test_bad_options_name_the_flag(over: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        SFTOptions(**{"model": "m", "data": "d.jsonl", "output_dir": tmp_path, **over})


def test_bf16_without_a_gpu_for_it_is_refused_before_the_model_loads(tmp_path: Path, monkeypatch) -> None:
    """Was: a ValueError traceback from transformers ("Your setup doesn't support bf16/gpu") after
    the model had loaded."""
    import transformers.utils

    opts = {"model": "m", "data": "d.jsonl", "output_dir": tmp_path, "bf16": True}
    monkeypatch.setattr(transformers.utils, "is_torch_bf16_gpu_available", lambda: False)
    monkeypatch.setattr(transformers.utils, "is_torch_xla_available", lambda: False)
    with pytest.raises(ConfigError, match=r"--bf16 needs a GPU with bfloat16 support .*leave --bf16 out"):
        SFTOptions(**opts)
    monkeypatch.setattr(transformers.utils, "is_torch_bf16_gpu_available", lambda: True)
    assert SFTOptions(**opts).bf16


def test_gguf_base_is_trainable(tmp_path: Path, lintseq_jsonl: Path) -> None:
    """transformers marks GGUF-loaded (de-quantized, float) models as quantized; the Trainer refused them."""
    from transformers.trainer_utils import validate_quantization_for_training

    from editseq.models.loading import ModelError

    try:
        model, tokenizer = load_base(options(Path("smollm2-135m"), lintseq_jsonl, tmp_path))
    except ModelError as exc:
        pytest.skip(str(exc))
    validate_quantization_for_training(model)
    assert not hasattr(model.config, "quantization_config")
    assert model.get_input_embeddings().num_embeddings >= len(tokenizer)


def test_more_epochs_on_a_finished_run_trains_on(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    # 24 records at batch 8: 3 steps an epoch; a rerun with --epochs 2 was "already trained to
    # step 3" (the checkpoint's own length was taken as the end), so it trained nothing
    out = tmp_path / "run"
    first = train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=0, epochs=1.0))
    assert first["global_step"] == 3
    with pytest.warns(UserWarning, match="resumed checkpoint-3 of a 3-step run as a 6-step run"):
        again = train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=0, epochs=2.0))
    assert again["global_step"] == 6 and again["run_loss"] is not None
    assert train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=0, epochs=2.0))["run_loss"] is None


def test_a_checkpoint_cut_short_by_a_kill_is_skipped(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    # killed while saving checkpoint-8: the Trainer writes trainer_state.json last, so the folder
    # lacks it; the rerun failed on it ("no such file") instead of resuming from checkpoint-4
    import shutil

    out = tmp_path / "run"
    train_sft(options(tiny_model_dir, lintseq_jsonl, out))
    (out / "editseq_train.json").unlink()
    (out / "checkpoint-8" / "trainer_state.json").unlink()
    shutil.copytree(out / "checkpoint-4", out / "checkpoint-6")
    (out / "checkpoint-6" / "trainer_state.json").write_text('{"global_step": 6, "log_hi')  # cut mid-write
    with pytest.warns(UserWarning) as caught:
        record = train_sft(options(tiny_model_dir, lintseq_jsonl, out))
    said = " ".join(str(w.message) for w in caught)
    assert "checkpoint-8 is incomplete (no readable trainer_state.json" in said and "checkpoint-6 is incomplete" in said
    assert record["resumed_from"].endswith("checkpoint-4") and record["global_step"] == 8
    assert (out / "checkpoint-8" / "trainer_state.json").is_file()


def test_a_run_resumes_with_gradient_checkpointing_turned_on(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                            tmp_path: Path) -> None:
    # the way out of a GPU out-of-memory error; was refused as "other settings
    # (gradient_checkpointing: false then, true now)", though the gradients are the same
    out = tmp_path / "run"
    train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=4))
    with pytest.warns(UserWarning, match="resumed checkpoint-4 of a 4-step run as a 6-step run"):
        again = train_sft(options(tiny_model_dir, lintseq_jsonl, out, max_steps=6, gradient_checkpointing=True))
    assert again["resumed_from"].endswith("checkpoint-4") and again["global_step"] == 6


def test_plain_added_tokens_are_text_not_special(tiny_model_dir: Path, lintseq_jsonl: Path, tmp_path: Path) -> None:
    # CodeGen, phi-2 and GPT-NeoX tokenizers add runs of spaces as plain added tokens; each
    # indented program held one, so every example was dropped: "no example is left to train on"
    import shutil

    import transformers

    model = tmp_path / "spaces-model"
    shutil.copytree(tiny_model_dir, model)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model))
    tokenizer.add_tokens(["    ", "        "])  # special=False, as those tokenizers have them
    tokenizer.save_pretrained(str(model))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, so nothing said
        trainer, tokenizer = build_trainer(options(model, lintseq_jsonl, tmp_path / "o"))
    assert len(trainer.train_dataset) == 24
    assert any(tokenizer.convert_tokens_to_ids("    ") in ids for ids in trainer.train_dataset["input_ids"])


@pytest.mark.parametrize("pad", ["[PAD]", None])
def test_a_base_tokenizer_without_an_end_of_sequence_token_gets_one(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                                   tmp_path: Path, pad: str | None) -> None:
    """Was: with a pad token (BERT's), responses got no end token, so the model never learned to
    stop, and nothing said so; without one either, TRL failed with a traceback ("The specified
    `pad_token` ('None') is not found"). Now it gets pretrain's ``EOS``, which ends every response
    and pads where nothing else does."""
    import shutil

    import transformers

    from editseq.models.loading import EOS

    model = tmp_path / "no-eos-model"
    shutil.copytree(tiny_model_dir, model)
    for path in model.glob("*.json"):
        if path.name.startswith(("tokenizer", "special_tokens")):
            path.unlink()
    backend = transformers.AutoTokenizer.from_pretrained(str(tiny_model_dir)).backend_tokenizer
    transformers.PreTrainedTokenizerFast(tokenizer_object=backend, pad_token=pad).save_pretrained(str(model))
    with pytest.warns(UserWarning, match=r"tokenizer has no end-of-sequence token: <\|endoftext\|> is added"):
        trainer, tokenizer = build_trainer(options(model, lintseq_jsonl, tmp_path / "o"))
    eos = tokenizer.eos_token_id
    assert tokenizer.eos_token == EOS and eos is not None and tokenizer.pad_token == (pad or EOS)
    assert trainer.model.config.eos_token_id == trainer.model.generation_config.eos_token_id == eos
    assert all(ids[-1] == eos for ids in trainer.train_dataset["labels"])
    assert trainer.model.get_input_embeddings().num_embeddings >= len(tokenizer)


def test_a_folder_of_other_files_is_not_taken_as_output(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # was trained into: the final model's README.md (its model card) and config.json replaced the
    # folder's own, silently
    from editseq.cli import main

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("my project\n", encoding="utf-8")
    assert main(["train", "sft", "--model", str(tiny_model_dir), "--data", str(lintseq_jsonl),
                 "--format", "editseq", "--max-steps", "1", "--output-dir", str(folder)]) == 2
    assert "holds files no `editseq train` run wrote (README.md)" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["README.md"]
    assert (folder / "README.md").read_text(encoding="utf-8") == "my project\n"


def test_repeated_programs_are_warned_about(lintseq_jsonl: Path, tmp_path: Path) -> None:
    # `editseq lintseq`'s output as program data trains each program once per edit sequence (2 here),
    # a baseline with twice the epochs of what its options say; it trained silently
    from editseq.data import EXAMPLES

    opts = options(tmp_path, lintseq_jsonl, tmp_path / "run", format="program")
    with pytest.warns(UserWarning, match=r"12 of 24 examples repeat an earlier \(instruction, program\) pair"):
        assert len(training_pairs(opts)) == 24
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # edit sequences of one program differ, and the pairs are unique
        training_pairs(options(tmp_path, lintseq_jsonl, tmp_path / "run"))
        training_pairs(options(tmp_path, EXAMPLES, tmp_path / "run", format="program"))


def test_held_out_instructions_are_scored_and_never_trained(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                          tmp_path: Path) -> None:
    """--eval-fraction holds whole instructions out (LintSeq data holds two edit sequences of each
    program here), scores them every --eval-steps and at the end, and accounts for them."""
    from editseq.train.sft import IGNORE, build_trainer

    opts = options(tiny_model_dir, lintseq_jsonl, tmp_path / "run", max_steps=3, eval_fraction=0.25, eval_steps=2)
    trainer, _ = build_trainer(opts)

    def prompts(dataset) -> set[tuple[int, ...]]:
        return {tuple(i for i, label in zip(e["input_ids"], e["labels"], strict=True) if label == IGNORE)
                for e in dataset}

    trained, scored = prompts(trainer.train_dataset), prompts(trainer.eval_dataset)
    assert len(scored) == 3 and len(trained) == 9 and not trained & scored  # 12 instructions, a quarter out
    assert len(trainer.eval_dataset) == 6
    record = train_sft(opts)
    assert [step for step, _ in record["eval_losses"]] == [2, 3]
    assert all(math.isfinite(loss) for _, loss in record["eval_losses"])
    assert record["data"]["held_out"] == record["eval_examples"] == 6
    assert record["data"]["records"] == 24 == record["examples"] + 6
    with pytest.raises(InputError, match=r"--eval-fraction 0.01 of 12 instructions holds out none of them"):
        build_trainer(options(tiny_model_dir, lintseq_jsonl, tmp_path / "other", eval_fraction=0.01))


def test_a_base_model_folder_saved_over_before_a_resume_is_refused(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                                  tmp_path: Path) -> None:
    """Was: --model counted by its folder's path alone, so a resume after the base folder's
    weights were saved over continued one model's fine-tuning from another's checkpoints in
    silence. Its model files now count by content (model_files): moved elsewhere, it resumes with
    a warning; with other weights it is refused."""
    import shutil

    from tests.train.tiny import perturb

    base = Path(shutil.copytree(tiny_model_dir, tmp_path / "base"))
    out = tmp_path / "run"
    assert train_sft(options(base, lintseq_jsonl, out, max_steps=1))["global_step"] == 1
    moved = base.rename(tmp_path / "moved")
    with pytest.warns(UserWarning, match="resumed checkpoint-1 of a 1-step run as a 2-step run"), \
            pytest.warns(UserWarning, match=r"moved to .*its content the same \(model_files\)"):
        assert train_sft(options(moved, lintseq_jsonl, out, max_steps=2))["global_step"] == 2
    perturb(moved)
    with pytest.raises(ConfigError, match=r"other settings \(model_files: content sha256"):
        train_sft(options(moved, lintseq_jsonl, out, max_steps=3))


def test_a_diverged_run_stops_with_an_error_and_saves_no_nan_model(tiny_model_dir: Path, lintseq_jsonl: Path,
                                                                   tmp_path: Path) -> None:
    """Was: a run whose loss became nan logged a loss of 0.0 from then on (transformers' filter put
    the window's mean of nothing in its place), reported a finite mean loss, and saved weights of
    nan as its model and checkpoints, as if it had trained well."""
    # at this rate the tiny model's weights are nan after step 3, and its loss at step 4
    logged = tmp_path / "logged"
    with pytest.raises(ConfigError, match=r"diverged: the loss is nan at step 4.*a new --output-dir with a lower --lr"):
        train_sft(options(tiny_model_dir, lintseq_jsonl, logged, lr=1e6, max_steps=12, save_steps=100))
    # logged less often than saved: the weights are checked before each save, so none is of nan
    saved = tmp_path / "saved"
    with pytest.raises(ConfigError, match=r"diverged: the weights are not finite at step 4"):
        train_sft(options(tiny_model_dir, lintseq_jsonl, saved, lr=1e6, max_steps=12, logging_steps=10))
    for out in (logged, saved):
        assert not list(out.glob("checkpoint-*")) and not (out / "model.safetensors").exists()
        assert not (out / "editseq_train.json").exists()
