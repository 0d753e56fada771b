"""Sampling with Hugging Face transformers on the CPU or a GPU: batched, ``n`` samples per prompt.

Every (prompt, sample) pair is a row; rows are generated ``batch_size`` at a time with left
padding, longest prompts first so padding stays small. Each row draws its tokens from its own
random generator, seeded from (config seed, prompt, sample index): a prompt's samples do not depend
on which other prompts shared the call or the batch, so a resumed or sharded run draws what a whole
run draws (up to the last-bit differences padding can make in the logits). Prompts are tokenized
as ``editseq train sft`` tokenizes them (with BOS where the tokenizer adds one). Stop sequences end
a row early and the text is cut before the first one; the token count is what the model generated
up to its end-of-sequence or stop. A row ends where the model's context does, as in vLLM (a
prompt near it is batched with prompts as near, whose rows end there too).
"""

from __future__ import annotations

from typing import Any

from editseq.models.backend import Generation, GenerationConfig, adds_bos, sample_seed
from editseq.models.loading import check_context
from editseq.text import cut_at_stop

# what transformers would take from a model's generation_config.json that changes the draw
# (Qwen2.5-Coder-Instruct ships repetition_penalty 1.05; the logits processors act before ours),
# each turned off: samples follow the recorded --temperature, --top-p and --min-p alone, as vLLM's do
_SHIPPED_OFF = {"repetition_penalty": 1.0, "no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": None,
                "bad_words_ids": None, "sequence_bias": None, "suppress_tokens": None,
                "begin_suppress_tokens": None, "forced_bos_token_id": None, "forced_eos_token_id": None,
                "exponential_decay_length_penalty": None, "guidance_scale": None, "num_beams": 1,
                "num_return_sequences": 1}
# decoding as the model wrote it: special tokens kept (<|diff|>), and no English clean-up, which
# tokenizers saved with clean_up_tokenization_spaces (StarCoder's, GPT-2's) apply, dropping the space
# before quotes and punctuation (`' '.join` read as `''.join`, `from . import` as `from. import`)
_VERBATIM = {"skip_special_tokens": False, "clean_up_tokenization_spaces": False}


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
        """``config.n`` generations per prompt; greedy (temperature 0) decodes each prompt once.
        A prompt that fills the model's context is refused before any is generated."""
        rooms = self._rooms(prompts, config.max_new_tokens)
        rows = [(p, k) for p in dict.fromkeys(prompts) for k in range(config.draws)]
        rows.sort(key=lambda r: -len(r[0]))
        by_room: dict[int, list[tuple[str, int]]] = {}
        for row in rows:
            by_room.setdefault(rooms[row[0]], []).append(row)
        done: dict[tuple[str, int], Generation] = {}
        for room, group in by_room.items():
            for start in range(0, len(group), self.batch_size):
                chunk = group[start:start + self.batch_size]
                for row, gen in zip(chunk, self._generate_batch(chunk, config, room), strict=True):
                    done[row] = gen
        return [[done[(p, k % config.draws)] for k in range(config.n)] for p in prompts]

    def _rooms(self, prompts: list[str], max_new_tokens: int) -> dict[str, int]:
        """Tokens each prompt may be followed by: ``max_new_tokens``, up to where the model's
        context (``max_position_embeddings``) ends, as vLLM caps them; transformers would
        generate past it, into positions the model never learned (noise, or for a learned
        table of positions, GPT-2's, an IndexError). Rows are batched with rows of the same room,
        so no row of a batch runs on past its own (what a row draws does not depend on the
        prompts beside it)."""
        context = getattr(self.model.config, "max_position_embeddings", None)
        if not context:
            return dict.fromkeys(prompts, max_new_tokens)
        lengths = [len(ids) for ids in self.tokenizer(prompts, add_special_tokens=adds_bos(self.tokenizer, prompts))["input_ids"]]
        check_context(lengths, context, self.name, "max_position_embeddings")
        return {p: min(max_new_tokens, context - n) for p, n in zip(prompts, lengths, strict=True)}

    def _generate_batch(self, rows: list[tuple[str, int]], config: GenerationConfig, room: int) -> list[Generation]:
        import torch

        texts = [p for p, _ in rows]
        # no token_type_ids (BERT-style tokenizers give them), which a causal LM's generate refuses
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=adds_bos(self.tokenizer, texts),
                             return_token_type_ids=False).to(self.model.device)
        kwargs: dict[str, Any] = {"max_new_tokens": room,
                                  "pad_token_id": self.tokenizer.pad_token_id, **_SHIPPED_OFF}
        if config.temperature > 0:
            # transformers' own warpers would run after any processor of ours and sample with the
            # global generator: the row sampler does both, and hands back a one-token choice
            kwargs.update(do_sample=True, temperature=1.0, top_p=1.0, top_k=0, min_p=None,
                          logits_processor=[_row_sampler(rows, config, self.model.device)])
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if config.stop:
            kwargs["stopping_criteria"] = [_StopOnText(self.tokenizer, config.stop,
                                                       enc["input_ids"].shape[1])]
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        lasts = enc["input_ids"][:, -1].tolist()  # each prompt's last token (padding is on the left)
        return [self._decode(ids, config.stop, last) for ids, last in zip(new, lasts, strict=True)]

    def _decode(self, ids: list[int], stop: tuple[str, ...], after: int | None = None) -> Generation:
        """Text up to the first end token (kept: ``<|diff|>`` and other added tokens), then stops.

        The tokens are decoded as they follow ``after``, the prompt's last token: decoded alone,
        under a tokenizer that drops a text's leading space (SentencePiece's: Llama 2, CodeLlama,
        Mistral), a completion's first line lost a space of its indentation. The count includes
        the end-of-sequence token the model drew, but not the padding that follows a row ended by
        a stop sequence (padding is often the same token)."""
        end = next((i for i, t in enumerate(ids) if t in self._ends), None)
        text = None
        if after is not None:
            head = self.tokenizer.decode([after], **_VERBATIM)
            whole = self.tokenizer.decode([after, *ids[:end]], **_VERBATIM)
            text = whole[len(head):] if whole.startswith(head) else None  # None: a character split there
        if text is None:
            text = self.tokenizer.decode(ids[:end], **_VERBATIM)
        stopped = end is not None and any(s in text for s in stop)
        tokens = len(ids) if end is None else end + (not stopped)
        return Generation(cut_at_stop(text, stop), tokens)


