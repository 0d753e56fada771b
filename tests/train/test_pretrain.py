"""Pretraining a tiny-test model from scratch on a folder of code; preset sizes."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from editseq.config import ConfigError
from editseq.data import EXAMPLES
from editseq.train.pretrain import PretrainOptions, count_parameters, train_pretrain


def corpus(folder: Path) -> Path:
    """The shipped example programs, one .py file each."""
    folder.mkdir()
    for i, line in enumerate(EXAMPLES.read_text(encoding="utf-8").splitlines()):
        (folder / f"p{i:02d}.py").write_text(json.loads(line)["program"], encoding="utf-8")
    return folder


def test_tiny_pretrain_learns_and_resumes(tmp_path: Path) -> None:
    opts = {"data": str(corpus(tmp_path / "src")), "output_dir": tmp_path / "run",
            "preset": "tiny-test", "vocab_size": 400, "block_size": 64, "batch_size": 8,
            "lr": 3e-3, "warmup_ratio": 0.0, "max_steps": 6, "logging_steps": 1, "save_steps": 3}
    record = train_pretrain(PretrainOptions(**opts))
    losses = [loss for _, loss in record["losses"]]
    assert all(math.isfinite(x) for x in losses) and len(losses) == 6
    assert losses[-1] < losses[0] - 0.5, losses
    assert (tmp_path / "run" / "tokenizer.json").is_file()

    from editseq.models.loading import load_model

    model, tokenizer = load_model(str(tmp_path / "run"), device="cpu")
    assert model.config.num_hidden_layers == 2 and len(tokenizer) == model.config.vocab_size

    with pytest.warns(UserWarning, match="resumed checkpoint-6 of a 6-step run as a 8-step run"):
        again = train_pretrain(PretrainOptions(**{**opts, "max_steps": 8}))
    assert again["resumed_from"].endswith("checkpoint-6") and again["global_step"] == 8
    # rerunning the finished run (or resuming it at its new length) keeps what its record said
    assert again["lr_schedule_changed"] == {"at_step": 6, "from_steps": 6, "to_steps": 8}
    assert train_pretrain(PretrainOptions(**{**opts, "max_steps": 8}))["lr_schedule_changed"] == again["lr_schedule_changed"]
    saved = json.loads((tmp_path / "run" / "editseq_train.json").read_text())
    assert saved["lr_schedule_changed"] == again["lr_schedule_changed"]


def test_a_corpus_folder_changed_before_a_resume_is_refused(tmp_path: Path) -> None:
    """Was: a folder --data counted by its path alone, so a resume trained on its edited, added
    or removed files in silence (a single file counted by its content)."""
    from editseq.train.common import SETTINGS_FILE

    src, manifest = corpus(tmp_path / "src"), tmp_path / "run" / SETTINGS_FILE
    opts = {"data": str(src), "output_dir": tmp_path / "run", "vocab_size": 400, "block_size": 32,
            "batch_size": 2, "max_steps": 1, "save_steps": 1}
    train_pretrain(PretrainOptions(**opts))
    written = json.loads(manifest.read_text(encoding="utf-8"))
    del written["settings"]["data_files"]  # as editseq wrote it before: still resumes, and records them
    manifest.write_text(json.dumps(written), encoding="utf-8")
    with pytest.warns(UserWarning, match="resumed checkpoint-1 of a 1-step run as a 2-step run"):
        assert train_pretrain(PretrainOptions(**{**opts, "max_steps": 2}))["global_step"] == 2
    assert json.loads(manifest.read_text(encoding="utf-8"))["settings"]["data_files"].startswith("sha256:")
    opts["max_steps"] = 2

    (src / "notes.json").write_text("{}", encoding="utf-8")  # files pretraining does not read count not
    (src / ".hidden.py").write_text("x = 1\n", encoding="utf-8")
    assert train_pretrain(PretrainOptions(**opts))["run_loss"] is None  # unchanged: finished already
    first = (src / "p00.py").read_text(encoding="utf-8")
    for change in (lambda: (src / "p00.py").write_text(first + "# edited\n", encoding="utf-8"),
                   lambda: (src / "p00.py").rename(src / "p00.txt"),
                   lambda: (src / "new.md").write_text("more text\n", encoding="utf-8")):
        change()
        with pytest.raises(ConfigError, match=r"was started with other settings \(data_files: content sha256 "):
            train_pretrain(PretrainOptions(**opts))
        for extra in ("p00.txt", "new.md"):
            (src / extra).unlink(missing_ok=True)
        (src / "p00.py").write_text(first, encoding="utf-8")
    assert train_pretrain(PretrainOptions(**opts))["global_step"] == 2


@pytest.mark.parametrize(("preset", "low", "high"), [
    ("tinycodelm-150m", 140e6, 170e6),
    ("tinycodelm-400m", 380e6, 420e6),
])
def test_presets_have_the_papers_sizes_with_smollm2_vocab(preset: str, low: float, high: float) -> None:
    assert low < count_parameters(preset, 49152) < high


@pytest.mark.filterwarnings("ignore:.*documents dropped")  # email/mime/__init__.py is empty
def test_a_few_million_parameter_model_pretrains_on_real_code(tmp_path: Path) -> None:
    """The issue's CPU size: tiny-test with an 8,192-token BPE trained on real code (the standard
    library's ``email`` package, 29 files, ~380 kB, here offline) is a few million parameters, and
    a few dozen steps on its packed blocks lower the loss by a good margin."""
    import email

    from editseq.models.loading import load_model

    opts = PretrainOptions(data=str(Path(email.__file__).parent), output_dir=tmp_path / "run", preset="tiny-test",
                           vocab_size=8192, block_size=128, batch_size=8, lr=3e-3, warmup_ratio=0.0,
                           max_steps=40, logging_steps=1, save_steps=40)
    record = train_pretrain(opts)
    losses = [loss for _, loss in record["losses"]]
    assert len(losses) == 40 and all(math.isfinite(x) for x in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.5, losses  # 8.4 -> 6.2 here
    model, tokenizer = load_model(str(tmp_path / "run"), device="cpu")
    assert len(tokenizer) == model.config.vocab_size > 7000  # the merges this corpus affords
    assert 2_000_000 < sum(p.numel() for p in model.parameters()) < 5_000_000


def test_missing_corpus_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data is required"):
        PretrainOptions(output_dir=tmp_path)


def test_block_size_past_the_presets_context_is_refused(tmp_path: Path) -> None:
    """The saved config would claim the preset's context while the model trained on longer blocks."""
    with pytest.raises(ConfigError, match=r"--block-size 512 exceeds --preset tiny-test's context of 256 tokens"):
        PretrainOptions(data="corpus.jsonl", output_dir=tmp_path, preset="tiny-test", block_size=512)
    assert PretrainOptions(data="corpus.jsonl", output_dir=tmp_path, preset="tiny-test", block_size=256).block_size == 256
    # was trained to a loss of 0 on nothing: a block's first token has no token before it to be predicted from
    with pytest.raises(ConfigError, match=r"--block-size 1 leaves nothing to learn: .*; pass 2 or more \(0: the context\)"):
        PretrainOptions(data="corpus.jsonl", output_dir=tmp_path, block_size=1)


