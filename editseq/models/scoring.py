"""Likelihood of text under a causal LM: the quantity behind perplexity of prompts or programs."""

from __future__ import annotations

from typing import Any


class ContextTooLong(ValueError):
    """``context + target`` has more tokens than the model has positions: past them a model's
    log-probabilities are meaningless numbers, not an error, so they are refused here."""


def continuation_nll(model: Any, tokenizer: Any, context: str, target: str) -> tuple[float, int]:
    """(sum of negative log-likelihoods in nats, token count) of ``target``'s tokens after ``context``.

    ``context + target`` is tokenized as one text, so tokens are the ones the model would see,
    after the BOS the tokenizer puts before a text (``loading.opening_tokens``: sampling feeds
    and training tokenized texts so); the target's tokens are those whose characters start at
    or after ``len(context)`` (a token straddling the boundary counts as context). Perplexity is
    ``exp(nll / count)``; sums and counts add up across pieces, so per-turn values give a
    whole-problem perplexity. An empty target scores (0.0, 0). Raises ContextTooLong when the
    text outgrows the model's positions (``config.max_position_embeddings``).
    """
    import torch

    from editseq.models.loading import opening_tokens

    if not target:
        return 0.0, 0
    text = context + target
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    # a token starts where the one before it ends: tokenizers that trim offsets (RoBERTa's, or a
    # ByteLevel post-processor with trim_offsets) leave a token's leading space out of its own,
    # so " foo" after a context ending in a space read as the target's alone
    starts = [0, *(end for _, end in offsets[:-1])]
    first = next((i for i, start in enumerate(starts) if start >= len(context)), len(ids))
    opening = opening_tokens(tokenizer)
    if first == 0 and not opening:  # no token to predict the first target token from: use BOS if any
        opening = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
    ids, first = [*opening, *ids], first + len(opening)
    if first >= len(ids):
        return 0.0, 0
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if limit is not None and len(ids) > limit:
        raise ContextTooLong(f"context and target are {len(ids)} tokens, more than the model's "
                             f"{limit} positions")
    input_ids = torch.tensor([ids], device=model.device)
    with torch.inference_mode():
        logits = model(input_ids=input_ids).logits[0, first - 1:-1].float()
    targets = input_ids[0, first:]
    nll = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
    return float(nll), int(targets.numel())