def warped_probs(scores: Any, config: GenerationConfig) -> Any:
    """Next-token probabilities after temperature, top-p and min-p, exactly as transformers'
    ``TemperatureLogitsWarper``, ``TopPLogitsWarper`` and ``MinPLogitsWarper`` leave them (same
    order, same float32 arithmetic, at least one token kept)."""
    import torch

    probs = torch.softmax(scores.float() / config.temperature, dim=-1)
    if config.top_p < 1.0:  # drop the low tail whose mass is at most 1 - top_p
        ordered, order = probs.sort(dim=-1)
        drop = ordered.cumsum(dim=-1) <= 1 - config.top_p
        drop[..., -1] = False
        probs = probs.scatter(-1, order, ordered.masked_fill(drop, 0.0))
        probs = probs / probs.sum(dim=-1, keepdim=True)
    if config.min_p:
        probs = probs.masked_fill(probs < config.min_p * probs.amax(dim=-1, keepdim=True), 0.0)
    return probs


def _row_sampler(rows: list[tuple[str, int]], config: GenerationConfig, device: Any) -> Any:
    """A logits processor that samples each row from its own stream of uniforms (``warped_probs``)
    and leaves only the chosen token possible, so transformers' own draw just takes it.

    The streams are drawn once per batch, one generator per row; each step then samples all rows
    at once by inverting their cumulative distributions (no per-row work per token).
    """
    import torch
    from transformers import LogitsProcessor

    uniforms = torch.stack([
        torch.rand(config.max_new_tokens, dtype=torch.float64, device=device,
                   generator=torch.Generator(device=device).manual_seed(sample_seed(config.seed, p, k)))
        for p, k in rows])

    class RowSampler(LogitsProcessor):
        step = 0

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            cdf = warped_probs(scores, config).double().cumsum(dim=-1)  # float64: no drift over 49k tokens
            # a point strictly inside (0, total]: the first token whose cdf reaches it has mass
            target = (uniforms[:, self.step] * cdf[:, -1]).clamp_min(1e-300)[:, None]
            chosen = torch.searchsorted(cdf, target).clamp_max(cdf.shape[-1] - 1)
            self.step += 1
            return torch.full_like(scores, float("-inf")).scatter(-1, chosen, 0.0)

    return RowSampler()


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
        texts = self.tokenizer.batch_decode(new[:, -self.tail:], **_VERBATIM)
        hits = [any(s in text for s in self.stop) for text in texts]
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)