def test_a_tokenizer_that_does_not_load_fails_before_the_corpus_is_read(tmp_path: Path) -> None:
    """Was: a mistyped --tokenizer was reported only once the whole corpus had been read (here
    the corpus's own error came first)."""
    from editseq.models.loading import ModelError

    (tmp_path / "c.jsonl").write_text('{"text": "x = 1\\n"}\n{"txt": "unread"}\n', encoding="utf-8")
    opts = PretrainOptions(data=str(tmp_path / "c.jsonl"), output_dir=tmp_path / "run", tokenizer="./smollm2")
    with pytest.raises(ModelError, match=r"^--tokenizer ./smollm2: no such file or folder; use bpe"):
        train_pretrain(opts)


def test_a_reused_tokenizer_leaves_its_chat_template_behind(tmp_path: Path) -> None:
    """A model pretrained from scratch never saw SmolLM2-Instruct's chat format, but with its
    template saved `editseq sample --prompt auto` prompted it in chat form."""
    from editseq.models.loading import ModelError
    from editseq.train.pretrain import reused_tokenizer

    opts = PretrainOptions(data=str(EXAMPLES), output_dir=tmp_path, tokenizer="smollm2-135m")
    try:
        tokenizer = reused_tokenizer(opts)
    except ModelError as exc:
        pytest.skip(str(exc))
    assert not tokenizer.chat_template
    tokenizer.save_pretrained(str(tmp_path / "run"))

    from editseq.models.loading import load_tokenizer
    from editseq.models.sample import SampleOptions

    saved = load_tokenizer(str(tmp_path / "run"))
    assert SampleOptions(model=str(tmp_path / "run"), out=tmp_path / "s.jsonl").style(saved) == "completion"


def test_a_reused_tokenizer_without_an_end_of_sequence_token_gets_one(tmp_path: Path) -> None:
    """Was: documents ended in None (BERT's tokenizer has no EOS), and the batch holding one
    failed with a traceback ("Could not infer dtype of NoneType")."""
    import transformers

    from editseq.train.packing import pack
    from editseq.train.pretrain import EOS, reused_tokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x", "=", "1"]
    transformers.BertTokenizer(vocab={token: i for i, token in enumerate(vocab)}).save_pretrained(str(tmp_path / "bert"))
    tokenizer = reused_tokenizer(PretrainOptions(data="c.jsonl", output_dir=tmp_path / "o", tokenizer=str(tmp_path / "bert")))
    assert tokenizer.eos_token == EOS and tokenizer.eos_token_id == len(vocab)
    (block,) = pack(tokenizer, ["x = 1"], 5).tolist()
    assert block == [2, 5, 6, 7, len(vocab)]  # [CLS] (what BERT opens a text with), the text, EOS


def test_documents_open_as_sampled_prompts_do(tmp_path: Path) -> None:
    """A tokenizer that adds BOS gets it before every packed document (editseq sample adds it to
    prompts); the shipped byte-level BPE adds none, so its documents just follow each EOS."""
    from tokenizers.processors import TemplateProcessing

    from editseq.train.packing import pack
    from editseq.train.pretrain import train_bpe

    texts = ["def f():\n    return 1\n", "x = 2\n"]
    tok = train_bpe(texts * 20, 300)
    plain = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    (block,) = pack(tok, texts, sum(map(len, plain)) + 2).tolist()
    assert block == plain[0] + [tok.eos_token_id] + plain[1] + [tok.eos_token_id]
    tok.add_special_tokens({"bos_token": "<bos>"})
    tok._tokenizer.post_processor = TemplateProcessing(
        single="<bos> $A </s>", special_tokens=[("<bos>", tok.bos_token_id), ("</s>", tok.eos_token_id)])
    bos = tok.bos_token_id
    (block,) = pack(tok, texts, sum(map(len, plain)) + 4).tolist()
    assert block == [bos, *plain[0], tok.eos_token_id, bos, *plain[1], tok.eos_token_id]  # one EOS each


