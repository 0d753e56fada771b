"""The one small interface every model backend implements (transformers, vLLM, OpenAI-compatible HTTP).

Callers (``editseq sample``, ``editseq mtpb sample``) only see ``Backend.generate``; the backend
applies sampling settings, stop sequences and seeds, and reports generated token counts so
throughput and the "sampled tokens" axis of reports can be computed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from editseq.config import ConfigError


def sample_seed(seed: int, prompt: str, index: int) -> int:
    """The seed of one (prompt, sample index) under the config's ``seed``, the same in every
    backend: a prompt's samples then do not depend on the other prompts of a call, so resumed
    and sharded runs draw what a whole run draws. 31 bits, which every server accepts."""
    digest = hashlib.sha256(repr((seed, prompt, index)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def adds_bos(tokenizer: Any, prompts: list[str]) -> bool:
    """Whether tokenizing ``prompts`` adds the tokenizer's special tokens (its BOS): yes, as
    ``editseq train sft`` tokenizes its prompts, unless they start with BOS already (a chat
    template's text does), which would then be doubled."""
    bos = tokenizer.bos_token
    return not (bos and any(p.startswith(bos) for p in prompts))


@dataclass(frozen=True)
class GenerationConfig:
    """How a backend samples; ``temperature`` 0 is greedy (one decode copied ``n`` times)."""

    n: int = 1  # samples per prompt
    temperature: float = 0.8
    top_p: float = 0.95
    min_p: float | None = None
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()  # the text is cut before the first stop sequence
    seed: int = 0
    special_tokens: bool = False  # the text must keep special tokens (edit sequences' <|diff|>)

    def __post_init__(self) -> None:
        check_sampling(self.n, self.temperature, self.top_p, self.min_p, self.max_new_tokens)

    @property
    def draws(self) -> int:
        """Decodes per prompt: ``n``, or 1 when greedy (every sample would be the same)."""
        return 1 if self.temperature == 0 else self.n


@dataclass(frozen=True)
class Generation:
    """One sampled continuation and what it cost in tokens."""

    text: str  # the continuation only (no prompt), cut at the first stop sequence
    tokens: int  # tokens generated (before cutting at a stop sequence)


Prompt = str | list[dict[str, str]]  # text, or chat messages (only a server templates them itself)


class Backend(Protocol):
    """A model that samples: transformers, vLLM or an OpenAI-compatible server.

    Local backends (transformers, vLLM) decode special tokens into the text always; a server is
    asked to when ``GenerationConfig.special_tokens`` is set.
    """

    name: str

    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Generation]]:
        """``config.n`` generations for each prompt, in prompt order."""
        ...


def check_sampling(n: int, temperature: float, top_p: float, min_p: float | None = None,
                   max_new_tokens: int | None = None) -> None:
    """The sampling flags every sampling command shares, each named in its own message."""
    if max_new_tokens is not None and max_new_tokens < 1:
        raise ConfigError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    if not temperature >= 0:
        raise ConfigError(f"--temperature must be >= 0 (0: greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise ConfigError(f"--top-p must be in (0, 1] (1: no nucleus cut), got {top_p}")
    if min_p is not None and not 0 <= min_p < 1:
        raise ConfigError(f"--min-p must be in [0, 1), got {min_p}")
