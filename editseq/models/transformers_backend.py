"""Sampling with Hugging Face transformers on the CPU or a GPU: batched, ``n`` samples per prompt.

Every (prompt, sample) pair is a row; rows are generated ``batch_size`` at a time with left
padding, longest prompts first so padding stays small. Each batch is seeded from the config's
seed and the batch's own rows, so a prompt's samples do not depend on which other prompts were in
the call. Stop sequences end a row early (``stop_strings``) and the text is cut before the first
one; the token count is what the model generated up to its end-of-sequence or stop.
"""

from __future__ import annotations

import hashlib
from typing import Any

from editseq.models.backend import Generation, GenerationConfig


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """``text`` up to (not including) the first occurrence of any stop sequence."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i != -1), default=len(text))
    return text[:cut]


def batch_seed(seed: int, rows: list[tuple[str, int]]) -> int:
    """A 63-bit seed from the config seed and the (prompt, sample index) rows of one batch."""
    digest = hashlib.sha256(repr((seed, rows)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class TransformersBackend:
    """``Backend`` over a loaded causal LM and its tokenizer (see ``loading.load_model``)."""

    def __init__(self, model: Any, tokenizer: Any, name: str = "transformers",
                 batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        tokenizer.padding_side = "left"  # decoder-only models continue the last real token
        configured = getattr(model.generation_config, "eos_token_id", None)
        if not isinstance(configured, list):
            configured = [configured]
        ends = {tokenizer.eos_token_id, tokenizer.pad_token_id, *configured}
        self._ends = {t for t in ends if t is not None}

    def generate(self, prompts: list[str], config: GenerationConfig) -> list[list[Generation]]:
        """``config.n`` generations per prompt; greedy (temperature 0) decodes each prompt once."""
        copies = 1 if config.temperature == 0 else config.n
        rows = [(p, k) for p in dict.fromkeys(prompts) for k in range(copies)]
        rows.sort(key=lambda r: -len(r[0]))
        done: dict[tuple[str, int], Generation] = {}
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            for row, gen in zip(chunk, self._generate_batch(chunk, config), strict=True):
                done[row] = gen
        return [[done[(p, k if copies > 1 else 0)] for k in range(config.n)] for p in prompts]

    def _generate_batch(self, rows: list[tuple[str, int]], config: GenerationConfig) -> list[Generation]:
        import torch

        enc = self.tokenizer([p for p, _ in rows], return_tensors="pt", padding=True,
                             add_special_tokens=False).to(self.model.device)
        kwargs: dict[str, Any] = {"max_new_tokens": config.max_new_tokens,
                                  "pad_token_id": self.tokenizer.pad_token_id}
        if config.temperature > 0:
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p,
                          top_k=0, min_p=config.min_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if config.stop:
            kwargs["stopping_criteria"] = [_StopOnText(self.tokenizer, config.stop,
                                                       enc["input_ids"].shape[1])]
        torch.manual_seed(batch_seed(config.seed, rows))
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        return [self._decode(ids, config.stop) for ids in new]

    def _decode(self, ids: list[int], stop: tuple[str, ...]) -> Generation:
        """Text up to the first end token (kept: ``<|diff|>`` and other added tokens), then stops."""
        end = next((i for i, t in enumerate(ids) if t in self._ends), None)
        tokens = len(ids) if end is None else end + 1
        text = self.tokenizer.decode(ids[:end], skip_special_tokens=False)
        return Generation(cut_at_stop(text, stop), tokens)


class _StopOnText:
    """Ends each row once its new text contains a stop sequence.

    transformers' own ``stop_strings`` precomputes tables over the whole vocabulary on every
    ``generate`` call (seconds for a 49k vocabulary); decoding the last few tokens of each row is
    far cheaper at the batch sizes used here.
    """

    def __init__(self, tokenizer: Any, stop: tuple[str, ...], prompt_len: int, tail: int = 24) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.prompt_len = prompt_len
        self.tail = tail

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        new = input_ids[:, self.prompt_len:]
        texts = self.tokenizer.batch_decode(new[:, -self.tail:], skip_special_tokens=False)
        hits = [any(s in text for s in self.stop) for text in texts]
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)