def test_a_mistyped_text_field_names_the_fields_there_are(tmp_path: Path) -> None:
    """Was: "field 'text' must be text" for a corpus whose records have no 'text' field."""
    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    opts = PretrainOptions(data=str(EXAMPLES), output_dir=tmp_path / "o")
    with pytest.raises(InputError, match=r"line 1: missing field 'text' \(fields: id, instruction, program\); "
                                         r"name the right one with --text-field"):
        next(documents(opts))


def test_a_null_text_says_so_and_not_to_name_another_field(tmp_path: Path) -> None:
    """Was: "field 'text' must be text, got NoneType; name the right one with --text-field", for
    a Parquet corpus whose text column has a missing value in one row (the field is right)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    pq.write_table(pa.table({"text": ["x = 1\n", None]}), tmp_path / "c.parquet")
    with pytest.raises(InputError, match=r"c\.parquet row 1: field 'text' is null, not text; fill it in, or leave the record out$"):
        list(documents(PretrainOptions(data=str(tmp_path / "c.parquet"), output_dir=tmp_path / "o")))


def test_a_lone_surrogate_in_a_document_is_named(tmp_path: Path) -> None:
    """Was: a UnicodeEncodeError traceback from training the tokenizer, the corpus read whole."""
    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    (tmp_path / "c.jsonl").write_text('{"text": "x = 1"}\n{"text": "s = \\ud800"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.jsonl line 2: field 'text' holds a lone surrogate \(U\+D800, a JSON "
                                         r"escape of no Unicode character\), which no tokenizer encodes"):
        list(documents(PretrainOptions(data=str(tmp_path / "c.jsonl"), output_dir=tmp_path / "o")))


def test_special_token_text_in_a_document_stays_text() -> None:
    """Was: a document holding the text ``<|endoftext|>`` (code that handles tokenizers) packed
    an end-of-sequence token in its middle, teaching the model to stop there."""
    from editseq.train.packing import pack
    from editseq.train.pretrain import EOS, train_bpe

    texts = [f'SEP = "{EOS}"\n', "x = 2\n"]
    tok = train_bpe(texts * 20, 300)
    tokens = len(pack(tok, texts, 1))  # blocks of one token: one per token of the stream
    (block,) = pack(tok, texts, tokens).tolist()
    assert block.count(tok.eos_token_id) == 2 and block[-1] == tok.eos_token_id
    assert tok.decode(block[:block.index(tok.eos_token_id)]) == texts[0]


@pytest.mark.parametrize("dict_of_splits", [False, True])
def test_a_saved_hugging_face_dataset_is_a_corpus(tmp_path: Path, dict_of_splits: bool) -> None:
    # a save_to_disk folder was searched for .py/.txt/.md files: "no documents found"
    import datasets

    from editseq.train.pretrain import documents

    texts = [json.loads(line)["program"] for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    dataset = datasets.Dataset.from_dict({"content": texts})
    (datasets.DatasetDict({"train": dataset}) if dict_of_splits else dataset).save_to_disk(str(tmp_path / "ds"))
    opts = PretrainOptions(data=str(tmp_path / "ds"), text_field="content", output_dir=tmp_path / "o")
    assert list(documents(opts)) == texts


def test_record_options_given_for_text_files_are_warned_about(tmp_path: Path) -> None:
    """Was: --text-field (and --split) went unused in silence where --data is text files, whose
    documents are whole files."""
    from editseq.train.pretrain import documents

    src = corpus(tmp_path / "src")
    with pytest.warns(UserWarning, match=r"^--text-field content is for JSONL/Parquet corpora and Hugging Face "
                                         r"datasets; .*src is a folder of text files, each read whole as a document$"):
        assert len(list(documents(PretrainOptions(data=str(src), text_field="content", output_dir=tmp_path / "o")))) == 12
    with pytest.warns(UserWarning, match=r"^--text-field content and --split test are for .*p00\.py is a text file, "
                                         r"read whole as one document$"):
        list(documents(PretrainOptions(data=str(src / "p00.py"), text_field="content", split="test",
                                       output_dir=tmp_path / "o")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults: nothing said
        list(documents(PretrainOptions(data=str(src), output_dir=tmp_path / "o")))


def test_a_saved_dataset_without_a_train_split_is_read_by_its_split(tmp_path: Path) -> None:
    """Was: "no split 'train'; available: ['validation']", and pretrain had no --split to name one."""
    import datasets

    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    datasets.DatasetDict({"validation": datasets.Dataset.from_dict({"text": ["x = 1\n"]})}).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(InputError, match=r"no split 'train'; available: \['validation'\]; pass one with --split"):
        list(documents(PretrainOptions(data=str(tmp_path / "ds"), output_dir=tmp_path / "o")))
    assert list(documents(PretrainOptions(data=str(tmp_path / "ds"), split="validation", output_dir=tmp_path / "o"))) == ["x = 1\n"]


def test_a_project_with_its_own_state_json_is_a_corpus_folder(tmp_path: Path) -> None:
    """Was: taken for a saved dataset, failing "not a readable dataset (ValueError: You are trying
    to load a dataset that was saved using `save_to_disk`...)"."""
    from editseq.train.pretrain import documents

    (tmp_path / "state.json").write_text('{"step": 1}', encoding="utf-8")
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    assert list(documents(PretrainOptions(data=str(tmp_path), output_dir=tmp_path / "o"))) == ["x = 1\n"]


def test_a_corpus_folder_moved_before_a_resume_resumes(tmp_path: Path) -> None:
    """Was: refused (data: "/…/src" then, "/…/moved" now), though the folder is known by its
    files' content (data_files), which moving it leaves as it was; the new place is recorded.
    Its content changed at the new place is still refused."""
    from editseq.train.common import SETTINGS_FILE

    opts = {"data": str(corpus(tmp_path / "src")), "output_dir": tmp_path / "run", "vocab_size": 400,
            "block_size": 32, "batch_size": 2, "max_steps": 1}
    train_pretrain(PretrainOptions(**opts))
    moved = (tmp_path / "src").rename(tmp_path / "moved")
    with pytest.warns(UserWarning, match=rf"data {tmp_path / 'src'} moved to {moved}, its content the same "
                                         r"\(data_files\): .*run resumes, and editseq_train_settings\.json records"):
        assert train_pretrain(PretrainOptions(**{**opts, "data": str(moved)}))["run_loss"] is None
    manifest = json.loads((tmp_path / "run" / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert manifest["settings"]["data"] == str(moved)
    (moved / "p00.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"was started with other settings \(data_files: content sha256 "):
        train_pretrain(PretrainOptions(**{**opts, "data": str(moved)}))


def test_a_saved_dataset_changed_before_a_resume_is_refused(tmp_path: Path) -> None:
    """Was: a save_to_disk folder counted by its path alone, so a resume trained on the dataset
    saved over it in silence."""
    import datasets

    texts = [json.loads(line)["program"] for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    datasets.Dataset.from_dict({"text": texts}).save_to_disk(str(tmp_path / "ds"))
    opts = PretrainOptions(data=str(tmp_path / "ds"), output_dir=tmp_path / "run", vocab_size=400,
                           block_size=32, batch_size=2, max_steps=1)
    train_pretrain(opts)
    assert train_pretrain(opts)["run_loss"] is None  # unchanged: finished already
    shutil.rmtree(tmp_path / "ds")
    datasets.Dataset.from_dict({"text": texts[:-1]}).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(ConfigError, match=r"was started with other settings \(data_files: content sha256 "):
        train_pretrain(opts)


def test_a_hub_dataset_updated_in_the_cache_before_a_resume_is_refused(tmp_path: Path, hub_cache: Path,
                                                                      dataset_loads: list[str]) -> None:
    """Was: a hub dataset --data counted by its name alone, so a resume after a newer revision of
    it reached the cache trained on other data in silence. Offline: the dataset is laid out in a
    datasets cache as a download leaves it, and loads by its name from there. Was also loaded
    twice per run (for its fingerprint, then for its documents): once now."""
    from editseq.train.common import SETTINGS_FILE
    from tests.hub import hub_cached

    texts = [json.loads(line)["program"] for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    hub_cached(hub_cache, "editseq-test/corpus", "rev1", [{"text": t} for t in texts])
    opts = PretrainOptions(data="editseq-test/corpus", output_dir=tmp_path / "run", vocab_size=400,
                           block_size=32, batch_size=2, max_steps=1)
    train_pretrain(opts)
    assert dataset_loads == ["editseq-test/corpus"]
    manifest = tmp_path / "run" / SETTINGS_FILE
    written = json.loads(manifest.read_text(encoding="utf-8"))
    assert written["settings"]["data"] == "editseq-test/corpus"
    recorded = written["settings"].pop("data_files")  # as editseq wrote it before: still resumes, and records them
    assert recorded.startswith("sha256:")
    manifest.write_text(json.dumps(written), encoding="utf-8")
    assert train_pretrain(opts)["run_loss"] is None  # unchanged: finished already
    assert json.loads(manifest.read_text(encoding="utf-8"))["settings"]["data_files"] == recorded
    hub_cached(hub_cache, "editseq-test/corpus", "rev2", [{"text": t} for t in texts[:-1]])  # newer, loaded from now on
    with pytest.raises(ConfigError, match=r"was started with other settings \(data_files: content sha256 "):
        train_pretrain(opts)


def test_a_folder_of_other_files_is_not_taken_as_output(tmp_path: Path) -> None:
    # was trained into, its config.json replaced by the model's
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    opts = PretrainOptions(data=str(corpus(tmp_path / "src")), output_dir=folder, vocab_size=400,
                           block_size=64, max_steps=1)
    with pytest.raises(ConfigError, match=r"holds files no `editseq train` run wrote \(config.json\)"):
        train_pretrain(opts)
    assert [p.name for p in folder.iterdir()] == ["config.json"]


def test_a_resumed_run_saves_and_logs_at_its_new_intervals(tmp_path: Path) -> None:
    # the Trainer took the checkpoint's intervals: resumed with --save-steps 4 it still saved every
    # 2 steps (checkpoint-6, -8), and --logging-steps 2 still logged every step
    opts = {"data": str(corpus(tmp_path / "src")), "output_dir": tmp_path / "run", "vocab_size": 400,
            "block_size": 32, "batch_size": 2, "max_steps": 4, "save_steps": 2, "logging_steps": 1,
            "save_total_limit": 0}
    train_pretrain(PretrainOptions(**opts))
    with pytest.warns(UserWarning, match="resumed checkpoint-4 of a 4-step run as a 12-step run"):
        record = train_pretrain(PretrainOptions(**{**opts, "max_steps": 12, "save_steps": 4, "logging_steps": 2}))
    steps = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "run").glob("checkpoint-*"))
    assert steps == [2, 4, 8, 12]
    assert [step for step, _ in record["losses"]] == [1, 2, 3, 4, 6, 8, 10, 12]


def test_hidden_folders_of_a_corpus_folder_are_left_out(tmp_path: Path) -> None:
    """Was: ``--data .`` trained on the virtual environment's and git's files too."""
    from editseq.train.pretrain import documents

    for name in ("a.py", ".venv/lib/site.py", ".git/COMMIT_EDITMSG.txt", "pkg/.hidden.py", "pkg/b.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    opts = PretrainOptions(data=str(tmp_path), output_dir=tmp_path / "o")
    assert list(documents(opts)) == ["a.py", "pkg/b.md"]


def test_a_folder_with_no_text_files_says_what_it_holds(tmp_path: Path) -> None:
    """Was: "no documents found", for a folder of JSONL files that --data reads one at a time."""
    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    for name in ("a.jsonl", "b.jsonl", "c.parquet", "d.json", ".hidden.py"):
        (tmp_path / "data" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "data" / name).write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"data: a folder with no \.py, \.txt or \.md files, hidden ones left out "
                                         r"\(it holds a\.jsonl, b\.jsonl, c\.parquet and 1 more\); pass a JSONL/Parquet "
                                         r"corpus file itself as --data"):
        list(documents(PretrainOptions(data=str(tmp_path / "data"), output_dir=tmp_path / "o")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: a folder with no \.py, \.txt or \.md files, hidden ones left out; "):
        list(documents(PretrainOptions(data=str(tmp_path / "empty"), output_dir=tmp_path / "o")))


def test_linked_folders_of_a_corpus_folder_are_read(tmp_path: Path) -> None:
    """Was: a linked file was read but a linked folder's files were left out, in silence (a
    corpus of links to projects trained on none of them)."""
    from editseq.train.pretrain import documents

    for name in ("elsewhere/pkg/b.py", "elsewhere/c.py", "corpus/a.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    (tmp_path / "corpus" / "linked").symlink_to(tmp_path / "elsewhere" / "pkg", target_is_directory=True)
    (tmp_path / "corpus" / "c.py").symlink_to(tmp_path / "elsewhere" / "c.py")
    (tmp_path / "corpus" / "loop").symlink_to(tmp_path / "corpus", target_is_directory=True)  # walked once
    opts = PretrainOptions(data=str(tmp_path / "corpus"), output_dir=tmp_path / "o")
    assert list(documents(opts)) == ["corpus/a.py", "elsewhere/c.py", "elsewhere/pkg/b.py"]


def test_a_corpus_file_of_another_type_is_named_with_the_types_read(tmp_path: Path) -> None:
    """Was: "expected .jsonl, .parquet or a Hugging Face dataset", leaving out the text files
    pretraining reads; and a mistyped .py file name was looked for on the hub."""
    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    (tmp_path / "corpus.c").write_text("int x;\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"corpus\.c: unknown file type '\.c'; expected \.jsonl, \.parquet, \.py, "
                                         r"\.txt, \.md or a Hugging Face dataset"):
        list(documents(PretrainOptions(data=str(tmp_path / "corpus.c"), output_dir=tmp_path / "o")))
    with pytest.raises(InputError, match=r"corpus\.py: no such file"):
        list(documents(PretrainOptions(data="corpus.py", output_dir=tmp_path / "o")))


def test_a_corpus_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    """Was: decoded with replacement, so the model trained on U+FFFD in place of its bytes, silently."""
    from editseq.io.records import InputError
    from editseq.train.pretrain import documents

    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "b.py").write_bytes("y = 'café'\n".encode("latin-1"))
    for data in (tmp_path, tmp_path / "b.py"):
        with pytest.raises(InputError, match=r"b\.py: not UTF-8 \(invalid continuation byte at byte 8\)"):
            list(documents(PretrainOptions(data=str(data), output_dir=tmp_path / "o")))


def test_a_byte_order_mark_is_no_part_of_a_document(tmp_path: Path) -> None:
    """Was: read as text, so each such file taught the model a U+FEFF at a document's opening."""
    from editseq.train.pretrain import documents

    (tmp_path / "a.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    for data in (tmp_path, tmp_path / "a.py"):
        assert list(documents(PretrainOptions(data=str(data), output_dir=tmp_path / "o"))) == ["x = 1\n"]


def test_empty_documents_are_dropped(tmp_path: Path) -> None:
    """Was: each empty file (an ``__init__.py``) packed as a lone EOS, so the blocks taught an
    end-of-sequence right after the previous one's."""
    from editseq.io.records import InputError
    from editseq.train.packing import pack, split_documents
    from editseq.train.pretrain import documents, train_bpe

    src = corpus(tmp_path / "src")
    (src / "__init__.py").write_text("", encoding="utf-8")
    (src / "blank.py").write_text("\n\n", encoding="utf-8")
    opts = PretrainOptions(data=str(src), output_dir=tmp_path / "run")
    read = list(documents(opts))
    with pytest.warns(UserWarning, match="2 of 14 documents dropped: empty or whitespace only"):
        split = split_documents(read, 0, 0, str(src))
    assert split.read == 14 and split.held_out == []
    texts = [read[i] for i in split.trained]
    assert len(texts) == 12 and all(text.strip() for text in texts)
    tokenizer = train_bpe(texts, 400)
    stream = [i for block in pack(tokenizer, texts, 1) for i in block]
    assert stream.count(tokenizer.eos_token_id) == 12  # one per document: no lone EOS
    with pytest.raises(InputError, match=r"no documents found \(2 empty\)"):
        split_documents(["", "\n"], 0, 0, str(src))


def test_the_run_record_counts_the_documents_dropped(tmp_path: Path) -> None:
    """The empty documents dropped were only warned about: editseq_train.json said "documents":
    12 of a corpus of 14, with no word of the other 2."""
    src = corpus(tmp_path / "src")
    (src / "__init__.py").write_text("", encoding="utf-8")
    (src / "blank.py").write_text("\n\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the drop is warned of, as tested above
        train_pretrain(PretrainOptions(data=str(src), output_dir=tmp_path / "run", vocab_size=400,
                                       block_size=32, max_steps=1))
    recorded = json.loads((tmp_path / "run" / "editseq_train.json").read_text(encoding="utf-8"))
    assert recorded["documents"] == 12 and recorded["data"] == {"records": 14, "held_out": 0, "dropped": {"empty": 2}}


def test_tokens_past_the_last_block_are_warned_about() -> None:
    """Was: left out silently, which in a small corpus is much of it."""
    import warnings

    from editseq.train.packing import pack
    from editseq.train.pretrain import train_bpe

    texts = ["def f():\n    return 1\n", "x = 2\n"]
    tokenizer = train_bpe(texts, 300)
    total = sum(len(tokenizer(t)["input_ids"]) + 1 for t in texts)  # each document and its EOS
    with pytest.warns(UserWarning, match=f"last {total - 8} of {total} tokens fill no whole --block-size 8 block"):
        assert len(pack(tokenizer, texts, 8)) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing left out, nothing said
        assert sum(map(len, pack(tokenizer, texts, 1))) == total
        # a rounding's few tokens (under 5% of the corpus) go unsaid: every packing drops them
        assert sum(map(len, pack(tokenizer, texts * 50, 8))) == 50 * total - (50 * total) % 8


def test_an_output_dir_inside_the_corpus_folder_is_not_read_as_corpus(tmp_path: Path) -> None:
    """``--data . --output-dir runs/tiny``: the run's own files (a model card, a tokenizer's
    merges.txt) were corpus files to the rerun, which then refused to resume on changed data."""
    src = corpus(tmp_path / "src")
    n = len(list(src.iterdir()))
    given = {"data": str(src), "output_dir": src / "runs" / "tiny", "vocab_size": 400, "block_size": 32,
             "batch_size": 2, "max_steps": 1}
    opts = PretrainOptions(**given)
    assert train_pretrain(opts)["documents"] == n
    (src / "runs" / "tiny" / "README.md").write_text("# a model card\n", encoding="utf-8")
    assert train_pretrain(opts)["run_loss"] is None  # finished already: resumed, not refused
    # as is a run resumed with a longer wait for its processes (one that timed out packing)
    assert train_pretrain(PretrainOptions(**given, ddp_timeout=7200))["run_loss"] is None


def test_held_out_documents_give_the_models_loss_on_them(tmp_path: Path) -> None:
    """--eval-fraction holds whole documents out; the loss recorded at the last step is the final
    model's own loss on their blocks, computed here apart from the Trainer."""
    import torch

    from editseq.models.loading import load_model
    from editseq.train.common import held_out
    from editseq.train.packing import pack

    src = corpus(tmp_path / "src")
    opts = {"data": str(src), "output_dir": tmp_path / "run", "preset": "tiny-test", "vocab_size": 400,
            "block_size": 32, "batch_size": 4, "lr": 3e-3, "warmup_ratio": 0.0, "max_steps": 5,
            "logging_steps": 1, "save_steps": 10, "eval_fraction": 0.25, "eval_steps": 2}
    record = train_pretrain(PretrainOptions(**opts))
    assert [step for step, _ in record["eval_losses"]] == [2, 4, 5]
    documents = [p.read_text(encoding="utf-8") for p in sorted(src.iterdir())]
    trained, evaluated = held_out(documents, documents, 0.25, 0, "documents")
    assert record["data"] == {"records": 12, "held_out": 3, "dropped": {}} and record["documents"] == 9
    model, tokenizer = load_model(str(tmp_path / "run"), device="cpu")
    blocks = torch.tensor(pack(tokenizer, evaluated, 32, "held-out documents"), dtype=torch.long)
    assert len(blocks) == record["eval_blocks"] > 0
    with torch.no_grad():  # every block is full: the batch mean is the mean over blocks
        loss = sum(model(input_ids=b, labels=b).loss * len(b) for b in blocks.split(4)) / len(blocks)
    assert record["eval_losses"][-1][1] == pytest.approx(loss.item(), rel=1e-4)
    # the held-out documents' text is nowhere in the training blocks
    stream = tokenizer.decode([t for b in pack(tokenizer, trained, 32) for t in b])
    assert not any(doc.strip() in stream for doc in evaluated)
    with pytest.raises(ConfigError, match=r"was started with other settings \(eval_fraction: 0.25 then, 0.5 now"):
        train_pretrain(PretrainOptions(**{**opts, "eval_fraction": 0.5}))


def test_a_cosine_schedule_decays_the_rate_on_a_cosine(tmp_path: Path) -> None:
    opts = {"data": str(corpus(tmp_path / "src")), "output_dir": tmp_path / "run", "vocab_size": 400,
            "block_size": 32, "batch_size": 2, "lr": 1e-3, "warmup_ratio": 0.0, "max_steps": 4,
            "logging_steps": 1, "save_steps": 4, "lr_schedule": "cosine"}
    train_pretrain(PretrainOptions(**opts))
    state = json.loads((tmp_path / "run" / "checkpoint-4" / "trainer_state.json").read_text(encoding="utf-8"))
    logged = [h["learning_rate"] for h in state["log_history"] if "learning_rate" in h]
    # each step's logged rate is the one it stepped with: the schedule at the steps before it
    assert logged == pytest.approx([1e-3 * 0.5 * (1 + math.cos(math.pi * s / 4)) for s in range(4)])


def test_the_corpus_is_packed_on_disk_and_a_resume_reads_it_again(tmp_path: Path) -> None:
    """The blocks are a file of token ids under --output-dir/packed, read memory-mapped (the
    corpus's text and token stream were held in memory whole); a resume reads the same file
    where a finished packing left its manifest, and packs again where it did not."""
    import numpy as np

    from editseq.models.loading import load_model
    from editseq.train.common import held_out
    from editseq.train.packing import pack, packed_corpus

    src = corpus(tmp_path / "src")
    opts = {"data": str(src), "output_dir": tmp_path / "run", "vocab_size": 400, "block_size": 32,
            "batch_size": 2, "max_steps": 1, "save_steps": 1, "eval_fraction": 0.25}
    record = train_pretrain(PretrainOptions(**opts))
    folder = tmp_path / "run" / "packed"
    packed = packed_corpus(folder)
    assert isinstance(packed.blocks, np.memmap) and isinstance(packed.held_out_blocks, np.memmap)
    assert (len(packed.blocks), len(packed.held_out_blocks)) == (record["blocks"], record["eval_blocks"])
    documents = [p.read_text(encoding="utf-8") for p in sorted(src.iterdir())]
    trained, evaluated = held_out(documents, documents, 0.25, 0, "documents")
    _, tokenizer = load_model(str(tmp_path / "run"), device="cpu")
    assert np.array_equal(packed.blocks, pack(tokenizer, trained, 32))
    assert np.array_equal(packed.held_out_blocks, pack(tokenizer, evaluated, 32))
    assert sorted(p.name for p in folder.iterdir()) == ["held_out.bin", "packed.json", "train.bin"]
    assert packed.blocks.dtype == np.uint16  # a 400-token vocabulary: 2 bytes a token

    train = folder / "train.bin"
    written = (train.stat().st_ino, train.stat().st_mtime_ns, train.read_bytes())
    with pytest.warns(UserWarning, match="resumed checkpoint-1 of a 1-step run"):
        again = train_pretrain(PretrainOptions(**{**opts, "max_steps": 2}))
    assert (train.stat().st_ino, train.stat().st_mtime_ns) == written[:2]  # read, not packed again
    assert {k: again[k] for k in ("blocks", "eval_blocks", "documents", "data")} == \
        {k: record[k] for k in ("blocks", "eval_blocks", "documents", "data")}

    (folder / "packed.json").unlink()  # as a run killed while packing leaves it
    train.write_bytes(written[2][:100])
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    (folder / f"held_out.bin.{ended.pid}.part").write_bytes(b"\0" * 100)  # its packing was killed
    (folder / "held_out.bin.1.part").write_bytes(b"\0" * 100)  # a live process's (init's)
    with pytest.warns(UserWarning, match="resumed checkpoint-2 of a 2-step run"):
        third = train_pretrain(PretrainOptions(**{**opts, "max_steps": 3}))
    assert third["global_step"] == 3 and train.read_bytes() == written[2]
    assert [p.name for p in folder.glob("*.part")] == ["held_out.bin.1.part"]
    (folder / "held_out.bin.1.part").unlink()
    (folder / "held_out.bin").unlink()  # deleted to save room
    with pytest.warns(UserWarning, match="resumed checkpoint-3 of a 3-step run"):
        train_pretrain(PretrainOptions(**{**opts, "max_steps": 4}))
    assert np.array_equal(packed_corpus(folder).held_out_blocks, pack(tokenizer, evaluated, 32))


def test_a_corpus_edited_while_it_is_packed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the corpus is read in passes (the held-out split, the tokenizer's training, the
    packing), and a file edited between them packed other documents than the split chose, in
    silence. Here a file grows while the tokenizer trains, as a corpus still being written does."""
    from editseq.io.records import InputError
    from editseq.train import pretrain

    src = corpus(tmp_path / "src")
    trained = pretrain.train_bpe

    def train_while_written(texts: object, vocab_size: int) -> object:
        tokenizer = trained(texts, vocab_size)
        with (src / "p03.py").open("a", encoding="utf-8") as file:
            file.write("print('appended')\n")
        return tokenizer

    monkeypatch.setattr(pretrain, "train_bpe", train_while_written)
    opts = {"data": str(src), "output_dir": tmp_path / "run", "vocab_size": 400, "block_size": 32,
            "batch_size": 2, "max_steps": 1, "eval_fraction": 0.25}
    with pytest.raises(InputError, match=r"p03\.py: changed while the corpus was read .*rerun once nothing writes to it"):
        train_pretrain(PretrainOptions(**opts))
    assert not (tmp_path / "run" / "packed" / "packed.json").exists()  # no resume takes these blocks
    monkeypatch.undo()
    assert train_pretrain(PretrainOptions(**opts))["global_step"] == 1


def test_a_resume_packs_again_where_an_earlier_version_packed(tmp_path: Path) -> None:
    """Was: a run packed by 211c3c3 (int32 ids in train.int32 and held_out.int32, a packed.json
    without their dtype) failed to resume with ``KeyError: 'dtype'``; it now packs again."""
    import numpy as np

    from editseq.train.packing import packed_corpus

    opts = {"data": str(corpus(tmp_path / "src")), "output_dir": tmp_path / "run", "vocab_size": 400,
            "block_size": 32, "batch_size": 2, "max_steps": 1, "save_steps": 1, "eval_fraction": 0.25}
    train_pretrain(PretrainOptions(**opts))
    folder = tmp_path / "run" / "packed"
    packed = packed_corpus(folder)
    written = {name: np.asarray(blocks).copy() for name, blocks in
               (("train", packed.blocks), ("held_out", packed.held_out_blocks))}
    for name, blocks in written.items():  # as 211c3c3 left them
        (folder / f"{name}.bin").unlink()
        (folder / f"{name}.int32").write_bytes(blocks.astype(np.int32).tobytes())
    manifest = json.loads((folder / "packed.json").read_text(encoding="utf-8"))
    del manifest["dtype"]
    (folder / "packed.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.warns(UserWarning, match="resumed checkpoint-1 of a 1-step run"):
        assert train_pretrain(PretrainOptions(**{**opts, "max_steps": 2}))["global_step"] == 2
    again = packed_corpus(folder)
    assert np.array_equal(again.blocks, written["train"]) and np.array_equal(again.held_out_blocks, written["held_out"])


def test_a_corpus_or_held_out_part_shorter_than_a_block_is_named(tmp_path: Path) -> None:
    """Both errors come after the corpus was packed into the output folder; rerun there as the
    first one advises, the run goes on (the packed files of the failed run are not taken for a
    stranger's files)."""
    from editseq.io.records import InputError

    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": f"x{i} = {i}\n"}) + "\n" for i in range(8)),
                                      encoding="utf-8")
    opts = {"data": str(tmp_path / "c.jsonl"), "vocab_size": 300, "max_steps": 1}
    with pytest.raises(InputError, match=r"c\.jsonl: the corpus has fewer than --block-size 256 tokens; "
                                         "pass a smaller --block-size or more text"):
        train_pretrain(PretrainOptions(**opts, output_dir=tmp_path / "a", block_size=256))
    assert train_pretrain(PretrainOptions(**opts, output_dir=tmp_path / "a", block_size=12))["global_step"] == 1
    with pytest.raises(InputError, match=r"c\.jsonl: the 2 documents --eval-fraction 0.25 holds out have fewer "
                                         "than --block-size 16 tokens"), pytest.warns(UserWarning, match="left out"):
        train_pretrain(PretrainOptions(**opts, output_dir=tmp_path / "b", block_size=16, eval_fraction=0.25))


def test_token_ids_past_two_bytes_are_packed_in_four() -> None:
    import numpy as np

    from editseq.train.packing import pack
    from editseq.train.pretrain import train_bpe

    tokenizer = train_bpe(["x = 1\n"] * 20, 300)
    assert pack(tokenizer, ["x = 1\n"], 1).dtype == np.uint16
    tokenizer.add_tokens([f"<t{i}>" for i in range(1 << 16)])
    text = "x = <t65535>\n"  # the last added token's id is past 65,535
    blocks = pack(tokenizer, [text], 1)
    assert blocks.dtype == np.int32 and tokenizer.decode(blocks.ravel().tolist()) == text + tokenizer.eos_token


def test_an_output_dir_of_the_other_training_command_is_named_so(tmp_path: Path, tiny_model_dir: Path,
                                                                  lintseq_jsonl: Path) -> None:
    """Was refused as a run "started with other settings (format: "program" then, ...)", naming
    sft's defaults as what a pretraining run had been started with."""
    from editseq.train.sft import SFTOptions, train_sft

    common = {"max_steps": 1, "batch_size": 4, "save_steps": 1}
    pretrain = {"data": str(corpus(tmp_path / "src")), "vocab_size": 400, "block_size": 64, **common}
    sft = {"model": str(tiny_model_dir), "data": str(lintseq_jsonl), "format": "editseq", **common}
    train_pretrain(PretrainOptions(output_dir=tmp_path / "pre", **pretrain))
    train_sft(SFTOptions(output_dir=tmp_path / "sft", **sft))
    with pytest.raises(ConfigError, match=r"--output-dir \S+pre holds an `editseq train pretrain` run; "
                                          r"pass another --output-dir"):
        train_sft(SFTOptions(output_dir=tmp_path / "pre", **sft))
    with pytest.raises(ConfigError, match=r"--output-dir \S+sft holds an `editseq train sft` run"):
        train_pretrain(PretrainOptions(output_dir=tmp_path / "sft", **pretrain))
    assert train_sft(SFTOptions(output_dir=tmp_path / "sft", **sft))["run_loss"] is None  # its own: resumes
